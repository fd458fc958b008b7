/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the daemons' REAL device code, not the simulator's socket branches. Every
 * daemon is started with tests/shim/hvshim.so preloaded (LD_PRELOAD, for the daemon only),
 * which makes the simulated host's sockets in a test directory look like device nodes (see
 * hvshim.c): the config names a plain path (device=<dir>/dev/vmbus/hv_kvp, no "unix:"), and
 * the library takes its char-device branch (open, fstat S_ISCHR, whole-message read and
 * write, poll) or its UIO branch (stat S_ISCHR, open, mmap of map0, 4-byte read to
 * acknowledge, 4-byte write to signal, EIO on rescind).
 *
 * What proves that the device branches ran: the shim's log ($HVGUEST_SHIM_LOG) names every
 * fstat, read, write and mmap it served, and the socket branches never make those calls
 * (they use send/recv/recvmsg on a socket the shim does not know); the daemon's own log
 * says what it did (registered, reopened, the host disabled the service).
 *
 * Cases: hv-kvpd SET/GET/ENUMERATE over the char device, a kernel timeout whose late reply
 * the kernel refuses (write() fails with EINVAL) and the reopen that follows, a second
 * daemon refused with EBUSY by open(), the kernel module going away (poll() POLLERR|POLLHUP,
 * the node gone) and coming back; hv-fcopyd over the char device (a copy checked by
 * SHA-256, hibernation's fake CANCEL and the reopen) and over UIO (a copy checked by
 * SHA-256; the host disables the service: read() fails with EIO, the daemon releases the
 * device and waits; re-enabled, it maps the new rings and copies again); hv-vssd over the
 * char device with HOT_BACKUP and THAW only (nothing is frozen).
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	enum vmu_service service;
	char *dev_dir; /* HVGUEST_SHIM_DIR */
	char *node;    /* dev_dir/vmbus/hv_<service> */
	char *sysfs, *dest;
	char *shim_log;
};

static const enum vmu_service kvp = VMU_SERVICE_KVP, vss = VMU_SERVICE_VSS,
			      fcopy = VMU_SERVICE_FCOPY;

static const char *node_name(enum vmu_service s)
{
	switch (s) {
	case VMU_SERVICE_KVP:
		return "hv_kvp";
	case VMU_SERVICE_VSS:
		return "hv_vss";
	case VMU_SERVICE_FCOPY:
		return "hv_fcopy";
	case _VMU_SERVICE_MAX:
		break;
	}
	g_assert_not_reached();
}

/* The config: the device is a plain path (the shim's), never "unix:". */
static void write_config(struct fixture *f, const char *transport)
{
	g_autofree char *extra = NULL;

	if (f->service == VMU_SERVICE_FCOPY)
		extra = g_strdup_printf("transport=%s\nsysfs-root=%s\nuio-dev-dir=%s\n"
					"file-owner=%u\nfile-group=%u\n",
					transport, f->sysfs, f->dev_dir, (unsigned)getuid(),
					(unsigned)getgid());
	else if (f->service == VMU_SERVICE_VSS)
		/* an empty scope: nothing can be frozen, whatever the host asks */
		extra = g_strdup_printf("scope=%s/empty-scope\n", f->env->dir);
	test_env_write_config(f->env, extra);
	/* test_env_write_config() wrote device=unix:...; the device is the node instead */
	g_autofree char *text = NULL;
	g_autofree char *unix_device = g_strdup_printf("device=%s\n", f->env->device);
	g_autofree char *node_device = g_strdup_printf("device=%s\n", f->node);
	g_assert_true(g_file_get_contents(f->env->config_path, &text, NULL, NULL));
	g_autoptr(GString) s = g_string_new(text);
	g_assert_cmpuint(g_string_replace(s, unix_device, node_device, 1), ==, 1);
	g_assert_true(g_file_set_contents(f->env->config_path, s->str, -1, NULL));
}

