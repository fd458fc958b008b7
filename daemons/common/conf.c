/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration file loading and checking.
 *
 * GKeyFile does the INI syntax; this file adds what GKeyFile lacks: a schema (the caller's
 * key table), typed and range-checked values, and error messages that name FILE:LINE. Since
 * GKeyFile keeps no line numbers, the file text is scanned once more by a tiny line scanner
 * (conf_find_line) that knows just enough INI to find where a section or key first appears.
 *
 * Decisions:
 *   - This file names no program: a load checks the caller's section against the caller's
 *     key table, skips unchecked the sections the caller says other programs own (each
 *     checks its own; hvd passes one per service, hvd_keys_sections()), and refuses any
 *     other section.
 *   - A key given twice in our section is an error (GKeyFile would silently keep the last
 *     one; a repeated key is almost always a merge mistake the admin wants to hear about).
 *   - Every value, defaults included, is parsed at load time, so getters cannot fail.
 *   - A key's own check (conf_key.check: what a type cannot say, e.g. "no set-id bits unless
 *     allow-setid-modes=true") runs after the whole section is parsed, so it may look at the
 *     other keys; it fails the load with the same FILE:LINE message as a type error. A reload
 *     goes through the same load, so a bad file is refused before anything uses it.
 *   - Each value keeps its "file form" (escaped, as written), which conf_dump() prints, so
 *     a dump loads back to the same configuration.
 *   - Only a regular file is read (a FIFO or device is refused with -EINVAL, never waited
 *     for), and files larger than CONF_MAX_FILE_SIZE are refused (-EFBIG).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "conf.h"
#include "read-file.h"
#include "shared/time-util.h"

#define CONF_MAX_FILE_SIZE (1024 * 1024)
#define CONF_DEFAULT_PATH SYSCONFDIR "/hvguest/hvguest.conf"

struct conf_value {
	char *raw;       /* file form (escaped), printed by conf_dump */
	char *string;    /* unescaped */
	uint64_t number; /* CONF_UINT, CONF_DURATION (usec) */
	bool boolean;
	char **strv;
};

struct conf {
	char *path; /* the file read, NULL when none */
	char *section;
	struct conf_key *keys; /* copy of the table (the strings are the caller's) */
	size_t n_keys;
	struct conf_value *values;
};

struct conf *conf_free(struct conf *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_keys; i++) {
		g_free(c->values[i].raw);
		g_free(c->values[i].string);
		g_strfreev(c->values[i].strv);
	}
	g_free(c->values);
	g_free(c->keys);
	g_free(c->section);
	g_free(c->path);
	g_free(c);
	return NULL;
}

static void conf_freep(struct conf **c)
{
	conf_free(*c);
}
#define _cleanup_conf_ __attribute__((cleanup(conf_freep)))

/* ---------------------------------------------------------------- value parsers */

