/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KVP pool files (docs/protocol.md §3.4): the on-disk store behind KVP GET/SET/DELETE/ENUMERATE,
 * shared with programs we do not control.
 *
 * Who else writes these files, and how:
 *   - cloud-init and azure-init take flock(LOCK_EX) and APPEND whole records with O_APPEND;
 *     cloud-init also truncates pool 1 to zero once per boot.
 *   - the kernel's reference daemon and older tools take an fcntl(F_SETLKW, F_WRLCK) lock on
 *     the whole file and REWRITE it (truncate + write).
 * So every read and every change here holds BOTH lock kinds, always flock first and fcntl
 * second (one order, no lock-order inversion between our own objects): LOCK_SH + F_RDLCK to
 * read, LOCK_EX + F_WRLCK to change. Locks live on one long-lived fd per object. fcntl locks
 * belong to the process and vanish when ANY fd of the file is closed, so the object never
 * opens or closes another fd of the file while it holds them (the identity check uses
 * stat(path)), and callers should open each pool once per process.
 *
 * Changes are made IN PLACE, never by writing a new file and renaming it over the old one:
 * an appender that opened the old inode with O_APPEND before the rename would write its
 * record into an unlinked file, and the record would be lost.
 *   - SET of an existing key rewrites, in place, EVERY record holding that key (pwrite of the
 *     whole 2560-byte record, the value NUL-padded so no stale tail survives). Rewriting all
 *     duplicates, not just the last one, means readers that take the first match (the
 *     reference daemon does) and readers that take the last agree.
 *   - SET of a new key appends one record at the end, at a record boundary (pwrite at
 *     records * 2560; if that write comes up short, the file is truncated back so no
 *     partial record is left behind).
 *   - DELETE removes every record of the key by SHIFTING the later records down and
 *     truncating. Moving the last records into the holes would be O(k) writes, but it
 *     reorders records, and with duplicate keys the order is the meaning: moving a newer
 *     duplicate in front of an older one would flip which value wins. Shifting keeps the
 *     order (and so every other key's value and the ENUMERATE order) intact; its cost is
 *     linear in the records after the first hole, paid only on DELETE, which is rare (the
 *     host's admin deletes; cloud-init never does). A crash half-way leaves a record
 *     duplicated, never lost and never reordered.
 *   - A trailing partial record found under the exclusive lock is garbage: every writer
 *     that writes whole records holds one of the two locks we hold, so nobody is half-way
 *     through a record. Before appending or deleting, the tail is TRUNCATED away rather
 *     than padded: padding would turn garbage into a record that the host might enumerate,
 *     and cutting it restores alignment so that our record and every later one are read by
 *     everybody. The library does not log; stats.tails_truncated counts it for the caller.
 *
 * What a file may hold, and what we make of it:
 *   - records appended at any time: seen at the next operation (size changed);
 *   - duplicate keys: GET returns the LAST record's value; ENUMERATE shows one item per
 *     key, in the order of the key's FIRST record, with the LAST value: the host sees what
 *     GET sees and the index of an item does not move when someone appends a newer value;
 *   - a trailing partial record: ignored (count = size / 2560), reported in stats;
 *   - truncation to zero, replacement by rename, deletion: seen at the next operation
 *     (size change; inode of the path differs from the fd's, or the path is gone: reopen,
 *     recreating only with VMU_KVP_POOL_CREATE);
 *   - bytes after a NUL: ignored (compared only up to the NUL, never returned);
 *   - a key or value array without a NUL, or an empty key: an invalid record, skipped by
 *     every lookup but preserved byte for byte in the file;
 *   - non-UTF-8 key or value: kept and returned, flagged per record;
 *   - a missing or unreadable file: -errno, never a crash.
 *
 * Constant time. The index maps key -> the key's records (hash table, linear probing) and
 * ENUMERATE index -> key (array); the value is pread from the file (one 2560-byte read)
 * under the shared lock, and the record's key is checked against the index, so a value is
 * never served from memory. The file is re-read only when it may have changed, which is
 * decided from fstat(fd) against the state seen at the last read: device, inode (plus
 * stat(path): a renamed-over file means reopen), size, mtime and ctime in nanoseconds.
 * Our own changes update the index directly.
 *
 * Racily clean files (the case git handles for its index): timestamps advance in ticks
 * (jiffies; seconds on some file systems), so a write that lands in the same tick as our
 * read may leave size, mtime and ctime all unchanged (an in-place rewrite of one record
 * with utimensat() restoring the mtime; ctime cannot be set by anyone, so it is the stamp
 * we trust). We take the clock BEFORE the fstat of a snapshot; any later write stamps
 * ctime >= that time minus one tick. If the snapshot's ctime is not at least one
 * granularity older than the clock reading, a later write could carry the same ctime, so
 * the snapshot is "racily clean" and the next operation re-reads the file (until a re-read
 * happens safely after the last change). Granularity: 10 ms (a conservative bound on a
 * jiffy at HZ >= 100) or the coarse clock's resolution if larger, and 2 s when the ctime
 * has no nanoseconds (a file system with second or FAT granularity).
 *
 * Change notifications make our own writes cheap. Every change we make is racily clean by
 * the rule above, so on its own the rule re-reads the whole file at the next operation:
 * SET in a loop would be O(n). So each object also watches the inode behind its fd with
 * inotify (IN_MODIFY, IN_ATTRIB, IN_MOVE_SELF, IN_DELETE_SELF; queued by the kernel in
 * the write() or truncate() call itself) and empties the queue at two moments, both under
 * our locks: at every lock, before the fstat, and after each change of ours, before the
 * unlock. Every writer that matters holds one of our two lock kinds, so it cannot write
 * between those moments: what our post-change drain removes is our own, and an empty
 * queue at the next lock proves nobody wrote since the index was last exact; the racy
 * rule is then not needed (and the snapshot is refreshed, which keeps the rule meaningful
 * for later; once the snapshot is safely past the file's last change, an empty queue skips
 * the fstat altogether: a rename over the path or an unlink queues IN_ATTRIB on our inode).
 * What queues nothing on our inode, a directory above it renamed or a mount over the path,
 * is seen by an lstat of the path. That check is of one moment in any case (nothing stops
 * a rename just after it), so while the watch stays quiet it is made at most every
 * VMU_KVP_POOL_PATH_RECHECK_NS (1 ms): a burst of host requests pays one lstat (its path
 * walk was 3-5% of hv-kvpd's CPU per request, perf). Any event, and IN_Q_OVERFLOW, makes
 * the next lock look at the path, and sends the decision back to the stat
 * comparison and the racy rule, exactly as without inotify; without inotify or /proc
 * (the watch is added through /proc/self/fd, so that it is on our inode and not on
 * whatever the path names) the rule alone decides. No fd is polled: the queue is read
 * only when we take the lock, so an idle daemon is not woken by other programs' writes.
 * Writers that ignore both locks: their writes outside our exclusive section queue events
 * and are handled as before. Inside it (between our lock and our post-change drain,
 * microseconds) their event is indistinguishable from ours; an append or truncation is
 * still caught (the size must be ours: n_slots whole records), but an in-place rewrite of
 * a record there is seen only at the file's next change or through the record check of a
 * GET of the key it replaced. Such a writer races our own write of the same bytes anyway.
 * Writes through a shared mmap queue no event and are not seen (nor were they before:
 * they need not move ctime in time either).
 *
 * Page cache. A SET rewrites 2560 bytes in place; in a large pool each SET dirties a page
 * that was clean (at 10 records the same few pages stay dirty), which the kernel writes
 * back later: that cost, in the kernel and not in this code (whose instructions and system
 * calls per SET do not grow with the pool, see bench/bench-kvp --profile), is what SET at
 * 10,000 records pays over SET at 10 on a disk file system. What a write dirties is the
 * whole page-cache folio that holds it, and readahead fills the cache with large folios
 * (ext4): a pool loaded with readahead dirtied 5.1 kB per random SET at 10,000 records,
 * one loaded without 3.5 kB, with a third less kernel time per write. So each fd is opened
 * with POSIX_FADV_RANDOM: our reads bring in just the pages they ask for. (Pages cached
 * by another reader stay as they are; that costs time, never correctness.)
 *
 * Limits: at most VMU_KVP_POOL_MAX_RECORDS records (-EFBIG), so memory is bounded by what
 * the file may hold: keys (at most 511 bytes each) plus a few words per record.
 *
 * Lock deadline. flock(LOCK_EX) works on a read-only fd, so any local user who can read a
 * pool file can hold it for as long as they like. With a deadline set
 * (vmu_kvp_pool_set_lock_timeout) the locks are taken with LOCK_NB and F_SETLK, retried
 * after a short sleep that doubles up to LOCK_BACKOFF_MAX_NS, until the deadline, which
 * covers the whole operation (both lock kinds and every reopen): then -ETIMEDOUT. Polling,
 * not a blocking call interrupted by a timer signal, because the library must not install
 * signal handlers or timers in its caller's process. The price: polling is not fair. A
 * blocked F_SETLKW waiter is woken when the lock is released; a poller only wins if it
 * happens to try in the gap, so a writer that re-takes its lock back to back (the
 * reference daemon's rewrite loop in our tests) can make an operation time out although
 * nobody holds the lock for long. Real writers take it once per item, so the deadline is
 * meant to be seconds, not milliseconds. Without a deadline (the default, for
 * compatibility) the calls block as before.
 *
 * Symbolic links. The path is opened with O_NOFOLLOW: a link at a pool's path, planted by
 * whoever can write the directory, would otherwise redirect our writes (and O_CREAT would
 * create its target). Such a path gives -ELOOP; anything but a regular file -EINVAL.
 *
 * Thread safety: none; one object per thread.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvp-pool-internal.h"
#include "vmu-internal.h"

#define KEY_SIZE VMU_KVP_MAX_KEY_SIZE
#define VALUE_SIZE VMU_KVP_MAX_VALUE_SIZE
#define RECORD_SIZE VMU_KVP_POOL_RECORD_SIZE
_Static_assert(KEY_SIZE + VALUE_SIZE == RECORD_SIZE, "record = key[512] + value[2048]");
_Static_assert((uint64_t)VMU_KVP_POOL_MAX_RECORDS *KEY_SIZE < UINT32_MAX, "key offsets fit");

#define NONE UINT32_MAX
/* Records read or shifted per system call: 40 kB, under malloc's mmap threshold, so the
 * buffer is heap that later allocations reuse (a 160 kB buffer, freed, raised glibc's
 * threshold and left the index arrays in holes of the heap: private dirty memory). */
#define CHUNK_RECORDS 16
#define RACY_MIN_NS 10000000LL
#define RACY_COARSE_FS_NS 2000000000LL
#define NSEC_PER_SEC 1000000000LL
/* A path that keeps being replaced while we try to lock it. */
#define LOCK_ATTEMPTS 8
/* Polling for a lock under a deadline: first and longest sleep between attempts. */
#define LOCK_BACKOFF_MIN_NS 1000000LL
#define LOCK_BACKOFF_MAX_NS 10000000LL

/* One record of the file, in file order. */
struct pool_slot {
	uint32_t key_off; /* into the key arena */
	uint32_t entry;   /* NONE: invalid record */
	uint32_t next;    /* next record of the same key, NONE at the last */
	uint16_t key_len;
};

/* One distinct valid key. */
struct pool_entry {
	uint32_t key_off;
	uint32_t hash;
	uint32_t first; /* slots */
	uint32_t last;
	uint16_t key_len;
};

struct pool_snapshot {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
	int64_t taken_ns; /* CLOCK_REALTIME before the fstat */
};

struct vmu_kvp_pool_file {
	char *path;
	unsigned flags;
	int fd;
	uint64_t lock_timeout_usec; /* 0: wait for ever */
	int watch_fd;               /* inotify on the inode behind fd; -1: none (racy rule) */
	int watch_wd;
	bool loaded;
	struct pool_snapshot snap;
	bool snap_deferred; /* our change's fstat is the next lock's (see after_change()) */
	int64_t path_ok_ns; /* CLOCK_MONOTONIC when the path was last found ours; 0: look */

	struct pool_slot *slots;
	uint32_t n_slots, cap_slots;
	struct pool_entry *entries;
	uint32_t n_entries, cap_entries;
	uint32_t *buckets; /* entry numbers, NONE = empty; power-of-two size */
	uint32_t n_buckets;
	char *keys;
	size_t keys_len, keys_cap;

	struct vmu_kvp_pool_stats stats;
	bool test_pretend_unchanged;
	uint8_t rec[RECORD_SIZE];
};

static const char *const pool_file_names[_VMU_KVP_POOL_MAX] = {
    ".kvp_pool_0", ".kvp_pool_1", ".kvp_pool_2", ".kvp_pool_3", ".kvp_pool_4",
};

VMU_EXPORT const char *vmu_kvp_pool_file_name(enum vmu_kvp_pool pool)
{
	if ((unsigned)pool >= _VMU_KVP_POOL_MAX)
		return NULL;
	return pool_file_names[pool];
}

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------------ */

static uint32_t key_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return h;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_ns(&ts);
}

static int64_t racy_granularity_ns(const struct timespec *ctime)
{
	struct timespec res;
	int64_t g = RACY_MIN_NS;

	if (ctime->tv_nsec == 0)
		return RACY_COARSE_FS_NS;
	if (clock_getres(CLOCK_REALTIME_COARSE, &res) == 0 && ts_ns(&res) > g)
		g = ts_ns(&res);
	return g;
}

static ssize_t pread_full(int fd, void *buf, size_t size, off_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vmu_negative_errno();
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* 0 when all of buf was written; -errno otherwise (-ENOSPC for a short write). */
static int pwrite_full(int fd, const void *buf, size_t size, off_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vmu_negative_errno();
		if (n == 0)
			return -ENOSPC;
		done += (size_t)n;
	}
	return 0;
}

static int truncate_to(int fd, off_t size)
{
	while (ftruncate(fd, size) < 0) {
		if (errno != EINTR)
			return vmu_negative_errno();
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Locks: flock first, fcntl second; released in the reverse order.
 * ------------------------------------------------------------------------------------------ */

static int fcntl_lock(int fd, short type, bool wait)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

	while (fcntl(fd, wait && type != F_UNLCK ? F_SETLKW : F_SETLK, &fl) < 0) {
		if (errno != EINTR)
			return errno == EACCES ? -EAGAIN : vmu_negative_errno();
	}
	return 0;
}

static int flock_retry(int fd, int op)
{
	while (flock(fd, op) < 0) {
		if (errno != EINTR)
			return vmu_negative_errno();
	}
	return 0;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

/* Absolute CLOCK_MONOTONIC deadline of an operation starting now; 0: none. */
static int64_t lock_deadline(const struct vmu_kvp_pool_file *p)
{
	uint64_t max_usec = (uint64_t)(INT64_MAX / 2) / 1000;
	uint64_t usec = p->lock_timeout_usec < max_usec ? p->lock_timeout_usec : max_usec;

	return usec ? monotonic_ns() + (int64_t)usec * 1000 : 0;
}

/* Sleeps *backoff (doubling it for next time), never past the deadline. -ETIMEDOUT when the
 * deadline has passed. */
static int lock_backoff(int64_t deadline, int64_t *backoff)
{
	int64_t left = deadline - monotonic_ns(), ns = *backoff < left ? *backoff : left;
	struct timespec ts = {.tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC};

	if (left <= 0)
		return -ETIMEDOUT;
	nanosleep(&ts, NULL); /* EINTR: simply try again sooner */
	*backoff = *backoff * 2 < LOCK_BACKOFF_MAX_NS ? *backoff * 2 : LOCK_BACKOFF_MAX_NS;
	return 0;
}

/* One attempt at one lock kind (flock, or a whole-file fcntl lock); -EAGAIN when someone
 * else holds a conflicting lock and wait is false. */
static int try_lock(int fd, bool fcntl_kind, bool exclusive, bool wait)
{
	if (fcntl_kind)
		return fcntl_lock(fd, exclusive ? F_WRLCK : F_RDLCK, wait);
	return flock_retry(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB));
}

/* One lock kind: blocking without a deadline, else polled until the deadline. */
static int take_lock(int fd, bool fcntl_kind, bool exclusive, int64_t deadline)
{
	int64_t backoff = LOCK_BACKOFF_MIN_NS;

	if (!deadline)
		return try_lock(fd, fcntl_kind, exclusive, true);
	for (;;) {
		int r = try_lock(fd, fcntl_kind, exclusive, false);

		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		r = lock_backoff(deadline, &backoff);
		if (r < 0)
			return r;
	}
}

static int lock_fd(int fd, bool exclusive, int64_t deadline)
{
	int r = take_lock(fd, false, exclusive, deadline);

	if (r < 0)
		return r;
	r = take_lock(fd, true, exclusive, deadline);
	if (r < 0)
		flock_retry(fd, LOCK_UN);
	return r;
}

static void unlock_fd(int fd)
{
	fcntl_lock(fd, F_UNLCK, false);
	flock_retry(fd, LOCK_UN);
}

VMU_EXPORT int vmu_kvp_pool_set_lock_timeout(struct vmu_kvp_pool_file *p, uint64_t usec)
{
	if (!p)
		return -EINVAL;
	p->lock_timeout_usec = usec;
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------------------------ */

static int open_pool_fd(const char *path, unsigned flags)
{
	int oflags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW;
	struct stat st;
	_vmu_cleanup_close_ int fd = -1;

	oflags |= (flags & VMU_KVP_POOL_READ_ONLY) ? O_RDONLY : O_RDWR;
	if (flags & VMU_KVP_POOL_CREATE)
		oflags |= O_CREAT;
	/* O_NONBLOCK so that a FIFO in place of the file cannot hang open(). */
	fd = open(path, oflags, 0644);
	if (fd < 0)
		return vmu_negative_errno();
	if (fstat(fd, &st) < 0)
		return vmu_negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (fcntl(fd, F_SETFL, 0) < 0)
		return vmu_negative_errno();
	/* Small page-cache folios: no readahead (see "Page cache" at the top). Advice only. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	return vmu_take_fd(&fd);
}

/* Watches the inode behind p->fd (not the path: the path may name another file by now), by
 * its /proc/self/fd link, which does not open the file (closing another fd of it would drop
 * our fcntl locks). Without inotify or /proc the object keeps to the racily clean rule. */
static void watch_start(struct vmu_kvp_pool_file *p)
{
	char link[64];

	if (p->watch_fd < 0)
		p->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->watch_fd < 0)
		return;
	if (p->watch_wd >= 0)
		(void)inotify_rm_watch(p->watch_fd, p->watch_wd); /* its IN_IGNORED: one re-check */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p->fd);
	p->watch_wd = inotify_add_watch(p->watch_fd, link,
					IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
	if (p->watch_wd < 0)
		p->watch_fd = vmu_safe_close(p->watch_fd);
}

/* Empties the event queue. true: it was empty, so nobody changed the file since the last
 * drain (with a watch; false without one, on an error and on IN_Q_OVERFLOW). */
static bool watch_drain(struct vmu_kvp_pool_file *p)
{
	/* aligned for struct inotify_event */
	uint64_t buf[4096 / sizeof(uint64_t)];
	bool empty = true;

	if (p->watch_fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(p->watch_fd, buf, sizeof(buf));

		/* read() returns every queued event that fits: with room left for one more
		 * (with the longest name, though a file's watch has none) it emptied the queue,
		 * and a second read() would only say EAGAIN */
		if (n > 0 && (size_t)n + sizeof(struct inotify_event) + NAME_MAX + 1 <= sizeof(buf))
			return false;
		if (n > 0) {
			empty = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return empty;
		/* cannot tell what happened: without the watch, the racy rule decides */
		p->watch_fd = vmu_safe_close(p->watch_fd);
		p->watch_wd = -1;
		return false;
	}
}

VMU_EXPORT int vmu_kvp_pool_open(const char *path, unsigned flags, struct vmu_kvp_pool_file **ret)
{
	_vmu_cleanup_free_ struct vmu_kvp_pool_file *p = NULL;
	int fd;

	if (!path || !*path || !ret)
		return -EINVAL;
	if (flags & ~(VMU_KVP_POOL_CREATE | VMU_KVP_POOL_READ_ONLY))
		return -EINVAL;
	if ((flags & VMU_KVP_POOL_CREATE) && (flags & VMU_KVP_POOL_READ_ONLY))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = strdup(path);
	if (!p->path)
		return -ENOMEM;
	fd = open_pool_fd(path, flags);
	if (fd < 0) {
		free(p->path);
		return fd;
	}
	p->fd = fd;
	p->flags = flags;
	p->watch_fd = -1;
	p->watch_wd = -1;
	watch_start(p);
	*ret = VMU_TAKE_PTR(p);
	return 0;
}

static void index_clear(struct vmu_kvp_pool_file *p)
{
	p->n_slots = 0;
	p->n_entries = 0;
	p->keys_len = 0;
	if (p->buckets)
		memset(p->buckets, 0xff, sizeof(*p->buckets) * p->n_buckets);
	p->loaded = false;
}

VMU_EXPORT struct vmu_kvp_pool_file *vmu_kvp_pool_free(struct vmu_kvp_pool_file *p)
{
	if (!p)
		return NULL;
	vmu_safe_close(p->fd);
	vmu_safe_close(p->watch_fd);
	free(p->slots);
	free(p->entries);
	free(p->buckets);
	free(p->keys);
	free(p->path);
	free(p);
	return NULL;
}

/* ------------------------------------------------------------------------------------------
 * The index
 * ------------------------------------------------------------------------------------------ */

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t n = *cap ? *cap : 16;
	void *a;

	if (need <= *cap)
		return 0;
	while (n < need)
		n += n / 2 + 1; /* x1.5: less slack at 10,000 records than doubling */
	a = realloc(*arr, (size_t)n * elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = n;
	return 0;
}

static int keys_append(struct vmu_kvp_pool_file *p, const char *key, size_t len, uint32_t *ret_off)
{
	if (p->keys_len + len + 1 > p->keys_cap) {
		size_t cap = p->keys_cap ? p->keys_cap : 4096;
		char *k;

		while (cap < p->keys_len + len + 1)
			cap *= 2;
		k = realloc(p->keys, cap);
		if (!k)
			return -ENOMEM;
		p->keys = k;
		p->keys_cap = cap;
	}
	memcpy(p->keys + p->keys_len, key, len);
	p->keys[p->keys_len + len] = 0;
	*ret_off = (uint32_t)p->keys_len;
	p->keys_len += len + 1;
	return 0;
}

static uint32_t *bucket_find(const struct vmu_kvp_pool_file *p, const char *key, size_t len,
			     uint32_t hash)
{
	uint32_t mask = p->n_buckets - 1;

	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t e = p->buckets[i];
		const struct pool_entry *en;

		if (e == NONE)
			return &p->buckets[i];
		en = &p->entries[e];
		if (en->hash == hash && en->key_len == len &&
		    memcmp(p->keys + en->key_off, key, len) == 0)
			return &p->buckets[i];
	}
}

/* Keeps the table at most half full. */
static int buckets_reserve(struct vmu_kvp_pool_file *p, uint32_t n_entries)
{
	uint32_t n = p->n_buckets ? p->n_buckets : 64;
	uint32_t *b;

	while ((uint64_t)n < (uint64_t)n_entries * 2)
		n *= 2;
	if (n == p->n_buckets)
		return 0;
	b = malloc(sizeof(*b) * n);
	if (!b)
		return -ENOMEM;
	memset(b, 0xff, sizeof(*b) * n);
	free(p->buckets);
	p->buckets = b;
	p->n_buckets = n;
	for (uint32_t e = 0; e < p->n_entries; e++) {
		const struct pool_entry *en = &p->entries[e];

		*bucket_find(p, p->keys + en->key_off, en->key_len, en->hash) = e;
	}
	return 0;
}

static const struct pool_entry *index_lookup(const struct vmu_kvp_pool_file *p, const char *key,
					     size_t len)
{
	uint32_t e;

	if (p->n_buckets == 0)
		return NULL;
	e = *bucket_find(p, key, len, key_hash(key, len));
	return e == NONE ? NULL : &p->entries[e];
}

/* Room for n records and keys_size bytes of keys without growing (pages that are reserved
 * but never written cost no memory); -ENOMEM leaves the index as it was. */
static int index_reserve(struct vmu_kvp_pool_file *p, uint32_t n, size_t keys_size)
{
	int r = grow((void **)&p->slots, &p->cap_slots, n, sizeof(*p->slots));

	if (r >= 0 && keys_size > p->keys_cap) {
		char *k = realloc(p->keys, keys_size);

		if (!k)
			return -ENOMEM;
		p->keys = k;
		p->keys_cap = keys_size;
	}

	if (r >= 0)
		r = grow((void **)&p->entries, &p->cap_entries, n, sizeof(*p->entries));
	if (r >= 0)
		r = buckets_reserve(p, n);
	return r;
}

/* Adds the record at slot number p->n_slots (file order). key NULL: an invalid record. */
static int index_add_slot(struct vmu_kvp_pool_file *p, const char *key, size_t len)
{
	struct pool_slot *s;
	uint32_t hash, *bucket;
	int r;

	r = grow((void **)&p->slots, &p->cap_slots, p->n_slots + 1, sizeof(*p->slots));
	if (r < 0)
		return r;
	s = &p->slots[p->n_slots];
	*s = (struct pool_slot){.key_off = 0, .entry = NONE, .next = NONE, .key_len = 0};
	if (!key) {
		p->n_slots++;
		return 0;
	}
	r = buckets_reserve(p, p->n_entries + 1);
	if (r < 0)
		return r;
	hash = key_hash(key, len);
	bucket = bucket_find(p, key, len, hash);
	if (*bucket != NONE) {
		struct pool_entry *en = &p->entries[*bucket];

		s->key_off = en->key_off;
		s->key_len = en->key_len;
		s->entry = *bucket;
		p->slots[en->last].next = p->n_slots;
		en->last = p->n_slots++;
		return 0;
	}
	r = grow((void **)&p->entries, &p->cap_entries, p->n_entries + 1, sizeof(*p->entries));
	if (r < 0)
		return r;
	r = keys_append(p, key, len, &s->key_off);
	if (r < 0)
		return r;
	s->key_len = (uint16_t)len;
	s->entry = p->n_entries;
	p->entries[p->n_entries] = (struct pool_entry){
	    .key_off = s->key_off,
	    .hash = hash,
	    .first = p->n_slots,
	    .last = p->n_slots,
	    .key_len = (uint16_t)len,
	};
	*bucket = p->n_entries++;
	p->n_slots++;
	return 0;
}

/* Validates one record as stored. Returns the key length, or -EBADMSG for an invalid record
 * (no NUL inside key or value, or an empty key). The UTF-8 scan, for ret_flags only, is
 * skipped without it (read_entry: the record is scanned once, when it is copied out). */
static ssize_t record_check(const uint8_t *rec, unsigned *ret_flags, size_t *ret_value_len)
{
	ssize_t klen = vmu_bounded_strlen(rec, KEY_SIZE);
	ssize_t vlen = vmu_bounded_strlen(rec + KEY_SIZE, VALUE_SIZE);

	if (klen <= 0 || vlen < 0)
		return -EBADMSG;
	if (ret_flags) {
		unsigned flags = 0;

		if (!vmu_utf8_valid((const char *)rec, (size_t)klen))
			flags |= VMU_KVP_RECORD_KEY_NOT_UTF8;
		if (!vmu_utf8_valid((const char *)rec + KEY_SIZE, (size_t)vlen))
			flags |= VMU_KVP_RECORD_VALUE_NOT_UTF8;
		*ret_flags = flags;
	}
	if (ret_value_len)
		*ret_value_len = (size_t)vlen;
	return klen;
}

static int index_add_record(struct vmu_kvp_pool_file *p, const uint8_t *rec)
{
	unsigned flags;
	ssize_t klen = record_check(rec, &flags, NULL);

	if (klen < 0) {
		p->stats.invalid++;
		return index_add_slot(p, NULL, 0);
	}
	if (flags)
		p->stats.not_utf8++;
	return index_add_slot(p, (const char *)rec, (size_t)klen);
}

/* ------------------------------------------------------------------------------------------
 * Loading and change detection (called with a lock held)
 * ------------------------------------------------------------------------------------------ */

static int snapshot_take(struct vmu_kvp_pool_file *p, struct pool_snapshot *ret)
{
	struct stat st;
	int64_t taken = now_ns();

	if (fstat(p->fd, &st) < 0)
		return vmu_negative_errno();
	*ret = (struct pool_snapshot){
	    .dev = st.st_dev,
	    .ino = st.st_ino,
	    .size = st.st_size,
	    .mtime = st.st_mtim,
	    .ctime = st.st_ctim,
	    .taken_ns = taken,
	};
	return 0;
}

static bool snapshot_racy(const struct pool_snapshot *s)
{
	return ts_ns(&s->ctime) + racy_granularity_ns(&s->ctime) > s->taken_ns;
}

static bool snapshot_same_file(const struct pool_snapshot *a, const struct pool_snapshot *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       ts_equal(&a->mtime, &b->mtime) && ts_equal(&a->ctime, &b->ctime);
}

static void stats_reset_load(struct vmu_kvp_pool_file *p)
{
	p->stats.records = 0;
	p->stats.keys = 0;
	p->stats.duplicates = 0;
	p->stats.invalid = 0;
	p->stats.not_utf8 = 0;
	p->stats.partial_tail = 0;
}

static int load_records(struct vmu_kvp_pool_file *p, uint64_t n_records)
{
	_vmu_cleanup_free_ uint8_t *buf = malloc((size_t)CHUNK_RECORDS * RECORD_SIZE);

	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < n_records; i += CHUNK_RECORDS) {
		uint64_t want = n_records - i < CHUNK_RECORDS ? n_records - i : CHUNK_RECORDS;
		ssize_t n = pread_full(p->fd, buf, want * RECORD_SIZE, (off_t)(i * RECORD_SIZE));

		if (n < 0)
			return (int)n;
		/* Shrunk while we read (a writer that ignores locks): the next check sees it. */
		for (size_t j = 0; j < (size_t)n / RECORD_SIZE; j++) {
			int r = index_add_record(p, buf + j * RECORD_SIZE);

			if (r < 0)
				return r;
		}
		if ((size_t)n < want * RECORD_SIZE)
			break;
	}
	return 0;
}

static int pool_load(struct vmu_kvp_pool_file *p, const struct pool_snapshot *snap,
		     enum vmu_kvp_pool_reload why)
{
	uint64_t n_records = (uint64_t)snap->size / RECORD_SIZE;
	int r;

	index_clear(p);
	stats_reset_load(p);
	if (n_records > VMU_KVP_POOL_MAX_RECORDS)
		return -EFBIG;
	/* Sized once for what the file holds, plus room for some SETs: growing by doubling
	 * while reading would leave the smaller copies behind as dirty memory. */
	r = index_reserve(p, (uint32_t)n_records + (uint32_t)n_records / 8 + 16,
			  (size_t)n_records * 32);
	if (r >= 0)
		r = load_records(p, n_records);
	if (r < 0) {
		index_clear(p);
		return r;
	}
	p->snap = *snap;
	p->snap_deferred = false;
	p->loaded = true;
	p->stats.last_reload = why;
	p->stats.reloads++;
	p->stats.records = p->n_slots;
	p->stats.keys = p->n_entries;
	p->stats.duplicates = p->n_slots - p->n_entries - p->stats.invalid;
	p->stats.partial_tail = (size_t)((uint64_t)snap->size % RECORD_SIZE);
	return 1;
}

/* Re-reads the file when it may have changed. Returns 1 when it did, 0 when current. */
/* quiet: what watch_drain() said before now was taken (see pool_lock). */
static int pool_check(struct vmu_kvp_pool_file *p, enum vmu_kvp_pool_reload why, bool quiet,
		      struct pool_snapshot now)
{
	if (!p->loaded)
		return pool_load(p, &now, why);
	if (p->snap_deferred) {
		/* After our change: an empty queue says nobody wrote since, and the size must
		 * be what we left (a writer ignoring the locks, see after_change()). */
		p->snap_deferred = false;
		if (quiet && now.dev == p->snap.dev && now.ino == p->snap.ino &&
		    now.size == p->snap.size) {
			p->snap = now;
			return 0;
		}
		return pool_load(p, &now, VMU_KVP_POOL_RELOAD_CHANGED);
	}
	if (p->test_pretend_unchanged) {
		int64_t taken = now.taken_ns;

		now = p->snap;
		now.taken_ns = taken;
	}
	if (!snapshot_same_file(&p->snap, &now))
		return pool_load(p, &now, VMU_KVP_POOL_RELOAD_CHANGED);
	/* An empty queue: nobody wrote since the index was last exact (see the top), so it
	 * still is, for the file as it is now; the fresher snapshot lets pool_lock() skip the
	 * fstat once it is safely past the file's last change. */
	if (quiet) {
		p->snap = now;
		return 0;
	}
	if (snapshot_racy(&p->snap))
		return pool_load(p, &now, VMU_KVP_POOL_RELOAD_RACY);
	return 0;
}

/* 1 when the path still names the file behind our fd (fd_now: its fstat), 0 when it names another file or
 * nothing (file replaced or deleted), -errno when it cannot be checked. */
static int path_is_ours(const struct vmu_kvp_pool_file *p, const struct pool_snapshot *fd_now)
{
	struct stat b;

	/* lstat: a symbolic link put in place of the file is not ours, even when it points at
	 * it; reopening then refuses it (O_NOFOLLOW). */
	if (lstat(p->path, &b) < 0)
		return errno == ENOENT ? 0 : vmu_negative_errno();
	return fd_now->dev == b.st_dev && fd_now->ino == b.st_ino;
}

/* Whether the path names the file behind our fd, as path_is_ours(), looked at only when
 * needed (see the top): not again within VMU_KVP_POOL_PATH_RECHECK_NS of the last time it
 * was found ours, while every lock since found the watch quiet. An event, a path that is
 * not ours and a reopen make the next lock look. */
static int path_check(struct vmu_kvp_pool_file *p, const struct pool_snapshot *fd_now, bool quiet)
{
	int64_t now = monotonic_ns();
	int r;

	if (quiet && p->path_ok_ns && now - p->path_ok_ns < VMU_KVP_POOL_PATH_RECHECK_NS)
		return 1;
	r = path_is_ours(p, fd_now);
	p->path_ok_ns = r > 0 ? now : 0;
	return r;
}

/* Called without locks: the old fd is closed and the path opened again. */
static int pool_reopen(struct vmu_kvp_pool_file *p)
{
	int fd = open_pool_fd(p->path, p->flags);

	if (fd < 0)
		return fd;
	vmu_safe_close(p->fd);
	p->fd = fd;
	index_clear(p);
	watch_start(p);
	p->path_ok_ns = 0;
	p->stats.reopens++;
	return 0;
}

/* Takes both locks on the file the path names now, and brings the index up to date. */
static int pool_lock(struct vmu_kvp_pool_file *p, bool exclusive)
{
	enum vmu_kvp_pool_reload why = VMU_KVP_POOL_RELOAD_INITIAL;
	int64_t deadline = lock_deadline(p);
	int r;

	if (exclusive && (p->flags & VMU_KVP_POOL_READ_ONLY))
		return -EROFS;
	if (p->stats.reloads > 0)
		why = VMU_KVP_POOL_RELOAD_CHANGED;
	for (unsigned attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
		struct pool_snapshot now;
		bool quiet;

		r = lock_fd(p->fd, exclusive, deadline);
		if (r < 0)
			return r;
		/* The queue is emptied BEFORE the fstat: a change after it queues an event for
		 * next time, and one before it shows in the fstat. */
		quiet = watch_drain(p);
		if (quiet && p->loaded && !p->snap_deferred && !snapshot_racy(&p->snap)) {
			/* Nobody wrote since the index was last exact (see the top), and the
			 * snapshot is safely past its file's last change (should the watch be
			 * lost, it is still one to trust): no fstat. A rename over the path or
			 * an unlink changes our inode's link count, which queues IN_ATTRIB; the
			 * path is still looked at (path_check()), for a directory above it
			 * renamed or a file put in its place by other means. */
			r = path_check(p, &p->snap, quiet);
			if (r > 0)
				return 0;
		} else {
			r = snapshot_take(p, &now);
			if (r >= 0)
				r = path_check(p, &now, quiet);
			if (r > 0) {
				r = pool_check(p, why, quiet, now);
				if (r >= 0)
					return 0;
			}
		}
		unlock_fd(p->fd);
		if (r < 0)
			return r;
		r = pool_reopen(p);
		if (r < 0)
			return r;
		why = VMU_KVP_POOL_RELOAD_REOPENED;
	}
	return -EAGAIN;
}

VMU_EXPORT int vmu_kvp_pool_refresh(struct vmu_kvp_pool_file *p)
{
	uint64_t before;
	int r;

	if (!p)
		return -EINVAL;
	before = p->stats.reloads;
	r = pool_lock(p, false);
	if (r < 0)
		return r;
	unlock_fd(p->fd);
	return p->stats.reloads != before;
}

VMU_EXPORT int vmu_kvp_pool_count(struct vmu_kvp_pool_file *p, size_t *ret_count)
{
	int r;

	if (!p || !ret_count)
		return -EINVAL;
	r = pool_lock(p, false);
	if (r < 0)
		return r;
	*ret_count = p->n_entries;
	unlock_fd(p->fd);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Reading items (lock held)
 * ------------------------------------------------------------------------------------------ */

/* Reads the winning record of entry e into p->rec and checks it still holds e's key.
 * 1: ok, 0: the file does not hold what the index says, -errno on I/O errors. */
static int read_entry(struct vmu_kvp_pool_file *p, uint32_t e)
{
	const struct pool_entry *en = &p->entries[e];
	ssize_t n = pread_full(p->fd, p->rec, RECORD_SIZE, (off_t)en->last * RECORD_SIZE);

	if (n < 0)
		return (int)n;
	if (n != RECORD_SIZE)
		return 0;
	return record_check(p->rec, NULL, NULL) == en->key_len &&
	       memcmp(p->rec, p->keys + en->key_off, en->key_len) == 0;
}

/* The record struct as 0.1 released it: the least a caller may pass. Fields added later go
 * after flags, so this stays the 0.1 size. */
#define RECORD_STRUCT_SIZE_0_1 (offsetof(struct vmu_kvp_pool_record, flags) + sizeof(unsigned))

/* ret->size says how much the caller's struct holds (checked by the callers): no more is
 * written, and what lies past the fields this library knows is left untouched. */
static void record_copy_out(const uint8_t *rec, struct vmu_kvp_pool_record *ret)
{
	struct vmu_kvp_pool_record out;
	unsigned flags = 0;
	size_t vlen = 0;
	ssize_t klen = record_check(rec, &flags, &vlen);

	/* read_entry() checked the record, so klen > 0 */
	memcpy(out.key, rec, (size_t)klen + 1);
	memcpy(out.value, rec + KEY_SIZE, vlen + 1);
	out.key_len = (size_t)klen;
	out.value_len = vlen;
	out.flags = flags;
	vmu_sized_copy_out(ret, &out, sizeof(out));
}

/* Finds the entry (by key when key != NULL, else by index) and copies its item, re-reading
 * the file once when the record does not match the index. */
static int lookup_locked(struct vmu_kvp_pool_file *p, const char *key, size_t index,
			 struct vmu_kvp_pool_record *ret)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		const struct pool_entry *en;
		struct pool_snapshot now;
		int r;

		if (key)
			en = index_lookup(p, key, strlen(key));
		else
			en = index < p->n_entries ? &p->entries[index] : NULL;
		if (!en)
			return -ENOENT;
		r = read_entry(p, (uint32_t)(en - p->entries));
		if (r < 0)
			return r;
		if (r > 0) {
			record_copy_out(p->rec, ret);
			return 0;
		}
		r = snapshot_take(p, &now);
		if (r >= 0)
			r = pool_load(p, &now, VMU_KVP_POOL_RELOAD_MISMATCH);
		if (r < 0)
			return r;
	}
	return -EIO;
}

/* ret is written only on success (lookup_locked copies out last). */
static int pool_lookup(struct vmu_kvp_pool_file *p, const char *key, size_t index,
		       struct vmu_kvp_pool_record *ret)
{
	int r = pool_lock(p, false);

	if (r < 0)
		return r;
	r = lookup_locked(p, key, index, ret);
	unlock_fd(p->fd);
	return r;
}

VMU_EXPORT int vmu_kvp_pool_get(struct vmu_kvp_pool_file *p, const char *key,
				struct vmu_kvp_pool_record *ret)
{
	if (!p || !key || vmu_sized_check(ret, RECORD_STRUCT_SIZE_0_1) < 0)
		return -EINVAL;
	if (!*key || strnlen(key, KEY_SIZE) >= KEY_SIZE)
		return -ENOENT; /* no record can hold it */
	return pool_lookup(p, key, 0, ret);
}

VMU_EXPORT int vmu_kvp_pool_get_by_index(struct vmu_kvp_pool_file *p, size_t index,
					 struct vmu_kvp_pool_record *ret)
{
	if (!p || vmu_sized_check(ret, RECORD_STRUCT_SIZE_0_1) < 0)
		return -EINVAL;
	return pool_lookup(p, NULL, index, ret);
}

/* The stats struct as 0.1 released it: the least a caller may pass. Fields added later go after
 * tails_truncated, so this stays the 0.1 size. */
#define STATS_SIZE_0_1 (offsetof(struct vmu_kvp_pool_stats, tails_truncated) + sizeof(uint64_t))

/* ret->size says how much the caller's struct holds: a caller built against an older, shorter
 * struct gets only the fields it knows (nothing is written past its end); one built against a
 * newer, longer struct keeps the fields this library does not know. */
VMU_EXPORT int vmu_kvp_pool_get_stats(const struct vmu_kvp_pool_file *p,
				      struct vmu_kvp_pool_stats *ret)
{
	struct vmu_kvp_pool_stats s;
	size_t size;

	if (!p || !ret)
		return -EINVAL;
	size = ret->size;
	if (size < STATS_SIZE_0_1)
		return -EINVAL;
	s = p->stats;
	s.size = size;
	memcpy(ret, &s, size < sizeof(s) ? size : sizeof(s));
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Changes (exclusive lock held)
 * ------------------------------------------------------------------------------------------ */

static int check_item(const char *key, const char *value)
{
	size_t klen, vlen;

	if (!key || !value)
		return -EINVAL;
	klen = strnlen(key, KEY_SIZE);
	vlen = strnlen(value, VALUE_SIZE);
	if (klen == 0)
		return -EINVAL;
	if (klen >= KEY_SIZE)
		return -ENAMETOOLONG;
	if (vlen >= VALUE_SIZE)
		return -E2BIG;
	if (!vmu_utf8_valid(key, klen) || !vmu_utf8_valid(value, vlen))
		return -EILSEQ;
	return 0;
}

static void record_build(uint8_t *rec, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);

	memset(rec, 0, RECORD_SIZE);
	memcpy(rec, key, klen);
	memcpy(rec + KEY_SIZE, value, vlen);
}

/* After our own change: the index is current, remember the file as it is now. The events
 * of our own writes are drained here, under the exclusive lock, so that the queue is empty at
 * the next lock unless someone else wrote. With the watch, the fstat is left to that next
 * lock, which takes one anyway (a system call less per change): an empty queue there proves
 * the file is as we left it, size the file must have (size: n_slots whole records, plus
 * the partial tail a modify leaves alone) included. */
static int after_change(struct vmu_kvp_pool_file *p, off_t size)
{
	int r;

	(void)watch_drain(p);
	if (p->watch_fd >= 0) {
		p->snap.size = size;
		p->snap_deferred = true;
	} else {
		r = snapshot_take(p, &p->snap);
		if (r < 0) {
			index_clear(p);
			return r;
		}
		/* A writer that ignores the locks and appended or truncated while we wrote:
		 * its event was drained with ours, so let the size tell (re-read next time). */
		if ((uint64_t)p->snap.size / RECORD_SIZE != p->n_slots) {
			index_clear(p);
			return 0;
		}
	}
	p->stats.records = p->n_slots;
	p->stats.keys = p->n_entries;
	p->stats.partial_tail = (size_t)((uint64_t)p->snap.size % RECORD_SIZE);
	return 0;
}

/* Cuts a trailing partial record away (someone's garbage, see the top of the file). */
static int drop_partial_tail(struct vmu_kvp_pool_file *p)
{
	off_t whole = (off_t)p->n_slots * RECORD_SIZE;
	int r;

	if (p->snap.size == whole)
		return 0;
	r = truncate_to(p->fd, whole);
	if (r < 0)
		return r;
	p->stats.tails_truncated++;
	return 0;
}

static int rewrite_entry(struct vmu_kvp_pool_file *p, const struct pool_entry *en)
{
	for (uint32_t s = en->first; s != NONE; s = p->slots[s].next) {
		int r = pwrite_full(p->fd, p->rec, RECORD_SIZE, (off_t)s * RECORD_SIZE);

		if (r < 0) {
			/* a record may be half-written: forget the index, re-read next time */
			index_clear(p);
			return r;
		}
	}
	return 0;
}

static int append_record(struct vmu_kvp_pool_file *p, const char *key)
{
	off_t end = (off_t)p->n_slots * RECORD_SIZE;
	int r;

	if (p->n_slots >= VMU_KVP_POOL_MAX_RECORDS)
		return -EFBIG;
	r = drop_partial_tail(p);
	if (r < 0)
		return r;
	r = pwrite_full(p->fd, p->rec, RECORD_SIZE, end);
	if (r < 0) {
		/* never leave a partial record behind */
		truncate_to(p->fd, end);
		index_clear(p);
		return r;
	}
	r = index_add_slot(p, key, strlen(key));
	if (r < 0)
		index_clear(p);
	return r;
}

static int set_locked(struct vmu_kvp_pool_file *p, const char *key, const char *value)
{
	const struct pool_entry *en = index_lookup(p, key, strlen(key));
	int r;

	record_build(p->rec, key, value);
	r = en ? rewrite_entry(p, en) : append_record(p, key);
	if (r < 0)
		return r;
	/* a rewrite leaves a partial tail alone; an append cut it first */
	return after_change(p, en ? p->snap.size : (off_t)p->n_slots * RECORD_SIZE);
}

VMU_EXPORT int vmu_kvp_pool_set(struct vmu_kvp_pool_file *p, const char *key, const char *value)
{
	int r;

	if (!p)
		return -EINVAL;
	r = check_item(key, value);
	if (r < 0)
		return r;
	r = pool_lock(p, true);
	if (r < 0)
		return r;
	r = set_locked(p, key, value);
	unlock_fd(p->fd);
	return r;
}

/* Shifts the records after the first hole down over the records of entry e, in chunks.
 * Returns the new number of records. Writes go below the chunk just read, so the copy is
 * safe in place. */
static int64_t shift_out(struct vmu_kvp_pool_file *p, uint32_t e, uint32_t first_hole)
{
	_vmu_cleanup_free_ uint8_t *buf = malloc((size_t)CHUNK_RECORDS * RECORD_SIZE);
	uint32_t out = first_hole;

	if (!buf)
		return -ENOMEM;
	for (uint32_t in = first_hole; in < p->n_slots; in += CHUNK_RECORDS) {
		uint32_t n = p->n_slots - in < CHUNK_RECORDS ? p->n_slots - in : CHUNK_RECORDS;
		ssize_t got =
		    pread_full(p->fd, buf, (size_t)n * RECORD_SIZE, (off_t)in * RECORD_SIZE);
		uint32_t kept = 0;
		int r;

		if (got < 0)
			return got;
		if ((size_t)got != (size_t)n * RECORD_SIZE)
			return -EIO; /* shrank under our exclusive lock: a lock-ignoring writer */
		for (uint32_t j = 0; j < n; j++) {
			if (p->slots[in + j].entry == e)
				continue;
			if (kept != j)
				memcpy(buf + (size_t)kept * RECORD_SIZE,
				       buf + (size_t)j * RECORD_SIZE, RECORD_SIZE);
			kept++;
		}
		r = pwrite_full(p->fd, buf, (size_t)kept * RECORD_SIZE, (off_t)out * RECORD_SIZE);
		if (r < 0)
			return r;
		out += kept;
	}
	return out;
}

/* Rebuilds the index from the slots that remain, in file order, without re-reading. */
static int index_rebuild_without(struct vmu_kvp_pool_file *p, uint32_t e)
{
	_vmu_cleanup_free_ struct pool_slot *old = p->slots;
	_vmu_cleanup_free_ char *old_keys = p->keys;
	uint32_t n_old = p->n_slots;
	size_t invalid = 0, old_keys_cap = p->keys_cap;
	int r;

	p->slots = NULL;
	p->cap_slots = 0;
	p->keys = NULL;
	p->keys_cap = 0;
	index_clear(p);
	r = index_reserve(p, n_old + n_old / 8 + 16, old_keys_cap);
	if (r < 0)
		return r;
	for (uint32_t s = 0; s < n_old; s++) {
		const struct pool_slot *o = &old[s];

		if (o->entry == e)
			continue;
		invalid += o->entry == NONE;
		r = index_add_slot(p, o->entry == NONE ? NULL : old_keys + o->key_off, o->key_len);
		if (r < 0) {
			index_clear(p);
			return r;
		}
	}
	p->loaded = true;
	p->stats.invalid = invalid;
	p->stats.duplicates = p->n_slots - p->n_entries - invalid;
	return 0;
}

/* Empties bucket b of the table (linear probing): the entries after it in its cluster that
 * may no longer be found past the hole move back into it (backward-shift deletion). */
static void bucket_remove(struct vmu_kvp_pool_file *p, uint32_t *b)
{
	uint32_t mask = p->n_buckets - 1, hole = (uint32_t)(b - p->buckets);

	for (uint32_t j = (hole + 1) & mask; p->buckets[j] != NONE; j = (j + 1) & mask) {
		uint32_t home = p->entries[p->buckets[j]].hash & mask;

		/* the entry at j stays unless its home lies cyclically in (hole, j] */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			p->buckets[hole] = p->buckets[j];
			hole = j;
		}
	}
	p->buckets[hole] = NONE;
}

/* True when entry e's records are all the records from its first on: the key was the last
 * added and nothing but its duplicates came after it (a DELETE of the newest key, the
 * common case of a SET undone). Then no record moves and the index drops the entry, its
 * slots and its key from the ends of its arrays, instead of being rebuilt. */
static bool entry_is_tail(const struct vmu_kvp_pool_file *p, uint32_t e)
{
	const struct pool_entry *en = &p->entries[e];
	uint32_t count = 0;

	if (e != p->n_entries - 1 || en->key_off + en->key_len + 1u != p->keys_len)
		return false;
	for (uint32_t s = en->first; s != NONE; s = p->slots[s].next)
		count++;
	return en->last == p->n_slots - 1 && count == p->n_slots - en->first;
}

static void index_drop_tail_entry(struct vmu_kvp_pool_file *p, uint32_t e)
{
	const struct pool_entry *en = &p->entries[e];

	bucket_remove(p, bucket_find(p, p->keys + en->key_off, en->key_len, en->hash));
	p->n_slots = en->first;
	p->keys_len = en->key_off;
	p->n_entries--;
	p->stats.duplicates = p->n_slots - p->n_entries - p->stats.invalid;
}

static int delete_locked(struct vmu_kvp_pool_file *p, const char *key)
{
	const struct pool_entry *en = index_lookup(p, key, strlen(key));
	bool tail;
	uint32_t e;
	int64_t n;
	int r;

	if (!en)
		return -ENOENT;
	e = (uint32_t)(en - p->entries);
	tail = entry_is_tail(p, e);
	n = tail ? (int64_t)en->first : shift_out(p, e, en->first);
	if (n < 0) {
		index_clear(p);
		return (int)n;
	}
	if (p->snap.size != (off_t)p->n_slots * RECORD_SIZE)
		p->stats.tails_truncated++;
	r = truncate_to(p->fd, (off_t)n * RECORD_SIZE);
	if (r >= 0 && tail)
		index_drop_tail_entry(p, e);
	else if (r >= 0)
		r = index_rebuild_without(p, e);
	if (r < 0) {
		index_clear(p);
		return r;
	}
	return after_change(p, (off_t)n * RECORD_SIZE);
}

VMU_EXPORT int vmu_kvp_pool_delete(struct vmu_kvp_pool_file *p, const char *key)
{
	int r;

	if (!p || !key)
		return -EINVAL;
	if (p->flags & VMU_KVP_POOL_READ_ONLY)
		return -EROFS;
	if (!*key || strnlen(key, KEY_SIZE) >= KEY_SIZE)
		return -ENOENT;
	r = pool_lock(p, true);
	if (r < 0)
		return r;
	r = delete_locked(p, key);
	unlock_fd(p->fd);
	return r;
}

/* ------------------------------------------------------------------------------------------
 * Creation (the host-limit check, UTF-16 counting, is in utf16.c)
 * ------------------------------------------------------------------------------------------ */

static int create_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) == 0) {
		/* the umask may have taken bits away; readers need 0755 */
		if (chmod(dir, 0755) < 0)
			return vmu_negative_errno();
		return 0;
	}
	if (errno != EEXIST)
		return vmu_negative_errno();
	if (stat(dir, &st) < 0)
		return vmu_negative_errno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int create_file_at(int dirfd, const char *name)
{
	_vmu_cleanup_close_ int fd = -1;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : vmu_negative_errno();
	if (fchmod(fd, 0644) < 0)
		return vmu_negative_errno();
	return 0;
}

