# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/kvp: hv-kvpd, the key-value pair exchange daemon.

noinst_LTLIBRARIES += daemons/kvp/libkvpd.la
daemons_kvp_libkvpd_la_SOURCES = \
	daemons/kvp/kvpd.c daemons/kvp/kvpd.h \
	daemons/kvp/kvp-keys.c daemons/kvp/kvp-keys.h \
	daemons/kvp/intrinsic.c daemons/kvp/intrinsic.h \
	daemons/kvp/os-info.c daemons/kvp/os-info.h \
	daemons/kvp/store.c daemons/kvp/store.h \
	daemons/kvp/fqdn.c daemons/kvp/fqdn.h
daemons_kvp_libkvpd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
daemons_kvp_libkvpd_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
daemons_kvp_libkvpd_la_LIBADD = daemons/kvp/libkvpnet.la -lpthread

sbin_PROGRAMS += daemons/kvp/hv-kvpd
daemons_kvp_hv_kvpd_SOURCES = daemons/kvp/main.c
daemons_kvp_hv_kvpd_CPPFLAGS = $(daemons_kvp_libkvpd_la_CPPFLAGS)
daemons_kvp_hv_kvpd_CFLAGS = $(daemons_kvp_libkvpd_la_CFLAGS)
daemons_kvp_hv_kvpd_LDADD = daemons/kvp/libkvpd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

dist_man_MANS += man/hv-kvpd.8
