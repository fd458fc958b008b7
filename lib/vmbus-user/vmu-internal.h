/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the library's modules (not installed).
 */
#ifndef VMU_INTERNAL_H
#define VMU_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmbus-user-internal.h"

#define VMU_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define VMU_ASSERT_SIZE(type, size)                                                                \
	_Static_assert(sizeof(type) == (size), #type " is " #size " bytes")
#define VMU_ASSERT_OFFSET(type, member, off)                                                       \
	_Static_assert(__builtin_offsetof(type, member) == (off), #type "." #member " at " #off)

/* Little-endian loads/stores at any alignment (the library supports little-endian hosts
 * only; configure refuses big-endian, but these stay explicit about byte order). */
static inline uint16_t vmu_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t vmu_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	       ((uint32_t)b[3] << 24);
}
static inline uint64_t vmu_le64(const void *p)
{
	return (uint64_t)vmu_le32(p) | ((uint64_t)vmu_le32((const uint8_t *)p + 4) << 32);
}
static inline void vmu_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}
static inline void vmu_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}
static inline void vmu_put_le64(void *p, uint64_t v)
{
	vmu_put_le32(p, (uint32_t)v);
	vmu_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline int vmu_negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static inline int vmu_safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static inline void vmu_closep(int *fd)
{
	vmu_safe_close(*fd);
}
static inline void vmu_freep(void *p)
{
	free(*(void **)p);
}
#define _vmu_cleanup_(f) __attribute__((cleanup(f)))
#define _vmu_cleanup_close_ _vmu_cleanup_(vmu_closep)
#define _vmu_cleanup_free_ _vmu_cleanup_(vmu_freep)

static inline void *vmu_take_ptr(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
#define VMU_TAKE_PTR(p) ((__typeof__(p))vmu_take_ptr(&(p)))
static inline int vmu_take_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Bounded string inside a fixed array: length of the string when a NUL lies within
 * [0, size), else -EBADMSG. */
static inline ssize_t vmu_bounded_strlen(const void *buf, size_t size)
{
	const char *nul = memchr(buf, 0, size);
	return nul ? nul - (const char *)buf : -EBADMSG;
}

#endif
