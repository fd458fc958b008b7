/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of hvd_main() through the hvd-echo test daemon, run as a child process with -n.
 *
 * The test plays the kernel: it listens on a SOCK_SEQPACKET socket and speaks the framing of
 * lib/vmbus-user/chardev-sock.h (OPEN frame on accept, a WRITE frame answering every datagram
 * the daemon sends, MESSAGE frames for requests), and it binds its own datagram socket as
 * NOTIFY_SOCKET to see READY=1/STATUS=/STOPPING=1. Every wait polls a file descriptor (the
 * sockets, the child's pipes, a pidfd) with a deadline, so a broken daemon fails the test
 * instead of hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lib/vmbus-user/chardev-sock.h"
#include "lib/vmbus-user/vmbus-user.h"

#define TIMEOUT_MS 10000

static char *tmpdir;
static char *echo_path;

/* ---------------------------------------------------------------- time and fds */

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* Waits until fd is readable or the deadline passes (then fails the test). */
static void wait_readable(int fd, int64_t deadline, const char *what)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return;
		if (r < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(r, >=, 0);
		g_error("timed out waiting for %s", what);
	}
}

/* ---------------------------------------------------------------- the child */

struct child {
	GPid pid;
	int pidfd;
	int out, err;   /* pipes, -1 when not captured */
	char *err_file; /* stderr file for long-running daemons */
};

static char **child_env(const char *notify_socket, const char *watchdog_usec)
{
	char **env = g_get_environ();

	env = g_environ_unsetenv(env, "JOURNAL_STREAM");
	env = g_environ_unsetenv(env, "INVOCATION_ID");
	env = g_environ_unsetenv(env, "WATCHDOG_USEC");
	env = g_environ_unsetenv(env, "WATCHDOG_PID");
	if (watchdog_usec)
		env = g_environ_setenv(env, "WATCHDOG_USEC", watchdog_usec, TRUE);
	if (notify_socket)
		env = g_environ_setenv(env, "NOTIFY_SOCKET", notify_socket, TRUE);
	else
		env = g_environ_unsetenv(env, "NOTIFY_SOCKET");
	return env;
}

static void child_setup_stderr_file(gpointer data)
{
	int fd = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/* Starts hvd-echo with args. With err_file, stderr goes there; else into a pipe. */
static struct child spawn_echo_env(const char *const *args, const char *notify_socket,
				   const char *err_file, const char *watchdog_usec)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = child_env(notify_socket, watchdog_usec);
	g_autoptr(GError) error = NULL;
	struct child c = {.out = -1, .err = -1};
	gboolean ok;

	g_ptr_array_add(argv, echo_path);
	for (size_t i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	ok = g_spawn_async_with_pipes(NULL, (char **)argv->pdata, env, G_SPAWN_DO_NOT_REAP_CHILD,
				      err_file ? child_setup_stderr_file : NULL, (gpointer)err_file,
				      &c.pid, NULL, &c.out, err_file ? NULL : &c.err, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	c.err_file = g_strdup(err_file);
	c.pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);
	return c;
}

static struct child spawn_echo(const char *const *args, const char *notify_socket,
			       const char *err_file)
{
	return spawn_echo_env(args, notify_socket, err_file, NULL);
}

/* Reads a pipe to EOF (bounded). */
static char *read_all(int fd, int64_t deadline)
{
	GString *s = g_string_new(NULL);
	char buf[4096];

	if (fd < 0)
		return g_string_free(s, FALSE);
	for (;;) {
		ssize_t n;
		wait_readable(fd, deadline, "child output");
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >=, 0);
		if (n == 0)
			break;
		g_string_append_len(s, buf, n);
	}
	return g_string_free(s, FALSE);
}

/* Waits for the child to exit (bounded) and returns its exit status; -1 if signalled. */
static int child_wait(struct child *c)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;
	int status;

	for (;;) {
		pid_t p = waitpid(c->pid, &status, WNOHANG);
		g_assert_cmpint(p, >=, 0);
		if (p == c->pid)
			break;
		if (c->pidfd >= 0) {
			wait_readable(c->pidfd, deadline, "the daemon to exit");
		} else {
			/* no pidfd (old kernel): poll nothing for a short while, bounded */
			g_assert_cmpint(now_ms(), <, deadline);
			poll(NULL, 0, 10);
		}
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void child_close(struct child *c)
{
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	g_free(c->err_file);
}

/* Runs hvd-echo to completion; returns the exit status and its stdout/stderr. */
static int run_echo(const char *const *args, char **ret_out, char **ret_err)
{
	struct child c = spawn_echo(args, NULL, NULL);
	int64_t deadline = now_ms() + TIMEOUT_MS;
	int status;

	*ret_out = read_all(c.out, deadline);
	*ret_err = read_all(c.err, deadline);
	status = child_wait(&c);
	child_close(&c);
	return status;
}

static char *child_stderr(struct child *c)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(c->err_file, &text, NULL, NULL));
	return text;
}

