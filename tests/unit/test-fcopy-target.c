/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/fcopy/target.c: name checks, CREATE_PATH, OVER_WRITE, atomic
 * creation through a temporary file (O_TMPFILE and named), crash cleanup, space
 * reservation, mode and owner, the parent-symlink rule and the allowlist, and symlinks or
 * hard links planted by another user (links created as root, then lchown'ed to 65534).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/aio_abi.h>
#include <stdarg.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/fcopy/target.h"

#define NOBODY 65534

struct fixture {
	char *dir;
	char *pending;
	struct target_policy p;
};

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("fcopy-target-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->pending = g_build_filename(f->dir, "pending", NULL);
	f->p = (struct target_policy){
	    .file_mode = 0644,
	    .dir_mode = 0755,
	    .uid = 0,
	    .gid = 0,
	    .parent_symlinks = TARGET_SYMLINKS_ROOT_OWNED,
	    .tmpfile = GPOINTER_TO_INT(data) ? TARGET_TMPFILE_NAMED : TARGET_TMPFILE_AUTO,
	    .preallocate = true,
	    .pending_path = f->pending,
	};
	if (getuid() != 0) {
		f->p.uid = getuid();
		f->p.gid = getgid();
	}
}

static void rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *n;

	if (d) {
		while ((n = g_dir_read_name(d))) {
			g_autofree char *c = g_build_filename(path, n, NULL);
			if (g_file_test(c, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(c, G_FILE_TEST_IS_SYMLINK))
				rm_rf(c);
			else
				g_unlink(c);
		}
		g_dir_close(d);
	}
	g_rmdir(path);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->pending);
}

static char *path_of(struct fixture *f, const char *rel)
{
	return g_build_filename(f->dir, rel, NULL);
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir, sorted, space separated ("" when empty). */
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

static void assert_contents(const char *path, const char *want)
{
	g_autofree char *got = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &got, &len, NULL));
	g_assert_cmpuint(len, ==, strlen(want));
	g_assert_cmpmem(got, len, want, strlen(want));
}

static int put_file(struct fixture *f, const char *dir, const char *name, uint32_t flags,
		    const char *data)
{
	struct target *t = NULL;
	size_t len = strlen(data);
	int r = target_open(&f->p, dir, name, flags & 2, flags & 1, len, &t);

	if (r < 0)
		return r;
	r = target_write(t, 0, data, len);
	if (r >= 0)
		r = target_commit(t);
	target_free(t);
	return r;
}

static void test_basic(struct fixture *f, gconstpointer data)
{
	g_autofree char *target = path_of(f, "hello.txt");
	g_autofree char *listing = NULL;
	struct target *t = NULL;
	struct stat st;

	g_assert_cmpint(target_open(&f->p, f->dir, "hello.txt", false, false, 11, &t), ==, 0);
	g_assert_cmpint(target_temp_is_named(t), ==, GPOINTER_TO_INT(data));
	/* nothing under the final name while the copy runs */
	g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
	g_assert_cmpint(g_file_test(f->pending, G_FILE_TEST_EXISTS), ==, GPOINTER_TO_INT(data));
	g_assert_cmpint(target_write(t, 6, "world", 5), ==, 0);
	g_assert_cmpint(target_write(t, 0, "hello ", 6), ==, 0);
	g_assert_cmpuint(target_written(t), ==, 11);
	g_assert_cmpstr(target_path(t), ==, target);
	g_assert_cmpint(target_commit(t), ==, 0);
	g_assert_cmpint(target_commit(t), ==, -EALREADY);
	target_free(t);
	assert_contents(target, "hello world");
	g_assert_cmpint(lstat(target, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0644);
	g_assert_cmpint(st.st_uid, ==, f->p.uid);
	/* no temporary and no record left */
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "hello.txt");
}

/* size bytes of a pattern with no period a bug could hide in */
static guint8 *pattern(size_t size)
{
	guint8 *p = g_malloc(size);

	for (size_t i = 0; i < size; i++)
		p[i] = (guint8)(i * 131 + i / 4099);
	return p;
}

/* A WRITE that must succeed, also applied to the model of the file in memory. */
static void put(struct target *t, guint8 *model, size_t off, size_t n, const guint8 *bytes)
{
	g_assert_cmpint(target_write(t, off, bytes, n), ==, 0);
	memcpy(model + off, bytes, n);
}
#define PUT(o, n, bytes) put(t, model, (o), (n), (bytes))

