/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of hv-fcopyd's transport (daemons/fcopy/transport.c): the choice between the char
 * device and the UIO device, discovery and binding, the IC negotiation answered by the transport
 * itself, the messages it hands to the service and the replies' transaction ids, and the host
 * disabling the service.
 *
 * The transport is reached the way hv-fcopyd reaches it, through hvd_main(): the child program
 * fcopy-transport-echo runs it with a service that copies nothing and logs each message it is
 * handed (so the copy logic of fcopyd.c is out of the picture, and nothing here calls the
 * struct hvd_transport callbacks directly). The host is the simulator in this process
 * (hvsim_listen_uio(): a fake sysfs tree, a uio0 socket handing out the rings; hvsim_listen()
 * for the char device). Every wait runs the simulator's loop against a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/hv-host-sim/hvsim.h"

#define SEC 1000000ull
#define WAIT_SEC 15

static char *echo_path;

struct fixture {
	char *dir, *sysfs, *dev, *config, *log, *sock;
	struct hvsim *sim;
	pid_t pid;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	f->dir = g_dir_make_tmp("test-fcopy-transport-XXXXXX", &error);
	g_assert_no_error(error);
	f->sysfs = g_build_filename(f->dir, "sys", NULL);
	f->dev = g_build_filename(f->dir, "dev", NULL);
	f->config = g_build_filename(f->dir, "hvguest.conf", NULL);
	f->log = g_build_filename(f->dir, "daemon.log", NULL);
	f->sock = g_build_filename(f->dir, "hv_fcopy.sock", NULL);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	hvsim_set_host_timeout(f->sim, WAIT_SEC * SEC);
}

static void remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir) {
		while ((name = g_dir_read_name(dir))) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child);
			else
				g_unlink(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

/* SIGTERM, then waits (running the host's loop, so the daemon's last writes are read). */
static int stop_daemon(struct fixture *f)
{
	int status = -1;

	if (f->pid <= 0)
		return -1;
	kill(f->pid, SIGTERM);
	for (int i = 0; i < WAIT_SEC * 50; i++) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = 0;
			return status;
		}
		hvsim_run_for(f->sim, 20000);
	}
	kill(f->pid, SIGKILL);
	waitpid(f->pid, &status, 0);
	f->pid = 0;
	return -1;
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;

	stop_daemon(f);
	if (g_test_failed() && g_file_get_contents(f->log, &log, NULL, NULL))
		g_test_message("daemon log:\n%s", log);
	f->sim = hvsim_free(f->sim);
	remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->sysfs);
	g_free(f->dev);
	g_free(f->config);
	g_free(f->log);
	g_free(f->sock);
}

static void write_config(struct fixture *f, const char *transport, const char *device,
			 const char *extra)
{
	g_autofree char *text = g_strdup_printf(
	    "[fcopy]\ndevice=%s\nstate-dir=%s/state\nrun-dir=%s/run\nlog-target=stderr\n"
	    "log-level=debug\nregister-timeout=5s\nreconnect-max=1s\ntransport=%s\n"
	    "sysfs-root=%s\nuio-dev-dir=%s\n%s",
	    device, f->dir, f->dir, transport, f->sysfs, f->dev, extra ? extra : "");

	g_assert_true(g_file_set_contents(f->config, text, -1, NULL));
}

static void start_daemon(struct fixture *f)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (fd < 0 || null < 0 || dup2(fd, STDERR_FILENO) < 0 ||
		    dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDIN_FILENO) < 0)
			_exit(126);
		/* a failed assertion kills the test: the daemon goes with it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(125);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		execl(echo_path, echo_path, "-n", "-c", f->config, (char *)NULL);
		_exit(127);
	}
	f->pid = pid;
}

static char *daemon_log(struct fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

static unsigned count(const char *haystack, const char *needle)
{
	unsigned n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Runs the host's loop until the daemon's log holds needle (n times). */
static void wait_log(struct fixture *f, const char *needle, unsigned n)
{
	for (int i = 0; i < WAIT_SEC * 50; i++) {
		g_autofree char *log = daemon_log(f);

		if (count(log, needle) >= n)
			return;
		hvsim_run_for(f->sim, 20000);
	}
	g_test_message("never logged %u time(s): %s", n, needle);
	g_assert_not_reached();
}

static void assert_registered(struct fixture *f)
{
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, WAIT_SEC * SEC), ==, 0);
}

