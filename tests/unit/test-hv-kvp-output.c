/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of tools/hv-kvp/output.c. Pool files may hold any bytes, so each helper is fed
 * valid UTF-8 of every sequence length, malformed UTF-8 (overlong, surrogate, out of range,
 * truncated, stray continuation) and control bytes, and its exact output is checked.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hv-kvp/output.h"

static void test_sequence_length(void)
{
	static const struct {
		const char *s;
		size_t left, want;
	} cases[] = {
	    {"a", 1, 1},
	    {"\xc3\xa9", 2, 2},         /* é */
	    {"\xe2\x82\xac", 3, 3},     /* € */
	    {"\xf0\x9f\x98\x80", 4, 4}, /* U+1F600 */
	    {"\xc3\xa9", 1, 0},         /* truncated by left */
	    {"\xc0\x80", 2, 0},         /* overlong NUL */
	    {"\xe0\x80\x80", 3, 0},     /* overlong */
	    {"\xed\xa0\x80", 3, 0},     /* a UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
	    {"\xf5\x80\x80\x80", 4, 0}, /* never a lead byte */
	    {"\x80", 1, 0},             /* stray continuation */
	    {"\xc3(", 2, 0},            /* lead without continuation */
	    {"a", 0, 0},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpuint(utf8_sequence_length(cases[i].s, cases[i].left), ==,
				 cases[i].want);
}

static void test_utf16_units(void)
{
	g_assert_cmpuint(utf8_utf16_units("", 0), ==, 0);
	g_assert_cmpuint(utf8_utf16_units("abc", 3), ==, 3);
	/* a, é, €: one unit each; U+1F600 a surrogate pair */
	g_assert_cmpuint(utf8_utf16_units("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), ==, 5);
}

/* print_escaped() into a string. */
static char *escaped(const char *s, size_t len, bool is_key)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	g_assert_nonnull(f);
	print_escaped(f, s, len, is_key);
	g_assert_cmpint(fclose(f), ==, 0);
	return buf;
}

static void test_print_escaped(void)
{
	/* backslash, newline, tab, other controls, DEL and bytes that are not UTF-8 escaped;
	 * valid UTF-8 and '=' in a value as they are; an embedded NUL escaped, not a stop */
	static const char in[] = "a\\b\nc\td\x01\x7f=\xc3\xa9\xff\xc3(\0z";
	g_autofree char *value = escaped(in, sizeof(in) - 1, false);
	g_autofree char *key = escaped(in, sizeof(in) - 1, true);
	g_autofree char *empty = escaped("", 0, true);

	g_assert_cmpstr(value, ==, "a\\\\b\\nc\\td\\x01\\x7f=\xc3\xa9\\xff\\xc3(\\x00z");
	g_assert_cmpstr(key, ==, "a\\\\b\\nc\\td\\x01\\x7f\\x3d\xc3\xa9\\xff\\xc3(\\x00z");
	g_assert_cmpstr(empty, ==, "");
}

static void test_sanitize(void)
{
	size_t len = 12345;
	bool replaced = true;
	g_autofree char *valid = utf8_sanitize("a\xc3\xa9\xf0\x9f\x98\x80", 7, &len, &replaced);
	g_autofree char *bad = NULL;
	g_autofree char *empty = NULL;

	g_assert_nonnull(valid);
	g_assert_cmpuint(len, ==, 7);
	g_assert_false(replaced);
	g_assert_cmpstr(valid, ==, "a\xc3\xa9\xf0\x9f\x98\x80");

	/* each byte that is not part of a valid sequence becomes one U+FFFD */
	bad = utf8_sanitize("x\xff\xc0\x80y\xe2\x82", 7, &len, &replaced);
	g_assert_nonnull(bad);
	g_assert_true(replaced);
	g_assert_cmpstr(bad, ==, "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd");
	g_assert_cmpuint(len, ==, strlen(bad));

	empty = utf8_sanitize("", 0, &len, &replaced);
	g_assert_nonnull(empty);
	g_assert_cmpuint(len, ==, 0);
	g_assert_false(replaced);
	g_assert_cmpstr(empty, ==, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hv-kvp/output/sequence-length", test_sequence_length);
	g_test_add_func("/hv-kvp/output/utf16-units", test_utf16_units);
	g_test_add_func("/hv-kvp/output/print-escaped", test_print_escaped);
	g_test_add_func("/hv-kvp/output/sanitize", test_sanitize);
	return g_test_run();
}