/* Reads the child's stderr pipe until `needle` has appeared (bounded); keeps all of it. */
static void expect_stderr(struct child *c, GString *seen, const char *needle)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;

	while (!strstr(seen->str, needle)) {
		char buf[4096];
		ssize_t n;
		wait_readable(c->err, deadline, needle);
		n = read(c->err, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		g_string_append_len(seen, buf, n);
	}
}

static unsigned count_substr(const char *haystack, const char *needle)
{
	unsigned n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---------------------------------------------------------------- the fake kernel */

struct fake_kernel {
	char *path;
	int listen_fd;
	int conn;
};

static void fk_listen(struct fake_kernel *fk)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	g_assert_cmpuint(strlen(fk->path), <, sizeof(sa.sun_path));
	strcpy(sa.sun_path, fk->path);
	fk->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fk->listen_fd, >=, 0);
	g_assert_cmpint(bind(fk->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fk->listen_fd, 4), ==, 0);
}

static void fk_unlisten(struct fake_kernel *fk)
{
	close(fk->listen_fd);
	fk->listen_fd = -1;
	g_unlink(fk->path);
}

static struct fake_kernel fk_new(void)
{
	struct fake_kernel fk = {.path = g_build_filename(tmpdir, "kernel.sock", NULL), .conn = -1};

	fk_listen(&fk);
	return fk;
}

static void fk_free(struct fake_kernel *fk)
{
	if (fk->conn >= 0)
		close(fk->conn);
	if (fk->listen_fd >= 0)
		fk_unlisten(fk);
	g_free(fk->path);
}

static void fk_send_frame(struct fake_kernel *fk, enum vmu_sock_kind kind, int error,
			  const void *payload, size_t len)
{
	struct vmu_sock_frame hdr = {.kind = kind, .error = error};
	struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = payload ? 2 : 1};

	g_assert_cmpint(sendmsg(fk->conn, &mh, MSG_NOSIGNAL), ==, (ssize_t)(sizeof(hdr) + len));
}

