/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-file.c: what every SET_IP_INFO backend needs around its own files: atomic
 * writes, saved copies for a rollback, and one child-process runner with a deadline.
 *
 * Design: a configuration file is never seen half-written (temporary + fsync + rename +
 * fsync of the directory), and a rollback rewrites exactly the bytes that were there, or
 * removes a file that did not exist. Saved copies live in memory only: the daemon restores
 * within the same request, so nothing survives a crash half-applied except a complete new
 * file or the complete old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define NETCONF_MAX_SAVED_FILE (1024 * 1024)
#define NETCONF_MAX_OUTPUT 4096

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return negative_errno();
	return fsync(fd) < 0 ? negative_errno() : 0;
}

int netconf_write_file(const char *path, const char *data, size_t len, unsigned mode)
{
	g_autofree char *tmp = g_strdup_printf("%s.hvguest-XXXXXX", path);
	_cleanup_close_ int fd = -1;
	int r;

	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, (int)mode);
	if (fd < 0)
		return negative_errno();
	r = fchmod(fd, mode) < 0 ? negative_errno() : 0;
	if (r >= 0)
		r = write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r >= 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return fsync_dir_of(path);
}

struct saved_file {
	char *path;
	char *data; /* NULL: the file did not exist */
	size_t len;
	unsigned mode;
};

struct netconf_saved_files {
	size_t n;
	struct saved_file f[];
};

struct netconf_saved_files *netconf_saved_files_free(struct netconf_saved_files *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		g_free(s->f[i].path);
		free(s->f[i].data);
	}
	g_free(s);
	return NULL;
}

static int save_one(const char *path, struct saved_file *f)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int r;

	f->path = g_strdup(path);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	/* A link or a device where a configuration file belongs is not ours to follow. */
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	r = read_small_file(path, NETCONF_MAX_SAVED_FILE, &data, &len);
	if (r < 0)
		return r;
	f->data = data;
	f->len = len;
	f->mode = st.st_mode & 07777;
	return 0;
}

int netconf_save_files(const char *const *paths, size_t n, struct netconf_saved_files **ret)
{
	struct netconf_saved_files *s = g_malloc0(sizeof(*s) + n * sizeof(s->f[0]));

	for (size_t i = 0; i < n; i++) {
		int r = save_one(paths[i], &s->f[i]);
		s->n = i + 1;
		if (r < 0) {
			netconf_saved_files_free(s);
			return r;
		}
	}
	*ret = s;
	return 0;
}

int netconf_restore_files(const struct netconf_saved_files *s)
{
	int ret = 0;

	for (size_t i = 0; s && i < s->n; i++) {
		const struct saved_file *f = &s->f[i];
		int r;

		if (f->data)
			r = netconf_write_file(f->path, f->data, f->len, f->mode);
		else
			r = unlink(f->path) < 0 && errno != ENOENT ? negative_errno() : 0;
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

/* ---------------------------------------------------------------- the runner */

static void child_exec(const char *const *argv, int out_fd)
{
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigset_t none;

	/* The daemon blocks the signals its event loop reads (and a worker thread may block
	 * more); a program must start with none blocked and SIGPIPE at its default, or it
	 * and everything it starts could not be stopped or interrupted. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0)
		_exit(127);
	setpgid(0, 0);
	execv(argv[0], (char *const *)argv);
	_exit(errno == ENOENT ? 127 : 126);
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

int netconf_run(const char *const *argv, uint64_t deadline_usec, char **ret_output)
{
	GString *out = g_string_new(NULL);
	int pipefd[2], status = 0, r = 0;
	pid_t pid;

	if (!argv || !argv[0] || argv[0][0] != '/') {
		g_string_free(out, TRUE);
		return -EINVAL;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		g_string_free(out, TRUE);
		return negative_errno();
	}
	pid = fork();
	if (pid < 0) {
		r = negative_errno();
		close(pipefd[0]);
		close(pipefd[1]);
		g_string_free(out, TRUE);
		return r;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_exec(argv, pipefd[1]);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		uint64_t now = now_usec();
		char buf[1024];
		ssize_t n;

		if (now >= deadline_usec) {
			r = -ETIME;
			break;
		}
		n = poll(&p, 1, (int)((deadline_usec - now + 999) / 1000));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len < NETCONF_MAX_OUTPUT)
			g_string_append_len(out, buf,
					    MIN((size_t)n, NETCONF_MAX_OUTPUT - out->len));
	}
	close(pipefd[0]);
	if (r == -ETIME)
		kill_group(pid);
	/* The pipe closed: the program is done or about to be; wait until the deadline. */
	for (;;) {
		pid_t w = waitpid(pid, &status, r == -ETIME ? 0 : WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			if (r == 0)
				r = negative_errno();
			break;
		}
		if (w == 0) {
			if (now_usec() >= deadline_usec) {
				kill_group(pid);
				r = -ETIME;
			} else {
				g_usleep(1000);
			}
		}
	}
	if (r == 0)
		r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret_output)
		*ret_output = g_string_free(out, FALSE);
	else
		g_string_free(out, TRUE);
	return r;
}
