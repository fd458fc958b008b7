/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of hv-vssd's FIFREEZE/FITHAW module (daemons/vss/freeze.c) on REAL file systems:
 * small ext4 images this test makes and loop-mounts, nothing else.
 *
 * Safety:
 *   - main() moves the whole test into a private mount namespace (unshare(CLONE_NEWNS), then
 *     / made MS_REC|MS_PRIVATE; tests/sandbox.h) before anything else, so nothing it mounts
 *     is seen outside and no mount from outside can enter its scope;
 *   - every plan is built with scope= the test's own directory and include= its own mounts,
 *     and before EVERY freeze_plan() (and every direct FIFREEZE of the probe) the set is
 *     checked to hold exactly the test's own mounts, each on a loop device, else the test
 *     fails before freezing anything;
 *   - the teardown always thaws (FITHAW, EINVAL when not frozen is fine) and unmounts the
 *     test's mounts and deletes the images, and a failed assertion (SIGABRT) thaws them in
 *     a signal handler before the program dies.
 * Without root, loop devices, a private namespace or mkfs.ext4, every test is skipped.
 *
 * Failures that real file systems do not give on demand (EOPNOTSUPP, EIO) come from the
 * module's own injection hook (FREEZE_INJECT_ENV), which replaces the FIFREEZE of one mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/vss/freeze.h"
#include "daemons/vss/plan.h"
#include "tests/sandbox.h"

#define MAX_MOUNTS 4

static const char *skip_reason;

/* A failed assertion aborts before the teardown: thaw the test's own mounts first. */
static char abort_paths[MAX_MOUNTS][512];

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
	signal(sig, SIG_DFL);
	raise(sig);
}

struct fixture {
	char *dir;   /* images */
	char *scope; /* mount points */
	char *mounts[MAX_MOUNTS];
	char *images[MAX_MOUNTS];
	size_t n;
	struct plan *plan;
	struct freeze_set *set;
};

static int run_cmd(const char *const *argv)
{
	g_autoptr(GError) error = NULL;
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
			      G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, NULL, NULL, &status, &error))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	if (skip_reason)
		return;
	f->dir = g_dir_make_tmp("test-freeze-XXXXXX", &error);
	g_assert_no_error(error);
	f->scope = g_build_filename(f->dir, "scope", NULL);
	g_assert_cmpint(g_mkdir(f->scope, 0755), ==, 0);
}

/* Thaws what the test froze, unmounts, deletes. */
static void unmake_mounts(struct fixture *f)
{
	for (size_t i = f->n; i-- > 0;) {
		int fd = open(f->mounts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			(void)ioctl(fd, FITHAW, 0); /* EINVAL: not frozen */
			close(fd);
		}
		if (umount(f->mounts[i]) < 0)
			umount2(f->mounts[i], MNT_DETACH);
		g_rmdir(f->mounts[i]);
		g_unlink(f->images[i]);
		abort_paths[i][0] = '\0';
		g_free(f->mounts[i]);
		g_free(f->images[i]);
	}
	f->n = 0;
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	/* the set holds descriptors on the mounts: thaw through it, then close them */
	if (f->set)
		(void)freeze_thaw(f->set);
	f->set = freeze_set_free(f->set);
	f->plan = plan_free(f->plan);
	unmake_mounts(f);
	unsetenv(FREEZE_INJECT_ENV);
	if (f->scope)
		g_rmdir(f->scope);
	if (f->dir)
		g_rmdir(f->dir);
	g_free(f->scope);
	g_free(f->dir);
}

/* An ext4 image loop-mounted at <scope>/<name>. */
static const char *make_mount(struct fixture *f, const char *name)
{
	g_autofree char *base = g_strdelimit(g_strdup(name), "/", '_');
	char *path = g_build_filename(f->scope, name, NULL);
	char *img = g_strdup_printf("%s/%s.img", f->dir, base);

	g_assert_cmpuint(f->n, <, MAX_MOUNTS);
	g_assert_cmpuint(strlen(path), <, sizeof(abort_paths[0]));
	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	g_assert_cmpint(run_cmd((const char *const[]){"truncate", "-s", "32M", img, NULL}), ==, 0);
	g_assert_cmpint(run_cmd((const char *const[]){"mkfs.ext4", "-q", "-F", img, NULL}), ==, 0);
	g_assert_cmpint(
	    run_cmd((const char *const[]){"mount", "-o", "loop", "-t", "ext4", img, path, NULL}),
	    ==, 0);
	strcpy(abort_paths[f->n], path);
	f->mounts[f->n] = path;
	f->images[f->n] = img;
	f->n++;
	return path;
}

