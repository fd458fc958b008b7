/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated host's ring code (tools/hv-host-sim/host-ring.c) against the library's
 * (lib/vmbus-user/ring.c), which were written apart so that an arithmetic mistake cannot
 * cancel out between the simulated host and the daemon.
 *
 * Cross-check: two rings start byte-identical. Ring A is filled by the host and drained by
 * the library (host -> guest), ring B filled by the library and drained by the host
 * (guest -> host). Random sequences of sends, receives and interrupt-mask changes, on random
 * data sizes, start indices and feature bits, are applied to both; after every step the two
 * rings' memory (page and data) must be equal byte for byte, both sides must return the same
 * thing, and both must agree with a model of the ring (a FIFO of packets, the signalling rules
 * of docs/protocol.md §6.3). Then the host side's own checks of what the guest writes.
 *
 * The sequences come from GLib's test random generator: a failure prints the seed
 * (--seed=R02S... repeats it).
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/host-ring.h"

#define MAX_DATA 2048
#define MAX_QUEUE 512

struct model_packet {
	size_t len;
	uint16_t type, flags;
	uint64_t xactid;
	unsigned seed;
};

struct twin {
	size_t data, bytes;
	uint8_t *a, *b;
	struct hvsim_ring host_out; /* A: the host writes */
	struct vmu_ring guest_in;   /* A: the library reads */
	struct vmu_ring guest_out;  /* B: the library writes */
	struct hvsim_ring host_in;  /* B: the host reads */
	/* the model */
	struct model_packet queue[MAX_QUEUE];
	size_t head, count, used;
	uint32_t write_index, read_index, pending, mask;
	bool feature;
	/* what the sequence covered */
	unsigned wraps, full, signals_write, signals_read, too_big;
};

static void fill_payload(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 17 + 3);
}

static uint8_t *ring_memory(size_t bytes)
{
	uint8_t *m = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);

	g_assert_nonnull(m);
	return m;
}

static void twin_init(struct twin *t, size_t data, uint32_t start, bool feature)
{
	memset(t, 0, sizeof(*t));
	t->data = data;
	t->bytes = HVSIM_RING_PAGE_SIZE + data;
	t->a = ring_memory(t->bytes);
	t->b = ring_memory(t->bytes);
	memset(t->a, 0x5A, t->bytes);
	hvsim_ring_format(t->a);
	if (!feature)
		((struct hvsim_ring_page *)t->a)->feature_bits = 0;
	((struct hvsim_ring_page *)t->a)->write_index = start;
	((struct hvsim_ring_page *)t->a)->read_index = start;
	memcpy(t->b, t->a, t->bytes);
	g_assert_cmpint(hvsim_ring_open(&t->host_out, t->a, t->bytes, HVSIM_RING_HOST_SENDS), ==,
			0);
	g_assert_cmpint(vmu_ring_attach(&t->guest_in, t->a, t->bytes, VMU_RING_READER), ==, 0);
	g_assert_cmpint(vmu_ring_attach(&t->guest_out, t->b, t->bytes, VMU_RING_WRITER), ==, 0);
	g_assert_cmpint(hvsim_ring_open(&t->host_in, t->b, t->bytes, HVSIM_RING_HOST_RECEIVES), ==,
			0);
	t->write_index = t->read_index = start;
	t->feature = feature;
}

static void twin_done(struct twin *t)
{
	free(t->a);
	free(t->b);
}

static void assert_twins_equal(const struct twin *t)
{
	const struct hvsim_ring_page *page = (const struct hvsim_ring_page *)t->a;

	g_assert_cmpmem(t->a, t->bytes, t->b, t->bytes);
	g_assert_cmpuint(page->write_index, ==, t->write_index);
	g_assert_cmpuint(page->read_index, ==, t->read_index);
	g_assert_cmpuint(page->pending_send_sz, ==, t->pending);
	g_assert_cmpuint(page->interrupt_mask, ==, t->mask);
}

