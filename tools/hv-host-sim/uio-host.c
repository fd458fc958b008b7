/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of fcopy over UIO (docs/protocol.md §6): no guest kernel driver in between, the
 * host writes its packets into the guest's inbound ring and reads the guest's outbound ring, both
 * in a memfd shared with the daemon, with the host's own ring code (host-ring.c), written apart
 * from the library's ring.c so that a mistake in either shows instead of cancelling out.
 *
 * The device (lib/vmbus-user/uio-sock.h): dev_dir/uio0 is a SOCK_SEQPACKET socket. One
 * connection at a time (further ones are closed at once). On connect the rings are reset
 * (as vmbus_connect_ring does on the first open), the memfd goes out with a 4-byte counter,
 * and the host negotiates. Interrupts are 4-byte datagrams carrying the event counter; the
 * daemon's 4-byte writes are irqcontrol: 1 = clear the inbound interrupt_mask and signal
 * the host, 0 = set the mask.
 *
 * Host behaviour, as Hyper-V's: it sends an interrupt only when the guest's inbound ring
 * was empty before the packet and its interrupt_mask is clear; when the ring is full it
 * sets pending_send_sz and waits for the guest's signal; when signalled it reads every
 * packet of the outbound ring and signals the guest if that freed the space the guest
 * asked for. So a daemon that loses a wake-up (no re-check after re-arming) hangs here.
 *
 * Packets waiting for ring space stay on the service's channel list (svc->ring_head):
 * the generic host code (host.c) puts them there and kicks svc->ops->channel_callback,
 * which is ours here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/vmbus-user/uio-sock.h"
#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/host-ring.h"
#include "tools/hv-host-sim/hvsim-internal.h"

struct hvsim_uio {
	struct hvsim_service *svc;
	char *sock_path;
	size_t ring_size; /* R: header page + data */
	int memfd;
	uint8_t *map; /* [0, R) guest TX, [R, 2R) guest RX */
	struct hvsim_ring to_guest, from_guest;
	uint8_t *rxbuf;
	int listen_fd, conn_fd;
	sd_event_source *listen_src, *conn_src;
	uint32_t counter;
	uint64_t next_xactid;
	struct hvsim_uio_stats stats;
};

static struct hvsim_uio *uio_of(struct hvsim *sim)
{
	return sim->services[VMU_SERVICE_FCOPY].uio;
}

/* ------------------------------------------------------------------------------------------
 * Interrupts and rings
 * ------------------------------------------------------------------------------------------ */

