/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/vmbus-user/kvp-pool.c, each in its own temporary directory: round trips,
 * every limit at and past its bound, what each kind of odd file content turns into, files
 * truncated, replaced or missing behind the object's back, the racily clean case, and
 * external writers (tests/unit/kvp-appender: cloud-init's flock+append and the reference
 * daemon's fcntl+rewrite) running concurrently with thousands of our own changes. The
 * files are checked byte by byte where the layout matters.
 */
#include "vmbus-user.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvp-pool-internal.h"

#define REC VMU_KVP_POOL_RECORD_SIZE
#define KSZ VMU_KVP_MAX_KEY_SIZE
#define VSZ VMU_KVP_MAX_VALUE_SIZE

static const char *argv0;

/* ------------------------------------------------------------------------------------------
 * Fixtures and helpers
 * ------------------------------------------------------------------------------------------ */

typedef struct {
	char *dir;
	char *path;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
	GError *error = NULL;

	f->dir = g_dir_make_tmp("test-kvp-pool-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, ".kvp_pool_1", NULL);
}

static void rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	if (!d) {
		g_remove(path);
		return;
	}
	while ((name = g_dir_read_name(d))) {
		char *child = g_build_filename(path, name, NULL);

		rm_rf(child);
		g_free(child);
	}
	g_dir_close(d);
	g_rmdir(path);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->path);
}

#define POOL_TEST(name, fn)                                                                        \
	g_test_add("/kvp-pool/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)

/* One raw record: key and value copied as given (len bytes each), the rest zero. */
static void raw_record(uint8_t *rec, const char *key, size_t klen, const char *value, size_t vlen)
{
	memset(rec, 0, REC);
	memcpy(rec, key, klen);
	memcpy(rec + KSZ, value, vlen);
}

static void append_raw(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, buf, len), ==, (ssize_t)len);
	close(fd);
}

static void append_item(const char *path, const char *key, const char *value)
{
	uint8_t rec[REC];

	raw_record(rec, key, strlen(key), value, strlen(value));
	append_raw(path, rec, REC);
}

static GBytes *read_all(const char *path)
{
	GError *error = NULL;
	gchar *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &contents, &len, &error));
	g_assert_no_error(error);
	return g_bytes_new_take(contents, len);
}

static struct vmu_kvp_pool_file *open_pool(const char *path, unsigned flags)
{
	struct vmu_kvp_pool_file *p = NULL;

	g_assert_cmpint(vmu_kvp_pool_open(path, flags, &p), ==, 0);
	g_assert_nonnull(p);
	return p;
}

static size_t pool_count(struct vmu_kvp_pool_file *p)
{
	size_t n = 12345;

	g_assert_cmpint(vmu_kvp_pool_count(p, &n), ==, 0);
	return n;
}

static void assert_get(struct vmu_kvp_pool_file *p, const char *key, const char *value)
{
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

	g_assert_cmpint(vmu_kvp_pool_get(p, key, &r), ==, 0);
	g_assert_cmpstr(r.key, ==, key);
	g_assert_cmpstr(r.value, ==, value);
	g_assert_cmpuint(r.key_len, ==, strlen(key));
	g_assert_cmpuint(r.value_len, ==, strlen(value));
}

static void assert_absent(struct vmu_kvp_pool_file *p, const char *key)
{
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

	memset(&r, 0x5a, sizeof(r));
	r.size = sizeof(r);
	g_assert_cmpint(vmu_kvp_pool_get(p, key, &r), ==, -ENOENT);
	g_assert_cmpint((uint8_t)r.key[0], ==, 0x5a); /* untouched on failure */
}

static void assert_index(struct vmu_kvp_pool_file *p, size_t i, const char *key, const char *value)
{
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, i, &r), ==, 0);
	g_assert_cmpstr(r.key, ==, key);
	g_assert_cmpstr(r.value, ==, value);
}

static struct vmu_kvp_pool_stats pool_stats(struct vmu_kvp_pool_file *p)
{
	struct vmu_kvp_pool_stats s = VMU_KVP_POOL_STATS_INIT;

	g_assert_cmpint(vmu_kvp_pool_get_stats(p, &s), ==, 0);
	return s;
}

static char *repeat(const char *unit, size_t n)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

static off_t file_size(const char *path)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	return st.st_size;
}

/* ------------------------------------------------------------------------------------------
 * Names, creation, opening
 * ------------------------------------------------------------------------------------------ */

static void test_file_name(void)
{
	g_assert_cmpstr(vmu_kvp_pool_file_name(VMU_KVP_POOL_EXTERNAL), ==, ".kvp_pool_0");
	g_assert_cmpstr(vmu_kvp_pool_file_name(VMU_KVP_POOL_AUTO_INTERNAL), ==, ".kvp_pool_4");
	g_assert_null(vmu_kvp_pool_file_name(_VMU_KVP_POOL_MAX));
	g_assert_null(vmu_kvp_pool_file_name((enum vmu_kvp_pool) - 1));
}

static void test_create_all(Fixture *f, gconstpointer data)
{
	char *state = g_build_filename(f->dir, "state", NULL);
	char *p1 = g_build_filename(state, ".kvp_pool_1", NULL);
	struct stat st;
	mode_t old;

	g_assert_cmpint(vmu_kvp_pool_create_all(NULL), ==, -EINVAL);
	old = umask(077);
	g_assert_cmpint(vmu_kvp_pool_create_all(state), ==, 0);
	umask(old);
	g_assert_cmpint(stat(state, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0755);
	for (int i = 0; i < 5; i++) {
		char name[32];
		char *path;

		g_snprintf(name, sizeof(name), ".kvp_pool_%d", i);
		path = g_build_filename(state, name, NULL);
		g_assert_cmpint(stat(path, &st), ==, 0);
		g_assert_true(S_ISREG(st.st_mode));
		g_assert_cmpint(st.st_mode & 07777, ==, 0644);
		g_assert_cmpint(st.st_size, ==, 0);
		g_free(path);
	}
	/* existing files are neither truncated nor re-moded */
	append_item(p1, "k", "v");
	g_assert_cmpint(chmod(p1, 0600), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_create_all(state), ==, 0);
	g_assert_cmpint(stat(p1, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, REC);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	/* a file where the directory should be */
	g_assert_cmpint(vmu_kvp_pool_create_all(p1), ==, -ENOTDIR);
	g_free(p1);
	g_free(state);
}

static void test_open_errors(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = (void *)0x1;
	char *sub = g_build_filename(f->dir, "adir", NULL);
	char *fifo = g_build_filename(f->dir, "fifo", NULL);

	g_assert_cmpint(vmu_kvp_pool_open(f->path, 0, &p), ==, -ENOENT);
	g_assert_true(p == (void *)0x1);
	g_assert_cmpint(vmu_kvp_pool_open(NULL, 0, &p), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_open("", 0, &p), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_open(f->path, 1u << 7, &p), ==, -EINVAL);
	g_assert_cmpint(
	    vmu_kvp_pool_open(f->path, VMU_KVP_POOL_CREATE | VMU_KVP_POOL_READ_ONLY, &p), ==,
	    -EINVAL);
	/* unreadable: a directory where the file should be (works as root, unlike chmod 000) */
	g_assert_cmpint(mkdir(sub, 0755), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_open(sub, 0, &p), ==, -EISDIR);
	g_assert_cmpint(vmu_kvp_pool_open(sub, VMU_KVP_POOL_CREATE, &p), ==, -EISDIR);
	g_assert_cmpint(vmu_kvp_pool_open(sub, VMU_KVP_POOL_READ_ONLY, &p), ==, -EINVAL);
	/* a FIFO does not hang open() and is refused */
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_open(fifo, 0, &p), ==, -EINVAL);
	if (geteuid() != 0) {
		append_item(f->path, "k", "v");
		g_assert_cmpint(chmod(f->path, 0), ==, 0);
		g_assert_cmpint(vmu_kvp_pool_open(f->path, 0, &p), ==, -EACCES);
		g_assert_cmpint(unlink(f->path), ==, 0);
	}
	g_assert_true(p == (void *)0x1);
	/* CREATE makes a 0644 empty file */
	p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	g_assert_cmpint(file_size(f->path), ==, 0);
	g_assert_cmpuint(pool_count(p), ==, 0);
	g_assert_null(vmu_kvp_pool_free(p));
	g_assert_null(vmu_kvp_pool_free(NULL));
	g_free(sub);
	g_free(fifo);
}

/* ------------------------------------------------------------------------------------------
 * Round trips and limits
 * ------------------------------------------------------------------------------------------ */

/* The stats struct is growable: the library writes no more than the caller's size says and
 * refuses a size smaller than the 0.1 struct. */
static void test_stats_size(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	struct {
		struct vmu_kvp_pool_stats s;
		uint8_t later[16]; /* fields a newer header would have added */
	} big;
	struct vmu_kvp_pool_stats s;
	size_t i;

	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "v"), ==, 0);

	memset(&s, 0x5a, sizeof(s));
	s.size = 0;
	g_assert_cmpint(vmu_kvp_pool_get_stats(p, &s), ==, -EINVAL);
	g_assert_cmpuint(s.records, ==, 0x5a5a5a5a5a5a5a5aull);
	s.size = sizeof(s) - sizeof(uint64_t);
	g_assert_cmpint(vmu_kvp_pool_get_stats(p, &s), ==, -EINVAL);

	s.size = sizeof(s);
	g_assert_cmpint(vmu_kvp_pool_get_stats(p, &s), ==, 0);
	g_assert_cmpuint(s.size, ==, sizeof(s));
	g_assert_cmpuint(s.records, ==, 1);
	g_assert_cmpuint(s.keys, ==, 1);

	/* A newer caller's longer struct: its size is kept and its extra fields untouched. */
	memset(&big, 0xa5, sizeof(big));
	big.s.size = sizeof(big);
	g_assert_cmpint(vmu_kvp_pool_get_stats(p, &big.s), ==, 0);
	g_assert_cmpuint(big.s.size, ==, sizeof(big));
	g_assert_cmpuint(big.s.records, ==, 1);
	for (i = 0; i < sizeof(big.later); i++)
		g_assert_cmphex(big.later[i], ==, 0xa5);
	vmu_kvp_pool_free(p);
}

