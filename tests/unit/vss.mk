# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the VSS daemon's modules. Only test-freeze freezes file systems: its own
# loop-mounted images, as root, in a private mount namespace (it skips otherwise).

VSS_UNIT_CPPFLAGS = $(daemons_vss_libvssd_la_CPPFLAGS)
VSS_UNIT_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(LIBMOUNT_CFLAGS)
VSS_UNIT_LDADD = daemons/vss/libvssd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBMOUNT_LIBS)

check_PROGRAMS += tests/unit/test-vss-plan
TESTS += tests/unit/test-vss-plan
tests_unit_test_vss_plan_SOURCES = tests/unit/test-vss-plan.c
tests_unit_test_vss_plan_CPPFLAGS = $(VSS_UNIT_CPPFLAGS)
tests_unit_test_vss_plan_CFLAGS = $(VSS_UNIT_CFLAGS)
tests_unit_test_vss_plan_LDADD = $(VSS_UNIT_LDADD)

EXTRA_DIST += tests/unit/fixtures/mountinfo

check_PROGRAMS += tests/unit/test-vss-state
TESTS += tests/unit/test-vss-state
tests_unit_test_vss_state_SOURCES = tests/unit/test-vss-state.c
tests_unit_test_vss_state_CPPFLAGS = $(VSS_UNIT_CPPFLAGS)
tests_unit_test_vss_state_CFLAGS = $(VSS_UNIT_CFLAGS)
tests_unit_test_vss_state_LDADD = $(VSS_UNIT_LDADD)

check_PROGRAMS += tests/unit/test-vss-hooks
TESTS += tests/unit/test-vss-hooks
tests_unit_test_vss_hooks_SOURCES = tests/unit/test-vss-hooks.c
tests_unit_test_vss_hooks_CPPFLAGS = $(VSS_UNIT_CPPFLAGS)
tests_unit_test_vss_hooks_CFLAGS = $(VSS_UNIT_CFLAGS)
tests_unit_test_vss_hooks_LDADD = $(VSS_UNIT_LDADD)

check_PROGRAMS += tests/unit/test-freeze
TESTS += tests/unit/test-freeze
tests_unit_test_freeze_SOURCES = tests/unit/test-freeze.c
tests_unit_test_freeze_CPPFLAGS = $(VSS_UNIT_CPPFLAGS)
tests_unit_test_freeze_CFLAGS = $(VSS_UNIT_CFLAGS)
tests_unit_test_freeze_LDADD = $(VSS_UNIT_LDADD)