static void assert_request_ok(struct fixture *f)
{
	struct hvsim_result res;

	g_assert_cmpint(hvsim_fcopy_complete(f->sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
}

static struct hvsim_uio_stats uio_stats(struct fixture *f)
{
	struct hvsim_uio_stats st;

	g_assert_cmpint(hvsim_uio_get_stats(f->sim, &st), ==, 0);
	return st;
}

static void listen_uio(struct fixture *f)
{
	g_assert_cmpint(hvsim_listen_uio(f->sim, f->sysfs, f->dev, 0), ==, 0);
}

/* ---------------------------------------------------------------- tests */

/* NEGOTIATE is answered by the transport (framework 3.0, fcopy 1.1) and never reaches the
 * service; every fcopy message does, whole and in the host's format; every reply echoes the
 * request's transaction id. */
static void test_uio_requests(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	struct hvsim_service_status st;
	struct hvsim_uio_stats us;
	struct hvsim_result res;
	const char data_bytes[] = "0123456789";

	listen_uio(f);
	write_config(f, "uio", "/nonexistent/hv_fcopy", NULL);
	start_daemon(f);
	assert_registered(f);
	g_assert_cmpint(hvsim_get_status(f->sim, VMU_SERVICE_FCOPY, &st), ==, 0);
	g_assert_true(st.negotiated);
	g_assert_cmpuint(st.framework.major, ==, 3);
	g_assert_cmpuint(st.version.major, ==, 1);
	g_assert_cmpuint(st.version.minor, ==, 1);

	g_assert_cmpint(hvsim_fcopy_start(f->sim, "/x", "name", 0, 10, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_fcopy_write(f->sim, 0, data_bytes, 10, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_fcopy_complete(f->sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_fcopy_cancel(f->sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);

	us = uio_stats(f);
	g_assert_cmpuint(us.packets_sent, ==, 5); /* NEGOTIATE + 4 */
	g_assert_cmpuint(us.packets_received, ==, 5);
	g_assert_cmpuint(us.replies_wrong_xactid, ==, 0);
	g_assert_cmpuint(us.connections, ==, 1);

	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "negotiated with the host: framework 3.0, fcopy 1.1"));
	g_assert_cmpuint(count(log, "echo: message icmsgtype=7 "), ==, 4);
	g_assert_cmpuint(count(log, "format=host"), ==, 4);
	g_assert_cmpuint(count(log, "format=kernel"), ==, 0);
	g_assert_null(strstr(log, "UNEXPECTED"));
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

/* The host disables the service: the transport releases the device (-ESHUTDOWN), the service
 * hears disconnected(), and the transport finds the device again once it is back. */
static void test_uio_disable_enable(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	struct hvsim_result res;

	listen_uio(f);
	write_config(f, "uio", "/nonexistent/hv_fcopy", NULL);
	start_daemon(f);
	assert_registered(f);
	assert_request_ok(f);
	g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
	wait_log(f, "echo: disconnected", 1);
	wait_log(f, "the host disabled the service", 1);
	g_assert_cmpint(hvsim_fcopy_complete(f->sim, &res), ==, -ENOTCONN);
	g_assert_cmpint(hvsim_uio_enable(f->sim), ==, 0);
	assert_registered(f);
	assert_request_ok(f);
	g_assert_cmpuint(uio_stats(f).connections, ==, 2);
	g_assert_cmpuint(uio_stats(f).replies_wrong_xactid, ==, 0);
	log = daemon_log(f);
	g_assert_cmpuint(count(log, "negotiated with the host"), ==, 2);
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

/* transport=auto without a char device node: the UIO device. */
static void test_auto_chooses_uio(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	g_autofree char *nodev = g_build_filename(f->dir, "no-such-device", NULL);

	listen_uio(f);
	write_config(f, "auto", nodev, NULL);
	start_daemon(f);
	assert_registered(f);
	assert_request_ok(f);
	g_assert_cmpuint(uio_stats(f).connections, ==, 1);
	log = daemon_log(f);
	g_assert_cmpuint(count(log, "format=host"), ==, 1);
	g_assert_nonnull(strstr(log, " over uio"));
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

/* transport=auto with the char device there: the char device, kernel-format messages. */
static void test_auto_chooses_chardev(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	g_autofree char *device = g_strdup_printf("unix:%s", f->sock);

	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_FCOPY, f->sock), ==, 0);
	write_config(f, "auto", device, NULL);
	start_daemon(f);
	assert_registered(f);
	assert_request_ok(f);
	log = daemon_log(f);
	g_assert_cmpuint(count(log, "format=kernel"), ==, 1);
	g_assert_cmpuint(count(log, "format=host"), ==, 0);
	g_assert_null(strstr(log, "negotiated with the host")); /* the kernel negotiates */
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

/* transport=chardev never touches the UIO device, even when it is there. */
static void test_chardev_only(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	g_autofree char *nodev = g_build_filename(f->dir, "no-such-device", NULL);

	listen_uio(f);
	write_config(f, "chardev", nodev, NULL);
	start_daemon(f);
	wait_log(f, "waiting for", 1);
	hvsim_run_for(f->sim, 1500000); /* more than reconnect-max: a few attempts */
	g_assert_cmpuint(uio_stats(f).connections, ==, 0);
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, nodev));
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

/* The device appears late: the transport waits ("not there yet"), then connects. */
static void test_uio_appears_late(struct fixture *f, gconstpointer data)
{
	write_config(f, "uio", "/nonexistent/hv_fcopy", NULL);
	start_daemon(f);
	wait_log(f, "waiting for the fcopy UIO device under", 1);
	listen_uio(f);
	assert_registered(f);
	assert_request_ok(f);
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

static void put_link(const char *path, const char *target)
{
	g_assert_cmpint(symlink(target, path), ==, 0);
}

/* An fcopy device bound to no driver: with bind-uio=false the transport says so once and
 * waits; with bind-uio=true it writes the class GUID to uio_hv_generic's new_id and waits for
 * the node, then connects when it appears. */
static void test_uio_binding(struct fixture *f, gconstpointer data)
{
	g_autofree char *device =
	    g_build_filename(f->sysfs, "bus/vmbus/devices", HVSIM_UIO_INSTANCE_ID, NULL);
	g_autofree char *driver = g_build_filename(device, "driver", NULL);
	g_autofree char *node = g_build_filename(device, "uio", "uio0", NULL);
	g_autofree char *new_id =
	    g_build_filename(f->sysfs, "bus/vmbus/drivers/uio_hv_generic/new_id", NULL);
	g_autofree char *written = NULL;
	g_autofree char *log = NULL;

	listen_uio(f);
	/* as before uio_hv_generic knows the class: no driver link, no uio node */
	g_assert_cmpint(g_unlink(driver), ==, 0);
	g_assert_cmpint(g_rmdir(node), ==, 0);
	write_config(f, "uio", "/nonexistent/hv_fcopy", "bind-uio=false\n");
	start_daemon(f);
	wait_log(f, "bound to no driver and bind-uio=false", 1);
	hvsim_run_for(f->sim, 1500000);
	log = daemon_log(f);
	g_assert_cmpuint(count(log, "bound to no driver and bind-uio=false"), ==, 1);
	g_assert_true(g_file_get_contents(new_id, &written, NULL, NULL));
	g_assert_cmpstr(written, ==, "");
	g_assert_cmpint(stop_daemon(f), ==, 0);
	g_clear_pointer(&written, g_free);

	write_config(f, "uio", "/nonexistent/hv_fcopy", "bind-uio=true\n");
	start_daemon(f);
	wait_log(f, "asked uio_hv_generic to bind the fcopy VMBus device", 1);
	g_assert_true(g_file_get_contents(new_id, &written, NULL, NULL));
	g_assert_nonnull(strstr(written, VMU_FCOPY_CLASS_ID));
	/* the driver binds it */
	g_assert_cmpint(g_mkdir(node, 0755), ==, 0);
	put_link(driver, "../../drivers/uio_hv_generic");
	assert_registered(f);
	assert_request_ok(f);
	g_assert_cmpint(stop_daemon(f), ==, 0);
}

int main(int argc, char **argv)
{
	const char *builddir = g_getenv("HVGUEST_BUILDDIR");
	g_autofree char *dir = NULL;

	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	dir = builddir ? g_build_filename(builddir, "tests", "unit", NULL)
		       : g_path_get_dirname(argv[0]);
	echo_path = g_build_filename(dir, "fcopy-transport-echo", NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/fcopy-transport/uio/requests", test_uio_requests);
	ADD("/fcopy-transport/uio/disable-enable", test_uio_disable_enable);
	ADD("/fcopy-transport/uio/appears-late", test_uio_appears_late);
	ADD("/fcopy-transport/uio/binding", test_uio_binding);
	ADD("/fcopy-transport/auto/chooses-uio", test_auto_chooses_uio);
	ADD("/fcopy-transport/auto/chooses-chardev", test_auto_chooses_chardev);
	ADD("/fcopy-transport/chardev-only", test_chardev_only);
	return g_test_run();
}
