/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim KVP: registration, single opener, status model, the kernel's translation quirks
 * (GET value_size 0 and the offset-532 read, SET rendering, UTF-16 limits, dropped
 * surrogates), deferred host requests, kernel deadline and late replies, write sizes.
 */
#include <errno.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tests/unit/test-hvsim-daemon.h"

#define MS 1000ull
#define SEC 1000000ull

static void handler_get_lib(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE];

	memcpy(reply, msg, sizeof(reply));
	g_assert_cmpint(vmu_kvp_reply_get(reply, sizeof(reply), "world"), ==, 0);
	fake_reply(d, reply, sizeof(reply));
}

/* A daemon that writes the GET value where the GET layout has it (528). */
static void handler_get_528(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};

	memcpy(reply + 528, "hello", 6);
	fake_reply(d, reply, sizeof(reply));
}

static void handler_status_ok(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};

	fake_reply(d, reply, sizeof(reply));
}

static void handler_enum_long(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};

	memset(reply + 20, 'k', 300);
	memset(reply + 532, 'v', 1100);
	fake_reply(d, reply, sizeof(reply));
}

static void handler_silent(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
}

static void handler_short_then_ok(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};

	g_assert_cmpint(fake_reply(d, reply, VMU_KVP_MSG_SIZE - 1), ==, -EINVAL);
	g_assert_cmpint(fake_reply(d, reply, sizeof(reply)), ==, 0);
}