VMU_EXPORT int vmu_kvp_pool_create_all(const char *dir)
{
	_vmu_cleanup_close_ int dirfd = -1;
	int r;

	if (!dir || !*dir)
		return -EINVAL;
	r = create_dir(dir);
	if (r < 0)
		return r;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vmu_negative_errno();
	for (unsigned i = 0; i < _VMU_KVP_POOL_MAX; i++) {
		r = create_file_at(dirfd, pool_file_names[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void vmu_kvp_pool_test_pretend_unchanged(struct vmu_kvp_pool_file *p, bool on)
{
	p->test_pretend_unchanged = on;
}

/* ------------------------------------------------------------------------------------------
 * Snapshots: a whole pool file written at once (the daemon's intrinsic auto pool)
 * ------------------------------------------------------------------------------------------ */

/* The length of s cut to at most max bytes, not inside a UTF-8 sequence (a text that is not
 * UTF-8 is cut at the byte). */
static size_t cut_length(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max || !vmu_utf8_valid(s, len))
		return len <= max ? len : max;
	while (max > 0 && ((uint8_t)s[max] & 0xc0) == 0x80)
		max--; /* s[max] continues the sequence that would be split */
	return max;
}

VMU_EXPORT int vmu_kvp_pool_write_snapshot(const char *path, const struct vmu_kvp_pool_item *items,
					   size_t n)
{
	_vmu_cleanup_free_ char *tmp = NULL;
	_vmu_cleanup_free_ uint8_t *records = NULL;
	_vmu_cleanup_close_ int fd = -1;
	int r;

	if (!path || (!items && n > 0) || n > VMU_KVP_POOL_MAX_RECORDS)
		return -EINVAL;
	records = calloc(n ? n : 1, RECORD_SIZE);
	if (!records)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t *rec = records + i * RECORD_SIZE;
		size_t klen;

		if (!items[i].key || !items[i].value || !items[i].key[0])
			return -EINVAL;
		klen = strnlen(items[i].key, KEY_SIZE);
		if (klen >= KEY_SIZE)
			return -ENAMETOOLONG; /* a cut key would be another key */
		memcpy(rec, items[i].key, klen);
		memcpy(rec + KEY_SIZE, items[i].value, cut_length(items[i].value, VALUE_SIZE - 1));
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fchmod(fd, 0644) < 0 ? -errno : pwrite_full(fd, records, n * RECORD_SIZE, 0);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r < 0 ? r : 0;
}
