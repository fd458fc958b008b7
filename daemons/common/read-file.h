/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a small text file that someone else controls (resolv.conf, os-release, network
 * manager state, the configuration) without letting it stall or flood the daemon.
 */
#ifndef HVD_READ_FILE_H
#define HVD_READ_FILE_H

#include <stddef.h>

/* Reads all of path into a NUL-terminated malloc'd buffer (*ret_text; *ret_len, optional,
 * without the NUL). Only a regular file is read, and only when it holds at most max bytes.
 * Errors: open()'s (-ENOENT, -EACCES, ...), -EISDIR for a directory, -EINVAL for any other
 * file that is not a regular file (a FIFO, a device, a socket), -EFBIG when larger than
 * max, -ENOMEM. Outputs are untouched on failure. */
int read_small_file(const char *path, size_t max, char **ret_text, size_t *ret_len);

/* Writes all len bytes of buf to fd, retrying short writes and EINTR: 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
