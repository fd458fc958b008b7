# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/fcopy: hv-fcopyd, host-to-guest file copy over the char device or the UIO ring.

noinst_LTLIBRARIES += daemons/fcopy/libfcopyd.la
daemons_fcopy_libfcopyd_la_SOURCES = \
	daemons/fcopy/target.c daemons/fcopy/target.h \
	daemons/fcopy/copy.c daemons/fcopy/copy.h
daemons_fcopy_libfcopyd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
daemons_fcopy_libfcopyd_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
daemons_fcopy_libfcopyd_la_SOURCES += daemons/fcopy/fcopyd.c daemons/fcopy/fcopyd.h \
	daemons/fcopy/transport.c daemons/fcopy/transport.h

sbin_PROGRAMS += daemons/fcopy/hv-fcopyd
daemons_fcopy_hv_fcopyd_SOURCES = daemons/fcopy/main.c
daemons_fcopy_hv_fcopyd_CPPFLAGS = $(daemons_fcopy_libfcopyd_la_CPPFLAGS)
daemons_fcopy_hv_fcopyd_CFLAGS = $(daemons_fcopy_libfcopyd_la_CFLAGS)
daemons_fcopy_hv_fcopyd_LDADD = daemons/fcopy/libfcopyd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)
dist_man_MANS += man/hv-fcopyd.8
