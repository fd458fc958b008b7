/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helpers (see daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

char *test_build_path(const char *relpath)
{
	const char *builddir = g_getenv("HVGUEST_BUILDDIR");

	return g_build_filename(builddir ? builddir : ".", relpath, NULL);
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

static int parent_death_signal;

void test_daemon_set_parent_death_signal(int sig)
{
	parent_death_signal = sig;
}

struct test_daemon *test_daemon_start(const struct test_env *env, const char *program,
				      const char *const *extra_args)
{
	struct test_daemon *d = g_new0(struct test_daemon, 1);
	g_autofree char *path = test_build_path(program);
	g_autofree char *base = g_path_get_basename(program);
	GPtrArray *argv = g_ptr_array_new();
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
	d->pid = fork();
	g_assert_cmpint(d->pid, >=, 0);
	if (d->pid == 0) {
		if (parent_death_signal)
			prctl(PR_SET_PDEATHSIG, parent_death_signal);
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		g_unsetenv("NOTIFY_SOCKET");
		g_unsetenv("WATCHDOG_USEC");
		g_unsetenv("JOURNAL_STREAM");
		execv(path, (char **)argv->pdata);
		_exit(127);
	}
	close(fd);
	g_ptr_array_free(argv, TRUE);
	return d;
}

int test_pid_wait(pid_t pid, int timeout_ms, int *ret_status)
{
	int status, pidfd;
	struct pollfd p;

	/* A pidfd becomes readable when the child exits: a bounded wait without polling. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	g_assert_cmpint(pidfd, >=, 0);
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
