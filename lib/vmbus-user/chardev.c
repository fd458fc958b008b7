/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Char-device transport: the daemon's end of the kernel's hv_utils_transport (docs/protocol.md §2),
 * over a real /dev/vmbus/hv_* device or over a UNIX SOCK_SEQPACKET socket ("unix:/path") to a
 * simulated kernel that frames its datagrams as chardev-sock.h describes.
 *
 * Design:
 * - One object is one path and one service. The fd comes and goes (reopen); the object, its
 *   path and its service stay, so a daemon can retry a failed reopen later.
 * - The char device's semantics are the reference and the socket recreates them: one message
 *   per recv, -EINVAL with the message still queued when the buffer is too small (learnt with
 *   MSG_PEEK|MSG_TRUNC before consuming), and send() returning the kernel's verdict (carried
 *   by the WRITE frame that answers every datagram the daemon sends).
 * - While send() waits for that WRITE frame, a kernel message may arrive first (the KVP
 *   registration reply, or the next request). It is parked in a one-message stash and handed
 *   out by the next recv. The kernel queues at most one message, so a second one while the
 *   stash is full is a protocol error.
 * - Every wait is bounded: the OPEN and WRITE frames by CHARDEV_FRAME_TIMEOUT_MS, the
 *   registration reply by the caller's timeout (which must be >= 0).
 * - The socket is non-blocking, so that neither connect() to a kernel whose backlog is full
 *   (-EAGAIN) nor send() to one that stopped reading (-EAGAIN) can hang the daemon.
 * - connect() failing with ECONNREFUSED (a stale socket file: nobody listens) is reported
 *   as -ENOENT, like a missing socket: to a daemon both mean "there is no device", which is
 *   what -ENOENT means for a /dev node.
 * - Registration on a real-device path insists on a character device (-ENODEV otherwise): a
 *   mistyped path must not get a 7 KiB registration message written into a regular file, and
 *   a FIFO must not echo our own request back as if it were the kernel's reply.
 * The library never logs; every failure is a negative errno.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/hyperv.h>

#include "chardev-sock.h"
#include "vmu-internal.h"

VMU_ASSERT_SIZE(struct hv_kvp_msg, VMU_KVP_MSG_SIZE);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_register.version, 4);
VMU_ASSERT_SIZE(struct hv_vss_msg, VMU_VSS_MSG_SIZE);
_Static_assert(sizeof(((struct hv_kvp_register *)0)->version) == 512, "KVP version is 512 bytes");
_Static_assert(KVP_OP_REGISTER1 == 100 && VSS_OP_REGISTER1 == 129 && FCOPY_VERSION_1 == 1,
	       "registration constants of docs/protocol.md §2.1");

/* How long the simulated kernel may take to answer open() and write(). */
#define CHARDEV_FRAME_TIMEOUT_MS 5000
/* Larger than any message hv_utils hands to user space (KVP 7432, fcopy 6196). */
#define CHARDEV_STASH_MAX 16384
/* Registration replies are at most a whole hv_kvp_msg; read them with room to spare so that a
 * longer message is seen as too long rather than cut. */
#define CHARDEV_REPLY_BUF 8192
#define CHARDEV_KVP_VERSION_OFFSET 4
#define CHARDEV_KVP_VERSION_SIZE 512
/* Positive errno values a frame may carry. */
#define CHARDEV_MAX_ERRNO 4095

struct vmu_chardev {
	enum vmu_service service;
	bool is_socket;
	int fd;
	char *path;
	bool registered;
	char version[CHARDEV_KVP_VERSION_SIZE];
	bool stashed;
	size_t stash_len;
	uint8_t stash[CHARDEV_STASH_MAX];
};

/* ------------------------------------------------------------------------------------------
 * Time and waiting
 * ------------------------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or reports a hangup/error (the following read tells which), or
 * until deadline (CLOCK_MONOTONIC ms): -ETIMEDOUT. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return vmu_negative_errno();
		if (r > 0)
			return (p.revents & POLLNVAL) ? -EBADF : 0;
		if (r == 0 && left == 0)
			return -ETIMEDOUT;
	}
}

/* ------------------------------------------------------------------------------------------
 * Socket framing
 * ------------------------------------------------------------------------------------------ */

/* errno of a failed socket call: a peer that went away is a device that went away. */
static int sock_errno(void)
{
	switch (errno) {
	case EAGAIN:
		return -EAGAIN;
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
		return -EBADF;
	default:
		return vmu_negative_errno();
	}
}

