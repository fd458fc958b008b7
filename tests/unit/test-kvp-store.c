/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/kvp/store.c: the state directory and the five pool files are
 * created, requests reach the right file, one pool that cannot be opened (a symbolic link
 * planted at its path) fails with -EIO while the others answer and is opened again once
 * the path is fixed, and a lock held by another process fails a request after the lock
 * deadline instead of stalling it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons/kvp/store.h"

static char *pool_path(const char *dir, enum vmu_kvp_pool pool)
{
	return g_build_filename(dir, vmu_kvp_pool_file_name(pool), NULL);
}

static void remove_state(const char *top, const char *dir)
{
	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		g_autofree char *path = pool_path(dir, (enum vmu_kvp_pool)p);

		g_assert_cmpint(unlink(path), ==, 0);
	}
	g_assert_cmpint(rmdir(dir), ==, 0);
	g_assert_cmpint(rmdir(top), ==, 0);
}

static void test_round_trip(void)
{
	g_autofree char *top = g_dir_make_tmp("test-kvp-store-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(top, "state", NULL);
	struct kvp_store *s = NULL;
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	struct stat st;

	g_assert_cmpint(kvp_store_open(dir, 0, &s), ==, 0);
	g_assert_nonnull(s);
	g_assert_cmpint(stat(dir, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		g_autofree char *path = pool_path(dir, (enum vmu_kvp_pool)p);

		g_assert_cmpint(lstat(path, &st), ==, 0);
		g_assert_true(S_ISREG(st.st_mode));
		g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
		g_assert_cmpint(st.st_size, ==, 0);
	}

	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "k", &rec), ==, -ENOENT);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_GUEST, "k", "v1"), >=, 0);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_GUEST, "k", "v2"), >=, 0);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_EXTERNAL, "e", "x"), >=, 0);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "k", &rec), ==, 0);
	g_assert_cmpstr(rec.value, ==, "v2");
	g_assert_cmpint(kvp_store_get_by_index(s, VMU_KVP_POOL_EXTERNAL, 0, &rec), ==, 0);
	g_assert_cmpstr(rec.key, ==, "e");
	g_assert_cmpstr(rec.value, ==, "x");
	g_assert_cmpint(kvp_store_get_by_index(s, VMU_KVP_POOL_EXTERNAL, 1, &rec), ==, -ENOENT);
	/* the key went to the guest pool's file only */
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_AUTO_INTERNAL, "k", &rec), ==, -ENOENT);
	g_assert_cmpuint(kvp_store_total_items(s), ==, 2);

	g_assert_cmpint(kvp_store_delete(s, VMU_KVP_POOL_GUEST, "k"), >=, 0);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "k", &rec), ==, -ENOENT);
	g_assert_cmpint(kvp_store_delete(s, VMU_KVP_POOL_GUEST, "k"), ==, -ENOENT);
	g_assert_cmpuint(kvp_store_total_items(s), ==, 1);

	g_assert_null(kvp_store_free(s));
	g_assert_null(kvp_store_free(NULL));
	remove_state(top, dir);
}

static void test_bad_pool(void)
{
	g_autofree char *top = g_dir_make_tmp("test-kvp-store-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(top, "state", NULL);
	g_autofree char *ext = pool_path(dir, VMU_KVP_POOL_EXTERNAL);
	g_autofree char *target = g_build_filename(top, "target", NULL);
	struct kvp_store *s = NULL;
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;

	g_assert_cmpint(mkdir(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(target, "", 0, NULL));
	g_assert_cmpint(symlink(target, ext), ==, 0);

	g_assert_cmpint(kvp_store_open(dir, 0, &s), ==, 0);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_EXTERNAL, "a", "b"), ==, -EIO);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_EXTERNAL, "a", &rec), ==, -EIO);
	g_assert_cmpint(kvp_store_get_by_index(s, VMU_KVP_POOL_EXTERNAL, 0, &rec), ==, -EIO);
	g_assert_cmpint(kvp_store_delete(s, VMU_KVP_POOL_EXTERNAL, "a"), ==, -EIO);
	/* the link is never followed: its target stays empty */
	{
		struct stat st;

		g_assert_cmpint(stat(target, &st), ==, 0);
		g_assert_cmpint(st.st_size, ==, 0);
	}
	/* the other pools answer */
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_GUEST, "a", "b"), >=, 0);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "a", &rec), ==, 0);

	/* fixed by the admin: opened again at the next request */
	g_assert_cmpint(unlink(ext), ==, 0);
	g_assert_true(g_file_set_contents(ext, "", 0, NULL));
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_EXTERNAL, "a", "c"), >=, 0);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_EXTERNAL, "a", &rec), ==, 0);
	g_assert_cmpstr(rec.value, ==, "c");

	kvp_store_free(s);
	g_assert_cmpint(unlink(target), ==, 0);
	remove_state(top, dir);
}

static void test_lock_timeout(void)
{
	g_autofree char *top = g_dir_make_tmp("test-kvp-store-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(top, "state", NULL);
	g_autofree char *guest = pool_path(dir, VMU_KVP_POOL_GUEST);
	struct kvp_store *s = NULL;
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	int ready[2], status;
	char c;
	pid_t pid;

	g_assert_cmpint(kvp_store_open(dir, 100000, &s), ==, 0);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_GUEST, "a", "b"), >=, 0);

	/* another local user holds flock(LOCK_EX) on the file, as cloud-init does */
	g_assert_cmpint(pipe2(ready, O_CLOEXEC), ==, 0);
	fflush(NULL);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int fd = open(guest, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "L", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
	close(ready[0]);

	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "a", &rec), ==, -ETIMEDOUT);
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_GUEST, "a", "c"), ==, -ETIMEDOUT);
	/* the other pools are not held up */
	g_assert_cmpint(kvp_store_set(s, VMU_KVP_POOL_EXTERNAL, "a", "b"), >=, 0);

	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_cmpint(kvp_store_get(s, VMU_KVP_POOL_GUEST, "a", &rec), ==, 0);
	g_assert_cmpstr(rec.value, ==, "b");

	kvp_store_free(s);
	remove_state(top, dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvp-store/round-trip", test_round_trip);
	g_test_add_func("/kvp-store/bad-pool", test_bad_pool);
	g_test_add_func("/kvp-store/lock-timeout", test_lock_timeout);
	return g_test_run();
}
