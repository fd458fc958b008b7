/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/vss/hooks.c: which directory entries run, in what order, with what
 * argument; exit codes, the per-hook timeout and the run budget (the hook is killed), and
 * that hook output reaches the log line by line. Hooks are small sh scripts in a temporary
 * directory; nothing is frozen.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/common/log.h"
#include "daemons/vss/hooks.h"

struct fixture {
	char *dir, *trace;
};

static void add_hook(struct fixture *f, const char *name, const char *body, int mode)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);
	g_autofree char *text =
	    g_strdup_printf("#!/bin/sh\necho \"%s $*\" >>'%s'\n%s\n", name, f->trace, body);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("vss-hooks-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->trace = g_strconcat(f->dir, ".trace", NULL);
}

static void remove_tree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			remove_tree(p);
		else
			g_unlink(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(path);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	remove_tree(f->dir);
	g_unlink(f->trace);
	g_free(f->dir);
	g_free(f->trace);
}

static char *trace(struct fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->trace, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

static void test_list(struct fixture *f, gconstpointer data)
{
	char **names = NULL;
	size_t n = 99;

	add_hook(f, "20-b", "", 0755);
	add_hook(f, "10-a", "", 0700);
	add_hook(f, "B-upper", "", 0755);
	add_hook(f, "30-c.dpkg-old", "", 0755);
	add_hook(f, "31-c.dpkg-dist", "", 0755);
	add_hook(f, "40-d~", "", 0755);
	add_hook(f, "50-not-executable", "", 0644);
	add_hook(f, "60-f.rpmnew", "", 0755);
	add_hook(f, "61-f.rpmsave", "", 0755);
	add_hook(f, ".hidden", "", 0755);
	g_autofree char *sub = g_build_filename(f->dir, "70-directory", NULL);
	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);

	g_assert_cmpint(hooks_list(f->dir, &names, &n), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(names[0], ==, "10-a");
	g_assert_cmpstr(names[1], ==, "20-b");
	g_assert_cmpstr(names[2], ==, "B-upper"); /* bytewise: digits < upper case */
	g_assert_null(names[3]);
	strv_free(names);
	g_rmdir(sub);

	names = NULL;
	g_assert_cmpint(hooks_list("/nonexistent/vss-hooks.d", &names, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_null(names[0]);
	strv_free(names);
	g_assert_true(hooks_name_ignored("x.rpmorig"));
	g_assert_true(hooks_name_ignored("x.ucf-dist"));
	g_assert_false(hooks_name_ignored("50-mysql"));
}

/* stderr (the log) into a file until capture_end(), which returns what was written. */
static int capture_begin(struct fixture *f)
{
	g_autofree char *log = g_strconcat(f->dir, ".log", NULL);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), saved = dup(2);

	g_assert_cmpint(fd, >=, 0);
	dup2(fd, 2);
	close(fd);
	return saved;
}

static char *capture_end(struct fixture *f, int saved)
{
	g_autofree char *log = g_strconcat(f->dir, ".log", NULL);
	char *text = NULL;

	dup2(saved, 2);
	close(saved);
	g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
	g_unlink(log);
	return text;
}

/* Runs names from dir blocking with stderr captured; returns the captured text. */
static char *run_captured_in(struct fixture *f, const char *dir, const char *arg,
			     const char *const *names, uint64_t timeout, uint64_t budget, bool *ok)
{
	struct hook_run_config c = {
	    .dir = dir, .argument = arg, .timeout_usec = timeout, .budget_usec = budget};
	int saved = capture_begin(f);

	g_assert_cmpint(hook_run_blocking(&c, names, ok), ==, 0);
	return capture_end(f, saved);
}

static char *run_captured(struct fixture *f, const char *arg, const char *const *names,
			  uint64_t timeout, uint64_t budget, bool *ok)
{
	return run_captured_in(f, f->dir, arg, names, timeout, budget, ok);
}

/* hooks_list(dir) with the log captured: the names found, comma-separated (g_free). */
static char *list_captured(struct fixture *f, const char *dir, char **ret_log)
{
	int saved = capture_begin(f);
	char **names = NULL, *joined;
	size_t n = 0;

	g_assert_cmpint(hooks_list(dir, &names, &n), ==, 0);
	*ret_log = capture_end(f, saved);
	joined = g_strjoinv(",", names);
	strv_free(names);
	return joined;
}

static void test_order_argument_output(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"20-b", "10-a", NULL};
	bool ok = false;

	add_hook(f, "10-a", "echo \"out of a: $1\"; echo 'err of a' >&2; printf 'no newline'",
		 0755);
	add_hook(f, "20-b", "echo line1; echo line2", 0755);
	g_autofree char *log = run_captured(f, "thaw", names, 5000000, 10000000, &ok);
	g_autofree char *t = trace(f);

	g_assert_true(ok);
	g_assert_cmpstr(t, ==, "20-b thaw\n10-a thaw\n");
	g_assert_nonnull(strstr(log, "hook 10-a thaw: out of a: thaw\n"));
	g_assert_nonnull(strstr(log, "hook 10-a thaw: err of a\n"));
	g_assert_nonnull(strstr(log, "hook 10-a thaw: no newline\n"));
	g_assert_nonnull(strstr(log, "hook 20-b thaw: line1\n"));
	g_assert_true(strstr(log, "line1") < strstr(log, "line2"));
	g_assert_true(strstr(log, "line2") < strstr(log, "out of a"));
}

static void test_failure_goes_on(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"10-fails", "20-ok", "30-missing", NULL};
	bool ok = true;

	add_hook(f, "10-fails", "exit 3", 0755);
	add_hook(f, "20-ok", "exit 0", 0755);
	g_autofree char *log = run_captured(f, "freeze", names, 5000000, 10000000, &ok);
	g_autofree char *t = trace(f);

	g_assert_false(ok);
	g_assert_cmpstr(t, ==, "10-fails freeze\n20-ok freeze\n");
	g_assert_nonnull(strstr(log, "hook 10-fails freeze failed: exit 3"));
	g_assert_nonnull(strstr(log, "cannot run hook"));
}

