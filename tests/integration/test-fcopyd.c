/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the real hv-fcopyd against the simulated host and kernel (hvsim) over the
 * legacy char-device transport. Contents compared by SHA-256; names with non-ASCII
 * characters and a surrogate pair; CREATE_PATH, OVER_WRITE and "already exists"; CANCEL,
 * hibernation and a daemon killed mid-transfer leave no partial or temporary file; links
 * planted by another user; mode, owner and the allowlist from the config; out of space
 * on a tiny loop-mounted ext4 in a private mount namespace (root only).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define NOBODY 65534

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	char *dest;
};

static void write_config(struct fixture *f, const char *extra)
{
	test_env_write_config(f->env, extra);
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->env = test_env_new(VMU_SERVICE_FCOPY, data);
	f->dest = g_build_filename(f->env->dir, "dest", NULL);
	g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_FCOPY, f->env->socket_path), ==, 0);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	if (f->daemon && g_test_failed()) {
		g_autofree char *log = test_daemon_log(f->daemon);
		g_test_message("daemon log:\n%s", log);
	}
	test_daemon_free(f->daemon);
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->dest);
}

static void start_daemon(struct fixture *f)
{
	if (f->daemon && f->daemon->pid > 0) {
		g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 5000), ==, 0);
		g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==,
				0);
	}
	test_daemon_free(f->daemon);
	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
}

static char *dest_path(struct fixture *f, const char *rel)
{
	return g_build_filename(f->dest, rel, NULL);
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir, sorted, space separated. */
static char *list_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	g_assert_nonnull(d);
	while ((n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, cmp_names);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (char **)names->pdata);
}

static char *sha256_of(const char *path)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, NULL);

	g_assert_nonnull(map);
	if (g_mapped_file_get_length(map))
		g_checksum_update(sum, (const guchar *)g_mapped_file_get_contents(map),
				  (gssize)g_mapped_file_get_length(map));
	return g_strdup(g_checksum_get_string(sum));
}

static char *make_source(struct fixture *f, size_t size, guint32 seed)
{
	g_autofree char *name = g_strdup_printf("src-%zu", size);
	char *path = g_build_filename(f->env->dir, name, NULL);
	g_autofree guint8 *buf = g_malloc(size ? size : 1);
	GRand *rand = g_rand_new_with_seed(seed);

	for (size_t i = 0; i < size; i++)
		buf[i] = (guint8)g_rand_int(rand);
	g_rand_free(rand);
	g_assert_true(g_file_set_contents(path, (const char *)buf, (gssize)size, NULL));
	return path;
}

static uint32_t copy_file(struct fixture *f, const char *src, const char *dir, const char *name,
			  uint32_t flags)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_file(f->sim, src, dir, name, flags, &r), ==, 0);
	return r.status;
}

static uint32_t start(struct fixture *f, const char *dir, const char *name, uint32_t flags,
		      uint64_t size)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_start(f->sim, dir, name, flags, size, &r), ==, 0);
	return r.status;
}

static uint32_t write_at(struct fixture *f, uint64_t offset, const void *data, uint32_t size)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_write(f->sim, offset, data, size, &r), ==, 0);
	return r.status;
}

static uint32_t complete(struct fixture *f)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_complete(f->sim, &r), ==, 0);
	return r.status;
}

static uint32_t cancel(struct fixture *f)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_cancel(f->sim, &r), ==, 0);
	return r.status;
}

static void assert_dir(const char *dir, const char *want)
{
	g_autofree char *got = list_dir(dir);

	g_assert_cmpstr(got, ==, want);
}

/* ---------------------------------------------------------------- contents */

