# SPDX-License-Identifier: GPL-2.0-or-later
# The LD_PRELOAD device shim (tests/shim/hvshim.c) and the tests that run the daemons'
# real char-device and UIO branches through it against the simulated host.

# A shared object for LD_PRELOAD only: never installed; built without the sanitizers and
# _FORTIFY_SOURCE (it defines open/read/... itself, and is preloaded into whatever the
# daemons spawn as well), with the warnings of the rest of the tree.
check_LTLIBRARIES += tests/shim/hvshim.la
tests_shim_hvshim_la_SOURCES = tests/shim/hvshim.c
tests_shim_hvshim_la_CPPFLAGS = -I$(top_srcdir) -U_FORTIFY_SOURCE
tests_shim_hvshim_la_CFLAGS = $(filter-out -fsanitize=% -D_FORTIFY_SOURCE=%,$(HV_CFLAGS))
tests_shim_hvshim_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/tests/shim
tests_shim_hvshim_la_LIBADD = -ldl -lpthread

check_PROGRAMS += tests/shim/test-devices
TESTS += tests/shim/test-devices
tests_shim_test_devices_SOURCES = tests/shim/test-devices.c
tests_shim_test_devices_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/integration
tests_shim_test_devices_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_shim_test_devices_LDADD = tests/integration/libtestdaemon.la \
	tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
EXTRA_tests_shim_test_devices_DEPENDENCIES = tests/shim/hvshim.la \
	daemons/kvp/hv-kvpd$(EXEEXT) daemons/vss/hv-vssd$(EXEEXT) daemons/fcopy/hv-fcopyd$(EXEEXT)
