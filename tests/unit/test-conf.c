/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/conf.c: each test writes a config file into a private
 * temporary directory, loads it against a small key table covering every type, and checks
 * the typed values or the exact "FILE:LINE: [section] key: message" error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "daemons/common/conf.h"
#include "daemons/common/hvd-keys.h"

static const char *const colours[] = {"red", "green", "blue", NULL};
/* What hvd passes (hvd_keys_sections()): every daemon's section, ours included. */
static const char *const test_others[] = {"kvp", "vss", "fcopy", NULL};

static const struct conf_key test_keys[] = {
    {"name", CONF_STRING, "hello", "a string"},
    {"dir", CONF_PATH, "/var/lib/x", "a path"},
    {"flag", CONF_BOOL, "no", "a boolean"},
    {"count", CONF_UINT, "5", "a number in 1..100", 1, 100},
    {"big", CONF_UINT, "0", "any number"},
    {"timeout", CONF_DURATION, "10s", "a duration in 1ms..1h", 1000, 3600000000},
    {"any-duration", CONF_DURATION, "0", "any duration"},
    {"list", CONF_STRV, "a;b", "a list"},
    {"colour", CONF_ENUM, "red", "an enum", 0, 0, colours},
    {NULL},
};

static char *tmpdir;

static char *write_conf(const char *name, const char *text)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* Loads text as a config file; returns the conf (asserting success). */
static struct conf *load_ok(const char *text)
{
	g_autofree char *path = write_conf("ok.conf", text);
	struct conf *c = NULL;
	char *error = NULL;
	int r = conf_load(path, "kvp", test_keys, test_others, &c, &error);

	if (r < 0)
		g_test_message("unexpected error: %s", error);
	g_assert_cmpint(r, ==, 0);
	g_assert_null(error);
	g_assert_nonnull(c);
	return c;
}

/* Loads text expecting failure r; checks the message is exactly "PATH" + suffix. */
static void load_fails(const char *text, int expected, const char *suffix)
{
	g_autofree char *path = write_conf("bad.conf", text);
	g_autofree char *want = g_strconcat(path, suffix, NULL);
	struct conf *c = NULL;
	char *error = NULL;
	int r = conf_load(path, "kvp", test_keys, test_others, &c, &error);

	g_assert_cmpint(r, ==, expected);
	g_assert_null(c);
	g_assert_nonnull(error);
	g_assert_cmpstr(error, ==, want);
	free(error);
}

static void test_defaults_missing_default_file(void)
{
	/* The default path does not exist in the build environment's sysconfdir for sure only
	 * if it is not installed; use an explicit check instead of assuming. */
	struct conf *c = NULL;
	int r;

	if (g_file_test(SYSCONFDIR "/hvguest/hvguest.conf", G_FILE_TEST_EXISTS)) {
		g_test_skip("a default config file is installed");
		return;
	}
	r = conf_load(NULL, "kvp", test_keys, test_others, &c, NULL);
	g_assert_cmpint(r, ==, 0);
	g_assert_null(conf_get_path(c));
	g_assert_cmpstr(conf_get_string(c, "name"), ==, "hello");
	g_assert_cmpstr(conf_get_string(c, "dir"), ==, "/var/lib/x");
	g_assert_false(conf_get_bool(c, "flag"));
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 5);
	g_assert_cmpuint(conf_get_usec(c, "timeout"), ==, 10000000);
	g_assert_cmpstrv(conf_get_strv(c, "list"), ((const char *const[]){"a", "b", NULL}));
	g_assert_cmpstr(conf_get_string(c, "colour"), ==, "red");
	g_assert_null(conf_free(c));
}

static void test_missing_explicit_file(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "does-not-exist.conf", NULL);
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(conf_load(path, "kvp", test_keys, test_others, &c, &error), ==, -ENOENT);
	g_assert_null(c);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error, path));
	g_assert_nonnull(strstr(error, "No such file"));
	free(error);
	/* ret_error is optional */
	g_assert_cmpint(conf_load(path, "kvp", test_keys, test_others, &c, NULL), ==, -ENOENT);
}

