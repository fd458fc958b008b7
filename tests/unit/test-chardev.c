/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the char-device transport (lib/vmbus-user/chardev.c).
 *
 * The "unix:" path is tested against a fake kernel: a listening SOCK_SEQPACKET socket in a
 * temporary directory. Steps that must happen while the library blocks (accepting the
 * connection and answering open(), the registration handshake) run as a script in a thread;
 * everything else is done directly from the test, which can queue frames before the library
 * reads them because the socket buffers them. The fake kernel's waits are bounded so a broken
 * library fails the test instead of hanging it.
 *
 * The real-device path is tested against a missing path, a regular file, a FIFO, /dev/null,
 * /dev/zero and a pseudo-terminal, whose master side plays the kernel for VSS and fcopy.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "chardev-sock.h"
#include "vmbus-user.h"
#include "vmbus-user-internal.h"

#define FK_WAIT_MS 10000
#define REG_TIMEOUT_MS 5000
#define FK_MAX_DATAGRAM 65536

/* ------------------------------------------------------------------------------------------
 * Fake kernel
 * ------------------------------------------------------------------------------------------ */

typedef enum {
	STEP_ACCEPT,  /* accept the next connection (closing the previous one) */
	STEP_OPEN,    /* OPEN frame with .error */
	STEP_RECV,    /* receive one datagram from the daemon and keep it */
	STEP_WRITE,   /* WRITE frame with .error */
	STEP_MESSAGE, /* MESSAGE frame carrying .data */
	STEP_RAW,     /* .data as is, no frame header */
	STEP_CLOSE,   /* close the connection */
} StepKind;

typedef struct {
	StepKind kind;
	int error;
	const void *data;
	size_t len;
} Step;

#define S_ACCEPT                                                                                   \
	{                                                                                          \
		STEP_ACCEPT, 0, NULL, 0                                                            \
	}
#define S_OPEN(e)                                                                                  \
	{                                                                                          \
		STEP_OPEN, (e), NULL, 0                                                            \
	}
#define S_RECV                                                                                     \
	{                                                                                          \
		STEP_RECV, 0, NULL, 0                                                              \
	}
#define S_WRITE(e)                                                                                 \
	{                                                                                          \
		STEP_WRITE, (e), NULL, 0                                                           \
	}
#define S_MESSAGE(b)                                                                               \
	{                                                                                          \
		STEP_MESSAGE, 0, g_bytes_get_data((b), NULL), g_bytes_get_size(b)                  \
	}
#define S_RAW(p, n)                                                                                \
	{                                                                                          \
		STEP_RAW, 0, (p), (n)                                                              \
	}
#define S_CLOSE                                                                                    \
	{                                                                                          \
		STEP_CLOSE, 0, NULL, 0                                                             \
	}

typedef struct {
	char *dir;
	char *sock_path; /* file system path */
	char *dev_path;  /* "unix:" + sock_path */
	int listen_fd;
	int conn_fd;
	unsigned accepted;
	GPtrArray *received; /* GBytes, in arrival order */
	GThread *thread;
	const Step *steps;
	size_t n_steps;
	char *failure;
} FakeKernel;

static bool fd_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static bool send_frame(int fd, uint32_t kind, int32_t error, const void *data, size_t len)
{
	g_autofree uint8_t *buf = g_malloc(sizeof(struct vmu_sock_frame) + len);
	struct vmu_sock_frame hdr = {.kind = kind, .error = error};

	memcpy(buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(buf + sizeof(hdr), data, len);
	return send(fd, buf, sizeof(hdr) + len, MSG_NOSIGNAL) == (ssize_t)(sizeof(hdr) + len);
}

static GBytes *recv_datagram(int fd)
{
	g_autofree uint8_t *buf = g_malloc(FK_MAX_DATAGRAM);
	ssize_t n;

	if (!fd_wait(fd, FK_WAIT_MS))
		return NULL;
	n = recv(fd, buf, FK_MAX_DATAGRAM, MSG_DONTWAIT);
	if (n <= 0)
		return NULL;
	return g_bytes_new(buf, (size_t)n);
}

static void fk_close_conn(FakeKernel *fk)
{
	if (fk->conn_fd >= 0)
		close(fk->conn_fd);
	fk->conn_fd = -1;
}

static bool fk_accept(FakeKernel *fk)
{
	int fd;

	if (!fd_wait(fk->listen_fd, FK_WAIT_MS))
		return false;
	fd = accept4(fk->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return false;
	fk_close_conn(fk);
	fk->conn_fd = fd;
	fk->accepted++;
	return true;
}

static bool fk_recv(FakeKernel *fk)
{
	GBytes *b = recv_datagram(fk->conn_fd);

	if (!b)
		return false;
	g_ptr_array_add(fk->received, b);
	return true;
}

static bool fk_step(FakeKernel *fk, const Step *s)
{
	switch (s->kind) {
	case STEP_ACCEPT:
		return fk_accept(fk);
	case STEP_OPEN:
		return send_frame(fk->conn_fd, VMU_SOCK_OPEN, s->error, NULL, 0);
	case STEP_RECV:
		return fk_recv(fk);
	case STEP_WRITE:
		return send_frame(fk->conn_fd, VMU_SOCK_WRITE, s->error, NULL, 0);
	case STEP_MESSAGE:
		return send_frame(fk->conn_fd, VMU_SOCK_MESSAGE, 0, s->data, s->len);
	case STEP_RAW:
		return send(fk->conn_fd, s->data, s->len, MSG_NOSIGNAL) == (ssize_t)s->len;
	case STEP_CLOSE:
		fk_close_conn(fk);
		return true;
	}
	return false;
}

static gpointer fk_thread(gpointer data)
{
	FakeKernel *fk = data;

	for (size_t i = 0; i < fk->n_steps; i++)
		if (!fk_step(fk, &fk->steps[i])) {
			fk->failure = g_strdup_printf("fake kernel step %zu (kind %d) failed", i,
						      (int)fk->steps[i].kind);
			break;
		}
	return NULL;
}

static void fk_run(FakeKernel *fk, const Step *steps, size_t n)
{
	g_assert_null(fk->thread);
	fk->steps = steps;
	fk->n_steps = n;
	fk->thread = g_thread_new("fake-kernel", fk_thread, fk);
}

static void fk_join(FakeKernel *fk)
{
	g_thread_join(fk->thread);
	fk->thread = NULL;
	g_assert_cmpstr(fk->failure, ==, NULL);
}

static int listen_backlog(const char *path, int backlog)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, backlog), ==, 0);
	return fd;
}

