/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/vmbus-user/utf16.c: strict, TRUNCATE and KERNEL_COMPAT conversions in
 * both directions, every output bound at and one past its limit, unaligned buffers and
 * every class of malformed UTF-8.
 */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "vmu-internal.h"

#define STRICT 0u
#define TRUNC VMU_UTF_TRUNCATE
#define COMPAT VMU_UTF_KERNEL_COMPAT

/* ------------------------------------------------------------ helpers */

/* UTF-16 -> UTF-8 with the source placed at an odd address, output checked for a NUL. */
static int to8(const uint16_t *units, size_t n, size_t dst_size, unsigned flags, char *out,
	       size_t *len)
{
	uint8_t src[2 * 600 + 1];
	int r;

	g_assert_cmpuint(n, <=, 600);
	for (size_t i = 0; i < n; i++)
		vmu_put_le16(src + 1 + 2 * i, units[i]);
	*len = 12345;
	r = vmu_utf16le_to_utf8(src + 1, n, out, dst_size, flags, len);
	if (r == 0) {
		g_assert_cmpuint(*len, <, dst_size);
		g_assert_cmpint(out[*len], ==, 0);
		g_assert_cmpuint(strlen(out), ==, *len);
	} else {
		g_assert_cmpuint(*len, ==, 12345); /* ret_len untouched on failure */
		if (dst_size > 0)
			g_assert_cmpint(out[0], ==, 0);
	}
	return r;
}

/* UTF-8 -> UTF-16 into an odd address; returns units through out (host order). */
static int to16(const char *src, size_t src_len, size_t dst_units, unsigned flags, uint16_t *out,
		size_t *units)
{
	uint8_t dst[2 * 600 + 1];
	int r;

	g_assert_cmpuint(dst_units, <=, 600);
	memset(dst, 0xaa, sizeof(dst));
	*units = 12345;
	r = vmu_utf8_to_utf16le(src, src_len, dst + 1, dst_units, flags, units);
	if (r == 0) {
		g_assert_cmpuint(*units, <, dst_units);
		for (size_t i = 0; i <= *units; i++)
			out[i] = vmu_le16(dst + 1 + 2 * i);
		g_assert_cmpuint(out[*units], ==, 0);
		/* nothing written past the terminator */
		if (*units + 1 < dst_units)
			g_assert_cmpuint(dst[1 + 2 * (*units + 1)], ==, 0xaa);
	} else {
		g_assert_cmpuint(*units, ==, 12345);
		if (dst_units > 0)
			g_assert_cmpuint(vmu_le16(dst + 1), ==, 0);
	}
	g_assert_cmpuint(dst[0], ==, 0xaa); /* nothing written before dst */
	if (dst_units < 600)
		g_assert_cmpuint(dst[1 + 2 * dst_units], ==, 0xaa); /* nor after */
	return r;
}

/* One example character of each UTF-8 length, as UTF-16 units and as UTF-8. */
static const struct {
	uint16_t units[2];
	size_t n_units;
	const char *utf8;
} sample[5] = {
    [1] = {{'x'}, 1, "x"},
    [2] = {{0x00e9}, 1, "\xc3\xa9"},                 /* é */
    [3] = {{0x20ac}, 1, "\xe2\x82\xac"},             /* € */
    [4] = {{0xd83d, 0xde00}, 2, "\xf0\x9f\x98\x80"}, /* U+1F600 */
};

/* ------------------------------------------------------------ UTF-16 -> UTF-8 */

