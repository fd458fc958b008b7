/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for the daemons: structured records to the journal when running under systemd,
 * plain lines to stderr in the foreground.
 *
 * Never blocks: journal records go out on a non-blocking datagram socket (the journal's
 * native protocol); when the socket would block, or while log_hold() is in force (VSS holds
 * the log while file systems are frozen, because journald may be writing to one of them),
 * records wait in a bounded in-memory queue and go out on log_release()/the next record.
 * Records that do not fit in the queue are counted and reported once it drains.
 *
 * Messages from one call site (same priority, source line and format string), at every
 * level, logged more than `burst` times within the rate-limit interval are suppressed and
 * summarised ("Suppressed N similar messages: <first>") when the interval ends: a host or a
 * local user who can trigger a line cannot flood the journal or the console with it.
 *
 * The message text is escaped before it goes anywhere (journal MESSAGE and stderr alike):
 * control bytes, C1 controls, bytes that are not UTF-8 and the backslash become C escapes
 * (\n, \x1b, \\), so text from outside cannot start a new line or drive a terminal.
 *
 * With an error, the message gets ": strerror" appended (stderr and journal MESSAGE alike)
 * and the journal record an ERRNO= field.
 */
#ifndef HVD_LOG_H
#define HVD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_AUTO, /* journal when stderr is the journal stream ($JOURNAL_STREAM) */
	LOG_TARGET_JOURNAL,
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSLOG,        /* RFC 3164 datagrams, facility daemon, to /dev/log */
	LOG_TARGET_AUTO_DETACHED, /* no stderr: the journal under systemd, else syslog */
};

/* ident: syslog identifier (e.g. "hv-kvpd"). journal_socket: NULL for the default
 * /run/systemd/journal/socket (tests point it at their own socket). */
int log_open(const char *ident, enum log_target target, const char *journal_socket);
/* What AUTO or AUTO_DETACHED stands for here (any other target is returned as it is).
 * AUTO_DETACHED means the journal when we run under systemd ($INVOCATION_ID or
 * $JOURNAL_STREAM set) or its socket (journal_socket, NULL: the default) exists, else
 * syslog: a daemon started by hand or by an init script keeps its lines. */
enum log_target log_resolve_target(enum log_target target, const char *journal_socket);
/* The syslog socket for LOG_TARGET_SYSLOG (NULL: /dev/log); call before log_open(). */
int log_set_syslog_socket(const char *path);
void log_close(void);
void log_set_max_level(int priority); /* LOG_DEBUG with -d; default LOG_INFO */
int log_get_max_level(void);
enum log_target log_get_target(void);

/* Plain message. Always returns -error when error != 0 (so `return log_error_errno(r, ...)`
 * works), else 0. error may be given positive or negative. */
int log_internal(int priority, int error, const char *file, int line, const char *func,
		 const char *format, ...) __attribute__((format(printf, 6, 7)));

/* Structured record: fields are "KEY=value" strings, NULL-terminated, after the message
 * format's arguments are consumed by the MESSAGE field. Example:
 *   log_struct(LOG_INFO, "KVP request", "HVGUEST_KVP_OP=get", "HVGUEST_KVP_POOL=0", NULL);
 * Field names start with HVGUEST_; key events add a MESSAGE_ID of message-ids.h. */
int log_struct_internal(int priority, int error, const char *file, int line, const char *func,
			const char *message, ...) __attribute__((sentinel));

#define log_full_errno(prio, error, ...)                                                           \
	log_internal((prio), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
/* Or'ed into a priority: never rate-limited. Only for lines that nobody but root or the service
 * manager can trigger (start-up, a reload asked for with SIGHUP), which an admin counts on seeing. */
#define LOG_UNLIMITED 0x10000
#define log_lifecycle(...) log_full_errno(LOG_INFO | LOG_UNLIMITED, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_struct(prio, msg, ...)                                                                 \
	log_struct_internal((prio), 0, __FILE__, __LINE__, __func__, (msg), __VA_ARGS__)

/* Hold: queue records in memory instead of sending them (frozen file systems). */
void log_hold(void);
/* Release: send everything queued, in order, then log normally again. Returns the number of
 * records flushed. */
int log_release(void);

/* Rate limit per call site, every level (default 10 s, burst 10). 0 disables. */
void log_set_ratelimit(unsigned interval_sec, unsigned burst);

/* Copies s into buf (size bytes, always NUL-terminated when size > 0) with control bytes
 * (\n \r \t, else \xNN), C1 controls, invalid UTF-8 bytes (\xNN) and the backslash (\\)
 * escaped; cut before an escape that does not fit, never inside one. Returns buf. */
const char *log_escape(const char *s, char *buf, size_t size);

/* Records waiting in the queue (held, or the journal socket was full). */
size_t log_queued(void);
/* Tests: the clock the rate limit uses (NULL: CLOCK_MONOTONIC), in microseconds. */
void log_set_clock(uint64_t (*now_usec)(void));

#endif
