/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safe, atomic creation of the file the host names.
 *
 * Threat model: the host names a path; local users may own directories along it and plant
 * symlinks or hard links there while we work. We run as root. So:
 *
 *   - The directory is resolved one component at a time from an fd, never from a path
 *     string the kernel re-resolves: openat(O_PATH|O_NOFOLLOW) per component, fstat() on
 *     what was opened. openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH) is tried first as the
 *     fast path; any failure falls back to the walk, which also creates missing directories
 *     (CREATE_PATH: every one, the last included) and applies the parent-symlink rule.
 *   - Parent-symlink rule (enum target_parent_symlinks): "deny" refuses every symlink,
 *     "root-owned" (default) follows a symlink only when root owns the link itself (an
 *     unprivileged user cannot create one; /var/run -> /run keeps working), "follow" follows
 *     any. The owner is checked on the fd of the link we opened and the target read with
 *     readlinkat() on the same fd, so the link cannot be swapped in between. A followed
 *     link's target is resolved by the same rules (no creation inside it; ".." allowed
 *     there only, since root wrote it). With an allowlist the walk starts at the allowed
 *     root and symlinks below it are always refused, so the result stays beneath it.
 *   - The final component is never opened or followed: the data goes to a new temporary
 *     file in the target directory (O_TMPFILE where supported, else a hidden
 *     ".hv-fcopy-XXXXXX.part" created O_EXCL|O_NOFOLLOW), and COMPLETE puts it in place with
 *     linkat()/renameat2(RENAME_NOREPLACE) (no-clobber) or renameat() (OVER_WRITE). A
 *     symlink or hard link planted at the target is replaced as a directory entry; whatever
 *     it pointed to is never written.
 *   - A named temporary is recorded in pending_path (directory + name) before it is
 *     created and the record removed once the file is committed or deleted, so a run that
 *     crashed leaves something target_clean_stale() can find. O_TMPFILE files vanish by
 *     themselves.
 *   - Mode and owner are set with fchown()/fchmod() on the fd (no umask surprise).
 *   - Space: the announced size must fit in f_bavail (what an unprivileged writer could
 *     use: never the root-reserved blocks), then it is reserved with fallocate() where the
 *     file system can.
 *   - Writes are batched: the host sends 6 KiB fragments, one in flight, almost always in
 *     order, and a pwrite() per fragment was the daemon's largest own cost. Contiguous
 *     WRITEs are gathered in a TARGET_BATCH buffer and written with one pwrite() when it is
 *     full (by the WRITE that fills it), when a WRITE does not continue it, and at COMPLETE
 *     before the fsync. An error of a batched write (ENOSPC above all, possible without
 *     preallocation or on file systems that cannot reserve) thus reaches the host as the
 *     status of a later WRITE, or of COMPLETE at the latest, and never after: the copy
 *     fails, the temporary file is removed (target_free), nothing is renamed into place.
 *     The host cannot tell which fragment failed, and need not: a failed copy is retried
 *     whole. The buffer lives only during a copy (the idle daemon keeps no memory).
 *     Every TARGET_WRITEBACK bytes the kernel is asked to start writeback
 *     (sync_file_range), so the disk works while the host sends and the fsync at COMPLETE,
 *     which stays the only durability point, finds little left; the window started the
 *     time before then leaves the page cache (POSIX_FADV_DONTNEED: clean pages only).
 *     Besides sparing the guest's cache, that makes the copy into the cache cheap: new
 *     pages come from the ones just freed. On the bench machine a fresh page cost so much
 *     (a Firecracker guest whose free memory goes back to the host) that the copy into
 *     the cache was 22% of hv-fcopyd's CPU; with the pages recycled, 1%.
 *   - Direct I/O: even so, the page cache cost the daemon a copy of every byte and ext4's
 *     per-page work, on the CPU the host's transfer needs. A file that is large
 *     (DIRECT_MIN), reserved by fallocate() (so that no write extends it: ext4 would wait
 *     for an extending O_DIRECT write) and written in order from offset 0 is written past
 *     the cache instead: O_DIRECT on the same fd (fcntl F_SETFL), DIRECT_BUFS aligned
 *     buffers of DIRECT_BUF bytes, each written whole by one native AIO write (io_submit)
 *     while the next fills, so the transfer never waits for the disk unless the disk is
 *     the slower. Before a buffer is filled again its write must have completed, and the
 *     first failed write's error is returned by the WRITE or COMPLETE after it, as with
 *     the batch. COMPLETE, or a WRITE that does not continue the data, ends direct I/O:
 *     the aligned part of what is gathered goes the same way, every write is waited for,
 *     O_DIRECT is cleared and the unaligned tail (or the rest of the copy) goes through
 *     the cache. Anything direct I/O cannot do here (no O_DIRECT on the file system, no
 *     AIO context, a refused submission) falls back to the cache for the rest of the
 *     copy; freeing the target waits for the writes in flight before their buffers go.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/aio_abi.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "target.h"

