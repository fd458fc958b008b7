/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated host's own VMBus ring code (docs/protocol.md §6.2/§6.3), written from the
 * protocol facts and independent of the library's lib/vmbus-user/ring.c, so that a mistake in
 * the ring arithmetic on one side shows up as a failure instead of cancelling out. The guest
 * (the daemon, through the library) and the host (this file) meet only in shared memory.
 *
 * The host's view: it fills the guest's inbound ring and drains the guest's outbound ring.
 * One struct hvsim_ring per ring, opened for one direction. Everything the guest wrote (its
 * index, the packet descriptors in the ring it fills) is checked before use: a bad value is
 * -EBADMSG, and nothing is consumed.
 *
 * Returns: 0 (or a length) on success, -errno on failure:
 *   -EAGAIN   put: not enough room (the guest is asked to signal through pending_send_sz when
 *             the ring supports it); get: the ring is empty
 *   -EMSGSIZE put: a packet that can never fit this ring
 *   -ENOBUFS  get: the payload does not fit the caller's buffer (it stays in the ring)
 *   -EBADMSG  the guest's index or a packet descriptor is invalid
 *   -EINVAL   bad arguments (wrong direction, unusable size)
 */
#ifndef HVSIM_HOST_RING_H
#define HVSIM_HOST_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 4096-byte page in front of each ring's data. */
struct hvsim_ring_page {
	uint32_t write_index;     /* byte offset into the data where the writer writes next */
	uint32_t read_index;      /* byte offset into the data where the reader reads next */
	uint32_t interrupt_mask;  /* set by the reader: 1 = do not interrupt me */
	uint32_t pending_send_sz; /* set by a writer waiting for room: bytes it needs */
	uint32_t reserved1[12];
	uint32_t feature_bits; /* bit 0: pending_send_sz is honoured */
	uint8_t reserved2[4028];
};
#define HVSIM_RING_PAGE_SIZE 4096
#define HVSIM_RING_FEATURE_PENDING_SEND_SZ 1u
/* The largest data area the host accepts. */
#define HVSIM_RING_MAX_DATA (128u << 20)

/* The packet descriptor (vmpacket_descriptor) in front of every packet, as decoded. */
struct hvsim_ring_desc {
	uint16_t type;    /* 6 in-band data, 11 completion, ... */
	uint16_t offset8; /* descriptor length in 8-byte units (payload offset), >= 2 */
	uint16_t len8;    /* packet length in 8-byte units, descriptor and padding included */
	uint16_t flags;   /* 1: completion requested */
	uint64_t trans_id;
};
#define HVSIM_RING_DESC_SIZE 16
#define HVSIM_RING_PACKET_INBAND 6
#define HVSIM_RING_FLAG_COMPLETION_REQUESTED 1

enum hvsim_ring_direction {
	HVSIM_RING_HOST_SENDS,    /* the guest's inbound ring */
	HVSIM_RING_HOST_RECEIVES, /* the guest's outbound ring */
};

struct hvsim_ring {
	struct hvsim_ring_page *page;
	uint8_t *data;
	uint32_t data_size;
	/* The host's own index (write index when sending, read index when receiving): kept here
	 * and only published; whatever the guest writes into it is never read back. */
	uint32_t own;
	enum hvsim_ring_direction direction;
};

/* Clears a ring page and advertises pending_send_sz: what the host does to both rings when
 * the channel opens. */
void hvsim_ring_format(void *base);

/* Opens the ring of ring_bytes (page + data) at base for one direction; the host's own index
 * is taken from the page once. -EINVAL: base unaligned or the data area not a positive
 * multiple of 8; -EBADMSG: that index is unusable. */
int hvsim_ring_open(struct hvsim_ring *ring, void *base, size_t ring_bytes,
		    enum hvsim_ring_direction direction);

/* Bytes a packet with len payload bytes takes in the ring: descriptor, payload, padding and
 * the 8-byte previous-index word after it. */
size_t hvsim_ring_packet_bytes(size_t len);

/* Puts one packet (a 16-byte descriptor with offset8 2, the payload, zero padding, the
 * previous-index word) into a HVSIM_RING_HOST_SENDS ring. *ret_signal: interrupt the guest
 * now (its ring was empty before this packet and it did not mask interrupts). */
int hvsim_ring_put(struct hvsim_ring *ring, uint16_t type, uint16_t flags, uint64_t trans_id,
		   const void *payload, size_t len, bool *ret_signal);

/* Takes the next packet from a HVSIM_RING_HOST_RECEIVES ring: its descriptor, and its payload
 * (len8 - offset8 units) copied into buf; returns the payload length. *ret_signal: signal the
 * guest now (it waits for room, and this read made enough). */
int hvsim_ring_get(struct hvsim_ring *ring, struct hvsim_ring_desc *ret_desc, void *buf,
		   size_t size, bool *ret_signal);

/* The interrupt_mask of the guest's inbound ring, as the kernel's irqcontrol sets it. */
void hvsim_ring_mask_interrupts(struct hvsim_ring *ring, bool masked);

#endif
