/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the VMBus ring reader (and the writer's view of a hostile read index) on a
 * ring whose header, indices and packets come from the input.
 *
 * Input: byte 0 picks the data size (8..512, multiple of 8), bytes 1..16 are write_index,
 * read_index, pending_send_sz and feature_bits (LE), byte 17 picks the caller's buffer size;
 * the rest fills the data area. The ring lives in a heap block of exactly header + data
 * bytes, so any read outside it is caught by ASan.
 *
 * Checks: every packet the reader accepts lies within what was readable, its payload lies
 * within the packet and the buffer, the read index stays aligned and in range, rejected
 * packets consume nothing, the reader terminates, and the writer never overruns the read
 * index the input claims.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"

#define PREFIX 18

static void set_word(uint8_t *mem, size_t off, uint32_t v)
{
	memcpy(mem + off, &v, sizeof(v));
}

static uint32_t get_word(const uint8_t *mem, size_t off)
{
	uint32_t v;

	memcpy(&v, mem + off, sizeof(v));
	return v;
}

static void drain(uint8_t *mem, size_t bytes, size_t buf_size)
{
	struct vmu_ring ring;
	uint8_t *buf = malloc(buf_size ? buf_size : 1);
	unsigned n = 0;
	int r;

	CHECK(buf);
	if (vmu_ring_attach(&ring, mem, bytes, VMU_RING_READER) < 0) {
		free(buf);
		return;
	}
	for (;;) {
		struct vmu_ring_packet pkt;
		uint32_t before = ring.priv, readable = 0;

		if (vmu_ring_bytes_readable(&ring, &readable) < 0)
			readable = 0;
		r = vmu_ring_read(&ring, buf, buf_size, &pkt);
		if (r < 0) {
			CHECK(r == -EAGAIN || r == -EBADMSG || r == -ENOBUFS);
			CHECK(ring.priv == before);
			break;
		}
		CHECK(r == 0 || r == 1);
		CHECK(pkt.total <= buf_size && pkt.total % 8 == 0);
		CHECK(pkt.total + VMU_RING_TRAILER_SIZE <= readable);
		CHECK(pkt.payload_offset >= VMU_RING_PKT_HDR_SIZE);
		CHECK(pkt.payload_offset + pkt.payload_len == pkt.total);
		CHECK(vmu_le16(buf + 2) * 8u == pkt.payload_offset);
		CHECK(ring.priv < ring.size && ring.priv % 8 == 0);
		CHECK(get_word(mem, VMU_RING_OFF_READ_INDEX) == ring.priv);
		/* Each packet consumes at least 24 bytes of a finite ring. */
		CHECK(++n <= ring.size / 24);
	}
	r = vmu_ring_rearm(&ring);
	CHECK(r == 0 || r == 1 || r == -EBADMSG);
	free(buf);
}

static void write_one(uint8_t *mem, size_t bytes, size_t len)
{
	struct vmu_ring ring;
	uint8_t payload[512] = {0};
	uint32_t rd = get_word(mem, VMU_RING_OFF_READ_INDEX), w_before;
	int r;

	if (vmu_ring_attach(&ring, mem, bytes, VMU_RING_WRITER) < 0)
		return;
	w_before = ring.priv;
	r = vmu_ring_send(&ring, 6, 0, 0, payload, len % sizeof(payload));
	CHECK(r == 0 || r == 1 || r == -EAGAIN || r == -EBADMSG || r == -EMSGSIZE);
	if (r < 0) {
		CHECK(ring.priv == w_before);
		return;
	}
	/* The new write index did not pass the reader's index. */
	CHECK(vmu_ring_readable(ring.priv, rd, ring.size) >
	      vmu_ring_readable(w_before, rd, ring.size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ring_data, bytes, buf_size;
	uint8_t *mem;

	if (size < PREFIX)
		return 0;
	ring_data = 8 * (1 + (size_t)(data[0] % 64));
	bytes = VMU_RING_HEADER_SIZE + ring_data;
	buf_size = (size_t)data[17] * 4;
	mem = calloc(1, bytes);
	CHECK(mem);
	set_word(mem, VMU_RING_OFF_WRITE_INDEX, vmu_le32(data + 1));
	set_word(mem, VMU_RING_OFF_READ_INDEX, vmu_le32(data + 5));
	set_word(mem, VMU_RING_OFF_PENDING_SEND_SZ, vmu_le32(data + 9));
	set_word(mem, VMU_RING_OFF_FEATURE_BITS, vmu_le32(data + 13));
	memcpy(mem + VMU_RING_HEADER_SIZE, data + PREFIX,
	       size - PREFIX < ring_data ? size - PREFIX : ring_data);
	write_one(mem, bytes, data[17]);
	set_word(mem, VMU_RING_OFF_READ_INDEX, vmu_le32(data + 5));
	drain(mem, bytes, buf_size);
	free(mem);
	return 0;
}
