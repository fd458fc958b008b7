/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/vmbus-user/fcopy-msg.c: START, WRITE, COMPLETE and CANCEL as the
 * legacy char device delivers them, every bound at and past its limit. */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <string.h>

#include "vmu-internal.h"

#define FILE_NAME 36
#define PATH_NAME 556
#define FLAGS 1076
#define FILE_SIZE 1080
#define W_OFFSET 40
#define W_SIZE 48
#define W_DATA 52

static void make_start(uint8_t *m, const char *file, const char *path, uint32_t flags,
		       uint64_t size)
{
	memset(m, 0, VMU_FCOPY_START_SIZE);
	vmu_put_le32(m, VMU_FCOPY_OP_START);
	memcpy(m + FILE_NAME, file, strlen(file));
	memcpy(m + PATH_NAME, path, strlen(path));
	vmu_put_le32(m + FLAGS, flags);
	vmu_put_le64(m + FILE_SIZE, size);
}

static void test_header(void)
{
	uint8_t m[64] = {0};
	struct vmu_fcopy_request req = {.size = sizeof(req), .op = 9};

	g_assert_cmpint(vmu_fcopy_request_parse(m, 35, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_request_parse(m, 0, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_request_parse(NULL, 36, &req), ==, -EBADMSG);
	vmu_put_le32(m, 4);
	g_assert_cmpint(vmu_fcopy_request_parse(m, 36, &req), ==, -ERANGE);
	vmu_put_le32(m, 0x100);
	g_assert_cmpint(vmu_fcopy_request_parse(m, 36, &req), ==, -ERANGE);
	vmu_put_le32(m, UINT32_MAX);
	g_assert_cmpint(vmu_fcopy_request_parse(m, 36, &req), ==, -ERANGE);
	g_assert_cmpint(req.op, ==, 9);
}

static void test_complete_cancel(void)
{
	uint8_t m[64];
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	memset(m, 0xab, sizeof(m)); /* stale bytes past the header are fine */
	for (uint32_t op = VMU_FCOPY_OP_COMPLETE; op <= VMU_FCOPY_OP_CANCEL; op++) {
		vmu_put_le32(m, op);
		g_assert_cmpint(vmu_fcopy_request_parse(m, 36, &req), ==, 0);
		g_assert_cmpint(req.op, ==, op);
		g_assert_cmpint(vmu_fcopy_request_parse(m, 64, &req), ==, 0);
		g_assert_cmpint(vmu_fcopy_request_parse(m, 35, &req), ==, -EBADMSG);
	}
}

static void test_start(void)
{
	g_autofree uint8_t *m = g_malloc0(VMU_FCOPY_START_SIZE + 1);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;
	char name[261];

	make_start(m, "file.txt", "C:\\\xc3\xa9t\xc3\xa9",
		   VMU_FCOPY_OVER_WRITE | VMU_FCOPY_CREATE_PATH, 0x1122334455667788ull);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_START);
	g_assert_cmpstr(req.start.file_name, ==, "file.txt");
	g_assert_cmpuint(req.start.file_name_len, ==, 8);
	g_assert_true(req.start.file_name != (const char *)m + FILE_NAME); /* a copy, in the view */
	g_assert_cmpstr(req.start.path_name, ==, "C:\\\xc3\xa9t\xc3\xa9");
	g_assert_cmpuint(req.start.flags, ==, 3);
	g_assert_cmpuint(req.start.file_size, ==, 0x1122334455667788ull);

	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE - 1, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE + 1, &req), ==, -EBADMSG);

	/* flags: only bits 0 and 1 */
	for (unsigned bit = 2; bit < 32; bit++) {
		vmu_put_le32(m + FLAGS, 1u << bit);
		g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==,
				-ERANGE);
	}
	vmu_put_le32(m + FLAGS, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	vmu_put_le64(m + FILE_SIZE, UINT64_MAX);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.file_size, ==, UINT64_MAX);

	/* names: NUL within the first 260 bytes (259 bytes of text at most) */
	memset(name, 'n', 259);
	name[259] = 0;
	make_start(m, name, name, 0, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.file_name_len, ==, 259);
	g_assert_cmpuint(req.start.path_name_len, ==, 259);
	m[FILE_NAME + 259] = 'n';
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EBADMSG);
	m[FILE_NAME + 259] = 0;
	m[PATH_NAME + 259] = 'n';
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EBADMSG);
	m[PATH_NAME + 259] = 0;

	make_start(m, "", "", 0, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.start.file_name_len, ==, 0);
	make_start(m, "bad\xff", "/tmp", 0, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EILSEQ);
	make_start(m, "ok", "/tmp/\xe0\x80\xaf", 0, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EILSEQ);
}