static bool ours(const struct fixture *f, const char *target)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->mounts[i], target) == 0)
			return true;
	return false;
}

/* The scope check: target is one of the test's mounts and sits on a loop device. */
static void assert_ours(const struct fixture *f, const char *target)
{
	struct stat st;

	g_assert_true(ours(f, target));
	g_assert_true(g_str_has_prefix(target, f->scope));
	g_assert_cmpint(stat(target, &st), ==, 0);
	g_assert_cmpuint(major(st.st_dev), ==, PLAN_LOOP_MAJOR);
}

/* Plan of the test's scope, opened; it must hold exactly the test's n_expected mounts. */
static void plan_and_open(struct fixture *f, size_t n_expected)
{
	g_autofree char *glob = g_strdup_printf("%s/*", f->scope);
	const char *include[] = {glob, NULL};
	struct plan_config c = {.scope = f->scope, .include = include};

	f->set = freeze_set_free(f->set);
	f->plan = plan_free(f->plan);
	g_assert_cmpint(plan_build_from_file("/proc/self/mountinfo", &c, &f->plan), ==, 0);
	g_assert_cmpuint(f->plan->n_freeze, ==, n_expected);
	for (size_t i = 0; i < f->plan->n_freeze; i++)
		assert_ours(f, plan_frozen(f->plan, i)->target);
	g_assert_cmpint(freeze_open(f->plan, &f->set), ==, 0);
	g_assert_cmpuint(f->set->n, ==, n_expected);
}

/* Checked before every freeze_plan(): nothing but the test's own mounts in the set, and
 * every descriptor freeze_plan() would freeze through is on a loop device. */
static void assert_set_is_ours(const struct fixture *f)
{
	g_assert_nonnull(f->set);
	for (size_t i = 0; i < f->set->n; i++) {
		const struct freeze_mount *m = &f->set->mounts[i];
		struct stat st;

		g_assert_true(ours(f, m->target));
		g_assert_true(g_str_has_prefix(m->target, f->scope));
		if (m->fd < 0)
			continue;
		g_assert_cmpint(fstat(m->fd, &st), ==, 0);
		g_assert_cmpuint(major(st.st_dev), ==, PLAN_LOOP_MAJOR);
	}
}

/* Is the test's mount at path frozen? FIFREEZE answers EBUSY when it is; when it was not,
 * the probe's own freeze is undone at once. */
static bool is_frozen(const struct fixture *f, const char *path)
{
	int fd, r;

	assert_ours(f, path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	r = ioctl(fd, FIFREEZE, 0) < 0 ? -errno : 0;
	if (r == 0)
		g_assert_cmpint(ioctl(fd, FITHAW, 0), ==, 0);
	close(fd);
	g_assert_true(r == 0 || r == -EBUSY);
	return r == -EBUSY;
}

static struct freeze_mount *mount_of(struct fixture *f, const char *target)
{
	for (size_t i = 0; i < f->set->n; i++)
		if (strcmp(f->set->mounts[i].target, target) == 0)
			return &f->set->mounts[i];
	g_assert_not_reached();
	return NULL;
}

struct record {
	size_t calls, n;
	char *targets[MAX_MOUNTS];
	uint64_t mnt_ids[MAX_MOUNTS];
	int answer;
};

static int record_cb(const struct state_mount *m, size_t n, void *userdata)
{
	struct record *rec = userdata;

	rec->calls++;
	rec->n = n;
	for (size_t i = 0; i < n && i < MAX_MOUNTS; i++) {
		g_free(rec->targets[i]);
		rec->targets[i] = g_strdup(m[i].target);
		rec->mnt_ids[i] = m[i].mnt_id;
	}
	return rec->answer;
}

static void record_clear(struct record *rec)
{
	for (size_t i = 0; i < MAX_MOUNTS; i++)
		g_free(rec->targets[i]);
}

static void inject(const char *target, int error)
{
	g_autofree char *spec = g_strdup_printf("%s:%d", target, error);

	g_assert_cmpint(setenv(FREEZE_INJECT_ENV, spec, 1), ==, 0);
}

/* ---------------------------------------------------------------- tests */

static void test_freeze_thaw(struct fixture *f, gconstpointer data)
{
	struct record rec = {0};
	const char *failed = NULL;
	const char *a, *b;
	uint64_t id, dev;
	int fd;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	b = make_mount(f, "b");
	plan_and_open(f, 2);
	/* mounted last, frozen first */
	g_assert_cmpstr(f->set->mounts[0].target, ==, b);
	g_assert_cmpstr(f->set->mounts[1].target, ==, a);
	/* the identity taken at open is the mount's */
	fd = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(freeze_identify(fd, &id, &dev), ==, 0);
	close(fd);
	g_assert_cmpuint(mount_of(f, a)->mnt_id, ==, id);
	g_assert_cmpuint(mount_of(f, a)->dev, ==, dev);
	g_assert_cmpuint(major(dev), ==, PLAN_LOOP_MAJOR);

	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, record_cb, &rec, &failed), ==,
			0);
	g_assert_null(failed);
	/* recorded once, before the first FIFREEZE, with both */
	g_assert_cmpuint(rec.calls, ==, 1);
	g_assert_cmpuint(rec.n, ==, 2);
	g_assert_cmpstr(rec.targets[0], ==, b);
	g_assert_cmpuint(rec.mnt_ids[1], ==, id);
	g_assert_cmpuint(freeze_count(f->set, FREEZE_OURS), ==, 2);
	g_assert_true(is_frozen(f, a));
	g_assert_true(is_frozen(f, b));

	g_assert_cmpint(freeze_thaw(f->set), ==, 2);
	g_assert_cmpuint(freeze_count(f->set, FREEZE_THAWED), ==, 2);
	g_assert_false(is_frozen(f, a));
	g_assert_false(is_frozen(f, b));
	/* nothing of ours left: thawing again does nothing */
	g_assert_cmpint(freeze_thaw(f->set), ==, 0);
	freeze_release(f->set);
	g_assert_cmpint(f->set->mounts[0].fd, ==, -1);
	record_clear(&rec);
}

