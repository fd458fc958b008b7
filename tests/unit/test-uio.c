/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the UIO transport (lib/vmbus-user/uio.c).
 *
 * Discovery runs against fake sysfs trees built here. The transport runs against the
 * simulated host (libhvsim) in a separate process: the test process is the host, a forked
 * child is the guest using the library as a daemon would. The child reports through its
 * replies (status codes the host checks) and its exit code; a pipe paces the steps where
 * the guest must wait for the host (re-enable), so nothing depends on timing.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim.h"

#define KVP_CLASS "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
#define VSS_CLASS "35fa2e29-ea23-4236-96ae-3a6ebacba440"
#define INST_KVP "242ff919-07db-4180-9c2e-b86cb68c8c55"
#define INST_FCOPY "9b1d5a53-3c4e-4f4a-8a5e-1f2b3c4d5e6f"
#define INST_VSS "2450ee40-33bf-4fbd-892e-9fb06e9214cf"

/* ------------------------------------------------------------------------------------------
 * Fake sysfs trees
 * ------------------------------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("test-uio-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	g_assert_cmpint(nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

static void put_file(const char *root, const char *rel, const char *content)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, content, -1, NULL));
}

static void put_dir(const char *root, const char *rel)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);

	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}

static void put_symlink(const char *root, const char *rel, const char *target)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);

	g_assert_cmpint(symlink(target, path), ==, 0);
}

static char *read_file(const char *root, const char *rel)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	char *content = NULL;

	g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
	return content;
}

static void add_device(const char *root, const char *instance, const char *class_id)
{
	g_autofree char *rel = g_strdup_printf("bus/vmbus/devices/%s/class_id", instance);
	g_autofree char *text = g_strdup_printf("{%s}\n", class_id);

	put_file(root, rel, text);
}

/* A tree with KVP, fcopy and VSS devices; fcopy optionally bound to uio_hv_generic as
 * uio_name with map0 size text; the driver directory with an empty new_id. */
static char *make_tree(const char *uio_name, const char *map_size)
{
	char *root = make_tmpdir();

	add_device(root, INST_KVP, KVP_CLASS);
	add_device(root, INST_VSS, VSS_CLASS);
	add_device(root, INST_FCOPY, VMU_FCOPY_CLASS_ID);
	put_file(root, "bus/vmbus/drivers/uio_hv_generic/new_id", "");
	put_dir(root, "bus/vmbus/drivers/hv_utils");
	put_symlink(root, "bus/vmbus/devices/" INST_KVP "/driver", "../../drivers/hv_utils");
	if (uio_name) {
		g_autofree char *uio =
		    g_strdup_printf("bus/vmbus/devices/%s/uio/%s", INST_FCOPY, uio_name);
		g_autofree char *size = g_strdup_printf("class/uio/%s/maps/map0/size", uio_name);

		put_dir(root, uio);
		put_symlink(root, "bus/vmbus/devices/" INST_FCOPY "/driver",
			    "../../drivers/uio_hv_generic");
		put_file(root, size, map_size);
	}
	return root;
}

static void test_find_by_class(void)
{
	g_autofree char *root = make_tree("uio3", "0x0000000000010000\n");
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;

	/* Decoys: a device named like the reference daemon's hard-coded fcopy instance but
	 * of another class, and a lower-numbered uio entry that is not a uio node. */
	add_device(root, "eb765408-105f-49b6-b4aa-c123b64d17d4", VSS_CLASS);
	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/uio/uio");
	put_file(root, "bus/vmbus/devices/" INST_FCOPY "/uio/uio1x", "");
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, 0);
	g_assert_cmpstr(dev.instance_id, ==, INST_FCOPY);
	g_assert_cmpstr(dev.uio_name, ==, "uio3");
	g_assert_cmpuint(dev.map_size, ==, 0x10000);
	/* Any class works; the KVP device is bound to hv_utils. */
	g_assert_cmpint(vmu_uio_find(root, KVP_CLASS, 0, &dev), ==, -EBUSY);
	/* Class GUID without braces in class_id, and lowest uio number wins. */
	put_file(root, "bus/vmbus/devices/" INST_FCOPY "/class_id", VMU_FCOPY_CLASS_ID "\n");
	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/uio/uio2");
	put_file(root, "class/uio/uio2/maps/map0/size", "0xa000\n");
	g_assert_cmpint(vmu_uio_find(root, VMU_FCOPY_CLASS_ID, 0, &dev), ==, 0);
	g_assert_cmpstr(dev.uio_name, ==, "uio2");
	g_assert_cmpuint(dev.map_size, ==, 0xa000);
	rm_rf(root);
}

