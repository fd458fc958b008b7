/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of each channel: IC negotiation when the channel opens, then one request at
 * a time (further requests wait in a FIFO), each timed from the moment its packet is put
 * on the channel to the moment the answer comes back (CLOCK_MONOTONIC).
 *
 * Host offers (what a current Hyper-V host sends): framework {3.0, 1.0} and KVP
 * {5.0, 4.0, 3.0}; VSS framework {3.0}, service {5.0, 4.0}; fcopy framework {3.0},
 * service {1.1}. When negotiation fails the host sends no requests to that service
 * (Get-VMIntegrationService shows "Protocol version mismatch"): they fail with -EPROTO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

static const struct vmu_ic_version host_fw_kvp[] = {{3, 0}, {1, 0}};
static const struct vmu_ic_version host_fw[] = {{3, 0}};
static const struct vmu_ic_version host_kvp[] = {{5, 0}, {4, 0}, {3, 0}};
static const struct vmu_ic_version host_vss[] = {{5, 0}, {4, 0}};
static const struct vmu_ic_version host_fcopy[] = {{1, 1}};

static const uint16_t service_msgtype[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = VMU_ICMSGTYPE_KVPEXCHANGE,
    [VMU_SERVICE_VSS] = VMU_ICMSGTYPE_VSS,
    [VMU_SERVICE_FCOPY] = VMU_ICMSGTYPE_FCOPY,
};

static void channel_put(struct hvsim_service *svc, const uint8_t *buf, size_t len)
{
	struct hvsim_packet *p = malloc(sizeof(*p) + len);

	if (!p)
		return;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, buf, len);
	if (svc->ring_tail)
		svc->ring_tail->next = p;
	else
		svc->ring_head = p;
	svc->ring_tail = p;
	hvsim_kernel_kick(svc); /* the host signals the channel */
}

void hvsim_host_channel_open(struct hvsim_service *svc)
{
	const struct vmu_ic_version *fw = host_fw, *srv = host_kvp;
	size_t n_fw = 1, n_srv = VMU_ELEMENTSOF(host_kvp), len;
	uint8_t buf[256];

	switch (svc->id) {
	case VMU_SERVICE_KVP:
		fw = host_fw_kvp;
		n_fw = VMU_ELEMENTSOF(host_fw_kvp);
		break;
	case VMU_SERVICE_VSS:
		srv = host_vss;
		n_srv = VMU_ELEMENTSOF(host_vss);
		break;
	case VMU_SERVICE_FCOPY:
		srv = host_fcopy;
		n_srv = VMU_ELEMENTSOF(host_fcopy);
		break;
	case _VMU_SERVICE_MAX:
		return;
	}
	if (vmu_ic_negotiate_build(buf, sizeof(buf), fw, n_fw, srv, n_srv, &len) < 0)
		return;
	svc->nego_sent = true;
	channel_put(svc, buf, len);
}

static void request_finish(struct hvsim_request *req, int error)
{
	req->done = true;
	req->error = error;
}

static void host_pump(struct hvsim_service *svc)
{
	struct hvsim_request *req;

	while (svc->nego_failed && svc->queue_head) {
		req = svc->queue_head;
		svc->queue_head = req->next;
		request_finish(req, -EPROTO);
	}
	if (!svc->negotiated || svc->inflight_busy || !svc->queue_head)
		return;
	req = svc->queue_head;
	svc->queue_head = req->next;
	if (!svc->queue_head)
		svc->queue_tail = NULL;
	svc->inflight = req;
	svc->inflight_busy = true;
	svc->kernel_timed_out = false;
	/* The transaction's header carries the versions agreed on. */
	vmu_put_le16(req->buf + 8, svc->framework.major);
	vmu_put_le16(req->buf + 10, svc->framework.minor);
	vmu_put_le16(req->buf + 14, svc->version.major);
	vmu_put_le16(req->buf + 16, svc->version.minor);
	req->buf[24] = svc->next_transaction_id++;
	req->t_send_nsec = hvsim_now_nsec();
	channel_put(svc, req->buf, req->len);
}

static void receive_negotiation(struct hvsim_service *svc, const uint8_t *buf, size_t len)
{
	struct vmu_ic_version fw, srv;

	if (vmu_ic_negotiate_parse_response(buf, len, &fw, &srv) < 0) {
		svc->nego_failed = true;
		return;
	}
	svc->negotiated = true;
	svc->framework = fw;
	svc->version = srv;
}

void hvsim_host_receive(struct hvsim_service *svc, const uint8_t *buf, size_t len)
{
	struct hvsim_request *req = svc->inflight;

	if (len >= VMU_ICMSG_HDR_SIZE && vmu_le16(buf + 12) == VMU_ICMSGTYPE_NEGOTIATE &&
	    !svc->negotiated && !svc->nego_failed) {
		receive_negotiation(svc, buf, len);
		host_pump(svc);
		return;
	}
	if (!svc->inflight_busy)
		return; /* an answer nobody asked for */
	svc->inflight = NULL;
	svc->inflight_busy = false;
	svc->requests++;
	if (len >= VMU_ICMSG_HDR_SIZE && vmu_le32(buf + 20) != VMU_S_OK &&
	    vmu_le32(buf + 20) != VMU_S_CONT)
		svc->failures++;
	if (req) {
		req->latency_nsec = hvsim_now_nsec() - req->t_send_nsec;
		memcpy(req->buf, buf, len < req->size ? len : req->size);
		req->len = len;
		req->kernel_timeout = svc->kernel_timed_out;
		request_finish(req, 0);
	}
	svc->kernel_timed_out = false;
	host_pump(svc);
}