/* The record struct is growable the same way: a size below the 0.1 struct is refused before
 * anything is read, a caller's longer struct keeps its size and its tail. */
static void test_record_size(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	struct {
		struct vmu_kvp_pool_record r;
		uint8_t later[16]; /* fields a newer header would have added */
	} big;
	struct vmu_kvp_pool_record r;
	size_t i;

	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "v"), ==, 0);

	memset(&r, 0x5a, sizeof(r));
	r.size = 0;
	g_assert_cmpint(vmu_kvp_pool_get(p, "k", &r), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, 0, &r), ==, -EINVAL);
	g_assert_cmphex((uint8_t)r.key[0], ==, 0x5a);
	r.size = sizeof(r) - sizeof(unsigned) - 1; /* flags would not fit */
	g_assert_cmpint(vmu_kvp_pool_get(p, "k", &r), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, 0, &r), ==, -EINVAL);
	g_assert_cmphex((uint8_t)r.key[0], ==, 0x5a);
	g_assert_cmpint(vmu_kvp_pool_get(NULL, "k", &r), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_get(p, "k", NULL), ==, -EINVAL);

	r.size = sizeof(r);
	g_assert_cmpint(vmu_kvp_pool_get(p, "k", &r), ==, 0);
	g_assert_cmpuint(r.size, ==, sizeof(r));
	g_assert_cmpstr(r.key, ==, "k");
	g_assert_cmpstr(r.value, ==, "v");
	g_assert_cmpuint(r.flags, ==, 0);

	/* A newer caller's longer struct: its size is kept and its extra fields untouched. */
	memset(&big, 0xa5, sizeof(big));
	big.r.size = sizeof(big);
	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, 0, &big.r), ==, 0);
	g_assert_cmpuint(big.r.size, ==, sizeof(big));
	g_assert_cmpstr(big.r.key, ==, "k");
	g_assert_cmpuint(big.r.value_len, ==, 1);
	g_assert_cmpuint(big.r.flags, ==, 0);
	for (i = 0; i < sizeof(big.later); i++)
		g_assert_cmphex(big.later[i], ==, 0xa5);
	memset(&big, 0xa5, sizeof(big));
	big.r.size = sizeof(big);
	g_assert_cmpint(vmu_kvp_pool_get(p, "k", &big.r), ==, 0);
	g_assert_cmpuint(big.r.key_len, ==, 1);
	for (i = 0; i < sizeof(big.later); i++)
		g_assert_cmphex(big.later[i], ==, 0xa5);
	vmu_kvp_pool_free(p);
}

static void test_round_trip(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;
	struct vmu_kvp_pool_stats s;
	g_autoptr(GBytes) b = NULL;
	const uint8_t *d;

	g_assert_cmpint(vmu_kvp_pool_set(p, "alpha", "a long first value"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "beta", "2"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "Alpha", "case matters"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "ключ", "значение €𝄞"), ==, 0);
	g_assert_cmpuint(pool_count(p), ==, 4);
	assert_get(p, "alpha", "a long first value");
	assert_get(p, "Alpha", "case matters");
	assert_get(p, "ключ", "значение €𝄞");
	assert_absent(p, "alph");
	assert_absent(p, "alphaa");
	assert_absent(p, "");
	assert_index(p, 0, "alpha", "a long first value");
	assert_index(p, 1, "beta", "2");
	assert_index(p, 3, "ключ", "значение €𝄞");
	memset(&r, 0x5a, sizeof(r));
	r.size = sizeof(r);
	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, 4, &r), ==, -ENOENT);
	g_assert_cmpint((uint8_t)r.value[0], ==, 0x5a);
	g_assert_cmpint(file_size(f->path), ==, 4 * REC);

	/* modify in place: same size, the shorter value NUL-padded over the old one */
	g_assert_cmpint(vmu_kvp_pool_set(p, "alpha", "x"), ==, 0);
	assert_get(p, "alpha", "x");
	g_assert_cmpint(file_size(f->path), ==, 4 * REC);
	b = read_all(f->path);
	d = g_bytes_get_data(b, NULL);
	g_assert_cmpmem(d, 6, "alpha\0", 6);
	g_assert_cmpmem(d + KSZ, 2, "x\0", 2);
	for (size_t i = KSZ + 1; i < REC; i++)
		g_assert_cmpint(d[i], ==, 0);
	g_assert_cmpmem(d + REC, 5, "beta\0", 5);

	/* delete keeps the order of the others */
	g_assert_cmpint(vmu_kvp_pool_delete(p, "beta"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_delete(p, "beta"), ==, -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_delete(p, ""), ==, -ENOENT);
	assert_absent(p, "beta");
	g_assert_cmpuint(pool_count(p), ==, 3);
	assert_index(p, 0, "alpha", "x");
	assert_index(p, 1, "Alpha", "case matters");
	assert_index(p, 2, "ключ", "значение €𝄞");
	g_assert_cmpint(file_size(f->path), ==, 3 * REC);

	/* empty value is a value */
	g_assert_cmpint(vmu_kvp_pool_set(p, "empty", ""), ==, 0);
	assert_get(p, "empty", "");

	/* another object sees it all */
	{
		struct vmu_kvp_pool_file *q = open_pool(f->path, VMU_KVP_POOL_READ_ONLY);

		g_assert_cmpuint(pool_count(q), ==, 4);
		assert_get(q, "ключ", "значение €𝄞");
		g_assert_cmpint(vmu_kvp_pool_set(q, "a", "b"), ==, -EROFS);
		g_assert_cmpint(vmu_kvp_pool_delete(q, "alpha"), ==, -EROFS);
		s = pool_stats(q);
		/* read once, then again while the file is still racily clean */
		g_assert_true(s.last_reload == VMU_KVP_POOL_RELOAD_INITIAL ||
			      s.last_reload == VMU_KVP_POOL_RELOAD_RACY);
		g_assert_cmpuint(s.reloads, >=, 1);
		g_assert_cmpuint(s.records, ==, 4);
		g_assert_cmpuint(s.keys, ==, 4);
		vmu_kvp_pool_free(q);
	}
	g_assert_cmpint(vmu_kvp_pool_set(p, NULL, "v"), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_set(NULL, "k", "v"), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_get(p, NULL, &r), ==, -EINVAL);
	vmu_kvp_pool_free(p);
}

