/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a daemon publishes for hvguestctl(8): one JSON object per daemon in its run
 * directory, <run-dir>/<service>.state.json (kvp.state.json, vss.state.json,
 * fcopy.state.json), replaced atomically (temporary file + rename), mode 0644.
 *
 * Why a file and not D-Bus: it works on minimal images without a bus, a reader never waits
 * on the daemon, and the run directory is tmpfs that hv-vssd refuses to freeze, so writing
 * never blocks on a frozen file system. Readable by everyone, so nothing secret goes in:
 * no pool values (hvguestctl reads the pool files itself when the caller may).
 *
 * Written at state changes, never per request in the hot path: a change marked urgent
 * (freeze, thaw, end of a copy, stop) is written at once; others (a request, a progress
 * step) at most every HVD_STATE_INTERVAL_USEC, by a timer.
 *
 * The schema (version 1; fields are only ever added) is documented in hvguestctl(8).
 */
#ifndef HVD_STATE_FILE_H
#define HVD_STATE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HVD_STATE_SCHEMA 1
#define HVD_STATE_INTERVAL_USEC UINT64_C(250000)
#define HVD_STATE_SUFFIX ".state.json"

/* The generic part, kept by hvd. */
struct hvd_state_info {
	const char *service, *program;
	const char *state; /* "starting", "waiting", "connected", "stopped" */
	const char *transport, *device, *version, *status;
	uint64_t started, updated, last_request; /* µs since the epoch; 0: never */
	uint64_t requests;
	const char *details; /* the service's JSON object text, or NULL */
};

/* Writes "s" as a JSON string: quotes, backslashes and control bytes escaped. */
void hvd_json_string(FILE *f, const char *s);

/* Writes the state file of info->service into run_dir atomically. */
int hvd_state_write(const char *run_dir, const struct hvd_state_info *info);

#endif
