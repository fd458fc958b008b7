/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The UIO transport (docs/protocol.md §6): a VMBus channel bound to uio_hv_generic, driven entirely
 * from user space.
 *
 * Discovery (vmu_uio_find) walks <sysfs>/bus/vmbus/devices/ * /class_id for the class GUID
 * (never an instance GUID), takes the uio node under the device, and the ring size from
 * <sysfs>/class/uio/uioN/maps/map0/size (= both rings). The channel's `ring` file is not
 * used: its size was a fixed 4 MiB on older kernels (docs/protocol.md §6.1, §9.17). When the device
 * is bound to no driver and the caller allows it, uio_hv_generic is bound by writing the
 * class GUID to its new_id; the return value says so (the library never logs).
 *
 * Opening (vmu_uio_open) maps map0: bytes [0, R) are the outbound (TX) ring, [R, 2R) the
 * inbound (RX) ring. A real /dev/uioN is opened O_RDWR and mmap()ed; a UNIX socket at the
 * same place is a simulated device (uio-sock.h) that hands over the ring memory as a memfd
 * and speaks UIO's 4-byte read/write semantics as datagrams. Everything else is shared.
 *
 * Interrupts: the inbound interrupt_mask belongs to us (since CVE-2025-40048 the kernel no
 * longer touches it; before, it set it on open and in every interrupt). We keep it clear
 * and, after draining the ring, clear it again and re-check (vmu_uio_rearm) so that a
 * packet written just before cannot go unnoticed. The host is signalled (a 4-byte write of
 * 1: unmask + vmbus_setevent) only when the ring layer says it must: our packet went into
 * an empty ring the host listens on, or our read freed the space the host waits for.
 *
 * A read or write that fails with EIO on a real device, or EOF/ECONNRESET/EPIPE on a
 * simulated one, means the host disabled the service (rescind): -ESHUTDOWN, distinct from
 * every other error, so a daemon can release the device and wait quietly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/uio-sock.h"
#include "lib/vmbus-user/vmu-internal.h"

#define GUID_LEN 36
#define DRIVER_NAME "uio_hv_generic"
#define SMALL_FILE_MAX 128

struct vmu_uio {
	int fd;
	bool simulated;
	uint8_t *map;
	size_t map_size;
	struct vmu_ring tx, rx;
	uint32_t last_count;
};

/* ------------------------------------------------------------------------------------------
 * Small sysfs helpers
 * ------------------------------------------------------------------------------------------ */

static void close_dirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_dir_ _vmu_cleanup_(close_dirp)

/* Reads a small sysfs attribute (at most SMALL_FILE_MAX - 1 bytes), NUL-terminated,
 * trailing newline removed. */
