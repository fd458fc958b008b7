/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/vmbus-user/fcopy-host-msg.c: fcopy messages in the host's format (UIO
 * transport), names as UTF-16LE, every bound at and past its limit. */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "vmu-internal.h"

#define FILE_NAME 36
#define PATH_NAME 556
#define FLAGS 1076
#define FILE_SIZE 1080
#define W_OFFSET 40
#define W_SIZE 48
#define W_DATA 52

static void put_units(uint8_t *dst, const uint16_t *units, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vmu_put_le16(dst + 2 * i, units[i]);
}

static void put_utf8(uint8_t *dst, const char *s)
{
	size_t n = 0;

	g_assert_cmpint(vmu_utf8_to_utf16le(s, strlen(s), dst, VMU_FCOPY_MAX_PATH, 0, &n), ==, 0);
}

static uint8_t *make_start(const char *file, const char *path, uint32_t flags, uint64_t size)
{
	uint8_t *m = g_malloc0(VMU_FCOPY_START_SIZE + 8);

	vmu_put_le32(m, VMU_FCOPY_OP_START);
	put_utf8(m + FILE_NAME, file);
	put_utf8(m + PATH_NAME, path);
	vmu_put_le32(m + FLAGS, flags);
	vmu_put_le64(m + FILE_SIZE, size);
	return m;
}

static void test_header(void)
{
	uint8_t m[64] = {0};
	struct vmu_fcopy_request req = {.size = sizeof(req), .op = 9};

	g_assert_cmpint(vmu_fcopy_host_request_parse(m, 35, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, 0, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_host_request_parse(NULL, 36, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, 36, NULL), ==, -EINVAL);
	vmu_put_le32(m, 4);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, 36, &req), ==, -ERANGE);
	vmu_put_le32(m, UINT32_MAX);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, 36, &req), ==, -ERANGE);
	g_assert_cmpint(req.op, ==, 9); /* untouched on failure */
}

static void test_complete_cancel(void)
{
	uint8_t m[64];
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	memset(m, 0xab, sizeof(m));
	for (uint32_t op = VMU_FCOPY_OP_COMPLETE; op <= VMU_FCOPY_OP_CANCEL; op++) {
		vmu_put_le32(m, op);
		g_assert_cmpint(vmu_fcopy_host_request_parse(m, 36, &req), ==, 0);
		g_assert_cmpint(req.op, ==, op);
		g_assert_cmpint(vmu_fcopy_host_request_parse(m, 64, &req), ==, 0);
		g_assert_cmpint(vmu_fcopy_host_request_parse(m, 35, &req), ==, -EBADMSG);
	}
}

static void test_start_ascii_and_non_ascii(void)
{
	g_autofree uint8_t *m = make_start("r\xc3\xa9sum\xc3\xa9 \xe6\x96\x87.txt",
					   "/tmp/d\xc3\xbc", 3, 0x1122334455667788);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_START);
	g_assert_cmpstr(req.start.file_name, ==, "r\xc3\xa9sum\xc3\xa9 \xe6\x96\x87.txt");
	g_assert_cmpuint(req.start.file_name_len, ==,
			 strlen("r\xc3\xa9sum\xc3\xa9 \xe6\x96\x87.txt"));
	g_assert_cmpstr(req.start.path_name, ==, "/tmp/d\xc3\xbc");
	g_assert_cmpuint(req.start.path_name_len, ==, 8);
	g_assert_cmpuint(req.start.flags, ==, 3);
	g_assert_cmphex(req.start.file_size, ==, 0x1122334455667788);
	/* a padded packet is fine, a short one is not */
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE + 8, &req), ==, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE - 1, &req), ==,
			-EBADMSG);
}

static void test_start_surrogates(void)
{
	g_autofree uint8_t *m = make_start("x", "/tmp", 0, 0);
	/* U+1F600 as a pair, then a lone high surrogate */
	const uint16_t pair[] = {'a', 0xd83d, 0xde00, 'b', 0};
	const uint16_t lone_high[] = {'a', 0xd83d, 'b', 0};
	const uint16_t lone_low[] = {0xde00, 0};
	struct vmu_fcopy_request req = {.size = sizeof(req), .op = 7};

	put_units(m + FILE_NAME, pair, G_N_ELEMENTS(pair));
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpstr(req.start.file_name, ==,
			"a\xf0\x9f\x98\x80"
			"b");
	g_assert_cmpuint(req.start.file_name_len, ==, 6);

	req.op = 7;
	put_units(m + FILE_NAME, lone_high, G_N_ELEMENTS(lone_high));
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EILSEQ);
	g_assert_cmpint(req.op, ==, 7);
	put_units(m + FILE_NAME, pair, G_N_ELEMENTS(pair));
	put_units(m + PATH_NAME, lone_low, G_N_ELEMENTS(lone_low));
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EILSEQ);
	/* a pair cut by the NUL is a lone surrogate too */
	const uint16_t cut[] = {0xd83d, 0, 0xde00, 0};
	put_units(m + PATH_NAME, cut, G_N_ELEMENTS(cut));
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EILSEQ);
}

