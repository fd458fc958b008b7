# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the char-device transport (lib/vmbus-user/chardev.c) against a fake kernel.

check_PROGRAMS += tests/unit/test-chardev
TESTS += tests/unit/test-chardev
tests_unit_test_chardev_SOURCES = tests/unit/test-chardev.c
tests_unit_test_chardev_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_chardev_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)
