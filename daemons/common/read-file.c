/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * read_small_file(): one way for the daemons to read the small files other programs own;
 * write_all(): the one loop that writes a whole buffer.
 *
 * Whatever sits at such a path is outside input, and the daemons read it on their event
 * loop. A FIFO would block open() until a writer comes and read() for ever after; a device
 * such as /dev/zero never ends. So:
 *   - open with O_NONBLOCK (a FIFO's open returns at once; the flag has no effect on a
 *     regular file's reads), O_CLOEXEC and O_NOCTTY;
 *   - fstat the open fd (not the path, which may change in between) and read only a regular
 *     file;
 *   - refuse a file larger than the caller's bound before reading, and stop reading one
 *     byte past the bound in case it grows meanwhile.
 * Symbolic links are followed: /etc/resolv.conf and /etc/os-release are links by design,
 * and the directories these files live in belong to root.
 *
 * Plain libc (no glib), so that the fuzz targets and every daemon module can link it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read-file.h"

static int open_regular(const char *path, size_t max)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((unsigned long long)st.st_size > max)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Reads up to size bytes; returns how many, or -errno. */
static ssize_t read_up_to(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

int read_small_file(const char *path, size_t max, char **ret_text, size_t *ret_len)
{
	char *buf;
	ssize_t n;
	int fd;

	if (!path || !ret_text || max >= SIZE_MAX - 1)
		return -EINVAL;
	fd = open_regular(path, max);
	if (fd < 0)
		return fd;
	buf = malloc(max + 2);
	n = buf ? read_up_to(fd, buf, max + 1) : -ENOMEM;
	close(fd);
	if (n >= 0 && (size_t)n > max)
		n = -EFBIG; /* grew after the fstat */
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	*ret_text = buf;
	if (ret_len)
		*ret_len = (size_t)n;
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
