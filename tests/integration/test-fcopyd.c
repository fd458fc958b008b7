/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the real hv-fcopyd against the simulated host (hvsim) over both transports:
 * the legacy char device (the simulated kernel in between) and UIO (the host writes the
 * ring the daemon maps; hvsim plays the host in this process, the daemon is another one).
 * Every case below except hibernation runs on both (/fcopyd/chardev/... and
 * /fcopyd/uio/...): contents compared by SHA-256; names with non-ASCII characters and a
 * surrogate pair; CREATE_PATH, OVER_WRITE and "already exists"; CANCEL and a daemon killed
 * mid-transfer leave no partial or temporary file; links planted by another user; mode,
 * owner and the allowlist from the config; symbolic and hard links swapped in by uid 65534
 * while the host copies (raced, root only); SIGHUP (a config whose policy cannot be built is
 * refused and the old policy keeps working; a reload between START and COMPLETE); out of
 * space on a tiny loop-mounted ext4 in a private mount namespace (root only).
 *
 * UIO only: the host disables and re-enables the service (logged once per outage, the
 * copy in flight is dropped, a copy after re-enabling works); the fake sysfs `ring` file
 * says 4 MiB but map0 the real size; a ring just large enough for one WRITE, so that
 * packets wrap at ever-changing offsets; a ring with a 4 KiB data area, which cannot carry
 * a WRITE at all (6,240 bytes + trailer), with START/COMPLETE/CANCEL. Transport choice
 * (transport=auto): char device present -> char device; absent -> UIO; neither -> the
 * daemon waits and takes the UIO device when it appears; while it waits it is ready for
 * systemd (READY=1 with a STATUS= naming what it waits for), so that a unit whose host has
 * the service off (the default) neither times out nor restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemon.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define NOBODY 65534

/* The smallest ring (header page + data) whose data area carries a WRITE packet: the
 * packet is 16 + 28 + 6196 = 6240 bytes, plus the 8-byte trailer, and a writer needs
 * strictly more free space than it writes. */
#define WRITE_PACKET 6240u
#define RING_FOR_ONE_WRITE (4096u + WRITE_PACKET + 8u + 8u)

enum host_side {
	HOST_CHARDEV, /* hvsim_listen: the simulated kernel's char device */
	HOST_UIO,     /* hvsim_listen_uio */
	HOST_NONE,    /* the test brings the host up itself */
};

struct params {
	enum host_side host;
	const char *transport; /* transport= */
	size_t ring_size;      /* UIO; 0: the simulator's default */
};

static const struct params on_chardev = {HOST_CHARDEV, "chardev", 0};
static const struct params on_uio = {HOST_UIO, "uio", 0};
static const struct params on_uio_write_ring = {HOST_UIO, "uio", RING_FOR_ONE_WRITE};
static const struct params on_uio_4k_ring = {HOST_UIO, "uio", 4096 + 4096};
static const struct params auto_chardev = {HOST_CHARDEV, "auto", 0};
static const struct params auto_uio = {HOST_UIO, "auto", 0};
static const struct params auto_none = {HOST_NONE, "auto", 0};

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	char *dest;
	char *sysfs, *dev_dir;
	const struct params *params;
};

static void write_config(struct fixture *f, const char *extra)
{
	/* Not root: the files are ours (the default owner, root, cannot be given away to). */
	bool mine = getuid() != 0;
	g_autofree char *owner = mine && !(extra && strstr(extra, "file-owner="))
				     ? g_strdup_printf("file-owner=%u\n", (unsigned)getuid())
				     : g_strdup("");
	g_autofree char *group = mine && !(extra && strstr(extra, "file-group="))
				     ? g_strdup_printf("file-group=%u\n", (unsigned)getgid())
				     : g_strdup("");
	g_autofree char *config = g_strdup_printf(
	    "transport=%s\nsysfs-root=%s\nuio-dev-dir=%s\n%s%s%s", f->params->transport, f->sysfs,
	    f->dev_dir, owner, group, extra ? extra : "");

	test_env_write_config(f->env, config);
}

static void listen_uio(struct fixture *f, size_t ring_size)
{
	g_assert_cmpint(hvsim_listen_uio(f->sim, f->sysfs, f->dev_dir, ring_size), ==, 0);
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->params = data;
	f->env = test_env_new(VMU_SERVICE_FCOPY, NULL);
	f->dest = g_build_filename(f->env->dir, "dest", NULL);
	f->sysfs = g_build_filename(f->env->dir, "sys", NULL);
	f->dev_dir = g_build_filename(f->env->dir, "devices", NULL);
	write_config(f, NULL);
	g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	if (f->params->host == HOST_CHARDEV)
		g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_FCOPY, f->env->socket_path), ==,
				0);
	else if (f->params->host == HOST_UIO)
		listen_uio(f, f->params->ring_size);
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
	g_free(f->sysfs);
	g_free(f->dev_dir);
}

static bool daemon_connected(struct fixture *f)
{
	struct hvsim_service_status st;

	g_assert_cmpint(hvsim_get_status(f->sim, VMU_SERVICE_FCOPY, &st), ==, 0);
	return st.daemon_connected;
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
	g_assert_true(daemon_connected(f));
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

/* The first line of text containing needle, or NULL (g_free). */
static char *line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *start, *end;

	if (!p)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	return g_strndup(start, end ? (gsize)(end - start) : strlen(start));
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
	g_assert_cmpint(st.st_uid, ==, getuid()); /* root's, or ours when not root */
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

/* The copies the life-cycle tests cut in the middle: large enough to be written with direct
 * I/O (hv-fcopyd(8)), so that they end with writes in flight (4 MiB sent, 1 MiB buffers). */
#define HALF_COPY (8u << 20)

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
	write_half(f, "cancelled", HALF_COPY);
	g_assert_cmphex(cancel(f), ==, VMU_S_OK);
	assert_dir(f->dest, "");
	/* WRITE, COMPLETE and CANCEL after CANCEL: no copy in progress, nothing to act on */
	g_assert_cmphex(write_at(f, 0, "x", 1), ==, VMU_E_FAIL);
	g_assert_cmphex(complete(f), ==, VMU_E_FAIL);
	g_assert_cmphex(cancel(f), ==, VMU_E_FAIL);
	/* a new START drops the copy in progress */
	write_half(f, "first", HALF_COPY);
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
	/* the failing step and its error in parentheses, closed */
	g_assert_nonnull(strstr(log, ", status 0x80004005 (complete: Bad message)\n"));
	/* a superseded copy was answered nothing: no made-up status */
	g_autofree char *superseded = line_with(log, "copy superseded: first ->");
	g_assert_nonnull(strstr(superseded, ", no status sent to the host"));
	g_assert_null(strstr(superseded, "status 0x"));
}