static void test_limits(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	g_autofree char *k511 = repeat("k", 511);
	g_autofree char *k512 = repeat("k", 512);
	g_autofree char *v2047 = repeat("v", 2047);
	g_autofree char *v2048 = repeat("v", 2048);
	g_autofree char *k_euro = repeat("€", 170);  /* 510 bytes */
	g_autofree char *k_euro2 = repeat("€", 171); /* 513 bytes */
	g_autoptr(GBytes) b = NULL;
	const uint8_t *d;

	g_assert_cmpint(vmu_kvp_pool_set(p, k511, v2047), ==, 0);
	assert_get(p, k511, v2047);
	g_assert_cmpint(vmu_kvp_pool_set(p, k512, "v"), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", v2048), ==, -E2BIG);
	g_assert_cmpint(vmu_kvp_pool_set(p, k_euro, "v"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, k_euro2, "v"), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_set(p, "", "v"), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_set(p, "bad\xff", "v"), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "\xc3\x28"), ==, -EILSEQ);
	g_assert_cmpint(
	    vmu_kvp_pool_get(p, k512, &(struct vmu_kvp_pool_record)VMU_KVP_POOL_RECORD_INIT), ==,
	    -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_delete(p, k512), ==, -ENOENT);
	g_assert_cmpuint(pool_count(p), ==, 2);
	/* at the limit the NULs sit in the last byte of each array */
	b = read_all(f->path);
	d = g_bytes_get_data(b, NULL);
	g_assert_cmpint(d[510], ==, 'k');
	g_assert_cmpint(d[511], ==, 0);
	g_assert_cmpint(d[KSZ + 2046], ==, 'v');
	g_assert_cmpint(d[REC - 1], ==, 0);
	vmu_kvp_pool_free(p);
}

static void test_host_limits(void)
{
	g_autofree char *k254 = repeat("k", 254);
	g_autofree char *k255 = repeat("k", 255);
	g_autofree char *v1022 = repeat("v", 1022);
	g_autofree char *v1023 = repeat("v", 1023);
	g_autofree char *emoji127 = repeat("😀", 127); /* 254 units, 508 bytes */
	g_autofree char *emoji128 = repeat("😀", 128); /* 256 units */
	g_autofree char *euro254 = repeat("€", 254);  /* 254 units, 762 bytes */
	g_autofree char *euro255 = repeat("€", 255);
	g_autofree char *emoji511 = repeat("😀", 511); /* 1022 units */
	g_autofree char *emoji512 = repeat("😀", 512);

	g_assert_cmpint(vmu_kvp_pool_check_host_limits(NULL, NULL), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(k254, v1022), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(k255, v1022), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(k254, v1023), ==, -E2BIG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(k255, v1023), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(emoji127, NULL), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(emoji128, NULL), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(euro254, NULL), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(euro255, NULL), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(NULL, emoji511), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits(NULL, emoji512), ==, -E2BIG);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits("\xed\xa0\x80", NULL), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits("k", "\xff"), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_pool_check_host_limits("", ""), ==, 0);
}

/* ------------------------------------------------------------------------------------------
 * What a file may hold
 * ------------------------------------------------------------------------------------------ */