static int read_small_file(int dirfd, const char *path, char *buf, size_t size)
{
	_vmu_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == size - 1)
		return -EBADMSG; /* longer than any value we expect */
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static bool guid_valid(const char *s)
{
	if (strlen(s) != GUID_LEN)
		return false;
	for (size_t i = 0; i < GUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* class_id prints "{%pUl}": lower-case with braces. A file without braces is accepted too. */
static bool class_id_matches(const char *text, const char *guid)
{
	size_t len = strlen(text);

	if (len == GUID_LEN + 2 && text[0] == '{' && text[len - 1] == '}')
		return strncmp(text + 1, guid, GUID_LEN) == 0;
	return strcmp(text, guid) == 0;
}

static bool name_fits(const char *name, size_t size)
{
	return strnlen(name, size) < size;
}

/* Copies a name known to fit (name_fits). */
static void copy_name(char *dst, size_t size, const char *name)
{
	size_t len = strnlen(name, size - 1);

	memcpy(dst, name, len);
	dst[len] = '\0';
}

/* The first (in name order) device directory whose class_id matches. */
static int find_device(int devices_fd, const char *guid, char *ret, size_t size)
{
	_cleanup_dir_ DIR *d = NULL;
	struct dirent *de;
	int dup_fd;
	bool found = false;

	dup_fd = fcntl(devices_fd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		vmu_safe_close(dup_fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char path[NAME_MAX + 16], text[SMALL_FILE_MAX];

		if (de->d_name[0] == '.' || !name_fits(de->d_name, size))
			continue;
		snprintf(path, sizeof(path), "%s/class_id", de->d_name);
		if (read_small_file(devices_fd, path, text, sizeof(text)) < 0 ||
		    !class_id_matches(text, guid))
			continue;
		if (!found || strcmp(de->d_name, ret) < 0)
			copy_name(ret, size, de->d_name);
		found = true;
	}
	return found ? 0 : -ENODEV;
}

/* "uio" followed by 1..9 digits. */
static bool uio_name_valid(const char *name, unsigned long *ret_n)
{
	size_t digits;
	char *end;

	if (strncmp(name, "uio", 3) != 0)
		return false;
	digits = strspn(name + 3, "0123456789");
	if (digits == 0 || digits > 9 || name[3 + digits] != '\0')
		return false;
	*ret_n = strtoul(name + 3, &end, 10);
	return true;
}

/* The uio node under the device directory: <dev>/uio/uioN (lowest N). -ENOENT if none. */
static int find_uio_node(int device_fd, char *ret, size_t size)
{
	_cleanup_dir_ DIR *d = NULL;
	struct dirent *de;
	unsigned long best = ULONG_MAX, n;
	int fd;

	fd = openat(device_fd, "uio", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	d = fdopendir(fd);
	if (!d) {
		vmu_safe_close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (uio_name_valid(de->d_name, &n) && n < best && name_fits(de->d_name, size)) {
			best = n;
			copy_name(ret, size, de->d_name);
		}
	return best == ULONG_MAX ? -ENOENT : 0;
}

/* The driver the device is bound to: 0 and its name, -ENOENT when unbound. */
static int bound_driver(int device_fd, char *ret, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlinkat(device_fd, "driver", target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!name_fits(base, size))
		return -ENAMETOOLONG;
	copy_name(ret, size, base);
	return 0;
}

/* Adds the class GUID to uio_hv_generic's ids; the kernel probes matching devices right
 * away. EEXIST: the id is already there. */
static int write_new_id(const char *root, const char *guid)
{
	_vmu_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/bus/vmbus/drivers/" DRIVER_NAME "/new_id",
			     root) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? -ENOPKG : -errno;
	n = write(fd, guid, GUID_LEN);
	if (n < 0)
		return errno == EEXIST ? 0 : -errno;
	return n == GUID_LEN ? 0 : -EIO;
}

/* map0/size: "0x%lx"-style hex (uio prints %pa). Both rings, each a header page plus a
 * data area that is a positive multiple of 8 and at most VMU_RING_MAX_DATA. */
static int parse_map_size(const char *text, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	static const char hex[] = "0123456789abcdefABCDEF";

	if (strncmp(text, "0x", 2) != 0 || text[2] == '\0' ||
	    strspn(text + 2, hex) != strlen(text + 2) || strlen(text + 2) > 16)
		return -EBADMSG;
	errno = 0;
	v = strtoull(text + 2, &end, 16);
	if (errno || *end != '\0')
		return -EBADMSG;
	if (v % 2 || v / 2 <= VMU_RING_HEADER_SIZE || (v / 2 - VMU_RING_HEADER_SIZE) % 8 ||
	    v / 2 - VMU_RING_HEADER_SIZE > VMU_RING_MAX_DATA)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int read_map_size(const char *root, const char *uio_name, uint64_t *ret)
{
	char path[PATH_MAX], text[SMALL_FILE_MAX];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/class/uio/%s/maps/map0/size", root,
			     uio_name) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_small_file(AT_FDCWD, path, text, sizeof(text));
	if (r < 0)
		return r;
	return parse_map_size(text, ret);
}

/* Unbound: bind when allowed. 1 when the node appeared, -EINPROGRESS when not (yet). */
static int bind_device(const char *root, const char *guid, int device_fd, unsigned flags,
		       char *uio_name, size_t size)
{
	char driver[NAME_MAX + 1];
	int r;

	r = bound_driver(device_fd, driver, sizeof(driver));
	if (r == 0)
		return strcmp(driver, DRIVER_NAME) == 0 ? -ENOENT : -EBUSY;
	if (r != -ENOENT)
		return r;
	if (!(flags & VMU_UIO_ALLOW_BIND))
		return -ENXIO;
	r = write_new_id(root, guid);
	if (r < 0)
		return r;
	r = find_uio_node(device_fd, uio_name, size);
	return r == 0 ? 1 : -EINPROGRESS;
}

/* struct vmu_uio_device as 0.1 released it: the least a caller may pass. Later fields go after
 * map_size. */
#define UIO_DEVICE_SIZE_0_1 (offsetof(struct vmu_uio_device, map_size) + sizeof(uint64_t))

VMU_EXPORT int vmu_uio_find(const char *sysfs_root, const char *class_id, unsigned flags,
			    struct vmu_uio_device *ret)
{
	_vmu_cleanup_close_ int devices_fd = -1, device_fd = -1;
	struct vmu_uio_device dev = {0};
	char path[PATH_MAX];
	const char *root = sysfs_root ? sysfs_root : "/sys";
	const char *guid = class_id ? class_id : VMU_FCOPY_CLASS_ID;
	int r, bound = 0;

	if (!ret || ret->size < UIO_DEVICE_SIZE_0_1 || !guid_valid(guid) ||
	    (flags & ~VMU_UIO_ALLOW_BIND))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/vmbus/devices", root) >= sizeof(path))
		return -ENAMETOOLONG;
	devices_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devices_fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	r = find_device(devices_fd, guid, dev.instance_id, sizeof(dev.instance_id));
	if (r < 0)
		return r;
	device_fd = openat(devices_fd, dev.instance_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (device_fd < 0)
		return -errno;
	r = find_uio_node(device_fd, dev.uio_name, sizeof(dev.uio_name));
	if (r == -ENOENT) {
		r = bind_device(root, guid, device_fd, flags, dev.uio_name, sizeof(dev.uio_name));
		bound = r == 1;
	}
	if (r < 0)
		return r;
	r = read_map_size(root, dev.uio_name, &dev.map_size);
	if (r < 0)
		return r;
	/* No more than the caller's struct holds (an older caller's is shorter). */
	dev.size = ret->size;
	memcpy(ret, &dev, dev.size < sizeof(dev) ? dev.size : sizeof(dev));
	return bound;
}

/* ------------------------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------------------------ */

static bool map_size_valid(uint64_t size)
{
	char text[32];
	uint64_t v;

	snprintf(text, sizeof(text), "0x%llx", (unsigned long long)size);
	return parse_map_size(text, &v) == 0;
}

/* Receives the ring memory from a simulated device. Returns the memfd. */
static int sock_receive_memory(int fd)
{
	uint8_t payload[VMU_UIO_SOCK_MSG_SIZE];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf),
	};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct cmsghdr *c;
	int memfd = -1;
	ssize_t n;

	n = poll(&p, 1, VMU_UIO_SOCK_OPEN_TIMEOUT_MS);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == ECONNRESET ? -EBUSY : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (memfd < 0)
				memfd = got;
			else
				vmu_safe_close(got);
		}
	}
	if (n == 0 && memfd < 0)
		return -EBUSY; /* refused: closed without handing over the rings */
	if (n != VMU_UIO_SOCK_MSG_SIZE || memfd < 0 || (mh.msg_flags & MSG_CTRUNC)) {
		vmu_safe_close(memfd);
		return -EBADMSG;
	}
	return memfd;
}

static int sock_open(const char *path, size_t map_size, int *ret_fd, uint8_t **ret_map)
{
	_vmu_cleanup_close_ int fd = -1, memfd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	void *map;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	memfd = sock_receive_memory(fd);
	if (memfd < 0)
		return memfd;
	if (fstat(memfd, &st) < 0)
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size < map_size)
		return -EBADMSG; /* the rings would not be backed: SIGBUS on access */
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED)
		return -errno;
	*ret_map = map;
	*ret_fd = vmu_take_fd(&fd);
	return 0;
}