static void setup(struct fixture *f, gconstpointer data)
{
	g_autofree char *vmbus = NULL;
	g_autofree char *scope = NULL;

	f->service = *(const enum vmu_service *)data;
	f->env = test_env_new(f->service, NULL);
	f->dev_dir = g_build_filename(f->env->dir, "dev", NULL);
	vmbus = g_build_filename(f->dev_dir, "vmbus", NULL);
	g_assert_cmpint(g_mkdir_with_parents(vmbus, 0755), ==, 0);
	f->node = g_build_filename(vmbus, node_name(f->service), NULL);
	f->sysfs = g_build_filename(f->env->dir, "sys", NULL);
	f->dest = g_build_filename(f->env->dir, "dest", NULL);
	g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
	scope = g_build_filename(f->env->dir, "empty-scope", NULL);
	g_assert_cmpint(g_mkdir(scope, 0755), ==, 0);
	f->shim_log = g_build_filename(f->env->dir, "shim.log", NULL);
	write_config(f, "chardev");
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	/* a clean exit: the device is closed as on a real system (and coverage data is
	 * written, for gcov builds) */
	if (f->daemon && f->daemon->pid > 0 && !g_test_failed())
		g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 5000), ==, 0);
	if (f->daemon && g_test_failed()) {
		g_autofree char *log = test_daemon_log(f->daemon);
		g_autofree char *shim = NULL;

		g_file_get_contents(f->shim_log, &shim, NULL, NULL);
		g_test_message("daemon log:\n%s\nshim log:\n%s", log, shim ? shim : "");
	}
	test_daemon_free(f->daemon);
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->dev_dir);
	g_free(f->node);
	g_free(f->sysfs);
	g_free(f->dest);
	g_free(f->shim_log);
}

/* Starts program with the shim preloaded; the environment is the daemon's only. */
static struct test_daemon *start_shimmed(struct fixture *f, const char *program)
{
	g_autofree char *shim = test_build_path("tests/shim/.libs/hvshim.so");
	struct test_daemon *d;

	g_assert_true(g_file_test(shim, G_FILE_TEST_EXISTS));
	g_assert_true(g_setenv("LD_PRELOAD", shim, TRUE));
	g_assert_true(g_setenv("HVGUEST_SHIM_DIR", f->dev_dir, TRUE));
	g_assert_true(g_setenv("HVGUEST_SHIM_LOG", f->shim_log, TRUE));
	/* An ASan build whose runtime is a shared library wants to be loaded first; the shim
	 * holds no memory of the daemon's, so the order does not matter here. */
	g_assert_true(g_setenv("ASAN_OPTIONS", "verify_asan_link_order=0", FALSE));
	d = test_daemon_start(f->env, program, NULL);
	g_unsetenv("LD_PRELOAD");
	g_unsetenv("HVGUEST_SHIM_DIR");
	g_unsetenv("HVGUEST_SHIM_LOG");
	return d;
}

static void start_daemon(struct fixture *f, const char *program)
{
	test_daemon_free(f->daemon);
	f->daemon = start_shimmed(f, program);
	g_assert_cmpint(hvsim_wait_registered(f->sim, f->service, 10 * SEC), ==, 0);
}

static char *shim_log(struct fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->shim_log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* Lines of the shim's log that start with prefix. */
static unsigned shim_count(struct fixture *f, const char *prefix)
{
	g_autofree char *text = shim_log(f);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	unsigned n = 0;

	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, prefix))
			n++;
	return n;
}

/* The shim logs a write once the kernel's verdict is back, which may be after the host
 * got the reply: wait (serving the host) a bounded while. */
static void assert_shim(struct fixture *f, const char *prefix, unsigned at_least)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	unsigned n;

	while ((n = shim_count(f, prefix)) < at_least && g_get_monotonic_time() < deadline) {
		if (f->sim)
			hvsim_run_for(f->sim, 10 * 1000);
		else
			g_usleep(10 * 1000);
	}
	if (n < at_least) {
		g_autofree char *text = shim_log(f);
		g_error("shim log has %u lines \"%s...\", want >= %u:\n%s", n, prefix, at_least,
			text);
	}
}

