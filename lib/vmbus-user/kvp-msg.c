/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KVP messages as the daemon sees them: the kernel's translated, UTF-8 form of
 * struct hv_kvp_msg (7432 bytes), and the replies in the layout hv_kvp.c reads back.
 *
 * Parsing validates everything an outsider controls before a caller sees a pointer: the
 * length, op and pool ranges, every string NUL-bounded inside its fixed array (and, where
 * the kernel sends one, its size field equal to length + 1), and UTF-8 well-formedness.
 * Views point into the caller's buffer.
 *
 * Replies follow what the kernel really reads (docs/protocol.md §3.2): the error int at bytes 0..3;
 * ENUMERATE key/value in the enumerate layout (@20/@532); GET's value also at @532, not at
 * the GET layout's @528 (docs/protocol.md §9.1). Builders validate every argument before writing,
 * so a failed call leaves the buffer untouched. A string argument may point into buf only at its
 * own destination; pointing into another field's destination gives unspecified (but memory-safe)
 * contents.
 */
#include "vmbus-user.h"

#include <linux/hyperv.h>

#include "vmu-internal.h"

#define MSG_OFF(member) __builtin_offsetof(struct hv_kvp_msg, member)
#define IP_MSG_OFF(member) __builtin_offsetof(struct hv_kvp_ip_msg, member)

/* Sizes and absolute offsets of docs/protocol.md §3.1. */
VMU_ASSERT_SIZE(struct hv_kvp_msg, 7432);
VMU_ASSERT_SIZE(struct hv_kvp_msg, VMU_KVP_MSG_SIZE);
VMU_ASSERT_SIZE(struct hv_kvp_exchg_msg_value, 2572);
VMU_ASSERT_SIZE(struct hv_kvp_ipaddr_value, 7426);
VMU_ASSERT_SIZE(struct hv_kvp_ip_msg, 7428);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, kvp_hdr.pool, 1);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_get.data.value_type, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_get.data.key_size, 8);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_get.data.value_size, 12);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_get.data.key, 16);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_get.data.value, 528);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_set.data.key_size, 8);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_set.data.value_size, 12);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_set.data.key, 16);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_set.data.value, 528);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_delete.key_size, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_delete.key, 8);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.index, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.data.value_type, 8);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.data.key_size, 12);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.data.value_size, 16);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.data.key, 20);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_enum_data.data.value, 532);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.adapter_id, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.addr_family, 260);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.dhcp_enabled, 261);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.ip_addr, 262);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.sub_net, 2310);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.gate_way, 4358);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_ip_val.dns_addr, 5382);
VMU_ASSERT_OFFSET(struct hv_kvp_msg, body.kvp_register.version, 4);
VMU_ASSERT_OFFSET(struct hv_kvp_ip_msg, kvp_ip_val, 2);

/* Our constants are the kernel's. */
_Static_assert(VMU_KVP_MAX_KEY_SIZE == HV_KVP_EXCHANGE_MAX_KEY_SIZE, "key size");
_Static_assert(VMU_KVP_MAX_VALUE_SIZE == HV_KVP_EXCHANGE_MAX_VALUE_SIZE, "value size");
_Static_assert(VMU_KVP_HOST_MAX_KEY_UNITS == HV_KVP_EXCHANGE_MAX_KEY_SIZE / 2 - 2, "key units");
_Static_assert(VMU_KVP_HOST_MAX_VALUE_UNITS == HV_KVP_EXCHANGE_MAX_VALUE_SIZE / 2 - 2,
	       "value units");
_Static_assert((int)VMU_KVP_OP_GET == (int)KVP_OP_GET && (int)VMU_KVP_OP_SET == (int)KVP_OP_SET &&
		   (int)VMU_KVP_OP_DELETE == (int)KVP_OP_DELETE &&
		   (int)VMU_KVP_OP_ENUMERATE == (int)KVP_OP_ENUMERATE &&
		   (int)VMU_KVP_OP_GET_IP_INFO == (int)KVP_OP_GET_IP_INFO &&
		   (int)VMU_KVP_OP_SET_IP_INFO == (int)KVP_OP_SET_IP_INFO &&
		   (int)_VMU_KVP_OP_MAX == (int)KVP_OP_COUNT,
	       "KVP ops");
_Static_assert((int)VMU_KVP_POOL_EXTERNAL == (int)KVP_POOL_EXTERNAL &&
		   (int)VMU_KVP_POOL_GUEST == (int)KVP_POOL_GUEST &&
		   (int)VMU_KVP_POOL_AUTO == (int)KVP_POOL_AUTO &&
		   (int)VMU_KVP_POOL_AUTO_EXTERNAL == (int)KVP_POOL_AUTO_EXTERNAL &&
		   (int)VMU_KVP_POOL_AUTO_INTERNAL == (int)KVP_POOL_AUTO_INTERNAL &&
		   (int)_VMU_KVP_POOL_MAX == (int)KVP_POOL_COUNT,
	       "KVP pools");
