/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The documentation of hvguest.conf against the schema, so that they stay in sync: the keys
 * and defaults are what each daemon binary prints with `--dump-config -c /dev/null` (its
 * common keys and its own, as it will check them), and
 *   - the default file etc/hvguest.conf (built from etc/hvguest.conf.in) has each of them,
 *     commented out, in the right section, at the very default, and no other key; with the
 *     comments removed it loads, and sets nothing else;
 *   - hvguest.conf(5) documents each key (a ".B key=" / ".BI key=" / ".BR key=" line) in
 *     its section's part, or under COMMON KEYS for a key every section has, and no other;
 *   - each daemon's page has the sections a packager looks for, and its OPTIONS section
 *     names every long option the daemon's --help lists.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

static const char *const sections[] = {"kvp", "vss", "fcopy"};
static const char *const programs[] = {"daemons/kvp/hv-kvpd", "daemons/vss/hv-vssd",
				       "daemons/fcopy/hv-fcopyd"};

/* key -> value of one section (GHashTable of g_strdup'd strings). */
typedef GHashTable Keys;

static Keys *keys_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static char *path_in(const char *env, const char *rel)
{
	const char *dir = g_getenv(env);

	return g_build_filename(dir ? dir : ".", rel, NULL);
}

/* Runs PROGRAM --dump-config -c config; asserts exit status 0; returns stdout. */
static char *dump(size_t i, const char *config)
{
	g_autofree char *binary = path_in("HVGUEST_BUILDDIR", programs[i]);
	const char *argv[] = {binary, "--dump-config", "-c", config, NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	char *out = NULL;
	int status = -1;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
				   &err, &status, &error));
	g_assert_no_error(error);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_test_message("%s: %s", programs[i], err);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

/* The uncommented key=value lines of section i of an INI text; with commented, the
 * "#key=value" lines instead (a "# " comment has a blank after the '#'). */
static Keys *ini_keys(const char *text, size_t i, bool commented)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *header = g_strdup_printf("[%s]", sections[i]);
	Keys *keys = keys_new();
	bool in = false;

	for (char **l = lines; *l; l++) {
		const char *line = *l, *eq;

		if (line[0] == '[') {
			in = strcmp(line, header) == 0;
			continue;
		}
		if (commented && (line[0] != '#' || line[1] == ' ' || line[1] == '\0'))
			continue;
		if (!commented && (line[0] == '#' || line[0] == '\0'))
			continue;
		line += commented;
		eq = strchr(line, '=');
		if (!in || !eq)
			continue;
		g_assert_false(g_hash_table_contains(keys, line)); /* no key twice */
		g_hash_table_insert(keys, g_strndup(line, (gsize)(eq - line)), g_strdup(eq + 1));
	}
	return keys;
}

static Keys *schema(size_t i)
{
	/* An empty regular file: the defaults (/dev/null is no regular file, and refused). */
	g_autofree char *empty = NULL;
	int fd = g_file_open_tmp("hvguest-empty-XXXXXX.conf", &empty, NULL);
	g_autofree char *out = NULL;
	Keys *keys;

	g_assert_cmpint(fd, >=, 0);
	close(fd);
	out = dump(i, empty);
	g_unlink(empty);
	keys = ini_keys(out, i, false);

	g_assert_cmpuint(g_hash_table_size(keys), >, 8);
	return keys;
}

static void assert_same_keys(Keys *want, Keys *got, const char *where, bool values)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (!g_hash_table_contains(got, k))
			g_test_message("%s lacks %s", where, (const char *)k);
		g_assert_true(g_hash_table_contains(got, k));
		if (values)
			g_assert_cmpstr(g_hash_table_lookup(got, k), ==, v);
	}
	g_hash_table_iter_init(&it, got);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		if (!g_hash_table_contains(want, k))
			g_test_message("%s has %s, which no daemon knows", where, (const char *)k);
		g_assert_true(g_hash_table_contains(want, k));
	}
}

static void test_default_file(void)
{
	g_autofree char *path = path_in("HVGUEST_BUILDDIR", "etc/hvguest.conf");
	g_autofree char *text = NULL, *plain = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-conf-docs-XXXXXX", NULL);
	g_autofree char *uncommented = g_build_filename(dir, "hvguest.conf", NULL);
	g_autoptr(GRegex) re = g_regex_new("^#(?=[a-z])", G_REGEX_MULTILINE, 0, NULL);

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	/* with every key uncommented, each section loads and sets exactly the defaults */
	plain = g_regex_replace(re, text, -1, 0, "", 0, NULL);
	g_assert_true(g_file_set_contents(uncommented, plain, -1, NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(sections); i++) {
		g_autoptr(GHashTable) want = schema(i);
		g_autoptr(GHashTable) file = ini_keys(text, i, true);
		g_autofree char *out = dump(i, uncommented);
		g_autoptr(GHashTable) loaded = ini_keys(out, i, false);

		assert_same_keys(want, file, sections[i], true);
		assert_same_keys(want, loaded, "the uncommented file", true);
	}
	g_unlink(uncommented);
	g_rmdir(dir);
}

/* The keys documented in the part of the man page under ".SH <title>". */
static Keys *man_keys(const char *text, const char *title)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *heading = g_strdup_printf(".SH %s", title);
	g_autoptr(GRegex) re = g_regex_new("^\\.B[IR]? ([a-z0-9-]+)=", 0, 0, NULL);
	Keys *keys = keys_new();
	bool in = false;

	for (char **l = lines; *l; l++) {
		g_autoptr(GMatchInfo) m = NULL;

		if (g_str_has_prefix(*l, ".SH ")) {
			in = strcmp(*l, heading) == 0;
			continue;
		}
		if (in && g_regex_match(re, *l, 0, &m))
			g_hash_table_insert(keys, g_match_info_fetch(m, 1), g_strdup(""));
	}
	return keys;
}

