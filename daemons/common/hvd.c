/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvd_main(): command line, config, logging, detaching, the sd-event loop, and the life
 * cycle of the device connection, so that a daemon only supplies struct hvd_service.
 *
 * Connection life cycle (one transport object for the whole run, struct hvd_transport in
 * hvd.h: the char device of hvd-chardev.c by default, or the service's own):
 *
 *   hvd_connect() --ok--> registered: io source on the link's fd, READY=1, registered()
 *        |  ^                  |
 *     fails |              error on recv/send, handle() < 0
 *        v  |                  v
 *   retry timer  <------  hvd_disconnect(): generation++, drop io source, disconnected()
 *   (back-off 100 ms doubling up to reconnect-max)
 *
 * A missing device (-ENOENT) is waited for, logged once at notice; -EBUSY (another daemon
 * has it) is fatal, as is any other error while the transport had never opened the device
 * before the attempt (so a first registration that fails is fatal too); later failures are
 * retried, logged once per outage. A
 * transport whose host turns the service off (-ESHUTDOWN) is released, logged once, and
 * waited for like a missing one.
 *
 * Receiving: on POLLIN, and once right after connecting, recv() until -EAGAIN (the
 * transport acknowledges and re-arms its interrupts itself before it says -EAGAIN). Every
 * recv()/send() error reopens.
 *
 * Every reconnection attempt runs from the retry timer, never from inside a callback, so a
 * service callback is never re-entered. Deferred replies (HVD_REPLY_LATER, a positive outcome) carry the
 * connection generation they were made for; hvd_reply() refuses a stale one with -ENOTCONN.
 *
 * A handle() result of 0 means "no reply" (nothing is written).
 *
 * Detaching (without -n) happens after the config and logging are set up, so their errors
 * still reach the terminal; a detached daemon has no stderr, so log-target=auto then means
 * the journal under systemd and syslog outside it (log_resolve_target()).
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "hvd.h"
#include "hvd-keys.h"
#include "message-ids.h"
#include "state-file.h"
#include "shared/time-util.h"

#define HVD_BACKOFF_MIN_USEC UINT64_C(100000)
/* STATUS= goes out at most this often; a later line waits on a timer (hvd_set_status). */
#define HVD_STATUS_INTERVAL_USEC (100 * USEC_PER_MSEC)

struct hvd {
	const struct hvd_service *service;
	struct conf_key *keys;   /* common keys + the service's, {NULL}-terminated */
	const char *config_path; /* -c, NULL for the default */
	bool no_daemon, debug, dump_config;
	struct conf *conf;
	sd_event *event;
	sd_event_source *io, *retry, *pending;
	const struct hvd_transport *transport;
	void *tp;             /* the transport object */
	struct hvd_link link; /* of the connection in force, or of the last one */
	void *state;
	bool initialised, registered, ready_sent, waiting_logged, failure_logged;
	uint8_t *buf;
	size_t buf_size;
	uint64_t generation, reply_generation;
	bool reply_pending;
	uint64_t backoff_usec;
	char *status; /* the latest line, raw */
	size_t status_size;
	bool status_unsent;
	uint64_t status_sent_usec; /* CLOCK_MONOTONIC */
	sd_event_source *status_timer;
	hvd_status_fn status_fn; /* hvd_set_status_later(): writes the line when it goes out */
	void *status_fn_data;
	int exit_status;
	/* published state (state-file.h) */
	sd_event_source *state_timer;
	uint64_t state_written, started, last_request, requests;
	char *details;
	bool stopped, state_failure_logged;
};

/* In the order of hvd_log_levels (hvd-keys.c). */
static const int hvd_log_level_values[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

static void hvd_connect(struct hvd *d);
static void hvd_disconnect(struct hvd *d, int error, const char *what);

/* ---------------------------------------------------------------- object */

static struct hvd *hvd_free(struct hvd *d)
{
	if (!d)
		return NULL;
	sd_event_source_disable_unref(d->io);
	sd_event_source_disable_unref(d->retry);
	sd_event_source_disable_unref(d->pending);
	sd_event_source_disable_unref(d->state_timer);
	sd_event_source_disable_unref(d->status_timer);
	if (d->tp)
		d->transport->free(d->tp);
	sd_event_unref(d->event);
	conf_free(d->conf);
	free(d->keys);
	free(d->buf);
	free(d->status);
	free(d->details);
	free(d);
	return NULL;
}

static void hvd_freep(struct hvd **d)
{
	hvd_free(*d);
}
#define _cleanup_hvd_ __attribute__((cleanup(hvd_freep)))

int hvd_config_load(const struct hvd_service *service, const char *path, struct conf **ret,
		    char **ret_error)
{
	return hvd_keys_load(service->service, service->name, service->keys, path, ret, ret_error);
}

static int hvd_new(const struct hvd_service *service, struct hvd **ret)
{
	struct hvd *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->service = service;
	d->transport = service->transport ? service->transport : &hvd_chardev_transport;
	d->buf_size = vmu_service_max_message(service->service);
	d->keys = hvd_keys_build(service->service, service->keys);
	d->buf = d->buf_size ? malloc(d->buf_size) : NULL;
	if (!d->keys || !d->buf) {
		hvd_free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

/* ---------------------------------------------------------------- accessors */

sd_event *hvd_event(struct hvd *d)
{
	return d->event;
}

int hvd_timer_rearm(sd_event_source *s, uint64_t usec)
{
	int r = sd_event_source_set_time(s, usec);

	return r < 0 ? r : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

const struct conf *hvd_conf(struct hvd *d)
{
	return d->conf;
}

const char *hvd_kernel_version(struct hvd *d)
{
	const char *v = d->link.version;

	return d->registered && v && v[0] ? v : NULL;
}

void *hvd_transport_data(struct hvd *d)
{
	return d->tp;
}

const struct hvd_service *hvd_service_of(struct hvd *d)
{
	return d->service;
}

/* The configured char device. */
static const char *hvd_device(struct hvd *d)
{
	return conf_get_string(d->conf, "device");
}

/* What the transport is connected to, or waits for. */
static const char *hvd_target(struct hvd *d)
{
	return d->transport->device(d->tp);
}

/* Every STATUS= goes out from here. The line may carry what a host sent (file names): it is
 * escaped, so a newline cannot end STATUS= and add assignments (MAINPID=, WATCHDOG=) of the
 * sender's choosing. d->status keeps the raw text for the SIGUSR1 log line, which log.c
 * escapes itself. */
static void hvd_send_status(struct hvd *d)
{
	size_t size = strlen(d->status) * 4 + 1; /* an escape is at most 4 bytes per byte */
	char *escaped = malloc(size);

	d->status_unsent = false;
	d->status_sent_usec = now_usec();
	if (!escaped)
		return;
	sd_notifyf(false, "STATUS=%s", log_escape(d->status, escaped, size));
	free(escaped);
	hvd_publish(d, false);
}

/* ---------------------------------------------------------------- published state */

static uint64_t hvd_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static const char *hvd_state_name(const struct hvd *d)
{
	if (d->stopped)
		return "stopped";
	return d->registered ? "connected" : "waiting";
}

static void hvd_state_flush(struct hvd *d, uint64_t now)
{
	const char *run_dir = conf_get_string(d->conf, "run-dir");
	struct hvd_state_info info = {
	    .service = d->service->name,
	    .program = d->service->program,
	    .state = hvd_state_name(d),
	    .transport = d->link.kind,
	    .device = d->tp ? hvd_target(d) : NULL,
	    .version = hvd_kernel_version(d),
	    .status = d->status,
	    .started = d->started,
	    .updated = hvd_realtime_usec(),
	    .last_request = d->last_request,
	    .requests = d->requests,
	    .details = d->details,
	};
	int r;

	d->state_written = now;
	if (d->state_timer)
		sd_event_source_set_enabled(d->state_timer, SD_EVENT_OFF);
	r = hvd_state_write(run_dir, &info);
	if (r < 0 && !d->state_failure_logged)
		log_warning_errno(r, "cannot write the state file in %s, ignoring", run_dir);
	d->state_failure_logged = r < 0;
}

static int hvd_on_state_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	hvd_state_flush(userdata, usec);
	return 0;
}

/* Urgent: now. Otherwise at most every HVD_STATE_INTERVAL_USEC (a timer catches up). */
void hvd_publish(struct hvd *d, bool urgent)
{
	uint64_t now, due = d->state_written + HVD_STATE_INTERVAL_USEC;

	if (!d->event || !d->conf || sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
		return;
	if (urgent || now >= due) {
		hvd_state_flush(d, now);
		return;
	}
	if (!d->state_timer) {
		if (sd_event_add_time(d->event, &d->state_timer, CLOCK_MONOTONIC, due, 1000,
				      hvd_on_state_timer, d) < 0)
			hvd_state_flush(d, now);
		return;
	}
	int enabled = SD_EVENT_OFF;
	sd_event_source_get_enabled(d->state_timer, &enabled);
	if (enabled == SD_EVENT_OFF)
		hvd_timer_rearm(d->state_timer, due);
}

void hvd_publish_details(struct hvd *d, const char *json, bool urgent)
{
	char *copy = json ? strdup(json) : NULL;

	if (json && !copy)
		return; /* keep the old details rather than none */
	free(d->details);
	d->details = copy;
	hvd_publish(d, urgent);
}

static void hvd_status_flush(struct hvd *d);

static int hvd_on_status_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	hvd_status_flush(userdata);
	return 0;
}

/* Lets the service write the line it asked for with hvd_set_status_later(). */
static void hvd_status_run_fn(struct hvd *d)
{
	hvd_status_fn fn = d->status_fn;

	d->status_fn = NULL;
	if (fn)
		fn(d, d->status_fn_data); /* hvd_set_status_lazy(): no timer now, so it goes out */
}

/* Sends the latest line now if it has not gone out (a pending lazy one is replaced). */
static void hvd_status_flush(struct hvd *d)
{
	d->status_timer = sd_event_source_disable_unref(d->status_timer);
	hvd_status_run_fn(d);
	if (d->status_unsent)
		hvd_send_status(d);
}

/* Formats the line into a buffer that is reused (no allocation per request). false: it
 * could not be formatted, nothing changed. */
static bool hvd_format_status(struct hvd *d, const char *format, va_list ap)
    __attribute__((format(printf, 2, 0)));

static bool hvd_format_status(struct hvd *d, const char *format, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(d->status, d->status_size, format, ap); /* (NULL, 0) measures */
	if (n >= 0 && (size_t)n >= d->status_size) {
		char *status = realloc(d->status, (size_t)n + 1);

		if (status) {
			d->status = status;
			d->status_size = (size_t)n + 1;
			vsnprintf(d->status, d->status_size, format, again);
		} else {
			n = -1;
		}
	}
	va_end(again);
	if (n < 0)
		return false;
	d->status_unsent = true;
	return true;
}

void hvd_set_status(struct hvd *d, const char *format, ...)
{
	va_list ap;
	bool ok;

	d->status_fn = NULL; /* this line is newer than a pending later one */
	va_start(ap, format);
	ok = hvd_format_status(d, format, ap);
	va_end(ap);
	if (ok)
		hvd_status_flush(d);
}

/* While the timer runs, a request costs two stores; the line is formatted once per
 * interval, by the timer. */
void hvd_set_status_later(struct hvd *d, hvd_status_fn fn, void *userdata)
{
	d->status_fn = fn;
	d->status_fn_data = userdata;
	if (!d->status_timer)
		hvd_status_run_fn(d);
}

/* Per request: a burst of requests costs systemd one message per interval, and an idle
 * daemon no wake-up (the one-shot timer fires once after the burst). */
void hvd_set_status_lazy(struct hvd *d, const char *format, ...)
{
	uint64_t now;
	va_list ap;
	bool ok;

	d->status_fn = NULL; /* as in hvd_set_status(): this line is newer */
	va_start(ap, format);
	ok = hvd_format_status(d, format, ap);
	va_end(ap);
	if (!ok || d->status_timer)
		return; /* the timer sends this line */
	now = now_usec();
	if (!d->event || now >= d->status_sent_usec + HVD_STATUS_INTERVAL_USEC ||
	    sd_event_add_time(d->event, &d->status_timer, CLOCK_MONOTONIC,
			      d->status_sent_usec + HVD_STATUS_INTERVAL_USEC, 0,
			      hvd_on_status_timer, d) < 0)
		hvd_send_status(d);
}

void hvd_exit(struct hvd *d, int status)
{
	d->exit_status = status;
	sd_notify(false, "STOPPING=1");
	if (d->event)
		sd_event_exit(d->event, status);
}

/* ---------------------------------------------------------------- command line */

static void hvd_usage(const struct hvd_service *s, FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"%s\n\n"
		"  -n, --no-daemon     stay in the foreground\n"
		"  -d, --debug         log debug messages\n"
		"  -c, --config=FILE   read FILE instead of %s\n"
		"      --dump-config   print the effective configuration and exit\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n",
		s->program, s->summary ? s->summary : "", SYSCONFDIR "/hvguest/hvguest.conf");
	if (s->help_extra)
		fprintf(f, "\n%s\n", s->help_extra);
}

/* 1: carry on; 0: done, exit 0 (help, version); -EINVAL: bad usage, exit 1. */
static int hvd_parse_argv(struct hvd *d, int argc, char **argv)
{
	enum { ARG_DUMP_CONFIG = 0x100 };
	static const struct option options[] = {
	    {"no-daemon", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"debug", no_argument, NULL, 'd'},
	    {"version", no_argument, NULL, 'V'},
	    {"config", required_argument, NULL, 'c'},
	    {"dump-config", no_argument, NULL, ARG_DUMP_CONFIG},
	    {},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "nhdVc:", options, NULL)) >= 0) {
		switch (c) {
		case 'n':
			d->no_daemon = true;
			break;
		case 'h':
			hvd_usage(d->service, stdout);
			return 0;
		case 'd':
			d->debug = true;
			break;
		case 'V':
			printf("%s (%s) %s\n", d->service->program, PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		case 'c':
			d->config_path = optarg;
			break;
		case ARG_DUMP_CONFIG:
			d->dump_config = true;
			break;
		default:
			hvd_usage(d->service, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", d->service->program,
			argv[optind]);
		hvd_usage(d->service, stderr);
		return -EINVAL;
	}
	return 1;
}

/* ---------------------------------------------------------------- config and logging */

static int hvd_load_conf(struct hvd *d, struct conf **ret, char **ret_error)
{
	return conf_load(d->config_path, d->service->name, d->keys, hvd_keys_sections(), ret,
			 ret_error);
}

static int hvd_conf_log_level(const struct conf *c)
{
	const char *level = conf_get_string(c, "log-level");

	for (size_t i = 0; hvd_log_levels[i]; i++)
		if (strcmp(hvd_log_levels[i], level) == 0)
			return hvd_log_level_values[i];
	return LOG_INFO; /* unreachable: the value was checked against the same table */
}

static enum log_target hvd_conf_log_target(const struct hvd *d)
{
	const char *target = conf_get_string(d->conf, "log-target");

	if (strcmp(target, "journal") == 0)
		return LOG_TARGET_JOURNAL;
	if (strcmp(target, "stderr") == 0)
		return LOG_TARGET_STDERR;
	if (strcmp(target, "syslog") == 0)
		return LOG_TARGET_SYSLOG;
	return d->no_daemon ? LOG_TARGET_AUTO : LOG_TARGET_AUTO_DETACHED;
}

static int hvd_setup_conf(struct hvd *d)
{
	char *error = NULL;
	int r = hvd_load_conf(d, &d->conf, &error);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", d->service->program, error ? error : strerror(-r));
		free(error);
	}
	return r;
}

static int hvd_setup_log(struct hvd *d)
{
	int r = log_set_syslog_socket(conf_get_string(d->conf, "syslog-socket"));

	if (r >= 0)
		r = log_open(d->service->program, hvd_conf_log_target(d),
			     conf_get_string(d->conf, "journal-socket"));
	if (r < 0) {
		fprintf(stderr, "%s: cannot open the log: %s\n", d->service->program, strerror(-r));
		return r;
	}
	log_set_max_level(d->debug ? LOG_DEBUG : hvd_conf_log_level(d->conf));
	return 0;
}

static int hvd_detach(struct hvd *d)
{
	if (d->no_daemon)
		return 0;
	if (daemon(1, 0) < 0)
		return log_error_errno(errno, "failed to detach");
	return 0;
}

/* ---------------------------------------------------------------- messages */

static int hvd_send(struct hvd *d, const void *reply, size_t len)
{
	if (len == 0)
		return 0;
	return d->transport->send(d->tp, reply, len);
}

static_assert(HVD_REPLY_LATER > 0 && (size_t)HVD_REPLY_LATER > (size_t)INT32_MAX,
	      "HVD_REPLY_LATER must be neither an errno nor a possible reply length");

/* Hands one message to the service and sends its reply. A negative handle() result
 * always reopens. */
static int hvd_dispatch(struct hvd *d, size_t len)
{
	const struct hvd_service *s = d->service;
	ssize_t n = s->handle(d, d->state, d->buf, len, d->buf, d->buf_size);

	d->requests++;
	d->last_request = hvd_realtime_usec();
	hvd_publish(d, false);

	/* Checked before the length bound: HVD_REPLY_LATER is larger than any buffer. */
	if (n == HVD_REPLY_LATER) {
		d->reply_pending = true;
		d->reply_generation = d->generation;
		return 0;
	}
	if (n < 0)
		return (int)n;
	if ((size_t)n > d->buf_size)
		return -EINVAL; /* a service bug; reopening is the safe answer */
	return hvd_send(d, d->buf, (size_t)n);
}

/* Reads and handles messages until the transport has none left (it re-arms itself). */
static int hvd_process_messages(struct hvd *d)
{
	for (;;) {
		ssize_t n = d->transport->recv(d->tp, d->buf, d->buf_size);
		int r;

		if (n == -EAGAIN)
			return 0;
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		r = hvd_dispatch(d, (size_t)n);
		if (r < 0)
			return r;
	}
}

static void hvd_process(struct hvd *d)
{
	int r = hvd_process_messages(d);

	if (r < 0)
		hvd_disconnect(d, r, "device I/O failed");
}

static int hvd_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvd *d = userdata;

	hvd_process(d);
	/* an error or hang-up that reading did not report would otherwise spin */
	if (d->registered && (revents & (EPOLLERR | EPOLLHUP)))
		hvd_disconnect(d, -ECONNRESET, "device hung up");
	return 0;
}

static int hvd_on_pending(sd_event_source *s, void *userdata)
{
	struct hvd *d = userdata;

	d->pending = sd_event_source_disable_unref(d->pending);
	if (d->registered)
		hvd_process(d);
	return 0;
}

/* After a deferred reply: a message may have come in while it was being sent (the char
 * device's socket parks it, and no poll wakes us for it), so receive once more, from the
 * loop rather than from inside the service's call. */
static void hvd_schedule_pending(struct hvd *d)
{
	if (d->pending)
		return;
	if (sd_event_add_defer(d->event, &d->pending, hvd_on_pending, d) < 0)
		log_warning("cannot schedule buffered messages, they wait for the next one");
}

int hvd_reply(struct hvd *d, const void *reply, size_t len)
{
	int r;

	if (!d->registered || !d->reply_pending || d->reply_generation != d->generation)
		return -ENOTCONN;
	d->reply_pending = false;
	r = hvd_send(d, reply, len);
	if (r < 0) {
		hvd_disconnect(d, r, "sending a deferred reply failed");
		return r;
	}
	hvd_schedule_pending(d);
	return 0;
}

/* ---------------------------------------------------------------- connection */

int hvd_register_timeout_ms(struct hvd *d)
{
	uint64_t ms = conf_get_usec(d->conf, "register-timeout") / USEC_PER_MSEC;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint64_t hvd_next_backoff(struct hvd *d)
{
	uint64_t max = conf_get_usec(d->conf, "reconnect-max");

	if (d->backoff_usec == 0)
		d->backoff_usec = HVD_BACKOFF_MIN_USEC;
	else if (d->backoff_usec < max / 2)
		d->backoff_usec *= 2;
	else
		d->backoff_usec = max;
	if (d->backoff_usec > max)
		d->backoff_usec = max;
	return d->backoff_usec;
}

static int hvd_on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hvd *d = userdata;

	d->retry = sd_event_source_disable_unref(d->retry);
	hvd_connect(d);
	return 0;
}

static void hvd_schedule_retry(struct hvd *d, uint64_t delay_usec)
{
	int r;

	d->retry = sd_event_source_disable_unref(d->retry);
	r = sd_event_add_time_relative(d->event, &d->retry, CLOCK_MONOTONIC, delay_usec, 0,
				       hvd_on_retry, d);
	if (r < 0) {
		log_error_errno(r, "cannot arm the reconnect timer, exiting");
		hvd_exit(d, 1);
	}
}

static void hvd_connect_failed(struct hvd *d, int r, bool opened_before)
{
	if (r == -EBUSY) {
		log_error("another daemon is already serving %s, exiting", hvd_target(d));
		hvd_exit(d, 1);
		return;
	}
	if (!opened_before && r != -ENOENT) {
		log_error_errno(r, "cannot open %s, exiting", hvd_target(d));
		hvd_exit(d, 1);
		return;
	}
	if (r == -ENOENT && !d->waiting_logged) {
		log_notice("waiting for %s", hvd_target(d));
		hvd_set_status(d, "Waiting for %s", hvd_target(d));
		d->waiting_logged = true;
	} else if (r != -ENOENT && !d->failure_logged) {
		/* only the char device registers with the kernel (UIO has no registration) */
		if (d->transport == &hvd_chardev_transport)
			log_warning_errno(r, "registering with the kernel on %s failed, retrying",
					  hvd_target(d));
		else
			log_warning_errno(r, "connecting to %s failed, retrying", hvd_target(d));
		d->failure_logged = true;
	}
	/* Waiting for a device the host may never offer (fcopy is off by default) is a
	 * working state: a Type=notify unit must not time out and restart for ever. */
	if (r == -ENOENT && !d->ready_sent) {
		sd_notify(false, "READY=1");
		d->ready_sent = true;
	}
	hvd_schedule_retry(d, hvd_next_backoff(d));
}

static bool hvd_on_chardev(struct hvd *d)
{
	return strcmp(d->link.kind, "chardev") == 0;
}

static void hvd_notify_registered(struct hvd *d, const char *version)
{
	if (hvd_on_chardev(d))
		hvd_set_status(d, "Registered with the kernel (version %s) on %s", version,
			       hvd_target(d));
	else
		hvd_set_status(d, "Connected to the host over %s on %s", d->link.kind,
			       hvd_target(d));
	if (!d->ready_sent) {
		sd_notify(false, "READY=1");
		d->ready_sent = true;
	}
}

/* A connected transport may need a larger receive buffer than the char device. */
static int hvd_fit_buffer(struct hvd *d)
{
	size_t need = d->link.max_message;
	uint8_t *buf;

	if (need <= d->buf_size)
		return 0;
	buf = realloc(d->buf, need);
	if (!buf)
		return -ENOMEM;
	d->buf = buf;
	d->buf_size = need;
	return 0;
}

static void hvd_log_connected(struct hvd *d, const char *version)
{
	if (hvd_on_chardev(d))
		log_info("registered with the kernel (version %s)", version ? version : "unknown");
	else
		log_info("connected to %s over %s", hvd_target(d), d->link.kind);
}

static int hvd_connected(struct hvd *d)
{
	const char *version = d->link.version && d->link.version[0] ? d->link.version : NULL;
	int r;

	r = hvd_fit_buffer(d);
	if (r >= 0)
		r = sd_event_add_io(d->event, &d->io, d->link.fd, EPOLLIN, hvd_on_io, d);
	if (r < 0)
		return r;
	d->registered = true;
	d->backoff_usec = 0;
	d->waiting_logged = d->failure_logged = false;
	hvd_log_connected(d, version);
	hvd_notify_registered(d, version ? version : "unknown");
	if (d->service->registered)
		d->service->registered(d, d->state, version);
	/* Messages may be waiting that raised no wake-up: parked during the registration, or
	 * written into a ring before we re-armed it. */
	if (d->registered)
		hvd_process(d);
	return 0;
}

static void hvd_connect(struct hvd *d)
{
	bool opened_before = d->transport->opened(d->tp);
	struct hvd_link link = {.fd = -1};
	int r = d->transport->connect(d->tp, &link);

	if (r < 0) {
		hvd_connect_failed(d, r, opened_before);
		return;
	}
	d->link = link;
	r = hvd_connected(d);
	if (r < 0) {
		log_error_errno(r, "cannot watch %s, exiting", hvd_target(d));
		hvd_exit(d, 1);
	}
}

static void hvd_disconnect(struct hvd *d, int error, const char *what)
{
	if (!d->registered)
		return;
	if (error == -ESHUTDOWN)
		log_struct(LOG_NOTICE,
			   "the host disabled the service on %s; released it, waiting for it to "
			   "come back",
			   hvd_target(d), HVGUEST_MESSAGE_HOST_DISABLED, NULL);
	else
		log_warning_errno(error, "%s on %s, reopening", what, hvd_target(d));
	d->registered = false;
	d->reply_pending = false;
	d->generation++;
	d->io = sd_event_source_disable_unref(d->io);
	d->pending = sd_event_source_disable_unref(d->pending);
	if (error == -ESHUTDOWN)
		d->waiting_logged = true; /* said already: no "waiting for" line as well */
	hvd_set_status(d, "Reopening %s", hvd_target(d));
	d->transport->disconnect(d->tp);
	if (d->service->disconnected)
		d->service->disconnected(d, d->state);
	hvd_schedule_retry(d, 0);
}

/* ---------------------------------------------------------------- signals */

static int hvd_on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("received SIG%s, stopping", sigabbrev_np((int)si->ssi_signo));
	hvd_exit(userdata, 0);
	return 0;
}

