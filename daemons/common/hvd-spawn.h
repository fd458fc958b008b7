/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a helper program (a VSS hook, a KVP compatibility script): direct exec, no shell.
 */
#ifndef HVD_HVD_SPAWN_H
#define HVD_HVD_SPAWN_H

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

#endif