static void test_duplicates(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_stats s;
	g_autoptr(GBytes) b = NULL;
	const uint8_t *d;

	append_item(f->path, "A", "1");
	append_item(f->path, "B", "b");
	append_item(f->path, "A", "2");
	append_item(f->path, "C", "c");
	append_item(f->path, "A", "3");
	p = open_pool(f->path, 0);
	/* GET: the last record wins; ENUMERATE: one item per key, first position, last value */
	assert_get(p, "A", "3");
	g_assert_cmpuint(pool_count(p), ==, 3);
	assert_index(p, 0, "A", "3");
	assert_index(p, 1, "B", "b");
	assert_index(p, 2, "C", "c");
	s = pool_stats(p);
	g_assert_cmpuint(s.records, ==, 5);
	g_assert_cmpuint(s.keys, ==, 3);
	g_assert_cmpuint(s.duplicates, ==, 2);
	g_assert_cmpuint(s.invalid, ==, 0);

	/* a newer duplicate appended later moves nothing, changes the value */
	append_item(f->path, "B", "b2");
	assert_index(p, 1, "B", "b2");
	g_assert_cmpuint(pool_count(p), ==, 3);

	/* SET rewrites every record of the key in place: first-match readers agree */
	g_assert_cmpint(vmu_kvp_pool_set(p, "A", "4"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 6 * REC);
	b = read_all(f->path);
	d = g_bytes_get_data(b, NULL);
	for (int i = 0; i < 5; i += 2) {
		g_assert_cmpmem(d + i * REC, 2, "A\0", 2);
		g_assert_cmpmem(d + i * REC + KSZ, 2, "4\0", 2);
	}
	assert_get(p, "A", "4");

	/* DELETE removes all of them and keeps the order (and precedence) of the rest */
	g_assert_cmpint(vmu_kvp_pool_delete(p, "A"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 3 * REC);
	assert_absent(p, "A");
	assert_index(p, 0, "B", "b2");
	assert_index(p, 1, "C", "c");
	g_assert_cmpuint(pool_count(p), ==, 2);
	vmu_kvp_pool_free(p);
	/* and a fresh reader agrees */
	p = open_pool(f->path, VMU_KVP_POOL_READ_ONLY);
	assert_get(p, "B", "b2");
	s = pool_stats(p);
	g_assert_cmpuint(s.duplicates, ==, 1);
	vmu_kvp_pool_free(p);
}

static void test_delete_keeps_precedence(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;

	/* moving the tail into the hole would put D=new in front of D=old */
	append_item(f->path, "K", "gone");
	append_item(f->path, "D", "old");
	append_item(f->path, "Z", "z");
	append_item(f->path, "D", "new");
	p = open_pool(f->path, 0);
	g_assert_cmpint(vmu_kvp_pool_delete(p, "K"), ==, 0);
	assert_get(p, "D", "new");
	assert_index(p, 0, "D", "new");
	assert_index(p, 1, "Z", "z");
	vmu_kvp_pool_free(p);
	p = open_pool(f->path, 0);
	assert_get(p, "D", "new");
	vmu_kvp_pool_free(p);
}

static void test_partial_tail(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_stats s;
	uint8_t garbage[100];

	append_item(f->path, "one", "1");
	append_item(f->path, "two", "2");
	memset(garbage, 'g', sizeof(garbage));
	append_raw(f->path, garbage, sizeof(garbage));
	p = open_pool(f->path, 0);
	g_assert_cmpuint(pool_count(p), ==, 2);
	assert_get(p, "two", "2");
	s = pool_stats(p);
	g_assert_cmpuint(s.partial_tail, ==, 100);
	g_assert_cmpuint(s.records, ==, 2);
	g_assert_cmpuint(s.tails_truncated, ==, 0);
	/* reading never changes the file */
	g_assert_cmpint(file_size(f->path), ==, 2 * REC + 100);
	/* modifying in place neither */
	g_assert_cmpint(vmu_kvp_pool_set(p, "one", "uno"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 2 * REC + 100);
	/* appending cuts the garbage first, so the new record sits on a boundary */
	g_assert_cmpint(vmu_kvp_pool_set(p, "three", "3"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 3 * REC);
	s = pool_stats(p);
	g_assert_cmpuint(s.tails_truncated, ==, 1);
	g_assert_cmpuint(s.partial_tail, ==, 0);
	vmu_kvp_pool_free(p);
	p = open_pool(f->path, 0);
	assert_index(p, 0, "one", "uno");
	assert_index(p, 2, "three", "3");
	/* a tail again, then a delete: cut too */
	append_raw(f->path, garbage, 7);
	g_assert_cmpint(vmu_kvp_pool_delete(p, "two"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 2 * REC);
	s = pool_stats(p);
	g_assert_cmpuint(s.tails_truncated, ==, 1);
	vmu_kvp_pool_free(p);
}

static void test_garbage_after_nul(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;
	uint8_t rec[REC];
	g_autoptr(GBytes) b = NULL;
	const uint8_t *d;

	memset(rec, 'G', sizeof(rec));
	memcpy(rec, "key\0", 4);
	memcpy(rec + KSZ, "val\0", 4);
	append_raw(f->path, rec, REC);
	p = open_pool(f->path, 0);
	g_assert_cmpint(vmu_kvp_pool_get(p, "key", &r), ==, 0);
	g_assert_cmpstr(r.value, ==, "val");
	g_assert_cmpuint(r.value_len, ==, 3);
	g_assert_cmpuint(r.flags, ==, 0);
	assert_absent(p, "keyG");
	assert_index(p, 0, "key", "val");
	/* our rewrite leaves no stale tail */
	g_assert_cmpint(vmu_kvp_pool_set(p, "key", "new"), ==, 0);
	b = read_all(f->path);
	d = g_bytes_get_data(b, NULL);
	g_assert_cmpmem(d + KSZ, 4, "new\0", 4);
	for (size_t i = 4; i < KSZ; i++)
		g_assert_cmpint(d[i], ==, 0);
	for (size_t i = KSZ + 4; i < REC; i++)
		g_assert_cmpint(d[i], ==, 0);
	vmu_kvp_pool_free(p);
}

static void test_invalid_records(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_stats s;
	uint8_t nokey[REC], novalue[REC], empty[REC];
	g_autoptr(GBytes) b = NULL;
	const uint8_t *d;

	memset(nokey, 'x', KSZ); /* no NUL in the key array */
	memset(nokey + KSZ, 0, VSZ);
	raw_record(novalue, "nv", 2, "", 0);
	memset(novalue + KSZ, 'y', VSZ); /* no NUL in the value array */
	memset(empty, 0, REC);           /* empty key: zero-filled space */
	append_item(f->path, "a", "1");
	append_raw(f->path, nokey, REC);
	append_raw(f->path, novalue, REC);
	append_raw(f->path, empty, REC);
	append_item(f->path, "b", "2");
	p = open_pool(f->path, 0);
	g_assert_cmpuint(pool_count(p), ==, 2);
	assert_index(p, 0, "a", "1");
	assert_index(p, 1, "b", "2");
	assert_absent(p, "nv");
	s = pool_stats(p);
	g_assert_cmpuint(s.records, ==, 5);
	g_assert_cmpuint(s.invalid, ==, 3);
	g_assert_cmpuint(s.keys, ==, 2);
	g_assert_cmpuint(s.duplicates, ==, 0);
	/* never lose a record, not even an invalid one: delete shifts them byte for byte */
	g_assert_cmpint(vmu_kvp_pool_delete(p, "a"), ==, 0);
	b = read_all(f->path);
	g_assert_cmpuint(g_bytes_get_size(b), ==, 4 * REC);
	d = g_bytes_get_data(b, NULL);
	g_assert_cmpmem(d, REC, nokey, REC);
	g_assert_cmpmem(d + REC, REC, novalue, REC);
	g_assert_cmpmem(d + 2 * REC, REC, empty, REC);
	assert_index(p, 0, "b", "2");
	s = pool_stats(p);
	g_assert_cmpuint(s.invalid, ==, 3);
	vmu_kvp_pool_free(p);
}

static void test_not_utf8(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

	append_item(f->path, "bad\xff", "\xc3\x28");
	append_item(f->path, "good", "\xed\xa0\x80"); /* a UTF-8-encoded surrogate */
	append_item(f->path, "fine", "ok");
	p = open_pool(f->path, 0);
	g_assert_cmpuint(pool_count(p), ==, 3);
	g_assert_cmpint(vmu_kvp_pool_get(p, "bad\xff", &r), ==, 0);
	g_assert_cmpuint(r.flags, ==, VMU_KVP_RECORD_KEY_NOT_UTF8 | VMU_KVP_RECORD_VALUE_NOT_UTF8);
	g_assert_cmpstr(r.value, ==, "\xc3\x28");
	g_assert_cmpint(vmu_kvp_pool_get_by_index(p, 1, &r), ==, 0);
	g_assert_cmpuint(r.flags, ==, VMU_KVP_RECORD_VALUE_NOT_UTF8);
	g_assert_cmpint(vmu_kvp_pool_get(p, "fine", &r), ==, 0);
	g_assert_cmpuint(r.flags, ==, 0);
	g_assert_cmpuint(pool_stats(p).not_utf8, ==, 2);
	/* can be deleted by its exact bytes */
	g_assert_cmpint(vmu_kvp_pool_delete(p, "bad\xff"), ==, 0);
	g_assert_cmpuint(pool_count(p), ==, 2);
	vmu_kvp_pool_free(p);
}

/* ------------------------------------------------------------------------------------------
 * Files changed behind the object's back
 * ------------------------------------------------------------------------------------------ */

static void test_truncated_to_zero(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);

	g_assert_cmpint(vmu_kvp_pool_set(p, "a", "1"), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "b", "2"), ==, 0);
	g_assert_cmpuint(pool_count(p), ==, 2);
	g_assert_cmpint(truncate(f->path, 0), ==, 0); /* cloud-init, once per boot */
	g_assert_cmpuint(pool_count(p), ==, 0);
	assert_absent(p, "a");
	g_assert_cmpint(
	    vmu_kvp_pool_get_by_index(p, 0, &(struct vmu_kvp_pool_record)VMU_KVP_POOL_RECORD_INIT),
	    ==, -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_delete(p, "a"), ==, -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_set(p, "c", "3"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, REC);
	assert_index(p, 0, "c", "3");
	vmu_kvp_pool_free(p);
}

static void test_replaced(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	char *tmp = g_build_filename(f->dir, "new", NULL);
	struct vmu_kvp_pool_stats s;

	g_assert_cmpint(vmu_kvp_pool_set(p, "old", "1"), ==, 0);
	append_item(tmp, "fresh", "2");
	g_assert_cmpint(rename(tmp, f->path), ==, 0);
	assert_absent(p, "old");
	s = pool_stats(p);
	g_assert_cmpuint(s.reopens, ==, 1);
	g_assert_cmpint(s.last_reload, ==, VMU_KVP_POOL_RELOAD_REOPENED);
	assert_get(p, "fresh", "2");
	/* our changes go to the file the path names now */
	g_assert_cmpint(vmu_kvp_pool_set(p, "mine", "3"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 2 * REC);

	/* deleted: recreated empty with CREATE ... */
	g_assert_cmpint(unlink(f->path), ==, 0);
	g_assert_cmpuint(pool_count(p), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 0);
	vmu_kvp_pool_free(p);
	/* ... -ENOENT without */
	p = open_pool(f->path, 0);
	g_assert_cmpuint(pool_count(p), ==, 0);
	g_assert_cmpint(unlink(f->path), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_refresh(p), ==, -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "v"), ==, -ENOENT);
	g_assert_cmpint(access(f->path, F_OK), ==, -1);
	/* back again: found again */
	append_item(f->path, "back", "4");
	assert_get(p, "back", "4");
	/* replaced by a directory: a clear error, no crash */
	g_assert_cmpint(unlink(f->path), ==, 0);
	g_assert_cmpint(mkdir(f->path, 0755), ==, 0);
	g_assert_cmpint(
	    vmu_kvp_pool_get(p, "back", &(struct vmu_kvp_pool_record)VMU_KVP_POOL_RECORD_INIT), ==,
	    -EISDIR);
	vmu_kvp_pool_free(p);
	g_free(tmp);
}

/* ------------------------------------------------------------------------------------------
 * Symbolic links and lock deadlines (hostile local users)
 * ------------------------------------------------------------------------------------------ */

/* A link at the pool's path is refused, at open and after the object opened the real file,
 * and what it points at is never created or written. */
static void test_symlink_refused(Fixture *f, gconstpointer data)
{
	g_autofree char *target = g_build_filename(f->dir, "elsewhere", NULL);
	g_autofree char *absent = g_build_filename(f->dir, "absent", NULL);
	struct vmu_kvp_pool_file *p = (void *)0x1;

	append_item(target, "theirs", "1");
	g_assert_cmpint(symlink(target, f->path), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_open(f->path, VMU_KVP_POOL_CREATE, &p), ==, -ELOOP);
	g_assert_cmpint(vmu_kvp_pool_open(f->path, 0, &p), ==, -ELOOP);
	g_assert_true(p == (void *)0x1);
	/* a dangling link: O_CREAT must not create its target */
	g_assert_cmpint(unlink(f->path), ==, 0);
	g_assert_cmpint(symlink(absent, f->path), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_open(f->path, VMU_KVP_POOL_CREATE, &p), ==, -ELOOP);
	g_assert_cmpint(access(absent, F_OK), ==, -1);
	/* replaced by a link after opening: the next change is refused, the target unchanged */
	g_assert_cmpint(unlink(f->path), ==, 0);
	p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	g_assert_cmpint(vmu_kvp_pool_set(p, "mine", "1"), ==, 0);
	g_assert_cmpint(unlink(f->path), ==, 0);
	g_assert_cmpint(symlink(target, f->path), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "mine", "2"), ==, -ELOOP);
	g_assert_cmpint(
	    vmu_kvp_pool_get(p, "theirs", &(struct vmu_kvp_pool_record)VMU_KVP_POOL_RECORD_INIT),
	    ==, -ELOOP);
	g_assert_cmpint(file_size(target), ==, REC);
	/* the link gone and a file back: served again */
	g_assert_cmpint(unlink(f->path), ==, 0);
	assert_absent(p, "mine");
	g_assert_cmpint(vmu_kvp_pool_set(p, "mine", "3"), ==, 0);
	assert_get(p, "mine", "3");
	g_assert_cmpint(file_size(target), ==, REC);
	vmu_kvp_pool_free(p);
}

static char *appender_path(void);

/* A kvp-appender holding one lock on path (see kvp-appender.c: "flock", "fcntl-read",
 * "fcntl-write") until holder_release(). */
struct holder {
	GPid pid;
	int release_fd; /* its stdin */
};

static struct holder holder_start(const char *path, const char *kind)
{
	g_autofree char *helper = appender_path();
	const char *argv[] = {helper, "hold", kind, path, NULL};
	struct holder h;
	char line[8] = "";
	int out;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &h.pid, &h.release_fd, &out, NULL,
					       NULL));
	g_assert_cmpint(read(out, line, 7), ==, 7);
	g_assert_cmpstr(line, ==, "locked\n");
	close(out);
	return h;
}

static void holder_release(struct holder *h)
{
	int status;

	if (h->release_fd >= 0)
		close(h->release_fd);
	g_assert_cmpint(waitpid(h->pid, &status, 0), ==, h->pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Runs op and checks it failed with -ETIMEDOUT no sooner than the deadline and not much
 * later. */
#define ASSERT_TIMES_OUT(op, timeout_ms)                                                           \
	do {                                                                                       \
		gint64 start_ = g_get_monotonic_time();                                            \
		g_assert_cmpint((op), ==, -ETIMEDOUT);                                             \
		g_assert_cmpint(g_get_monotonic_time() - start_, >=, (timeout_ms)*1000);           \
		g_assert_cmpint(g_get_monotonic_time() - start_, <, (timeout_ms)*1000 + 1500000);  \
	} while (0)

static void lock_deadline_body(const char *path)
{
	struct vmu_kvp_pool_file *p = open_pool(path, VMU_KVP_POOL_CREATE);
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	struct holder h;
	pid_t releaser;
	gint64 t0;
	size_t n;

	g_assert_cmpint(vmu_kvp_pool_set_lock_timeout(NULL, 1), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_set_lock_timeout(p, 300000), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "1"), ==, 0);

	/* flock(LOCK_EX) through a read-only fd stops readers and writers alike */
	h = holder_start(path, "flock");
	ASSERT_TIMES_OUT(vmu_kvp_pool_get(p, "k", &rec), 300);
	ASSERT_TIMES_OUT(vmu_kvp_pool_get_by_index(p, 0, &rec), 300);
	ASSERT_TIMES_OUT(vmu_kvp_pool_count(p, &n), 300);
	ASSERT_TIMES_OUT(vmu_kvp_pool_set(p, "k", "2"), 300);
	ASSERT_TIMES_OUT(vmu_kvp_pool_delete(p, "k"), 300);
	holder_release(&h);
	assert_get(p, "k", "1"); /* nothing changed while it timed out */
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "2"), ==, 0);

	/* a shared fcntl lock: reads go on, changes time out */
	h = holder_start(path, "fcntl-read");
	assert_get(p, "k", "2");
	ASSERT_TIMES_OUT(vmu_kvp_pool_set(p, "k", "3"), 300);
	holder_release(&h);
	/* an exclusive fcntl lock stops reads too */
	h = holder_start(path, "fcntl-write");
	ASSERT_TIMES_OUT(vmu_kvp_pool_get(p, "k", &rec), 300);
	holder_release(&h);
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "4"), ==, 0);
	assert_get(p, "k", "4");

	/* a lock released before the deadline is taken: the wait polls, it does not give up.
	 * A helper keeps the holder's release pipe open for 200 ms, then exits. */
	g_assert_cmpint(vmu_kvp_pool_set_lock_timeout(p, 5000000), ==, 0);
	h = holder_start(path, "flock");
	releaser = fork();
	g_assert_cmpint(releaser, >=, 0);
	if (releaser == 0) {
		g_usleep(200000);
		_exit(0);
	}
	close(h.release_fd); /* only the helper's copy keeps the holder waiting now */
	h.release_fd = -1;
	t0 = g_get_monotonic_time();
	g_assert_cmpint(vmu_kvp_pool_set(p, "k", "5"), ==, 0);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 150000);
	g_assert_cmpint(waitpid(releaser, NULL, 0), ==, releaser);
	holder_release(&h);
	assert_get(p, "k", "5");
	vmu_kvp_pool_free(p);
}

