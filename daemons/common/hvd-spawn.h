/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a helper program (a VSS hook, a KVP compatibility script, a network configuration
 * tool): direct exec, no shell; hvd_run() for one that is run to its end with its output
 * captured under a deadline; and making sure that nothing it started outlives it.
 */
#ifndef HVD_HVD_SPAWN_H
#define HVD_HVD_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* Starts path with one argument (NULL: ""): stdin /dev/null, stdout to stdout_fd, stderr to
 * stderr_fd (-1: inherited), its own process group (kill(-pid) reaches whatever it starts),
 * an empty signal mask and default dispositions whatever the daemon uses. -errno on
 * failure (-ENOENT, -EACCES, ...). */
int hvd_spawn(const char *path, const char *arg, int stdout_fd, int stderr_fd, pid_t *ret_pid);

/* The same for the file open at exec_fd (fexecve(), argv[0] = name): what runs is the file
 * the caller opened and checked, whatever its path leads to by then. A script ("#!") is
 * read by its interpreter through /dev/fd/N, so exec_fd is inherited by the helper
 * (read-only; it is its own file) and /proc must be mounted. -errno of the exec on
 * failure (-ENOEXEC, -EACCES, -ENOENT: no /proc for a script, ...). */
int hvd_spawn_fd(int exec_fd, const char *name, const char *arg, int stdout_fd, int stderr_fd,
		 pid_t *ret_pid);

/* hvd_run() flags. */
#define HVD_RUN_STDERR (1u << 0) /* stderr goes into the output too (else: inherited) */
/* Past max_output, keep reading and drop the rest, and let the program run on (else: kill
 * its process group and cut the output after its last complete line within the bound). */
#define HVD_RUN_DRAIN (1u << 1)

/* The one child-process runner: runs argv[0] (a path, no PATH search, no shell) with argv,
 * set up as hvd_spawn() does (stdin /dev/null, its own process group, clean signal state),
 * and captures its stdout, at most max_output bytes (see HVD_RUN_DRAIN for what happens
 * past them). At deadline_usec (CLOCK_MONOTONIC, now_usec()) its process group is killed,
 * also when it closed its stdout but has not exited, and the call fails with -ETIME. Once
 * it exits normally, whatever it left in its process group is not killed.
 * ret_output (optional, free(); g_free() too, GLib >= 2.46 allocating with malloc): the
 * output, NUL-terminated; ret_status (optional): its
 * exit code 0..255, or 128 + the signal that ended it (SIGKILL after an overflow). Returns
 * 0, -ETIME, or -errno of the spawn (-ENOENT, -EACCES, -ENOEXEC, ...), pipe or wait; the
 * ret_ parameters are untouched on failure. */
int hvd_run(const char *const *argv, unsigned flags, uint64_t deadline_usec, size_t max_output,
	    char **ret_output, int *ret_status);

/* Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER): descendants of a helper
 * that lose their parent (a double fork, setsid() and exit) become children of this
 * process instead of init's, where hvd_kill_children() finds them. */
int hvd_become_subreaper(void);

/* SIGKILLs every child of this process but `except` (0: none; a helper whose exit is being
 * handled and whose zombie its watcher reaps) and reaps it, again for the orphans that
 * killing them hands to us, within timeout_usec in all (one stuck in the kernel, say on a
 * frozen file system, is left for a later call). Only for a process whose children are all
 * helpers started by hvd_spawn*(). Returns how many were killed, or -errno. */
int hvd_kill_children(pid_t except, uint64_t timeout_usec);

#endif
