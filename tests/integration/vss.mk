# SPDX-License-Identifier: GPL-2.0-or-later
# hv-vssd against the simulated host, freezing loop-mounted ext4/xfs images the test makes
# in a private mount namespace (root only; skipped otherwise).

check_PROGRAMS += tests/integration/test-vssd
TESTS += tests/integration/test-vssd
tests_integration_test_vssd_SOURCES = tests/integration/test-vssd.c
tests_integration_test_vssd_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_integration_test_vssd_LDADD = tests/integration/libtestdaemon.la \
	tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
EXTRA_tests_integration_test_vssd_DEPENDENCIES = daemons/vss/hv-vssd$(EXEEXT)
