/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the three hv_utils drivers share: reading the channel into recv_buffer, answering
 * the host from recv_buffer (same buffer, same length, status and icflags = 5), IC version
 * negotiation, the reply deadline and hv_poll_channel(). The per-service state machines
 * are in kernel-kvp.c, kernel-vss.c and kernel-fcopy.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

static int on_kick(sd_event_source *s, void *userdata)
{
	struct hvsim_service *svc = userdata;

	/* The channel tasklet: the driver's callback reads one packet per call; the VMBus
	 * core calls it again while it consumes packets. */
	while (svc->ops->channel_callback(svc))
		;
	return 0;
}

void hvsim_kernel_init(struct hvsim_service *svc)
{
	svc->state = HVSIM_KSTATE_DEVICE_INIT;
}

void hvsim_kernel_done(struct hvsim_service *svc)
{
	svc->kick_src = sd_event_source_disable_unref(svc->kick_src);
	svc->timeout_src = sd_event_source_disable_unref(svc->timeout_src);
}

void hvsim_kernel_kick(struct hvsim_service *svc)
{
	if (!svc->kick_src) {
		if (sd_event_add_defer(svc->sim->event, &svc->kick_src, on_kick, svc) < 0)
			return;
	}
	sd_event_source_set_enabled(svc->kick_src, SD_EVENT_ONESHOT);
}

bool hvsim_kernel_recvpacket(struct hvsim_service *svc)
{
	struct hvsim_packet *p = svc->ring_head;

	if (!p)
		return false;
	svc->ring_head = p->next;
	if (!svc->ring_head)
		svc->ring_tail = NULL;
	if (p->len <= svc->max_packet) {
		memcpy(svc->recv_buffer, p->data, p->len);
		svc->recv_len = p->len;
	} else
		svc->recv_len = 0; /* vmbus_recvpacket fails with -ENOBUFS: nothing read */
	free(p);
	return true;
}

void hvsim_kernel_respond(struct hvsim_service *svc, uint32_t status)
{
	if (svc->recv_len >= VMU_ICMSG_HDR_SIZE)
		vmu_icmsg_set_response(svc->recv_buffer, svc->recv_len, status);
	hvsim_host_receive(svc, svc->recv_buffer, svc->recv_len);
}

void hvsim_kernel_negotiate(struct hvsim_service *svc)
{
	const struct vmu_ic_version *fw, *srv;
	struct vmu_ic_version chosen_fw, chosen_srv;
	size_t n_fw, n_srv;
	uint32_t status;

	if (vmu_service_versions(svc->id, &fw, &n_fw, &srv, &n_srv) >= 0)
		(void)vmu_ic_negotiate(svc->recv_buffer, svc->recv_len, fw, n_fw, srv, n_srv,
				       &chosen_fw, &chosen_srv);
	/* The kernel leaves the host's status untouched and always answers. */
	status = vmu_le32(svc->recv_buffer + 20);
	hvsim_kernel_respond(svc, status);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hvsim_service *svc = userdata;

	svc->timeout_src = sd_event_source_disable_unref(svc->timeout_src);
	svc->timeouts++;
	if (svc->registered)
		svc->lost = true;
	svc->kernel_timed_out = true;
	hvsim_kernel_respond(svc, VMU_E_FAIL);
	hvsim_kernel_poll(svc);
	return 0;
}

void hvsim_kernel_arm_timeout(struct hvsim_service *svc, uint64_t usec)
{
	svc->timeout_src = sd_event_source_disable_unref(svc->timeout_src);
	sd_event_add_time_relative(svc->sim->event, &svc->timeout_src, CLOCK_MONOTONIC, usec, 1,
				   on_timeout, svc);
}

bool hvsim_kernel_cancel_timeout(struct hvsim_service *svc)
{
	if (!svc->timeout_src)
		return false;
	svc->timeout_src = sd_event_source_disable_unref(svc->timeout_src);
	return true;
}

void hvsim_kernel_poll(struct hvsim_service *svc)
{
	svc->state = HVSIM_KSTATE_READY;
	hvsim_kernel_kick(svc);
}

void hvsim_kernel_register_done(struct hvsim_service *svc)
{
	svc->registered = true;
	svc->lost = false;
	hvsim_kernel_poll(svc);
}

void hvsim_kernel_reset(struct hvsim_service *svc)
{
	if (hvsim_kernel_cancel_timeout(svc))
		hvsim_kernel_respond(svc, VMU_E_FAIL);
	svc->state = HVSIM_KSTATE_DEVICE_INIT;
	svc->registered = false;
	svc->kernel_version[0] = '\0';
}

bool hvsim_kernel_finish(struct hvsim_service *svc, uint32_t status)
{
	if (!hvsim_kernel_cancel_timeout(svc))
		return false;
	hvsim_kernel_daemon_answered(svc);
	hvsim_kernel_respond(svc, status);
	hvsim_kernel_poll(svc);
	return true;
}

void hvsim_kernel_daemon_answered(struct hvsim_service *svc)
{
	svc->lost = false;
}

/* utf16s_to_utf8s(): the kernel writes no terminator itself; its output lands in a zeroed
 * message, so converting through a scratch buffer and copying the bytes is equivalent. */
int hvsim_kernel_u16_to_u8(const uint8_t *src, size_t src_units, uint8_t *dst, size_t budget)
{
	char tmp[4096];
	size_t n = 0;
	int r;

	if (budget + 1 > sizeof(tmp))
		return -ENOBUFS;
	r = vmu_utf16le_to_utf8(src, src_units, tmp, budget + 1, VMU_UTF_KERNEL_COMPAT, &n);
	if (r < 0)
		return r;
	memcpy(dst, tmp, n);
	return (int)n;
}

/* utf8s_to_utf16s(): stops at NUL or max_units, fails on invalid UTF-8, writes no
 * terminator (the bytes behind the string stay what the host buffer held). */
int hvsim_kernel_u8_to_u16(const uint8_t *src, size_t src_max, uint8_t *dst, size_t max_units)
{
	uint8_t tmp[2 * 2048];
	size_t len = strnlen((const char *)src, src_max), n = 0;
	int r;

	if (max_units + 1 > sizeof(tmp) / 2)
		return -ENOBUFS;
	r = vmu_utf8_to_utf16le((const char *)src, len, tmp, max_units + 1,
				VMU_UTF_KERNEL_COMPAT | VMU_UTF_TRUNCATE, &n);
	if (r < 0)
		return r;
	memcpy(dst, tmp, 2 * n);
	return (int)n;
}