#define MAX_LINK_EXPANSIONS 32
#define TEMP_RANDOM_LEN 6
#define TEMP_ATTEMPTS 16
/* 42 fragments of 6 KiB: large enough that the syscall is a small share, small enough to
 * stay in cache and to report a full disk within a fraction of a copy. */
#define TARGET_BATCH (256u * 1024u)
/* Writeback is started every this many bytes (see flush_batch()). */
#define TARGET_WRITEBACK (8u * 1024u * 1024u)
/* Direct I/O (see the top): buffers, their number (the writes in flight) and the smallest
 * file written so; the alignment the file system asks must divide DIRECT_BUF. Each write
 * costs the daemon a fixed ~40 us in io_submit() (ext4 maps the range, the block layer
 * builds and queues the request) besides ~15 us per MiB: in 4 MiB buffers a 256 MiB copy
 * spent 6-8 ms there, in 1 MiB buffers 13-18 ms (strace -T, bench-fcopy --profile uio).
 * Two writes in flight while the third buffer fills leave 20 ms of the host's data to
 * a disk latency here. */
#define DIRECT_BUF TARGET_DIRECT_BUF
#define DIRECT_BUFS TARGET_DIRECT_BUFS
#define DIRECT_MIN (2u * 1024u * 1024u)
#define DIRECT_ALIGN_DEFAULT 4096u
#define DIRECT_ALIGN_MAX (64u * 1024u)
#define DIRECT_HUGE (2u * 1024u * 1024u) /* a transparent huge page on x86-64 and arm64/4K */

/* One AIO context for the process, made at the first direct copy and kept: io_destroy()
 * waits for an RCU grace period (30-40 ms measured on the bench machine), which COMPLETE
 * would pay on every copy. A context with nothing in flight holds no more than its ring. */
static aio_context_t direct_ctx;

struct direct {
	size_t align;     /* file offsets and memory, as the file system asks */
	unsigned cur;     /* the buffer being filled */
	unsigned pending; /* writes submitted, not reaped */
	uint64_t off;     /* file offset of buf[cur][0] */
	size_t len;       /* bytes in buf[cur] */
	int error;        /* the first failed write's */
	bool busy[DIRECT_BUFS];
	uint8_t *mem; /* DIRECT_BUFS buffers of DIRECT_BUF bytes (direct_map()) */
	struct iocb cb[DIRECT_BUFS];
};

static uint8_t *direct_buf(const struct direct *d, unsigned i)
{
	return d->mem + (size_t)i * DIRECT_BUF;
}

struct target {
	int dir_fd;
	int fd;
	char *dir_path;
	char *name;
	char *path;         /* dir_path/name */
	char *temp_name;    /* NULL while the file has no name (O_TMPFILE) */
	char *pending_path; /* a copy: the policy may be replaced (reload) during the copy */
	uint64_t size, written;
	uint8_t *batch;              /* TARGET_BATCH bytes, allocated at the first WRITE */
	uint64_t batch_off;          /* file offset of batch[0] */
	size_t batch_len;            /* bytes gathered, not written yet */
	uint64_t wb_from, wb_to;     /* written since writeback was last started */
	uint64_t done_from, done_to; /* the range writeback was started on the time before */
	struct direct *direct;       /* while written past the page cache */
	bool direct_ok;              /* reserved and large: direct I/O may start at offset 0 */
	bool overwrite, committed;
};

