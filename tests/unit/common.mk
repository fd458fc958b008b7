# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of daemons/common (config, logging, the hvd scaffolding).

HVD_TEST_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) -I$(top_srcdir)/daemons/common
HVD_TEST_LIBS = daemons/common/libhvd.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test-conf
TESTS += tests/unit/test-conf
tests_unit_test_conf_SOURCES = tests/unit/test-conf.c
tests_unit_test_conf_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_test_conf_LDADD = $(HVD_TEST_LIBS)


check_PROGRAMS += tests/unit/test-read-file
TESTS += tests/unit/test-read-file
tests_unit_test_read_file_SOURCES = tests/unit/test-read-file.c
tests_unit_test_read_file_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_test_read_file_LDADD = $(HVD_TEST_LIBS)

check_PROGRAMS += tests/unit/test-state-file
TESTS += tests/unit/test-state-file
tests_unit_test_state_file_SOURCES = tests/unit/test-state-file.c
tests_unit_test_state_file_CFLAGS = $(HVD_TEST_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_state_file_LDADD = $(HVD_TEST_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/test-log
TESTS += tests/unit/test-log
tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_test_log_LDADD = $(HVD_TEST_LIBS) -lpthread

# A tiny daemon on hvd_main() that test-hvd drives through a fake kernel socket.
check_PROGRAMS += tests/unit/hvd-echo
tests_unit_hvd_echo_SOURCES = tests/unit/hvd-echo.c
tests_unit_hvd_echo_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_hvd_echo_LDADD = $(HVD_TEST_LIBS)

check_PROGRAMS += tests/unit/test-hvd
TESTS += tests/unit/test-hvd
tests_unit_test_hvd_SOURCES = tests/unit/test-hvd.c
tests_unit_test_hvd_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_test_hvd_LDADD = $(HVD_TEST_LIBS)

# hvguest.conf(5) and the default config file against the daemons' schemas.
check_PROGRAMS += tests/unit/test-conf-docs
TESTS += tests/unit/test-conf-docs
tests_unit_test_conf_docs_SOURCES = tests/unit/test-conf-docs.c
tests_unit_test_conf_docs_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_conf_docs_LDADD = $(GLIB_LIBS)
EXTRA_tests_unit_test_conf_docs_DEPENDENCIES = etc/hvguest.conf daemons/kvp/hv-kvpd$(EXEEXT) \
	daemons/vss/hv-vssd$(EXEEXT) daemons/fcopy/hv-fcopyd$(EXEEXT)

check_PROGRAMS += tests/unit/test-hvd-spawn
TESTS += tests/unit/test-hvd-spawn
tests_unit_test_hvd_spawn_SOURCES = tests/unit/test-hvd-spawn.c
tests_unit_test_hvd_spawn_CFLAGS = $(HVD_TEST_CFLAGS)
tests_unit_test_hvd_spawn_LDADD = $(HVD_TEST_LIBS)
