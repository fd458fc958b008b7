/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FIFREEZE / FITHAW over a freeze plan.
 *
 * Error rules (hv-vssd(8)):
 *   freeze EBUSY            someone else froze it (or it is mid-freeze): fine, but not ours,
 *                           so it is never thawed by us;
 *   freeze EOPNOTSUPP/ENOTTY the file system cannot be frozen: skipped or fatal by policy;
 *   freeze anything else    fatal: everything frozen so far is thawed in reverse order;
 *   thaw EINVAL             already thawed: fine.
 *
 * Each mount point is opened once, when the plan is made (before the freeze hooks, which
 * may take minutes), checked to be the mount the plan names (mount ID), and the descriptor
 * is kept until the thaw: the thaw needs no path lookup. Right before its FIFREEZE the path
 * is looked up again (O_NOFOLLOW) and must still lead to the same mount (mount ID and
 * st_dev): a mount unmounted meanwhile would otherwise let the file system underneath be
 * frozen (out of the plan and out of order; with a loop-backed one the daemon hung), and a
 * mount replaced by another file system would freeze that one. Such a mount is "gone",
 * skipped or fatal by the unfreezable= policy. The ioctl goes through the planned
 * descriptor, so even a change after the check freezes the planned superblock, never
 * another. st_dev is compared with what the descriptor says, not with mountinfo's
 * major:minor, which differs for btrfs subvolumes.
 *
 * This module does not log: the caller holds the log while file systems are frozen and
 * reports from the returned set afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "freeze.h"

struct freeze_set *freeze_set_free(struct freeze_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (s->mounts[i].fd >= 0)
			close(s->mounts[i].fd);
		free(s->mounts[i].target);
	}
	free(s->mounts);
	free(s);
	return NULL;
}

static int open_mount(const char *target)
{
	int fd = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

/* mnt_id from /proc/self/fdinfo (kernels before statx's STATX_MNT_ID, 5.8). */
static int fdinfo_mnt_id(int fd, int *ret)
{
	char path[64], line[256];
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char *end;
		long id;

		if (strncmp(line, "mnt_id:", 7) != 0)
			continue;
		errno = 0;
		id = strtol(line + 7, &end, 10);
		if (errno || id <= 0 || id > INT_MAX || (*end != '\n' && *end != '\0'))
			r = -EBADMSG;
		else {
			*ret = (int)id;
			r = 0;
		}
	}
	fclose(f);
	return r;
}

/* Linux 6.8: a mount ID that is never reused (the old one is, at once). */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/* The mount ID mountinfo shows (reused as soon as the mount is gone). */
static int mountinfo_id(int fd, int *ret)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id == 0 || stx.stx_mnt_id > INT_MAX)
		return fdinfo_mnt_id(fd, ret);
	*ret = (int)stx.stx_mnt_id;
	return 0;
}

/* freeze_identify(); *ret_unique tells whether the ID is the unique one. */
static int identify(int fd, uint64_t *ret_mnt_id, uint64_t *ret_dev, bool *ret_unique)
{
	struct statx stx;
	int id, r;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID_UNIQUE, &stx) < 0)
		return -errno;
	*ret_unique = (stx.stx_mask & STATX_MNT_ID_UNIQUE) && stx.stx_mnt_id > 0;
	if (*ret_unique) {
		*ret_mnt_id = stx.stx_mnt_id;
	} else {
		/* older kernels: a mount made after an unmount may get the same ID (and a
		 * loop device the same st_dev); the check still catches a plain unmount */
		r = mountinfo_id(fd, &id);
		if (r < 0)
			return r;
		*ret_mnt_id = (uint64_t)id;
	}
	*ret_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

int freeze_identify(int fd, uint64_t *ret_mnt_id, uint64_t *ret_dev)
{
	bool unique;

	return identify(fd, ret_mnt_id, ret_dev, &unique);
}

/* Does target still lead to the mount m->fd is on? With the unique mount ID (Linux 6.8)
 * one statx() of the path, not following a final symbolic link (as open(O_PATH|O_NOFOLLOW)
 * does) and requiring a directory; else through a descriptor as freeze_identify() does. */
