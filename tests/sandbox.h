/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a test needs from the machine to isolate itself, and a clean skip when the machine
 * cannot give it: the tests that mount, freeze or change the network do so only in a
 * private mount or network namespace of their own, and a build as an ordinary user, in a
 * chroot (where "/" is not a mount point, so it cannot be made private) or in a container
 * without CAP_SYS_ADMIN or loop devices must skip them with the reason, not fail.
 *
 * Each function returns NULL when the thing is available (or done), else a reason for
 * g_test_skip(). The *_unavailable() probes run in a child process, so that a test that
 * forks its work into a subprocess (g_test_trap_subprocess) can decide before it forks;
 * the sandbox_enter_*() functions change this process.
 *
 * Never share the propagation of a mount namespace with the host: if "/" cannot be made
 * private, the test must not mount anything, so it skips.
 */
#ifndef TESTS_SANDBOX_H
#define TESTS_SANDBOX_H

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	SANDBOX_OK,
	SANDBOX_NOT_ROOT,
	SANDBOX_NO_UNSHARE,
	SANDBOX_NOT_PRIVATE,
};

static inline int sandbox_enter_code(int flags)
{
	if (geteuid() != 0)
		return SANDBOX_NOT_ROOT;
	if (unshare(flags) < 0)
		return SANDBOX_NO_UNSHARE;
	/* In a chroot "/" is no mount point: EINVAL. Mounting anything then could propagate
	 * to the host's namespace. */
	if ((flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return SANDBOX_NOT_PRIVATE;
	return SANDBOX_OK;
}

static inline const char *sandbox_reason(int code, int flags)
{
	switch (code) {
	case SANDBOX_OK:
		return NULL;
	case SANDBOX_NOT_ROOT:
		return (flags & CLONE_NEWNS) ? "needs root for a private mount namespace"
					     : "needs root for a private network namespace";
	case SANDBOX_NO_UNSHARE:
		return (flags & CLONE_NEWNS)
			   ? "unshare(CLONE_NEWNS) refused (no CAP_SYS_ADMIN, or a container)"
			   : "unshare(CLONE_NEWNET) refused (no CAP_SYS_ADMIN, or a container)";
	case SANDBOX_NOT_PRIVATE:
		return "cannot make / a private mount (not a mount point: a chroot?)";
	}
	return "the sandbox probe failed";
}

/* Enters a namespace of its own (flags: CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUTS, ...). */
static inline const char *sandbox_enter(int flags)
{
	return sandbox_reason(sandbox_enter_code(flags), flags);
}

/* Whether sandbox_enter(flags) would work, tried in a child. */
static inline const char *sandbox_unavailable(int flags)
{
	int status = 0;
	pid_t pid;

	if (geteuid() != 0)
		return sandbox_reason(SANDBOX_NOT_ROOT, flags);
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0)
		_exit(sandbox_enter_code(flags));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status))
		return "the sandbox probe failed";
	return sandbox_reason(WEXITSTATUS(status), flags);
}

/* Loop devices: root, /dev/loop-control, and a free device it can give whose node exists
 * here (a chroot's static /dev has none). */
static inline const char *sandbox_loop_unavailable(void)
{
	char node[32];
	int fd, n;

	if (geteuid() != 0)
		return "needs root for loop devices";
	fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "no /dev/loop-control (a chroot or container without loop devices?)";
	n = ioctl(fd, LOOP_CTL_GET_FREE);
	close(fd);
	if (n < 0)
		return "no free loop device";
	snprintf(node, sizeof(node), "/dev/loop%d", n);
	return access(node, R_OK | W_OK) < 0 ? "no loop device node in /dev" : NULL;
}

#endif
