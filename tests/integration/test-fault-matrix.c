/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fault matrix (issue 8): each daemon, through its real binary and the simulated host
 * (libhvsim) in this process, meets one fault per cell:
 *
 *            kill -9 before | after reply | mid-transfer/burst | while frozen | kernel
 *            timeout + late reply | reload (SIGHUP) mid-request | host disables and
 *            re-enables the service | ENOSPC | EIO on the directory the daemon writes
 *
 * and every cell asserts the same four things:
 *   - no crash: the daemon never dies of itself, exits 0 on SIGTERM at the end, and its log
 *     has no sanitizer report (in ASan builds ASAN_OPTIONS=abort_on_error=1 turns one into
 *     an abnormal exit as well);
 *   - nothing lost: KVP records the host was told were stored are there after the fault
 *     (and the daemon's restart); a copied file is whole (SHA-256) or absent, with no
 *     temporary left behind;
 *   - nothing left frozen: after a VSS cell, its own mount answers a write, and once the
 *     cell has ended the parent runs FITHAW on it, which must find it thawed;
 *   - serving again: a fresh request of the kind the fault hit succeeds.
 *
 * Each cell runs in a subprocess (g_test_trap_subprocess()), so that one failing cell is
 * reported and the others still run; the parent prints the matrix, cells passed, at the end.
 * The parent owns the cell's directory and everything mounted in it: whatever happened in
 * the cell, it thaws (and reports a mount it found frozen), unmounts and removes it.
 *
 * Safety: file systems are only ever frozen, filled or shut down when this test made them:
 * small ext4 images loop-mounted (and tmpfs) in the cell's directory, in a private mount
 * namespace main() enters before anything else (the daemons and cells inherit it); hv-vssd's
 * scope= is the cell's own directory, and `hv-vssd --plan` must list only the cell's mount
 * before every FREEZE. Cells that need that (every VSS cell, ENOSPC and EIO) are skipped,
 * with the reason, without root, loop devices or a private mount namespace. EIO is the
 * file system's own: EXT4_IOC_SHUTDOWN (device-mapper's `error` target needs dm-mod,
 * which is not there everywhere; a loop device whose backing file is truncated reads zeros
 * rather than failing).
 *
 * The whole matrix runs in about 30 s: kernel deadlines in the cells are shortened.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define MSEC 1000ull
#define CELL_TIMEOUT (40 * G_USEC_PER_SEC)
#define WRITE_BLOCK_MS 300
#define WRITE_DONE_MS 10000
#define KVP_SEEDS 4

/* EXT4_IOC_SHUTDOWN and EXT4_GOING_FLAGS_DEFAULT (fs/ext4/ext4.h; not in every uapi) */
#define MX_EXT4_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#define MX_EXT4_GOING_FLAGS_DEFAULT 0x0u

enum daemon_kind { KVPD, VSSD, FCOPYD, N_DAEMONS };

enum needs {
	NEEDS_NOTHING = 0,
	NEEDS_MOUNTS = 1, /* root, loop devices, a private mount namespace */
};

struct mx;

struct cell {
	enum daemon_kind daemon;
	const char *fault;
	enum needs needs;
	void (*run)(struct mx *m);
	bool uio;   /* fcopy: over UIO instead of the char device */
	int result; /* in the parent: 1 passed, 0 failed, -1 skipped */
};

/* One cell's world, in its subprocess. */
struct mx {
	const struct cell *cell;
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *d;
	char *sysfs, *dev_dir; /* fcopy over UIO */
	char *dest;            /* fcopy target directory */
	char *scope, *mnt;     /* vss: the scope and the one mount in it */
	char *hooks;           /* vss hooks directory */
	char *extra;           /* the cell's config lines */
	GPtrArray *acked;      /* kvp: "key\nvalue" the host got S_OK for */
	unsigned serial;
};

static const char *const daemon_names[N_DAEMONS] = {"kvpd", "vssd", "fcopyd"};
static const char *const programs[N_DAEMONS] = {"daemons/kvp/hv-kvpd", "daemons/vss/hv-vssd",
						"daemons/fcopy/hv-fcopyd"};
static const enum vmu_service services[N_DAEMONS] = {VMU_SERVICE_KVP, VMU_SERVICE_VSS,
						     VMU_SERVICE_FCOPY};

static bool can_mount;
static const char *mount_skip_reason = "needs root, loop devices and a private mount namespace";

/* ---------------------------------------------------------------- processes, commands */

/* Whether a file can be created and fsynced in dir within timeout_ms (a frozen file system
 * blocks the writer; it is killed once the caller has the answer, or finishes on thaw). */