/* WRITEs are gathered in batches (256 KiB) and written later: what reaches the file must
 * still be what the host sent, in its order, for in-order fragments across batch borders,
 * one write larger than a batch, rewrites of data already written and of data still
 * gathered, and a discarded copy must leave nothing. A model in memory takes the same
 * writes. */
static void test_batched(struct fixture *f, gconstpointer data)
{
	const size_t frag = 6144, size = 3 * 256 * 1024 + 100;
	g_autofree guint8 *src = pattern(size), *model = g_malloc0(size);
	g_autofree char *target = path_of(f, "batched");
	g_autofree char *got = NULL, *listing = NULL;
	struct target *t = NULL;
	gsize len = 0;
	size_t off;

	(void)data;
	g_assert_cmpint(target_open(&f->p, f->dir, "batched", false, false, size, &t), ==, 0);
	for (off = 0; off + frag <= 300 * 1024; off += frag)
		PUT(off, frag, src + off);
	PUT(1000, frag, src + 500000);   /* back into what was already written */
	PUT(off - 100, 50, src + 7);     /* back into what was gathered since */
	PUT(off, 300 * 1024, src + off); /* larger than a batch, written directly */
	for (off += 300 * 1024; off < size; off += frag)
		PUT(off, MIN(frag, size - off), src + off);
	PUT(size - 10, 10, src); /* a rewrite of the last bytes, still gathered */
	g_assert_cmpuint(target_written(t), ==, size);
	g_assert_cmpint(target_commit(t), ==, 0);
	target_free(t);
	g_assert_true(g_file_get_contents(target, &got, &len, NULL));
	g_assert_cmpmem(got, len, model, size);
	/* a copy discarded with data gathered leaves nothing */
	g_assert_cmpint(target_open(&f->p, f->dir, "dropped", false, false, size, &t), ==, 0);
	g_assert_cmpint(target_write(t, 0, src, frag), ==, 0);
	target_free(t);
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "batched");
}

/* Whether the test directory's file system takes O_DIRECT (tmpfs before Linux 6.6 does not). */
static bool direct_io_here(struct fixture *f)
{
	g_autofree char *probe = path_of(f, "probe");
	int fd = open(probe, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);

	if (fd < 0) {
		g_test_skip("no O_DIRECT on the test directory's file system");
		return false;
	}
	close(fd);
	unlink(probe);
	return true;
}

/* Pages of path in the page cache. */
static size_t cached_pages(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t n = 0, pages;
	unsigned char *vec;
	void *map;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	g_assert_true(map != MAP_FAILED);
	pages = ((size_t)st.st_size + 4095) / 4096;
	vec = g_malloc(pages);
	g_assert_cmpint(mincore(map, (size_t)st.st_size, vec), ==, 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	g_free(vec);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return n;
}

/* A large reserved file written in order goes past the page cache: several times the
 * direct buffers' worth, so every buffer is reused after its write completed, with an
 * unaligned tail. What reaches the file is what was sent, and the cache holds (almost)
 * none of it: the tail's page went through the cache. */
static void test_direct(struct fixture *f, gconstpointer data)
{
	const size_t frag = 6144, size = 2 * TARGET_DIRECT_BUFS * TARGET_DIRECT_BUF + 1234;
	g_autofree guint8 *src = pattern(size);
	g_autofree char *target = path_of(f, "direct");
	g_autofree char *got = NULL;
	struct target *t = NULL;
	gsize len = 0;

	(void)data;
	if (!direct_io_here(f))
		return;
	f->p.direct_io = true;
	g_assert_cmpint(target_open(&f->p, f->dir, "direct", false, false, size, &t), ==, 0);
	g_assert_false(target_is_direct(t)); /* from the first WRITE on */
	for (size_t off = 0; off < size; off += frag) {
		g_assert_cmpint(target_write(t, off, src + off, MIN(frag, size - off)), ==, 0);
		g_assert_true(target_is_direct(t));
	}
	g_assert_cmpuint(target_written(t), ==, size);
	g_assert_cmpint(target_commit(t), ==, 0);
	g_assert_false(target_is_direct(t));
	target_free(t);
	g_assert_cmpuint(cached_pages(target), <=, 1);
	g_assert_true(g_file_get_contents(target, &got, &len, NULL));
	g_assert_cmpmem(got, len, src, size);
}

/* Completions out of order. target.c reads its AIO completions through syscall(); this
 * definition takes the place of libc's in the test program. While reorder_aio is set, an
 * io_getevents() that finds one completion waits up to 50 ms for another, and the oldest
 * write's completion (lowest offset) is held back while any other can be given: so a wait
 * for the oldest buffer's write is first answered with a newer one's, as a disk that
 * completes out of order does. A held-back completion is still given when it is the only
 * one; a wait that finds none for 10 s fails the test (a write the target lost count of). */
static bool reorder_aio;
static struct io_event held[16];
static long n_held;

static long real_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
	static long (*next)(long, ...);

	if (!next)
		next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return next(nr, a, b, c, d, e, f);
}