static int chardev_open(const char *path, size_t map_size, int *ret_fd, uint8_t **ret_map)
{
	_vmu_cleanup_close_ int fd = -1;
	void *map;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* map0 (txrx_rings) is at offset 0 x page size. */
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	*ret_map = map;
	*ret_fd = vmu_take_fd(&fd);
	return 0;
}

VMU_EXPORT struct vmu_uio *vmu_uio_free(struct vmu_uio *uio)
{
	if (!uio)
		return NULL;
	if (uio->map)
		munmap(uio->map, uio->map_size);
	vmu_safe_close(uio->fd);
	free(uio);
	return NULL;
}

static void uio_freep(struct vmu_uio **p)
{
	vmu_uio_free(*p);
}

static int attach_rings(struct vmu_uio *uio)
{
	size_t ring = uio->map_size / 2;
	int r;

	r = vmu_ring_attach(&uio->tx, uio->map, ring, VMU_RING_WRITER);
	if (r < 0)
		return r;
	r = vmu_ring_attach(&uio->rx, uio->map + ring, ring, VMU_RING_READER);
	if (r < 0)
		return r;
	/* Ours from now on: the host may interrupt us. */
	vmu_ring_set_interrupt_mask(&uio->rx, false);
	return 0;
}

VMU_EXPORT int vmu_uio_open(const char *dev_dir, const struct vmu_uio_device *dev,
			    struct vmu_uio **ret)
{
	_vmu_cleanup_(uio_freep) struct vmu_uio *uio = NULL;
	unsigned long n;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (!dev || !ret || dev->size < UIO_DEVICE_SIZE_0_1 || !uio_name_valid(dev->uio_name, &n) ||
	    !map_size_valid(dev->map_size))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dev_dir ? dev_dir : "/dev",
			     dev->uio_name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	uio = calloc(1, sizeof(*uio));
	if (!uio)
		return -ENOMEM;
	uio->fd = -1;
	uio->map_size = (size_t)dev->map_size;
	if (S_ISSOCK(st.st_mode)) {
		uio->simulated = true;
		r = sock_open(path, uio->map_size, &uio->fd, &uio->map);
	} else if (S_ISCHR(st.st_mode))
		r = chardev_open(path, uio->map_size, &uio->fd, &uio->map);
	else
		r = -ENODEV;
	if (r < 0)
		return r;
	r = attach_rings(uio);
	if (r < 0)
		return r;
	*ret = VMU_TAKE_PTR(uio);
	return 0;
}

