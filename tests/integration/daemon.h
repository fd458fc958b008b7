/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helpers: a private temporary directory with a daemon config that points
 * every path into it, and a daemon process started from the build tree and stopped with
 * bounded waits, so a broken daemon fails a test instead of hanging it.
 */
#ifndef TEST_DAEMON_H
#define TEST_DAEMON_H

#include <glib.h>
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
 * be NULL), -ETIMEDOUT while it runs on, or -errno when it cannot be watched (ESRCH). */
int test_pid_wait(pid_t pid, int timeout_ms, int *ret_status);
/* Waits for exit without signalling; -1 on timeout. */
int test_daemon_wait(struct test_daemon *d, int timeout_ms);
/* The daemon's stderr so far (g_free). */
char *test_daemon_log(const struct test_daemon *d);
/* How many times text occurs in it. */
unsigned test_daemon_log_count(const struct test_daemon *d, const char *text);
/* Sends SIGHUP and waits until text occurs once more in the log than before ("reloaded
 * the configuration", "configuration was refused"); fails the test after 10 s. */
void test_daemon_reload(const struct test_daemon *d, const char *text);
void test_daemon_free(struct test_daemon *d);

/* Daemons started after this get sig when the process that started them dies (default
 * SIGKILL; 0: off). Besides, daemons still running when the test aborts (a failed assertion)
 * or exits are killed by pid: a failing test never leaves its daemon behind. */
void test_daemon_set_parent_death_signal(int sig);
/* Daemons started after this get NOTIFY_SOCKET=path (NULL: none, the default). */
void test_daemon_set_notify_socket(const char *path);

/* Daemons started after this get NOTIFY_SOCKET=path (NULL: none, the default), so a test
 * can see what they tell systemd. */
void test_daemon_set_notify_socket(const char *path);
/* A datagram socket bound at path, for NOTIFY_SOCKET (close it). */
int test_notify_listen(const char *path);
/* Appends the datagrams arriving on fd to seen, one a line, until seen holds want or
 * timeout_ms pass; false on timeout. */
bool test_notify_wait(int fd, GString *seen, const char *want, int timeout_ms);

/* A datagram socket bound at env->dir/journal.sock, standing in for the journal: give the
 * daemon log-target=journal and journal-socket=*ret_path. Returns the fd. */
int test_journal_listen(const struct test_env *env, char **ret_path);
/* Receives records until one has, for each string of want (NULL-terminated), a line that
 * starts with it ("MESSAGE_ID=...", "HVGUEST_FCOPY_RESULT=completed", "HVGUEST_KVP_USEC=");
 * idle(userdata) runs while nothing is waiting (e.g. the simulated host's loop; may be
 * NULL). false when timeout_ms passes first. */
bool test_journal_wait(int fd, const char *const *want, int timeout_ms, void (*idle)(void *),
		       void *userdata);

/* Runs argv (looked up in PATH) with its output discarded: its exit status, 128 when it
 * was killed, -1 when it could not be started. */
int test_run_quiet(const char *const *argv);
/* Fills the file system under dir with dir/filler until not one more byte fits. */
void test_fill_up(const char *dir);

/* Path of a built program: $HVGUEST_BUILDDIR/relpath (g_free). */
char *test_build_path(const char *relpath);

/* A hostile local user: tests/unit/kvp-appender holding one lock on path ("flock": LOCK_EX
 * on a read-only fd; "fcntl-read": a whole-file F_RDLCK; "fcntl-write": F_WRLCK) as uid
 * 65534 when the test runs as root (checked), as the test's user otherwise. Returns once
 * the lock is held; the lock goes with test_lock_holder_release(). */
struct test_lock_holder {
	pid_t pid;
	int release_fd; /* the holder's stdin */
};
struct test_lock_holder test_lock_holder_start(const char *path, const char *kind);
void test_lock_holder_release(struct test_lock_holder *h);

#endif
