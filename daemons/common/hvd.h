/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvd: the scaffolding every hvguest daemon shares.
 *
 * A daemon describes itself in a struct hvd_service and calls hvd_main() from main(). hvd
 * then does, in order: parse the command line (kernel-daemon compatible: -n, -h, -d, -V,
 * plus --config FILE and --dump-config), load and check the config section, open logging,
 * detach unless -n, create the sd-event loop (signals: SIGTERM/SIGINT stop, SIGHUP reloads
 * the config; watchdog pings when WATCHDOG_USEC is set), call init(), open the device and
 * register, send READY=1, then dispatch one message at a time to handle() until stopped.
 *
 * Transport errors (kernel timeout, hibernation, late reply: EINVAL/EBADF/short read) close
 * the device, call disconnected(), reopen and register again, with back-off when the device
 * is missing; the daemon's own state lives in its state pointer and survives.
 *
 * The device is reached through a struct hvd_transport: the legacy char device by default,
 * or the service's own (hv-fcopyd: the char device or the UIO ring, chosen at each connect).
 *
 * Common config keys every section has:
 *   device=        the char device, or unix:/path for the simulated host
 *   state-dir=     persistent state (KVP pools); run-dir= runtime state
 *   log-level=     err|warning|notice|info|debug;  log-target= auto|journal|stderr
 *   journal-socket= where journal records go (tests)
 *   register-timeout=  how long to wait for the kernel's registration reply
 *   reconnect-max=     longest back-off between attempts to open a missing device
 *
 * Signals: SIGTERM/SIGINT stop (exit 0), SIGUSR1 logs the current status line, SIGHUP
 * reloads the config, all or nothing: a new config that does not load, or that the service's
 * reload() refuses, is logged and the old one stays in force untouched; one that it accepts
 * replaces the old, which is freed only then. hvd_conf() returns the config in force, and a
 * later reload frees it: services copy what they keep, never a pointer into a config.
 */
#ifndef HVD_H
#define HVD_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "conf.h"
#include "log.h"
#include "vmbus-user.h"

struct hvd;
struct hvd_transport;

/* handle() outcome besides a reply length >= 0 and a negative errno: the service will call
 * hvd_reply() itself. Positive and far beyond any message buffer, so it can be neither a
 * reply length nor an errno (hvd.c asserts that at build time). */
#define HVD_REPLY_LATER ((ssize_t)SSIZE_MAX)

struct hvd_service {
	const char *name;    /* config section and log ident suffix: "kvp" */
	const char *program; /* "hv-kvpd" */
	const char *summary; /* one line for --help */
	enum vmu_service service;
	const struct conf_key *keys; /* service-specific keys, {NULL}-terminated; may be NULL */

	/* After config and logging, before the device is opened. *ret_state is passed back. */
	int (*init)(struct hvd *d, void **ret_state);
	/* After every successful registration (first and after each reopen). */
	void (*registered)(struct hvd *d, void *state, const char *kernel_version);
	/* One validated-length message from the kernel (len bytes in msg). Write the reply into
	 * reply (reply_size bytes, preallocated, may alias msg) and return its length, or
	 * HVD_REPLY_LATER, or a negative errno to drop the message and reopen the device.
	 * Returning 0 sends no reply. */
	ssize_t (*handle)(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			  size_t reply_size);
	/* The device was closed (error, reopen, shutdown); a pending deferred reply is void. */
	void (*disconnected)(struct hvd *d, void *state);
	/* SIGHUP: new_conf is loaded and checked; hvd_conf() is still the old one. Adopt what
	 * the service uses from new_conf (copies: it is freed by a later reload) and return 0,
	 * or return a negative errno, having changed nothing, to refuse it: hvd then frees
	 * new_conf and stays on the old one. NULL: the service reads hvd_conf() when needed. */
	int (*reload)(struct hvd *d, void *state, const struct conf *new_conf);
	/* Before exit. */
	void (*finish)(struct hvd *d, void *state);
	/* Optional: extra lines for --help (options are all in the config). */
	const char *help_extra;
	/* Optional: how the daemon reaches the host; NULL: hvd_chardev_transport. */
	const struct hvd_transport *transport;
};

/* What a connected transport hands hvd (connect()). Valid until disconnect(). */
struct hvd_link {
	int fd;              /* hvd polls it for input */
	const char *kind;    /* "chardev", "uio": logs, status, the state file */
	const char *version; /* the kernel's registration version, or a buffer the transport
			      * fills later (UIO: the version negotiated with the host); "" or
			      * NULL while unknown */
	size_t max_message;  /* the receive buffer this connection needs */
};