/* ---------------------------------------------------------------- names */

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int check_file_name(const char *name)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || has_control_chars(name))
		return -EINVAL;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int check_path_name(const char *path)
{
	if (!path || path[0] != '/' || has_control_chars(path))
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int target_check_names(const char *path_name, const char *file_name)
{
	int r = check_file_name(file_name);

	return r < 0 ? r : check_path_name(path_name);
}

/* ---------------------------------------------------------------- directory walk */

struct walk {
	const struct target_policy *p;
	enum target_parent_symlinks symlinks;
	unsigned links;
};

static int walk(struct walk *w, int start_fd, char *path, bool create, bool allow_dotdot,
		int *ret_fd);

static bool symlink_allowed(const struct walk *w, const struct stat *st)
{
	switch (w->symlinks) {
	case TARGET_SYMLINKS_DENY:
		return false;
	case TARGET_SYMLINKS_ROOT_OWNED:
		return st->st_uid == 0;
	case TARGET_SYMLINKS_FOLLOW:
		return true;
	}
	return false;
}

/* Follows the symlink open as link_fd (in directory dir_fd) by the walk's rules. */
static int follow_link(struct walk *w, int dir_fd, int link_fd, const struct stat *st, int *ret_fd)
{
	_cleanup_free_ char *target = malloc(PATH_MAX);
	int base;
	ssize_t n;

	if (!target)
		return -ENOMEM;
	if (!symlink_allowed(w, st) || ++w->links > MAX_LINK_EXPANSIONS)
		return -ELOOP;
	n = readlinkat(link_fd, "", target, PATH_MAX);
	if (n < 0)
		return negative_errno();
	if (n == 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	target[n] = '\0';
	if (target[0] == '/')
		base = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		base = openat(dir_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return negative_errno();
	return walk(w, base, target, false, true, ret_fd);
}

static int open_component(int dir_fd, const char *comp, mode_t mode, bool create)
{
	int fd = openat(dir_fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd < 0 ? negative_errno() : fd;
	if (mkdirat(dir_fd, comp, mode) < 0 && errno != EEXIST)
		return negative_errno();
	fd = openat(dir_fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

/* One step of the walk: the directory comp names inside dir_fd. */
static int step(struct walk *w, int dir_fd, const char *comp, bool create, int *ret_fd)
{
	_cleanup_close_ int fd = open_component(dir_fd, comp, w->p->dir_mode, create);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode)) {
		*ret_fd = take_fd(&fd);
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return follow_link(w, dir_fd, fd, &st, ret_fd);
	return -ENOTDIR;
}

/* Walks path (modified in place) from start_fd, which it takes over. */
static int walk(struct walk *w, int start_fd, char *path, bool create, bool allow_dotdot,
		int *ret_fd)
{
	_cleanup_close_ int cur = start_fd;
	char *save = NULL;

	for (char *comp = strtok_r(path, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next = -1, r;

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0 && !allow_dotdot)
			return -EINVAL;
		r = step(w, cur, comp, create, &next);
		if (r < 0)
			return r;
		safe_close(cur);
		cur = next;
	}
	*ret_fd = take_fd(&cur);
	return 0;
}

/* Fast path: the whole relative path in one openat2() without any symlink. */
static int open_fast(int start_fd, const char *rel)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	long fd;

	if (!*rel)
		return -ENOENT; /* nothing to resolve: let the walk dup the start */
	fd = syscall(SYS_openat2, start_fd, rel, &how, sizeof(how));
	return fd < 0 ? negative_errno() : (int)fd;
}

/* Number of leading components of path that equal root's, or -1 when root is not a
 * (lexical) prefix of path. */
static int root_prefix(const char *root, const char *path, const char **ret_rest)
{
	for (;;) {
		size_t rl, pl;

		while (*root == '/')
			root++;
		while (*path == '/')
			path++;
		if (!*root) {
			*ret_rest = path;
			return 0;
		}
		rl = strcspn(root, "/");
		pl = strcspn(path, "/");
		if (rl != pl || strncmp(root, path, rl) != 0)
			return -1;
		root += rl;
		path += pl;
	}
}

/* The allowed root path lies beneath (longest match), its fd and the rest of the path. */
static int open_allowed_root(const struct target_policy *p, const char *path, int *ret_fd,
			     const char **ret_rest)
{
	const char *best = NULL, *best_rest = NULL;
	size_t best_len = 0;
	int fd;

	for (const char *const *r = p->allowed_roots; *r; r++) {
		const char *rest;

		if (root_prefix(*r, path, &rest) == 0 && (!best || strlen(*r) > best_len)) {
			best = *r;
			best_rest = rest;
			best_len = strlen(*r);
		}
	}
	if (!best)
		return -EPERM;
	/* the administrator's path: symlinks in it are trusted */
	fd = open(best, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	*ret_fd = fd;
	*ret_rest = best_rest;
	return 0;
}

static bool allowlist_active(const struct target_policy *p)
{
	return p->allowed_roots && p->allowed_roots[0];
}

int target_open_dir(const struct target_policy *p, const char *path, bool create, int *ret_fd)
{
	struct walk w = {.p = p, .symlinks = p->parent_symlinks};
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int start = -1, dir = -1;
	const char *rest = path;
	int r;

	r = check_path_name(path);
	if (r < 0)
		return r;
	if (allowlist_active(p)) {
		r = open_allowed_root(p, path, &start, &rest);
		if (r < 0)
			return r;
		w.symlinks = TARGET_SYMLINKS_DENY;
	} else {
		start = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (start < 0)
			return negative_errno();
		while (*rest == '/')
			rest++;
	}
	rel = strdup(rest);
	if (!rel)
		return -ENOMEM;
	dir = strstr(rel, "..") ? -EINVAL : open_fast(start, rel);
	if (dir < 0) {
		r = walk(&w, take_fd(&start), rel, create, false, &dir);
		if (r < 0)
			return r;
	}
	r = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		return negative_errno();
	*ret_fd = r;
	return 0;
}

/* ---------------------------------------------------------------- pending record */

static int pending_write(const char *pending, const char *dir, const char *name)
{
	_cleanup_close_ int fd = -1;
	size_t dl = strlen(dir) + 1, nl = strlen(name) + 1;
	_cleanup_free_ char *buf = malloc(dl + nl);

	if (!pending)
		return 0;
	if (!buf)
		return -ENOMEM;
	memcpy(buf, dir, dl);
	memcpy(buf + dl, name, nl);
	fd = open(pending, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return negative_errno();
	if (write(fd, buf, dl + nl) != (ssize_t)(dl + nl))
		return errno ? negative_errno() : -EIO;
	if (fsync(fd) < 0)
		return negative_errno();
	return 0;
}

static void pending_remove(const char *pending)
{
	if (pending)
		(void)unlink(pending);
}

static bool is_temp_name(const char *name)
{
	size_t pl = strlen(TARGET_TEMP_PREFIX), sl = strlen(TARGET_TEMP_SUFFIX);
	size_t n = strlen(name);

	return n == pl + TEMP_RANDOM_LEN + sl && strncmp(name, TARGET_TEMP_PREFIX, pl) == 0 &&
	       strcmp(name + n - sl, TARGET_TEMP_SUFFIX) == 0 && !strchr(name, '/');
}

static int read_pending(const char *pending, char *buf, size_t size, const char **ret_dir,
			const char **ret_name)
{
	_cleanup_close_ int fd = open(pending, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	size_t dl;

	if (fd < 0)
		return errno == ENOENT ? 0 : negative_errno();
	n = read(fd, buf, size - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	dl = strnlen(buf, (size_t)n);
	if (dl >= (size_t)n)
		return -EBADMSG;
	*ret_dir = buf;
	*ret_name = buf + dl + 1;
	return 1;
}

int target_clean_stale(const struct target_policy *p)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dir = -1;
	const char *dir_path = NULL, *name = NULL;
	struct stat st;
	int r;

	if (!p->pending_path)
		return 0;
	buf = malloc(2 * PATH_MAX + 2);
	if (!buf)
		return -ENOMEM;
	r = read_pending(p->pending_path, buf, 2 * PATH_MAX + 2, &dir_path, &name);
	if (r <= 0) {
		if (r < 0)
			pending_remove(p->pending_path);
		return r;
	}
	r = is_temp_name(name) ? target_open_dir(p, dir_path, false, &dir) : -EBADMSG;
	if (r >= 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		r = unlinkat(dir, name, 0) < 0 ? negative_errno() : 1;
	else if (r >= 0)
		r = 0; /* gone already (or not ours to touch) */
	pending_remove(p->pending_path);
	return r;
}

/* ---------------------------------------------------------------- temporary file */

static void random_suffix(char *out)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[TEMP_RANDOM_LEN];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^ (uintptr_t)out;
		for (size_t i = 0; i < sizeof(rnd); i++, x >>= 7)
			rnd[i] = (uint8_t)(x * 2654435761u);
	}
	for (size_t i = 0; i < TEMP_RANDOM_LEN; i++)
		out[i] = chars[rnd[i] % (sizeof(chars) - 1)];
	out[TEMP_RANDOM_LEN] = '\0';
}

static char *new_temp_name(void)
{
	char suffix[TEMP_RANDOM_LEN + 1];
	char *name = NULL;

	random_suffix(suffix);
	if (asprintf(&name, "%s%s%s", TARGET_TEMP_PREFIX, suffix, TARGET_TEMP_SUFFIX) < 0)
		return NULL;
	return name;
}

/* Creates a hidden, uniquely named file (recorded first) and returns its fd. */
static int create_named(struct target *t, mode_t mode)
{
	for (int i = 0; i < TEMP_ATTEMPTS; i++) {
		_cleanup_free_ char *name = new_temp_name();
		int fd, r;

		if (!name)
			return -ENOMEM;
		r = pending_write(t->pending_path, t->dir_path, name);
		if (r < 0)
			return r;
		fd = openat(t->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode);
		if (fd >= 0) {
			t->temp_name = name;
			name = NULL;
			return fd;
		}
		if (errno != EEXIST) {
			r = negative_errno();
			pending_remove(t->pending_path);
			return r;
		}
	}
	pending_remove(t->pending_path);
	return -EEXIST;
}

static int create_temp(struct target *t, const struct target_policy *p)
{
	if (p->tmpfile == TARGET_TMPFILE_AUTO) {
		int fd = openat(t->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, p->file_mode);

		if (fd >= 0)
			return fd;
		/* EOPNOTSUPP: the file system has no O_TMPFILE; EISDIR/EINVAL: older kernel */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return negative_errno();
	}
	return create_named(t, p->file_mode);
}

static int set_owner_mode(int fd, const struct target_policy *p)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if ((st.st_uid != p->uid || st.st_gid != p->gid) && fchown(fd, p->uid, p->gid) < 0)
		return negative_errno();
	if (fchmod(fd, p->file_mode) < 0)
		return negative_errno();
	return 0;
}

static int space_error(int r)
{
	return (r == -ENOSPC || r == -EDQUOT) ? -ENOSPC : r;
}

static int check_free_space(int fd, uint64_t size)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv) < 0)
		return negative_errno();
	if ((uint64_t)sv.f_bavail * sv.f_frsize < size)
		return -ENOSPC;
	return 0;
}

/* The size must fit in what an unprivileged writer could use (f_bavail) before anything is
 * reserved: we run as root, and fallocate() alone would dig into the blocks ext4 keeps for
 * root, leaving every other user ENOSPC until the copy ends. Returns 1 when fallocate()
 * reserved the space (the file then has its final size), 0 when only checked. */
static int reserve(int fd, uint64_t size, bool preallocate)
{
	int r;

	if (size == 0)
		return 0;
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	r = check_free_space(fd, size);
	if (r < 0 || !preallocate)
		return r;
	if (fallocate(fd, 0, 0, (off_t)size) == 0)
		return 1;
	/* EFBIG: larger than the file system's largest file; it cannot fit either */
	if (errno == EFBIG)
		return -ENOSPC;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return space_error(negative_errno());
	return 0; /* cannot reserve here: the free-space check stands */
}

/* ---------------------------------------------------------------- target */

static int check_existing(int dir_fd, const char *name, bool overwrite)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!overwrite)
		return -EEXIST;
	return S_ISDIR(st.st_mode) ? -EISDIR : 0;
}

