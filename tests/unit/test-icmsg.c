/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/vmbus-user/icmsg.c: the 28-byte IC header, the version tables and
 * every case of the NEGOTIATE algorithm of docs/protocol.md §1.2 (guest side), plus the host-side
 * builder and response parser.
 */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "vmu-internal.h"

typedef struct vmu_ic_version ver;

#define NEGO_OFF 28
#define DATA_OFF 36

/* A NEGOTIATE message with the given host entries, in a buffer of exactly len bytes
 * (len 0: the natural size). Returns the length. */
static size_t make_nego(uint8_t *buf, size_t size, const ver *fw, size_t n_fw, const ver *srv,
			size_t n_srv)
{
	size_t len = 0;

	memset(buf, 0xee, size);
	g_assert_cmpint(vmu_ic_negotiate_build(buf, size, fw, n_fw, srv, n_srv, &len), ==, 0);
	g_assert_cmpuint(len, ==, DATA_OFF + 4 * (n_fw + n_srv));
	return len;
}

static ver entry(const uint8_t *buf, size_t i)
{
	return (ver){vmu_le16(buf + DATA_OFF + 4 * i), vmu_le16(buf + DATA_OFF + 4 * i + 2)};
}

#define assert_ver(v, maj, min)                                                                    \
	do {                                                                                       \
		ver v_ = (v);                                                                      \
		g_assert_cmpuint(v_.major, ==, (maj));                                             \
		g_assert_cmpuint(v_.minor, ==, (min));                                             \
	} while (0)

static void assert_counts(const uint8_t *buf, unsigned fc, unsigned mc)
{
	g_assert_cmpuint(vmu_le16(buf + NEGO_OFF), ==, fc);
	g_assert_cmpuint(vmu_le16(buf + NEGO_OFF + 2), ==, mc);
}

static const ver kvp_fw[] = {{3, 0}, {1, 0}};
static const ver kvp_srv[] = {{4, 0}, {3, 0}, {1, 0}};

static int negotiate_kvp(uint8_t *buf, size_t len, ver *fw, ver *srv)
{
	return vmu_ic_negotiate(buf, len, kvp_fw, 2, kvp_srv, 3, fw, srv);
}

/* ------------------------------------------------------------ header */

/* Field by field: struct vmu_icmsg has padding. */
static void assert_same_header(const struct vmu_icmsg *a, const struct vmu_icmsg *b)
{
	g_assert_cmpuint(a->pipe_flags, ==, b->pipe_flags);
	g_assert_cmpuint(a->pipe_msgsize, ==, b->pipe_msgsize);
	assert_ver(a->icverframe, b->icverframe.major, b->icverframe.minor);
	g_assert_cmpuint(a->icmsgtype, ==, b->icmsgtype);
	assert_ver(a->icvermsg, b->icvermsg.major, b->icvermsg.minor);
	g_assert_cmpuint(a->icmsgsize, ==, b->icmsgsize);
	g_assert_cmpuint(a->status, ==, b->status);
	g_assert_cmpuint(a->ictransaction_id, ==, b->ictransaction_id);
	g_assert_cmpuint(a->icflags, ==, b->icflags);
}

static void test_header_layout(void)
{
	uint8_t buf[40];
	struct vmu_icmsg h =
			     {
				 .pipe_flags = 0x11223344,
				 .pipe_msgsize = 0x55667788,
				 .icverframe = {0x0102, 0x0304},
				 .icmsgtype = VMU_ICMSGTYPE_FCOPY,
				 .icvermsg = {0x0506, 0x0708},
				 .icmsgsize = 0x090a,
				 .status = 0x80004005,
				 .ictransaction_id = 0xab,
				 .icflags = 3,
			     },
			 back;
	static const uint8_t want[28] = {0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55, 0x02, 0x01,
					 0x04, 0x03, 0x07, 0x00, 0x06, 0x05, 0x08, 0x07, 0x0a, 0x09,
					 0x05, 0x40, 0x00, 0x80, 0xab, 0x03, 0x00, 0x00};
	size_t payload = 0;

	memset(buf, 0xff, sizeof(buf));
	g_assert_cmpint(vmu_icmsg_write(buf, 27, &h), ==, -ENOBUFS);
	g_assert_cmpuint(buf[0], ==, 0xff);
	g_assert_cmpint(vmu_icmsg_write(buf, 28, &h), ==, 0);
	g_assert_cmpmem(buf, 28, want, 28);
	g_assert_cmpuint(buf[28], ==, 0xff);

	g_assert_cmpint(vmu_icmsg_parse(buf, 27, &back, &payload), ==, -EBADMSG);
	g_assert_cmpuint(payload, ==, 0);
	g_assert_cmpint(vmu_icmsg_parse(buf, 28, &back, &payload), ==, 0);
	g_assert_cmpuint(payload, ==, 0);
	g_assert_cmpint(vmu_icmsg_parse(buf, 40, &back, &payload), ==, 0);
	g_assert_cmpuint(payload, ==, 12);
	assert_same_header(&back, &h);
	/* unaligned */
	memmove(buf + 1, buf, 28);
	g_assert_cmpint(vmu_icmsg_parse(buf + 1, 28, &back, NULL), ==, 0);
	g_assert_cmpuint(back.status, ==, 0x80004005);
	g_assert_cmpuint(back.icverframe.minor, ==, 0x0304);
}

