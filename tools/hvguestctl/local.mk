# SPDX-License-Identifier: GPL-2.0-or-later
# tools/hvguestctl: the admin's status tool. It reads each daemon's config section through
# the daemons' own code and reuses hv-vssd's plan and crash record, so it links all three
# daemon libraries.

sbin_PROGRAMS += tools/hvguestctl/hvguestctl
tools_hvguestctl_hvguestctl_SOURCES = \
	tools/hvguestctl/hvguestctl.c \
	tools/hvguestctl/status.c \
	tools/hvguestctl/status.h
tools_hvguestctl_hvguestctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common -DVMU_OUTSIDE_LIBRARY
tools_hvguestctl_hvguestctl_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(LIBMOUNT_CFLAGS) $(JSONC_CFLAGS)
tools_hvguestctl_hvguestctl_LDADD = daemons/kvp/libkvpd.la daemons/vss/libvssd.la \
	daemons/fcopy/libfcopyd.la daemons/common/libhvd.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) \
	$(LIBMOUNT_LIBS) $(JSONC_LIBS)

dist_man_MANS += man/hvguestctl.8