/* The model's answer to a send of len bytes: 0 ok (signal in *ret_signal), or -errno. */
static int model_send(struct twin *t, const struct model_packet *p, bool *ret_signal)
{
	size_t space = 16 + (p->len + 7) / 8 * 8 + 8;

	*ret_signal = false;
	if (space >= t->data)
		return -EMSGSIZE;
	if (t->data - t->used <= space) {
		if (t->feature)
			t->pending = (uint32_t)space;
		return -EAGAIN;
	}
	*ret_signal = t->mask == 0 && t->count == 0;
	if (t->write_index + space > t->data)
		t->wraps++;
	t->write_index = (uint32_t)((t->write_index + space) % t->data);
	t->used += space;
	t->pending = 0;
	g_assert_cmpuint(t->count, <, MAX_QUEUE);
	t->queue[(t->head + t->count++) % MAX_QUEUE] = *p;
	return 0;
}

static void step_send(struct twin *t)
{
	struct model_packet p = {
	    .len = (size_t)g_test_rand_int_range(0, (int32_t)t->data + 1),
	    .type = g_test_rand_bit() ? VMU_VMBUS_PACKET_DATA_INBAND : VMU_VMBUS_PACKET_COMP,
	    .flags = (uint16_t)g_test_rand_int_range(0, 2),
	    .xactid = ((uint64_t)g_test_rand_int() << 32) | g_test_rand_int(),
	    .seed = g_test_rand_int(),
	};
	uint8_t payload[MAX_DATA];
	bool host_signal = false, expect_signal;
	int host_r, lib_r, expect;

	/* Mostly packets that fit, now and then one that never can. */
	if (p.len > t->data / 3 && g_test_rand_int_range(0, 8) != 0)
		p.len = p.len % (t->data / 3 + 1);
	fill_payload(payload, p.len, p.seed);
	host_r =
	    hvsim_ring_put(&t->host_out, p.type, p.flags, p.xactid, payload, p.len, &host_signal);
	lib_r = vmu_ring_send(&t->guest_out, p.type, p.flags, p.xactid, payload, p.len);
	expect = model_send(t, &p, &expect_signal);
	g_assert_cmpint(host_r, ==, expect);
	if (expect == 0) {
		g_assert_cmpint(lib_r, ==, expect_signal ? 1 : 0);
		g_assert_cmpint(host_signal, ==, expect_signal);
		t->signals_write += expect_signal;
	} else {
		g_assert_cmpint(lib_r, ==, expect);
		t->full += expect == -EAGAIN;
		t->too_big += expect == -EMSGSIZE;
	}
	assert_twins_equal(t);
}

static void model_receive(struct twin *t, struct model_packet *ret, bool *ret_signal)
{
	size_t space;
	size_t free_before;

	*ret = t->queue[t->head];
	t->head = (t->head + 1) % MAX_QUEUE;
	t->count--;
	space = 16 + (ret->len + 7) / 8 * 8 + 8;
	free_before = t->data - t->used;
	t->used -= space;
	t->read_index = (uint32_t)((t->read_index + space) % t->data);
	*ret_signal = t->feature && t->pending != 0 && free_before <= t->pending &&
		      t->data - t->used > t->pending;
}

static void step_receive(struct twin *t)
{
	uint8_t lib_buf[MAX_DATA + 64], host_buf[MAX_DATA], expect_payload[MAX_DATA];
	struct vmu_ring_packet lib_pkt;
	struct hvsim_ring_desc desc;
	struct model_packet p;
	bool host_signal = false, expect_signal;
	size_t padded;
	int lib_r, host_r;

	lib_r = vmu_ring_read(&t->guest_in, lib_buf, sizeof(lib_buf), &lib_pkt);
	host_r = hvsim_ring_get(&t->host_in, &desc, host_buf, sizeof(host_buf), &host_signal);
	if (t->count == 0) {
		g_assert_cmpint(lib_r, ==, -EAGAIN);
		g_assert_cmpint(host_r, ==, -EAGAIN);
		assert_twins_equal(t);
		return;
	}
	model_receive(t, &p, &expect_signal);
	padded = (p.len + 7) / 8 * 8;
	fill_payload(expect_payload, p.len, p.seed);

	g_assert_cmpint(lib_r, ==, expect_signal ? 1 : 0);
	g_assert_cmpuint(lib_pkt.type, ==, p.type);
	g_assert_cmpuint(lib_pkt.flags, ==, p.flags);
	g_assert_cmphex(lib_pkt.xactid, ==, p.xactid);
	g_assert_cmpuint(lib_pkt.payload_len, ==, padded);
	g_assert_cmpmem(lib_buf + lib_pkt.payload_offset, p.len, expect_payload, p.len);

	g_assert_cmpint(host_r, ==, (int)padded);
	g_assert_cmpint(host_signal, ==, expect_signal);
	g_assert_cmpuint(desc.type, ==, p.type);
	g_assert_cmpuint(desc.flags, ==, p.flags);
	g_assert_cmphex(desc.trans_id, ==, p.xactid);
	g_assert_cmpuint(desc.offset8, ==, 2);
	g_assert_cmpuint(desc.len8, ==, 2 + padded / 8);
	g_assert_cmpmem(host_buf, p.len, expect_payload, p.len);
	for (size_t i = p.len; i < padded; i++)
		g_assert_cmpuint(host_buf[i], ==, 0);
	t->signals_read += expect_signal;
	assert_twins_equal(t);
}

