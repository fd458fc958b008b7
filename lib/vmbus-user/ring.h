/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus ring buffers in shared memory (docs/protocol.md §6.2/§6.3), for either role: the guest
 * reads its inbound ring and writes its outbound ring (tests play the peer with the same code).
 * Internal to the library (not installed); the UIO transport (uio.c) uses it. The simulated
 * host has its own, separately written ring code (tools/hv-host-sim/host-ring.c), checked
 * against this one by tests/unit/test-host-ring.c.
 *
 * A ring is a 4096-byte header page followed by a data area of `size` bytes. Packets are
 * multiples of 8 bytes, each followed by an 8-byte trailer ((u64)start_index << 32) that
 * tlen does not count. Each side keeps its own index privately (priv) and only ever
 * publishes it: a value the peer scribbles into our index is ignored. The peer's index and
 * every packet header are validated before use.
 *
 * Return values: >= 0 on success, where 1 means "signal the peer now" (the ring was empty
 * before our write and the reader wants interrupts, or our read freed the space the writer
 * is waiting for) and 0 means no signal is needed. Errors:
 *   -EAGAIN   nothing to read / not enough free space (writer: pending_send_sz set when the
 *             peer supports it, so the peer signals when space is there)
 *   -EBADMSG  the peer's index or a packet header in the ring is invalid (hostile or
 *             corrupt ring); the channel cannot be trusted any more
 *   -ENOBUFS  the packet does not fit the caller's buffer (it stays in the ring)
 *   -EMSGSIZE a packet that can never fit this ring
 */
#ifndef VMU_RING_H
#define VMU_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VMU_RING_HEADER_SIZE 4096
#define VMU_RING_PKT_HDR_SIZE 16
#define VMU_RING_TRAILER_SIZE 8
/* Largest data area accepted (a bigger map size from sysfs is refused). */
#define VMU_RING_MAX_DATA (128u * 1024 * 1024)

/* Header fields (byte offsets in the header page). */
#define VMU_RING_OFF_WRITE_INDEX 0
#define VMU_RING_OFF_READ_INDEX 4
#define VMU_RING_OFF_INTERRUPT_MASK 8
#define VMU_RING_OFF_PENDING_SEND_SZ 12
#define VMU_RING_OFF_FEATURE_BITS 64
#define VMU_RING_FEAT_PENDING_SEND_SZ 0x1u

/* VMBus packet types (vmbus_packet_type) */
#define VMU_VMBUS_PACKET_DATA_INBAND 6
#define VMU_VMBUS_PACKET_COMP 11
#define VMU_VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED 1

enum vmu_ring_role {
	VMU_RING_READER,
	VMU_RING_WRITER,
};

struct vmu_ring {
	uint8_t *hdr;  /* header page (shared) */
	uint8_t *data; /* data area (shared) */
	uint32_t size; /* data area bytes */
	uint32_t priv; /* our index: read index (reader) or write index (writer) */
	enum vmu_ring_role role;
};

/* A validated packet header; offsets relative to the packet start. */
struct vmu_ring_packet {
	uint16_t type;
	uint16_t flags;
	uint64_t xactid;
	size_t payload_offset; /* hlen * 8 */
	size_t payload_len;    /* (tlen - hlen) * 8 */
	size_t total;          /* tlen * 8, trailer excluded */
};

/* Zeroes a ring header and sets its feature bits (the side that creates the ring: the
 * kernel on connect, or the simulated host). base must be 4-byte aligned. */
void vmu_ring_init_header(void *base, uint32_t feature_bits);

/* Attaches to a mapped ring of ring_bytes (header + data, base 4-byte aligned). Our own
 * index is taken from the header once, here. -EINVAL: ring_bytes unusable (data area not
 * a positive multiple of 8, or > VMU_RING_MAX_DATA); -EBADMSG: the index in the header is
 * out of range or unaligned. */
int vmu_ring_attach(struct vmu_ring *ring, void *base, size_t ring_bytes, enum vmu_ring_role role);

/* Bytes readable between read index r and write index w. */
static inline uint32_t vmu_ring_readable(uint32_t w, uint32_t r, uint32_t size)
{
	return w >= r ? w - r : size - (r - w);
}

/* Reader: copies the next packet (tlen * 8 bytes, trailer excluded) into buf without
 * consuming it. The first 16 bytes of buf hold the header as validated (not a second read
 * of shared memory). -EAGAIN when the ring is empty. */
int vmu_ring_peek(struct vmu_ring *ring, void *buf, size_t size, struct vmu_ring_packet *ret);
/* Reader: copies only the next packet's payload (payload_len bytes) into buf, straight from
 * the ring (one copy, the header read once and validated), without consuming it. -ENOBUFS
 * (*ret filled, the packet stays) when the payload does not fit in size; -EAGAIN when the
 * ring is empty. */
int vmu_ring_peek_payload(struct vmu_ring *ring, void *buf, size_t size,
			  struct vmu_ring_packet *ret);
/* Reader: consumes the packet returned by the last vmu_ring_peek (publishes the read index).
 * Returns 1 when the writer waits for space (pending_send_sz) and this read crossed it. */
int vmu_ring_advance(struct vmu_ring *ring, const struct vmu_ring_packet *pkt);
/* Reader: peek + advance. */
int vmu_ring_read(struct vmu_ring *ring, void *buf, size_t size, struct vmu_ring_packet *ret);
/* Reader: interrupt_mask of this ring (1 = the writer should not interrupt us). */
void vmu_ring_set_interrupt_mask(struct vmu_ring *ring, bool masked);
/* Reader: unmasks interrupts, then (after a full barrier) checks the ring again. Returns 1
 * when a packet is readable (read it: no interrupt may come for it), 0 when it is safe to
 * wait, -EBADMSG for a hostile write index. */
int vmu_ring_rearm(struct vmu_ring *ring);
/* Reader: bytes readable now (acquire load of the peer's index); -EBADMSG when invalid. */
int vmu_ring_bytes_readable(struct vmu_ring *ring, uint32_t *ret);

/* Writer: writes one raw packet made of the iovecs (total length a multiple of 8, the
 * packet header included) plus the trailer. Returns 1 when the reader must be signalled. */
int vmu_ring_write(struct vmu_ring *ring, const struct iovec *iov, size_t n_iov);
/* Writer: builds the 16-byte header (hlen 2, tlen covering payload + zero padding to 8)
 * and writes header + payload + padding. -EMSGSIZE when tlen would not fit 16 bits or the
 * packet can never fit the ring. */
int vmu_ring_send(struct vmu_ring *ring, uint16_t type, uint16_t flags, uint64_t xactid,
		  const void *payload, size_t len);
/* Writer: bytes the ring could take now (acquire load of the peer's index). */
int vmu_ring_bytes_free(struct vmu_ring *ring, uint32_t *ret);
/* Bytes a packet with this payload occupies in the ring, trailer included. */
size_t vmu_ring_packet_space(size_t payload_len);

/* Signalling decisions as pure functions (the barriers and loads are the callers').
 * Writer: signal when the reader does not mask interrupts and had read everything we had
 * written before this packet (old write index == its read index now). */
bool vmu_ring_need_signal_on_write(uint32_t interrupt_mask, uint32_t old_write, uint32_t read_now);
/* Reader: signal when the writer asked for pending_sz bytes, the ring supports it, the free
 * space after our read exceeds pending_sz and did not before it. */
bool vmu_ring_need_signal_on_read(uint32_t feature_bits, uint32_t pending_sz, uint32_t free_before,
				  uint32_t free_after);

#endif
