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
	char *dir, *path = tmp_path(&dir), **v = NULL;
	const char *const t[] = {"/mnt/a", "/mnt/with space", "/mnt/back\\slash", "/mnt/new\nline"};

	g_assert_cmpint(state_read(path, &v), ==, -ENOENT);
	g_assert_cmpint(state_write(path, t, 4), ==, 0);
	g_assert_cmpint(state_read(path, &v), ==, 0);
	g_assert_cmpuint(g_strv_length(v), ==, 4);
	for (int i = 0; i < 4; i++)
		g_assert_cmpstr(v[i], ==, t[i]);
	state_strv_free(v);
	/* rewritten with fewer: the old ones are gone, no temporary file is left */
	g_assert_cmpint(state_write(path, t, 1), ==, 0);
	g_assert_cmpint(state_read(path, &v), ==, 0);
	g_assert_cmpuint(g_strv_length(v), ==, 1);
	state_strv_free(v);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	/* empty: "hooks may have run, nothing frozen" */
	g_assert_cmpint(state_write(path, NULL, 0), ==, 0);
	g_assert_cmpint(state_read(path, &v), ==, 0);
	g_assert_null(v[0]);
	state_strv_free(v);
	g_assert_cmpint(state_remove(path), ==, 0);
	g_assert_cmpint(state_remove(path), ==, 0);
	g_assert_cmpint(state_read(path, &v), ==, -ENOENT);
	cleanup(dir, path);
}

static void expect_bad(const char *content, gssize len, int want)
{
	char *dir, *path = tmp_path(&dir), **v = (char **)0x1;

	g_assert_true(g_file_set_contents(path, content, len, NULL));
	g_assert_cmpint(state_read(path, &v), ==, want);
	g_assert_true(v == (char **)0x1); /* untouched on failure */
	cleanup(dir, path);
}

static void test_malformed(void)
{
	expect_bad("/mnt/a", -1, -EBADMSG);      /* no final newline */
	expect_bad("relative\n", -1, -EBADMSG);  /* not absolute */
	expect_bad("/mnt/a\\x\n", -1, -EBADMSG); /* unknown escape */
	expect_bad("/mnt/a\\\n", -1, -EBADMSG);  /* dangling escape */
	expect_bad("/mnt/a\0b\n", 9, -EBADMSG);  /* embedded NUL */
	expect_bad("\n", -1, -EBADMSG);          /* empty line */
	/* a line of PATH_MAX + 1 bytes plus newline is refused, PATH_MAX is fine */
	g_autofree char *longest = g_strnfill(PATH_MAX, 'a');
	longest[0] = '/';
	g_autofree char *ok = g_strconcat(longest, "\n", NULL);
	g_autofree char *too_long = g_strconcat(longest, "a\n", NULL);
	char *dir, *path = tmp_path(&dir), **v = NULL;
	g_assert_true(g_file_set_contents(path, ok, -1, NULL));
	g_assert_cmpint(state_read(path, &v), ==, 0);
	g_assert_cmpuint(strlen(v[0]), ==, PATH_MAX);
	state_strv_free(v);
	cleanup(dir, path);
	expect_bad(too_long, -1, -EBADMSG);
}

static void test_limits(void)
{
	char *dir, *path = tmp_path(&dir), **v = NULL;
	const char **t = g_new0(const char *, STATE_MAX_ENTRIES + 2);

	for (int i = 0; i <= STATE_MAX_ENTRIES; i++)
		t[i] = "/m";
	g_assert_cmpint(state_write(path, t, STATE_MAX_ENTRIES + 1), ==, -E2BIG);
	g_assert_cmpint(state_write(path, t, STATE_MAX_ENTRIES), ==, 0);
	g_assert_cmpint(state_read(path, &v), ==, 0);
	g_assert_cmpuint(g_strv_length(v), ==, STATE_MAX_ENTRIES);
	state_strv_free(v);
	/* one more line than the limit written by someone else */
	GString *s = g_string_new("# x\n");
	for (int i = 0; i <= STATE_MAX_ENTRIES; i++)
		g_string_append(s, "/m\n");
	g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
	g_string_free(s, TRUE);
	v = NULL;
	g_assert_cmpint(state_read(path, &v), ==, -E2BIG);
	g_assert_null(v);
	g_free(t);
	g_assert_cmpint(state_write("/nonexistent/dir/x", NULL, 0), ==, -ENOENT);
	g_assert_null(state_strv_free(NULL));
	cleanup(dir, path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vss-state/round-trip", test_round_trip);
	g_test_add_func("/vss-state/malformed", test_malformed);
	g_test_add_func("/vss-state/limits", test_limits);
	return g_test_run();
}