/* The reader masks or unmasks interrupts (in A the library is the reader, in B the host). */
static void step_mask(struct twin *t)
{
	t->mask = !t->mask;
	vmu_ring_set_interrupt_mask(&t->guest_in, t->mask);
	__atomic_store_n(&((struct hvsim_ring_page *)t->b)->interrupt_mask, t->mask,
			 __ATOMIC_SEQ_CST);
	assert_twins_equal(t);
}

static void run_sequence(struct twin *t, unsigned steps)
{
	for (unsigned i = 0; i < steps; i++) {
		int dice = g_test_rand_int_range(0, 100);

		if (dice < 4)
			step_mask(t);
		else if (dice < 54)
			step_send(t);
		else
			step_receive(t);
	}
	/* Drain: everything sent comes out whole. */
	while (t->count > 0)
		step_receive(t);
	step_receive(t);
}

static void test_cross_check_random(void)
{
	unsigned wraps = 0, full = 0, signals_write = 0, signals_read = 0, too_big = 0;

	for (int seq = 0; seq < 300; seq++) {
		size_t data = 8 * (size_t)g_test_rand_int_range(4, MAX_DATA / 8 + 1);
		uint32_t start = 8 * (uint32_t)g_test_rand_int_range(0, (int32_t)(data / 8));
		struct twin t;

		twin_init(&t, data, start, g_test_rand_int_range(0, 4) != 0);
		run_sequence(&t, 600);
		wraps += t.wraps;
		full += t.full;
		signals_write += t.signals_write;
		signals_read += t.signals_read;
		too_big += t.too_big;
		twin_done(&t);
	}
	/* The sequences reached what they are for. */
	g_assert_cmpuint(wraps, >, 1000);
	g_assert_cmpuint(full, >, 100);
	g_assert_cmpuint(signals_write, >, 100);
	g_assert_cmpuint(signals_read, >, 10);
	g_assert_cmpuint(too_big, >, 10);
}

/* Every start offset of a small ring and every payload size: one packet each way. */
static void test_cross_check_every_offset(void)
{
	const size_t data = 96;

	for (uint32_t start = 0; start < data; start += 8) {
		for (size_t len = 0; len <= 56; len++) {
			struct twin t;
			struct model_packet p = {
			    .len = len,
			    .type = VMU_VMBUS_PACKET_DATA_INBAND,
			    .flags = VMU_VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
			    .xactid = start * 1000 + len,
			    .seed = (unsigned)(start + len)};
			uint8_t payload[64];
			bool signal, expect_signal;

			twin_init(&t, data, start, true);
			fill_payload(payload, len, p.seed);
			g_assert_cmpint(hvsim_ring_put(&t.host_out, p.type, p.flags, p.xactid,
						       payload, len, &signal),
					==, 0);
			g_assert_true(signal);
			g_assert_cmpint(
			    vmu_ring_send(&t.guest_out, p.type, p.flags, p.xactid, payload, len),
			    ==, 1);
			g_assert_cmpint(model_send(&t, &p, &expect_signal), ==, 0);
			assert_twins_equal(&t);
			step_receive(&t);
			twin_done(&t);
		}
	}
}

