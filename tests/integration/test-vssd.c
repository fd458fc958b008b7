/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the real hv-vssd binary against the simulated host (hvsim) in this process,
 * freezing REAL file systems: small ext4 and xfs images this test makes and loop-mounts.
 *
 * Safety (the rules of DEVELOPERS.md, "Safety on these machines"):
 *   - main() moves the whole test into a private mount namespace (unshare(CLONE_NEWNS),
 *     then / made MS_REC|MS_PRIVATE) before anything else; the daemons inherit it;
 *   - every config sets scope= to the test's own directory and include= to its own mounts;
 *   - before EVERY FREEZE, `hv-vssd --plan` with the same config is run and must list
 *     exactly the test's mounts, else the test fails before sending the FREEZE;
 *   - the teardown always thaws (fsfreeze -u) and unmounts the test's mounts, even after a
 *     failed assertion (teardown runs in any case), and the images are deleted.
 * Without root, or when a private namespace cannot be made, every test is skipped.
 *
 * Waiting is always bounded: a write to a frozen mount is "blocked" when the writing child
 * has not finished after WRITE_BLOCK_MS; a wait for a daemon status runs the simulated
 * host's loop until the status arrives on the NOTIFY_SOCKET or a deadline passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define WRITE_BLOCK_MS 300
#define WRITE_DONE_MS 20000
#define MAX_MOUNTS 8
#define MAX_WRITERS 16

static bool can_run;
static const char *skip_reason = "";

struct mnt {
	char *img, *path;
};

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	char *scope, *hooks, *trace, *notify_path, *log_path;
	int notify_fd;
	pid_t daemon;
	struct mnt mounts[MAX_MOUNTS];
	size_t n_mounts;
	pid_t writers[MAX_WRITERS];
	size_t n_writers;
	GString *statuses; /* every STATUS= seen, one per line */
	sd_event_source *notify_source;
};

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* A failed assertion aborts the test program before any teardown: this handler thaws the
 * test's own mounts (open + FITHAW, async-signal-safe) and kills the daemon first, so that
 * nothing the test froze stays frozen. */
static char abort_paths[MAX_MOUNTS][512];
static volatile pid_t abort_daemon;

static void on_abort(int sig)
{
	for (size_t i = 0; i < MAX_MOUNTS; i++) {
		int fd;

		if (!abort_paths[i][0])
			continue;
		fd = open(abort_paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			ioctl(fd, FITHAW, 0);
			close(fd);
		}
	}
	if (abort_daemon > 0)
		kill(abort_daemon, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---------------------------------------------------------------- processes */

static int run_cmd_flags(const char *const *argv, char **out, GSpawnFlags flags)
{
	g_autoptr(GError) error = NULL;
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | flags, NULL, NULL, out,
			  NULL, &status, &error))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int run_cmd(const char *const *argv, char **out)
{
	return run_cmd_flags(argv, out, 0);
}

/* A child that creates and writes a file on dir and fsyncs it. */
static pid_t start_writer(struct fixture *f, const char *dir)
{
	g_autofree char *path = g_strdup_printf("%s/written-%zu", dir, f->n_writers);
	pid_t pid;

	g_assert_cmpuint(f->n_writers, <, MAX_WRITERS);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		char buf[4096];
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		memset(buf, 'x', sizeof(buf));
		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
			_exit(1);
		_exit(0);
	}
	f->writers[f->n_writers++] = pid;
	return pid;
}

static void assert_blocked(pid_t pid)
{
	g_assert_cmpint(test_pid_wait(pid, WRITE_BLOCK_MS, NULL), ==, -ETIMEDOUT);
}