/* Run in a subprocess with a time limit: without a deadline in the library the first
 * operation would block for ever, and that must fail the test, not hang it. */
static void test_lock_deadline(Fixture *f, gconstpointer data)
{
	if (g_test_subprocess()) {
		lock_deadline_body(f->path); /* the subprocess has its own fixture */
		return;
	}
	g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

/* Waits until a refresh finds the file clean (no re-read): the index is then trusted. */
static void wait_until_clean(struct vmu_kvp_pool_file *p)
{
	for (int i = 0; i < 10000; i++) {
		int r = vmu_kvp_pool_refresh(p);

		g_assert_cmpint(r, >=, 0);
		if (r == 0)
			break;
		g_usleep(1000);
	}
	g_assert_cmpint(vmu_kvp_pool_refresh(p), ==, 0);
	/* Quiet since the last read (no change notification either), and now also safely
	 * past the last change's timestamp tick: the next check may trust an unchanged stat. */
	g_usleep(30 * 1000);
	g_assert_cmpint(vmu_kvp_pool_refresh(p), ==, 0);
}

static void overwrite_record_keep_mtime(const char *path, off_t slot, const char *key,
					const char *value)
{
	struct stat st;
	struct timespec times[2];
	uint8_t rec[REC];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	raw_record(rec, key, strlen(key), value, strlen(value));
	g_assert_cmpint(pwrite(fd, rec, REC, slot * REC), ==, REC);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	g_assert_cmpint(futimens(fd, times), ==, 0);
	close(fd);
}

static void test_racy_clean(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	struct vmu_kvp_pool_stats s;
	struct stat before, after;
	uint64_t reloads;

	for (int i = 0; i < 50; i++) {
		char k[16];

		g_snprintf(k, sizeof(k), "k%d", i);
		g_assert_cmpint(vmu_kvp_pool_set(p, k, "AAAA"), ==, 0);
	}
	/* read, then overwrite a record in place, same size, mtime restored: within the same
	 * tick only the racy-clean rule can notice */
	assert_get(p, "k7", "AAAA");
	g_assert_cmpint(stat(f->path, &before), ==, 0);
	overwrite_record_keep_mtime(f->path, 7, "k7", "BBBB");
	g_assert_cmpint(stat(f->path, &after), ==, 0);
	g_assert_cmpint(after.st_size, ==, before.st_size);
	g_assert_cmpint(after.st_mtim.tv_nsec, ==, before.st_mtim.tv_nsec);
	assert_get(p, "k7", "BBBB");
	s = pool_stats(p);
	if (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
	    after.st_ctim.tv_nsec == before.st_ctim.tv_nsec) {
		g_test_message("ctime unchanged by the write: seen through the racy-clean rule");
		g_assert_cmpint(s.last_reload, ==, VMU_KVP_POOL_RELOAD_RACY);
	} else {
		g_test_message("ctime moved with the write: seen as a change");
	}

	/* once quiet, the index is trusted: operations do not re-read */
	wait_until_clean(p);
	reloads = pool_stats(p).reloads;
	for (int i = 0; i < 100; i++)
		assert_get(p, "k3", "AAAA");
	assert_index(p, 49, "k49", "AAAA");
	g_assert_cmpuint(pool_stats(p).reloads, ==, reloads);

	/* ... and an in-place rewrite with the mtime restored is still seen (ctime moved) */
	overwrite_record_keep_mtime(f->path, 3, "k3", "CCCC");
	assert_get(p, "k3", "CCCC");
	s = pool_stats(p);
	g_assert_cmpuint(s.reloads, ==, reloads + 1);
	g_assert_cmpint(s.last_reload, ==, VMU_KVP_POOL_RELOAD_CHANGED);

	/* a record rewritten under a different key at the same place, right after our read */
	wait_until_clean(p);
	assert_get(p, "k5", "AAAA");
	overwrite_record_keep_mtime(f->path, 5, "other", "DDDD");
	assert_absent(p, "k5");
	assert_get(p, "other", "DDDD");
	vmu_kvp_pool_free(p);
}

/* A write in the same tick as our read leaves the stat exactly as it was (simulated with the
 * test hook: ctime cannot be set from user space). Values are always read from the file, so
 * what could go stale is the index: a key written over another one's record. */
static void test_racy_same_tick(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);

	for (int i = 0; i < 20; i++) {
		char k[16];

		g_snprintf(k, sizeof(k), "k%d", i);
		g_assert_cmpint(vmu_kvp_pool_set(p, k, "AAAA"), ==, 0);
	}
	/* just read and still within the granularity: racily clean, so re-read */
	assert_get(p, "k7", "AAAA");
	overwrite_record_keep_mtime(f->path, 7, "fresh", "BBBB");
	vmu_kvp_pool_test_pretend_unchanged(p, true);
	assert_get(p, "fresh", "BBBB");
	g_assert_cmpint(pool_stats(p).last_reload, ==, VMU_KVP_POOL_RELOAD_RACY);
	assert_absent(p, "k7");
	/* the control: once the last read is safely after the last change, an unchanged stat
	 * is trusted, which is why the rule above is needed at all (a real file system cannot
	 * produce this: a later write moves ctime past that read) */
	vmu_kvp_pool_test_pretend_unchanged(p, false);
	wait_until_clean(p);
	overwrite_record_keep_mtime(f->path, 8, "newer", "CCCC");
	vmu_kvp_pool_test_pretend_unchanged(p, true);
	assert_absent(p, "newer");
	/* a key that is not where the index says is still caught by the record check */
	assert_absent(p, "k8");
	g_assert_cmpint(pool_stats(p).last_reload, ==, VMU_KVP_POOL_RELOAD_MISMATCH);
	assert_get(p, "newer", "CCCC");
	vmu_kvp_pool_test_pretend_unchanged(p, false);
	vmu_kvp_pool_free(p);
}

