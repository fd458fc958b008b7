# SPDX-License-Identifier: GPL-2.0-or-later
# tools/hv-kvp: the KVP pool command-line tool. It reads hv-kvpd's config section with the
# config module (libhvconf) and hv-kvpd's key table (kvp-keys.c), and the pools with the
# public library: no event loop, no libsystemd, no netlink.

bin_PROGRAMS += tools/hv-kvp/hv-kvp
tools_hv_kvp_hv_kvp_SOURCES = \
	tools/hv-kvp/hv-kvp.c \
	tools/hv-kvp/output.c \
	tools/hv-kvp/output.h \
	daemons/kvp/kvp-keys.c \
	daemons/kvp/kvp-keys.h
tools_hv_kvp_hv_kvp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
tools_hv_kvp_hv_kvp_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tools_hv_kvp_hv_kvp_LDADD = daemons/common/libhvconf.la lib/vmbus-user/libvmbus-user.la \
	$(GLIB_LIBS) $(JSONC_LIBS)

dist_man_MANS += man/hv-kvp.1
