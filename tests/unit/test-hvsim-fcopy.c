/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim fcopy: registration, requests before registration, the START rebuild with UTF-8
 * names, WRITE forwarded as 6196 bytes, COMPLETE with 28 stale bytes, write sizes, the
 * fake CANCEL of hibernation and a whole-file copy.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tests/unit/test-hvsim-daemon.h"

static void handler_ok(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[4] = {0};

	fake_reply(d, reply, sizeof(reply));
}

static void handler_fail_write(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[4] = {0};

	if (vmu_le32(msg) == VMU_FCOPY_OP_WRITE)
		vmu_put_le32(reply, VMU_ERROR_DISK_FULL);
	fake_reply(d, reply, sizeof(reply));
}

static void handler_silent(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
}

static void handler_bad_size(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[8] = {0};

	g_assert_cmpint(fake_reply(d, reply, 8), ==, -EINVAL);
	g_assert_cmpint(fake_reply(d, reply, 3), ==, -EINVAL);
	g_assert_cmpint(fake_reply(d, reply, 4), ==, 0);
}

static void test_before_registration(void)
{
	struct hvsim_result r;
	char path[256];
	struct hvsim *sim = test_sim_new(VMU_SERVICE_FCOPY, path, sizeof(path));
	struct hvsim_service_status st;

	g_assert_cmpint(hvsim_fcopy_start(sim, "/tmp", "x", 0, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_cmpint(hvsim_fcopy_complete(sim, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_FCOPY, &st), ==, 0);
	g_assert_true(st.negotiated);
	g_assert_cmpuint(st.version.major, ==, 1);
	g_assert_cmpuint(st.version.minor, ==, 1);
	test_sim_free(sim, path);
}

static void test_messages(void)
{
	static const char file[] = "f\xc3\xbcr-\xf0\x9f\x98\x80.txt";
	static const char dir[] = "/tmp/\xe2\x82\xac";
	uint8_t data[100];
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_FCOPY, &d, handler_ok, path, sizeof(path));

	g_assert_cmpstr(d.kernel_version, ==, "1");
	g_assert_cmpint(hvsim_fcopy_start(sim, dir, file, VMU_FCOPY_OVER_WRITE, 12345, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpuint(r.latency_usec, >, 0);
	g_assert_cmpuint(d.last_len, ==, VMU_FCOPY_START_SIZE);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_START);
	g_assert_cmpstr((const char *)d.last + 36, ==, file);
	g_assert_cmpstr((const char *)d.last + 556, ==, dir);
	g_assert_cmpuint(vmu_le32(d.last + 1076), ==, VMU_FCOPY_OVER_WRITE);
	g_assert_cmpuint(vmu_le64(d.last + 1080), ==, 12345);

	memset(data, 'z', sizeof(data));
	g_assert_cmpint(hvsim_fcopy_write(sim, 4096, data, sizeof(data), &r), ==, 0);
	g_assert_cmpuint(d.last_len, ==, VMU_FCOPY_WRITE_SIZE);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_WRITE);
	g_assert_cmpuint(vmu_le64(d.last + 40), ==, 4096);
	g_assert_cmpuint(vmu_le32(d.last + 48), ==, sizeof(data));
	g_assert_cmpmem(d.last + 52, sizeof(data), data, sizeof(data));
	g_assert_cmpint(hvsim_fcopy_write(sim, 0, data, VMU_FCOPY_DATA_FRAGMENT + 1, &r), ==,
			-EINVAL);

	/* COMPLETE: the 36-byte header plus 28 bytes of the previous (WRITE) packet. */
	g_assert_cmpint(hvsim_fcopy_complete(sim, &r), ==, 0);
	g_assert_cmpuint(d.last_len, ==, VMU_FCOPY_HDR_SIZE + 28);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_COMPLETE);
	g_assert_cmpuint(vmu_le64(d.last + 40), ==, 4096); /* stale WRITE offset */
	g_assert_cmpint(hvsim_fcopy_cancel(sim, &r), ==, 0);
	g_assert_cmpuint(d.last_len, ==, VMU_FCOPY_HDR_SIZE + 28);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_CANCEL);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_long_name(void)
{
	char name[600];
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_FCOPY, &d, handler_ok, path, sizeof(path));

	/* 259 units fit the host array; the kernel keeps at most 259 bytes: 129 two-byte
	 * characters (258 bytes), the 130th does not fit and is skipped. */
	for (size_t i = 0; i < 259; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[2 * 259] = '\0';
	g_assert_cmpint(hvsim_fcopy_start(sim, "/", name, 0, 0, &r), ==, 0);
	g_assert_cmpuint(strlen((const char *)d.last + 36), ==, 258);
	name[2 * 259] = 'x';
	name[2 * 259 + 1] = '\0';
	g_assert_cmpint(hvsim_fcopy_start(sim, "/", name, 0, 0, &r), ==, -ENOBUFS);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_write_size(void)
{
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_FCOPY, &d, handler_bad_size, path, sizeof(path));

	g_assert_cmpint(hvsim_fcopy_complete(sim, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	fake_wait_sends(sim, &d, 3);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_hibernate(void)
{
	uint8_t reply[4] = {0};
	struct fake_daemon d;
	char path[256];
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_FCOPY, &d, handler_silent, path, sizeof(path));

	g_assert_cmpint(hvsim_hibernate(sim, VMU_SERVICE_FCOPY), ==, 0);
	fake_wait_msgs(sim, &d, 1);
	g_assert_cmpuint(d.last_len, ==, VMU_FCOPY_HDR_SIZE);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_CANCEL);
	fake_send_later(&d, reply, sizeof(reply));
	fake_wait_sends(sim, &d, 1);
	g_assert_cmpint(d.last_send, ==, -EINVAL);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

static void test_copy_file(void)
{
	g_autofree char *local = NULL;
	struct hvsim_result r;
	struct fake_daemon d;
	char path[256], buf[10000];
	int fd;
	struct hvsim *sim =
	    test_sim_with_daemon(VMU_SERVICE_FCOPY, &d, handler_ok, path, sizeof(path));

	fd = g_file_open_tmp("hvsim-copy-XXXXXX", &local, NULL);
	g_assert_cmpint(fd, >=, 0);
	memset(buf, 'a', sizeof(buf));
	g_assert_cmpint(write(fd, buf, sizeof(buf)), ==, sizeof(buf));
	close(fd);
	g_assert_cmpint(hvsim_fcopy_file(sim, local, "/tmp", "x", 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	/* START, two WRITEs (6144 + 3856), COMPLETE */
	g_assert_cmpuint(fake_n_msgs(&d), ==, 4);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_COMPLETE);

	d.handler = handler_fail_write;
	g_assert_cmpint(hvsim_fcopy_file(sim, local, "/tmp", "x", 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_ERROR_DISK_FULL);
	/* START, WRITE (failed), CANCEL */
	g_assert_cmpuint(fake_n_msgs(&d), ==, 7);
	g_assert_cmpuint(vmu_le32(d.last), ==, VMU_FCOPY_OP_CANCEL);
	g_assert_cmpint(hvsim_fcopy_file(sim, "/nonexistent/file", "/tmp", "x", 0, &r), ==,
			-ENOENT);
	unlink(local);
	fake_daemon_stop(&d);
	test_sim_free(sim, path);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvsim/fcopy/before-registration", test_before_registration);
	g_test_add_func("/hvsim/fcopy/messages", test_messages);
	g_test_add_func("/hvsim/fcopy/long-name", test_long_name);
	g_test_add_func("/hvsim/fcopy/write-size", test_write_size);
	g_test_add_func("/hvsim/fcopy/hibernate", test_hibernate);
	g_test_add_func("/hvsim/fcopy/copy-file", test_copy_file);
	return g_test_run();
}
