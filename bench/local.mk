# SPDX-License-Identifier: LGPL-2.1-or-later
# Micro-benchmarks (built by `make bench`, not run by `make check`: they measure, they do
# not assert).

noinst_PROGRAMS += bench/bench-kvp-pool
bench_bench_kvp_pool_SOURCES = bench/bench-kvp-pool.c
bench_bench_kvp_pool_LDADD = lib/vmbus-user/libvmbus-user-internal.la


noinst_PROGRAMS += bench/hvd-floor
bench_hvd_floor_SOURCES = bench/hvd-floor.c
bench_hvd_floor_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) -I$(top_srcdir)/daemons/common
bench_hvd_floor_LDADD = daemons/common/libhvd.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS)

noinst_PROGRAMS += bench/bench-kvp
bench_bench_kvp_SOURCES = bench/bench-kvp.c
bench_bench_kvp_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
bench_bench_kvp_LDADD = tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)

noinst_PROGRAMS += bench/bench-fcopy
bench_bench_fcopy_SOURCES = bench/bench-fcopy.c
bench_bench_fcopy_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
bench_bench_fcopy_LDADD = tools/hv-host-sim/libhvsim.la lib/vmbus-user/libvmbus-user-internal.la \
	$(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)

# The do-nothing fcopy responder bench-fcopy measures hv-fcopyd against.
noinst_PROGRAMS += bench/fcopy-floor
bench_fcopy_floor_SOURCES = bench/fcopy-floor.c
bench_fcopy_floor_CPPFLAGS = $(daemons_fcopy_libfcopyd_la_CPPFLAGS)
bench_fcopy_floor_CFLAGS = $(daemons_fcopy_libfcopyd_la_CFLAGS)
bench_fcopy_floor_LDADD = $(daemons_fcopy_hv_fcopyd_LDADD)

noinst_PROGRAMS += bench/bench-vss
bench_bench_vss_SOURCES = bench/bench-vss.c
bench_bench_vss_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(JSONC_CFLAGS)
bench_bench_vss_LDADD = tests/integration/libtestdaemon.la tools/hv-host-sim/libhvsim.la \
	lib/vmbus-user/libvmbus-user-internal.la $(GLIB_LIBS) $(LIBSYSTEMD_LIBS) $(JSONC_LIBS)

# One table at the end (bench/table.sh): every program prints its target figures as TABLE
# lines besides its own output.
bench_list = bench/bench-kvp-pool bench/bench-kvp bench/bench-fcopy bench/bench-vss
EXTRA_DIST += bench/table.sh bench/profile.md bench/bench-util.h

.PHONY: bench
bench: $(bench_list) bench/hvd-floor bench/fcopy-floor daemons/kvp/hv-kvpd daemons/fcopy/hv-fcopyd \
	daemons/vss/hv-vssd
	$(AM_V_at)HVGUEST_BUILDDIR='$(abs_top_builddir)' $(SHELL) $(srcdir)/bench/table.sh \
		$(bench_list)
