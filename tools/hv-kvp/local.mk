# SPDX-License-Identifier: GPL-2.0-or-later
# tools/hv-kvp: the KVP pool command-line tool. It reads hv-kvpd's config section through the
# daemon's own code (libkvpd + libhvd), so it links what hv-kvpd links.

bin_PROGRAMS += tools/hv-kvp/hv-kvp
tools_hv_kvp_hv_kvp_SOURCES = \
	tools/hv-kvp/hv-kvp.c \
	tools/hv-kvp/output.c \
	tools/hv-kvp/output.h
tools_hv_kvp_hv_kvp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common
tools_hv_kvp_hv_kvp_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tools_hv_kvp_hv_kvp_LDADD = $(daemons_kvp_hv_kvpd_LDADD) $(JSONC_LIBS)

dist_man_MANS += man/hv-kvp.1
