# SPDX-License-Identifier: GPL-2.0-or-later
# tools/hv-host-sim: the simulated Hyper-V host + guest kernel driver (libhvsim, used in
# process by the tests) and its command-line front end hv-host-sim.

noinst_LTLIBRARIES += tools/hv-host-sim/libhvsim.la
tools_hv_host_sim_libhvsim_la_SOURCES = \
	tools/hv-host-sim/hvsim.h \
	tools/hv-host-sim/hvsim-internal.h \
	tools/hv-host-sim/sim.c \
	tools/hv-host-sim/transport.c \
	tools/hv-host-sim/kernel.c \
	tools/hv-host-sim/kernel-kvp.c \
	tools/hv-host-sim/kernel-vss.c \
	tools/hv-host-sim/kernel-fcopy.c \
	tools/hv-host-sim/host.c \
	tools/hv-host-sim/requests.c \
	tools/hv-host-sim/status.c \
	tools/hv-host-sim/host-ring.c \
	tools/hv-host-sim/host-ring.h \
	tools/hv-host-sim/uio-host.c \
	tools/hv-host-sim/uio-tree.c
tools_hv_host_sim_libhvsim_la_CFLAGS = $(AM_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tools_hv_host_sim_libhvsim_la_LIBADD = lib/vmbus-user/libvmbus-user-internal.la \
	$(LIBSYSTEMD_LIBS) $(JSONC_LIBS)

bin_PROGRAMS += tools/hv-host-sim/hv-host-sim
tools_hv_host_sim_hv_host_sim_SOURCES = tools/hv-host-sim/cli.c
tools_hv_host_sim_hv_host_sim_CFLAGS = $(AM_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS) \
	$(GLIB_CFLAGS)
tools_hv_host_sim_hv_host_sim_LDADD = tools/hv-host-sim/libhvsim.la $(GLIB_LIBS)

dist_man_MANS += man/hv-host-sim.1