static void test_write(void)
{
	g_autofree uint8_t *m = g_malloc0(VMU_FCOPY_WRITE_SIZE + 1);
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	vmu_put_le32(m, VMU_FCOPY_OP_WRITE);
	vmu_put_le64(m + W_OFFSET, 4096);
	vmu_put_le32(m + W_SIZE, 6144);
	m[W_DATA] = 'd';
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
	g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_WRITE);
	g_assert_cmpuint(req.write.offset, ==, 4096);
	g_assert_cmpuint(req.write.size, ==, 6144);
	g_assert_true(req.write.data == m + W_DATA);

	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE - 1, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE + 1, &req), ==, -EBADMSG);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_START_SIZE, &req), ==, -EBADMSG);

	vmu_put_le32(m + W_SIZE, 6145);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, -EBADMSG);
	vmu_put_le32(m + W_SIZE, UINT32_MAX);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, -EBADMSG);
	vmu_put_le32(m + W_SIZE, 0);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.write.size, ==, 0);

	/* offset + size at and past UINT64_MAX */
	vmu_put_le32(m + W_SIZE, 16);
	vmu_put_le64(m + W_OFFSET, UINT64_MAX - 16);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
	vmu_put_le64(m + W_OFFSET, UINT64_MAX - 15);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, -EBADMSG);
	vmu_put_le32(m + W_SIZE, 0);
	vmu_put_le64(m + W_OFFSET, UINT64_MAX);
	g_assert_cmpint(vmu_fcopy_request_parse(m, VMU_FCOPY_WRITE_SIZE, &req), ==, 0);
}

/* One view for both formats (struct vmu_fcopy_request), growable like the library's other
 * output structs: NULL or a size below the 0.1 struct is refused before the message is
 * looked at, and a newer caller's longer struct keeps its size and its tail. */