static void test_timeout_kills(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"10-slow", "20-after", NULL};
	g_autofree char *pidfile = g_build_filename(f->dir, "child.pid", NULL);
	g_autofree char *body = g_strdup_printf("sleep 60 & echo $! >'%s'; wait", pidfile);
	g_autofree char *pid_text = NULL;
	bool ok = true;

	add_hook(f, "10-slow", body, 0755);
	add_hook(f, "20-after", "", 0755);
	g_autofree char *log = run_captured(f, "freeze", names, 300000, 10000000, &ok);
	g_autofree char *t = trace(f);

	g_assert_false(ok);
	g_assert_nonnull(strstr(log, "hook 10-slow freeze failed: timeout"));
	/* the next hook still runs: the budget is not used up */
	g_assert_cmpstr(t, ==, "10-slow freeze\n20-after freeze\n");
	/* the whole process group was killed, the background sleep too */
	g_assert_true(g_file_get_contents(pidfile, &pid_text, NULL, NULL));
	pid_t pid = (pid_t)g_ascii_strtoll(pid_text, NULL, 10);
	g_assert_cmpint(pid, >, 1);
	/* it may take a moment to be reaped (by the runner, a subreaper), but it cannot
	 * run: kill(0) ESRCH or a zombie; check /proc state instead of timing */
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
	gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	char state = 0;
	/* SIGKILL to a group is delivered asynchronously: allow a bounded moment for the
	 * grandchild to die before judging its state. */
	for (;;) {
		g_autofree char *stat = NULL;
		if (!g_file_get_contents(stat_path, &stat, NULL, NULL)) {
			state = 0; /* gone */
			break;
		}
		const char *end = strrchr(stat, ')');
		g_assert_nonnull(end);
		state = end[2];
		if (state == 'Z' || state == 'X' || g_get_monotonic_time() >= deadline)
			break;
		g_usleep(1000);
	}
	if (state)
		g_assert_true(state == 'Z' || state == 'X');
}

static void test_budget(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"10-slow", "20-never", NULL};
	struct hook_run_config c = {0};
	bool ok = true;

	add_hook(f, "10-slow", "exec sleep 60", 0755);
	add_hook(f, "20-never", "", 0755);
	g_autofree char *log = run_captured(f, "freeze", names, 60000000, 300000, &ok);
	g_autofree char *t = trace(f);

	g_assert_false(ok);
	g_assert_cmpstr(t, ==, "10-slow freeze\n");
	g_assert_nonnull(strstr(log, "hook 10-slow freeze failed: timeout"));
	g_assert_nonnull(strstr(log, "hook budget used up: 1 hook(s) not run with freeze"));
	(void)c;
}