static void assert_completes(pid_t pid)
{
	int status = -1;

	g_assert_cmpint(test_pid_wait(pid, WRITE_DONE_MS, &status), ==, 0);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void assert_writable(struct fixture *f, const char *dir)
{
	assert_completes(start_writer(f, dir));
}

/* ---------------------------------------------------------------- mounts */

/* Registers a mount of the test at path: the teardown (and the abort handler) thaws and
 * unmounts it and deletes img (taken over, may be NULL). */
static const char *add_mnt(struct fixture *f, const char *path, char *img)
{
	struct mnt *m = &f->mounts[f->n_mounts];

	g_assert_cmpuint(f->n_mounts, <, MAX_MOUNTS);
	g_assert_cmpuint(strlen(path), <, sizeof(abort_paths[0]));
	strcpy(abort_paths[f->n_mounts], path);
	m->path = g_strdup(path);
	m->img = img;
	f->n_mounts++;
	return m->path;
}

/* A new file system image in the test's directory (g_free). */
static char *make_image(struct fixture *f, const char *name, const char *fstype)
{
	g_autofree char *base = g_path_get_basename(name);
	char *img = g_strdup_printf("%s/%s.img", f->env->dir, base);
	const char *size = strcmp(fstype, "xfs") == 0 ? "300M" : "64M";

	g_assert_cmpint(run_cmd((const char *const[]){"truncate", "-s", size, img, NULL}, NULL), ==,
			0);
	if (strcmp(fstype, "xfs") == 0)
		g_assert_cmpint(
		    run_cmd((const char *const[]){"mkfs.xfs", "-q", "-f", img, NULL}, NULL), ==, 0);
	else
		g_assert_cmpint(
		    run_cmd((const char *const[]){"mkfs.ext4", "-q", "-F", img, NULL}, NULL), ==,
		    0);
	return img;
}

static const char *make_mount(struct fixture *f, const char *name, const char *fstype)
{
	g_autofree char *path = g_build_filename(f->scope, name, NULL);
	char *img;

	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	if (strcmp(fstype, "tmpfs") == 0) {
		g_assert_cmpint(mount("tmpfs", path, "tmpfs", 0, "size=1m"), ==, 0);
		return add_mnt(f, path, NULL);
	}
	img = make_image(f, name, fstype);
	g_assert_cmpint(
	    run_cmd((const char *const[]){"mount", "-o", "loop", "-t", fstype, img, path, NULL},
		    NULL),
	    ==, 0);
	return add_mnt(f, path, img);
}

static void unmake_mounts(struct fixture *f)
{
	/* thaw first: a writer or the daemon may be blocked on them */
	for (size_t i = 0; i < f->n_mounts; i++)
		run_cmd_flags((const char *const[]){"fsfreeze", "-u", f->mounts[i].path, NULL},
			      NULL, G_SPAWN_STDERR_TO_DEV_NULL); /* EINVAL: not frozen, fine */
	for (size_t i = 0; i < f->n_writers; i++)
		if (test_pid_wait(f->writers[i], 5000, NULL) < 0) {
			kill(f->writers[i], SIGKILL);
			test_pid_wait(f->writers[i], 5000, NULL);
		}
	for (size_t i = f->n_mounts; i-- > 0;) {
		if (umount(f->mounts[i].path) < 0)
			umount2(f->mounts[i].path, MNT_DETACH);
		if (f->mounts[i].img)
			g_unlink(f->mounts[i].img);
		g_free(f->mounts[i].img);
		g_free(f->mounts[i].path);
		abort_paths[i][0] = '\0';
	}
	f->n_mounts = 0;
}

/* ---------------------------------------------------------------- config and daemon */

static void write_config(struct fixture *f, const char *extra)
{
	g_autofree char *cfg = g_strdup_printf("scope=%s\ninclude=%s/*\nhooks-dir=%s\n%s", f->scope,
					       f->scope, f->hooks, extra ? extra : "");

	test_env_write_config(f->env, cfg);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!can_run)
		return;
	f->env = test_env_new(VMU_SERVICE_VSS, NULL);
	f->scope = g_build_filename(f->env->dir, "mnt", NULL);
	f->hooks = g_build_filename(f->env->dir, "hooks", NULL);
	f->trace = g_build_filename(f->env->dir, "trace", NULL);
	f->notify_path = g_build_filename(f->env->dir, "notify.sock", NULL);
	f->log_path = g_build_filename(f->env->dir, "hv-vssd.log", NULL);
	f->statuses = g_string_new("");
	g_assert_cmpint(g_mkdir(f->scope, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(f->hooks, 0755), ==, 0);
	write_config(f, NULL);
	f->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	g_assert_cmpint(f->notify_fd, >=, 0);
	g_strlcpy(sa.sun_path, f->notify_path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(f->notify_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_VSS, f->env->socket_path), ==, 0);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
	g_assert_cmpint(sd_event_add_io(hvsim_event(f->sim), &f->notify_source, f->notify_fd,
					EPOLLIN, on_notify, f),
			>=, 0);
}

static void daemon_kill(struct fixture *f, int sig)
{
	if (f->daemon <= 0)
		return;
	kill(f->daemon, sig);
	if (test_pid_wait(f->daemon, 10000, NULL) < 0) {
		kill(f->daemon, SIGKILL);
		test_pid_wait(f->daemon, 10000, NULL);
	}
	f->daemon = 0;
}

static char *daemon_log(struct fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->log_path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	if (!can_run)
		return;
	/* The daemon thaws what it froze when stopped; the mounts are thawed by hand after. */
	daemon_kill(f, SIGTERM);
	unmake_mounts(f);
	if (g_test_failed()) {
		g_autofree char *log = daemon_log(f);
		g_test_message("daemon log:\n%s\nstatuses:\n%s", log, f->statuses->str);
	}
	sd_event_source_disable_unref(f->notify_source);
	hvsim_free(f->sim);
	close(f->notify_fd);
	g_string_free(f->statuses, TRUE);
	test_env_free(f->env);
	g_free(f->scope);
	g_free(f->hooks);
	g_free(f->trace);
	g_free(f->notify_path);
	g_free(f->log_path);
}

static void start_daemon_logging_to(struct fixture *f, const char *log_path)
{
	g_autofree char *path = test_build_path("daemons/vss/hv-vssd");
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	f->daemon = fork();
	g_assert_cmpint(f->daemon, >=, 0);
	if (f->daemon == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a test that died */
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		g_setenv("NOTIFY_SOCKET", f->notify_path, TRUE);
		g_unsetenv("WATCHDOG_USEC");
		g_unsetenv("JOURNAL_STREAM");
		execl(path, path, "-n", "--config", f->env->config_path, (char *)NULL);
		_exit(127);
	}
	close(fd);
	abort_daemon = f->daemon;
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
}

static void start_daemon(struct fixture *f)
{
	start_daemon_logging_to(f, f->log_path);
}

/* ---------------------------------------------------------------- status */

static void drain_notify(struct fixture *f)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(f->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			if (g_str_has_prefix(line, "STATUS="))
				g_string_append_printf(f->statuses, "%s\n", line + 7);
	}
}

/* The daemon's sd_notify() blocks when the socket's queue is full (a datagram queue holds
 * few messages), so the queue is drained whenever the simulated host's loop runs. */
static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	drain_notify(userdata);
	return 0;
}

/* The last STATUS= the daemon sent so far (g_free). */
static char *last_status(struct fixture *f)
{
	char **lines;
	char *last;
	guint n;

	drain_notify(f);
	lines = g_strsplit(f->statuses->str, "\n", -1);
	n = g_strv_length(lines);
	last = g_strdup(n >= 2 ? lines[n - 2] : "");
	g_strfreev(lines);
	return last;
}

