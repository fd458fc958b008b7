/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * target: where a host file lands, resolved safely, written to a temporary file in the
 * target directory and renamed into place only when the copy completes. See target.c.
 *
 * Errors (negative errno) that mean something to the caller:
 *   -EINVAL   the host's names are unusable (relative path, "..", empty or '/' in file name,
 *             control characters)
 *   -EPERM    the path lies outside every allowed root
 *   -ELOOP    a symlink the parent-symlink rule refuses
 *   -ENOENT   a missing directory and no CREATE_PATH
 *   -ENOTDIR  a path component is not a directory
 *   -EEXIST   the target exists and the host did not ask to overwrite it
 *   -EISDIR   the target is a directory
 *   -ENOSPC   not enough space (preallocation, free-space check or a write)
 *   -EFBIG    a write past the announced size
 */
#ifndef FCOPY_TARGET_H
#define FCOPY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Symlinks among the directories of path_name (the final component is never followed). */
enum target_parent_symlinks {
	TARGET_SYMLINKS_DENY,       /* any symlink fails the copy */
	TARGET_SYMLINKS_ROOT_OWNED, /* follow symlinks owned by root only (default) */
	TARGET_SYMLINKS_FOLLOW,     /* follow any (compatibility; unsafe with local users) */
};

enum target_tmpfile {
	TARGET_TMPFILE_AUTO,  /* O_TMPFILE where the file system has it, else a named file */
	TARGET_TMPFILE_NAMED, /* always a hidden, uniquely named file */
};

/* Temporary files are named TARGET_TEMP_PREFIX "XXXXXX" TARGET_TEMP_SUFFIX. */
#define TARGET_TEMP_PREFIX ".hv-fcopy-"
#define TARGET_TEMP_SUFFIX ".part"

/* Direct I/O (target.c): the buffers a copy written past the page cache gathers its data in,
 * each written by one asynchronous write, and how many there are (writes in flight while
 * the next fills). Exported for the tests, which size their copies from them. */
#define TARGET_DIRECT_BUF (4u * 1024u * 1024u)
#define TARGET_DIRECT_BUFS 3u

struct target_policy {
	mode_t file_mode; /* 0644 */
	mode_t dir_mode;  /* 0755, for CREATE_PATH (the umask applies) */
	uid_t uid;        /* 0 */
	gid_t gid;        /* 0 */
	enum target_parent_symlinks parent_symlinks;
	enum target_tmpfile tmpfile;
	bool preallocate;                 /* fallocate at open; false: free-space check only */
	bool direct_io;                   /* large reserved files past the page cache (O_DIRECT) */
	const char *const *allowed_roots; /* NULL or empty: anywhere */
	const char *pending_path;         /* record of a named temporary, for crash cleanup; may
					     be NULL */
};

struct target;

/* The host's names as target_open() accepts them: path_name absolute, file_name one
 * component, neither with a control character; 0, -EINVAL or -ENAMETOOLONG. */
int target_check_names(const char *path_name, const char *file_name);
/* Resolves path_name/file_name under the policy (creating directories when create_path),
 * checks the target (exists and !overwrite: -EEXIST), creates the temporary file with the
 * policy's mode and owner and reserves size bytes. */
int target_open(const struct target_policy *p, const char *path_name, const char *file_name,
		bool create_path, bool overwrite, uint64_t size, struct target **ret);
/* Writes size bytes at offset (offset + size <= the announced size, else -EFBIG). Contiguous
 * writes are gathered and written in batches: an error (-ENOSPC...) may belong to earlier
 * data and is returned by a later call or by target_commit(); after any error the target is
 * to be freed. */
int target_write(struct target *t, uint64_t offset, const void *data, size_t size);
/* Bytes up to the end of the furthest write. */
uint64_t target_written(const struct target *t);
/* Write what is batched, fsync, then put the file in place (no-clobber unless overwrite), fsync the directory.
 * The target is finished either way; free it afterwards. */
int target_commit(struct target *t);
/* Removes the temporary file (if not committed), closes, frees. NULL-safe, returns NULL. */
struct target *target_free(struct target *t);
/* "dir/name" as resolved, for logs. */
const char *target_path(const struct target *t);
/* Whether the temporary file has a name (false: O_TMPFILE). */
bool target_temp_is_named(const struct target *t);
/* Whether the data written so far went past the page cache (direct I/O), and still does. */
bool target_is_direct(const struct target *t);

/* A policy that owns its strings: *ret gets copies of src's allowed_roots and
 * pending_path (an empty allowlist becomes NULL), so it outlives the config src was built
 * from. Free them with target_policy_done(). */
int target_policy_copy(const struct target_policy *src, struct target_policy *ret);
/* Frees what target_policy_copy() allocated; NULL-safe; the policy's numbers stay. */
void target_policy_done(struct target_policy *p);

/* Start-up: removes the temporary file a crashed run left behind, as recorded in
 * p->pending_path. Returns 1 when one was removed, 0 when there was nothing to do. */
int target_clean_stale(const struct target_policy *p);

/* Resolves an existing (or, with create, new) directory under the policy and returns an
 * O_RDONLY|O_DIRECTORY fd. Exposed for the tests. */
int target_open_dir(const struct target_policy *p, const char *path, bool create, int *ret_fd);

#endif
