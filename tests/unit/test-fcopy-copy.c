/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/fcopy/copy.c: the host status of every step, one report per copy,
 * and no temporary file after a failure, CANCEL, a new START or an abort.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemons/fcopy/copy.h"
#include "vmbus-user.h"

struct fixture {
	char *dir;
	struct target_policy p;
	struct copy *c;
	GArray *reports; /* struct copy_report, strings not kept */
	char *last_source, *last_target;
};

static void on_finish(void *userdata, const struct copy_report *r)
{
	struct fixture *f = userdata;

	g_array_append_val(f->reports, *r);
	g_free(f->last_source);
	g_free(f->last_target);
	f->last_source = g_strdup(r->source);
	f->last_target = g_strdup(r->target);
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("fcopy-copy-XXXXXX", NULL);
	f->p = (struct target_policy){.file_mode = 0644,
				      .dir_mode = 0755,
				      .uid = getuid(),
				      .gid = getgid(),
				      .parent_symlinks = TARGET_SYMLINKS_ROOT_OWNED,
				      .preallocate = true};
	f->reports = g_array_new(FALSE, TRUE, sizeof(struct copy_report));
	g_assert_cmpint(copy_new(on_finish, f, &f->c), ==, 0);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	g_autoptr(GDir) d = NULL;
	const char *n;

	copy_free(f->c);
	d = g_dir_open(f->dir, 0, NULL);
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(f->dir, n, NULL);
		g_unlink(p);
	}
	g_rmdir(f->dir);
	g_free(f->dir);
	g_array_free(f->reports, TRUE);
	g_free(f->last_source);
	g_free(f->last_target);
}

static struct copy_report *last(struct fixture *f)
{
	g_assert_cmpuint(f->reports->len, >, 0);
	return &g_array_index(f->reports, struct copy_report, f->reports->len - 1);
}

static guint entries(struct fixture *f)
{
	g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
	guint n = 0;

	while (g_dir_read_name(d))
		n++;
	return n;
}

static void test_complete(struct fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "f", NULL);
	g_autofree char *got = NULL;
	struct copy_progress pr;

	g_assert_false(copy_get_progress(f->c, &pr));
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", 0, 8), ==, VMU_S_OK);
	g_assert_true(copy_active(f->c));
	g_assert_cmphex(copy_write(f->c, 0, "abcd", 4), ==, VMU_S_OK);
	g_assert_true(copy_get_progress(f->c, &pr));
	g_assert_cmpuint(pr.done, ==, 4);
	g_assert_cmpuint(pr.total, ==, 8);
	g_assert_cmpstr(pr.source, ==, "f");
	g_assert_cmpstr(pr.target, ==, path);
	g_assert_cmphex(copy_write(f->c, 4, "efgh", 4), ==, VMU_S_OK);
	g_assert_cmpuint(f->reports->len, ==, 0);
	g_assert_cmphex(copy_complete(f->c), ==, VMU_S_OK);
	g_assert_false(copy_active(f->c));
	g_assert_cmpuint(f->reports->len, ==, 1);
	g_assert_cmpint(last(f)->result, ==, COPY_COMPLETED);
	g_assert_cmpuint(last(f)->size, ==, 8);
	g_assert_cmpuint(last(f)->written, ==, 8);
	g_assert_cmpstr(f->last_source, ==, "f");
	g_assert_cmpstr(f->last_target, ==, path);
	g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, "abcdefgh");
	/* nothing in progress now */
	g_assert_cmphex(copy_write(f->c, 0, "x", 1), ==, VMU_E_FAIL);
	g_assert_cmphex(copy_complete(f->c), ==, VMU_E_FAIL);
	g_assert_cmphex(copy_cancel(f->c), ==, VMU_E_FAIL); /* nothing to cancel */
	g_assert_cmpuint(f->reports->len, ==, 1);
}

static void test_start_errors(struct fixture *f, gconstpointer data)
{
	g_autofree char *missing = g_build_filename(f->dir, "missing", NULL);

	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", 0, 0), ==, VMU_S_OK);
	g_assert_cmphex(copy_complete(f->c), ==, VMU_S_OK);
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", 0, 0), ==, VMU_ERROR_ALREADY_EXISTS);
	g_assert_cmpint(last(f)->result, ==, COPY_FAILED);
	g_assert_cmpint(last(f)->error, ==, -EEXIST);
	g_assert_cmpstr(last(f)->what, ==, "start");
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", VMU_FCOPY_OVER_WRITE, 0), ==,
			VMU_S_OK);
	g_assert_cmphex(copy_complete(f->c), ==, VMU_S_OK);
	g_assert_cmphex(copy_start(f->c, &f->p, missing, "f", 0, 0), ==, VMU_E_FAIL);
	g_assert_cmpint(last(f)->error, ==, -ENOENT);
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "big", 0, UINT64_C(1) << 52), ==,
			VMU_ERROR_DISK_FULL);
	g_assert_cmphex(copy_start(f->c, &f->p, "relative", "f", 0, 0), ==, VMU_E_FAIL);
	g_assert_false(copy_active(f->c));
	g_assert_cmpuint(f->reports->len, ==, 6);
	g_assert_cmpuint(entries(f), ==, 1);
}

