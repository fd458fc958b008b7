/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-util.h: what the bench programs share.
 *
 * bench_pin_cpu(): the benchmarks run on one CPU, host simulator and daemon alike (the children
 * inherit the mask), as the independent harness of issue 10 ran them. Unpinned, the
 * scheduler puts the two on one vCPU or on two as it goes, and a request's round trip
 * costs twice as much when the wake-up crosses vCPUs (an IPI to a halted vCPU in a VM):
 * the floor itself then swung between 14k and 37k requests/s within one run.
 *
 * $BENCH_CPU: the CPU number to use (default: the lowest one this process may use);
 * "none" leaves the scheduler free.
 *
 * bench_tmpfs_dir(): a daemon's run-dir on a tmpfs, as /run is.
 */
#ifndef HVGUEST_BENCH_UTIL_H
#define HVGUEST_BENCH_UTIL_H

#include <errno.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

static inline void bench_pin_cpu(void)
{
	const char *want = getenv("BENCH_CPU");
	cpu_set_t set;
	int cpu = -1;

	if (want && strcmp(want, "none") == 0)
		return;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	if (want)
		cpu = atoi(want);
	else
		for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
			if (CPU_ISSET(i, &set))
				cpu = i;
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "cannot run on CPU %d alone: %s\n", cpu, strerror(errno));
	else
		printf(
		    "(pinned to CPU %d with the daemons it starts: BENCH_CPU=none to leave it)\n",
		    cpu);
}

/* A new private directory on /dev/shm when that is a tmpfs, for a daemon's run-dir: /run,
 * where a real system keeps it, is a tmpfs, and on a disk file system every rewrite of a
 * daemon's state file (written to a temporary and renamed over the old one) frees the old
 * one's blocks, a synchronous discard on some mounts (the bench machine's root: ext4 without
 * a journal, -o discard: 0.2-0.4 ms per rename). NULL when there is none: the caller uses a
 * directory of its own. Free the result with free() after removing the directory. */
static inline char *bench_tmpfs_dir(void)
{
	char path[] = "/dev/shm/hvguest-bench-XXXXXX";
	struct statfs sf;

	if (statfs("/dev/shm", &sf) < 0 || sf.f_type != TMPFS_MAGIC || !mkdtemp(path))
		return NULL;
	return strdup(path);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (n > 0); sorts v. */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