/* Old kernels: the channel's `ring` file is 4 MiB whatever the ring; map0 is the truth. */
static void test_ring_file_ignored(void)
{
	g_autofree char *root = make_tree("uio0", "0x0000000000008000\n");
	g_autofree char *ring =
	    g_build_filename(root, "bus/vmbus/devices", INST_FCOPY, "channels/14/ring", NULL);
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;
	int fd;

	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/channels/14");
	fd = open(ring, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 4 * 1024 * 1024), ==, 0);
	close(fd);
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, 0);
	g_assert_cmpuint(dev.map_size, ==, 0x8000); /* two rings of 16 KiB, not 2 x 2 MiB */
	rm_rf(root);
}

static void test_map_size_validation(void)
{
	static const struct {
		const char *text;
		int expect;
		uint64_t size;
	} cases[] = {
	    {"0x2010\n", 0, 0x2010},   /* smallest: two rings of a header page + 8 bytes */
	    {"0x2008\n", -EBADMSG, 0}, /* data area not a multiple of 8 */
	    {"0x2000\n", -EBADMSG, 0}, /* no data area */
	    {"0x2011\n", -EBADMSG, 0}, /* odd */
	    {"0x0\n", -EBADMSG, 0},
	    {"0x\n", -EBADMSG, 0},
	    {"65536\n", -EBADMSG, 0}, /* not the format uio prints */
	    {"0x0x10000\n", -EBADMSG, 0},
	    {"0x10000 \n", -EBADMSG, 0},
	    {"-0x10000\n", -EBADMSG, 0},
	    {"0x10002000\n", 0, 0x10002000},        /* 128 MiB data per ring */
	    {"0x10002010\n", -EBADMSG, 0},          /* above the limit */
	    {"0xffffffffffffffff0\n", -EBADMSG, 0}, /* 17 digits */
	    {"0x0000000000010000\n", 0, 0x10000},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *root = make_tree("uio0", cases[i].text);
		struct vmu_uio_device dev = {.size = sizeof(dev), .map_size = 42};

		g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, cases[i].expect);
		g_assert_cmpuint(dev.map_size, ==, cases[i].expect == 0 ? cases[i].size : 42);
		rm_rf(root);
	}
}

static void test_not_bound(void)
{
	g_autofree char *root = make_tree(NULL, NULL);
	g_autofree char *new_id = NULL;
	struct vmu_uio_device dev = {.size = sizeof(dev), .uio_name = "untouched"};

	/* Binding not allowed: a clear error, nothing written, ret untouched. */
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, -ENXIO);
	g_assert_cmpstr(dev.uio_name, ==, "untouched");
	new_id = read_file(root, "bus/vmbus/drivers/uio_hv_generic/new_id");
	g_assert_cmpstr(new_id, ==, "");
	g_clear_pointer(&new_id, g_free);

	/* Allowed: the class GUID (no braces) goes to new_id; the node is not there yet. */
	g_assert_cmpint(vmu_uio_find(root, NULL, VMU_UIO_ALLOW_BIND, &dev), ==, -EINPROGRESS);
	new_id = read_file(root, "bus/vmbus/drivers/uio_hv_generic/new_id");
	g_assert_cmpstr(new_id, ==, VMU_FCOPY_CLASS_ID);

	/* The kernel probed: found, bound already. */
	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/uio/uio7");
	put_file(root, "class/uio/uio7/maps/map0/size", "0xa000\n");
	g_assert_cmpint(vmu_uio_find(root, NULL, VMU_UIO_ALLOW_BIND, &dev), ==, 0);
	g_assert_cmpstr(dev.uio_name, ==, "uio7");
	rm_rf(root);
}