static int listen_at(const char *path)
{
	return listen_backlog(path, 4);
}

/* A non-blocking client connection; -errno when connect() fails. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	g_assert_cmpint(fd, >=, 0);
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void fk_setup(FakeKernel *fk, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fk->dir = g_dir_make_tmp("test-chardev-XXXXXX", &error);
	g_assert_no_error(error);
	fk->sock_path = g_build_filename(fk->dir, "kernel.sock", NULL);
	fk->dev_path = g_strconcat("unix:", fk->sock_path, NULL);
	fk->listen_fd = listen_at(fk->sock_path);
	fk->conn_fd = -1;
	fk->received = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static void fk_teardown(FakeKernel *fk, gconstpointer data)
{
	g_assert_null(fk->thread);
	fk_close_conn(fk);
	if (fk->listen_fd >= 0)
		close(fk->listen_fd);
	g_unlink(fk->sock_path);
	g_rmdir(fk->dir);
	g_ptr_array_unref(fk->received);
	g_free(fk->failure);
	g_free(fk->dev_path);
	g_free(fk->sock_path);
	g_free(fk->dir);
}

/* Direct actions from the test thread while no script runs. */
static void fk_queue_message(FakeKernel *fk, const void *data, size_t len)
{
	g_assert_true(send_frame(fk->conn_fd, VMU_SOCK_MESSAGE, 0, data, len));
}

static void fk_queue_write(FakeKernel *fk, int32_t error)
{
	g_assert_true(send_frame(fk->conn_fd, VMU_SOCK_WRITE, error, NULL, 0));
}

static void fk_queue_frame(FakeKernel *fk, uint32_t kind, int32_t error, size_t payload)
{
	g_autofree uint8_t *zero = g_malloc0(payload + 1);

	g_assert_true(send_frame(fk->conn_fd, kind, error, zero, payload));
}