/* Runs the simulated host until a STATUS containing text arrives after `from` bytes of the
 * status history, or timeout. */
static bool wait_status(struct fixture *f, size_t from, const char *text, uint64_t timeout)
{
	uint64_t deadline = g_get_monotonic_time() + timeout;

	for (;;) {
		drain_notify(f);
		if (f->statuses->len > from && strstr(f->statuses->str + from, text))
			return true;
		if ((uint64_t)g_get_monotonic_time() >= deadline)
			return false;
		/* lets the daemon talk to the simulated host; returns early on its traffic */
		hvsim_run_for(f->sim, 50 * 1000);
	}
}

/* Waits (bounded) until the daemon's log contains text: records written after a reply was
 * sent may land a moment after the host has the answer. */
static bool wait_log(struct fixture *f, const char *text, uint64_t timeout)
{
	uint64_t deadline = g_get_monotonic_time() + timeout;

	for (;;) {
		g_autofree char *log = daemon_log(f);

		if (strstr(log, text))
			return true;
		if ((uint64_t)g_get_monotonic_time() >= deadline)
			return false;
		hvsim_run_for(f->sim, 20 * 1000);
	}
}

/* ---------------------------------------------------------------- plan check */

/* `hv-vssd --plan` with the test's config must freeze exactly want (in any order), all
 * inside the scope, never "/". Called before every FREEZE. */
static void check_plan(struct fixture *f, const char *const *want)
{
	g_autofree char *path = test_build_path("daemons/vss/hv-vssd");
	g_autofree char *out = NULL;
	g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
	char **lines;

	g_assert_cmpint(
	    run_cmd((const char *const[]){path, "--plan", "--config", f->env->config_path, NULL},
		    &out),
	    ==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		char **fields;

		if (!g_str_has_prefix(*l, "freeze\t"))
			continue;
		fields = g_strsplit(*l, "\t", -1);
		g_assert_cmpuint(g_strv_length(fields), ==, 6);
		g_assert_cmpstr(fields[2], !=, "/");
		g_assert_true(g_str_has_prefix(fields[2], f->scope));
		g_ptr_array_add(got, g_strdup(fields[2]));
		g_strfreev(fields);
	}
	g_strfreev(lines);
	g_assert_false(strstr(out, "# refused"));
	for (size_t i = 0; want[i]; i++) {
		bool found = false;
		for (guint j = 0; j < got->len; j++)
			found |= strcmp(got->pdata[j], want[i]) == 0;
		if (!found)
			g_test_message("plan:\n%s", out);
		g_assert_true(found);
		g_assert_cmpuint(got->len, ==, g_strv_length((char **)want));
	}
	if (!want[0])
		g_assert_cmpuint(got->len, ==, 0);
}

static uint32_t vss(struct fixture *f, enum vmu_vss_op op)
{
	struct hvsim_result r;
	int ret = hvsim_vss_request(f->sim, op, &r);

	g_assert_cmpint(ret, ==, 0);
	return r.status;
}

static uint32_t freeze_checked(struct fixture *f, const char *const *want)
{
	check_plan(f, want);
	return vss(f, VMU_VSS_OP_FREEZE);
}