static void test_register_and_status(void)
{
	struct hvsim_service_status st;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim = test_sim_new(VMU_SERVICE_KVP, path, sizeof(path));

	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_true(st.enabled);
	g_assert_cmpint(st.primary, ==, HVSIM_NO_CONTACT);
	g_assert_false(st.negotiated);
	g_assert_cmpint(hvsim_get_status(sim, _VMU_SERVICE_MAX, &st), ==, -EINVAL);

	fake_daemon_start(sim, &d, VMU_SERVICE_KVP, path, handler_status_ok);
	g_assert_cmpint(hvsim_wait_registered(sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	fake_wait(sim, &d, fake_registered);
	g_assert_cmpint(d.register_result, ==, 0);
	g_assert_cmpstr(d.kernel_version, ==, "3.1");
	g_assert_cmpint(d.last_len, ==, 0); /* the registration reply is not a request */

	/* The deferred negotiation happens once the daemon registered. */
	g_assert_cmpint(hvsim_run_for(sim, 1000), ==, 0);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_OK);
	g_assert_true(st.daemon_connected);
	g_assert_true(st.daemon_registered);
	g_assert_true(st.negotiated);
	g_assert_cmpuint(st.framework.major, ==, 3);
	g_assert_cmpuint(st.framework.minor, ==, 0);
	g_assert_cmpuint(st.version.major, ==, 4); /* kernel offers 4.0, 3.0, 1.0 */
	g_assert_cmpuint(st.version.minor, ==, 0);
	g_assert_cmpstr(st.kernel_version, ==, "3.1");
	g_assert_cmpstr(hvsim_primary_status_name(st.primary), ==, "OK");

	fake_daemon_stop(&d);
	g_assert_cmpint(hvsim_wait_disconnected(sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_NO_CONTACT);
	g_assert_false(st.daemon_connected);
	g_assert_cmpstr(st.kernel_version, ==, "");
	test_sim_free(sim, path);
}

static void test_second_opener_busy(void)
{
	struct fake_daemon d, d2;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_status_ok, path, sizeof(path));

	fake_daemon_start(sim, &d2, VMU_SERVICE_KVP, path, NULL);
	fake_wait(sim, &d2, fake_opened);
	g_assert_cmpint(d2.open_result, ==, -EBUSY);
	fake_daemon_stop(&d2);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_get_round_trip(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_get_lib, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "hello", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.value, ==, "world");
	g_assert_cmpstr(r.key, ==, "hello");
	g_assert_cmpuint(r.value_type, ==, 1);
	g_assert_false(r.kernel_timeout);
	g_assert_cmpuint(r.latency_usec, >, 0);
	/* What the daemon was sent: op/pool, key with key_size = len + 1, value_size 0. */
	g_assert_cmpuint(d.last_len, ==, VMU_KVP_MSG_SIZE);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_GET);
	g_assert_cmpuint(d.last[1], ==, VMU_KVP_POOL_EXTERNAL);
	g_assert_cmpuint(vmu_le32(d.last + 8), ==, 6);
	g_assert_cmpstr((const char *)d.last + 16, ==, "hello");
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 0);
	g_assert_cmpuint(vmu_le32(d.last + 4), ==, 0);

	/* Pool 4 and a bad pool. */
	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_AUTO_INTERNAL, "x", &r), ==, 0);
	g_assert_cmpuint(d.last[1], ==, 4);
	g_assert_cmpint(hvsim_kvp_get(sim, _VMU_KVP_POOL_MAX, "x", &r), ==, -EINVAL);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_get_offset_528(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_get_528, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	/* The kernel reads from 532: "hello" at 528 shows as its fifth byte. */
	g_assert_cmpstr(r.value, ==, "o");
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_set_translation(void)
{
	static const char value[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_status_ok, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_set(sim, VMU_KVP_POOL_GUEST, "n\xc3\xa4me", value, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_SET);
	g_assert_cmpuint(d.last[1], ==, VMU_KVP_POOL_GUEST);
	g_assert_cmpuint(vmu_le32(d.last + 4), ==, 0); /* value_type not copied */
	g_assert_cmpstr((const char *)d.last + 16, ==, "n\xc3\xa4me");
	g_assert_cmpuint(vmu_le32(d.last + 8), ==, 6);
	g_assert_cmpstr((const char *)d.last + 528, ==, value);
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, strlen(value) + 1);

	g_assert_cmpint(hvsim_kvp_set_u32(sim, VMU_KVP_POOL_EXTERNAL, "u", 4294967295u, &r), ==, 0);
	g_assert_cmpstr((const char *)d.last + 528, ==, "4294967295");
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 11);
	g_assert_cmpuint(vmu_le32(d.last + 4), ==, 0);
	g_assert_cmpint(hvsim_kvp_set_u32(sim, VMU_KVP_POOL_EXTERNAL, "u", 0, &r), ==, 0);
	g_assert_cmpstr((const char *)d.last + 528, ==, "0");
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 2);
	g_assert_cmpint(hvsim_kvp_set_u64(sim, VMU_KVP_POOL_EXTERNAL, "u", UINT64_MAX, &r), ==, 0);
	g_assert_cmpstr((const char *)d.last + 528, ==, "18446744073709551615");
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 21);

	/* DELETE uses the kvp_delete layout. */
	g_assert_cmpint(hvsim_kvp_delete(sim, VMU_KVP_POOL_EXTERNAL, "gone", &r), ==, 0);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_DELETE);
	g_assert_cmpuint(vmu_le32(d.last + 4), ==, 5);
	g_assert_cmpstr((const char *)d.last + 8, ==, "gone");
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_set_surrogates(void)
{
	/* "a", lone high, "b", lone low, "c", pair U+1F600 */
	static const uint16_t key[] = {'a', 0xD800, 'b', 0xDC00, 'c', 0xD83D, 0xDE00};
	static const uint16_t value[] = {0xDBFF, 'x'};
	uint16_t long_value[1023];
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_status_ok, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_set_utf16(sim, VMU_KVP_POOL_EXTERNAL, key, G_N_ELEMENTS(key),
					    value, G_N_ELEMENTS(value), &r),
			==, 0);
	g_assert_cmpstr((const char *)d.last + 16, ==, "abc\xf0\x9f\x98\x80");
	g_assert_cmpuint(vmu_le32(d.last + 8), ==, 8);
	g_assert_cmpstr((const char *)d.last + 528, ==, "x");
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 2);

	/* 1023 units of U+20AC (3 bytes each) exceed the 2047-byte budget: the kernel keeps
	 * the 682 characters that fit. */
	for (size_t i = 0; i < G_N_ELEMENTS(long_value); i++)
		long_value[i] = 0x20AC;
	g_assert_cmpint(hvsim_kvp_set_utf16(sim, VMU_KVP_POOL_EXTERNAL, key, 1, long_value,
					    G_N_ELEMENTS(long_value), &r),
			==, 0);
	g_assert_cmpuint(strlen((const char *)d.last + 528), ==, 682 * 3);
	g_assert_cmpuint(vmu_le32(d.last + 12), ==, 682 * 3 + 1);
	g_assert_cmpint(
	    hvsim_kvp_set_utf16(sim, VMU_KVP_POOL_EXTERNAL, key, 1, long_value, 1024, &r), ==,
	    -ENOBUFS);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_enumerate_limits(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_enum_long, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_enumerate(sim, VMU_KVP_POOL_AUTO, 7, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_ENUMERATE);
	g_assert_cmpuint(d.last[1], ==, VMU_KVP_POOL_AUTO);
	g_assert_cmpuint(vmu_le32(d.last + 4), ==, 7);
	g_assert_cmpuint(strlen(r.key), ==, 254);
	g_assert_cmpuint(strlen(r.value), ==, 1022);
	g_assert_cmpuint(r.value_type, ==, 1);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_waits_for_registration(void)
{
	struct hvsim_service_status st;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim = test_sim_new(VMU_SERVICE_KVP, path, sizeof(path));

	/* No daemon ever: the request waits in the channel until the host gives up. */
	hvsim_set_host_timeout(sim, 200 * MS);
	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, -ETIMEDOUT);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_false(st.negotiated);
	g_assert_cmpuint(st.requests, ==, 0);

	/* A request made before the daemon registers is served once it has. */
	hvsim_set_host_timeout(sim, 10 * SEC);
	fake_daemon_start(sim, &d, VMU_SERVICE_KVP, path, handler_get_lib);
	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.value, ==, "world");
	fake_wait(sim, &d, fake_registered);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_kernel_timeout(void)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};
	struct hvsim_service_status st;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_silent, path, sizeof(path));

	hvsim_set_timeout(sim, VMU_SERVICE_KVP, 200 * MS);
	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_true(r.kernel_timeout);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_LOST_COMMUNICATION);
	g_assert_cmpuint(st.timeouts, ==, 1);
	g_assert_cmpuint(st.failures, ==, 1);

	/* The late reply is refused: no transaction is outstanding. */
	fake_send_later(&d, reply, sizeof(reply));
	fake_wait_sends(sim, &d, 1);
	g_assert_cmpint(d.last_send, ==, -EINVAL);

	/* Answering in time again restores OK. */
	d.handler = handler_status_ok;
	g_assert_cmpint(hvsim_kvp_set(sim, VMU_KVP_POOL_EXTERNAL, "k", "v", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_false(r.kernel_timeout);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_OK);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_write_size(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_short_then_ok, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_set(sim, VMU_KVP_POOL_EXTERNAL, "k", "v", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	fake_wait_sends(sim, &d, 2);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

/* Closes the device on the first request, as a daemon that dies would. */
static void handler_die(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	g_mutex_lock(&d->lock);
	d->stop = true;
	g_mutex_unlock(&d->lock);
}

static void test_daemon_close_fails_request(void)
{
	struct hvsim_service_status st;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_die, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_false(r.kernel_timeout);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_KVP, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_NO_CONTACT);
	g_assert_false(st.daemon_connected);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void handler_ip(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	static const struct vmu_kvp_ip_info info = {
	    .adapter_id = "00:15:5D:00:00:01",
	    .addr_family = 3,
	    .dhcp_enabled = 1,
	    .ip_addr = "192.0.2.5;2001:db8::5",
	    .sub_net = "255.255.255.0;/64",
	    .gate_way = "192.0.2.1;",
	    .dns_addr = "192.0.2.53;",
	};
	uint8_t reply[VMU_KVP_MSG_SIZE];

	memcpy(reply, msg, sizeof(reply));
	if (msg[0] == VMU_KVP_OP_GET_IP_INFO)
		g_assert_cmpint(vmu_kvp_reply_ip_info(reply, sizeof(reply), &info), ==, 0);
	else
		g_assert_cmpint(vmu_kvp_reply_status(reply, sizeof(reply), VMU_S_OK), ==, 0);
	fake_reply(d, reply, sizeof(reply));
}

static void test_ip_info(void)
{
	const struct hvsim_ip_config cfg = {
	    .adapter_id = "{0a1b2c3d-0000-0000-0000-000000000001}",
	    .addr_family = 1,
	    .dhcp_enabled = 0,
	    .ip_addr = "10.0.0.2",
	    .sub_net = "255.0.0.0",
	    .gate_way = "10.0.0.1",
	    .dns_addr = "10.0.0.53",
	};
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_ip, path, sizeof(path));

	g_assert_cmpint(hvsim_kvp_get_ip_info(sim, "00:15:5D:00:00:01", 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	/* The daemon got the adapter id and family only. */
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_GET_IP_INFO);
	g_assert_cmpstr((const char *)d.last + 4, ==, "00:15:5D:00:00:01");
	g_assert_cmpuint(d.last[262], ==, 0);
	g_assert_cmpstr(r.ip_addr, ==, "192.0.2.5;2001:db8::5");
	g_assert_cmpstr(r.sub_net, ==, "255.255.255.0;/64");
	g_assert_cmpstr(r.gate_way, ==, "192.0.2.1;");
	g_assert_cmpstr(r.dns_addr, ==, "192.0.2.53;");
	g_assert_cmpstr(r.adapter_id, ==, "00:15:5D:00:00:01");
	g_assert_cmpuint(r.addr_family, ==, 3);
	g_assert_cmpuint(r.dhcp_enabled, ==, 1);

	g_assert_cmpint(hvsim_kvp_set_ip_info(sim, &cfg, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_SET_IP_INFO);
	g_assert_cmpstr((const char *)d.last + 4, ==, cfg.adapter_id);
	g_assert_cmpuint(d.last[260], ==, 1);
	g_assert_cmpuint(d.last[261], ==, 0);
	g_assert_cmpstr((const char *)d.last + 262, ==, "10.0.0.2");
	g_assert_cmpstr((const char *)d.last + 2310, ==, "255.0.0.0");
	g_assert_cmpstr((const char *)d.last + 4358, ==, "10.0.0.1");
	g_assert_cmpstr((const char *)d.last + 5382, ==, "10.0.0.53");
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

/* SET_IP_INFO's lists as the kernel hands them over: each converted from the host's UTF-16
 * with a byte budget (1024, gateways 512, adapter id 128), a longer one cut at a character
 * boundary within it, NUL-terminated in the daemon's 2048/1024/256-byte arrays. */
static void test_set_ip_info_cut(void)
{
	GString *ip = g_string_new(NULL), *gw = g_string_new(NULL);
	struct hvsim_ip_config cfg = {
	    .adapter_id = "{0a1b2c3d-0000-0000-0000-000000000001}",
	    .addr_family = 3,
	    .sub_net = "24",
	    .dns_addr = "",
	};
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_KVP, &d, handler_ip, path, sizeof(path));

	/* 600 two-byte characters: 1200 bytes of UTF-8, cut to 512 characters (1024 bytes) */
	for (unsigned i = 0; i < 600; i++)
		g_string_append(ip, "\u00e9");
	/* 300 three-byte characters for 512 bytes: 170 fit (510 bytes) */
	for (unsigned i = 0; i < 300; i++)
		g_string_append(gw, "\u20ac");
	cfg.ip_addr = ip->str;
	cfg.gate_way = gw->str;
	g_assert_cmpint(hvsim_kvp_set_ip_info(sim, &cfg, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(d.last[0], ==, VMU_KVP_OP_SET_IP_INFO);
	g_assert_cmpuint(strlen((const char *)d.last + 262), ==, 1024);
	g_assert_cmpint(memcmp(d.last + 262, ip->str, 1024), ==, 0);
	g_assert_cmpuint(strlen((const char *)d.last + 4358), ==, 510);
	g_assert_cmpint(memcmp(d.last + 4358, gw->str, 510), ==, 0);
	g_assert_cmpstr((const char *)d.last + 2310, ==, "24");
	g_assert_cmpstr((const char *)d.last + 5382, ==, "");
	g_assert_cmpstr((const char *)d.last + 4, ==, cfg.adapter_id);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
	g_string_free(ip, TRUE);
	g_string_free(gw, TRUE);
}

static void test_not_enabled(void)
{
	struct hvsim_result r;
	struct hvsim *sim = NULL;

	g_assert_cmpint(hvsim_new(NULL, &sim), ==, 0);
	g_assert_cmpint(hvsim_kvp_get(sim, VMU_KVP_POOL_EXTERNAL, "k", &r), ==, -ENOTCONN);
	g_assert_cmpint(hvsim_wait_registered(sim, VMU_SERVICE_KVP, 1000), ==, -ENOTCONN);
	g_assert_null(hvsim_free(sim));
	g_assert_null(hvsim_free(NULL));
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvsim/kvp/register-status", test_register_and_status);
	g_test_add_func("/hvsim/kvp/second-opener", test_second_opener_busy);
	g_test_add_func("/hvsim/kvp/get", test_get_round_trip);
	g_test_add_func("/hvsim/kvp/get-offset-528", test_get_offset_528);
	g_test_add_func("/hvsim/kvp/set", test_set_translation);
	g_test_add_func("/hvsim/kvp/set-surrogates", test_set_surrogates);
	g_test_add_func("/hvsim/kvp/enumerate-limits", test_enumerate_limits);
	g_test_add_func("/hvsim/kvp/waits-for-registration", test_waits_for_registration);
	g_test_add_func("/hvsim/kvp/kernel-timeout", test_kernel_timeout);
	g_test_add_func("/hvsim/kvp/write-size", test_write_size);
	g_test_add_func("/hvsim/kvp/not-enabled", test_not_enabled);
	g_test_add_func("/hvsim/kvp/ip-info", test_ip_info);
	g_test_add_func("/hvsim/kvp/set-ip-info-cut", test_set_ip_info_cut);
	g_test_add_func("/hvsim/kvp/daemon-close", test_daemon_close_fails_request);
	return g_test_run();
}