static void interrupt_guest(struct hvsim_uio *u)
{
	uint8_t msg[VMU_UIO_SOCK_MSG_SIZE];

	if (u->conn_fd < 0)
		return;
	vmu_put_le32(msg, ++u->counter);
	/* A full socket buffer already holds interrupts the guest has not read. */
	if (send(u->conn_fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(msg))
		u->stats.interrupts_sent++;
}

static int reset_rings(struct hvsim_uio *u)
{
	uint8_t *guest_rx = u->map + u->ring_size;
	int r;

	hvsim_ring_format(u->map);
	hvsim_ring_format(guest_rx);
	r = hvsim_ring_open(&u->to_guest, guest_rx, u->ring_size, HVSIM_RING_HOST_SENDS);
	if (r < 0)
		return r;
	return hvsim_ring_open(&u->from_guest, u->map, u->ring_size, HVSIM_RING_HOST_RECEIVES);
}

static bool wraps(const struct hvsim_ring *ring, uint32_t start, size_t len)
{
	return (uint64_t)start + len > ring->data_size;
}

/* channel_callback: moves one queued host packet into the guest's inbound ring, flagged as
 * Hyper-V flags its requests: in-band data with a completion requested (flags 1). */
static bool uio_channel_callback(struct hvsim_service *svc)
{
	struct hvsim_uio *u = svc->uio;
	struct hvsim_packet *p = svc->ring_head;
	bool signal = false;
	uint32_t start;
	int r;

	if (!u || u->conn_fd < 0 || !p)
		return false;
	start = u->to_guest.own;
	r = hvsim_ring_put(&u->to_guest, HVSIM_RING_PACKET_INBAND,
			   HVSIM_RING_FLAG_COMPLETION_REQUESTED, u->next_xactid, p->data, p->len,
			   &signal);
	if (r == -EAGAIN) {
		u->stats.ring_full++;
		return false; /* pending_send_sz is set: the guest signals when there is room */
	}
	if (r == -EBADMSG)
		return false; /* the guest corrupted its read index; nothing sensible to do */
	svc->ring_head = p->next;
	if (!svc->ring_head)
		svc->ring_tail = NULL;
	if (r == -EMSGSIZE || r < 0) {
		free(p);
		hvsim_host_cancel_inflight(svc); /* can never be delivered: E_FAIL */
		return true;
	}
	if (wraps(&u->to_guest, start, hvsim_ring_packet_bytes(p->len)))
		u->stats.wraps_sent++;
	free(p);
	u->next_xactid++;
	u->stats.packets_sent++;
	if (signal)
		interrupt_guest(u);
	return true;
}

/* The guest signalled: read everything it wrote. */
static void read_guest_ring(struct hvsim_uio *u)
{
	struct hvsim_ring_desc desc;

	for (;;) {
		uint32_t start = u->from_guest.own;
		bool signal = false;
		int n = hvsim_ring_get(&u->from_guest, &desc, u->rxbuf, u->ring_size, &signal);

		if (n < 0)
			return; /* empty, or a corrupt ring the guest will notice by timeouts */
		u->stats.packets_received++;
		/* One request in flight: the answer echoes the last transaction id sent. */
		if (desc.trans_id != u->next_xactid - 1)
			u->stats.replies_wrong_xactid++;
		if (wraps(&u->from_guest, start, (size_t)desc.len8 * 8 + 8))
			u->stats.wraps_received++;
		if (signal)
			interrupt_guest(u); /* the guest waits for space we just freed */
		hvsim_host_receive(u->svc, u->rxbuf, (size_t)n);
	}
}

/* ------------------------------------------------------------------------------------------
 * The connection
 * ------------------------------------------------------------------------------------------ */

static void connection_close(struct hvsim_uio *u)
{
	struct hvsim_service *svc = u->svc;

	if (u->conn_fd < 0)
		return;
	u->conn_src = sd_event_source_disable_unref(u->conn_src);
	close(u->conn_fd);
	u->conn_fd = -1;
	u->stats.connected = false;
	/* Last close disconnects the channel: what was on it is gone, the transaction in
	 * flight fails, and the next open negotiates again. */
	while (svc->ring_head) {
		struct hvsim_packet *p = svc->ring_head;

		svc->ring_head = p->next;
		free(p);
	}
	svc->ring_tail = NULL;
	svc->registered = false;
	svc->negotiated = false;
	svc->nego_sent = false;
	svc->nego_failed = false;
	hvsim_host_cancel_inflight(svc);
}

/* irqcontrol */
static void on_guest_write(struct hvsim_uio *u, uint32_t value)
{
	u->stats.signals_received++;
	hvsim_ring_mask_interrupts(&u->to_guest, value == 0);
	if (value == 0)
		return;
	read_guest_ring(u);
	if (u->conn_fd >= 0)
		hvsim_kernel_kick(u->svc); /* room may have appeared for waiting packets */
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvsim_uio *u = userdata;
	uint8_t buf[64];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			connection_close(u);
			return 0;
		}
		if (n == VMU_UIO_SOCK_MSG_SIZE)
			on_guest_write(u, vmu_le32(buf));
		if (u->conn_fd < 0)
			return 0;
	}
	if (revents & (EPOLLHUP | EPOLLERR))
		connection_close(u);
	return 0;
}

static int send_memory(struct hvsim_uio *u, int fd)
{
	uint8_t payload[VMU_UIO_SOCK_MSG_SIZE] = {0};
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} control = {0};
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &u->memfd, sizeof(int));
	vmu_put_le32(payload, u->counter);
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

static int connection_open(struct hvsim_uio *u, int fd)
{
	struct hvsim_service *svc = u->svc;
	int r;

	r = reset_rings(u);
	if (r >= 0)
		r = send_memory(u, fd);
	if (r >= 0)
		r = sd_event_add_io(svc->sim->event, &u->conn_src, fd, EPOLLIN, on_conn, u);
	if (r < 0)
		return r;
	u->conn_fd = fd;
	u->next_xactid = 1;
	u->stats.connected = true;
	u->stats.connections++;
	svc->registered = true; /* the daemon has the device open */
	svc->lost = false;
	hvsim_host_channel_open(svc);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvsim_uio *u = userdata;
	int conn;

	conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return 0;
	if (u->conn_fd >= 0 || connection_open(u, conn) < 0)
		close(conn); /* one opener at a time: the second one reads EOF */
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Listening, enabling, disabling
 * ------------------------------------------------------------------------------------------ */

static void stop_listening(struct hvsim_uio *u)
{
	u->listen_src = sd_event_source_disable_unref(u->listen_src);
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		u->listen_fd = -1;
		(void)unlink(u->sock_path);
	}
}