static uint64_t event_offset(const struct io_event *ev)
{
	return (uint64_t)((const struct iocb *)(uintptr_t)ev->obj)->aio_offset;
}

static long reordered_getevents(long ctx, long min_nr, long max_nr, struct io_event *out)
{
	struct timespec none = {0, 0}, brief = {0, 50 * 1000 * 1000}, stuck = {10, 0};
	long n, oldest = 0, given = 0, kept = 0;
	bool hold;

	n = real_syscall(SYS_io_getevents, ctx, 0, 16 - n_held, (long)(held + n_held), (long)&none,
			 0);
	n_held += n > 0 ? n : 0;
	if (n_held < min_nr) {
		n = real_syscall(SYS_io_getevents, ctx, min_nr - n_held, 16 - n_held,
				 (long)(held + n_held), (long)&stuck, 0);
		n_held += n > 0 ? n : 0;
		if (n_held < min_nr)
			g_error("io_getevents: no completion in 10 s (%ld wanted)", min_nr);
	}
	if (n_held == 1 && min_nr >= 1) {
		n = real_syscall(SYS_io_getevents, ctx, 1, 15, (long)(held + 1), (long)&brief, 0);
		n_held += n > 0 ? n : 0;
	}
	for (long i = 1; i < n_held; i++)
		if (event_offset(&held[i]) < event_offset(&held[oldest]))
			oldest = i;
	/* everything but the oldest, when that is enough for the caller; the rest stays held */
	hold = n_held > 1 && n_held - 1 >= min_nr;
	for (long i = 0; i < n_held; i++) {
		if ((hold && i == oldest) || given >= max_nr)
			held[kept++] = held[i];
		else
			out[given++] = held[i];
	}
	n_held = kept;
	return given;
}

/* Six arguments are read whatever the call passed, as a syscall() must: the ones past those
 * passed are stack the caller did not mean, which AddressSanitizer would report. */
__attribute__((no_sanitize("address"))) long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_io_getevents && reorder_aio)
		return reordered_getevents(a[0], a[1], a[2], (struct io_event *)(uintptr_t)a[3]);
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A disk may complete writes out of order: a buffer is filled again only after its own
 * write completed, not after any write did (waiting for "one completion" reused the
 * oldest buffer while its write was still counted in flight, and the count of writes in
 * flight then never reached 0: COMPLETE waited for ever). The content is checked too. */
static void test_direct_out_of_order(struct fixture *f, gconstpointer data)
{
	const size_t frag = 6144, size = 2 * TARGET_DIRECT_BUFS * TARGET_DIRECT_BUF + 1234;
	g_autofree guint8 *src = pattern(size);
	g_autofree char *target = path_of(f, "reordered");
	g_autofree char *got = NULL;
	struct target *t = NULL;
	gsize len = 0;

	(void)data;
	if (!direct_io_here(f))
		return;
	f->p.direct_io = true;
	reorder_aio = true;
	g_assert_cmpint(target_open(&f->p, f->dir, "reordered", false, false, size, &t), ==, 0);
	for (size_t off = 0; off < size; off += frag)
		g_assert_cmpint(target_write(t, off, src + off, MIN(frag, size - off)), ==, 0);
	g_assert_cmpint(target_commit(t), ==, 0);
	target_free(t);
	reorder_aio = false;
	g_assert_cmpint(n_held, ==, 0);
	g_assert_true(g_file_get_contents(target, &got, &len, NULL));
	g_assert_cmpmem(got, len, src, size);
}

