/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helpers: a private temporary directory with a daemon config that points
 * every path into it, and a daemon process started from the build tree and stopped with
 * bounded waits, so a broken daemon fails a test instead of hanging it.
 */
#ifndef TEST_DAEMON_H
#define TEST_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmbus-user.h"

struct test_env {
	char *dir;         /* temporary directory, removed by test_env_free */
	char *socket_path; /* dir/<service>.sock */
	char *device;      /* "unix:" socket_path */
	char *config_path; /* dir/hvguest.conf */
	char *state_dir, *run_dir;
	enum vmu_service service;
};

/* Creates the directory and writes a config whose [section] has the device, state-dir,
 * run-dir, log-target=stderr and the extra lines given (may be NULL). */
struct test_env *test_env_new(enum vmu_service service, const char *extra_config);
/* The same in an existing directory (a test's subprocess taking over its parent's; the
 * state and run directories are made if missing). test_env_free removes dir. */
struct test_env *test_env_new_in(const char *dir, enum vmu_service service,
				 const char *extra_config);
void test_env_free(struct test_env *env);
/* Rewrites the config with other extra lines. */
void test_env_write_config(struct test_env *env, const char *extra_config);

struct test_daemon {
	pid_t pid;
	char *log_path; /* the daemon's stderr */
};

/* Starts BUILDDIR/program (e.g. "daemons/kvp/hv-kvpd") with -n --config and the extra
 * arguments (NULL-terminated). */
struct test_daemon *test_daemon_start(const struct test_env *env, const char *program,
				      const char *const *extra_args);
/* Sends sig and waits at most timeout_ms for the exit; returns the wait status, or -1 on
 * timeout (the process is then killed with SIGKILL). */
int test_daemon_stop(struct test_daemon *d, int sig, int timeout_ms);
/* Waits at most timeout_ms for the child pid to exit: 0 and its wait status (ret_status may
 * be NULL), or -ETIMEDOUT while it runs on. */
int test_pid_wait(pid_t pid, int timeout_ms, int *ret_status);
/* Waits for exit without signalling; -1 on timeout. */
int test_daemon_wait(struct test_daemon *d, int timeout_ms);
/* The daemon's stderr so far (g_free). */
char *test_daemon_log(const struct test_daemon *d);
void test_daemon_free(struct test_daemon *d);

/* Daemons started after this get sig when the process that started them dies (0: off), so
 * a test subprocess that fails never leaves its daemon behind. */
void test_daemon_set_parent_death_signal(int sig);

/* Runs argv (looked up in PATH) with its output discarded: its exit status, 128 when it
 * was killed, -1 when it could not be started. */
int test_run_quiet(const char *const *argv);
/* Fills the file system under dir with dir/filler until not one more byte fits. */
void test_fill_up(const char *dir);

/* Path of a built program: $HVGUEST_BUILDDIR/relpath (g_free). */
char *test_build_path(const char *relpath);

#endif
