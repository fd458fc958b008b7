/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash-safety record (see state.h). Written once before anything is frozen, naming
 * every mount that may become frozen, narrowed afterwards to the mounts this daemon froze
 * when they differ, removed once everything is thawed. It lives in the run
 * directory, which the daemon refuses to freeze (vssd.c), so writing it never blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "read-file.h"
#include "state.h"

#define STATE_HEADER "# hv-vssd: file systems frozen by this daemon; thawed at its next start\n"

struct state_mount *state_mounts_free(struct state_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].target);
	free(m);
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

/* The record is built in memory and written with one write(): it goes out between the
 * FREEZE and the first FIFREEZE, and a stdio stream on the file cost two system calls
 * more (its fcntl and fstat). */
int state_write(const char *path, const struct state_mount *m, size_t n)
{
	char tmp[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int fd, r = 0;

	if (n > STATE_MAX_ENTRIES)
		return -E2BIG;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	fputs(STATE_HEADER, f);
	for (size_t i = 0; i < n; i++) {
		/* An unknown identity (an older record read back) is written as it was read:
		 * the bare path; "0 0 /path" would not read back. */
		if (m[i].mnt_id)
			fprintf(f, "%" PRIu64 " %" PRIu64 " ", m[i].mnt_id, m[i].dev);
		put_escaped(f, m[i].target);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		free(text);
		return r;
	}
	r = write_all(fd, text, len);
	free(text);
	if (close(fd) < 0 && r == 0)
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

/* "<mnt_id> <dev> " in front of the mount point; a bare mount point (older record) has
 * none. Returns where the mount point starts, NULL when malformed. */
static char *parse_identity(char *line, struct state_mount *m)
{
	unsigned long long dev, id;
	char *end;

	if (line[0] == '/')
		return line;
	if (line[0] < '1' || line[0] > '9')
		return NULL;
	errno = 0;
	id = strtoull(line, &end, 10);
	if (errno || id == 0 || *end != ' ' || end[1] < '0' || end[1] > '9')
		return NULL;
	dev = strtoull(end + 1, &end, 10);
	if (errno || *end != ' ')
		return NULL;
	m->mnt_id = id;
	m->dev = dev;
	return end + 1;
}

static int parse_line(char *line, ssize_t len, struct state_mount **v, size_t *n)
{
	struct state_mount m = {0}, *nv;
	char *target;

	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	else
		return -EBADMSG; /* cut short: a crash while writing cannot leave this (rename) */
	if (line[0] == '#')
		return 0;
	if ((size_t)len != strlen(line) || !(target = parse_identity(line, &m)) ||
	    target[0] != '/' || strlen(target) > PATH_MAX || unescape(target) < 0)
		return -EBADMSG;
	if (*n >= STATE_MAX_ENTRIES)
		return -E2BIG;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	m.target = strdup(target);
	if (!m.target)
		return -ENOMEM;
	nv[(*n)++] = m;
	return 0;
}

int state_parse(FILE *f, struct state_mount **ret, size_t *ret_n)
{
	struct state_mount *v = calloc(1, sizeof(*v));
	char *line = NULL;
	size_t n = 0, cap = 0;
	ssize_t len;
	int r = 0;

	if (!v)
		return -ENOMEM;
	/* a mount point of PATH_MAX (escaped) plus its identity (two numbers) */
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0)
		r = len > PATH_MAX + 64 ? -EBADMSG : parse_line(line, len, &v, &n);
	free(line);
	if (r < 0) {
		state_mounts_free(v, n);
		return r == -E2BIG || r == -ENOMEM ? r : -EBADMSG;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int state_read(const char *path, struct state_mount **ret, size_t *ret_n)
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
	r = state_parse(f, ret, ret_n);
	fclose(f);
	return r;
}

int state_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