/* Our own changes do not make the next operation re-read the file (issue 10: SET in constant
 * time): the change notifications they cause are drained under the lock, so a tight loop of
 * SETs and GETs reads the file once. Writes by others right after ours are still seen, even
 * when they leave the stat as it was. */
static void test_own_writes_no_reload(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	uint64_t reloads;
	char k[16];

	g_assert_cmpint(vmu_kvp_pool_set(p, "first", "v"), ==, 0);
	reloads = pool_stats(p).reloads;
	g_assert_cmpuint(reloads, ==, 1); /* the initial read of the empty file */
	for (int i = 0; i < 200; i++) {
		g_snprintf(k, sizeof(k), "k%d", i % 50);
		g_assert_cmpint(vmu_kvp_pool_set(p, k, i < 50 ? "AAAA" : "BBBB"), ==, 0);
		assert_get(p, k, i < 50 ? "AAAA" : "BBBB");
		assert_index(p, 0, "first", "v");
	}
	g_assert_cmpint(vmu_kvp_pool_delete(p, "k49"), ==, 0);
	assert_absent(p, "k49");
	g_assert_cmpuint(pool_count(p), ==, 50);
	g_assert_cmpuint(pool_stats(p).reloads, ==, reloads);

	/* someone else's in-place rewrite right after our SET, stat apparently unchanged */
	g_assert_cmpint(vmu_kvp_pool_set(p, "k7", "CCCC"), ==, 0);
	overwrite_record_keep_mtime(f->path, 8, "fresh", "DDDD");
	vmu_kvp_pool_test_pretend_unchanged(p, true);
	assert_get(p, "fresh", "DDDD");
	assert_absent(p, "k7");
	vmu_kvp_pool_test_pretend_unchanged(p, false);
	g_assert_cmpuint(pool_stats(p).reloads, ==, reloads + 1);

	/* an append by someone else after our SET is seen too */
	g_assert_cmpint(vmu_kvp_pool_set(p, "k1", "EEEE"), ==, 0);
	append_item(f->path, "appended", "FFFF");
	assert_get(p, "appended", "FFFF");
	assert_get(p, "k1", "EEEE");
	vmu_kvp_pool_free(p);
}

/* After our own change the file's fstat is left to the next lock (one system call less per
 * change): that lock must still tell the file we left, a partial tail included, from one
 * someone changed since. */
static void test_own_change_then_next_lock(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	uint8_t garbage[100];
	uint64_t reloads;

	append_item(f->path, "one", "1");
	append_item(f->path, "two", "2");
	memset(garbage, 'g', sizeof(garbage));
	append_raw(f->path, garbage, sizeof(garbage));
	p = open_pool(f->path, 0);
	assert_get(p, "two", "2");
	reloads = pool_stats(p).reloads;
	/* a modify leaves the tail: the file is as we left it, nothing is re-read */
	g_assert_cmpint(vmu_kvp_pool_set(p, "one", "uno"), ==, 0);
	assert_get(p, "one", "uno");
	g_assert_cmpuint(pool_stats(p).partial_tail, ==, 100);
	/* an append cuts it; a delete shrinks the file */
	g_assert_cmpint(vmu_kvp_pool_set(p, "three", "3"), ==, 0);
	assert_get(p, "three", "3");
	g_assert_cmpint(vmu_kvp_pool_delete(p, "two"), ==, 0);
	assert_absent(p, "two");
	g_assert_cmpuint(pool_count(p), ==, 2);
	g_assert_cmpuint(pool_stats(p).reloads, ==, reloads);
	/* cloud-init's truncation right after our change */
	g_assert_cmpint(vmu_kvp_pool_set(p, "one", "again"), ==, 0);
	g_assert_cmpint(truncate(f->path, 0), ==, 0);
	assert_absent(p, "one");
	g_assert_cmpuint(pool_count(p), ==, 0);
	/* the same length written back by someone right after our change: re-read */
	g_assert_cmpint(vmu_kvp_pool_set(p, "four", "4"), ==, 0);
	g_assert_cmpint(truncate(f->path, 0), ==, 0);
	append_item(f->path, "five", "5");
	assert_absent(p, "four");
	assert_get(p, "five", "5");
	vmu_kvp_pool_free(p);
}