/* A transport: the connection hvd opens, watches and reopens. One object per run (new() at
 * start-up, free() at exit); connect() and disconnect() may alternate any number of times.
 * Two exist: the char device (hvd-chardev.c, the default) and hv-fcopyd's, which is the
 * char device or the UIO ring (daemons/fcopy/transport.c).
 *
 * connect() errors: -ENOENT the device is not there (yet): waited for with back-off, logged
 * once per outage; -EBUSY another daemon serves it: fatal; anything else is fatal until
 * opened() is true, then retried with back-off (logged once per outage).
 * recv() returns one message's length, or -EAGAIN when none is left and the fd may be
 * polled again (a transport with interrupts to acknowledge or re-arm does it before saying
 * so). Every error from recv() or send() disconnects and reconnects; a transport that can
 * live with an error (a reply that never fits) handles it itself. -ESHUTDOWN means the
 * host disabled the service: logged once as such. */
struct hvd_transport {
	int (*new)(struct hvd *d, void **ret);
	void *(*free)(void *t); /* NULL-safe, returns NULL */
	int (*connect)(void *t, struct hvd_link *ret);
	void (*disconnect)(void *t); /* release the device (may be a no-op) */
	bool (*opened)(const void *t);
	ssize_t (*recv)(void *t, void *buf, size_t size);
	int (*send)(void *t, const void *buf, size_t len);
	/* The device, or what is waited for, for log lines. */
	const char *(*device)(const void *t);
};

/* The legacy char device (config key device=), with the kernel's registration handshake
 * (hvd-chardev.c). */
extern const struct hvd_transport hvd_chardev_transport;

int hvd_main(const struct hvd_service *service, int argc, char **argv);

/* Loads a daemon's config section the way the daemon itself does (common keys + the
 * service's), for tools that need the daemon's paths (path NULL: the default file). */
int hvd_config_load(const struct hvd_service *service, const char *path, struct conf **ret,
		    char **ret_error);

sd_event *hvd_event(struct hvd *d);
/* Sets a timer source to fire once at usec (its clock) and turns it on: a one-shot source
 * is off once it fired, and a new time alone never fires it again. */
int hvd_timer_rearm(sd_event_source *s, uint64_t usec);
const struct conf *hvd_conf(struct hvd *d);
/* The kernel's registration reply (KVP: "3.1"); NULL while not registered. */
const char *hvd_kernel_version(struct hvd *d);
/* The transport object (what the service's transport new() returned). */
void *hvd_transport_data(struct hvd *d);
/* The service hvd runs (for transports). */
const struct hvd_service *hvd_service_of(struct hvd *d);
/* The configured register-timeout in ms, for transports. */
int hvd_register_timeout_ms(struct hvd *d);
/* Sends a deferred reply (after HVD_REPLY_LATER). -ENOTCONN when the device was reopened
 * since the request came in. */
int hvd_reply(struct hvd *d, const void *reply, size_t len);
/* sd_notify STATUS= line; printf-style, sent escaped (log_escape(): outside text such as a
 * host's file name cannot add assignments). Also kept for the "status" log on SIGUSR1. */
void hvd_set_status(struct hvd *d, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* The state file for hvguestctl (state-file.h): publish now (urgent: freeze, thaw, the end
 * of a copy) or within HVD_STATE_INTERVAL_USEC (anything else). hvd publishes its own part
 * (connection, version, request counters, the STATUS= line) by itself. */
void hvd_publish(struct hvd *d, bool urgent);
/* The service's part: a JSON object's text (copied), shown as "details". */
void hvd_publish_details(struct hvd *d, const char *json, bool urgent);
/* The same for a line that changes per request: sent at most every 100 ms, the latest line
 * by a one-shot timer when set sooner (and on SIGUSR1), so that requests cost no message to
 * systemd each. hvd_set_status() sends at once (state changes that must not wait). */
void hvd_set_status_lazy(struct hvd *d, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, formatted only when it goes out: fn (which calls hvd_set_status_lazy() with the
 * newest figures) runs now when no line is waiting, else when the timer fires (or on
 * SIGUSR1). Formatting a line per request cost as much as the request's own work. A line
 * set after it, by hvd_set_status() or hvd_set_status_lazy(), replaces it. */
typedef void (*hvd_status_fn)(struct hvd *d, void *userdata);
void hvd_set_status_later(struct hvd *d, hvd_status_fn fn, void *userdata);
/* Stop the loop with this exit status. */
void hvd_exit(struct hvd *d, int status);

#endif
