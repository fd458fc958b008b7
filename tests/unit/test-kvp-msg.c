/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/vmbus-user/kvp-msg.c: request validation for every op at and past
 * each limit, and the reply builders checked byte by byte at the offsets the kernel reads
 * (cross-checked through <linux/hyperv.h>).
 */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <linux/hyperv.h>
#include <string.h>

#include "vmu-internal.h"

#define MSG VMU_KVP_MSG_SIZE

/* Absolute offsets (docs/protocol.md §3.1). */
#define GET_KEY_SIZE 8
#define GET_VALUE_SIZE 12
#define GET_KEY 16
#define GET_VALUE 528
#define DEL_KEY_SIZE 4
#define DEL_KEY 8
#define ENUM_INDEX 4
#define ENUM_TYPE 8
#define ENUM_KEY_SIZE 12
#define ENUM_VALUE_SIZE 16
#define ENUM_KEY 20
#define ENUM_VALUE 532
#define IP_ADAPTER 4
#define IP_FAMILY 260
#define IP_DHCP 261
#define IP_ADDR 262
#define IP_SUBNET 2310
#define IP_GATEWAY 4358
#define IP_DNS 5382

static uint8_t *new_msg(uint8_t op, uint8_t pool)
{
	uint8_t *m = g_malloc0(MSG);

	m[0] = op;
	m[1] = pool;
	return m;
}

/* Puts len bytes of fill (or s) at off, NUL after, and size field = size_val. */
static void put_field(uint8_t *m, size_t off, const char *s, size_t len, size_t size_off,
		      uint32_t size_val)
{
	memcpy(m + off, s, len);
	m[off + len] = 0;
	if (size_off)
		vmu_put_le32(m + size_off, size_val);
}

static char *repeat(char c, size_t n)
{
	char *s = g_malloc(n + 1);

	memset(s, c, n);
	s[n] = 0;
	return s;
}

static int parse(const uint8_t *m, struct vmu_kvp_request *req)
{
	return vmu_kvp_request_parse(m, MSG, req);
}

/* ------------------------------------------------------------ parsing */

static void test_length_op_pool(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_ENUMERATE, VMU_KVP_POOL_AUTO);
	struct vmu_kvp_request req = {.index = 77};

	g_assert_cmpint(vmu_kvp_request_parse(m, MSG - 1, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_kvp_request_parse(m, MSG + 1, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_kvp_request_parse(m, 0, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_kvp_request_parse(NULL, MSG, &req), ==, -EBADMSG);
	g_assert_cmpuint(req.index, ==, 77);

	for (unsigned op = 0; op < 256; op++)
		for (unsigned pool = 0; pool < 8; pool++) {
			int r;

			m[0] = (uint8_t)op;
			m[1] = (uint8_t)pool;
			r = parse(m, &req);
			if (op >= 6 || pool >= 5)
				g_assert_cmpint(r, ==, -ERANGE);
			else if (op == VMU_KVP_OP_ENUMERATE)
				g_assert_cmpint(r, ==, 0);
			else /* an all-zero body: sizes 0 do not match */
				g_assert_cmpint(r, ==,
						op == VMU_KVP_OP_GET_IP_INFO ||
							op == VMU_KVP_OP_SET_IP_INFO
						    ? 0
						    : -EBADMSG);
		}
	m[0] = VMU_KVP_OP_ENUMERATE;
	for (unsigned pool = 0; pool < 5; pool++) {
		m[1] = (uint8_t)pool;
		vmu_put_le32(m + ENUM_INDEX, 0x12345678 + pool);
		g_assert_cmpint(parse(m, &req), ==, 0);
		g_assert_cmpint(req.op, ==, VMU_KVP_OP_ENUMERATE);
		g_assert_cmpint(req.pool, ==, pool);
		g_assert_cmpuint(req.index, ==, 0x12345678 + pool);
	}
}

/* GET and DELETE share the key rules, at different offsets. */
static void check_key_rules(uint8_t op, size_t key_off, size_t size_off)
{
	g_autofree uint8_t *m = new_msg(op, VMU_KVP_POOL_EXTERNAL);
	g_autofree char *k511 = repeat('k', 511), *k512 = repeat('k', 512);
	struct vmu_kvp_request req;

	put_field(m, key_off, "abc", 3, size_off, 4);
	vmu_put_le32(m + GET_VALUE_SIZE, 999); /* GET: value_size is ignored */
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpint(req.op, ==, op);
	g_assert_cmpuint(req.key.len, ==, 3);
	g_assert_true(req.key.s == (const char *)m + key_off);
	g_assert_cmpstr(req.key.s, ==, "abc");

	vmu_put_le32(m + size_off, 0);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	vmu_put_le32(m + size_off, 3);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	vmu_put_le32(m + size_off, 5);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG); /* NUL before key_size - 1 */

	put_field(m, key_off, "", 0, size_off, 1);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpuint(req.key.len, ==, 0);

	put_field(m, key_off, k511, 511, size_off, 512);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpuint(req.key.len, ==, 511);
	vmu_put_le32(m + size_off, 513);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	memcpy(m + key_off, k512, 512); /* no NUL in the array */
	vmu_put_le32(m + size_off, 512);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	vmu_put_le32(m + size_off, 513);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);

	memset(m + key_off, 0, 512);
	put_field(m, key_off, "a\xff", 2, size_off, 3);
	g_assert_cmpint(parse(m, &req), ==, -EILSEQ);
	put_field(m, key_off, "a\xed\xa0\x80", 4, size_off, 5);
	g_assert_cmpint(parse(m, &req), ==, -EILSEQ);
	put_field(m, key_off, "\xc3\xa9", 2, size_off, 3);
	g_assert_cmpint(parse(m, &req), ==, 0);
}

