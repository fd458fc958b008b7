/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the VMBus ring (lib/vmbus-user/ring.c): one process plays both roles on
 * one buffer. Wrap-around at every offset, exact fits, padding and the trailer, the
 * signalling decisions, and hostile indices and headers (errors, never an overread: the
 * buffers are exactly as large as the ring, so ASan catches any).
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"

struct fixture {
	uint8_t *mem;
	size_t bytes;
	struct vmu_ring w, r;
};

static uint32_t *word(struct fixture *f, size_t off)
{
	return (uint32_t *)(void *)(f->mem + off);
}

/* A ring with a data area of data bytes, both indices at start. */
static void fixture_init(struct fixture *f, size_t data, uint32_t start, uint32_t features)
{
	f->bytes = VMU_RING_HEADER_SIZE + data;
	f->mem = aligned_alloc(4096, (f->bytes + 4095) & ~(size_t)4095);
	g_assert_nonnull(f->mem);
	memset(f->mem, 0xEE, f->bytes);
	vmu_ring_init_header(f->mem, features);
	*word(f, VMU_RING_OFF_WRITE_INDEX) = start;
	*word(f, VMU_RING_OFF_READ_INDEX) = start;
	g_assert_cmpint(vmu_ring_attach(&f->w, f->mem, f->bytes, VMU_RING_WRITER), ==, 0);
	g_assert_cmpint(vmu_ring_attach(&f->r, f->mem, f->bytes, VMU_RING_READER), ==, 0);
}

static void fixture_done(struct fixture *f)
{
	free(f->mem);
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static void test_attach_limits(void)
{
	struct fixture f;
	struct vmu_ring ring;

	fixture_init(&f, 64, 0, 0);
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, VMU_RING_HEADER_SIZE, VMU_RING_READER), ==,
			-EINVAL);
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, VMU_RING_HEADER_SIZE + 8, VMU_RING_READER),
			==, 0);
	g_assert_cmpuint(ring.size, ==, 8);
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, VMU_RING_HEADER_SIZE + 60, VMU_RING_READER),
			==, -EINVAL);
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem + 2, f.bytes - 8, VMU_RING_READER), ==,
			-EINVAL);
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, VMU_RING_HEADER_SIZE + VMU_RING_MAX_DATA + 8,
					VMU_RING_READER),
			==, -EINVAL);
	/* Our own index, as found at attach time, must be sane. */
	*word(&f, VMU_RING_OFF_READ_INDEX) = 60;
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, f.bytes, VMU_RING_READER), ==, -EBADMSG);
	*word(&f, VMU_RING_OFF_READ_INDEX) = 64;
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, f.bytes, VMU_RING_READER), ==, -EBADMSG);
	*word(&f, VMU_RING_OFF_READ_INDEX) = 56;
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, f.bytes, VMU_RING_READER), ==, 0);
	g_assert_cmpuint(ring.priv, ==, 56);
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 4;
	g_assert_cmpint(vmu_ring_attach(&ring, f.mem, f.bytes, VMU_RING_WRITER), ==, -EBADMSG);
	fixture_done(&f);
}

