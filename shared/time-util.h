/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shared/time-util.h: time units and the monotonic clock, the one definition for the
 * daemons, tools and tests (never installed; the public header does not use it).
 *
 * Design: microseconds in a uint64_t everywhere (sd-event's unit), CLOCK_MONOTONIC so that
 * deadlines survive changes of the wall clock.
 */
#ifndef HV_SHARED_TIME_UTIL_H
#define HV_SHARED_TIME_UTIL_H

#include <stdint.h>
#include <time.h>

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define NSEC_PER_USEC UINT64_C(1000)

/* CLOCK_MONOTONIC in microseconds; it cannot fail on Linux for a valid clock id. */
static inline uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

#endif
