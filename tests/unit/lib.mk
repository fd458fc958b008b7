# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of lib/vmbus-user's message layer: one GTest program per module.

LIB_UNIT_TESTS = \
	tests/unit/test-service \
	tests/unit/test-utf16 \
	tests/unit/test-icmsg \
	tests/unit/test-kvp-msg \
	tests/unit/test-vss-msg \
	tests/unit/test-fcopy-msg

check_PROGRAMS += $(LIB_UNIT_TESTS)
TESTS += $(LIB_UNIT_TESTS)

LIB_UNIT_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
LIB_UNIT_LDADD = lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS)

tests_unit_test_service_SOURCES = tests/unit/test-service.c
tests_unit_test_service_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_service_LDADD = $(LIB_UNIT_LDADD)

tests_unit_test_utf16_SOURCES = tests/unit/test-utf16.c
tests_unit_test_utf16_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_utf16_LDADD = $(LIB_UNIT_LDADD)

tests_unit_test_icmsg_SOURCES = tests/unit/test-icmsg.c
tests_unit_test_icmsg_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_icmsg_LDADD = $(LIB_UNIT_LDADD)

tests_unit_test_kvp_msg_SOURCES = tests/unit/test-kvp-msg.c
tests_unit_test_kvp_msg_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_kvp_msg_LDADD = $(LIB_UNIT_LDADD)

tests_unit_test_vss_msg_SOURCES = tests/unit/test-vss-msg.c
tests_unit_test_vss_msg_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_vss_msg_LDADD = $(LIB_UNIT_LDADD)

tests_unit_test_fcopy_msg_SOURCES = tests/unit/test-fcopy-msg.c
tests_unit_test_fcopy_msg_CFLAGS = $(LIB_UNIT_CFLAGS)
tests_unit_test_fcopy_msg_LDADD = $(LIB_UNIT_LDADD)