static void check_copy(struct fixture *f, size_t size, guint32 seed)
{
	g_autofree char *src = make_source(f, size, seed);
	g_autofree char *name = g_strdup_printf("copy-%zu", size);
	g_autofree char *dst = dest_path(f, name);
	g_autofree char *want = sha256_of(src);
	g_autofree char *got = NULL;
	struct stat st;

	g_assert_cmphex(copy_file(f, src, f->dest, name, 0), ==, VMU_S_OK);
	got = sha256_of(dst);
	g_assert_cmpstr(got, ==, want);
	g_assert_cmpint(stat(dst, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, (off_t)size);
	g_assert_cmpint(st.st_mode & 07777, ==, 0644);
	g_assert_cmpint(st.st_uid, ==, 0);
	g_unlink(src);
}

static void test_contents(struct fixture *f, gconstpointer data)
{
	GRand *rand = g_rand_new_with_seed(5);

	start_daemon(f);
	check_copy(f, 0, 1);
	check_copy(f, 1, 2);
	check_copy(f, VMU_FCOPY_DATA_FRAGMENT, 3);
	check_copy(f, VMU_FCOPY_DATA_FRAGMENT + 1, 4);
	for (int i = 0; i < 3; i++)
		check_copy(f, (size_t)g_rand_int_range(rand, 2, 4 << 20), (guint32)i + 10);
	check_copy(f, 64u << 20, 99);
	g_rand_free(rand);
	/* nothing else in the directory: no temporaries */
	g_autofree char *listing = list_dir(f->dest);
	g_auto(GStrv) entries = g_strsplit(listing, " ", -1);
	g_assert_cmpuint(g_strv_length(entries), ==, 8);
	g_assert_null(strstr(listing, ".hv-fcopy-"));
}

static void test_names(struct fixture *f, gconstpointer data)
{
	g_autofree char *src = make_source(f, 100, 7);
	const char *names[] = {"r\xc3\xa9sum\xc3\xa9.txt",                /* é */
			       "\xe6\x96\x87\xe4\xbb\xb6",                /* 文件 */
			       "smile \xf0\x9f\x98\x80 \xf0\x9d\x84\x9e", /* surrogate pairs */
			       NULL};

	start_daemon(f);
	for (const char **n = names; *n; n++) {
		g_autofree char *dst = dest_path(f, *n);
		g_assert_cmphex(copy_file(f, src, f->dest, *n, 0), ==, VMU_S_OK);
		g_assert_true(g_file_test(dst, G_FILE_TEST_IS_REGULAR));
	}
	/* a non-ASCII directory, created */
	g_autofree char *dir = dest_path(f, "d\xc3\xbc\xf0\x9f\x98\x80");
	g_autofree char *dst = g_build_filename(dir, "x", NULL);
	g_assert_cmphex(copy_file(f, src, dir, "x", VMU_FCOPY_CREATE_PATH), ==, VMU_S_OK);
	g_assert_true(g_file_test(dst, G_FILE_TEST_IS_REGULAR));
	/* names the daemon refuses */
	g_assert_cmphex(start(f, f->dest, "..", 0, 0), ==, VMU_E_FAIL);
	g_assert_cmphex(start(f, "relative/dir", "x", VMU_FCOPY_CREATE_PATH, 0), ==, VMU_E_FAIL);
	g_autofree char *up = g_strdup_printf("%s/../escape", f->dest);
	g_assert_cmphex(start(f, up, "x", VMU_FCOPY_CREATE_PATH, 0), ==, VMU_E_FAIL);
}

static void test_flags(struct fixture *f, gconstpointer data)
{
	g_autofree char *a = make_source(f, 10, 1);
	g_autofree char *b = make_source(f, 20, 2);
	g_autofree char *deep = dest_path(f, "x/y/z");
	g_autofree char *deep_file = dest_path(f, "x/y/z/f");
	g_autofree char *file = dest_path(f, "f");
	g_autofree char *want_a = sha256_of(a);
	g_autofree char *want_b = sha256_of(b);
	g_autofree char *got = NULL;

	start_daemon(f);
	/* CREATE_PATH: every missing directory, the last one too */
	g_assert_cmphex(copy_file(f, a, deep, "f", 0), ==, VMU_E_FAIL);
	g_assert_false(g_file_test(deep, G_FILE_TEST_EXISTS));
	g_assert_cmphex(copy_file(f, a, deep, "f", VMU_FCOPY_CREATE_PATH), ==, VMU_S_OK);
	got = sha256_of(deep_file);
	g_assert_cmpstr(got, ==, want_a);
	g_free(got);
	/* already exists, then OVER_WRITE */
	g_assert_cmphex(copy_file(f, a, f->dest, "f", 0), ==, VMU_S_OK);
	g_assert_cmphex(copy_file(f, b, f->dest, "f", 0), ==, VMU_ERROR_ALREADY_EXISTS);
	got = sha256_of(file);
	g_assert_cmpstr(got, ==, want_a);
	g_free(got);
	g_assert_cmphex(copy_file(f, b, f->dest, "f", VMU_FCOPY_OVER_WRITE), ==, VMU_S_OK);
	got = sha256_of(file);
	g_assert_cmpstr(got, ==, want_b);
	assert_dir(f->dest, "f x");
}

/* ---------------------------------------------------------------- interruptions */

static void write_half(struct fixture *f, const char *name, uint64_t size)
{
	guint8 buf[VMU_FCOPY_DATA_FRAGMENT];

	memset(buf, 'h', sizeof(buf));
	g_assert_cmphex(start(f, f->dest, name, 0, size), ==, VMU_S_OK);
	for (uint64_t off = 0; off < size / 2; off += sizeof(buf))
		g_assert_cmphex(write_at(f, off, buf, sizeof(buf)), ==, VMU_S_OK);
}

static void test_cancel(struct fixture *f, gconstpointer data)
{
	start_daemon(f);
	write_half(f, "cancelled", 1 << 20);
	g_assert_cmphex(cancel(f), ==, VMU_S_OK);
	assert_dir(f->dest, "");
	/* WRITE after CANCEL: no copy in progress */
	g_assert_cmphex(write_at(f, 0, "x", 1), ==, VMU_E_FAIL);
	g_assert_cmphex(complete(f), ==, VMU_E_FAIL);
	/* a new START drops the copy in progress */
	write_half(f, "first", 1 << 20);
	g_assert_cmphex(start(f, f->dest, "second", 0, 1), ==, VMU_S_OK);
	g_assert_cmphex(write_at(f, 0, "2", 1), ==, VMU_S_OK);
	g_assert_cmphex(complete(f), ==, VMU_S_OK);
	assert_dir(f->dest, "second");
	/* write validation: past the announced size, and COMPLETE short of it */
	g_assert_cmphex(start(f, f->dest, "short", 0, 10), ==, VMU_S_OK);
	g_assert_cmphex(write_at(f, 5, "123456", 6), ==, VMU_E_FAIL);
	g_assert_cmphex(start(f, f->dest, "short", 0, 10), ==, VMU_S_OK);
	g_assert_cmphex(write_at(f, 0, "12345", 5), ==, VMU_S_OK);
	g_assert_cmphex(complete(f), ==, VMU_E_FAIL);
	assert_dir(f->dest, "second");
	/* the journal record of each copy */
	g_autofree char *log = test_daemon_log(f->daemon);
	g_assert_nonnull(strstr(log, "copy cancelled: cancelled ->"));
	g_assert_nonnull(strstr(log, "copy superseded: first ->"));
	g_assert_nonnull(strstr(log, "copy completed: second ->"));
}

static void test_hibernate(struct fixture *f, gconstpointer data)
{
	start_daemon(f);
	write_half(f, "hib", 1 << 20);
	g_assert_cmpint(hvsim_hibernate(f->sim, VMU_SERVICE_FCOPY), ==, 0);
	/* the daemon answers the fake CANCEL, its reply is refused, it reopens the device and
	 * registers again (the host sends nothing meanwhile: the guest is asleep) */
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmphex(write_at(f, 0, "x", 1), ==, VMU_E_FAIL);
	assert_dir(f->dest, "");
	g_autofree char *src = make_source(f, 5000, 3);
	g_assert_cmphex(copy_file(f, src, f->dest, "after", 0), ==, VMU_S_OK);
	assert_dir(f->dest, "after");
}

static void kill_and_restart(struct fixture *f, const char *config)
{
	write_config(f, config);
	start_daemon(f);
	write_half(f, "killed", 1 << 20);
	if (config) {
		g_autofree char *listing = list_dir(f->dest);
		g_assert_nonnull(strstr(listing, ".hv-fcopy-"));
	}
	g_assert_cmpint(test_daemon_stop(f->daemon, SIGKILL, 5000), !=, -1);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	start_daemon(f);
	assert_dir(f->dest, "");
	g_autofree char *log = test_daemon_log(f->daemon);
	if (config)
		g_assert_nonnull(strstr(log, "interrupted by a crash"));
}

static void test_kill_restart(struct fixture *f, gconstpointer data)
{
	kill_and_restart(f, NULL);
	kill_and_restart(f, "temp-file=named\n");
}

/* ---------------------------------------------------------------- policy */

static void plant_link(const char *target, const char *link, uid_t owner)
{
	g_assert_cmpint(symlink(target, link), ==, 0);
	g_assert_cmpint(lchown(link, owner, owner), ==, 0);
}

static void test_symlink_attacks(struct fixture *f, gconstpointer data)
{
	g_autofree char *victim_dir = g_build_filename(f->env->dir, "victim", NULL);
	g_autofree char *victim = g_build_filename(victim_dir, "passwd", NULL);
	g_autofree char *at_target = dest_path(f, "target");
	g_autofree char *in_path = dest_path(f, "sub");
	g_autofree char *via = dest_path(f, "sub/more");
	g_autofree char *src = make_source(f, 64, 9);
	g_autofree char *got = NULL;

	if (getuid() != 0) {
		g_test_skip("planting links as another user needs root");
		return;
	}
	g_assert_cmpint(g_mkdir(victim_dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(victim, "root:x:0:0", -1, NULL));
	/* the test directory is what another user could write to */
	g_assert_cmpint(chmod(f->dest, 01777), ==, 0);
	plant_link(victim, at_target, NOBODY);
	plant_link(victim_dir, in_path, NOBODY);
	start_daemon(f);

	g_assert_cmphex(copy_file(f, src, f->dest, "target", 0), ==, VMU_ERROR_ALREADY_EXISTS);
	g_assert_cmphex(copy_file(f, src, f->dest, "target", VMU_FCOPY_OVER_WRITE), ==, VMU_S_OK);
	g_assert_false(g_file_test(at_target, G_FILE_TEST_IS_SYMLINK));
	g_assert_cmphex(copy_file(f, src, in_path, "passwd", VMU_FCOPY_OVER_WRITE), ==, VMU_E_FAIL);
	g_assert_cmphex(copy_file(f, src, via, "x", VMU_FCOPY_CREATE_PATH), ==, VMU_E_FAIL);
	g_assert_true(g_file_get_contents(victim, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, "root:x:0:0");
	assert_dir(victim_dir, "passwd");
	/* with parent-symlinks=follow (documented as unsafe) the link is followed */
	write_config(f, "parent-symlinks=follow\n");
	start_daemon(f);
	g_assert_cmphex(copy_file(f, src, in_path, "new", 0), ==, VMU_S_OK);
	assert_dir(victim_dir, "new passwd");
}

static void test_mode_owner(struct fixture *f, gconstpointer data)
{
	g_autofree char *src = make_source(f, 3, 1);
	g_autofree char *dst = dest_path(f, "owned");
	struct stat st;

	if (getuid() != 0) {
		g_test_skip("changing the owner needs root");
		return;
	}
	write_config(f, "file-mode=0600\nfile-owner=65534\nfile-group=65534\n");
	start_daemon(f);
	g_assert_cmphex(copy_file(f, src, f->dest, "owned", 0), ==, VMU_S_OK);
	g_assert_cmpint(stat(dst, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(st.st_uid, ==, NOBODY);
	g_assert_cmpint(st.st_gid, ==, NOBODY);
}

static void test_untrusted_profile(struct fixture *f, gconstpointer data)
{
	g_autofree char *inbox = dest_path(f, "inbox");
	g_autofree char *config =
	    g_strdup_printf("profile=untrusted-host\nallowed-roots=%s\n", inbox);
	g_autofree char *src = make_source(f, 3, 1);
	g_autofree char *in_deep = dest_path(f, "inbox/a/b");

	g_assert_cmpint(g_mkdir(inbox, 0755), ==, 0);
	write_config(f, config);
	start_daemon(f);
	g_assert_cmphex(copy_file(f, src, inbox, "ok", 0), ==, VMU_S_OK);
	g_assert_cmphex(copy_file(f, src, in_deep, "ok", VMU_FCOPY_CREATE_PATH), ==, VMU_S_OK);
	g_assert_cmphex(copy_file(f, src, f->dest, "no", 0), ==, VMU_E_FAIL);
	g_assert_cmphex(copy_file(f, src, "/etc", "no-hv-fcopyd-test", 0), ==, VMU_E_FAIL);
	g_assert_false(g_file_test("/etc/no-hv-fcopyd-test", G_FILE_TEST_EXISTS));
	assert_dir(f->dest, "inbox");
}

/* ---------------------------------------------------------------- out of space */

static int run_quiet(const char *const *argv)
{
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
			      G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, NULL, NULL, &status, NULL))
		return -1;
	return status;
}

/* Attaches image to a free loop device that goes away with its last user. */
static char *attach_loop(const char *image)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int img = open(image, O_RDWR | O_CLOEXEC);
	struct loop_config cfg = {0};
	int n, dev;

	g_assert_cmpint(ctl, >=, 0);
	g_assert_cmpint(img, >=, 0);
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	g_assert_cmpint(n, >=, 0);
	char *path = g_strdup_printf("/dev/loop%d", n);
	dev = open(path, O_RDWR | O_CLOEXEC);
	g_assert_cmpint(dev, >=, 0);
	cfg.fd = (uint32_t)img;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	g_assert_cmpint(ioctl(dev, LOOP_CONFIGURE, &cfg), ==, 0);
	close(img);
	close(ctl);
	/* dev stays open until the mount holds the device */
	g_assert_cmpint(dup2(dev, 200), ==, 200);
	close(dev);
	return path;
}

static void fill_up(const char *dir)
{
	g_autofree char *filler = g_build_filename(dir, "filler", NULL);
	int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	char buf[65536] = {0};

	g_assert_cmpint(fd, >=, 0);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	fsync(fd);
	close(fd);
}

/* Runs in a subprocess: the mount namespace and the daemon die with it. */
static void enospc_body(struct fixture *f)
{
	g_autofree char *image = g_build_filename(f->env->dir, "tiny.img", NULL);
	g_autofree char *mnt = g_build_filename(f->env->dir, "mnt", NULL);
	g_autofree char *loop = NULL;
	guint8 buf[VMU_FCOPY_DATA_FRAGMENT] = {0};
	int fd;

	g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
	g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
	fd = open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 4 << 20), ==, 0);
	close(fd);
	const char *mkfs[] = {"mkfs.ext4", "-q", "-F", "-m", "0", image, NULL};
	g_assert_cmpint(run_quiet(mkfs), ==, 0);
	loop = attach_loop(image);
	g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
	g_assert_cmpint(mount(loop, mnt, "ext4", 0, NULL), ==, 0);
	close(200);

	test_daemon_set_parent_death_signal(SIGKILL);
	start_daemon(f);
	/* preflight: 8 MiB cannot fit a 4 MiB file system */
	g_assert_cmphex(start(f, mnt, "big", 0, 8 << 20), ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "lost+found");
	/* mid-copy: without preallocation the space goes while the copy runs */
	write_config(f, "preallocate=false\n");
	start_daemon(f);
	g_assert_cmphex(start(f, mnt, "mid", 0, 1 << 20), ==, VMU_S_OK);
	g_assert_cmphex(write_at(f, 0, buf, sizeof(buf)), ==, VMU_S_OK);
	fill_up(mnt);
	uint32_t status = VMU_S_OK;
	for (uint64_t off = sizeof(buf); off < (1 << 20) && status == VMU_S_OK; off += sizeof(buf))
		status = write_at(f, off, buf, sizeof(buf));
	g_assert_cmphex(status, ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "filler lost+found");
	test_daemon_free(f->daemon);
	f->daemon = NULL;
	g_assert_cmpint(umount2(mnt, MNT_DETACH), ==, 0);
}

static void test_enospc(struct fixture *f, gconstpointer data)
{
	if (getuid() != 0 || access("/dev/loop-control", W_OK) < 0) {
		g_test_skip("out-of-space test needs root and loop devices");
		return;
	}
	if (g_test_subprocess()) {
		enospc_body(f);
		return;
	}
	g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

static void add(const char *path, void (*fn)(struct fixture *, gconstpointer))
{
	g_test_add(path, struct fixture, NULL, setup, fn, teardown);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(0022);
	add("/fcopyd/chardev/contents", test_contents);
	add("/fcopyd/chardev/names", test_names);
	add("/fcopyd/chardev/flags", test_flags);
	add("/fcopyd/chardev/cancel", test_cancel);
	add("/fcopyd/chardev/hibernate", test_hibernate);
	add("/fcopyd/chardev/kill-restart", test_kill_restart);
	add("/fcopyd/chardev/symlink-attacks", test_symlink_attacks);
	add("/fcopyd/chardev/mode-owner", test_mode_owner);
	add("/fcopyd/chardev/untrusted-profile", test_untrusted_profile);
	add("/fcopyd/chardev/enospc", test_enospc);
	return g_test_run();
}
