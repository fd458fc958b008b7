/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/vss/plan.c: the freeze plan from mountinfo fixture text
 * (tests/unit/fixtures/mountinfo/). No real mount is looked at, let alone frozen.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "daemons/vss/plan.h"

struct loop_map {
	unsigned major, minor;
	const char *backing;
};

static const struct loop_map default_loops[] = {
    {7, 0, "/var/lib/images/disk.img"},
    {7, 1, "/data/images/inner.img"},
    {7, 2, "/mnt/inner/nested.img (deleted)"},
    {7, 3, "/var/tmp/onroot.img"},
    {0, 0, NULL},
};

static int fake_backing(unsigned major, unsigned minor, char **ret, void *userdata)
{
	const struct loop_map *m = userdata ? userdata : default_loops;

	for (; m->backing; m++)
		if (m->major == major && m->minor == minor) {
			*ret = g_strdup(m->backing);
			return 0;
		}
	return -ENOENT;
}

static char *fixture_text(const char *name, size_t *ret_len)
{
	const char *src = g_getenv("HVGUEST_SRCDIR");
	g_autofree char *path =
	    g_build_filename(src ? src : ".", "tests/unit/fixtures/mountinfo", name, NULL);
	char *text = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	*ret_len = len;
	return text;
}

static const char *const journal_dirs[] = {"/var/log/journal", "/run/log/journal", NULL};
static const char *const default_exclude[] = {"vfat", "msdos", "/boot/efi", NULL};

static struct plan *build(const char *fixture, const struct plan_config *c)
{
	size_t len;
	g_autofree char *text = fixture_text(fixture, &len);
	struct plan *p = NULL;

	g_assert_cmpint(plan_build_from_text(text, len, c, &p), ==, 0);
	g_assert_nonnull(p);
	return p;
}

static const struct plan_entry *find(const struct plan *p, const char *target)
{
	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].target, target) == 0)
			return &p->entries[i];
	g_error("no entry %s", target);
	return NULL;
}

static void assert_order(const struct plan *p, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		const struct plan_entry *e = plan_frozen(p, n);

		g_assert_nonnull(e);
		g_assert_cmpstr(e->target, ==, want[n]);
		g_assert_cmpuint(e->order, ==, n + 1);
		g_assert_cmpint(e->skip, ==, PLAN_SKIP_NONE);
	}
	g_assert_cmpuint(p->n_freeze, ==, n);
	g_assert_null(plan_frozen(p, n));
}

static void assert_skip(const struct plan *p, const char *target, enum plan_skip skip,
			const char *detail)
{
	const struct plan_entry *e = find(p, target);

	g_assert_cmpstr(plan_skip_reason(e->skip), ==, plan_skip_reason(skip));
	g_assert_cmpuint(e->order, ==, 0);
	g_assert_cmpstr(e->detail, ==, detail);
}

static void test_server(void)
{
	struct plan_config c = {
	    .exclude = default_exclude, .journal_dirs = journal_dirs, .loop_backing = fake_backing};
	struct plan *p = build("server.txt", &c);
	const char *const order[] = {
	    "/var/lib/images/mnt", "/mnt/btrfs", "/home", "/var", "/", NULL};

	g_assert_cmpuint(p->n_entries, ==, 18);
	assert_order(p, order);
	assert_skip(p, "/proc", PLAN_SKIP_PSEUDO, NULL);
	assert_skip(p, "/sys", PLAN_SKIP_PSEUDO, NULL);
	assert_skip(p, "/dev", PLAN_SKIP_PSEUDO, NULL);
	assert_skip(p, "/run", PLAN_SKIP_PSEUDO, NULL);
	assert_skip(p, "/run/user/1000", PLAN_SKIP_PSEUDO, NULL);
	/* a bind mount and a btrfs subvolume: the superblock is frozen once */
	assert_skip(p, "/srv/data", PLAN_SKIP_DUPLICATE, "/home");
	assert_skip(p, "/mnt/btrfs-snap", PLAN_SKIP_DUPLICATE, "/mnt/btrfs");
	/* a read-only bind mount of a writable superblock: frozen through /home */
	assert_skip(p, "/mnt/alice-ro", PLAN_SKIP_READ_ONLY, NULL);
	assert_skip(p, "/mnt/archive", PLAN_SKIP_READ_ONLY, NULL);
	assert_skip(p, "/boot/efi", PLAN_SKIP_EXCLUDED, "vfat");
	assert_skip(p, "/mnt/nfs", PLAN_SKIP_NETWORK, NULL);
	assert_skip(p, "/mnt/sshfs", PLAN_SKIP_FUSE, NULL);
	assert_skip(p, "/mnt/usb", PLAN_SKIP_FUSE, NULL);
	/* the loop image lives on /var: frozen before /var; /var holds the journal */
	g_assert_cmpstr(find(p, "/var/lib/images/mnt")->backing, ==, "/var/lib/images/disk.img");
	g_assert_cmpint(find(p, "/var/lib/images/mnt")->loop_host, ==, 6);
	g_assert_cmpint(find(p, "/var")->rank, ==, PLAN_RANK_JOURNAL);
	g_assert_cmpint(find(p, "/")->rank, ==, PLAN_RANK_ROOT);
	g_assert_cmpuint(find(p, "/home")->major, ==, 254);
	g_assert_cmpuint(find(p, "/home")->minor, ==, 2);
	g_assert_true(plan_freezes_path(p, "/var/log/journal"));
	g_assert_true(plan_freezes_path(p, "/srv/data/x")); /* via /home's superblock */
	g_assert_false(plan_freezes_path(p, "/run/hvguest"));
	g_assert_false(plan_freezes_path(p, "/mnt/nfs/x"));
	plan_free(p);
}