static void test_set_response(void)
{
	uint8_t buf[32], before[32];

	memset(buf, 0x5a, sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	g_assert_cmpint(vmu_icmsg_set_response(buf, 27, 0), ==, -EBADMSG);
	g_assert_cmpmem(buf, sizeof(buf), before, sizeof(before));
	g_assert_cmpint(vmu_icmsg_set_response(buf, 28, VMU_E_FAIL), ==, 0);
	g_assert_cmpuint(vmu_le32(buf + 20), ==, VMU_E_FAIL);
	g_assert_cmpuint(buf[25], ==, VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_RESPONSE);
	/* nothing else changed */
	memcpy(before + 20, buf + 20, 4);
	before[25] = buf[25];
	g_assert_cmpmem(buf, sizeof(buf), before, sizeof(before));
}

static void test_versions_table(void)
{
	const ver *fw, *srv;
	size_t nf, ns;

	g_assert_cmpint(vmu_service_versions(VMU_SERVICE_KVP, &fw, &nf, &srv, &ns), ==, 0);
	g_assert_cmpuint(nf, ==, 2);
	assert_ver(fw[0], 3, 0);
	assert_ver(fw[1], 1, 0);
	g_assert_cmpuint(ns, ==, 3);
	assert_ver(srv[0], 4, 0);
	assert_ver(srv[1], 3, 0);
	assert_ver(srv[2], 1, 0);
	g_assert_cmpint(vmu_service_versions(VMU_SERVICE_VSS, &fw, &nf, &srv, &ns), ==, 0);
	g_assert_cmpuint(nf, ==, 1);
	assert_ver(fw[0], 3, 0);
	g_assert_cmpuint(ns, ==, 1);
	assert_ver(srv[0], 5, 0);
	g_assert_cmpint(vmu_service_versions(VMU_SERVICE_FCOPY, &fw, &nf, &srv, &ns), ==, 0);
	g_assert_cmpuint(nf, ==, 1);
	assert_ver(fw[0], 3, 0);
	g_assert_cmpuint(ns, ==, 1);
	assert_ver(srv[0], 1, 1);
	g_assert_cmpint(vmu_service_versions(_VMU_SERVICE_MAX, &fw, &nf, &srv, &ns), ==, -EINVAL);
}

/* ------------------------------------------------------------ negotiate, guest side */

static void test_short_payload(void)
{
	uint8_t buf[64], before[64];
	ver fw = {7, 7}, srv = {7, 7};

	memset(buf, 0x33, sizeof(buf));
	vmu_put_le16(buf + NEGO_OFF, 1);
	vmu_put_le16(buf + NEGO_OFF + 2, 1);
	memcpy(before, buf, sizeof(buf));
	for (size_t len = 0; len < 32; len++) {
		g_assert_cmpint(negotiate_kvp(buf, len, &fw, &srv), ==, -EBADMSG);
		g_assert_cmpmem(buf, sizeof(buf), before, sizeof(before));
	}
	assert_ver(fw, 7, 7);
	assert_ver(srv, 7, 7);
}

static void test_counts_over_100(void)
{
	uint8_t buf[28 + 8 + 4 * 202];
	ver fw = {7, 7};

	for (unsigned which = 0; which < 2; which++) {
		unsigned fc = which == 0 ? 101 : 1, mc = which == 0 ? 1 : 101;

		memset(buf, 0, sizeof(buf));
		vmu_put_le16(buf + NEGO_OFF, (uint16_t)fc);
		vmu_put_le16(buf + NEGO_OFF + 2, (uint16_t)mc);
		vmu_put_le16(buf + DATA_OFF, 3); /* a matching 3.0 that must not be used */
		g_assert_cmpint(negotiate_kvp(buf, sizeof(buf), &fw, NULL), ==, -EBADMSG);
		g_assert_cmpuint(vmu_le16(buf + 18), ==, 0x10);
		assert_counts(buf, 0, 0);
		assert_ver(entry(buf, 0), fc, 0);
		assert_ver(entry(buf, 1), mc, 0);
		assert_ver(fw, 7, 7);
	}
	/* exactly 100 is allowed: 100 framework entries, no service entry -> no service */
	memset(buf, 0, sizeof(buf));
	vmu_put_le16(buf + NEGO_OFF, 100);
	for (size_t i = 0; i < 100; i++)
		vmu_put_le16(buf + DATA_OFF + 4 * i, 3);
	g_assert_cmpint(negotiate_kvp(buf, 28 + 8 + 400, NULL, NULL), ==, -EPROTO);
	assert_counts(buf, 0, 0);
	assert_ver(entry(buf, 0), 3, 0);
	assert_ver(entry(buf, 1), 0, 0); /* host service count */
}

static void test_not_fitting(void)
{
	const ver hf[] = {{3, 0}}, hs[] = {{4, 0}};
	uint8_t buf[64];
	size_t len = make_nego(buf, sizeof(buf), hf, 1, hs, 1);

	g_assert_cmpuint(len, ==, 44);
	/* one byte short: malformed; entry [0] rewritten with the host count, entry [1]
	 * lies past len and is left alone */
	g_assert_cmpint(negotiate_kvp(buf, 43, NULL, NULL), ==, -EBADMSG);
	assert_counts(buf, 0, 0);
	assert_ver(entry(buf, 0), 1, 0);
	assert_ver(entry(buf, 1), 4, 0);
	g_assert_cmpuint(vmu_le16(buf + 18), ==, 0x10);

	/* at the limit: fine */
	len = make_nego(buf, sizeof(buf), hf, 1, hs, 1);
	g_assert_cmpint(negotiate_kvp(buf, 44, NULL, NULL), ==, 0);
	assert_counts(buf, 1, 1);

	/* 32..35 bytes: counts readable, entries absent */
	for (size_t l = 32; l < 36; l++) {
		make_nego(buf, sizeof(buf), hf, 1, hs, 1);
		g_assert_cmpint(negotiate_kvp(buf, l, NULL, NULL), ==, -EBADMSG);
		assert_counts(buf, 0, 0);
		assert_ver(entry(buf, 0), 3, 0); /* beyond len: untouched */
	}
}

static void test_first_framework_hit(void)
{
	/* Host lists 1.0 first; our preference (3.0) wins. */
	const ver hf[] = {{1, 0}, {3, 0}}, hs[] = {{1, 0}, {3, 0}, {4, 0}};
	uint8_t buf[64];
	ver fw, srv;
	size_t len = make_nego(buf, sizeof(buf), hf, 2, hs, 3);

	g_assert_cmpint(negotiate_kvp(buf, len, &fw, &srv), ==, 0);
	assert_ver(fw, 3, 0);
	assert_ver(srv, 4, 0);
	assert_counts(buf, 1, 1);
	assert_ver(entry(buf, 0), 3, 0);
	assert_ver(entry(buf, 1), 4, 0);
	g_assert_cmpuint(vmu_le16(buf + 18), ==, 0x10);

	/* only 1.0 offered: second preference */
	{
		const ver hf1[] = {{1, 0}}, hs1[] = {{3, 0}};

		len = make_nego(buf, sizeof(buf), hf1, 1, hs1, 1);
		g_assert_cmpint(negotiate_kvp(buf, len, &fw, &srv), ==, 0);
		assert_ver(fw, 1, 0);
		assert_ver(srv, 3, 0);
	}
}

static void test_framework_miss(void)
{
	/* 4.0 is one of our service versions but sits in the host's framework range, 3.0 in
	 * its service range: neither search may look into the other range. */
	const ver hf[] = {{2, 0}, {4, 0}}, hs[] = {{3, 0}};
	uint8_t buf[64];
	ver fw = {9, 9}, srv = {9, 9};
	size_t len = make_nego(buf, sizeof(buf), hf, 2, hs, 1);

	g_assert_cmpint(negotiate_kvp(buf, len, &fw, &srv), ==, -EPROTO);
	assert_counts(buf, 0, 0);
	assert_ver(entry(buf, 0), 2, 0); /* host framework count */
	assert_ver(entry(buf, 1), 1, 0); /* host service count */
	assert_ver(fw, 9, 9);
	assert_ver(srv, 9, 9);
}

static void test_service_miss(void)
{
	const ver hf[] = {{3, 0}}, hs[] = {{2, 0}, {5, 0}, {4, 0}};
	uint8_t buf[64];
	ver fw = {9, 9};
	size_t len = make_nego(buf, sizeof(buf), hf, 1, hs, 3);

	/* VSS wants 5.0: found. KVP wants 4.0/3.0/1.0: 4.0 found. FCOPY wants 1.1: miss. */
	g_assert_cmpint(
	    vmu_ic_negotiate(buf, len, (ver[]){{3, 0}}, 1, (ver[]){{1, 1}}, 1, &fw, NULL), ==,
	    -EPROTO);
	assert_counts(buf, 0, 0);
	assert_ver(entry(buf, 0), 3, 0); /* chosen framework stays */
	assert_ver(entry(buf, 1), 3, 0); /* host service count */
	assert_ver(fw, 9, 9);
}

static void test_exact_match_only(void)
{
	const ver hf[] = {{3, 1}, {1, 1}}, hs[] = {{4, 0}};
	const ver hf2[] = {{3, 0}}, hs2[] = {{4, 1}, {3, 1}, {1, 1}, {5, 0}};
	uint8_t buf[64];
	size_t len = make_nego(buf, sizeof(buf), hf, 2, hs, 1);

	g_assert_cmpint(negotiate_kvp(buf, len, NULL, NULL), ==, -EPROTO);
	len = make_nego(buf, sizeof(buf), hf2, 1, hs2, 4);
	g_assert_cmpint(negotiate_kvp(buf, len, NULL, NULL), ==, -EPROTO);
	assert_ver(entry(buf, 0), 3, 0);
	assert_ver(entry(buf, 1), 4, 0);
}

static void test_round_trip(void)
{
	static const struct {
		enum vmu_service service;
		ver fw, srv;
	} want[] = {
	    {VMU_SERVICE_KVP, {3, 0}, {4, 0}},
	    {VMU_SERVICE_VSS, {3, 0}, {5, 0}},
	    {VMU_SERVICE_FCOPY, {3, 0}, {1, 1}},
	};
	/* What a host typically offers: everything it knows. */
	const ver hf[] = {{1, 0}, {3, 0}}, hs[] = {{1, 0}, {1, 1}, {3, 0}, {4, 0}, {5, 0}};

	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		const ver *fw, *srv;
		size_t nf, ns, len;
		uint8_t buf[128];
		ver gfw, gsrv, hfw, hsrv;
		struct vmu_icmsg h;

		g_assert_cmpint(vmu_service_versions(want[i].service, &fw, &nf, &srv, &ns), ==, 0);
		len = make_nego(buf, sizeof(buf), hf, 2, hs, 5);
		g_assert_cmpint(vmu_ic_negotiate(buf, len, fw, nf, srv, ns, &gfw, &gsrv), ==, 0);
		g_assert_cmpint(vmu_icmsg_set_response(buf, len, VMU_S_OK), ==, 0);
		g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, len, &hfw, &hsrv), ==, 0);
		assert_ver(gfw, want[i].fw.major, want[i].fw.minor);
		assert_ver(gsrv, want[i].srv.major, want[i].srv.minor);
		assert_ver(hfw, want[i].fw.major, want[i].fw.minor);
		assert_ver(hsrv, want[i].srv.major, want[i].srv.minor);
		g_assert_cmpint(vmu_icmsg_parse(buf, len, &h, NULL), ==, 0);
		g_assert_cmpuint(h.icmsgtype, ==, VMU_ICMSGTYPE_NEGOTIATE);
		g_assert_cmpuint(h.icflags, ==, 5);
		g_assert_cmpuint(h.status, ==, 0);
		g_assert_cmpuint(h.icmsgsize, ==, 0x10);
	}
}