static void fk_queue_raw(FakeKernel *fk, const void *data, size_t len)
{
	g_assert_cmpint(send(fk->conn_fd, data, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static GBytes *fk_take(FakeKernel *fk)
{
	GBytes *b = recv_datagram(fk->conn_fd);

	g_assert_nonnull(b);
	return b;
}

static GBytes *fk_received(FakeKernel *fk, guint i)
{
	g_assert_cmpuint(fk->received->len, >, i);
	return g_ptr_array_index(fk->received, i);
}

/* ------------------------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------------------------ */

static GBytes *kvp_reply_full(uint8_t op, const char *version, size_t vlen)
{
	uint8_t *msg = g_malloc0(VMU_KVP_MSG_SIZE);

	msg[0] = op;
	memcpy(msg + 4, version, vlen);
	return g_bytes_new_take(msg, VMU_KVP_MSG_SIZE);
}

static GBytes *kvp_reply(const char *version)
{
	return kvp_reply_full(100, version, strlen(version));
}

static GBytes *u32_reply(uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return g_bytes_new(b, sizeof(b));
}

static GBytes *good_reply(enum vmu_service service)
{
	switch (service) {
	case VMU_SERVICE_KVP:
		return kvp_reply("3.1");
	case VMU_SERVICE_VSS:
		return u32_reply(129);
	case VMU_SERVICE_FCOPY:
		return u32_reply(1);
	case _VMU_SERVICE_MAX:
		break;
	}
	g_assert_not_reached();
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Asserts b is exactly the registration request of the service (docs/protocol.md §2.1). */
static void assert_register_request(enum vmu_service service, GBytes *b)
{
	size_t len;
	const uint8_t *p = g_bytes_get_data(b, &len);

	switch (service) {
	case VMU_SERVICE_KVP:
		g_assert_cmpuint(len, ==, 7432);
		g_assert_cmpuint(p[0], ==, 100);
		g_assert_true(all_zero(p + 1, len - 1));
		return;
	case VMU_SERVICE_VSS:
		g_assert_cmpuint(len, ==, 12);
		g_assert_cmpuint(p[0], ==, 129);
		g_assert_true(all_zero(p + 1, len - 1));
		return;
	case VMU_SERVICE_FCOPY:
		g_assert_cmpuint(len, ==, 4);
		g_assert_cmpmem(p, 4, "\1\0\0\0", 4);
		return;
	case _VMU_SERVICE_MAX:
		break;
	}
	g_assert_not_reached();
}

/* Opens fk's device and registers, the fake kernel answering with reply. */
static int open_register_with(FakeKernel *fk, enum vmu_service service, GBytes *reply,
			      bool reply_first, struct vmu_chardev **ret)
{
	Step steps[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(0), S_MESSAGE(reply)};
	Step first[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_MESSAGE(reply), S_WRITE(0)};
	struct vmu_chardev *dev = NULL;
	int r;

	fk_run(fk, reply_first ? first : steps, G_N_ELEMENTS(steps));
	g_assert_cmpint(vmu_chardev_open(service, fk->dev_path, &dev), ==, 0);
	g_assert_nonnull(dev);
	g_assert_null(vmu_chardev_kernel_version(dev));
	r = vmu_chardev_register(dev, REG_TIMEOUT_MS);
	fk_join(fk);
	assert_register_request(service, fk_received(fk, fk->received->len - 1));
	*ret = dev;
	return r;
}

static struct vmu_chardev *open_registered(FakeKernel *fk, enum vmu_service service)
{
	g_autoptr(GBytes) reply = good_reply(service);
	struct vmu_chardev *dev = NULL;

	g_assert_cmpint(open_register_with(fk, service, reply, false, &dev), ==, 0);
	return dev;
}

/* ------------------------------------------------------------------------------------------
 * Registration over the socket
 * ------------------------------------------------------------------------------------------ */

static void test_register_kvp(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_KVP);

	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "3.1");
	g_assert_cmpint(vmu_chardev_service(dev), ==, VMU_SERVICE_KVP);
	g_assert_cmpstr(vmu_chardev_path(dev), ==, fk->dev_path);
	g_assert_cmpint(vmu_chardev_fd(dev), >=, 0);
	g_assert_cmpint(fcntl(vmu_chardev_fd(dev), F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	g_assert_cmpint(fcntl(vmu_chardev_fd(dev), F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
	g_assert_false(vmu_chardev_has_pending(dev));
	g_assert_cmpuint(fk->accepted, ==, 1);
	g_assert_null(vmu_chardev_free(dev));
}

static void test_register_vss(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);

	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "129");
	g_assert_cmpint(vmu_chardev_service(dev), ==, VMU_SERVICE_VSS);
	vmu_chardev_free(dev);
}

static void test_register_fcopy(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_FCOPY);

	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "1");
	g_assert_cmpint(vmu_chardev_service(dev), ==, VMU_SERVICE_FCOPY);
	vmu_chardev_free(dev);
}

/* The reply may arrive before the WRITE frame that answers the registration write. */
static void test_register_reply_first(FakeKernel *fk, gconstpointer data)
{
	for (enum vmu_service s = 0; s < _VMU_SERVICE_MAX; s++) {
		g_autoptr(GBytes) reply = good_reply(s);
		struct vmu_chardev *dev = NULL;

		g_assert_cmpint(open_register_with(fk, s, reply, true, &dev), ==, 0);
		g_assert_nonnull(vmu_chardev_kernel_version(dev));
		g_assert_false(vmu_chardev_has_pending(dev));
		vmu_chardev_free(dev);
	}
	g_assert_cmpuint(fk->accepted, ==, 3);
}

/* The longest version the kernel's 512-byte field can hold. */
static void test_register_kvp_long_version(FakeKernel *fk, gconstpointer data)
{
	char version[512];
	g_autoptr(GBytes) reply = NULL;
	struct vmu_chardev *dev = NULL;

	memset(version, 'v', sizeof(version));
	reply = kvp_reply_full(100, version, 511);
	g_assert_cmpint(open_register_with(fk, VMU_SERVICE_KVP, reply, false, &dev), ==, 0);
	g_assert_cmpuint(strlen(vmu_chardev_kernel_version(dev)), ==, 511);
	vmu_chardev_free(dev);
}

static void assert_bad_reply(FakeKernel *fk, enum vmu_service s, GBytes *reply, bool first)
{
	struct vmu_chardev *dev = NULL;

	g_assert_cmpint(open_register_with(fk, s, reply, first, &dev), ==, -EPROTO);
	g_assert_null(vmu_chardev_kernel_version(dev));
	g_assert_true(vmu_chardev_error_needs_reopen(-EPROTO));
	vmu_chardev_free(dev);
}

static void test_register_bad_reply(FakeKernel *fk, gconstpointer data)
{
	char version[512];
	uint8_t twelve[12] = {129};
	g_autofree uint8_t *big = g_malloc0(16385);

	memset(version, 'v', sizeof(version));
	struct {
		enum vmu_service service;
		GBytes *reply;
	} cases[] = {
	    {VMU_SERVICE_VSS, u32_reply(128)},
	    {VMU_SERVICE_VSS, u32_reply(129 | 0x100)},
	    {VMU_SERVICE_VSS, g_bytes_new("\x81\0\0\0\0", 5)},
	    {VMU_SERVICE_VSS, g_bytes_new("\x81\0\0", 3)},
	    {VMU_SERVICE_VSS, g_bytes_new(twelve, sizeof(twelve))}, /* our request echoed */
	    {VMU_SERVICE_FCOPY, u32_reply(0)},
	    {VMU_SERVICE_FCOPY, u32_reply(129)},
	    {VMU_SERVICE_FCOPY, g_bytes_new("\1\0\0\0\0", 5)},
	    {VMU_SERVICE_KVP, kvp_reply_full(4, "3.1", 3)},     /* legacy op */
	    {VMU_SERVICE_KVP, kvp_reply_full(100, "", 0)},      /* empty version */
	    {VMU_SERVICE_KVP, kvp_reply_full(100, "3.1\n", 4)}, /* not printable */
	    {VMU_SERVICE_KVP, kvp_reply_full(100, "3\x80", 2)},
	    {VMU_SERVICE_KVP, kvp_reply_full(100, version, 512)}, /* no NUL in 512 bytes */
	    {VMU_SERVICE_KVP, g_bytes_new(big, 7431)},            /* short */
	    {VMU_SERVICE_KVP, g_bytes_new(big, 7433)},            /* long */
	    {VMU_SERVICE_KVP, g_bytes_new(big, 9000)},            /* longer than any reply */
	    {VMU_SERVICE_KVP, u32_reply(100)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu", i);
		assert_bad_reply(fk, cases[i].service, cases[i].reply, false);
		assert_bad_reply(fk, cases[i].service, cases[i].reply, true);
		g_bytes_unref(cases[i].reply);
	}
	/* A message too big to stash while waiting for the WRITE frame. */
	big[0] = 100;
	g_autoptr(GBytes) huge = g_bytes_new(big, 16385);
	assert_bad_reply(fk, VMU_SERVICE_KVP, huge, true);
}

static void test_register_refused(FakeKernel *fk, gconstpointer data)
{
	Step steps[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(EINVAL)};
	struct vmu_chardev *dev = NULL;

	fk_run(fk, steps, G_N_ELEMENTS(steps));
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_VSS, fk->dev_path, &dev), ==, 0);
	g_assert_cmpint(vmu_chardev_register(dev, REG_TIMEOUT_MS), ==, -EINVAL);
	fk_join(fk);
	g_assert_null(vmu_chardev_kernel_version(dev));
	vmu_chardev_free(dev);
}

static void test_register_timeout(FakeKernel *fk, gconstpointer data)
{
	Step steps[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(0), S_RECV, S_WRITE(0)};
	struct vmu_chardev *dev = NULL;

	fk_run(fk, steps, G_N_ELEMENTS(steps));
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, fk->dev_path, &dev), ==, 0);
	g_assert_cmpint(vmu_chardev_register(dev, 0), ==, -ETIMEDOUT);
	g_assert_cmpint(vmu_chardev_register(dev, 20), ==, -ETIMEDOUT);
	fk_join(fk);
	g_assert_null(vmu_chardev_kernel_version(dev));
	g_assert_cmpint(vmu_chardev_register(dev, -1), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_register(NULL, 0), ==, -EINVAL);
	assert_register_request(VMU_SERVICE_KVP, fk_received(fk, 0));
	assert_register_request(VMU_SERVICE_KVP, fk_received(fk, 1));
	vmu_chardev_free(dev);
}