static void add_hook(struct fixture *f, const char *name, const char *body)
{
	g_autofree char *path = g_build_filename(f->hooks, name, NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\necho \"%s $1\" >>'%s'\n%s\n", name,
						f->trace, body ? body : "");

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

static char *trace(struct fixture *f)
{
	char *text = NULL;

	if (!g_file_get_contents(f->trace, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

#define SKIP_UNLESS_ROOT()                                                                         \
	do {                                                                                       \
		if (!can_run) {                                                                    \
			g_test_skip(skip_reason);                                                  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* ---------------------------------------------------------------- tests */

static void test_plan_only(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *b = make_mount(f, "b", "xfs");
	const char *t = make_mount(f, "t", "tmpfs");
	g_autofree char *path = test_build_path("daemons/vss/hv-vssd");
	g_autofree char *out = NULL;

	/* include=<scope>/... names the tmpfs too: forced into the plan */
	check_plan(f, (const char *const[]){a, b, t, NULL});
	write_config(f, "exclude=tmpfs\n");
	check_plan(f, (const char *const[]){a, b, NULL});
	g_assert_cmpint(
	    run_cmd((const char *const[]){path, "--plan", "--config", f->env->config_path, NULL},
		    &out),
	    ==, 0);
	g_assert_nonnull(strstr(out, "skip\t-\t/\t"));
	g_assert_nonnull(strstr(out, "outside the scope"));
	g_assert_nonnull(strstr(out, "excluded by tmpfs"));
	/* scope=/ with include= of the test's mounts only: the root is not included */
	test_env_write_config(f->env, "");
	g_autofree char *cfg = g_strdup_printf("include=%s;%s\n", a, b);
	test_env_write_config(f->env, cfg);
	check_plan(f, (const char *const[]){a, b, NULL});
}

static void test_freeze_thaw(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *b = make_mount(f, "b", "xfs");
	struct hvsim_result r;
	g_autofree char *status = NULL, *idle = NULL, *log = NULL;
	size_t from;
	pid_t wa, wb;

	start_daemon(f);
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_HOT_BACKUP, &r), ==, 0);
	g_assert_cmphex(r.status, ==, 2); /* byte 0 = HOT_BACKUP: a success HRESULT */
	g_assert_cmphex(r.vss_flags, ==, VMU_VSS_HBU_NO_AUTO_RECOVERY);
	from = f->statuses->len;
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	/* the status follows the answer */
	g_assert_true(wait_status(f, from, "(2 mounts)", 5 * SEC));
	status = last_status(f);
	g_assert_true(g_str_has_prefix(status, "Frozen since "));
	g_assert_nonnull(strstr(status, "(2 mounts)"));
	wa = start_writer(f, a);
	wb = start_writer(f, b);
	assert_blocked(wa);
	assert_blocked(wb);
	from = f->statuses->len;
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(wa);
	assert_completes(wb);
	g_assert_true(wait_status(f, from, "Idle; last backup at ", 5 * SEC));
	idle = last_status(f);
	g_assert_true(g_str_has_prefix(idle, "Idle; last backup at "));
	g_assert_nonnull(strstr(idle, ": ok (freeze "));
	/* a THAW with nothing frozen is fine */
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	/* a second backup works the same */
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_writable(f, a);
	g_assert_true(wait_log(f, "Backup finished: ok", 5 * SEC));
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "froze 2 file systems"));
}

static void run_host(void *userdata)
{
	struct fixture *f = userdata;

	hvsim_run_for(f->sim, 10 * 1000);
}

/* The key events' journal records: HVGUEST_ fields and the MESSAGE_IDs of message-ids.h,
 * written out here so that a changed id fails. */
static void test_journal_records(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *sock = NULL;
	int fd = test_journal_listen(f->env, &sock);
	g_autofree char *extra = g_strdup_printf("log-target=journal\njournal-socket=%s\n", sock);
	const char *const frozen[] = {"MESSAGE_ID=47d0403cd60149f1b9ec2cf57f40b581",
				      "SYSLOG_IDENTIFIER=hv-vssd", "HVGUEST_VSS_MOUNTS=1\n", NULL};
	const char *const thawed[] = {"MESSAGE_ID=9d79bf5462f24d37ba62ea73e695629d",
				      "HVGUEST_VSS_MOUNTS=1\n", NULL};
	const char *const done[] = {"MESSAGE_ID=ef1d6c2595c940929c0e5797feacdccb",
				    "HVGUEST_VSS_RESULT=ok\n",
				    "HVGUEST_VSS_MOUNTS=1\n",
				    "HVGUEST_VSS_FREEZE_USEC=",
				    "HVGUEST_VSS_FROZEN_USEC=",
				    "HVGUEST_VSS_THAW_USEC=",
				    "HVGUEST_VSS_PLAN=",
				    "HVGUEST_VSS_HOOKS=",
				    NULL};

	write_config(f, extra);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	/* held while frozen, sent in order after the thaw */
	g_assert_true(test_journal_wait(fd, frozen, 5000, run_host, f));
	g_assert_true(test_journal_wait(fd, thawed, 5000, run_host, f));
	g_assert_true(test_journal_wait(fd, done, 5000, run_host, f));
	close(fd);
}

/* The daemon's own stderr is a file on the mount it freezes: any write while frozen would
 * block it, and the THAW would never be answered. The log is held instead. */
static void test_log_held(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *on_frozen = g_build_filename(a, "hv-vssd.log", NULL);
	g_autofree char *log = NULL;
	struct hvsim_result r;

	start_daemon_logging_to(f, on_frozen);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	hvsim_set_host_timeout(f->sim, 20 * SEC);
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_THAW, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_false(r.kernel_timeout);
	/* logged while frozen, written after the thaw (and after its answer), in order */
	for (uint64_t deadline = g_get_monotonic_time() + 5 * SEC;;) {
		g_clear_pointer(&log, g_free);
		g_assert_true(g_file_get_contents(on_frozen, &log, NULL, NULL));
		if (strstr(log, "log records held while frozen were flushed") ||
		    (uint64_t)g_get_monotonic_time() >= deadline)
			break;
		hvsim_run_for(f->sim, 20 * 1000);
	}
	const char *froze = strstr(log, "froze 1 file systems");
	const char *thawed = strstr(log, "thawed 1 file systems");
	g_assert_nonnull(froze);
	g_assert_nonnull(thawed);
	g_assert_true(froze < thawed);
	g_assert_nonnull(strstr(log, "log records held while frozen were flushed"));
	daemon_kill(f, SIGTERM); /* before the mount goes */
}

static void test_rollback(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4"); /* mounted first: frozen last */
	const char *b = make_mount(f, "b", "xfs");
	g_autofree char *inject = g_strdup_printf("%s:%d", a, EIO);
	g_autofree char *status = NULL, *log = NULL;

	g_setenv("HVGUEST_VSS_INJECT_FREEZE_ERROR", inject, TRUE);
	start_daemon(f);
	g_unsetenv("HVGUEST_VSS_INJECT_FREEZE_ERROR");
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_E_FAIL);
	/* b was frozen before a failed: thawed again */
	assert_writable(f, b);
	assert_writable(f, a);
	status = last_status(f);
	g_assert_nonnull(strstr(status, "failed: freezing "));
	g_assert_nonnull(strstr(status, a));
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "failed; thawed the 1 file systems frozen before it"));
	g_assert_nonnull(strstr(log, "Input/output error"));
	/* the crash record is gone */
	g_autofree char *record = g_build_filename(f->env->run_dir, "vss-frozen", NULL);
	g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
}

/* A tmpfs forced into the plan cannot be frozen: skipped (default), or fatal. */
static void test_unfreezable(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *t = make_mount(f, "t", "tmpfs"); /* mounted last: frozen first */
	g_autofree char *log = NULL;
	pid_t w;

	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, t, NULL}), ==, VMU_S_OK);
	w = start_writer(f, a);
	assert_blocked(w);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(w);
	g_assert_true(wait_log(f, "Backup finished", 5 * SEC));
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "cannot be frozen, skipped (unfreezable=skip)"));
	daemon_kill(f, SIGTERM);

	write_config(f, "unfreezable=fail\n");
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, t, NULL}), ==, VMU_E_FAIL);
	assert_writable(f, a);
}

