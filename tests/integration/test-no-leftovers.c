/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The integration helpers' promise: a test that fails or is killed never leaves its daemon
 * running. A subprocess starts the real hv-kvpd (waiting for a device that never comes),
 * records its pid, and then dies: by a failed assertion (abort) or by SIGKILL (what a
 * harness timeout does). The parent checks that the daemon is gone within a bound.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static char *pid_file;

static void start_and_record(void)
{
	struct test_env *env = test_env_new(VMU_SERVICE_KVP, NULL);
	struct test_daemon *d = test_daemon_start(env, "daemons/kvp/hv-kvpd", NULL);
	g_autofree char *text = g_strdup_printf("%d", (int)d->pid);

	g_assert_true(g_file_set_contents(pid_file, text, -1, NULL));
	/* the daemon is up and waiting for its device */
	for (int i = 0; i < 500; i++) {
		g_autofree char *log = test_daemon_log(d);
		if (strstr(log, "waiting for"))
			break;
		g_usleep(10 * 1000);
	}
}

/* The pid the subprocess recorded; asserts it is gone within 5 s. */
static void assert_daemon_gone(void)
{
	g_autofree char *text = NULL;
	gint64 pid = 0;

	g_assert_true(g_file_get_contents(pid_file, &text, NULL, NULL));
	g_assert_true(g_ascii_string_to_signed(text, 10, 2, G_MAXINT, &pid, NULL));
	for (int i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
		g_usleep(10 * 1000);
	if (kill((pid_t)pid, 0) == 0) {
		kill((pid_t)pid, SIGKILL); /* do not leave it behind ourselves */
		g_test_fail_printf("the daemon %d outlived the test that started it", (int)pid);
	}
	g_unlink(pid_file);
}

static void test_failed_assertion(void)
{
	if (g_test_subprocess()) {
		start_and_record();
		g_assert_cmpint(1, ==, 2); /* a failing test: abort() */
		return;
	}
	g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	assert_daemon_gone();
}

static void test_killed(void)
{
	if (g_test_subprocess()) {
		start_and_record();
		raise(SIGKILL); /* a harness timeout: no handler runs */
		return;
	}
	g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	assert_daemon_gone();
}

int main(int argc, char **argv)
{
	g_autofree char *dir = NULL;
	int r;

	g_test_init(&argc, &argv, NULL);
	/* one directory, named before the subprocess forks, so both sides know the pid file */
	dir = g_strdup(g_getenv("HVGUEST_NO_LEFTOVERS_DIR"));
	if (!dir) {
		dir = g_dir_make_tmp("test-no-leftovers-XXXXXX", NULL);
		g_setenv("HVGUEST_NO_LEFTOVERS_DIR", dir, TRUE);
	}
	pid_file = g_build_filename(dir, "daemon.pid", NULL);
	g_test_add_func("/no-leftovers/failed-assertion", test_failed_assertion);
	g_test_add_func("/no-leftovers/killed", test_killed);
	r = g_test_run();
	if (!g_test_subprocess())
		g_rmdir(dir);
	g_free(pid_file);
	return r;
}