/* ------------------------------------------------------------------------------------------
 * Open over the socket
 * ------------------------------------------------------------------------------------------ */

static int open_with(FakeKernel *fk, const Step *steps, size_t n)
{
	struct vmu_chardev *sentinel = (struct vmu_chardev *)fk;
	struct vmu_chardev *dev = sentinel;
	int r;

	fk_run(fk, steps, n);
	r = vmu_chardev_open(VMU_SERVICE_KVP, fk->dev_path, &dev);
	fk_join(fk);
	if (r < 0)
		g_assert_true(dev == sentinel); /* untouched on failure */
	else
		vmu_chardev_free(dev);
	return r;
}

static void test_open_refused(FakeKernel *fk, gconstpointer data)
{
	Step busy[] = {S_ACCEPT, S_OPEN(EBUSY)};
	Step gone[] = {S_ACCEPT, S_OPEN(EBADF)};
	Step ok[] = {S_ACCEPT, S_OPEN(0)};

	g_assert_cmpint(open_with(fk, busy, G_N_ELEMENTS(busy)), ==, -EBUSY);
	g_assert_cmpint(open_with(fk, gone, G_N_ELEMENTS(gone)), ==, -EBADF);
	g_assert_cmpint(open_with(fk, ok, G_N_ELEMENTS(ok)), ==, 0);
}

static void test_open_bad_frame(FakeKernel *fk, gconstpointer data)
{
	static const uint8_t open_long[9] = {VMU_SOCK_OPEN};
	static const uint8_t open_short[7] = {VMU_SOCK_OPEN};
	static const uint8_t open_neg[8] = {VMU_SOCK_OPEN, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t open_big[8] = {VMU_SOCK_OPEN, 0, 0, 0, 0x00, 0x10, 0, 0}; /* 4096 */
	static const uint8_t kind_99[8] = {99};
	Step write_first[] = {S_ACCEPT, S_WRITE(0)};
	Step closed[] = {S_ACCEPT, S_CLOSE};
	Step s_long[] = {S_ACCEPT, S_RAW(open_long, sizeof(open_long))};
	Step s_short[] = {S_ACCEPT, S_RAW(open_short, sizeof(open_short))};
	Step s_neg[] = {S_ACCEPT, S_RAW(open_neg, sizeof(open_neg))};
	Step s_big[] = {S_ACCEPT, S_RAW(open_big, sizeof(open_big))};
	Step s_99[] = {S_ACCEPT, S_RAW(kind_99, sizeof(kind_99))};

	g_assert_cmpint(open_with(fk, write_first, G_N_ELEMENTS(write_first)), ==, -EPROTO);
	g_assert_cmpint(open_with(fk, closed, G_N_ELEMENTS(closed)), ==, -EBADF);
	g_assert_cmpint(open_with(fk, s_long, G_N_ELEMENTS(s_long)), ==, -EPROTO);
	g_assert_cmpint(open_with(fk, s_short, G_N_ELEMENTS(s_short)), ==, -EPROTO);
	g_assert_cmpint(open_with(fk, s_neg, G_N_ELEMENTS(s_neg)), ==, -EPROTO);
	g_assert_cmpint(open_with(fk, s_big, G_N_ELEMENTS(s_big)), ==, -EPROTO);
	g_assert_cmpint(open_with(fk, s_99, G_N_ELEMENTS(s_99)), ==, -EPROTO);
}

/* Missing socket and stale socket file (no listener) are both "no such device". */
static void test_open_missing(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = NULL;
	g_autofree char *missing = g_strconcat(fk->dev_path, ".missing", NULL);

	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, missing, &dev), ==, -ENOENT);
	close(fk->listen_fd);
	fk->listen_fd = -1;
	g_assert_true(g_file_test(fk->sock_path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, fk->dev_path, &dev), ==, -ENOENT);
	g_assert_null(dev);
}

/* A kernel that does not accept: connect() must not block. */
static void test_open_backlog_full(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = NULL;
	int clients[16], n = 0, r = 0;

	close(fk->listen_fd);
	g_unlink(fk->sock_path);
	fk->listen_fd = listen_backlog(fk->sock_path, 0);
	while (n < (int)G_N_ELEMENTS(clients) && (r = connect_to(fk->sock_path)) >= 0)
		clients[n++] = r;
	g_assert_cmpint(r, ==, -EAGAIN);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, fk->dev_path, &dev), ==, -EAGAIN);
	g_assert_null(dev);
	while (n > 0)
		close(clients[--n]);
}

