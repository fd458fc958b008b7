# SPDX-License-Identifier: GPL-2.0-or-later
# Integration tests: the real daemon binaries against the simulated host.

check_LTLIBRARIES += tests/integration/libtestdaemon.la
tests_integration_libtestdaemon_la_SOURCES = tests/integration/daemon.c tests/integration/daemon.h
tests_integration_libtestdaemon_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)

check_PROGRAMS += tests/integration/test-kvpd
TESTS += tests/integration/test-kvpd
tests_integration_test_kvpd_SOURCES = tests/integration/test-kvpd.c
tests_integration_test_kvpd_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_integration_test_kvpd_LDADD = tests/integration/libtestdaemon.la \
	tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)
# The daemon under test must be built first.
EXTRA_tests_integration_test_kvpd_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT)

check_PROGRAMS += tests/integration/test-kvpd-pools
TESTS += tests/integration/test-kvpd-pools
tests_integration_test_kvpd_pools_SOURCES = tests/integration/test-kvpd-pools.c
tests_integration_test_kvpd_pools_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_kvpd_pools_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_kvpd_pools_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT) \
	tests/unit/kvp-appender$(EXEEXT)

check_PROGRAMS += tests/integration/test-kvpd-net
TESTS += tests/integration/test-kvpd-net
tests_integration_test_kvpd_net_SOURCES = tests/integration/test-kvpd-net.c
tests_integration_test_kvpd_net_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_kvpd_net_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_kvpd_net_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT)

# SET_IP_INFO end to end: the script backend applied for real in a private network namespace.
check_PROGRAMS += tests/integration/test-kvpd-setip
TESTS += tests/integration/test-kvpd-setip
tests_integration_test_kvpd_setip_SOURCES = tests/integration/test-kvpd-setip.c
tests_integration_test_kvpd_setip_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_kvpd_setip_LDADD = $(tests_integration_test_kvpd_LDADD) -lpthread
EXTRA_tests_integration_test_kvpd_setip_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT)

# SET_IP_INFO end to end through hv-kvpd with set-ip-backend=auto on the real NetworkManager,
# systemd-networkd and ifupdown, each in private namespaces of a subprocess (root only).
check_PROGRAMS += tests/integration/test-kvpd-setip-stacks
TESTS += tests/integration/test-kvpd-setip-stacks
tests_integration_test_kvpd_setip_stacks_SOURCES = tests/integration/test-kvpd-setip-stacks.c \
	tests/integration/netstack.h
tests_integration_test_kvpd_setip_stacks_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_kvpd_setip_stacks_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_kvpd_setip_stacks_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT)

# Config validation through the three binaries' --dump-config.
check_PROGRAMS += tests/integration/test-config
TESTS += tests/integration/test-config
tests_integration_test_config_SOURCES = tests/integration/test-config.c
tests_integration_test_config_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_integration_test_config_LDADD = tests/integration/libtestdaemon.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)
EXTRA_tests_integration_test_config_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT) \
	daemons/vss/hv-vssd$(EXEEXT) daemons/fcopy/hv-fcopyd$(EXEEXT)
noinst_HEADERS += tests/sandbox.h

# A failing or killed test leaves no daemon behind.
check_PROGRAMS += tests/integration/test-no-leftovers
TESTS += tests/integration/test-no-leftovers
tests_integration_test_no_leftovers_SOURCES = tests/integration/test-no-leftovers.c
tests_integration_test_no_leftovers_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_integration_test_no_leftovers_LDADD = tests/integration/libtestdaemon.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)
EXTRA_tests_integration_test_no_leftovers_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT)

# The fault matrix (issue 8): every daemon against kill -9, kernel timeouts, reloads, the
# host turning the service off, ENOSPC and EIO.
check_PROGRAMS += tests/integration/test-fault-matrix
TESTS += tests/integration/test-fault-matrix
tests_integration_test_fault_matrix_SOURCES = tests/integration/test-fault-matrix.c
tests_integration_test_fault_matrix_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_fault_matrix_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_fault_matrix_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT) \
	daemons/vss/hv-vssd$(EXEEXT) daemons/fcopy/hv-fcopyd$(EXEEXT)

# hvguestctl reading the three daemons' state (and, as root, a frozen loop image).
check_PROGRAMS += tests/integration/test-hvguestctl
TESTS += tests/integration/test-hvguestctl
tests_integration_test_hvguestctl_SOURCES = tests/integration/test-hvguestctl.c
tests_integration_test_hvguestctl_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_hvguestctl_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_hvguestctl_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT) \
	daemons/vss/hv-vssd$(EXEEXT) daemons/fcopy/hv-fcopyd$(EXEEXT) \
	tools/hvguestctl/hvguestctl$(EXEEXT)

# A hostile host: random and malformed raw messages through hv-kvpd and hv-fcopyd.
check_PROGRAMS += tests/integration/test-hostile
TESTS += tests/integration/test-hostile
tests_integration_test_hostile_SOURCES = tests/integration/test-hostile.c
tests_integration_test_hostile_CFLAGS = $(tests_integration_test_kvpd_CFLAGS)
tests_integration_test_hostile_LDADD = $(tests_integration_test_kvpd_LDADD)
EXTRA_tests_integration_test_hostile_DEPENDENCIES = daemons/kvp/hv-kvpd$(EXEEXT) \
	daemons/fcopy/hv-fcopyd$(EXEEXT)

# SET_IP_INFO through the real ifup/ifdown (root, private network and mount namespace).
check_PROGRAMS += tests/integration/test-netconf-ifupdown
TESTS += tests/integration/test-netconf-ifupdown
tests_integration_test_netconf_ifupdown_SOURCES = tests/integration/test-netconf-ifupdown.c \
	tests/netconf-cfg.h
tests_integration_test_netconf_ifupdown_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common
tests_integration_test_netconf_ifupdown_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(LIBNL_CFLAGS)
tests_integration_test_netconf_ifupdown_LDADD = daemons/kvp/libkvpnet.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBNL_LIBS) -lpthread

# SET_IP_INFO through ifcfg files: the backend's D-Bus calls against the real NetworkManager
# (root, private namespaces, private dbus-daemon; Debian's NM has no ifcfg-rh plugin).
check_PROGRAMS += tests/integration/test-netconf-ifcfg-nm
TESTS += tests/integration/test-netconf-ifcfg-nm
tests_integration_test_netconf_ifcfg_nm_SOURCES = tests/integration/test-netconf-ifcfg-nm.c \
	tests/netconf-cfg.h
tests_integration_test_netconf_ifcfg_nm_CPPFLAGS = $(tests_integration_test_netconf_ifupdown_CPPFLAGS)
tests_integration_test_netconf_ifcfg_nm_CFLAGS = $(tests_integration_test_netconf_ifupdown_CFLAGS)
tests_integration_test_netconf_ifcfg_nm_LDADD = $(tests_integration_test_netconf_ifupdown_LDADD)