static void test_someone_elses_freeze(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *b = make_mount(f, "b", "xfs");
	g_autofree char *log = NULL;
	pid_t wb;

	start_daemon(f);
	g_assert_cmpint(run_cmd((const char *const[]){"fsfreeze", "-f", b, NULL}, NULL), ==, 0);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_writable(f, a);
	wb = start_writer(f, b);
	assert_blocked(wb); /* still frozen: not ours to thaw */
	g_assert_true(wait_log(f, "Backup finished", 5 * SEC));
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "was already frozen by someone else"));
	g_assert_nonnull(strstr(log, "thawed 1 file systems"));
	g_assert_cmpint(run_cmd((const char *const[]){"fsfreeze", "-u", b, NULL}, NULL), ==, 0);
	assert_completes(wb);
}

static void test_hooks(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *t = NULL, *log = NULL, *bak = NULL;
	pid_t w;

	add_hook(f, "20-b", "echo \"b says $1\"");
	add_hook(f, "10-a", "echo \"a complains $1\" >&2");
	add_hook(f, "30-c.dpkg-old", NULL);
	add_hook(f, "40-d~", NULL);
	add_hook(f, "50-e.rpmnew", NULL);
	bak = g_build_filename(f->hooks, "60-not-executable", NULL);
	g_assert_true(g_file_set_contents(bak, "#!/bin/sh\nexit 1\n", -1, NULL));
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-a freeze\n20-b freeze\n");
	w = start_writer(f, a);
	assert_blocked(w);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(w);
	g_free(t);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-a freeze\n20-b freeze\n20-b thaw\n10-a thaw\n");
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "hook 20-b freeze: b says freeze"));
	g_assert_nonnull(strstr(log, "hook 10-a thaw: a complains thaw"));
	g_assert_true(wait_log(f, "hooks: freeze:10-a=ok freeze:20-b=ok thaw:20-b=ok thaw:10-a=ok",
			       10 * SEC));
}

static void test_hook_timeout_aborts(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *t = NULL, *log = NULL, *status = NULL;

	write_config(f, "hook-timeout=300ms\n");
	add_hook(f, "10-a", NULL);
	add_hook(f, "20-slow", "exec sleep 60");
	add_hook(f, "30-never", NULL);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_E_FAIL);
	t = trace(f);
	/* freeze-fail to those that ran, in reverse; the one after never ran */
	g_assert_cmpstr(t, ==,
			"10-a freeze\n20-slow freeze\n20-slow freeze-fail\n10-a "
			"freeze-fail\n");
	assert_writable(f, a);
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "hook 20-slow freeze failed: timeout"));
	g_assert_nonnull(strstr(log, "not freezing (hook-failure=abort)"));
	status = last_status(f);
	g_assert_nonnull(strstr(status, "failed: a freeze hook failed"));
}

static void test_hook_failure_ignored(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *t = NULL;
	pid_t w;

	write_config(f, "hook-failure=ignore\nfreeze-fail-argument=thaw\n");
	add_hook(f, "10-fails", "exit 4");
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	w = start_writer(f, a);
	assert_blocked(w);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(w);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-fails freeze\n10-fails thaw\n");
}

static void test_auto_thaw(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *log = NULL;
	size_t from;
	pid_t w;

	write_config(f, "max-frozen=1s\n");
	add_hook(f, "10-a", NULL);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	drain_notify(f);
	from = f->statuses->len;
	w = start_writer(f, a);
	assert_blocked(w);
	g_assert_true(wait_status(f, from, "auto-thawed after", 20 * SEC));
	assert_completes(w);
	/* the host's late THAW learns that the snapshot is not to be trusted */
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_E_FAIL);
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "AUTO-THAW: no THAW from the host"));
	g_autofree char *t = trace(f);
	g_assert_cmpstr(t, ==, "10-a freeze\n10-a thaw\n");
}

/* SIGHUP during a backup is refused: the backup ends under the config it started with (a
 * freeze hook run started with hook-failure=abort aborts). Once idle, the same new config
 * is taken. A new run-dir is refused. */
static void test_reload_during_backup(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *body = NULL, *t = NULL, *cfg = NULL, *old_line = NULL, *new_line = NULL;
	g_auto(GStrv) parts = NULL;
	pid_t w;

	start_daemon(f);
	/* The hook reloads the daemon while it runs, with hook-failure=ignore written, and
	 * fails. */
	body = g_strdup_printf("kill -HUP %d\nsleep 1\nexit 1", (int)f->daemon);
	add_hook(f, "10-reload-fails", body);
	write_config(f, "hook-failure=ignore\n");
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_E_FAIL);
	assert_writable(f, a);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-reload-fails freeze\n10-reload-fails freeze-fail\n");
	g_assert_true(wait_log(f, "reload during a backup", 10 * SEC));
	g_assert_true(wait_log(f, "configuration was refused", 10 * SEC));
	/* Idle: taken now, and the next backup freezes in spite of the failing hook. */
	g_assert_cmpint(kill(f->daemon, SIGHUP), ==, 0);
	g_assert_true(wait_log(f, "reloaded the configuration", 10 * SEC));
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	w = start_writer(f, a);
	assert_blocked(w);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(w);
	/* A new run-dir is refused: the crash record stays where it is. */
	g_assert_true(g_file_get_contents(f->env->config_path, &cfg, NULL, NULL));
	old_line = g_strdup_printf("run-dir=%s\n", f->env->run_dir);
	g_assert_nonnull(strstr(cfg, old_line));
	parts = g_strsplit(cfg, old_line, 2);
	new_line = g_strdup_printf("run-dir=%s-moved\n", f->env->run_dir);
	g_free(cfg);
	cfg = g_strjoinv(new_line, parts);
	g_assert_true(g_file_set_contents(f->env->config_path, cfg, -1, NULL));
	g_assert_cmpint(kill(f->daemon, SIGHUP), ==, 0);
	g_assert_true(wait_log(f, "run-dir cannot change", 10 * SEC));
}