static void test_open_invalid(void)
{
	struct vmu_chardev *dev = NULL;
	char sock[256], longdev[PATH_MAX + 1];
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1; /* 107 */

	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "/dev/null", NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open(_VMU_SERVICE_MAX, "/dev/null", &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open((enum vmu_service) - 1, "/dev/null", &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "", &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "unix:", &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "unix:relative/x", &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "unix:x", &dev), ==, -EINVAL);

	/* sun_path holds 107 characters and the NUL. */
	strcpy(sock, "unix:/");
	memset(sock + 6, 'a', max - 1);
	sock[5 + max] = '\0';
	g_assert_cmpuint(strlen(sock + 5), ==, max);
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, sock, &dev), ==, -ENOENT);
	strcat(sock, "a");
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, sock, &dev), ==, -ENAMETOOLONG);

	/* Device paths are bounded by PATH_MAX (including the NUL). */
	longdev[0] = '/';
	memset(longdev + 1, 'a', PATH_MAX - 1);
	longdev[PATH_MAX] = '\0';
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, longdev, &dev), ==, -ENAMETOOLONG);
	longdev[PATH_MAX - 1] = '\0';
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, longdev, &dev), ==, -ENAMETOOLONG);
	g_assert_null(dev);
}

static void test_null_args(void)
{
	uint8_t buf[4] = {0};

	g_assert_null(vmu_chardev_free(NULL));
	g_assert_cmpint(vmu_chardev_recv(NULL, buf, sizeof(buf)), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_send(NULL, buf, sizeof(buf)), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_reopen(NULL, 0), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_fd(NULL), ==, -EINVAL);
	g_assert_null(vmu_chardev_kernel_version(NULL));
	g_assert_null(vmu_chardev_path(NULL));
	g_assert_cmpint(vmu_chardev_service(NULL), ==, _VMU_SERVICE_MAX);
	g_assert_false(vmu_chardev_has_pending(NULL));
}

static void test_needs_reopen(void)
{
	const int yes[] = {-EINVAL, -EBADF, -EIO, -EPIPE, -ECONNRESET, -ENODEV, -EPROTO};
	const int no[] = {0,       1,       -EAGAIN, -EINTR, -ETIMEDOUT,   -EBUSY,
			  -ENOENT, -ENOMEM, EINVAL,  EBADF,  -ENAMETOOLONG};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
		g_assert_true(vmu_chardev_error_needs_reopen(yes[i]));
	for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
		g_assert_false(vmu_chardev_error_needs_reopen(no[i]));
}

/* ------------------------------------------------------------------------------------------
 * Messages over the socket
 * ------------------------------------------------------------------------------------------ */

static void test_recv(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	const uint8_t msg[12] = {5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	uint8_t buf[64];

	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EAGAIN);
	fk_queue_message(fk, msg, sizeof(msg));
	g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
	/* One byte short, then none: -EINVAL and the message stays queued. */
	memset(buf, 0xee, sizeof(buf));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(msg) - 1), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_recv(dev, buf, 0), ==, -EINVAL);
	g_assert_cmpuint(buf[0], ==, 0xee);
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(msg)), ==, sizeof(msg));
	g_assert_cmpmem(buf, sizeof(msg), msg, sizeof(msg));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EAGAIN);

	/* One message per recv, in order, the largest one the transport handles. */
	g_autofree uint8_t *big = g_malloc(65536);
	for (size_t i = 0; i < 65536; i++)
		big[i] = (uint8_t)(i * 7);
	fk_queue_message(fk, msg, 1);
	fk_queue_message(fk, big, 65536 - 8);
	g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, 1);
	g_assert_cmpuint(buf[0], ==, msg[0]);
	g_autofree uint8_t *in = g_malloc(65536);
	g_assert_cmpint(vmu_chardev_recv(dev, in, 65536), ==, 65536 - 8);
	g_assert_cmpmem(in, 65536 - 8, big, 65536 - 8);
	g_assert_cmpint(vmu_chardev_recv(dev, NULL, 1), ==, -EINVAL);

	/* A buffer of the service's largest message is filled directly; a longer message
	 * (a kernel breaking the protocol) is still -EINVAL and still read whole afterwards. */
	size_t max = vmu_service_max_message(VMU_SERVICE_VSS);
	g_autofree uint8_t *full = g_malloc(max);
	fk_queue_message(fk, big, max);
	fk_queue_message(fk, big + 1, max + 100);
	g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
	g_assert_cmpint(vmu_chardev_recv(dev, full, max), ==, (ssize_t)max);
	g_assert_cmpmem(full, max, big, max);
	g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
	g_assert_cmpint(vmu_chardev_recv(dev, full, max), ==, -EINVAL);
	g_assert_true(vmu_chardev_has_pending(dev));
	g_assert_cmpint(vmu_chardev_recv(dev, in, 65536), ==, (ssize_t)max + 100);
	g_assert_cmpmem(in, max + 100, big + 1, max + 100);
	g_assert_cmpint(vmu_chardev_recv(dev, full, max), ==, -EAGAIN);
	vmu_chardev_free(dev);
}

static void test_recv_bad_frames(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_FCOPY);
	const uint8_t msg[4] = {9, 8, 7, 6}, shortdg[7] = {VMU_SOCK_MESSAGE};
	uint8_t buf[64];

	fk_queue_frame(fk, VMU_SOCK_WRITE, 0, 0);   /* no write outstanding */
	fk_queue_frame(fk, VMU_SOCK_OPEN, 0, 0);    /* only once, first */
	fk_queue_frame(fk, 99, 0, 4);               /* unknown kind */
	fk_queue_frame(fk, VMU_SOCK_MESSAGE, 0, 0); /* empty message */
	fk_queue_raw(fk, shortdg, sizeof(shortdg)); /* shorter than a frame header */
	fk_queue_message(fk, msg, sizeof(msg));
	for (int i = 0; i < 5; i++) {
		g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
		g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EPROTO);
	}
	/* Each bad datagram was consumed: the good one behind them is intact. */
	g_assert_true(fd_wait(vmu_chardev_fd(dev), FK_WAIT_MS));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, sizeof(msg));
	g_assert_cmpmem(buf, sizeof(msg), msg, sizeof(msg));
	vmu_chardev_free(dev);
}