static void assert_daemon_log(struct fixture *f, const char *needle)
{
	g_autofree char *log = test_daemon_log(f->daemon);

	if (!strstr(log, needle))
		g_error("daemon log lacks \"%s\":\n%s", needle, log);
}

/* The char device's own calls: open, the S_ISCHR check, whole messages both ways. */
static void assert_chardev_branch(struct fixture *f, size_t register_len)
{
	g_autofree char *open_line = g_strdup_printf("chardev open %s", f->node);
	g_autofree char *register_write = g_strdup_printf("chardev write %zu", register_len);

	assert_shim(f, open_line, 1);
	assert_shim(f, "chardev fstat", 1); /* device_check(): only the device branch */
	assert_shim(f, register_write, 1);  /* the registration, one whole message */
	assert_shim(f, "chardev read ", 1);
	assert_daemon_log(f, "registered with the kernel (version");
}

/* ---------------------------------------------------------------- KVP */

static void kvp_listen(struct fixture *f)
{
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_KVP, f->node), ==, 0);
}

static void test_kvp(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;
	unsigned writes;

	kvp_listen(f);
	start_daemon(f, "daemons/kvp/hv-kvpd");
	g_assert_cmpint(hvsim_kvp_set(f->sim, VMU_KVP_POOL_EXTERNAL, "shim-key", "shim-value", &r),
			==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_kvp_get(f->sim, VMU_KVP_POOL_EXTERNAL, "shim-key", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.value, ==, "shim-value");
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_EXTERNAL, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.key, ==, "shim-key");
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_EXTERNAL, 1, &r), ==, 0);
	g_assert_cmphex(r.status, !=, VMU_S_OK);
	assert_chardev_branch(f, VMU_KVP_MSG_SIZE);
	/* the registration and one reply per request, each one whole message */
	assert_shim(f, "chardev write ", 5);
	writes = shim_count(f, "chardev write ");
	g_assert_cmpuint(shim_count(f, "chardev write 7432"), ==, writes);
}

/* The kernel's deadline passes while the daemon is stopped; its late reply is refused by
 * write() with EINVAL, and the daemon opens and registers again. */
static void test_kvp_late_reply(struct fixture *f, gconstpointer data)
{
	g_autofree char *open_line = g_strdup_printf("chardev open %s", f->node);
	struct hvsim_result r;

	kvp_listen(f);
	start_daemon(f, "daemons/kvp/hv-kvpd");
	hvsim_set_timeout(f->sim, VMU_SERVICE_KVP, 300 * 1000);
	g_assert_cmpint(kill(f->daemon->pid, SIGSTOP), ==, 0);
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_AUTO, 0, &r), ==, 0);
	g_assert_true(r.kernel_timeout);
	g_assert_cmpint(kill(f->daemon->pid, SIGCONT), ==, 0);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	hvsim_set_timeout(f->sim, VMU_SERVICE_KVP, 30 * SEC);
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_AUTO, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	assert_shim(f, "chardev write: Invalid argument", 1);
	assert_shim(f, open_line, 2);
	assert_daemon_log(f, "reopening");
}

/* Waits (bounded) until the daemon's log has needle count times, serving the host if there
 * is one. */
static void wait_daemon_log_count(struct fixture *f, const char *needle, unsigned count)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	unsigned n;

	while ((n = test_daemon_log_count(f->daemon, needle)) < count &&
	       g_get_monotonic_time() < deadline) {
		if (f->sim)
			hvsim_run_for(f->sim, 10 * 1000);
		else
			g_usleep(10 * 1000);
	}
	if (n < count) {
		g_autofree char *log = test_daemon_log(f->daemon);
		g_error("daemon log has \"%s\" %u times, want %u:\n%s", needle, n, count, log);
	}
}

static void wait_daemon_log(struct fixture *f, const char *needle)
{
	wait_daemon_log_count(f, needle, 1);
}