static void test_view_size(void)
{
	g_autofree uint8_t *legacy = g_malloc0(VMU_FCOPY_START_SIZE);
	g_autofree uint8_t *host = g_malloc0(VMU_ICMSG_HDR_SIZE + VMU_FCOPY_START_SIZE);
	const size_t min = offsetof(struct vmu_fcopy_request, start.file_size) + sizeof(uint64_t);
	struct {
		struct vmu_fcopy_request req;
		uint8_t later[16]; /* fields a newer header would have added */
	} big;
	struct vmu_fcopy_request req;

	make_start(legacy, "f", "/p", 0, 5);
	/* the same START in the host's format: UTF-16LE names after the IC header */
	vmu_put_le32(host + VMU_ICMSG_HDR_SIZE, VMU_FCOPY_OP_START);
	vmu_put_le16(host + VMU_ICMSG_HDR_SIZE + FILE_NAME, 'f');
	vmu_put_le16(host + VMU_ICMSG_HDR_SIZE + PATH_NAME, '/');
	vmu_put_le16(host + VMU_ICMSG_HDR_SIZE + PATH_NAME + 2, 'p');
	vmu_put_le64(host + VMU_ICMSG_HDR_SIZE + FILE_SIZE, 5);

	memset(&req, 0x5a, sizeof(req));
	req.size = min - 1;
	g_assert_cmpint(vmu_fcopy_request_parse(legacy, VMU_FCOPY_START_SIZE, &req), ==, -EINVAL);
	g_assert_cmpint(
	    vmu_fcopy_host_request_parse(host + VMU_ICMSG_HDR_SIZE, VMU_FCOPY_START_SIZE, &req), ==,
	    -EINVAL);
	g_assert_cmpint(
	    vmu_fcopy_host_message_parse(host, VMU_ICMSG_HDR_SIZE + VMU_FCOPY_START_SIZE, &req), ==,
	    -EINVAL);
	req.size = 0;
	g_assert_cmpint(vmu_fcopy_request_parse(NULL, 0, &req), ==, -EINVAL);
	g_assert_cmphex((uint8_t)req.start.file_name[0], ==, 0x5a); /* untouched */
	g_assert_cmpint(vmu_fcopy_request_parse(legacy, VMU_FCOPY_START_SIZE, NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_fcopy_host_message_parse(host, 0, NULL), ==, -EINVAL);

	/* The 0.1 size exactly (the caller's struct may lack the tail padding). */
	req.size = min;
	g_assert_cmpint(vmu_fcopy_request_parse(legacy, VMU_FCOPY_START_SIZE, &req), ==, 0);
	g_assert_cmpuint(req.size, ==, min);
	g_assert_cmpstr(req.start.file_name, ==, "f");
	g_assert_cmpuint(req.start.file_size, ==, 5);

	/* Both formats give the same view. */
	for (int format = 0; format < 2; format++) {
		size_t i;

		memset(&big, 0xa5, sizeof(big));
		big.req.size = sizeof(big);
		if (format == 0)
			g_assert_cmpint(
			    vmu_fcopy_request_parse(legacy, VMU_FCOPY_START_SIZE, &big.req), ==, 0);
		else
			g_assert_cmpint(
			    vmu_fcopy_host_message_parse(
				host, VMU_ICMSG_HDR_SIZE + VMU_FCOPY_START_SIZE, &big.req),
			    ==, 0);
		g_assert_cmpuint(big.req.size, ==, sizeof(big));
		g_assert_cmpint(big.req.op, ==, VMU_FCOPY_OP_START);
		g_assert_cmpstr(big.req.start.file_name, ==, "f");
		g_assert_cmpuint(big.req.start.file_name_len, ==, 1);
		g_assert_cmpstr(big.req.start.path_name, ==, "/p");
		g_assert_cmpuint(big.req.start.path_name_len, ==, 2);
		g_assert_cmpuint(big.req.start.flags, ==, 0);
		g_assert_cmpuint(big.req.start.file_size, ==, 5);
		for (i = 0; i < sizeof(big.later); i++)
			g_assert_cmphex(big.later[i], ==, 0xa5);
	}
}

/* One struct parsed again and again, as hv-fcopyd does: each parse writes op and the member
 * of its op (WRITE, COMPLETE: the write member) and leaves the rest of the union as the last
 * START left it; a refused message changes nothing. */
static void test_reuse(void)
{
	g_autofree uint8_t *start = g_malloc0(VMU_FCOPY_START_SIZE);
	g_autofree uint8_t *write = g_malloc0(VMU_ICMSG_HDR_SIZE + VMU_FCOPY_WRITE_SIZE);
	uint8_t done[VMU_ICMSG_HDR_SIZE + 36] = {0};
	struct vmu_fcopy_request req = VMU_FCOPY_REQUEST_INIT;

	g_assert_cmpuint(offsetof(struct vmu_fcopy_request, start.path_name), >=,
			 offsetof(struct vmu_fcopy_request, write) + sizeof(req.write));
	make_start(start, "f", "/p", 0, 5);
	for (int format = 0; format < 2; format++) {
		/* the host's format has the IC header before the same fields */
		uint8_t *w = write + (format ? VMU_ICMSG_HDR_SIZE : 0);
		uint8_t *c = done + (format ? VMU_ICMSG_HDR_SIZE : 0);
		size_t wlen = VMU_FCOPY_WRITE_SIZE + (format ? VMU_ICMSG_HDR_SIZE : 0);
		size_t clen = 36 + (format ? VMU_ICMSG_HDR_SIZE : 0);
		int (*parse)(const void *, size_t, struct vmu_fcopy_request *) =
		    format ? vmu_fcopy_host_message_parse : vmu_fcopy_request_parse;

		if (format) {
			struct vmu_icmsg hdr = {.icmsgtype = VMU_ICMSGTYPE_FCOPY};

			hdr.icmsgsize = VMU_FCOPY_WRITE_SIZE;
			g_assert_cmpint(vmu_icmsg_write(write, wlen, &hdr), ==, 0);
			hdr.icmsgsize = 36;
			g_assert_cmpint(vmu_icmsg_write(done, clen, &hdr), ==, 0);
		}
		g_assert_cmpint(vmu_fcopy_request_parse(start, VMU_FCOPY_START_SIZE, &req), ==, 0);
		vmu_put_le32(w, VMU_FCOPY_OP_WRITE);
		vmu_put_le64(w + W_OFFSET, 12288);
		vmu_put_le32(w + W_SIZE, 100);
		g_assert_cmpint(parse(write, wlen, &req), ==, 0);
		g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_WRITE);
		g_assert_cmpuint(req.write.offset, ==, 12288);
		g_assert_cmpuint(req.write.size, ==, 100);
		g_assert_true(req.write.data == w + W_DATA);
		g_assert_cmpstr(req.start.path_name, ==, "/p"); /* past the write member */
		g_assert_cmpuint(req.size, ==, sizeof(req));

		vmu_put_le32(w + W_SIZE, 6145); /* refused: nothing changes */
		g_assert_cmpint(parse(write, wlen, &req), ==, -EBADMSG);
		g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_WRITE);
		g_assert_cmpuint(req.write.size, ==, 100);

		vmu_put_le32(c, VMU_FCOPY_OP_COMPLETE);
		g_assert_cmpint(parse(done, clen, &req), ==, 0);
		g_assert_cmpint(req.op, ==, VMU_FCOPY_OP_COMPLETE);
		g_assert_cmpuint(req.write.offset, ==, 0);
		g_assert_cmpuint(req.write.size, ==, 0);
		g_assert_null(req.write.data);
		g_assert_cmpstr(req.start.path_name, ==, "/p");
	}
}

static void test_reply(void)
{
	uint8_t b[8];

	memset(b, 0xaa, sizeof(b));
	g_assert_cmpint(vmu_fcopy_reply(b, sizeof(b), 0x80004005u), ==, VMU_FCOPY_REPLY_SIZE);
	g_assert_cmpmem(b, 4, "\x05\x40\x00\x80", 4);
	g_assert_cmpuint(b[4], ==, 0xaa); /* nothing past the 4 bytes */
	g_assert_cmpint(vmu_fcopy_reply(b, 3, 0), ==, -ENOBUFS);
	g_assert_cmpint(vmu_fcopy_reply(NULL, 4, 0), ==, -ENOBUFS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fcopy-msg/header", test_header);
	g_test_add_func("/fcopy-msg/complete-cancel", test_complete_cancel);
	g_test_add_func("/fcopy-msg/start", test_start);
	g_test_add_func("/fcopy-msg/write", test_write);
	g_test_add_func("/fcopy-msg/view-size", test_view_size);
	g_test_add_func("/fcopy-msg/reuse", test_reuse);
	g_test_add_func("/fcopy-msg/reply", test_reply);
	return g_test_run();
}
