/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-vssd's crash record reader (daemons/vss/state.c, state_parse() behind
 * state_read()). The record lives in the run directory, so only root writes it; but a
 * crash, a full disk or a hand edit can leave anything there, and the daemon reads it at
 * start-up before it registers with the kernel, where a crash would keep the backups off.
 *
 * The input is the record (any bytes). Checked, against the format in state.h:
 *   - the answer is 0, -EBADMSG or -E2BIG, and *ret is set only on success;
 *   - on success every entry is an absolute path (may hold any byte but NUL), there are at
 *     most STATE_MAX_ENTRIES, and the input ended with a newline (or was empty);
 *   - writing the entries back (state_write() into a scratch file) and reading that gives
 *     the same entries: the escaping round-trips.
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

static void check_round_trip(char **v)
{
	size_t n = 0;
	char **back = NULL;

	while (v[n])
		n++;
	CHECK(state_write(scratch(), (const char *const *)v, n) == 0);
	CHECK(state_read(scratch(), &back) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(back[i] && strcmp(back[i], v[i]) == 0);
	CHECK(back[n] == NULL);
	state_strv_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	char **v = (char **)&v; /* a canary: must be untouched on failure */
	FILE *f;
	size_t n = 0;
	int r;

	CHECK(copy);
	memcpy(copy, data, size);
	/* fmemopen() refuses an empty buffer */
	f = size ? fmemopen(copy, size, "r") : fopen("/dev/null", "re");
	CHECK(f);
	r = state_parse(f, &v);
	fclose(f);
	free(copy);
	CHECK(r == 0 || r == -EBADMSG || r == -E2BIG);
	if (r < 0) {
		CHECK(v == (char **)&v);
		return 0;
	}
	CHECK(size == 0 || data[size - 1] == '\n');
	for (; v[n]; n++) {
		CHECK(v[n][0] == '/');
		CHECK(n < STATE_MAX_ENTRIES);
	}
	check_round_trip(v);
	state_strv_free(v);
	return 0;
}