static void test_packet_layout(void)
{
	struct fixture f;
	struct vmu_ring_packet pkt;
	uint8_t buf[64];

	fixture_init(&f, 256, 0, VMU_RING_FEAT_PENDING_SEND_SZ);
	g_assert_cmpuint(vmu_ring_packet_space(5), ==, 16 + 8 + 8);
	g_assert_cmpuint(vmu_ring_packet_space(8), ==, 16 + 8 + 8);
	g_assert_cmpuint(vmu_ring_packet_space(0), ==, 24);
	/* The first packet into an empty, unmasked ring signals; the second does not. */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 1, 0x1122334455667788ull, "hello", 5), ==, 1);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_WRITE_INDEX), ==, 32);
	g_assert_cmpuint(vmu_le16(f.mem + 4096), ==, 6);
	g_assert_cmpuint(vmu_le16(f.mem + 4096 + 2), ==, 2);
	g_assert_cmpuint(vmu_le16(f.mem + 4096 + 4), ==, 3);
	g_assert_cmpuint(vmu_le16(f.mem + 4096 + 6), ==, 1);
	g_assert_cmphex(vmu_le64(f.mem + 4096 + 8), ==, 0x1122334455667788ull);
	g_assert_cmpmem(f.mem + 4096 + 16, 5, "hello", 5);
	g_assert_cmpmem(f.mem + 4096 + 21, 3, "\0\0\0", 3);  /* zero padding */
	g_assert_cmphex(vmu_le64(f.mem + 4096 + 24), ==, 0); /* trailer: start 0 << 32 */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 7, "abcdefgh", 8), ==, 0);
	g_assert_cmphex(vmu_le64(f.mem + 4096 + 32 + 24), ==, (uint64_t)32 << 32);

	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpuint(pkt.type, ==, 6);
	g_assert_cmpuint(pkt.flags, ==, 1);
	g_assert_cmphex(pkt.xactid, ==, 0x1122334455667788ull);
	g_assert_cmpuint(pkt.payload_offset, ==, 16);
	g_assert_cmpuint(pkt.payload_len, ==, 8);
	g_assert_cmpuint(pkt.total, ==, 24);
	g_assert_cmpmem(buf + 16, 8, "hello\0\0\0", 8);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, 32);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpmem(buf + 16, 8, "abcdefgh", 8);
	g_assert_cmpuint(pkt.xactid, ==, 7);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, -EAGAIN);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, 64);
	fixture_done(&f);
}

/* Every start offset of a tiny ring, every payload size that fits: the packet comes back
 * whole, the indices and the trailer are right. */
static void test_wrap_every_offset(void)
{
	const size_t data = 64;

	for (uint32_t start = 0; start < data; start += 8) {
		for (size_t len = 0; len <= 32; len++) {
			struct fixture f;
			struct vmu_ring_packet pkt;
			uint8_t payload[40], buf[64];
			size_t space = vmu_ring_packet_space(len);
			uint32_t end = (uint32_t)((start + space) % data);

			fixture_init(&f, data, start, 0);
			fill_pattern(payload, len, start + (unsigned)len);
			g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, len, payload, len), ==, 1);
			g_assert_cmpuint(*word(&f, VMU_RING_OFF_WRITE_INDEX), ==, end);
			/* The trailer sits right before the new write index. */
			uint8_t trailer[8];
			for (size_t i = 0; i < 8; i++)
				trailer[i] = f.mem[4096 + (end + data - 8 + i) % data];
			g_assert_cmphex(vmu_le64(trailer), ==, (uint64_t)start << 32);
			g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
			g_assert_cmpuint(pkt.xactid, ==, len);
			g_assert_cmpuint(pkt.payload_len, ==, (len + 7) & ~(size_t)7);
			g_assert_cmpmem(buf + 16, len, payload, len);
			for (size_t i = len; i < pkt.payload_len; i++)
				g_assert_cmpuint(buf[16 + i], ==, 0);
			g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, end);
			g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, -EAGAIN);
			fixture_done(&f);
		}
	}
}

/* Many packets of varying size through a tiny ring: a continuous stream with wraps. */
static void test_wrap_stream(void)
{
	struct fixture f;
	unsigned wraps = 0;

	fixture_init(&f, 128, 0, VMU_RING_FEAT_PENDING_SEND_SZ);
	for (unsigned i = 0; i < 5000; i++) {
		struct vmu_ring_packet pkt;
		uint8_t payload[64], buf[128];
		size_t len = (i * 13) % 33;
		uint32_t before = f.r.priv;

		fill_pattern(payload, len, i);
		g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, i, payload, len), >=, 0);
		if (i % 2 == 0)
			continue; /* keep up to two packets in flight */
		for (int k = 0; k < 2; k++) {
			g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), >=, 0);
			g_assert_cmpuint(pkt.xactid, ==, i - 1 + (unsigned)k);
			len = ((i - 1 + (unsigned)k) * 13) % 33;
			fill_pattern(payload, len, i - 1 + (unsigned)k);
			g_assert_cmpmem(buf + 16, len, payload, len);
		}
		if (f.r.priv < before)
			wraps++;
	}
	g_assert_cmpuint(wraps, >, 500);
	fixture_done(&f);
}

