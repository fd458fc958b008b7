/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-vssd's crash record reader (daemons/vss/state.c, state_parse() behind
 * state_read()). The record lives in the run directory, so only root writes it; but a
 * crash, a full disk or a hand edit can leave anything there, and the daemon reads it at
 * start-up before it registers with the kernel, where a crash would keep the backups off.
 *
 * The input is the record (any bytes). Checked, against the format in state.h:
 *   - the answer is 0, -EBADMSG or -E2BIG, and *ret is set only on success;
 *   - on success every entry's mount point is an absolute path (may hold any byte but NUL),
 *     there are at most STATE_MAX_ENTRIES, and the input ended with a newline (or was empty);
 *   - writing the entries back (state_write() into a scratch file) and reading that gives
 *     the same entries, mount identities included: the escaping round-trips.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/vss/state.h"

static char scratch_dir[] = "/tmp/fuzz-vss-state-XXXXXX";
static char scratch_path[sizeof(scratch_dir) + 16];

static void remove_scratch(void)
{
	unlink(scratch_path);
	rmdir(scratch_dir);
}

static const char *scratch(void)
{
	if (!scratch_path[0]) {
		CHECK(mkdtemp(scratch_dir));
		snprintf(scratch_path, sizeof(scratch_path), "%s/record", scratch_dir);
		atexit(remove_scratch);
	}
	return scratch_path;
}

static void check_round_trip(const struct state_mount *v, size_t n)
{
	struct state_mount *back = NULL;
	size_t n_back = 0;

	CHECK(state_write(scratch(), v, n) == 0);
	CHECK(state_read(scratch(), &back, &n_back) == 0);
	CHECK(n_back == n);
	for (size_t i = 0; i < n; i++) {
		CHECK(back[i].target && strcmp(back[i].target, v[i].target) == 0);
		CHECK(back[i].mnt_id == v[i].mnt_id);
		CHECK(back[i].dev == v[i].dev);
	}
	state_mounts_free(back, n_back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct state_mount canary, *v = &canary; /* must be untouched on failure */
	FILE *f;
	size_t n = 0;
	int r;

	CHECK(copy);
	memcpy(copy, data, size);
	/* fmemopen() refuses an empty buffer */
	f = size ? fmemopen(copy, size, "r") : fopen("/dev/null", "re");
	CHECK(f);
	r = state_parse(f, &v, &n);
	fclose(f);
	free(copy);
	CHECK(r == 0 || r == -EBADMSG || r == -E2BIG);
	if (r < 0) {
		CHECK(v == &canary);
		return 0;
	}
	CHECK(size == 0 || data[size - 1] == '\n');
	CHECK(n <= STATE_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++)
		CHECK(v[i].target && v[i].target[0] == '/');
	check_round_trip(v, n);
	state_mounts_free(v, n);
	return 0;
}
