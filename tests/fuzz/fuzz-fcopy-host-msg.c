/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: fcopy messages in the host's format (vmu_fcopy_host_request_parse), as a
 * UIO daemon receives them after the IC header.
 *
 * The input is parsed as given, and again zero-padded/cut to the START (1088) size so that
 * short corpus files reach the name conversion. Accepted requests must hold NUL-terminated,
 * valid UTF-8 names of the reported length, and WRITE data inside the buffer.
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmu-internal.h"

static void check_name(const char *s, size_t len)
{
	CHECK(len < VMU_FCOPY_NAME_UTF8_MAX && s[len] == 0 && strlen(s) == len);
	CHECK(vmu_utf8_valid(s, len));
}

static void parse(const uint8_t *buf, size_t len)
{
	struct vmu_fcopy_request req;
	int r;

	memset(&req, 0x5a, sizeof(req));
	req.size = sizeof(req);
	r = vmu_fcopy_host_request_parse(buf, len, &req);
	CHECK(r == 0 || r == -EBADMSG || r == -ERANGE || r == -EILSEQ);
	if (r < 0)
		return;
	CHECK(len >= VMU_FCOPY_HDR_SIZE && req.op == vmu_le32(buf));
	switch (req.op) {
	case VMU_FCOPY_OP_START:
		CHECK(len >= VMU_FCOPY_START_SIZE);
		check_name(req.start.file_name, req.start.file_name_len);
		check_name(req.start.path_name, req.start.path_name_len);
		CHECK((req.start.flags & ~3u) == 0);
		break;
	case VMU_FCOPY_OP_WRITE:
		CHECK(req.write.size <= VMU_FCOPY_DATA_FRAGMENT);
		CHECK(req.write.data == buf + 52);
		CHECK(52 + (size_t)req.write.size <= len);
		CHECK(req.write.offset + req.write.size >= req.write.offset);
		break;
	case VMU_FCOPY_OP_COMPLETE:
	case VMU_FCOPY_OP_CANCEL:
		break;
	case _VMU_FCOPY_OP_MAX:
		CHECK(0);
	}
}

static void parse_padded(const uint8_t *data, size_t size, size_t len)
{
	static uint8_t buf[VMU_FCOPY_WRITE_SIZE];

	memset(buf, 0, len);
	memcpy(buf, data, size < len ? size : len);
	parse(buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	/* an exact-size heap copy, so reads past the end are caught */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	parse(copy, size);
	free(copy);
	parse_padded(data, size, VMU_FCOPY_START_SIZE);
	return 0;
}