static void test_values(void)
{
	struct conf *c = load_ok("# comment\n"
				 "[kvp]\n"
				 "name = some words \n"
				 "dir=/srv/state\n"
				 "flag=on\n"
				 "count=100\n"
				 "big=18446744073709551615\n"
				 "timeout=250ms\n"
				 "any-duration=1d\n"
				 "list= x , y;;z ,\n"
				 "colour=blue\n");

	g_assert_nonnull(conf_get_path(c));
	/* GKeyFile keeps trailing blanks (a leading one needs \\s) */
	g_assert_cmpstr(conf_get_string(c, "name"), ==, "some words ");
	g_assert_cmpstr(conf_get_string(c, "dir"), ==, "/srv/state");
	g_assert_true(conf_get_bool(c, "flag"));
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 100);
	g_assert_cmpuint(conf_get_uint(c, "big"), ==, UINT64_MAX);
	g_assert_cmpuint(conf_get_usec(c, "timeout"), ==, 250000);
	g_assert_cmpuint(conf_get_usec(c, "any-duration"), ==, UINT64_C(86400000000));
	g_assert_cmpstrv(conf_get_strv(c, "list"), ((const char *const[]){"x", "y", "z", NULL}));
	g_assert_cmpstr(conf_get_string(c, "colour"), ==, "blue");
	conf_free(c);
}

static void test_bools(void)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
	    {"true", true},   {"yes", true}, {"1", true},  {"on", true},
	    {"false", false}, {"no", false}, {"0", false}, {"off", false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strdup_printf("[kvp]\nflag=%s\n", cases[i].text);
		struct conf *c = load_ok(text);
		g_assert_cmpint(conf_get_bool(c, "flag"), ==, cases[i].value);
		conf_free(c);
	}
	load_fails("[kvp]\nflag=maybe\n", -EINVAL,
		   ":2: [kvp] flag: \"maybe\" is not a boolean (true/false/yes/no/on/off/1/0)");
	load_fails("[kvp]\nflag=\n", -EINVAL,
		   ":2: [kvp] flag: \"\" is not a boolean (true/false/yes/no/on/off/1/0)");
}

