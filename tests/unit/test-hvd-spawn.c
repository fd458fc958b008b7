/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/hvd-spawn.c: what a helper starts with (its own process
 * group, stdin /dev/null, stdout where asked, an empty signal mask, its argument), the
 * errno of a failed exec for both entry points, and that hvd_kill_children() kills and
 * reaps what a helper left behind, double-forked and setsid() ones included.
 *
 * hvd_kill_children() kills every child of the calling process and the subreaper flag
 * cannot be cleared, so that test runs in a GTest subprocess whose only children are the
 * test's own helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvd-spawn.h"

static char *write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(chmod(path, mode), ==, 0);
	return path;
}

static int wait_exit(pid_t pid)
{
	int status;

	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Reads all a helper writes to the pipe, then waits for it: its exit status must be 0. */
static char *run_and_read(pid_t pid, int rfd)
{
	GString *out = g_string_new(NULL);
	char buf[256];
	ssize_t n;

	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	g_assert_cmpint(n, ==, 0);
	close(rfd);
	g_assert_cmpint(wait_exit(pid), ==, 0);
	return g_string_free(out, FALSE);
}

/* The helper reports its pid, pgid (field 5 of /proc/self/stat), blocked signals, where its
 * stdin leads and its argument. */
static const char probe[] = "#!/bin/sh\n"
			    "set -e\n"
			    "read -r pid comm state ppid pgid rest </proc/$$/stat\n"
			    "blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status)\n"
			    "echo \"$pid $pgid $blk $(readlink /proc/$$/fd/0) [$1]\"\n";

static void check_probe(pid_t pid, int rfd, const char *arg)
{
	g_autofree char *out = run_and_read(pid, rfd);
	g_autofree char *want =
	    g_strdup_printf("%d %d 0000000000000000 /dev/null [%s]\n", (int)pid, (int)pid, arg);

	g_assert_cmpstr(out, ==, want);
}

static void test_spawn(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *script = write_file(dir, "probe", probe, 0755);
	sigset_t blocked, old;
	int p[2];
	pid_t pid = 0;

	/* whatever the daemon blocks, the helper starts with an empty mask */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGUSR1);
	g_assert_cmpint(sigprocmask(SIG_BLOCK, &blocked, &old), ==, 0);

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(hvd_spawn(script, "freeze", p[1], -1, &pid), ==, 0);
	close(p[1]);
	check_probe(pid, p[0], "freeze");

	/* NULL argument: "" */
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(hvd_spawn(script, NULL, p[1], -1, &pid), ==, 0);
	close(p[1]);
	check_probe(pid, p[0], "");

	g_assert_cmpint(sigprocmask(SIG_SETMASK, &old, NULL), ==, 0);
	g_assert_cmpint(unlink(script), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_spawn_errors(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	g_autofree char *noexec = write_file(dir, "noexec", probe, 0644);
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = 0;

	g_assert_cmpint(null_fd, >=, 0);

	g_assert_cmpint(hvd_spawn(missing, NULL, null_fd, -1, &pid), ==, -ENOENT);
	/* no x bit: EACCES for root too */
	g_assert_cmpint(hvd_spawn(noexec, NULL, null_fd, -1, &pid), ==, -EACCES);
	g_assert_cmpint(unlink(noexec), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
	close(null_fd);
}

static void test_spawn_fd(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *script = write_file(dir, "probe", probe, 0755);
	g_autofree char *garbage = write_file(dir, "garbage",
					      "\x7f"
					      "ELF not really\n",
					      0755);
	g_autofree char *noexec = write_file(dir, "noexec", probe, 0644);
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC), fd, p[2];
	pid_t pid = 0;

	g_assert_cmpint(null_fd, >=, 0);

	fd = open(script, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	/* what runs is the file open at fd, whatever its path leads to by then */
	g_assert_cmpint(unlink(script), ==, 0);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(hvd_spawn_fd(fd, "probe", "thaw", p[1], -1, &pid), ==, 0);
	close(p[1]);
	check_probe(pid, p[0], "thaw");
	close(fd);

	fd = open(garbage, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(hvd_spawn_fd(fd, "garbage", NULL, null_fd, -1, &pid), ==, -ENOEXEC);
	close(fd);

	fd = open(noexec, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(hvd_spawn_fd(fd, "noexec", NULL, null_fd, -1, &pid), ==, -EACCES);
	close(fd);

	g_assert_cmpint(unlink(garbage), ==, 0);
	g_assert_cmpint(unlink(noexec), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
	close(null_fd);
}

/* The helper leaves two sleepers behind, one of them in a new session, and exits. */
static const char leaver[] = "#!/bin/sh\n"
			     "sleep 300 </dev/null >/dev/null 2>&1 &\n"
			     "setsid sleep 300 </dev/null >/dev/null 2>&1 &\n"
			     "echo started\n";

static void kill_children_subprocess(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *script = write_file(dir, "leaver", leaver, 0755);
	g_autofree char *out = NULL;
	int p[2];
	pid_t pid = 0;

	g_assert_cmpint(hvd_become_subreaper(), ==, 0);
	g_assert_cmpint(hvd_kill_children(0, 5000000), ==, 0); /* nothing to kill */
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(hvd_spawn(script, NULL, p[1], -1, &pid), ==, 0);
	close(p[1]);
	out = run_and_read(pid, p[0]); /* the sleepers closed stdout: EOF once the helper exits */
	g_assert_cmpstr(out, ==, "started\n");

	/* both orphans are now our children; killed and reaped, nothing is left */
	g_assert_cmpint(hvd_kill_children(0, 5000000), ==, 2);
	g_assert_cmpint(waitpid(-1, NULL, WNOHANG), ==, -1);
	g_assert_cmpint(errno, ==, ECHILD);
	g_assert_cmpint(unlink(script), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_kill_children(void)
{
	if (g_test_subprocess()) {
		kill_children_subprocess();
		return;
	}
	g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvd-spawn/spawn", test_spawn);
	g_test_add_func("/hvd-spawn/spawn-errors", test_spawn_errors);
	g_test_add_func("/hvd-spawn/spawn-fd", test_spawn_fd);
	g_test_add_func("/hvd-spawn/kill-children", test_kill_children);
	return g_test_run();
}