static void test_crash_recovery(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *b = make_mount(f, "b", "xfs");
	g_autofree char *log = NULL, *line = NULL;
	pid_t wa;

	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	daemon_kill(f, SIGKILL);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	wa = start_writer(f, a);
	assert_blocked(wa); /* a crashed daemon leaves them frozen ... */
	g_assert_cmpint(truncate(f->log_path, 0), ==, 0);
	start_daemon(f); /* ... the next one thaws them before it registers */
	assert_completes(wa);
	assert_writable(f, b);
	log = daemon_log(f);
	line = g_strdup_printf("thawed %s, left frozen by a previous hv-vssd", a);
	const char *thawed = strstr(log, line);
	const char *registered = strstr(log, "registered with the kernel");
	g_assert_nonnull(thawed);
	g_assert_nonnull(registered);
	g_assert_true(thawed < registered);
	g_assert_nonnull(strstr(log, "recovered from a previous hv-vssd"));
	/* and it serves the next backup */
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
}

static void test_hibernation(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	size_t from;
	pid_t w;

	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	w = start_writer(f, a);
	assert_blocked(w);
	drain_notify(f);
	from = f->statuses->len;
	/* the kernel's fake THAW: the daemon thaws, its answer is refused, it reopens */
	g_assert_cmpint(hvsim_hibernate(f->sim, VMU_SERVICE_VSS), ==, 0);
	g_assert_true(wait_status(f, from, "Reopening", 20 * SEC));
	assert_completes(w);
	g_assert_true(wait_status(f, from, "Registered with the kernel", 20 * SEC));
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
}

/* FITHAW on path: 0 when it thawed something, else the errno (EINVAL: was not frozen). */
static int fithaw_errno(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	g_assert_cmpint(fd, >=, 0);
	r = ioctl(fd, FITHAW, 0) < 0 ? errno : 0;
	close(fd);
	return r;
}

/* Not frozen by anyone: a write completes within a bound, and FITHAW finds nothing to thaw
 * (FITHAW comes second so that a frozen one found by the write check is thawed anyway). */
static void assert_not_frozen(struct fixture *f, const char *dir)
{
	assert_writable(f, dir);
	g_assert_cmpint(fithaw_errno(dir), ==, EINVAL);
}

/* p (excluded: outside the plan) with c mounted inside it; the plan is {c}. */
static void make_parent_and_child(struct fixture *f, const char *extra, const char **ret_p,
				  const char **ret_c)
{
	g_autofree char *cfg = NULL;

	*ret_p = make_mount(f, "p", "ext4");
	*ret_c = make_mount(f, "p/c", "ext4");
	cfg = g_strdup_printf("exclude=%s\n%s", *ret_p, extra);
	write_config(f, cfg);
}

/* A freeze hook lazily unmounts the planned c, so p lies underneath its path when the file
 * systems are frozen. p must not be frozen: it is outside the plan, and had it been on a
 * loop device backed by c, freezing it would have hung the daemon. */
static void run_unmounted_by_hook(struct fixture *f, const char *policy)
{
	const char *p, *c;
	g_autofree char *extra = g_strdup_printf("unfreezable=%s\n", policy);
	g_autofree char *body = NULL, *log = NULL, *t = NULL;
	bool skip = strcmp(policy, "skip") == 0;

	make_parent_and_child(f, extra, &p, &c);
	body = g_strdup_printf("[ \"$1\" = freeze ] && umount -l '%s'; exit 0", c);
	add_hook(f, "10-umount", body);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){c, NULL}), ==,
			skip ? VMU_S_OK : VMU_E_FAIL);
	assert_not_frozen(f, p);
	if (skip)
		g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_not_frozen(f, p);
	t = trace(f);
	g_assert_cmpstr(t, ==,
			skip ? "10-umount freeze\n10-umount thaw\n"
			     : "10-umount freeze\n10-umount freeze-fail\n");
	g_assert_true(wait_log(f, "Backup finished", 10 * SEC));
	log = daemon_log(f);
	if (skip)
		g_assert_nonnull(strstr(log, "was unmounted or replaced since the plan was made"));
	else
		g_assert_nonnull(
		    strstr(log, "was unmounted or replaced since the plan (unfreezable=fail)"));
	g_assert_null(strstr(log, "froze 1 file systems"));
}

static void test_unmounted_by_hook_skip(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	run_unmounted_by_hook(f, "skip");
}

static void test_unmounted_by_hook_fail(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	run_unmounted_by_hook(f, "fail");
}

/* A freeze hook replaces the planned c by another file system r at the same path: r is not
 * the mount of the plan and is not frozen (nor is p). */
static void test_replaced_by_hook(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *p, *c;
	g_autofree char *body = NULL, *log = NULL;
	char *img;

	make_parent_and_child(f, "", &p, &c);
	img = make_image(f, "r", "ext4");
	body = g_strdup_printf("[ \"$1\" = freeze ] && umount -l '%s' && "
			       "mount -o loop -t ext4 '%s' '%s'; exit 0",
			       c, img, c);
	add_mnt(f, c, img); /* r, at c's path: unmounted first in the teardown */
	add_hook(f, "10-replace", body);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){c, NULL}), ==, VMU_S_OK);
	assert_not_frozen(f, c); /* that is r now */
	assert_not_frozen(f, p);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	g_assert_true(wait_log(f, "Backup finished", 10 * SEC));
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "was unmounted or replaced since the plan was made"));
}