/* Each kind of hook that must not run as root, listed and run by name (a hook changed after
 * the listing is checked again before it runs), next to a good one that runs. */
static void test_refused_hooks(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {
	    "10-good",        "20-group-writable",   "30-world-writable", "40-symlink",
	    "50-other-owner", "60-symlink-dangling", "70-fifo",           NULL};
	g_autofree char *target = g_build_filename(f->dir, ".target", NULL);
	g_autofree char *link = g_build_filename(f->dir, "40-symlink", NULL);
	g_autofree char *dangling = g_build_filename(f->dir, "60-symlink-dangling", NULL);
	g_autofree char *fifo = g_build_filename(f->dir, "70-fifo", NULL);
	g_autofree char *other = g_build_filename(f->dir, "50-other-owner", NULL);
	g_autofree char *log = NULL, *listed = NULL, *t = NULL;
	bool root = geteuid() == 0, ok = true;

	add_hook(f, "10-good", "", 0755);
	add_hook(f, "20-group-writable", "", 0775);
	add_hook(f, "30-world-writable", "", 0757);
	add_hook(f, ".target", "", 0755); /* hidden: not a hook itself */
	g_assert_cmpint(symlink(target, link), ==, 0);
	g_assert_cmpint(symlink("/nonexistent/hook", dangling), ==, 0);
	g_assert_cmpint(mkfifo(fifo, 0755), ==, 0);
	add_hook(f, "50-other-owner", "", 0755);
	if (root)
		g_assert_cmpint(chown(other, 65534, 65534), ==, 0);
	else
		g_test_message("not root: 50-other-owner is owned by us, the daemon's user");

	listed = list_captured(f, f->dir, &log);
	g_assert_cmpstr(listed, ==, root ? "10-good" : "10-good,50-other-owner");
	g_assert_nonnull(strstr(log, "20-group-writable refused: writable by group or others"));
	g_assert_nonnull(strstr(log, "30-world-writable refused: writable by group or others"));
	g_assert_nonnull(strstr(log, "40-symlink refused: a symbolic link"));
	g_assert_nonnull(strstr(log, "60-symlink-dangling refused: a symbolic link"));
	g_assert_null(strstr(log, "70-fifo")); /* not an executable file: not a hook, quietly */
	if (root)
		g_assert_nonnull(strstr(log, "50-other-owner refused: owned by another user"));
	g_free(log);

	log = run_captured(f, "freeze", names, 5000000, 10000000, &ok);
	t = trace(f);
	g_assert_false(ok);
	g_assert_cmpstr(t, ==,
			root ? "10-good freeze\n" : "10-good freeze\n50-other-owner freeze\n");
	g_assert_nonnull(strstr(
	    log, "20-group-writable refused when about to run: writable by group or others"));
	g_assert_nonnull(strstr(
	    log, "30-world-writable refused when about to run: writable by group or others"));
	g_assert_nonnull(strstr(log, "40-symlink refused when about to run: a symbolic link"));
	g_assert_nonnull(
	    strstr(log, "60-symlink-dangling refused when about to run: a symbolic link"));
	g_assert_nonnull(strstr(log, "70-fifo refused when about to run: not a regular file"));
	g_assert_null(strstr(log, "cannot run hook")); /* each refusal is logged once */
	if (root)
		g_assert_nonnull(
		    strstr(log, "50-other-owner refused when about to run: owned by another user"));
}

/* The hook's pid file, once the hook has written it; the process must be gone (reaped,
 * not a zombie) after the run. A survivor is killed here, then the test fails. */
static void assert_gone(const char *pidfile)
{
	g_autofree char *text = NULL;
	pid_t pid;
	bool alive;

	g_assert_true(g_file_get_contents(pidfile, &text, NULL, NULL));
	pid = (pid_t)g_ascii_strtoll(text, NULL, 10);
	g_assert_cmpint(pid, >, 1);
	alive = kill(pid, 0) == 0;
	if (alive)
		kill(pid, SIGKILL);
	g_assert_false(alive);
}

/* "setsid sh -c ..." started in the background, its pid in pidfile, waited for. */
static char *setsid_body(const char *pidfile, const char *then)
{
	return g_strdup_printf("setsid sh -c 'echo $$ >\"%s\"; exec sleep 60' &\n"
			       "while [ ! -s '%s' ]; do sleep 0.01; done\n%s",
			       pidfile, pidfile, then);
}

/* A hook's child that left the process group with setsid() is killed with the hook at its
 * timeout, and one left behind by a hook that exited is killed then. */
