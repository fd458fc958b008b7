/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The freeze plan: which mounted file systems hv-vssd freezes, in what order, and why each
 * of the others is left alone. Built from a mount table (libmount) and the config; it
 * never touches a file system itself, so `hv-vssd --plan` and the unit tests are safe.
 */
#ifndef VSS_PLAN_H
#define VSS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum plan_skip {
	PLAN_SKIP_NONE, /* frozen */
	PLAN_SKIP_OUTSIDE_SCOPE,
	PLAN_SKIP_SHARED_OUTSIDE_SCOPE, /* same superblock also mounted outside the scope */
	PLAN_SKIP_READ_ONLY,
	PLAN_SKIP_NOT_INCLUDED,
	PLAN_SKIP_EXCLUDED,
	PLAN_SKIP_PSEUDO,
	PLAN_SKIP_NETWORK,
	PLAN_SKIP_FUSE,
	PLAN_SKIP_DUPLICATE, /* another mount of the same superblock is frozen */
	_PLAN_SKIP_MAX,
};

/* Why a frozen entry sits where it does in the order. */
enum plan_rank {
	PLAN_RANK_NORMAL,  /* children before parents (reverse mount order) */
	PLAN_RANK_JOURNAL, /* holds the journal: late, so logging works as long as possible */
	PLAN_RANK_ROOT,    /* the root file system: last */
};

struct plan_entry {
	char *target, *fstype, *source;
	unsigned major, minor; /* the superblock (mountinfo), the deduplication key */
	int mnt_id;            /* mountinfo's mount ID: which mount the plan means (freeze.c) */
	enum plan_skip skip;
	enum plan_rank rank;
	char *detail;      /* skip: the glob or the other mount; freeze: loop-device note */
	char *backing;     /* loop device: its backing file, when known */
	size_t order;      /* 1-based position in the freeze order; 0 when skipped */
	ssize_t loop_host; /* index of the frozen entry holding the backing file, or -1 */
};

struct plan {
	struct plan_entry *entries; /* mount-table order */
	size_t n_entries;
	size_t *freeze; /* indexes into entries, in freeze order; thaw is the reverse */
	size_t n_freeze;
	char *scope;
};

/* Returns the backing file of loop device major:minor (malloc'd), or a negative errno. */
typedef int (*plan_loop_backing_fn)(unsigned major, unsigned minor, char **ret, void *userdata);

struct plan_config {
	const char *scope;          /* NULL or "/": everything */
	const char *const *include; /* globs on mount points ("/...") or types; NULL/empty: all */
	const char *const *exclude; /* same syntax */
	const char *const *journal_dirs;   /* the file systems holding these go late */
	plan_loop_backing_fn loop_backing; /* NULL: read /sys/dev/block/M:m/loop/backing_file */
	void *userdata;
};

/* The major number of loop devices. */
#define PLAN_LOOP_MAJOR 7u

int plan_build_from_file(const char *mountinfo, const struct plan_config *c, struct plan **ret);
/* Same from text in memory (fixtures, fuzzing). */
int plan_build_from_text(const char *text, size_t len, const struct plan_config *c,
			 struct plan **ret);
struct plan *plan_free(struct plan *p);

/* "outside the scope", ... */
const char *plan_skip_reason(enum plan_skip s);
/* The entry of a frozen position (0-based). */
const struct plan_entry *plan_frozen(const struct plan *p, size_t i);
/* Index of the entry whose mount point is the longest prefix of path, or -1. */
ssize_t plan_mount_of(const struct plan *p, const char *path);
/* True when path lies on a superblock the plan freezes. */
bool plan_freezes_path(const struct plan *p, const char *path);

/* The plan as `hv-vssd --plan` prints it: a header, then one tab-separated line per mount,
 *   freeze<TAB>N<TAB>target<TAB>type<TAB>maj:min<TAB>why
 *   skip<TAB>-<TAB>target<TAB>type<TAB>maj:min<TAB>why
 * frozen ones first in freeze order, then the skipped in mount-table order. */
void plan_print(const struct plan *p, FILE *f);
/* The frozen mount points, comma-separated, in freeze order (malloc'd). */
char *plan_frozen_list(const struct plan *p);

/* Glob helper shared with the tests: does the entry match one of the globs? ret_glob gets
 * the matching glob. */
bool plan_match(const char *const *globs, const char *target, const char *fstype,
		const char **ret_glob);

#endif
