/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvp output helpers: how pool items are written for people (one item per line, escaped)
 * and for programs (JSON strings that are always valid UTF-8).
 */
#ifndef HV_KVP_OUTPUT_H
#define HV_KVP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (at most left bytes), 0 when s starts an invalid
 * one. */
size_t utf8_sequence_length(const char *s, size_t left);

/* UTF-16 code units the host needs for s, which must be valid UTF-8 (a character outside
 * the Basic Multilingual Plane takes two, a surrogate pair). */
size_t utf8_utf16_units(const char *s, size_t len);

/* Writes s so that one item stays on one line: backslash, control characters, DEL and bytes
 * that are not UTF-8 become \\, \n, \t, \xNN; with is_key, '=' becomes \x3d too so that the
 * first '=' of a "KEY=VALUE" line separates key and value. Valid non-ASCII text is written
 * as it is. */
void print_escaped(FILE *f, const char *s, size_t len, bool is_key);

/* A malloc'd copy of s in which every byte that is not part of a valid UTF-8 sequence is
 * replaced by U+FFFD, so that JSON output stays valid. *ret_replaced tells whether any was.
 * NULL when out of memory. */
char *utf8_sanitize(const char *s, size_t len, size_t *ret_len, bool *ret_replaced);

#endif
