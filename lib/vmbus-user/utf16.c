/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-16LE <-> UTF-8 conversion for host strings.
 *
 * Two personalities share one decoder for each direction:
 *
 *   strict (default, optionally VMU_UTF_TRUNCATE): what the daemons use. Malformed input is
 *   an error (-EILSEQ); output that does not fit is an error (-ENOBUFS) or, with TRUNCATE,
 *   ends the conversion after the last whole character that fits. The character that
 *   did not fit is still validated; nothing after it is examined.
 *
 *   VMU_UTF_KERNEL_COMPAT: what Linux 6.1's fs/nls/nls_base.c does (utf16s_to_utf8s and
 *   utf8s_to_utf16s as hv_kvp.c and hv_fcopy.c call them), so that the simulated kernel
 *   hands the daemon exactly the bytes a real kernel would:
 *     UTF-16 -> UTF-8: stop at a NUL unit or when input or output budget runs out; a lone
 *     low surrogate is dropped; a high surrogate not followed by a low one is dropped and
 *     the next unit is processed normally; a high surrogate as the last input unit ends the
 *     conversion; a character whose UTF-8 form does not fit the remaining budget is skipped
 *     and conversion goes on (a later, shorter character may still be written).
 *     UTF-8 -> UTF-16: stop at NUL, end of input or full output; any malformed sequence
 *     fails with -EINVAL; a supplementary character needing two units when one is left
 *     ends the conversion.
 *
 * Output budget: in every mode dst_size (bytes) / dst_units (code units) is the size of
 * the destination buffer INCLUDING the terminating NUL. In KERNEL_COMPAT mode the kernel's
 * "maxout" is therefore dst_size - 1 (dst_units - 1): to reproduce
 * utf16s_to_utf8s(..., out, HV_KVP_EXCHANGE_MAX_KEY_SIZE - 1) pass the 512-byte array
 * itself (511 bytes of text + NUL), and for utf8s_to_utf16s(..., 254) pass 255 units.
 * The kernel does not write a terminator itself; we always do, after the text.
 *
 * Input and output may be unaligned: UTF-16 units are loaded and stored bytewise.
 * On failure the destination holds an empty string (when it has room for one).
 *
 * vmu_kvp_pool_check_host_limits() is here too: the host's KVP limits are in UTF-16 units.
 */
#include "vmbus-user.h"

#include "vmu-internal.h"

#define SURROGATE_FIRST 0xd800u
#define SURROGATE_LOW_FIRST 0xdc00u
#define SURROGATE_LAST 0xdfffu
#define PLANE_SIZE 0x10000u
#define UNICODE_MAX 0x10ffffu

static bool is_surrogate(uint32_t u)
{
	return u >= SURROGATE_FIRST && u <= SURROGATE_LAST;
}

static bool is_low_surrogate(uint32_t u)
{
	return u >= SURROGATE_LOW_FIRST && u <= SURROGATE_LAST;
}

static size_t utf8_length(uint32_t cp)
{
	if (cp < 0x80)
		return 1;
	if (cp < 0x800)
		return 2;
	if (cp < PLANE_SIZE)
		return 3;
	return 4;
}

/* cp must be a Unicode scalar value; writes utf8_length(cp) bytes. */
static void utf8_encode(uint32_t cp, char *out)
{
	uint8_t *o = (uint8_t *)out;
	size_t n = utf8_length(cp);
	static const uint8_t lead[5] = {0, 0x00, 0xc0, 0xe0, 0xf0};

	for (size_t i = n - 1; i > 0; i--) {
		o[i] = (uint8_t)(0x80 | (cp & 0x3f));
		cp >>= 6;
	}
	o[0] = (uint8_t)(lead[n] | cp);
}

/* Decodes one well-formed UTF-8 sequence at s (len >= 1 bytes available). Returns its
 * length, or -EILSEQ for stray continuation bytes, invalid lead bytes, truncated
 * sequences, overlong forms, surrogates and values above U+10FFFF. */
