/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A simulated UIO device: how the simulated host (tools/hv-host-sim/uio-*.c) presents a
 * uio_hv_generic device to the library without a kernel. Shared by both; not installed.
 *
 * <dev>/uioN is a UNIX SOCK_SEQPACKET socket instead of a char device. After connect():
 *   - the host sends one datagram: a 4-byte LE event counter (0) with the ring memory (a
 *     memfd of 2 x ring size bytes, TX ring first, as map0 of a real device) attached as
 *     SCM_RIGHTS. EOF instead means the device refused the opener.
 *   - every further host datagram is one interrupt: 4 bytes, the new event counter (what
 *     read() of a real /dev/uioN returns);
 *   - every datagram the library sends is a 4-byte write(): irqcontrol, value 1 = unmask
 *     (inbound interrupt_mask = 0) and signal the host, 0 = mask;
 *   - the host closing the connection (EOF, ECONNRESET, EPIPE) is what EIO is on a real
 *     device: the host disabled the service (channel rescinded).
 */
#ifndef VMU_UIO_SOCK_H
#define VMU_UIO_SOCK_H

#define VMU_UIO_SOCK_MSG_SIZE 4
/* How long opening a simulated device waits for the ring memory. */
#define VMU_UIO_SOCK_OPEN_TIMEOUT_MS 10000

#endif
