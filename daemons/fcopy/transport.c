/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two ways hv-fcopyd reaches the host, behind one struct hvd_transport.
 *
 * Choice, at every connection attempt (transport=):
 *   chardev  the configured device= only (hv_utils' /dev/vmbus/hv_fcopy, kernels <= 6.9);
 *   uio      the fcopy VMBus device bound to uio_hv_generic only (kernels >= 6.10);
 *   auto     the char device when its node exists, else the UIO device, else wait for
 *            either: every condition that may still change (no device, not bound yet,
 *            module not loaded, bound to hv_utils whose char device is still to come) is
 *            "not there yet" for hvd, which retries with back-off and logs once.
 *
 * The char device is hvd's own transport, delegated to unchanged. The UIO side:
 *   - discovery by class GUID under sysfs-root (vmu_uio_find), binding uio_hv_generic
 *     when bind-uio=true and saying so; the ring size comes from map0, never `ring`;
 *   - "registration" is the successful open; the host's NEGOTIATE is answered here
 *     (framework 3.0, fcopy 1.1) and never reaches the service; a message of another type
 *     is answered E_FAIL here; only fcopy messages go to handle(), whole (IC header
 *     included), and the reply goes back with the request's xactid;
 *   - receiving: recv() takes packets off the ring until it is empty, then acknowledges the
 *     interrupt (a 4-byte read) and re-arms (clears the inbound interrupt_mask and looks
 *     again): a packet written meanwhile is received before hvd polls, and one written
 *     later raises a new interrupt; only then does hvd hear -EAGAIN;
 *   - a reply that can never fit the ring (-EMSGSIZE) is logged and dropped here, the
 *     connection stays; every other error goes to hvd, which reopens;
 *   - -ESHUTDOWN (the host disabled the service) makes hvd release the device: the ring
 *     is unmapped and the node closed here, and the next attempts find it gone until the
 *     host enables the service again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "transport.h"

/* A reply that finds the outbound ring full waits this long for the host to make room. */
#define FCOPY_SEND_WAIT_MS 10000
#define VMBUS_PACKET_DATA_INBAND 6

enum mode {
	MODE_AUTO,
	MODE_CHARDEV,
	MODE_UIO,
};

enum active {
	ACTIVE_NONE,
	ACTIVE_CHARDEV,
	ACTIVE_UIO,
};

/* Conditions logged once per outage. */
enum note {
	NOTE_UNBOUND = 1u << 0,
	NOTE_NO_MODULE = 1u << 1,
	NOTE_OTHER_DRIVER = 1u << 2,
	NOTE_BINDING = 1u << 3,
};

struct fcopy_transport {
	struct hvd *d;
	void *chardev; /* hvd_chardev_transport's object */
	struct hvd_link chardev_link;
	struct vmu_uio *uio;
	struct vmu_uio_device dev;
	enum active active;
	bool uio_opened;
	unsigned notes;
	uint64_t xactid; /* of the request being answered */
	char version[32];
	char device[512];
};

static const struct conf *conf_of(const struct fcopy_transport *t)
{
	return hvd_conf(t->d);
}

static enum mode mode_of(const struct fcopy_transport *t)
{
	const char *m = conf_get_string(conf_of(t), "transport");

	if (strcmp(m, "chardev") == 0)
		return MODE_CHARDEV;
	if (strcmp(m, "uio") == 0)
		return MODE_UIO;
	return MODE_AUTO;
}

/* What we wait for, while not connected. */
static void describe_waiting(struct fcopy_transport *t)
{
	const char *chardev = conf_get_string(conf_of(t), "device");
	const char *sysfs = conf_get_string(conf_of(t), "sysfs-root");

	switch (mode_of(t)) {
	case MODE_CHARDEV:
		snprintf(t->device, sizeof(t->device), "%s", chardev);
		return;
	case MODE_UIO:
		snprintf(t->device, sizeof(t->device), "the fcopy UIO device under %s", sysfs);
		return;
	case MODE_AUTO:
		snprintf(t->device, sizeof(t->device), "%s or the fcopy UIO device under %s",
			 chardev, sysfs);
		return;
	}
}

static int transport_new(struct hvd *d, void **ret)
{
	struct fcopy_transport *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->d = d;
	r = hvd_chardev_transport.new(d, &t->chardev);
	if (r < 0) {
		free(t);
		return r;
	}
	describe_waiting(t);
	*ret = t;
	return 0;
}

static void *transport_free(void *p)
{
	struct fcopy_transport *t = p;

	if (!t)
		return NULL;
	hvd_chardev_transport.free(t->chardev);
	vmu_uio_free(t->uio);
	free(t);
	return NULL;
}

/* ---------------------------------------------------------------- choosing */

/* The char device node exists ("unix:/path": the simulated kernel's socket). */
static bool chardev_present(const struct fcopy_transport *t)
{
	const char *path = conf_get_string(conf_of(t), "device");
	struct stat st;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	return stat(path, &st) == 0;
}

/* Leaving the char device for UIO: close it (a fresh object reopens it next time). */
static int chardev_release(struct fcopy_transport *t)
{
	void *fresh = NULL;
	int r;

	if (!hvd_chardev_transport.opened(t->chardev))
		return 0;
	r = hvd_chardev_transport.new(t->d, &fresh);
	if (r < 0)
		return r;
	hvd_chardev_transport.free(t->chardev);
	t->chardev = fresh;
	return 0;
}

static void note_once(struct fcopy_transport *t, enum note n, const char *text)
{
	if (t->notes & n)
		return;
	t->notes |= n;
	log_notice("%s", text);
}

/* vmu_uio_find() outcomes that may change by themselves become -ENOENT (wait). */
static int uio_find_error(struct fcopy_transport *t, int r)
{
	switch (r) {
	case -ENXIO:
		note_once(t, NOTE_UNBOUND,
			  "the fcopy VMBus device is bound to no driver and bind-uio=false; "
			  "waiting for it to be bound to uio_hv_generic");
		return -ENOENT;
	case -ENOPKG:
		note_once(t, NOTE_NO_MODULE,
			  "uio_hv_generic is not loaded (no new_id to bind the fcopy device); "
			  "waiting for it");
		return -ENOENT;
	case -EBUSY:
		note_once(t, NOTE_OTHER_DRIVER,
			  "the fcopy VMBus device is bound to another driver (hv_utils?); "
			  "waiting for its char device or for uio_hv_generic");
		return -ENOENT;
	case -EINPROGRESS:
		note_once(t, NOTE_BINDING,
			  "asked uio_hv_generic to bind the fcopy VMBus device (wrote its class to "
			  "new_id); waiting for the uio node");
		return -ENOENT;
	case -ENODEV:
	case -ENOENT:
		return -ENOENT;
	default:
		return r;
	}
}

static int uio_connect(struct fcopy_transport *t)
{
	const struct conf *c = conf_of(t);
	unsigned flags = conf_get_bool(c, "bind-uio") ? VMU_UIO_ALLOW_BIND : 0;
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;
	int r;

	r = vmu_uio_find(conf_get_string(c, "sysfs-root"), NULL, flags, &dev);
	if (r < 0)
		return uio_find_error(t, r);
	if (r == 1)
		log_notice("bound the fcopy VMBus device %s to uio_hv_generic (new_id)",
			   dev.instance_id);
	r = chardev_release(t);
	if (r < 0)
		return r;
	r = vmu_uio_open(conf_get_string(c, "uio-dev-dir"), &dev, &t->uio);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return -ENOENT; /* the node comes with the binding, or the host re-enabling */
	if (r < 0)
		return r;
	t->dev = dev;
	t->uio_opened = true;
	t->version[0] = '\0';
	snprintf(t->device, sizeof(t->device), "%s/%s (fcopy device %s, %zu-byte rings)",
		 conf_get_string(c, "uio-dev-dir"), dev.uio_name, dev.instance_id,
		 vmu_uio_ring_size(t->uio));
	return 0;
}

static int chardev_connect(struct fcopy_transport *t)
{
	int r = hvd_chardev_transport.connect(t->chardev, &t->chardev_link);

	snprintf(t->device, sizeof(t->device), "%s", conf_get_string(conf_of(t), "device"));
	return r;
}

static void fill_link(struct fcopy_transport *t, struct hvd_link *ret)
{
	if (t->active == ACTIVE_CHARDEV) {
		*ret = t->chardev_link;
		return;
	}
	*ret = (struct hvd_link){
	    .fd = vmu_uio_fd(t->uio),
	    .kind = "uio",
	    .version = t->version, /* filled in by the host's NEGOTIATE */
	    .max_message = vmu_uio_max_payload(t->uio),
	};
}

static int transport_connect(void *p, struct hvd_link *ret)
{
	struct fcopy_transport *t = p;
	enum mode m = mode_of(t);
	int r;

	t->active = ACTIVE_NONE;
	if (m == MODE_CHARDEV || (m == MODE_AUTO && chardev_present(t))) {
		r = chardev_connect(t);
		if (r >= 0)
			t->active = ACTIVE_CHARDEV;
	} else {
		r = uio_connect(t);
		if (r >= 0)
			t->active = ACTIVE_UIO;
	}
	if (r >= 0) {
		t->notes = 0;
		fill_link(t, ret);
	} else if (r == -ENOENT)
		describe_waiting(t);
	return r;
}

static void transport_disconnect(void *p)
{
	struct fcopy_transport *t = p;

	if (t->active == ACTIVE_CHARDEV)
		hvd_chardev_transport.disconnect(t->chardev);
	t->uio = vmu_uio_free(t->uio); /* unmap and close: the device is released */
	t->active = ACTIVE_NONE;
	describe_waiting(t);
}

static bool transport_opened(const void *p)
{
	const struct fcopy_transport *t = p;

	return t->uio_opened || hvd_chardev_transport.opened(t->chardev);
}

/* ---------------------------------------------------------------- UIO messages */

static int uio_send_waiting(struct fcopy_transport *t, const void *buf, size_t len, uint64_t xactid)
{
	for (;;) {
		int r = vmu_uio_send(t->uio, buf, len, xactid);

		if (r == -EMSGSIZE) {
			log_warning(
			    "a reply of %zu bytes can never fit the %zu-byte ring, dropping it",
			    len, vmu_uio_ring_size(t->uio));
			return 0;
		}
		if (r != -EAGAIN)
			return r;
		/* The ring is full and the host was asked to signal when it made room. */
		r = vmu_uio_wait(t->uio, FCOPY_SEND_WAIT_MS);
		if (r == -ETIMEDOUT)
			return -EIO;
		if (r < 0)
			return r;
	}
}

static int uio_negotiate(struct fcopy_transport *t, void *buf, size_t len, uint64_t xactid)
{
	struct vmu_ic_version fw, srv;
	int r = vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, len, &fw, &srv);

	if (r == 0) {
		snprintf(t->version, sizeof(t->version), "%u.%u", srv.major, srv.minor);
		log_info("negotiated with the host: framework %u.%u, fcopy %u.%u", fw.major,
			 fw.minor, srv.major, srv.minor);
	} else
		log_warning_errno(r, "the host's NEGOTIATE found no common version, answering "
				     "E_FAIL");
	return uio_send_waiting(t, buf, len, xactid);
}