static void test_send(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	const uint8_t reply[12] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	g_autoptr(GBytes) seen = NULL;
	g_autoptr(GBytes) seen2 = NULL;

	fk_queue_write(fk, 0);
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, 0);
	seen = fk_take(fk);
	g_assert_cmpmem(g_bytes_get_data(seen, NULL), g_bytes_get_size(seen), reply, sizeof(reply));

	fk_queue_write(fk, EINVAL);
	g_assert_cmpint(vmu_chardev_send(dev, reply, 5), ==, -EINVAL);
	g_assert_true(vmu_chardev_error_needs_reopen(-EINVAL));
	seen2 = fk_take(fk);
	g_assert_cmpuint(g_bytes_get_size(seen2), ==, 5);

	fk_queue_write(fk, 4095);
	g_assert_cmpint(vmu_chardev_send(dev, reply, 1), ==, -4095);
	fk_queue_write(fk, 4096);
	g_assert_cmpint(vmu_chardev_send(dev, reply, 1), ==, -EPROTO);
	fk_queue_write(fk, -1);
	g_assert_cmpint(vmu_chardev_send(dev, reply, 1), ==, -EPROTO);
	fk_queue_frame(fk, VMU_SOCK_WRITE, 0, 1); /* a WRITE frame carries nothing */
	g_assert_cmpint(vmu_chardev_send(dev, reply, 1), ==, -EPROTO);
	fk_queue_frame(fk, VMU_SOCK_OPEN, 0, 0);
	g_assert_cmpint(vmu_chardev_send(dev, reply, 1), ==, -EPROTO);

	g_assert_cmpint(vmu_chardev_send(dev, reply, 0), ==, -EINVAL);
	g_assert_cmpint(vmu_chardev_send(dev, NULL, 1), ==, -EINVAL);
	vmu_chardev_free(dev);
}

static void test_stash(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	const uint8_t reply[12] = {0}, req[12] = {5, 0xaa};
	uint8_t buf[12];

	fk_queue_message(fk, req, sizeof(req));
	fk_queue_write(fk, 0);
	g_assert_false(vmu_chardev_has_pending(dev));
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, 0);
	g_assert_true(vmu_chardev_has_pending(dev));
	g_assert_false(fd_wait(vmu_chardev_fd(dev), 0)); /* nothing left on the fd */
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf) - 1), ==, -EINVAL);
	g_assert_true(vmu_chardev_has_pending(dev));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, sizeof(req));
	g_assert_cmpmem(buf, sizeof(buf), req, sizeof(req));
	g_assert_false(vmu_chardev_has_pending(dev));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EAGAIN);

	vmu_chardev_free(dev);
}

/* Queue depth 1: a second message while one is stashed is a protocol error. */
static void test_stash_overflow(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	const uint8_t reply[12] = {0}, req[12] = {5, 0xaa};

	fk_queue_message(fk, req, sizeof(req));
	fk_queue_message(fk, req, sizeof(req));
	fk_queue_write(fk, 0);
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, -EPROTO);
	g_assert_true(vmu_chardev_has_pending(dev));
	vmu_chardev_free(dev);
}

/* The same across two sends: the first message was never collected. */
static void test_stash_overflow_two_sends(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	const uint8_t reply[12] = {0}, req[12] = {5, 0xaa};

	fk_queue_message(fk, req, sizeof(req));
	fk_queue_write(fk, 0);
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, 0);
	g_assert_true(vmu_chardev_has_pending(dev));
	fk_queue_message(fk, req, sizeof(req));
	fk_queue_write(fk, 0);
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, -EPROTO);
	vmu_chardev_free(dev);
}

static void test_peer_closed(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_KVP);
	const uint8_t msg[3] = {1, 2, 3};
	uint8_t buf[8];

	/* What was queued before the close is still delivered. */
	fk_queue_message(fk, msg, sizeof(msg));
	fk_close_conn(fk);
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, sizeof(msg));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EBADF);
	g_assert_cmpint(vmu_chardev_send(dev, msg, sizeof(msg)), ==, -EBADF);
	g_assert_cmpint(vmu_chardev_register(dev, REG_TIMEOUT_MS), ==, -EBADF);
	g_assert_true(vmu_chardev_error_needs_reopen(-EBADF));
	vmu_chardev_free(dev);
}

/* The kernel closes while the daemon waits for the WRITE frame. */
static void test_peer_closed_during_send(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_FCOPY);
	Step steps[] = {S_RECV, S_CLOSE};
	const uint8_t reply[4] = {0};

	fk_run(fk, steps, G_N_ELEMENTS(steps));
	g_assert_cmpint(vmu_chardev_send(dev, reply, sizeof(reply)), ==, -EBADF);
	fk_join(fk);
	vmu_chardev_free(dev);
}

static void test_reopen(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_KVP);
	g_autoptr(GBytes) reply = kvp_reply("4.0");
	Step steps[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(0), S_MESSAGE(reply)};
	const uint8_t msg[4] = {1};
	g_autofree char *path = g_strdup(vmu_chardev_path(dev));

	/* A refused reply with a message stashed meanwhile. */
	fk_queue_message(fk, msg, sizeof(msg));
	fk_queue_write(fk, EINVAL);
	g_assert_cmpint(vmu_chardev_send(dev, msg, sizeof(msg)), ==, -EINVAL);
	g_assert_true(vmu_chardev_has_pending(dev));

	fk_run(fk, steps, G_N_ELEMENTS(steps));
	g_assert_cmpint(vmu_chardev_reopen(dev, REG_TIMEOUT_MS), ==, 0);
	fk_join(fk);
	g_assert_cmpuint(fk->accepted, ==, 2);
	g_assert_cmpuint(fk->received->len, ==, 2);
	assert_register_request(VMU_SERVICE_KVP, fk_received(fk, 1));
	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "4.0");
	g_assert_cmpstr(vmu_chardev_path(dev), ==, path);
	g_assert_cmpint(vmu_chardev_service(dev), ==, VMU_SERVICE_KVP);
	g_assert_false(vmu_chardev_has_pending(dev)); /* the stash died with the old fd */
	g_assert_cmpint(vmu_chardev_fd(dev), >=, 0);
	vmu_chardev_free(dev);
}

