/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/state-file.c: the file hvguestctl reads is valid JSON (also
 * with quotes, backslashes and control bytes in the strings, which host file names and
 * mount points can carry), world-readable whatever the umask, replaced atomically (no
 * temporary file left), and written into a run directory that does not exist yet.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "state-file.h"

static const char *get_string(json_object *o, const char *key)
{
	json_object *v = NULL;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static void test_write(void)
{
	g_autofree char *dir = g_dir_make_tmp("state-file-XXXXXX", NULL);
	g_autofree char *run = g_build_filename(dir, "run", NULL); /* not there yet */
	g_autofree char *path = g_build_filename(run, "fcopy.state.json", NULL);
	g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
	g_autofree char *text = NULL;
	const char *odd = "a \"quoted\" \\ name\nwith\ttabs\x01 and \x7f";
	struct hvd_state_info info = {
	    .service = "fcopy",
	    .program = "hv-fcopyd",
	    .state = "connected",
	    .status = odd,
	    .started = 1700000000123456,
	    .requests = 42,
	    .details = "{\"x\": 1}",
	};
	json_object *o, *v = NULL;
	struct stat st;
	mode_t old = umask(077);

	g_assert_cmpint(hvd_state_write(run, &info), ==, 0);
	info.requests = 43;
	g_assert_cmpint(hvd_state_write(run, &info), ==, 0); /* replaces */
	umask(old);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0644);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	o = json_tokener_parse(text);
	g_assert_nonnull(o);
	g_assert_cmpstr(get_string(o, "status"), ==, odd);
	g_assert_cmpstr(get_string(o, "service"), ==, "fcopy");
	g_assert_true(json_object_object_get_ex(o, "requests", &v));
	g_assert_cmpint(json_object_get_int(v), ==, 43);
	g_assert_true(json_object_object_get_ex(o, "started", &v));
	g_assert_cmpfloat_with_epsilon(json_object_get_double(v), 1700000000.123456, 1e-5);
	g_assert_true(json_object_object_get_ex(o, "version", &v));
	g_assert_null(v); /* unknown: null */
	g_assert_true(json_object_object_get_ex(o, "details", &v));
	g_assert_true(json_object_is_type(v, json_type_object));
	json_object_put(o);
	g_unlink(path);
	g_rmdir(run);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/state-file/write", test_write);
	return g_test_run();
}
