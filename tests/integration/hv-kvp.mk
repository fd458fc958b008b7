# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test of the hv-kvp CLI: the built binary against pool files in a temporary
# state dir, with a config written by the test, alone and next to the real hv-kvpd serving
# the simulated host (libhvsim, in the test process).

check_PROGRAMS += tests/integration/test-hv-kvp
TESTS += tests/integration/test-hv-kvp
tests_integration_test_hv_kvp_SOURCES = tests/integration/test-hv-kvp.c
tests_integration_test_hv_kvp_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(JSONC_CFLAGS)
tests_integration_test_hv_kvp_LDADD = tests/integration/libtestdaemon.la \
	tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
# The programs under test must be built first.
EXTRA_tests_integration_test_hv_kvp_DEPENDENCIES = tools/hv-kvp/hv-kvp$(EXEEXT) \
	daemons/kvp/hv-kvpd$(EXEEXT) tests/unit/kvp-appender$(EXEEXT)
