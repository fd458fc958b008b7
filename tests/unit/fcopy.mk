# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the fcopy pieces: the library's host-format validator and hv-fcopyd's modules.

check_PROGRAMS += tests/unit/test-fcopy-host-msg
TESTS += tests/unit/test-fcopy-host-msg
tests_unit_test_fcopy_host_msg_SOURCES = tests/unit/test-fcopy-host-msg.c
tests_unit_test_fcopy_host_msg_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_fcopy_host_msg_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)

FCOPYD_UNIT_CPPFLAGS = $(daemons_fcopy_libfcopyd_la_CPPFLAGS)
FCOPYD_UNIT_LDADD = daemons/fcopy/libfcopyd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test-fcopy-target
TESTS += tests/unit/test-fcopy-target
tests_unit_test_fcopy_target_SOURCES = tests/unit/test-fcopy-target.c
tests_unit_test_fcopy_target_CPPFLAGS = $(FCOPYD_UNIT_CPPFLAGS)
tests_unit_test_fcopy_target_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_fcopy_target_LDADD = $(FCOPYD_UNIT_LDADD)

check_PROGRAMS += tests/unit/test-fcopy-copy
TESTS += tests/unit/test-fcopy-copy
tests_unit_test_fcopy_copy_SOURCES = tests/unit/test-fcopy-copy.c
tests_unit_test_fcopy_copy_CPPFLAGS = $(FCOPYD_UNIT_CPPFLAGS)
tests_unit_test_fcopy_copy_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_fcopy_copy_LDADD = $(FCOPYD_UNIT_LDADD)

# hv-fcopyd's transport (transport.c) under hvd_main() in the helper fcopy-transport-echo,
# against the simulated host's UIO device and char device.
check_PROGRAMS += tests/unit/fcopy-transport-echo
tests_unit_fcopy_transport_echo_SOURCES = tests/unit/fcopy-transport-echo.c
tests_unit_fcopy_transport_echo_CPPFLAGS = $(FCOPYD_UNIT_CPPFLAGS)
tests_unit_fcopy_transport_echo_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_unit_fcopy_transport_echo_LDADD = $(FCOPYD_UNIT_LDADD)

check_PROGRAMS += tests/unit/test-fcopy-transport
TESTS += tests/unit/test-fcopy-transport
tests_unit_test_fcopy_transport_SOURCES = tests/unit/test-fcopy-transport.c
tests_unit_test_fcopy_transport_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(JSONC_CFLAGS)
tests_unit_test_fcopy_transport_LDADD = tools/hv-host-sim/libhvsim.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
EXTRA_tests_unit_test_fcopy_transport_DEPENDENCIES = tests/unit/fcopy-transport-echo
