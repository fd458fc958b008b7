/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's view of the pool files: one library pool object per file, opened once (fcntl
 * locks belong to the process, so the file must never be opened twice), and log lines for
 * what other programs left in them. The library never logs; this module says, once per
 * change, what it found and what it did about it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

struct kvp_store {
	char *dir;
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

int kvp_store_open(const char *state_dir, struct kvp_store **ret)
{
	struct kvp_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s || !(s->dir = strdup(state_dir))) {
		free(s);
		return log_error_errno(ENOMEM, "Cannot allocate the pool store");
	}
	r = vmu_kvp_pool_create_all(state_dir);
	if (r < 0)
		log_warning_errno(r, "Cannot create the pool files in %s, will retry on use",
				  state_dir);
	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", state_dir,
			 vmu_kvp_pool_file_name((enum vmu_kvp_pool)p));
		r = vmu_kvp_pool_open(path, VMU_KVP_POOL_CREATE, &s->pools[p]);
		if (r < 0) {
			kvp_store_free(s);
			return log_error_errno(r, "Cannot open the pool file %s", path);
		}
	}
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
	struct vmu_kvp_pool_stats st, *seen = &s->seen[pool];

	if (vmu_kvp_pool_get_stats(s->pools[pool], &st) < 0)
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
	if (s->last_error[pool] != r)
		log_warning_errno(r, "Pool %s: %s failed, answering failure", pool_name(pool),
				  what);
	s->last_error[pool] = r;
	return r;
}

int kvp_store_get(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key,
		  struct vmu_kvp_pool_record *ret)
{
	return store_result(s, pool, "GET", vmu_kvp_pool_get(s->pools[pool], key, ret));
}

int kvp_store_get_by_index(struct kvp_store *s, enum vmu_kvp_pool pool, uint32_t index,
			   struct vmu_kvp_pool_record *ret)
{
	return store_result(s, pool, "ENUMERATE",
			    vmu_kvp_pool_get_by_index(s->pools[pool], index, ret));
}

int kvp_store_set(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key, const char *value)
{
	return store_result(s, pool, "SET", vmu_kvp_pool_set(s->pools[pool], key, value));
}

int kvp_store_delete(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key)
{
	return store_result(s, pool, "DELETE", vmu_kvp_pool_delete(s->pools[pool], key));
}

size_t kvp_store_total_items(struct kvp_store *s)
{
	size_t total = 0;

	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++)
		if (p != VMU_KVP_POOL_AUTO)
			total += s->seen[p].keys;
	return total;
}
