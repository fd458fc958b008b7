/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvshim: an LD_PRELOAD device shim, so that make check runs the library's REAL device
 * branches (lib/vmbus-user/chardev.c: open/fstat/read/write/poll of /dev/vmbus/hv_*;
 * uio.c: stat, open, mmap of map0, 4-byte read and write of /dev/uioN) against the
 * simulated host, which only speaks sockets.
 *
 * A real char device cannot be made without mknod (root) and a driver behind it, so the
 * shim makes none. The simulated host listens on UNIX SOCK_SEQPACKET sockets inside
 * $HVGUEST_SHIM_DIR; to the daemon (and only to it: the test sets LD_PRELOAD for the
 * daemon alone) every socket there is a character device:
 *   - stat()/fstatat()/fstat() report S_IFCHR for those sockets and for the fds opened on
 *     them;
 *   - open() connects to the socket. A name "uioN" is a uio_hv_generic device: the host
 *     hands over the ring memory (a memfd) and the first counter (lib/vmbus-user/
 *     uio-sock.h), which the shim keeps; anything else is an hv_utils char device: the
 *     simulated kernel's OPEN frame (chardev-sock.h) becomes open()'s result (EBUSY for a
 *     second opener), ECONNREFUSED becomes ENOENT (no device);
 *   - char device: read() hands out one message per call, EINVAL when the buffer is too
 *     small (the message stays queued), as hv_utils_transport does; write() sends the
 *     message and returns the kernel's verdict (the WRITE frame), so write() fails with the
 *     kernel's errno; a message that arrives before the verdict is parked and read() and
 *     poll() see it first. A simulated kernel that went away is a module being torn down:
 *     poll() says POLLERR|POLLHUP, read() and write() fail with EBADF.
 *   - UIO: read() of exactly 4 bytes is the interrupt counter (EAGAIN when O_NONBLOCK and
 *     none), write() of 4 bytes is irqcontrol, mmap() at offset 0 (map0) maps the ring
 *     memfd; the host closing the connection (rescind) is EIO on read() and write(), as on
 *     a real device whose channel was rescinded.
 * It cannot: make epoll (sd-event) see a parked message; hvd receives after every reply it
 * sends, which is what reads it. It does not emulate maps other than map0, ioctl (none is
 * used), or the kernel's per-open state beyond what the simulator keeps.
 *
 * $HVGUEST_SHIM_LOG, when set: one line per call served ("chardev open /path",
 * "chardev fstat", "chardev read 7432", "uio mmap 40960", ...), appended, so that a test can
 * prove that the device branches ran (the socket branches use send/recv, never these).
 *
 * Built without sanitizers: it is preloaded into shells and helpers the daemons spawn too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/vmbus-user/chardev-sock.h"
#include "lib/vmbus-user/uio-sock.h"

#define SHIM_MAX_FD 4096
#define SHIM_STASH_MAX 16384
#define SHIM_FRAME_TIMEOUT_MS 5000
#define SHIM_MAJOR 240 /* a "local/experimental" major: no real driver is claimed */

enum shim_kind {
	SHIM_CHARDEV = 1,
	SHIM_UIO,
};

struct shim_fd {
	enum shim_kind kind;
	int memfd; /* UIO: the ring memory */
	size_t mem_size;
	bool stashed;
	size_t stash_len;
	uint8_t stash[SHIM_STASH_MAX];
};

static struct shim_fd *shim_fds[SHIM_MAX_FD];
static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_fstat)(int, struct stat *);
static int (*real_stat)(const char *, struct stat *);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

/* Also called by every entry point: another library's constructor may call one before
 * ours ran. */
__attribute__((constructor)) static void shim_init(void)
{
	real_open = dlsym(RTLD_NEXT, "open");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_read = dlsym(RTLD_NEXT, "read");
	real_write = dlsym(RTLD_NEXT, "write");
	real_close = dlsym(RTLD_NEXT, "close");
	real_poll = dlsym(RTLD_NEXT, "poll");
	real_fstat = dlsym(RTLD_NEXT, "fstat");
	real_stat = dlsym(RTLD_NEXT, "stat");
	real_fstatat = dlsym(RTLD_NEXT, "fstatat");
	real_mmap = dlsym(RTLD_NEXT, "mmap");
}

static const char *kind_name(enum shim_kind k)
{
	return k == SHIM_UIO ? "uio" : "chardev";
}

/* Appends one line to $HVGUEST_SHIM_LOG; keeps errno. */
__attribute__((format(printf, 1, 2))) static void shim_log(const char *format, ...)
{
	const char *path = getenv("HVGUEST_SHIM_LOG");
	int saved = errno, fd;
	char line[512];
	va_list ap;
	int n;

	if (!path)
		return;
	va_start(ap, format);
	n = vsnprintf(line, sizeof(line) - 1, format, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fd = real_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!real_write(fd, line, (size_t)n);
		real_close(fd);
	}
out:
	errno = saved;
}

