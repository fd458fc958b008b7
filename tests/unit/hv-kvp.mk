# SPDX-License-Identifier: GPL-2.0-or-later
# Unit test of tools/hv-kvp/output.c (escaping and UTF-8 sanitising of pool items); the
# tool as a whole is tested through its binary in tests/integration/hv-kvp.mk.

check_PROGRAMS += tests/unit/test-hv-kvp-output
TESTS += tests/unit/test-hv-kvp-output
tests_unit_test_hv_kvp_output_SOURCES = tests/unit/test-hv-kvp-output.c tools/hv-kvp/output.c
tests_unit_test_hv_kvp_output_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_hv_kvp_output_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)