/* All or nothing: the old config is freed only once the service has taken the new one (it
 * copies what it keeps); when the new one fails to load or the service refuses it, the old
 * one stays in force and nothing of it is freed. */
static int hvd_on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct hvd *d = userdata;
	struct conf *c = NULL;
	char *error = NULL;
	int r;

	sd_notify(false, "RELOADING=1");
	if (hvd_load_conf(d, &c, &error) < 0) {
		log_error("reloading the configuration failed, keeping the old one: %s",
			  error ? error : "unknown error");
		free(error);
		sd_notify(false, "READY=1");
		return 0;
	}
	r = d->service->reload ? d->service->reload(d, d->state, c) : 0;
	if (r < 0) {
		log_error_errno(r, "the new configuration was refused, keeping the old one");
		conf_free(c);
		sd_notify(false, "READY=1");
		return 0;
	}
	if (strcmp(conf_get_string(c, "device"), hvd_device(d)) != 0)
		log_notice("the device changed to %s; restart to use it",
			   conf_get_string(c, "device"));
	conf_free(d->conf);
	d->conf = c;
	log_set_max_level(d->debug ? LOG_DEBUG : hvd_conf_log_level(d->conf));
	log_lifecycle("reloaded the configuration");
	sd_notify(false, "READY=1");
	return 0;
}