/* ------------------------------------------------------------------------------------------
 * The host side's own checks of what the guest writes
 * ------------------------------------------------------------------------------------------ */

struct hostile {
	uint8_t *mem;
	size_t bytes;
	struct hvsim_ring_page *page;
	struct hvsim_ring ring;
};

static void hostile_init(struct hostile *h, size_t data, enum hvsim_ring_direction direction)
{
	h->bytes = HVSIM_RING_PAGE_SIZE + data;
	h->mem = ring_memory(h->bytes);
	memset(h->mem, 0, h->bytes);
	hvsim_ring_format(h->mem);
	h->page = (struct hvsim_ring_page *)h->mem;
	g_assert_cmpint(hvsim_ring_open(&h->ring, h->mem, h->bytes, direction), ==, 0);
}

static void put_desc(struct hostile *h, uint32_t at, uint16_t offset8, uint16_t len8)
{
	uint8_t *d = h->mem + HVSIM_RING_PAGE_SIZE + at;

	memset(d, 0, 16);
	vmu_put_le16(d, 6);
	vmu_put_le16(d + 2, offset8);
	vmu_put_le16(d + 4, len8);
}

static void test_open_limits(void)
{
	struct hostile h;
	struct hvsim_ring r;

	hostile_init(&h, 64, HVSIM_RING_HOST_SENDS);
	g_assert_cmpint(hvsim_ring_open(&r, h.mem, HVSIM_RING_PAGE_SIZE, HVSIM_RING_HOST_SENDS), ==,
			-EINVAL);
	g_assert_cmpint(
	    hvsim_ring_open(&r, h.mem, HVSIM_RING_PAGE_SIZE + 60, HVSIM_RING_HOST_SENDS), ==,
	    -EINVAL);
	g_assert_cmpint(hvsim_ring_open(&r, h.mem + 2, h.bytes - 8, HVSIM_RING_HOST_SENDS), ==,
			-EINVAL);
	h.page->write_index = 64;
	g_assert_cmpint(hvsim_ring_open(&r, h.mem, h.bytes, HVSIM_RING_HOST_SENDS), ==, -EBADMSG);
	h.page->write_index = 12;
	g_assert_cmpint(hvsim_ring_open(&r, h.mem, h.bytes, HVSIM_RING_HOST_SENDS), ==, -EBADMSG);
	/* the guest's index is not the host's concern at open time */
	h.page->write_index = 56;
	h.page->read_index = 13;
	g_assert_cmpint(hvsim_ring_open(&r, h.mem, h.bytes, HVSIM_RING_HOST_SENDS), ==, 0);
	g_assert_cmpuint(r.own, ==, 56);
	g_assert_cmpint(hvsim_ring_open(&r, h.mem, h.bytes, HVSIM_RING_HOST_RECEIVES), ==,
			-EBADMSG);
	free(h.mem);
}

static void test_hostile_guest_read_index(void)
{
	struct hostile h;
	bool signal;

	hostile_init(&h, 256, HVSIM_RING_HOST_SENDS);
	h.page->read_index = 4; /* unaligned */
	g_assert_cmpint(hvsim_ring_put(&h.ring, 6, 1, 1, "x", 1, &signal), ==, -EBADMSG);
	h.page->read_index = 256; /* out of range */
	g_assert_cmpint(hvsim_ring_put(&h.ring, 6, 1, 1, "x", 1, &signal), ==, -EBADMSG);
	g_assert_cmpuint(h.page->write_index, ==, 0);
	/* A guest scribbling into the host's own index changes nothing for the host. */
	h.page->read_index = 0;
	h.page->write_index = 200;
	g_assert_cmpint(hvsim_ring_put(&h.ring, 6, 1, 1, "x", 1, &signal), ==, 0);
	g_assert_cmpuint(h.page->write_index, ==, 32);
	g_assert_cmpuint(vmu_le16(h.mem + HVSIM_RING_PAGE_SIZE + 6), ==, 1); /* flags */
	/* previous-index word: the start index in its upper half */
	g_assert_cmphex(vmu_le64(h.mem + HVSIM_RING_PAGE_SIZE + 24), ==, 0);
	g_assert_cmpint(hvsim_ring_put(&h.ring, 6, 1, 2, "y", 1, &signal), ==, 0);
	g_assert_cmphex(vmu_le64(h.mem + HVSIM_RING_PAGE_SIZE + 32 + 24), ==, (uint64_t)32 << 32);
	g_assert_false(signal); /* not empty before */
	free(h.mem);
}

