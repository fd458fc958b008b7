/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's half of a VMBus ring, written from the protocol facts alone (docs/protocol.md
 * §6.2/§6.3), deliberately not from the library's ring.c: the header page is a struct here
 * (the library uses byte offsets), the occupied bytes are computed modulo the data size (the
 * library compares the indices), the descriptor is decoded into its own struct, and the
 * previous-index word is written as two 32-bit words. tests/unit/test-host-ring.c runs both
 * on the same random packet sequences and compares every byte of ring memory.
 *
 * The facts used:
 *   - a ring is a 4096-byte page (write_index @0, read_index @4, interrupt_mask @8,
 *     pending_send_sz @12, feature_bits @64) and a data area of D bytes; indices are byte
 *     offsets into the data, multiples of 8, below D;
 *   - the occupied bytes are (write - read) mod D, so write == read is empty and a writer
 *     needs strictly more room than it writes;
 *   - a packet is a 16-byte descriptor (type, offset8, len8, flags, trans_id; lengths in
 *     8-byte units, offset8 >= 2, len8 >= offset8), the payload, zero padding to 8 bytes,
 *     then the 64-bit previous-index word (the writer's start index in its upper half),
 *     which len8 does not count;
 *   - the writer fills the bytes, then publishes its index; the reader copies the packet
 *     out, then publishes its index;
 *   - the writer interrupts the reader when the ring was empty before its packet and the
 *     reader left interrupt_mask clear; a writer short of room stores the bytes it needs
 *     in pending_send_sz (when feature bit 0 says the reader honours it), and the reader
 *     signals it when a read takes the room from "not enough" to "enough".
 *
 * Shared words are touched only through the __atomic builtins: the guest's index is loaded
 * with acquire, ours stored with release, and a full fence separates publishing an index
 * from looking at the guest's interrupt_mask / pending_send_sz (else a wake-up can be lost).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "tools/hv-host-sim/host-ring.h"

_Static_assert(sizeof(struct hvsim_ring_page) == HVSIM_RING_PAGE_SIZE, "ring page size");
_Static_assert(offsetof(struct hvsim_ring_page, write_index) == 0, "write_index");
_Static_assert(offsetof(struct hvsim_ring_page, read_index) == 4, "read_index");
_Static_assert(offsetof(struct hvsim_ring_page, interrupt_mask) == 8, "interrupt_mask");
_Static_assert(offsetof(struct hvsim_ring_page, pending_send_sz) == 12, "pending_send_sz");
_Static_assert(offsetof(struct hvsim_ring_page, feature_bits) == 64, "feature_bits");

#define PREV_INDEX_SIZE 8

static uint32_t shared_load(const uint32_t *word)
{
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static void shared_store(uint32_t *word, uint32_t value)
{
	__atomic_store_n(word, value, __ATOMIC_RELEASE);
}

static void full_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Bytes between the reader's and the writer's index: what is written and not yet read. */
static uint32_t occupied(const struct hvsim_ring *ring, uint32_t write, uint32_t read)
{
	return (uint32_t)(((uint64_t)write + ring->data_size - read) % ring->data_size);
}

static bool index_usable(const struct hvsim_ring *ring, uint32_t index)
{
	return index % 8 == 0 && index < ring->data_size;
}

/* The guest's index in this ring: its read index when the host sends, else its write index. */
static int guest_index(const struct hvsim_ring *ring, uint32_t *ret)
{
	uint32_t v = ring->direction == HVSIM_RING_HOST_SENDS
			 ? shared_load(&ring->page->read_index)
			 : shared_load(&ring->page->write_index);

	if (!index_usable(ring, v))
		return -EBADMSG;
	*ret = v;
	return 0;
}

static bool honours_pending_send_sz(const struct hvsim_ring *ring)
{
	return shared_load(&ring->page->feature_bits) & HVSIM_RING_FEATURE_PENDING_SEND_SZ;
}

/* Copies n bytes into the data area from position pos on, wrapping; returns the position after. */
static uint32_t data_write(struct hvsim_ring *ring, uint32_t pos, const void *src, size_t n)
{
	const uint8_t *s = src;

	while (n > 0) {
		size_t chunk = ring->data_size - pos;

		if (chunk > n)
			chunk = n;
		if (s)
			memcpy(ring->data + pos, s, chunk);
		else
			memset(ring->data + pos, 0, chunk);
		if (s)
			s += chunk;
		n -= chunk;
		pos = (uint32_t)((pos + chunk) % ring->data_size);
	}
	return pos;
}

/* Copies n bytes out of the data area from position pos on, wrapping. */
static void data_read(const struct hvsim_ring *ring, uint32_t pos, void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n > 0) {
		size_t chunk = ring->data_size - pos;

		if (chunk > n)
			chunk = n;
		memcpy(d, ring->data + pos, chunk);
		d += chunk;
		n -= chunk;
		pos = (uint32_t)((pos + chunk) % ring->data_size);
	}
}

void hvsim_ring_format(void *base)
{
	struct hvsim_ring_page *page = base;

	memset(page, 0, sizeof(*page));
	shared_store(&page->feature_bits, HVSIM_RING_FEATURE_PENDING_SEND_SZ);
}

int hvsim_ring_open(struct hvsim_ring *ring, void *base, size_t ring_bytes,
		    enum hvsim_ring_direction direction)
{
	struct hvsim_ring r;

	if (!ring || !base || (uintptr_t)base % 4 != 0 || ring_bytes <= HVSIM_RING_PAGE_SIZE)
		return -EINVAL;
	if ((ring_bytes - HVSIM_RING_PAGE_SIZE) % 8 != 0 ||
	    ring_bytes - HVSIM_RING_PAGE_SIZE > HVSIM_RING_MAX_DATA)
		return -EINVAL;
	r = (struct hvsim_ring){
	    .page = base,
	    .data = (uint8_t *)base + HVSIM_RING_PAGE_SIZE,
	    .data_size = (uint32_t)(ring_bytes - HVSIM_RING_PAGE_SIZE),
	    .direction = direction,
	};
	r.own = direction == HVSIM_RING_HOST_SENDS ? shared_load(&r.page->write_index)
						   : shared_load(&r.page->read_index);
	if (!index_usable(&r, r.own))
		return -EBADMSG;
	*ring = r;
	return 0;
}

size_t hvsim_ring_packet_bytes(size_t len)
{
	size_t units = (len + 7) / 8;

	return HVSIM_RING_DESC_SIZE + units * 8 + PREV_INDEX_SIZE;
}

/* Room for need bytes (strictly more free than that)? When not, tells the guest what we
 * need and looks once more, so that a read racing with the request is not missed. */
static int wait_for_room(struct hvsim_ring *ring, uint32_t need)
{
	uint32_t guest_read;
	int r;

	r = guest_index(ring, &guest_read);
	if (r < 0)
		return r;
	if (ring->data_size - occupied(ring, ring->own, guest_read) > need)
		return 0;
	if (!honours_pending_send_sz(ring))
		return -EAGAIN;
	__atomic_store_n(&ring->page->pending_send_sz, need, __ATOMIC_RELAXED);
	full_fence();
	r = guest_index(ring, &guest_read);
	if (r < 0)
		return r;
	return ring->data_size - occupied(ring, ring->own, guest_read) > need ? 0 : -EAGAIN;
}

int hvsim_ring_put(struct hvsim_ring *ring, uint16_t type, uint16_t flags, uint64_t trans_id,
		   const void *payload, size_t len, bool *ret_signal)
{
	uint8_t desc[HVSIM_RING_DESC_SIZE], prev[PREV_INDEX_SIZE];
	size_t total, padded;
	uint32_t start, pos, guest_read;
	int r;

	if (!ring || ring->direction != HVSIM_RING_HOST_SENDS || (!payload && len) || !ret_signal)
		return -EINVAL;
	padded = (len + 7) / 8 * 8;
	if (len > SIZE_MAX / 2 || (HVSIM_RING_DESC_SIZE + padded) / 8 > UINT16_MAX)
		return -EMSGSIZE;
	total = hvsim_ring_packet_bytes(len);
	if (total >= ring->data_size)
		return -EMSGSIZE;
	r = wait_for_room(ring, (uint32_t)total);
	if (r < 0)
		return r;

	put_u16(desc, type);
	put_u16(desc + 2, HVSIM_RING_DESC_SIZE / 8);
	put_u16(desc + 4, (uint16_t)((HVSIM_RING_DESC_SIZE + padded) / 8));
	put_u16(desc + 6, flags);
	put_u32(desc + 8, (uint32_t)trans_id);
	put_u32(desc + 12, (uint32_t)(trans_id >> 32));
	start = ring->own;
	put_u32(prev, 0);
	put_u32(prev + 4, start);

	pos = data_write(ring, start, desc, sizeof(desc));
	pos = data_write(ring, pos, payload, len);
	pos = data_write(ring, pos, NULL, padded - len);
	pos = data_write(ring, pos, prev, sizeof(prev));
	if (__atomic_load_n(&ring->page->pending_send_sz, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&ring->page->pending_send_sz, 0, __ATOMIC_RELAXED);
	ring->own = pos;
	shared_store(&ring->page->write_index, pos);

	full_fence();
	*ret_signal = false;
	if (__atomic_load_n(&ring->page->interrupt_mask, __ATOMIC_RELAXED) != 0)
		return 0;
	/* Empty before this packet: the guest had read up to where it starts. */
	if (guest_index(ring, &guest_read) == 0 && guest_read == start)
		*ret_signal = true;
	return 0;
}

static void decode_desc(const uint8_t *raw, struct hvsim_ring_desc *ret)
{
	*ret = (struct hvsim_ring_desc){
	    .type = get_u16(raw),
	    .offset8 = get_u16(raw + 2),
	    .len8 = get_u16(raw + 4),
	    .flags = get_u16(raw + 6),
	    .trans_id = get_u64(raw + 8),
	};
}

/* After a read of `taken` bytes: does the guest wait for room that this read made? */
static bool guest_waits_for_this(const struct hvsim_ring *ring, uint32_t taken)
{
	uint32_t need, guest_write, free_now;

	need = __atomic_load_n(&ring->page->pending_send_sz, __ATOMIC_RELAXED);
	if (need == 0 || !honours_pending_send_sz(ring))
		return false;
	if (guest_index(ring, &guest_write) < 0)
		return false; /* the next get reports it */
	free_now = ring->data_size - occupied(ring, guest_write, ring->own);
	/* enough now, and (with the same write index) not enough before this read */
	return free_now > need && (free_now < taken || free_now - taken <= need);
}

int hvsim_ring_get(struct hvsim_ring *ring, struct hvsim_ring_desc *ret_desc, void *buf,
		   size_t size, bool *ret_signal)
{
	uint8_t raw[HVSIM_RING_DESC_SIZE];
	struct hvsim_ring_desc d;
	uint32_t guest_write, avail, packet, payload, taken;
	int r;

	if (!ring || ring->direction != HVSIM_RING_HOST_RECEIVES || !ret_desc || !ret_signal)
		return -EINVAL;
	r = guest_index(ring, &guest_write);
	if (r < 0)
		return r;
	avail = occupied(ring, guest_write, ring->own);
	if (avail == 0)
		return -EAGAIN;
	if (avail < HVSIM_RING_DESC_SIZE + PREV_INDEX_SIZE)
		return -EBADMSG;
	data_read(ring, ring->own, raw, sizeof(raw));
	decode_desc(raw, &d);
	if (d.offset8 < HVSIM_RING_DESC_SIZE / 8 || d.offset8 > d.len8)
		return -EBADMSG;
	packet = (uint32_t)d.len8 * 8;
	if ((uint64_t)packet + PREV_INDEX_SIZE > avail)
		return -EBADMSG;
	payload = (uint32_t)(d.len8 - d.offset8) * 8;
	if (payload > size || (!buf && payload))
		return -ENOBUFS;
	data_read(ring,
		  (uint32_t)(((uint64_t)ring->own + (uint64_t)d.offset8 * 8) % ring->data_size),
		  buf, payload);

	taken = packet + PREV_INDEX_SIZE;
	ring->own = (uint32_t)(((uint64_t)ring->own + taken) % ring->data_size);
	shared_store(&ring->page->read_index, ring->own);
	full_fence();
	*ret_signal = guest_waits_for_this(ring, taken);
	*ret_desc = d;
	return (int)payload;
}

void hvsim_ring_mask_interrupts(struct hvsim_ring *ring, bool masked)
{
	__atomic_store_n(&ring->page->interrupt_mask, masked ? 1u : 0u, __ATOMIC_RELAXED);
	full_fence();
}