/* Accepts the daemon's connection and answers open() with `error`. */
static void fk_accept(struct fake_kernel *fk, int error)
{
	wait_readable(fk->listen_fd, now_ms() + TIMEOUT_MS, "the daemon to connect");
	fk->conn = accept4(fk->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(fk->conn, >=, 0);
	fk_send_frame(fk, VMU_SOCK_OPEN, error, NULL, 0);
}

/* Receives one datagram from the daemon; returns its length, 0 on EOF. */
static size_t fk_recv(struct fake_kernel *fk, uint8_t *buf, size_t size)
{
	ssize_t n;

	wait_readable(fk->conn, now_ms() + TIMEOUT_MS, "a datagram from the daemon");
	n = recv(fk->conn, buf, size, 0);
	g_assert_cmpint(n, >=, 0);
	return (size_t)n;
}

/* Accepts a connection and completes the KVP registration handshake (docs/protocol.md §2.1). */
static void fk_register(struct fake_kernel *fk)
{
	static uint8_t buf[VMU_KVP_MSG_SIZE + 64];

	fk_accept(fk, 0);
	g_assert_cmpuint(fk_recv(fk, buf, sizeof(buf)), ==, VMU_KVP_MSG_SIZE);
	g_assert_cmpuint(buf[0], ==, 100); /* KVP_OP_REGISTER1 */
	fk_send_frame(fk, VMU_SOCK_WRITE, 0, NULL, 0);
	memset(buf, 0, VMU_KVP_MSG_SIZE);
	buf[0] = 100;
	memcpy(buf + 4, "3.1", 4);
	fk_send_frame(fk, VMU_SOCK_MESSAGE, 0, buf, VMU_KVP_MSG_SIZE);
}

/* Sends a KVP request with `key` and checks the daemon's reply: status and echoed key. */
static void fk_request(struct fake_kernel *fk, uint8_t op, const char *key,
		       uint32_t expected_status, int write_error)
{
	static uint8_t req[VMU_KVP_MSG_SIZE], reply[VMU_KVP_MSG_SIZE + 64];
	size_t n;

	memset(req, 0, sizeof(req));
	req[0] = op;
	req[1] = 0;                          /* pool */
	req[8] = (uint8_t)(strlen(key) + 1); /* key_size of GET/SET */
	memcpy(req + 16, key, strlen(key) + 1);
	fk_send_frame(fk, VMU_SOCK_MESSAGE, 0, req, sizeof(req));
	n = fk_recv(fk, reply, sizeof(reply));
	g_assert_cmpuint(n, ==, VMU_KVP_MSG_SIZE);
	g_assert_cmpuint(reply[0] | reply[1] << 8 | reply[2] << 16 | (uint32_t)reply[3] << 24, ==,
			 expected_status);
	g_assert_cmpmem(reply + 4, VMU_KVP_MSG_SIZE - 4, req + 4, VMU_KVP_MSG_SIZE - 4);
	fk_send_frame(fk, VMU_SOCK_WRITE, write_error, NULL, 0);
}

/* Waits for the daemon to close its end (after a refused write or on exit). */
static void fk_expect_close(struct fake_kernel *fk)
{
	uint8_t buf[16];

	g_assert_cmpuint(fk_recv(fk, buf, sizeof(buf)), ==, 0);
	close(fk->conn);
	fk->conn = -1;
}

/* ---------------------------------------------------------------- NOTIFY_SOCKET */

struct notify {
	char *path;
	int fd;
	GString *seen; /* every datagram, '\n'-separated */
};

static struct notify notify_new(void)
{
	struct notify n = {.path = g_build_filename(tmpdir, "notify.sock", NULL),
			   .seen = g_string_new(NULL)};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	strcpy(sa.sun_path, n.path);
	n.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(n.fd, >=, 0);
	g_assert_cmpint(bind(n.fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return n;
}

/* Receives one notification into n->seen (bounded by deadline; `what` names the wait). */
static void notify_recv(struct notify *n, int64_t deadline, const char *what)
{
	char buf[4096];
	ssize_t len;

	wait_readable(n->fd, deadline, what);
	len = recv(n->fd, buf, sizeof(buf), 0);
	g_assert_cmpint(len, >, 0);
	g_string_append_c(n->seen, '\n');
	g_string_append_len(n->seen, buf, len);
	g_string_append_c(n->seen, '\n');
}

/* Reads notifications until one contains `line` (as a whole line). */
static void notify_expect(struct notify *n, const char *line)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;
	g_autofree char *want = g_strdup_printf("\n%s\n", line);

	while (!strstr(n->seen->str, want))
		notify_recv(n, deadline, line);
}

/* Reads notifications until a line starting with `prefix` arrives; returns that line. Lines
 * seen before the call do not count. */
static char *notify_next(struct notify *n, const char *prefix)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;
	g_autofree char *want = g_strconcat("\n", prefix, NULL);
	size_t from = n->seen->len;
	const char *p;

	while (!(p = strstr(n->seen->str + from, want)))
		notify_recv(n, deadline, prefix);
	p++;
	return g_strndup(p, strcspn(p, "\n"));
}

static void notify_free(struct notify *n)
{
	close(n->fd);
	g_unlink(n->path);
	g_free(n->path);
	g_string_free(n->seen, TRUE);
}

/* ---------------------------------------------------------------- config files */

static char *write_conf(const char *name, const char *text)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static char *daemon_conf(const struct fake_kernel *fk)
{
	g_autofree char *text = g_strdup_printf("[kvp]\n"
						"device=unix:%s\n"
						"log-target=stderr\n"
						"register-timeout=5s\n"
						"reconnect-max=200ms\n",
						fk->path);
	return write_conf("daemon.conf", text);
}

/* ---------------------------------------------------------------- a served daemon */

/* Starts hvd-echo -n on fk with NOTIFY_SOCKET, stderr to `err_name` in tmpdir, and completes
 * its registration. */
static struct child start_registered(struct fake_kernel *fk, struct notify *notify,
				     const char *err_name)
{
	g_autofree char *conf = daemon_conf(fk);
	g_autofree char *err_file = g_build_filename(tmpdir, err_name, NULL);
	struct child c =
	    spawn_echo((const char *const[]){"-n", "-c", conf, NULL}, notify->path, err_file);

	fk_register(fk);
	notify_expect(notify, "READY=1");
	return c;
}

/* SIGTERM: the daemon exits 0 after STOPPING=1. */
static void stop_registered(struct child *c, struct notify *notify)
{
	g_assert_cmpint(kill(c->pid, SIGTERM), ==, 0);
	g_assert_cmpint(child_wait(c), ==, 0);
	notify_expect(notify, "STOPPING=1");
}

/* ---------------------------------------------------------------- tests */

static void test_help(void)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(run_echo((const char *const[]){"-h", NULL}, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(out, "Usage: hvd-echo [OPTIONS]\n"));
	g_assert_nonnull(strstr(out, "--dump-config"));
	g_assert_nonnull(strstr(out, "All settings are in the [kvp] section"));
	g_assert_cmpstr(err, ==, "");
	g_free(out);
	g_free(err);
	g_assert_cmpint(run_echo((const char *const[]){"--help", NULL}, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(out, "Usage: hvd-echo [OPTIONS]\n"));
}

static void test_version(void)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(run_echo((const char *const[]){"-V", NULL}, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "hvd-echo (hvguest) " PACKAGE_VERSION "\n");
	g_assert_cmpstr(err, ==, "");
}

static void test_bad_option(void)
{
	const char *const *cases[] = {
	    (const char *const[]){"--bogus", NULL},
	    (const char *const[]){"-x", NULL},
	    (const char *const[]){"-c", NULL},
	    (const char *const[]){"-n", "extra", NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = NULL, *err = NULL;
		g_assert_cmpint(run_echo(cases[i], &out, &err), ==, 1);
		g_assert_cmpstr(out, ==, "");
		g_assert_nonnull(strstr(err, "Usage: hvd-echo [OPTIONS]\n"));
	}
}

static void test_dump_config(void)
{
	g_autofree char *conf = write_conf("dump.conf", "[vss]\nignored=1\n[kvp]\n"
							"greeting=bonjour\nregister-timeout=2s\n");
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(
	    run_echo((const char *const[]){"--dump-config", "-c", conf, NULL}, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "\n[kvp]\n"));
	g_assert_nonnull(strstr(out, "\ngreeting=bonjour\n"));
	g_assert_nonnull(strstr(out, "# a key of the echo service\n"));
	g_assert_nonnull(strstr(out, "\nregister-timeout=2s\n"));
	g_assert_nonnull(strstr(out, "\ndevice=/dev/vmbus/hv_kvp\n"));
	g_assert_nonnull(strstr(out, "\nstate-dir=/var/lib/hyperv\n"));
	g_assert_nonnull(strstr(out, "\nlog-level=info\n"));
	g_assert_nonnull(strstr(out, "\nreconnect-max=30s\n"));
	g_assert_null(strstr(out, "ignored"));

	/* the dump is itself a valid config for the daemon */
	g_autofree char *again = write_conf("dump-again.conf", out);
	g_autofree char *out2 = NULL, *err2 = NULL;
	g_assert_cmpint(
	    run_echo((const char *const[]){"--dump-config", "--config", again, NULL}, &out2, &err2),
	    ==, 0);
	g_assert_nonnull(strstr(out2, "\ngreeting=bonjour\n"));
}

static void test_bad_config(void)
{
	g_autofree char *conf = write_conf("bad.conf", "[kvp]\ngreeting=x\nnosuchkey=1\n");
	g_autofree char *want = g_strdup_printf("%s:3: [kvp] nosuchkey: unknown key", conf);
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(run_echo((const char *const[]){"-n", "-c", conf, NULL}, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, want));
	g_free(err);
	g_free(out);

	g_autofree char *range = write_conf("range.conf", "[kvp]\n\nreconnect-max=0\n");
	g_autofree char *want2 = g_strdup_printf("%s:3: [kvp] reconnect-max: out of range", range);
	g_assert_cmpint(run_echo((const char *const[]){"-n", "-c", range, NULL}, &out, &err), ==,
			1);
	g_assert_nonnull(strstr(err, want2));
	g_free(err);
	g_free(out);

	g_autofree char *missing = g_build_filename(tmpdir, "missing.conf", NULL);
	g_assert_cmpint(run_echo((const char *const[]){"-n", "-c", missing, NULL}, &out, &err), ==,
			1);
	g_assert_nonnull(strstr(err, missing));
	g_free(err);
	g_free(out);

	/* -c /dev/zero and a FIFO: refused at once (run_echo's deadline), never read */
	g_assert_cmpint(run_echo((const char *const[]){"-n", "-c", "/dev/zero", NULL}, &out, &err),
			==, 1);
	g_assert_nonnull(strstr(err, "/dev/zero: not a regular file"));
	g_free(err);
	g_free(out);
	g_autofree char *fifo = g_build_filename(tmpdir, "fifo.conf", NULL);
	g_autofree char *want_fifo = g_strdup_printf("%s: not a regular file", fifo);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	g_assert_cmpint(run_echo((const char *const[]){"-n", "-c", fifo, NULL}, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, want_fifo));
	g_unlink(fifo);
}

/* Registration, requests, deferred reply, reopen after a refused write, reconnect after
 * the kernel went away, SIGTERM. */
static void test_lifecycle(void)
{
	struct fake_kernel fk = fk_new();
	struct notify notify = notify_new();
	struct child c = start_registered(&fk, &notify, "daemon.err");
	g_autofree char *log = NULL;

	g_assert_nonnull(
	    strstr(notify.seen->str, "STATUS=Registered with the kernel (version 3.1)"));
	fk_request(&fk, VMU_KVP_OP_GET, "first", VMU_S_OK, 0);
	fk_request(&fk, VMU_KVP_OP_SET, "second", VMU_S_OK, 0);
	/* a deferred reply (hvd_reply) */
	fk_request(&fk, VMU_KVP_OP_DELETE, "later", VMU_E_FAIL, 0);
	fk_request(&fk, VMU_KVP_OP_GET, "after-later", VMU_S_OK, 0);

	/* the kernel refuses a reply (late, as after its timeout): reopen and re-register */
	fk_request(&fk, VMU_KVP_OP_GET, "refused", VMU_S_OK, EINVAL);
	fk_expect_close(&fk);
	fk_register(&fk);
	fk_request(&fk, VMU_KVP_OP_GET, "after-reopen", VMU_S_OK, 0);

	/* the kernel goes away entirely, then comes back */
	close(fk.conn);
	fk.conn = -1;
	fk_unlisten(&fk);
	fk_listen(&fk);
	fk_register(&fk);
	fk_request(&fk, VMU_KVP_OP_GET, "after-reconnect", VMU_S_OK, 0);

	stop_registered(&c, &notify);
	log = child_stderr(&c);
	g_test_message("daemon log:\n%s", log);
	g_assert_cmpuint(count_substr(log, "hvd-echo: registered with the kernel (version 3.1)\n"),
			 ==, 3);
	g_assert_cmpuint(count_substr(log, "echo service disconnected\n"), ==, 3);
	g_assert_cmpuint(count_substr(log, ", reopening"), ==, 2);
	g_assert_cmpuint(count_substr(log, "stopped\n"), ==, 1);
	child_close(&c);
	notify_free(&notify);
	fk_free(&fk);
}

static void fk_send_request(struct fake_kernel *fk, uint8_t op, const char *key)
{
	static uint8_t req[VMU_KVP_MSG_SIZE];

	memset(req, 0, sizeof(req));
	req[0] = op;
	req[8] = (uint8_t)(strlen(key) + 1); /* key_size of GET/SET/DELETE */
	memcpy(req + 16, key, strlen(key) + 1);
	fk_send_frame(fk, VMU_SOCK_MESSAGE, 0, req, sizeof(req));
}

/* Receives the daemon's reply to the request for key; no WRITE frame is sent. */
static void fk_expect_reply(struct fake_kernel *fk, const char *key, uint32_t expected_status)
{
	static uint8_t reply[VMU_KVP_MSG_SIZE + 64];

	g_assert_cmpuint(fk_recv(fk, reply, sizeof(reply)), ==, VMU_KVP_MSG_SIZE);
	g_assert_cmpuint(reply[0] | reply[1] << 8 | reply[2] << 16 | (uint32_t)reply[3] << 24, ==,
			 expected_status);
	g_assert_cmpmem(reply + 16, strlen(key) + 1, key, strlen(key) + 1);
}

/* The kernel's next request arrives before its verdict on the reply being written: the
 * library parks it, and no poll wakes the daemon for it. hvd must receive it anyway, after
 * a reply sent from handle() and after a deferred one (hvd_reply()). */
static void test_parked_request(void)
{
	struct fake_kernel fk = fk_new();
	g_autofree char *conf = daemon_conf(&fk);
	g_autofree char *err_file = g_build_filename(tmpdir, "daemon.err", NULL);
	struct child c = spawn_echo((const char *const[]){"-n", "-c", conf, NULL}, NULL, err_file);
	g_autofree char *log = NULL;

	fk_register(&fk);
	/* a reply from handle() */
	fk_send_request(&fk, VMU_KVP_OP_GET, "in-place");
	fk_expect_reply(&fk, "in-place", VMU_S_OK);
	fk_send_request(&fk, VMU_KVP_OP_GET, "parked-1");
	fk_send_frame(&fk, VMU_SOCK_WRITE, 0, NULL, 0); /* the verdict on "in-place" */
	fk_expect_reply(&fk, "parked-1", VMU_S_OK);
	fk_send_frame(&fk, VMU_SOCK_WRITE, 0, NULL, 0);
	/* a deferred reply */
	fk_send_request(&fk, VMU_KVP_OP_DELETE, "later");
	fk_expect_reply(&fk, "later", VMU_E_FAIL);
	fk_send_request(&fk, VMU_KVP_OP_GET, "parked-2");
	fk_send_frame(&fk, VMU_SOCK_WRITE, 0, NULL, 0); /* the verdict on "later" */
	fk_expect_reply(&fk, "parked-2", VMU_S_OK);
	fk_send_frame(&fk, VMU_SOCK_WRITE, 0, NULL, 0);
	fk_request(&fk, VMU_KVP_OP_GET, "after", VMU_S_OK, 0);

	g_assert_cmpint(kill(c.pid, SIGTERM), ==, 0);
	g_assert_cmpint(child_wait(&c), ==, 0);
	g_assert_true(g_file_get_contents(err_file, &log, NULL, NULL));
	g_assert_null(strstr(log, "reopening")); /* nothing timed out on the way */
	child_close(&c);
	fk_free(&fk);
}

/* The device does not exist yet: the daemon waits (logging that once) and registers when
 * it appears. */
static void test_waits_for_device(void)
{
	struct fake_kernel fk = fk_new();
	struct notify notify = notify_new();
	g_autofree char *conf = daemon_conf(&fk);
	g_autofree char *err_file = g_build_filename(tmpdir, "wait.err", NULL);
	g_autofree char *opening = g_strdup_printf("STATUS=Opening unix:%s", fk.path);
	struct child c;
	g_autofree char *log = NULL;

	fk_unlisten(&fk);
	c = spawn_echo((const char *const[]){"-n", "-c", conf, NULL}, notify.path, err_file);
	notify_expect(&notify, opening);
	fk_listen(&fk);
	fk_register(&fk);
	notify_expect(&notify, "READY=1");
	fk_request(&fk, VMU_KVP_OP_GET, "k", VMU_S_OK, 0);
	g_assert_cmpint(kill(c.pid, SIGINT), ==, 0);
	g_assert_cmpint(child_wait(&c), ==, 0);
	log = child_stderr(&c);
	g_assert_cmpuint(count_substr(log, "waiting for unix:"), <=, 1);
	g_assert_cmpuint(count_substr(log, "registered with the kernel"), ==, 1);
	child_close(&c);
	notify_free(&notify);
	fk_free(&fk);
}

/* -d, watchdog pings, SIGHUP with a bad and then a good config, SIGUSR1. */
static void test_signals(void)
{
	struct fake_kernel fk = fk_new();
	struct notify notify = notify_new();
	g_autofree char *conf = daemon_conf(&fk);
	g_autofree char *good = NULL, *bad = NULL, *want_bad = NULL;
	g_autoptr(GString) err = g_string_new(NULL);
	struct child c =
	    spawn_echo((const char *const[]){"-n", "-d", "-c", conf, NULL}, notify.path, NULL);

	fk_register(&fk);
	notify_expect(&notify, "READY=1");
	/* -d: the service's debug message is logged */
	expect_stderr(&c, err, "echo service registered, kernel 3.1, greeting hello\n");

	g_file_get_contents(conf, &good, NULL, NULL);
	g_assert_nonnull(good);
	bad = g_strconcat("[kvp]\nbogus=1\n", NULL);
	g_assert_true(g_file_set_contents(conf, bad, -1, NULL));
	g_assert_cmpint(kill(c.pid, SIGHUP), ==, 0);
	want_bad = g_strdup_printf(
	    "reloading the configuration failed, keeping the old one: %s:2: [kvp] bogus: "
	    "unknown key\n",
	    conf);
	expect_stderr(&c, err, want_bad);

	g_autofree char *changed = g_strconcat(good, "greeting=changed\n", NULL);
	g_assert_true(g_file_set_contents(conf, changed, -1, NULL));
	g_assert_cmpint(kill(c.pid, SIGHUP), ==, 0);
	expect_stderr(&c, err, "hvd-echo: reloaded the configuration\n");

	g_assert_cmpint(kill(c.pid, SIGUSR1), ==, 0);
	expect_stderr(&c, err,
		      "hvd-echo: status: Registered with the kernel (version 3.1) on unix:");
	fk_request(&fk, VMU_KVP_OP_GET, "still-serving", VMU_S_OK, 0);

	g_assert_cmpint(kill(c.pid, SIGTERM), ==, 0);
	expect_stderr(&c, err, "hvd-echo: stopped\n");
	g_assert_cmpint(child_wait(&c), ==, 0);
	g_assert_null(strstr(err->str, "failed to")); /* nothing else went wrong */
	child_close(&c);
	notify_free(&notify);
	fk_free(&fk);
}

/* hvd-echo sets the status line with hvd_set_status_later() and hvd_set_status_lazy() in
 * the order `key` names, while the rate limit holds lines back: the newer line is the one
 * that goes out when the timer fires, and the older one never does. */
static void check_status_order(const char *key, const char *want, const char *older)
{
	struct fake_kernel fk = fk_new();
	struct notify notify = notify_new();
	struct child c = start_registered(&fk, &notify, "status.err");
	g_autofree char *line = NULL;

	fk_request(&fk, VMU_KVP_OP_GET, key, VMU_S_OK, 0);
	line = notify_next(&notify, "STATUS=last: ");
	g_assert_cmpstr(line, ==, want);
	stop_registered(&c, &notify);
	g_assert_null(strstr(notify.seen->str, older));
	child_close(&c);
	notify_free(&notify);
	fk_free(&fk);
}

/* A pending hvd_set_status_later() line is older than a hvd_set_status_lazy() one after it
 * (kvpd_setip_reply()'s line after another request's). */
static void test_status_lazy_after_later(void)
{
	check_status_order("status-later-lazy", "STATUS=last: lazy status-later-lazy",
			   "STATUS=last: later");
}

static void test_status_later_after_lazy(void)
{
	check_status_order("status-lazy-later", "STATUS=last: later status-lazy-later",
			   "STATUS=last: lazy");
}

/* Receives datagrams until one contains needle; returns the rest of that line. */
static char *datagram_expect(int fd, const char *needle)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;

	for (;;) {
		char buf[65536];
		ssize_t n;
		wait_readable(fd, deadline, needle);
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		g_assert_cmpint(n, >, 0);
		buf[n] = '\0';
		char *p = strstr(buf, needle);
		if (p) {
			p += strlen(needle);
			return g_strndup(p, strcspn(p, "\n"));
		}
	}
}

/* A journal record whose MESSAGE starts with prefix. */
static char *journal_expect(int fd, const char *prefix)
{
	g_autofree char *field = g_strconcat("\nMESSAGE=", prefix, NULL);

	return datagram_expect(fd, field);
}

/* Without -n the daemon detaches (the parent exits 0 at once) and, having no stderr any
 * more, logs to the journal. */
static void test_detach(void)
{
	struct fake_kernel fk = fk_new();
	g_autofree char *journal = g_build_filename(tmpdir, "journal.sock", NULL);
	g_autofree char *text = NULL, *conf = NULL, *pid_text = NULL, *out = NULL, *err = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int jfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	gint64 pid;

	g_assert_cmpint(jfd, >=, 0);
	strcpy(sa.sun_path, journal);
	g_assert_cmpint(bind(jfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	fk_unlisten(&fk); /* no device: the daemon waits in the background */
	text = g_strdup_printf("[kvp]\ndevice=unix:%s\njournal-socket=%s\n", fk.path, journal);
	conf = write_conf("detach.conf", text);

	g_assert_cmpint(run_echo((const char *const[]){"-c", conf, NULL}, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpstr(err, ==, "");
	pid_text = journal_expect(jfd, "starting; pid is:");
	g_assert_true(g_ascii_string_to_signed(pid_text, 10, 2, G_MAXINT, &pid, NULL));
	g_free(journal_expect(jfd, "waiting for unix:"));
	g_assert_cmpint(kill((pid_t)pid, SIGTERM), ==, 0);
	g_free(journal_expect(jfd, "stopped"));
	close(jfd);
	g_unlink(journal);
	fk_free(&fk);
}

/* A syslog line "<PRI>Mmm dd hh:mm:ss hvd-echo[PID]: prefix..." (the format is
 * test-log's business). */
static char *syslog_expect(int fd, const char *prefix)
{
	g_autofree char *needle = g_strconcat("]: ", prefix, NULL);

	return datagram_expect(fd, needle);
}

/* Detached outside systemd (no $INVOCATION_ID or $JOURNAL_STREAM, no journal socket), the
 * daemon's lines go to syslog, not to the /dev/null its stderr now is. */
static void test_detach_syslog(void)
{
	struct fake_kernel fk = fk_new();
	g_autofree char *log_sock = g_build_filename(tmpdir, "log.sock", NULL);
	g_autofree char *no_journal = g_build_filename(tmpdir, "no-journal.sock", NULL);
	g_autofree char *text = NULL, *conf = NULL, *pid_text = NULL, *out = NULL, *err = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	gint64 pid;

	g_assert_cmpint(sfd, >=, 0);
	strcpy(sa.sun_path, log_sock);
	g_assert_cmpint(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	fk_unlisten(&fk);
	text = g_strdup_printf("[kvp]\ndevice=unix:%s\njournal-socket=%s\nsyslog-socket=%s\n",
			       fk.path, no_journal, log_sock);
	conf = write_conf("detach-syslog.conf", text);

	g_assert_cmpint(run_echo((const char *const[]){"-c", conf, NULL}, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	pid_text = syslog_expect(sfd, "starting; pid is:");
	g_assert_true(g_ascii_string_to_signed(pid_text, 10, 2, G_MAXINT, &pid, NULL));
	g_free(syslog_expect(sfd, "waiting for unix:"));
	g_assert_cmpint(kill((pid_t)pid, SIGTERM), ==, 0);
	g_free(syslog_expect(sfd, "stopped"));
	close(sfd);
	g_unlink(log_sock);
	fk_free(&fk);
}

static void test_busy(void)
{
	struct fake_kernel fk = fk_new();
	g_autofree char *conf = daemon_conf(&fk);
	g_autofree char *err_file = g_build_filename(tmpdir, "busy.err", NULL);
	struct child c = spawn_echo((const char *const[]){"-n", "-c", conf, NULL}, NULL, err_file);
	g_autofree char *log = NULL, *want = NULL;

	fk_accept(&fk, EBUSY);
	g_assert_cmpint(child_wait(&c), ==, 1);
	log = child_stderr(&c);
	want = g_strdup_printf("another daemon is already serving unix:%s", fk.path);
	g_assert_nonnull(strstr(log, want));
	child_close(&c);
	fk_free(&fk);
}

int main(int argc, char **argv)
{
	const char *builddir = g_getenv("HVGUEST_BUILDDIR");
	g_autofree char *dir = NULL;
	int r;

	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	dir = builddir ? g_build_filename(builddir, "tests", "unit", NULL)
		       : g_path_get_dirname(argv[0]);
	echo_path = g_build_filename(dir, "hvd-echo", NULL);
	tmpdir = g_dir_make_tmp("test-hvd-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/hvd/cli/help", test_help);
	g_test_add_func("/hvd/cli/version", test_version);
	g_test_add_func("/hvd/cli/bad-option", test_bad_option);
	g_test_add_func("/hvd/config/dump", test_dump_config);
	g_test_add_func("/hvd/config/bad", test_bad_config);
	g_test_add_func("/hvd/lifecycle", test_lifecycle);
	g_test_add_func("/hvd/waits-for-device", test_waits_for_device);
	g_test_add_func("/hvd/parked-request", test_parked_request);
	g_test_add_func("/hvd/busy", test_busy);
	g_test_add_func("/hvd/signals", test_signals);
	g_test_add_func("/hvd/status/lazy-after-later", test_status_lazy_after_later);
	g_test_add_func("/hvd/status/later-after-lazy", test_status_later_after_lazy);
	g_test_add_func("/hvd/detach", test_detach);
	g_test_add_func("/hvd/detach-syslog", test_detach_syslog);
	r = g_test_run();

	g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
	for (const char *n; d && (n = g_dir_read_name(d));) {
		g_autofree char *p = g_build_filename(tmpdir, n, NULL);
		g_unlink(p);
	}
	g_rmdir(tmpdir);
	g_free(tmpdir);
	g_free(echo_path);
	return r;
}