static void test_setsid_child_killed(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"10-slow", "20-leaves", NULL};
	g_autofree char *pid_slow = g_build_filename(f->dir, "slow.pid", NULL);
	g_autofree char *pid_leaves = g_build_filename(f->dir, "leaves.pid", NULL);
	g_autofree char *slow = setsid_body(pid_slow, "exec sleep 60");
	g_autofree char *leaves = setsid_body(pid_leaves, "exit 0");
	g_autofree char *log = NULL;
	bool ok = true;

	add_hook(f, "10-slow", slow, 0755);
	add_hook(f, "20-leaves", leaves, 0755);
	log = run_captured(f, "freeze", names, 1000000, 10000000, &ok);
	g_assert_false(ok);
	g_assert_nonnull(strstr(log, "hook 10-slow freeze failed: timeout"));
	g_assert_nonnull(strstr(log, "hook 10-slow freeze left 1 process(es) behind: killed"));
	g_assert_nonnull(strstr(log, "hook 20-leaves freeze: ok"));
	g_assert_nonnull(strstr(log, "hook 20-leaves freeze left 1 process(es) behind: killed"));
	assert_gone(pid_slow);
	assert_gone(pid_leaves);
}

/* A good hook that is a binary, not a script, runs through fexecve too. */
static void test_binary_hook(struct fixture *f, gconstpointer data)
{
	const char *const names[] = {"10-true", NULL};
	g_autofree char *path = g_build_filename(f->dir, "10-true", NULL);
	g_autofree char *contents = NULL, *log = NULL;
	gsize len = 0;
	bool ok = false;

	g_assert_true(g_file_get_contents("/bin/true", &contents, &len, NULL));
	g_assert_true(g_file_set_contents(path, contents, (gssize)len, NULL));
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	log = run_captured(f, "freeze", names, 5000000, 10000000, &ok);
	g_assert_true(ok);
	g_assert_nonnull(strstr(log, "hook 10-true freeze: ok"));
}

/* dir/sub.../hooks/10-good, with the directories made and chmod-ed as given. */
static char *make_tree(struct fixture *f, const char *const *dirs, const int *modes)
{
	char *path = g_strdup(f->dir);
	g_autofree char *hook = NULL, *text = NULL;

	for (size_t i = 0; dirs[i]; i++) {
		char *next = g_build_filename(path, dirs[i], NULL);

		g_free(path);
		path = next;
		g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
		g_assert_cmpint(g_chmod(path, modes[i]), ==, 0);
	}
	hook = g_build_filename(path, "10-good", NULL);
	text = g_strdup_printf("#!/bin/sh\necho \"$1\" >>'%s'\n", f->trace);
	g_assert_true(g_file_set_contents(hook, text, -1, NULL));
	g_assert_cmpint(g_chmod(hook, 0755), ==, 0);
	return path;
}

/* The hook runs (listed and run) exactly when want_ok; else the reason is logged. */
static void check_tree(struct fixture *f, const char *dir, bool want_ok, const char *reason)
{
	const char *const names[] = {"10-good", NULL};
	g_autofree char *log = NULL, *listed = NULL, *run_log = NULL, *t = NULL;
	bool ok = false;

	g_unlink(f->trace);
	listed = list_captured(f, dir, &log);
	run_log = run_captured_in(f, dir, "freeze", names, 5000000, 10000000, &ok);
	t = trace(f);
	if (want_ok) {
		g_assert_cmpstr(listed, ==, "10-good");
		g_assert_true(ok);
		g_assert_cmpstr(t, ==, "freeze\n");
		g_assert_null(strstr(log, "refused"));
		return;
	}
	g_assert_cmpstr(listed, ==, "");
	g_assert_false(ok);
	g_assert_cmpstr(t, ==, "");
	g_assert_nonnull(strstr(log, "hook directory "));
	g_assert_nonnull(strstr(log, reason));
	g_assert_nonnull(strstr(run_log, "10-good refused when about to run: "));
	g_assert_nonnull(strstr(run_log, reason));
}

