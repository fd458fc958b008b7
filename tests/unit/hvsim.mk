# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the simulated host (tools/hv-host-sim), one GTest binary per service, each
# driving the in-process simulator against a fake daemon thread that uses the real library
# transport, plus a test of the hv-host-sim command line.

HVSIM_TEST_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
HVSIM_TEST_LIBS = tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
HVSIM_TEST_DAEMON = tests/unit/test-hvsim-daemon.c tests/unit/test-hvsim-daemon.h

check_PROGRAMS += tests/unit/test-hvsim-kvp
TESTS += tests/unit/test-hvsim-kvp
tests_unit_test_hvsim_kvp_SOURCES = tests/unit/test-hvsim-kvp.c $(HVSIM_TEST_DAEMON)
tests_unit_test_hvsim_kvp_CFLAGS = $(HVSIM_TEST_CFLAGS)
tests_unit_test_hvsim_kvp_LDADD = $(HVSIM_TEST_LIBS)

check_PROGRAMS += tests/unit/test-hvsim-vss
TESTS += tests/unit/test-hvsim-vss
tests_unit_test_hvsim_vss_SOURCES = tests/unit/test-hvsim-vss.c $(HVSIM_TEST_DAEMON)
tests_unit_test_hvsim_vss_CFLAGS = $(HVSIM_TEST_CFLAGS)
tests_unit_test_hvsim_vss_LDADD = $(HVSIM_TEST_LIBS)

check_PROGRAMS += tests/unit/test-hvsim-fcopy
TESTS += tests/unit/test-hvsim-fcopy
tests_unit_test_hvsim_fcopy_SOURCES = tests/unit/test-hvsim-fcopy.c $(HVSIM_TEST_DAEMON)
tests_unit_test_hvsim_fcopy_CFLAGS = $(HVSIM_TEST_CFLAGS)
tests_unit_test_hvsim_fcopy_LDADD = $(HVSIM_TEST_LIBS)

check_PROGRAMS += tests/unit/test-hvsim-cli
TESTS += tests/unit/test-hvsim-cli
tests_unit_test_hvsim_cli_SOURCES = tests/unit/test-hvsim-cli.c $(HVSIM_TEST_DAEMON)
tests_unit_test_hvsim_cli_CFLAGS = $(HVSIM_TEST_CFLAGS)
tests_unit_test_hvsim_cli_LDADD = $(HVSIM_TEST_LIBS)
EXTRA_tests_unit_test_hvsim_cli_DEPENDENCIES = tools/hv-host-sim/hv-host-sim

# The simulator's own host-side ring (host-ring.c) cross-checked against the library's ring.c.
check_PROGRAMS += tests/unit/test-host-ring
TESTS += tests/unit/test-host-ring
tests_unit_test_host_ring_SOURCES = tests/unit/test-host-ring.c
tests_unit_test_host_ring_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_host_ring_LDADD = $(HVSIM_TEST_LIBS)