static bool writable_within(const char *dir, int timeout_ms)
{
	g_autofree char *path = g_build_filename(dir, "mx-written", NULL);
	int status = -1;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		/* A writer blocked on a frozen file system cannot die: it must hold none of
		 * the test's descriptors (output pipes, the simulated host's sockets, whose
		 * close the daemon has to see). */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int fd;

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		for (int i = STDERR_FILENO + 1; i < 1024; i++)
			close(i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) < 0)
			_exit(1);
		_exit(0);
	}
	if (test_pid_wait(pid, timeout_ms, &status) < 0) {
		kill(pid, SIGKILL); /* delivered once the write returns */
		return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---------------------------------------------------------------- file systems */

/* A fresh ext4 image of size_mb (no reserved blocks: ENOSPC for root too) loop-mounted at
 * dir/name; returns the mount point. */
static char *make_ext4(struct mx *m, const char *name, int size_mb)
{
	g_autofree char *img = g_strdup_printf("%s/%s.img", m->env->dir, name);
	g_autofree char *size = g_strdup_printf("%dM", size_mb);
	char *path = g_build_filename(m->env->dir, name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	g_assert_cmpint(test_run_quiet((const char *const[]){"truncate", "-s", size, img, NULL}),
			==, 0);
	g_assert_cmpint(
	    test_run_quiet((const char *const[]){"mkfs.ext4", "-q", "-F", "-m", "0", img, NULL}),
	    ==, 0);
	g_assert_cmpint(test_run_quiet((const char *const[]){"mount", "-o", "loop", "-t", "ext4",
							     img, path, NULL}),
			==, 0);
	return path;
}

/* The file system under dir shut down: every later I/O fails with EIO. What was written
 * before is synced first (the cell is about the daemon meeting EIO, not a power cut: the
 * pool files are not fsynced record by record, as the reference daemon's are not). */
static void shut_down(const char *dir)
{
	uint32_t flags = MX_EXT4_GOING_FLAGS_DEFAULT;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ioctl(fd, MX_EXT4_IOC_SHUTDOWN, &flags), ==, 0);
	close(fd);
}

/* Unmounted lazily (the daemon may hold files there) and mounted again from its image. */
static void remount(struct mx *m, const char *name)
{
	g_autofree char *img = g_strdup_printf("%s/%s.img", m->env->dir, name);
	g_autofree char *path = g_build_filename(m->env->dir, name, NULL);

	g_assert_cmpint(umount2(path, MNT_DETACH), ==, 0);
	g_assert_cmpint(test_run_quiet((const char *const[]){"mount", "-o", "loop", "-t", "ext4",
							     img, path, NULL}),
			==, 0);
}

static void free_up(const char *dir)
{
	g_autofree char *filler = g_build_filename(dir, "filler", NULL);

	g_assert_cmpint(g_unlink(filler), ==, 0);
	sync();
}

/* ---------------------------------------------------------------- the daemon */

static void write_config(struct mx *m, const char *extra)
{
	g_autofree char *lines = NULL;

	if (extra != m->extra) {
		g_free(m->extra);
		m->extra = g_strdup(extra ? extra : "");
	}
	if (m->cell->daemon == VSSD)
		lines =
		    g_strdup_printf("scope=%s\ninclude=%s/*\nhooks-dir=%s\nhook-timeout=10s\n%s",
				    m->scope, m->scope, m->hooks, m->extra);
	else if (m->cell->daemon == FCOPYD) {
		/* files owned by whoever runs the test: root in CI, anyone elsewhere */
		g_autofree char *owner = strstr(m->extra, "file-owner=")
					     ? g_strdup("")
					     : g_strdup_printf("file-owner=%u\n", getuid());

		lines = g_strdup_printf("transport=%s\nsysfs-root=%s\nuio-dev-dir=%s\n"
					"file-group=%u\n%s%s",
					m->cell->uio ? "uio" : "chardev", m->sysfs, m->dev_dir,
					(unsigned)getgid(), owner, m->extra);
	} else
		lines = g_strdup(m->extra);
	test_env_write_config(m->env, lines);
}

/* Moves the state or run directory (config keys the helpers write themselves). */
static void move_dir(struct mx *m, char **field, const char *path)
{
	g_free(*field);
	*field = g_strdup(path);
	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	write_config(m, m->extra);
}

static enum vmu_service service(struct mx *m)
{
	return services[m->cell->daemon];
}

static void listen_host(struct mx *m)
{
	g_assert_cmpint(hvsim_new(NULL, &m->sim), ==, 0);
	if (m->cell->uio)
		g_assert_cmpint(hvsim_listen_uio(m->sim, m->sysfs, m->dev_dir, 0), ==, 0);
	else
		g_assert_cmpint(hvsim_listen(m->sim, service(m), m->env->socket_path), ==, 0);
	hvsim_set_host_timeout(m->sim, 10 * SEC);
}

static void start_daemon(struct mx *m)
{
	test_daemon_free(m->d);
	m->d = test_daemon_start(m->env, programs[m->cell->daemon], NULL);
	g_assert_cmpint(hvsim_wait_registered(m->sim, service(m), 10 * SEC), ==, 0);
}

static void assert_log_clean(struct mx *m)
{
	g_autofree char *log = test_daemon_log(m->d);

	g_assert_null(strstr(log, "AddressSanitizer"));
	g_assert_null(strstr(log, "LeakSanitizer"));
	g_assert_null(strstr(log, "runtime error:"));
}

/* No crash so far: still running, nothing reported. */
static void assert_alive(struct mx *m)
{
	g_assert_cmpint(test_daemon_wait(m->d, 0), ==, -1);
	assert_log_clean(m);
}

static void kill9(struct mx *m)
{
	int status = test_daemon_stop(m->d, SIGKILL, 5000);

	g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (m->sim)
		g_assert_cmpint(hvsim_wait_disconnected(m->sim, service(m), 5 * SEC), ==, 0);
}

/* The end of every cell: a clean SIGTERM exit, no sanitizer report. */
static void assert_clean_exit(struct mx *m)
{
	int status;

	assert_log_clean(m);
	status = test_daemon_stop(m->d, SIGTERM, 10000);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		g_autofree char *log = test_daemon_log(m->d);
		g_printerr("daemon exit status 0x%x, log:\n%s\n", status, log);
	}
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	assert_log_clean(m);
	/* the host must see it gone before a next daemon's registration can count */
	if (m->sim)
		g_assert_cmpint(hvsim_wait_disconnected(m->sim, service(m), 5 * SEC), ==, 0);
}

/* Runs the simulated host until the daemon's log has text (bounded): a reload is logged
 * once it has been applied. */
static void wait_log(struct mx *m, const char *text)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	for (;;) {
		g_autofree char *log = test_daemon_log(m->d);

		if (strstr(log, text))
			return;
		if (g_get_monotonic_time() >= deadline)
			g_printerr("no \"%s\" in the daemon's log:\n%s\n", text, log);
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		hvsim_run_for(m->sim, 20 * MSEC);
	}
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct mx *m = userdata;

	if (m->d && m->d->pid > 0)
		kill(m->d->pid, SIGKILL);
	return 0;
}

static int on_cont_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct mx *m = userdata;

	if (m->d && m->d->pid > 0)
		kill(m->d->pid, SIGCONT);
	return 0;
}

/* Runs cb (SIGKILL or SIGCONT to the daemon) after usec of the simulated host's loop, that
 * is, in the middle of the next host request. A floating one-shot source: the loop owns it. */
static void after(struct mx *m, uint64_t usec, sd_event_time_handler_t cb)
{
	g_assert_cmpint(
	    sd_event_add_time_relative(hvsim_event(m->sim), NULL, CLOCK_MONOTONIC, usec, 0, cb, m),
	    >=, 0);
}

/* Stops the daemon so that the next request meets the kernel's (shortened) deadline. */
static void stop_daemon_short_deadline(struct mx *m, uint64_t deadline_usec)
{
	if (m->cell->daemon == VSSD)
		hvsim_set_freeze_timeout(m->sim, deadline_usec);
	hvsim_set_timeout(m->sim, service(m), deadline_usec);
	g_assert_cmpint(kill(m->d->pid, SIGSTOP), ==, 0);
}