static void test_find_errors(void)
{
	g_autofree char *root = make_tree(NULL, NULL);
	g_autofree char *empty = make_tmpdir();
	g_autofree char *new_id = NULL;
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;

	g_assert_cmpint(vmu_uio_find(empty, NULL, 0, &dev), ==, -ENODEV);
	put_dir(empty, "bus/vmbus/devices");
	g_assert_cmpint(vmu_uio_find(empty, NULL, 0, &dev), ==, -ENODEV);
	g_assert_cmpint(vmu_uio_find(root, "00000000-0000-0000-0000-000000000000", 0, &dev), ==,
			-ENODEV);
	g_assert_cmpint(vmu_uio_find(root, "{" VMU_FCOPY_CLASS_ID "}", 0, &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_uio_find(root, "34D14BE3-DEE4-41C8-9AE7-6B174977C192", 0, &dev), ==,
			-EINVAL);
	g_assert_cmpint(vmu_uio_find(root, NULL, 0x80, &dev), ==, -EINVAL);
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, NULL), ==, -EINVAL);

	/* Bound to uio_hv_generic per the driver link, but the uio directory is missing. */
	put_symlink(root, "bus/vmbus/devices/" INST_FCOPY "/driver",
		    "../../drivers/uio_hv_generic");
	g_assert_cmpint(vmu_uio_find(root, NULL, VMU_UIO_ALLOW_BIND, &dev), ==, -ENOENT);
	/* An empty uio directory is the same. */
	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/uio");
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, -ENOENT);
	/* A uio node without map0/size. */
	put_dir(root, "bus/vmbus/devices/" INST_FCOPY "/uio/uio0");
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, -ENOENT);
	rm_rf(root);
	g_free(root);

	/* Unbound, binding allowed, but uio_hv_generic is not loaded. */
	root = make_tree(NULL, NULL);
	new_id = g_build_filename(root, "bus/vmbus/drivers/uio_hv_generic/new_id", NULL);
	g_assert_cmpint(g_unlink(new_id), ==, 0);
	g_assert_cmpint(vmu_uio_find(root, NULL, VMU_UIO_ALLOW_BIND, &dev), ==, -ENOPKG);
	rm_rf(root);
	rm_rf(empty);
}

/* struct vmu_uio_device is growable: find writes no more than the caller's size says, keeps
 * that size, and both calls refuse a size smaller than the 0.1 struct. */
static void test_device_size(void)
{
	g_autofree char *root = make_tree("uio0", "0xa000\n");
	g_autofree char *dir = make_tmpdir();
	struct {
		struct vmu_uio_device d;
		uint8_t later[16]; /* fields a newer header would have added */
	} big;
	struct vmu_uio_device dev = {.size = 0};
	struct vmu_uio *uio = (struct vmu_uio *)0x1;
	size_t i;

	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, -EINVAL);
	g_assert_cmpstr(dev.uio_name, ==, "");
	dev.size = sizeof(dev) - sizeof(uint64_t);
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &dev), ==, -EINVAL);

	memset(&big, 0xa5, sizeof(big));
	big.d.size = sizeof(big);
	g_assert_cmpint(vmu_uio_find(root, NULL, 0, &big.d), ==, 0);
	g_assert_cmpuint(big.d.size, ==, sizeof(big));
	g_assert_cmpstr(big.d.uio_name, ==, "uio0");
	g_assert_cmpuint(big.d.map_size, ==, 0xa000);
	for (i = 0; i < sizeof(big.later); i++)
		g_assert_cmphex(big.later[i], ==, 0xa5);

	/* open checks the size before anything else (no device node exists under dir). */
	dev = big.d;
	dev.size = 0;
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -EINVAL);
	g_assert_true(uio == (struct vmu_uio *)0x1);
	dev.size = sizeof(dev);
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -ENOENT);
	rm_rf(root);
	rm_rf(dir);
}

