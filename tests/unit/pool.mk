# SPDX-License-Identifier: LGPL-2.1-or-later
# Unit tests of lib/vmbus-user/kvp-pool.c, with the external-writer helper they run
# concurrently (tests/unit/kvp-appender: cloud-init's flock+append, the reference daemon's
# fcntl+rewrite).

check_PROGRAMS += tests/unit/test-kvp-pool tests/unit/kvp-appender
TESTS += tests/unit/test-kvp-pool

tests_unit_test_kvp_pool_SOURCES = tests/unit/test-kvp-pool.c
tests_unit_test_kvp_pool_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_kvp_pool_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)

tests_unit_kvp_appender_SOURCES = tests/unit/kvp-appender.c

noinst_HEADERS += lib/vmbus-user/kvp-pool-internal.h
