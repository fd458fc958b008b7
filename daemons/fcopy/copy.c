/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One transfer's state, independent of the transport.
 *
 *   idle --START ok--> copying --WRITE ok--> copying --COMPLETE ok--> idle (file in place)
 *     ^                   |  any failure, CANCEL, new START, abort        |
 *     +-------------------+---- temporary file removed ------------------+
 *
 * Host status codes (docs/protocol.md §1.3): S_OK; HV_ERROR_ALREADY_EXISTS when the target exists
 * without OVER_WRITE (also if it appeared during the transfer); HV_ERROR_DISK_FULL when
 * space cannot be reserved at START or a write or the final fsync meets ENOSPC; HV_E_FAIL
 * for anything else. A failed WRITE or COMPLETE ends the copy (the temporary file goes at
 * once, so a full disk is freed); later WRITEs get HV_E_FAIL. A WRITE must stay within the
 * announced size, and COMPLETE needs the data to reach it: the file then has exactly the
 * announced size. CANCEL of a copy in progress answers S_OK; CANCEL with none in progress
 * answers HV_E_FAIL, like WRITE and COMPLETE then (see copy_cancel()).
 *
 * A copy that ends without a host request (superseded by a new START, the transport gone:
 * hibernation, a rescind, a stop) was answered nothing: its report says so instead of
 * carrying a status the host never saw.
 *
 * Every copy ends in exactly one call of the finish callback (the journal record).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "copy.h"
#include "vmbus-user.h"
#include "shared/time-util.h"

struct copy {
	copy_finish_fn finish;
	void *userdata;
	struct target *target;
	char *source, *target_path;
	uint64_t size, start_usec;
};

static const char *const result_names[_COPY_RESULT_MAX] = {
    [COPY_COMPLETED] = "completed",       [COPY_FAILED] = "failed",
    [COPY_CANCELLED] = "cancelled",       [COPY_SUPERSEDED] = "superseded",
    [COPY_DISCONNECTED] = "disconnected",
};

const char *copy_result_name(enum copy_result r)
{
	return (unsigned)r < _COPY_RESULT_MAX ? result_names[r] : "unknown";
}

uint32_t copy_status_for_error(int error)
{
	switch (error) {
	case 0:
		return VMU_S_OK;
	case -EEXIST:
		return VMU_ERROR_ALREADY_EXISTS;
	case -ENOSPC:
	case -EDQUOT:
		return VMU_ERROR_DISK_FULL;
	default:
		return VMU_E_FAIL;
	}
}

int copy_new(copy_finish_fn finish, void *userdata, struct copy **ret)
{
	struct copy *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->finish = finish;
	c->userdata = userdata;
	*ret = c;
	return 0;
}

static void copy_reset(struct copy *c)
{
	c->target = target_free(c->target);
	free(c->source);
	free(c->target_path);
	c->source = c->target_path = NULL;
	c->size = 0;
}

/* Ends the current copy (the file is already committed or about to be discarded). */
static uint32_t copy_finish(struct copy *c, enum copy_result result, int error, const char *what)
{
	bool answered = result != COPY_SUPERSEDED && result != COPY_DISCONNECTED;
	struct copy_report rep = {
	    .source = c->source,
	    .target = c->target_path,
	    .size = c->size,
	    .written = c->target ? target_written(c->target) : 0,
	    .result = result,
	    .answered = answered,
	    .status = answered ? copy_status_for_error(error) : 0,
	    .error = error,
	    .what = what,
	    .duration_usec = now_usec() - c->start_usec,
	};

	/* the temporary file goes before anyone hears about it */
	c->target = target_free(c->target);
	if (c->finish)
		c->finish(c->userdata, &rep);
	copy_reset(c);
	return copy_status_for_error(error);
}

struct copy *copy_free(struct copy *c)
{
	if (!c)
		return NULL;
	copy_abort(c, COPY_DISCONNECTED);
	copy_reset(c);
	free(c);
	return NULL;
}

void copy_abort(struct copy *c, enum copy_result why)
{
	if (c->source)
		copy_finish(c, why, 0, NULL);
}

bool copy_active(const struct copy *c)
{
	return c->target != NULL;
}

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl == 0 || dir[dl - 1] != '/';
	char *p = malloc(dl + slash + nl + 1);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + slash, name, nl + 1);
	return p;
}

/* A START whose names are refused ends at once; the names are not recorded, only handed
 * to the report as sent (the log escapes them). */
static uint32_t copy_refuse_names(struct copy *c, const char *path_name, const char *file_name,
				  int error)
{
	struct copy_report rep = {
	    .source = file_name ? file_name : "",
	    .target = path_name ? path_name : "",
	    .name_refused = true,
	    .size = c->size,
	    .result = COPY_FAILED,
	    .answered = true,
	    .status = copy_status_for_error(error),
	    .error = error,
	    .what = "start",
	};

	c->size = 0;
	if (c->finish)
		c->finish(c->userdata, &rep);
	return rep.status;
}

uint32_t copy_start(struct copy *c, const struct target_policy *p, const char *path_name,
		    const char *file_name, uint32_t flags, uint64_t file_size)
{
	int r;

	copy_abort(c, COPY_SUPERSEDED);
	c->start_usec = now_usec();
	c->size = file_size;
	r = target_check_names(path_name, file_name);
	if (r < 0)
		return copy_refuse_names(c, path_name, file_name, r);
	c->source = strdup(file_name);
	c->target_path = join_path(path_name, file_name);
	if (!c->source || !c->target_path)
		return copy_finish(c, COPY_FAILED, -ENOMEM, "start");
	r = target_open(p, path_name, file_name, flags & VMU_FCOPY_CREATE_PATH,
			flags & VMU_FCOPY_OVER_WRITE, file_size, &c->target);
	if (r < 0)
		return copy_finish(c, COPY_FAILED, r, "start");
	return VMU_S_OK;
}

uint32_t copy_write(struct copy *c, uint64_t offset, const void *data, uint32_t size)
{
	int r;

	if (!c->target)
		return VMU_E_FAIL;
	r = target_write(c->target, offset, data, size);
	if (r < 0)
		return copy_finish(c, COPY_FAILED, r, "write");
	return VMU_S_OK;
}

uint32_t copy_complete(struct copy *c)
{
	int r;

	if (!c->target)
		return VMU_E_FAIL;
	if (target_written(c->target) != c->size)
		return copy_finish(c, COPY_FAILED, -EBADMSG, "complete");
	r = target_commit(c->target);
	if (r < 0)
		return copy_finish(c, COPY_FAILED, r, "complete");
	return copy_finish(c, COPY_COMPLETED, 0, NULL);
}

/* S_OK would tell the host that a transfer was stopped and its partial file removed; with
 * none in progress (never started, already completed, or already ended by a failure the
 * host was told about) there was nothing to cancel, so the host gets HV_E_FAIL, as for a
 * WRITE or COMPLETE then. Hosts cope: the kernel's own UIO daemon answers every CANCEL
 * with HV_E_FAIL (and the kernel's fake CANCEL of hibernation gets no reply at all). */
uint32_t copy_cancel(struct copy *c)
{
	if (!c->source)
		return VMU_E_FAIL;
	copy_finish(c, COPY_CANCELLED, 0, NULL);
	return VMU_S_OK;
}

bool copy_get_progress(const struct copy *c, struct copy_progress *ret)
{
	if (!c->target)
		return false;
	*ret = (struct copy_progress){
	    .source = c->source,
	    .target = c->target_path,
	    .done = target_written(c->target),
	    .total = c->size,
	    .elapsed_usec = now_usec() - c->start_usec,
	};
	return true;
}
