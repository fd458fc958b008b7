# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/common: the scaffolding every daemon links (event loop, config, logging, CLI).

# libhvconf: the config file and the common keys only (GLib, no libsystemd), for the tools
# that read a daemon's section without being one.
noinst_LTLIBRARIES += daemons/common/libhvconf.la
daemons_common_libhvconf_la_SOURCES = \
	daemons/common/conf.h \
	daemons/common/conf.c \
	daemons/common/hvd-keys.h \
	daemons/common/hvd-keys.c \
	daemons/common/read-file.h \
	daemons/common/read-file.c
daemons_common_libhvconf_la_CPPFLAGS = $(AM_CPPFLAGS) -DVMU_OUTSIDE_LIBRARY
daemons_common_libhvconf_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
daemons_common_libhvconf_la_LIBADD = $(GLIB_LIBS)

noinst_LTLIBRARIES += daemons/common/libhvd.la
daemons_common_libhvd_la_SOURCES = \
	daemons/common/hvd.h \
	daemons/common/hvd.c \
	daemons/common/hvd-chardev.c \
	daemons/common/log.h \
	daemons/common/log.c \
	daemons/common/hvd-spawn.h \
	daemons/common/hvd-spawn.c \
	daemons/common/state-file.h \
	daemons/common/state-file.c
# -DVMU_OUTSIDE_LIBRARY (here and in every daemon's and tool's CPPFLAGS): the library's
# private header refuses to be included; only the library, the simulator and the tests
# reach it.
daemons_common_libhvd_la_CPPFLAGS = $(AM_CPPFLAGS) -DVMU_OUTSIDE_LIBRARY
daemons_common_libhvd_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
daemons_common_libhvd_la_LIBADD = daemons/common/libhvconf.la \
	lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS)
noinst_HEADERS += daemons/common/message-ids.h
