/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's view of the pool files: one library pool object per file, opened once (fcntl
 * locks belong to the process, so the file must never be opened twice), and log lines for
 * what other programs left in them. The library never logs; this module says, once per
 * change, what it found and what it did about it.
 *
 * One bad pool never stops the others: a pool that cannot be opened (a symbolic link or a
 * FIFO planted at its path, a permission problem) is answered with a failure and opened
 * again at its next request, while the other pools and the auto pool keep answering. Every
 * pool has a lock deadline (pool-lock-timeout): the files are readable by every local user,
 * and flock(LOCK_EX) on a read-only fd would otherwise stall the one-request-at-a-time
 * daemon for as long as that user likes. A request that meets a held lock fails after the
 * deadline; the error is logged once until the pool answers again (and the log module
 * rate-limits repeats on top of that).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

struct kvp_store {
	char *dir;
	uint64_t lock_timeout_usec;
	struct vmu_kvp_pool_file *pools[_VMU_KVP_POOL_MAX];
	struct vmu_kvp_pool_stats seen[_VMU_KVP_POOL_MAX]; /* what was last logged */
	int last_error[_VMU_KVP_POOL_MAX];
};

static const char *pool_name(enum vmu_kvp_pool pool)
{
	static const char *const names[_VMU_KVP_POOL_MAX] = {"external", "guest", "auto", "host",
							     "internal"};
	return pool < _VMU_KVP_POOL_MAX ? names[pool] : "?";
}

/* What the library's open errors mean for a pool path, in words an admin can act on. */
static const char *open_error_text(int r)
{
	switch (r) {
	case -ELOOP:
		return "it is a symbolic link, which is never followed";
	case -EINVAL:
		return "it is not a regular file";
	default:
		return "cannot open it";
	}
}

void kvp_store_set_lock_timeout(struct kvp_store *s, uint64_t lock_timeout_usec)
{
	s->lock_timeout_usec = lock_timeout_usec;
	for (size_t i = 0; i < _VMU_KVP_POOL_MAX; i++)
		if (s->pools[i])
			(void)vmu_kvp_pool_set_lock_timeout(s->pools[i], lock_timeout_usec);
}

/* Opens the pool's file if it is not open yet. Logs a failure once per distinct error. */
static int store_pool_open(struct kvp_store *s, enum vmu_kvp_pool pool)
{
	char path[4096];
	int r;

	if (s->pools[pool])
		return 0;
	snprintf(path, sizeof(path), "%s/%s", s->dir, vmu_kvp_pool_file_name(pool));
	r = vmu_kvp_pool_open(path, VMU_KVP_POOL_CREATE, &s->pools[pool]);
	if (r >= 0)
		r = vmu_kvp_pool_set_lock_timeout(s->pools[pool], s->lock_timeout_usec);
	if (r < 0) {
		s->pools[pool] = vmu_kvp_pool_free(s->pools[pool]);
		if (s->last_error[pool] != r)
			log_error_errno(r, "Pool %s (%s): %s; answering failure for this pool",
					pool_name(pool), path, open_error_text(r));
		s->last_error[pool] = r;
		return r;
	}
	return 0;
}

int kvp_store_open(const char *state_dir, uint64_t lock_timeout_usec, struct kvp_store **ret)
{
	struct kvp_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s || !(s->dir = strdup(state_dir))) {
		free(s);
		return log_error_errno(ENOMEM, "Cannot allocate the pool store");
	}
	s->lock_timeout_usec = lock_timeout_usec;
	r = vmu_kvp_pool_create_all(state_dir);
	if (r < 0)
		log_warning_errno(r, "Cannot create the pool files in %s, will retry on use",
				  state_dir);
	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++)
		store_pool_open(s, (enum vmu_kvp_pool)p); /* logged; retried on use */
	*ret = s;
	return 0;
}

struct kvp_store *kvp_store_free(struct kvp_store *s)
{
	if (!s)
		return NULL;
	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++)
		vmu_kvp_pool_free(s->pools[p]);
	free(s->dir);
	free(s);
	return NULL;
}

