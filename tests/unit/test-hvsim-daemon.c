/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake daemon thread shared by the hvsim tests (see test-hvsim-daemon.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/unit/test-hvsim-daemon.h"

#define WAIT_USEC (10ull * 1000000ull)

static void notify(struct fake_daemon *d)
{
	uint64_t one = 1;

	(void)!write(d->notify_fd, &one, sizeof(one));
}

int fake_reply(struct fake_daemon *d, const void *buf, size_t len)
{
	int r = vmu_chardev_send(d->dev, buf, len);

	g_mutex_lock(&d->lock);
	d->last_send = r;
	d->n_sends++;
	g_mutex_unlock(&d->lock);
	notify(d);
	return r;
}

static bool handle_message(struct fake_daemon *d)
{
	uint8_t buf[FAKE_MAX_MSG];
	ssize_t n = vmu_chardev_recv(d->dev, buf, sizeof(buf));

	if (n == -EAGAIN)
		return true;
	if (n < 0) {
		g_mutex_lock(&d->lock);
		d->closed = true;
		g_mutex_unlock(&d->lock);
		notify(d);
		return false;
	}
	g_mutex_lock(&d->lock);
	memcpy(d->last, buf, (size_t)n);
	d->last_len = (size_t)n;
	d->n_msgs++;
	g_mutex_unlock(&d->lock);
	if (d->handler)
		d->handler(d, buf, (size_t)n);
	notify(d);
	return true;
}

/* A command from the test: stop, or send the pending reply. */
static bool handle_command(struct fake_daemon *d)
{
	uint8_t buf[FAKE_MAX_MSG];
	uint64_t v;
	size_t len = 0;
	bool stop, send;

	(void)!read(d->cmd_fd, &v, sizeof(v));
	g_mutex_lock(&d->lock);
	stop = d->stop;
	send = d->send_pending;
	if (send) {
		len = d->pending_len;
		memcpy(buf, d->pending, len);
		d->send_pending = false;
	}
	g_mutex_unlock(&d->lock);
	if (send)
		fake_reply(d, buf, len);
	return !stop;
}

static void daemon_loop(struct fake_daemon *d)
{
	bool stop;

	for (;;) {
		struct pollfd p[2] = {{.fd = vmu_chardev_fd(d->dev), .events = POLLIN},
				      {.fd = d->cmd_fd, .events = POLLIN}};

		if (vmu_chardev_has_pending(d->dev)) {
			if (!handle_message(d))
				return;
			continue;
		}
		if (poll(p, 2, -1) < 0)
			continue;
		if ((p[1].revents & POLLIN) && !handle_command(d))
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !handle_message(d))
			return;
		g_mutex_lock(&d->lock);
		stop = d->stop;
		g_mutex_unlock(&d->lock);
		if (stop)
			return;
	}
}

static gpointer daemon_thread(gpointer data)
{
	struct fake_daemon *d = data;
	int r;

	r = vmu_chardev_open(d->service, d->path, &d->dev);
	g_mutex_lock(&d->lock);
	d->open_done = true;
	d->open_result = r;
	g_mutex_unlock(&d->lock);
	notify(d);
	if (r < 0)
		return NULL;
	if (!d->skip_register) {
		r = vmu_chardev_register(d->dev, 10000);
		g_mutex_lock(&d->lock);
		d->register_done = true;
		d->register_result = r;
		if (r >= 0)
			g_strlcpy(d->kernel_version, vmu_chardev_kernel_version(d->dev),
				  sizeof(d->kernel_version));
		g_mutex_unlock(&d->lock);
		notify(d);
	}
	daemon_loop(d);
	d->dev = vmu_chardev_free(d->dev);
	return NULL;
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	return 0;
}

void fake_daemon_start(struct hvsim *sim, struct fake_daemon *d, enum vmu_service service,
		       const char *path, fake_handler handler)
{
	memset(d, 0, sizeof(*d));
	d->service = service;
	g_snprintf(d->path, sizeof(d->path), "unix:%s", path);
	d->handler = handler;
	g_mutex_init(&d->lock);
	d->cmd_fd = eventfd(0, EFD_CLOEXEC);
	d->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g_assert_cmpint(d->cmd_fd, >=, 0);
	g_assert_cmpint(d->notify_fd, >=, 0);
	g_assert_cmpint(
	    sd_event_add_io(hvsim_event(sim), &d->notify_src, d->notify_fd, EPOLLIN, on_notify, d),
	    >=, 0);
	d->thread = g_thread_new("fake-daemon", daemon_thread, d);
}