/* A writer needs strictly more free space than it writes. */
static void test_exact_fit(void)
{
	struct fixture f;
	struct vmu_ring_packet pkt;
	uint8_t payload[128] = {0}, buf[128];
	uint32_t free_now;

	fixture_init(&f, 128, 0, 0);
	/* Never fits: 16 + 104 + 8 = 128 = the whole ring; 96 bytes gives 120 < 128. */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 104), ==, -EMSGSIZE);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 97), ==, -EMSGSIZE);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 96), ==, 1);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);

	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 32), ==, 1); /* 56 bytes */
	g_assert_cmpint(vmu_ring_bytes_free(&f.w, &free_now), ==, 0);
	g_assert_cmpuint(free_now, ==, 72);
	/* 72 bytes would fill the ring exactly (w == r): refused; one byte of payload less
	 * than 48 still pads to 48; 40 bytes (64 in the ring) fits. */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 48), ==, -EAGAIN);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 41), ==, -EAGAIN);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, 40), ==, 0);
	g_assert_cmpint(vmu_ring_bytes_free(&f.w, &free_now), ==, 0);
	g_assert_cmpuint(free_now, ==, 8);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, NULL, 0), ==, -EAGAIN);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_PENDING_SEND_SZ), ==, 0); /* no feature bit */

	/* Too large for the caller's buffer: -ENOBUFS, nothing consumed. */
	g_assert_cmpint(vmu_ring_read(&f.r, buf, 47, &pkt), ==, -ENOBUFS);
	g_assert_cmpint(vmu_ring_read(&f.r, NULL, 0, &pkt), ==, -ENOBUFS);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, 120);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, 48, &pkt), ==, 0);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, 64, &pkt), ==, 0);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, -EAGAIN);

	/* Argument errors. */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, NULL, 3), ==, -EINVAL);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, payload, (size_t)UINT16_MAX * 8 + 1), ==,
			-EMSGSIZE);
	g_assert_cmpint(vmu_ring_send(&f.r, 6, 0, 0, payload, 8), ==, -EINVAL);
	g_assert_cmpint(vmu_ring_read(&f.w, buf, sizeof(buf), &pkt), ==, -EINVAL);
	struct iovec odd = {.iov_base = payload, .iov_len = 20};
	g_assert_cmpint(vmu_ring_write(&f.w, &odd, 1), ==, -EINVAL);
	fixture_done(&f);
}

static void test_signal_decisions(void)
{
	/* Writer: mask, and whether the reader had caught up with our old write index. */
	g_assert_true(vmu_ring_need_signal_on_write(0, 64, 64));
	g_assert_false(vmu_ring_need_signal_on_write(1, 64, 64));
	g_assert_false(vmu_ring_need_signal_on_write(0, 64, 32));
	/* Reader: feature bit, pending size and the crossing. */
	g_assert_true(vmu_ring_need_signal_on_read(1, 100, 100, 101));
	g_assert_true(vmu_ring_need_signal_on_read(1, 100, 50, 200));
	g_assert_false(vmu_ring_need_signal_on_read(0, 100, 50, 200));
	g_assert_false(vmu_ring_need_signal_on_read(1, 0, 50, 200));
	g_assert_false(vmu_ring_need_signal_on_read(1, 100, 101, 200)); /* already had it */
	g_assert_false(vmu_ring_need_signal_on_read(1, 100, 50, 100));  /* still not enough */
	g_assert_false(vmu_ring_need_signal_on_read(3, 100, 100, 100));
	g_assert_true(vmu_ring_need_signal_on_read(3, 100, 0, 108));
}

/* pending_send_sz: set on a failed write when the ring supports it, honoured by the reader
 * exactly once, cleared by the next successful write. */
