# SPDX-License-Identifier: GPL-2.0-or-later
# daemons/common: the scaffolding every daemon links (event loop, config, logging, CLI).

noinst_LTLIBRARIES += daemons/common/libhvd.la
daemons_common_libhvd_la_SOURCES = \
	daemons/common/hvd.h \
	daemons/common/hvd.c \
	daemons/common/conf.h \
	daemons/common/conf.c \
	daemons/common/log.h \
	daemons/common/log.c \
	daemons/common/hvd-spawn.h \
	daemons/common/hvd-spawn.c \
	daemons/common/read-file.h \
	daemons/common/read-file.c \
	daemons/common/state-file.h \
	daemons/common/state-file.c
daemons_common_libhvd_la_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
daemons_common_libhvd_la_LIBADD = lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS)
noinst_HEADERS += daemons/common/message-ids.h
