# SPDX-License-Identifier: GPL-2.0-or-later
# SET_IP_INFO's NetworkManager backend against the real NetworkManager, run by the test in
# private mount, network and UTS namespaces with a private dbus-daemon (root only; skipped
# otherwise, or when NetworkManager or dbus-daemon is not installed).

check_PROGRAMS += tests/integration/test-netconf-nm
TESTS += tests/integration/test-netconf-nm
tests_integration_test_netconf_nm_SOURCES = tests/integration/test-netconf-nm.c \
	tests/integration/netstack.h
tests_integration_test_netconf_nm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common
tests_integration_test_netconf_nm_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(LIBNL_CFLAGS)
tests_integration_test_netconf_nm_LDADD = daemons/kvp/libkvpnet.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBNL_LIBS) \
	-lpthread
