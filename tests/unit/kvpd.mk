# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the KVP daemon's modules.

check_PROGRAMS += tests/unit/test-os-info
TESTS += tests/unit/test-os-info
tests_unit_test_os_info_SOURCES = tests/unit/test-os-info.c
tests_unit_test_os_info_CPPFLAGS = $(daemons_kvp_libkvpd_la_CPPFLAGS)
tests_unit_test_os_info_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_os_info_LDADD = daemons/kvp/libkvpd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test-fqdn
TESTS += tests/unit/test-fqdn
tests_unit_test_fqdn_SOURCES = tests/unit/test-fqdn.c
tests_unit_test_fqdn_CPPFLAGS = $(daemons_kvp_libkvpd_la_CPPFLAGS)
tests_unit_test_fqdn_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_unit_test_fqdn_LDADD = daemons/kvp/libkvpd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test-kvp-store
TESTS += tests/unit/test-kvp-store
tests_unit_test_kvp_store_SOURCES = tests/unit/test-kvp-store.c
tests_unit_test_kvp_store_CPPFLAGS = $(daemons_kvp_libkvpd_la_CPPFLAGS)
tests_unit_test_kvp_store_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_unit_test_kvp_store_LDADD = daemons/kvp/libkvpd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)
