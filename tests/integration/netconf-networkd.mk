# SPDX-License-Identifier: GPL-2.0-or-later
# The SET_IP_INFO backend for systemd-networkd against the real systemd-networkd, run in
# mount, network and PID namespaces the test creates (root only; the live cases skip
# otherwise, the golden-file cases run for everyone).

check_PROGRAMS += tests/integration/test-netconf-networkd
TESTS += tests/integration/test-netconf-networkd
tests_integration_test_netconf_networkd_SOURCES = tests/integration/test-netconf-networkd.c \
	tests/integration/netstack.h
tests_integration_test_netconf_networkd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common
tests_integration_test_netconf_networkd_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) \
	$(LIBSYSTEMD_CFLAGS) $(LIBNL_CFLAGS)
tests_integration_test_netconf_networkd_LDADD = daemons/kvp/libkvpnet.la \
	daemons/common/libhvd.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBNL_LIBS) $(JSONC_LIBS) -lpthread
