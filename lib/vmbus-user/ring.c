/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus ring buffers on shared memory: the packet format, wrap-around and the signalling
 * rules of docs/protocol.md §6.2/§6.3, written for a peer that may be hostile.
 *
 * Memory ordering (C11 semantics through the __atomic builtins, so it holds on any
 * architecture, not only x86):
 *   - the peer's index is loaded with acquire: what it wrote (data) or finished reading
 *     (space) before publishing the index is visible to us;
 *   - our index is stored with release after we copied the data in or out;
 *   - a full fence separates "publish our index" from "look at the peer's interrupt mask /
 *     pending_send_sz", and "unmask" from "check the ring again" (the Dekker pattern that
 *     keeps a wake-up from being lost).
 * Header words are 4-byte aligned in a page-aligned mapping; they are only touched through
 * those builtins. The data area is copied with memcpy: a peer that changes a packet while we
 * copy it can only damage its own packet, because every length we act on comes from the
 * validated private copy of the header.
 *
 * Validation: the peer's index must be < size and 8-byte aligned; a packet header needs
 * hlen >= 2, hlen <= tlen and tlen * 8 + 8 <= readable; any violation is -EBADMSG and
 * nothing is consumed. Our own index is never re-read from shared memory after attach.
 */
#include <errno.h>
#include <string.h>

#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"

static uint32_t *hdr_word(const struct vmu_ring *ring, size_t off)
{
	return (uint32_t *)(void *)(ring->hdr + off);
}

static uint32_t load_acquire(const struct vmu_ring *ring, size_t off)
{
	return __atomic_load_n(hdr_word(ring, off), __ATOMIC_ACQUIRE);
}

static uint32_t load_relaxed(const struct vmu_ring *ring, size_t off)
{
	return __atomic_load_n(hdr_word(ring, off), __ATOMIC_RELAXED);
}

static void store_release(const struct vmu_ring *ring, size_t off, uint32_t v)
{
	__atomic_store_n(hdr_word(ring, off), v, __ATOMIC_RELEASE);
}

static void store_relaxed(const struct vmu_ring *ring, size_t off, uint32_t v)
{
	__atomic_store_n(hdr_word(ring, off), v, __ATOMIC_RELAXED);
}

static bool index_valid(const struct vmu_ring *ring, uint32_t index)
{
	return index < ring->size && (index & 7) == 0;
}

/* The peer's index, acquire-loaded and validated. */
static int peer_index(const struct vmu_ring *ring, uint32_t *ret)
{
	size_t off =
	    ring->role == VMU_RING_READER ? VMU_RING_OFF_WRITE_INDEX : VMU_RING_OFF_READ_INDEX;
	uint32_t v = load_acquire(ring, off);

	if (!index_valid(ring, v))
		return -EBADMSG;
	*ret = v;
	return 0;
}

void vmu_ring_init_header(void *base, uint32_t feature_bits)
{
	memset(base, 0, VMU_RING_HEADER_SIZE);
	__atomic_store_n((uint32_t *)((uint8_t *)base + VMU_RING_OFF_FEATURE_BITS), feature_bits,
			 __ATOMIC_RELEASE);
}

int vmu_ring_attach(struct vmu_ring *ring, void *base, size_t ring_bytes, enum vmu_ring_role role)
{
	struct vmu_ring r;
	uint32_t own;

	if (!ring || !base || ((uintptr_t)base & 3) || ring_bytes <= VMU_RING_HEADER_SIZE)
		return -EINVAL;
	if ((ring_bytes - VMU_RING_HEADER_SIZE) % 8 ||
	    ring_bytes - VMU_RING_HEADER_SIZE > VMU_RING_MAX_DATA)
		return -EINVAL;
	r = (struct vmu_ring){
	    .hdr = base,
	    .data = (uint8_t *)base + VMU_RING_HEADER_SIZE,
	    .size = (uint32_t)(ring_bytes - VMU_RING_HEADER_SIZE),
	    .role = role,
	};
	own = load_acquire(&r, role == VMU_RING_READER ? VMU_RING_OFF_READ_INDEX
						       : VMU_RING_OFF_WRITE_INDEX);
	if (!index_valid(&r, own))
		return -EBADMSG;
	r.priv = own;
	*ring = r;
	return 0;
}

