/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shared/macro.h: scope-bound cleanup, ownership transfer and the errno wrapper, the one
 * definition for the library's .c files, the daemons, the tools and the tests.
 *
 * Design: never installed and never included by the public header (vmbus-user.h), so none
 * of these names reach the library's users. Everything is static inline or a macro: this
 * layer has no object code and nothing to link. Destructors are NULL-safe (and -1-safe for
 * descriptors) and keep errno, so a cleanup at scope exit never hides the error being
 * returned.
 */
#ifndef HV_SHARED_MACRO_H
#define HV_SHARED_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* errno as a negative return value; -EIO when a failed call left errno unset (a libc bug
 * must not turn a failure into success). */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Closes fd unless it is negative, keeping errno; returns -1 for `fd = safe_close(fd)`. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	safe_close(*fd);
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Hands the value out and leaves NULL (or -1) behind, so the cleanup does nothing. */
static inline void *take_ptr(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
#define TAKE_PTR(p) ((__typeof__(p))take_ptr(&(p)))

static inline int take_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}
#define TAKE_FD(fd) take_fd(&(fd))

#endif