/* Without a journal directory configured, /var is an ordinary file system. */
static void test_no_journal(void)
{
	struct plan_config c = {.exclude = default_exclude, .loop_backing = fake_backing};
	struct plan *p = build("server.txt", &c);
	const char *const order[] = {
	    "/var/lib/images/mnt", "/mnt/btrfs", "/var", "/home", "/", NULL};

	assert_order(p, order);
	plan_free(p);
}

static void test_journal_late(void)
{
	struct plan_config c = {.journal_dirs = journal_dirs};
	struct plan *p = build("journal.txt", &c);
	const char *const order[] = {"/opt", "/srv", "/var/log", "/", NULL};

	assert_order(p, order);
	plan_free(p);
}

/* /mnt/nested's image lies on /mnt/inner, whose image lies on /data: nested, inner, data. */
static void test_loop_chain(void)
{
	struct plan_config c = {.loop_backing = fake_backing};
	struct plan *p = build("loop-chain.txt", &c);
	const char *const order[] = {"/mnt/onroot", "/mnt/nested", "/mnt/inner",
				     "/data",       "/",           NULL};
	g_autofree char *printed = NULL;
	size_t size = 0;
	FILE *f;

	assert_order(p, order);
	g_assert_cmpstr(find(p, "/mnt/nested")->backing, ==, "/mnt/inner/nested.img (deleted)");
	f = open_memstream(&printed, &size);
	plan_print(p, f);
	fclose(f);
	g_assert_nonnull(strstr(printed, "freeze\t3\t/mnt/inner\text4\t7:1\tloop device backed by "
					 "/data/images/inner.img on /data: frozen before it\n"));
	g_assert_nonnull(strstr(printed, "freeze\t5\t/\text4\t254:1\troot file system: frozen "
					 "last\n"));
	plan_free(p);
}

/* Unknown backing file: no constraint, ordinary order. */
static void test_loop_unknown_backing(void)
{
	static const struct loop_map none[] = {{0, 0, NULL}};
	struct plan_config c = {.loop_backing = fake_backing, .userdata = (void *)none};
	struct plan *p = build("loop-chain.txt", &c);
	const char *const order[] = {"/mnt/onroot", "/mnt/nested", "/data",
				     "/mnt/inner",  "/",           NULL};

	assert_order(p, order);
	g_assert_null(find(p, "/mnt/inner")->backing);
	plan_free(p);
}