/* Copies len (<= size) bytes out of the ring starting at start (< size), wrapping. */
static void copy_from_ring(const struct vmu_ring *ring, uint32_t start, void *dst, size_t len)
{
	size_t first = ring->size - start;

	if (first > len)
		first = len;
	memcpy(dst, ring->data + start, first);
	memcpy((uint8_t *)dst + first, ring->data, len - first);
}

/* Copies len (<= size) bytes into the ring at start (< size); returns the index after. */
static uint32_t copy_to_ring(const struct vmu_ring *ring, uint32_t start, const void *src,
			     size_t len)
{
	size_t first = ring->size - start;

	if (first > len)
		first = len;
	if (first)
		memcpy(ring->data + start, src, first);
	if (len - first)
		memcpy(ring->data, (const uint8_t *)src + first, len - first);
	return (uint32_t)(((size_t)start + len) % ring->size);
}

int vmu_ring_bytes_readable(struct vmu_ring *ring, uint32_t *ret)
{
	uint32_t w;
	int r;

	if (ring->role != VMU_RING_READER)
		return -EINVAL;
	r = peer_index(ring, &w);
	if (r < 0)
		return r;
	*ret = vmu_ring_readable(w, ring->priv, ring->size);
	return 0;
}

int vmu_ring_bytes_free(struct vmu_ring *ring, uint32_t *ret)
{
	uint32_t rd;
	int r;

	if (ring->role != VMU_RING_WRITER)
		return -EINVAL;
	r = peer_index(ring, &rd);
	if (r < 0)
		return r;
	*ret = ring->size - vmu_ring_readable(ring->priv, rd, ring->size);
	return 0;
}

static int parse_header(const uint8_t *h, uint32_t readable, struct vmu_ring_packet *ret)
{
	uint16_t hlen = vmu_le16(h + 2), tlen = vmu_le16(h + 4);

	if (hlen < 2 || hlen > tlen)
		return -EBADMSG;
	if ((uint64_t)tlen * 8 + VMU_RING_TRAILER_SIZE > readable)
		return -EBADMSG;
	*ret = (struct vmu_ring_packet){
	    .type = vmu_le16(h),
	    .flags = vmu_le16(h + 6),
	    .xactid = vmu_le64(h + 8),
	    .payload_offset = (size_t)hlen * 8,
	    .payload_len = (size_t)(tlen - hlen) * 8,
	    .total = (size_t)tlen * 8,
	};
	return 0;
}

/* The next packet's header, read once from the ring and validated, into h and *ret. */
static int peek_header(struct vmu_ring *ring, uint8_t h[VMU_RING_PKT_HDR_SIZE],
		       struct vmu_ring_packet *ret)
{
	uint32_t readable;
	int r;

	r = vmu_ring_bytes_readable(ring, &readable);
	if (r < 0)
		return r;
	if (readable == 0)
		return -EAGAIN;
	if (readable < VMU_RING_PKT_HDR_SIZE + VMU_RING_TRAILER_SIZE)
		return -EBADMSG;
	copy_from_ring(ring, ring->priv, h, VMU_RING_PKT_HDR_SIZE);
	return parse_header(h, readable, ret);
}

int vmu_ring_peek_payload(struct vmu_ring *ring, void *buf, size_t size,
			  struct vmu_ring_packet *ret)
{
	uint8_t h[VMU_RING_PKT_HDR_SIZE];
	int r = peek_header(ring, h, ret);

	if (r < 0)
		return r;
	if (ret->payload_len > size || (!buf && ret->payload_len))
		return -ENOBUFS;
	if (ret->payload_len)
		copy_from_ring(
		    ring, (uint32_t)(((uint64_t)ring->priv + ret->payload_offset) % ring->size),
		    buf, ret->payload_len);
	return 0;
}

