/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freeze plan: mount table -> ordered list of superblocks to freeze.
 *
 * Every mount gets exactly one verdict; the first rule that applies wins:
 *   1. outside scope=            never frozen, whatever include= says (the hard limit that
 *                                keeps tests and partial set-ups away from the real disks);
 *   2. its superblock is also mounted outside the scope: freezing it would freeze that
 *      mount too, so it is left alone as well;
 *   3. read-only (the superblock or this mount): nothing to make consistent;
 *   4. include= is set and matches neither the mount point nor the type;
 *   5. exclude= matches the mount point or the type;
 *   6. FUSE, network, pseudo file systems (libmount's classification), unless include=
 *      named the mount explicitly (so a test or an administrator can force one);
 *   7. another mount of the same superblock (bind mounts, btrfs subvolumes: mountinfo's
 *      major:minor, which is the superblock's, while stat()'s st_dev differs per btrfs
 *      subvolume) is already in the plan: frozen once.
 *
 * Order: reverse mount-table order (children before their parents), the file system
 * holding the journal late, the root file system last. Then one constraint overrides the
 * ranks: a file system on a loop device is frozen BEFORE the file system holding its
 * backing file. The other way round, freezing the loop-backed one would have to write its
 * dirty data into a backing file on an already frozen file system and would hang. Thaw is
 * the exact reverse.
 *
 * Nothing here opens, stats or freezes a mount point; the loop device's backing file comes
 * from sysfs (or a callback in tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libmount.h>

#include "plan.h"

static const char *const plan_skip_reasons[_PLAN_SKIP_MAX] = {
    [PLAN_SKIP_NONE] = "frozen",
    [PLAN_SKIP_OUTSIDE_SCOPE] = "outside the scope",
    [PLAN_SKIP_SHARED_OUTSIDE_SCOPE] = "superblock also mounted outside the scope",
    [PLAN_SKIP_READ_ONLY] = "read-only",
    [PLAN_SKIP_NOT_INCLUDED] = "not matched by include=",
    [PLAN_SKIP_EXCLUDED] = "excluded",
    [PLAN_SKIP_PSEUDO] = "pseudo file system",
    [PLAN_SKIP_NETWORK] = "network file system",
    [PLAN_SKIP_FUSE] = "FUSE (its server runs in user space and could hang the freeze)",
    [PLAN_SKIP_DUPLICATE] = "same superblock as another frozen mount",
};

const char *plan_skip_reason(enum plan_skip s)
{
	return (unsigned)s < _PLAN_SKIP_MAX ? plan_skip_reasons[s] : "unknown";
}

/* Facts from one mount-table line that the rules need. */
struct plan_raw {
	bool read_only, pseudo, network, fuse;
};

/* ---------------------------------------------------------------- helpers */

static bool path_in(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static char *normalise_scope(const char *scope)
{
	size_t n;
	char *s;

	if (!scope || !*scope)
		return strdup("/");
	s = strdup(scope);
	if (!s)
		return NULL;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

bool plan_match(const char *const *globs, const char *target, const char *fstype,
		const char **ret_glob)
{
	for (; globs && *globs; globs++) {
		const char *g = *globs;
		bool hit = g[0] == '/' ? fnmatch(g, target, 0) == 0
				       : fnmatch(g, fstype ? fstype : "", 0) == 0;

		if (hit) {
			if (ret_glob)
				*ret_glob = g;
			return true;
		}
	}
	return false;
}

static bool has_globs(const char *const *globs)
{
	return globs && globs[0] && globs[0][0];
}

static bool opt_has(const char *optstr, const char *name)
{
	return optstr && mnt_optstr_get_option(optstr, name, NULL, NULL) == 0;
}

static bool is_fuse(const char *fstype)
{
	return fstype && (strcmp(fstype, "fuse") == 0 || strncmp(fstype, "fuse.", 5) == 0 ||
			  strcmp(fstype, "fuseblk") == 0 || strcmp(fstype, "fusectl") == 0);
}

static int read_sysfs_backing(unsigned major, unsigned minor, char **ret, void *userdata)
{
	char path[64], buf[4097];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major, minor);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	n = (ssize_t)strlen(buf);
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		buf[n - 10] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- object */

struct plan *plan_free(struct plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_entries; i++) {
		free(p->entries[i].target);
		free(p->entries[i].fstype);
		free(p->entries[i].source);
		free(p->entries[i].detail);
		free(p->entries[i].backing);
	}
	free(p->entries);
	free(p->freeze);
	free(p->scope);
	free(p);
	return NULL;
}

static void plan_freep(struct plan **p)
{
	plan_free(*p);
}
#define _cleanup_plan_ __attribute__((cleanup(plan_freep)))

static int plan_add(struct plan *p, struct libmnt_fs *fs, struct plan_raw *raws, size_t *cap)
{
	const char *target = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
	const char *source = mnt_fs_get_source(fs);
	dev_t devno = mnt_fs_get_devno(fs);
	struct plan_entry *e;

	if (!target)
		return 0; /* not a mount (cannot happen in mountinfo) */
	if (p->n_entries == *cap)
		return -ENOBUFS;
	e = &p->entries[p->n_entries];
	*e = (struct plan_entry){.major = major(devno),
				 .minor = minor(devno),
				 .mnt_id = mnt_fs_get_id(fs),
				 .loop_host = -1};
	e->target = strdup(target);
	e->fstype = strdup(type ? type : "");
	e->source = strdup(source ? source : "");
	p->n_entries++; /* freed with the plan even when a strdup failed */
	if (!e->target || !e->fstype || !e->source)
		return -ENOMEM;
	raws[p->n_entries - 1] = (struct plan_raw){
	    .read_only = opt_has(mnt_fs_get_fs_options(fs), "ro") ||
			 opt_has(mnt_fs_get_vfs_options(fs), "ro"),
	    .pseudo = mnt_fs_is_pseudofs(fs),
	    .network = mnt_fs_is_netfs(fs),
	    .fuse = is_fuse(type),
	};
	return 0;
}

/* ---------------------------------------------------------------- rules */

static bool same_sb(const struct plan_entry *a, const struct plan_entry *b)
{
	return a->major == b->major && a->minor == b->minor;
}

static int set_detail(struct plan_entry *e, const char *detail)
{
	free(e->detail);
	e->detail = strdup(detail);
	return e->detail ? 0 : -ENOMEM;
}

/* Rule 2: another mount of the superblock outside the scope. */
static const struct plan_entry *shared_outside(const struct plan *p, const struct plan_entry *e)
{
	for (size_t i = 0; i < p->n_entries; i++)
		if (same_sb(&p->entries[i], e) && !path_in(p->entries[i].target, p->scope))
			return &p->entries[i];
	return NULL;
}

static int classify(struct plan *p, size_t i, const struct plan_raw *raw,
		    const struct plan_config *c)
{
	struct plan_entry *e = &p->entries[i];
	const struct plan_entry *other;
	const char *glob = NULL;
	bool forced = false;

	if (!path_in(e->target, p->scope)) {
		e->skip = PLAN_SKIP_OUTSIDE_SCOPE;
		return 0;
	}
	other = shared_outside(p, e);
	if (other) {
		e->skip = PLAN_SKIP_SHARED_OUTSIDE_SCOPE;
		return set_detail(e, other->target);
	}
	if (raw->read_only) {
		e->skip = PLAN_SKIP_READ_ONLY;
		return 0;
	}
	if (has_globs(c->include)) {
		forced = plan_match(c->include, e->target, e->fstype, NULL);
		if (!forced) {
			e->skip = PLAN_SKIP_NOT_INCLUDED;
			return 0;
		}
	}
	if (plan_match(c->exclude, e->target, e->fstype, &glob)) {
		e->skip = PLAN_SKIP_EXCLUDED;
		return set_detail(e, glob);
	}
	if (!forced && raw->fuse)
		e->skip = PLAN_SKIP_FUSE;
	else if (!forced && raw->network)
		e->skip = PLAN_SKIP_NETWORK;
	else if (!forced && raw->pseudo)
		e->skip = PLAN_SKIP_PSEUDO;
	return 0;
}

/* Rule 7: the first candidate of each superblock is frozen, later ones are duplicates. */
static int dedupe(struct plan *p)
{
	for (size_t i = 0; i < p->n_entries; i++) {
		struct plan_entry *e = &p->entries[i];

		if (e->skip != PLAN_SKIP_NONE)
			continue;
		for (size_t j = 0; j < i; j++)
			if (p->entries[j].skip == PLAN_SKIP_NONE && same_sb(&p->entries[j], e)) {
				e->skip = PLAN_SKIP_DUPLICATE;
				if (set_detail(e, p->entries[j].target) < 0)
					return -ENOMEM;
				break;
			}
	}
	return 0;
}

ssize_t plan_mount_of(const struct plan *p, const char *path)
{
	ssize_t best = -1;
	size_t best_len = 0;

	for (size_t i = 0; path && i < p->n_entries; i++) {
		size_t n = strlen(p->entries[i].target);

		/* The last of equally long matches is the one on top (mounted later). */
		if (path_in(path, p->entries[i].target) && (best < 0 || n >= best_len)) {
			best = (ssize_t)i;
			best_len = n;
		}
	}
	return best;
}

/* The frozen entry of the superblock that holds path, or -1. */
static ssize_t frozen_holder(const struct plan *p, const char *path)
{
	ssize_t m = plan_mount_of(p, path);

	if (m < 0)
		return -1;
	for (size_t i = 0; i < p->n_entries; i++)
		if (p->entries[i].skip == PLAN_SKIP_NONE && same_sb(&p->entries[i], &p->entries[m]))
			return (ssize_t)i;
	return -1;
}

bool plan_freezes_path(const struct plan *p, const char *path)
{
	return frozen_holder(p, path) >= 0;
}

static void rank(struct plan *p, const struct plan_config *c)
{
	for (const char *const *j = c->journal_dirs; j && *j; j++) {
		ssize_t h = frozen_holder(p, *j);

		if (h >= 0)
			p->entries[h].rank = PLAN_RANK_JOURNAL;
	}
	ssize_t root = frozen_holder(p, "/");

	if (root >= 0)
		p->entries[root].rank = PLAN_RANK_ROOT;
}

static int find_loop_hosts(struct plan *p, const struct plan_config *c)
{
	plan_loop_backing_fn backing = c->loop_backing ? c->loop_backing : read_sysfs_backing;

	for (size_t i = 0; i < p->n_entries; i++) {
		struct plan_entry *e = &p->entries[i];
		ssize_t h;

		if (e->skip != PLAN_SKIP_NONE || e->major != PLAN_LOOP_MAJOR)
			continue;
		if (backing(e->major, e->minor, &e->backing, c->userdata) < 0 || !e->backing)
			continue; /* unknown backing file: no constraint known */
		h = frozen_holder(p, e->backing);
		if (h >= 0 && h != (ssize_t)i)
			e->loop_host = h;
	}
	return 0;
}

/* ---------------------------------------------------------------- order */

static size_t position(const struct plan *p, size_t entry)
{
	for (size_t i = 0; i < p->n_freeze; i++)
		if (p->freeze[i] == entry)
			return i;
	return p->n_freeze;
}

/* Moves the entry at position from to position to (to < from). */
static void move_before(struct plan *p, size_t from, size_t to)
{
	size_t v = p->freeze[from];

	memmove(&p->freeze[to + 1], &p->freeze[to], (from - to) * sizeof(size_t));
	p->freeze[to] = v;
}

/* Loop-backed file systems before their hosts; bounded passes (a cycle cannot exist in a
 * real mount table, but the input may be anything). */
static void apply_loop_constraints(struct plan *p)
{
	for (size_t pass = 0; pass <= p->n_freeze; pass++) {
		bool moved = false;

		for (size_t i = 0; i < p->n_freeze; i++) {
			const struct plan_entry *e = &p->entries[p->freeze[i]];
			size_t h;

			if (e->loop_host < 0)
				continue;
			h = position(p, (size_t)e->loop_host);
			if (h < i) {
				move_before(p, i, h);
				moved = true;
			}
		}
		if (!moved)
			return;
	}
}

static int order(struct plan *p)
{
	p->freeze = calloc(p->n_entries ? p->n_entries : 1, sizeof(size_t));
	if (!p->freeze)
		return -ENOMEM;
	for (int r = PLAN_RANK_NORMAL; r <= PLAN_RANK_ROOT; r++)
		for (size_t i = p->n_entries; i-- > 0;)
			if (p->entries[i].skip == PLAN_SKIP_NONE && (int)p->entries[i].rank == r)
				p->freeze[p->n_freeze++] = i;
	apply_loop_constraints(p);
	for (size_t i = 0; i < p->n_freeze; i++)
		p->entries[p->freeze[i]].order = i + 1;
	return 0;
}

/* ---------------------------------------------------------------- build */

static int parse_error(struct libmnt_table *tb, const char *filename, int line)
{
	int *errors = mnt_table_get_userdata(tb);

	(*errors)++;
	return 1; /* skip the line; the whole table is refused afterwards */
}

static int plan_build_from_table(struct libmnt_table *tb, const struct plan_config *c,
				 struct plan **ret)
{
	_cleanup_plan_ struct plan *p = calloc(1, sizeof(*p));
	struct libmnt_iter *itr = mnt_new_iter(MNT_ITER_FORWARD);
	struct plan_raw *raws = NULL;
	struct libmnt_fs *fs;
	size_t cap = (size_t)mnt_table_get_nents(tb);
	int r = 0;

	if (!p || !itr || !(p->scope = normalise_scope(c->scope)))
		r = -ENOMEM;
	if (r == 0) {
		p->entries = calloc(cap ? cap : 1, sizeof(*p->entries));
		raws = calloc(cap ? cap : 1, sizeof(*raws));
		if (!p->entries || !raws)
			r = -ENOMEM;
	}
	while (r == 0 && mnt_table_next_fs(tb, itr, &fs) == 0)
		r = plan_add(p, fs, raws, &cap);
	for (size_t i = 0; r == 0 && i < p->n_entries; i++)
		r = classify(p, i, &raws[i], c);
	mnt_free_iter(itr);
	free(raws);
	if (r == 0)
		r = dedupe(p);
	if (r == 0) {
		rank(p, c);
		r = find_loop_hosts(p, c);
	}
	if (r == 0)
		r = order(p);
	if (r < 0)
		return r;
	*ret = p;
	p = NULL;
	return 0;
}

static int plan_build_from_stream(FILE *f, const char *name, const struct plan_config *c,
				  struct plan **ret)
{
	struct libmnt_table *tb = mnt_new_table();
	int errors = 0, r;

	if (!tb)
		return -ENOMEM;
	mnt_table_set_userdata(tb, &errors);
	mnt_table_set_parser_errcb(tb, parse_error);
	r = mnt_table_parse_stream(tb, f, name);
	if (r >= 0 && errors > 0)
		r = -EBADMSG; /* a line we cannot read might be a mount outside the scope */
	if (r >= 0)
		r = plan_build_from_table(tb, c, ret);
	mnt_unref_table(tb);
	return r < 0 ? r : 0;
}

int plan_build_from_file(const char *mountinfo, const struct plan_config *c, struct plan **ret)
{
	const char *path = mountinfo ? mountinfo : "/proc/self/mountinfo";
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return -errno;
	r = plan_build_from_stream(f, path, c, ret);
	fclose(f);
	return r;
}

int plan_build_from_text(const char *text, size_t len, const struct plan_config *c,
			 struct plan **ret)
{
	static const char empty[] = "\n";
	FILE *f;
	int r;

	if (len == 0) {
		text = empty;
		len = 1;
	}
	f = fmemopen((void *)text, len, "r");
	if (!f)
		return -errno;
	r = plan_build_from_stream(f, "<text>", c, ret);
	fclose(f);
	return r;
}

/* ---------------------------------------------------------------- output */

const struct plan_entry *plan_frozen(const struct plan *p, size_t i)
{
	return i < p->n_freeze ? &p->entries[p->freeze[i]] : NULL;
}

static void print_frozen(const struct plan *p, const struct plan_entry *e, FILE *f)
{
	fprintf(f, "freeze\t%zu\t%s\t%s\t%u:%u\t", e->order, e->target, e->fstype, e->major,
		e->minor);
	if (e->loop_host >= 0)
		fprintf(f, "loop device backed by %s on %s: frozen before it", e->backing,
			p->entries[e->loop_host].target);
	else if (e->rank == PLAN_RANK_ROOT)
		fputs("root file system: frozen last", f);
	else if (e->rank == PLAN_RANK_JOURNAL)
		fputs("holds the journal: frozen late", f);
	else
		fputs("writable file system", f);
	fputc('\n', f);
}

static void print_skipped(const struct plan *p, const struct plan_entry *e, FILE *f)
{
	fprintf(f, "skip\t-\t%s\t%s\t%u:%u\t%s", e->target, e->fstype, e->major, e->minor,
		plan_skip_reason(e->skip));
	if (e->skip == PLAN_SKIP_OUTSIDE_SCOPE)
		fprintf(f, " %s", p->scope);
	else if (e->detail && e->skip == PLAN_SKIP_EXCLUDED)
		fprintf(f, " by %s", e->detail);
	else if (e->detail)
		fprintf(f, " (%s)", e->detail);
	fputc('\n', f);
}

void plan_print(const struct plan *p, FILE *f)
{
	fprintf(f, "# freeze plan, scope %s: %zu to freeze, %zu left alone; thaw in reverse\n",
		p->scope, p->n_freeze, p->n_entries - p->n_freeze);
	for (size_t i = 0; i < p->n_freeze; i++)
		print_frozen(p, plan_frozen(p, i), f);
	for (size_t i = 0; i < p->n_entries; i++)
		if (p->entries[i].skip != PLAN_SKIP_NONE)
			print_skipped(p, &p->entries[i], f);
}

char *plan_frozen_list(const struct plan *p)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < p->n_freeze; i++)
		fprintf(f, "%s%s", i ? "," : "", plan_frozen(p, i)->target);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
