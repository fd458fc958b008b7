/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freezing and thawing the file systems of a plan (FIFREEZE / FITHAW), with the error rules
 * of hv-vssd(8), remembering which ones this daemon froze so that only those are thawed.
 */
#ifndef VSS_FREEZE_H
#define VSS_FREEZE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

enum freeze_unfreezable {
	FREEZE_UNFREEZABLE_SKIP, /* EOPNOTSUPP/ENOTTY: leave that one alone, go on */
	FREEZE_UNFREEZABLE_FAIL, /* ... or fail the whole freeze */
};

enum freeze_state {
	FREEZE_PENDING,     /* not reached */
	FREEZE_OURS,        /* we froze it: we thaw it */
	FREEZE_ALREADY,     /* EBUSY: frozen by someone else, left frozen */
	FREEZE_UNSUPPORTED, /* EOPNOTSUPP/ENOTTY, skipped by policy */
	FREEZE_THAWED,      /* ours, thawed again */
};

struct freeze_mount {
	char *target;
	int fd; /* kept open from freeze to thaw: no path lookup on a frozen tree */
	enum freeze_state state;
	int error; /* errno of the last failed ioctl, 0 */
};

struct freeze_set {
	struct freeze_mount *mounts; /* plan order */
	size_t n;
};

/* Called before each FIFREEZE with the mounts that are or may be ours after it (ours so far
 * plus the one about to be frozen), so a record survives a crash at any point. A negative
 * return stops the freeze (nothing of it is left frozen). */
typedef int (*freeze_record_fn)(const char *const *targets, size_t n, void *userdata);

/* Freezes the plan's file systems in order. On failure everything frozen so far is thawed
 * again, *ret_failed (optional) names the mount (pointer into the plan) and the errno is
 * returned; the set is returned in both cases when ret is given, to report what happened. */
int freeze_plan(const struct plan *p, enum freeze_unfreezable policy, freeze_record_fn record,
		void *userdata, struct freeze_set **ret, const char **ret_failed);
/* Thaws ours in reverse order. EINVAL (already thawed) counts as thawed. Returns the number
 * thawed, or the first other error after trying them all. */
int freeze_thaw(struct freeze_set *s);
size_t freeze_count(const struct freeze_set *s, enum freeze_state state);
/* The targets in a state, NULL-terminated, pointing into s (free the array only). */
const char **freeze_targets(const struct freeze_set *s, enum freeze_state state);
struct freeze_set *freeze_set_free(struct freeze_set *s);

/* Thaws one mount point by path (crash recovery). 0, -EINVAL when it was not frozen, or
 * another negative errno. */
int freeze_thaw_path(const char *target);

/* Tests: HVGUEST_VSS_INJECT_FREEZE_ERROR=<mount point>:<errno> makes FIFREEZE of that
 * mount fail with that errno instead of freezing it. */
#define FREEZE_INJECT_ENV "HVGUEST_VSS_INJECT_FREEZE_ERROR"

#endif