static void test_start_name_bounds(void)
{
	g_autofree uint8_t *m = make_start("x", "/tmp", 0, 0);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	/* 259 units + NUL: the longest name; 259 three-byte characters fill 777 bytes */
	for (size_t i = 0; i < VMU_FCOPY_MAX_PATH - 1; i++)
		vmu_put_le16(m + FILE_NAME + 2 * i, 0x6587);
	vmu_put_le16(m + FILE_NAME + 2 * 259, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.file_name_len, ==, 777);
	g_assert_cmpuint(strlen(req.start.file_name), ==, 777);
	/* 260 units and no NUL inside the array */
	vmu_put_le16(m + FILE_NAME + 2 * 259, 'z');
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EBADMSG);
	/* same for the path */
	put_utf8(m + FILE_NAME, "ok");
	for (size_t i = 0; i < VMU_FCOPY_MAX_PATH; i++)
		vmu_put_le16(m + PATH_NAME + 2 * i, 'p');
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EBADMSG);
	vmu_put_le16(m + PATH_NAME + 2 * 259, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.path_name_len, ==, 259);
	/* empty names are the daemon's to refuse, not the parser's */
	vmu_put_le16(m + FILE_NAME, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.file_name_len, ==, 0);
}

static void test_start_flags(void)
{
	g_autofree uint8_t *m = make_start("x", "/tmp", 0, 0);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	for (uint32_t flags = 0; flags <= 3; flags++) {
		vmu_put_le32(m + FLAGS, flags);
		g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
		g_assert_cmpuint(req.start.flags, ==, flags);
	}
	vmu_put_le32(m + FLAGS, 4);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -ERANGE);
	vmu_put_le32(m + FLAGS, 0x80000000u);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -ERANGE);
}

static void test_write(void)
{
	g_autofree uint8_t *m = g_malloc0(VMU_FCOPY_WRITE_SIZE + 8);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	vmu_put_le32(m, VMU_FCOPY_OP_WRITE);
	vmu_put_le64(m + W_OFFSET, 4096);
	vmu_put_le32(m + W_SIZE, VMU_FCOPY_DATA_FRAGMENT);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.write.offset, ==, 4096);
	g_assert_cmpuint(req.write.size, ==, VMU_FCOPY_DATA_FRAGMENT);
	g_assert_true(req.write.data == m + W_DATA);
	/* one byte past the fragment limit, even in a big enough packet */
	vmu_put_le32(m + W_SIZE, VMU_FCOPY_DATA_FRAGMENT + 1);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_WRITE_SIZE + 8, &req), ==,
			-EBADMSG);
	/* the data must lie inside the packet received */
	vmu_put_le32(m + W_SIZE, 100);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, W_DATA + 100, &req), ==, 0);
	g_assert_cmpuint(req.write.size, ==, 100);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, W_DATA + 99, &req), ==, -EBADMSG);
	vmu_put_le32(m + W_SIZE, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, W_DATA, &req), ==, 0);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, W_DATA - 1, &req), ==, -EBADMSG);
	/* offset + size overflow */
	vmu_put_le32(m + W_SIZE, 1);
	vmu_put_le64(m + W_OFFSET, UINT64_MAX);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, -EBADMSG);
	vmu_put_le64(m + W_OFFSET, UINT64_MAX - 1);
	g_assert_cmpint(vmu_fcopy_host_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.write.offset, ==, UINT64_MAX - 1);
}

/* A whole IC message: the library cuts the header and answers in place. */
static void test_message_and_reply(void)
{
	uint8_t m[VMU_ICMSG_HDR_SIZE + 64];
	struct vmu_icmsg hdr = {.icmsgtype = VMU_ICMSGTYPE_FCOPY, .icmsgsize = 64};
	struct vmu_icmsg out;
	struct vmu_fcopy_request req = {.size = sizeof(req), .op = 9};
	size_t payload;

	memset(m, 0, sizeof(m));
	g_assert_cmpint(vmu_icmsg_write(m, sizeof(m), &hdr), ==, 0);
	vmu_put_le32(m + VMU_ICMSG_HDR_SIZE, VMU_FCOPY_OP_CANCEL);
	g_assert_cmpint(vmu_fcopy_host_message_parse(m, sizeof(m), &req), ==, 0);
	g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_CANCEL);
	/* the service message itself must be long enough, not just the whole */
	g_assert_cmpint(vmu_fcopy_host_message_parse(m, VMU_ICMSG_HDR_SIZE + 35, &req), ==,
			-EBADMSG);
	g_assert_cmpint(vmu_fcopy_host_message_parse(m, VMU_ICMSG_HDR_SIZE - 1, &req), ==,
			-EBADMSG);

	g_assert_cmpint(vmu_fcopy_host_reply(m, sizeof(m), 0x80004005u), ==, (ssize_t)sizeof(m));
	g_assert_cmpint(vmu_icmsg_parse(m, sizeof(m), &out, &payload), ==, 0);
	g_assert_cmpuint(out.status, ==, 0x80004005u);
	g_assert_cmpuint(payload, ==, 64);
	g_assert_cmpuint(out.icflags, ==, VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_RESPONSE);
	g_assert_cmpuint(vmu_le32(m + VMU_ICMSG_HDR_SIZE), ==, VMU_FCOPY_OP_CANCEL); /* untouched */
	g_assert_cmpint(vmu_fcopy_host_reply(m, VMU_ICMSG_HDR_SIZE - 1, 0), ==, -EBADMSG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fcopy-host-msg/header", test_header);
	g_test_add_func("/fcopy-host-msg/complete-cancel", test_complete_cancel);
	g_test_add_func("/fcopy-host-msg/start", test_start_ascii_and_non_ascii);
	g_test_add_func("/fcopy-host-msg/start-surrogates", test_start_surrogates);
	g_test_add_func("/fcopy-host-msg/start-name-bounds", test_start_name_bounds);
	g_test_add_func("/fcopy-host-msg/start-flags", test_start_flags);
	g_test_add_func("/fcopy-host-msg/write", test_write);
	g_test_add_func("/fcopy-host-msg/message-and-reply", test_message_and_reply);
	return g_test_run();
}
