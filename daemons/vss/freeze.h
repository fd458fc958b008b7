/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freezing and thawing the file systems of a plan (FIFREEZE / FITHAW), with the error rules
 * of hv-vssd(8), remembering which ones this daemon froze so that only those are thawed.
 * The mounts are opened when the plan is made and frozen through those descriptors, after
 * checking that the path still leads to the same mount: never the file system underneath.
 */
#ifndef VSS_FREEZE_H
#define VSS_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "state.h"

enum freeze_unfreezable {
	FREEZE_UNFREEZABLE_SKIP, /* EOPNOTSUPP/ENOTTY, or gone: leave that one alone, go on */
	FREEZE_UNFREEZABLE_FAIL, /* ... or fail the whole freeze */
};

enum freeze_state {
	FREEZE_PENDING,     /* not reached */
	FREEZE_OURS,        /* we froze it: we thaw it */
	FREEZE_ALREADY,     /* EBUSY: frozen by someone else, left frozen */
	FREEZE_UNSUPPORTED, /* EOPNOTSUPP/ENOTTY, skipped by policy */
	FREEZE_GONE,        /* unmounted or replaced since the plan, skipped by policy */
	FREEZE_THAWED,      /* ours, thawed again */
};

struct freeze_mount {
	char *target;
	int fd;          /* opened with the plan, kept until the thaw: no lookup on a frozen tree */
	uint64_t mnt_id; /* the mount fd is on (the plan's), 0 when it could not be opened */
	uint64_t dev;    /* and its st_dev */
	bool mnt_id_unique; /* mnt_id is statx's STATX_MNT_ID_UNIQUE (else STATX_MNT_ID) */
	enum freeze_state state;
	int error; /* errno of the last failed ioctl, 0 */
};

struct freeze_set {
	struct freeze_mount *mounts; /* plan order */
	size_t n;
};

/* Opens the plan's mount points (O_NOFOLLOW|O_DIRECTORY) and checks that each is the mount
 * the plan names (its mount ID). One that cannot be opened or is another mount is kept with
 * fd -1 and its errno (ESTALE: another mount) and counts as gone when freezing. Call before
 * anything (the freeze hooks) can change the mount table. -ENOMEM only. */
int freeze_open(const struct plan *p, struct freeze_set **ret);

/* Called once before the first FIFREEZE with every mount that may become ours (each one
 * that was opened), so a record survives a crash at any point; thawing a recorded mount
 * that was not frozen is a harmless EINVAL. The caller narrows the record to the mounts
 * that are ours afterwards when they differ (one frozen by someone else, EBUSY, must not be
 * thawed by the next start). A negative return stops the freeze (nothing is frozen). */
typedef int (*freeze_record_fn)(const struct state_mount *m, size_t n, void *userdata);

/* Freezes the set's file systems in order, each through the descriptor from freeze_open()
 * after checking that its path still leads to that mount (else "gone": unmounted or
 * replaced, skipped or fatal by policy). On failure everything frozen so far is thawed
 * again, *ret_failed (optional) names the mount (pointer into s) and the errno is returned
 * (-ESTALE for a mount that is gone); s tells what happened in both cases. */
int freeze_plan(struct freeze_set *s, enum freeze_unfreezable policy, freeze_record_fn record,
		void *userdata, const char **ret_failed);
/* Thaws ours in reverse order. EINVAL (already thawed) counts as thawed. Returns the number
 * thawed, or the first other error after trying them all. */
int freeze_thaw(struct freeze_set *s);
/* Closes the descriptors of the mounts that are not (or no longer) frozen by us: a mount
 * unmounted meanwhile is released. */
void freeze_release(struct freeze_set *s);
size_t freeze_count(const struct freeze_set *s, enum freeze_state state);
/* The mounts in a state as crash-record entries pointing into s (free the array only);
 * NULL on ENOMEM. */
struct state_mount *freeze_entries(const struct freeze_set *s, enum freeze_state state,
				   size_t *ret_n);
struct freeze_set *freeze_set_free(struct freeze_set *s);

/* The mount ID and st_dev of what fd is on: the unique mount ID where the kernel has one
 * (statx STATX_MNT_ID_UNIQUE, Linux 6.8), else mountinfo's (statx, /proc/self/fdinfo). */
int freeze_identify(int fd, uint64_t *ret_mnt_id, uint64_t *ret_dev);
/* Thaws one recorded mount by path (crash recovery), if the path still leads to the
 * recorded mount: 0, -EINVAL when it was not frozen, -ESTALE when the path now leads to
 * another mount (left alone), or another negative errno. A record without identity
 * (mnt_id 0, an older version's) is thawed by path. */
int freeze_thaw_recorded(const struct state_mount *m);

/* Tests: HVGUEST_VSS_INJECT_FREEZE_ERROR=<mount point>:<errno> makes FIFREEZE of that
 * mount fail with that errno instead of freezing it. */
#define FREEZE_INJECT_ENV "HVGUEST_VSS_INJECT_FREEZE_ERROR"

#endif