static void test_hostile_guest_packets(void)
{
	struct hostile h;
	struct hvsim_ring_desc d;
	uint8_t buf[256];
	bool signal;

	hostile_init(&h, 256, HVSIM_RING_HOST_RECEIVES);
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EAGAIN);
	h.page->write_index = 3;
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EBADMSG);
	h.page->write_index = 16; /* less than a descriptor and the previous-index word */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EBADMSG);
	h.page->write_index = 64;
	put_desc(&h, 0, 1, 4); /* offset8 < 2 */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EBADMSG);
	put_desc(&h, 0, 5, 4); /* offset8 > len8 */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EBADMSG);
	put_desc(&h, 0, 2, 8); /* 64 bytes + 8 > 64 written */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, -EBADMSG);
	put_desc(&h, 0, 2, 7); /* exactly what was written */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, 39, &signal), ==, -ENOBUFS);
	g_assert_cmpuint(h.page->read_index, ==, 0); /* nothing consumed by any of those */
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, 40, &signal), ==, 40);
	g_assert_cmpuint(d.len8, ==, 7);
	g_assert_cmpuint(h.page->read_index, ==, 64);
	/* a descriptor with a longer header: the payload starts after it */
	h.page->write_index = 64 + 48;
	put_desc(&h, 64, 3, 5);
	memcpy(h.mem + HVSIM_RING_PAGE_SIZE + 64 + 24, "payload!payload?", 16);
	g_assert_cmpint(hvsim_ring_get(&h.ring, &d, buf, sizeof(buf), &signal), ==, 16);
	g_assert_cmpmem(buf, 16, "payload!payload?", 16);
	free(h.mem);
}

/* A host short of room waits for the library reader's signal, and only that one. */
static void test_pending_send_sz_both_ways(void)
{
	struct twin t;
	uint8_t payload[40] = {0}, buf[128];
	struct vmu_ring_packet pkt;
	bool signal;

	twin_init(&t, 128, 0, true);
	g_assert_cmpint(hvsim_ring_put(&t.host_out, 6, 1, 1, payload, 40, &signal), ==, 0);
	g_assert_cmpint(hvsim_ring_put(&t.host_out, 6, 1, 2, payload, 40, &signal), ==, -EAGAIN);
	g_assert_cmpuint(((struct hvsim_ring_page *)t.a)->pending_send_sz, ==, 64);
	g_assert_cmpint(vmu_ring_read(&t.guest_in, buf, sizeof(buf), &pkt), ==, 1);
	g_assert_cmpint(hvsim_ring_put(&t.host_out, 6, 1, 2, payload, 40, &signal), ==, 0);
	g_assert_true(signal);
	g_assert_cmpuint(((struct hvsim_ring_page *)t.a)->pending_send_sz, ==, 0);
	/* and the other way: the library writer waits for the host reader */
	g_assert_cmpint(vmu_ring_send(&t.guest_out, 6, 0, 1, payload, 40), ==, 1);
	g_assert_cmpint(vmu_ring_send(&t.guest_out, 6, 0, 2, payload, 40), ==, -EAGAIN);
	g_assert_cmpint(
	    hvsim_ring_get(&t.host_in, &(struct hvsim_ring_desc){0}, buf, sizeof(buf), &signal), ==,
	    40);
	g_assert_true(signal);
	twin_done(&t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/host-ring/cross-check/every-offset", test_cross_check_every_offset);
	g_test_add_func("/host-ring/cross-check/random", test_cross_check_random);
	g_test_add_func("/host-ring/open-limits", test_open_limits);
	g_test_add_func("/host-ring/hostile/guest-read-index", test_hostile_guest_read_index);
	g_test_add_func("/host-ring/hostile/guest-packets", test_hostile_guest_packets);
	g_test_add_func("/host-ring/pending-send-sz", test_pending_send_sz_both_ways);
	return g_test_run();
}