static int hvd_on_status(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct hvd *d = userdata;

	hvd_status_run_fn(d);
	log_lifecycle("status: %s", d->status ? d->status : "starting");
	if (d->status_unsent)
		hvd_send_status(d); /* asked for: no need to wait for the timer */
	return 0;
}

static int hvd_setup_event(struct hvd *d)
{
	static const int stop[] = {SIGTERM, SIGINT};
	sigset_t mask;
	int r;

	/* A loop of our own, not the thread's default one: sd_event_prepare() checks the
	 * default loop's thread with a gettid() system call on every iteration, that is on
	 * every request (issue 10). Nothing here looks the default loop up. */
	r = sd_event_new(&d->event);
	if (r < 0)
		return log_error_errno(r, "cannot create the event loop");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(errno, "cannot block signals");
	for (size_t i = 0; i < 2; i++) {
		r = sd_event_add_signal(d->event, NULL, stop[i], hvd_on_stop, d);
		if (r < 0)
			return log_error_errno(r, "cannot watch signal %d", stop[i]);
	}
	r = sd_event_add_signal(d->event, NULL, SIGHUP, hvd_on_reload, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGUSR1, hvd_on_status, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch SIGHUP/SIGUSR1");
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		log_warning_errno(r, "cannot enable the watchdog, ignoring");
	return 0;
}

/* ---------------------------------------------------------------- main */

static int hvd_init_service(struct hvd *d)
{
	int r;

	if (!d->service->init)
		return 0;
	r = d->service->init(d, &d->state);
	if (r < 0)
		return log_error_errno(r, "initialisation failed");
	d->initialised = true;
	return 0;
}

static int hvd_run(struct hvd *d)
{
	int r;

	r = d->transport->new (d, &d->tp);
	if (r < 0)
		return log_error_errno(r, "cannot set up the transport");
	hvd_set_status(d, "Opening %s", hvd_target(d));
	hvd_connect(d);
	r = sd_event_loop(d->event);
	if (r < 0)
		return log_error_errno(r, "event loop failed");
	return r;
}

static void hvd_shutdown(struct hvd *d)
{
	sd_notify(false, "STOPPING=1");
	if (d->registered && d->service->disconnected)
		d->service->disconnected(d, d->state);
	if (d->registered)
		d->transport->disconnect(d->tp);
	d->registered = false;
	if ((d->initialised || !d->service->init) && d->service->finish)
		d->service->finish(d, d->state);
	d->stopped = true;
	hvd_publish(d, true);
}

int hvd_main(const struct hvd_service *service, int argc, char **argv)
{
	_cleanup_hvd_ struct hvd *d = NULL;
	int r;

	if (hvd_new(service, &d) < 0) {
		fprintf(stderr, "%s: out of memory\n", service->program);
		return 1;
	}
	r = hvd_parse_argv(d, argc, argv);
	if (r <= 0)
		return r == 0 ? 0 : 1;
	if (hvd_setup_conf(d) < 0)
		return 1;
	if (d->dump_config) {
		conf_dump(d->conf, stdout);
		return 0;
	}
	if (hvd_setup_log(d) < 0)
		return 1;
	r = hvd_detach(d);
	if (r >= 0) {
		log_lifecycle("starting; pid is:%d", (int)getpid());
		d->started = hvd_realtime_usec();
		r = hvd_setup_event(d);
	}
	if (r >= 0)
		r = hvd_init_service(d);
	if (r >= 0)
		r = hvd_run(d);
	hvd_shutdown(d);
	log_info("stopped");
	log_close();
	return r < 0 ? 1 : r;
}