/* The daemon dies with c frozen; before it starts again c is thawed and unmounted, and
 * another file system r, mounted at the same path, is frozen by someone else. The crash
 * record names c's mount, not the path: r is left frozen. */
static void test_recovery_replaced(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *p, *c;
	g_autofree char *log = NULL;
	char *img;
	pid_t w;

	make_parent_and_child(f, "", &p, &c);
	img = make_image(f, "r", "ext4");
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){c, NULL}), ==, VMU_S_OK);
	daemon_kill(f, SIGKILL);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	g_assert_cmpint(fithaw_errno(c), ==, 0); /* it was frozen: thawed by hand */
	g_assert_cmpint(umount(c), ==, 0);
	g_assert_cmpint(
	    run_cmd((const char *const[]){"mount", "-o", "loop", "-t", "ext4", img, c, NULL}, NULL),
	    ==, 0);
	add_mnt(f, c, img);
	g_assert_cmpint(run_cmd((const char *const[]){"fsfreeze", "-f", c, NULL}, NULL), ==, 0);
	w = start_writer(f, c);
	assert_blocked(w);
	g_assert_cmpint(truncate(f->log_path, 0), ==, 0);
	start_daemon(f);
	g_assert_true(wait_log(f, "recovered from a previous hv-vssd", 10 * SEC));
	assert_blocked(w); /* not ours: still frozen */
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "is no longer the mount a previous hv-vssd froze"));
	g_assert_null(strstr(log, "left frozen by a previous hv-vssd"));
	g_assert_cmpint(fithaw_errno(c), ==, 0);
	assert_completes(w);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* The plan is kept between backups (issue 10): a mount made since the last backup, and a
 * reload that changes the config, must still be seen by the next FREEZE. */
static void test_plan_follows_mounts(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4"), *b;
	g_autofree char *cfg = NULL;
	pid_t wa, wb;

	start_daemon(f);
	for (int i = 0; i < 2; i++) { /* the second FREEZE uses the kept plan */
		g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
		wa = start_writer(f, a);
		assert_blocked(wa);
		g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
		assert_completes(wa);
	}
	b = make_mount(f, "b", "ext4");
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	wa = start_writer(f, a);
	wb = start_writer(f, b);
	assert_blocked(wa);
	assert_blocked(wb);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(wa);
	assert_completes(wb);
	/* the mount table is the same, the config is not */
	cfg = g_strdup_printf("exclude=%s\n", b);
	write_config(f, cfg);
	g_assert_cmpint(kill(f->daemon, SIGHUP), ==, 0);
	g_assert_true(wait_log(f, "reloaded the configuration", 10 * SEC));
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	assert_not_frozen(f, b);
	wa = start_writer(f, a);
	assert_blocked(wa);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	assert_completes(wa);
}

/* An empty hook listing is kept between backups (issue 10): a hook added to the directory,
 * or a new directory put in its place, must run at the next FREEZE. */
static void test_hooks_added_later(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *old = g_strdup_printf("%s.old", f->hooks), *late = NULL, *t = NULL;

	start_daemon(f);
	for (int i = 0; i < 2; i++) { /* the second FREEZE keeps the empty listing */
		g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
		g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	}
	add_hook(f, "10-late", NULL);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-late freeze\n10-late thaw\n");
	/* empty again, kept again; then another directory takes its place */
	late = g_build_filename(f->hooks, "10-late", NULL);
	g_assert_cmpint(g_unlink(late), ==, 0);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	g_assert_cmpint(g_rename(f->hooks, old), ==, 0);
	g_assert_cmpint(g_mkdir(f->hooks, 0755), ==, 0);
	add_hook(f, "20-new", NULL);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	g_free(t);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-late freeze\n10-late thaw\n20-new freeze\n20-new thaw\n");
	g_assert_cmpint(g_rmdir(old), ==, 0);
}

/* The crash record names every planned mount before the first FIFREEZE; one that someone
 * else had frozen (EBUSY) is taken out of it afterwards, so a crash does not let the next
 * start thaw that freeze. */
static void test_crash_keeps_others_freeze(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	const char *b = make_mount(f, "b", "ext4");
	size_t from = f->statuses->len;
	pid_t wa, wb;

	start_daemon(f);
	g_assert_cmpint(run_cmd((const char *const[]){"fsfreeze", "-f", b, NULL}, NULL), ==, 0);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, b, NULL}), ==, VMU_S_OK);
	/* the record is final once the status says so */
	g_assert_true(wait_status(f, from, "Frozen since", 5 * SEC));
	daemon_kill(f, SIGKILL);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	g_assert_cmpint(truncate(f->log_path, 0), ==, 0);
	start_daemon(f);
	g_assert_true(wait_log(f, "recovered from a previous hv-vssd", 10 * SEC));
	wa = start_writer(f, a);
	assert_completes(wa); /* ours: thawed by the next start */
	wb = start_writer(f, b);
	assert_blocked(wb); /* not ours: still frozen */
	g_assert_cmpint(fithaw_errno(b), ==, 0);
	assert_completes(wb);
}

/* Hooks anyone but root could have written are not run as root by the daemon; the good one
 * runs, the backup goes on, each refusal is logged once per backup. */
