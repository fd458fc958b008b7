/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: the journal's native protocol or plain stderr lines, never blocking.
 *
 * Every record is formatted once into its wire form: a journal datagram ("KEY=value\n"
 * lines, or "KEY\n" + 64-bit little-endian length + bytes + "\n" for a value containing a
 * newline) or one stderr line "ident: message[: strerror]\n". log_submit() then either
 * sends it (sendmsg(MSG_DONTWAIT) on a non-blocking AF_UNIX datagram socket, or one write()
 * to stderr) or, while the log is held or the journal socket is full (EAGAIN/ENOBUFS),
 * appends it to a bounded FIFO. The FIFO is flushed in order on log_release() and before any
 * later record, so order is kept; what does not fit (LOG_QUEUE_MAX_RECORDS records or
 * LOG_QUEUE_MAX_BYTES bytes) is counted and reported in one line once the FIFO drains.
 *
 * If the journal refuses a record for good (ENOENT, ECONNREFUSED: journald is gone), the
 * record goes to stderr instead; a queued record that meets such an error is counted as
 * dropped.
 *
 * Escaping: log_dispatch() escapes the formatted message once (log_escape(): control bytes,
 * C1 controls, invalid UTF-8 and the backslash as C escapes), before the rate limit keeps a
 * copy and before either target sees it; journal fields other than MESSAGE go out as given
 * (the native protocol carries any bytes, in the binary form when there is a newline).
 *
 * Rate limit: every level, keyed by call site (priority, file, line, format string). More
 * than `burst` of one key within `interval` are suppressed; the first suppressed message is
 * kept and, once the interval has passed (checked on every later log call, and on
 * log_close()), one line "Suppressed N similar messages: <first>" is logged. A small table of LOG_RL_SLOTS keys is
 * kept; when it is full the oldest key is summarised and reused.
 *
 * Syslog (a detached daemon outside systemd, see log_resolve_target()) goes through the same
 * non-blocking datagram socket and queue as the journal, to /dev/log, one RFC 3164 line
 * "<PRI>Mmm dd hh:mm:ss ident[pid]: message" each: syslog(3) would block on a full socket,
 * and a syslog daemon writing to a frozen file system must not stall a VSS thaw.
 *
 * MESSAGE in the journal carries the same text as the stderr line (": strerror" appended
 * when an error is given), and ERRNO= holds the number.
 *
 * Not thread-safe: the daemons are single-threaded (sd-event).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <printf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shared/time-util.h"

#define LOG_DEFAULT_JOURNAL_SOCKET "/run/systemd/journal/socket"
#define LOG_DEFAULT_SYSLOG_SOCKET "/dev/log"
#define LOG_MAX_MESSAGE 16384
#define LOG_QUEUE_MAX_RECORDS 1024
#define LOG_QUEUE_MAX_BYTES (1024 * 1024)
#define LOG_RL_SLOTS 64

struct log_record {
	struct log_record *next;
	bool journal;
	size_t len;
	char data[];
};

struct log_ratelimit {
	int priority;
	const char *file; /* with line and format: the call site */
	int line;
	const char *format; /* NULL: slot unused */
	uint64_t begin_usec;
	unsigned count;
	unsigned suppressed;
	char *first_suppressed;
};

/* A growable byte buffer for building a journal datagram. */
struct log_buf {
	char *data;
	size_t len, size;
	bool failed;
};

static struct {
	char *ident;
	enum log_target target; /* resolved: JOURNAL, SYSLOG or STDERR */
	int journal_fd;         /* the journal's or syslog's socket */
	char *syslog_socket;    /* NULL: LOG_DEFAULT_SYSLOG_SOCKET */
	struct sockaddr_un addr;
	socklen_t addr_len;
	int max_level;
	bool held;
	struct log_record *head, *tail;
	size_t n_queued, queued_bytes;
	unsigned dropped;
	const char *drop_reason;
	unsigned rl_interval_sec, rl_burst;
	struct log_ratelimit rl[LOG_RL_SLOTS];
	uint64_t (*now_usec)(void);
} log_state = {
    .target = LOG_TARGET_STDERR,
    .journal_fd = -1,
    .max_level = LOG_INFO,
    .rl_interval_sec = 10,
    .rl_burst = 10,
};

static int log_emit_text(int priority, int error, const char *file, int line, const char *func,
			 const char *message, const char *const *fields);