static int start_listening(struct hvsim_uio *u)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_vmu_cleanup_close_ int fd = -1;
	int r;

	if (strlen(u->sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, u->sock_path, strlen(u->sock_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(u->sock_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		return -errno;
	r = sd_event_add_io(u->svc->sim->event, &u->listen_src, fd, EPOLLIN, on_accept, u);
	if (r < 0)
		return r;
	u->listen_fd = vmu_take_fd(&fd);
	return 0;
}

struct hvsim_uio *hvsim_uio_free(struct hvsim_uio *u)
{
	if (!u)
		return NULL;
	stop_listening(u); /* first: the node is gone before the opener sees the close */
	u->conn_src = sd_event_source_disable_unref(u->conn_src);
	vmu_safe_close(u->conn_fd);
	if (u->map)
		munmap(u->map, 2 * u->ring_size);
	vmu_safe_close(u->memfd);
	free(u->rxbuf);
	free(u->sock_path);
	free(u);
	return NULL;
}

bool hvsim_uio_connected(const struct hvsim_uio *u)
{
	return u && u->conn_fd >= 0;
}

bool hvsim_daemon_connected(const struct hvsim_service *svc)
{
	return hvsim_transport_connected(&svc->transport) || hvsim_uio_connected(svc->uio);
}

static void uio_freep(struct hvsim_uio **p)
{
	hvsim_uio_free(*p);
}

static bool ring_size_valid(size_t ring_size)
{
	return ring_size > HVSIM_RING_PAGE_SIZE && (ring_size - HVSIM_RING_PAGE_SIZE) % 8 == 0 &&
	       ring_size - HVSIM_RING_PAGE_SIZE <= HVSIM_RING_MAX_DATA;
}

static int uio_new(struct hvsim_service *svc, const char *dev_dir, size_t ring_size,
		   struct hvsim_uio **ret)
{
	_vmu_cleanup_(uio_freep) struct hvsim_uio *u = NULL;
	void *map;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	*u = (struct hvsim_uio){
	    .svc = svc, .ring_size = ring_size, .memfd = -1, .listen_fd = -1, .conn_fd = -1};
	if (asprintf(&u->sock_path, "%s/uio0", dev_dir) < 0) {
		u->sock_path = NULL;
		return -ENOMEM;
	}
	u->rxbuf = malloc(ring_size);
	if (!u->rxbuf)
		return -ENOMEM;
	u->memfd = memfd_create("hvsim-uio-rings", MFD_CLOEXEC);
	if (u->memfd < 0)
		return -errno;
	if (ftruncate(u->memfd, (off_t)(2 * ring_size)) < 0)
		return -errno;
	map = mmap(NULL, 2 * ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, u->memfd, 0);
	if (map == MAP_FAILED)
		return -errno;
	u->map = map;
	*ret = VMU_TAKE_PTR(u);
	return 0;
}

static void uio_no_msg_reset(struct hvsim_service *svc)
{
}

static int uio_no_msg(struct hvsim_service *svc, const uint8_t *msg, size_t len)
{
	return -EINVAL;
}

/* No kernel driver: hibernation closes the channel, which hvsim_hibernate() answers. */
static const struct hvsim_service_ops hvsim_fcopy_uio_ops = {
    .channel_callback = uio_channel_callback,
    .on_msg = uio_no_msg,
    .on_reset = uio_no_msg_reset,
    .pre_suspend = uio_no_msg_reset,
};

int hvsim_listen_uio(struct hvsim *sim, const char *sysfs_root, const char *dev_dir,
		     size_t ring_size)
{
	struct hvsim_service *svc;
	struct hvsim_uio *u = NULL;
	int r;

	if (!sim || !sysfs_root || !dev_dir)
		return -EINVAL;
	if (ring_size == 0)
		ring_size = HVSIM_UIO_DEFAULT_RING_SIZE;
	if (!ring_size_valid(ring_size))
		return -EINVAL;
	svc = &sim->services[VMU_SERVICE_FCOPY];
	if (svc->enabled || svc->uio)
		return -EALREADY;
	r = hvsim_uio_tree_create(sysfs_root, ring_size);
	if (r < 0)
		return r;
	if (mkdir(dev_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = uio_new(svc, dev_dir, ring_size, &u);
	if (r < 0)
		return r;
	r = start_listening(u);
	if (r < 0) {
		hvsim_uio_free(u);
		return r;
	}
	svc->uio = u;
	svc->ops = &hvsim_fcopy_uio_ops;
	svc->enabled = true;
	return 0;
}

int hvsim_uio_disable(struct hvsim *sim)
{
	struct hvsim_uio *u = sim ? uio_of(sim) : NULL;

	if (!u)
		return -ENOTCONN;
	stop_listening(u); /* first: the node is gone before the daemon sees the close */
	connection_close(u);
	u->svc->enabled = false;
	hvsim_host_drop_all(u->svc);
	return 0;
}

int hvsim_uio_enable(struct hvsim *sim)
{
	struct hvsim_uio *u = sim ? uio_of(sim) : NULL;
	int r;

	if (!u)
		return -ENOTCONN;
	if (u->svc->enabled)
		return 0;
	r = start_listening(u);
	if (r < 0)
		return r;
	u->svc->enabled = true;
	return 0;
}

int hvsim_uio_get_stats(struct hvsim *sim, struct hvsim_uio_stats *ret)
{
	struct hvsim_uio *u = sim ? uio_of(sim) : NULL;

	if (!u || !ret)
		return -ENOTCONN;
	*ret = u->stats;
	return 0;
}