/* Hibernation closes the channel: the host sees its pending transaction fail. */
void hvsim_host_cancel_inflight(struct hvsim_service *svc)
{
	struct hvsim_request *req = svc->inflight;

	if (!svc->inflight_busy)
		return;
	svc->inflight = NULL;
	svc->inflight_busy = false;
	svc->requests++;
	svc->failures++;
	if (req) {
		req->latency_nsec = hvsim_now_nsec() - req->t_send_nsec;
		vmu_put_le32(req->buf + 20, VMU_E_FAIL);
		req->buf[25] = VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_RESPONSE;
		request_finish(req, 0);
	}
	host_pump(svc);
}

void hvsim_host_drop_all(struct hvsim_service *svc)
{
	while (svc->ring_head) {
		struct hvsim_packet *p = svc->ring_head;

		svc->ring_head = p->next;
		free(p);
	}
	svc->ring_tail = NULL;
	while (svc->queue_head) {
		struct hvsim_request *req = svc->queue_head;

		svc->queue_head = req->next;
		request_finish(req, -ECANCELED);
	}
	svc->queue_tail = NULL;
	svc->inflight = NULL;
}

int hvsim_host_header(struct hvsim_service *svc, uint8_t *buf, size_t size, uint16_t type,
		      size_t payload_len)
{
	struct vmu_icmsg hdr = {
	    .pipe_flags = 0,
	    .pipe_msgsize = (uint32_t)(VMU_ICMSG_HDR_SIZE - 8 + payload_len),
	    .icverframe = svc->framework,
	    .icmsgtype = type,
	    .icvermsg = svc->version,
	    .icmsgsize = (uint16_t)payload_len,
	    .status = 0,
	    .ictransaction_id = 0,
	    .icflags = VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_REQUEST,
	};

	return vmu_icmsg_write(buf, size, &hdr);
}

static bool request_done(void *userdata)
{
	return ((struct hvsim_request *)userdata)->done;
}

static void request_abandon(struct hvsim_service *svc, struct hvsim_request *req)
{
	struct hvsim_request **p;

	if (svc->inflight == req) {
		svc->inflight = NULL; /* the answer, if any, will be dropped */
		return;
	}
	for (p = &svc->queue_head; *p; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			break;
		}
	svc->queue_tail = NULL;
	for (struct hvsim_request *r = svc->queue_head; r; r = r->next)
		svc->queue_tail = r;
}

int hvsim_host_transact(struct hvsim *sim, enum vmu_service service, uint8_t *buf, size_t len,
			size_t size, struct hvsim_result *ret)
{
	struct hvsim_service *svc;
	struct hvsim_request req = {.buf = buf, .len = len, .size = size};
	int r;

	if ((unsigned)service >= _VMU_SERVICE_MAX)
		return -EINVAL;
	svc = &sim->services[service];
	if (!svc->enabled)
		return -ENOTCONN;
	if (svc->nego_failed)
		return -EPROTO;
	vmu_put_le16(buf + 12, service_msgtype[service]);
	req.svc = svc;
	if (svc->queue_tail)
		svc->queue_tail->next = &req;
	else
		svc->queue_head = &req;
	svc->queue_tail = &req;
	host_pump(svc);
	r = hvsim_run_until(sim, request_done, &req, sim->host_timeout_usec);
	if (r < 0 || !req.done) {
		request_abandon(svc, &req);
		return r < 0 ? r : -ETIMEDOUT;
	}
	if (req.error < 0)
		return req.error;
	*ret = (struct hvsim_result){
	    .status = vmu_le32(buf + 20),
	    .latency_usec = (req.latency_nsec + 999) / 1000,
	    .kernel_timeout = req.kernel_timeout,
	};
	return 0;
}

/* Strict UTF-16 decode for display; what the host cannot decode is shown escaped. */
void hvsim_host_decode(const uint8_t *src, size_t max_units, char *dst, size_t dst_size)
{
	size_t units = 0, o = 0, w;

	if (dst_size == 0)
		return;
	while (units < max_units && vmu_le16(src + 2 * units) != 0)
		units++;
	if (vmu_utf16le_to_utf8(src, units, dst, dst_size, VMU_UTF_TRUNCATE, NULL) >= 0)
		return;
	for (size_t i = 0; i < units; i += w) {
		uint16_t u = vmu_le16(src + 2 * i),
			 v = i + 1 < units ? vmu_le16(src + 2 * i + 2) : 0;
		bool pair = (u & 0xFC00) == 0xD800 && (v & 0xFC00) == 0xDC00;
		char tmp[16];
		size_t n = 0;

		w = pair ? 2 : 1;
		if (((u & 0xF800) == 0xD800 && !pair) ||
		    vmu_utf16le_to_utf8(src + 2 * i, w, tmp, sizeof(tmp), 0, &n) < 0)
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04X", u);
		if (o + n + 1 > dst_size)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
}
