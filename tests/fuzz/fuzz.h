/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every fuzz target shares: libFuzzer's entry point, which the replay driver
 * (fuzz-main.c) calls too, and CHECK(), an assertion of the parser's contract that stays on
 * in every build (assert() would vanish with NDEBUG) and aborts, so that libFuzzer records
 * the input as a crash and the replay test fails.
 */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
