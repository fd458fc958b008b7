/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netstack.h: starting and stopping the real network stacks (NetworkManager, networkd) and
 * their private dbus-daemon in the SET_IP_INFO tests, one way for all of them.
 */
#ifndef HVGUEST_TESTS_NETSTACK_H
#define HVGUEST_TESTS_NETSTACK_H

#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts argv[0] with stdin from /dev/null and stdout and stderr appended to log_path,
 * killed when the test dies. env: NULL or a NULL-terminated list of "NAME=value" to set in
 * the child, or "NAME" to unset. Returns its pid. */
static inline pid_t netstack_spawn(const char *const *argv, const char *log_path,
				   const char *const *env)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pid_t pid;

	g_assert_cmpint(fd, >=, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		for (const char *const *e = env; e && *e; e++) {
			const char *eq = strchr(*e, '=');

			if (eq) {
				char *name = strndup(*e, (size_t)(eq - *e));

				if (!name || setenv(name, eq + 1, 1) < 0)
					_exit(127);
				free(name);
			} else
				unsetenv(*e);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

/* SIGTERM, up to 10 s for it to exit, then SIGKILL; *pid becomes -1. Nothing when *pid is
 * not a process (0 or -1). */
static inline void netstack_stop(pid_t *pid)
{
	int status;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = -1;
			return;
		}
		g_usleep(10 * 1000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &status, 0);
	*pid = -1;
}

#endif
