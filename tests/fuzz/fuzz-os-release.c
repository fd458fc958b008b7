/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-kvpd's os-release reader and kernel release parser
 * (daemons/kvp/os-info.c: os_release_lookup(), kernel_version_xyz()).
 *
 * The input is os-release text (any bytes; a NUL ends it). Several keys are looked up with
 * destination buffers of small sizes, each an exact heap allocation so that ASan sees any
 * write past it. Checked, against the documented contract:
 *   - the result is the value's length, -ENOENT or -ENOBUFS, nothing else;
 *   - on success dst is NUL-terminated at exactly that length;
 *   - the answer does not depend on the buffer size except through "does it fit": with a
 *     buffer large enough for any value (the input's length), a value of length n must come
 *     back identical from every buffer of more than n bytes, and -ENOBUFS from smaller ones;
 *     an absent key is -ENOENT from every buffer but the empty one.
 * The input is also a kernel release for kernel_version_xyz(), whose output must be three
 * dot-separated decimal numbers, and a NUL-terminated prefix of that in short buffers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/kvp/os-info.h"

static const size_t dst_sizes[] = {0, 1, 2, 3, 4, 8, 17, 64, OS_INFO_FIELD_MAX};

static void check_lookup_size(const char *text, const char *key, int want, const char *value,
			      size_t dst_size)
{
	char *dst = malloc(dst_size ? dst_size : 1);
	int r;

	CHECK(dst);
	r = os_release_lookup(text, key, dst, dst_size);
	if (dst_size == 0)
		CHECK(r == -ENOBUFS || r == -ENOENT);
	else if (want == -ENOENT)
		CHECK(r == -ENOENT);
	else if ((size_t)want < dst_size) {
		CHECK(r == want);
		CHECK(memcmp(dst, value, (size_t)want + 1) == 0);
	} else
		CHECK(r == -ENOBUFS);
	free(dst);
}

static void check_lookup(const char *text, size_t len, const char *key)
{
	char *value = malloc(len + 1);
	int want;

	CHECK(value);
	want = os_release_lookup(text, key, value, len + 1);
	CHECK(want == -ENOENT || (want >= 0 && (size_t)want <= len));
	if (want >= 0)
		CHECK(strlen(value) == (size_t)want);
	for (size_t i = 0; i < sizeof(dst_sizes) / sizeof(dst_sizes[0]); i++)
		check_lookup_size(text, key, want, value, dst_sizes[i]);
	free(value);
}

static bool is_xyz(const char *s)
{
	for (int part = 0; part < 3; part++) {
		if (*s < '0' || *s > '9')
			return false;
		s += strspn(s, "0123456789");
		if (part < 2 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

static void check_kernel_version(const char *release)
{
	char full[64];

	kernel_version_xyz(release, full, sizeof(full));
	CHECK(memchr(full, '\0', sizeof(full)) != NULL);
	CHECK(is_xyz(full));
	for (size_t n = 1; n < 12; n++) {
		char *dst = malloc(n);

		CHECK(dst);
		kernel_version_xyz(release, dst, n);
		CHECK(strnlen(dst, n) == n - 1 || strcmp(dst, full) == 0);
		CHECK(strncmp(dst, full, strnlen(dst, n)) == 0);
		free(dst);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"NAME",    "VERSION_ID", "ID", "PRETTY_NAME",
					   "VERSION", "K",          "",   "A=B"};
	char *text = malloc(size + 1);
	size_t len;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_lookup(text, len, keys[i]);
	/* the key of the first line, whatever it is, so that odd keys are found too */
	{
		size_t klen = strcspn(text, "=\n");
		char *key = strndup(text, klen);

		CHECK(key);
		check_lookup(text, len, key);
		free(key);
	}
	check_kernel_version(text);
	free(text);
	return 0;
}