static void test_man_page(void)
{
	g_autofree char *path = path_in("HVGUEST_SRCDIR", "man/hvguest.conf.5");
	g_autofree char *text = NULL;
	g_autoptr(GHashTable) common = NULL;
	Keys *all[G_N_ELEMENTS(sections)];
	GHashTableIter it;
	gpointer k;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(sections); i++)
		all[i] = schema(i);
	/* the keys every section has */
	common = keys_new();
	g_hash_table_iter_init(&it, all[0]);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (g_hash_table_contains(all[1], k) && g_hash_table_contains(all[2], k))
			g_hash_table_insert(common, g_strdup(k), g_strdup(""));
	g_assert_true(g_hash_table_contains(common, "device"));
	{
		g_autoptr(GHashTable) documented = man_keys(text, "COMMON KEYS");
		assert_same_keys(common, documented, "COMMON KEYS", false);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(sections); i++) {
		g_autofree char *title = g_strdup_printf("[%s] SECTION", sections[i]);
		g_autoptr(GHashTable) documented = man_keys(text, title);

		g_hash_table_iter_init(&it, common);
		while (g_hash_table_iter_next(&it, &k, NULL))
			g_hash_table_remove(all[i], k);
		assert_same_keys(all[i], documented, title, false);
		g_hash_table_unref(all[i]);
	}
}

/* The text of the man page part under ".SH <title>", or NULL. */
static char *man_part(const char *text, const char *title)
{
	g_autofree char *heading = g_strdup_printf("\n.SH %s\n", title);
	const char *start = strstr(text, heading), *end;

	if (!start)
		return NULL;
	start += strlen(heading);
	end = strstr(start, "\n.SH ");
	return g_strndup(start, end ? (gsize)(end - start) : strlen(start));
}

static void test_daemon_pages(void)
{
	static const char *const required[] = {"OPTIONS",     "EXIT STATUS",    "SIGNALS",
					       "ENVIRONMENT", "JOURNAL FIELDS", "FILES"};
	g_autoptr(GRegex) re = g_regex_new("--([a-z][a-z-]*)", 0, 0, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(programs); i++) {
		g_autofree char *name = g_path_get_basename(programs[i]);
		g_autofree char *rel = g_strdup_printf("man/%s.8", name);
		g_autofree char *page = path_in("HVGUEST_SRCDIR", rel);
		g_autofree char *binary = path_in("HVGUEST_BUILDDIR", programs[i]);
		const char *argv[] = {binary, "--help", NULL};
		g_autofree char *text = NULL, *help = NULL, *options = NULL;
		g_autoptr(GMatchInfo) m = NULL;
		int status = -1;

		g_assert_true(g_file_get_contents(page, &text, NULL, NULL));
		for (size_t j = 0; j < G_N_ELEMENTS(required); j++) {
			g_autofree char *part = man_part(text, required[j]);
			if (!part)
				g_test_message("%s has no %s section", rel, required[j]);
			g_assert_nonnull(part);
		}
		g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
					   NULL, NULL, &help, NULL, &status, NULL));
		g_assert_cmpint(status, ==, 0);
		options = man_part(text, "OPTIONS");
		for (g_regex_match(re, help, 0, &m); g_match_info_matches(m);
		     g_match_info_next(m, NULL)) {
			g_autofree char *opt = g_match_info_fetch(m, 1);
			/* in troff source "--dump-config" is written \-\-dump\-config */
			g_auto(GStrv) parts = g_strsplit(opt, "-", -1);
			g_autofree char *joined = g_strjoinv("\\-", parts);
			g_autofree char *troff = g_strconcat("\\-\\-", joined, NULL);

			if (!strstr(options, troff))
				g_test_message("%s: OPTIONS lacks --%s", rel, opt);
			g_assert_nonnull(strstr(options, troff));
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf-docs/default-file", test_default_file);
	g_test_add_func("/conf-docs/man-page", test_man_page);
	g_test_add_func("/conf-docs/daemon-pages", test_daemon_pages);
	return g_test_run();
}
