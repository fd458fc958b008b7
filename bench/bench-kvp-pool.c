/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Micro-benchmark of the KVP pool store (lib/vmbus-user/kvp-pool.c): GET, ENUMERATE-all and
 * SET at 10, 1,000 and 10,000 records, in one run, on a pool file in a temporary directory
 * (or the directory given as the only argument). Prints ops/s and the cost ratio of 10,000
 * records against 10 for each operation; the store's target is GET and ENUMERATE within 2x.
 *
 * GET and ENUMERATE are measured on a quiet file (after the racy-clean window has passed,
 * see kvp-pool.c), which is the steady state of a host enumerating or polling. SET modifies
 * existing keys in place; the inotify watch tells our own changes from others', so SET in a
 * tight loop does not re-read the file (what it pays at size is the kernel's: a dirtied page
 * per SET, see bench/profile.md).
 * It measures, it asserts nothing; exit status 0 unless the store fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmbus-user.h"

#define BUDGET_NS 300000000LL /* per measurement */

struct result {
	double get, enum_items, set;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fill(const char *path, size_t n)
{
	static char rec[VMU_KVP_POOL_RECORD_SIZE];
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		memset(rec, 0, sizeof(rec));
		snprintf(rec, VMU_KVP_MAX_KEY_SIZE, "CLOUD_INIT|key-%zu", i);
		snprintf(rec + VMU_KVP_MAX_KEY_SIZE, VMU_KVP_MAX_VALUE_SIZE,
			 "{\"msg\": \"value of item %zu\"}", i);
		if (fwrite(rec, sizeof(rec), 1, f) != 1) {
			fclose(f);
			return -EIO;
		}
	}
	return fclose(f) == 0 ? 0 : -errno;
}

/* Waits until a refresh no longer re-reads the file. */
static int settle(struct vmu_kvp_pool_file *p)
{
	for (int i = 0; i < 5000; i++) {
		struct timespec ms = {0, 1000000};
		int r = vmu_kvp_pool_refresh(p);

		if (r <= 0)
			return r;
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

static double bench_get(struct vmu_kvp_pool_file *p, size_t n)
{
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	long long start = now_ns(), ops = 0;
	char key[64];

	while (now_ns() - start < BUDGET_NS) {
		for (int j = 0; j < 100; j++, ops++) {
			snprintf(key, sizeof(key), "CLOUD_INIT|key-%zu", (size_t)(ops * 7919) % n);
			if (vmu_kvp_pool_get(p, key, &rec) < 0)
				return -1;
		}
	}
	return ops * 1e9 / (double)(now_ns() - start);
}

/* Items per second while enumerating the whole pool by index, as the host does. */
static double bench_enumerate(struct vmu_kvp_pool_file *p)
{
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	long long start = now_ns(), items = 0;

	while (now_ns() - start < BUDGET_NS) {
		size_t count;

		if (vmu_kvp_pool_count(p, &count) < 0)
			return -1;
		for (size_t i = 0; i < count; i++, items++)
			if (vmu_kvp_pool_get_by_index(p, i, &rec) < 0)
				return -1;
	}
	return items * 1e9 / (double)(now_ns() - start);
}

static double bench_set(struct vmu_kvp_pool_file *p, size_t n)
{
	long long start = now_ns(), ops = 0;
	char key[64], value[64];

	while (now_ns() - start < BUDGET_NS) {
		snprintf(key, sizeof(key), "CLOUD_INIT|key-%zu", (size_t)(ops * 7919) % n);
		snprintf(value, sizeof(value), "new value %lld", ops);
		if (vmu_kvp_pool_set(p, key, value) < 0)
			return -1;
		ops++;
	}
	return ops * 1e9 / (double)(now_ns() - start);
}

static int run_size(const char *dir, size_t n, struct result *ret)
{
	char path[4096];
	struct vmu_kvp_pool_file *p = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/.kvp_pool_1", dir);
	r = fill(path, n);
	if (r < 0)
		return r;
	r = vmu_kvp_pool_open(path, 0, &p);
	if (r < 0)
		return r;
	r = settle(p);
	if (r >= 0) {
		ret->get = bench_get(p, n);
		ret->enum_items = bench_enumerate(p);
		ret->set = bench_set(p, n);
		if (ret->get < 0 || ret->enum_items < 0 || ret->set < 0)
			r = -EIO;
	}
	vmu_kvp_pool_free(p);
	unlink(path);
	return r;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {10, 1000, 10000};
	struct result res[3];
	char tmpl[] = "/tmp/bench-kvp-pool-XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);

	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	printf("%-8s %14s %18s %14s\n", "records", "GET ops/s", "ENUMERATE items/s", "SET ops/s");
	for (int i = 0; i < 3; i++) {
		int r = run_size(dir, sizes[i], &res[i]);

		if (r < 0) {
			fprintf(stderr, "bench-kvp-pool: %zu records: %s\n", sizes[i],
				strerror(-r));
			return 1;
		}
		printf("%-8zu %14.0f %18.0f %14.0f\n", sizes[i], res[i].get, res[i].enum_items,
		       res[i].set);
		fflush(stdout);
	}
	/* cost ratio = ops/s at 10 over ops/s at 10,000 */
	printf("cost ratio 10000/10: GET %.2fx, ENUMERATE %.2fx (target <= 2x), SET %.2fx\n",
	       res[0].get / res[2].get, res[0].enum_items / res[2].enum_items,
	       res[0].set / res[2].set);
	printf("full ENUMERATE of 10000 records: %.1f ms\n", 10000 / res[2].enum_items * 1e3);
	if (argc <= 1)
		rmdir(dir);
	return 0;
}