/* A WRITE that does not continue the data ends direct I/O: what was gathered is written
 * (aligned part direct, the rest through the cache) and the copy goes on in the cache, with
 * rewrites of what went each way. A copy freed with writes in flight waits for them and
 * leaves nothing. */
static void test_direct_fallback(struct fixture *f, gconstpointer data)
{
	const size_t frag = 6144, size = 2 * TARGET_DIRECT_BUF + 77;
	g_autofree guint8 *src = pattern(size), *model = g_malloc0(size);
	g_autofree char *target = path_of(f, "fallback");
	g_autofree char *got = NULL, *listing = NULL;
	struct target *t = NULL;
	gsize len = 0;
	size_t off;

	(void)data;
	if (!direct_io_here(f))
		return;
	f->p.direct_io = true;
	g_assert_cmpint(target_open(&f->p, f->dir, "fallback", false, false, size, &t), ==, 0);
	for (off = 0; off < TARGET_DIRECT_BUF + TARGET_DIRECT_BUF / 4;
	     off += frag) /* one written */
		PUT(off, frag, src + off);
	g_assert_true(target_is_direct(t));
	PUT(1000, frag, src + 700000); /* back into what was written direct */
	g_assert_false(target_is_direct(t));
	PUT(off - 10, 5, src + 3); /* into the unaligned rest, written through the cache */
	for (; off < size; off += frag)
		PUT(off, MIN(frag, size - off), src + off);
	g_assert_false(target_is_direct(t));
	g_assert_cmpint(target_commit(t), ==, 0);
	target_free(t);
	g_assert_true(g_file_get_contents(target, &got, &len, NULL));
	g_assert_cmpmem(got, len, model, size);
	/* freed with direct writes in flight */
	g_assert_cmpint(target_open(&f->p, f->dir, "dropped", false, false, size, &t), ==, 0);
	for (off = 0; off < TARGET_DIRECT_BUF + frag; off += frag)
		g_assert_cmpint(target_write(t, off, src + off, frag), ==, 0);
	g_assert_true(target_is_direct(t));
	target_free(t);
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "fallback");
}

/* Direct I/O only where it is safe and worth it: not when turned off, not for a small file,
 * not without the space reserved (an extending O_DIRECT write is synchronous on ext4), not
 * for a copy that does not start at offset 0. Each copy is still correct. */
static void test_direct_not_used(struct fixture *f, gconstpointer data)
{
	const size_t size = 3 * 1024 * 1024;
	g_autofree guint8 *src = pattern(size);
	struct {
		const char *name;
		bool direct_io, preallocate;
		size_t size, first;
	} cases[] = {
	    {"off", false, true, size, 0},
	    {"small", true, true, 2 * 1024 * 1024 - 1, 0},
	    {"unreserved", true, false, size, 0},
	    {"not-from-0", true, true, size, 6144},
	};

	(void)data;
	if (!direct_io_here(f))
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *target = path_of(f, cases[i].name);
		g_autofree char *got = NULL;
		struct target *t = NULL;
		size_t n = cases[i].size;
		gsize len = 0;

		f->p.direct_io = cases[i].direct_io;
		f->p.preallocate = cases[i].preallocate;
		g_assert_cmpint(target_open(&f->p, f->dir, cases[i].name, false, false, n, &t), ==,
				0);
		g_assert_cmpint(
		    target_write(t, cases[i].first, src + cases[i].first, n - cases[i].first), ==,
		    0);
		g_assert_cmpint(target_write(t, 0, src, cases[i].first), ==, 0);
		g_assert_false(target_is_direct(t));
		g_assert_cmpint(target_commit(t), ==, 0);
		target_free(t);
		g_assert_true(g_file_get_contents(target, &got, &len, NULL));
		g_assert_cmpmem(got, len, src, n);
	}
}

static void test_discard(struct fixture *f, gconstpointer data)
{
	g_autofree char *listing = NULL;
	struct target *t = NULL;

	g_assert_cmpint(target_open(&f->p, f->dir, "gone", false, false, 4, &t), ==, 0);
	g_assert_cmpint(target_write(t, 0, "abcd", 4), ==, 0);
	g_assert_null(target_free(t));
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "");
	g_assert_null(target_free(NULL));
}