/* Every directory from / down to the hook: owner, mode, symbolic links. */
static void test_refused_directories(struct fixture *f, gconstpointer data)
{
	g_autofree char *good = make_tree(f, (const char *const[]){"good", NULL}, (int[]){0755});
	g_autofree char *open_dir =
	    make_tree(f, (const char *const[]){"open", NULL}, (int[]){0777});
	g_autofree char *group_dir =
	    make_tree(f, (const char *const[]){"group", NULL}, (int[]){0775});
	g_autofree char *under_open =
	    make_tree(f, (const char *const[]){"wide", "hooks", NULL}, (int[]){0777, 0755});
	g_autofree char *under_sticky =
	    make_tree(f, (const char *const[]){"sticky", "hooks", NULL}, (int[]){01777, 0755});
	g_autofree char *sticky_self =
	    make_tree(f, (const char *const[]){"sticky-self", NULL}, (int[]){01777});
	g_autofree char *link = g_build_filename(f->dir, "link", NULL);
	g_autofree char *via_link = g_build_filename(link, "hooks", NULL);
	g_autofree char *reason = NULL;

	g_autofree char *sticky = g_path_get_dirname(under_sticky);
	g_assert_cmpint(symlink(sticky, link), ==, 0); /* .../link/hooks is .../sticky/hooks */
	check_tree(f, good, true, NULL);
	check_tree(f, under_sticky, true, NULL); /* like /tmp */
	reason = g_strdup_printf("%s is writable by group or others", open_dir);
	check_tree(f, open_dir, false, reason);
	g_clear_pointer(&reason, g_free);
	reason = g_strdup_printf("%s is writable by group or others", group_dir);
	check_tree(f, group_dir, false, reason);
	g_clear_pointer(&reason, g_free);
	reason = g_strdup_printf("%s/wide is writable by group or others", f->dir);
	check_tree(f, under_open, false, reason);
	g_clear_pointer(&reason, g_free);
	reason = g_strdup_printf("%s is writable by group or others", sticky_self);
	check_tree(f, sticky_self, false, reason); /* the hook directory itself: no exception */
	g_clear_pointer(&reason, g_free);
	reason = g_strdup_printf("%s is a symbolic link", link);
	check_tree(f, via_link, false, reason);
	g_clear_pointer(&reason, g_free);
	if (geteuid() != 0) {
		g_test_message("not root: no directory owned by another user");
		return;
	}
	g_autofree char *other =
	    make_tree(f, (const char *const[]){"other", "hooks", NULL}, (int[]){0755, 0755});
	g_autofree char *other_parent = g_path_get_dirname(other);
	g_assert_cmpint(chown(other_parent, 65534, 65534), ==, 0);
	reason = g_strdup_printf("%s is owned by another user", other_parent);
	check_tree(f, other, false, reason);
}

static void test_describe(void)
{
	char buf[64];
	struct hook_result r = {.name = (char *)"h"};

	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=not run");
	r.started = true;
	r.wait_status = 0;
	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=ok");
	r.wait_status = 7 << 8;
	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=exit 7");
	r.wait_status = SIGSEGV;
	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=signal 11");
	r.timed_out = true;
	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=timeout");
	r.spawn_error = ENOENT;
	hook_result_describe(&r, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "h=cannot run (No such file or directory)");
}

int main(int argc, char **argv)
{
	sigset_t mask;

	/* as hv-vssd does: sd-event watches the hook processes */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* every refusal is asserted on, more than a burst of them */
	log_set_ratelimit(0, 0);
	g_test_init(&argc, &argv, NULL);
	g_test_add("/vss-hooks/list", struct fixture, NULL, setup, test_list, teardown);
	g_test_add("/vss-hooks/order-argument-output", struct fixture, NULL, setup,
		   test_order_argument_output, teardown);
	g_test_add("/vss-hooks/failure-goes-on", struct fixture, NULL, setup, test_failure_goes_on,
		   teardown);
	g_test_add("/vss-hooks/timeout-kills", struct fixture, NULL, setup, test_timeout_kills,
		   teardown);
	g_test_add("/vss-hooks/budget", struct fixture, NULL, setup, test_budget, teardown);
	g_test_add("/vss-hooks/refused-hooks", struct fixture, NULL, setup, test_refused_hooks,
		   teardown);
	g_test_add("/vss-hooks/refused-directories", struct fixture, NULL, setup,
		   test_refused_directories, teardown);
	g_test_add("/vss-hooks/binary-hook", struct fixture, NULL, setup, test_binary_hook,
		   teardown);
	g_test_add("/vss-hooks/setsid-child-killed", struct fixture, NULL, setup,
		   test_setsid_child_killed, teardown);
	g_test_add_func("/vss-hooks/describe", test_describe);
	return g_test_run();
}
