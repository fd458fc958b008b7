/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of daemons/vss/state.c: the crash-safety record in the run directory. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <string.h>

#include "daemons/vss/state.h"

static char *tmp_path(char **dir)
{
	*dir = g_dir_make_tmp("vss-state-XXXXXX", NULL);
	g_assert_nonnull(*dir);
	return g_build_filename(*dir, STATE_FILE_NAME, NULL);
}

static void cleanup(char *dir, char *path)
{
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void test_round_trip(void)
{
	char *dir, *path = tmp_path(&dir);
	struct state_mount *v = NULL;
	size_t n = 99;
	const struct state_mount t[] = {
	    {(char *)"/mnt/a", 31, 2049},
	    {(char *)"/mnt/with space", 32, UINT64_MAX},
	    {(char *)"/mnt/back\\slash", 33, 0},
	    {(char *)"/mnt/new\nline", UINT64_MAX, 7},
	};

	g_assert_cmpint(state_read(path, &v, &n), ==, -ENOENT);
	g_assert_cmpint(state_write(path, t, 4), ==, 0);
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(n, ==, 4);
	for (int i = 0; i < 4; i++) {
		g_assert_cmpstr(v[i].target, ==, t[i].target);
		g_assert_cmpuint(v[i].mnt_id, ==, t[i].mnt_id);
		g_assert_cmpuint(v[i].dev, ==, t[i].dev);
	}
	state_mounts_free(v, n);
	/* rewritten with fewer: the old ones are gone, no temporary file is left */
	g_assert_cmpint(state_write(path, t, 1), ==, 0);
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	state_mounts_free(v, n);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	/* empty: "hooks may have run, nothing frozen" */
	g_assert_cmpint(state_write(path, NULL, 0), ==, 0);
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_nonnull(v);
	state_mounts_free(v, n);
	g_assert_cmpint(state_remove(path), ==, 0);
	g_assert_cmpint(state_remove(path), ==, 0);
	g_assert_cmpint(state_read(path, &v, &n), ==, -ENOENT);
	cleanup(dir, path);
}

/* A record of the version before mount identities: bare mount points, identity unknown. */
static void test_older_record(void)
{
	char *dir, *path = tmp_path(&dir);
	struct state_mount *v = NULL;
	size_t n = 0;

	g_assert_true(g_file_set_contents(path, "# old\n/mnt/a\n12 2049 /mnt/b c\n", -1, NULL));
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(v[0].target, ==, "/mnt/a");
	g_assert_cmpuint(v[0].mnt_id, ==, 0);
	g_assert_cmpstr(v[1].target, ==, "/mnt/b c");
	g_assert_cmpuint(v[1].mnt_id, ==, 12);
	g_assert_cmpuint(v[1].dev, ==, 2049);
	state_mounts_free(v, n);
	cleanup(dir, path);
}

static void expect_bad(const char *content, gssize len, int want)
{
	char *dir, *path = tmp_path(&dir);
	struct state_mount *v = (struct state_mount *)0x1;
	size_t n = 77;

	g_assert_true(g_file_set_contents(path, content, len, NULL));
	g_assert_cmpint(state_read(path, &v, &n), ==, want);
	g_assert_true(v == (struct state_mount *)0x1); /* untouched on failure */
	g_assert_cmpuint(n, ==, 77);
	cleanup(dir, path);
}

static void test_malformed(void)
{
	expect_bad("/mnt/a", -1, -EBADMSG);                          /* no final newline */
	expect_bad("relative\n", -1, -EBADMSG);                      /* not absolute */
	expect_bad("/mnt/a\\x\n", -1, -EBADMSG);                     /* unknown escape */
	expect_bad("/mnt/a\\\n", -1, -EBADMSG);                      /* dangling escape */
	expect_bad("/mnt/a\0b\n", 9, -EBADMSG);                      /* embedded NUL */
	expect_bad("\n", -1, -EBADMSG);                              /* empty line */
	expect_bad("0 1 /mnt/a\n", -1, -EBADMSG);                    /* mount ID 0 */
	expect_bad("-1 1 /mnt/a\n", -1, -EBADMSG);                   /* negative */
	expect_bad("18446744073709551616 1 /mnt/a\n", -1, -EBADMSG); /* overflows */
	expect_bad("5 /mnt/a\n", -1, -EBADMSG);                      /* no st_dev */
	expect_bad("5 99999999999999999999 /m\n", -1, -EBADMSG);     /* st_dev overflows */
	expect_bad("5 1  /mnt/a\n", -1, -EBADMSG);                   /* two spaces */
	expect_bad("5 1 rel\n", -1, -EBADMSG);                       /* not absolute */
	/* a mount point of PATH_MAX + 1 bytes is refused, PATH_MAX is fine */
	g_autofree char *longest = g_strnfill(PATH_MAX, 'a');
	longest[0] = '/';
	g_autofree char *too_long = g_strconcat(longest, "a\n", NULL);
	char *dir, *path = tmp_path(&dir);
	struct state_mount *v = NULL;
	size_t n = 0;
	g_autofree char *ok2 =
	    g_strconcat("18446744073709551615 18446744073709551615 ", longest, "\n", NULL);
	g_assert_true(g_file_set_contents(path, ok2, -1, NULL));
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(strlen(v[0].target), ==, PATH_MAX);
	state_mounts_free(v, n);
	cleanup(dir, path);
	expect_bad(too_long, -1, -EBADMSG);
}

static void test_limits(void)
{
	char *dir, *path = tmp_path(&dir);
	struct state_mount *t = g_new0(struct state_mount, STATE_MAX_ENTRIES + 2), *v = NULL;
	size_t n = 0;

	for (int i = 0; i <= STATE_MAX_ENTRIES; i++)
		t[i] = (struct state_mount){(char *)"/m", i + 1, 1};
	g_assert_cmpint(state_write(path, t, STATE_MAX_ENTRIES + 1), ==, -E2BIG);
	g_assert_cmpint(state_write(path, t, STATE_MAX_ENTRIES), ==, 0);
	g_assert_cmpint(state_read(path, &v, &n), ==, 0);
	g_assert_cmpuint(n, ==, STATE_MAX_ENTRIES);
	state_mounts_free(v, n);
	/* one more line than the limit written by someone else */
	GString *s = g_string_new("# x\n");
	for (int i = 0; i <= STATE_MAX_ENTRIES; i++)
		g_string_append(s, "/m\n");
	g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
	g_string_free(s, TRUE);
	v = NULL;
	g_assert_cmpint(state_read(path, &v, &n), ==, -E2BIG);
	g_assert_null(v);
	g_free(t);
	g_assert_cmpint(state_write("/nonexistent/dir/x", NULL, 0), ==, -ENOENT);
	g_assert_null(state_mounts_free(NULL, 0));
	cleanup(dir, path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vss-state/round-trip", test_round_trip);
	g_test_add_func("/vss-state/older-record", test_older_record);
	g_test_add_func("/vss-state/malformed", test_malformed);
	g_test_add_func("/vss-state/limits", test_limits);
	return g_test_run();
}
