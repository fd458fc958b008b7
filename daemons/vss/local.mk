# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/vss: hv-vssd, the backup (freeze/thaw) daemon.

noinst_LTLIBRARIES += daemons/vss/libvssd.la
daemons_vss_libvssd_la_SOURCES = \
	daemons/vss/plan.c daemons/vss/plan.h \
	daemons/vss/freeze.c daemons/vss/freeze.h \
	daemons/vss/hooks.c daemons/vss/hooks.h \
	daemons/vss/state.c daemons/vss/state.h \
	daemons/vss/vssd.c daemons/vss/vssd.h
daemons_vss_libvssd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
daemons_vss_libvssd_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(LIBMOUNT_CFLAGS)
daemons_vss_libvssd_la_LIBADD = $(LIBMOUNT_LIBS)

sbin_PROGRAMS += daemons/vss/hv-vssd
daemons_vss_hv_vssd_SOURCES = daemons/vss/main.c
daemons_vss_hv_vssd_CPPFLAGS = $(daemons_vss_libvssd_la_CPPFLAGS)
daemons_vss_hv_vssd_CFLAGS = $(daemons_vss_libvssd_la_CFLAGS)
daemons_vss_hv_vssd_LDADD = daemons/vss/libvssd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBMOUNT_LIBS)

# An example hook, installed as documentation (hv-vssd(8), HOOKS).
vssexamplesdir = $(docdir)/examples/vss-hooks.d
dist_vssexamples_DATA = daemons/vss/hooks/50-example

dist_man_MANS += man/hv-vssd.8