static void test_pending_send_sz(void)
{
	struct fixture f;
	struct vmu_ring_packet pkt;
	uint8_t payload[64] = {0}, buf[128];

	fixture_init(&f, 128, 0, VMU_RING_FEAT_PENDING_SEND_SZ);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 1, payload, 16), ==, 1); /* 40 */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 2, payload, 16), ==, 0); /* 80 */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 3, payload, 16), ==, 0); /* 120 */
	/* free = 128 - 120 = 8; 40 bytes of payload need 64 */
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 4, payload, 40), ==, -EAGAIN);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_PENDING_SEND_SZ), ==, 64);
	/* First read frees 40: free 48 <= 64, no signal. Second frees 40 more: 88 > 64 and
	 * 48 <= 64 before: signal. Third: 128, was already > 64: no signal. */
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 1);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpuint(pkt.xactid, ==, 3);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_PENDING_SEND_SZ), ==, 64);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 4, payload, 40), ==, 1);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_PENDING_SEND_SZ), ==, 0);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpuint(pkt.xactid, ==, 4);

	/* Without the feature bit the reader ignores a pending size it finds. */
	*word(&f, VMU_RING_OFF_FEATURE_BITS) = 0;
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 5, payload, 16), ==, 1);
	*word(&f, VMU_RING_OFF_PENDING_SEND_SZ) = 8;
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	fixture_done(&f);
}

/* The reader's interrupt mask: a masked reader gets no signal; rearm unmasks and reports a
 * packet that arrived while masked. */
static void test_mask_and_rearm(void)
{
	struct fixture f;
	struct vmu_ring_packet pkt;
	uint8_t buf[64];

	fixture_init(&f, 256, 0, 0);
	g_assert_cmpint(vmu_ring_rearm(&f.r), ==, 0);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_INTERRUPT_MASK), ==, 0);
	vmu_ring_set_interrupt_mask(&f.r, true);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_INTERRUPT_MASK), ==, 1);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 1, "x", 1), ==, 0); /* masked: no signal */
	g_assert_cmpint(vmu_ring_rearm(&f.r), ==, 1);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_INTERRUPT_MASK), ==, 0);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 2, "y", 1), ==, 0); /* not empty: none */
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpint(vmu_ring_rearm(&f.r), ==, 0);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 3, "z", 1), ==, 1);
	g_assert_cmpint(vmu_ring_rearm(&f.w), ==, -EINVAL);
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 4;
	g_assert_cmpint(vmu_ring_rearm(&f.r), ==, -EBADMSG);
	fixture_done(&f);
}

/* Writes a raw packet header at data offset off (wrapping). */
static void put_raw_header(struct fixture *f, uint32_t off, uint16_t hlen, uint16_t tlen)
{
	uint8_t h[16] = {0};
	size_t data = f->bytes - VMU_RING_HEADER_SIZE;

	vmu_put_le16(h, 6);
	vmu_put_le16(h + 2, hlen);
	vmu_put_le16(h + 4, tlen);
	for (size_t i = 0; i < sizeof(h); i++)
		f->mem[VMU_RING_HEADER_SIZE + (off + i) % data] = h[i];
}

static void expect_hostile(struct fixture *f, int error)
{
	struct vmu_ring_packet pkt = {.type = 0xAAAA};
	uint8_t buf[256];
	uint32_t before = *word(f, VMU_RING_OFF_READ_INDEX), priv = f->r.priv;

	g_assert_cmpint(vmu_ring_read(&f->r, buf, sizeof(buf), &pkt), ==, error);
	g_assert_cmpuint(pkt.type, ==, 0xAAAA); /* untouched */
	g_assert_cmpuint(*word(f, VMU_RING_OFF_READ_INDEX), ==, before);
	g_assert_cmpuint(f->r.priv, ==, priv);
}