VMU_EXPORT int vmu_uio_fd(const struct vmu_uio *uio)
{
	return uio && uio->fd >= 0 ? uio->fd : -EBADF;
}

VMU_EXPORT size_t vmu_uio_ring_size(const struct vmu_uio *uio)
{
	return uio ? uio->map_size / 2 : 0;
}

VMU_EXPORT size_t vmu_uio_max_payload(const struct vmu_uio *uio)
{
	return uio ? uio->rx.size - VMU_RING_PKT_HDR_SIZE - VMU_RING_TRAILER_SIZE : 0;
}

/* ------------------------------------------------------------------------------------------
 * Interrupts
 * ------------------------------------------------------------------------------------------ */

static bool is_disabled_errno(int e)
{
	return e == EIO || e == ECONNRESET || e == EPIPE || e == ENOTCONN;
}

/* irqcontrol(1): unmask and vmbus_setevent. */
static int signal_host(struct vmu_uio *uio)
{
	uint8_t one[VMU_UIO_SOCK_MSG_SIZE];
	ssize_t n;

	vmu_put_le32(one, 1);
	if (uio->simulated)
		n = send(uio->fd, one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		n = write(uio->fd, one, sizeof(one));
	if (n < 0) {
		/* A full socket buffer holds unread signals already: the host will look at the
		 * ring when it reads them, so this one is not needed. */
		if (uio->simulated && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return is_disabled_errno(errno) ? -ESHUTDOWN : -errno;
	}
	return n == sizeof(one) ? 0 : -EIO;
}

/* The stand-in's interrupts are 4-byte datagrams, one per interrupt: an acknowledgement
 * takes every one queued, as a read() of the device takes the count once for all of them.
 * One recvmmsg() takes up to SOCK_ACK_BATCH; only a full batch needs another look. */
#define SOCK_ACK_BATCH 16

static int sock_ack(struct vmu_uio *uio, uint32_t *ret_count)
{
	uint8_t buf[SOCK_ACK_BATCH][VMU_UIO_SOCK_MSG_SIZE];
	struct iovec iov[SOCK_ACK_BATCH];
	struct mmsghdr msgs[SOCK_ACK_BATCH];
	bool got = false;
	int n;

	for (int i = 0; i < SOCK_ACK_BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	for (;;) {
		n = recvmmsg(uio->fd, msgs, SOCK_ACK_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return is_disabled_errno(errno) ? -ESHUTDOWN : -errno;
		}
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_len == 0)
				return -ESHUTDOWN; /* the host closed: end of file */
			if (msgs[i].msg_len != VMU_UIO_SOCK_MSG_SIZE ||
			    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
				return -EBADMSG;
			uio->last_count = vmu_le32(buf[i]);
			got = true;
		}
		if (n == 0)
			return -ESHUTDOWN;
		if (n < SOCK_ACK_BATCH)
			break;
	}
	if (!got)
		return -EAGAIN;
	if (ret_count)
		*ret_count = uio->last_count;
	return 0;
}

VMU_EXPORT int vmu_uio_ack(struct vmu_uio *uio, uint32_t *ret_count)
{
	uint8_t buf[VMU_UIO_SOCK_MSG_SIZE];
	ssize_t n;

	if (!uio || uio->fd < 0)
		return -EBADF;
	if (uio->simulated)
		return sock_ack(uio, ret_count);
	do
		n = read(uio->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return errno == EIO ? -ESHUTDOWN : -errno;
	}
	if (n != sizeof(buf))
		return -EIO;
	uio->last_count = vmu_le32(buf);
	if (ret_count)
		*ret_count = uio->last_count;
	return 0;
}

VMU_EXPORT int vmu_uio_wait(struct vmu_uio *uio, int timeout_ms)
{
	struct pollfd p;
	int n;

	if (!uio || uio->fd < 0)
		return -EBADF;
	p = (struct pollfd){.fd = uio->fd, .events = POLLIN};
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	n = vmu_uio_ack(uio, NULL);
	return n == -EAGAIN ? 0 : n; /* a spurious wake-up: the caller checks the ring */
}

VMU_EXPORT int vmu_uio_rearm(struct vmu_uio *uio)
{
	if (!uio || !uio->map)
		return -EBADF;
	return vmu_ring_rearm(&uio->rx);
}

/* ------------------------------------------------------------------------------------------
 * Packets
 * ------------------------------------------------------------------------------------------ */

VMU_EXPORT ssize_t vmu_uio_recv(struct vmu_uio *uio, void *buf, size_t size,
				struct vmu_uio_packet *ret)
{
	struct vmu_ring_packet pkt;
	int r;

	if (!uio || !uio->map)
		return -EBADF;
	if (!buf && size)
		return -EINVAL;
	/* One copy, from the ring into buf; -ENOBUFS: too large for buf, it stays in the ring */
	r = vmu_ring_peek_payload(&uio->rx, buf, size, &pkt);
	if (r < 0)
		return r;
	r = vmu_ring_advance(&uio->rx, &pkt);
	if (r < 0)
		return r;
	if (ret)
		*ret = (struct vmu_uio_packet){
		    .type = pkt.type, .flags = pkt.flags, .xactid = pkt.xactid};
	if (r > 0) {
		r = signal_host(uio);
		if (r < 0)
			return r;
	}
	return (ssize_t)pkt.payload_len;
}

VMU_EXPORT int vmu_uio_send(struct vmu_uio *uio, const void *payload, size_t len, uint64_t xactid)
{
	int r;

	if (!uio || !uio->map)
		return -EBADF;
	r = vmu_ring_send(&uio->tx, VMU_VMBUS_PACKET_DATA_INBAND, 0, xactid, payload, len);
	if (r <= 0)
		return r;
	return signal_host(uio);
}

bool vmu_uio_error_needs_reopen(int error)
{
	switch (error) {
	case -ESHUTDOWN:
	case -EBADMSG:
	case -EIO:
	case -EBADF:
	case -ENODEV:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------------------------------
 * IC negotiation, answered in place as the UIO daemon must do it itself (docs/protocol.md §6.4)
 * ------------------------------------------------------------------------------------------ */

VMU_EXPORT int vmu_ic_negotiate_respond(enum vmu_service service, void *buf, size_t len,
					struct vmu_ic_version *ret_fw,
					struct vmu_ic_version *ret_srv)
{
	const struct vmu_ic_version *fw, *srv;
	struct vmu_ic_version chosen_fw, chosen_srv;
	size_t n_fw, n_srv;
	int r;

	r = vmu_service_versions(service, &fw, &n_fw, &srv, &n_srv);
	if (r < 0)
		return r;
	if (!buf || len < VMU_ICMSG_HDR_SIZE)
		return -EBADMSG; /* nothing that could be answered */
	r = vmu_ic_negotiate(buf, len, fw, n_fw, srv, n_srv, &chosen_fw, &chosen_srv);
	(void)vmu_icmsg_set_response(buf, len, r == 0 ? VMU_S_OK : VMU_E_FAIL);
	if (r < 0)
		return r;
	if (ret_fw)
		*ret_fw = chosen_fw;
	if (ret_srv)
		*ret_srv = chosen_srv;
	return 0;
}