int vmu_ring_peek(struct vmu_ring *ring, void *buf, size_t size, struct vmu_ring_packet *ret)
{
	uint8_t h[VMU_RING_PKT_HDR_SIZE];
	struct vmu_ring_packet pkt;
	int r;

	r = peek_header(ring, h, &pkt);
	if (r < 0)
		return r;
	if (!buf || pkt.total > size)
		return -ENOBUFS;
	copy_from_ring(ring, ring->priv, buf, pkt.total);
	memcpy(buf, h, sizeof(h)); /* the header we validated, not a second fetch */
	*ret = pkt;
	return 0;
}

bool vmu_ring_need_signal_on_read(uint32_t feature_bits, uint32_t pending_sz, uint32_t free_before,
				  uint32_t free_after)
{
	if (!(feature_bits & VMU_RING_FEAT_PENDING_SEND_SZ) || pending_sz == 0)
		return false;
	/* The writer needs strictly more than pending_sz: signal only on the crossing. */
	return free_after > pending_sz && free_before <= pending_sz;
}

int vmu_ring_advance(struct vmu_ring *ring, const struct vmu_ring_packet *pkt)
{
	uint32_t consumed, pending, features, w, free_after;

	if (ring->role != VMU_RING_READER || !pkt || pkt->total % 8 ||
	    pkt->total + VMU_RING_TRAILER_SIZE >= ring->size)
		return -EINVAL;
	consumed = (uint32_t)pkt->total + VMU_RING_TRAILER_SIZE;
	ring->priv = (uint32_t)(((uint64_t)ring->priv + consumed) % ring->size);
	store_release(ring, VMU_RING_OFF_READ_INDEX, ring->priv);

	/* Publish the read index before looking at what the writer waits for. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pending = load_relaxed(ring, VMU_RING_OFF_PENDING_SEND_SZ);
	if (pending == 0)
		return 0;
	features = load_acquire(ring, VMU_RING_OFF_FEATURE_BITS);
	if (peer_index(ring, &w) < 0)
		return 0; /* the next peek reports the bad index */
	free_after = ring->size - vmu_ring_readable(w, ring->priv, ring->size);
	return vmu_ring_need_signal_on_read(
	    features, pending, free_after >= consumed ? free_after - consumed : 0, free_after);
}

int vmu_ring_read(struct vmu_ring *ring, void *buf, size_t size, struct vmu_ring_packet *ret)
{
	struct vmu_ring_packet pkt;
	int r;

	r = vmu_ring_peek(ring, buf, size, &pkt);
	if (r < 0)
		return r;
	r = vmu_ring_advance(ring, &pkt);
	if (r < 0)
		return r;
	*ret = pkt;
	return r;
}