static int utf8_decode(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
	static const uint32_t min_value[5] = {0, 0, 0x80, 0x800, PLANE_SIZE};
	uint8_t b = s[0];
	size_t n;
	uint32_t cp;

	if (b < 0x80) {
		*ret_cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf)
		n = 2, cp = b & 0x1fu;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3, cp = b & 0x0fu;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4, cp = b & 0x07u;
	else
		return -EILSEQ; /* continuation byte, C0/C1 (always overlong), F5..FF */
	if (len < n)
		return -EILSEQ;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EILSEQ;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min_value[n] || cp > UNICODE_MAX || is_surrogate(cp))
		return -EILSEQ;
	*ret_cp = cp;
	return (int)n;
}

static void terminate_empty(void *dst, size_t size, size_t unit)
{
	if (size > 0)
		memset(dst, 0, unit);
}

/* ---------------------------------------------------------------- UTF-16LE -> UTF-8 */

static size_t utf16_to_utf8_compat(const uint8_t *src, size_t src_units, char *dst, size_t maxout)
{
	size_t i = 0, out = 0;

	while (i < src_units && out < maxout) {
		uint32_t u = vmu_le16(src + 2 * i), v;

		if (u == 0)
			break;
		i++;
		if (u < 0x80) {
			dst[out++] = (char)u;
			continue;
		}
		if (is_surrogate(u)) {
			if (is_low_surrogate(u))
				continue; /* lone low surrogate: dropped */
			if (i >= src_units)
				break; /* high surrogate as the last unit */
			v = vmu_le16(src + 2 * i);
			if (!is_low_surrogate(v))
				continue; /* dropped; v is looked at on its own next */
			u = PLANE_SIZE + ((u - SURROGATE_FIRST) << 10) + (v - SURROGATE_LOW_FIRST);
			i++;
		}
		if (utf8_length(u) > maxout - out)
			continue; /* 6.1: a character that does not fit is skipped */
		utf8_encode(u, dst + out);
		out += utf8_length(u);
	}
	return out;
}

/* Reads the character at unit i. Returns the number of units it takes (1 or 2), 0 at a
 * NUL unit, -EILSEQ for an unpaired surrogate. */
static int utf16_next_strict(const uint8_t *src, size_t src_units, size_t i, uint32_t *ret_cp)
{
	uint32_t u = vmu_le16(src + 2 * i), v;

	if (u == 0)
		return 0;
	if (!is_surrogate(u)) {
		*ret_cp = u;
		return 1;
	}
	if (is_low_surrogate(u) || i + 1 >= src_units)
		return -EILSEQ;
	v = vmu_le16(src + 2 * (i + 1));
	if (!is_low_surrogate(v))
		return -EILSEQ;
	*ret_cp = PLANE_SIZE + ((u - SURROGATE_FIRST) << 10) + (v - SURROGATE_LOW_FIRST);
	return 2;
}

static int utf16_to_utf8_strict(const uint8_t *src, size_t src_units, char *dst, size_t maxout,
				bool truncate, size_t *ret_len)
{
	size_t i = 0, out = 0;

	while (i < src_units) {
		uint32_t cp;
		int used = utf16_next_strict(src, src_units, i, &cp);

		if (used < 0)
			return used;
		if (used == 0)
			break;
		if (utf8_length(cp) > maxout - out) {
			if (truncate)
				break;
			return -ENOBUFS;
		}
		utf8_encode(cp, dst + out);
		out += utf8_length(cp);
		i += (size_t)used;
	}
	*ret_len = out;
	return 0;
}

