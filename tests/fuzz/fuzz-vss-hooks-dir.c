/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-vssd's hooks directory listing (daemons/vss/hooks.c, hooks_list()).
 * The directory's entries are names and file types chosen by whoever installed them
 * (packages, admins, and, where the directory is writable, others), so the listing is fed
 * a real directory: hooks_list() reads it by path; on a tmpfs (/dev/shm) that costs little.
 *
 * The input is a list of entries, one per line: the first byte picks the kind (regular file
 * 0755, 0644 or 0100, directory, FIFO, symlink to an executable), the rest is the name
 * ('/' becomes '_', at most NAME_MAX bytes; ".", ".." and empty names are dropped, a
 * repeated name keeps its first kind). At most MAX_ENTRIES lines, so the HOOK_MAX_HOOKS
 * bound is reached. Checked:
 *   - the listing succeeds, is NULL-terminated, sorted bytewise without repeats and holds at
 *     most HOOK_MAX_HOOKS names;
 *   - every listed name was created as an executable regular file or a symlink to one, and
 *     is not one hooks_name_ignored() refuses;
 *   - complete: when the listing holds fewer than HOOK_MAX_HOOKS names and a probe hook
 *     (0755, made by this target; it shows that this environment's owner and mode checks
 *     accept our files) is listed, every 0755 regular file with an accepted name is listed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/vss/hooks.h"

#define MAX_ENTRIES 300
#define HOOKS_MAX 256 /* HOOK_MAX_HOOKS in hooks.c */
#define PROBE "\x01probe"

enum kind { EXEC, PLAIN, OWNER_EXEC, DIRECTORY, FIFO, SYMLINK, N_KINDS };

struct entry {
	char name[NAME_MAX + 1];
	enum kind kind;
};

static char base[] = "/dev/shm/fuzz-vss-hooks-XXXXXX";
static char dir[sizeof(base) + 8], target[sizeof(base) + 16];
static int dfd = -1;
static struct entry entries[MAX_ENTRIES + 1];
static size_t n_entries;

static void remove_all(void)
{
	for (size_t i = 0; i < n_entries; i++)
		unlinkat(dfd, entries[i].name, entries[i].kind == DIRECTORY ? AT_REMOVEDIR : 0);
	n_entries = 0;
}

static void cleanup(void)
{
	remove_all();
	unlink(target);
	rmdir(dir);
	rmdir(base);
}

/* base/hooks is the listed directory; base/target the executable symlinks point to. */
static void setup(void)
{
	int fd;

	if (dfd >= 0)
		return;
	/* a tmpfs makes the hundreds of entries of one input cheap; /tmp where there is none */
	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "/tmp/fuzz-vss-hooks-XXXXXX");
		CHECK(mkdtemp(base));
	}
	snprintf(dir, sizeof(dir), "%s/hooks", base);
	snprintf(target, sizeof(target), "%s/target", base);
	CHECK(mkdir(dir, 0755) == 0);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	CHECK(fd >= 0);
	close(fd);
	CHECK(chmod(target, 0755) == 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	atexit(cleanup);
}

static struct entry *find(const char *name)
{
	for (size_t i = 0; i < n_entries; i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

static int create(const char *name, enum kind kind)
{
	static const mode_t modes[] = {[EXEC] = 0755, [PLAIN] = 0644, [OWNER_EXEC] = 0100};
	int fd;

	switch (kind) {
	case EXEC:
	case PLAIN:
	case OWNER_EXEC:
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		/* the umask must not decide the mode */
		if (fchmod(fd, modes[kind]) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
		return 0;
	case DIRECTORY:
		return mkdirat(dfd, name, 0755) < 0 ? -errno : 0;
	case FIFO:
		return mkfifoat(dfd, name, 0755) < 0 ? -errno : 0;
	case SYMLINK:
		return symlinkat(target, dfd, name) < 0 ? -errno : 0;
	case N_KINDS:
		break;
	}
	return -EINVAL;
}

static void add(const char *name, enum kind kind)
{
	struct entry *e = &entries[n_entries];

	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || find(name))
		return;
	CHECK(create(name, kind) == 0);
	strcpy(e->name, name);
	e->kind = kind;
	n_entries++;
}

static void parse_input(const uint8_t *data, size_t size)
{
	size_t i = 0;

	while (i < size && n_entries < MAX_ENTRIES) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size, len = 0;
		char name[NAME_MAX + 1];
		enum kind kind = (enum kind)(data[i] % N_KINDS);

		for (size_t j = i + 1; j < end && len < NAME_MAX; j++)
			if (data[j])
				name[len++] = data[j] == '/' ? '_' : (char)data[j];
		name[len] = '\0';
		add(name, kind);
		i = end + 1;
	}
}

static void check_listing(char **v, size_t n)
{
	bool probe_listed = false;

	CHECK(n <= HOOKS_MAX && v[n] == NULL);
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = find(v[i]);

		CHECK(e);
		CHECK(e->kind == EXEC || e->kind == OWNER_EXEC || e->kind == SYMLINK);
		CHECK(!hooks_name_ignored(v[i]));
		if (i > 0)
			CHECK(strcmp(v[i - 1], v[i]) < 0);
		probe_listed |= strcmp(v[i], PROBE) == 0;
	}
	if (n == HOOKS_MAX || !probe_listed)
		return;
	for (size_t i = 0; i < n_entries; i++) {
		bool listed = false;

		if (entries[i].kind != EXEC || hooks_name_ignored(entries[i].name))
			continue;
		for (size_t j = 0; j < n && !listed; j++)
			listed = strcmp(v[j], entries[i].name) == 0;
		CHECK(listed);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **v = NULL;
	size_t n = 0;

	setup();
	add(PROBE, EXEC);
	parse_input(data, size);
	CHECK(hooks_list(dir, &v, &n) == 0);
	check_listing(v, n);
	strv_free(v);
	remove_all();
	return 0;
}