static void test_hooks_refused(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *writable = g_build_filename(f->hooks, "20-writable", NULL);
	g_autofree char *outside = g_build_filename(f->env->dir, "user-script", NULL);
	g_autofree char *link = g_build_filename(f->hooks, "30-link", NULL);
	g_autofree char *script = g_strdup_printf("#!/bin/sh\necho \"user $1\" >>'%s'\n", f->trace);
	g_autofree char *t = NULL, *log = NULL;

	add_hook(f, "10-good", NULL);
	add_hook(f, "20-writable", NULL);
	g_assert_cmpint(g_chmod(writable, 0777), ==, 0);
	g_assert_true(g_file_set_contents(outside, script, -1, NULL));
	g_assert_cmpint(g_chmod(outside, 0755), ==, 0);
	g_assert_cmpint(symlink(outside, link), ==, 0);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_S_OK);
	g_assert_cmphex(vss(f, VMU_VSS_OP_THAW), ==, VMU_S_OK);
	t = trace(f);
	g_assert_cmpstr(t, ==, "10-good freeze\n10-good thaw\n");
	g_assert_true(wait_log(f, "Backup finished: ok", 10 * SEC));
	log = daemon_log(f);
	g_assert_cmpuint(count_of(log, "20-writable refused: writable by group or others"), ==, 1);
	g_assert_cmpuint(count_of(log, "30-link refused: a symbolic link"), ==, 1);
}

/* A freeze hook whose child leaves the process group with setsid(): at the hook's timeout
 * both are killed, nothing of it remains, and the FREEZE fails (hook-failure=abort). */
static void test_hook_setsid_child(struct fixture *f, gconstpointer data)
{
	SKIP_UNLESS_ROOT();
	const char *a = make_mount(f, "a", "ext4");
	g_autofree char *pidfile = g_build_filename(f->env->dir, "escaped.pid", NULL);
	g_autofree char *body =
	    g_strdup_printf("[ \"$1\" = freeze ] || exit 0\n"
			    "setsid sh -c 'echo $$ >\"%s\"; exec sleep 60' &\n"
			    "while [ ! -s '%s' ]; do sleep 0.01; done\nexec sleep 60",
			    pidfile, pidfile);
	g_autofree char *text = NULL, *log = NULL;
	pid_t pid;
	bool alive;

	write_config(f, "hook-timeout=1s\n");
	add_hook(f, "10-escapes", body);
	start_daemon(f);
	g_assert_cmphex(freeze_checked(f, (const char *const[]){a, NULL}), ==, VMU_E_FAIL);
	assert_writable(f, a);
	g_assert_true(g_file_get_contents(pidfile, &text, NULL, NULL));
	pid = (pid_t)g_ascii_strtoll(text, NULL, 10);
	g_assert_cmpint(pid, >, 1);
	alive = kill(pid, 0) == 0;
	if (alive)
		kill(pid, SIGKILL); /* the test started it (through the daemon): not left behind */
	g_assert_false(alive);
	log = daemon_log(f);
	g_assert_nonnull(strstr(log, "hook 10-escapes freeze failed: timeout"));
	g_assert_nonnull(strstr(log, "left 1 process(es) behind: killed"));
}

/* ---------------------------------------------------------------- main */

static void check_environment(void)
{
	if (geteuid() != 0) {
		skip_reason = "needs root (loop mounts and FIFREEZE)";
		return;
	}
	skip_reason = sandbox_loop_unavailable();
	if (skip_reason)
		return;
	/* Everything below happens in a private mount namespace: nothing this test mounts is
	 * seen outside, and nothing outside is ever in its scope. */
	skip_reason = sandbox_enter(CLONE_NEWNS);
	if (skip_reason)
		return;
	if (run_cmd_flags((const char *const[]){"mkfs.xfs", "-V", NULL}, NULL,
			  G_SPAWN_STDOUT_TO_DEV_NULL) != 0 ||
	    run_cmd_flags((const char *const[]){"fsfreeze", "-V", NULL}, NULL,
			  G_SPAWN_STDOUT_TO_DEV_NULL) != 0) {
		skip_reason = "mkfs.xfs (xfsprogs) or fsfreeze missing";
		return;
	}
	signal(SIGABRT, on_abort);
	can_run = true;
}

#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	check_environment();
	ADD("/vssd/plan-only", test_plan_only);
	ADD("/vssd/freeze-thaw-ext4-xfs", test_freeze_thaw);
	ADD("/vssd/log-held-while-frozen", test_log_held);
	ADD("/vssd/journal-records", test_journal_records);
	ADD("/vssd/rollback", test_rollback);
	ADD("/vssd/unfreezable", test_unfreezable);
	ADD("/vssd/someone-elses-freeze", test_someone_elses_freeze);
	ADD("/vssd/hooks", test_hooks);
	ADD("/vssd/hook-timeout-aborts", test_hook_timeout_aborts);
	ADD("/vssd/hook-failure-ignored", test_hook_failure_ignored);
	ADD("/vssd/auto-thaw", test_auto_thaw);
	ADD("/vssd/reload-during-backup", test_reload_during_backup);
	ADD("/vssd/crash-recovery", test_crash_recovery);
	ADD("/vssd/plan-follows-mounts", test_plan_follows_mounts);
	ADD("/vssd/crash-keeps-others-freeze", test_crash_keeps_others_freeze);
	ADD("/vssd/hooks-added-later", test_hooks_added_later);
	ADD("/vssd/hibernation", test_hibernation);
	ADD("/vssd/mount-unmounted-by-hook-skip", test_unmounted_by_hook_skip);
	ADD("/vssd/mount-unmounted-by-hook-fail", test_unmounted_by_hook_fail);
	ADD("/vssd/mount-replaced-by-hook", test_replaced_by_hook);
	ADD("/vssd/recovery-mount-replaced", test_recovery_replaced);
	ADD("/vssd/hooks-refused", test_hooks_refused);
	ADD("/vssd/hook-setsid-child-killed", test_hook_setsid_child);
	return g_test_run();
}
