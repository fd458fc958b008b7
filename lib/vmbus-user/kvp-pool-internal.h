/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test hooks of kvp-pool.c (not exported from libvmbus-user.so; reachable through the
 * internal convenience library only).
 */
#ifndef VMU_KVP_POOL_INTERNAL_H
#define VMU_KVP_POOL_INTERNAL_H

#include <stdbool.h>

#include "vmbus-user.h"

/* While a pool's inotify queue stays empty, its path is looked at again (lstat) at most this
 * often (kvp-pool.c, "Change notifications"). */
#define VMU_KVP_POOL_PATH_RECHECK_NS 1000000

/* While on, every change check sees the file's stat exactly as it was at the last read
 * (same inode, size, mtime and ctime), as after a write in the same timestamp tick. Lets the
 * tests show that the racily clean rule alone catches such a write, and that it is needed. */
void vmu_kvp_pool_test_pretend_unchanged(struct vmu_kvp_pool_file *pool, bool on);

#endif
