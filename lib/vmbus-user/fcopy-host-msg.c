/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fcopy messages in the host's own format, as a UIO daemon receives them (docs/protocol.md §6.4):
 * the service message that follows the 28-byte IC header of an inband packet.
 *
 * Unlike the legacy char device, nothing in the kernel has looked at these bytes:
 *   - START names are the host's UTF-16LE, W_MAX_PATH (260) units each. A name must end
 *     with a NUL unit inside its array and convert strictly (an unpaired surrogate fails the
 *     whole request, never a silent 'X' or a dropped unit). The UTF-8 copy goes into the
 *     caller's struct vmu_fcopy_request (the view the char device's parser fills too), so
 *     the names do not point into the packet.
 *   - WRITE carries offset, size and data; the data must lie inside the packet actually
 *     received (len), not just inside the 6196-byte struct, and size is bounded by
 *     DATA_FRAGMENT. offset + size must not overflow.
 *   - COMPLETE and CANCEL are the 36-byte header.
 * The payload may be longer than the struct (a host pads packets to 8 bytes).
 */
#include "vmbus-user.h"

#include "vmu-internal.h"

#define HOST_FILE_NAME 36
#define HOST_PATH_NAME 556
#define HOST_FLAGS 1076
#define HOST_FILE_SIZE 1080
#define HOST_W_OFFSET 40
#define HOST_W_SIZE 48
#define HOST_W_DATA 52

_Static_assert(VMU_FCOPY_NAME_UTF8_MAX >= 3 * (VMU_FCOPY_MAX_PATH - 1) + 1,
	       "a 259-unit BMP name fits");

/* Number of units before the first NUL unit, or -EBADMSG when the array holds none. */
static ssize_t utf16_bounded_len(const uint8_t *s, size_t units)
{
	for (size_t i = 0; i < units; i++)
		if (vmu_le16(s + 2 * i) == 0)
			return (ssize_t)i;
	return -EBADMSG;
}

static int host_name(const uint8_t *b, size_t off, char *dst, size_t *ret_len)
{
	ssize_t units = utf16_bounded_len(b + off, VMU_FCOPY_MAX_PATH);
	int r;

	if (units < 0)
		return (int)units;
	r = vmu_utf16le_to_utf8(b + off, (size_t)units, dst, VMU_FCOPY_NAME_UTF8_MAX, 0, ret_len);
	if (r == -ENOBUFS) /* cannot happen with the size asserted above */
		return -EBADMSG;
	return r < 0 ? r : 0;
}

static int host_start(const uint8_t *b, size_t len, struct vmu_fcopy_request *req)
{
	int r;

	if (len < VMU_FCOPY_START_SIZE)
		return -EBADMSG;
	r = host_name(b, HOST_FILE_NAME, req->start.file_name, &req->start.file_name_len);
	if (r < 0)
		return r;
	r = host_name(b, HOST_PATH_NAME, req->start.path_name, &req->start.path_name_len);
	if (r < 0)
		return r;
	req->start.flags = vmu_le32(b + HOST_FLAGS);
	if (req->start.flags & ~(VMU_FCOPY_OVER_WRITE | VMU_FCOPY_CREATE_PATH))
		return -ERANGE;
	req->start.file_size = vmu_le64(b + HOST_FILE_SIZE);
	return 0;
}

static int host_write(const uint8_t *b, size_t len, struct vmu_fcopy_request *req)
{
	uint64_t offset;
	uint32_t size;

	if (len < HOST_W_DATA)
		return -EBADMSG;
	offset = vmu_le64(b + HOST_W_OFFSET);
	size = vmu_le32(b + HOST_W_SIZE);
	if (size > VMU_FCOPY_DATA_FRAGMENT || size > len - HOST_W_DATA)
		return -EBADMSG;
	if (offset > UINT64_MAX - size)
		return -EBADMSG;
	req->write.offset = offset;
	req->write.size = size;
	req->write.data = b + HOST_W_DATA;
	return 0;
}

VMU_EXPORT int vmu_fcopy_host_request_parse(const void *buf, size_t len,
					    struct vmu_fcopy_request *ret)
{
	struct vmu_fcopy_request req;
	const uint8_t *b = buf;
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
		r = host_start(b, len, &req);
		break;
	case VMU_FCOPY_OP_WRITE:
		r = host_write(b, len, &req);
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

/* The IC header is checked and cut here, so that a daemon never computes offsets into it. */
VMU_EXPORT int vmu_fcopy_host_message_parse(const void *msg, size_t len,
					    struct vmu_fcopy_request *ret)
{
	size_t payload_len;
	int r = vmu_sized_check(ret, VMU_FCOPY_REQUEST_SIZE_0_1);

	if (r < 0)
		return r;
	r = vmu_icmsg_parse(msg, len, NULL, &payload_len);
	if (r < 0)
		return r;
	return vmu_fcopy_host_request_parse((const uint8_t *)msg + VMU_ICMSG_HDR_SIZE, payload_len,
					    ret);
}

/* The host's reply is its own message back, with the status in the IC header. */
VMU_EXPORT ssize_t vmu_fcopy_host_reply(void *msg, size_t len, uint32_t status)
{
	int r = vmu_icmsg_set_response(msg, len, status);

	return r < 0 ? r : (ssize_t)len;
}