_Static_assert(VMU_S_OK == HV_S_OK && VMU_E_FAIL == HV_E_FAIL && VMU_S_CONT == HV_S_CONT &&
		   VMU_ERROR_NOT_SUPPORTED == HV_ERROR_NOT_SUPPORTED &&
		   VMU_INVALIDARG == HV_INVALIDARG && VMU_GUID_NOTFOUND == HV_GUID_NOTFOUND &&
		   VMU_ERROR_ALREADY_EXISTS == HV_ERROR_ALREADY_EXISTS &&
		   VMU_ERROR_DISK_FULL == HV_ERROR_DISK_FULL,
	       "HRESULTs");

/* A string field: where it lives, how big its array is, where its size field is (0: none). */
struct str_field {
	size_t off, size, size_off;
};

#define FIELD(member, size_member)                                                                 \
	{                                                                                          \
		MSG_OFF(member), sizeof(((struct hv_kvp_msg *)0)->member), size_member             \
	}
#define NO_SIZE 0

static const struct str_field get_key =
    FIELD(body.kvp_get.data.key, MSG_OFF(body.kvp_get.data.key_size));
static const struct str_field set_key =
    FIELD(body.kvp_set.data.key, MSG_OFF(body.kvp_set.data.key_size));
static const struct str_field set_value =
    FIELD(body.kvp_set.data.value, MSG_OFF(body.kvp_set.data.value_size));
static const struct str_field delete_key =
    FIELD(body.kvp_delete.key, MSG_OFF(body.kvp_delete.key_size));
static const struct str_field enum_key =
    FIELD(body.kvp_enum_data.data.key, MSG_OFF(body.kvp_enum_data.data.key_size));
static const struct str_field enum_value =
    FIELD(body.kvp_enum_data.data.value, MSG_OFF(body.kvp_enum_data.data.value_size));
static const struct str_field ip_adapter = FIELD(body.kvp_ip_val.adapter_id, NO_SIZE);
static const struct str_field ip_addr = FIELD(body.kvp_ip_val.ip_addr, NO_SIZE);
static const struct str_field ip_sub_net = FIELD(body.kvp_ip_val.sub_net, NO_SIZE);
static const struct str_field ip_gate_way = FIELD(body.kvp_ip_val.gate_way, NO_SIZE);
static const struct str_field ip_dns = FIELD(body.kvp_ip_val.dns_addr, NO_SIZE);

#define OFF_FAMILY MSG_OFF(body.kvp_ip_val.addr_family)
#define OFF_DHCP MSG_OFF(body.kvp_ip_val.dhcp_enabled)
#define OFF_INDEX MSG_OFF(body.kvp_enum_data.index)
#define OFF_ENUM_TYPE MSG_OFF(body.kvp_enum_data.data.value_type)

/* ---------------------------------------------------------------- parsing */

/* The string in field f: NUL-bounded in its array; when the field has a size field it must
 * be in [1, array size] and equal length + 1; valid UTF-8. */
static int parse_str(const uint8_t *b, const struct str_field *f, struct vmu_str *ret)
{
	const char *s = (const char *)b + f->off;
	ssize_t len = vmu_bounded_strlen(s, f->size);

	if (len < 0)
		return -EBADMSG;
	if (f->size_off != NO_SIZE && vmu_le32(b + f->size_off) != (uint64_t)len + 1)
		return -EBADMSG;
	if (!vmu_utf8_valid(s, (size_t)len))
		return -EILSEQ;
	*ret = (struct vmu_str){s, (size_t)len};
	return 0;
}

static int parse_set_ip(const uint8_t *b, struct vmu_kvp_request *req)
{
	int r;

	r = parse_str(b, &ip_adapter, &req->set_ip.adapter_id);
	if (r >= 0)
		r = parse_str(b, &ip_addr, &req->set_ip.ip_addr);
	if (r >= 0)
		r = parse_str(b, &ip_sub_net, &req->set_ip.sub_net);
	if (r >= 0)
		r = parse_str(b, &ip_gate_way, &req->set_ip.gate_way);
	if (r >= 0)
		r = parse_str(b, &ip_dns, &req->set_ip.dns_addr);
	req->set_ip.addr_family = b[OFF_FAMILY];
	req->set_ip.dhcp_enabled = b[OFF_DHCP];
	return r;
}

static int parse_body(const uint8_t *b, struct vmu_kvp_request *req)
{
	int r;

	switch (req->op) {
	case VMU_KVP_OP_GET:
		return parse_str(b, &get_key, &req->key);
	case VMU_KVP_OP_DELETE:
		return parse_str(b, &delete_key, &req->key);
	case VMU_KVP_OP_SET:
		r = parse_str(b, &set_key, &req->set.key);
		return r < 0 ? r : parse_str(b, &set_value, &req->set.value);
	case VMU_KVP_OP_ENUMERATE:
		req->index = vmu_le32(b + OFF_INDEX);
		return 0;
	case VMU_KVP_OP_GET_IP_INFO:
		req->get_ip.addr_family = b[OFF_FAMILY];
		return parse_str(b, &ip_adapter, &req->get_ip.adapter_id);
	case VMU_KVP_OP_SET_IP_INFO:
		return parse_set_ip(b, req);
	case _VMU_KVP_OP_MAX:
		break;
	}
	return -ERANGE;
}