static void test_open_errors(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *null_link = g_build_filename(dir, "uio1", NULL);
	struct vmu_uio_device dev = {.size = sizeof(dev), .uio_name = "uio0", .map_size = 0xa000};
	struct vmu_uio *uio = (struct vmu_uio *)0x1;

	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -ENOENT);
	/* A char device that cannot be mapped (/dev/null): the mmap error. */
	g_assert_cmpint(symlink("/dev/null", null_link), ==, 0);
	snprintf(dev.uio_name, sizeof(dev.uio_name), "uio1");
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -ENODEV);
	put_file(dir, "uio2", "");
	snprintf(dev.uio_name, sizeof(dev.uio_name), "uio2");
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -ENODEV);
	/* Bad arguments. */
	snprintf(dev.uio_name, sizeof(dev.uio_name), "../uio0");
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -EINVAL);
	snprintf(dev.uio_name, sizeof(dev.uio_name), "uio0");
	dev.map_size = 0x2000;
	g_assert_cmpint(vmu_uio_open(dir, &dev, &uio), ==, -EINVAL);
	g_assert_true(uio == (struct vmu_uio *)0x1);
	g_assert_null(vmu_uio_free(NULL));
	g_assert_cmpint(vmu_uio_fd(NULL), ==, -EBADF);
	g_assert_cmpint(vmu_uio_rearm(NULL), ==, -EBADF);
	g_assert_cmpint(vmu_uio_recv(NULL, NULL, 0, NULL), ==, -EBADF);
	g_assert_cmpint(vmu_uio_send(NULL, NULL, 0, 0), ==, -EBADF);
	g_assert_true(vmu_uio_error_needs_reopen(-ESHUTDOWN));
	g_assert_true(vmu_uio_error_needs_reopen(-EBADMSG));
	g_assert_false(vmu_uio_error_needs_reopen(-EAGAIN));
	g_assert_false(vmu_uio_error_needs_reopen(-ENOBUFS));
	rm_rf(dir);
}

static void test_negotiate_respond(void)
{
	static const struct vmu_ic_version fw[] = {{3, 0}}, fcopy[] = {{1, 1}}, old[] = {{1, 0}};
	struct vmu_ic_version got_fw = {9, 9}, got_srv = {9, 9};
	struct vmu_icmsg hdr;
	uint8_t buf[256];
	size_t len, payload;

	g_assert_cmpint(vmu_ic_negotiate_build(buf, sizeof(buf), fw, 1, fcopy, 1, &len), ==, 0);
	g_assert_cmpint(vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, len, &got_fw, &got_srv),
			==, 0);
	g_assert_cmpuint(got_fw.major, ==, 3);
	g_assert_cmpuint(got_fw.minor, ==, 0);
	g_assert_cmpuint(got_srv.major, ==, 1);
	g_assert_cmpuint(got_srv.minor, ==, 1);
	g_assert_cmpint(vmu_icmsg_parse(buf, len, &hdr, &payload), ==, 0);
	g_assert_cmphex(hdr.status, ==, VMU_S_OK);
	g_assert_cmpuint(hdr.icflags, ==, 5);
	g_assert_cmpint(vmu_ic_negotiate_parse_response(buf, len, &got_fw, &got_srv), ==, 0);

	/* No common service version: answered with E_FAIL, counts 0/0. */
	got_fw = (struct vmu_ic_version){9, 9};
	g_assert_cmpint(vmu_ic_negotiate_build(buf, sizeof(buf), fw, 1, old, 1, &len), ==, 0);
	g_assert_cmpint(vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, len, &got_fw, NULL), ==,
			-EPROTO);
	g_assert_cmpuint(got_fw.major, ==, 9);
	g_assert_cmpint(vmu_icmsg_parse(buf, len, &hdr, &payload), ==, 0);
	g_assert_cmphex(hdr.status, ==, VMU_E_FAIL);
	g_assert_cmpuint(hdr.icflags, ==, 5);

	/* Too short for a negotiate message: answered E_FAIL; shorter than a header: not. */
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, 30, NULL, NULL), ==,
			-EBADMSG);
	g_assert_cmphex(vmu_le32(buf + 20), ==, VMU_E_FAIL);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, 27, NULL, NULL), ==,
			-EBADMSG);
	g_assert_cmphex(vmu_le32(buf + 20), ==, 0);
	g_assert_cmpint(vmu_ic_negotiate_respond(_VMU_SERVICE_MAX, buf, 64, NULL, NULL), ==,
			-EINVAL);
}