/* ------------------------------------------------------------ host side */

static void test_build(void)
{
	const ver hf[] = {{3, 0}}, hs[] = {{4, 0}, {3, 0}};
	ver many[101] = {{0, 0}};
	uint8_t buf[600];
	size_t len = 99;
	struct vmu_icmsg h;

	g_assert_cmpint(vmu_ic_negotiate_build(buf, 47, hf, 1, hs, 2, &len), ==, -ENOBUFS);
	g_assert_cmpuint(len, ==, 99);
	g_assert_cmpint(vmu_ic_negotiate_build(buf, 48, hf, 1, hs, 2, &len), ==, 0);
	g_assert_cmpuint(len, ==, 48);
	g_assert_cmpint(vmu_icmsg_parse(buf, len, &h, NULL), ==, 0);
	g_assert_cmpuint(h.icmsgtype, ==, VMU_ICMSGTYPE_NEGOTIATE);
	g_assert_cmpuint(h.icflags, ==, VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_REQUEST);
	g_assert_cmpuint(h.pipe_msgsize, ==, 40);
	g_assert_cmpuint(h.icmsgsize, ==, 20);
	assert_counts(buf, 1, 2);
	g_assert_cmpuint(vmu_le32(buf + 32), ==, 0);
	assert_ver(entry(buf, 0), 3, 0);
	assert_ver(entry(buf, 1), 4, 0);
	assert_ver(entry(buf, 2), 3, 0);

	g_assert_cmpint(vmu_ic_negotiate_build(buf, sizeof(buf), many, 101, hs, 1, &len), ==,
			-EINVAL);
	g_assert_cmpint(vmu_ic_negotiate_build(buf, sizeof(buf), hf, 1, many, 101, &len), ==,
			-EINVAL);
	g_assert_cmpint(vmu_ic_negotiate_build(buf, sizeof(buf), many, 100, many, 30, &len), ==, 0);
	g_assert_cmpuint(len, ==, 36 + 4 * 130);
}

