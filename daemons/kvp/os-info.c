/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * os-release and uname facts for the intrinsic KVP items.
 *
 * os-release(5) is a shell-compatible assignment list. We accept what the format allows:
 * comments, blank lines, KEY=value with the value unquoted, single-quoted or double-quoted,
 * and backslash escapes outside single quotes. Unquoted blanks inside a value are kept
 * (a common mistake in hand-written files), unquoted trailing blanks and CRs are dropped
 * (quoted or escaped ones are data); a malformed line never fails the whole file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "os-info.h"
#include "read-file.h"

#define OS_RELEASE_MAX (64 * 1024)

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Unquotes one value (from v up to the end of the line) into dst. Unquoted, unescaped blanks
 * are data only when more data follows them: trailing ones (sloppy files, the CR of CRLF
 * line ends) are dropped, and do not count against the size of dst either. */
static int unquote_value(const char *v, const char *end, char *dst, size_t size)
{
	size_t n = 0, kept = 0;
	char quote = 0;

	for (; v < end; v++) {
		char c = *v;
		bool blank = false;

		if (quote != '\'' && c == '\\' && v + 1 < end) {
			c = *++v;
		} else if (!quote && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		} else if (quote && c == quote) {
			quote = 0;
			continue;
		} else {
			blank = !quote && is_blank(c);
		}
		if (n + 1 >= size) {
			if (blank)
				continue;
			return -ENOBUFS;
		}
		dst[n++] = c;
		if (!blank)
			kept = n;
	}
	dst[kept] = 0;
	return (int)kept;
}

int os_release_lookup(const char *text, const char *key, char *dst, size_t dst_size)
{
	size_t klen = strlen(key);
	const char *line = text;

	if (dst_size == 0)
		return -ENOBUFS;
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);

		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		if (line[0] != '#' && (size_t)(end - line) > klen &&
		    strncmp(line, key, klen) == 0 && line[klen] == '=')
			return unquote_value(line + klen + 1, end, dst, dst_size);
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

void kernel_version_xyz(const char *release, char *dst, size_t dst_size)
{
	unsigned long part[3] = {0, 0, 0};
	const char *p = release;

	for (int i = 0; i < 3 && *p >= '0' && *p <= '9'; i++) {
		char *next;

		errno = 0;
		part[i] = strtoul(p, &next, 10);
		if (errno)
			part[i] = 0;
		p = next;
		if (*p != '.')
			break;
		p++;
	}
	snprintf(dst, dst_size, "%lu.%lu.%lu", part[0], part[1], part[2]);
}

/* The first of paths that is a readable regular file of at most OS_RELEASE_MAX bytes; NULL
 * when none is. A FIFO or device at one of the paths is skipped, not waited for. */
static char *read_first(const char *const *paths)
{
	for (; paths && *paths; paths++) {
		char *text;

		if (read_small_file(*paths, OS_RELEASE_MAX, &text, NULL) >= 0)
			return text;
	}
	return NULL;
}

void os_info_load(const char *const *paths, struct os_info *ret)
{
	struct utsname u;
	char *text = read_first(paths);

	memset(ret, 0, sizeof(*ret));
	if (uname(&u) == 0) {
		copy_str(ret->name, sizeof(ret->name), u.sysname);
		copy_str(ret->kernel_release, sizeof(ret->kernel_release), u.release);
		copy_str(ret->machine, sizeof(ret->machine), u.machine);
		copy_str(ret->hostname, sizeof(ret->hostname), u.nodename);
	}
	kernel_version_xyz(ret->kernel_release, ret->kernel_version, sizeof(ret->kernel_version));
	if (text) {
		char v[OS_INFO_FIELD_MAX];

		if (os_release_lookup(text, "NAME", v, sizeof(v)) > 0)
			copy_str(ret->name, sizeof(ret->name), v);
		if (os_release_lookup(text, "VERSION_ID", v, sizeof(v)) >= 0)
			copy_str(ret->version_id, sizeof(ret->version_id), v);
		free(text);
	}
}
