# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of hv-kvpd's network facts (daemons/kvp/libkvpnet.la). test-netinfo runs in a
# network namespace it creates itself (root only; skipped otherwise).

KVPNET_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common \
	-DNET_FIXTURES_DIR=\"$(abs_top_srcdir)/tests/unit/fixtures/net\"
KVPNET_TEST_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(LIBNL_CFLAGS)
KVPNET_TEST_LIBS = daemons/kvp/libkvpnet.la daemons/common/libhvd.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBNL_LIBS) -lpthread

check_PROGRAMS += tests/unit/test-netinfo tests/unit/test-dns-dhcp
TESTS += tests/unit/test-netinfo tests/unit/test-dns-dhcp

tests_unit_test_netinfo_SOURCES = tests/unit/test-netinfo.c
tests_unit_test_netinfo_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_netinfo_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_netinfo_LDADD = $(KVPNET_TEST_LIBS)

tests_unit_test_dns_dhcp_SOURCES = tests/unit/test-dns-dhcp.c
tests_unit_test_dns_dhcp_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_dns_dhcp_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_dns_dhcp_LDADD = $(KVPNET_TEST_LIBS)

EXTRA_DIST += tests/unit/fixtures/net

# SET_IP_INFO's parser (daemons/kvp/netconf-parse.c): every invalid input class.
check_PROGRAMS += tests/unit/test-netconf-parse
TESTS += tests/unit/test-netconf-parse
tests_unit_test_netconf_parse_SOURCES = tests/unit/test-netconf-parse.c
tests_unit_test_netconf_parse_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_netconf_parse_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_netconf_parse_LDADD = $(KVPNET_TEST_LIBS)

# The SET_IP_INFO core's pure parts and the script backend's files (daemons/kvp/netconf*.c).
check_PROGRAMS += tests/unit/test-netconf
TESTS += tests/unit/test-netconf
tests_unit_test_netconf_SOURCES = tests/unit/test-netconf.c
tests_unit_test_netconf_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_netconf_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_netconf_LDADD = $(KVPNET_TEST_LIBS)
# SET_IP_INFO through ifupdown, on files with fake ifup/ifdown (tests/netconf-cfg.h builds
# the requests by hand).
check_PROGRAMS += tests/unit/test-netconf-ifupdown
TESTS += tests/unit/test-netconf-ifupdown
tests_unit_test_netconf_ifupdown_SOURCES = tests/unit/test-netconf-ifupdown.c tests/netconf-cfg.h
tests_unit_test_netconf_ifupdown_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_netconf_ifupdown_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_netconf_ifupdown_LDADD = $(KVPNET_TEST_LIBS)

# SET_IP_INFO through ifcfg files: golden files, fake network-scripts, and a fake
# NetworkManager on a private dbus-daemon (Debian's NM has no ifcfg-rh plugin).
check_PROGRAMS += tests/unit/test-netconf-ifcfg
TESTS += tests/unit/test-netconf-ifcfg
tests_unit_test_netconf_ifcfg_SOURCES = tests/unit/test-netconf-ifcfg.c tests/netconf-cfg.h
tests_unit_test_netconf_ifcfg_CPPFLAGS = $(KVPNET_TEST_CPPFLAGS)
tests_unit_test_netconf_ifcfg_CFLAGS = $(KVPNET_TEST_CFLAGS)
tests_unit_test_netconf_ifcfg_LDADD = $(KVPNET_TEST_LIBS)