static void test_hostile_reader(void)
{
	struct fixture f;
	uint8_t buf[256];
	struct vmu_ring_packet pkt;

	fixture_init(&f, 128, 96, 0);
	/* The write index out of range or unaligned. */
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 128;
	expect_hostile(&f, -EBADMSG);
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 0xFFFFFFF8u;
	expect_hostile(&f, -EBADMSG);
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 100;
	expect_hostile(&f, -EBADMSG);
	/* Readable but shorter than header + trailer. */
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 112;
	expect_hostile(&f, -EBADMSG);
	/* 32 readable bytes from 96 (wrapping at 128): header checks. */
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 0;
	put_raw_header(&f, 96, 1, 3);
	expect_hostile(&f, -EBADMSG); /* hlen < 2 */
	put_raw_header(&f, 96, 0, 0);
	expect_hostile(&f, -EBADMSG);
	put_raw_header(&f, 96, 4, 3);
	expect_hostile(&f, -EBADMSG); /* hlen > tlen */
	put_raw_header(&f, 96, 2, 4);
	expect_hostile(&f, -EBADMSG); /* 32 + 8 > 32 readable */
	put_raw_header(&f, 96, 2, 0xFFFF);
	expect_hostile(&f, -EBADMSG);
	put_raw_header(&f, 96, 2, 3);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, 23, &pkt), ==, -ENOBUFS);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, 24, &pkt), ==, 0); /* 24 + 8 == readable */
	g_assert_cmpuint(pkt.total, ==, 24);
	g_assert_cmpuint(f.r.priv, ==, 0);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, 0);

	/* hlen == tlen: a packet with an empty payload is fine. */
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 32;
	put_raw_header(&f, 0, 3, 3);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpuint(pkt.payload_offset, ==, 24);
	g_assert_cmpuint(pkt.payload_len, ==, 0);

	/* The peer scribbles over our read index: we keep ours and publish it again. */
	*word(&f, VMU_RING_OFF_READ_INDEX) = 12345;
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, -EAGAIN);
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 64;
	put_raw_header(&f, 32, 2, 3);
	g_assert_cmpint(vmu_ring_read(&f.r, buf, sizeof(buf), &pkt), ==, 0);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_READ_INDEX), ==, 64);
	fixture_done(&f);
}

static void test_hostile_writer_side(void)
{
	struct fixture f;
	uint32_t free_now = 777;

	fixture_init(&f, 128, 0, VMU_RING_FEAT_PENDING_SEND_SZ);
	*word(&f, VMU_RING_OFF_READ_INDEX) = 128;
	g_assert_cmpint(vmu_ring_bytes_free(&f.w, &free_now), ==, -EBADMSG);
	g_assert_cmpuint(free_now, ==, 777);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, "a", 1), ==, -EBADMSG);
	*word(&f, VMU_RING_OFF_READ_INDEX) = 3;
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, "a", 1), ==, -EBADMSG);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_WRITE_INDEX), ==, 0);
	/* A read index the host moved ahead of our write index makes the ring look almost
	 * full, never overflow it. */
	*word(&f, VMU_RING_OFF_READ_INDEX) = 8;
	g_assert_cmpint(vmu_ring_bytes_free(&f.w, &free_now), ==, 0);
	g_assert_cmpuint(free_now, ==, 8);
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, "a", 1), ==, -EAGAIN);
	/* Our write index scribbled by the peer is ignored. */
	*word(&f, VMU_RING_OFF_READ_INDEX) = 0;
	*word(&f, VMU_RING_OFF_WRITE_INDEX) = 64;
	g_assert_cmpint(vmu_ring_send(&f.w, 6, 0, 0, "a", 1), ==, 1);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_WRITE_INDEX), ==, 32);
	g_assert_cmpuint(*word(&f, VMU_RING_OFF_PENDING_SEND_SZ), ==, 0);
	fixture_done(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ring/attach-limits", test_attach_limits);
	g_test_add_func("/ring/packet-layout", test_packet_layout);
	g_test_add_func("/ring/wrap-every-offset", test_wrap_every_offset);
	g_test_add_func("/ring/wrap-stream", test_wrap_stream);
	g_test_add_func("/ring/exact-fit", test_exact_fit);
	g_test_add_func("/ring/signal-decisions", test_signal_decisions);
	g_test_add_func("/ring/pending-send-sz", test_pending_send_sz);
	g_test_add_func("/ring/mask-and-rearm", test_mask_and_rearm);
	g_test_add_func("/ring/hostile-reader", test_hostile_reader);
	g_test_add_func("/ring/hostile-writer-side", test_hostile_writer_side);
	return g_test_run();
}