void fake_daemon_stop(struct fake_daemon *d)
{
	uint64_t one = 1;

	if (!d->thread)
		return;
	g_mutex_lock(&d->lock);
	d->stop = true;
	g_mutex_unlock(&d->lock);
	(void)!write(d->cmd_fd, &one, sizeof(one));
	g_thread_join(d->thread);
	d->thread = NULL;
	d->notify_src = sd_event_source_disable_unref(d->notify_src);
	close(d->cmd_fd);
	close(d->notify_fd);
	g_mutex_clear(&d->lock);
}

void fake_send_later(struct fake_daemon *d, const void *buf, size_t len)
{
	uint64_t one = 1;

	g_assert_cmpuint(len, <=, FAKE_MAX_MSG);
	g_mutex_lock(&d->lock);
	memcpy(d->pending, buf, len);
	d->pending_len = len;
	d->send_pending = true;
	g_mutex_unlock(&d->lock);
	(void)!write(d->cmd_fd, &one, sizeof(one));
}

struct wait_ctx {
	struct fake_daemon *d;
	bool (*pred)(struct fake_daemon *d);
};

static bool wait_pred(void *userdata)
{
	struct wait_ctx *w = userdata;

	return w->pred(w->d);
}

/* hvsim_run_until is internal to the library; tests use the public loop instead. */
void fake_wait(struct hvsim *sim, struct fake_daemon *d, bool (*pred)(struct fake_daemon *d))
{
	struct wait_ctx w = {d, pred};
	uint64_t deadline = g_get_monotonic_time() + WAIT_USEC;

	while (!wait_pred(&w)) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_assert_cmpint(sd_event_run(hvsim_event(sim), WAIT_USEC), >=, 0);
	}
}

#define LOCKED_GETTER(type, name, expr)                                                            \
	type name(struct fake_daemon *d)                                                           \
	{                                                                                          \
		type v;                                                                            \
		g_mutex_lock(&d->lock);                                                            \
		v = (expr);                                                                        \
		g_mutex_unlock(&d->lock);                                                          \
		return v;                                                                          \
	}

LOCKED_GETTER(bool, fake_registered, d->register_done)
LOCKED_GETTER(bool, fake_opened, d->open_done)
LOCKED_GETTER(bool, fake_closed, d->closed)
LOCKED_GETTER(unsigned, fake_n_msgs, d->n_msgs)
LOCKED_GETTER(unsigned, fake_n_sends, d->n_sends)

static unsigned wanted;

static bool msgs_reached(struct fake_daemon *d)
{
	return fake_n_msgs(d) >= wanted;
}

static bool sends_reached(struct fake_daemon *d)
{
	return fake_n_sends(d) >= wanted;
}

void fake_wait_msgs(struct hvsim *sim, struct fake_daemon *d, unsigned n)
{
	wanted = n;
	fake_wait(sim, d, msgs_reached);
}

void fake_wait_sends(struct hvsim *sim, struct fake_daemon *d, unsigned n)
{
	wanted = n;
	fake_wait(sim, d, sends_reached);
}

struct hvsim *test_sim_new(enum vmu_service service, char *path, size_t size)
{
	g_autofree char *dir = g_dir_make_tmp("hvsim-XXXXXX", NULL);
	struct hvsim *sim = NULL;

	g_assert_nonnull(dir);
	g_snprintf(path, size, "%s/%s.sock", dir, vmu_service_name(service));
	g_assert_cmpint(hvsim_new(NULL, &sim), ==, 0);
	g_assert_cmpint(hvsim_listen(sim, service, path), ==, 0);
	return sim;
}

void test_sim_free(struct hvsim *sim, const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	hvsim_free(sim);
	g_assert_cmpint(access(path, F_OK), <, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

struct hvsim *test_sim_with_daemon(enum vmu_service service, struct fake_daemon *d,
				   fake_handler handler, char *path, size_t size)
{
	struct hvsim *sim = test_sim_new(service, path, size);

	fake_daemon_start(sim, d, service, path, handler);
	g_assert_cmpint(hvsim_wait_registered(sim, service, WAIT_USEC), ==, 0);
	fake_wait(sim, d, fake_registered);
	g_assert_cmpint(d->register_result, ==, 0);
	return sim;
}
