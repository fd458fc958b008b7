/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: IC header parsing and NEGOTIATE on a copy of the input, for each service's
 * version table. Checks: nothing is written past the message, a successful negotiation
 * reads back through the host-side parser with the same versions, and the header of an
 * accepted message survives a write/parse round trip.
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmu-internal.h"

#define MAX_MSG 8192
#define CANARY 0xa5

static void negotiate_as(enum vmu_service service, const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_MSG + 16];
	const struct vmu_ic_version *fw, *srv;
	struct vmu_ic_version gfw, gsrv, hfw, hsrv;
	size_t nf, ns;
	int r;

	CHECK(vmu_service_versions(service, &fw, &nf, &srv, &ns) == 0);
	memset(buf, CANARY, sizeof(buf));
	memcpy(buf, data, size);
	r = vmu_ic_negotiate(buf, size, fw, nf, srv, ns, &gfw, &gsrv);
	CHECK(r == 0 || r == -EPROTO || r == -EBADMSG);
	for (size_t i = size; i < sizeof(buf); i++)
		CHECK(buf[i] == CANARY);
	if (size < 32) {
		CHECK(r == -EBADMSG && memcmp(buf, data, size) == 0);
		return;
	}
	CHECK(vmu_le16(buf + 18) == 0x10);
	if (r != 0) {
		CHECK(vmu_le16(buf + 28) == 0 && vmu_le16(buf + 30) == 0);
		CHECK(vmu_ic_negotiate_parse_response(buf, size, &hfw, &hsrv) ==
		      (size >= 36 ? -EPROTO : -EBADMSG));
		return;
	}
	CHECK(vmu_icmsg_set_response(buf, size, VMU_S_OK) == 0);
	CHECK(vmu_ic_negotiate_parse_response(buf, size, &hfw, &hsrv) == 0);
	CHECK(hfw.major == gfw.major && hfw.minor == gfw.minor);
	CHECK(hsrv.major == gsrv.major && hsrv.minor == gsrv.minor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmu_icmsg hdr, again;
	uint8_t out[VMU_ICMSG_HDR_SIZE];
	size_t payload;

	if (size > MAX_MSG)
		return 0;
	if (vmu_icmsg_parse(data, size, &hdr, &payload) == 0) {
		CHECK(size >= VMU_ICMSG_HDR_SIZE && payload == size - VMU_ICMSG_HDR_SIZE);
		CHECK(vmu_icmsg_write(out, sizeof(out), &hdr) == 0);
		CHECK(vmu_icmsg_parse(out, sizeof(out), &again, NULL) == 0);
		CHECK(hdr.status == again.status && hdr.icflags == again.icflags &&
		      hdr.icmsgsize == again.icmsgsize && hdr.pipe_msgsize == again.pipe_msgsize);
		CHECK(memcmp(out, data, 26) == 0); /* all but the reserved bytes */
	} else {
		CHECK(size < VMU_ICMSG_HDR_SIZE);
	}
	for (int s = 0; s < _VMU_SERVICE_MAX; s++)
		negotiate_as((enum vmu_service)s, data, size);
	return 0;
}