/* A mount someone else froze (EBUSY) is left frozen; only ours are thawed. */
static void test_someone_elses_freeze(struct fixture *f, gconstpointer data)
{
	size_t n = 0;
	struct state_mount *entries;
	const char *a, *b;
	int fd;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	b = make_mount(f, "b");
	plan_and_open(f, 2);
	assert_ours(f, b);
	fd = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(ioctl(fd, FIFREEZE, 0), ==, 0);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, NULL, NULL, NULL), ==, 0);
	g_assert_cmpint(mount_of(f, b)->state, ==, FREEZE_ALREADY);
	g_assert_cmpint(mount_of(f, b)->error, ==, EBUSY);
	g_assert_cmpint(mount_of(f, a)->state, ==, FREEZE_OURS);
	entries = freeze_entries(f->set, FREEZE_OURS, &n);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(entries[0].target, ==, a);
	free(entries);
	g_assert_cmpint(freeze_thaw(f->set), ==, 1);
	g_assert_false(is_frozen(f, a));
	g_assert_true(is_frozen(f, b)); /* still the other one's */
	g_assert_cmpint(ioctl(fd, FITHAW, 0), ==, 0);
	close(fd);
}

/* EOPNOTSUPP: skipped by one policy, fatal (everything thawed) by the other. */
static void test_unsupported(struct fixture *f, gconstpointer data)
{
	const char *failed = NULL;
	const char *a, *b;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	b = make_mount(f, "b");
	inject(a, EOPNOTSUPP);
	plan_and_open(f, 2);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_SKIP, NULL, NULL, &failed), ==, 0);
	g_assert_cmpint(mount_of(f, a)->state, ==, FREEZE_UNSUPPORTED);
	g_assert_cmpint(mount_of(f, b)->state, ==, FREEZE_OURS);
	g_assert_true(is_frozen(f, b));
	g_assert_cmpint(freeze_thaw(f->set), ==, 1);

	plan_and_open(f, 2);
	assert_set_is_ours(f);
	/* b is frozen first, then a fails: b is thawed again */
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, NULL, NULL, &failed), ==,
			-EOPNOTSUPP);
	g_assert_cmpstr(failed, ==, a);
	g_assert_cmpint(mount_of(f, b)->state, ==, FREEZE_THAWED);
	g_assert_false(is_frozen(f, b));
	g_assert_false(is_frozen(f, a));
}

/* Any other error stops the freeze and thaws what was frozen, in reverse order. */
static void test_rollback(struct fixture *f, gconstpointer data)
{
	const char *failed = NULL;
	const char *a, *b, *c;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	b = make_mount(f, "b");
	c = make_mount(f, "c");
	inject(a, EIO); /* frozen last */
	plan_and_open(f, 3);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_SKIP, NULL, NULL, &failed), ==,
			-EIO);
	g_assert_cmpstr(failed, ==, a);
	g_assert_cmpint(mount_of(f, a)->error, ==, EIO);
	g_assert_cmpint(mount_of(f, b)->state, ==, FREEZE_THAWED);
	g_assert_cmpint(mount_of(f, c)->state, ==, FREEZE_THAWED);
	g_assert_false(is_frozen(f, b));
	g_assert_false(is_frozen(f, c));
}

