/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: UTF-16LE <-> UTF-8 in both directions, every flag combination and a few
 * output budgets (the first input byte picks a small one).
 *
 * Properties checked: successful output is NUL-terminated inside the budget and well-formed
 * (UTF-8 valid / no unpaired surrogates, KERNEL_COMPAT included); strict UTF-16 -> UTF-8 ->
 * UTF-16 gives back the same units; strict UTF-8 -> UTF-16 succeeds with a large buffer
 * exactly when the input is valid UTF-8 (vmu_utf8_valid), and KERNEL_COMPAT then fails
 * with -EINVAL where strict fails with -EILSEQ.
 */
#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmu-internal.h"

#define MAX_UNITS 4096
static const unsigned all_flags[] = {0, VMU_UTF_TRUNCATE, VMU_UTF_KERNEL_COMPAT,
				     VMU_UTF_TRUNCATE | VMU_UTF_KERNEL_COMPAT};

static bool utf16_well_formed(const uint8_t *p, size_t units)
{
	for (size_t i = 0; i < units; i++) {
		uint16_t u = vmu_le16(p + 2 * i);

		if (u >= 0xdc00 && u <= 0xdfff)
			return false;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 1 >= units)
				return false;
			u = vmu_le16(p + 2 * ++i);
			if (u < 0xdc00 || u > 0xdfff)
				return false;
		}
	}
	return true;
}

static size_t units_to_nul(const uint8_t *p, size_t units)
{
	for (size_t i = 0; i < units; i++)
		if (vmu_le16(p + 2 * i) == 0)
			return i;
	return units;
}

static void from_utf16(const uint8_t *data, size_t size, size_t small)
{
	static char out[4 * MAX_UNITS + 1];
	static uint8_t back[2 * (MAX_UNITS + 1)];
	size_t units = size / 2, sizes[] = {0, 1, small, sizeof(out)};

	if (units > MAX_UNITS)
		units = MAX_UNITS;
	for (size_t f = 0; f < 4; f++)
		for (size_t s = 0; s < 4; s++) {
			size_t len = 0, n16 = 0;
			int r = vmu_utf16le_to_utf8(data, units, out, sizes[s], all_flags[f], &len);

			if (r < 0) {
				CHECK(r == -ENOBUFS || r == -EILSEQ);
				CHECK(!(all_flags[f] & VMU_UTF_KERNEL_COMPAT) || sizes[s] == 0);
				continue;
			}
			CHECK(len < sizes[s] && out[len] == 0 && strlen(out) == len);
			CHECK(vmu_utf8_valid(out, len));
			if (all_flags[f] != 0 || sizes[s] != sizeof(out))
				continue;
			/* round trip: strict, whole buffer */
			CHECK(vmu_utf8_to_utf16le(out, len, back, MAX_UNITS + 1, 0, &n16) == 0);
			CHECK(n16 == units_to_nul(data, units));
			CHECK(memcmp(back, data, 2 * n16) == 0);
		}
}

static void from_utf8(const uint8_t *data, size_t size, size_t small)
{
	static uint8_t out[2 * (MAX_UNITS + 1)];
	const char *src = (const char *)data;
	size_t len = size > MAX_UNITS ? MAX_UNITS : size;
	size_t sizes[] = {0, 1, small, MAX_UNITS + 1};
	size_t to_nul = strnlen(src, len);
	bool valid = vmu_utf8_valid(src, to_nul);

	for (size_t f = 0; f < 4; f++)
		for (size_t s = 0; s < 4; s++) {
			size_t units = 0;
			int r = vmu_utf8_to_utf16le(src, len, out, sizes[s], all_flags[f], &units);

			if (sizes[s] == MAX_UNITS + 1) {
				if (all_flags[f] & VMU_UTF_KERNEL_COMPAT)
					CHECK(r == (valid ? 0 : -EINVAL));
				else
					CHECK(r == (valid ? 0 : -EILSEQ));
			}
			if (r < 0)
				continue;
			CHECK(units < sizes[s] && vmu_le16(out + 2 * units) == 0);
			CHECK(units_to_nul(out, units) == units);
			CHECK(utf16_well_formed(out, units));
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t small = size > 0 ? data[0] % 16 : 3;

	/* odd offset as well as the input itself: alignment must not matter */
	from_utf16(data, size, small);
	if (size > 1)
		from_utf16(data + 1, size - 1, small);
	from_utf8(data, size, small);
	return 0;
}
