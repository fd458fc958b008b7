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

#include "hvd-spawn.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define NETCONF_MAX_SAVED_FILE (1024 * 1024)
#define NETCONF_MAX_OUTPUT 4096

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

/* A thin wrapper over the one runner (hvd_run): stdout and stderr captured, output past the
 * bound dropped while the program runs on to its end. An exec failure is reported as a shell
 * reports it, 127 (not found) or 126 (found, cannot run), with an empty output; so is a
 * timeout (-ETIME). */
int netconf_run(const char *const *argv, uint64_t deadline_usec, char **ret_output)
{
	int status = 0, r;

	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
	r = hvd_run(argv, HVD_RUN_STDERR | HVD_RUN_DRAIN, deadline_usec, NETCONF_MAX_OUTPUT,
		    ret_output, &status);
	switch (r) {
	case 0:
		return status;
	case -ETIME:
		if (ret_output)
			*ret_output = g_strdup("");
		return r;
	case -ENOENT:
	case -EACCES:
	case -ENOEXEC:
	case -EPERM:
	case -ENOTDIR:
	case -ELOOP:
	case -EISDIR:
	case -ETXTBSY:
	case -ENAMETOOLONG:
		if (ret_output)
			*ret_output = g_strdup("");
		return r == -ENOENT ? 127 : 126;
	default:
		return r;
	}
}
