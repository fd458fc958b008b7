/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The part of libvmbus-user that is not its public ABI (never installed).
 *
 * Some calls exist only for the simulated host (tools/hv-host-sim) and the tests: they build
 * what the host sends or read what the guest answers, or they reproduce the kernel's own
 * quirks. A daemon never needs them, so libvmbus-user.so does not export them (they are not in
 * libvmbus-user.sym) and vmbus-user.h does not declare them; the simulator and the tests reach
 * them through the convenience library libvmbus-user-internal.la and this header. Keeping them
 * out of the .so means they can change without an soname bump.
 *
 * VMU_EXPORT marks the definitions of public calls in the library's .c files; with
 * -fvisibility=hidden everything else stays inside the .so, and the version script picks the
 * exported set among the marked ones.
 */
#ifndef VMBUS_USER_INTERNAL_H
#define VMBUS_USER_INTERNAL_H

#include "vmbus-user.h"

#if defined(VMU_BUILDING_LIBRARY) && defined(__GNUC__)
#define VMU_EXPORT __attribute__((visibility("default")))
#else
#define VMU_EXPORT
#endif

/* vmu_utf16le_to_utf8()/vmu_utf8_to_utf16le() flag: reproduce the Linux kernel's fs/nls
 * conversion quirks exactly, as hv_utils applies them to host strings (for the simulated
 * kernel only): unpaired surrogates are dropped silently, characters that do not fit are
 * skipped and conversion continues, invalid UTF-8 fails with -EINVAL. */
#define VMU_UTF_KERNEL_COMPAT (1u << 1)

/* Host side: writes hdr into the first 28 bytes of buf (-ENOBUFS when size < 28). */
int vmu_icmsg_write(void *buf, size_t size, const struct vmu_icmsg *hdr);

/* Host side: builds a NEGOTIATE request (header + icmsg_negotiate + versions) into buf.
 * ret_len: total bytes. -ENOBUFS when it does not fit, -EINVAL for counts > 100. */
int vmu_ic_negotiate_build(void *buf, size_t size, const struct vmu_ic_version *fw, size_t n_fw,
			   const struct vmu_ic_version *srv, size_t n_srv, size_t *ret_len);
/* Host side: reads the guest's NEGOTIATE response. -EPROTO when the guest agreed on nothing
 * (counts 0/0), -EBADMSG when malformed. */
int vmu_ic_negotiate_parse_response(const void *buf, size_t len, struct vmu_ic_version *ret_fw,
				    struct vmu_ic_version *ret_srv);

/* Error classifiers the tests use to name which errors mean "the transport is gone". The
 * daemons do not use them: hvd reopens the char device after every transport error, as the
 * kernel's state machine expects (docs/protocol.md §9.12), and the fcopy UIO transport after
 * every error but -EMSGSIZE. So they are not part of the public ABI.
 * Char device: -EINVAL, -EBADF, -EIO, -EPIPE, -ECONNRESET, -ENODEV, -EPROTO. */
bool vmu_chardev_error_needs_reopen(int error);
/* UIO: -ESHUTDOWN, -EBADMSG, -EIO, -EBADF, -ENODEV. */
bool vmu_uio_error_needs_reopen(int error);

#endif