/* Resumed, its late answer is refused; it reopens the device and registers again. */
static void resume_after_timeout(struct mx *m)
{
	g_assert_cmpint(kill(m->d->pid, SIGCONT), ==, 0);
	g_assert_cmpint(hvsim_wait_disconnected(m->sim, service(m), 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(m->sim, service(m), 10 * SEC), ==, 0);
	hvsim_set_timeout(m->sim, service(m), 30 * SEC);
	hvsim_set_freeze_timeout(m->sim, 900 * SEC);
}

/* The host disables the service and enables it again: over UIO the simulator's own switch;
 * for the char device the device goes away (the host and the kernel's channel with it) and
 * comes back, to which a daemon answers just the same (reopen with back-off). */
static void host_off_and_on(struct mx *m)
{
	if (m->cell->uio) {
		g_assert_cmpint(hvsim_uio_disable(m->sim), ==, 0);
		g_assert_cmpint(hvsim_run_for(m->sim, 500 * MSEC), ==, 0);
		g_assert_cmpint(hvsim_uio_enable(m->sim), ==, 0);
	} else {
		m->sim = hvsim_free(m->sim);
		g_usleep(500 * MSEC);
		listen_host(m);
	}
	g_assert_cmpint(hvsim_wait_registered(m->sim, service(m), 10 * SEC), ==, 0);
}

/* ---------------------------------------------------------------- KVP */

static uint32_t kvp_set(struct mx *m, const char *key, const char *value, bool *ret_answered)
{
	struct hvsim_result r = {0};
	int ret = hvsim_kvp_set(m->sim, VMU_KVP_POOL_EXTERNAL, key, value, &r);

	if (ret_answered)
		*ret_answered = ret == 0;
	if (ret == 0 && r.status == VMU_S_OK)
		g_ptr_array_add(m->acked, g_strdup_printf("%s\n%s", key, value));
	return ret == 0 ? r.status : VMU_E_FAIL;
}

static void kvp_seed(struct mx *m)
{
	for (int i = 0; i < KVP_SEEDS; i++) {
		g_autofree char *key = g_strdup_printf("seed-%d", i);
		g_autofree char *value = g_strdup_printf("value %d of the fault matrix", i);

		g_assert_cmphex(kvp_set(m, key, value, NULL), ==, VMU_S_OK);
	}
}

/* Every record the host was told was stored is there, with its value. */
static void kvp_assert_intact(struct mx *m)
{
	for (guint i = 0; i < m->acked->len; i++) {
		g_auto(GStrv) kv = g_strsplit(m->acked->pdata[i], "\n", 2);
		struct hvsim_result r;

		g_assert_cmpint(hvsim_kvp_get(m->sim, VMU_KVP_POOL_EXTERNAL, kv[0], &r), ==, 0);
		if (r.status != VMU_S_OK || strcmp(r.value, kv[1]) != 0)
			g_printerr("record %s lost: status 0x%08x value '%s'\n", kv[0], r.status,
				   r.value);
		g_assert_cmphex(r.status, ==, VMU_S_OK);
		g_assert_cmpstr(r.value, ==, kv[1]);
	}
}

/* A fresh SET and GET, and the auto pool's address items the host polls. */
static void kvp_assert_serving(struct mx *m)
{
	g_autofree char *key = g_strdup_printf("fresh-%u", m->serial++);
	struct hvsim_result r;

	g_assert_cmphex(kvp_set(m, key, "fresh", NULL), ==, VMU_S_OK);
	for (uint32_t i = 2; i <= 3; i++) {
		g_assert_cmpint(hvsim_kvp_enumerate(m->sim, VMU_KVP_POOL_AUTO, i, &r), ==, 0);
		g_assert_cmphex(r.status, ==, VMU_S_OK);
	}
	kvp_assert_intact(m);
	assert_alive(m);
}

static void kvp_begin(struct mx *m)
{
	start_daemon(m);
	kvp_seed(m);
}

static void kvp_end(struct mx *m)
{
	kvp_assert_serving(m);
	assert_clean_exit(m);
}

static void kvp_restart_and_end(struct mx *m)
{
	start_daemon(m);
	kvp_assert_intact(m);
	kvp_end(m);
}

static void kvp_kill_before_reply(struct mx *m)
{
	kvp_begin(m);
	stop_daemon_short_deadline(m, 300 * MSEC);
	/* the request reaches the stopped daemon, which never answers */
	g_assert_cmphex(kvp_set(m, "unanswered", "x", NULL), !=, VMU_S_OK);
	kill9(m);
	hvsim_set_timeout(m->sim, VMU_SERVICE_KVP, 30 * SEC);
	kvp_restart_and_end(m);
}

static void kvp_kill_after_reply(struct mx *m)
{
	kvp_begin(m);
	g_assert_cmphex(kvp_set(m, "answered", "kept", NULL), ==, VMU_S_OK);
	kill9(m);
	kvp_restart_and_end(m);
}

/* Killed at some moment of a burst of SETs: what was answered S_OK stays. The timer is
 * armed once the burst runs, so that a slow machine still kills it mid-burst. */
static void kvp_kill_mid_burst(struct mx *m)
{
	uint32_t status = VMU_S_OK;

	kvp_begin(m);
	hvsim_set_timeout(m->sim, VMU_SERVICE_KVP, 1 * SEC);
	hvsim_set_host_timeout(m->sim, 3 * SEC);
	for (int i = 0; i < 10000 && status == VMU_S_OK; i++) {
		g_autofree char *key = g_strdup_printf("burst-%d", i);

		if (i == 1)
			after(m, 40 * MSEC, on_kill_timer);
		status = kvp_set(m, key, "in a burst", NULL);
	}
	g_assert_cmphex(status, !=, VMU_S_OK);
	kill9(m);
	hvsim_set_host_timeout(m->sim, 10 * SEC);
	kvp_restart_and_end(m);
}

static void kvp_timeout_late_reply(struct mx *m)
{
	struct hvsim_result r;

	kvp_begin(m);
	stop_daemon_short_deadline(m, 300 * MSEC);
	g_assert_cmpint(hvsim_kvp_enumerate(m->sim, VMU_KVP_POOL_AUTO, 5, &r), ==, 0);
	g_assert_true(r.kernel_timeout);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	resume_after_timeout(m);
	kvp_assert_intact(m);
	kvp_end(m);
}

/* SIGHUP reaches the daemon while a request waits for it: both are handled when it runs
 * again, the reload first or the request first. */
static void kvp_reload_mid_request(struct mx *m)
{
	kvp_begin(m);
	g_assert_cmpint(kill(m->d->pid, SIGSTOP), ==, 0);
	g_assert_cmpint(kill(m->d->pid, SIGHUP), ==, 0);
	after(m, 100 * MSEC, on_cont_timer);
	g_assert_cmphex(kvp_set(m, "during-reload", "kept", NULL), ==, VMU_S_OK);
	wait_log(m, "reloaded the configuration");
	kvp_assert_serving(m); /* the auto pool's ENUMERATE 2/3 after a reload */
	kvp_end(m);
}

static void kvp_host_off_on(struct mx *m)
{
	kvp_begin(m);
	host_off_and_on(m);
	kvp_assert_intact(m);
	kvp_end(m);
}

/* The state directory on a full file system: new records fail, old ones stay readable, and
 * once there is room again SET works. */
static void kvp_enospc(struct mx *m)
{
	g_autofree char *mnt = make_ext4(m, "statefs", 4);
	g_autofree char *state = g_build_filename(mnt, "state", NULL);
	uint32_t status = VMU_S_OK;
	g_autofree char *big = g_strnfill(2000, 'v');

	move_dir(m, &m->env->state_dir, state);
	kvp_begin(m);
	test_fill_up(mnt);
	for (int i = 0; i < 64 && status == VMU_S_OK; i++) {
		g_autofree char *key = g_strdup_printf("no-room-%d", i);

		status = kvp_set(m, key, big, NULL);
	}
	g_assert_cmphex(status, !=, VMU_S_OK);
	assert_alive(m);
	kvp_assert_intact(m);
	free_up(mnt);
	kvp_end(m);
	start_daemon(m); /* and a fresh daemon reads everything back */
	kvp_assert_intact(m);
	assert_clean_exit(m);
}

/* The state directory's file system fails every I/O (shut down): the daemon answers, and
 * does not crash or hang; after the file system is back (remounted) and the daemon
 * restarted, every record acknowledged before the fault is there. */
static void kvp_eio(struct mx *m)
{
	g_autofree char *mnt = make_ext4(m, "statefs", 8);
	g_autofree char *state = g_build_filename(mnt, "state", NULL);
	bool answered = false;

	move_dir(m, &m->env->state_dir, state);
	kvp_begin(m);
	shut_down(mnt);
	g_assert_cmphex(kvp_set(m, "on-eio", "lost", &answered), !=, VMU_S_OK);
	g_assert_true(answered);
	assert_alive(m);
	assert_clean_exit(m);
	remount(m, "statefs");
	kvp_restart_and_end(m);
}

/* ---------------------------------------------------------------- VSS */

static uint32_t vss(struct mx *m, enum vmu_vss_op op, bool *ret_timeout)
{
	struct hvsim_result r = {0};
	int ret = hvsim_vss_request(m->sim, op, &r);

	if (ret_timeout)
		*ret_timeout = ret == 0 && r.kernel_timeout;
	return ret == 0 ? r.status : VMU_E_FAIL;
}

/* `hv-vssd --plan` with the cell's config must freeze exactly the cell's mount. */
static void vss_check_plan(struct mx *m)
{
	g_autofree char *path = test_build_path(programs[VSSD]);
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	unsigned n = 0;
	int status = -1;

	g_assert_true(g_spawn_sync(
	    NULL, (char *[]){path, (char *)"--plan", (char *)"--config", m->env->config_path, NULL},
	    NULL, 0, NULL, NULL, &out, NULL, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) fields = NULL;

		if (!g_str_has_prefix(*l, "freeze\t"))
			continue;
		fields = g_strsplit(*l, "\t", -1);
		g_assert_cmpuint(g_strv_length(fields), >=, 3);
		g_assert_cmpstr(fields[2], ==, m->mnt);
		n++;
	}
	g_assert_cmpuint(n, ==, 1);
}

static uint32_t vss_freeze(struct mx *m, bool *ret_timeout)
{
	vss_check_plan(m);
	return vss(m, VMU_VSS_OP_FREEZE, ret_timeout);
}

static void vss_assert_frozen(struct mx *m)
{
	g_assert_false(writable_within(m->mnt, WRITE_BLOCK_MS));
}

static void vss_assert_thawed(struct mx *m)
{
	g_assert_true(writable_within(m->mnt, WRITE_DONE_MS));
}

static void vss_add_hook(struct mx *m, const char *body)
{
	g_autofree char *path = g_build_filename(m->hooks, "50-mx", NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

static void vss_remove_hook(struct mx *m)
{
	g_autofree char *path = g_build_filename(m->hooks, "50-mx", NULL);

	g_unlink(path);
}

/* A whole backup works, and the mount is writable before and after it. */
static void vss_assert_serving(struct mx *m)
{
	vss_assert_thawed(m);
	g_assert_cmphex(vss_freeze(m, NULL), ==, VMU_S_OK);
	vss_assert_frozen(m);
	g_assert_cmphex(vss(m, VMU_VSS_OP_THAW, NULL), ==, VMU_S_OK);
	vss_assert_thawed(m);
	assert_alive(m);
}

static void vss_begin(struct mx *m)
{
	m->mnt = make_ext4(m, "scope/a", 16);
	start_daemon(m);
}

static void vss_end(struct mx *m)
{
	vss_assert_serving(m);
	assert_clean_exit(m);
	vss_assert_thawed(m);
}

static void vss_kill_while_frozen(struct mx *m)
{
	vss_begin(m);
	g_assert_cmphex(vss_freeze(m, NULL), ==, VMU_S_OK);
	vss_assert_frozen(m);
	kill9(m);
	vss_assert_frozen(m); /* until the next instance finds the crash record */
	start_daemon(m);
	vss_assert_thawed(m);
	vss_end(m);
}

/* Killed while its freeze hooks run: before the reply, before anything is frozen. */
static void vss_kill_before_reply(struct mx *m)
{
	vss_add_hook(m, "[ \"$1\" = freeze ] && exec sleep 1\nexit 0");
	vss_begin(m);
	after(m, 300 * MSEC, on_kill_timer);
	g_assert_cmphex(vss_freeze(m, NULL), !=, VMU_S_OK);
	kill9(m);
	vss_remove_hook(m);
	vss_assert_thawed(m);
	start_daemon(m);
	vss_end(m);
}

static void vss_kill_after_thaw(struct mx *m)
{
	vss_begin(m);
	g_assert_cmphex(vss_freeze(m, NULL), ==, VMU_S_OK);
	g_assert_cmphex(vss(m, VMU_VSS_OP_THAW, NULL), ==, VMU_S_OK);
	kill9(m);
	vss_assert_thawed(m);
	start_daemon(m);
	vss_end(m);
}

/* The kernel's FREEZE deadline passes while the daemon is stopped; resumed, it answers
 * late, is refused, and must not leave the mount frozen. */
static void vss_timeout_late_reply(struct mx *m)
{
	bool timed_out = false;

	vss_begin(m);
	stop_daemon_short_deadline(m, 300 * MSEC);
	g_assert_cmphex(vss_freeze(m, &timed_out), ==, VMU_E_FAIL);
	g_assert_true(timed_out);
	resume_after_timeout(m);
	vss_assert_thawed(m);
	vss_end(m);
}

/* The hooks outlast the kernel's FREEZE deadline: the daemon freezes after the host gave
 * up, and must thaw once its reply is refused. */
static void vss_timeout_slow_hooks(struct mx *m)
{
	bool timed_out = false;

	vss_add_hook(m, "[ \"$1\" = freeze ] && exec sleep 1\nexit 0");
	vss_begin(m);
	hvsim_set_freeze_timeout(m->sim, 300 * MSEC);
	g_assert_cmphex(vss_freeze(m, &timed_out), ==, VMU_E_FAIL);
	g_assert_true(timed_out);
	vss_remove_hook(m);
	hvsim_set_freeze_timeout(m->sim, 900 * SEC);
	/* its reply, after the hooks, is refused: it reopens the device */
	g_assert_cmpint(hvsim_wait_disconnected(m->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(m->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	vss_assert_thawed(m);
	vss_end(m);
}

static void vss_reload_while_frozen(struct mx *m)
{
	vss_begin(m);
	g_assert_cmphex(vss_freeze(m, NULL), ==, VMU_S_OK);
	g_assert_cmpint(kill(m->d->pid, SIGHUP), ==, 0);
	g_assert_cmpint(hvsim_run_for(m->sim, 200 * MSEC), ==, 0);
	vss_assert_frozen(m);
	g_assert_cmphex(vss(m, VMU_VSS_OP_THAW, NULL), ==, VMU_S_OK);
	vss_assert_thawed(m);
	/* A backup keeps the configuration it started with: the reload is refused (the log is
	 * held while frozen, so the line comes after the thaw), and taken once idle. */
	wait_log(m, "the new configuration was refused");
	g_assert_cmpint(kill(m->d->pid, SIGHUP), ==, 0);
	wait_log(m, "reloaded the configuration");
	vss_end(m);
}

/* The device goes away while frozen: the daemon thaws (nobody is left to send THAW). */
static void vss_host_off_on_frozen(struct mx *m)
{
	vss_begin(m);
	g_assert_cmphex(vss_freeze(m, NULL), ==, VMU_S_OK);
	vss_assert_frozen(m);
	m->sim = hvsim_free(m->sim);
	vss_assert_thawed(m);
	g_usleep(300 * MSEC);
	listen_host(m);
	g_assert_cmpint(hvsim_wait_registered(m->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	vss_end(m);
}

/* A FREEZE with the run directory, where the crash record goes, on a file system that
 * breaks(): the daemon may refuse or go on without a record, but nothing stays frozen and
 * it does not crash. Returns that file system's mount point. */
static char *vss_freeze_broken_run_dir(struct mx *m, int size_mb, void (*breaks)(const char *))
{
	char *runfs = make_ext4(m, "runfs", size_mb);
	g_autofree char *run = g_build_filename(runfs, "run", NULL);

	move_dir(m, &m->env->run_dir, run);
	vss_begin(m);
	breaks(runfs);
	if (vss_freeze(m, NULL) == VMU_S_OK)
		g_assert_cmphex(vss(m, VMU_VSS_OP_THAW, NULL), ==, VMU_S_OK);
	vss_assert_thawed(m);
	assert_alive(m);
	return runfs;
}

/* Run directory full; with room again, a backup works. */
static void vss_enospc(struct mx *m)
{
	g_autofree char *runfs = vss_freeze_broken_run_dir(m, 4, test_fill_up);

	free_up(runfs);
	vss_end(m);
}

/* The run directory fails every I/O; back (remounted), a new daemon serves. */
static void vss_eio(struct mx *m)
{
	g_free(vss_freeze_broken_run_dir(m, 8, shut_down));
	assert_clean_exit(m);
	remount(m, "runfs");
	start_daemon(m);
	vss_end(m);
}

/* ---------------------------------------------------------------- fcopy */

static char *sha256_of(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* A source file of size pseudo-random bytes in the cell's directory (outside dest). */
static char *make_source(struct mx *m, size_t size)
{
	g_autofree char *name = g_strdup_printf("src-%u", m->serial++);
	char *path = g_build_filename(m->env->dir, name, NULL);
	g_autofree guint8 *buf = g_malloc(size ? size : 1);
	GRand *rand = g_rand_new_with_seed(m->serial);

	for (size_t i = 0; i < size; i++)
		buf[i] = (guint8)g_rand_int(rand);
	g_rand_free(rand);
	g_assert_true(g_file_set_contents(path, (const char *)buf, (gssize)size, NULL));
	return path;
}

/* Entries of dest other than those named (space separated) and lost+found. */
static unsigned count_other_entries(const char *dir, const char *allowed)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_auto(GStrv) ok = g_strsplit(allowed, " ", -1);
	const char *name;
	unsigned n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		if (strcmp(name, "lost+found") != 0 &&
		    !g_strv_contains((const char *const *)ok, name)) {
			g_printerr("unexpected entry %s/%s\n", dir, name);
			n++;
		}
	return n;
}

/* The file is absent, and nothing else (no temporary) is in dest but `keep`. */
static void fcopy_assert_absent(struct mx *m, const char *name, const char *keep)
{
	g_autofree char *path = g_build_filename(m->dest, name, NULL);

	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(count_other_entries(m->dest, keep), ==, 0);
}

static void fcopy_assert_whole(struct mx *m, const char *name, const char *src)
{
	g_autofree char *path = g_build_filename(m->dest, name, NULL);
	g_autofree char *want = sha256_of(src);
	g_autofree char *got = sha256_of(path);

	g_assert_cmpstr(got, ==, want);
}

static uint32_t fcopy_start(struct mx *m, const char *name, uint64_t size)
{
	struct hvsim_result r = {0};
	int ret = hvsim_fcopy_start(m->sim, m->dest, name, VMU_FCOPY_OVER_WRITE, size, &r);

	return ret == 0 ? r.status : VMU_E_FAIL;
}

static uint32_t fcopy_write(struct mx *m, uint64_t offset, size_t n, bool *ret_timeout)
{
	static const guint8 zeros[VMU_FCOPY_DATA_FRAGMENT];
	struct hvsim_result r = {0};
	int ret = hvsim_fcopy_write(m->sim, offset, zeros, (uint32_t)n, &r);

	if (ret_timeout)
		*ret_timeout = ret == 0 && r.kernel_timeout;
	return ret == 0 ? r.status : VMU_E_FAIL;
}

/* START and two fragments of a 1 MiB file: a copy in the middle of its transfer. */
static void fcopy_half(struct mx *m, const char *name)
{
	g_assert_cmphex(fcopy_start(m, name, 1 << 20), ==, VMU_S_OK);
	for (uint64_t i = 0; i < 2; i++)
		g_assert_cmphex(
		    fcopy_write(m, i * VMU_FCOPY_DATA_FRAGMENT, VMU_FCOPY_DATA_FRAGMENT, NULL), ==,
		    VMU_S_OK);
}

/* The rest of fcopy_half()'s file, fragment by fragment, until one fails: its status. */
static uint32_t fcopy_write_rest(struct mx *m)
{
	uint32_t status = VMU_S_OK;

	for (uint64_t off = 2 * VMU_FCOPY_DATA_FRAGMENT; off < (1 << 20) && status == VMU_S_OK;
	     off += VMU_FCOPY_DATA_FRAGMENT)
		status = fcopy_write(m, off, VMU_FCOPY_DATA_FRAGMENT, NULL);
	return status;
}

/* A whole copy works and arrives whole; then it is removed again. */
static void fcopy_assert_serving(struct mx *m)
{
	g_autofree char *src = make_source(m, 300000);
	g_autofree char *path = g_build_filename(m->dest, "fresh", NULL);
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_file(m->sim, src, m->dest, "fresh", VMU_FCOPY_OVER_WRITE, &r),
			==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	fcopy_assert_whole(m, "fresh", src);
	g_assert_cmpint(g_unlink(path), ==, 0);
	assert_alive(m);
}

static void fcopy_begin(struct mx *m)
{
	if (!m->dest)
		m->dest = g_build_filename(m->env->dir, "dest", NULL);
	g_assert_cmpint(g_mkdir_with_parents(m->dest, 0755), ==, 0);
	start_daemon(m);
}

static void fcopy_end(struct mx *m)
{
	fcopy_assert_serving(m);
	assert_clean_exit(m);
}

static void fcopy_kill_before_reply(struct mx *m)
{
	fcopy_begin(m);
	stop_daemon_short_deadline(m, 300 * MSEC);
	g_assert_cmphex(fcopy_start(m, "unanswered", 4096), !=, VMU_S_OK);
	kill9(m);
	hvsim_set_timeout(m->sim, VMU_SERVICE_FCOPY, 30 * SEC);
	start_daemon(m);
	fcopy_assert_absent(m, "unanswered", "");
	fcopy_end(m);
}

static void fcopy_kill_mid_transfer(struct mx *m)
{
	fcopy_begin(m);
	fcopy_half(m, "half");
	kill9(m);
	fcopy_assert_absent(m, "half", "");
	start_daemon(m);
	fcopy_assert_absent(m, "half", "");
	fcopy_end(m);
}

static void fcopy_kill_after_reply(struct mx *m)
{
	g_autofree char *src = NULL;
	struct hvsim_result r;

	fcopy_begin(m);
	src = make_source(m, 200000);
	g_assert_cmpint(hvsim_fcopy_file(m->sim, src, m->dest, "done", 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	kill9(m);
	fcopy_assert_whole(m, "done", src);
	start_daemon(m);
	fcopy_assert_whole(m, "done", src);
	fcopy_assert_absent(m, "nothing", "done");
	fcopy_end(m);
}

static void fcopy_timeout_late_reply(struct mx *m)
{
	bool timed_out = false;

	fcopy_begin(m);
	fcopy_half(m, "half");
	stop_daemon_short_deadline(m, 300 * MSEC);
	g_assert_cmphex(fcopy_write(m, 2 * VMU_FCOPY_DATA_FRAGMENT, 100, &timed_out), ==,
			VMU_E_FAIL);
	g_assert_true(timed_out);
	resume_after_timeout(m);
	fcopy_assert_absent(m, "half", "");
	fcopy_end(m);
}

/* SIGHUP between two fragments: the copy finishes whole or is dropped without a trace. */
static void fcopy_reload_mid_transfer(struct mx *m)
{
	g_autofree char *path = NULL;
	uint32_t status = VMU_S_OK;
	struct hvsim_result r;

	fcopy_begin(m);
	g_assert_cmphex(fcopy_start(m, "reloaded", 3 * VMU_FCOPY_DATA_FRAGMENT), ==, VMU_S_OK);
	g_assert_cmphex(fcopy_write(m, 0, VMU_FCOPY_DATA_FRAGMENT, NULL), ==, VMU_S_OK);
	g_assert_cmpint(kill(m->d->pid, SIGHUP), ==, 0);
	wait_log(m, "reloaded the configuration");
	for (uint64_t i = 1; i < 3 && status == VMU_S_OK; i++)
		status = fcopy_write(m, i * VMU_FCOPY_DATA_FRAGMENT, VMU_FCOPY_DATA_FRAGMENT, NULL);
	if (status == VMU_S_OK) {
		g_assert_cmpint(hvsim_fcopy_complete(m->sim, &r), ==, 0);
		status = r.status;
	}
	path = g_build_filename(m->dest, "reloaded", NULL);
	if (status == VMU_S_OK) {
		struct stat st;

		g_assert_cmpint(stat(path, &st), ==, 0);
		g_assert_cmpint(st.st_size, ==, 3 * VMU_FCOPY_DATA_FRAGMENT);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	fcopy_assert_absent(m, "reloaded", "");
	fcopy_end(m);
}

/* A reload whose policy cannot be built (an owner that does not resolve), mid-transfer: the
 * old policy, allowlist included, stays in force, whole. */
static void fcopy_reload_bad_policy(struct mx *m)
{
	g_autofree char *roots = NULL, *bad = NULL;

	m->dest = g_build_filename(m->env->dir, "dest", NULL);
	roots = g_strdup_printf("allowed-roots=%s\n", m->dest);
	bad = g_strdup_printf("%sfile-owner=no-such-user-hvguest-mx\n", roots);
	write_config(m, roots);
	fcopy_begin(m);
	fcopy_half(m, "half");
	write_config(m, bad);
	g_assert_cmpint(kill(m->d->pid, SIGHUP), ==, 0);
	wait_log(m, "keeping the old one"); /* refused at load, or when the policy is built */
	g_assert_cmpint(hvsim_fcopy_cancel(m->sim, &(struct hvsim_result){0}), ==, 0);
	fcopy_assert_absent(m, "half", "");
	fcopy_assert_serving(m); /* the allowlist is read at START */
	write_config(m, roots);
	assert_clean_exit(m);
}

static void fcopy_host_off_on(struct mx *m)
{
	fcopy_begin(m);
	fcopy_half(m, "half");
	host_off_and_on(m);
	fcopy_assert_absent(m, "half", "");
	fcopy_end(m);
}

/* The target (and state) directory's file system fills up mid-copy: DISK_FULL, no partial
 * file; with room again, a copy works. */
static void fcopy_enospc(struct mx *m)
{
	g_autofree char *mnt = make_ext4(m, "destfs", 4);
	g_autofree char *state = g_build_filename(mnt, "state", NULL);

	m->dest = g_build_filename(mnt, "dest", NULL);
	write_config(m, "preallocate=false\n");
	move_dir(m, &m->env->state_dir, state);
	fcopy_begin(m);
	fcopy_half(m, "half");
	test_fill_up(mnt);
	g_assert_cmphex(fcopy_write_rest(m), ==, VMU_ERROR_DISK_FULL);
	fcopy_assert_absent(m, "half", "");
	assert_alive(m);
	free_up(mnt);
	fcopy_end(m);
}

/* The target directory's file system fails every I/O mid-copy: an error to the host, no
 * crash; once it is back, no partial file is there and a copy works. */
static void fcopy_eio(struct mx *m)
{
	g_autofree char *mnt = make_ext4(m, "destfs", 8);

	m->dest = g_build_filename(mnt, "dest", NULL);
	fcopy_begin(m);
	fcopy_half(m, "half");
	shut_down(mnt);
	g_assert_cmphex(fcopy_write_rest(m), !=, VMU_S_OK);
	assert_alive(m);
	remount(m, "destfs");
	fcopy_assert_absent(m, "half", "");
	fcopy_end(m);
}

/* ---------------------------------------------------------------- the matrix */

static struct cell cells[] = {
    {KVPD, "kill9-before-reply", NEEDS_NOTHING, kvp_kill_before_reply},
    {KVPD, "kill9-after-reply", NEEDS_NOTHING, kvp_kill_after_reply},
    {KVPD, "kill9-mid-burst", NEEDS_NOTHING, kvp_kill_mid_burst},
    {KVPD, "kernel-timeout-late-reply", NEEDS_NOTHING, kvp_timeout_late_reply},
    {KVPD, "reload-mid-request", NEEDS_NOTHING, kvp_reload_mid_request},
    {KVPD, "device-gone-and-back", NEEDS_NOTHING, kvp_host_off_on},
    {KVPD, "enospc-state-dir", NEEDS_MOUNTS, kvp_enospc},
    {KVPD, "eio-state-dir", NEEDS_MOUNTS, kvp_eio},
    {VSSD, "kill9-before-reply", NEEDS_MOUNTS, vss_kill_before_reply},
    {VSSD, "kill9-while-frozen", NEEDS_MOUNTS, vss_kill_while_frozen},
    {VSSD, "kill9-after-thaw", NEEDS_MOUNTS, vss_kill_after_thaw},
    {VSSD, "kernel-timeout-late-reply", NEEDS_MOUNTS, vss_timeout_late_reply},
    {VSSD, "kernel-timeout-slow-hooks", NEEDS_MOUNTS, vss_timeout_slow_hooks},
    {VSSD, "reload-while-frozen", NEEDS_MOUNTS, vss_reload_while_frozen},
    {VSSD, "device-gone-while-frozen", NEEDS_MOUNTS, vss_host_off_on_frozen},
    {VSSD, "enospc-run-dir", NEEDS_MOUNTS, vss_enospc},
    {VSSD, "eio-run-dir", NEEDS_MOUNTS, vss_eio},
    {FCOPYD, "kill9-before-reply", NEEDS_NOTHING, fcopy_kill_before_reply},
    {FCOPYD, "kill9-mid-transfer", NEEDS_NOTHING, fcopy_kill_mid_transfer},
    {FCOPYD, "kill9-after-reply", NEEDS_NOTHING, fcopy_kill_after_reply},
    {FCOPYD, "kernel-timeout-late-reply", NEEDS_NOTHING, fcopy_timeout_late_reply},
    {FCOPYD, "reload-mid-transfer", NEEDS_NOTHING, fcopy_reload_mid_transfer},
    {FCOPYD, "reload-bad-policy", NEEDS_NOTHING, fcopy_reload_bad_policy},
    {FCOPYD, "uio-host-disable-enable", NEEDS_NOTHING, fcopy_host_off_on, true},
    {FCOPYD, "enospc-dest-and-state-dir", NEEDS_MOUNTS, fcopy_enospc},
    {FCOPYD, "eio-dest", NEEDS_MOUNTS, fcopy_eio},
};

/* In the cell's subprocess: the world of the cell in the directory its parent made. */
static void run_in_subprocess(const struct cell *cell)
{
	struct mx m = {.cell = cell, .acked = g_ptr_array_new_with_free_func(g_free)};
	enum vmu_service svc = services[cell->daemon];

	test_daemon_set_parent_death_signal(SIGKILL);
	m.env = test_env_new_in(g_getenv("HVGUEST_MATRIX_DIR"), svc, NULL);
	m.sysfs = g_build_filename(m.env->dir, "sys", NULL);
	m.dev_dir = g_build_filename(m.env->dir, "devices", NULL);
	m.scope = g_build_filename(m.env->dir, "scope", NULL);
	m.hooks = g_build_filename(m.env->dir, "hooks", NULL);
	g_assert_cmpint(g_mkdir_with_parents(m.hooks, 0755), ==, 0);
	write_config(&m, "");
	listen_host(&m);
	cell->run(&m);
	test_daemon_free(m.d);
	hvsim_free(m.sim);
	test_env_free(m.env); /* HVGUEST_KEEP_TMP is set: the parent removes the directory */
	g_free(m.sysfs);
	g_free(m.dev_dir);
	g_free(m.scope);
	g_free(m.mnt);
	g_free(m.hooks);
	g_free(m.dest);
	g_free(m.extra);
	g_ptr_array_free(m.acked, TRUE);
}

/* Mount points below dir, deepest first. */
static GPtrArray *mounts_below(const char *dir)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *text = NULL;
	g_autofree char *prefix = g_strconcat(dir, "/", NULL);
	g_auto(GStrv) lines = NULL;

	g_assert_true(g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", 6);

		if (g_strv_length(f) >= 5 && g_str_has_prefix(f[4], prefix))
			g_ptr_array_add(v, g_strcompress(f[4]));
	}
	for (guint i = 0; i < v->len / 2; i++) {
		gpointer t = v->pdata[i];

		v->pdata[i] = v->pdata[v->len - 1 - i];
		v->pdata[v->len - 1 - i] = t;
	}
	return v;
}

/* Thaws and unmounts what the cell mounted; false if a mount was still frozen. */
static bool clean_up_mounts(const char *dir)
{
	g_autoptr(GPtrArray) mounts = mounts_below(dir);
	bool thawed_all = true;

	for (guint i = 0; i < mounts->len; i++) {
		const char *path = mounts->pdata[i];
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* FITHAW succeeds only on a frozen file system */
		if (fd >= 0 && ioctl(fd, FITHAW, 0) == 0) {
			g_printerr("left frozen: %s\n", path);
			thawed_all = false;
		}
		if (fd >= 0)
			close(fd);
		if (umount2(path, 0) < 0)
			umount2(path, MNT_DETACH);
	}
	return thawed_all;
}

static void run_cell(gconstpointer data)
{
	struct cell *cell = (struct cell *)data;
	struct test_env *env;
	bool keep = g_getenv("HVGUEST_KEEP_TMP") != NULL, passed;

	if (g_test_subprocess()) {
		run_in_subprocess(cell);
		return;
	}
	cell->result = -1;
	if (cell->needs & NEEDS_MOUNTS && !can_mount) {
		g_test_skip(mount_skip_reason);
		return;
	}
	env = test_env_new(services[cell->daemon], NULL);
	g_setenv("HVGUEST_MATRIX_DIR", env->dir, TRUE);
	g_setenv("HVGUEST_KEEP_TMP", "1", TRUE);
	g_test_trap_subprocess(NULL, CELL_TIMEOUT, G_TEST_SUBPROCESS_INHERIT_STDERR);
	if (!keep)
		g_unsetenv("HVGUEST_KEEP_TMP");
	passed = g_test_trap_has_passed();
	passed &= clean_up_mounts(env->dir);
	test_env_free(env);
	cell->result = passed;
	if (!passed)
		g_test_fail();
}

static void print_matrix(void)
{
	unsigned passed = 0, failed = 0, skipped = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(cells); i++) {
		const struct cell *c = &cells[i];
		const char *what = c->result == 1 ? "pass" : c->result == 0 ? "FAIL" : "skip";

		g_test_message("%-7s %-27s %s", daemon_names[c->daemon], c->fault, what);
		passed += c->result == 1;
		failed += c->result == 0;
		skipped += c->result == -1;
	}
	g_test_message("fault matrix: %u of %zu cells passed, %u failed, %u skipped", passed,
		       G_N_ELEMENTS(cells), failed, skipped);
	if (failed)
		g_test_fail();
}

/* A private mount namespace, so that every mount a cell makes is the test's alone. */
static void enter_mount_namespace(void)
{
	g_autofree char *mkfs = g_find_program_in_path("mkfs.ext4");

	if (getuid() != 0)
		mount_skip_reason = "needs root (loop-mounted file systems)";
	else if (access("/dev/loop-control", W_OK) < 0)
		mount_skip_reason = "needs loop devices (/dev/loop-control)";
	else if (!mkfs)
		mount_skip_reason = "needs mkfs.ext4";
	else if (unshare(CLONE_NEWNS) < 0)
		mount_skip_reason = "cannot make a private mount namespace (unshare)";
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		mount_skip_reason = "cannot make the mounts private (no mount point at /?)";
	else
		can_mount = true;
}

int main(int argc, char **argv)
{
	/* --keep-going: a failed cell must not stop the matrix (GLib bails out otherwise) */
	g_autofree char **args = g_new0(char *, argc + 2);

	memcpy(args, argv, sizeof(char *) * (size_t)argc);
	args[argc++] = (char *)"--keep-going";
	argv = args;
	g_test_init(&argc, &argv, NULL);
	/* a subprocess inherits the namespace its parent entered */
	if (!g_test_subprocess())
		enter_mount_namespace();
	else
		can_mount = true;
	for (size_t i = 0; i < G_N_ELEMENTS(cells); i++) {
		g_autofree char *path = g_strdup_printf(
		    "/fault-matrix/%s/%s", daemon_names[cells[i].daemon], cells[i].fault);

		g_test_add_data_func(path, &cells[i], run_cell);
	}
	/* a suite made after the cells' runs after them (a suite's own cases run first) */
	g_test_add_func("/fault-matrix-summary/cells-passed", print_matrix);
	return g_test_run();
}
