/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * copy: one host-to-guest file transfer (START, WRITE..., COMPLETE or CANCEL), the same for
 * both transports. Every operation returns the HRESULT the host gets; the file work is
 * target.c's. See copy.c.
 */
#ifndef FCOPY_COPY_H
#define FCOPY_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "target.h"

enum copy_result {
	COPY_COMPLETED,
	COPY_FAILED,       /* START, a WRITE or COMPLETE failed */
	COPY_CANCELLED,    /* the host's CANCEL (also the kernel's on hibernation) */
	COPY_SUPERSEDED,   /* a new START arrived first */
	COPY_DISCONNECTED, /* the transport went away, or the daemon stops */
	_COPY_RESULT_MAX,
};

/* What one copy did, handed to the finish callback once per copy. */
struct copy_report {
	const char *source; /* the host's file name */
	const char *target; /* path_name/file_name */
	/* START refused the names: source is the host's file_name, target its path_name, both
	 * as sent (never recorded; shown only escaped) */
	bool name_refused;
	uint64_t size;    /* announced */
	uint64_t written; /* bytes up to the furthest write */
	enum copy_result result;
	bool answered;    /* the step that ended the copy was answered (status is valid) */
	uint32_t status;  /* what the host got for it; 0 when !answered */
	int error;        /* negative errno behind a failure, else 0 */
	const char *what; /* the failing step ("start", "write", "complete") or NULL */
	uint64_t duration_usec;
};

struct copy_progress {
	const char *source, *target;
	uint64_t done, total;
	uint64_t elapsed_usec;
};

typedef void (*copy_finish_fn)(void *userdata, const struct copy_report *report);

struct copy;

int copy_new(copy_finish_fn finish, void *userdata, struct copy **ret);
/* Aborts a copy in progress (COPY_DISCONNECTED), frees. NULL-safe, returns NULL. */
struct copy *copy_free(struct copy *c);

uint32_t copy_start(struct copy *c, const struct target_policy *p, const char *path_name,
		    const char *file_name, uint32_t flags, uint64_t file_size);
uint32_t copy_write(struct copy *c, uint64_t offset, const void *data, uint32_t size);
uint32_t copy_complete(struct copy *c);
/* HV_E_FAIL when no copy is in progress (see copy.c). */
uint32_t copy_cancel(struct copy *c);
/* Drops a copy in progress without a host request (disconnection, shutdown). */
void copy_abort(struct copy *c, enum copy_result why);

bool copy_active(const struct copy *c);
/* false when no copy is in progress. */
bool copy_get_progress(const struct copy *c, struct copy_progress *ret);

const char *copy_result_name(enum copy_result r);
/* The host status for a target error. */
uint32_t copy_status_for_error(int error);

#endif
