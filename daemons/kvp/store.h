/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVP pool files the daemon serves (pools 0, 1, 3 and 4; the auto pool's file is created
 * for readers that expect it, never served from).
 */
#ifndef KVP_STORE_H
#define KVP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "vmbus-user.h"

struct kvp_store;

/* Creates state_dir (0755) and the five files (0644) when missing and opens them. Logs what
 * it could not do; a pool that cannot be opened fails its requests (-EIO) and is opened again
 * at each, the others are unaffected. Fails only without memory. Every lock on a pool file
 * waits at most lock_timeout_usec (0: for ever), then the request fails with -ETIMEDOUT. */
int kvp_store_open(const char *state_dir, uint64_t lock_timeout_usec, struct kvp_store **ret);
struct kvp_store *kvp_store_free(struct kvp_store *s);
/* A new lock deadline (a reload), for every pool from its next request on. */
void kvp_store_set_lock_timeout(struct kvp_store *s, uint64_t lock_timeout_usec);

/* As vmu_kvp_pool_get/get_by_index/set/delete, logging I/O errors and what a reload found
 * (duplicates, invalid records, partial tails, text that is not UTF-8) once per change. The
 * get calls set ret->size themselves: ret is a whole struct vmu_kvp_pool_record. */
int kvp_store_get(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key,
		  struct vmu_kvp_pool_record *ret);
int kvp_store_get_by_index(struct kvp_store *s, enum vmu_kvp_pool pool, uint32_t index,
			   struct vmu_kvp_pool_record *ret);
int kvp_store_set(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key, const char *value);
int kvp_store_delete(struct kvp_store *s, enum vmu_kvp_pool pool, const char *key);
/* Items in the served pools as of the last operation (for the status line). */
size_t kvp_store_total_items(struct kvp_store *s);

#endif
