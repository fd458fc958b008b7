/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvp output helpers (see output.h).
 *
 * Pool files are written by other programs too, so a record may hold any bytes up to its
 * NUL: newlines, escape sequences, bytes that are not UTF-8. The text output must neither
 * break the one-item-per-line layout nor send raw control bytes to a terminal, and the JSON
 * output must stay parseable. Both use the same per-sequence UTF-8 check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus-user.h"
#include "tools/hv-kvp/output.h"

size_t utf8_sequence_length(const char *s, size_t left)
{
	uint8_t lead;
	size_t n;

	if (left == 0)
		return 0;
	lead = (uint8_t)s[0];
	if (lead < 0x80)
		n = 1;
	else if (lead >= 0xc2 && lead <= 0xdf)
		n = 2;
	else if (lead >= 0xe0 && lead <= 0xef)
		n = 3;
	else if (lead >= 0xf0 && lead <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left || !vmu_utf8_valid(s, n))
		return 0;
	return n;
}

size_t utf8_utf16_units(const char *s, size_t len)
{
	size_t units = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)s[i];

		if ((b & 0xc0) != 0x80)
			units++; /* a lead byte: one character */
		if (b >= 0xf0)
			units++; /* four-byte sequence: a surrogate pair */
	}
	return units;
}

static void print_byte_escaped(FILE *f, uint8_t b, bool is_key)
{
	switch (b) {
	case '\\':
		fputs("\\\\", f);
		return;
	case '\n':
		fputs("\\n", f);
		return;
	case '\t':
		fputs("\\t", f);
		return;
	}
	if (b < 0x20 || b == 0x7f || b >= 0x80 || (is_key && b == '='))
		fprintf(f, "\\x%02x", b);
	else
		fputc(b, f);
}

void print_escaped(FILE *f, const char *s, size_t len, bool is_key)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence_length(s + i, len - i);

		if (n > 1) {
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		print_byte_escaped(f, (uint8_t)s[i], is_key);
		i++;
	}
}

char *utf8_sanitize(const char *s, size_t len, size_t *ret_len, bool *ret_replaced)
{
	static const char replacement[] = "\xef\xbf\xbd";
	char *out, *p;
	bool replaced = false;

	/* each byte becomes at most the three bytes of U+FFFD */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence_length(s + i, len - i);

		if (n == 0) {
			memcpy(p, replacement, 3);
			p += 3;
			replaced = true;
			i++;
			continue;
		}
		memcpy(p, s + i, n);
		p += n;
		i += n;
	}
	*p = '\0';
	*ret_len = (size_t)(p - out);
	*ret_replaced = replaced;
	return out;
}