static void test_get(void)
{
	check_key_rules(VMU_KVP_OP_GET, GET_KEY, GET_KEY_SIZE);
}

static void test_delete(void)
{
	check_key_rules(VMU_KVP_OP_DELETE, DEL_KEY, DEL_KEY_SIZE);
}

static void test_set(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_SET, VMU_KVP_POOL_GUEST);
	g_autofree char *v2047 = repeat('v', 2047), *v2048 = repeat('v', 2048);
	struct vmu_kvp_request req;

	put_field(m, GET_KEY, "key", 3, GET_KEY_SIZE, 4);
	put_field(m, GET_VALUE, "value", 5, GET_VALUE_SIZE, 6);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpint(req.pool, ==, VMU_KVP_POOL_GUEST);
	g_assert_cmpstr(req.set.key.s, ==, "key");
	g_assert_cmpuint(req.set.key.len, ==, 3);
	g_assert_true(req.set.value.s == (const char *)m + GET_VALUE);
	g_assert_cmpuint(req.set.value.len, ==, 5);

	put_field(m, GET_VALUE, v2047, 2047, GET_VALUE_SIZE, 2048);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpuint(req.set.value.len, ==, 2047);
	vmu_put_le32(m + GET_VALUE_SIZE, 2049);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	memcpy(m + GET_VALUE, v2048, 2048);
	vmu_put_le32(m + GET_VALUE_SIZE, 2048);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);

	memset(m + GET_VALUE, 0, 2048);
	put_field(m, GET_VALUE, "", 0, GET_VALUE_SIZE, 0);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	put_field(m, GET_VALUE, "", 0, GET_VALUE_SIZE, 1);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpuint(req.set.value.len, ==, 0);
	put_field(m, GET_VALUE, "x\x80", 2, GET_VALUE_SIZE, 3);
	g_assert_cmpint(parse(m, &req), ==, -EILSEQ);
	put_field(m, GET_VALUE, "ok", 2, GET_VALUE_SIZE, 3);
	put_field(m, GET_KEY, "ab", 2, GET_KEY_SIZE, 4); /* key NUL early */
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
}

static void test_get_ip_info(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_GET_IP_INFO, VMU_KVP_POOL_EXTERNAL);
	g_autofree char *a255 = repeat('A', 255), *a256 = repeat('A', 256);
	struct vmu_kvp_request req;

	put_field(m, IP_ADAPTER, "00:15:5D:00:01:02", 17, 0, 0);
	m[IP_FAMILY] = 3;
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpstr(req.get_ip.adapter_id.s, ==, "00:15:5D:00:01:02");
	g_assert_cmpuint(req.get_ip.adapter_id.len, ==, 17);
	g_assert_cmpuint(req.get_ip.addr_family, ==, 3);
	put_field(m, IP_ADAPTER, a255, 255, 0, 0);
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpuint(req.get_ip.adapter_id.len, ==, 255);
	memcpy(m + IP_ADAPTER, a256, 256);
	g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
	put_field(m, IP_ADAPTER, "\xe2\x82", 2, 0, 0);
	g_assert_cmpint(parse(m, &req), ==, -EILSEQ);
}

