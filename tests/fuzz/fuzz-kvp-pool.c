/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the KVP pool-file reader and its changes (lib/vmbus-user/kvp-pool.c).
 *
 * The input is written as a pool file (arbitrary bytes: any size, partial tails, records
 * without NULs, garbage after NULs, duplicates, non-UTF-8). Then, checked against a plain
 * model computed here from the same bytes:
 *   - count == the number of distinct valid keys (key and value NUL-terminated inside their
 *     arrays, key not empty);
 *   - GET of every valid key returns the value of its LAST record; ENUMERATE returns each
 *     key once, with that same value, at the position of its first record;
 *   - SET of a key taken from the input, then DELETE of another, leave a file of whole
 *     records in which the model's other keys keep their values, and no record of the
 *     deleted key;
 *   - nothing crashes, leaks or reads out of bounds (ASan/UBSan builds).
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC VMU_KVP_POOL_RECORD_SIZE
#define KSZ VMU_KVP_MAX_KEY_SIZE
#define VSZ VMU_KVP_MAX_VALUE_SIZE

static char pool_path[4096];

static void setup_path(void)
{
	char tmpl[] = "/tmp/fuzz-kvp-pool-XXXXXX";

	if (pool_path[0])
		return;
	CHECK(mkdtemp(tmpl));
	snprintf(pool_path, sizeof(pool_path), "%s/.kvp_pool_1", tmpl);
}

__attribute__((destructor)) static void cleanup_path(void)
{
	char *slash = strrchr(pool_path, '/');

	if (!slash)
		return;
	unlink(pool_path);
	*slash = 0;
	rmdir(pool_path);
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(pool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static const char *rec_key(const uint8_t *data, size_t i)
{
	const uint8_t *k = data + i * REC;

	if (!memchr(k, 0, KSZ) || !memchr(k + KSZ, 0, VSZ) || k[0] == 0)
		return NULL;
	return (const char *)k;
}

/* Index of the first / last valid record holding key, or -1. */
static long find_record(const uint8_t *data, size_t n, const char *key, bool last)
{
	long found = -1;

	for (size_t i = 0; i < n; i++) {
		const char *k = rec_key(data, i);

		if (k && strcmp(k, key) == 0) {
			found = (long)i;
			if (!last)
				break;
		}
	}
	return found;
}

static size_t model_count(const uint8_t *data, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		const char *k = rec_key(data, i);

		count += k && find_record(data, n, k, false) == (long)i;
	}
	return count;
}

/* Reads and enumerates everything, comparing with the model. */
static void check_view(struct vmu_kvp_pool_file *p, const uint8_t *data, size_t n)
{
	struct vmu_kvp_pool_record r = VMU_KVP_POOL_RECORD_INIT;
	size_t count = 0, idx = 0;

	CHECK(vmu_kvp_pool_count(p, &count) == 0);
	CHECK(count == model_count(data, n));
	for (size_t i = 0; i < n; i++) {
		const char *k = rec_key(data, i);
		long last;

		if (!k || find_record(data, n, k, false) != (long)i)
			continue;
		last = find_record(data, n, k, true);
		CHECK(vmu_kvp_pool_get(p, k, &r) == 0);
		CHECK(strcmp(r.value, (const char *)data + last * REC + KSZ) == 0);
		CHECK(r.value_len == strlen(r.value) && r.key_len == strlen(k));
		CHECK(vmu_kvp_pool_get_by_index(p, idx++, &r) == 0);
		CHECK(strcmp(r.key, k) == 0);
		CHECK(strcmp(r.value, (const char *)data + last * REC + KSZ) == 0);
	}
	CHECK(vmu_kvp_pool_get_by_index(p, count, &r) == -ENOENT);
}

static uint8_t *read_back(size_t *ret_size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(pool_path, O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	CHECK(buf);
	CHECK(read(fd, buf, (size_t)st.st_size) == st.st_size);
	close(fd);
	*ret_size = (size_t)st.st_size;
	return buf;
}

/* SET a key from the input (or a fixed one), DELETE the first other valid key, check the
 * file. */
static void check_changes(struct vmu_kvp_pool_file *p, const uint8_t *data, size_t n,
			  size_t orig_size)
{
	const char *set_key = n > 0 && rec_key(data, n - 1) ? rec_key(data, n - 1) : "fuzz-key";
	const char *del_key = NULL;
	char *set_copy = strdup(set_key), *del_copy = NULL;
	uint8_t *after;
	size_t size, n_after;
	int r;

	CHECK(set_copy);
	for (size_t i = 0; i < n && !del_key; i++) {
		const char *k = rec_key(data, i);

		if (k && strcmp(k, set_key) != 0)
			del_key = k;
	}
	r = vmu_kvp_pool_set(p, set_copy, "fuzz-value");
	/* keys from the input may not be UTF-8: refused as such, nothing changed */
	CHECK(r == 0 || r == -EILSEQ);
	if (del_key) {
		del_copy = strdup(del_key);
		CHECK(del_copy);
		CHECK(vmu_kvp_pool_delete(p, del_copy) == 0);
		CHECK(vmu_kvp_pool_delete(p, del_copy) == -ENOENT);
	}
	after = read_back(&size);
	n_after = size / REC;
	/* appending or deleting cuts a partial tail; an in-place SET changes no size */
	if ((r == 0 && find_record(data, n, set_copy, false) < 0) || del_copy)
		CHECK(size % REC == 0);
	else
		CHECK(size == orig_size);
	if (r == 0)
		CHECK(strcmp((const char *)after +
				 find_record(after, n_after, set_copy, true) * REC + KSZ,
			     "fuzz-value") == 0);
	if (del_copy)
		CHECK(find_record(after, n_after, del_copy, false) < 0);
	/* every other key of the input keeps its value */
	for (size_t i = 0; i < n; i++) {
		const char *k = rec_key(data, i);
		long last;

		if (!k || (r == 0 && strcmp(k, set_copy) == 0) ||
		    (del_copy && !strcmp(k, del_copy)))
			continue;
		last = find_record(after, n_after, k, true);
		CHECK(last >= 0);
		CHECK(strcmp((const char *)after + last * REC + KSZ,
			     (const char *)data + find_record(data, n, k, true) * REC + KSZ) == 0);
	}
	check_view(p, after, n_after);
	free(after);
	free(set_copy);
	free(del_copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmu_kvp_pool_file *p = NULL;
	size_t n = size / REC;

	/* keep the quadratic model cheap */
	if (n > 64)
		return 0;
	setup_path();
	write_file(data, size);
	CHECK(vmu_kvp_pool_open(pool_path, 0, &p) == 0);
	check_view(p, data, n);
	check_changes(p, data, n, size);
	CHECK(vmu_kvp_pool_free(p) == NULL);
	unlink(pool_path);
	return 0;
}
