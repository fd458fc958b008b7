/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Asynchronous FQDN resolution.
 *
 * getaddrinfo() may block for the resolver's whole timeout, so it runs in a short-lived
 * detached thread per resolution. The thread gets its own job (host name in, canonical name
 * out) and its own end of a datagram socket pair; when it is done it sends the job's
 * pointer to the event loop and closes its end. If the daemon went away meanwhile the send
 * fails and the thread frees the job itself, so neither side touches memory the other has
 * freed. At most one resolution runs at a time; a host name change seen meanwhile starts
 * the next one when the first returns.
 *
 * Until a resolution succeeds the item is the host name itself: the reference reported its
 * getaddrinfo error text as the domain name (docs/protocol.md §9.10); we never do.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fqdn.h"
#include "hvd.h"
#include "log.h"

#define FQDN_MAX 256

struct fqdn_job {
	int fd;
	char host[FQDN_MAX];
	char result[FQDN_MAX];
	int error;
};

struct fqdn {
	sd_event_source *io, *timer; /* io owns the read end of the socket pair */
	int wfd;                     /* write end: each job gets a duplicate */
	bool busy;
	uint64_t check_usec, refresh_usec, last_resolve;
	char host[FQDN_MAX]; /* the host name last resolved (or being resolved) */
	char name[FQDN_MAX]; /* what we report */
	fqdn_changed_fn cb;
	void *userdata;
};

static void *fqdn_thread(void *arg)
{
	struct fqdn_job *job = arg;
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME};
	struct addrinfo *res = NULL;
	int fd = job->fd;

	job->error = getaddrinfo(job->host, NULL, &hints, &res);
	if (job->error == 0 && res && res->ai_canonname && res->ai_canonname[0])
		snprintf(job->result, sizeof(job->result), "%s", res->ai_canonname);
	if (res)
		freeaddrinfo(res);
	if (send(fd, &job, sizeof(job), MSG_NOSIGNAL) != sizeof(job)) {
		close(fd);
		free(job);
		return NULL;
	}
	/* Once sent, the job is the event loop's, which may have freed it already: only the
	 * fd, copied before, is still ours. */
	close(fd);
	return NULL;
}

static void current_host(char *buf, size_t size)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(buf, size, "%s", u.nodename);
	else
		buf[0] = 0;
}

static void fqdn_set(struct fqdn *f, const char *name)
{
	if (strcmp(f->name, name) == 0)
		return;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (f->cb)
		f->cb(f->name, f->userdata);
}

static void fqdn_start(struct fqdn *f)
{
	struct fqdn_job *job;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (f->busy)
		return;
	current_host(f->host, sizeof(f->host));
	if (!f->host[0])
		return;
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->fd = fcntl(f->wfd, F_DUPFD_CLOEXEC, 3);
	snprintf(job->host, sizeof(job->host), "%s", f->host);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = job->fd < 0 ? errno : pthread_create(&t, &attr, fqdn_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		log_warning_errno(r, "Cannot start resolving %s, reporting the host name", f->host);
		if (job->fd >= 0)
			close(job->fd);
		free(job);
		fqdn_set(f, f->host);
		return;
	}
	f->busy = true;
	sd_event_now(sd_event_source_get_event(f->io), CLOCK_MONOTONIC, &f->last_resolve);
}

static int fqdn_on_result(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct fqdn *f = userdata;
	struct fqdn_job *job;
	char now_host[FQDN_MAX];

	if (recv(fd, &job, sizeof(job), MSG_DONTWAIT) != sizeof(job))
		return 0;
	f->busy = false;
	if (job->result[0]) {
		log_debug("%s resolves to %s", job->host, job->result);
		fqdn_set(f, job->result);
	} else {
		log_debug("Cannot resolve %s (%s), reporting the host name", job->host,
			  gai_strerror(job->error));
		fqdn_set(f, job->host);
	}
	free(job);
	current_host(now_host, sizeof(now_host));
	if (strcmp(now_host, f->host) != 0)
		fqdn_start(f);
	return 0;
}

void fqdn_check(struct fqdn *f)
{
	char now_host[FQDN_MAX];

	current_host(now_host, sizeof(now_host));
	if (strcmp(now_host, f->host) != 0) {
		log_info("Host name changed to %s, resolving it", now_host);
		fqdn_set(f, now_host);
		fqdn_start(f);
	}
}

static int fqdn_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fqdn *f = userdata;
	int r;

	fqdn_check(f);
	if (!f->busy && usec - f->last_resolve >= f->refresh_usec)
		fqdn_start(f);
	r = hvd_timer_rearm(s, usec + f->check_usec);
	if (r < 0)
		log_error_errno(r, "Cannot re-arm the domain name check; it is resolved again only "
				   "when the host asks");
	return 0;
}

void fqdn_set_refresh(struct fqdn *f, uint64_t refresh_usec)
{
	f->refresh_usec = refresh_usec;
}

int fqdn_new(sd_event *event, uint64_t check_usec, uint64_t refresh_usec, fqdn_changed_fn cb,
	     void *userdata, struct fqdn **ret)
{
	struct fqdn *f = calloc(1, sizeof(*f));
	int pair[2], r;
	uint64_t now;

	if (!f)
		return -ENOMEM;
	f->cb = cb;
	f->userdata = userdata;
	f->check_usec = check_usec;
	f->refresh_usec = refresh_usec;
	f->wfd = -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0) {
		free(f);
		return -errno;
	}
	f->wfd = pair[1];
	r = sd_event_add_io(event, &f->io, pair[0], EPOLLIN, fqdn_on_result, f);
	if (r < 0) {
		close(pair[0]);
		fqdn_free(f);
		return r;
	}
	sd_event_source_set_io_fd_own(f->io, true);
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(event, &f->timer, CLOCK_MONOTONIC, now + check_usec, 0, fqdn_on_timer,
			      f);
	if (r < 0) {
		fqdn_free(f);
		return r;
	}
	current_host(f->host, sizeof(f->host));
	snprintf(f->name, sizeof(f->name), "%s", f->host);
	fqdn_start(f);
	*ret = f;
	return 0;
}

struct fqdn *fqdn_free(struct fqdn *f)
{
	if (!f)
		return NULL;
	/* A resolution that finished but was not collected yet: its job is ours now. (One
	 * still running keeps its job and frees it when its send fails.) */
	if (f->io) {
		int fd = sd_event_source_get_io_fd(f->io);
		struct fqdn_job *job;

		while (fd >= 0 && recv(fd, &job, sizeof(job), MSG_DONTWAIT) == sizeof(job))
			free(job);
	}
	sd_event_source_disable_unref(f->io);
	sd_event_source_disable_unref(f->timer);
	if (f->wfd >= 0)
		close(f->wfd);
	free(f);
	return NULL;
}

const char *fqdn_get(struct fqdn *f)
{
	return f->name;
}