/* The module goes away: the simulated kernel closes the device and its node disappears.
 * poll() says POLLERR|POLLHUP (teardown), the daemon closes the device, waits for the node,
 * and registers with the kernel that comes back. */
static void test_kvp_kernel_gone(struct fixture *f, gconstpointer data)
{
	g_autofree char *open_line = g_strdup_printf("chardev open %s", f->node);
	g_autofree char *waiting = g_strdup_printf("waiting for %s", f->node);
	struct hvsim_result r;

	kvp_listen(f);
	start_daemon(f, "daemons/kvp/hv-kvpd");
	/* the kernel counts the daemon registered once it sent its reply: let it be read */
	wait_daemon_log(f, "registered with the kernel (version");
	f->sim = hvsim_free(f->sim);
	wait_daemon_log(f, waiting);
	assert_shim(f, "chardev poll: torn down", 1);
	assert_daemon_log(f, "Bad file descriptor");
	assert_shim(f, "chardev close", 1);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
	kvp_listen(f);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_AUTO, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	assert_shim(f, open_line, 2);
}

/* open() of a device another daemon holds fails with EBUSY: the second daemon exits. */
static void test_kvp_busy(struct fixture *f, gconstpointer data)
{
	struct test_daemon *second;
	int status = -1;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	kvp_listen(f);
	start_daemon(f, "daemons/kvp/hv-kvpd");
	second = start_shimmed(f, "daemons/kvp/hv-kvpd");
	while ((status = test_daemon_wait(second, 0)) == -1 && g_get_monotonic_time() < deadline)
		hvsim_run_for(f->sim, 20 * 1000);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 1);
	g_autofree char *log = test_daemon_log(second);
	g_assert_nonnull(strstr(log, "another daemon is already serving"));
	assert_shim(f, "chardev open", 1);
	g_autofree char *busy = g_strdup_printf("chardev open %s: %s", f->node, g_strerror(EBUSY));
	assert_shim(f, busy, 1);
	test_daemon_free(second);
}

/* ---------------------------------------------------------------- fcopy */