/* Every record, and every change to log_state, under one lock: hv-kvpd logs from its
 * SET_IP_INFO worker thread while the event loop logs too, and the rate limiter, the queue
 * and the socket are shared. Recursive, so that a summary emitted from inside a record's
 * path cannot deadlock. */
static pthread_mutex_t log_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

#define LOG_LOCKED(stmt)                                                                           \
	do {                                                                                       \
		pthread_mutex_lock(&log_lock);                                                     \
		stmt;                                                                              \
		pthread_mutex_unlock(&log_lock);                                                   \
	} while (0)

/* ---------------------------------------------------------------- small helpers */

static uint64_t log_now(void)
{
	return log_state.now_usec ? log_state.now_usec() : now_usec();
}

static const char *log_ident(void)
{
	return log_state.ident ? log_state.ident : program_invocation_short_name;
}

static int log_abs_error(int error)
{
	return error < 0 ? -error : error;
}

/* Length of the valid UTF-8 sequence at p (2..4), or 0. Overlong forms, surrogates and
 * code points above U+10FFFF are invalid. */
static size_t log_utf8_len(const unsigned char *p)
{
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	uint32_t cp;

	if (n == 0 || p[0] > 0xf4)
		return 0;
	cp = p[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* The escaped form of the character at p into out (at most 9 bytes), and how many bytes of
 * p it stands for. */
static size_t log_escape_char(const unsigned char *p, char out[static 9], size_t *ret_consumed)
{
	size_t n;

	*ret_consumed = 1;
	switch (p[0]) {
	case '\\':
		return (size_t)snprintf(out, 9, "\\\\");
	case '\n':
		return (size_t)snprintf(out, 9, "\\n");
	case '\r':
		return (size_t)snprintf(out, 9, "\\r");
	case '\t':
		return (size_t)snprintf(out, 9, "\\t");
	}
	if (p[0] < 0x20 || p[0] == 0x7f)
		return (size_t)snprintf(out, 9, "\\x%02x", p[0]);
	if (p[0] < 0x80) {
		out[0] = (char)p[0];
		return 1;
	}
	n = log_utf8_len(p);
	if (n == 0)
		return (size_t)snprintf(out, 9, "\\x%02x", p[0]);
	*ret_consumed = n;
	/* C1 controls (U+0080..U+009F, CSI among them) act on terminals like ESC sequences */
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return (size_t)snprintf(out, 9, "\\x%02x\\x%02x", p[0], p[1]);
	memcpy(out, p, n);
	return n;
}

const char *log_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (size == 0)
		return buf;
	while (*p) {
		char piece[9];
		size_t consumed, n = log_escape_char(p, piece, &consumed);

		if (n >= size - o)
			break; /* cut before an escape, never inside one */
		memcpy(buf + o, piece, n);
		o += n;
		p += consumed;
	}
	buf[o] = '\0';
	return buf;
}

static void log_buf_append(struct log_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->size) {
		size_t size = (b->len + n) * 2;
		char *data = realloc(b->data, size);
		if (!data) {
			b->failed = true;
			return;
		}
		b->data = data;
		b->size = size;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* A valid journal field name: A-Z, 0-9, '_', not starting with '_' or a digit, <= 64. */
static bool log_field_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > 64 || name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

/* Appends one field; binary form when the value contains a newline. */
static void log_buf_field(struct log_buf *b, const char *name, size_t name_len, const char *value)
{
	size_t len = strlen(value);

	log_buf_append(b, name, name_len);
	if (memchr(value, '\n', len)) {
		uint8_t le[8];
		for (size_t i = 0; i < 8; i++)
			le[i] = (uint8_t)((uint64_t)len >> (8 * i));
		log_buf_append(b, "\n", 1);
		log_buf_append(b, le, sizeof(le));
	} else {
		log_buf_append(b, "=", 1);
	}
	log_buf_append(b, value, len);
	log_buf_append(b, "\n", 1);
}

static void log_buf_fieldf(struct log_buf *b, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void log_buf_fieldf(struct log_buf *b, const char *name, const char *format, ...)
{
	char value[64];
	va_list ap;

	va_start(ap, format);
	vsnprintf(value, sizeof(value), format, ap);
	va_end(ap);
	log_buf_field(b, name, strlen(name), value);
}

/* ---------------------------------------------------------------- sending and queueing */

static int log_send_journal(const void *data, size_t len)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {
	    .msg_name = &log_state.addr,
	    .msg_namelen = log_state.addr_len,
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	};

	if (log_state.journal_fd < 0)
		return -ENOTCONN;
	if (sendmsg(log_state.journal_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

static int log_send_stderr(const void *data, size_t len)
{
	ssize_t n;

	do
		n = write(STDERR_FILENO, data, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int log_send(bool journal, const void *data, size_t len)
{
	return journal ? log_send_journal(data, len) : log_send_stderr(data, len);
}

static bool log_would_block(int r)
{
	return r == -EAGAIN || r == -ENOBUFS;
}

static void log_count_drop(const char *reason)
{
	if (log_state.dropped++ == 0)
		log_state.drop_reason = reason;
}

static void log_enqueue(bool journal, const void *data, size_t len)
{
	struct log_record *rec;

	if (log_state.n_queued >= LOG_QUEUE_MAX_RECORDS ||
	    log_state.queued_bytes + len > LOG_QUEUE_MAX_BYTES) {
		log_count_drop(log_state.held ? "the log was held"
					      : "the journal was not accepting messages");
		return;
	}
	rec = malloc(offsetof(struct log_record, data) + len);
	if (!rec) {
		log_count_drop("memory ran out");
		return;
	}
	rec->next = NULL;
	rec->journal = journal;
	rec->len = len;
	memcpy(rec->data, data, len);
	if (log_state.tail)
		log_state.tail->next = rec;
	else
		log_state.head = rec;
	log_state.tail = rec;
	log_state.n_queued++;
	log_state.queued_bytes += len;
}

static void log_dequeue(void)
{
	struct log_record *rec = log_state.head;

	log_state.head = rec->next;
	if (!log_state.head)
		log_state.tail = NULL;
	log_state.n_queued--;
	log_state.queued_bytes -= rec->len;
	free(rec);
}

static void log_report_drops(void)
{
	char msg[128];
	unsigned n = log_state.dropped;

	if (n == 0 || log_state.held || log_state.head)
		return;
	log_state.dropped = 0;
	snprintf(msg, sizeof(msg), "%u log messages were dropped while %s", n,
		 log_state.drop_reason);
	log_emit_text(LOG_WARNING, 0, __FILE__, __LINE__, __func__, msg, NULL);
}

/* Sends queued records in order until the queue is empty or the socket is full. Returns
 * the number of records sent. */
static int log_flush_queue(void)
{
	int sent = 0;

	while (log_state.head && !log_state.held) {
		struct log_record *rec = log_state.head;
		int r = log_send(rec->journal, rec->data, rec->len);
		if (log_would_block(r))
			break;
		if (r < 0)
			log_count_drop("the journal was unreachable");
		else
			sent++;
		log_dequeue();
	}
	log_report_drops();
	return sent;
}

/* Sends a record now if nothing is waiting before it, else queues it. line/line_len is the
 * stderr form, the fallback when the journal refuses for good. */
static void log_submit(bool journal, const char *data, size_t len, const char *line,
		       size_t line_len)
{
	int r;

	if (!log_state.held)
		log_flush_queue();
	if (log_state.held || log_state.head) {
		log_enqueue(journal, data, len);
		return;
	}
	r = log_send(journal, data, len);
	if (log_would_block(r))
		log_enqueue(journal, data, len);
	else if (r < 0 && journal)
		(void)log_send_stderr(line, line_len);
}

/* ---------------------------------------------------------------- formatting */

/* One RFC 3164 datagram; the stderr line is the fallback when nothing listens. */
static int log_emit_syslog(int priority, const char *text, const char *stderr_line,
			   size_t stderr_len)
{
	char stamp[32] = "", record[LOG_MAX_MESSAGE + 256];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(record, sizeof(record), "<%d>%s %s[%d]: %s", LOG_DAEMON | LOG_PRI(priority),
		     stamp, log_ident(), (int)getpid(), text);
	if (n < 0 || (size_t)n >= sizeof(record))
		n = (int)sizeof(record) - 1;
	log_submit(true, record, (size_t)n, stderr_line, stderr_len);
	return 0;
}

static int log_emit_text(int priority, int error, const char *file, int line, const char *func,
			 const char *message, const char *const *fields)
{
	char text[LOG_MAX_MESSAGE + 128], stderr_line[LOG_MAX_MESSAGE + 256];
	struct log_buf b = {};
	int n;

	if (error)
		snprintf(text, sizeof(text), "%s: %s", message, strerror(log_abs_error(error)));
	else
		snprintf(text, sizeof(text), "%s", message);
	n = snprintf(stderr_line, sizeof(stderr_line), "%s: %s\n", log_ident(), text);
	if (n < 0 || (size_t)n >= sizeof(stderr_line))
		n = (int)sizeof(stderr_line) - 1;
	if (log_state.target == LOG_TARGET_SYSLOG)
		return log_emit_syslog(priority, text, stderr_line, (size_t)n);
	if (log_state.target != LOG_TARGET_JOURNAL) {
		log_submit(false, stderr_line, (size_t)n, NULL, 0);
		return 0;
	}
	log_buf_fieldf(&b, "PRIORITY", "%d", LOG_PRI(priority));
	log_buf_field(&b, "SYSLOG_IDENTIFIER", strlen("SYSLOG_IDENTIFIER"), log_ident());
	log_buf_field(&b, "MESSAGE", strlen("MESSAGE"), text);
	log_buf_field(&b, "CODE_FILE", strlen("CODE_FILE"), file);
	log_buf_fieldf(&b, "CODE_LINE", "%d", line);
	log_buf_field(&b, "CODE_FUNC", strlen("CODE_FUNC"), func);
	if (error)
		log_buf_fieldf(&b, "ERRNO", "%d", log_abs_error(error));
	for (size_t i = 0; fields && fields[i]; i++) {
		const char *eq = strchr(fields[i], '=');
		if (eq && log_field_name_valid(fields[i], (size_t)(eq - fields[i])))
			log_buf_field(&b, fields[i], (size_t)(eq - fields[i]), eq + 1);
	}
	if (!b.failed)
		log_submit(true, b.data, b.len, stderr_line, (size_t)n);
	free(b.data);
	return 0;
}

/* ---------------------------------------------------------------- rate limiting */

static void log_rl_summarise(struct log_ratelimit *rl)
{
	char msg[LOG_MAX_MESSAGE + 64];

	if (rl->suppressed > 0) {
		snprintf(msg, sizeof(msg), "Suppressed %u similar messages: %s", rl->suppressed,
			 rl->first_suppressed ? rl->first_suppressed : "");
		log_emit_text(rl->priority, 0, __FILE__, __LINE__, __func__, msg, NULL);
	}
	free(rl->first_suppressed);
	*rl = (struct log_ratelimit){
	    .priority = rl->priority, .file = rl->file, .line = rl->line, .format = rl->format};
}

/* Summarises every key whose interval has passed, and frees it. */
static void log_rl_tick(uint64_t now)
{
	uint64_t interval = (uint64_t)log_state.rl_interval_sec * USEC_PER_SEC;

	for (size_t i = 0; i < LOG_RL_SLOTS; i++) {
		struct log_ratelimit *rl = &log_state.rl[i];
		if (rl->format && now - rl->begin_usec >= interval) {
			log_rl_summarise(rl);
			rl->format = NULL;
		}
	}
}

static bool log_rl_same_site(const struct log_ratelimit *rl, int priority, const char *file,
			     int line, const char *format)
{
	return rl->format && rl->priority == priority && rl->line == line &&
	       (rl->file == file || strcmp(rl->file, file) == 0) &&
	       (rl->format == format || strcmp(rl->format, format) == 0);
}

static struct log_ratelimit *log_rl_slot(int priority, const char *file, int line,
					 const char *format, uint64_t now)
{
	struct log_ratelimit *oldest = &log_state.rl[0];
	const struct log_ratelimit fresh = {priority, file, line, format, now};

	for (size_t i = 0; i < LOG_RL_SLOTS; i++)
		if (log_rl_same_site(&log_state.rl[i], priority, file, line, format))
			return &log_state.rl[i];
	for (size_t i = 0; i < LOG_RL_SLOTS; i++) {
		struct log_ratelimit *rl = &log_state.rl[i];
		if (!rl->format)
			return (*rl = fresh), rl;
		if (rl->begin_usec < oldest->begin_usec)
			oldest = rl;
	}
	log_rl_summarise(oldest);
	*oldest = fresh;
	return oldest;
}

/* True when the message may be logged; else it is counted (and kept if it is the first).
 * Every level counts: info lines are as easy for a host to trigger as warnings. */
static bool log_rl_allow(int priority, const char *file, int line, const char *format,
			 const char *message)
{
	uint64_t now;
	struct log_ratelimit *rl;

	if (log_state.rl_interval_sec == 0 || log_state.rl_burst == 0)
		return true;
	now = log_now();
	log_rl_tick(now);
	rl = log_rl_slot(priority, file, line, format, now);
	if (++rl->count <= log_state.rl_burst)
		return true;
	if (rl->suppressed++ == 0)
		rl->first_suppressed = strdup(message);
	return false;
}

static void log_rl_reset(bool summarise)
{
	for (size_t i = 0; i < LOG_RL_SLOTS; i++) {
		struct log_ratelimit *rl = &log_state.rl[i];
		if (rl->format && summarise)
			log_rl_summarise(rl);
		free(rl->first_suppressed);
		*rl = (struct log_ratelimit){};
	}
}

void log_set_ratelimit(unsigned interval_sec, unsigned burst)
{
	pthread_mutex_lock(&log_lock);
	log_rl_reset(true);
	log_state.rl_interval_sec = interval_sec;
	log_state.rl_burst = burst;
	pthread_mutex_unlock(&log_lock);
}

void log_set_clock(uint64_t (*clock_usec)(void))
{
	log_state.now_usec = clock_usec;
}

/* ---------------------------------------------------------------- entry points */

/* message is the formatted text as the caller made it, with whatever the host or a user put
 * in it: escaped here once, for every target and for the rate limit's summary. */
static int log_dispatch(int priority, int error, const char *file, int line, const char *func,
			const char *format, const char *message, const char *const *fields)
{
	char escaped[LOG_MAX_MESSAGE];

	bool unlimited = priority & LOG_UNLIMITED;

	int r = 0;

	priority &= ~LOG_UNLIMITED;
	log_escape(message, escaped, sizeof(escaped));
	pthread_mutex_lock(&log_lock);
	if (unlimited || log_rl_allow(LOG_PRI(priority), file, line, format, escaped))
		r = log_emit_text(priority, error, file, line, func, escaped, fields);
	pthread_mutex_unlock(&log_lock);
	return r;
}

int log_internal(int priority, int error, const char *file, int line, const char *func,
		 const char *format, ...)
{
	char message[LOG_MAX_MESSAGE];
	int saved_errno = errno;
	va_list ap;

	if (LOG_PRI(priority) > log_state.max_level)
		return -log_abs_error(error);
	errno = log_abs_error(error); /* for %m */
	va_start(ap, format);
	vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	log_dispatch(priority, error, file, line, func, format, message, NULL);
	errno = saved_errno;
	return -log_abs_error(error);
}

/* Steps ap over the arguments format consumes, so that the field list after them can be read.
 * glibc's parse_printf_format() knows every conversion vsnprintf() does (positional %n$ ones
 * too); only the argument types are needed here. Returns -E2BIG for a format with more
 * arguments than any log call has (the fields are then not read). */
static int log_skip_format_args(const char *format, va_list *ap)
{
	int types[32];
	size_t n = parse_printf_format(format, sizeof(types) / sizeof(types[0]), types);

	if (n > sizeof(types) / sizeof(types[0]))
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		int t = types[i];

		if (t & PA_FLAG_PTR) {
			(void)va_arg(*ap, void *);
			continue;
		}
		switch (t & ~PA_FLAG_MASK) {
		case PA_INT:
		case PA_CHAR:
		case PA_WCHAR:
			if (t & PA_FLAG_LONG_LONG)
				(void)va_arg(*ap, long long);
			else if (t & PA_FLAG_LONG)
				(void)va_arg(*ap, long);
			else
				(void)va_arg(*ap, int); /* short and char are promoted */
			break;
		case PA_FLOAT:
		case PA_DOUBLE:
			if (t & PA_FLAG_LONG_DOUBLE)
				(void)va_arg(*ap, long double);
			else
				(void)va_arg(*ap, double); /* float is promoted */
			break;
		case PA_STRING:
		case PA_WSTRING:
		case PA_POINTER:
			(void)va_arg(*ap, void *);
			break;
		default:
			return -EINVAL; /* a user-defined type: cannot be stepped over */
		}
	}
	return 0;
}

int log_struct_internal(int priority, int error, const char *file, int line, const char *func,
			const char *message, ...)
{
	char text[LOG_MAX_MESSAGE];
	const char *fields[64];
	size_t n = 0;
	bool fields_readable;
	int saved_errno = errno;
	va_list ap, aq;

	if (LOG_PRI(priority) > log_state.max_level)
		return -log_abs_error(error);
	errno = log_abs_error(error);
	va_start(ap, message);
	va_copy(aq, ap);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(text, sizeof(text), message, aq);
#pragma GCC diagnostic pop
	va_end(aq);
	fields_readable = log_skip_format_args(message, &ap) >= 0;
	for (const char *f; fields_readable && n < sizeof(fields) / sizeof(fields[0]) - 1 &&
			    (f = va_arg(ap, const char *));)
		fields[n++] = f;
	fields[n] = NULL;
	va_end(ap);
	log_dispatch(priority, error, file, line, func, message, text, fields);
	errno = saved_errno;
	return -log_abs_error(error);
}

/* ---------------------------------------------------------------- setup */

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is connected to the journal. */
static bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!e || fstat(STDERR_FILENO, &st) < 0)
		return false;
	errno = 0;
	dev = strtoull(e, &end, 10);
	if (errno || end == e || *end != ':')
		return false;
	e = end + 1;
	ino = strtoull(e, &end, 10);
	if (errno || end == e || *end != '\0')
		return false;
	return dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
}

static int log_open_journal(const char *path)
{
	size_t len = strlen(path);
	int fd;

	if (len == 0 || len >= sizeof(log_state.addr.sun_path))
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	log_state.addr.sun_family = AF_UNIX;
	memcpy(log_state.addr.sun_path, path, len + 1);
	log_state.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	log_state.journal_fd = fd;
	return 0;
}

enum log_target log_resolve_target(enum log_target target, const char *journal_socket)
{
	if (target == LOG_TARGET_AUTO)
		return log_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	if (target != LOG_TARGET_AUTO_DETACHED)
		return target;
	if (getenv("INVOCATION_ID") || getenv("JOURNAL_STREAM"))
		return LOG_TARGET_JOURNAL;
	if (access(journal_socket ? journal_socket : LOG_DEFAULT_JOURNAL_SOCKET, F_OK) == 0)
		return LOG_TARGET_JOURNAL;
	return LOG_TARGET_SYSLOG;
}

int log_set_syslog_socket(const char *path)
{
	char *copy = path ? strdup(path) : NULL;

	if (path && !copy)
		return -ENOMEM;
	free(log_state.syslog_socket);
	log_state.syslog_socket = copy;
	return 0;
}

int log_open(const char *ident, enum log_target target, const char *journal_socket)
{
	char *copy = ident ? strdup(ident) : NULL;
	int r = 0;

	if (ident && !copy)
		return -ENOMEM;
	log_close();
	log_state.ident = copy;
	target = log_resolve_target(target, journal_socket);
	if (target == LOG_TARGET_JOURNAL)
		r = log_open_journal(journal_socket ? journal_socket : LOG_DEFAULT_JOURNAL_SOCKET);
	else if (target == LOG_TARGET_SYSLOG)
		r = log_open_journal(log_state.syslog_socket ? log_state.syslog_socket
							     : LOG_DEFAULT_SYSLOG_SOCKET);
	if (r < 0)
		return r;
	log_state.target = target;
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	log_rl_reset(true);
	log_state.held = false;
	log_flush_queue();
	while (log_state.head)
		log_dequeue();
	log_state.dropped = 0;
	if (log_state.journal_fd >= 0)
		close(log_state.journal_fd);
	log_state.journal_fd = -1;
	log_state.target = LOG_TARGET_STDERR;
	free(log_state.ident);
	log_state.ident = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_set_max_level(int priority)
{
	log_state.max_level = LOG_PRI(priority);
}

int log_get_max_level(void)
{
	return log_state.max_level;
}

enum log_target log_get_target(void)
{
	return log_state.target;
}

void log_hold(void)
{
	LOG_LOCKED(log_state.held = true);
}

int log_release(void)
{
	int r;

	LOG_LOCKED(log_state.held = false; r = log_flush_queue());
	return r;
}

size_t log_queued(void)
{
	size_t n;

	LOG_LOCKED(n = log_state.n_queued);
	return n;
}