/* Answers what is not for the service; returns 1 when the message is the service's. */
static int uio_filter(struct fcopy_transport *t, void *buf, size_t len,
		      const struct vmu_uio_packet *pkt)
{
	struct vmu_icmsg hdr;

	if (pkt->type != VMBUS_PACKET_DATA_INBAND || vmu_icmsg_parse(buf, len, &hdr, NULL) < 0) {
		log_warning("ignoring a packet of type %u and %zu bytes the host sent", pkt->type,
			    len);
		return 0;
	}
	if (hdr.icmsgtype == VMU_ICMSGTYPE_NEGOTIATE)
		return uio_negotiate(t, buf, len, pkt->xactid);
	if (hdr.icmsgtype == VMU_ICMSGTYPE_FCOPY)
		return 1;
	log_warning("answering E_FAIL to an IC message of type %u", hdr.icmsgtype);
	(void)vmu_icmsg_set_response(buf, len, VMU_E_FAIL);
	return uio_send_waiting(t, buf, len, pkt->xactid);
}

/* The ring is empty: consume the interrupt, then re-arm. 1: a packet came in meanwhile. */
static int uio_rearm(struct fcopy_transport *t)
{
	int r = vmu_uio_ack(t->uio, NULL);

	if (r < 0 && r != -EAGAIN) /* -EAGAIN: no interrupt since the last one */
		return r;
	return vmu_uio_rearm(t->uio);
}

