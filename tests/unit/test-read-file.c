/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/read-file.c: what read_small_file() makes of each kind of
 * thing that can sit at a path other programs control. Files that would block or never end
 * (a FIFO without a writer, /dev/zero) must give an error at once; the test runs in a
 * subprocess with a time limit so that a regression fails instead of hanging.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read-file.h"

static char *tmpdir;

static char *tmp_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static void test_regular(void)
{
	g_autofree char *path = tmp_path("small");
	g_autofree char *link = tmp_path("link");
	char *text = (char *)"untouched";
	size_t len = 77;

	g_assert_true(g_file_set_contents(path, "a=1\nb=2\n", -1, NULL));
	g_assert_cmpint(read_small_file(path, 8, &text, &len), ==, 0);
	g_assert_cmpstr(text, ==, "a=1\nb=2\n");
	g_assert_cmpuint(len, ==, 8);
	free(text);
	/* one byte over the bound is refused, outputs untouched */
	text = (char *)"untouched";
	g_assert_cmpint(read_small_file(path, 7, &text, &len), ==, -EFBIG);
	g_assert_cmpstr(text, ==, "untouched");
	g_assert_cmpuint(len, ==, 8);
	/* empty file; ret_len is optional */
	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	g_assert_cmpint(read_small_file(path, 0, &text, NULL), ==, 0);
	g_assert_cmpstr(text, ==, "");
	free(text);
	/* symbolic links are followed (/etc/resolv.conf and /etc/os-release are links) */
	g_assert_true(g_file_set_contents(path, "x", -1, NULL));
	g_assert_cmpint(symlink(path, link), ==, 0);
	g_assert_cmpint(read_small_file(link, 16, &text, NULL), ==, 0);
	g_assert_cmpstr(text, ==, "x");
	free(text);
	g_unlink(link);
	g_unlink(path);
}

static void not_regular_body(void)
{
	g_autofree char *fifo = tmp_path("fifo");
	g_autofree char *missing = tmp_path("missing");
	char *text = (char *)"untouched";

	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_assert_cmpint(read_small_file(fifo, 1024, &text, NULL), ==, -EINVAL);
	g_assert_cmpint(read_small_file("/dev/zero", 1024, &text, NULL), ==, -EINVAL);
	g_assert_cmpint(read_small_file("/dev/null", 1024, &text, NULL), ==, -EINVAL);
	g_assert_cmpint(read_small_file(tmpdir, 1024, &text, NULL), ==, -EISDIR);
	g_assert_cmpint(read_small_file(missing, 1024, &text, NULL), ==, -ENOENT);
	g_assert_cmpint(read_small_file(NULL, 1024, &text, NULL), ==, -EINVAL);
	g_assert_cmpstr(text, ==, "untouched");
	g_unlink(fifo);
}

static void test_not_regular(void)
{
	if (g_test_subprocess()) {
		not_regular_body();
		return;
	}
	g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("hvguest-read-file-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/read-file/regular", test_regular);
	g_test_add_func("/read-file/not-regular", test_not_regular);
	r = g_test_run();
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
