# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/kvp: the network facts of hv-kvpd (addresses, routes, DNS, DHCP flag) as a
# convenience library that hv-kvpd and the unit tests link.

noinst_LTLIBRARIES += daemons/kvp/libkvpnet.la
daemons_kvp_libkvpnet_la_SOURCES = \
	daemons/kvp/netinfo.c daemons/kvp/netinfo.h \
	daemons/kvp/dns.c daemons/kvp/dns.h \
	daemons/kvp/dhcp.c daemons/kvp/dhcp.h \
	daemons/kvp/netconf.h daemons/kvp/netconf-file.c daemons/kvp/netconf-bus.c \
	daemons/kvp/netconf-parse.c daemons/kvp/netconf.c daemons/kvp/netconf-script.c \
	daemons/kvp/netconf-networkmanager.c \
	daemons/kvp/netconf-networkd.c \
	daemons/kvp/netconf-ifupdown.c daemons/kvp/netconf-ifcfg.c
daemons_kvp_libkvpnet_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
daemons_kvp_libkvpnet_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(LIBNL_CFLAGS) \
	$(JSONC_CFLAGS)
daemons_kvp_libkvpnet_la_LIBADD = $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(LIBNL_LIBS) $(JSONC_LIBS) -lpthread
