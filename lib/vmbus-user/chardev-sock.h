/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Framing of the char-device transport over a UNIX SOCK_SEQPACKET socket ("unix:/path").
 *
 * A real hv_utils char device reports things a socket cannot carry by itself: a second
 * opener gets EBUSY from open(), and the kernel returns an errno from write() for a reply it
 * refuses. So every datagram from the simulated kernel to the daemon starts with this 8-byte
 * frame header; datagrams from the daemon to the kernel are the raw bytes the daemon would
 * write() to the device, nothing more.
 *
 *   VMU_SOCK_OPEN    sent once right after accept(): error = 0 (opened) or EBUSY/EBADF.
 *   VMU_SOCK_MESSAGE payload = one message exactly as read() would return it.
 *   VMU_SOCK_WRITE   answers every datagram the daemon sends, before anything else the
 *                    kernel sends afterwards: error = 0 when the kernel accepted the write
 *                    (write() returned count), else the positive errno write() would give.
 *
 * A closed connection reads as -EBADF (the device went away). This header is shared by
 * the library's transport and the simulated kernel (tools/hv-host-sim); it is not installed.
 */
#ifndef VMU_CHARDEV_SOCK_H
#define VMU_CHARDEV_SOCK_H

#include <stdint.h>

#define VMU_SOCK_PREFIX "unix:"

enum vmu_sock_kind {
	VMU_SOCK_OPEN = 1,
	VMU_SOCK_MESSAGE = 2,
	VMU_SOCK_WRITE = 3,
};

struct vmu_sock_frame {
	uint32_t kind; /* enum vmu_sock_kind */
	int32_t error; /* positive errno or 0 */
} __attribute__((packed));

_Static_assert(sizeof(struct vmu_sock_frame) == 8, "socket frame header is 8 bytes");

#endif