static void test_set_ip_info(void)
{
	static const struct {
		size_t off, size;
	} f[] = {{IP_ADAPTER, 256},
		 {IP_ADDR, 2048},
		 {IP_SUBNET, 2048},
		 {IP_GATEWAY, 1024},
		 {IP_DNS, 2048}};
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_SET_IP_INFO, VMU_KVP_POOL_EXTERNAL);
	struct vmu_kvp_request req;

	put_field(m, IP_ADAPTER, "{guid}", 6, 0, 0);
	put_field(m, IP_ADDR, "10.0.0.5;fe80::1", 16, 0, 0);
	put_field(m, IP_SUBNET, "255.255.255.0;64", 16, 0, 0);
	put_field(m, IP_GATEWAY, "10.0.0.1", 8, 0, 0);
	put_field(m, IP_DNS, "10.0.0.2", 8, 0, 0);
	m[IP_FAMILY] = 1;
	m[IP_DHCP] = 1;
	g_assert_cmpint(parse(m, &req), ==, 0);
	g_assert_cmpstr(req.set_ip.adapter_id.s, ==, "{guid}");
	g_assert_cmpstr(req.set_ip.ip_addr.s, ==, "10.0.0.5;fe80::1");
	g_assert_cmpstr(req.set_ip.sub_net.s, ==, "255.255.255.0;64");
	g_assert_cmpstr(req.set_ip.gate_way.s, ==, "10.0.0.1");
	g_assert_cmpstr(req.set_ip.dns_addr.s, ==, "10.0.0.2");
	g_assert_cmpuint(req.set_ip.dns_addr.len, ==, 8);
	g_assert_cmpuint(req.set_ip.addr_family, ==, 1);
	g_assert_cmpuint(req.set_ip.dhcp_enabled, ==, 1);

	for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
		g_autofree uint8_t *saved = g_memdup2(m + f[i].off, f[i].size);

		memset(m + f[i].off, 'x', f[i].size - 1); /* at the limit */
		m[f[i].off + f[i].size - 1] = 0;
		g_assert_cmpint(parse(m, &req), ==, 0);
		m[f[i].off + f[i].size - 1] = 'x'; /* past it */
		g_assert_cmpint(parse(m, &req), ==, -EBADMSG);
		memset(m + f[i].off, 0, f[i].size);
		m[f[i].off] = (char)0xc0;
		m[f[i].off + 1] = (char)0xaf;
		g_assert_cmpint(parse(m, &req), ==, -EILSEQ);
		memcpy(m + f[i].off, saved, f[i].size);
	}
}

/* ------------------------------------------------------------ replies */

static void test_reply_status(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_SET, 1);

	memset(m, 0x77, MSG);
	g_assert_cmpint(vmu_kvp_reply_status(m, MSG - 1, VMU_S_CONT), ==, -ENOBUFS);
	g_assert_cmpuint(m[0], ==, 0x77);
	g_assert_cmpint(vmu_kvp_reply_status(m, MSG, VMU_S_CONT), ==, 0);
	g_assert_cmpuint(m[0], ==, 0x03);
	g_assert_cmpuint(m[1], ==, 0x01);
	g_assert_cmpuint(m[2], ==, 0x07);
	g_assert_cmpuint(m[3], ==, 0x80);
	g_assert_cmpuint(m[4], ==, 0x77);
	g_assert_cmpint(((struct hv_kvp_msg *)m)->error, ==, (int)HV_S_CONT);
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_assert_cmpuint(p[i], ==, 0);
}