static void test_write_errors(struct fixture *f, gconstpointer data)
{
	/* past the announced size: refused and the copy ends, nothing left */
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", 0, 4), ==, VMU_S_OK);
	g_assert_cmphex(copy_write(f->c, 2, "abc", 3), ==, VMU_E_FAIL);
	g_assert_cmpint(last(f)->result, ==, COPY_FAILED);
	g_assert_cmpstr(last(f)->what, ==, "write");
	g_assert_false(copy_active(f->c));
	g_assert_cmpuint(entries(f), ==, 0);
	/* COMPLETE before the data reached the announced size */
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "f", 0, 4), ==, VMU_S_OK);
	g_assert_cmphex(copy_write(f->c, 0, "abc", 3), ==, VMU_S_OK);
	g_assert_cmphex(copy_complete(f->c), ==, VMU_E_FAIL);
	g_assert_cmpstr(last(f)->what, ==, "complete");
	g_assert_cmpuint(last(f)->written, ==, 3);
	g_assert_cmpuint(entries(f), ==, 0);
}

static void test_cancel_supersede_abort(struct fixture *f, gconstpointer data)
{
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "a", 0, 4), ==, VMU_S_OK);
	g_assert_cmphex(copy_write(f->c, 0, "ab", 2), ==, VMU_S_OK);
	g_assert_cmphex(copy_cancel(f->c), ==, VMU_S_OK);
	g_assert_cmpint(last(f)->result, ==, COPY_CANCELLED);
	g_assert_cmphex(last(f)->status, ==, VMU_S_OK);
	g_assert_cmpuint(entries(f), ==, 0);

	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "a", 0, 4), ==, VMU_S_OK);
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "b", 0, 1), ==, VMU_S_OK);
	g_assert_cmpuint(f->reports->len, ==, 2);
	g_assert_cmpint(last(f)->result, ==, COPY_SUPERSEDED);
	g_assert_cmpstr(f->last_source, ==, "a");
	g_assert_cmpuint(entries(f), ==, 0);

	copy_abort(f->c, COPY_DISCONNECTED);
	g_assert_cmpint(last(f)->result, ==, COPY_DISCONNECTED);
	g_assert_cmpstr(f->last_source, ==, "b");
	g_assert_cmpuint(entries(f), ==, 0);
	copy_abort(f->c, COPY_DISCONNECTED); /* nothing to abort: no report */
	g_assert_cmpuint(f->reports->len, ==, 3);

	/* freeing with a copy in progress reports it too */
	g_assert_cmphex(copy_start(f->c, &f->p, f->dir, "c", 0, 1), ==, VMU_S_OK);
	f->c = copy_free(f->c);
	g_assert_cmpuint(f->reports->len, ==, 4);
	g_assert_cmpint(last(f)->result, ==, COPY_DISCONNECTED);
	g_assert_cmpuint(entries(f), ==, 0);
}

static void test_status_map(void)
{
	g_assert_cmphex(copy_status_for_error(0), ==, VMU_S_OK);
	g_assert_cmphex(copy_status_for_error(-EEXIST), ==, VMU_ERROR_ALREADY_EXISTS);
	g_assert_cmphex(copy_status_for_error(-ENOSPC), ==, VMU_ERROR_DISK_FULL);
	g_assert_cmphex(copy_status_for_error(-EDQUOT), ==, VMU_ERROR_DISK_FULL);
	g_assert_cmphex(copy_status_for_error(-ELOOP), ==, VMU_E_FAIL);
	g_assert_cmphex(copy_status_for_error(-EPERM), ==, VMU_E_FAIL);
	g_assert_cmpstr(copy_result_name(COPY_COMPLETED), ==, "completed");
	g_assert_cmpstr(copy_result_name(COPY_DISCONNECTED), ==, "disconnected");
	g_assert_cmpstr(copy_result_name(_COPY_RESULT_MAX), ==, "unknown");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/fcopy-copy/complete", struct fixture, NULL, setup, test_complete, teardown);
	g_test_add("/fcopy-copy/start-errors", struct fixture, NULL, setup, test_start_errors,
		   teardown);
	g_test_add("/fcopy-copy/write-errors", struct fixture, NULL, setup, test_write_errors,
		   teardown);
	g_test_add("/fcopy-copy/cancel-supersede-abort", struct fixture, NULL, setup,
		   test_cancel_supersede_abort, teardown);
	g_test_add_func("/fcopy-copy/status-map", test_status_map);
	return g_test_run();
}