static void test_hibernate(struct fixture *f, gconstpointer data)
{
	start_daemon(f);
	write_half(f, "hib", HALF_COPY);
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
	write_half(f, "killed", HALF_COPY);
	if (config) {
		g_autofree char *listing = list_dir(f->dest);
		g_assert_nonnull(strstr(listing, ".hv-fcopy-"));
	}
	g_assert_cmpint(test_daemon_stop(f->daemon, SIGKILL, 5000), !=, -1);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_false(daemon_connected(f));
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

/* ---------------------------------------------------------------- reload */

static void assert_copied(struct fixture *f, const char *src, const char *dir, const char *name,
			  mode_t mode)
{
	g_autofree char *dst = g_build_filename(dir, name, NULL);
	struct stat st;

	g_assert_cmphex(copy_file(f, src, dir, name, 0), ==, VMU_S_OK);
	g_assert_cmpint(stat(dst, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, mode);
}

/* A new config that loads but whose policy cannot be built is refused as a whole: the
 * old policy (allowlist, mode) keeps working, and a good config after it is taken. */
static void test_reload_bad_policy(struct fixture *f, gconstpointer data)
{
	g_autofree char *inbox = dest_path(f, "inbox"), *inbox2 = dest_path(f, "inbox2");
	g_autofree char *src = make_source(f, 3, 1);
	g_autofree char *good =
	    g_strdup_printf("profile=untrusted-host\nallowed-roots=%s\nfile-mode=0640\n", inbox);
	g_autofree char *bad_mode =
	    g_strdup_printf("profile=untrusted-host\nallowed-roots=%s\nfile-mode=0999\n", inbox2);
	g_autofree char *bad_owner = g_strdup_printf(
	    "profile=untrusted-host\nallowed-roots=%s\nfile-owner=no-such-user-hvguest\n", inbox2);
	g_autofree char *good2 =
	    g_strdup_printf("profile=untrusted-host\nallowed-roots=%s\nfile-mode=0600\n", inbox2);

	g_assert_cmpint(g_mkdir(inbox, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(inbox2, 0755), ==, 0);
	write_config(f, good);
	start_daemon(f);
	assert_copied(f, src, inbox, "first", 0640);
	/* Repeated, so that ASan sees any use of a freed config. */
	for (int i = 0; i < 4; i++) {
		g_autofree char *name = g_strdup_printf("kept-%d", i);

		write_config(f, i % 2 ? bad_owner : bad_mode);
		/* Refused at load (hvguest.conf(5) checks file-mode and file-owner) or, should the owner
		 * vanish between the two, when the policy is built: either way the old one stays. */
		test_daemon_reload(f->daemon, "keeping the old one");
		assert_copied(f, src, inbox, name, 0640);
		g_assert_cmphex(copy_file(f, src, inbox2, name, 0), ==, VMU_E_FAIL);
		g_assert_cmphex(copy_file(f, src, f->dest, name, 0), ==, VMU_E_FAIL);
	}
	g_assert_cmpuint(
	    test_daemon_log_count(f->daemon, "file-mode: \"0999\" is not an octal mode"), ==, 2);
	g_assert_cmpuint(
	    test_daemon_log_count(f->daemon, "\"no-such-user-hvguest\" is neither a known user"),
	    ==, 2);
	assert_dir(inbox2, "");
	write_config(f, good2);
	test_daemon_reload(f->daemon, "reloaded the configuration");
	assert_copied(f, src, inbox2, "new", 0600);
	g_assert_cmphex(copy_file(f, src, inbox, "old-root", 0), ==, VMU_E_FAIL);
	assert_dir(f->dest, "inbox inbox2");
}

/* A reload between START and COMPLETE: the copy ends under the policy it started with (its
 * target keeps its own copies of what it uses), and the next copy gets the new policy. */
static void test_reload_mid_copy(struct fixture *f, gconstpointer data)
{
	g_autofree char *inbox = dest_path(f, "inbox"), *inbox2 = dest_path(f, "inbox2");
	g_autofree char *mid = dest_path(f, "inbox/mid"), *text = NULL;
	g_autofree char *src = make_source(f, 3, 1);
	g_autofree char *pending = g_build_filename(f->env->state_dir, "fcopy-pending", NULL);
	g_autofree char *before = g_strdup_printf(
	    "profile=untrusted-host\nallowed-roots=%s\nfile-mode=0640\ntemp-file=named\n", inbox);
	g_autofree char *after = g_strdup_printf(
	    "profile=untrusted-host\nallowed-roots=%s\nfile-mode=0600\ntemp-file=named\n", inbox2);
	struct stat st;

	g_assert_cmpint(g_mkdir(inbox, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(inbox2, 0755), ==, 0);
	write_config(f, before);
	start_daemon(f);
	g_assert_cmphex(start(f, inbox, "mid", 0, 3), ==, VMU_S_OK);
	write_config(f, after);
	test_daemon_reload(f->daemon, "reloaded the configuration");
	g_assert_cmphex(write_at(f, 0, "abc", 3), ==, VMU_S_OK);
	g_assert_cmphex(complete(f), ==, VMU_S_OK);
	g_assert_true(g_file_get_contents(mid, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "abc");
	g_assert_cmpint(stat(mid, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0640);
	/* the named temporary was renamed and its crash record removed */
	assert_dir(inbox, "mid");
	g_assert_false(g_file_test(pending, G_FILE_TEST_EXISTS));
	assert_copied(f, src, inbox2, "after", 0600);
	g_assert_cmphex(copy_file(f, src, inbox, "refused", 0), ==, VMU_E_FAIL);

	/* a reload in the middle of a copy written with direct I/O (large, reserved) */
	g_autofree char *big = make_source(f, HALF_COPY + 1234, 4);
	g_autofree char *bytes = NULL;
	gsize size = 0;

	g_assert_true(g_file_get_contents(big, &bytes, &size, NULL));
	g_assert_cmphex(start(f, inbox2, "big", 0, size), ==, VMU_S_OK);
	for (gsize off = 0; off < size; off += VMU_FCOPY_DATA_FRAGMENT) {
		if (off / VMU_FCOPY_DATA_FRAGMENT == size / VMU_FCOPY_DATA_FRAGMENT / 2)
			test_daemon_reload(f->daemon, "reloaded the configuration");
		g_assert_cmphex(write_at(f, off, bytes + off,
					 (uint32_t)MIN(VMU_FCOPY_DATA_FRAGMENT, size - off)),
				==, VMU_S_OK);
	}
	g_assert_cmphex(complete(f), ==, VMU_S_OK);
	g_autofree char *copied = g_build_filename(inbox2, "big", NULL);
	g_autofree char *want = sha256_of(big), *got = sha256_of(copied);
	g_assert_cmpstr(got, ==, want);
}

/* ---------------------------------------------------------------- out of space */

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

/* A private mount namespace with a size_mb ext4 image (reserved_pct % of its blocks kept
 * for root) loop-mounted at env/mnt. Only in a test subprocess: the namespace, the mount
 * and the daemon die with it. */
static char *mount_tiny_ext4(struct fixture *f, unsigned size_mb, unsigned reserved_pct)
{
	g_autofree char *image = g_build_filename(f->env->dir, "tiny.img", NULL);
	g_autofree char *reserved = g_strdup_printf("%u", reserved_pct);
	char *mnt = g_build_filename(f->env->dir, "mnt", NULL);
	g_autofree char *loop = NULL;
	int fd;

	g_assert_null(sandbox_enter(CLONE_NEWNS)); /* probed by test_enospc */
	fd = open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size_mb << 20), ==, 0);
	close(fd);
	const char *mkfs[] = {"mkfs.ext4", "-q", "-F", "-m", reserved, image, NULL};
	g_assert_cmpint(test_run_quiet(mkfs), ==, 0);
	loop = attach_loop(image);
	g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
	g_assert_cmpint(mount(loop, mnt, "ext4", 0, NULL), ==, 0);
	close(200);
	return mnt;
}

static void unmount_tiny_ext4(struct fixture *f, const char *mnt)
{
	test_daemon_free(f->daemon);
	f->daemon = NULL;
	g_assert_cmpint(umount2(mnt, MNT_DETACH), ==, 0);
}

static int unlink_in(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return unlink(path);
}

/* Runs in a subprocess: the mount namespace and the daemon die with it. */
static void enospc_body(struct fixture *f)
{
	g_autofree char *mnt = mount_tiny_ext4(f, 4, 0);
	guint8 buf[VMU_FCOPY_DATA_FRAGMENT] = {0};

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
	test_fill_up(mnt);
	uint32_t status = VMU_S_OK;
	for (uint64_t off = sizeof(buf); off < (1 << 20) && status == VMU_S_OK; off += sizeof(buf))
		status = write_at(f, off, buf, sizeof(buf));
	g_assert_cmphex(status, ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "filler lost+found");
	/* at the end: the daemon gathers WRITEs and writes them in batches, so a copy smaller
	 * than a batch meets ENOSPC only at COMPLETE. The host must still hear DISK_FULL (from
	 * a WRITE or from COMPLETE, never S_OK), and no file may be left. */
	g_assert_cmpint(unlink_in(mnt, "filler"), ==, 0);
	g_assert_cmphex(start(f, mnt, "tail", 0, 64 << 10), ==, VMU_S_OK);
	test_fill_up(mnt);
	status = VMU_S_OK;
	for (uint64_t off = 0; off < (64 << 10) && status == VMU_S_OK; off += sizeof(buf))
		status = write_at(f, off, buf, (uint32_t)MIN(sizeof(buf), (64 << 10) - off));
	if (status == VMU_S_OK)
		status = complete(f);
	g_assert_cmphex(status, ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "filler lost+found");
	unmount_tiny_ext4(f, mnt);
}

/* The disk fails under a copy written with direct I/O (the default for a large reserved
 * file): an ext4 image whose backing file lies on a tmpfs too small for it, so the loop
 * device's writes fail (ENOSPC from the backing store) once that fills, while ext4 still
 * has the space reserved. The error of an asynchronous write must reach the host (DISK_FULL
 * from a later WRITE or from COMPLETE, never S_OK), no file is left, and the daemon goes
 * on: the next copy, elsewhere, is whole. */
static void disk_error_body(struct fixture *f)
{
	g_autofree char *backing = g_build_filename(f->env->dir, "backing", NULL);
	g_autofree char *image = g_build_filename(backing, "disk.img", NULL);
	g_autofree char *mnt = g_build_filename(f->env->dir, "mnt", NULL);
	g_autofree char *loop = NULL;
	g_autofree guint8 *buf = g_malloc(VMU_FCOPY_DATA_FRAGMENT);
	const uint64_t size = 40u << 20;
	uint32_t status = VMU_S_OK;
	uint64_t off;
	int fd;

	g_assert_null(sandbox_enter(CLONE_NEWNS));
	g_assert_cmpint(g_mkdir(backing, 0755), ==, 0);
	g_assert_cmpint(mount("tmpfs", backing, "tmpfs", 0, "size=16m"), ==, 0);
	fd = open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 64 << 20), ==, 0);
	close(fd);
	const char *mkfs[] = {"mkfs.ext4", "-q", "-F", "-m", "0", image, NULL};
	g_assert_cmpint(test_run_quiet(mkfs), ==, 0);
	loop = attach_loop(image);
	g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
	g_assert_cmpint(mount(loop, mnt, "ext4", 0, NULL), ==, 0);
	close(200);

	memset(buf, 0x5a, VMU_FCOPY_DATA_FRAGMENT);
	test_daemon_set_parent_death_signal(SIGKILL);
	start_daemon(f);
	g_assert_cmphex(start(f, mnt, "big", 0, size), ==, VMU_S_OK);
	for (off = 0; off < size && status == VMU_S_OK; off += VMU_FCOPY_DATA_FRAGMENT)
		status = write_at(f, off, buf, (uint32_t)MIN(VMU_FCOPY_DATA_FRAGMENT, size - off));
	if (status == VMU_S_OK)
		status = complete(f);
	g_test_message("the failed write was seen at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
		       " bytes: status 0x%08x",
		       off, size, status);
	g_assert_cmphex(status, ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "lost+found");
	/* the daemon serves the next copy */
	g_autofree char *src = make_source(f, 3 << 20, 17);
	g_assert_cmphex(copy_file(f, src, f->dest, "after", 0), ==, VMU_S_OK);
	g_autofree char *after = dest_path(f, "after");
	g_autofree char *want = sha256_of(src);
	g_autofree char *got = sha256_of(after);
	g_assert_cmpstr(got, ==, want);
	test_daemon_free(f->daemon);
	f->daemon = NULL;
	g_assert_cmpint(umount2(mnt, MNT_DETACH), ==, 0);
	g_assert_cmpint(umount2(backing, MNT_DETACH), ==, 0);
}

static void test_disk_error(struct fixture *f, gconstpointer data);

static bool can_loop_mount(void)
{
	const char *why = g_test_subprocess() ? NULL : sandbox_loop_unavailable();

	if (!why && !g_test_subprocess())
		why = sandbox_unavailable(CLONE_NEWNS);
	if (why) {
		g_test_skip(why);
		return false;
	}
	return true;
}

/* Runs body in a subprocess (its own mount namespace), bounded. */
static void run_in_subprocess(struct fixture *f, void (*body)(struct fixture *))
{
	if (g_test_subprocess()) {
		body(f);
		return;
	}
	g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

static void test_disk_error(struct fixture *f, gconstpointer data)
{
	if (can_loop_mount())
		run_in_subprocess(f, disk_error_body);
}

/* ext4 keeps blocks for root (-m): a root daemon's fallocate() may use them, leaving every
 * other user ENOSPC while the copy runs. A size that fits only with them is refused. */
static void reserved_blocks_body(struct fixture *f)
{
	g_autofree char *mnt = mount_tiny_ext4(f, 16, 50);
	struct statvfs before, after;
	uint64_t bavail, bfree, between;

	g_assert_cmpint(statvfs(mnt, &before), ==, 0);
	bavail = (uint64_t)before.f_bavail * before.f_frsize;
	bfree = (uint64_t)before.f_bfree * before.f_frsize;
	g_assert_cmpuint(bfree, >, bavail + (2 << 20));
	between = (bavail + bfree) / 2;
	test_daemon_set_parent_death_signal(SIGKILL);
	start_daemon(f);
	g_assert_cmphex(start(f, mnt, "into-reserve", 0, between), ==, VMU_ERROR_DISK_FULL);
	assert_dir(mnt, "lost+found");
	g_assert_cmpint(statvfs(mnt, &after), ==, 0);
	g_assert_cmpuint(after.f_bavail, ==, before.f_bavail);
	/* what an unprivileged writer could use is fine, and reserved at once */
	g_assert_cmphex(start(f, mnt, "fits", 0, bavail - (1 << 20)), ==, VMU_S_OK);
	g_assert_cmpint(statvfs(mnt, &after), ==, 0);
	g_assert_cmpuint((uint64_t)after.f_bavail * after.f_frsize, <=, (2 << 20));
	g_assert_cmphex(cancel(f), ==, VMU_S_OK);
	unmount_tiny_ext4(f, mnt);
}

static void test_reserved_blocks(struct fixture *f, gconstpointer data)
{
	if (can_loop_mount())
		run_in_subprocess(f, reserved_blocks_body);
}

static void test_enospc(struct fixture *f, gconstpointer data)
{
	if (can_loop_mount())
		run_in_subprocess(f, enospc_body);
}

/* ---------------------------------------------------------------- UIO specifics */

static struct hvsim_uio_stats uio_stats(struct fixture *f)
{
	struct hvsim_uio_stats st;

	g_assert_cmpint(hvsim_uio_get_stats(f->sim, &st), ==, 0);
	return st;
}

static unsigned count_lines_with(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static uint32_t copy_bytes(struct fixture *f, const char *name, size_t size, guint32 seed)
{
	g_autofree char *src = make_source(f, size, seed);
	uint32_t status = copy_file(f, src, f->dest, name, VMU_FCOPY_OVER_WRITE);

	g_unlink(src);
	return status;
}

static void wait_for_log(struct fixture *f, const char *needle);

static void test_uio_disable_enable(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	g_autofree char *after = dest_path(f, "after");
	struct hvsim_result res;

	start_daemon(f);
	for (int outage = 1; outage <= 2; outage++) {
		write_half(f, "in-flight", 1 << 20);
		g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
		g_assert_false(daemon_connected(f));
		/* the host's requests fail while the service is off; none reaches the guest */
		g_assert_cmpint(hvsim_fcopy_complete(f->sim, &res), ==, -ENOTCONN);
		/* a few of the daemon's back-off attempts find the device gone */
		g_assert_cmpint(hvsim_run_for(f->sim, 1500 * 1000), ==, 0);
		g_assert_cmpint(hvsim_uio_enable(f->sim), ==, 0);
		g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
		g_assert_true(daemon_connected(f));
		/* the copy in flight was dropped with its temporary file */
		assert_dir(f->dest, "");
		g_assert_cmphex(write_at(f, 0, "x", 1), ==, VMU_E_FAIL);
		g_assert_cmphex(copy_bytes(f, "after", 70000, (guint32)outage), ==, VMU_S_OK);
		assert_dir(f->dest, "after");
		g_assert_cmpint(g_unlink(after), ==, 0);
		g_free(log);
		log = test_daemon_log(f->daemon);
		g_assert_cmpuint(count_lines_with(log, "the host disabled the service"), ==,
				 (unsigned)outage);
		g_assert_cmpuint(count_lines_with(log, "hv-fcopyd: waiting for"), ==, 0);
		g_assert_cmpuint(count_lines_with(log, "negotiated with the host"), ==,
				 (unsigned)outage + 1);
		g_assert_cmpuint(count_lines_with(log, "copy disconnected: in-flight"), ==,
				 (unsigned)outage);
		/* the rescinded copy got no answer: logged as such, not as status 0 */
		g_autofree char *dropped = line_with(log, "copy disconnected: in-flight");
		g_assert_nonnull(strstr(dropped, ", no status sent to the host"));
		g_assert_null(strstr(dropped, "0x00000000"));
	}
}

/* Right after a rescind the node may still be there while the device is gone (open fails
 * with ENODEV): that is no kernel registration failing, UIO has none. A regular file at the
 * node's place gives the daemon the same ENODEV. */
static void test_uio_rescind_wording(struct fixture *f, gconstpointer data)
{
	g_autofree char *node = g_build_filename(f->dev_dir, "uio0", NULL);
	g_autofree char *log = NULL;

	start_daemon(f);
	g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
	g_assert_true(g_file_set_contents(node, "", 0, NULL));
	wait_for_log(f, "connecting to ");
	log = test_daemon_log(f->daemon);
	g_assert_null(strstr(log, "registering with the kernel"));
	g_assert_nonnull(strstr(log, "No such device"));
	g_assert_cmpint(g_unlink(node), ==, 0);
	g_assert_cmpint(hvsim_uio_enable(f->sim), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmphex(copy_bytes(f, "after", 1000, 1), ==, VMU_S_OK);
}

static void run_host(void *userdata)
{
	struct fixture *f = userdata;

	hvsim_run_for(f->sim, 10 * 1000);
}

/* Daemon logging to a socket of the test's in place of the journal; returns the socket. */
static int start_daemon_journal(struct fixture *f)
{
	g_autofree char *sock = NULL;
	int fd = test_journal_listen(f->env, &sock);
	g_autofree char *extra = g_strdup_printf("log-target=journal\njournal-socket=%s\n", sock);

	write_config(f, extra);
	start_daemon(f);
	return fd;
}

/* The journal record of a copy, and (UIO) of the host turning the service off: HVGUEST_
 * fields and the MESSAGE_IDs of message-ids.h, written out here so that a changed id fails. */
static void test_journal_records(struct fixture *f, gconstpointer data)
{
	int fd = start_daemon_journal(f);
	g_autofree char *target = dest_path(f, "journal");
	g_autofree char *target_field = g_strconcat("HVGUEST_FCOPY_TARGET=", target, NULL);
	const char *const copy_done[] = {"MESSAGE_ID=311fd01584f0476895e91b2a46d5e6b7",
					 "SYSLOG_IDENTIFIER=hv-fcopyd",
					 "HVGUEST_FCOPY_RESULT=completed",
					 target_field,
					 "HVGUEST_FCOPY_SIZE=70000\n",
					 "HVGUEST_FCOPY_WRITTEN=70000\n",
					 "HVGUEST_FCOPY_STATUS=0x00000000",
					 "HVGUEST_FCOPY_ERRNO=0",
					 "HVGUEST_FCOPY_DURATION_USEC=",
					 "HVGUEST_FCOPY_SOURCE=",
					 NULL};
	const char *const host_disabled[] = {"MESSAGE_ID=94c7edebde7845668f3afacb7728e8ef",
					     "PRIORITY=5", NULL};

	g_assert_cmphex(copy_bytes(f, "journal", 70000, 7), ==, VMU_S_OK);
	g_assert_true(test_journal_wait(fd, copy_done, 5000, run_host, f));
	if (f->params->host == HOST_UIO) {
		g_assert_cmpint(hvsim_uio_disable(f->sim), ==, 0);
		g_assert_true(test_journal_wait(fd, host_disabled, 5000, run_host, f));
	}
	close(fd);
}

/* The `ring` file says 4 MiB (2 MiB per ring to a daemon that halves it); map0 the truth. */
static void test_uio_ring_size(struct fixture *f, gconstpointer data)
{
	g_autofree char *ring = g_build_filename(f->sysfs, "bus/vmbus/devices",
						 HVSIM_UIO_INSTANCE_ID, "channels/14/ring", NULL);
	g_autofree char *map0 = g_build_filename(f->sysfs, "class/uio/uio0/maps/map0/size", NULL);
	g_autofree char *map0_text = NULL;
	g_autofree char *log = NULL;
	struct stat st;

	g_assert_cmpint(stat(ring, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 4 << 20);
	g_assert_true(g_file_get_contents(map0, &map0_text, NULL, NULL));
	g_assert_cmpstr(map0_text, ==, "0x000000000000a000\n");
	start_daemon(f);
	g_assert_cmphex(copy_bytes(f, "one-mib", 1 << 20, 1), ==, VMU_S_OK);
	log = test_daemon_log(f->daemon);
	g_assert_nonnull(strstr(log, "20480-byte rings"));
	g_assert_cmpuint(uio_stats(f).wraps_sent, >, 0);
}

/* A ring that just carries one WRITE: nearly every packet crosses the end of the ring, at
 * offsets that move with every packet of another size. */
static void test_uio_wrapping_ring(struct fixture *f, gconstpointer data)
{
	GRand *rand = g_rand_new_with_seed(11);
	struct hvsim_uio_stats st;
	unsigned copies = 40;

	start_daemon(f);
	for (unsigned i = 0; i < copies; i++) {
		size_t size = (size_t)g_rand_int_range(rand, 0, 100000);
		g_autofree char *name = g_strdup_printf("w%u", i);
		g_autofree char *src = make_source(f, size, i);
		g_autofree char *dst = dest_path(f, name);
		g_autofree char *want = sha256_of(src);
		g_autofree char *got = NULL;

		g_assert_cmphex(copy_file(f, src, f->dest, name, 0), ==, VMU_S_OK);
		got = sha256_of(dst);
		g_assert_cmpstr(got, ==, want);
		g_unlink(src);
	}
	g_rand_free(rand);
	st = uio_stats(f);
	g_assert_cmpuint(st.connections, ==, 1);
	g_assert_cmpuint(st.wraps_sent, >=, copies);
	g_assert_cmpuint(st.wraps_received, >=, copies);
	g_assert_cmpuint(st.packets_received, ==, st.packets_sent);
}

#define CYCLES_4K 150u

/* A 4 KiB data area cannot carry a WRITE (6,240 bytes + 8): the host fails it without
 * sending; START, COMPLETE and CANCEL fit and wrap constantly. */
static void test_uio_4k_ring(struct fixture *f, gconstpointer data)
{
	struct hvsim_uio_stats st;
	struct hvsim_result res;
	g_autofree char *empty = dest_path(f, "empty");
	struct stat sb;

	start_daemon(f);
	g_assert_cmpint(hvsim_fcopy_start(f->sim, f->dest, "big", 0, 10, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	st = uio_stats(f);
	g_assert_cmpint(hvsim_fcopy_write(f->sim, 0, "0123456789", 10, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_E_FAIL);
	g_assert_cmpuint(uio_stats(f).packets_sent, ==, st.packets_sent); /* never sent */
	g_assert_cmphex(cancel(f), ==, VMU_S_OK);
	for (unsigned i = 0; i < CYCLES_4K; i++) {
		g_assert_cmphex(start(f, f->dest, "empty", VMU_FCOPY_OVER_WRITE, 0), ==, VMU_S_OK);
		g_assert_cmphex(i % 2 ? complete(f) : cancel(f), ==, VMU_S_OK);
	}
	g_assert_cmpint(stat(empty, &sb), ==, 0);
	g_assert_cmpint(sb.st_size, ==, 0);
	assert_dir(f->dest, "empty");
	/* a START and its answer take 1,144 bytes of ring, COMPLETE/CANCEL 88: every cycle
	 * moves 1,232 bytes through the 4,096 of the ring (90 %: the first lap) */
	st = uio_stats(f);
	g_assert_cmpuint(st.wraps_sent, >=, CYCLES_4K * 1232u / 4096u * 9u / 10u);
	g_assert_cmpuint(st.wraps_received, >=, CYCLES_4K * 1232u / 4096u * 9u / 10u);
}

static void test_auto_chardev(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;

	start_daemon(f);
	g_assert_cmphex(copy_bytes(f, "c", 10000, 1), ==, VMU_S_OK);
	log = test_daemon_log(f->daemon);
	g_assert_nonnull(strstr(log, "registered with the kernel"));
	g_assert_null(strstr(log, "over uio"));
}

static void test_auto_uio(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;

	start_daemon(f);
	g_assert_cmphex(copy_bytes(f, "u", 10000, 1), ==, VMU_S_OK);
	log = test_daemon_log(f->daemon);
	g_assert_nonnull(strstr(log, "over uio"));
	g_assert_null(strstr(log, "registered with the kernel"));
	g_assert_cmpuint(uio_stats(f).connections, ==, 1);
}

/* Runs the host's loop until the daemon's log has needle (bounded). */
static void wait_for_log(struct fixture *f, const char *needle)
{
	for (int i = 0; i < 200; i++) {
		g_autofree char *log = test_daemon_log(f->daemon);

		if (strstr(log, needle))
			return;
		g_assert_cmpint(hvsim_run_for(f->sim, 50 * 1000), ==, 0);
	}
	g_assert_not_reached();
}

static void test_auto_waits(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;

	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	wait_for_log(f, "hv-fcopyd: waiting for");
	listen_uio(f, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmphex(copy_bytes(f, "late", 10000, 1), ==, VMU_S_OK);
	log = test_daemon_log(f->daemon);
	g_assert_cmpuint(count_lines_with(log, "hv-fcopyd: waiting for"), ==, 1);
	g_assert_nonnull(strstr(log, "or the fcopy UIO device under"));
	g_assert_nonnull(strstr(log, "over uio"));
}

/* No device at all (the host's fcopy service is off by default): the daemon is ready for
 * systemd all the same and says what it waits for; a Type=notify unit must not hit its
 * start timeout and restart for ever. */
static void test_ready_while_waiting(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->env->dir, "notify.sock", NULL);
	g_autoptr(GString) seen = g_string_new(NULL);
	int fd = test_notify_listen(path);

	test_daemon_set_notify_socket(path);
	test_daemon_set_parent_death_signal(SIGTERM); /* an aborted test leaves no daemon */
	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	test_daemon_set_parent_death_signal(0);
	test_daemon_set_notify_socket(NULL);

	g_assert_true(test_notify_wait(fd, seen, "READY=1", 10000));
	g_test_message("notifications while waiting:\n%s", seen->str);
	g_assert_nonnull(strstr(seen->str, "STATUS=Waiting for unix:"));
	g_assert_nonnull(strstr(seen->str, "or the fcopy UIO device under"));
	g_assert_null(strstr(seen->str, "STATUS=Connected"));
	g_assert_cmpint(test_daemon_wait(f->daemon, 0), ==, -1); /* still running */

	/* the host turns the service on: the daemon serves, READY=1 is not sent again */
	g_string_truncate(seen, 0);
	listen_uio(f, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_true(test_notify_wait(fd, seen, "STATUS=Connected to the host over uio", 10000));
	g_assert_cmphex(copy_bytes(f, "late", 1000, 1), ==, VMU_S_OK);
	g_assert_null(strstr(seen->str, "READY=1"));
	close(fd);
}

/* The device unbound, as before uio_hv_generic knows the class: no driver link, no node. */
static void unbind(struct fixture *f)
{
	g_autofree char *dev =
	    g_build_filename(f->sysfs, "bus/vmbus/devices", HVSIM_UIO_INSTANCE_ID, NULL);
	g_autofree char *driver = g_build_filename(dev, "driver", NULL);
	g_autofree char *node = g_build_filename(dev, "uio/uio0", NULL);

	g_assert_cmpint(g_unlink(driver), ==, 0);
	g_assert_cmpint(g_rmdir(node), ==, 0);
}

/* What the kernel does once new_id names the class: probe, bind, create the node. */
static void bind_driver(struct fixture *f)
{
	g_autofree char *dev =
	    g_build_filename(f->sysfs, "bus/vmbus/devices", HVSIM_UIO_INSTANCE_ID, NULL);
	g_autofree char *driver = g_build_filename(dev, "driver", NULL);
	g_autofree char *node = g_build_filename(dev, "uio/uio0", NULL);

	g_assert_cmpint(symlink("../../drivers/uio_hv_generic", driver), ==, 0);
	g_assert_cmpint(g_mkdir(node, 0755), ==, 0);
}

static void test_uio_bind(struct fixture *f, gconstpointer data)
{
	g_autofree char *new_id =
	    g_build_filename(f->sysfs, "bus/vmbus/drivers/uio_hv_generic/new_id", NULL);
	g_autofree char *text = NULL;
	g_autofree char *log = NULL;

	unbind(f);
	/* not allowed to bind: says so once, waits, writes nothing */
	write_config(f, "bind-uio=false\n");
	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	wait_for_log(f, "bound to no driver and bind-uio=false");
	g_assert_true(g_file_get_contents(new_id, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "");
	g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 5000), ==, 0);
	/* allowed: writes the class GUID to new_id, says so, connects once the node is there */
	write_config(f, NULL);
	test_daemon_free(f->daemon);
	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	wait_for_log(f, "wrote its class to new_id");
	g_free(text);
	g_assert_true(g_file_get_contents(new_id, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, VMU_FCOPY_CLASS_ID);
	bind_driver(f);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmphex(copy_bytes(f, "bound", 10000, 1), ==, VMU_S_OK);
	log = test_daemon_log(f->daemon);
	g_assert_cmpuint(count_lines_with(log, "wrote its class to new_id"), ==, 1);
	g_assert_cmpuint(count_lines_with(log, "hv-fcopyd: waiting for"), ==, 1);
}

/* ---------------------------------------------------------------- raw UTF-16 names */

/* A START whose names are raw UTF-16: prefix (UTF-8) + units + suffix (UTF-8). */
struct u16_name {
	gunichar2 units[VMU_FCOPY_MAX_PATH];
	size_t n;
};

static void u16_append_utf8(struct u16_name *u, const char *s)
{
	glong n = 0;
	g_autofree gunichar2 *units = g_utf8_to_utf16(s, -1, NULL, &n, NULL);

	g_assert_nonnull(units);
	g_assert_cmpuint(u->n + (size_t)n, <, G_N_ELEMENTS(u->units));
	memcpy(u->units + u->n, units, (size_t)n * sizeof(*units));
	u->n += (size_t)n;
}

static struct u16_name u16_name(const char *prefix, uint16_t unit, const char *suffix)
{
	struct u16_name u = {.n = 0};

	u16_append_utf8(&u, prefix);
	u.units[u.n++] = unit;
	u16_append_utf8(&u, suffix);
	return u;
}

static uint32_t start_utf16(struct fixture *f, const struct u16_name *dir,
			    const struct u16_name *name, uint32_t flags, uint64_t size)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_fcopy_start_utf16(f->sim, dir->units, dir->n, name->units, name->n,
						flags, size, &r),
			==, 0);
	return r.status;
}

/* The simulator's own bounds: a name fills at most VMU_FCOPY_MAX_PATH - 1 units. */
static void check_utf16_bounds(struct fixture *f, const struct u16_name *dir)
{
	struct hvsim_result r;
	gunichar2 units[VMU_FCOPY_MAX_PATH];

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		units[i] = 'a';
	g_assert_cmpint(hvsim_fcopy_start_utf16(f->sim, dir->units, dir->n, units,
						VMU_FCOPY_MAX_PATH, 0, 0, &r),
			==, -ENOBUFS);
	g_assert_cmpint(
	    hvsim_fcopy_start_utf16(f->sim, units, VMU_FCOPY_MAX_PATH, units, 1, 0, 0, &r), ==,
	    -ENOBUFS);
	g_assert_cmpint(hvsim_fcopy_start_utf16(f->sim, NULL, 1, units, 1, 0, 0, &r), ==, -EINVAL);
	g_assert_cmpint(hvsim_fcopy_start_utf16(f->sim, dir->units, dir->n, NULL, 1, 0, 0, &r), ==,
			-EINVAL);
	/* 259 units fit the message; 259 bytes are no valid file name: refused by the daemon */
	g_assert_cmpint(hvsim_fcopy_start_utf16(f->sim, dir->units, dir->n, units,
						VMU_FCOPY_MAX_PATH - 1, 0, 0, &r),
			==, 0);
	g_assert_cmphex(r.status, !=, VMU_S_OK);
}

/* Writes "hello" after a successful START and completes. */
static void finish_hello(struct fixture *f)
{
	g_assert_cmphex(write_at(f, 0, "hello", 5), ==, VMU_S_OK);
	g_assert_cmphex(complete(f), ==, VMU_S_OK);
}

/* Names with unpaired surrogates. The transports differ on purpose: over UIO the daemon
 * reads the host's UTF-16 itself and refuses what is not UTF-16 (the copy fails at START,
 * nothing is created, no temporary is left); over the char device the kernel has already
 * converted the names with utf16s_to_utf8s(), which drops unpaired surrogates, so the
 * daemon sees, and creates, the name without them. */
static void test_lone_surrogate(struct fixture *f, gconstpointer data)
{
	bool uio = f->params->host == HOST_UIO;
	struct u16_name dest = u16_name(f->dest, 0xd83d, ""); /* lone high at the end */
	struct u16_name ok_dir = {.n = 0};
	struct u16_name high = u16_name("hi", 0xd800, "gh.txt");
	struct u16_name low = u16_name("lo", 0xdc00, "w.txt");
	struct u16_name end = u16_name("end", 0xdbff, "");
	struct u16_name sub = u16_name("su", 0xdfff, "b");
	g_autofree char *sub_path = g_strdup_printf("%s/su\xed\xbf\xbf"
						    "b",
						    f->dest);
	const struct u16_name *names[] = {&high, &low, &end};

	u16_append_utf8(&ok_dir, f->dest);
	start_daemon(f);
	check_utf16_bounds(f, &ok_dir);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		uint32_t status = start_utf16(f, &ok_dir, names[i], 0, 5);

		if (uio) {
			g_assert_cmphex(status, !=, VMU_S_OK);
		} else {
			g_assert_cmphex(status, ==, VMU_S_OK);
			finish_hello(f);
		}
	}
	/* a directory name with a lone surrogate, to be created */
	struct u16_name sub_dir = {.n = 0};
	u16_append_utf8(&sub_dir, f->dest);
	u16_append_utf8(&sub_dir, "/");
	memcpy(sub_dir.units + sub_dir.n, sub.units, sub.n * sizeof(sub.units[0]));
	sub_dir.n += sub.n;
	struct u16_name x = u16_name("", 'x', "");
	uint32_t status = start_utf16(f, &sub_dir, &x, VMU_FCOPY_CREATE_PATH, 5);
	if (uio) {
		g_assert_cmphex(status, !=, VMU_S_OK);
		/* nothing created, not even a temporary */
		assert_dir(f->dest, "");
	} else {
		g_assert_cmphex(status, ==, VMU_S_OK);
		finish_hello(f);
		assert_dir(f->dest, "end high.txt low.txt sub");
		g_autofree char *x_path = dest_path(f, "sub/x");
		g_assert_true(g_file_test(x_path, G_FILE_TEST_IS_REGULAR));
	}
	g_assert_false(g_file_test(sub_path, G_FILE_TEST_EXISTS));
	/* the destination directory itself named with a lone surrogate: over the char device
	 * the surrogate is dropped and the existing directory is used */
	struct u16_name hello = u16_name("hello", '.', "txt");
	status = start_utf16(f, &dest, &hello, 0, 5);
	if (uio) {
		g_assert_cmphex(status, !=, VMU_S_OK);
		assert_dir(f->dest, "");
	} else {
		g_assert_cmphex(status, ==, VMU_S_OK);
		finish_hello(f);
	}
	/* the daemon is still serving: a following valid copy works */
	struct u16_name good = u16_name("good", '.', "txt");
	g_assert_cmphex(start_utf16(f, &ok_dir, &good, 0, 5), ==, VMU_S_OK);
	finish_hello(f);
	g_autofree char *good_path = dest_path(f, "good.txt");
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(good_path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "hello");
	assert_dir(f->dest, uio ? "good.txt" : "end good.txt hello.txt high.txt low.txt sub");
}

/* ---------------------------------------------------------------- outside text */

/* A host's name that tries to add sd_notify assignments and drive a terminal. */
#define EVIL_NAME "x\nWATCHDOG=trigger\nMAINPID=1\x1b[2J"
#define EVIL_ESCAPED "x\\nWATCHDOG=trigger\\nMAINPID=1\\x1b[2J"

/* The test's own NOTIFY_SOCKET: every datagram the daemon sends, kept whole. The queue of a
 * datagram socket is short and sd_notify() blocks when it is full, so it is drained
 * whenever the simulated host's loop runs. */
struct notify_capture {
	int fd;
	char *path;
	sd_event_source *source;
	GPtrArray *datagrams;
};

static void notify_drain(struct notify_capture *n)
{
	char buf[8192];
	ssize_t len;

	while ((len = recv(n->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		g_ptr_array_add(n->datagrams, g_strndup(buf, (gsize)len));
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	notify_drain(userdata);
	return 0;
}

static void notify_open(struct fixture *f, struct notify_capture *n)
{
	n->path = g_build_filename(f->env->dir, "notify.sock", NULL);
	n->datagrams = g_ptr_array_new_with_free_func(g_free);
	n->fd = test_notify_listen(n->path); /* read with MSG_DONTWAIT (notify_drain) */
	g_assert_cmpint(
	    sd_event_add_io(hvsim_event(f->sim), &n->source, n->fd, EPOLLIN, on_notify, n), >=, 0);
	test_daemon_set_notify_socket(n->path);
}

static void notify_close(struct notify_capture *n)
{
	test_daemon_set_notify_socket(NULL);
	sd_event_source_disable_unref(n->source);
	close(n->fd);
	g_ptr_array_unref(n->datagrams);
	g_free(n->path);
}

/* Runs the host's loop until a datagram holds needle (bounded). */
static void notify_wait_for(struct fixture *f, struct notify_capture *n, const char *needle)
{
	for (int i = 0; i < 200; i++) {
		notify_drain(n);
		for (guint d = 0; d < n->datagrams->len; d++)
			if (strstr(n->datagrams->pdata[d], needle))
				return;
		g_assert_cmpint(hvsim_run_for(f->sim, 50 * 1000), ==, 0);
	}
	g_assert_not_reached();
}

/* A host's file name reaches STATUS= only escaped: a START whose name carries newlines and
 * assignments adds no assignment to what the service manager receives. */
static void test_status_injection(struct fixture *f, gconstpointer data)
{
	g_autofree char *evil_dir = g_strdup_printf("%s/" EVIL_NAME, f->dest);
	struct notify_capture n;

	notify_open(f, &n);
	start_daemon(f);
	g_assert_cmphex(start(f, f->dest, EVIL_NAME, 0, 5), ==, VMU_E_FAIL);
	g_assert_cmphex(start(f, evil_dir, "y", VMU_FCOPY_CREATE_PATH, 5), ==, VMU_E_FAIL);
	notify_wait_for(f, &n, "2 copies, 2 failed");
	for (guint d = 0; d < n.datagrams->len; d++) {
		g_auto(GStrv) lines = g_strsplit(n.datagrams->pdata[d], "\n", -1);
		for (char **l = lines; *l; l++) {
			g_assert_false(g_str_has_prefix(*l, "WATCHDOG="));
			g_assert_false(g_str_has_prefix(*l, "MAINPID="));
			g_assert_null(strchr(*l, '\x1b'));
		}
	}
	/* the refused name is still shown, escaped */
	notify_wait_for(f, &n, "last: " EVIL_ESCAPED " (failed)");
	g_assert_cmpuint(n.datagrams->len, >, 0);
	assert_dir(f->dest, "");
	notify_close(&n);
}

/* Sum of N over the "Suppressed N similar messages: <what>" lines of text. */
static unsigned suppressed_total(const char *text, const char *what)
{
	unsigned total = 0;

	for (const char *p = text; (p = strstr(p, "Suppressed ")); p++) {
		char *end = NULL;
		unsigned long n = strtoul(p + strlen("Suppressed "), &end, 10);

		if (g_str_has_prefix(end, " similar messages: ") &&
		    g_str_has_prefix(end + strlen(" similar messages: "), what))
			total += (unsigned)n;
	}
	return total;
}

/* Host-triggered lines: escaped on stderr, and a flood of them is cut to a bounded number
 * (10 a call site per 10 s interval) and summed up in summaries, instead of one line per
 * request. */
static void test_log_escaped_and_limited(struct fixture *f, gconstpointer data)
{
	g_autofree char *log = NULL;
	const unsigned floods = 2000;
	gint64 begin;
	unsigned shown, intervals;

	start_daemon(f);
	g_assert_cmphex(start(f, f->dest, EVIL_NAME, 0, 5), ==, VMU_E_FAIL);
	begin = g_get_monotonic_time();
	for (unsigned i = 0; i < floods; i++) {
		g_assert_cmphex(start(f, f->dest, "flood", VMU_FCOPY_OVER_WRITE, 0), ==, VMU_S_OK);
		g_assert_cmphex(complete(f), ==, VMU_S_OK);
	}
	intervals = (unsigned)((g_get_monotonic_time() - begin) / (10 * G_USEC_PER_SEC)) + 1;
	/* the daemon's SIGTERM flushes the summary of what was suppressed */
	g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 5000), ==, 0);
	log = test_daemon_log(f->daemon);
	g_assert_nonnull(strstr(log, EVIL_ESCAPED));
	g_assert_null(strstr(log, "\nWATCHDOG=trigger"));
	g_assert_null(strchr(log, '\x1b'));
	shown = count_lines_with(log, "hv-fcopyd: copy completed: flood ->");
	g_test_message("%u copies in %u interval(s): %u lines", floods, intervals, shown);
	g_assert_cmpuint(shown, <=, 10 * intervals);
	g_assert_cmpuint(shown + suppressed_total(log, "copy completed: flood ->"), ==, floods);
	assert_dir(f->dest, "flood");
}

/* ---------------------------------------------------------------- raced links */

#define RACE_VICTIM_OWNER 65533 /* "another user": neither root nor the attacker */

/* What the attacker got done: swaps that took effect, per kind. */
struct race_counts {
	unsigned rounds, symlinks, hardlinks, dir_links;
};

/* The attacker, uid/gid NOBODY, in the shared destination directory: over and over it puts
 * a symbolic link to a root file, then a hard link to another user's file, at the name the
 * host copies to, and a symbolic link to a directory outside in place of the directory the
 * host copies into, each by rename so that the swap is atomic. Raw system calls only (this
 * is a forked child); it counts what it did in *c and runs until killed (the alarm bounds
 * it should the parent die first). */
static void race_attacker(const char *dest, const char *victim, const char *hl_victim,
			  const char *victim_dir, volatile struct race_counts *c)
{
	alarm(120);
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0 || chdir(dest) < 0)
		_exit(2);
	for (;;) {
		(void)unlink(".a"); /* left over when the last rename failed */
		if (symlink(victim, ".a") == 0 && rename(".a", "race") == 0)
			c->symlinks++;
		/* every other round, so that a symbolic link is in place half of the time; not
		 * by rename: in the sticky directory the attacker may not move a file it does
		 * not own, and the hard link is the other user's (so it stays in place until
		 * the daemon replaces it) */
		if (c->rounds % 2 && unlink("race") == 0 && link(hl_victim, "race") == 0)
			c->hardlinks++;
		(void)unlink("sub");
		(void)rmdir("sub");
		(void)unlink(".c");
		if (symlink(victim_dir, ".c") == 0 && rename(".c", "sub") == 0)
			c->dir_links++;
		c->rounds++;
	}
}

/* Removes dest/sub/x and dest/sub when sub is a real directory, never through a link (the
 * attacker may swap sub at any moment: an unlink through its link would hide an escape). */
static void race_clear_sub(const char *dest)
{
	int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int sfd;

	g_assert_cmpint(dfd, >=, 0);
	sfd = openat(dfd, "sub", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd >= 0) {
		(void)unlinkat(sfd, "x", 0);
		close(sfd);
		(void)unlinkat(dfd, "sub", AT_REMOVEDIR);
	}
	close(dfd);
}

static void assert_unchanged(const char *path, const struct stat *before, const char *content)
{
	g_autofree char *got = NULL;
	struct stat st;

	g_assert_cmpint(lstat(path, &st), ==, 0);
	g_assert_true(S_ISREG(st.st_mode));
	g_assert_cmpint(st.st_ino, ==, before->st_ino);
	g_assert_cmpint(st.st_uid, ==, before->st_uid);
	g_assert_cmpint(st.st_gid, ==, before->st_gid);
	g_assert_cmpint(st.st_mode, ==, before->st_mode);
	g_assert_cmpint(st.st_size, ==, before->st_size);
	g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, content);
}

/* Symbolic and hard links swapped in by another user (uid 65534) while the host copies,
 * through the real daemon: the copies land in the destination or fail, but nothing outside
 * it is written, and no file of another owner is overwritten, truncated or chowned. The
 * daemon gives its files to the attacker (file-owner=65534), the case where a chown
 * through a swapped link would hand the attacker someone else's file, and which lets the
 * attacker remove what the daemon made and keep racing. The review ran 400 raced copies;
 * 150 per transport here prove the same property within a few seconds (the attacker swaps
 * thousands of times meanwhile, see the rounds in the test log). */
static void test_raced_links(struct fixture *f, gconstpointer data)
{
	const char *root_file = "root:x:0:0";
	const char *user_file = "someone else's";
	g_autofree char *victim_dir = g_build_filename(f->env->dir, "victim", NULL);
	g_autofree char *victim = g_build_filename(victim_dir, "passwd", NULL);
	g_autofree char *hl_victim = g_build_filename(victim_dir, "theirs", NULL);
	g_autofree char *sub = dest_path(f, "sub");
	g_autofree char *src = make_source(f, 100, 11);
	struct stat victim_st, hl_st;
	unsigned copies = 150, landed = 0, failed = 0;
	volatile struct race_counts *c;
	g_autofree char *listing_before = NULL, *listing_after = NULL;
	pid_t attacker;
	int status;

	if (getuid() != 0) {
		g_test_skip("racing links as another user needs root");
		return;
	}
	/* the attacker must reach the destination and the victims' directory */
	g_assert_cmpint(chmod(f->env->dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(victim_dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(victim, root_file, -1, NULL));
	g_assert_cmpint(chmod(victim, 0644), ==, 0);
	/* protected_hardlinks lets a user link only to files it may read and write */
	g_assert_true(g_file_set_contents(hl_victim, user_file, -1, NULL));
	g_assert_cmpint(chown(hl_victim, RACE_VICTIM_OWNER, RACE_VICTIM_OWNER), ==, 0);
	g_assert_cmpint(chmod(hl_victim, 0666), ==, 0);
	g_assert_cmpint(stat(victim, &victim_st), ==, 0);
	g_assert_cmpint(stat(hl_victim, &hl_st), ==, 0);
	g_assert_cmpint(chmod(f->dest, 01777), ==, 0);
	write_config(f, "file-owner=65534\nfile-group=65534\n");
	start_daemon(f);

	listing_before = list_dir(f->env->dir);
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g_assert_true(c != MAP_FAILED);
	*c = (struct race_counts){0};
	attacker = fork();
	g_assert_cmpint(attacker, >=, 0);
	if (attacker == 0)
		race_attacker(f->dest, victim, hl_victim, victim_dir, c);
	for (unsigned i = 0; i < copies; i++) {
		bool into_sub = i % 2;
		uint32_t st =
		    copy_file(f, src, into_sub ? sub : f->dest, into_sub ? "x" : "race",
			      VMU_FCOPY_OVER_WRITE | (into_sub ? VMU_FCOPY_CREATE_PATH : 0));

		if (st == VMU_S_OK)
			landed++;
		else
			failed++;
		if (into_sub)
			race_clear_sub(f->dest);
	}
	g_assert_cmpint(kill(attacker, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(attacker, &status, 0), ==, attacker);
	g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	g_test_message("%u raced copies: %u landed, %u refused; the attacker made %u rounds, "
		       "%u symlink, %u hard link and %u directory link swaps",
		       copies, landed, failed, c->rounds, c->symlinks, c->hardlinks, c->dir_links);
	/* the race was real: every kind of swap took effect */
	g_assert_cmpuint(c->symlinks, >, 0);
	g_assert_cmpuint(c->hardlinks, >, 0);
	g_assert_cmpuint(c->dir_links, >, 0);
	g_assert_cmpuint(landed + failed, ==, copies);

	/* nothing outside the destination was written, nothing of another owner changed */
	assert_unchanged(victim, &victim_st, root_file);
	assert_unchanged(hl_victim, &hl_st, user_file);
	assert_dir(victim_dir, "passwd theirs");
	listing_after = list_dir(f->env->dir);
	g_assert_cmpstr(listing_after, ==, listing_before);
	munmap((void *)c, sizeof(*c));

	/* the daemon is still up and copies normally */
	race_clear_sub(f->dest);
	g_assert_cmphex(copy_file(f, src, f->dest, "after", 0), ==, VMU_S_OK);
	g_autofree char *after = dest_path(f, "after");
	g_autofree char *want = sha256_of(src);
	g_autofree char *got = sha256_of(after);
	g_assert_cmpstr(got, ==, want);
}

static void add(const char *path, const struct params *p,
		void (*fn)(struct fixture *, gconstpointer))
{
	g_test_add(path, struct fixture, p, setup, fn, teardown);
}

static void add_both(const char *name, void (*fn)(struct fixture *, gconstpointer))
{
	g_autofree char *chardev = g_strdup_printf("/fcopyd/chardev/%s", name);
	g_autofree char *uio = g_strdup_printf("/fcopyd/uio/%s", name);

	add(chardev, &on_chardev, fn);
	add(uio, &on_uio, fn);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(0022);
	add_both("contents", test_contents);
	add_both("names", test_names);
	add_both("flags", test_flags);
	add_both("cancel", test_cancel);
	add("/fcopyd/chardev/hibernate", &on_chardev, test_hibernate);
	add_both("kill-restart", test_kill_restart);
	add_both("symlink-attacks", test_symlink_attacks);
	add_both("raced-links", test_raced_links);
	add_both("mode-owner", test_mode_owner);
	add_both("untrusted-profile", test_untrusted_profile);
	add_both("reload-bad-policy", test_reload_bad_policy);
	add_both("reload-mid-copy", test_reload_mid_copy);
	add_both("enospc", test_enospc);
	add_both("reserved-blocks", test_reserved_blocks);
	add_both("disk-error-direct", test_disk_error);
	add_both("status-injection", test_status_injection);
	add("/fcopyd/uio/log-escaped-and-limited", &on_uio, test_log_escaped_and_limited);
	add_both("lone-surrogate", test_lone_surrogate);
	add("/fcopyd/uio/disable-enable", &on_uio, test_uio_disable_enable);
	add("/fcopyd/uio/rescind-wording", &on_uio, test_uio_rescind_wording);
	add_both("journal-records", test_journal_records);
	add("/fcopyd/uio/ring-size-mismatch", &on_uio, test_uio_ring_size);
	add("/fcopyd/uio/wrapping-ring", &on_uio_write_ring, test_uio_wrapping_ring);
	add("/fcopyd/uio/4k-ring", &on_uio_4k_ring, test_uio_4k_ring);
	add("/fcopyd/uio/bind", &on_uio, test_uio_bind);
	add("/fcopyd/auto/chardev-present", &auto_chardev, test_auto_chardev);
	add("/fcopyd/auto/uio-only", &auto_uio, test_auto_uio);
	add("/fcopyd/auto/waits-for-either", &auto_none, test_auto_waits);
	add("/fcopyd/auto/ready-while-waiting", &auto_none, test_ready_while_waiting);
	return g_test_run();
}