/* ------------------------------------------------------------------------------------------
 * External writers running concurrently
 * ------------------------------------------------------------------------------------------ */

static char *appender_path(void)
{
	const char *builddir = g_getenv("HVGUEST_BUILDDIR");
	g_autofree char *dir = NULL;

	if (builddir)
		return g_build_filename(builddir, "tests", "unit", "kvp-appender", NULL);
	dir = g_path_get_dirname(argv0);
	return g_build_filename(dir, "kvp-appender", NULL);
}

static pid_t spawn_appender(const char *mode, const char *path, const char *prefix, int n)
{
	g_autofree char *helper = appender_path();
	char count[16];
	pid_t pid;

	g_snprintf(count, sizeof(count), "%d", n);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		execl(helper, helper, mode, path, prefix, count, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void wait_ok(pid_t pid)
{
	int status = 0;

	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* Every record whole and valid; every external key exactly once with its value; our keys
 * exactly as the model says. */
static void check_final_file(const char *path, const char *prefix, int n_ext,
			     const char *const *model, int n_model)
{
	g_autoptr(GBytes) b = read_all(path);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	const uint8_t *d = g_bytes_get_data(b, NULL);
	size_t size = g_bytes_get_size(b);
	int n_alive = 0;

	g_assert_cmpuint(size % REC, ==, 0);
	for (size_t off = 0; off < size; off += REC) {
		const char *key = (const char *)d + off;
		const char *value = key + KSZ;

		g_assert_nonnull(memchr(key, 0, KSZ));
		g_assert_nonnull(memchr(value, 0, VSZ));
		g_assert_false(g_hash_table_contains(seen, key));
		g_hash_table_insert(seen, g_strdup(key), g_strdup(value));
	}
	for (int i = 0; i < n_ext; i++) {
		char k[64], v[64];

		g_snprintf(k, sizeof(k), "%s-%d", prefix, i);
		g_snprintf(v, sizeof(v), "value-%d", i);
		g_assert_cmpstr(g_hash_table_lookup(seen, k), ==, v);
	}
	for (int i = 0; i < n_model; i++) {
		char k[64];

		g_snprintf(k, sizeof(k), "own-%d", i);
		g_assert_cmpstr(g_hash_table_lookup(seen, k), ==, model[i]);
		n_alive += model[i] != NULL;
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, (guint)(n_ext + n_alive));
}

#define N_OWN 40

/* Thousands of our own SET/DELETE on keys own-0..39 while the helper writes; the model
 * records what each of our keys must hold at the end (NULL: deleted). */
static void churn(struct vmu_kvp_pool_file *p, int n_ops, const char **model, char vals[][16])
{
	for (int op = 0; op < n_ops; op++) {
		int k = (op * 7) % N_OWN;
		char key[16];

		g_snprintf(key, sizeof(key), "own-%d", k);
		if (op % 5 == 4) {
			int r = vmu_kvp_pool_delete(p, key);

			g_assert_cmpint(r, ==, model[k] ? 0 : -ENOENT);
			model[k] = NULL;
		} else {
			g_snprintf(vals[k], 16, "op%d", op);
			g_assert_cmpint(vmu_kvp_pool_set(p, key, vals[k]), ==, 0);
			model[k] = vals[k];
		}
		if (op % 97 == 0 && model[k]) {
			assert_get(p, key, model[k]);
		}
	}
}

static void run_concurrent(Fixture *f, const char *mode, int n_ext, int n_ops)
{
	struct vmu_kvp_pool_file *p = open_pool(f->path, VMU_KVP_POOL_CREATE);
	const char *model[N_OWN] = {0};
	char vals[N_OWN][16];
	size_t expect = (size_t)n_ext;
	pid_t pid = spawn_appender(mode, f->path, "ext", n_ext);

	churn(p, n_ops, model, vals);
	wait_ok(pid);
	check_final_file(f->path, "ext", n_ext, model, N_OWN);
	for (int i = 0; i < N_OWN; i++)
		expect += model[i] != NULL;
	g_assert_cmpuint(pool_count(p), ==, expect);
	assert_get(p, "ext-0", "value-0");
	vmu_kvp_pool_free(p);
}

static void test_concurrent_append(Fixture *f, gconstpointer data)
{
	run_concurrent(f, "append", 2000, 4000);
}

static void test_concurrent_rewrite(Fixture *f, gconstpointer data)
{
	run_concurrent(f, "rewrite", 300, 3000);
}

/* A snapshot is the whole file in the record layout, read back through the index; it
 * replaces what was there, cuts long values at a character boundary and refuses bad keys
 * without touching the file. */
static void test_write_snapshot(Fixture *f, gconstpointer data)
{
	g_autofree char *long_euro = repeat("€", 700); /* 2100 bytes */
	g_autofree char *k512 = repeat("k", 512);
	struct vmu_kvp_pool_item items[] = {{"A", "1"}, {"B", ""}, {"C", long_euro}};
	struct vmu_kvp_pool_item bad[] = {{"A", "2"}, {k512, "x"}};
	struct vmu_kvp_pool_item empty[] = {{"", "x"}};
	struct vmu_kvp_pool_file *p;
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;
	struct stat st;

	(void)data;
	append_item(f->path, "OLD", "gone");
	g_assert_cmpint(vmu_kvp_pool_write_snapshot(f->path, items, 3), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 3 * REC);
	g_assert_cmpint(stat(f->path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
	p = open_pool(f->path, VMU_KVP_POOL_READ_ONLY);
	g_assert_cmpuint(pool_count(p), ==, 3);
	assert_get(p, "A", "1");
	assert_get(p, "B", "");
	g_assert_cmpint(vmu_kvp_pool_get(p, "OLD", &r), ==, -ENOENT);
	g_assert_cmpint(vmu_kvp_pool_get(p, "C", &r), ==, 0);
	g_assert_cmpuint(r.value_len, ==, 682 * 3); /* 2046 bytes: 2047 would split a "€" */
	g_assert_true(strncmp(r.value, long_euro, r.value_len) == 0);
	vmu_kvp_pool_free(p);

	g_assert_cmpint(vmu_kvp_pool_write_snapshot(f->path, bad, 2), ==, -ENAMETOOLONG);
	g_assert_cmpint(vmu_kvp_pool_write_snapshot(f->path, empty, 1), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_pool_write_snapshot(NULL, items, 1), ==, -EINVAL);
	g_assert_cmpint(file_size(f->path), ==, 3 * REC); /* untouched */
	g_assert_cmpint(vmu_kvp_pool_write_snapshot(f->path, NULL, 0), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 0);
}

/* ------------------------------------------------------------------------------------------
 * The index kept by our own changes (no re-read) against a fresh reader's
 * ------------------------------------------------------------------------------------------ */

/* What p serves, item by item, is what a new object reading the file serves. */
static void assert_same_as_fresh(struct vmu_kvp_pool_file *p, const char *path)
{
	struct vmu_kvp_pool_file *fresh = open_pool(path, VMU_KVP_POOL_READ_ONLY);
	size_t n = pool_count(fresh);
	struct vmu_kvp_pool_stats a, b;

	g_assert_cmpuint(pool_count(p), ==, n);
	for (size_t i = 0; i < n; i++) {
		struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;
		struct vmu_kvp_pool_record q = VMU_KVP_POOL_RECORD_INIT;

		g_assert_cmpint(vmu_kvp_pool_get_by_index(fresh, i, &r), ==, 0);
		g_assert_cmpint(vmu_kvp_pool_get_by_index(p, i, &q), ==, 0);
		g_assert_cmpstr(q.key, ==, r.key);
		g_assert_cmpstr(q.value, ==, r.value);
		g_assert_cmpint(vmu_kvp_pool_get(p, r.key, &q), ==, 0);
		g_assert_cmpstr(q.value, ==, r.value);
	}
	a = pool_stats(p);
	b = pool_stats(fresh);
	g_assert_cmpuint(a.records, ==, b.records);
	g_assert_cmpuint(a.keys, ==, b.keys);
	g_assert_cmpuint(a.duplicates, ==, b.duplicates);
	g_assert_cmpuint(a.invalid, ==, b.invalid);
	vmu_kvp_pool_free(fresh);
}

/* DELETE of the newest key drops it from the ends of the index (no rebuild, no record
 * moved); any other DELETE rebuilds. Random SETs and DELETEs of both kinds over a table
 * with long probe clusters (hundreds of keys, the hash table at most half full), duplicates
 * and an invalid record, the index checked against a fresh reader after each, and no
 * re-read of the file on the way. */
static void test_delete_newest(Fixture *f, gconstpointer data)
{
	struct vmu_kvp_pool_file *p;
	GRand *rand = g_rand_new_with_seed(10);
	uint8_t invalid[REC];
	uint64_t reloads;
	int next = 0;
	char k[32], v[32];

	append_item(f->path, "dup", "1");
	memset(invalid, 'x', sizeof(invalid)); /* no NUL: invalid, kept as it is */
	append_raw(f->path, invalid, REC);
	p = open_pool(f->path, 0);
	for (; next < 300; next++) {
		g_snprintf(k, sizeof(k), "key-%d", next);
		g_assert_cmpint(vmu_kvp_pool_set(p, k, "v"), ==, 0);
	}
	/* the newest key with duplicates after it: all of them go, nothing else moves */
	append_item(f->path, "key-299", "again");
	append_item(f->path, "key-299", "and again");
	assert_get(p, "key-299", "and again");
	reloads = pool_stats(p).reloads;
	g_assert_cmpint(vmu_kvp_pool_delete(p, "key-299"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, 301 * REC);
	assert_absent(p, "key-299");
	assert_same_as_fresh(p, f->path);
	/* the newest key with an older key's duplicate after it: not a tail, rebuilt */
	append_item(f->path, "dup", "2");
	g_assert_cmpint(vmu_kvp_pool_delete(p, "key-298"), ==, 0);
	assert_get(p, "dup", "2");
	assert_same_as_fresh(p, f->path);
	reloads = pool_stats(p).reloads;
	for (int i = 0; i < 600; i++) {
		unsigned what = (unsigned)g_rand_int_range(rand, 0, 4);
		size_t n = pool_count(p);
		struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

		if (what == 0 || n < 3) { /* a new key */
			g_snprintf(k, sizeof(k), "key-%d", next++);
			g_snprintf(v, sizeof(v), "v%d", i);
			g_assert_cmpint(vmu_kvp_pool_set(p, k, v), ==, 0);
		} else if (what == 1) { /* the newest key */
			g_assert_cmpint(vmu_kvp_pool_get_by_index(p, n - 1, &r), ==, 0);
			g_assert_cmpint(vmu_kvp_pool_delete(p, r.key), ==, 0);
			assert_absent(p, r.key);
		} else if (what == 2) { /* any key */
			g_assert_cmpint(vmu_kvp_pool_get_by_index(
					    p, (size_t)g_rand_int_range(rand, 0, (gint32)n), &r),
					==, 0);
			g_assert_cmpint(vmu_kvp_pool_delete(p, r.key), ==, 0);
			assert_absent(p, r.key);
		} else { /* a new value for some key */
			g_assert_cmpint(vmu_kvp_pool_get_by_index(
					    p, (size_t)g_rand_int_range(rand, 0, (gint32)n), &r),
					==, 0);
			g_snprintf(v, sizeof(v), "w%d", i);
			g_assert_cmpint(vmu_kvp_pool_set(p, r.key, v), ==, 0);
		}
		if (i % 7 == 0 || what == 1)
			assert_same_as_fresh(p, f->path);
	}
	assert_same_as_fresh(p, f->path);
	g_assert_cmpuint(pool_stats(p).reloads, ==, reloads);
	/* down to the invalid record and the first key, newest first */
	while (pool_count(p) > 1) {
		struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;

		g_assert_cmpint(vmu_kvp_pool_get_by_index(p, pool_count(p) - 1, &r), ==, 0);
		g_assert_cmpint(vmu_kvp_pool_delete(p, r.key), ==, 0);
	}
	assert_same_as_fresh(p, f->path);
	g_assert_cmpint(vmu_kvp_pool_delete(p, "dup"), ==, 0);
	g_assert_cmpint(file_size(f->path), ==, REC);
	g_assert_cmpuint(pool_count(p), ==, 0);
	g_assert_cmpuint(pool_stats(p).invalid, ==, 1);
	vmu_kvp_pool_free(p);
	g_rand_free(rand);
}

/* A lock whose inotify queue is empty takes no fstat; the path is still looked at, at most
 * every VMU_KVP_POOL_PATH_RECHECK_NS, so a directory renamed above the file, which queues
 * nothing on the file, is still seen once that time has passed. */
static void test_directory_renamed(Fixture *f, gconstpointer data)
{
	g_autofree char *sub = g_build_filename(f->dir, "pools", NULL);
	g_autofree char *moved = g_build_filename(f->dir, "pools.old", NULL);
	g_autofree char *path = g_build_filename(sub, "pool", NULL);
	struct vmu_kvp_pool_file *p;

	g_assert_cmpint(mkdir(sub, 0755), ==, 0);
	append_item(path, "old", "1");
	p = open_pool(path, 0);
	assert_get(p, "old", "1");
	assert_get(p, "old", "1");
	g_assert_cmpint(rename(sub, moved), ==, 0);
	g_assert_cmpint(mkdir(sub, 0755), ==, 0);
	append_item(path, "new", "2");
	g_usleep(2 * VMU_KVP_POOL_PATH_RECHECK_NS / 1000);
	assert_get(p, "new", "2");
	assert_absent(p, "old");
	g_assert_cmpuint(pool_stats(p).reopens, ==, 1);
	vmu_kvp_pool_free(p); /* the fixture removes both directories */
}

int main(int argc, char **argv)
{
	argv0 = argv[0];
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvp-pool/file-name", test_file_name);
	g_test_add_func("/kvp-pool/host-limits", test_host_limits);
	POOL_TEST("write-snapshot", test_write_snapshot);
	POOL_TEST("create-all", test_create_all);
	POOL_TEST("open-errors", test_open_errors);
	POOL_TEST("stats-size", test_stats_size);
	POOL_TEST("record-size", test_record_size);
	POOL_TEST("round-trip", test_round_trip);
	POOL_TEST("limits", test_limits);
	POOL_TEST("duplicates", test_duplicates);
	POOL_TEST("delete-keeps-precedence", test_delete_keeps_precedence);
	POOL_TEST("partial-tail", test_partial_tail);
	POOL_TEST("garbage-after-nul", test_garbage_after_nul);
	POOL_TEST("invalid-records", test_invalid_records);
	POOL_TEST("not-utf8", test_not_utf8);
	POOL_TEST("truncated-to-zero", test_truncated_to_zero);
	POOL_TEST("replaced", test_replaced);
	POOL_TEST("symlink-refused", test_symlink_refused);
	POOL_TEST("lock-deadline", test_lock_deadline);
	POOL_TEST("racy-clean", test_racy_clean);
	POOL_TEST("racy-same-tick", test_racy_same_tick);
	POOL_TEST("own-writes-no-reload", test_own_writes_no_reload);
	POOL_TEST("own-change-then-next-lock", test_own_change_then_next_lock);
	POOL_TEST("concurrent-append", test_concurrent_append);
	POOL_TEST("concurrent-rewrite", test_concurrent_rewrite);
	POOL_TEST("delete-newest", test_delete_newest);
	POOL_TEST("directory-renamed", test_directory_renamed);
	return g_test_run();
}