static void test_16to8_basic(void)
{
	const uint16_t hello[] = {'H', 'e', 'l', 'l', 'o'};
	const uint16_t mixed[] = {'a', 0x00e9, 0x20ac, 0xd83d, 0xde00, 0xdbff, 0xdfff, 'z'};
	const uint16_t nul[] = {'A', 'B', 0, 'C', 'D'};
	char out[64];
	size_t len;

	g_assert_cmpint(to8(hello, 5, sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "Hello");
	g_assert_cmpuint(len, ==, 5);

	g_assert_cmpint(to8(mixed, G_N_ELEMENTS(mixed), sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbfz");
	g_assert_cmpuint(len, ==, 1 + 2 + 3 + 4 + 4 + 1);

	/* stops at a NUL unit, and at src_units */
	g_assert_cmpint(to8(nul, 5, sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "AB");
	g_assert_cmpint(to8(hello, 2, sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "He");
	g_assert_cmpint(to8(hello, 0, sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpuint(len, ==, 0);

	/* ret_len is optional; NULL source with 0 units is an empty string */
	g_assert_cmpint(vmu_utf16le_to_utf8(NULL, 0, out, sizeof(out), STRICT, NULL), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpint(vmu_utf16le_to_utf8(NULL, 1, out, sizeof(out), STRICT, NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_utf16le_to_utf8(hello, 1, NULL, 4, STRICT, NULL), ==, -EINVAL);
}

static void test_16to8_surrogates_strict(void)
{
	static const struct {
		uint16_t u[3];
		size_t n;
	} bad[] = {
	    {{0xd800}, 1},                 /* lone high, last unit */
	    {{0xdc00}, 1},                 /* lone low */
	    {{'a', 0xdfff, 'b'}, 3},       /* low in the middle */
	    {{0xd800, 'a'}, 2},            /* high followed by a BMP char */
	    {{0xd800, 0xd800, 0xdc00}, 3}, /* high followed by high */
	    {{0xd800, 0}, 2},              /* high followed by NUL */
	    {{'a', 0xdbff, 0xdc00}, 2},    /* pair cut by src_units */
	};
	char out[16];
	size_t len;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(to8(bad[i].u, bad[i].n, sizeof(out), STRICT, out, &len), ==,
				-EILSEQ);
		g_assert_cmpint(to8(bad[i].u, bad[i].n, sizeof(out), TRUNC, out, &len), ==,
				-EILSEQ);
	}
}

static void test_16to8_surrogates_compat(void)
{
	const uint16_t lone_low[] = {'A', 0xdc00, 'B'};
	const uint16_t high_then_bmp[] = {0xd800, 'A', 'B'};
	const uint16_t high_high_low[] = {0xd800, 0xd800, 0xdc00, 'C'};
	const uint16_t high_last[] = {'A', 0xd800, 'B'};
	const uint16_t high_nul[] = {'A', 0xd800, 0, 'B'};
	char out[16];
	size_t len;

	g_assert_cmpint(to8(lone_low, 3, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "AB");
	/* the unit after a lone high surrogate is processed normally */
	g_assert_cmpint(to8(high_then_bmp, 3, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "AB");
	g_assert_cmpint(to8(high_high_low, 4, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==,
			"\xf0\x90\x80\x80"
			"C");
	/* a high surrogate as the last input unit ends the conversion */
	g_assert_cmpint(to8(high_last, 2, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "A");
	g_assert_cmpuint(len, ==, 1);
	g_assert_cmpint(to8(high_nul, 4, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "A");
}

/* "ab" + one character of n bytes + "c": at the exact limit and one byte short. */
static void test_16to8_limits(void)
{
	for (size_t n = 1; n <= 4; n++) {
		uint16_t units[5] = {'a', 'b'};
		size_t nu = 2, len;
		char out[16], want[16];

		memcpy(units + nu, sample[n].units, 2 * sample[n].n_units);
		nu += sample[n].n_units;
		g_snprintf(want, sizeof(want), "ab%s", sample[n].utf8);

		/* exact fit: text + NUL */
		for (unsigned f = 0; f < 3; f++) {
			unsigned flags = f == 0 ? STRICT : f == 1 ? TRUNC : COMPAT;

			g_assert_cmpint(to8(units, nu, 2 + n + 1, flags, out, &len), ==, 0);
			g_assert_cmpstr(out, ==, want);
			g_assert_cmpuint(len, ==, 2 + n);
		}
		/* one byte short */
		g_assert_cmpint(to8(units, nu, 2 + n, STRICT, out, &len), ==, -ENOBUFS);
		g_assert_cmpint(to8(units, nu, 2 + n, TRUNC, out, &len), ==, 0);
		g_assert_cmpstr(out, ==, "ab");
		g_assert_cmpint(to8(units, nu, 2 + n, COMPAT, out, &len), ==, 0);
		g_assert_cmpstr(out, ==, "ab");

		/* 6.1 quirk: the character is skipped, a later shorter one is still written */
		units[nu] = 'c';
		g_assert_cmpint(to8(units, nu + 1, 2 + n + 1, COMPAT, out, &len), ==, 0);
		g_assert_cmpstr(out, ==, want);
		g_assert_cmpint(to8(units, nu + 1, 2 + n, COMPAT, out, &len), ==, 0);
		g_assert_cmpstr(out, ==, n == 1 ? "ab" : "abc");
		g_assert_cmpint(to8(units, nu + 1, 2 + n, TRUNC, out, &len), ==, 0);
		g_assert_cmpstr(out, ==, "ab");
		g_assert_cmpint(to8(units, nu + 1, 2 + n, STRICT, out, &len), ==, -ENOBUFS);
	}
}

static void test_16to8_tiny_buffers(void)
{
	const uint16_t a[] = {'a'};
	char out[4] = "zzz";
	size_t len;

	g_assert_cmpint(vmu_utf16le_to_utf8(a, 1, out, 0, STRICT, &len), ==, -ENOBUFS);
	g_assert_cmpint(vmu_utf16le_to_utf8(a, 1, out, 0, TRUNC, &len), ==, -ENOBUFS);
	g_assert_cmpint(vmu_utf16le_to_utf8(a, 1, out, 0, COMPAT, &len), ==, -ENOBUFS);
	g_assert_cmpstr(out, ==, "zzz");
	g_assert_cmpint(to8(a, 0, 1, STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpint(to8(a, 1, 1, STRICT, out, &len), ==, -ENOBUFS);
	g_assert_cmpint(to8(a, 1, 1, TRUNC, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 0);
	g_assert_cmpint(to8(a, 1, 1, COMPAT, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 0);
}

/* The KVP key budget: utf16s_to_utf8s(..., HV_KVP_EXCHANGE_MAX_KEY_SIZE - 1) = a 512-byte
 * array holding 511 bytes of text and the NUL. */
static void test_16to8_kvp_key_budget(void)
{
	uint16_t units[600];
	char out[512];
	size_t len;

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		units[i] = 'k';
	g_assert_cmpint(to8(units, 600, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 511);
	g_assert_cmpint(to8(units, 511, sizeof(out), STRICT, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 511);
	g_assert_cmpint(to8(units, 512, sizeof(out), STRICT, out, &len), ==, -ENOBUFS);
	/* 3-byte characters: 170 fit in 511 bytes (510), the 171st is skipped, 'z' is not */
	for (size_t i = 0; i < 171; i++)
		units[i] = 0x20ac;
	units[171] = 'z';
	g_assert_cmpint(to8(units, 172, sizeof(out), COMPAT, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 511);
	g_assert_cmpint(out[510], ==, 'z');
	g_assert_cmpint(to8(units, 172, sizeof(out), TRUNC, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 510);
}

static void test_16to8_truncate_pair(void)
{
	/* TRUNCATE never splits a pair: 3 bytes of room for a 4-byte character */
	const uint16_t pair[] = {0xd83d, 0xde00};
	char out[8];
	size_t len;

	for (size_t size = 1; size <= 4; size++) {
		g_assert_cmpint(to8(pair, 2, size, TRUNC, out, &len), ==, 0);
		g_assert_cmpuint(len, ==, 0);
	}
	g_assert_cmpint(to8(pair, 2, 5, TRUNC, out, &len), ==, 0);
	g_assert_cmpuint(len, ==, 4);
}

static void test_16to8_unaligned_output(void)
{
	const uint16_t units[] = {0x00e9, 'q'};
	char out[9];
	size_t len;

	/* output at an odd offset too */
	g_assert_cmpint(vmu_utf16le_to_utf8("\xe9\x00q\x00", 2, out + 1, 8, STRICT, &len), ==, 0);
	g_assert_cmpstr(out + 1, ==, "\xc3\xa9q");
	g_assert_cmpint(to8(units, 2, 8, STRICT, out, &len), ==, 0);
	g_assert_cmpstr(out, ==, "\xc3\xa9q");
}

/* ------------------------------------------------------------ UTF-8 -> UTF-16 */

static void test_8to16_basic(void)
{
	uint16_t out[32];
	size_t units;

	g_assert_cmpint(to16("Hi", 2, 32, STRICT, out, &units), ==, 0);
	g_assert_cmpuint(units, ==, 2);
	g_assert_cmpuint(out[0], ==, 'H');
	g_assert_cmpuint(out[1], ==, 'i');

	g_assert_cmpint(to16("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13, 32, STRICT,
			     out, &units),
			==, 0);
	g_assert_cmpuint(units, ==, 6);
	g_assert_cmpuint(out[0], ==, 0x00e9);
	g_assert_cmpuint(out[1], ==, 0x20ac);
	g_assert_cmpuint(out[2], ==, 0xd83d);
	g_assert_cmpuint(out[3], ==, 0xde00);
	g_assert_cmpuint(out[4], ==, 0xdbff);
	g_assert_cmpuint(out[5], ==, 0xdfff);

	/* boundary scalars that are valid */
	g_assert_cmpint(to16("\xed\x9f\xbf\xee\x80\x80\xc2\x80\xdf\xbf\xe0\xa0\x80\xf0\x90\x80\x80",
			     17, 32, STRICT, out, &units),
			==, 0);
	g_assert_cmpuint(units, ==, 7);
	g_assert_cmpuint(out[0], ==, 0xd7ff);
	g_assert_cmpuint(out[1], ==, 0xe000);
	g_assert_cmpuint(out[2], ==, 0x80);
	g_assert_cmpuint(out[3], ==, 0x7ff);
	g_assert_cmpuint(out[4], ==, 0x800);
	g_assert_cmpuint(out[5], ==, 0xd800);
	g_assert_cmpuint(out[6], ==, 0xdc00);

	/* stops at NUL and at src_len */
	g_assert_cmpint(to16("ab\0cd", 5, 32, STRICT, out, &units), ==, 0);
	g_assert_cmpuint(units, ==, 2);
	g_assert_cmpint(to16("abcd", 3, 32, COMPAT, out, &units), ==, 0);
	g_assert_cmpuint(units, ==, 3);
	g_assert_cmpint(to16("", 0, 1, STRICT, out, &units), ==, 0);
	g_assert_cmpuint(units, ==, 0);
	g_assert_cmpint(vmu_utf8_to_utf16le(NULL, 0, out, 4, STRICT, NULL), ==, 0);
	g_assert_cmpint(vmu_utf8_to_utf16le(NULL, 1, out, 4, STRICT, NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_utf8_to_utf16le("a", 1, NULL, 4, STRICT, NULL), ==, -EINVAL);
	g_assert_cmpint(vmu_utf8_to_utf16le("a", 1, out, 0, STRICT, NULL), ==, -ENOBUFS);
	g_assert_cmpint(vmu_utf8_to_utf16le("a", 1, out, 0, COMPAT, NULL), ==, -ENOBUFS);
}

static const struct {
	const char *s;
	size_t len;
	const char *what;
} invalid_utf8[] = {
    {"\xc0\x80", 2, "overlong NUL"},
    {"\xc1\xbf", 2, "overlong 2-byte"},
    {"\xe0\x80\x80", 3, "overlong 3-byte NUL"},
    {"\xe0\x9f\xbf", 3, "overlong U+07FF"},
    {"\xf0\x8f\xbf\xbf", 4, "overlong U+FFFF"},
    {"\xed\xa0\x80", 3, "surrogate D800"},
    {"\xed\xbf\xbf", 3, "surrogate DFFF"},
    {"\xed\xa0\xbd\xed\xb8\x80", 6, "CESU-8 pair"},
    {"\xf4\x90\x80\x80", 4, "U+110000"},
    {"\xf5\x80\x80\x80", 4, "lead F5"},
    {"\xf8\x88\x80\x80\x80", 5, "5-byte form"},
    {"\xfc\x84\x80\x80\x80\x80", 6, "6-byte form"},
    {"\xfe", 1, "FE"},
    {"\xff", 1, "FF"},
    {"\x80", 1, "stray continuation"},
    {"a\xbf", 2, "stray continuation after ASCII"},
    {"\xc3", 1, "truncated 2-byte"},
    {"\xe2\x82", 2, "truncated 3-byte"},
    {"\xf0\x9f\x98", 3, "truncated 4-byte"},
    {"\xe2\x28\xa1", 3, "bad continuation"},
    {"\xc3\x00", 2, "NUL as continuation"},
    {"\xc3\xc3\xa9", 3, "lead as continuation"},
};

static void test_8to16_invalid(void)
{
	uint16_t out[32];
	size_t units;

	for (size_t i = 0; i < G_N_ELEMENTS(invalid_utf8); i++) {
		const char *s = invalid_utf8[i].s;
		size_t len = invalid_utf8[i].len;

		g_test_message("%s", invalid_utf8[i].what);
		g_assert_cmpint(to16(s, len, 32, STRICT, out, &units), ==, -EILSEQ);
		g_assert_cmpint(to16(s, len, 32, TRUNC, out, &units), ==, -EILSEQ);
		g_assert_cmpint(to16(s, len, 32, COMPAT, out, &units), ==, -EINVAL);
		g_assert_false(vmu_utf8_valid(s, len));
	}
	/* a truncated sequence cut by src_len even though more bytes follow in memory */
	g_assert_cmpint(to16("\xc3\xa9", 1, 32, STRICT, out, &units), ==, -EILSEQ);
	g_assert_cmpint(to16("\xc3\xa9", 1, 32, COMPAT, out, &units), ==, -EINVAL);
}

/* "a" + a 1-unit or 2-unit character: exact fit and one unit short. */
static void test_8to16_limits(void)
{
	for (size_t n = 1; n <= 4; n++) {
		char in[16];
		size_t need = n == 4 ? 2 : 1, units;
		uint16_t out[16];

		g_snprintf(in, sizeof(in), "a%sb", sample[n].utf8);
		/* exact fit of "a" + char (b cut by src_len) */
		for (unsigned f = 0; f < 3; f++) {
			unsigned flags = f == 0 ? STRICT : f == 1 ? TRUNC : COMPAT;

			g_assert_cmpint(to16(in, 1 + n, 1 + need + 1, flags, out, &units), ==, 0);
			g_assert_cmpuint(units, ==, 1 + need);
			g_assert_cmpuint(out[1], ==, sample[n].units[0]);
		}
		g_assert_cmpint(to16(in, 1 + n, 1 + need, STRICT, out, &units), ==, -ENOBUFS);
		g_assert_cmpint(to16(in, 1 + n, 1 + need, TRUNC, out, &units), ==, 0);
		g_assert_cmpuint(units, ==, 1);
		g_assert_cmpint(to16(in, 1 + n, 1 + need, COMPAT, out, &units), ==, 0);
		g_assert_cmpuint(units, ==, 1);
		/* with "b" after it: one unit short of "a" + char. For a pair with one unit
		 * left, COMPAT ends the conversion although "b" would still fit. */
		g_assert_cmpint(to16(in, strlen(in), 1 + need, COMPAT, out, &units), ==, 0);
		g_assert_cmpuint(units, ==, 1);
		g_assert_cmpuint(out[0], ==, 'a');
		g_assert_cmpint(to16(in, strlen(in), 1 + need, TRUNC, out, &units), ==, 0);
		g_assert_cmpuint(units, ==, 1);
		g_assert_cmpint(to16(in, strlen(in), 1 + need, STRICT, out, &units), ==, -ENOBUFS);
	}
}

static void test_8to16_compat_stops_before_decoding(void)
{
	uint16_t out[8];
	size_t units;

	/* output full: the invalid byte after it is never looked at by the kernel */
	g_assert_cmpint(to16("ab\xff", 3, 3, COMPAT, out, &units), ==, 0);
	g_assert_cmpuint(units, ==, 2);
	g_assert_cmpint(to16("ab\xff", 3, 3, STRICT, out, &units), ==, -EILSEQ);
	g_assert_cmpint(to16("ab\xff", 3, 4, COMPAT, out, &units), ==, -EINVAL);
}

/* The KVP reply budget: utf8s_to_utf16s(..., 254) = 255 units including our NUL. */
static void test_8to16_kvp_budget(void)
{
	char in[400];
	uint16_t out[600];
	size_t units;

	memset(in, 'v', sizeof(in));
	g_assert_cmpint(to16(in, sizeof(in), VMU_KVP_HOST_MAX_KEY_UNITS + 1, COMPAT, out, &units),
			==, 0);
	g_assert_cmpuint(units, ==, 254);
	g_assert_cmpint(to16(in, 254, 255, STRICT, out, &units), ==, 0);
	g_assert_cmpint(to16(in, 255, 255, STRICT, out, &units), ==, -ENOBUFS);
}

static void test_utf8_valid(void)
{
	g_assert_true(vmu_utf8_valid("", 0));
	g_assert_true(vmu_utf8_valid(NULL, 0));
	g_assert_false(vmu_utf8_valid(NULL, 1));
	g_assert_true(vmu_utf8_valid("plain", 5));
	g_assert_true(vmu_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13));
	g_assert_false(vmu_utf8_valid("a\0b", 3));
	g_assert_true(vmu_utf8_valid("a\0b", 1));
	g_assert_false(vmu_utf8_valid("\xc3\xa9", 1));
}

static void test_round_trip(void)
{
	const char *s = "K\xc3\xa9y-\xe2\x82\xac-\xf0\x9f\x98\x80-\xf4\x8f\xbf\xbf";
	uint8_t u16[64];
	char back[64];
	size_t units, len;

	g_assert_cmpint(vmu_utf8_to_utf16le(s, strlen(s), u16, 32, STRICT, &units), ==, 0);
	g_assert_cmpint(vmu_utf16le_to_utf8(u16, units, back, sizeof(back), STRICT, &len), ==, 0);
	g_assert_cmpstr(back, ==, s);
	g_assert_cmpuint(len, ==, strlen(s));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/utf16/16to8/basic", test_16to8_basic);
	g_test_add_func("/utf16/16to8/surrogates-strict", test_16to8_surrogates_strict);
	g_test_add_func("/utf16/16to8/surrogates-compat", test_16to8_surrogates_compat);
	g_test_add_func("/utf16/16to8/limits", test_16to8_limits);
	g_test_add_func("/utf16/16to8/tiny-buffers", test_16to8_tiny_buffers);
	g_test_add_func("/utf16/16to8/kvp-key-budget", test_16to8_kvp_key_budget);
	g_test_add_func("/utf16/16to8/truncate-pair", test_16to8_truncate_pair);
	g_test_add_func("/utf16/16to8/unaligned-output", test_16to8_unaligned_output);
	g_test_add_func("/utf16/8to16/basic", test_8to16_basic);
	g_test_add_func("/utf16/8to16/invalid", test_8to16_invalid);
	g_test_add_func("/utf16/8to16/limits", test_8to16_limits);
	g_test_add_func("/utf16/8to16/compat-stops-before-decoding",
			test_8to16_compat_stops_before_decoding);
	g_test_add_func("/utf16/8to16/kvp-budget", test_8to16_kvp_budget);
	g_test_add_func("/utf16/utf8-valid", test_utf8_valid);
	g_test_add_func("/utf16/round-trip", test_round_trip);
	return g_test_run();
}