/* Decimal digits only: no sign, no blanks, no base prefixes; -ERANGE on overflow. */
static int parse_decimal(const char *s, const char **ret_end, uint64_t *ret)
{
	const char *p = s;
	uint64_t v = 0;

	if (!g_ascii_isdigit(*p))
		return -EINVAL;
	for (; g_ascii_isdigit(*p); p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*ret_end = p;
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r = parse_decimal(s, &end, &v);

	if (r < 0)
		return r;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t usec;
} duration_units[] = {
    {"us", 1},
    {"ms", USEC_PER_MSEC},
    {"s", USEC_PER_SEC},
    {"sec", USEC_PER_SEC},
    {"min", 60 * USEC_PER_SEC},
    {"h", 3600 * USEC_PER_SEC},
    {"d", 86400 * USEC_PER_SEC},
};

/* "250ms", "30s", "5min", "1h", "1d", or a plain number of seconds. */
static int parse_duration(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v, unit = 0;
	int r = parse_decimal(s, &end, &v);

	if (r < 0)
		return r;
	if (*end == '\0')
		unit = USEC_PER_SEC;
	for (size_t i = 0; !unit && i < G_N_ELEMENTS(duration_units); i++)
		if (strcmp(end, duration_units[i].suffix) == 0)
			unit = duration_units[i].usec;
	if (!unit)
		return -EINVAL;
	if (v > UINT64_MAX / unit)
		return -ERANGE;
	*ret = v * unit;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "1", "on", NULL};
	static const char *const no[] = {"false", "no", "0", "off", NULL};

	if (g_strv_contains(yes, s)) {
		*ret = true;
		return 0;
	}
	if (g_strv_contains(no, s)) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

/* Splits on ';' and ',', trims blanks, drops empty elements. */
static char **parse_strv(const char *s)
{
	g_auto(GStrv) parts = g_strsplit_set(s, ";,", -1);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

	for (char **p = parts; *p; p++) {
		g_strstrip(*p);
		if (**p)
			g_ptr_array_add(out, g_strdup(*p));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* Every element absolute, without "." or ".." components (a prefix check against such a
 * path would not mean what it says). NULL when fine, else the message (g_free). */
static char *check_paths(char **strv)
{
	for (char **p = strv; *p; p++) {
		g_auto(GStrv) parts = NULL;

		if ((*p)[0] != '/')
			return g_strdup_printf("\"%s\" is not an absolute path", *p);
		parts = g_strsplit(*p, "/", -1);
		for (char **c = parts; *c; c++)
			if (strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0)
				return g_strdup_printf("\"%s\" has a \"%s\" component", *p, *c);
	}
	return NULL;
}

static bool in_range(const struct conf_key *k, uint64_t v)
{
	if (k->min == 0 && k->max == 0)
		return true;
	return v >= k->min && v <= k->max;
}

static char *format_usec(uint64_t usec)
{
	for (size_t i = G_N_ELEMENTS(duration_units); i-- > 0;)
		if (usec % duration_units[i].usec == 0)
			return g_strdup_printf("%" G_GUINT64_FORMAT "%s",
					       usec / duration_units[i].usec,
					       duration_units[i].suffix);
	return g_strdup_printf("%" G_GUINT64_FORMAT "us", usec);
}

static char *range_message(const struct conf_key *k)
{
	if (k->type == CONF_DURATION) {
		g_autofree char *lo = format_usec(k->min), *hi = format_usec(k->max);
		return g_strdup_printf("out of range (%s..%s)", lo, hi);
	}
	return g_strdup_printf("out of range (%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ")",
			       k->min, k->max);
}

/* Parses s (unescaped) as k's type into v. On error returns a message (g_free). */
static char *conf_parse_value(const struct conf_key *k, const char *s, struct conf_value *v)
{
	int r;

	switch (k->type) {
	case CONF_STRING:
		return NULL;
	case CONF_PATH:
		return s[0] == '/' ? NULL : g_strdup_printf("\"%s\" is not an absolute path", s);
	case CONF_BOOL:
		r = parse_bool(s, &v->boolean);
		return r < 0 ? g_strdup_printf(
				   "\"%s\" is not a boolean (true/false/yes/no/on/off/1/0)", s)
			     : NULL;
	case CONF_UINT:
		r = parse_uint(s, &v->number);
		if (r == -ERANGE)
			return g_strdup_printf("\"%s\" is too large", s);
		if (r < 0)
			return g_strdup_printf("\"%s\" is not a decimal number", s);
		return in_range(k, v->number) ? NULL : range_message(k);
	case CONF_DURATION:
		r = parse_duration(s, &v->number);
		if (r == -ERANGE)
			return g_strdup_printf("\"%s\" is too long", s);
		if (r < 0)
			return g_strdup_printf(
			    "\"%s\" is not a duration (e.g. 250ms, 30s, 5min, 1h, 1d)", s);
		return in_range(k, v->number) ? NULL : range_message(k);
	case CONF_STRV:
		v->strv = parse_strv(s);
		return NULL;
	case CONF_PATHS:
		v->strv = parse_strv(s);
		return check_paths(v->strv);
	case CONF_ENUM:
		if (g_strv_contains((const char *const *)k->choices, s))
			return NULL;
		g_autofree char *all = g_strjoinv("|", (char **)k->choices);
		return g_strdup_printf("\"%s\" is not one of %s", s, all);
	}
	return g_strdup("unknown key type");
}

/* ---------------------------------------------------------------- line scanner */

/* Line number (1-based) of the first line that is the header of `section` (key == NULL) or
 * the n-th occurrence (0-based) of `key` inside `section`; 0 when not found. A NULL
 * section finds the first line GKeyFile would reject (not a group, key or comment). */
static unsigned conf_find_line(const char *text, const char *section, const char *key, unsigned nth)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	g_autofree char *current = NULL;

	for (unsigned i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		char *eq;

		if (*l == '\0' || *l == '#')
			continue;
		if (*l == '[') {
			char *close = strrchr(l, ']');
			if (close && close[1] == '\0') {
				g_free(current);
				current = g_strndup(l + 1, (gsize)(close - l - 1));
				if (section && !key && strcmp(current, section) == 0)
					return i + 1;
				continue;
			}
		}
		eq = strchr(l, '=');
		if (!eq || *l == '[') {
			if (!section)
				return i + 1;
			continue;
		}
		*eq = '\0';
		g_strchomp(l);
		if (section && key && current && strcmp(current, section) == 0 &&
		    strcmp(l, key) == 0 && nth-- == 0)
			return i + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- loading */

struct conf_loader {
	const char *path;          /* for messages */
	const char *text;          /* file contents, NULL when no file */
	const char *const *others; /* sections other programs check; may be NULL */
	char *error;
};

static int conf_fail(struct conf_loader *l, unsigned line, const char *section, const char *key,
		     const char *message)
{
	g_autofree char *where = line ? g_strdup_printf("%s:%u", l->path, line) : g_strdup(l->path);

	g_free(l->error);
	if (key)
		l->error = g_strdup_printf("%s: [%s] %s: %s", where, section, key, message);
	else if (section)
		l->error = g_strdup_printf("%s: [%s]: %s", where, section, message);
	else
		l->error = g_strdup_printf("%s: %s", where, message);
	return -EINVAL;
}

static ssize_t conf_key_index(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (strcmp(c->keys[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int conf_set_value(struct conf_loader *l, struct conf *c, size_t i, const char *raw,
			  const char *string, unsigned line)
{
	struct conf_value *v = &c->values[i];
	g_autofree char *err = NULL;

	g_free(v->raw);
	g_free(v->string);
	g_strfreev(v->strv);
	v->strv = NULL;
	v->raw = g_strdup(raw);
	v->string = g_strdup(string);
	err = conf_parse_value(&c->keys[i], string, v);
	if (err)
		return conf_fail(l, line, c->section, c->keys[i].name, err);
	return 0;
}

static int conf_apply_defaults(struct conf_loader *l, struct conf *c)
{
	struct conf_loader defaults = {.path = "(built-in defaults)"};

	for (size_t i = 0; i < c->n_keys; i++) {
		const char *def = c->keys[i].default_value ? c->keys[i].default_value : "";
		int r = conf_set_value(&defaults, c, i, def, def, 0);
		if (r < 0) {
			l->error = g_steal_pointer(&defaults.error);
			return r;
		}
	}
	return 0;
}

static bool conf_section_known(const struct conf_loader *l, const struct conf *c, const char *name)
{
	return strcmp(name, c->section) == 0 || (l->others && g_strv_contains(l->others, name));
}

static int conf_check_sections(struct conf_loader *l, GKeyFile *kf, const struct conf *c)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (char **g = groups; *g; g++) {
		g_autoptr(GString) known = NULL;

		if (conf_section_known(l, c, *g))
			continue;
		/* "unknown section (known: ours, then the others)" */
		known = g_string_new("unknown section (known: ");
		g_string_append(known, c->section);
		for (const char *const *o = l->others; o && *o; o++)
			if (strcmp(*o, c->section) != 0)
				g_string_append_printf(known, ", %s", *o);
		g_string_append_c(known, ')');
		return conf_fail(l, conf_find_line(l->text, *g, NULL, 0), *g, NULL, known->str);
	}
	return 0;
}

static int conf_read_key(struct conf_loader *l, GKeyFile *kf, struct conf *c, const char *key)
{
	unsigned line = conf_find_line(l->text, c->section, key, 0);
	ssize_t i = conf_key_index(c, key);
	g_autofree char *raw = NULL, *string = NULL;
	g_autoptr(GError) error = NULL;

	if (i < 0)
		return conf_fail(l, line, c->section, key, "unknown key");
	if (conf_find_line(l->text, c->section, key, 1) > 0) {
		g_autofree char *msg = g_strdup_printf("set again on line %u",
						       conf_find_line(l->text, c->section, key, 1));
		return conf_fail(l, line, c->section, key, msg);
	}
	raw = g_key_file_get_value(kf, c->section, key, NULL);
	string = g_key_file_get_string(kf, c->section, key, &error);
	if (!raw || !string)
		return conf_fail(l, line, c->section, key, error ? error->message : "unreadable");
	return conf_set_value(l, c, (size_t)i, raw, string, line);
}

static int conf_read_section(struct conf_loader *l, GKeyFile *kf, struct conf *c)
{
	g_auto(GStrv) keys = NULL;
	int r;

	if (!g_key_file_has_group(kf, c->section))
		return 0;
	keys = g_key_file_get_keys(kf, c->section, NULL, NULL);
	for (char **k = keys; k && *k; k++) {
		r = conf_read_key(l, kf, c, *k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Why the file cannot be read, for the message that names it. */
static const char *conf_read_error_text(int r)
{
	switch (r) {
	case -EFBIG:
		return "file too large (more than 1 MiB)";
	case -EISDIR:
		return "is a directory";
	case -EINVAL:
		return "not a regular file";
	default:
		return g_strerror(-r);
	}
}

/* Reads the file into *ret_text with read_small_file(): GKeyFile's own loader would block on
 * a FIFO and read /dev/zero without end. -ENOENT passes through for the caller to judge. */
static int conf_read_file(struct conf_loader *l, char **ret_text)
{
	g_autofree char *text = NULL;
	size_t len = 0;
	int r = read_small_file(l->path, CONF_MAX_FILE_SIZE, &text, &len);

	if (r < 0) {
		conf_fail(l, 0, NULL, NULL, conf_read_error_text(r));
		return r;
	}
	if (memchr(text, '\0', len)) {
		conf_fail(l, 0, NULL, NULL, "file contains a NUL byte");
		return -EINVAL;
	}
	*ret_text = g_steal_pointer(&text);
	return 0;
}

/* The keys' own checks, once every value is parsed (defaults included). */
static int conf_run_checks(struct conf_loader *l, struct conf *c)
{
	for (size_t i = 0; i < c->n_keys; i++) {
		const char *why =
		    c->keys[i].check ? c->keys[i].check(c, c->values[i].string) : NULL;

		if (why) {
			g_autofree char *msg =
			    g_strdup_printf("\"%s\" %s", c->values[i].string, why);
			return conf_fail(l, conf_find_line(l->text, c->section, c->keys[i].name, 0),
					 c->section, c->keys[i].name, msg);
		}
	}
	return 0;
}

static int conf_parse_file(struct conf_loader *l, struct conf *c)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	int r;

	if (!g_key_file_load_from_data(kf, l->text, (gsize)-1, G_KEY_FILE_KEEP_COMMENTS, &error))
		return conf_fail(l, conf_find_line(l->text, NULL, NULL, 0), NULL, NULL,
				 error->message);
	r = conf_check_sections(l, kf, c);
	if (r < 0)
		return r;
	return conf_read_section(l, kf, c);
}

static struct conf *conf_new(const char *section, const struct conf_key *keys)
{
	struct conf *c = g_new0(struct conf, 1);
	size_t n = 0;

	while (keys && keys[n].name)
		n++;
	c->section = g_strdup(section);
	c->n_keys = n;
	c->keys = g_new0(struct conf_key, n ? n : 1);
	if (n)
		memcpy(c->keys, keys, n * sizeof(*keys));
	c->values = g_new0(struct conf_value, n ? n : 1);
	return c;
}

static int conf_load_into(struct conf_loader *l, struct conf *c, bool explicit)
{
	g_autofree char *text = NULL;
	int r = conf_apply_defaults(l, c);

	if (r < 0)
		return r;
	r = conf_read_file(l, &text);
	if (r == -ENOENT && !explicit) {
		g_clear_pointer(&l->error, g_free);
		return conf_run_checks(l, c);
	}
	if (r < 0)
		return r;
	l->text = text;
	r = conf_parse_file(l, c);
	if (r >= 0)
		r = conf_run_checks(l, c);
	l->text = NULL;
	if (r < 0)
		return r;
	c->path = g_strdup(l->path);
	return 0;
}

int conf_load(const char *path, const char *section, const struct conf_key *keys,
	      const char *const *others, struct conf **ret, char **ret_error)
{
	struct conf_loader l = {.path = path ? path : CONF_DEFAULT_PATH, .others = others};
	_cleanup_conf_ struct conf *c = NULL;
	int r;

	g_return_val_if_fail(section && ret, -EINVAL);
	c = conf_new(section, keys);
	r = conf_load_into(&l, c, path != NULL);
	if (r < 0) {
		if (ret_error)
			*ret_error = strdup(l.error ? l.error : "unknown error");
		g_free(l.error);
		return r;
	}
	*ret = g_steal_pointer(&c);
	return 0;
}

/* ---------------------------------------------------------------- getters */

static const struct conf_value *conf_lookup(const struct conf *c, const char *key,
					    enum conf_type type)
{
	ssize_t i = conf_key_index(c, key);

	g_assert(i >= 0);
	g_assert(c->keys[i].type == type);
	return &c->values[i];
}

const char *conf_get_string(const struct conf *c, const char *key)
{
	ssize_t i = conf_key_index(c, key);

	g_assert(i >= 0);
	return c->values[i].string;
}

bool conf_get_bool(const struct conf *c, const char *key)
{
	return conf_lookup(c, key, CONF_BOOL)->boolean;
}

uint64_t conf_get_uint(const struct conf *c, const char *key)
{
	return conf_lookup(c, key, CONF_UINT)->number;
}

uint64_t conf_get_usec(const struct conf *c, const char *key)
{
	return conf_lookup(c, key, CONF_DURATION)->number;
}

const char *const *conf_get_strv(const struct conf *c, const char *key)
{
	ssize_t i = conf_key_index(c, key);

	g_assert(i >= 0);
	g_assert(c->keys[i].type == CONF_STRV || c->keys[i].type == CONF_PATHS);
	return (const char *const *)c->values[i].strv;
}

const char *conf_get_path(const struct conf *c)
{
	return c->path;
}

/* ---------------------------------------------------------------- dump */

/* The file form, unless it holds a CR: GKeyFile keeps a CR that ends the file's last line
 * in the value but drops one before a newline, so such a value would not load back as
 * written. It is then written the way GKeyFile escapes the unescaped string (CR as \r). */
static char *conf_dump_form(const struct conf_value *v)
{
	g_autoptr(GKeyFile) kf = NULL;

	if (!strchr(v->raw, '\r'))
		return g_strdup(v->raw);
	kf = g_key_file_new();
	g_key_file_set_string(kf, "x", "x", v->string);
	return g_key_file_get_value(kf, "x", "x", NULL);
}

static void conf_dump_key(const struct conf_key *k, const struct conf_value *v, FILE *f)
{
	g_autofree char *form = conf_dump_form(v);

	if (k->help)
		fprintf(f, "# %s\n", k->help);
	if (k->type == CONF_ENUM) {
		g_autofree char *all = g_strjoinv("|", (char **)k->choices);
		fprintf(f, "# one of: %s\n", all);
	}
	fprintf(f, "%s=%s\n\n", k->name, form ? form : "");
}

void conf_dump(const struct conf *c, FILE *f)
{
	fprintf(f, "# Effective configuration of [%s], read from %s\n\n", c->section,
		c->path ? c->path : "(built-in defaults)");
	fprintf(f, "[%s]\n", c->section);
	for (size_t i = 0; i < c->n_keys; i++)
		conf_dump_key(&c->keys[i], &c->values[i], f);
	fflush(f);
}
