# SPDX-License-Identifier: LGPL-2.1-or-later
# Micro-benchmarks (built by `make bench`, not run by `make check`: they measure, they do
# not assert).

noinst_PROGRAMS += bench/bench-kvp-pool
bench_bench_kvp_pool_SOURCES = bench/bench-kvp-pool.c
bench_bench_kvp_pool_LDADD = lib/vmbus-user/libvmbus-user-internal.la

.PHONY: bench
bench: bench/bench-kvp-pool
	$(AM_V_at)./bench/bench-kvp-pool