/* Logs what the last reload of a pool found, when it differs from what we said before. */
static void store_note(struct kvp_store *s, enum vmu_kvp_pool pool)
{
	struct vmu_kvp_pool_stats st = VMU_KVP_POOL_STATS_INIT, *seen = &s->seen[pool];

	if (!s->pools[pool] || vmu_kvp_pool_get_stats(s->pools[pool], &st) < 0)
		return;
	if (st.duplicates != seen->duplicates && st.duplicates)
		log_notice("Pool %s (%s/%s): %zu records repeat an earlier key; the last one wins",
			   pool_name(pool), s->dir, vmu_kvp_pool_file_name(pool), st.duplicates);
	if (st.invalid != seen->invalid && st.invalid)
		log_warning("Pool %s: %zu records have no terminating NUL or an empty key, "
			    "skipping them",
			    pool_name(pool), st.invalid);
	if (st.not_utf8 != seen->not_utf8 && st.not_utf8)
		log_notice("Pool %s: %zu records are not UTF-8; the host sees U+FFFD for the bad "
			   "bytes",
			   pool_name(pool), st.not_utf8);
	if (st.partial_tail != seen->partial_tail && st.partial_tail)
		log_notice("Pool %s: ignoring a partial record of %zu bytes at the end",
			   pool_name(pool), st.partial_tail);
	if (st.tails_truncated != seen->tails_truncated)
		log_notice("Pool %s: cut off a partial record at the end before writing",
			   pool_name(pool));
	if (st.reopens != seen->reopens)
		log_info("Pool %s: the file was replaced or recreated, reading the new one",
			 pool_name(pool));
	*seen = st;
}

/* -ENOENT is an answer (no such key or index), not a failure; anything else is logged once
 * per distinct error. */
static int store_result(struct kvp_store *s, enum vmu_kvp_pool pool, const char *what, int r)
{
	store_note(s, pool);
	if (r >= 0 || r == -ENOENT) {
		s->last_error[pool] = 0;
		return r;
	}
	if (s->last_error[pool] != r && r == -ETIMEDOUT)
		log_warning_errno(r,
				  "Pool %s: %s: another process kept the file locked for more "
				  "than %" PRIu64 " ms, answering failure",
				  pool_name(pool), what, s->lock_timeout_usec / 1000);
	else if (s->last_error[pool] != r)
		log_warning_errno(r, "Pool %s: %s failed, answering failure", pool_name(pool),
				  what);
	s->last_error[pool] = r;
	return r;
}

/* The pool's object, opened again when an earlier open failed; NULL then (logged). */
static struct vmu_kvp_pool_file *store_pool(struct kvp_store *s, enum vmu_kvp_pool pool)
{
	return store_pool_open(s, pool) < 0 ? NULL : s->pools[pool];
}

int kvp_store_get(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key,
		  struct vmu_kvp_pool_record *ret)
{
	struct vmu_kvp_pool_file *p = store_pool(s, pool);

	ret->size = sizeof(*ret);
	return p ? store_result(s, pool, "GET", vmu_kvp_pool_get(p, key, ret)) : -EIO;
}

int kvp_store_get_by_index(struct kvp_store *s, enum vmu_kvp_pool pool, uint32_t index,
			   struct vmu_kvp_pool_record *ret)
{
	struct vmu_kvp_pool_file *p = store_pool(s, pool);

	ret->size = sizeof(*ret);
	return p ? store_result(s, pool, "ENUMERATE", vmu_kvp_pool_get_by_index(p, index, ret))
		 : -EIO;
}

int kvp_store_set(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key, const char *value)
{
	struct vmu_kvp_pool_file *p = store_pool(s, pool);

	return p ? store_result(s, pool, "SET", vmu_kvp_pool_set(p, key, value)) : -EIO;
}

int kvp_store_delete(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key)
{
	struct vmu_kvp_pool_file *p = store_pool(s, pool);

	return p ? store_result(s, pool, "DELETE", vmu_kvp_pool_delete(p, key)) : -EIO;
}

size_t kvp_store_total_items(struct kvp_store *s)
{
	size_t total = 0;

	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++)
		if (p != VMU_KVP_POOL_AUTO)
			total += s->seen[p].keys;
	return total;
}
