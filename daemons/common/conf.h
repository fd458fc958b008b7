/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration: one INI file (GKeyFile), $sysconfdir/hvguest/hvguest.conf by default, one
 * section per program sharing it (the daemons: one per service, hvd_keys_sections()). Each
 * program declares its section and keys in a table, and the names of the sections the
 * others own; the file is checked against them: an unknown key or section, or a bad value, is an error that
 * names the file, the line and the key. A missing default file is fine (all defaults); a
 * missing file given with --config is an error. A key given twice in the section is an
 * error too (GKeyFile alone would keep the last one silently).
 */
#ifndef HVD_CONF_H
#define HVD_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct conf;

enum conf_type {
	CONF_STRING,   /* any string */
	CONF_PATH,     /* absolute path */
	CONF_BOOL,     /* true/false/yes/no/1/0 */
	CONF_UINT,     /* decimal unsigned within [min, max] */
	CONF_DURATION, /* "250ms", "30s", "15min", "1h" or plain seconds; stored in usec */
	CONF_STRV,     /* ';' or ',' separated list */
	CONF_PATHS,    /* a CONF_STRV of absolute paths without "." or ".." components */
	CONF_ENUM,     /* one of choices[] */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *default_value;  /* as it would be written in the file */
	const char *help;           /* one line, shown by --dump-config */
	uint64_t min, max;          /* CONF_UINT / CONF_DURATION (usec) bounds; 0,0 = any */
	const char *const *choices; /* CONF_ENUM: NULL-terminated */
	/* Optional check beyond the type, run once every key of the section is parsed (so it may
	 * read the others through the getters): NULL when the value is fine, else why it is not
	 * (a static string). The error then names the key's line like a type error. */
	const char *(*check)(const struct conf *c, const char *value);
};

/* Loads path (NULL: the default, tolerated when missing) and checks the section named
 * `section` against keys (terminated by a {NULL} entry). The file is shared: others
 * (NULL-terminated, may be NULL, may include section) names the sections other programs
 * check, which are skipped unchecked; any section neither ours nor in others is an error.
 * On error, ret_error (optional) gets a malloc'd message "FILE:LINE: [section] key: what is
 * wrong". */
int conf_load(const char *path, const char *section, const struct conf_key *keys,
	      const char *const *others, struct conf **ret, char **ret_error);
struct conf *conf_free(struct conf *c);

/* Typed getters; the key must be in the table (asserted: a programming error otherwise). */
const char *conf_get_string(const struct conf *c, const char *key);
bool conf_get_bool(const struct conf *c, const char *key);
uint64_t conf_get_uint(const struct conf *c, const char *key);
uint64_t conf_get_usec(const struct conf *c, const char *key);
/* CONF_STRV or CONF_PATHS; NULL-terminated; owned by conf. */
const char *const *conf_get_strv(const struct conf *c, const char *key);
const char *conf_get_path(const struct conf *c); /* the file read, or NULL */

/* Writes the effective configuration of the section as a valid config file, each key with
 * its help as a comment, to stdout. */
void conf_dump(const struct conf *c, FILE *f);

#endif