/* A failed reopen leaves a valid, closed object that can be reopened later. */
static void test_reopen_failure(FakeKernel *fk, gconstpointer data)
{
	struct vmu_chardev *dev = open_registered(fk, VMU_SERVICE_VSS);
	Step busy[] = {S_ACCEPT, S_OPEN(EBUSY)};
	Step bad[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(0), S_RAW("x", 1)};
	g_autoptr(GBytes) good = u32_reply(129);
	Step ok[] = {S_ACCEPT, S_OPEN(0), S_RECV, S_WRITE(0), S_MESSAGE(good)};
	uint8_t buf[16] = {0};

	fk_run(fk, busy, G_N_ELEMENTS(busy));
	g_assert_cmpint(vmu_chardev_reopen(dev, REG_TIMEOUT_MS), ==, -EBUSY);
	fk_join(fk);
	g_assert_cmpint(vmu_chardev_fd(dev), ==, -EBADF);
	g_assert_null(vmu_chardev_kernel_version(dev));
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EBADF);
	g_assert_cmpint(vmu_chardev_send(dev, buf, sizeof(buf)), ==, -EBADF);
	g_assert_cmpint(vmu_chardev_register(dev, 0), ==, -EBADF);
	g_assert_false(vmu_chardev_has_pending(dev));

	/* Registration fails: closed again. */
	fk_run(fk, bad, G_N_ELEMENTS(bad));
	g_assert_cmpint(vmu_chardev_reopen(dev, REG_TIMEOUT_MS), ==, -EPROTO);
	fk_join(fk);
	g_assert_cmpint(vmu_chardev_fd(dev), ==, -EBADF);

	/* The kernel is gone altogether. */
	close(fk->listen_fd);
	g_assert_cmpint(g_unlink(fk->sock_path), ==, 0);
	fk->listen_fd = -1;
	g_assert_cmpint(vmu_chardev_reopen(dev, REG_TIMEOUT_MS), ==, -ENOENT);
	g_assert_cmpint(vmu_chardev_fd(dev), ==, -EBADF);

	fk->listen_fd = listen_at(fk->sock_path);
	fk_run(fk, ok, G_N_ELEMENTS(ok));
	g_assert_cmpint(vmu_chardev_reopen(dev, REG_TIMEOUT_MS), ==, 0);
	fk_join(fk);
	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "129");
	g_assert_cmpint(vmu_chardev_service(dev), ==, VMU_SERVICE_VSS);
	g_assert_cmpstr(vmu_chardev_path(dev), ==, fk->dev_path);
	g_assert_cmpint(vmu_chardev_reopen(dev, -1), ==, -EINVAL);
	vmu_chardev_free(dev);
}

/* ------------------------------------------------------------------------------------------
 * Real device path
 * ------------------------------------------------------------------------------------------ */

static void test_device_missing(FakeKernel *fk, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fk->dir, "hv_kvp", NULL);
	struct vmu_chardev *dev = NULL;
	const char *def = vmu_service_default_device(VMU_SERVICE_KVP);

	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, path, &dev), ==, -ENOENT);
	g_assert_null(dev);
	if (def && !g_file_test(def, G_FILE_TEST_EXISTS))
		g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, NULL, &dev), ==, -ENOENT);
	g_assert_null(dev);
}

/* Registration refuses anything that is not a character device, without writing to it. */
static void test_device_not_chardev(FakeKernel *fk, gconstpointer data)
{
	g_autofree char *file = g_build_filename(fk->dir, "regular", NULL);
	g_autofree char *fifo = g_build_filename(fk->dir, "fifo", NULL);
	struct vmu_chardev *dev = NULL;
	GStatBuf st;

	g_assert_true(g_file_set_contents(file, "", 0, NULL));
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	for (enum vmu_service s = 0; s < _VMU_SERVICE_MAX; s++) {
		g_assert_cmpint(vmu_chardev_open(s, file, &dev), ==, 0);
		g_assert_cmpint(vmu_chardev_register(dev, 0), ==, -ENODEV);
		g_assert_null(vmu_chardev_kernel_version(dev));
		dev = vmu_chardev_free(dev);
		g_assert_cmpint(g_stat(file, &st), ==, 0);
		g_assert_cmpint(st.st_size, ==, 0);

		g_assert_cmpint(vmu_chardev_open(s, fifo, &dev), ==, 0);
		g_assert_cmpint(vmu_chardev_register(dev, 0), ==, -ENODEV);
		dev = vmu_chardev_free(dev);
	}
	g_unlink(file);
	g_unlink(fifo);
}

/* /dev/null reads EOF (a short read), /dev/zero reads zeros (a wrong reply). */
static void test_device_null_zero(void)
{
	struct vmu_chardev *dev = NULL;
	uint8_t buf[16];

	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_KVP, "/dev/null", &dev), ==, 0);
	g_assert_cmpstr(vmu_chardev_path(dev), ==, "/dev/null");
	g_assert_cmpint(fcntl(vmu_chardev_fd(dev), F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	g_assert_cmpint(fcntl(vmu_chardev_fd(dev), F_GETFL) & O_ACCMODE, ==, O_RDWR);
	g_assert_cmpint(vmu_chardev_register(dev, REG_TIMEOUT_MS), ==, -EIO);
	g_assert_cmpint(vmu_chardev_send(dev, buf, sizeof(buf)), ==, 0);
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EIO);
	dev = vmu_chardev_free(dev);

	for (enum vmu_service s = 0; s < _VMU_SERVICE_MAX; s++) {
		g_assert_cmpint(vmu_chardev_open(s, "/dev/zero", &dev), ==, 0);
		g_assert_cmpint(vmu_chardev_register(dev, REG_TIMEOUT_MS), ==, -EPROTO);
		memset(buf, 0xff, sizeof(buf));
		g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, sizeof(buf));
		g_assert_cmpuint(buf[15], ==, 0);
		g_assert_false(vmu_chardev_has_pending(dev));
		dev = vmu_chardev_free(dev);
	}
}