static struct shim_fd *shim_get(int fd)
{
	struct shim_fd *s;

	if (fd < 0 || fd >= SHIM_MAX_FD)
		return NULL;
	pthread_mutex_lock(&shim_lock);
	s = shim_fds[fd];
	pthread_mutex_unlock(&shim_lock);
	return s;
}

/* The path is an absolute path inside $HVGUEST_SHIM_DIR. */
static bool shim_path(const char *path)
{
	const char *dir = getenv("HVGUEST_SHIM_DIR");
	size_t len;

	if (!dir || !path || path[0] != '/')
		return false;
	len = strlen(dir);
	return len > 0 && strncmp(path, dir, len) == 0 && path[len] == '/';
}

/* The path names a socket inside the shim directory: a device to the daemon. */
static bool shim_device_path(const char *path)
{
	struct stat st;

	return shim_path(path) && real_stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static enum shim_kind kind_of_path(const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	size_t digits;

	if (strncmp(base, "uio", 3) != 0)
		return SHIM_CHARDEV;
	digits = strspn(base + 3, "0123456789");
	return digits > 0 && base[3 + digits] == '\0' ? SHIM_UIO : SHIM_CHARDEV;
}

static void as_chardev(struct stat *st)
{
	st->st_mode = S_IFCHR | (st->st_mode & 07777);
	st->st_rdev = makedev(SHIM_MAJOR, 0);
	st->st_size = 0;
}

/* ---------------------------------------------------------------- opening */

static int wait_in(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = real_poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* The kernel's answer to open(): the OPEN frame. */
static int chardev_open_frame(int fd)
{
	struct vmu_sock_frame hdr;
	ssize_t n;
	int r = wait_in(fd, SHIM_FRAME_TIMEOUT_MS);

	if (r < 0)
		return r;
	n = recv(fd, &hdr, sizeof(hdr), 0);
	if (n == 0)
		return -EBUSY;
	if (n != sizeof(hdr) || hdr.kind != VMU_SOCK_OPEN || hdr.error < 0 || hdr.error > 4095)
		return -EIO;
	return -hdr.error;
}

/* The ring memory and the first counter. */
static int uio_open_memory(int fd, struct shim_fd *s)
{
	uint8_t payload[VMU_UIO_SOCK_MSG_SIZE];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	struct stat st;
	ssize_t n;
	int r = wait_in(fd, VMU_UIO_SOCK_OPEN_TIMEOUT_MS);

	if (r < 0)
		return r;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == ECONNRESET ? -EBUSY : -errno;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return n == 0 ? -EBUSY : -EIO;
	memcpy(&s->memfd, CMSG_DATA(c), sizeof(int));
	if (n != VMU_UIO_SOCK_MSG_SIZE || real_fstat(s->memfd, &st) < 0)
		return -EIO;
	s->mem_size = (size_t)st.st_size;
	return 0;
}

static int shim_open(const char *path, int flags)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	enum shim_kind kind = kind_of_path(path);
	int type = SOCK_SEQPACKET, fd, r;
	struct shim_fd *s;

	if ((flags & O_ACCMODE) != O_RDWR || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (flags & O_CLOEXEC)
		type |= SOCK_CLOEXEC;
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s || fd >= SHIM_MAX_FD) {
		r = -ENOMEM;
		goto fail;
	}
	s->kind = kind;
	s->memfd = -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno == ECONNREFUSED ? -ENOENT : -errno;
		goto fail;
	}
	r = kind == SHIM_UIO ? uio_open_memory(fd, s) : chardev_open_frame(fd);
	if (r >= 0 && (flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0)
		goto fail;
	pthread_mutex_lock(&shim_lock);
	shim_fds[fd] = s;
	pthread_mutex_unlock(&shim_lock);
	shim_log("%s open %s", kind_name(kind), path);
	return fd;
fail:
	if (s && s->memfd >= 0)
		real_close(s->memfd);
	free(s);
	real_close(fd);
	shim_log("%s open %s: %s", kind_name(kind), path, strerror(-r));
	errno = -r;
	return -1;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	shim_init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (shim_device_path(path))
		return shim_open(path, flags);
	return real_open(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	shim_init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (shim_device_path(path))
		return shim_open(path, flags);
	return real_openat(dirfd, path, flags, mode);
}

int close(int fd)
{
	struct shim_fd *s = NULL;

	shim_init();
	if (fd >= 0 && fd < SHIM_MAX_FD) {
		pthread_mutex_lock(&shim_lock);
		s = shim_fds[fd];
		shim_fds[fd] = NULL;
		pthread_mutex_unlock(&shim_lock);
	}
	if (s) {
		shim_log("%s close", kind_name(s->kind));
		if (s->memfd >= 0)
			real_close(s->memfd);
		free(s);
	}
	return real_close(fd);
}

/* ---------------------------------------------------------------- status */

int fstat(int fd, struct stat *st)
{
	struct shim_fd *s = shim_get(fd);
	int r;

	shim_init();
	r = real_fstat(fd, st);
	if (r == 0 && s) {
		as_chardev(st);
		shim_log("%s fstat", kind_name(s->kind));
	}
	return r;
}

int stat(const char *path, struct stat *st)
{
	int r;

	shim_init();
	r = real_stat(path, st);
	if (r == 0 && S_ISSOCK(st->st_mode) && shim_path(path)) {
		as_chardev(st);
		shim_log("%s stat %s", kind_name(kind_of_path(path)), path);
	}
	return r;
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int r;

	shim_init();
	r = real_fstatat(dirfd, path, st, flags);
	if (r == 0 && S_ISSOCK(st->st_mode) && shim_path(path)) {
		as_chardev(st);
		shim_log("%s stat %s", kind_name(kind_of_path(path)), path);
	}
	return r;
}

/* ---------------------------------------------------------------- the char device */

/* A peer that went away is a device that went away. */
static int chardev_errno(int e)
{
	return e == ECONNRESET || e == EPIPE || e == ENOTCONN ? EBADF : e;
}

/* Peeks at the next frame: its length, 0 at EOF, -errno. */
static ssize_t chardev_peek(int fd, struct vmu_sock_frame *hdr, int flags)
{
	ssize_t n;

	do
		n = recv(fd, hdr, sizeof(*hdr), MSG_PEEK | MSG_TRUNC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -chardev_errno(errno);
	if (n > 0 && (size_t)n < sizeof(*hdr))
		return -EPROTO;
	return n;
}

static ssize_t chardev_consume(int fd, struct vmu_sock_frame *hdr, void *buf, size_t len)
{
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(*hdr)},
			       {.iov_base = buf, .iov_len = len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n = recvmsg(fd, &mh, 0);

	if (n < 0)
		return -chardev_errno(errno);
	return n < (ssize_t)sizeof(*hdr) ? -EBADF : n - (ssize_t)sizeof(*hdr);
}

static ssize_t chardev_read(int fd, struct shim_fd *s, void *buf, size_t size)
{
	for (;;) {
		struct vmu_sock_frame hdr;
		ssize_t n;

		if (s->stashed) {
			if (size < s->stash_len)
				return -EINVAL;
			memcpy(buf, s->stash, s->stash_len);
			s->stashed = false;
			return (ssize_t)s->stash_len;
		}
		n = chardev_peek(fd, &hdr, 0);
		if (n <= 0)
			return n == 0 ? -EBADF : n;
		if (hdr.kind != VMU_SOCK_MESSAGE) { /* not for a reader: drop it */
			(void)chardev_consume(fd, &hdr, NULL, 0);
			continue;
		}
		if ((size_t)n - sizeof(hdr) > size)
			return -EINVAL; /* hv_utils_transport: the message stays */
		return chardev_consume(fd, &hdr, buf, size);
	}
}

/* Waits for the kernel's verdict on what we wrote, parking a message that comes first. */
static int chardev_verdict(int fd, struct shim_fd *s)
{
	for (;;) {
		struct vmu_sock_frame hdr;
		ssize_t n;
		int r = wait_in(fd, SHIM_FRAME_TIMEOUT_MS);

		if (r < 0)
			return r == -ETIMEDOUT ? -EIO : r;
		n = chardev_peek(fd, &hdr, MSG_DONTWAIT);
		if (n == -EAGAIN)
			continue;
		if (n <= 0)
			return n == 0 ? -EBADF : (int)n;
		if (hdr.kind == VMU_SOCK_WRITE) {
			if (chardev_consume(fd, &hdr, NULL, 0) < 0)
				return -EBADF;
			return hdr.error < 0 || hdr.error > 4095 ? -EIO : -hdr.error;
		}
		if (hdr.kind != VMU_SOCK_MESSAGE || s->stashed ||
		    (size_t)n - sizeof(hdr) > sizeof(s->stash)) {
			(void)chardev_consume(fd, &hdr, NULL, 0);
			continue;
		}
		n = chardev_consume(fd, &hdr, s->stash, sizeof(s->stash));
		if (n < 0)
			return (int)n;
		s->stash_len = (size_t)n;
		s->stashed = true;
	}
}

static ssize_t chardev_write(int fd, struct shim_fd *s, const void *buf, size_t len)
{
	ssize_t n;
	int r;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -chardev_errno(errno);
	r = chardev_verdict(fd, s);
	return r < 0 ? r : (ssize_t)len;
}

/* ---------------------------------------------------------------- UIO */

static bool rescinded(int e)
{
	return e == ECONNRESET || e == EPIPE || e == ENOTCONN;
}

/* The host closed the connection: the channel was rescinded. */
static bool uio_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return real_poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* A rescinded device fails every read with EIO at once, interrupts counted before or not:
 * the socket may still hold counters the host sent before it closed, which are not read. */
static ssize_t uio_read(int fd, void *buf, size_t size)
{
	ssize_t n;

	if (size != VMU_UIO_SOCK_MSG_SIZE)
		return -EINVAL;
	if (uio_gone(fd))
		return -EIO;
	do
		n = recv(fd, buf, size, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && rescinded(errno)))
		return -EIO;
	if (n < 0)
		return -errno;
	return n == VMU_UIO_SOCK_MSG_SIZE ? n : -EIO;
}

static ssize_t uio_write(int fd, const void *buf, size_t size)
{
	ssize_t n;

	if (size != VMU_UIO_SOCK_MSG_SIZE)
		return -EINVAL;
	n = send(fd, buf, size, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return (ssize_t)size; /* signals the host has not read yet: they coalesce */
	if (n < 0)
		return rescinded(errno) ? -EIO : -errno;
	return n;
}

/* ---------------------------------------------------------------- I/O entry points */

static ssize_t shim_result(ssize_t r)
{
	if (r >= 0)
		return r;
	errno = (int)-r;
	return -1;
}

ssize_t read(int fd, void *buf, size_t size)
{
	struct shim_fd *s = shim_get(fd);
	ssize_t r;

	shim_init();
	if (!s)
		return real_read(fd, buf, size);
	r = s->kind == SHIM_UIO ? uio_read(fd, buf, size) : chardev_read(fd, s, buf, size);
	if (r >= 0)
		shim_log("%s read %zd", kind_name(s->kind), r);
	else if (r != -EAGAIN)
		shim_log("%s read: %s", kind_name(s->kind), strerror((int)-r));
	return shim_result(r);
}

ssize_t __read_chk(int fd, void *buf, size_t size, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		abort(); /* what glibc's check does, without its message */
	return read(fd, buf, size);
}

ssize_t write(int fd, const void *buf, size_t size)
{
	struct shim_fd *s = shim_get(fd);
	ssize_t r;

	shim_init();
	if (!s)
		return real_write(fd, buf, size);
	r = s->kind == SHIM_UIO ? uio_write(fd, buf, size) : chardev_write(fd, s, buf, size);
	if (r >= 0)
		shim_log("%s write %zd", kind_name(s->kind), r);
	else
		shim_log("%s write: %s", kind_name(s->kind), strerror((int)-r));
	return shim_result(r);
}

/* What poll() says of one shimmed fd: a parked message makes it readable; a simulated
 * kernel that went away (the peer closed) is a module being torn down, POLLERR|POLLHUP and
 * nothing to read (docs/protocol.md §2). */
static void shim_revents(struct pollfd *p, const struct shim_fd *s)
{
	if (s->kind != SHIM_CHARDEV)
		return;
	if (s->stashed) {
		p->revents |= p->events & POLLIN;
		return;
	}
	if (p->revents & (POLLHUP | POLLRDHUP)) {
		p->revents = POLLERR | POLLHUP;
		shim_log("chardev poll: torn down");
	}
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	bool parked = false, shimmed = false;
	int r;

	shim_init();
	for (nfds_t i = 0; i < n; i++) {
		struct shim_fd *s = shim_get(fds[i].fd);

		shimmed |= s != NULL;
		parked |= s && s->stashed;
	}
	r = real_poll(fds, n, parked ? 0 : timeout);
	if (r < 0 || !shimmed)
		return r;
	r = 0;
	for (nfds_t i = 0; i < n; i++) {
		struct shim_fd *s = shim_get(fds[i].fd);

		if (s)
			shim_revents(&fds[i], s);
		if (fds[i].revents)
			r++;
	}
	return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	struct shim_fd *s = shim_get(fd);

	shim_init();
	if (!s)
		return real_mmap(addr, len, prot, flags, fd, offset);
	/* map0 only (offset 0 x page size), and no more than the rings: SIGBUS otherwise */
	if (s->kind != SHIM_UIO || offset != 0 || len == 0 || len > s->mem_size) {
		shim_log("%s mmap %zu: refused", kind_name(s->kind), len);
		errno = EINVAL;
		return MAP_FAILED;
	}
	shim_log("uio mmap %zu", len);
	return real_mmap(addr, len, prot, flags, s->memfd, 0);
}