static void test_durations(void)
{
	static const struct {
		const char *text;
		uint64_t usec;
	} cases[] = {
	    {"0", 0},
	    {"7", 7000000},
	    {"250ms", 250000},
	    {"30s", 30000000},
	    {"5min", 300000000},
	    {"1h", 3600000000},
	    {"1d", UINT64_C(86400000000)},
	    {"15us", 15},
	    {"18446744073709551615us", UINT64_MAX},
	    {"213503982d", UINT64_C(213503982) * UINT64_C(86400000000)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strdup_printf("[kvp]\nany-duration=%s\n", cases[i].text);
		struct conf *c = load_ok(text);
		g_assert_cmpuint(conf_get_usec(c, "any-duration"), ==, cases[i].usec);
		conf_free(c);
	}
	/* one past what 64 bits of microseconds hold, in each unit */
	load_fails("[kvp]\nany-duration=18446744073709551616us\n", -EINVAL,
		   ":2: [kvp] any-duration: \"18446744073709551616us\" is too long");
	load_fails("[kvp]\nany-duration=213503983d\n", -EINVAL,
		   ":2: [kvp] any-duration: \"213503983d\" is too long");
	load_fails("[kvp]\nany-duration=18446744073710s\n", -EINVAL,
		   ":2: [kvp] any-duration: \"18446744073710s\" is too long");
	load_fails("[kvp]\n\nany-duration=5 fortnights\n", -EINVAL,
		   ":3: [kvp] any-duration: \"5 fortnights\" is not a duration (e.g. 250ms, 30s, "
		   "5min, 1h, 1d)");
	load_fails("[kvp]\nany-duration=-1s\n", -EINVAL,
		   ":2: [kvp] any-duration: \"-1s\" is not a duration (e.g. 250ms, 30s, 5min, 1h, "
		   "1d)");
	load_fails("[kvp]\nany-duration=1.5s\n", -EINVAL,
		   ":2: [kvp] any-duration: \"1.5s\" is not a duration (e.g. 250ms, 30s, 5min, 1h, "
		   "1d)");
	load_fails("[kvp]\nany-duration=ms\n", -EINVAL,
		   ":2: [kvp] any-duration: \"ms\" is not a duration (e.g. 250ms, 30s, 5min, 1h, "
		   "1d)");
}

static void test_duration_bounds(void)
{
	struct conf *c = load_ok("[kvp]\ntimeout=1ms\n");

	g_assert_cmpuint(conf_get_usec(c, "timeout"), ==, 1000);
	conf_free(c);
	c = load_ok("[kvp]\ntimeout=1h\n");
	g_assert_cmpuint(conf_get_usec(c, "timeout"), ==, 3600000000);
	conf_free(c);
	c = load_ok("[kvp]\ntimeout=60min\n");
	g_assert_cmpuint(conf_get_usec(c, "timeout"), ==, 3600000000);
	conf_free(c);
	load_fails("[kvp]\ntimeout=999us\n", -EINVAL, ":2: [kvp] timeout: out of range (1ms..1h)");
	load_fails("[kvp]\ntimeout=3600001ms\n", -EINVAL,
		   ":2: [kvp] timeout: out of range (1ms..1h)");
	load_fails("[kvp]\ntimeout=0\n", -EINVAL, ":2: [kvp] timeout: out of range (1ms..1h)");
}

static void test_uint_bounds(void)
{
	struct conf *c = load_ok("[kvp]\ncount=1\n");

	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 1);
	conf_free(c);
	load_fails("[kvp]\ncount=0\n", -EINVAL, ":2: [kvp] count: out of range (1..100)");
	load_fails("[kvp]\ncount=101\n", -EINVAL, ":2: [kvp] count: out of range (1..100)");
	load_fails("[kvp]\nbig=18446744073709551616\n", -EINVAL,
		   ":2: [kvp] big: \"18446744073709551616\" is too large");
	load_fails("[kvp]\ncount=0x10\n", -EINVAL,
		   ":2: [kvp] count: \"0x10\" is not a decimal number");
	load_fails("[kvp]\ncount=-5\n", -EINVAL, ":2: [kvp] count: \"-5\" is not a decimal number");
	load_fails("[kvp]\ncount=+5\n", -EINVAL, ":2: [kvp] count: \"+5\" is not a decimal number");
	load_fails("[kvp]\ncount=5x\n", -EINVAL, ":2: [kvp] count: \"5x\" is not a decimal number");
	load_fails("[kvp]\ncount=\n", -EINVAL, ":2: [kvp] count: \"\" is not a decimal number");
}

static void test_other_types(void)
{
	load_fails("[kvp]\ndir=relative/path\n", -EINVAL,
		   ":2: [kvp] dir: \"relative/path\" is not an absolute path");
	load_fails("[kvp]\ncolour=purple\n", -EINVAL,
		   ":2: [kvp] colour: \"purple\" is not one of red|green|blue");

	struct conf *c = load_ok("[kvp]\nlist=\n");
	g_assert_nonnull(conf_get_strv(c, "list"));
	g_assert_null(conf_get_strv(c, "list")[0]);
	conf_free(c);
}

static void test_unknown_key(void)
{
	/* a typo in a key name, on line 4 */
	load_fails("[vss]\nwhatever=1\n[kvp]\ncuont=5\n", -EINVAL, ":4: [kvp] cuont: unknown key");
	load_fails("[kvp]\nname=a\n\n  Name = b\n", -EINVAL, ":4: [kvp] Name: unknown key");
}

static void test_duplicates(void)
{
	load_fails("[kvp]\ncount=5\nname=x\ncount=6\n", -EINVAL,
		   ":2: [kvp] count: set again on line 4");
	/* the same section twice: GKeyFile merges them, the duplicate key is still found */
	load_fails("[kvp]\ncount=5\n[vss]\n[kvp]\ncount=6\n", -EINVAL,
		   ":2: [kvp] count: set again on line 5");
	/* a repeated section without repeated keys is fine */
	struct conf *c = load_ok("[kvp]\ncount=5\n[kvp]\nname=n\n");
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 5);
	g_assert_cmpstr(conf_get_string(c, "name"), ==, "n");
	conf_free(c);
}