static bool still_mounted(const struct freeze_mount *m)
{
	struct statx stx;
	uint64_t dev, id;
	bool unique;
	int fd, r;

	if (m->mnt_id_unique) {
		if (statx(AT_FDCWD, m->target, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
			  STATX_MNT_ID_UNIQUE, &stx) < 0 ||
		    !(stx.stx_mask & STATX_MNT_ID_UNIQUE) || !S_ISDIR(stx.stx_mode))
			return false;
		return stx.stx_mnt_id == m->mnt_id &&
		       makedev(stx.stx_dev_major, stx.stx_dev_minor) == m->dev;
	}
	fd = open(m->target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	r = identify(fd, &id, &dev, &unique);
	close(fd);
	return r == 0 && id == m->mnt_id && dev == m->dev;
}

/* The injected error for target, 0 when none. */
static int injected_error(const char *target)
{
	const char *spec = getenv(FREEZE_INJECT_ENV), *colon;
	char *end;
	long e;

	if (!spec || !(colon = strrchr(spec, ':')))
		return 0;
	if ((size_t)(colon - spec) != strlen(target) || strncmp(spec, target, strlen(target)) != 0)
		return 0;
	errno = 0;
	e = strtol(colon + 1, &end, 10);
	if (errno || *end || e <= 0 || e > 4095)
		return 0;
	return (int)e;
}

static int fifreeze(struct freeze_mount *m)
{
	int e = injected_error(m->target);

	if (e)
		return -e;
	return ioctl(m->fd, FIFREEZE, 0) < 0 ? -errno : 0;
}

static int fithaw(int fd)
{
	return ioctl(fd, FITHAW, 0) < 0 ? -errno : 0;
}

/* Opens m and checks it is the planned mount; on failure m->fd stays -1 with the errno. */
static void open_planned(struct freeze_mount *m, int planned_mnt_id)
{
	int fd = open_mount(m->target), id = 0, r;

	if (fd < 0) {
		m->error = -fd;
		return;
	}
	r = mountinfo_id(fd, &id);
	if (r == 0 && id != planned_mnt_id)
		r = -ESTALE; /* remounted since the mount table was read */
	if (r == 0)
		r = identify(fd, &m->mnt_id, &m->dev, &m->mnt_id_unique);
	if (r < 0) {
		close(fd);
		m->mnt_id = 0;
		m->error = -r;
		return;
	}
	m->fd = fd;
}

int freeze_open(const struct plan *p, struct freeze_set **ret)
{
	struct freeze_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->mounts = calloc(p->n_freeze ? p->n_freeze : 1, sizeof(*s->mounts));
	if (!s->mounts) {
		freeze_set_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_freeze; i++) {
		s->mounts[i] = (struct freeze_mount){.fd = -1, .state = FREEZE_PENDING};
		s->n++;
		s->mounts[i].target = strdup(plan_frozen(p, i)->target);
		if (!s->mounts[i].target) {
			freeze_set_free(s);
			return -ENOMEM;
		}
		open_planned(&s->mounts[i], plan_frozen(p, i)->mnt_id);
	}
	*ret = s;
	return 0;
}

struct state_mount *freeze_entries(const struct freeze_set *s, enum freeze_state state,
				   size_t *ret_n)
{
	struct state_mount *m = calloc(s->n + 1, sizeof(*m));
	size_t n = 0;

	if (!m)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->mounts[i].state == state)
			m[n++] = (struct state_mount){.target = s->mounts[i].target,
						      .mnt_id = s->mounts[i].mnt_id,
						      .dev = s->mounts[i].dev};
	*ret_n = n;
	return m;
}

size_t freeze_count(const struct freeze_set *s, enum freeze_state state)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->n; i++)
		n += s->mounts[i].state == state;
	return n;
}

/* Every mount that may become ours (the opened ones), for the crash record. */
static int record_opened(struct freeze_set *s, freeze_record_fn record, void *userdata)
{
	struct state_mount *m;
	size_t n = 0;
	int r;

	if (!record)
		return 0;
	m = calloc(s->n + 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->mounts[i].fd >= 0)
			m[n++] = (struct state_mount){.target = s->mounts[i].target,
						      .mnt_id = s->mounts[i].mnt_id,
						      .dev = s->mounts[i].dev};
	r = record(m, n, userdata);
	free(m);
	return r;
}

/* A mount that is not (or no longer) the planned one: skipped or fatal by policy. */
static int gone(struct freeze_mount *m, enum freeze_unfreezable policy)
{
	if (m->error == 0)
		m->error = ESTALE;
	if (policy == FREEZE_UNFREEZABLE_SKIP) {
		m->state = FREEZE_GONE;
		return 0;
	}
	return -ESTALE;
}

/* 0 to go on, or the fatal errno. */
static int freeze_one(struct freeze_mount *m, enum freeze_unfreezable policy)
{
	int r;

	if (m->fd < 0 || !still_mounted(m))
		return gone(m, policy);
	r = fifreeze(m);
	if (r == 0) {
		m->state = FREEZE_OURS;
		return 0;
	}
	m->error = -r;
	if (r == -EBUSY) {
		m->state = FREEZE_ALREADY;
		return 0;
	}
	if ((r == -EOPNOTSUPP || r == -ENOTTY) && policy == FREEZE_UNFREEZABLE_SKIP) {
		m->state = FREEZE_UNSUPPORTED;
		return 0;
	}
	return r;
}

int freeze_plan(struct freeze_set *s, enum freeze_unfreezable policy, freeze_record_fn record,
		void *userdata, const char **ret_failed)
{
	/* once, before the first FIFREEZE: a mount that cannot be opened will not be frozen,
	 * and one named but not frozen is thawed with a harmless EINVAL after a crash */
	int r = record_opened(s, record, userdata);

	for (size_t i = 0; i < s->n && r == 0; i++) {
		r = freeze_one(&s->mounts[i], policy);
		if (r < 0 && ret_failed)
			*ret_failed = s->mounts[i].target;
	}
	if (r < 0)
		(void)freeze_thaw(s); /* a thaw failure is in the set for the caller to report */
	return r;
}

int freeze_thaw(struct freeze_set *s)
{
	int first_error = 0, thawed = 0;

	for (size_t i = s ? s->n : 0; i-- > 0;) {
		struct freeze_mount *m = &s->mounts[i];
		int r;

		if (m->state != FREEZE_OURS)
			continue;
		r = fithaw(m->fd);
		if (r == 0 || r == -EINVAL) {
			m->state = FREEZE_THAWED;
			thawed++;
			continue;
		}
		m->error = -r;
		if (!first_error)
			first_error = r;
	}
	return first_error ? first_error : thawed;
}

void freeze_release(struct freeze_set *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->mounts[i].state != FREEZE_OURS && s->mounts[i].fd >= 0) {
			close(s->mounts[i].fd);
			s->mounts[i].fd = -1;
		}
}

int freeze_thaw_recorded(const struct state_mount *m)
{
	int fd = open_mount(m->target), r;
	uint64_t dev, id;

	if (fd < 0)
		return fd;
	r = m->mnt_id > 0 ? freeze_identify(fd, &id, &dev) : 0;
	if (r == 0 && m->mnt_id > 0 && (id != m->mnt_id || dev != m->dev))
		r = -ESTALE;
	if (r == 0)
		r = fithaw(fd);
	close(fd);
	return r;
}