static void test_write_bounds(struct fixture *f, gconstpointer data)
{
	struct target *t = NULL;

	g_assert_cmpint(target_open(&f->p, f->dir, "b", false, false, 10, &t), ==, 0);
	g_assert_cmpint(target_write(t, 0, "0123456789", 10), ==, 0);
	g_assert_cmpint(target_write(t, 10, "x", 1), ==, -EFBIG);
	g_assert_cmpint(target_write(t, 9, "xy", 2), ==, -EFBIG);
	g_assert_cmpint(target_write(t, UINT64_MAX, "x", 1), ==, -EFBIG);
	g_assert_cmpint(target_write(t, 10, "", 0), ==, 0);
	g_assert_cmpint(target_write(t, 11, "", 0), ==, -EFBIG);
	g_assert_cmpuint(target_written(t), ==, 10);
	target_free(t);
}

static void test_names(struct fixture *f, gconstpointer data)
{
	char long_name[NAME_MAX + 2];
	struct target *t = (struct target *)0x1;

	g_assert_cmpint(target_open(&f->p, "tmp", "x", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, "", "x", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, f->dir, "", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, f->dir, ".", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, f->dir, "..", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, f->dir, "a/b", true, false, 0, &t), ==, -EINVAL);
	g_assert_cmpint(target_open(&f->p, f->dir, "a\nb", true, false, 0, &t), ==, -EINVAL);
	g_autofree char *up = g_strdup_printf("%s/sub/../..", f->dir);
	g_assert_cmpint(target_open(&f->p, up, "x", true, false, 0, &t), ==, -EINVAL);
	memset(long_name, 'n', sizeof(long_name));
	long_name[NAME_MAX + 1] = '\0';
	g_assert_cmpint(target_open(&f->p, f->dir, long_name, false, false, 0, &t), ==,
			-ENAMETOOLONG);
	g_assert_true(t == (struct target *)0x1); /* untouched on failure */
	long_name[NAME_MAX] = '\0';
	g_assert_cmpint(put_file(f, f->dir, long_name, 0, "x"), ==, 0);
	/* UTF-8 and "..x" are ordinary names; "." components and doubled slashes are skipped */
	g_autofree char *odd = g_strdup_printf("%s/./", f->dir);
	g_assert_cmpint(put_file(f, odd, "..x \xc3\xa9\xf0\x9f\x98\x80", 0, "y"), ==, 0);
	g_autofree char *p = path_of(f, "..x \xc3\xa9\xf0\x9f\x98\x80");
	assert_contents(p, "y");
}

static void test_create_path(struct fixture *f, gconstpointer data)
{
	g_autofree char *deep = path_of(f, "a/b/c");
	g_autofree char *file = path_of(f, "a/b/c/f");
	struct stat st;

	g_assert_cmpint(put_file(f, deep, "f", 0, "1"), ==, -ENOENT);
	g_assert_false(g_file_test(deep, G_FILE_TEST_EXISTS));
	/* every missing directory, the last one too, with or without a trailing slash */
	g_assert_cmpint(put_file(f, deep, "f", 2, "1"), ==, 0);
	assert_contents(file, "1");
	g_assert_cmpint(stat(deep, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
	g_autofree char *deep2 = path_of(f, "x/y/");
	g_autofree char *file2 = path_of(f, "x/y/g");
	g_assert_cmpint(put_file(f, deep2, "g", 2, "2"), ==, 0);
	assert_contents(file2, "2");
	/* a file in the way is not a directory */
	g_autofree char *through = path_of(f, "a/b/c/f/sub");
	g_assert_cmpint(put_file(f, through, "h", 2, "3"), ==, -ENOTDIR);
}

static void test_exists_overwrite(struct fixture *f, gconstpointer data)
{
	g_autofree char *file = path_of(f, "same");
	g_autofree char *sub = path_of(f, "subdir");
	g_autofree char *listing = NULL;

	g_assert_cmpint(put_file(f, f->dir, "same", 0, "first"), ==, 0);
	g_assert_cmpint(put_file(f, f->dir, "same", 0, "second"), ==, -EEXIST);
	assert_contents(file, "first");
	g_assert_cmpint(put_file(f, f->dir, "same", 1, "third"), ==, 0);
	assert_contents(file, "third");
	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	g_assert_cmpint(put_file(f, f->dir, "subdir", 1, "x"), ==, -EISDIR);
	g_assert_cmpint(put_file(f, f->dir, "subdir", 0, "x"), ==, -EEXIST);
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "same subdir");
}

/* The target appears while the copy runs: no-clobber at COMPLETE too. */
static void test_exists_race(struct fixture *f, gconstpointer data)
{
	g_autofree char *file = path_of(f, "race");
	struct target *t = NULL;

	g_assert_cmpint(target_open(&f->p, f->dir, "race", false, false, 3, &t), ==, 0);
	g_assert_cmpint(target_write(t, 0, "new", 3), ==, 0);
	g_assert_true(g_file_set_contents(file, "old", -1, NULL));
	g_assert_cmpint(target_commit(t), ==, -EEXIST);
	target_free(t);
	assert_contents(file, "old");
	g_autofree char *listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "race");
}

