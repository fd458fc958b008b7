/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: KVP request parsing and reply building.
 *
 * The input is parsed as given (any length) and again zero-padded/cut to the 7432-byte
 * message, so a short corpus file stands for a whole message. Every accepted request must
 * hand out NUL-terminated, valid UTF-8 views inside the buffer; the parsed strings are then
 * fed back into the reply builders, whose output must be what the kernel reads.
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmu-internal.h"

static void check_str(const uint8_t *msg, struct vmu_str s)
{
	CHECK((const uint8_t *)s.s >= msg && (const uint8_t *)s.s + s.len < msg + VMU_KVP_MSG_SIZE);
	CHECK(s.s[s.len] == 0);
	CHECK(strlen(s.s) == s.len);
	CHECK(vmu_utf8_valid(s.s, s.len));
}

/* key and value point into msg: copy them out first, the replies overwrite those fields. */
static void check_reply_strings(uint8_t *msg, const char *key_in, const char *value_in)
{
	char key[VMU_KVP_MAX_KEY_SIZE], value[VMU_KVP_MAX_VALUE_SIZE];
	size_t klen = strlen(key_in), vlen = strlen(value_in);
	int r;

	CHECK(klen < sizeof(key) && vlen < sizeof(value));
	memcpy(key, key_in, klen + 1);
	memcpy(value, value_in, vlen + 1);
	r = vmu_kvp_reply_enumerate(msg, VMU_KVP_MSG_SIZE, key, value);

	if (klen < VMU_KVP_MAX_KEY_SIZE && vlen < VMU_KVP_MAX_VALUE_SIZE) {
		CHECK(r == 0);
		CHECK(vmu_le32(msg) == VMU_S_OK);
		CHECK(strcmp((const char *)msg + 20, key) == 0);
		CHECK(strcmp((const char *)msg + 532, value) == 0);
		CHECK(vmu_le32(msg + 12) == klen + 1);
		CHECK(vmu_le32(msg + 16) == vlen + 1);
	} else {
		CHECK(r == -ENOBUFS);
	}
	r = vmu_kvp_reply_get(msg, VMU_KVP_MSG_SIZE, value);
	CHECK(r == (vlen < VMU_KVP_MAX_VALUE_SIZE ? 0 : -ENOBUFS));
}

static void check_request(uint8_t *msg, const struct vmu_kvp_request *req)
{
	struct vmu_kvp_ip_info info;

	CHECK((unsigned)req->op < _VMU_KVP_OP_MAX && (unsigned)req->pool < _VMU_KVP_POOL_MAX);
	switch (req->op) {
	case VMU_KVP_OP_GET:
	case VMU_KVP_OP_DELETE:
		check_str(msg, req->key);
		CHECK(req->key.len < VMU_KVP_MAX_KEY_SIZE);
		check_reply_strings(msg, req->key.s, req->key.s);
		/* echoing a string in place must work too */
		CHECK(vmu_kvp_reply_get(msg, VMU_KVP_MSG_SIZE, (const char *)msg + 532) == 0);
		break;
	case VMU_KVP_OP_SET:
		check_str(msg, req->set.key);
		check_str(msg, req->set.value);
		CHECK(req->set.value.len < VMU_KVP_MAX_VALUE_SIZE);
		check_reply_strings(msg, req->set.key.s, req->set.value.s);
		break;
	case VMU_KVP_OP_ENUMERATE:
		CHECK(req->index == vmu_le32(msg + 4));
		CHECK(vmu_kvp_reply_status(msg, VMU_KVP_MSG_SIZE, VMU_S_CONT) == 0);
		break;
	case VMU_KVP_OP_GET_IP_INFO:
		check_str(msg, req->get_ip.adapter_id);
		info = (struct vmu_kvp_ip_info){.adapter_id = req->get_ip.adapter_id.s};
		CHECK(vmu_kvp_reply_ip_info(msg, VMU_KVP_MSG_SIZE, &info) == 0);
		break;
	case VMU_KVP_OP_SET_IP_INFO:
		check_str(msg, req->set_ip.adapter_id);
		check_str(msg, req->set_ip.ip_addr);
		check_str(msg, req->set_ip.sub_net);
		check_str(msg, req->set_ip.gate_way);
		check_str(msg, req->set_ip.dns_addr);
		break;
	case _VMU_KVP_OP_MAX:
		CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[VMU_KVP_MSG_SIZE];
	struct vmu_kvp_request req;
	int r;

	r = vmu_kvp_request_parse(data, size, &req);
	CHECK(size == VMU_KVP_MSG_SIZE || r == -EBADMSG);

	memset(msg, 0, sizeof(msg));
	memcpy(msg, data, size < sizeof(msg) ? size : sizeof(msg));
	r = vmu_kvp_request_parse(msg, sizeof(msg), &req);
	CHECK(r == 0 || r == -EBADMSG || r == -ERANGE || r == -EILSEQ);
	if (r == 0)
		check_request(msg, &req);
	return 0;
}
