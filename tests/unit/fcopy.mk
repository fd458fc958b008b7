# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the fcopy pieces: the library's host-format validator and hv-fcopyd's modules.

check_PROGRAMS += tests/unit/test-fcopy-host-msg
TESTS += tests/unit/test-fcopy-host-msg
tests_unit_test_fcopy_host_msg_SOURCES = tests/unit/test-fcopy-host-msg.c
tests_unit_test_fcopy_host_msg_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_fcopy_host_msg_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)