void vmu_ring_set_interrupt_mask(struct vmu_ring *ring, bool masked)
{
	store_relaxed(ring, VMU_RING_OFF_INTERRUPT_MASK, masked ? 1 : 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int vmu_ring_rearm(struct vmu_ring *ring)
{
	uint32_t readable;
	int r;

	if (ring->role != VMU_RING_READER)
		return -EINVAL;
	/* Unmask, full barrier, look again: a packet written before the writer could see
	 * the unmasked state brings no interrupt, so we must find it here. */
	vmu_ring_set_interrupt_mask(ring, false);
	r = vmu_ring_bytes_readable(ring, &readable);
	if (r < 0)
		return r;
	return readable > 0;
}

bool vmu_ring_need_signal_on_write(uint32_t interrupt_mask, uint32_t old_write, uint32_t read_now)
{
	return interrupt_mask == 0 && old_write == read_now;
}

size_t vmu_ring_packet_space(size_t payload_len)
{
	return VMU_RING_PKT_HDR_SIZE + ((payload_len + 7) & ~(size_t)7) + VMU_RING_TRAILER_SIZE;
}

/* Free space > space now? When not, asks the reader (pending_send_sz) to signal us once
 * there is, then checks again, so a read that raced with the request is not missed. */
static int reserve(struct vmu_ring *ring, uint32_t space)
{
	uint32_t free_now;
	int r;

	r = vmu_ring_bytes_free(ring, &free_now);
	if (r < 0 || free_now > space)
		return r;
	if (!(load_acquire(ring, VMU_RING_OFF_FEATURE_BITS) & VMU_RING_FEAT_PENDING_SEND_SZ))
		return -EAGAIN;
	store_relaxed(ring, VMU_RING_OFF_PENDING_SEND_SZ, space);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r = vmu_ring_bytes_free(ring, &free_now);
	if (r < 0)
		return r;
	return free_now > space ? 0 : -EAGAIN;
}

int vmu_ring_write(struct vmu_ring *ring, const struct iovec *iov, size_t n_iov)
{
	uint8_t trailer[VMU_RING_TRAILER_SIZE];
	uint32_t old_write = ring->priv, w, rd;
	size_t len = 0;
	int r;

	if (ring->role != VMU_RING_WRITER || (!iov && n_iov))
		return -EINVAL;
	for (size_t i = 0; i < n_iov; i++) {
		if (iov[i].iov_len > ring->size)
			return -EMSGSIZE;
		len += iov[i].iov_len;
		if (len > ring->size)
			return -EMSGSIZE;
	}
	if (len % 8 || len < VMU_RING_PKT_HDR_SIZE)
		return -EINVAL;
	/* A writer needs strictly more free space than it writes: w == r means empty. */
	if (len + VMU_RING_TRAILER_SIZE >= ring->size)
		return -EMSGSIZE;
	r = reserve(ring, (uint32_t)(len + VMU_RING_TRAILER_SIZE));
	if (r < 0)
		return r;

	w = old_write;
	for (size_t i = 0; i < n_iov; i++)
		w = copy_to_ring(ring, w, iov[i].iov_base, iov[i].iov_len);
	vmu_put_le64(trailer, (uint64_t)old_write << 32);
	w = copy_to_ring(ring, w, trailer, sizeof(trailer));
	if (load_relaxed(ring, VMU_RING_OFF_PENDING_SEND_SZ) != 0)
		store_relaxed(ring, VMU_RING_OFF_PENDING_SEND_SZ, 0);
	ring->priv = w;
	store_release(ring, VMU_RING_OFF_WRITE_INDEX, w);

	/* Publish the write index before looking at the reader's mask and index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (load_relaxed(ring, VMU_RING_OFF_INTERRUPT_MASK) != 0)
		return 0;
	rd = load_acquire(ring, VMU_RING_OFF_READ_INDEX);
	return vmu_ring_need_signal_on_write(0, old_write, rd);
}

int vmu_ring_send(struct vmu_ring *ring, uint16_t type, uint16_t flags, uint64_t xactid,
		  const void *payload, size_t len)
{
	static const uint8_t zeros[8];
	uint8_t h[VMU_RING_PKT_HDR_SIZE];
	size_t padded, tlen;

	if (!payload && len)
		return -EINVAL;
	if (len > (size_t)UINT16_MAX * 8)
		return -EMSGSIZE;
	padded = (len + 7) & ~(size_t)7;
	tlen = (VMU_RING_PKT_HDR_SIZE + padded) / 8;
	if (tlen > UINT16_MAX)
		return -EMSGSIZE;
	vmu_put_le16(h, type);
	vmu_put_le16(h + 2, VMU_RING_PKT_HDR_SIZE / 8);
	vmu_put_le16(h + 4, (uint16_t)tlen);
	vmu_put_le16(h + 6, flags);
	vmu_put_le64(h + 8, xactid);

	struct iovec iov[3] = {
	    {.iov_base = h, .iov_len = sizeof(h)},
	    {.iov_base = (void *)payload, .iov_len = len},
	    {.iov_base = (void *)zeros, .iov_len = padded - len},
	};
	return vmu_ring_write(ring, iov, 3);
}