static void test_reply_enumerate(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_ENUMERATE, 2);
	g_autofree uint8_t *before = NULL;
	g_autofree char *k511 = repeat('k', 511), *k512 = repeat('k', 512);
	g_autofree char *v2047 = repeat('v', 2047), *v2048 = repeat('v', 2048);
	const struct hv_kvp_msg *k = (const void *)m;

	memset(m, 0x55, MSG);
	m[0] = VMU_KVP_OP_ENUMERATE;
	before = g_memdup2(m, MSG);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG - 1, "a", "b"), ==, -ENOBUFS);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, k512, "b"), ==, -ENOBUFS);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "a", v2048), ==, -ENOBUFS);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "\xff", "b"), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "a", "\xed\xbf\xbf"), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, NULL, "b"), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "a", NULL), ==, -EINVAL);
	g_assert_cmpmem(m, MSG, before, MSG); /* failures leave the buffer alone */

	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "key", "v\xc3\xa9"), ==, 0);
	g_assert_cmpuint(vmu_le32(m), ==, 0);
	g_assert_cmpuint(vmu_le32(m + ENUM_INDEX), ==, 0x55555555); /* untouched */
	g_assert_cmpuint(vmu_le32(m + ENUM_TYPE), ==, 1);
	g_assert_cmpuint(vmu_le32(m + ENUM_KEY_SIZE), ==, 4);
	g_assert_cmpuint(vmu_le32(m + ENUM_VALUE_SIZE), ==, 4);
	g_assert_cmpmem(m + ENUM_KEY, 4, "key", 4);
	assert_zero(m + ENUM_KEY + 4, 512 - 4);
	g_assert_cmpmem(m + ENUM_VALUE, 4, "v\xc3\xa9", 4);
	assert_zero(m + ENUM_VALUE + 4, 2048 - 4);
	g_assert_cmpmem(m + ENUM_VALUE + 2048, MSG - ENUM_VALUE - 2048, before + ENUM_VALUE + 2048,
			MSG - ENUM_VALUE - 2048);
	/* as the kernel reads it */
	g_assert_cmpstr((const char *)k->body.kvp_enum_data.data.key, ==, "key");
	g_assert_cmpstr((const char *)k->body.kvp_enum_data.data.value, ==, "v\xc3\xa9");

	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, k511, v2047), ==, 0);
	g_assert_cmpuint(vmu_le32(m + ENUM_KEY_SIZE), ==, 512);
	g_assert_cmpuint(vmu_le32(m + ENUM_VALUE_SIZE), ==, 2048);
	g_assert_cmpuint(m[ENUM_KEY + 511], ==, 0);
	g_assert_cmpuint(m[ENUM_VALUE + 2047], ==, 0);
	g_assert_cmpuint(strlen((const char *)m + ENUM_VALUE), ==, 2047);

	g_assert_cmpint(vmu_kvp_reply_enumerate(m, MSG, "", ""), ==, 0);
	g_assert_cmpuint(vmu_le32(m + ENUM_KEY_SIZE), ==, 1);
	assert_zero(m + ENUM_KEY, 512);
	assert_zero(m + ENUM_VALUE, 2048);
}

static void test_reply_get(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_GET, 0);
	g_autofree char *v2047 = repeat('v', 2047), *v2048 = repeat('v', 2048);
	const struct hv_kvp_msg *k = (const void *)m;

	put_field(m, GET_KEY, "key", 3, GET_KEY_SIZE, 4);
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG, v2048), ==, -ENOBUFS);
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG, "\xc3"), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG - 1, "x"), ==, -ENOBUFS);
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG, NULL), ==, -EINVAL);
	g_assert_cmpuint(m[0], ==, VMU_KVP_OP_GET);

	m[0] = 0x42;
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG, "hello"), ==, 0);
	g_assert_cmpuint(vmu_le32(m), ==, 0);
	g_assert_cmpmem(m + ENUM_VALUE, 6, "hello", 6);
	assert_zero(m + ENUM_VALUE + 6, 2048 - 6);
	g_assert_cmpuint(vmu_le32(m + ENUM_VALUE_SIZE), ==, 6);
	g_assert_cmpuint(vmu_le32(m + ENUM_TYPE), ==, REG_SZ);
	/* the kernel reads GET replies through the enumerate layout (docs/protocol.md §9.1) */
	g_assert_cmpstr((const char *)k->body.kvp_enum_data.data.value, ==, "hello");
	g_assert_cmpint(vmu_kvp_reply_get(m, MSG, v2047), ==, 0);
	g_assert_cmpuint(vmu_le32(m + ENUM_VALUE_SIZE), ==, 2048);
	g_assert_cmpuint(strlen((const char *)m + ENUM_VALUE), ==, 2047);
}