static char *sha256_of(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* Copies size random bytes to dest/name and compares the contents. */
static void copy_checked(struct fixture *f, const char *name, size_t size, guint32 seed)
{
	g_autofree char *src = g_build_filename(f->env->dir, "src", NULL);
	g_autofree char *dst = g_build_filename(f->dest, name, NULL);
	g_autofree guint8 *buf = g_malloc(size);
	g_autofree char *want = NULL, *got = NULL;
	GRand *rand = g_rand_new_with_seed(seed);
	struct hvsim_result r;

	for (size_t i = 0; i < size; i++)
		buf[i] = (guint8)g_rand_int(rand);
	g_rand_free(rand);
	g_assert_true(g_file_set_contents(src, (const char *)buf, (gssize)size, NULL));
	g_assert_cmpint(hvsim_fcopy_file(f->sim, src, f->dest, name, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	want = sha256_of(src);
	got = sha256_of(dst);
	g_assert_cmpstr(got, ==, want);
	g_unlink(src);
}

static void test_fcopy_chardev(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_FCOPY, f->node), ==, 0);
	start_daemon(f, "daemons/fcopy/hv-fcopyd");
	copy_checked(f, "one", 300 * 1000, 1);
	assert_chardev_branch(f, 4);
	assert_shim(f, "chardev read 6196", 40); /* the WRITE messages, whole */
	/* hibernation: the kernel's fake CANCEL; the reply to it is refused (EINVAL) */
	g_assert_cmpint(hvsim_hibernate(f->sim, VMU_SERVICE_FCOPY), ==, 0);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	assert_shim(f, "chardev write: Invalid argument", 1);
	g_assert_cmpint(hvsim_fcopy_cancel(f->sim, &r), ==, 0);
	copy_checked(f, "two", 70 * 1000, 2);
}

static void test_fcopy_uio(struct fixture *f, gconstpointer data)
{
	g_autofree char *node = g_build_filename(f->dev_dir, "uio0", NULL);
	g_autofree char *open_line = g_strdup_printf("uio open %s", node);
	g_autofree char *mmap_line =
	    g_strdup_printf("uio mmap %u", 2 * HVSIM_UIO_DEFAULT_RING_SIZE);
	struct hvsim_result r;

	write_config(f, "uio");
	g_assert_cmpint(hvsim_listen_uio(f->sim, f->sysfs, f->dev_dir, 0), ==, 0);
	start_daemon(f, "daemons/fcopy/hv-fcopyd");
	copy_checked(f, "one", 300 * 1000, 3);
	assert_shim(f, "uio stat ", 1); /* vmu_uio_open() saw S_ISCHR: the device branch */
	assert_shim(f, open_line, 1);
	assert_shim(f, mmap_line, 1);
	assert_shim(f, "uio read 4", 1);  /* vmu_uio_ack() of a real device */
	assert_shim(f, "uio write 4", 1); /* signal_host() of a real device */
	g_assert_cmpuint(shim_count(f, "uio read "), ==, shim_count(f, "uio read 4"));
	assert_daemon_log(f, "negotiated with the host");

	/* rescind: read() fails with EIO, the daemon releases the device and waits */
	g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
	g_assert_cmpint(hvsim_fcopy_complete(f->sim, &r), ==, -ENOTCONN);
	g_assert_cmpint(hvsim_run_for(f->sim, 1000 * 1000), ==, 0);
	assert_shim(f, "uio read: Input/output error", 1);
	assert_shim(f, "uio close", 1);
	assert_daemon_log(f, "the host disabled the service");
	g_assert_cmpint(hvsim_uio_enable(f->sim), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	copy_checked(f, "two", 70 * 1000, 4);
	assert_shim(f, open_line, 2);
	assert_shim(f, mmap_line, 2);

	/* rescinded while the daemon was stopped with a request and its interrupt unread:
	 * whichever call meets the rescind (the reply's signal, the next read) fails with EIO,
	 * and the daemon says the host disabled the service, not that the device hung up */
	g_assert_cmpint(kill(f->daemon->pid, SIGSTOP), ==, 0);
	hvsim_set_host_timeout(f->sim, 300 * 1000);
	g_assert_cmpint(hvsim_fcopy_cancel(f->sim, &r), ==, -ETIMEDOUT);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
	g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
	g_assert_cmpint(kill(f->daemon->pid, SIGCONT), ==, 0);
	wait_daemon_log_count(f, "the host disabled the service", 2);
	assert_shim(f, "uio close", 2);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "hung up"), ==, 0);
	g_assert_cmpint(hvsim_uio_enable(f->sim), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	copy_checked(f, "three", 10 * 1000, 5);
}

/* ---------------------------------------------------------------- VSS */

static void test_vss(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_VSS, f->node), ==, 0);
	start_daemon(f, "daemons/vss/hv-vssd");
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_HOT_BACKUP, &r), ==, 0);
	g_assert_cmphex(r.status, ==, 2); /* byte 0 = HOT_BACKUP: a success HRESULT */
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_THAW, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	assert_chardev_branch(f, VMU_VSS_MSG_SIZE);
	g_assert_cmpuint(shim_count(f, "chardev write "), ==,
			 shim_count(f, "chardev write 12")); /* whole hv_vss_msg each */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, data, fn) g_test_add(path, struct fixture, data, setup, fn, teardown)
	ADD("/devices/kvp/chardev", &kvp, test_kvp);
	ADD("/devices/kvp/late-reply-reopens", &kvp, test_kvp_late_reply);
	ADD("/devices/kvp/busy", &kvp, test_kvp_busy);
	ADD("/devices/kvp/kernel-gone", &kvp, test_kvp_kernel_gone);
	ADD("/devices/fcopy/chardev", &fcopy, test_fcopy_chardev);
	ADD("/devices/fcopy/uio", &fcopy, test_fcopy_uio);
	ADD("/devices/vss/chardev", &vss, test_vss);
	return g_test_run();
}
