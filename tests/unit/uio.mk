# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the user-space VMBus transport: the ring (lib/vmbus-user/ring.c) in one
# process, and the UIO device (lib/vmbus-user/uio.c): discovery in fake sysfs trees and a
# simulated host in a separate process.

check_PROGRAMS += tests/unit/test-ring
TESTS += tests/unit/test-ring
tests_unit_test_ring_SOURCES = tests/unit/test-ring.c
tests_unit_test_ring_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_ring_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)

check_PROGRAMS += tests/unit/test-uio
TESTS += tests/unit/test-uio
tests_unit_test_uio_SOURCES = tests/unit/test-uio.c
tests_unit_test_uio_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_uio_LDADD = tools/hv-host-sim/libhvsim.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