static ssize_t uio_recv(struct fcopy_transport *t, void *buf, size_t size)
{
	for (;;) {
		struct vmu_uio_packet pkt;
		ssize_t n = vmu_uio_recv(t->uio, buf, size, &pkt);
		int r;

		if (n == -EAGAIN) {
			r = uio_rearm(t);
			if (r > 0)
				continue;
			return r < 0 ? r : -EAGAIN;
		}
		if (n < 0)
			return n;
		r = uio_filter(t, buf, (size_t)n, &pkt);
		if (r < 0)
			return r;
		if (r > 0) {
			t->xactid = pkt.xactid;
			return n;
		}
	}
}

/* ---------------------------------------------------------------- the rest */

static ssize_t transport_recv(void *p, void *buf, size_t size)
{
	struct fcopy_transport *t = p;

	if (t->active == ACTIVE_UIO)
		return uio_recv(t, buf, size);
	return hvd_chardev_transport.recv(t->chardev, buf, size);
}

static int transport_send(void *p, const void *buf, size_t len)
{
	struct fcopy_transport *t = p;

	if (t->active == ACTIVE_UIO)
		return uio_send_waiting(t, buf, len, t->xactid);
	return hvd_chardev_transport.send(t->chardev, buf, len);
}

static const char *transport_device(const void *p)
{
	return ((const struct fcopy_transport *)p)->device;
}

bool fcopy_transport_host_format(const void *p)
{
	const struct fcopy_transport *t = p;

	return t && t->active == ACTIVE_UIO;
}

const struct hvd_transport fcopy_transport = {
    .new = transport_new,
    .free = transport_free,
    .connect = transport_connect,
    .disconnect = transport_disconnect,
    .opened = transport_opened,
    .recv = transport_recv,
    .send = transport_send,
    .device = transport_device,
};