/* The crash record comes first: when it cannot be written, nothing is frozen. */
static void test_record_failure(struct fixture *f, gconstpointer data)
{
	struct record rec = {.answer = -ENOSPC};
	const char *a;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	plan_and_open(f, 1);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, record_cb, &rec, NULL), ==,
			-ENOSPC);
	g_assert_cmpuint(rec.calls, ==, 1);
	g_assert_cmpint(mount_of(f, a)->state, ==, FREEZE_PENDING);
	g_assert_false(is_frozen(f, a));
	record_clear(&rec);
}

/* A mount unmounted, or replaced by another, between the plan and the freeze is never
 * frozen through its path: "gone", skipped or fatal by policy. */
static void test_gone_and_replaced(struct fixture *f, gconstpointer data)
{
	const char *failed = NULL;
	const char *a, *b;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	b = make_mount(f, "b");
	plan_and_open(f, 2);
	/* b replaced: another tmpfs on the same path, the planned one stays underneath */
	g_assert_cmpint(mount("tmpfs", b, "tmpfs", 0, "size=1m"), ==, 0);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_SKIP, NULL, NULL, NULL), ==, 0);
	g_assert_cmpint(mount_of(f, b)->state, ==, FREEZE_GONE);
	g_assert_cmpint(mount_of(f, b)->error, ==, ESTALE);
	g_assert_cmpint(mount_of(f, a)->state, ==, FREEZE_OURS);
	g_assert_cmpint(freeze_thaw(f->set), ==, 1);
	g_assert_false(is_frozen(f, a));
	/* the planned b underneath was not frozen either */
	g_assert_cmpint(umount(b), ==, 0);
	g_assert_false(is_frozen(f, b));

	plan_and_open(f, 2);
	/* unmounted (lazily: the set holds it open), the path is a plain directory again */
	g_assert_cmpint(umount2(b, MNT_DETACH), ==, 0);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, NULL, NULL, &failed), ==,
			-ESTALE);
	g_assert_cmpstr(failed, ==, b);
	g_assert_cmpint(mount_of(f, a)->state, ==, FREEZE_PENDING); /* b comes first */
	freeze_release(f->set);
	/* back for the teardown */
	g_assert_cmpint(run_cmd((const char *const[]){"mount", "-o", "loop", "-t", "ext4",
						      f->images[1], b, NULL}),
			==, 0);
}

/* Crash recovery: thaw by the record, only when the path still leads to the recorded mount. */
static void test_thaw_recorded(struct fixture *f, gconstpointer data)
{
	struct state_mount m;
	const char *a;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	a = make_mount(f, "a");
	plan_and_open(f, 1);
	assert_set_is_ours(f);
	g_assert_cmpint(freeze_plan(f->set, FREEZE_UNFREEZABLE_FAIL, NULL, NULL, NULL), ==, 0);
	m = (struct state_mount){
	    .target = (char *)a, .mnt_id = f->set->mounts[0].mnt_id, .dev = f->set->mounts[0].dev};
	/* a record of another mount at that path is left alone */
	m.mnt_id++;
	g_assert_cmpint(freeze_thaw_recorded(&m), ==, -ESTALE);
	g_assert_true(is_frozen(f, a));
	m.mnt_id--;
	g_assert_cmpint(freeze_thaw_recorded(&m), ==, 0);
	g_assert_false(is_frozen(f, a));
	g_assert_cmpint(freeze_thaw_recorded(&m), ==, -EINVAL); /* not frozen */
	/* an old record without identity: thawed by path */
	m.mnt_id = 0;
	g_assert_cmpint(freeze_thaw_recorded(&m), ==, -EINVAL);
	/* the set still thinks it is ours: thawing it counts EINVAL as thawed */
	g_assert_cmpint(freeze_thaw(f->set), ==, 1);
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
	/* Everything below happens in a private mount namespace. */
	skip_reason = sandbox_enter(CLONE_NEWNS);
	if (skip_reason)
		return;
	if (run_cmd((const char *const[]){"mkfs.ext4", "-V", NULL}) != 0) {
		skip_reason = "mkfs.ext4 (e2fsprogs) missing";
		return;
	}
	signal(SIGABRT, on_abort);
}

#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	check_environment();
	ADD("/freeze/freeze-thaw", test_freeze_thaw);
	ADD("/freeze/someone-elses-freeze", test_someone_elses_freeze);
	ADD("/freeze/unsupported", test_unsupported);
	ADD("/freeze/rollback", test_rollback);
	ADD("/freeze/record-failure", test_record_failure);
	ADD("/freeze/gone-and-replaced", test_gone_and_replaced);
	ADD("/freeze/thaw-recorded", test_thaw_recorded);
	return g_test_run();
}
