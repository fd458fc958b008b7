/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helper processes (see hvd-spawn.h).
 *
 * hvd_spawn() uses posix_spawn(). hvd_spawn_fd() needs fexecve(), which posix_spawn()
 * cannot do, so it forks; the child reports a failed exec through a close-on-exec pipe
 * (no bytes: the exec worked), so the caller gets the errno as with posix_spawn().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvd-spawn.h"

extern char **environ;

int hvd_spawn(const char *path, const char *arg, int stdout_fd, int stderr_fd, pid_t *ret_pid)
{
	char *argv[] = {(char *)path, (char *)(arg ? arg : ""), NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, stdout_fd, STDOUT_FILENO);
	if (stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stderr_fd, STDERR_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	r = posix_spawn(ret_pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* In the forked child: the same set-up as hvd_spawn(), then the exec. Only
 * async-signal-safe calls. Never returns. */
static void exec_child(int exec_fd, char *const argv[], int stdout_fd, int stderr_fd, int report)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int null_fd, e;

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL); /* EINVAL for KILL, STOP, libc's own */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 ||
	    (stderr_fd >= 0 && dup2(stderr_fd, STDERR_FILENO) < 0) ||
	    fcntl(exec_fd, F_SETFD, 0) < 0) /* a script's interpreter opens /dev/fd/N */
		e = errno;
	else {
		fexecve(exec_fd, argv, environ);
		e = errno;
	}
	while (write(report, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

int hvd_spawn_fd(int exec_fd, const char *name, const char *arg, int stdout_fd, int stderr_fd,
		 pid_t *ret_pid)
{
	char *argv[] = {(char *)name, (char *)(arg ? arg : ""), NULL};
	int report[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(report[0]);
		close(report[1]);
		return -e;
	}
	if (pid == 0)
		exec_child(exec_fd, argv, stdout_fd, stderr_fd, report[1]);
	close(report[1]);
	(void)setpgid(pid, pid); /* also here: a kill(-pid) right after must reach it */
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		/* the exec failed: the child is exiting, reap it */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -(e > 0 ? e : EIO);
	}
	*ret_pid = pid;
	return 0;
}
