/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helpers (see daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

char *test_build_path(const char *relpath)
{
	const char *builddir = g_getenv("HVGUEST_BUILDDIR");

	return g_build_filename(builddir ? builddir : ".", relpath, NULL);
}

struct test_lock_holder test_lock_holder_start(const char *path, const char *kind)
{
	g_autofree char *helper = test_build_path("tests/unit/kvp-appender");
	const char *argv[] = {helper, "hold", kind, path, "65534", NULL};
	struct test_lock_holder h;
	char line[8] = "";
	int out;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &h.pid, &h.release_fd, &out, NULL,
					       NULL));
	g_assert_cmpint(read(out, line, 7), ==, 7);
	g_assert_cmpstr(line, ==, "locked\n");
	close(out);
	if (geteuid() == 0) { /* the lock really is an unprivileged user's */
		g_autofree char *proc = g_strdup_printf("/proc/%d", (int)h.pid);
		struct stat st;

		g_assert_cmpint(stat(proc, &st), ==, 0);
		g_assert_cmpuint(st.st_uid, ==, 65534);
	}
	return h;
}

void test_lock_holder_release(struct test_lock_holder *h)
{
	int status;

	close(h->release_fd);
	g_assert_cmpint(waitpid(h->pid, &status, 0), ==, h->pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

struct test_env *test_env_new(enum vmu_service service, const char *extra_config)
{
	g_autofree char *dir = g_dir_make_tmp("hvguest-it-XXXXXX", NULL);

	g_assert_nonnull(dir);
	return test_env_new_in(dir, service, extra_config);
}

struct test_env *test_env_new_in(const char *dir, enum vmu_service service,
				 const char *extra_config)
{
	struct test_env *env = g_new0(struct test_env, 1);
	g_autofree char *sock_name = g_strdup_printf("%s.sock", vmu_service_name(service));

	env->dir = g_strdup(dir);
	env->socket_path = g_build_filename(env->dir, sock_name, NULL);
	env->device = g_strconcat("unix:", env->socket_path, NULL);
	env->config_path = g_build_filename(env->dir, "hvguest.conf", NULL);
	env->state_dir = g_build_filename(env->dir, "state", NULL);
	env->run_dir = g_build_filename(env->dir, "run", NULL);
	g_assert_cmpint(g_mkdir_with_parents(env->state_dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(env->run_dir, 0755), ==, 0);
	env->service = service;
	test_env_write_config(env, extra_config);
	return env;
}

void test_env_write_config(struct test_env *env, const char *extra_config)
{
	/* A key given in extra_config replaces the default (a key may appear only once). */
	const char *extra = extra_config ? extra_config : "";
	const char *target = strstr(extra, "log-target=") ? "" : "log-target=stderr\n";
	g_autofree char *config = g_strdup_printf("[%s]\ndevice=%s\nstate-dir=%s\nrun-dir=%s\n%s"
						  "register-timeout=5s\nreconnect-max=1s\n%s\n",
						  vmu_service_name(env->service), env->device,
						  env->state_dir, env->run_dir, target, extra);

	g_assert_true(g_file_set_contents(env->config_path, config, -1, NULL));
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

void test_env_free(struct test_env *env)
{
	if (!env)
		return;
	if (env->dir && !g_getenv("HVGUEST_KEEP_TMP"))
		remove_tree(env->dir);
	g_free(env->dir);
	g_free(env->socket_path);
	g_free(env->device);
	g_free(env->config_path);
	g_free(env->state_dir);
	g_free(env->run_dir);
	g_free(env);
}

/* A failed assertion aborts the test program before any teardown runs, and the test harness
 * may kill it: neither may leave a daemon behind. So every daemon gets a parent-death signal
 * (the kernel kills it when the test process dies, however), and the daemons still running
 * are killed by pid from a SIGABRT handler and at exit. Each entry remembers the process
 * that started it: a g_test_trap_subprocess() child inherits the table but must not kill
 * its parent's daemons when it exits. */
#define TEST_MAX_DAEMONS 64

static int parent_death_signal = SIGKILL;
static volatile pid_t live_pid[TEST_MAX_DAEMONS], live_owner[TEST_MAX_DAEMONS];
static struct sigaction previous_abort;
static bool kill_handlers_installed;

void test_daemon_set_parent_death_signal(int sig)
{
	parent_death_signal = sig;
}

static char *notify_socket;

void test_daemon_set_notify_socket(const char *path)
{
	g_free(notify_socket);
	notify_socket = g_strdup(path);
}

int test_notify_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

bool test_notify_wait(int fd, GString *seen, const char *want, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!strstr(seen->str, want)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char buf[4096];
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			g_string_append_printf(seen, "%s\n", buf);
		}
	}
	return true;
}

/* Async-signal-safe. */
static void kill_live_daemons(void)
{
	pid_t self = getpid();

	for (size_t i = 0; i < TEST_MAX_DAEMONS; i++)
		if (live_pid[i] > 0 && live_owner[i] == self)
			kill(live_pid[i], SIGKILL);
}

static void on_abort(int sig)
{
	kill_live_daemons();
	sigaction(SIGABRT, &previous_abort, NULL);
	raise(sig);
}

static void track_daemon(pid_t pid)
{
	if (!kill_handlers_installed) {
		struct sigaction sa = {.sa_handler = on_abort};

		sigemptyset(&sa.sa_mask);
		g_assert_cmpint(sigaction(SIGABRT, &sa, &previous_abort), ==, 0);
		g_assert_cmpint(atexit(kill_live_daemons), ==, 0);
		kill_handlers_installed = true;
	}
	for (size_t i = 0; i < TEST_MAX_DAEMONS; i++)
		if (live_pid[i] <= 0) {
			live_owner[i] = getpid();
			live_pid[i] = pid;
			return;
		}
	g_assert_not_reached(); /* more daemons at once than any test starts */
}

static void untrack_daemon(pid_t pid)
{
	for (size_t i = 0; i < TEST_MAX_DAEMONS; i++)
		if (live_pid[i] == pid && live_owner[i] == getpid())
			live_pid[i] = 0;
}

struct test_daemon *test_daemon_start(const struct test_env *env, const char *program,
				      const char *const *extra_args)
{
	struct test_daemon *d = g_new0(struct test_daemon, 1);
	g_autofree char *path = test_build_path(program);
	g_autofree char *base = g_path_get_basename(program);
	GPtrArray *argv = g_ptr_array_new();
	pid_t parent;
	int fd;

	d->log_path =
	    g_strdup_printf("%s/%s.%d.log", env->dir, base, g_random_int_range(0, 1 << 30));
	g_ptr_array_add(argv, path);
	g_ptr_array_add(argv, (char *)"-n");
	g_ptr_array_add(argv, (char *)"--config");
	g_ptr_array_add(argv, env->config_path);
	for (; extra_args && *extra_args; extra_args++)
		g_ptr_array_add(argv, (char *)*extra_args);
	g_ptr_array_add(argv, NULL);

	fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	g_assert_cmpint(fd, >=, 0);
	parent = getpid();
	d->pid = fork();
	g_assert_cmpint(d->pid, >=, 0);
	if (d->pid == 0) {
		if (parent_death_signal) {
			prctl(PR_SET_PDEATHSIG, parent_death_signal);
			if (getppid() != parent) /* the parent died before prctl() */
				_exit(127);
		}
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (notify_socket)
			g_setenv("NOTIFY_SOCKET", notify_socket, TRUE);
		else
			g_unsetenv("NOTIFY_SOCKET");
		g_unsetenv("WATCHDOG_USEC");
		g_unsetenv("JOURNAL_STREAM");
		execv(path, (char **)argv->pdata);
		_exit(127);
	}
	close(fd);
	track_daemon(d->pid);
	g_ptr_array_free(argv, TRUE);
	return d;
}

int test_pid_wait(pid_t pid, int timeout_ms, int *ret_status)
{
	int status, pidfd;
	struct pollfd p;

	/* A pidfd becomes readable when the child exits: a bounded wait without polling. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno; /* e.g. ESRCH: no such process (any more) */
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (waitpid(pid, &status, WNOHANG) != pid)
		return -ETIMEDOUT;
	if (ret_status)
		*ret_status = status;
	return 0;
}

int test_daemon_wait(struct test_daemon *d, int timeout_ms)
{
	int status;

	if (d->pid <= 0 || test_pid_wait(d->pid, timeout_ms, &status) < 0)
		return -1;
	untrack_daemon(d->pid);
	d->pid = 0;
	return status;
}

int test_run_quiet(const char *const *argv)
{
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
			      G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, NULL, NULL, &status, NULL))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void test_fill_up(const char *dir)
{
	g_autofree char *filler = g_build_filename(dir, "filler", NULL);
	int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	char buf[65536] = {0};

	g_assert_cmpint(fd, >=, 0);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	/* the last bytes of a partly used block */
	while (write(fd, buf, 1) > 0)
		;
	fsync(fd);
	close(fd);
}

int test_daemon_stop(struct test_daemon *d, int sig, int timeout_ms)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	status = test_daemon_wait(d, timeout_ms);
	if (status == -1 && d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		untrack_daemon(d->pid);
		d->pid = 0;
	}
	return status;
}

