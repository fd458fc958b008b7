/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helper processes (see hvd-spawn.h).
 *
 * hvd_spawn() uses posix_spawn(). hvd_run() is the one runner for a program whose output a
 * daemon needs (the KVP compatibility scripts, the SET_IP_INFO tools): hvd_spawn()'s set-up,
 * a pipe, a bounded read under a deadline (poll), then a wait for its exit under the same
 * deadline (a pidfd), and a kill of its process group on overflow or timeout. hvd_spawn_fd() needs fexecve(), which posix_spawn()
 * cannot do, so it forks; the child reports a failed exec through a close-on-exec pipe
 * (no bytes: the exec worked), so the caller gets the errno as with posix_spawn().
 *
 * A process group does not hold a helper's descendants: one that calls setsid() leaves
 * it, and kill(-pgid) misses it. As a child subreaper the daemon inherits every such
 * orphan once its parent is gone, so after a helper has been waited for, whatever is
 * still a child of the daemon is a leftover of a helper; hvd_kill_children() finds them in
 * /proc (ppid) and kills them. What a helper asks another service to start (systemd-run,
 * at) is out of reach of this, and of a cgroup too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvd-spawn.h"
#include "shared/time-util.h"

extern char **environ;

static int spawn_argv(char *const argv[], int stdout_fd, int stderr_fd, pid_t *ret_pid)
{
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
	r = posix_spawn(ret_pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

int hvd_spawn(const char *path, const char *arg, int stdout_fd, int stderr_fd, pid_t *ret_pid)
{
	char *argv[] = {(char *)path, (char *)(arg ? arg : ""), NULL};

	return spawn_argv(argv, stdout_fd, stderr_fd, ret_pid);
}

/* ---------------------------------------------------------------- hvd_run() */

static int ms_until(uint64_t now, uint64_t deadline)
{
	return (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT_MAX);
}

/* The captured output: at most max + one read's worth of bytes, always NUL-terminated. */
struct output {
	char *data;
	size_t len, cap;
};

static int output_append(struct output *o, const char *buf, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = MAX(o->cap * 2, o->len + n + 1);
		char *data = realloc(o->data, cap);

		if (!data)
			return -ENOMEM;
		o->data = data;
		o->cap = cap;
	}
	memcpy(o->data + o->len, buf, n);
	o->len += n;
	o->data[o->len] = '\0';
	return 0;
}

/* Reads fd until EOF, the deadline, or (without HVD_RUN_DRAIN) more than max bytes.
 * 1: EOF, 0: over the bound, -ETIME, -errno. */
static int read_bounded(int fd, unsigned flags, uint64_t deadline, size_t max, struct output *out)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_usec();
		char buf[1024];
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIME;
		r = poll(&p, 1, ms_until(now, deadline));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n == 0)
			return 1;
		if (n < 0)
			continue;
		if (!(flags & HVD_RUN_DRAIN)) {
			r = output_append(out, buf, (size_t)n);
			if (r < 0)
				return r;
			if (out->len > max)
				return 0;
		} else if (out->len < max) {
			r = output_append(out, buf, MIN((size_t)n, max - out->len));
			if (r < 0)
				return r;
		}
	}
}

/* Waits for pid until the deadline: 0 and its wait status, -ETIME when it still runs
 * (not reaped), -errno. A pidfd wakes us when it exits; without one (kernel < 5.3) we poll. */
static int wait_deadline(pid_t pid, uint64_t deadline, int *ret_status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), r;

	for (;;) {
		pid_t w = waitpid(pid, ret_status, WNOHANG);
		uint64_t now;

		if (w == pid) {
			r = 0;
			break;
		}
		if (w < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		now = now_usec();
		if (now >= deadline) {
			r = -ETIME;
			break;
		}
		if (pidfd >= 0)
			(void)poll(&(struct pollfd){.fd = pidfd, .events = POLLIN}, 1,
				   ms_until(now, deadline));
		else
			nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
	}
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

/* SIGKILLs pid's process group and reaps pid. */
static void kill_reap(pid_t pid, int *ret_status)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
		;
}

static void cut_at_last_line(struct output *out, size_t max)
{
	const char *nl;

	out->len = MIN(out->len, max);
	nl = memrchr(out->data, '\n', out->len);
	out->len = nl ? (size_t)(nl - out->data) + 1 : 0;
	out->data[out->len] = '\0';
}

int hvd_run(const char *const *argv, unsigned flags, uint64_t deadline_usec, size_t max_output,
	    char **ret_output, int *ret_status)
{
	struct output out = {};
	int fds[2], r, status = 0;
	pid_t pid;

	if (!argv || !argv[0] || (flags & ~(HVD_RUN_STDERR | HVD_RUN_DRAIN)))
		return -EINVAL;
	r = output_append(&out, "", 0);
	if (r < 0)
		return r;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		free(out.data);
		return r;
	}
	r = spawn_argv((char *const *)argv, fds[1], (flags & HVD_RUN_STDERR) ? fds[1] : -1, &pid);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		free(out.data);
		return r;
	}
	r = read_bounded(fds[0], flags, deadline_usec, max_output, &out);
	if (r == 1) {
		/* EOF: it is done, or closed its stdout and runs on until the deadline */
		close(fds[0]);
		r = wait_deadline(pid, deadline_usec, &status);
		if (r < 0)
			kill_reap(pid, &status);
	} else {
		/* over the bound (r == 0), the deadline, or a read error: killed while the pipe is
		 * still open, so that SIGKILL, not a SIGPIPE, is what ends it */
		kill_reap(pid, &status);
		close(fds[0]);
		if (r == 0)
			cut_at_last_line(&out, max_output);
	}
	if (r < 0) {
		free(out.data);
		return r;
	}
	if (ret_status)
		*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret_output)
		*ret_output = out.data;
	else
		free(out.data);
	return 0;
}

/* ---------------------------------------------------------------- hvd_spawn_fd() and clean-up */

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

int hvd_become_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ? -errno : 0;
}

/* The parent of pid from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold
 * anything, ')' included), or -1. */
static pid_t parent_of(long pid)
{
	char path[64], buf[512];
	const char *end;
	long ppid;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	end = strrchr(buf, ')');
	if (!end || sscanf(end + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* Kills the children of this process listed in /proc. The number, or -errno. */
static int kill_listed_children(pid_t except, pid_t *pids, size_t max, size_t *ret_n)
{
	pid_t self = getpid();
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == except || parent_of(pid) != self)
			continue;
		kill((pid_t)pid, SIGKILL);
		pids[n++] = (pid_t)pid;
	}
	closedir(d);
	*ret_n = n;
	return 0;
}

/* Reaps pids before the deadline; those reaped are set to 0. */
static void reap(pid_t *pids, size_t n, uint64_t deadline)
{
	for (;;) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++) {
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) != 0)
				pids[i] = 0; /* reaped, or not ours to wait for (ECHILD) */
			left += pids[i] > 0;
		}
		if (left == 0 || now_usec() >= deadline)
			return;
		nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
	}
}

int hvd_kill_children(pid_t except, uint64_t timeout_usec)
{
	uint64_t deadline = now_usec() + timeout_usec;
	pid_t pids[256];
	int killed = 0;

	/* each round may hand us the orphans of those it killed */
	for (int round = 0; round < 64; round++) {
		size_t n = 0;
		int r = kill_listed_children(except, pids, sizeof(pids) / sizeof(pids[0]), &n);

		if (r < 0)
			return r;
		if (n == 0 || now_usec() >= deadline)
			break;
		killed += (int)n;
		reap(pids, n, deadline);
	}
	return killed;
}