/* ------------------------------------------------------------------------------------------
 * A guest in a separate process, against the simulated host
 * ------------------------------------------------------------------------------------------ */

#define CANCEL_STATUS 0x0C0FFEE0u
#define OP_OFF VMU_ICMSG_HDR_SIZE

static uint32_t fnv1a(const void *data, size_t len, uint32_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* What the guest answers a START: a hash of "path|file" after UTF-16 -> UTF-8. */
static uint32_t start_status(const char *path, const char *file)
{
	return fnv1a(file, strlen(file), fnv1a("|", 1, fnv1a(path, strlen(path), 2166136261u)));
}

static uint32_t write_status(uint64_t offset, const void *data, uint32_t size)
{
	return fnv1a(data, size, 2166136261u) ^ (uint32_t)offset;
}

/* The guest's answer to one fcopy message (a toy service: statuses prove what arrived). */
static uint32_t guest_fcopy_status(const uint8_t *msg, size_t len)
{
	char path[1024], file[1024];

	if (len < OP_OFF + VMU_FCOPY_HDR_SIZE)
		return VMU_E_FAIL;
	switch (vmu_le32(msg + OP_OFF)) {
	case VMU_FCOPY_OP_START:
		if (len < OP_OFF + VMU_FCOPY_START_SIZE ||
		    vmu_utf16le_to_utf8(msg + OP_OFF + 36, 260, file, sizeof(file), 0, NULL) < 0 ||
		    vmu_utf16le_to_utf8(msg + OP_OFF + 556, 260, path, sizeof(path), 0, NULL) < 0)
			return VMU_E_FAIL;
		return start_status(path, file);
	case VMU_FCOPY_OP_WRITE:
		if (len < OP_OFF + 52 || vmu_le32(msg + OP_OFF + 48) > len - OP_OFF - 52)
			return VMU_E_FAIL;
		return write_status(vmu_le64(msg + OP_OFF + 40), msg + OP_OFF + 52,
				    vmu_le32(msg + OP_OFF + 48));
	case VMU_FCOPY_OP_COMPLETE:
		return VMU_S_OK;
	case VMU_FCOPY_OP_CANCEL:
		return CANCEL_STATUS;
	default:
		return VMU_E_FAIL;
	}
}

static void guest_answer(uint8_t *buf, size_t len)
{
	struct vmu_icmsg hdr;
	size_t payload;

	if (vmu_icmsg_parse(buf, len, &hdr, &payload) < 0)
		return;
	if (hdr.icmsgtype == VMU_ICMSGTYPE_NEGOTIATE)
		(void)vmu_ic_negotiate_respond(VMU_SERVICE_FCOPY, buf, len, NULL, NULL);
	else
		vmu_icmsg_set_response(buf, len, guest_fcopy_status(buf, len));
}

static int guest_send(struct vmu_uio *uio, const uint8_t *buf, size_t len, uint64_t xactid)
{
	int r;

	while ((r = vmu_uio_send(uio, buf, len, xactid)) == -EAGAIN) {
		r = vmu_uio_wait(uio, -1); /* the host signals when there is room */
		if (r < 0)
			return r;
	}
	return r;
}

/* The daemon loop: drain, re-arm and re-check, wait. Returns the error that ended it. */
static int guest_serve(struct vmu_uio *uio)
{
	size_t size = vmu_uio_max_payload(uio);
	g_autofree uint8_t *buf = g_malloc(size);
	struct vmu_uio_packet pkt;
	ssize_t n;
	int r;

	for (;;) {
		n = vmu_uio_recv(uio, buf, size, &pkt);
		if (n == -EAGAIN) {
			r = vmu_uio_rearm(uio);
			if (r < 0)
				return r;
			if (r == 0 && (r = vmu_uio_wait(uio, -1)) < 0)
				return r;
			continue;
		}
		if (n < 0)
			return (int)n;
		/* What Hyper-V sends: in-band data asking for a completion (flags 1). */
		if (pkt.type != VMU_VMBUS_PACKET_DATA_INBAND ||
		    pkt.flags != VMU_VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED)
			return -EPROTO;
		guest_answer(buf, (size_t)n);
		r = guest_send(uio, buf, (size_t)n, pkt.xactid);
		if (r < 0)
			return r;
	}
}

struct guest {
	pid_t pid;
	int go_w, report_r; /* parent ends */
	char *sysfs, *dev;
};

static int guest_open(const char *sysfs, const char *dev_dir, struct vmu_uio **ret)
{
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;
	int r;

	r = vmu_uio_find(sysfs, NULL, 0, &dev);
	if (r < 0)
		return r;
	if (strcmp(dev.instance_id, HVSIM_UIO_INSTANCE_ID) != 0)
		return -EPROTO;
	return vmu_uio_open(dev_dir, &dev, ret);
}

static void report(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

static char wait_go(int fd)
{
	char c = 0;

	return read(fd, &c, 1) == 1 ? c : 0;
}

/* rounds: how many times the guest opens the device, serving until -ESHUTDOWN each time;
 * between rounds it reports 'D', checks that the device is gone ('E') and waits for 'G'. */
static void guest_main(const char *sysfs, const char *dev_dir, int go_r, int report_w,
		       unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		struct vmu_uio *uio = NULL;
		int r;

		if (wait_go(go_r) != 'G')
			_exit(80 + (int)i);
		r = guest_open(sysfs, dev_dir, &uio);
		if (r < 0)
			_exit(10 + (int)i);
		r = guest_serve(uio);
		vmu_uio_free(uio);
		if (r != -ESHUTDOWN)
			_exit(20 + (int)i);
		report(report_w, 'D');
		r = guest_open(sysfs, dev_dir, &uio);
		if (r >= 0) {
			vmu_uio_free(uio);
			_exit(30 + (int)i);
		}
		report(report_w, r == -ENOENT ? 'E' : 'X');
	}
	_exit(0);
}

static void guest_start(struct guest *g, unsigned rounds)
{
	int go[2], rep[2];

	g->sysfs = make_tmpdir();
	g->dev = make_tmpdir();
	g_assert_cmpint(pipe2(go, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(rep, O_CLOEXEC), ==, 0);
	fflush(NULL);
	g->pid = fork();
	g_assert_cmpint(g->pid, >=, 0);
	if (g->pid == 0) {
		close(go[1]);
		close(rep[0]);
		guest_main(g->sysfs, g->dev, go[0], rep[1], rounds);
	}
	close(go[0]);
	close(rep[1]);
	g->go_w = go[1];
	g->report_r = rep[0];
}

static void guest_go(struct guest *g)
{
	g_assert_cmpint(write(g->go_w, "G", 1), ==, 1);
}

static char guest_report(struct guest *g)
{
	char c = 0;

	g_assert_cmpint(read(g->report_r, &c, 1), ==, 1);
	return c;
}

static void guest_finish(struct guest *g)
{
	int status;

	close(g->go_w);
	g_assert_cmpint(waitpid(g->pid, &status, 0), ==, g->pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	close(g->report_r);
	rm_rf(g->sysfs);
	rm_rf(g->dev);
	g_free(g->sysfs);
	g_free(g->dev);
}

static struct hvsim *host_start(struct guest *g, size_t ring_size)
{
	struct hvsim *sim = NULL;

	g_assert_cmpint(hvsim_new(NULL, &sim), ==, 0);
	hvsim_set_host_timeout(sim, 60ull * 1000000);
	g_assert_cmpint(hvsim_listen_uio(sim, g->sysfs, g->dev, ring_size), ==, 0);
	g_assert_cmpint(hvsim_listen_uio(sim, g->sysfs, g->dev, ring_size), ==, -EALREADY);
	guest_go(g);
	g_assert_cmpint(hvsim_wait_registered(sim, VMU_SERVICE_FCOPY, 60ull * 1000000), ==, 0);
	return sim;
}

static void assert_negotiated(struct hvsim *sim)
{
	struct hvsim_service_status st;

	g_assert_cmpint(hvsim_get_status(sim, VMU_SERVICE_FCOPY, &st), ==, 0);
	g_assert_true(st.negotiated);
	g_assert_cmpuint(st.framework.major, ==, 3);
	g_assert_cmpuint(st.framework.minor, ==, 0);
	g_assert_cmpuint(st.version.major, ==, 1);
	g_assert_cmpuint(st.version.minor, ==, 1);
}

static void round_trip(struct hvsim *sim, const char *path, const char *file)
{
	struct hvsim_result res;
	uint8_t data[VMU_FCOPY_DATA_FRAGMENT];

	g_assert_cmpint(hvsim_fcopy_start(sim, path, file, VMU_FCOPY_CREATE_PATH, 12345, &res), ==,
			0);
	g_assert_cmphex(res.status, ==, start_status(path, file));
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	g_assert_cmpint(hvsim_fcopy_write(sim, 6144, data, sizeof(data), &res), ==, 0);
	g_assert_cmphex(res.status, ==, write_status(6144, data, sizeof(data)));
	g_assert_cmpint(hvsim_fcopy_write(sim, 0, "x", 1, &res), ==, 0);
	g_assert_cmphex(res.status, ==, write_status(0, "x", 1));
	g_assert_cmpint(hvsim_fcopy_complete(sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_fcopy_cancel(sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, CANCEL_STATUS);
}

static void test_sim_round_trip(void)
{
	struct guest g;
	struct hvsim *sim;
	struct hvsim_uio_stats st;

	guest_start(&g, 1);
	sim = host_start(&g, 0);
	assert_negotiated(sim);
	/* Non-ASCII names and a surrogate pair arrive as the host sent them. */
	round_trip(sim, "C:\\tmp\\日本語", "grüße-\xF0\x9F\x98\x80.txt");
	g_assert_cmpint(hvsim_uio_get_stats(sim, &st), ==, 0);
	g_assert_true(st.connected);
	g_assert_cmpuint(st.connections, ==, 1);
	g_assert_cmpuint(st.packets_sent, ==, 6); /* NEGOTIATE + 5 requests */
	g_assert_cmpuint(st.packets_received, ==, 6);
	hvsim_free(sim); /* the host goes away: the guest sees -ESHUTDOWN */
	g_assert_cmpint(guest_report(&g), ==, 'D');
	g_assert_cmpint(guest_report(&g), ==, 'E');
	guest_finish(&g);
}

static void test_sim_disable_enable(void)
{
	struct guest g;
	struct hvsim *sim;
	struct hvsim_result res;
	struct hvsim_uio_stats st;

	guest_start(&g, 2);
	sim = host_start(&g, 0);
	round_trip(sim, "/tmp", "a");
	/* The host turns Guest Services off: one distinct error, the node is gone. */
	g_assert_cmpint(hvsim_uio_disable(sim), ==, 0);
	g_assert_cmpint(guest_report(&g), ==, 'D');
	g_assert_cmpint(guest_report(&g), ==, 'E');
	g_assert_cmpint(hvsim_fcopy_complete(sim, &res), ==, -ENOTCONN);
	/* ... and on again: the guest opens the device anew and negotiates again. */
	g_assert_cmpint(hvsim_uio_enable(sim), ==, 0);
	guest_go(&g);
	g_assert_cmpint(hvsim_wait_registered(sim, VMU_SERVICE_FCOPY, 60ull * 1000000), ==, 0);
	assert_negotiated(sim);
	round_trip(sim, "/tmp", "b");
	g_assert_cmpint(hvsim_uio_get_stats(sim, &st), ==, 0);
	g_assert_cmpuint(st.connections, ==, 2);
	hvsim_free(sim);
	g_assert_cmpint(guest_report(&g), ==, 'D');
	g_assert_cmpint(guest_report(&g), ==, 'E');
	guest_finish(&g);
}

/* A 4 KiB data area: START packets take 1144 bytes of it, so the rings wrap every few
 * packets at ever different offsets, in both directions, with both processes running
 * concurrently and the host signalling only when it must. */
static void test_sim_stress_tiny_ring(void)
{
	const unsigned n = 30000;
	struct guest g;
	struct hvsim *sim;
	struct hvsim_result res;
	struct hvsim_uio_stats st;

	guest_start(&g, 1);
	sim = host_start(&g, VMU_RING_HEADER_SIZE + 4096);
	assert_negotiated(sim);
	for (unsigned i = 0; i < n; i++) {
		char file[32];

		switch (i % 3) {
		case 0:
			snprintf(file, sizeof(file), "f%u", i);
			g_assert_cmpint(hvsim_fcopy_start(sim, "/s", file, 0, i, &res), ==, 0);
			g_assert_cmphex(res.status, ==, start_status("/s", file));
			break;
		case 1:
			g_assert_cmpint(hvsim_fcopy_complete(sim, &res), ==, 0);
			g_assert_cmphex(res.status, ==, VMU_S_OK);
			break;
		default:
			g_assert_cmpint(hvsim_fcopy_cancel(sim, &res), ==, 0);
			g_assert_cmphex(res.status, ==, CANCEL_STATUS);
			break;
		}
	}
	/* A WRITE (6240 bytes) can never fit this ring: the host gets E_FAIL, the channel
	 * carries on. */
	g_assert_cmpint(hvsim_fcopy_write(sim, 0, "y", 1, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_E_FAIL);
	g_assert_cmpint(hvsim_fcopy_complete(sim, &res), ==, 0);
	g_assert_cmphex(res.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_uio_get_stats(sim, &st), ==, 0);
	g_assert_cmpuint(st.packets_sent, ==, n + 2);
	g_assert_cmpuint(st.packets_received, ==, n + 2);
	/* n / 3 rounds of START + COMPLETE + CANCEL move 1144 + 88 + 88 bytes each way: about
	 * 3200 laps of the 4 KiB ring, nearly each ending in a packet split at the end (the
	 * rest end exactly on it). */
	g_assert_cmpuint(st.wraps_sent, >=, (n / 3) * 1320ull / 4096 * 9 / 10);
	g_assert_cmpuint(st.wraps_received, >=, (n / 3) * 1320ull / 4096 * 9 / 10);
	hvsim_free(sim);
	g_assert_cmpint(guest_report(&g), ==, 'D');
	g_assert_cmpint(guest_report(&g), ==, 'E');
	guest_finish(&g);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/uio/find/by-class", test_find_by_class);
	g_test_add_func("/uio/find/ring-file-ignored", test_ring_file_ignored);
	g_test_add_func("/uio/find/map-size", test_map_size_validation);
	g_test_add_func("/uio/find/not-bound", test_not_bound);
	g_test_add_func("/uio/find/errors", test_find_errors);
	g_test_add_func("/uio/device-size", test_device_size);
	g_test_add_func("/uio/open/errors", test_open_errors);
	g_test_add_func("/uio/negotiate-respond", test_negotiate_respond);
	g_test_add_func("/uio/sim/round-trip", test_sim_round_trip);
	g_test_add_func("/uio/sim/disable-enable", test_sim_disable_enable);
	g_test_add_func("/uio/sim/stress-tiny-ring", test_sim_stress_tiny_ring);
	return g_test_run();
}