char *test_daemon_log(const struct test_daemon *d)
{
	char *text = NULL;

	if (!g_file_get_contents(d->log_path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

unsigned test_daemon_log_count(const struct test_daemon *d, const char *text)
{
	g_autofree char *log = test_daemon_log(d);
	unsigned n = 0;

	for (const char *p = strstr(log, text); p; p = strstr(p + 1, text))
		n++;
	return n;
}

void test_daemon_reload(const struct test_daemon *d, const char *text)
{
	unsigned before = test_daemon_log_count(d, text);
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	g_assert_cmpint(kill(d->pid, SIGHUP), ==, 0);
	while (test_daemon_log_count(d, text) == before) {
		if (g_get_monotonic_time() >= deadline) {
			g_autofree char *log = test_daemon_log(d);
			g_error("no \"%s\" within 10 s of SIGHUP; daemon log:\n%s", text, log);
		}
		g_usleep(20 * 1000);
	}
}

void test_daemon_free(struct test_daemon *d)
{
	if (!d)
		return;
	if (d->pid > 0) {
		kill(d->pid, SIGCONT);
		test_daemon_stop(d, SIGKILL, 2000);
	}
	g_free(d->log_path);
	g_free(d);
}

int test_journal_listen(const struct test_env *env, char **ret_path)
{
	g_autofree char *path = g_build_filename(env->dir, "journal.sock", NULL);
	int fd = test_notify_listen(path); /* a bound datagram socket, like the notify one */

	*ret_path = g_steal_pointer(&path);
	return fd;
}

/* True when one line of the record (lines "KEY=value") starts with prefix. */
static bool record_has_line(const char *record, const char *prefix)
{
	size_t len = strlen(prefix);

	for (const char *l = record; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, prefix, len) == 0)
			return true;
	return false;
}

bool test_journal_wait(int fd, const char *const *want, int timeout_ms, void (*idle)(void *),
		       void *userdata)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	g_autofree char *buf = g_malloc(65536);

	while (g_get_monotonic_time() < deadline) {
		ssize_t n = recv(fd, buf, 65535, MSG_DONTWAIT);
		bool all = true;

		if (n < 0) {
			if (idle)
				idle(userdata);
			else
				g_usleep(10 * 1000);
			continue;
		}
		buf[n] = '\0';
		for (const char *const *w = want; all && *w; w++)
			all = record_has_line(buf, *w);
		if (all)
			return true;
	}
	return false;
}
