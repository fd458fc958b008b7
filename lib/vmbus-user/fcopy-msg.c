/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fcopy messages as the legacy char device delivers them (docs/protocol.md §5).
 *
 * START arrives rebuilt by the kernel: each UTF-16 name converted to UTF-8 with a budget of
 * 259 bytes and stored, NUL-terminated, at the start of the 520-byte file_name/path_name
 * arrays; so a name must end within the first 260 bytes. WRITE is forwarded raw (6196
 * bytes whatever the packet size), so size and offset are checked here before anyone
 * trusts them. COMPLETE and CANCEL carry the whole VMBus payload (stale bytes included);
 * the hibernation CANCEL is exactly the 36-byte header, so only >= 36 is required.
 * The view is the one fcopy-host-msg.c fills too (struct vmu_fcopy_request): the names are
 * copied out of the message into it.
 */
#include "vmbus-user.h"

#include <linux/hyperv.h>

#include "vmu-internal.h"

VMU_ASSERT_SIZE(struct hv_fcopy_hdr, 36);
VMU_ASSERT_SIZE(struct hv_fcopy_hdr, VMU_FCOPY_HDR_SIZE);
VMU_ASSERT_SIZE(struct hv_start_fcopy, 1088);
VMU_ASSERT_SIZE(struct hv_start_fcopy, VMU_FCOPY_START_SIZE);
VMU_ASSERT_OFFSET(struct hv_start_fcopy, file_name, 36);
VMU_ASSERT_OFFSET(struct hv_start_fcopy, path_name, 556);
VMU_ASSERT_OFFSET(struct hv_start_fcopy, copy_flags, 1076);
VMU_ASSERT_OFFSET(struct hv_start_fcopy, file_size, 1080);
VMU_ASSERT_SIZE(struct hv_do_fcopy, 6196);
VMU_ASSERT_SIZE(struct hv_do_fcopy, VMU_FCOPY_WRITE_SIZE);
VMU_ASSERT_OFFSET(struct hv_do_fcopy, offset, 40);
VMU_ASSERT_OFFSET(struct hv_do_fcopy, size, 48);
VMU_ASSERT_OFFSET(struct hv_do_fcopy, data, 52);
_Static_assert(VMU_FCOPY_DATA_FRAGMENT == DATA_FRAGMENT, "data fragment");
_Static_assert(VMU_FCOPY_MAX_PATH == W_MAX_PATH, "W_MAX_PATH");
_Static_assert(VMU_FCOPY_OVER_WRITE == OVER_WRITE && VMU_FCOPY_CREATE_PATH == CREATE_PATH,
	       "copy flags");
_Static_assert((int)VMU_FCOPY_OP_START == (int)START_FILE_COPY &&
		   (int)VMU_FCOPY_OP_WRITE == (int)WRITE_TO_FILE &&
		   (int)VMU_FCOPY_OP_COMPLETE == (int)COMPLETE_FCOPY &&
		   (int)VMU_FCOPY_OP_CANCEL == (int)CANCEL_FCOPY,
	       "fcopy ops");

#define START_OFF(m) __builtin_offsetof(struct hv_start_fcopy, m)
#define WRITE_OFF(m) __builtin_offsetof(struct hv_do_fcopy, m)

/* The kernel's conversion budget is 259 bytes + NUL (docs/protocol.md §5). */
#define NAME_LIMIT VMU_FCOPY_MAX_PATH
_Static_assert(NAME_LIMIT <= VMU_FCOPY_NAME_UTF8_MAX, "a char-device name fits the view");

/* The names are copied into the view (a 259-byte name always fits VMU_FCOPY_NAME_UTF8_MAX), so
 * that both formats give the same struct. */
static int parse_name(const uint8_t *b, size_t off, char *dst, size_t *ret_len)
{
	const char *s = (const char *)b + off;
	ssize_t len = vmu_bounded_strlen(s, NAME_LIMIT);

	if (len < 0)
		return -EBADMSG;
	if (!vmu_utf8_valid(s, (size_t)len))
		return -EILSEQ;
	memcpy(dst, s, (size_t)len + 1);
	*ret_len = (size_t)len;
	return 0;
}

static int parse_start(const uint8_t *b, size_t len, struct vmu_fcopy_request *req)
{
	int r;

	if (len != VMU_FCOPY_START_SIZE)
		return -EBADMSG;
	r = parse_name(b, START_OFF(file_name), req->start.file_name, &req->start.file_name_len);
	if (r < 0)
		return r;
	r = parse_name(b, START_OFF(path_name), req->start.path_name, &req->start.path_name_len);
	if (r < 0)
		return r;
	req->start.flags = vmu_le32(b + START_OFF(copy_flags));
	if (req->start.flags & ~(VMU_FCOPY_OVER_WRITE | VMU_FCOPY_CREATE_PATH))
		return -ERANGE;
	req->start.file_size = vmu_le64(b + START_OFF(file_size));
	return 0;
}

static int parse_write(const uint8_t *b, size_t len, struct vmu_fcopy_request *req)
{
	if (len != VMU_FCOPY_WRITE_SIZE)
		return -EBADMSG;
	req->write.offset = vmu_le64(b + WRITE_OFF(offset));
	req->write.size = vmu_le32(b + WRITE_OFF(size));
	if (req->write.size > VMU_FCOPY_DATA_FRAGMENT)
		return -EBADMSG;
	if (req->write.offset > UINT64_MAX - req->write.size)
		return -EBADMSG;
	req->write.data = b + WRITE_OFF(data);
	return 0;
}

VMU_EXPORT int vmu_fcopy_request_parse(const void *buf, size_t len, struct vmu_fcopy_request *ret)
{
	const uint8_t *b = buf;
	struct vmu_fcopy_request req;
	uint32_t op;
	int r = vmu_sized_check(ret, VMU_FCOPY_REQUEST_SIZE_0_1);

	if (r < 0)
		return r;
	if (!buf || len < VMU_FCOPY_HDR_SIZE)
		return -EBADMSG;
	op = vmu_le32(b);
	if (op >= _VMU_FCOPY_OP_MAX)
		return -ERANGE;
	vmu_fcopy_request_clear(&req, (enum vmu_fcopy_op)op);
	switch (req.op) {
	case VMU_FCOPY_OP_START:
		r = parse_start(b, len, &req);
		break;
	case VMU_FCOPY_OP_WRITE:
		r = parse_write(b, len, &req);
		break;
	case VMU_FCOPY_OP_COMPLETE:
	case VMU_FCOPY_OP_CANCEL:
		break;
	case _VMU_FCOPY_OP_MAX:
		return -ERANGE;
	}
	if (r < 0)
		return r;
	vmu_fcopy_request_out(ret, &req);
	return 0;
}

/* The legacy reply is the host status alone, as a little-endian 32-bit int (spec §5). */
VMU_EXPORT ssize_t vmu_fcopy_reply(void *buf, size_t size, uint32_t status)
{
	if (!buf || size < VMU_FCOPY_REPLY_SIZE)
		return -ENOBUFS;
	vmu_put_le32(buf, status);
	return VMU_FCOPY_REPLY_SIZE;
}
