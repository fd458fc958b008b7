# SPDX-License-Identifier: GPL-2.0-or-later
# Integration tests of hv-fcopyd against the simulated host.

check_PROGRAMS += tests/integration/test-fcopyd
TESTS += tests/integration/test-fcopyd
tests_integration_test_fcopyd_SOURCES = tests/integration/test-fcopyd.c
tests_integration_test_fcopyd_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(JSONC_CFLAGS)
tests_integration_test_fcopyd_LDADD = tests/integration/libtestdaemon.la \
	tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
EXTRA_tests_integration_test_fcopyd_DEPENDENCIES = daemons/fcopy/hv-fcopyd$(EXEEXT)