static void test_reply_ip_info(void)
{
	g_autofree uint8_t *m = new_msg(VMU_KVP_OP_GET_IP_INFO, 0);
	g_autofree char *a255 = repeat('a', 255), *a256 = repeat('a', 256);
	g_autofree char *g1023 = repeat('g', 1023), *g1024 = repeat('g', 1024);
	g_autofree char *s2047 = repeat('s', 2047), *s2048 = repeat('s', 2048);
	const struct hv_kvp_msg *k = (const void *)m;
	struct vmu_kvp_ip_info info = {
	    .adapter_id = "00:15:5D:00:01:02",
	    .addr_family = 3,
	    .dhcp_enabled = 1,
	    .ip_addr = "10.0.0.5;fe80::1",
	    .sub_net = "255.255.255.0;/64",
	    .gate_way = "10.0.0.1;",
	    .dns_addr = "10.0.0.2;",
	};

	memset(m, 0x66, MSG);
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, 0);
	g_assert_cmpuint(vmu_le32(m), ==, 0);
	g_assert_cmpstr((const char *)m + IP_ADAPTER, ==, "00:15:5D:00:01:02");
	assert_zero(m + IP_ADAPTER + 17, 256 - 17);
	g_assert_cmpuint(m[IP_FAMILY], ==, 3);
	g_assert_cmpuint(m[IP_DHCP], ==, 1);
	g_assert_cmpstr((const char *)m + IP_ADDR, ==, "10.0.0.5;fe80::1");
	assert_zero(m + IP_ADDR + 16, 2048 - 16);
	g_assert_cmpstr((const char *)m + IP_SUBNET, ==, "255.255.255.0;/64");
	g_assert_cmpstr((const char *)m + IP_GATEWAY, ==, "10.0.0.1;");
	assert_zero(m + IP_GATEWAY + 9, 1024 - 9);
	g_assert_cmpstr((const char *)m + IP_DNS, ==, "10.0.0.2;");
	assert_zero(m + IP_DNS + 9, 2048 - 9);
	g_assert_cmpuint(m[IP_DNS + 2048], ==, 0x66);
	g_assert_cmpuint(m[MSG - 1], ==, 0x66);
	g_assert_cmpuint(k->body.kvp_ip_val.addr_family, ==, 3);

	/* limits: each array holds size - 1 bytes of text */
	info = (struct vmu_kvp_ip_info){a255, 1, 0, s2047, s2047, g1023, s2047};
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, 0);
	g_assert_cmpuint(strlen((const char *)m + IP_GATEWAY), ==, 1023);
	g_assert_cmpuint(strlen((const char *)m + IP_DNS), ==, 2047);
	memset(m, 0x66, MSG);
	info.adapter_id = a256;
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, -ENOBUFS);
	info.adapter_id = a255;
	info.gate_way = g1024;
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, -ENOBUFS);
	info.gate_way = g1023;
	info.ip_addr = s2048;
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, -ENOBUFS);
	info.ip_addr = s2047;
	info.sub_net = s2048;
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, -ENOBUFS);
	info.sub_net = s2047;
	info.dns_addr = "\xf8";
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, -EILSEQ);
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG - 1, &info), ==, -ENOBUFS);
	g_assert_cmpuint(m[0], ==, 0x66); /* nothing written by any failure */
	g_assert_cmpuint(m[IP_ADAPTER], ==, 0x66);

	/* NULL strings are empty */
	info = (struct vmu_kvp_ip_info){.adapter_id = "x"};
	g_assert_cmpint(vmu_kvp_reply_ip_info(m, MSG, &info), ==, 0);
	assert_zero(m + IP_ADDR, 2048);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvp-msg/parse/length-op-pool", test_length_op_pool);
	g_test_add_func("/kvp-msg/parse/get", test_get);
	g_test_add_func("/kvp-msg/parse/delete", test_delete);
	g_test_add_func("/kvp-msg/parse/set", test_set);
	g_test_add_func("/kvp-msg/parse/get-ip-info", test_get_ip_info);
	g_test_add_func("/kvp-msg/parse/set-ip-info", test_set_ip_info);
	g_test_add_func("/kvp-msg/reply/status", test_reply_status);
	g_test_add_func("/kvp-msg/reply/enumerate", test_reply_enumerate);
	g_test_add_func("/kvp-msg/reply/get", test_reply_get);
	g_test_add_func("/kvp-msg/reply/ip-info", test_reply_ip_info);
	return g_test_run();
}
