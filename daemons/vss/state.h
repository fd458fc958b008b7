/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash-safety record: which file systems this daemon has (or may have) frozen, kept in
 * the run directory (tmpfs, never frozen). A daemon that starts and finds the record thaws
 * those mounts (and runs the thaw hooks) before it registers with the kernel.
 *
 * Format: a comment line, then one line per mount: its mount ID and st_dev (decimal), then
 * the mount point, backslash and newline escaped as \\ and \n:
 *     123 2049 /srv/data
 * The identity lets the next start thaw only the mount this daemon froze, not whatever is
 * mounted (or underneath) at that path by then. A line that is only a mount point (written
 * by an older version) has no identity (mnt_id 0). An empty list means "freeze hooks may have
 * run, nothing frozen".
 */
#ifndef VSS_STATE_H
#define VSS_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATE_FILE_NAME "vss-frozen"
#define STATE_MAX_ENTRIES 4096

struct state_mount {
	char *target;
	uint64_t mnt_id; /* > 0 (freeze_identify()); 0: unknown (an older version's record) */
	uint64_t dev;    /* st_dev of the mount's root directory */
};

/* Writes the record atomically (temporary file + rename). */
int state_write(const char *path, const struct state_mount *m, size_t n);
/* Reads it: *ret is an array of *ret_n entries (free with state_mounts_free), never NULL.
 * -ENOENT when there is none, -EBADMSG when it is malformed. */
int state_read(const char *path, struct state_mount **ret, size_t *ret_n);
/* state_read() on an open stream (tests/fuzz/fuzz-vss-state feeds it from memory). */
int state_parse(FILE *f, struct state_mount **ret, size_t *ret_n);
/* Removes it; a missing record is fine. */
int state_remove(const char *path);
struct state_mount *state_mounts_free(struct state_mount *m, size_t n);

#endif
