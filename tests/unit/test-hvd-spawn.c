/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/hvd-spawn.c: what a helper starts with (its own process
 * group, stdin /dev/null, stdout where asked, an empty signal mask, its argument), the
 * errno of a failed exec for both entry points, and that hvd_kill_children() kills and
 * reaps what a helper left behind, double-forked and setsid() ones included; and the runner
 * hvd_run(): argument and status, stderr, spawn errors, the deadline (the whole process group
 * killed), and output past its bound (cut and killed, or drained).
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvd-spawn.h"
#include "shared/time-util.h"

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

/* ---------------------------------------------------------------- hvd_run() */

static int run1(const char *path, const char *arg, unsigned flags, uint64_t timeout_usec,
		size_t max, char **ret_output, int *ret_status)
{
	const char *const argv[] = {path, arg, NULL};

	return hvd_run(argv, flags, now_usec() + timeout_usec, max, ret_output, ret_status);
}

static void test_run_output(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *ok =
	    write_file(dir, "ok", "#!/bin/sh\necho \"arg=$1 n=$#\"\nexit 3\n", 0755);
	g_autofree char *both =
	    write_file(dir, "both", "#!/bin/sh\necho out\necho err >&2\necho \"$2\"\n", 0755);
	g_autofree char *killed = write_file(dir, "killed", "#!/bin/sh\nkill -TERM $$\n", 0755);
	g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL;
	const char *const argv[] = {both, "one", "two words", NULL};
	int status = -1, null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC), saved_err = dup(2);

	/* The argument is passed verbatim (no shell: the metacharacters stay text); the exit
	 * status is reported. */
	g_assert_cmpint(run1(ok, "eth0;reboot", 0, G_USEC_PER_SEC * 5, 100, &out, &status), ==, 0);
	g_assert_cmpstr(out, ==, "arg=eth0;reboot n=1\n");
	g_assert_cmpint(status, ==, 3);
	/* Both optional outputs may be left out. */
	g_assert_cmpint(run1(ok, "x", 0, G_USEC_PER_SEC * 5, 100, NULL, NULL), ==, 0);

	/* stderr: inherited (here: /dev/null), or captured with HVD_RUN_STDERR. */
	g_assert_cmpint(null_fd, >=, 0);
	g_assert_cmpint(saved_err, >=, 0);
	g_assert_cmpint(dup2(null_fd, 2), ==, 2);
	g_assert_cmpint(hvd_run(argv, 0, now_usec() + G_USEC_PER_SEC * 5, 100, &out2, &status), ==,
			0);
	g_assert_cmpint(dup2(saved_err, 2), ==, 2);
	g_assert_cmpstr(out2, ==, "out\ntwo words\n");
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpint(
	    hvd_run(argv, HVD_RUN_STDERR, now_usec() + G_USEC_PER_SEC * 5, 100, &out3, &status), ==,
	    0);
	g_assert_cmpstr(out3, ==, "out\nerr\ntwo words\n");

	/* Ended by a signal: 128 + its number, as a shell says. */
	g_assert_cmpint(run1(killed, NULL, 0, G_USEC_PER_SEC * 5, 100, NULL, &status), ==, 0);
	g_assert_cmpint(status, ==, 128 + SIGTERM);

	close(null_fd);
	close(saved_err);
	g_assert_cmpint(unlink(ok), ==, 0);
	g_assert_cmpint(unlink(both), ==, 0);
	g_assert_cmpint(unlink(killed), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_run_errors(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *noexec = write_file(dir, "noexec", "#!/bin/sh\necho hi\n", 0644);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	const char *const empty[] = {NULL};
	char *out = (char *)"untouched";
	int status = -1;

	g_assert_cmpint(run1(missing, "eth0", 0, G_USEC_PER_SEC, 100, &out, &status), ==, -ENOENT);
	g_assert_cmpint(run1(noexec, "eth0", 0, G_USEC_PER_SEC, 100, &out, &status), ==, -EACCES);
	g_assert_cmpint(hvd_run(NULL, 0, now_usec() + G_USEC_PER_SEC, 100, &out, &status), ==,
			-EINVAL);
	g_assert_cmpint(hvd_run(empty, 0, now_usec() + G_USEC_PER_SEC, 100, &out, &status), ==,
			-EINVAL);
	g_assert_cmpint(run1(noexec, NULL, 1u << 7, G_USEC_PER_SEC, 100, &out, &status), ==,
			-EINVAL);
	g_assert_cmpstr(out, ==, "untouched");
	g_assert_cmpint(status, ==, -1);
	g_assert_cmpint(unlink(noexec), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/* Whether a live (not zombie) process of process group pgid is listed in /proc. */
static bool group_alive(pid_t pgid)
{
	g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
	const char *name;
	bool alive = false;

	g_assert_nonnull(d);
	while (!alive && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
		g_autofree char *text = NULL;
		const char *end;
		char state;
		int pgrp;

		if (!g_ascii_isdigit(name[0]) || !g_file_get_contents(path, &text, NULL, NULL))
			continue;
		end = strrchr(text, ')'); /* "pid (comm) state ppid pgrp ..." */
		if (end && sscanf(end + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == pgid &&
		    state != 'Z' && state != 'X')
			alive = true;
	}
	return alive;
}

/* Every member of the process group was killed: none is left running (an orphan's zombie
 * waits for whoever reaps it: init, which need not be prompt in a container). */
static void assert_group_gone(pid_t pgid)
{
	for (int i = 0; i < 500 && group_alive(pgid); i++)
		g_usleep(10 * 1000);
	g_assert_false(group_alive(pgid));
}

/* The pid a script wrote into path: its process group. */
static pid_t read_pid(const char *path)
{
	g_autofree char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return (pid_t)atoi(text);
}

static void test_run_timeout(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *pidfile = g_build_filename(dir, "pid", NULL);
	/* The script's child keeps the pipe open: the whole process group is killed. */
	g_autofree char *hang = write_file(
	    dir, "hang", "#!/bin/sh\necho $$ >\"$1\"\necho 10.0.0.1\nsleep 1000\n", 0755);
	g_autofree char *closes = write_file(
	    dir, "closes",
	    "#!/bin/sh\necho $$ >\"$1\"\necho 10.0.0.1\nexec >/dev/null\nexec sleep 1000\n", 0755);
	char *out = (char *)"untouched";
	uint64_t start = now_usec();

	g_assert_cmpint(run1(hang, pidfile, 0, 200 * 1000, 100, &out, NULL), ==, -ETIME);
	assert_group_gone(read_pid(pidfile)); /* the sleep is gone too */
	/* Closed its stdout but never exits: still a timeout. */
	g_assert_cmpint(run1(closes, pidfile, HVD_RUN_DRAIN, 200 * 1000, 100, &out, NULL), ==,
			-ETIME);
	assert_group_gone(read_pid(pidfile));
	g_assert_cmpstr(out, ==, "untouched");
	g_assert_cmpuint(now_usec() - start, <, 10 * G_USEC_PER_SEC);

	g_assert_cmpint(unlink(hang), ==, 0);
	g_assert_cmpint(unlink(closes), ==, 0);
	g_assert_cmpint(unlink(pidfile), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_run_too_much(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-hvd-spawn-XXXXXX", NULL);
	g_autofree char *flood =
	    write_file(dir, "flood", "#!/bin/sh\nwhile :; do echo 10.1.1.1; done\n", 0755);
	g_autofree char *oneline = write_file(
	    dir, "oneline", "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' x\nexit 4\n", 0755);
	g_autofree char *exact =
	    write_file(dir, "exact", "#!/bin/sh\nprintf '123456789\\n'\n", 0755);
	g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL, *out4 = NULL, *out5 = NULL;
	int status = -1;

	/* Lines of 9 bytes, bound 100: eleven whole lines (99 bytes), the child is killed. */
	g_assert_cmpint(run1(flood, "eth0", 0, 5 * G_USEC_PER_SEC, 100, &out, &status), ==, 0);
	g_assert_cmpuint(strlen(out), ==, 99);
	g_assert_true(g_str_has_suffix(out, "10.1.1.1\n"));
	g_assert_cmpint(status, ==, 128 + SIGKILL);
	/* One line longer than the bound: nothing whole fits. */
	g_assert_cmpint(run1(oneline, "eth0", 0, 5 * G_USEC_PER_SEC, 100, &out2, NULL), ==, 0);
	g_assert_cmpstr(out2, ==, "");
	/* Exactly at the bound is kept whole; one byte less cuts the line. */
	g_assert_cmpint(run1(exact, "eth0", 0, 5 * G_USEC_PER_SEC, 10, &out3, NULL), ==, 0);
	g_assert_cmpstr(out3, ==, "123456789\n");
	g_assert_cmpint(run1(exact, "eth0", 0, 5 * G_USEC_PER_SEC, 9, &out4, NULL), ==, 0);
	g_assert_cmpstr(out4, ==, "");

	/* HVD_RUN_DRAIN: the first 100 bytes as they are, and the program runs to its end. */
	g_assert_cmpint(
	    run1(oneline, "eth0", HVD_RUN_DRAIN, 5 * G_USEC_PER_SEC, 100, &out5, &status), ==, 0);
	g_assert_cmpuint(strlen(out5), ==, 100);
	g_assert_cmpuint(strspn(out5, "x"), ==, 100);
	g_assert_cmpint(status, ==, 4);

	g_assert_cmpint(unlink(flood), ==, 0);
	g_assert_cmpint(unlink(oneline), ==, 0);
	g_assert_cmpint(unlink(exact), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvd-spawn/spawn", test_spawn);
	g_test_add_func("/hvd-spawn/spawn-errors", test_spawn_errors);
	g_test_add_func("/hvd-spawn/spawn-fd", test_spawn_fd);
	g_test_add_func("/hvd-spawn/kill-children", test_kill_children);
	g_test_add_func("/hvd-spawn/run/output", test_run_output);
	g_test_add_func("/hvd-spawn/run/errors", test_run_errors);
	g_test_add_func("/hvd-spawn/run/timeout", test_run_timeout);
	g_test_add_func("/hvd-spawn/run/too-much", test_run_too_much);
	return g_test_run();
}
