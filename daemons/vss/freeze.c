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
 * Each mount point is opened once, before its FIFREEZE, and the descriptor is kept until it
 * is thawed: the thaw needs no path lookup, and the mount cannot go away in between.
 *
 * This module does not log: the caller holds the log while file systems are frozen and
 * reports from the returned set afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
	int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
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

static struct freeze_set *set_new(const struct plan *p)
{
	struct freeze_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->mounts = calloc(p->n_freeze ? p->n_freeze : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return freeze_set_free(s);
	for (size_t i = 0; i < p->n_freeze; i++) {
		s->mounts[i] = (struct freeze_mount){.fd = -1, .state = FREEZE_PENDING};
		s->n++;
		s->mounts[i].target = strdup(plan_frozen(p, i)->target);
		if (!s->mounts[i].target)
			return freeze_set_free(s);
	}
	return s;
}

const char **freeze_targets(const struct freeze_set *s, enum freeze_state state)
{
	const char **t = calloc(s->n + 1, sizeof(*t));
	size_t n = 0;

	if (!t)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->mounts[i].state == state)
			t[n++] = s->mounts[i].target;
	return t;
}

size_t freeze_count(const struct freeze_set *s, enum freeze_state state)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->n; i++)
		n += s->mounts[i].state == state;
	return n;
}

/* Ours so far plus mount i, for the crash record. */
static int record_before(struct freeze_set *s, size_t i, freeze_record_fn record, void *userdata)
{
	const char **t;
	size_t n;
	int r;

	if (!record)
		return 0;
	t = freeze_targets(s, FREEZE_OURS);
	if (!t)
		return -ENOMEM;
	for (n = 0; t[n]; n++)
		;
	t[n++] = s->mounts[i].target;
	r = record(t, n, userdata);
	free(t);
	return r;
}

/* 0 to go on, or the fatal errno. */
static int freeze_one(struct freeze_mount *m, enum freeze_unfreezable policy)
{
	int r = open_mount(m->target);

	if (r < 0) {
		m->error = -r;
		return r;
	}
	m->fd = r;
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

int freeze_plan(const struct plan *p, enum freeze_unfreezable policy, freeze_record_fn record,
		void *userdata, struct freeze_set **ret, const char **ret_failed)
{
	struct freeze_set *s = set_new(p);
	int r = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < s->n && r == 0; i++) {
		r = record_before(s, i, record, userdata);
		if (r == 0)
			r = freeze_one(&s->mounts[i], policy);
		if (r < 0 && ret_failed)
			*ret_failed = plan_frozen(p, i)->target;
	}
	if (r < 0)
		(void)freeze_thaw(s); /* a thaw failure is in the set for the caller to report */
	if (ret)
		*ret = s;
	else
		freeze_set_free(s);
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

int freeze_thaw_path(const char *target)
{
	int fd = open_mount(target), r;

	if (fd < 0)
		return fd;
	r = fithaw(fd);
	close(fd);
	return r;
}
