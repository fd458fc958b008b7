/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the daemons' configuration loader (daemons/common/conf.c, conf_load()).
 *
 * The input is the whole file (any bytes), handed over as /proc/self/fd/N of a memfd, and
 * checked against a key table with every conf_type (bounded and unbounded numbers and
 * durations). Checked:
 *   - a failure returns a negative errno, leaves *ret alone and gives a message naming the
 *     file; a success gives no message;
 *   - on success every getter answers within the table's rules (paths absolute, numbers in
 *     range, enum values among the choices, list elements trimmed, non-empty and free of
 *     separators), conf_get_path() is the file;
 *   - conf_dump()'s output is a config file that loads back to the same values (conf.c
 *     promises this);
 *   - nothing leaks.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/common/conf.h"

static const char *const modes[] = {"auto", "chardev", "uio", NULL};
/* The sections other programs own (as hvd passes them, ours included). */
static const char *const test_others[] = {"kvp", "vss", "fcopy", NULL};

static const struct conf_key keys[] = {
    {"name", CONF_STRING, "hello", "a string"},
    {"dir", CONF_PATH, "/var/lib/x", "a path"},
    {"flag", CONF_BOOL, "no", "a boolean"},
    {"count", CONF_UINT, "5", "a number in 1..100", 1, 100},
    {"big", CONF_UINT, "0", "any number"},
    {"timeout", CONF_DURATION, "10s", "a duration in 1ms..1h", 1000, 3600000000},
    {"any-duration", CONF_DURATION, "0", "any duration"},
    {"list", CONF_STRV, "a;b", "a list"},
    {"mode", CONF_ENUM, "auto", "an enum", 0, 0, modes},
    {NULL},
};

static struct conf *const untouched = (struct conf *)&keys[0];

/* A memfd holding data; its /proc/self/fd path in path. */
static int memfd_with(const void *data, size_t size, char *path, size_t path_size)
{
	int fd = memfd_create("fuzz-conf", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

static bool in_range(uint64_t v, uint64_t min, uint64_t max)
{
	return (min == 0 && max == 0) || (v >= min && v <= max);
}

static void check_list(const char *const *list)
{
	size_t n = 0;

	CHECK(list);
	for (; list[n]; n++) {
		size_t len = strlen(list[n]);

		CHECK(len > 0);
		CHECK(!strpbrk(list[n], ";,"));
		CHECK(!g_ascii_isspace(list[n][0]) && !g_ascii_isspace(list[n][len - 1]));
	}
}

static void check_values(const struct conf *c)
{
	for (const struct conf_key *k = keys; k->name; k++)
		CHECK(conf_get_string(c, k->name) != NULL);
	CHECK(conf_get_string(c, "dir")[0] == '/');
	(void)conf_get_bool(c, "flag");
	CHECK(in_range(conf_get_uint(c, "count"), 1, 100));
	(void)conf_get_uint(c, "big");
	CHECK(in_range(conf_get_usec(c, "timeout"), 1000, 3600000000));
	(void)conf_get_usec(c, "any-duration");
	check_list(conf_get_strv(c, "list"));
	CHECK(g_strv_contains(modes, conf_get_string(c, "mode")));
}

static bool same_list(const char *const *a, const char *const *b)
{
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

static void check_same(const struct conf *a, const struct conf *b)
{
	for (const struct conf_key *k = keys; k->name; k++)
		CHECK(strcmp(conf_get_string(a, k->name), conf_get_string(b, k->name)) == 0);
	CHECK(conf_get_bool(a, "flag") == conf_get_bool(b, "flag"));
	CHECK(conf_get_uint(a, "count") == conf_get_uint(b, "count"));
	CHECK(conf_get_uint(a, "big") == conf_get_uint(b, "big"));
	CHECK(conf_get_usec(a, "timeout") == conf_get_usec(b, "timeout"));
	CHECK(conf_get_usec(a, "any-duration") == conf_get_usec(b, "any-duration"));
	CHECK(same_list(conf_get_strv(a, "list"), conf_get_strv(b, "list")));
}

/* conf_dump() of c loads back to the same configuration. */
static void check_dump_round_trip(const struct conf *c)
{
	char *dump = NULL, path[64], *error = NULL;
	size_t dump_size = 0;
	struct conf *again = NULL;
	FILE *f = open_memstream(&dump, &dump_size);
	int fd, r;

	CHECK(f);
	conf_dump(c, f);
	CHECK(fclose(f) == 0);
	CHECK(dump && strstr(dump, "\n[kvp]\n"));
	fd = memfd_with(dump, dump_size, path, sizeof(path));
	r = conf_load(path, "kvp", keys, test_others, &again, &error);
	if (r < 0)
		fprintf(stderr, "dump does not load back: %s\n--\n%s--\n", error, dump);
	CHECK(r == 0 && again && !error);
	check_same(c, again);
	conf_free(again);
	close(fd);
	free(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = untouched;
	char path[64], *error = NULL;
	int fd = memfd_with(data, size, path, sizeof(path));
	int r = conf_load(path, "kvp", keys, test_others, &c, &error);

	if (r < 0) {
		CHECK(c == untouched);
		CHECK(error && strncmp(error, path, strlen(path)) == 0);
		free(error);
	} else {
		CHECK(r == 0 && c != untouched && !error);
		CHECK(conf_get_path(c) && strcmp(conf_get_path(c), path) == 0);
		check_values(c);
		check_dump_round_trip(c);
		CHECK(conf_free(c) == NULL);
	}
	close(fd);
	return 0;
}