typedef struct {
	int master;
	size_t expect; /* bytes the daemon writes */
	GBytes *reply; /* written back, or NULL */
	uint8_t got[64];
	bool ok;
} PtyKernel;

static gpointer pty_kernel_thread(gpointer data)
{
	PtyKernel *k = data;
	size_t have = 0;

	while (have < k->expect) {
		ssize_t n;

		if (!fd_wait(k->master, FK_WAIT_MS))
			return NULL;
		n = read(k->master, k->got + have, k->expect - have);
		if (n <= 0)
			return NULL;
		have += (size_t)n;
	}
	if (k->reply) {
		size_t len;
		const void *p = g_bytes_get_data(k->reply, &len);

		if (write(k->master, p, len) != (ssize_t)len)
			return NULL;
	}
	k->ok = true;
	return NULL;
}

/* A pseudo-terminal in raw mode is a character device whose other end the test controls.
 * -1 when the system has none to give (a chroot or container without /dev/pts). */
static int pty_open(char **ret_slave, int *ret_slave_fd)
{
	struct termios tio;
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	int slave;

	if (master < 0)
		return -1;
	g_assert_cmpint(grantpt(master), ==, 0);
	g_assert_cmpint(unlockpt(master), ==, 0);
	*ret_slave = g_strdup(ptsname(master));
	slave = open(*ret_slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(slave, >=, 0);
	g_assert_cmpint(tcgetattr(slave, &tio), ==, 0);
	cfmakeraw(&tio);
	g_assert_cmpint(tcsetattr(slave, TCSANOW, &tio), ==, 0);
	/* Kept open so that the settings outlive the library's close of its own fd. */
	*ret_slave_fd = slave;
	return master;
}

static void test_device_pty(void)
{
	g_autofree char *slave = NULL;
	struct vmu_chardev *dev = NULL;
	PtyKernel k = {.expect = 12, .reply = u32_reply(129)};
	GThread *t;
	uint8_t buf[16];
	int slave_fd;

	k.master = pty_open(&slave, &slave_fd);
	if (k.master < 0) {
		g_test_skip("no pseudo-terminal (no /dev/pts: a chroot?)");
		return;
	}
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_VSS, slave, &dev), ==, 0);
	g_assert_cmpint(vmu_chardev_recv(dev, buf, sizeof(buf)), ==, -EAGAIN);
	t = g_thread_new("pty-kernel", pty_kernel_thread, &k);
	g_assert_cmpint(vmu_chardev_register(dev, REG_TIMEOUT_MS), ==, 0);
	g_thread_join(t);
	g_assert_true(k.ok);
	g_assert_cmpuint(k.got[0], ==, 129);
	g_assert_cmpstr(vmu_chardev_kernel_version(dev), ==, "129");
	g_bytes_unref(k.reply);
	dev = vmu_chardev_free(dev);

	/* fcopy: the request goes out, no reply comes: -ETIMEDOUT, not a hang. */
	k = (PtyKernel){.master = k.master, .expect = 4};
	g_assert_cmpint(vmu_chardev_open(VMU_SERVICE_FCOPY, slave, &dev), ==, 0);
	t = g_thread_new("pty-kernel", pty_kernel_thread, &k);
	g_assert_cmpint(vmu_chardev_register(dev, 10), ==, -ETIMEDOUT);
	g_thread_join(t);
	g_assert_true(k.ok);
	g_assert_cmpmem(k.got, 4, "\1\0\0\0", 4);
	g_assert_null(vmu_chardev_kernel_version(dev));
	vmu_chardev_free(dev);
	close(slave_fd);
	close(k.master);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD_FK(name, fn) g_test_add("/chardev/" name, FakeKernel, NULL, fk_setup, fn, fk_teardown)
	ADD_FK("register/kvp", test_register_kvp);
	ADD_FK("register/vss", test_register_vss);
	ADD_FK("register/fcopy", test_register_fcopy);
	ADD_FK("register/reply-before-write", test_register_reply_first);
	ADD_FK("register/kvp-long-version", test_register_kvp_long_version);
	ADD_FK("register/bad-reply", test_register_bad_reply);
	ADD_FK("register/refused", test_register_refused);
	ADD_FK("register/timeout", test_register_timeout);
	ADD_FK("open/refused", test_open_refused);
	ADD_FK("open/bad-frame", test_open_bad_frame);
	ADD_FK("open/missing", test_open_missing);
	ADD_FK("open/backlog-full", test_open_backlog_full);
	g_test_add_func("/chardev/open/invalid", test_open_invalid);
	g_test_add_func("/chardev/null-args", test_null_args);
	g_test_add_func("/chardev/needs-reopen", test_needs_reopen);
	ADD_FK("recv", test_recv);
	ADD_FK("recv/bad-frames", test_recv_bad_frames);
	ADD_FK("send", test_send);
	ADD_FK("send/stash", test_stash);
	ADD_FK("send/stash-overflow", test_stash_overflow);
	ADD_FK("send/stash-overflow-two-sends", test_stash_overflow_two_sends);
	ADD_FK("peer-closed", test_peer_closed);
	ADD_FK("peer-closed/during-send", test_peer_closed_during_send);
	ADD_FK("reopen", test_reopen);
	ADD_FK("reopen/failure", test_reopen_failure);
	ADD_FK("device/missing", test_device_missing);
	ADD_FK("device/not-chardev", test_device_not_chardev);
	g_test_add_func("/chardev/device/null-zero", test_device_null_zero);
	g_test_add_func("/chardev/device/pty", test_device_pty);
	return g_test_run();
}