static int target_new(const char *path_name, const char *file_name, struct target **ret)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->dir_fd = t->fd = -1;
	t->dir_path = strdup(path_name);
	t->name = strdup(file_name);
	if (!t->dir_path || !t->name ||
	    asprintf(&t->path, "%s%s%s", path_name,
		     path_name[strlen(path_name) - 1] == '/' ? "" : "/", file_name) < 0) {
		t->path = NULL;
		target_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

int target_open(const struct target_policy *p, const char *path_name, const char *file_name,
		bool create_path, bool overwrite, uint64_t size, struct target **ret)
{
	struct target *t = NULL;
	int r;

	r = target_check_names(path_name, file_name);
	if (r >= 0)
		r = target_new(path_name, file_name, &t);
	if (r < 0)
		return r;
	if (p->pending_path && !(t->pending_path = strdup(p->pending_path))) {
		target_free(t);
		return -ENOMEM;
	}
	t->overwrite = overwrite;
	t->size = size;
	r = target_open_dir(p, path_name, create_path, &t->dir_fd);
	if (r >= 0)
		r = check_existing(t->dir_fd, t->name, overwrite);
	if (r >= 0)
		r = t->fd = create_temp(t, p);
	if (r >= 0)
		r = set_owner_mode(t->fd, p);
	if (r >= 0)
		r = reserve(t->fd, size, p->preallocate);
	t->direct_ok = r > 0 && p->direct_io && size >= DIRECT_MIN;
	if (r < 0) {
		target_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static int write_all(int fd, uint64_t offset, const uint8_t *p, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pwrite(fd, p + done, size - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return space_error(negative_errno());
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Asks the kernel to start writing back what was written since the last time, once
 * TARGET_WRITEBACK bytes gathered (or force): the fsync at COMPLETE then finds little left,
 * and the copy's disk time overlaps its transfer instead of following it. Only a hint
 * (SYNC_FILE_RANGE_WRITE waits for nothing, durability is still the fsync's): errors are
 * ignored, and an out-of-order write only makes the range larger. */
static void start_writeback(struct target *t, uint64_t offset, size_t len, bool force)
{
	if (t->wb_to == t->wb_from) {
		t->wb_from = offset;
		t->wb_to = offset + len;
	} else {
		t->wb_from = offset < t->wb_from ? offset : t->wb_from;
		t->wb_to = offset + len > t->wb_to ? offset + len : t->wb_to;
	}
	if (!force && t->wb_to - t->wb_from < TARGET_WRITEBACK)
		return;
	(void)sync_file_range(t->fd, (off_t)t->wb_from, (off_t)(t->wb_to - t->wb_from),
			      SYNC_FILE_RANGE_WRITE);
	/* The range started the time before has had TARGET_WRITEBACK bytes' time to reach
	 * the disk: its clean pages leave the page cache (pages still being written stay,
	 * DONTNEED waits for nothing). A copy then holds a few windows of the cache, not the
	 * whole file, and new pages are recycled from the ones just freed. */
	if (t->done_to > t->done_from)
		(void)posix_fadvise(t->fd, (off_t)t->done_from, (off_t)(t->done_to - t->done_from),
				    POSIX_FADV_DONTNEED);
	t->done_from = t->wb_from;
	t->done_to = t->wb_to;
	t->wb_from = t->wb_to = 0;
}

/* Writes what the batch gathered; an error ends the copy (the caller reports it). */
static int flush_batch(struct target *t)
{
	size_t len = t->batch_len;
	int r;

	t->batch_len = 0;
	if (!len)
		return 0;
	r = write_all(t->fd, t->batch_off, t->batch, len);
	if (r >= 0)
		start_writeback(t, t->batch_off, len, false);
	return r;
}

/* ---------------------------------------------------------------- direct I/O */

/* The alignment O_DIRECT needs on fd's file system (offsets and memory), 0 if it has none. */
static size_t direct_align(int fd)
{
	size_t a = DIRECT_ALIGN_DEFAULT;
#ifdef STATX_DIOALIGN
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN)) {
		if (!sx.stx_dio_offset_align || !sx.stx_dio_mem_align)
			return 0; /* the file system says: no direct I/O */
		a = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align
								   : sx.stx_dio_mem_align;
		a = a < DIRECT_ALIGN_DEFAULT ? DIRECT_ALIGN_DEFAULT : a;
	}
#endif
	return (a & (a - 1)) || a > DIRECT_ALIGN_MAX ? 0 : a;
}

static int set_o_direct(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return negative_errno();
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	return fcntl(fd, F_SETFL, fl) < 0 ? negative_errno() : 0;
}

/* Reaps completed writes, waiting until at least min_nr of ours completed (never for more
 * than are in flight); the first error stays in d->error. false when the events cannot be
 * read (cannot happen with a valid context): then no buffer in flight may be reused. */
static bool direct_reap(struct direct *d, unsigned min_nr)
{
	struct io_event ev[DIRECT_BUFS];

	while (d->pending) {
		unsigned want = min_nr < d->pending ? min_nr : d->pending;
		long n =
		    syscall(SYS_io_getevents, direct_ctx, (long)want, (long)DIRECT_BUFS, ev, NULL);
		unsigned reaped = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!d->error)
				d->error = negative_errno();
			return false;
		}
		for (long i = 0; i < n; i++) {
			unsigned b = (unsigned)ev[i].data;
			int64_t res = ev[i].res;

			if (b >= DIRECT_BUFS || !d->busy[b])
				continue;
			d->busy[b] = false;
			d->pending--;
			reaped++;
			if (res < 0 && !d->error)
				d->error = space_error((int)res);
			else if (res >= 0 && (uint64_t)res != d->cb[b].aio_nbytes && !d->error)
				d->error = -EIO; /* short, into reserved space: the disk failed */
		}
		if (reaped >= min_nr)
			return true;
		min_nr -= reaped;
	}
	return true;
}

/* Reaps what completed, and waits until buffer b's write did: writes may complete out of
 * order, so a completion is not necessarily the oldest write's. */
static void direct_wait(struct direct *d, unsigned b)
{
	do {
		if (!direct_reap(d, d->busy[b] ? 1 : 0))
			return;
	} while (d->busy[b]);
}

/* Frees the direct state after every write in flight completed: they read its buffers. */
static void direct_free(struct direct *d)
{
	if (!d)
		return;
	direct_reap(d, d->pending);
	if (d->pending) {
		/* cannot happen (the reap failed): io_destroy() waits for what is in flight */
		(void)syscall(SYS_io_destroy, direct_ctx);
		direct_ctx = 0;
	}
	if (d->mem)
		(void)munmap(d->mem, DIRECT_BUFS * DIRECT_BUF);
	free(d);
}

/* The buffers, in one mapping aligned to DIRECT_HUGE: with transparent huge pages (asked
 * for; the default "madvise" mode gives them only so), pinning a buffer for the device is
 * one step per 2 MiB instead of one per 4 KiB page (it was a quarter of the CPU of a direct
 * write here), the block layer sees few, large segments, and the first touch is 2 page
 * faults instead of 1024. Without them it is ordinary memory. */
static uint8_t *direct_map(void)
{
	size_t size = DIRECT_BUFS * DIRECT_BUF, span = size + DIRECT_HUGE;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t at;

	if (p == MAP_FAILED)
		return NULL;
	at = ((uintptr_t)p + DIRECT_HUGE - 1) & ~(uintptr_t)(DIRECT_HUGE - 1);
	if (at > (uintptr_t)p)
		(void)munmap(p, at - (uintptr_t)p);
	if ((uintptr_t)p + span > at + size)
		(void)munmap((uint8_t *)at + size, (uintptr_t)p + span - (at + size));
	(void)madvise((uint8_t *)at, size, MADV_HUGEPAGE); /* a hint: EINVAL without THP */
	return (uint8_t *)at;
}

/* Starts direct I/O at the first WRITE (offset 0); false leaves the copy in the cache. */
static bool direct_start(struct target *t)
{
	struct direct *d;
	size_t align = direct_align(t->fd);

	if (!align || !(d = calloc(1, sizeof(*d))))
		return false;
	d->align = align;
	if (!direct_ctx && syscall(SYS_io_setup, DIRECT_BUFS, &direct_ctx) < 0) {
		direct_ctx = 0;
		free(d);
		return false;
	}
	d->mem = direct_map();
	if (!d->mem || set_o_direct(t->fd, true) < 0) {
		direct_free(d);
		return false;
	}
	t->direct = d;
	return true;
}

/* Submits len bytes (a multiple of the alignment) of the current buffer at d->off. */
static int direct_submit(struct direct *d, int fd, size_t len)
{
	struct iocb *cb = &d->cb[d->cur];
	struct iocb *list[1] = {cb};

	*cb = (struct iocb){
	    .aio_data = d->cur,
	    .aio_lio_opcode = IOCB_CMD_PWRITE,
	    .aio_fildes = (uint32_t)fd,
	    .aio_buf = (uint64_t)(uintptr_t)direct_buf(d, d->cur),
	    .aio_nbytes = len,
	    .aio_offset = (int64_t)d->off,
	};
	for (;;) {
		long n = syscall(SYS_io_submit, direct_ctx, 1L, list);

		if (n == 1)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? negative_errno() : -EIO;
	}
	d->busy[d->cur] = true;
	d->pending++;
	d->off += len;
	d->len -= len;
	return 0;
}

/* Ends direct I/O: the aligned part of what is gathered is written the same way, every write
 * waited for, O_DIRECT cleared, and the rest written through the cache. The copy goes on in
 * the cache; the first error of any write is returned. */
static int direct_end(struct target *t)
{
	struct direct *d = t->direct;
	size_t aligned = d->len & ~(d->align - 1);
	uint64_t off;
	int r = 0;

	t->direct = NULL;
	/* after an error nothing more is written (and the buffer may still be in flight) */
	if (aligned && (d->error || direct_submit(d, t->fd, aligned) < 0))
		aligned = 0; /* refused: it goes through the cache with the rest */
	direct_reap(d, d->pending);
	off = d->off;
	if (set_o_direct(t->fd, false) < 0 && !d->error)
		d->error = -EIO; /* cannot happen for a flag it accepted; never write unaligned */
	if (!d->error && d->len)
		r = write_all(t->fd, off, direct_buf(d, d->cur) + aligned, d->len);
	r = d->error ? d->error : r;
	direct_free(d);
	return r;
}

/* Gathers a WRITE that continues the data; a full buffer is submitted, and the next one
 * waited for if its write is still in flight. */
static int direct_write(struct target *t, const uint8_t *data, size_t size)
{
	struct direct *d = t->direct;

	if (d->error)
		return d->error; /* the copy failed: its buffer may still be in flight */
	while (size) {
		size_t n = size < DIRECT_BUF - d->len ? size : DIRECT_BUF - d->len;

		memcpy(direct_buf(d, d->cur) + d->len, data, n);
		d->len += n;
		data += n;
		size -= n;
		if (d->len < DIRECT_BUF)
			break;
		if (direct_submit(d, t->fd, DIRECT_BUF) < 0) {
			/* refused (EAGAIN...): this buffer and the rest through the cache */
			uint64_t next = d->off + d->len;
			int r = direct_end(t);

			return r < 0 || !size ? r : write_all(t->fd, next, data, size);
		}
		d->cur = (d->cur + 1) % DIRECT_BUFS;
		direct_wait(d, d->cur);
		if (d->error)
			return d->error;
	}
	return d->error;
}

int target_write(struct target *t, uint64_t offset, const void *data, size_t size)
{
	int r;

	if (offset > t->size || size > t->size - offset)
		return -EFBIG;
	if (t->direct_ok && offset == 0 && !t->written)
		(void)direct_start(t);
	t->direct_ok = false;
	if (t->direct && offset == t->direct->off + t->direct->len) {
		r = direct_write(t, data, size);
		if (r >= 0 && offset + size > t->written)
			t->written = offset + size;
		return r;
	}
	if (t->direct && (r = direct_end(t)) < 0) /* out of order: the rest in the cache */
		return r;
	if (t->batch_len && offset != t->batch_off + t->batch_len) {
		r = flush_batch(t); /* out of order: what came before goes first */
		if (r < 0)
			return r;
	}
	if (!t->batch && size < TARGET_BATCH)
		t->batch = malloc(TARGET_BATCH); /* none: write directly */
	if (!t->batch || size >= TARGET_BATCH) {
		r = flush_batch(t);
		if (r >= 0)
			r = write_all(t->fd, offset, data, size);
		if (r >= 0)
			start_writeback(t, offset, size, false);
	} else {
		if (size > TARGET_BATCH - t->batch_len && (r = flush_batch(t)) < 0)
			return r;
		if (!t->batch_len)
			t->batch_off = offset;
		memcpy(t->batch + t->batch_len, data, size);
		t->batch_len += size;
		/* a full batch goes now, so that this WRITE's answer carries its error */
		r = t->batch_len == TARGET_BATCH ? flush_batch(t) : 0;
	}
	if (r < 0)
		return r;
	if (offset + size > t->written)
		t->written = offset + size;
	return 0;
}

uint64_t target_written(const struct target *t)
{
	return t->written;
}

const char *target_path(const struct target *t)
{
	return t->path;
}

bool target_temp_is_named(const struct target *t)
{
	return t->temp_name != NULL;
}

bool target_is_direct(const struct target *t)
{
	return t->direct != NULL;
}

/* Gives an O_TMPFILE file the name `name` (fails with EEXIST if it is taken). */
static int link_tmpfile(struct target *t, const char *name)
{
	char proc[64];

	if (linkat(t->fd, "", t->dir_fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return negative_errno();
	/* without CAP_DAC_READ_SEARCH: through /proc */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (linkat(AT_FDCWD, proc, t->dir_fd, name, AT_SYMLINK_FOLLOW) < 0)
		return negative_errno();
	return 0;
}

/* Named temporary -> target, refusing to replace unless overwrite. */
static int rename_into_place(struct target *t)
{
	if (t->overwrite)
		return renameat(t->dir_fd, t->temp_name, t->dir_fd, t->name) < 0 ? negative_errno()
										 : 0;
	if (renameat2(t->dir_fd, t->temp_name, t->dir_fd, t->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return negative_errno();
	/* no RENAME_NOREPLACE here: link (fails on EEXIST), then drop the temporary name */
	if (linkat(t->dir_fd, t->temp_name, t->dir_fd, t->name, 0) < 0)
		return negative_errno();
	(void)unlinkat(t->dir_fd, t->temp_name, 0);
	return 0;
}

static int place(struct target *t)
{
	if (!t->temp_name && !t->overwrite)
		return link_tmpfile(t, t->name);
	if (!t->temp_name) {
		/* O_TMPFILE + overwrite: give it a temporary name, then rename over the target */
		for (int i = 0; i < TEMP_ATTEMPTS && !t->temp_name; i++) {
			_cleanup_free_ char *name = new_temp_name();
			int r = name ? pending_write(t->pending_path, t->dir_path, name) : -ENOMEM;

			if (r >= 0)
				r = link_tmpfile(t, name);
			if (r == -EEXIST)
				continue;
			if (r < 0)
				return r;
			t->temp_name = name;
			name = NULL;
		}
		if (!t->temp_name)
			return -EEXIST;
	}
	return rename_into_place(t);
}

int target_commit(struct target *t)
{
	int r;

	if (t->committed)
		return -EALREADY;
	if (t->direct && (r = direct_end(t)) < 0)
		return r;
	r = flush_batch(t); /* the last WRITEs' data; ENOSPC here is the host's DISK_FULL */
	if (r < 0)
		return r;
	if (fsync(t->fd) < 0)
		return space_error(negative_errno());
	r = place(t);
	if (r < 0)
		return r == -EDQUOT ? -ENOSPC : r;
	t->committed = true;
	free(t->temp_name);
	t->temp_name = NULL;
	pending_remove(t->pending_path);
	if (fsync(t->dir_fd) < 0)
		return negative_errno();
	return 0;
}

struct target *target_free(struct target *t)
{
	if (!t)
		return NULL;
	if (t->temp_name && t->dir_fd >= 0 && !t->committed)
		(void)unlinkat(t->dir_fd, t->temp_name, 0);
	if (t->temp_name)
		pending_remove(t->pending_path);
	direct_free(t->direct); /* waits for the writes in flight: they read its buffers */
	safe_close(t->fd);
	safe_close(t->dir_fd);
	free(t->temp_name);
	free(t->pending_path);
	free(t->batch);
	free(t->dir_path);
	free(t->name);
	free(t->path);
	free(t);
	return NULL;
}

/* ---------------------------------------------------------------- policy */

static char **strv_copy(const char *const *v)
{
	size_t n = 0;
	char **copy;

	while (v[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++)
		if (!(copy[i] = strdup(v[i]))) {
			target_policy_done(
			    &(struct target_policy){.allowed_roots = (const char *const *)copy});
			return NULL;
		}
	return copy;
}

int target_policy_copy(const struct target_policy *src, struct target_policy *ret)
{
	struct target_policy p = *src;

	p.allowed_roots = NULL;
	p.pending_path = NULL;
	if (src->allowed_roots && src->allowed_roots[0] &&
	    !(p.allowed_roots = (const char *const *)strv_copy(src->allowed_roots)))
		return -ENOMEM;
	if (src->pending_path && !(p.pending_path = strdup(src->pending_path))) {
		target_policy_done(&p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

void target_policy_done(struct target_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->allowed_roots && p->allowed_roots[i]; i++)
		free((char *)p->allowed_roots[i]);
	free((char **)p->allowed_roots);
	free((char *)p->pending_path);
	p->allowed_roots = NULL;
	p->pending_path = NULL;
}
