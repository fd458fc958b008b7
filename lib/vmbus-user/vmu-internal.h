/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the library's modules (not installed).
 */
#ifndef VMU_INTERNAL_H
#define VMU_INTERNAL_H

/* The daemons and tools are built with VMU_OUTSIDE_LIBRARY (their local.mk): they see the
 * library only through vmbus-user.h, so a layout or helper here can change without them. */
#ifdef VMU_OUTSIDE_LIBRARY
#error "vmu-internal.h is libvmbus-user's private header: include vmbus-user.h"
#endif

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"
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

/* The library's names for the shared helpers (shared/macro.h): the call sites keep their
 * vmu_ prefix, the definitions exist once. Internal only; vmbus-user.h never sees them. */
#define vmu_negative_errno negative_errno
#define vmu_safe_close safe_close
#define vmu_closep closep
#define vmu_freep freep
#define _vmu_cleanup_ _cleanup_
#define _vmu_cleanup_close_ _cleanup_close_
#define _vmu_cleanup_free_ _cleanup_free_
#define vmu_take_ptr take_ptr
#define VMU_TAKE_PTR TAKE_PTR
#define vmu_take_fd take_fd

/* Bounded string inside a fixed array: length of the string when a NUL lies within
 * [0, size), else -EBADMSG. */
static inline ssize_t vmu_bounded_strlen(const void *buf, size_t size)
{
	const char *nul = memchr(buf, 0, size);
	return nul ? nul - (const char *)buf : -EBADMSG;
}

/* struct vmu_fcopy_request as 0.1 released it: the least a caller may pass. Fields added later
 * go after file_size (the union's largest member), so this stays the 0.1 size. */
#define VMU_FCOPY_REQUEST_SIZE_0_1                                                                 \
	(__builtin_offsetof(struct vmu_fcopy_request, start.file_size) + sizeof(uint64_t))

/* A growable output struct whose first member is its size_t size: -EINVAL when ret is NULL
 * or its size is below min_size. */
static inline int vmu_sized_check(const void *ret, size_t min_size)
{
	return ret && *(const size_t *)ret >= min_size ? 0 : -EINVAL;
}

/* Copies the library's full struct src (src_size bytes) into the caller's ret: no more than
 * ret's own size field says, which is kept as given; what lies past src_size (fields a newer
 * header added) is left untouched. */
static inline void vmu_sized_copy_out(void *ret, const void *src, size_t src_size)
{
	size_t size = *(const size_t *)ret;

	memcpy((uint8_t *)ret + sizeof(size_t), (const uint8_t *)src + sizeof(size_t),
	       (size < src_size ? size : src_size) - sizeof(size_t));
}

/* A parsed fcopy request req into the caller's ret (checked by vmu_sized_check). START is
 * copied whole, as vmu_sized_copy_out() does. The other ops write op and the write member
 * (zero for COMPLETE and CANCEL), which lies inside the 0.1 struct; the rest of the union,
 * START's 1.5 KiB of names, is neither cleared nor copied: WRITE is nearly every message of
 * a copy, and that clearing and copying cost as much as the data's own copy. A reader
 * looks only at the member of op (see struct vmu_fcopy_request). */
static inline void vmu_fcopy_request_out(struct vmu_fcopy_request *ret,
					 const struct vmu_fcopy_request *req)
{
	if (req->op == VMU_FCOPY_OP_START) {
		vmu_sized_copy_out(ret, req, sizeof(*req));
		return;
	}
	ret->op = req->op;
	memcpy(&ret->write, &req->write, sizeof(req->write));
}

/* Clears what vmu_fcopy_request_out() copies of a request of this op, before it is parsed. */
static inline void vmu_fcopy_request_clear(struct vmu_fcopy_request *req, enum vmu_fcopy_op op)
{
	req->op = op;
	if (op == VMU_FCOPY_OP_START)
		memset(&req->start, 0, sizeof(req->start));
	else
		memset(&req->write, 0, sizeof(req->write));
}

#endif