/* The errno a frame carries: 0 or -errno; -EPROTO when it is not a plausible errno. */
static int frame_error(const struct vmu_sock_frame *hdr)
{
	if (hdr->error < 0 || hdr->error > CHARDEV_MAX_ERRNO)
		return -EPROTO;
	return -hdr->error;
}

/* Drops the datagram at the head of the queue. Returns -EPROTO: only bad datagrams are
 * dropped. */
static int sock_discard(int fd)
{
	uint8_t byte;

	(void)!recv(fd, &byte, sizeof(byte), MSG_DONTWAIT);
	return -EPROTO;
}

/* Looks at the next datagram without consuming it. Returns its full length (>= the frame
 * header), -EAGAIN when none is queued, -EBADF when the peer is gone, -EPROTO (datagram
 * dropped) when it is shorter than a frame header. */
static ssize_t sock_peek(int fd, struct vmu_sock_frame *ret_hdr)
{
	struct vmu_sock_frame hdr;
	ssize_t n;

	do
		n = recv(fd, &hdr, sizeof(hdr), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sock_errno();
	/* SEQPACKET reads EOF as 0; the simulated kernel never sends empty datagrams. */
	if (n == 0)
		return -EBADF;
	if ((size_t)n < sizeof(hdr))
		return sock_discard(fd);
	*ret_hdr = hdr;
	return n;
}

/* Consumes the next datagram, whose payload is known to be payload_len bytes, into payload. */
static ssize_t sock_consume(int fd, void *payload, size_t payload_len)
{
	struct vmu_sock_frame hdr;
	struct iovec iov[2] = {
	    {.iov_base = &hdr, .iov_len = sizeof(hdr)},
	    {.iov_base = payload, .iov_len = payload_len},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = VMU_ELEMENTSOF(iov)};
	ssize_t n;

	do
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sock_errno();
	if (n == 0)
		return -EBADF;
	if ((msg.msg_flags & MSG_TRUNC) || (size_t)n != sizeof(hdr) + payload_len)
		return -EPROTO;
	return (ssize_t)payload_len;
}

/* Consumes a frame that must be a bare 8-byte header and returns its error. */
static int sock_take_status_frame(int fd, size_t len, const struct vmu_sock_frame *hdr)
{
	if (len != sizeof(*hdr))
		return sock_discard(fd);
	if (sock_consume(fd, NULL, 0) < 0)
		return -EPROTO;
	return frame_error(hdr);
}

/* The mandatory first frame after connect(): the kernel's answer to open(). */
static int sock_read_open_frame(int fd)
{
	struct vmu_sock_frame hdr = {0};
	ssize_t n;
	int r;

	r = wait_readable(fd, now_ms() + CHARDEV_FRAME_TIMEOUT_MS);
	if (r < 0)
		return r;
	n = sock_peek(fd, &hdr);
	if (n == -EAGAIN)
		return -EPROTO; /* readable but nothing there: a hangup we cannot read as EOF */
	if (n < 0)
		return (int)n;
	if (hdr.kind != VMU_SOCK_OPEN)
		return sock_discard(fd);
	return sock_take_status_frame(fd, (size_t)n, &hdr);
}

static int sock_open(const char *sock_path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_vmu_cleanup_close_ int fd = -1;
	int r;

	/* Length checked by chardev_check_path(); sun_path keeps its NUL. */
	memcpy(sa.sun_path, sock_path, strlen(sock_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vmu_negative_errno();
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ECONNREFUSED ? -ENOENT : vmu_negative_errno();
	r = sock_read_open_frame(fd);
	if (r < 0)
		return r;
	return vmu_take_fd(&fd);
}

/* Takes the next datagram whole, in one recvmsg(): its frame header into *hdr and its payload
 * into a (a_len bytes) and then b (b_len; either may be NULL when its length is 0). Returns
 * the payload's length; -EPROTO when it was longer than both (it is gone: nothing that long
 * is a message) or shorter than a header; -EAGAIN when none is queued; -EBADF when the peer
 * is gone. */
static ssize_t sock_take(int fd, struct vmu_sock_frame *hdr, void *a, size_t a_len, void *b,
			 size_t b_len)
{
	struct iovec iov[3] = {
	    {.iov_base = hdr, .iov_len = sizeof(*hdr)},
	    {.iov_base = a, .iov_len = a_len},
	    {.iov_base = b, .iov_len = b_len},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = VMU_ELEMENTSOF(iov)};
	ssize_t n;

	do
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sock_errno();
	if (n == 0)
		return -EBADF;
	if ((msg.msg_flags & MSG_TRUNC) || (size_t)n < sizeof(*hdr))
		return -EPROTO;
	return n - (ssize_t)sizeof(*hdr);
}

/* Handles one datagram while waiting for the WRITE frame: 1 and *ret_error when it was the
 * WRITE frame, 0 when a message was stashed (or nothing was there), else -errno. One
 * recvmsg(), into the stash (as the send/recv pair of every request goes through here, a
 * peek first would be a system call more each time); with the stash taken, a message is a
 * second one, which the kernel never sends: -EPROTO. */
static int sock_take_while_waiting(struct vmu_chardev *dev, int *ret_error)
{
	struct vmu_sock_frame hdr;
	ssize_t n;

	n = sock_take(dev->fd, &hdr, dev->stashed ? NULL : dev->stash,
		      dev->stashed ? 0 : sizeof(dev->stash), NULL, 0);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return (int)n;
	if (hdr.kind == VMU_SOCK_MESSAGE && n > 0 && !dev->stashed) {
		dev->stash_len = (size_t)n;
		dev->stashed = true;
		return 0;
	}
	if (hdr.kind != VMU_SOCK_WRITE || n != 0)
		return -EPROTO;
	*ret_error = frame_error(&hdr);
	return 1;
}

static int sock_wait_write_result(struct vmu_chardev *dev)
{
	int64_t deadline = now_ms() + CHARDEV_FRAME_TIMEOUT_MS;

	for (;;) {
		int error = 0, r;

		r = wait_readable(dev->fd, deadline);
		if (r < 0)
			return r;
		r = sock_take_while_waiting(dev, &error);
		if (r < 0)
			return r;
		if (r > 0)
			return error;
	}
}

static int sock_send(struct vmu_chardev *dev, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(dev->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sock_errno();
	if ((size_t)n != len)
		return -EIO;
	return sock_wait_write_result(dev);
}

static ssize_t stash_take(struct vmu_chardev *dev, void *buf, size_t size)
{
	if (size < dev->stash_len)
		return -EINVAL;
	memcpy(buf, dev->stash, dev->stash_len);
	dev->stashed = false;
	return (ssize_t)dev->stash_len;
}

/* One recvmsg() per message (a real device costs one read(), and a peek first was a system
 * call more per request). A buffer smaller than the service's largest message (callers that
 * read with a short buffer on purpose) is filled from the stash, so that a message longer
 * than it leaves it untouched and stays, whole, for the next recv(), as it stays queued in
 * the device. A buffer that holds the largest message (what the daemons pass) is filled
 * directly, the stash behind it catching the rest of an over-long message, which is then
 * kept in the stash, whole, likewise (the buffer was written: only a kernel breaking the
 * protocol sees that). A message longer than the stash (16 KiB, twice anything the kernel
 * sends) and the buffer is lost: -EPROTO. */
static ssize_t sock_recv(struct vmu_chardev *dev, void *buf, size_t size)
{
	bool direct = size >= vmu_service_max_message(dev->service);
	struct vmu_sock_frame hdr;
	ssize_t n;

	if (dev->stashed)
		return stash_take(dev, buf, size);
	n = direct ? sock_take(dev->fd, &hdr, buf, size, dev->stash, sizeof(dev->stash))
		   : sock_take(dev->fd, &hdr, dev->stash, sizeof(dev->stash), NULL, 0);
	if (n < 0)
		return n; /* not framed, or longer than all the room: dropped */
	if (hdr.kind != VMU_SOCK_MESSAGE || n == 0)
		return -EPROTO;
	if (direct && (size_t)n <= size)
		return n;
	if (direct) {
		/* longer than buf: kept whole in the stash when it fits there */
		if ((size_t)n > sizeof(dev->stash))
			return -EPROTO;
		memmove(dev->stash + size, dev->stash, (size_t)n - size);
		memcpy(dev->stash, buf, size);
	}
	dev->stash_len = (size_t)n;
	dev->stashed = true;
	return direct ? -EINVAL : stash_take(dev, buf, size);
}

/* ------------------------------------------------------------------------------------------
 * Real char device
 * ------------------------------------------------------------------------------------------ */

static int device_open(const char *path)
{
	/* O_NOCTTY: "any file path" might be a terminal; never make it ours. */
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? vmu_negative_errno() : fd;
}

static int device_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return vmu_negative_errno();
	return S_ISCHR(st.st_mode) ? 0 : -ENODEV;
}

static int device_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vmu_negative_errno();
	return (size_t)n == len ? 0 : -EIO;
}

/* Checks first, because read() on the device blocks even with O_NONBLOCK. */
static ssize_t device_recv(int fd, void *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return vmu_negative_errno();
	if (r == 0)
		return -EAGAIN;
	if (!(p.revents & POLLIN))
		return -EBADF; /* POLLERR|POLLHUP: the module is going away */
	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vmu_negative_errno();
	return n == 0 ? -EIO : n;
}

/* ------------------------------------------------------------------------------------------
 * Object life cycle
 * ------------------------------------------------------------------------------------------ */

/* Syntax only: "unix:" must be followed by an absolute path that fits sun_path. */
static int chardev_check_path(const char *path, bool *ret_is_socket)
{
	size_t prefix = strlen(VMU_SOCK_PREFIX);
	const char *sock;

	if (path[0] == '\0')
		return -EINVAL;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (strncmp(path, VMU_SOCK_PREFIX, prefix) != 0) {
		*ret_is_socket = false;
		return 0;
	}
	sock = path + prefix;
	if (sock[0] != '/')
		return -EINVAL;
	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	*ret_is_socket = true;
	return 0;
}

static void chardev_close(struct vmu_chardev *dev)
{
	dev->fd = vmu_safe_close(dev->fd);
	dev->stashed = false;
	dev->stash_len = 0;
	dev->registered = false;
}

static int chardev_connect(struct vmu_chardev *dev)
{
	int fd;

	if (dev->is_socket)
		fd = sock_open(dev->path + strlen(VMU_SOCK_PREFIX));
	else
		fd = device_open(dev->path);
	if (fd < 0)
		return fd;
	dev->fd = fd;
	return 0;
}

VMU_EXPORT struct vmu_chardev *vmu_chardev_free(struct vmu_chardev *dev)
{
	if (!dev)
		return NULL;
	chardev_close(dev);
	free(dev->path);
	free(dev);
	return NULL;
}

static void chardev_freep(struct vmu_chardev **dev)
{
	vmu_chardev_free(*dev);
}

VMU_EXPORT int vmu_chardev_open(enum vmu_service service, const char *path,
				struct vmu_chardev **ret)
{
	_vmu_cleanup_(chardev_freep) struct vmu_chardev *dev = NULL;
	bool is_socket = false;
	int r;

	if (!ret || (unsigned)service >= _VMU_SERVICE_MAX)
		return -EINVAL;
	if (!path)
		path = vmu_service_default_device(service);
	if (!path)
		return -EINVAL;
	r = chardev_check_path(path, &is_socket);
	if (r < 0)
		return r;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->fd = -1;
	dev->service = service;
	dev->is_socket = is_socket;
	dev->path = strdup(path);
	if (!dev->path)
		return -ENOMEM;
	r = chardev_connect(dev);
	if (r < 0)
		return r;
	*ret = VMU_TAKE_PTR(dev);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------------------------ */

VMU_EXPORT ssize_t vmu_chardev_recv(struct vmu_chardev *dev, void *buf, size_t size)
{
	if (!dev || !buf)
		return -EINVAL;
	if (dev->fd < 0)
		return -EBADF;
	return dev->is_socket ? sock_recv(dev, buf, size) : device_recv(dev->fd, buf, size);
}

VMU_EXPORT int vmu_chardev_send(struct vmu_chardev *dev, const void *buf, size_t len)
{
	if (!dev || !buf || len == 0)
		return -EINVAL;
	if (dev->fd < 0)
		return -EBADF;
	return dev->is_socket ? sock_send(dev, buf, len) : device_send(dev->fd, buf, len);
}

VMU_EXPORT bool vmu_chardev_has_pending(const struct vmu_chardev *dev)
{
	return dev && dev->fd >= 0 && dev->stashed;
}

/* ------------------------------------------------------------------------------------------
 * Registration (docs/protocol.md §2.1)
 * ------------------------------------------------------------------------------------------ */

static size_t register_request(enum vmu_service service, uint8_t *buf)
{
	switch (service) {
	case VMU_SERVICE_KVP:
		memset(buf, 0, VMU_KVP_MSG_SIZE);
		buf[0] = KVP_OP_REGISTER1; /* kvp_hdr.operation */
		return VMU_KVP_MSG_SIZE;
	case VMU_SERVICE_VSS:
		memset(buf, 0, VMU_VSS_MSG_SIZE);
		buf[0] = VSS_OP_REGISTER1; /* vss_hdr.operation */
		return VMU_VSS_MSG_SIZE;
	case VMU_SERVICE_FCOPY:
		vmu_put_le32(buf, FCOPY_VERSION_1);
		return 4;
	case _VMU_SERVICE_MAX:
		break;
	}
	return 0;
}

/* The KVP reply: a whole hv_kvp_msg, operation REGISTER1, a printable version string. */
static int register_parse_kvp(const uint8_t *buf, size_t len, char *version)
{
	const uint8_t *v = buf + CHARDEV_KVP_VERSION_OFFSET;
	ssize_t vlen;

	if (len != VMU_KVP_MSG_SIZE || buf[0] != KVP_OP_REGISTER1)
		return -EPROTO;
	vlen = vmu_bounded_strlen(v, CHARDEV_KVP_VERSION_SIZE);
	if (vlen <= 0)
		return -EPROTO;
	for (ssize_t i = 0; i < vlen; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return -EPROTO;
	memcpy(version, v, (size_t)vlen + 1);
	return 0;
}

/* VSS and fcopy: a 4-byte u32 equal to what we sent. */
static int register_parse_u32(const uint8_t *buf, size_t len, uint32_t expected, char *version)
{
	if (len != 4 || vmu_le32(buf) != expected)
		return -EPROTO;
	snprintf(version, CHARDEV_KVP_VERSION_SIZE, "%" PRIu32, expected);
	return 0;
}

static int register_parse(enum vmu_service service, const uint8_t *buf, size_t len, char *version)
{
	switch (service) {
	case VMU_SERVICE_KVP:
		return register_parse_kvp(buf, len, version);
	case VMU_SERVICE_VSS:
		return register_parse_u32(buf, len, VSS_OP_REGISTER1, version);
	case VMU_SERVICE_FCOPY:
		return register_parse_u32(buf, len, FCOPY_VERSION_1, version);
	case _VMU_SERVICE_MAX:
		break;
	}
	return -EINVAL;
}

static ssize_t register_read_reply(struct vmu_chardev *dev, int64_t deadline, uint8_t *buf,
				   size_t size)
{
	for (;;) {
		ssize_t n;
		int r;

		if (!dev->stashed) {
			r = wait_readable(dev->fd, deadline);
			if (r < 0)
				return r;
		}
		n = vmu_chardev_recv(dev, buf, size);
		if (n == -EAGAIN)
			continue;
		/* Longer than any registration reply. */
		return n == -EINVAL ? -EPROTO : n;
	}
}

VMU_EXPORT int vmu_chardev_register(struct vmu_chardev *dev, int timeout_ms)
{
	uint8_t buf[CHARDEV_REPLY_BUF];
	char version[CHARDEV_KVP_VERSION_SIZE];
	int64_t deadline;
	ssize_t n;
	int r;

	if (!dev || timeout_ms < 0)
		return -EINVAL;
	if (dev->fd < 0)
		return -EBADF;
	dev->registered = false;
	if (!dev->is_socket) {
		r = device_check(dev->fd);
		if (r < 0)
			return r;
	}
	deadline = now_ms() + timeout_ms;
	r = vmu_chardev_send(dev, buf, register_request(dev->service, buf));
	if (r < 0)
		return r;
	n = register_read_reply(dev, deadline, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	r = register_parse(dev->service, buf, (size_t)n, version);
	if (r < 0)
		return r;
	memcpy(dev->version, version, sizeof(version));
	dev->registered = true;
	return 0;
}

VMU_EXPORT int vmu_chardev_reopen(struct vmu_chardev *dev, int timeout_ms)
{
	int r;

	if (!dev || timeout_ms < 0)
		return -EINVAL;
	chardev_close(dev);
	r = chardev_connect(dev);
	if (r < 0)
		return r;
	r = vmu_chardev_register(dev, timeout_ms);
	if (r < 0)
		chardev_close(dev);
	return r;
}

/* ------------------------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------------------------ */

VMU_EXPORT const char *vmu_chardev_kernel_version(const struct vmu_chardev *dev)
{
	return dev && dev->registered ? dev->version : NULL;
}

VMU_EXPORT enum vmu_service vmu_chardev_service(const struct vmu_chardev *dev)
{
	return dev ? dev->service : _VMU_SERVICE_MAX;
}

VMU_EXPORT const char *vmu_chardev_path(const struct vmu_chardev *dev)
{
	return dev ? dev->path : NULL;
}

VMU_EXPORT int vmu_chardev_fd(const struct vmu_chardev *dev)
{
	if (!dev)
		return -EINVAL;
	return dev->fd >= 0 ? dev->fd : -EBADF;
}

bool vmu_chardev_error_needs_reopen(int error)
{
	switch (error) {
	case -EINVAL:
	case -EBADF:
	case -EIO:
	case -EPIPE:
	case -ECONNRESET:
	case -ENODEV:
	case -EPROTO:
		return true;
	default:
		return false;
	}
}