static void test_parse_response(void)
{
	uint8_t buf[64] = {0};
	ver fw = {9, 9}, srv = {9, 9};

	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 35, &fw, &srv), ==, -EBADMSG);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 36, &fw, &srv), ==, -EPROTO);
	vmu_put_le16(buf + NEGO_OFF, 1);
	vmu_put_le16(buf + NEGO_OFF + 2, 1);
	vmu_put_le16(buf + DATA_OFF, 3);
	vmu_put_le16(buf + DATA_OFF + 4, 1);
	vmu_put_le16(buf + DATA_OFF + 6, 1);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 43, &fw, &srv), ==, -EBADMSG);
	assert_ver(fw, 9, 9);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 44, &fw, &srv), ==, 0);
	assert_ver(fw, 3, 0);
	assert_ver(srv, 1, 1);
	vmu_put_le16(buf + NEGO_OFF, 2);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 64, &fw, &srv), ==, -EBADMSG);
	vmu_put_le16(buf + NEGO_OFF, 0);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, 64, &fw, &srv), ==, -EBADMSG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/icmsg/header-layout", test_header_layout);
	g_test_add_func("/icmsg/set-response", test_set_response);
	g_test_add_func("/icmsg/versions-table", test_versions_table);
	g_test_add_func("/icmsg/negotiate/short-payload", test_short_payload);
	g_test_add_func("/icmsg/negotiate/counts-over-100", test_counts_over_100);
	g_test_add_func("/icmsg/negotiate/not-fitting", test_not_fitting);
	g_test_add_func("/icmsg/negotiate/first-framework-hit", test_first_framework_hit);
	g_test_add_func("/icmsg/negotiate/framework-miss", test_framework_miss);
	g_test_add_func("/icmsg/negotiate/service-miss", test_service_miss);
	g_test_add_func("/icmsg/negotiate/exact-match-only", test_exact_match_only);
	g_test_add_func("/icmsg/negotiate/round-trip", test_round_trip);
	g_test_add_func("/icmsg/build", test_build);
	g_test_add_func("/icmsg/parse-response", test_parse_response);
	return g_test_run();
}
