/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash-safety record (see state.h). Written before anything is frozen, rewritten
 * before each further FIFREEZE, removed once everything is thawed. It lives in the run
 * directory, which the daemon refuses to freeze (vssd.c), so writing it never blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

#define STATE_HEADER "# hv-vssd: file systems frozen by this daemon; thawed at its next start\n"

char **state_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

int state_write(const char *path, const char *const *targets, size_t n)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	if (n > STATE_MAX_ENTRIES)
		return -E2BIG;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fputs(STATE_HEADER, f);
	for (size_t i = 0; i < n; i++)
		put_escaped(f, targets[i]);
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Undoes put_escaped in place; -EBADMSG on an unknown escape. */
static int unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		s++;
		if (*s == '\\')
			*w++ = '\\';
		else if (*s == 'n')
			*w++ = '\n';
		else
			return -EBADMSG;
	}
	*w = '\0';
	return 0;
}

static int parse_line(char *line, ssize_t len, char ***v, size_t *n)
{
	char **nv;

	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	else
		return -EBADMSG; /* cut short: a crash while writing cannot leave this (rename) */
	if (line[0] == '#')
		return 0;
	if ((size_t)len != strlen(line) || line[0] != '/' || unescape(line) < 0)
		return -EBADMSG;
	if (*n >= STATE_MAX_ENTRIES)
		return -E2BIG;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(line);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

int state_parse(FILE *f, char ***ret)
{
	char **v = calloc(1, sizeof(char *)), *line = NULL;
	size_t n = 0, cap = 0;
	ssize_t len;
	int r = 0;

	if (!v)
		return -ENOMEM;
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0)
		r = len > PATH_MAX + 1 ? -EBADMSG : parse_line(line, len, &v, &n);
	free(line);
	if (r < 0) {
		state_strv_free(v);
		return r == -E2BIG || r == -ENOMEM ? r : -EBADMSG;
	}
	*ret = v;
	return 0;
}

int state_read(const char *path, char ***ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	r = state_parse(f, ret);
	fclose(f);
	return r;
}

int state_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
