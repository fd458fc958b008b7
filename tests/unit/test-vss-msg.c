/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/vmbus-user/vss-msg.c: request validation and the 12-byte reply,
 * including the HOT_BACKUP layout the kernel needs for NO_AUTO_RECOVERY. */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <linux/hyperv.h>
#include <string.h>

#include "vmu-internal.h"

static void test_parse(void)
{
	uint8_t m[16] = {0};
	struct vmu_vss_request req = {.op = 42};

	g_assert_cmpint(vmu_vss_request_parse(m, 11, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_vss_request_parse(m, 13, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_vss_request_parse(m, 0, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_vss_request_parse(NULL, 12, &req), ==, -EBADMSG);
	g_assert_cmpint(req.op, ==, 42);
	for (unsigned op = 0; op < 256; op++) {
		m[0] = (uint8_t)op;
		m[8] = 0xff; /* flags are not looked at */
		if (op < 8) {
			g_assert_cmpint(vmu_vss_request_parse(m, 12, &req), ==, 0);
			g_assert_cmpint(req.op, ==, op);
		} else {
			g_assert_cmpint(vmu_vss_request_parse(m, 12, &req), ==, -ERANGE);
		}
	}
	/* registration ops are not requests */
	m[0] = VSS_OP_REGISTER1;
	g_assert_cmpint(vmu_vss_request_parse(m, 12, &req), ==, -ERANGE);
	m[0] = VMU_VSS_OP_FREEZE;
	g_assert_cmpint(vmu_vss_request_parse(m, 12, NULL), ==, 0);
}

static void test_reply(void)
{
	uint8_t m[16];
	const struct hv_vss_msg *k = (const void *)m;

	memset(m, 0xcc, sizeof(m));
	g_assert_cmpint(vmu_vss_reply(m, 11, VMU_VSS_OP_FREEZE, 0), ==, -ENOBUFS);
	g_assert_cmpint(vmu_vss_reply(m, 12, _VMU_VSS_OP_MAX, 0), ==, -EINVAL);
	g_assert_cmpuint(m[0], ==, 0xcc);

	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_FREEZE, VMU_S_OK), ==, 0);
	for (size_t i = 0; i < 12; i++)
		g_assert_cmpuint(m[i], ==, 0);
	g_assert_cmpuint(m[12], ==, 0xcc);

	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_THAW, VMU_E_FAIL), ==, 0);
	g_assert_cmpuint(vmu_le32(m), ==, 0x80004005);
	g_assert_cmpint(k->error, ==, (int)HV_E_FAIL);
	for (size_t i = 4; i < 12; i++)
		g_assert_cmpuint(m[i], ==, 0);
}

/* Successful HOT_BACKUP: byte 0 must read as VSS_OP_HOT_BACKUP and the whole int is the
 * (success) status the host gets. */
static void test_reply_hot_backup(void)
{
	uint8_t m[12];
	const struct hv_vss_msg *k = (const void *)m;

	memset(m, 0xcc, sizeof(m));
	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_HOT_BACKUP, VMU_S_OK), ==, 0);
	g_assert_cmpuint(m[0], ==, 2);
	g_assert_cmpuint(k->vss_hdr.operation, ==, VSS_OP_HOT_BACKUP);
	g_assert_cmpint(k->error, ==, 2);
	g_assert_cmpuint(k->error & 0x80000000u, ==, 0); /* still a success HRESULT */
	for (size_t i = 1; i < 12; i++)
		g_assert_cmpuint(m[i], ==, 0);

	/* a failed HOT_BACKUP reports the failure */
	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_HOT_BACKUP, VMU_E_FAIL), ==, 0);
	g_assert_cmpuint(vmu_le32(m), ==, VMU_E_FAIL);
	g_assert_cmpuint(m[0], !=, VSS_OP_HOT_BACKUP);
}

/* A status whose low byte reads as a registration op would not reach the host. */
static void test_reply_unsendable_status(void)
{
	uint8_t m[12] = {0};

	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_FREEZE, 0x80000080u), ==, -EINVAL);
	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_FREEZE, 0x80000081u), ==, -EINVAL);
	g_assert_cmpint(vmu_vss_reply(m, 12, VMU_VSS_OP_FREEZE, 0x80000082u), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vss-msg/parse", test_parse);
	g_test_add_func("/vss-msg/reply", test_reply);
	g_test_add_func("/vss-msg/reply-hot-backup", test_reply_hot_backup);
	g_test_add_func("/vss-msg/reply-unsendable-status", test_reply_unsendable_status);
	return g_test_run();
}