VMU_EXPORT int vmu_kvp_request_parse(const void *buf, size_t len, struct vmu_kvp_request *ret)
{
	const uint8_t *b = buf;
	struct vmu_kvp_request req = {0};
	int r;

	if (!buf || len != VMU_KVP_MSG_SIZE)
		return -EBADMSG;
	if (b[0] >= _VMU_KVP_OP_MAX || b[1] >= _VMU_KVP_POOL_MAX)
		return -ERANGE;
	req.op = (enum vmu_kvp_op)b[0];
	req.pool = (enum vmu_kvp_pool)b[1];
	r = parse_body(b, &req);
	if (r < 0)
		return r;
	if (ret)
		*ret = req;
	return 0;
}

/* ---------------------------------------------------------------- replies */

/* Checks that s (NULL = "") fits field f with its NUL and is valid UTF-8. */
static int check_str(const char *s, const struct str_field *f)
{
	size_t len;

	if (!s)
		return 0;
	len = strnlen(s, f->size);
	if (len >= f->size)
		return -ENOBUFS;
	return vmu_utf8_valid(s, len) ? 0 : -EILSEQ;
}

/* Writes a checked string, zero-filling the rest of its array, and its size field. memmove:
 * s may already sit at (or overlap) its destination, e.g. a request string echoed back. */
static void put_str(uint8_t *b, const char *s, const struct str_field *f)
{
	size_t len = s ? strlen(s) : 0;

	if (len > 0)
		memmove(b + f->off, s, len);
	memset(b + f->off + len, 0, f->size - len);
	if (f->size_off != NO_SIZE)
		vmu_put_le32(b + f->size_off, (uint32_t)len + 1);
}

VMU_EXPORT int vmu_kvp_reply_status(void *buf, size_t len, uint32_t status)
{
	if (!buf || len < VMU_KVP_MSG_SIZE)
		return -ENOBUFS;
	vmu_put_le32(buf, status);
	return 0;
}

VMU_EXPORT int vmu_kvp_reply_enumerate(void *buf, size_t len, const char *key, const char *value)
{
	uint8_t *b = buf;
	int r;

	if (!key || !value)
		return -EINVAL;
	if (!buf || len < VMU_KVP_MSG_SIZE)
		return -ENOBUFS;
	r = check_str(key, &enum_key);
	if (r >= 0)
		r = check_str(value, &enum_value);
	if (r < 0)
		return r;
	vmu_put_le32(b, VMU_S_OK);
	vmu_put_le32(b + OFF_ENUM_TYPE, REG_SZ);
	put_str(b, key, &enum_key);
	put_str(b, value, &enum_value);
	return 0;
}

VMU_EXPORT int vmu_kvp_reply_get(void *buf, size_t len, const char *value)
{
	uint8_t *b = buf;
	int r;

	if (!value)
		return -EINVAL;
	if (!buf || len < VMU_KVP_MSG_SIZE)
		return -ENOBUFS;
	r = check_str(value, &enum_value);
	if (r < 0)
		return r;
	vmu_put_le32(b, VMU_S_OK);
	vmu_put_le32(b + OFF_ENUM_TYPE, REG_SZ);
	put_str(b, value, &enum_value);
	return 0;
}

VMU_EXPORT int vmu_kvp_reply_ip_info(void *buf, size_t len, const struct vmu_kvp_ip_info *info)
{
	uint8_t *b = buf;
	const struct {
		const char *s;
		const struct str_field *f;
	} strs[] = {
	    {info ? info->adapter_id : NULL, &ip_adapter},
	    {info ? info->ip_addr : NULL, &ip_addr},
	    {info ? info->sub_net : NULL, &ip_sub_net},
	    {info ? info->gate_way : NULL, &ip_gate_way},
	    {info ? info->dns_addr : NULL, &ip_dns},
	};

	if (!info)
		return -EINVAL;
	if (!buf || len < VMU_KVP_MSG_SIZE)
		return -ENOBUFS;
	for (size_t i = 0; i < VMU_ELEMENTSOF(strs); i++) {
		int r = check_str(strs[i].s, strs[i].f);

		if (r < 0)
			return r;
	}
	vmu_put_le32(b, VMU_S_OK);
	for (size_t i = 0; i < VMU_ELEMENTSOF(strs); i++)
		put_str(b, strs[i].s, strs[i].f);
	b[OFF_FAMILY] = info->addr_family;
	b[OFF_DHCP] = info->dhcp_enabled;
	return 0;
}
