/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim VSS: registration, requests before registration, kernel-answered ops, the
 * HOT_BACKUP flags rule, the FREEZE deadline, write sizes and the fake THAW of hibernation.
 */
#include <errno.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tests/unit/test-hvsim-daemon.h"

#define MS 1000ull
#define SEC 1000000ull

static void handler_ok(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_VSS_MSG_SIZE] = {0};

	fake_reply(d, reply, sizeof(reply));
}

/* Reply whose op byte (= error's low byte) is HOT_BACKUP. */
static void handler_op_byte(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_VSS_MSG_SIZE] = {VMU_VSS_OP_HOT_BACKUP};

	fake_reply(d, reply, sizeof(reply));
}

static void handler_silent(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
}

static void handler_bad_size(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_VSS_MSG_SIZE + 1] = {0};

	g_assert_cmpint(fake_reply(d, reply, VMU_VSS_MSG_SIZE + 1), ==, -EINVAL);
	g_assert_cmpint(fake_reply(d, reply, VMU_VSS_MSG_SIZE - 1), ==, -EINVAL);
	g_assert_cmpint(fake_reply(d, reply, VMU_VSS_MSG_SIZE), ==, 0);
}

static void test_before_registration(void)
{
	struct hvsim_service_status st;
	struct hvsim_result r;
	char path[256];
	struct hvsim *sim = test_sim_new(VMU_SERVICE_VSS, path, sizeof(path));

	/* Forwarded ops fail at once, kernel-answered ones succeed; no daemon needed for
	 * negotiation. */
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_FREEZE, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_false(r.kernel_timeout);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_HOT_BACKUP, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_GET_DM_INFO, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(r.vss_flags, ==, 0);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_BU_COMPLETE, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_VSS, &st), ==, 0);
	g_assert_true(st.negotiated);
	g_assert_cmpuint(st.version.major, ==, 5);
	g_assert_cmpuint(st.version.minor, ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_NO_CONTACT);
	g_assert_cmpuint(st.requests, ==, 4);
	g_assert_cmpuint(st.failures, ==, 2);
	test_sim_free(sim, path);
}

static void test_register_and_forward(void)
{
	struct hvsim_service_status st;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_VSS, &d, handler_ok, path, sizeof(path));

	g_assert_cmpstr(d.kernel_version, ==, "129");
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_VSS, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_OK);
	g_assert_cmpstr(st.kernel_version, ==, "129");

	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_FREEZE, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(r.latency_usec, >, 0);
	g_assert_cmpuint(d.last_len, ==, VMU_VSS_MSG_SIZE);
	g_assert_cmpuint(d.last[0], ==, VMU_VSS_OP_FREEZE);
	for (size_t i = 1; i < VMU_VSS_MSG_SIZE; i++)
		g_assert_cmpuint(d.last[i], ==, 0);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_THAW, &r), ==, 0);
	g_assert_cmpuint(d.last[0], ==, VMU_VSS_OP_THAW);
	/* HOT_BACKUP answered with error 0: the op byte is 0, no flags. */
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_HOT_BACKUP, &r), ==, 0);
	g_assert_cmpuint(d.last[0], ==, VMU_VSS_OP_HOT_BACKUP);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(r.vss_flags, ==, 0);
	/* GET_DM_INFO never reaches the daemon. */
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_GET_DM_INFO, &r), ==, 0);
	g_assert_cmpuint(fake_n_msgs(&d), ==, 3);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_hot_backup_flags(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_VSS, &d, handler_op_byte, path, sizeof(path));

	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_HOT_BACKUP, &r), ==, 0);
	g_assert_cmpuint(r.vss_flags, ==, VMU_VSS_HBU_NO_AUTO_RECOVERY);
	g_assert_cmphex(r.status, ==, 2);
	/* The same reply to a FREEZE also sets the flags: the kernel checks the reply. */
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_FREEZE, &r), ==, 0);
	g_assert_cmpuint(r.vss_flags, ==, VMU_VSS_HBU_NO_AUTO_RECOVERY);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_freeze_timeout(void)
{
	struct hvsim_service_status st;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_VSS, &d, handler_silent, path, sizeof(path));

	/* FREEZE uses the freeze deadline, not the general one. */
	hvsim_set_timeout(sim, VMU_SERVICE_VSS, 60 * SEC);
	hvsim_set_freeze_timeout(sim, 200 * MS);
	hvsim_set_host_timeout(sim, 30 * SEC);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_FREEZE, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_true(r.kernel_timeout);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_VSS, &st), ==, 0);
	g_assert_cmpint(st.primary, ==, HVSIM_LOST_COMMUNICATION);
	g_assert_cmpuint(st.timeouts, ==, 1);

	/* And THAW the general one. */
	hvsim_set_timeout(sim, VMU_SERVICE_VSS, 200 * MS);
	hvsim_set_freeze_timeout(sim, 60 * SEC);
	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_THAW, &r), ==, 0);
	g_assert_true(r.kernel_timeout);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_write_size(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_VSS, &d, handler_bad_size, path, sizeof(path));

	g_assert_cmpint(hvsim_vss_request(sim, VMU_VSS_OP_THAW, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	fake_wait_sends(sim, &d, 3);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_hibernate(void)
{
	uint8_t reply[VMU_VSS_MSG_SIZE] = {0};
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_VSS, &d, handler_silent, path, sizeof(path));

	g_assert_cmpint(hvsim_hibernate(sim, VMU_SERVICE_VSS), ==, 0);
	fake_wait_msgs(sim, &d, 1);
	g_assert_cmpuint(d.last_len, ==, VMU_VSS_MSG_SIZE);
	g_assert_cmpuint(d.last[0], ==, VMU_VSS_OP_THAW);
	fake_send_later(&d, reply, sizeof(reply));
	fake_wait_sends(sim, &d, 1);
	g_assert_cmpint(d.last_send, ==, -EINVAL);
	g_assert_cmpint(hvsim_hibernate(sim, _VMU_SERVICE_MAX), ==, -EINVAL);
	g_assert_cmpint(hvsim_hibernate(sim, VMU_SERVICE_KVP), ==, -ENOTCONN);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvsim/vss/before-registration", test_before_registration);
	g_test_add_func("/hvsim/vss/register-forward", test_register_and_forward);
	g_test_add_func("/hvsim/vss/hot-backup-flags", test_hot_backup_flags);
	g_test_add_func("/hvsim/vss/freeze-timeout", test_freeze_timeout);
	g_test_add_func("/hvsim/vss/write-size", test_write_size);
	g_test_add_func("/hvsim/vss/hibernate", test_hibernate);
	return g_test_run();
}
