/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash-safety record: which file systems this daemon has (or may have) frozen, kept in
 * the run directory (tmpfs, never frozen). A daemon that starts and finds the record thaws
 * those mounts (and runs the thaw hooks) before it registers with the kernel.
 *
 * Format: a comment line, then one mount point per line, with backslash and newline
 * escaped as \\ and \n. An empty list means "freeze hooks may have run, nothing frozen".
 */
#ifndef VSS_STATE_H
#define VSS_STATE_H

#include <stddef.h>
#include <stdio.h>

#define STATE_FILE_NAME "vss-frozen"
#define STATE_MAX_ENTRIES 4096

/* Writes the record atomically (temporary file + rename). */
int state_write(const char *path, const char *const *targets, size_t n);
/* Reads it: *ret is a NULL-terminated array of strings (free with state_strv_free).
 * -ENOENT when there is none, -EBADMSG when it is malformed. */
int state_read(const char *path, char ***ret);
/* state_read() on an open stream (tests/fuzz/fuzz-vss-state feeds it from memory). */
int state_parse(FILE *f, char ***ret);
/* Removes it; a missing record is fine. */
int state_remove(const char *path);
char **state_strv_free(char **v);

#endif
