/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: VSS and fcopy request parsing, and the VSS reply.
 *
 * The input is parsed as given, and again zero-padded/cut to the START (1088) and WRITE
 * (6196) sizes so that short corpus files reach the body checks. Accepted requests must
 * only hand out views inside the buffer within the documented bounds.
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmu-internal.h"

/* The name is a copy of the message's NUL-terminated bytes at off. */
static void check_name(const uint8_t *buf, size_t off, const char *s, size_t len)
{
	CHECK(len < VMU_FCOPY_MAX_PATH && s[len] == 0 && strlen(s) == len);
	CHECK(memcmp(s, buf + off, len + 1) == 0);
	CHECK(vmu_utf8_valid(s, len));
}

static void fcopy(const uint8_t *buf, size_t len)
{
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;
	int r = vmu_fcopy_request_parse(buf, len, &req);

	CHECK(r == 0 || r == -EBADMSG || r == -ERANGE || r == -EILSEQ);
	if (r < 0)
		return;
	CHECK(len >= VMU_FCOPY_HDR_SIZE && req.op == vmu_le32(buf));
	switch (req.op) {
	case VMU_FCOPY_OP_START:
		CHECK(len == VMU_FCOPY_START_SIZE);
		check_name(buf, 36, req.start.file_name, req.start.file_name_len);
		check_name(buf, 556, req.start.path_name, req.start.path_name_len);
		CHECK((req.start.flags & ~3u) == 0);
		break;
	case VMU_FCOPY_OP_WRITE:
		CHECK(len == VMU_FCOPY_WRITE_SIZE);
		CHECK(req.write.size <= VMU_FCOPY_DATA_FRAGMENT);
		CHECK(req.write.data == buf + 52);
		CHECK(req.write.offset + req.write.size >= req.write.offset);
		break;
	case VMU_FCOPY_OP_COMPLETE:
	case VMU_FCOPY_OP_CANCEL:
		break;
	case _VMU_FCOPY_OP_MAX:
		CHECK(0);
	}
}

static void fcopy_padded(const uint8_t *data, size_t size, size_t len)
{
	static uint8_t buf[VMU_FCOPY_WRITE_SIZE];

	memset(buf, 0, len);
	memcpy(buf, data, size < len ? size : len);
	fcopy(buf, len);
}

static void vss(const uint8_t *data, size_t size)
{
	struct vmu_vss_request req;
	uint8_t reply[VMU_VSS_MSG_SIZE];
	uint32_t status = size >= 4 ? vmu_le32(data) : 0;
	int r = vmu_vss_request_parse(data, size, &req);

	CHECK(r == 0 || r == -EBADMSG || r == -ERANGE);
	if (r == 0)
		CHECK(size == VMU_VSS_MSG_SIZE && (unsigned)req.op == data[0] && data[0] < 8);
	for (int op = 0; op < _VMU_VSS_OP_MAX; op++) {
		r = vmu_vss_reply(reply, sizeof(reply), (enum vmu_vss_op)op, status);
		if ((status & 0xff) == 128 || (status & 0xff) == 129) {
			CHECK(r == -EINVAL);
			continue;
		}
		CHECK(r == 0);
		if (op == VMU_VSS_OP_HOT_BACKUP && !(status & 0x80000000u))
			CHECK(vmu_le32(reply) == 2);
		else
			CHECK(vmu_le32(reply) == status);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vss(data, size);
	fcopy(data, size);
	fcopy_padded(data, size, VMU_FCOPY_START_SIZE);
	fcopy_padded(data, size, VMU_FCOPY_WRITE_SIZE);
	return 0;
}