static void test_scope(void)
{
	struct plan_config c = {.scope = "/srv/t/mnt/", .loop_backing = fake_backing};
	struct plan *p = build("scoped.txt", &c);
	const char *const order[] = {"/srv/t/mnt/space name", "/srv/t/mnt/b", "/srv/t/mnt/a", NULL};

	g_assert_cmpstr(p->scope, ==, "/srv/t/mnt");
	assert_order(p, order);
	assert_skip(p, "/", PLAN_SKIP_OUTSIDE_SCOPE, NULL);
	assert_skip(p, "/tmp", PLAN_SKIP_OUTSIDE_SCOPE, NULL);
	/* a prefix that is not a path prefix */
	assert_skip(p, "/srv/t/mntx", PLAN_SKIP_OUTSIDE_SCOPE, NULL);
	/* root's superblock bind-mounted inside the scope: never frozen */
	assert_skip(p, "/srv/t/mnt/rootbind", PLAN_SKIP_SHARED_OUTSIDE_SCOPE, "/");
	assert_skip(p, "/srv/t/mnt/other-bind", PLAN_SKIP_SHARED_OUTSIDE_SCOPE, "/var/lib/other");
	assert_skip(p, "/srv/t/mnt/tm", PLAN_SKIP_PSEUDO, NULL);
	assert_skip(p, "/srv/t/mnt/a-bind", PLAN_SKIP_DUPLICATE, "/srv/t/mnt/a");
	g_assert_false(plan_freezes_path(p, "/"));
	g_assert_false(plan_freezes_path(p, "/srv/t/run"));
	g_assert_true(plan_freezes_path(p, "/srv/t/mnt/a/x"));
	plan_free(p);
}

/* include= can name a pseudo file system (forced); it can never widen the scope. */
static void test_include_forces_but_not_past_scope(void)
{
	const char *const include[] = {"/srv/t/mnt/a",        "/srv/t/mnt/tm", "/",
				       "/srv/t/mnt/rootbind", "ext4",          NULL};
	struct plan_config c = {
	    .scope = "/srv/t/mnt", .include = include, .loop_backing = fake_backing};
	struct plan *p = build("scoped.txt", &c);
	const char *const order[] = {"/srv/t/mnt/space name", "/srv/t/mnt/tm", "/srv/t/mnt/a",
				     NULL};

	assert_order(p, order);
	assert_skip(p, "/", PLAN_SKIP_OUTSIDE_SCOPE, NULL);
	assert_skip(p, "/srv/t/mnt/rootbind", PLAN_SKIP_SHARED_OUTSIDE_SCOPE, "/");
	assert_skip(p, "/srv/t/mnt/b", PLAN_SKIP_NOT_INCLUDED, NULL);
	plan_free(p);
}

static void test_exclude(void)
{
	const char *const exclude[] = {"xfs", "/srv/t/mnt/space*", NULL};
	struct plan_config c = {
	    .scope = "/srv/t/mnt", .exclude = exclude, .loop_backing = fake_backing};
	struct plan *p = build("scoped.txt", &c);
	const char *const order[] = {"/srv/t/mnt/a", NULL};

	assert_order(p, order);
	assert_skip(p, "/srv/t/mnt/b", PLAN_SKIP_EXCLUDED, "xfs");
	assert_skip(p, "/srv/t/mnt/space name", PLAN_SKIP_EXCLUDED, "/srv/t/mnt/space*");
	plan_free(p);
}

/* Exclude wins over include. */
static void test_exclude_over_include(void)
{
	const char *const include[] = {"/srv/t/mnt/*", NULL};
	const char *const exclude[] = {"/srv/t/mnt/b", NULL};
	struct plan_config c = {.scope = "/srv/t/mnt",
				.include = include,
				.exclude = exclude,
				.loop_backing = fake_backing};
	struct plan *p = build("scoped.txt", &c);
	const char *const order[] = {"/srv/t/mnt/space name", "/srv/t/mnt/tm", "/srv/t/mnt/a",
				     NULL};

	assert_order(p, order);
	assert_skip(p, "/srv/t/mnt/b", PLAN_SKIP_EXCLUDED, "/srv/t/mnt/b");
	plan_free(p);
}