static void test_mode_owner(struct fixture *f, gconstpointer data)
{
	g_autofree char *file = path_of(f, "owned");
	struct stat st;

	if (getuid() != 0) {
		g_test_skip("changing the owner needs root");
		return;
	}
	f->p.file_mode = 0600;
	f->p.uid = NOBODY;
	f->p.gid = NOBODY;
	umask(0077);
	g_assert_cmpint(put_file(f, f->dir, "owned", 0, "x"), ==, 0);
	umask(0022);
	g_assert_cmpint(stat(file, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(st.st_uid, ==, NOBODY);
	g_assert_cmpint(st.st_gid, ==, NOBODY);
	f->p.file_mode = 0744;
	g_assert_cmpint(put_file(f, f->dir, "owned", 1, "y"), ==, 0);
	g_assert_cmpint(stat(file, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0744);
}

static void test_space(struct fixture *f, gconstpointer data)
{
	g_autofree char *listing = NULL;
	struct target *t = NULL;
	/* far beyond any test machine's disk (and ext4's largest file) */
	const uint64_t huge = UINT64_C(1) << 52;

	g_assert_cmpint(target_open(&f->p, f->dir, "big", false, false, huge, &t), ==, -ENOSPC);
	f->p.preallocate = false;
	g_assert_cmpint(target_open(&f->p, f->dir, "big", false, false, huge, &t), ==, -ENOSPC);
	g_assert_cmpint(target_open(&f->p, f->dir, "big", false, false, UINT64_MAX, &t), ==,
			-EFBIG);
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "");
	/* a preallocated file has its size before any write */
	f->p.preallocate = true;
	g_assert_cmpint(target_open(&f->p, f->dir, "pre", false, false, 1 << 20, &t), ==, 0);
	g_assert_cmpint(target_commit(t), ==, 0);
	target_free(t);
	g_autofree char *pre = path_of(f, "pre");
	struct stat st;
	g_assert_cmpint(stat(pre, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 1 << 20);
}

static void crash_mid_copy(struct fixture *f, const char *name)
{
	pid_t pid = fork();
	int status;

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct target *t = NULL;
		if (target_open(&f->p, f->dir, name, false, false, 3, &t) < 0 ||
		    target_write(t, 0, "abc", 3) < 0)
			_exit(1);
		_exit(0); /* no cleanup: a crash */
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_clean_stale(struct fixture *f, gconstpointer data)
{
	g_autofree char *listing = NULL;

	g_assert_cmpint(target_clean_stale(&f->p), ==, 0);
	crash_mid_copy(f, "crashed");
	listing = list_dir(f->dir);
	if (GPOINTER_TO_INT(data)) {
		/* a named temporary and its record survive the crash ... */
		g_assert_true(g_str_has_prefix(listing, TARGET_TEMP_PREFIX));
		g_assert_true(strstr(listing, TARGET_TEMP_SUFFIX " pending") != NULL);
		/* ... until the next start */
		g_assert_cmpint(target_clean_stale(&f->p), ==, 1);
	} else {
		/* O_TMPFILE: nothing to see at all */
		g_assert_cmpstr(listing, ==, "");
		g_assert_cmpint(target_clean_stale(&f->p), ==, 0);
	}
	g_free(listing);
	listing = list_dir(f->dir);
	g_assert_cmpstr(listing, ==, "");
	/* a record naming something else is dropped without touching it */
	g_autofree char *victim = path_of(f, "keep");
	g_assert_true(g_file_set_contents(victim, "k", -1, NULL));
	g_autofree char *rec = g_strdup_printf("%s%ckeep", f->dir, 0);
	g_assert_true(g_file_set_contents(f->pending, rec, (gssize)strlen(f->dir) + 6, NULL));
	g_assert_cmpint(target_clean_stale(&f->p), ==, -EBADMSG);
	assert_contents(victim, "k");
	g_assert_false(g_file_test(f->pending, G_FILE_TEST_EXISTS));
}

static void make_link(const char *target, const char *link, uid_t owner)
{
	g_assert_cmpint(symlink(target, link), ==, 0);
	g_assert_cmpint(lchown(link, owner, owner), ==, 0);
}

/* A symlink at the target name never redirects the write. */
static void test_symlink_at_target(struct fixture *f, gconstpointer data)
{
	g_autofree char *victim = path_of(f, "victim");
	g_autofree char *link = path_of(f, "target");
	char buf[64];

	if (getuid() != 0) {
		g_test_skip("planting links as another user needs root");
		return;
	}
	g_assert_true(g_file_set_contents(victim, "precious", -1, NULL));
	make_link(victim, link, NOBODY);
	g_assert_cmpint(put_file(f, f->dir, "target", 0, "evil"), ==, -EEXIST);
	assert_contents(victim, "precious");
	/* OVER_WRITE replaces the link itself */
	g_assert_cmpint(put_file(f, f->dir, "target", 1, "data"), ==, 0);
	assert_contents(victim, "precious");
	g_assert_false(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
	assert_contents(link, "data");
	/* a dangling link too */
	g_autofree char *dangling = path_of(f, "dangling");
	g_autofree char *nowhere = path_of(f, "nowhere");
	make_link(nowhere, dangling, NOBODY);
	g_assert_cmpint(put_file(f, f->dir, "dangling", 0, "x"), ==, -EEXIST);
	g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));
	g_assert_cmpint(readlink(dangling, buf, sizeof(buf)), >, 0);
}

/* A hard link at the target name: OVER_WRITE replaces the entry, not the linked inode. */
static void test_hardlink_at_target(struct fixture *f, gconstpointer data)
{
	g_autofree char *victim = path_of(f, "victim");
	g_autofree char *hard = path_of(f, "hard");

	g_assert_true(g_file_set_contents(victim, "precious", -1, NULL));
	g_assert_cmpint(link(victim, hard), ==, 0);
	g_assert_cmpint(put_file(f, f->dir, "hard", 0, "data"), ==, -EEXIST);
	g_assert_cmpint(put_file(f, f->dir, "hard", 1, "data"), ==, 0);
	assert_contents(victim, "precious");
	assert_contents(hard, "data");
}

static void test_symlink_in_path(struct fixture *f, gconstpointer data)
{
	g_autofree char *real = path_of(f, "real");
	g_autofree char *user_link = path_of(f, "userlink");
	g_autofree char *root_link = path_of(f, "rootlink");
	g_autofree char *via_user = path_of(f, "userlink/sub");
	g_autofree char *via_root = path_of(f, "rootlink/sub");
	g_autofree char *landed = path_of(f, "real/sub/f");
	g_autofree char *listing = NULL;

	if (getuid() != 0) {
		g_test_skip("planting links as another user needs root");
		return;
	}
	g_assert_cmpint(g_mkdir(real, 0755), ==, 0);
	make_link(real, user_link, NOBODY);
	make_link("real", root_link, 0); /* relative, root-owned */

	/* default rule: root-owned links are followed, others refused; nothing is created */
	g_assert_cmpint(put_file(f, via_user, "f", 2, "u"), ==, -ELOOP);
	listing = list_dir(real);
	g_assert_cmpstr(listing, ==, "");
	g_assert_cmpint(put_file(f, via_root, "f", 2, "r"), ==, 0);
	assert_contents(landed, "r");

	f->p.parent_symlinks = TARGET_SYMLINKS_DENY;
	g_assert_cmpint(put_file(f, via_root, "f", 3, "d"), ==, -ELOOP);
	g_assert_cmpint(put_file(f, via_user, "f", 3, "d"), ==, -ELOOP);
	assert_contents(landed, "r");

	f->p.parent_symlinks = TARGET_SYMLINKS_FOLLOW;
	g_assert_cmpint(put_file(f, via_user, "f", 3, "any"), ==, 0);
	assert_contents(landed, "any");

	/* a link loop ends */
	g_autofree char *loop = path_of(f, "loop");
	make_link("loop", loop, 0);
	g_autofree char *via_loop = path_of(f, "loop/x");
	g_assert_cmpint(put_file(f, via_loop, "f", 2, "l"), ==, -ELOOP);
}

static void test_allowlist(struct fixture *f, gconstpointer data)
{
	g_autofree char *root = path_of(f, "allowed");
	g_autofree char *inside = path_of(f, "allowed/in/deep");
	g_autofree char *sibling = path_of(f, "allowedX");
	g_autofree char *other = path_of(f, "other");
	g_autofree char *escape_link = path_of(f, "allowed/escape");
	g_autofree char *via_link = path_of(f, "allowed/escape/x");
	const char *roots[] = {"/nonexistent-root", NULL, NULL};

	roots[1] = root;
	g_assert_cmpint(g_mkdir(root, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(sibling, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(other, 0755), ==, 0);
	f->p.allowed_roots = roots;
	g_assert_cmpint(put_file(f, inside, "f", 2, "ok"), ==, 0);
	g_assert_cmpint(put_file(f, root, "f", 0, "ok"), ==, 0);
	g_assert_cmpint(put_file(f, sibling, "f", 0, "no"), ==, -EPERM);
	g_assert_cmpint(put_file(f, other, "f", 0, "no"), ==, -EPERM);
	g_assert_cmpint(put_file(f, "/", "f", 0, "no"), ==, -EPERM);
	/* below the root no symlink is followed, not even root's */
	g_assert_cmpint(symlink(other, escape_link), ==, 0);
	g_assert_cmpint(put_file(f, via_link, "f", 2, "no"), ==, -ELOOP);
	g_autofree char *listing = list_dir(other);
	g_assert_cmpstr(listing, ==, "");
	/* empty list: anywhere */
	roots[0] = NULL;
	f->p.allowed_roots = roots;
	g_assert_cmpint(put_file(f, other, "f", 0, "yes"), ==, 0);
}

static void test_open_dir(struct fixture *f, gconstpointer data)
{
	int fd = -1;
	struct stat a, b;

	g_assert_cmpint(target_open_dir(&f->p, f->dir, false, &fd), ==, 0);
	g_assert_cmpint(fstat(fd, &a), ==, 0);
	g_assert_cmpint(stat(f->dir, &b), ==, 0);
	g_assert_cmpuint(a.st_ino, ==, b.st_ino);
	g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	close(fd);
	g_assert_cmpint(target_open_dir(&f->p, "/", false, &fd), ==, 0);
	g_assert_cmpint(fstat(fd, &a), ==, 0);
	g_assert_cmpint(stat("/", &b), ==, 0);
	g_assert_cmpuint(a.st_ino, ==, b.st_ino);
	close(fd);
}

static void add(const char *name, void (*fn)(struct fixture *, gconstpointer))
{
	for (int named = 0; named <= 1; named++) {
		g_autofree char *path =
		    g_strdup_printf("/fcopy-target/%s/%s", named ? "named" : "auto", name);
		g_test_add(path, struct fixture, GINT_TO_POINTER(named), setup, fn, teardown);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(0022);
	add("basic", test_basic);
	add("discard", test_discard);
	add("batched", test_batched);
	add("direct", test_direct);
	add("direct-out-of-order", test_direct_out_of_order);
	add("direct-fallback", test_direct_fallback);
	add("direct-not-used", test_direct_not_used);
	add("write-bounds", test_write_bounds);
	add("names", test_names);
	add("create-path", test_create_path);
	add("exists-overwrite", test_exists_overwrite);
	add("exists-race", test_exists_race);
	add("mode-owner", test_mode_owner);
	add("space", test_space);
	add("clean-stale", test_clean_stale);
	add("symlink-at-target", test_symlink_at_target);
	add("hardlink-at-target", test_hardlink_at_target);
	add("symlink-in-path", test_symlink_in_path);
	add("allowlist", test_allowlist);
	add("open-dir", test_open_dir);
	return g_test_run();
}