static void test_sections(void)
{
	/* other daemons' sections are not checked */
	struct conf *c = load_ok("[vss]\nnonsense=1\n[fcopy]\ncount=abc\n[kvp]\ncount=7\n");
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 7);
	conf_free(c);
	/* our section may be absent */
	c = load_ok("[fcopy]\nx=y\n");
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 5);
	conf_free(c);
	/* empty file */
	c = load_ok("");
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 5);
	conf_free(c);
	load_fails("[kvp]\ncount=5\n\n[kpv]\n", -EINVAL,
		   ":4: [kpv]: unknown section (known: kvp, vss, fcopy)");
}

/* conf.c names no program: the caller's section and the others it names are all there is. */
static void test_sections_registry(void)
{
	static const char *const others[] = {"alpha", "beta", NULL};
	g_autofree char *path =
	    write_conf("registry.conf", "[alpha]\nanything=1\n[gamma]\ncount=9\n[beta]\nx=\n");
	g_autofree char *vss = write_conf("registry-vss.conf", "[gamma]\ncount=9\n\n[vss]\n");
	g_autofree char *want =
	    g_strconcat(vss, ":4: [vss]: unknown section (known: gamma, alpha, beta)", NULL);
	g_autofree char *want_none =
	    g_strconcat(path, ":1: [alpha]: unknown section (known: gamma)", NULL);
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(conf_load(path, "gamma", test_keys, others, &c, &error), ==, 0);
	g_assert_null(error);
	g_assert_cmpuint(conf_get_uint(c, "count"), ==, 9);
	c = conf_free(c);
	/* [vss] is nobody's here */
	g_assert_cmpint(conf_load(vss, "gamma", test_keys, others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want);
	g_clear_pointer(&error, free);
	/* no others: only our section may appear */
	g_assert_cmpint(conf_load(path, "gamma", test_keys, NULL, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_none);
	g_clear_pointer(&error, free);
	g_assert_null(c);
}

/* hvd's list: one section per service the library knows, named after it. */
static void test_sections_hvd(void)
{
	const char *const *sections = hvd_keys_sections();
	g_autofree char *path =
	    write_conf("hvd.conf", "[vss]\nnonsense=1\n[fcopy]\nx=y\n[kvp]\nlog-level=debug\n");
	g_autofree char *bad = write_conf("hvd-bad.conf", "[kvp]\n[kvpd]\n");
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpuint(g_strv_length((char **)sections), ==, _VMU_SERVICE_MAX);
	for (int i = 0; i < _VMU_SERVICE_MAX; i++)
		g_assert_cmpstr(sections[i], ==, vmu_service_name((enum vmu_service)i));
	g_assert_true(hvd_keys_sections() == sections);

	g_assert_cmpint(hvd_keys_load(VMU_SERVICE_KVP, "kvp", NULL, path, &c, &error), ==, 0);
	g_assert_cmpstr(conf_get_string(c, "log-level"), ==, "debug");
	c = conf_free(c);
	g_assert_cmpint(hvd_keys_load(VMU_SERVICE_VSS, "vss", NULL, bad, &c, &error), ==, -EINVAL);
	g_assert_nonnull(strstr(error, ":2: [kvpd]: unknown section (known: vss, kvp, fcopy)"));
	free(error);
}

static void test_syntax_errors(void)
{
	g_autofree char *path = write_conf("syntax.conf", "[kvp]\ncount=5\nthis is not ini\n");
	struct conf *c = NULL;
	char *error = NULL;
	g_autofree char *prefix = g_strconcat(path, ":3: ", NULL);

	g_assert_cmpint(conf_load(path, "kvp", test_keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_null(c);
	g_assert_true(g_str_has_prefix(error, prefix));
	free(error);

	g_autofree char *path2 = write_conf("nogroup.conf", "count=5\n");
	g_autofree char *prefix2 = g_strconcat(path2, ": ", NULL);
	g_assert_cmpint(conf_load(path2, "kvp", test_keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_true(g_str_has_prefix(error, prefix2));
	free(error);

	g_autofree char *path3 = g_build_filename(tmpdir, "nul.conf", NULL);
	g_assert_true(g_file_set_contents(path3, "[kvp]\ncount=5\0\n", 14, NULL));
	g_assert_cmpint(conf_load(path3, "kvp", test_keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(strrchr(error, ':'), ==, ": file contains a NUL byte");
	free(error);
}

/* GKeyFile's own loader would wait for a writer on a FIFO and read /dev/zero until memory
 * runs out: only a regular file is read, with a clear message. */
static void not_regular_body(void)
{
	g_autofree char *fifo = g_build_filename(tmpdir, "fifo.conf", NULL);
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	g_assert_cmpint(conf_load(fifo, "kvp", test_keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error + strlen(fifo), ==, ": not a regular file");
	g_assert_true(g_str_has_prefix(error, fifo));
	free(error);
	g_assert_cmpint(conf_load("/dev/zero", "kvp", test_keys, test_others, &c, &error), ==,
			-EINVAL);
	g_assert_cmpstr(error, ==, "/dev/zero: not a regular file");
	free(error);
	g_assert_cmpint(conf_load(tmpdir, "kvp", test_keys, test_others, &c, &error), ==, -EISDIR);
	g_assert_nonnull(strstr(error, ": is a directory"));
	free(error);
	g_assert_null(c);
	g_unlink(fifo);
}

static void test_not_regular(void)
{
	if (g_test_subprocess()) {
		not_regular_body();
		return;
	}
	g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

static void test_file_size_limit(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "large.conf", NULL);
	GString *s = g_string_new("[kvp]\n");
	struct conf *c = NULL;
	char *error = NULL;

	/* exactly 1 MiB loads, one byte more does not */
	while (s->len < 1024 * 1024 - 1)
		g_string_append_c(s, '#');
	g_string_append_c(s, '\n');
	g_assert_cmpuint(s->len, ==, 1024 * 1024);
	g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
	g_assert_cmpint(conf_load(path, "kvp", test_keys, test_others, &c, &error), ==, 0);
	c = conf_free(c);
	g_string_append_c(s, '\n');
	g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
	g_assert_cmpint(conf_load(path, "kvp", test_keys, test_others, &c, &error), ==, -EFBIG);
	g_assert_nonnull(strstr(error, "file too large"));
	free(error);
	g_string_free(s, TRUE);
}

static void test_bad_default(void)
{
	static const struct conf_key bad[] = {
	    {"n", CONF_UINT, "500", "", 1, 10},
	    {NULL},
	};
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(conf_load(NULL, "kvp", bad, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, "(built-in defaults): [kvp] n: out of range (1..10)");
	free(error);
}

static void test_dump_round_trip(void)
{
	struct conf *c = load_ok("[kvp]\n"
				 "name=  \\sleading blank and \\\\ backslash\n"
				 "count=42\n"
				 "timeout=5min\n"
				 "list=p,q\n"
				 "colour=green\n");
	g_autofree char *dump_path = g_build_filename(tmpdir, "dump.conf", NULL);
	g_autofree char *text = NULL;
	struct conf *again = NULL;
	char *error = NULL;
	FILE *f = fopen(dump_path, "we");

	g_assert_nonnull(f);
	conf_dump(c, f);
	g_assert_cmpint(fclose(f), ==, 0);
	g_assert_true(g_file_get_contents(dump_path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "\n[kvp]\n"));
	g_assert_nonnull(strstr(text, "# a number in 1..100\ncount=42\n"));
	g_assert_nonnull(strstr(text, "# one of: red|green|blue\ncolour=green\n"));
	g_assert_nonnull(strstr(text, "\nflag=no\n"));
	g_assert_nonnull(strstr(text, "\ntimeout=5min\n"));

	g_assert_cmpint(conf_load(dump_path, "kvp", test_keys, test_others, &again, &error), ==, 0);
	g_assert_cmpstr(conf_get_string(again, "name"), ==, " leading blank and \\ backslash");
	g_assert_cmpstr(conf_get_string(again, "name"), ==, conf_get_string(c, "name"));
	g_assert_cmpuint(conf_get_uint(again, "count"), ==, 42);
	g_assert_cmpuint(conf_get_usec(again, "timeout"), ==, 300000000);
	g_assert_cmpstrv(conf_get_strv(again, "list"), conf_get_strv(c, "list"));
	g_assert_cmpstr(conf_get_string(again, "colour"), ==, "green");
	g_assert_false(conf_get_bool(again, "flag"));
	conf_free(again);
	conf_free(c);
}

/* A value ending in a CR (the file's last line, without a newline: GKeyFile keeps the CR)
 * is dumped with the CR escaped, so the dump loads back to the same value (found by
 * fuzz-conf, seeds crlf-last-line and backslash-cr-last-line). */
static void test_dump_round_trip_cr(void)
{
	struct conf *c = load_ok("[kvp]\nname=a\rb\r");
	g_autofree char *dump_path = g_build_filename(tmpdir, "dump-cr.conf", NULL);
	g_autofree char *text = NULL;
	struct conf *again = NULL;
	char *error = NULL;
	FILE *f = fopen(dump_path, "we");

	g_assert_cmpstr(conf_get_string(c, "name"), ==, "a\rb\r");
	g_assert_nonnull(f);
	conf_dump(c, f);
	g_assert_cmpint(fclose(f), ==, 0);
	g_assert_true(g_file_get_contents(dump_path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "\nname=a\\rb\\r\n"));
	g_assert_null(strchr(text, '\r'));
	g_assert_cmpint(conf_load(dump_path, "kvp", test_keys, test_others, &again, &error), ==, 0);
	g_assert_cmpstr(conf_get_string(again, "name"), ==, "a\rb\r");
	conf_free(again);
	conf_free(c);
	/* GKeyFile keeps an unknown escape as written: "\\<CR>" is a backslash and a CR */
	c = load_ok("[kvp]\nname=a\\\r");
	g_assert_cmpstr(conf_get_string(c, "name"), ==, "a\\\r");
	f = fopen(dump_path, "we");
	g_assert_nonnull(f);
	conf_dump(c, f);
	g_assert_cmpint(fclose(f), ==, 0);
	g_assert_cmpint(conf_load(dump_path, "kvp", test_keys, test_others, &again, &error), ==, 0);
	g_assert_cmpstr(conf_get_string(again, "name"), ==, "a\\\r");
	conf_free(again);
	conf_free(c);
}

static void test_paths(void)
{
	static const struct conf_key keys[] = {
	    {"roots", CONF_PATHS, "/a;/b", "absolute paths"},
	    {NULL},
	};
	g_autofree char *path = write_conf("paths.conf", "[kvp]\nroots = /srv/x , /var/y/\n");
	g_autofree char *bad = write_conf("paths-bad.conf", "[kvp]\n\nroots=/srv;rel/x\n");
	g_autofree char *dots = write_conf("paths-dots.conf", "[kvp]\nroots=/srv/../etc\n");
	g_autofree char *want_bad =
	    g_strconcat(bad, ":3: [kvp] roots: \"rel/x\" is not an absolute path", NULL);
	g_autofree char *want_dots =
	    g_strconcat(dots, ":2: [kvp] roots: \"/srv/../etc\" has a \"..\" component", NULL);
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(conf_load(path, "kvp", keys, test_others, &c, &error), ==, 0);
	g_assert_cmpstrv(conf_get_strv(c, "roots"),
			 ((const char *const[]){"/srv/x", "/var/y/", NULL}));
	c = conf_free(c);
	g_assert_cmpint(conf_load(bad, "kvp", keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_bad);
	free(error);
	g_assert_cmpint(conf_load(dots, "kvp", keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_dots);
	free(error);
	g_assert_null(c);
}

/* A key's own check may read the other keys: "mode" refuses 07000 bits unless "special". */
static const char *check_mode(const struct conf *c, const char *value)
{
	if (strlen(value) != 4 || strspn(value, "01234567") != 4)
		return "is not an octal mode";
	if (value[0] != '0' && !conf_get_bool(c, "special"))
		return "has special bits";
	return NULL;
}

static void test_key_checks(void)
{
	static const struct conf_key keys[] = {
	    {"mode", CONF_STRING, "0644", "a mode", 0, 0, NULL, check_mode},
	    {"special", CONF_BOOL, "false", "allow 07000"},
	    {NULL},
	};
	static const struct conf_key bad_default[] = {
	    {"mode", CONF_STRING, "4755", "a mode", 0, 0, NULL, check_mode},
	    {"special", CONF_BOOL, "false", "allow 07000"},
	    {NULL},
	};
	g_autofree char *ok = write_conf("check-ok.conf", "[kvp]\nmode=4755\nspecial=yes\n");
	g_autofree char *bad = write_conf("check-bad.conf", "[kvp]\n# x\nmode=4755\n");
	g_autofree char *junk = write_conf("check-junk.conf", "[kvp]\nspecial=yes\nmode=rw\n");
	g_autofree char *want_bad =
	    g_strconcat(bad, ":3: [kvp] mode: \"4755\" has special bits", NULL);
	g_autofree char *want_junk =
	    g_strconcat(junk, ":3: [kvp] mode: \"rw\" is not an octal mode", NULL);
	struct conf *c = NULL;
	char *error = NULL;

	g_assert_cmpint(conf_load(ok, "kvp", keys, test_others, &c, &error), ==, 0);
	g_assert_cmpstr(conf_get_string(c, "mode"), ==, "4755");
	c = conf_free(c);
	/* the check sees the key set after it, and fails with the key's line */
	g_assert_cmpint(conf_load(bad, "kvp", keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_bad);
	free(error);
	g_assert_cmpint(conf_load(junk, "kvp", keys, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_junk);
	free(error);
	/* defaults are checked too, with or without a file */
	g_assert_cmpint(conf_load(ok, "kvp", bad_default, test_others, &c, &error), ==, 0);
	c = conf_free(c);
	g_assert_cmpint(conf_load(bad, "kvp", bad_default, test_others, &c, &error), ==, -EINVAL);
	g_assert_cmpstr(error, ==, want_bad);
	free(error);
	g_assert_null(c);
}

static void test_free_null(void)
{
	g_assert_null(conf_free(NULL));
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-conf-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/conf/defaults", test_defaults_missing_default_file);
	g_test_add_func("/conf/missing-explicit-file", test_missing_explicit_file);
	g_test_add_func("/conf/values", test_values);
	g_test_add_func("/conf/bools", test_bools);
	g_test_add_func("/conf/durations", test_durations);
	g_test_add_func("/conf/duration-bounds", test_duration_bounds);
	g_test_add_func("/conf/uint-bounds", test_uint_bounds);
	g_test_add_func("/conf/other-types", test_other_types);
	g_test_add_func("/conf/unknown-key", test_unknown_key);
	g_test_add_func("/conf/duplicates", test_duplicates);
	g_test_add_func("/conf/sections", test_sections);
	g_test_add_func("/conf/sections-registry", test_sections_registry);
	g_test_add_func("/conf/sections-hvd", test_sections_hvd);
	g_test_add_func("/conf/syntax-errors", test_syntax_errors);
	g_test_add_func("/conf/file-size-limit", test_file_size_limit);
	g_test_add_func("/conf/not-regular", test_not_regular);
	g_test_add_func("/conf/bad-default", test_bad_default);
	g_test_add_func("/conf/dump-round-trip", test_dump_round_trip);
	g_test_add_func("/conf/dump-round-trip-cr", test_dump_round_trip_cr);
	g_test_add_func("/conf/paths", test_paths);
	g_test_add_func("/conf/key-checks", test_key_checks);
	g_test_add_func("/conf/free-null", test_free_null);
	r = g_test_run();

	g_autofree char *cmd_dir = g_steal_pointer(&tmpdir);
	g_autoptr(GDir) dir = g_dir_open(cmd_dir, 0, NULL);
	for (const char *n; dir && (n = g_dir_read_name(dir));) {
		g_autofree char *p = g_build_filename(cmd_dir, n, NULL);
		g_unlink(p);
	}
	g_rmdir(cmd_dir);
	return r;
}
