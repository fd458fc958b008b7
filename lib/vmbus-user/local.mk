# SPDX-License-Identifier: LGPL-2.1-or-later
# lib/vmbus-user: the public libvmbus-user.so and its internal twin for the tests.

VMU_SOURCES = \
	lib/vmbus-user/vmbus-user.h \
	lib/vmbus-user/vmbus-user-internal.h \
	lib/vmbus-user/vmu-internal.h \
	lib/vmbus-user/chardev-sock.h \
	lib/vmbus-user/service.c \
	lib/vmbus-user/utf16.c \
	lib/vmbus-user/icmsg.c \
	lib/vmbus-user/kvp-msg.c \
	lib/vmbus-user/vss-msg.c \
	lib/vmbus-user/fcopy-msg.c \
	lib/vmbus-user/fcopy-host-msg.c \
	lib/vmbus-user/chardev.c \
	lib/vmbus-user/kvp-pool.c \
	lib/vmbus-user/ring.h \
	lib/vmbus-user/ring.c \
	lib/vmbus-user/uio-sock.h \
	lib/vmbus-user/uio.c

VMU_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -DVMU_BUILDING_LIBRARY

# Internal convenience library: the same code, every symbol reachable, for tests, the
# daemons' static helpers and the simulated host.
noinst_LTLIBRARIES += lib/vmbus-user/libvmbus-user-internal.la
lib_vmbus_user_libvmbus_user_internal_la_SOURCES = $(VMU_SOURCES)
lib_vmbus_user_libvmbus_user_internal_la_CFLAGS = $(AM_CFLAGS) -DVMU_BUILDING_LIBRARY

lib_LTLIBRARIES += lib/vmbus-user/libvmbus-user.la
lib_vmbus_user_libvmbus_user_la_SOURCES = $(VMU_SOURCES)
lib_vmbus_user_libvmbus_user_la_CFLAGS = $(VMU_CFLAGS)
lib_vmbus_user_libvmbus_user_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-Wl,--version-script=$(top_srcdir)/lib/vmbus-user/libvmbus-user.sym $(HV_NO_UNDEFINED)
EXTRA_lib_vmbus_user_libvmbus_user_la_DEPENDENCIES = $(top_srcdir)/lib/vmbus-user/libvmbus-user.sym

vmbususerincludedir = $(includedir)/hvguest
vmbususerinclude_HEADERS = lib/vmbus-user/vmbus-user.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/vmbus-user/libvmbus-user.pc
EXTRA_DIST += lib/vmbus-user/libvmbus-user.sym lib/vmbus-user/libvmbus-user.pc.in
