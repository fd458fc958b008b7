/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the simulated host's ring code (tools/hv-host-sim/host-ring.c) against the
 * library's (lib/vmbus-user/ring.c) on hostile rings: two implementations written apart must
 * agree on anything a guest can put in shared memory.
 *
 * Input: as fuzz-ring's (byte 0 picks the data size, 8..512 in steps of 8; bytes 1..16 are
 * write_index, read_index, pending_send_sz and feature_bits, little-endian; byte 17 the
 * payload length of one packet to write; the rest fills the data area). Two copies of the
 * ring, each in a heap block of exactly its size (ASan catches any access outside):
 *   - write: the host's put and the library's send of the same packet on each copy: the same
 *     outcome (an error, or success with the same signal decision) and the same memory;
 *   - read: the host's get and the library's read drain each copy: packet by packet the same
 *     descriptor and payload, the same signal decisions, the same memory after each step,
 *     and they stop at the same point with the same error (-EAGAIN or -EBADMSG).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "lib/vmbus-user/ring.h"
#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/host-ring.h"

#define PREFIX 18

static void set_word(uint8_t *mem, size_t off, uint32_t v)
{
	memcpy(mem + off, &v, sizeof(v));
}

static void write_both(uint8_t *lib_mem, uint8_t *host_mem, size_t bytes, size_t len)
{
	static const uint8_t payload[512];
	struct vmu_ring lib;
	struct hvsim_ring host;
	bool signal = false;
	int lr, hr;

	lr = vmu_ring_attach(&lib, lib_mem, bytes, VMU_RING_WRITER);
	hr = hvsim_ring_open(&host, host_mem, bytes, HVSIM_RING_HOST_SENDS);
	CHECK(lr == hr);
	if (lr < 0)
		return;
	lr = vmu_ring_send(&lib, 6, 1, 42, payload, len);
	hr = hvsim_ring_put(&host, 6, 1, 42, payload, len, &signal);
	if (lr < 0)
		CHECK(hr == lr);
	else
		CHECK(hr == 0 && signal == (lr == 1));
	CHECK(memcmp(lib_mem, host_mem, bytes) == 0);
}

static void drain_both(uint8_t *lib_mem, uint8_t *host_mem, size_t bytes)
{
	struct vmu_ring lib;
	struct hvsim_ring host;
	uint8_t *lib_buf = malloc(bytes), *host_buf = malloc(bytes);
	int lr, hr;

	CHECK(lib_buf && host_buf);
	lr = vmu_ring_attach(&lib, lib_mem, bytes, VMU_RING_READER);
	hr = hvsim_ring_open(&host, host_mem, bytes, HVSIM_RING_HOST_RECEIVES);
	CHECK(lr == hr);
	for (unsigned n = 0; lr == 0; n++) {
		struct vmu_ring_packet pkt;
		struct hvsim_ring_desc desc;
		bool signal = false;

		lr = vmu_ring_read(&lib, lib_buf, bytes, &pkt);
		hr = hvsim_ring_get(&host, &desc, host_buf, bytes, &signal);
		if (lr < 0) {
			CHECK(hr == lr && (lr == -EAGAIN || lr == -EBADMSG));
			break;
		}
		CHECK(hr >= 0 && (size_t)hr == pkt.payload_len);
		CHECK(signal == (lr == 1));
		CHECK(desc.type == pkt.type && desc.flags == pkt.flags &&
		      desc.trans_id == pkt.xactid);
		CHECK((size_t)desc.offset8 * 8 == pkt.payload_offset);
		CHECK((size_t)desc.len8 * 8 == pkt.total);
		CHECK(memcmp(lib_buf + pkt.payload_offset, host_buf, pkt.payload_len) == 0);
		CHECK(memcmp(lib_mem, host_mem, bytes) == 0);
		CHECK(n <= bytes / 24);
		lr = 0;
	}
	CHECK(memcmp(lib_mem, host_mem, bytes) == 0);
	free(lib_buf);
	free(host_buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ring_data, bytes;
	uint8_t *a, *b;

	if (size < PREFIX)
		return 0;
	ring_data = 8 * (1 + (size_t)(data[0] % 64));
	bytes = VMU_RING_HEADER_SIZE + ring_data;
	a = calloc(1, bytes);
	b = malloc(bytes);
	CHECK(a && b);
	set_word(a, VMU_RING_OFF_WRITE_INDEX, vmu_le32(data + 1));
	set_word(a, VMU_RING_OFF_READ_INDEX, vmu_le32(data + 5));
	set_word(a, VMU_RING_OFF_PENDING_SEND_SZ, vmu_le32(data + 9));
	set_word(a, VMU_RING_OFF_FEATURE_BITS, vmu_le32(data + 13));
	memcpy(a + VMU_RING_HEADER_SIZE, data + PREFIX,
	       size - PREFIX < ring_data ? size - PREFIX : ring_data);
	memcpy(b, a, bytes);
	write_both(a, b, bytes, data[17]);
	/* then read what is there, from the input's read index */
	set_word(a, VMU_RING_OFF_READ_INDEX, vmu_le32(data + 5));
	set_word(b, VMU_RING_OFF_READ_INDEX, vmu_le32(data + 5));
	drain_both(a, b, bytes);
	free(a);
	free(b);
	return 0;
}