static void test_print(void)
{
	struct plan_config c = {.scope = "/srv/t/mnt", .loop_backing = fake_backing};
	struct plan *p = build("scoped.txt", &c);
	g_autofree char *printed = NULL, *list = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&printed, &size);

	plan_print(p, f);
	fclose(f);
	g_assert_true(g_str_has_prefix(printed, "# freeze plan, scope /srv/t/mnt: 3 to freeze, 8 "
						"left alone; thaw in reverse\n"
						"freeze\t1\t/srv/t/mnt/space name\text4\t7:3\t"
						"writable file system\n"
						"freeze\t2\t/srv/t/mnt/b\txfs\t7:1\t"));
	g_assert_nonnull(strstr(printed, "skip\t-\t/\text4\t254:1\toutside the scope "
					 "/srv/t/mnt\n"));
	g_assert_nonnull(strstr(printed, "skip\t-\t/srv/t/mnt/a-bind\text4\t7:0\tsame superblock "
					 "as another frozen mount (/srv/t/mnt/a)\n"));
	g_assert_nonnull(strstr(printed, "skip\t-\t/srv/t/mnt/tm\ttmpfs\t0:50\tpseudo file "
					 "system\n"));
	list = plan_frozen_list(p);
	g_assert_cmpstr(list, ==, "/srv/t/mnt/space name,/srv/t/mnt/b,/srv/t/mnt/a");
	plan_free(p);
}

static void test_mount_of(void)
{
	struct plan_config c = {.loop_backing = fake_backing};
	struct plan *p = build("server.txt", &c);

	g_assert_cmpint(plan_mount_of(p, "/"), ==, 0);
	g_assert_cmpint(plan_mount_of(p, "/varx"), ==, 0);
	g_assert_cmpint(plan_mount_of(p, "/var"), ==, 6);
	g_assert_cmpint(plan_mount_of(p, "/var/lib/images/mnt/f"), ==, 14);
	g_assert_cmpint(plan_mount_of(p, "relative"), ==, -1);
	g_assert_cmpint(plan_mount_of(p, NULL), ==, -1);
	plan_free(p);
}

static void test_broken_and_empty(void)
{
	struct plan_config c = {0};
	struct plan *p = NULL;
	size_t len;
	g_autofree char *text = fixture_text("broken.txt", &len);

	/* A line that cannot be read might be a mount outside the scope: refuse the table. */
	g_assert_cmpint(plan_build_from_text(text, len, &c, &p), ==, -EBADMSG);
	g_assert_null(p);
	p = build("empty.txt", &c);
	g_assert_cmpuint(p->n_entries, ==, 0);
	assert_order(p, (const char *const[]){NULL});
	plan_free(p);
	g_assert_cmpint(plan_build_from_text("", 0, &c, &p), ==, 0);
	g_assert_cmpuint(p->n_entries, ==, 0);
	plan_free(p);
	g_assert_cmpint(plan_build_from_file("/nonexistent/mountinfo", &c, &p), ==, -ENOENT);
	g_assert_null(plan_free(NULL));
}

static void test_match(void)
{
	const char *const globs[] = {"/mnt/*", "ext?", NULL};
	const char *glob = NULL;

	g_assert_true(plan_match(globs, "/mnt/a", "xfs", &glob));
	g_assert_cmpstr(glob, ==, "/mnt/*");
	g_assert_true(plan_match(globs, "/srv", "ext4", &glob));
	g_assert_cmpstr(glob, ==, "ext?");
	g_assert_false(plan_match(globs, "/srv", "xfs", NULL));
	/* a type glob never matches a mount point and the other way round */
	g_assert_false(plan_match((const char *const[]){"mnt", NULL}, "mnt", "xfs", NULL));
	g_assert_false(plan_match(NULL, "/", "ext4", NULL));
	g_assert_cmpstr(plan_skip_reason(_PLAN_SKIP_MAX), ==, "unknown");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vss-plan/server", test_server);
	g_test_add_func("/vss-plan/no-journal", test_no_journal);
	g_test_add_func("/vss-plan/journal-late", test_journal_late);
	g_test_add_func("/vss-plan/loop-chain", test_loop_chain);
	g_test_add_func("/vss-plan/loop-unknown-backing", test_loop_unknown_backing);
	g_test_add_func("/vss-plan/scope", test_scope);
	g_test_add_func("/vss-plan/include-forces-not-past-scope",
			test_include_forces_but_not_past_scope);
	g_test_add_func("/vss-plan/exclude", test_exclude);
	g_test_add_func("/vss-plan/exclude-over-include", test_exclude_over_include);
	g_test_add_func("/vss-plan/print", test_print);
	g_test_add_func("/vss-plan/mount-of", test_mount_of);
	g_test_add_func("/vss-plan/broken-and-empty", test_broken_and_empty);
	g_test_add_func("/vss-plan/match", test_match);
	return g_test_run();
}