VMU_EXPORT int vmu_utf16le_to_utf8(const void *src, size_t src_units, char *dst, size_t dst_size,
				   unsigned flags, size_t *ret_len)
{
	size_t len = 0;
	int r;

	if ((!src && src_units > 0) || (!dst && dst_size > 0))
		return -EINVAL;
	if (dst_size == 0)
		return -ENOBUFS;
	if (flags & VMU_UTF_KERNEL_COMPAT) {
		len = utf16_to_utf8_compat(src, src_units, dst, dst_size - 1);
	} else {
		r = utf16_to_utf8_strict(src, src_units, dst, dst_size - 1,
					 flags & VMU_UTF_TRUNCATE, &len);
		if (r < 0) {
			terminate_empty(dst, dst_size, 1);
			return r;
		}
	}
	dst[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* ---------------------------------------------------------------- UTF-8 -> UTF-16LE */

static void put_utf16(uint8_t *dst, size_t *out, uint32_t cp)
{
	if (cp < PLANE_SIZE) {
		vmu_put_le16(dst + 2 * *out, (uint16_t)cp);
		*out += 1;
		return;
	}
	cp -= PLANE_SIZE;
	vmu_put_le16(dst + 2 * *out, (uint16_t)(SURROGATE_FIRST | (cp >> 10)));
	vmu_put_le16(dst + 2 * (*out + 1), (uint16_t)(SURROGATE_LOW_FIRST | (cp & 0x3ff)));
	*out += 2;
}

static int utf8_to_utf16_loop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t maxout,
			      unsigned flags, size_t *ret_units)
{
	bool compat = flags & VMU_UTF_KERNEL_COMPAT;
	size_t i = 0, out = 0;

	while (i < src_len && src[i] != 0) {
		uint32_t cp;
		int n;

		if (compat && out >= maxout)
			break; /* the kernel stops before decoding when the output is full */
		n = utf8_decode(src + i, src_len - i, &cp);
		if (n < 0)
			return compat ? -EINVAL : n;
		if ((cp < PLANE_SIZE ? 1u : 2u) > maxout - out) {
			if (compat || (flags & VMU_UTF_TRUNCATE))
				break;
			return -ENOBUFS;
		}
		put_utf16(dst, &out, cp);
		i += (size_t)n;
	}
	*ret_units = out;
	return 0;
}

VMU_EXPORT int vmu_utf8_to_utf16le(const char *src, size_t src_len, void *dst, size_t dst_units,
				   unsigned flags, size_t *ret_units)
{
	size_t units = 0;
	int r;

	if ((!src && src_len > 0) || (!dst && dst_units > 0))
		return -EINVAL;
	if (dst_units == 0)
		return -ENOBUFS;
	r = utf8_to_utf16_loop((const uint8_t *)src, src_len, dst, dst_units - 1, flags, &units);
	if (r < 0) {
		terminate_empty(dst, dst_units, 2);
		return r;
	}
	vmu_put_le16((uint8_t *)dst + 2 * units, 0);
	if (ret_units)
		*ret_units = units;
	return 0;
}

VMU_EXPORT bool vmu_utf8_valid(const char *buf, size_t len)
{
	const uint8_t *s = (const uint8_t *)buf;
	size_t i = 0;

	if (!buf)
		return len == 0;
	while (i < len) {
		uint32_t cp;
		int n;

		if (s[i] - 1u < 0x7fu) { /* ASCII but NUL, what keys and values mostly are */
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n < 0 || cp == 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* ---- KVP host limits: counted in the UTF-16 units of the kernel's conversion, so the check
 * lives with the conversion code. */

/* UTF-16 code units of a valid UTF-8 string: one per character, two above U+FFFF (lead
 * bytes 0xF0..0xF4). -EILSEQ when not UTF-8. */
static ssize_t utf16_units(const char *s)
{
	size_t len = strlen(s), units = 0;

	if (!vmu_utf8_valid(s, len))
		return -EILSEQ;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if ((c & 0xc0) == 0x80)
			continue;
		units += c >= 0xf0 ? 2 : 1;
	}
	return (ssize_t)units;
}

VMU_EXPORT int vmu_kvp_pool_check_host_limits(const char *key, const char *value)
{
	ssize_t n;

	if (key) {
		n = utf16_units(key);
		if (n < 0)
			return (int)n;
		if (n > VMU_KVP_HOST_MAX_KEY_UNITS)
			return -ENAMETOOLONG;
	}
	if (value) {
		n = utf16_units(value);
		if (n < 0)
			return (int)n;
		if (n > VMU_KVP_HOST_MAX_VALUE_UNITS)
			return -E2BIG;
	}
	return 0;
}
