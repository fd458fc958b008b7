/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted fake daemon for the hvsim tests. It uses the real library transport
 * (vmu_chardev_*), whose calls block, so it runs in its own thread; everything it observes
 * is recorded under a mutex, and every event it records also wakes the simulator's loop
 * through an eventfd attached to hvsim_event(), so the test waits with hvsim_run_until-
 * style loops (fake_wait) and never sleeps.
 */
#ifndef TEST_HVSIM_DAEMON_H
#define TEST_HVSIM_DAEMON_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "tools/hv-host-sim/hvsim.h"

#define FAKE_MAX_MSG 8192

struct fake_daemon;
/* Runs in the daemon thread for every message read; may call fake_reply(). */
typedef void (*fake_handler)(struct fake_daemon *d, const uint8_t *msg, size_t len);

struct fake_daemon {
	enum vmu_service service;
	char path[108];
	fake_handler handler;
	void *userdata;
	bool skip_register;
	/* internals */
	struct vmu_chardev *dev;
	GThread *thread;
	int cmd_fd, notify_fd;
	sd_event_source *notify_src;
	GMutex lock;
	/* recorded, under lock */
	bool open_done, register_done, closed;
	int open_result, register_result;
	char kernel_version[32];
	uint8_t last[FAKE_MAX_MSG];
	size_t last_len;
	unsigned n_msgs, n_sends;
	int last_send;
	/* a reply to send from the thread on request */
	bool stop, send_pending;
	uint8_t pending[FAKE_MAX_MSG];
	size_t pending_len;
};

void fake_daemon_start(struct hvsim *sim, struct fake_daemon *d, enum vmu_service service,
		       const char *path, fake_handler handler);
void fake_daemon_stop(struct fake_daemon *d);
/* In the daemon thread: send a reply and record the result. */
int fake_reply(struct fake_daemon *d, const void *buf, size_t len);
/* From the test: make the daemon thread send this reply now. */
void fake_send_later(struct fake_daemon *d, const void *buf, size_t len);

/* Runs the simulator's loop until the predicate holds (asserts it does within 10 s). */
void fake_wait(struct hvsim *sim, struct fake_daemon *d, bool (*pred)(struct fake_daemon *d));
bool fake_registered(struct fake_daemon *d);
bool fake_opened(struct fake_daemon *d);
bool fake_closed(struct fake_daemon *d);
unsigned fake_n_msgs(struct fake_daemon *d);
unsigned fake_n_sends(struct fake_daemon *d);
/* Waits for the n-th message / send. */
void fake_wait_msgs(struct hvsim *sim, struct fake_daemon *d, unsigned n);
void fake_wait_sends(struct hvsim *sim, struct fake_daemon *d, unsigned n);

/* A fresh simulator with the service listening in a temp dir; path receives the socket. */
struct hvsim *test_sim_new(enum vmu_service service, char *path, size_t size);
void test_sim_free(struct hvsim *sim, const char *path);
/* Simulator + registered fake daemon. */
struct hvsim *test_sim_with_daemon(enum vmu_service service, struct fake_daemon *d,
				   fake_handler handler, char *path, size_t size);

#endif
