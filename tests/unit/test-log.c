/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/common/log.c. Each journal test binds its own AF_UNIX datagram
 * socket in a temporary directory, points the log at it and parses what arrives with an
 * independent decoder of the journal native protocol (both the KEY=value and the binary
 * length-prefixed form). stderr tests swap fd 2 for a pipe. The rate limit runs on a fake
 * clock, so no test sleeps or measures time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "daemons/common/log.h"
#include "daemons/common/message-ids.h"

static char *tmpdir;

/* ---------------------------------------------------------------- receiver helpers */

struct receiver {
	int fd;
	char *path;
};

static struct receiver receiver_new(void)
{
	static unsigned counter;
	struct receiver rx = {.path = g_strdup_printf("%s/journal-%u", tmpdir, counter++)};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	g_assert_cmpuint(strlen(rx.path), <, sizeof(sa.sun_path));
	strcpy(sa.sun_path, rx.path);
	rx.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	g_assert_cmpint(rx.fd, >=, 0);
	g_assert_cmpint(bind(rx.fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return rx;
}

static void receiver_free(struct receiver *rx)
{
	close(rx->fd);
	g_unlink(rx->path);
	g_free(rx->path);
}

/* Next datagram, or NULL when none is queued (the log sends synchronously, so "none queued"
 * right after a log call means nothing was sent). */
static GBytes *receive_raw(struct receiver *rx)
{
	static char buf[256 * 1024];
	ssize_t n = recv(rx->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		g_assert_cmpint(errno, ==, EAGAIN);
		return NULL;
	}
	return g_bytes_new(buf, (gsize)n);
}

/* Decodes a native-protocol datagram into name -> value (NUL-terminated copies). */
static GHashTable *decode(GBytes *dgram)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gsize len;
	const char *p = g_bytes_get_data(dgram, &len), *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq = memchr(p, '=', (size_t)(end - p));
		g_assert_nonnull(nl);
		if (eq && eq < nl) {
			g_hash_table_insert(h, g_strndup(p, (gsize)(eq - p)),
					    g_strndup(eq + 1, (gsize)(nl - eq - 1)));
			p = nl + 1;
			continue;
		}
		/* binary: NAME\n le64 bytes \n */
		g_assert_cmpint(end - nl, >=, 9);
		uint64_t n = 0;
		for (int i = 7; i >= 0; i--)
			n = (n << 8) | (uint8_t)nl[1 + i];
		g_assert_cmpuint(n, <=, (uint64_t)(end - nl - 9 - 1));
		g_assert_cmpint(nl[9 + n], ==, '\n');
		g_hash_table_insert(h, g_strndup(p, (gsize)(nl - p)), g_strndup(nl + 9, (gsize)n));
		p = nl + 9 + n + 1;
	}
	return h;
}

static GHashTable *receive(struct receiver *rx)
{
	g_autoptr(GBytes) b = receive_raw(rx);

	g_assert_nonnull(b);
	return decode(b);
}

static void assert_nothing(struct receiver *rx)
{
	g_autoptr(GBytes) b = receive_raw(rx);
	g_assert_null(b);
}

static const char *field(GHashTable *h, const char *name)
{
	return g_hash_table_lookup(h, name);
}

/* Reads everything, nudging the log to flush its queue whenever the socket is drained,
 * until the log has nothing queued and nothing more arrives. Returns the MESSAGEs. */
static GPtrArray *drain_messages(struct receiver *rx)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (;;) {
		GBytes *b = receive_raw(rx);
		if (!b) {
			if (log_queued() == 0)
				break;
			g_assert_cmpint(log_release(), >, 0);
			continue;
		}
		GHashTable *h = decode(b);
		g_ptr_array_add(out, g_strdup(field(h, "MESSAGE")));
		g_hash_table_unref(h);
		g_bytes_unref(b);
	}
	return out;
}

static struct receiver open_journal_log(void)
{
	struct receiver rx = receiver_new();

	g_assert_cmpint(log_open("test-ident", LOG_TARGET_JOURNAL, rx.path), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_JOURNAL);
	log_set_max_level(LOG_INFO);
	return rx;
}

static void close_journal_log(struct receiver *rx)
{
	log_close();
	receiver_free(rx);
}

/* ---------------------------------------------------------------- stderr helpers */

struct stderr_capture {
	int saved;
	int pipe_rd;
};

static struct stderr_capture capture_stderr(void)
{
	struct stderr_capture c;
	int p[2];

	g_assert_cmpint(pipe2(p, O_CLOEXEC | O_NONBLOCK), ==, 0);
	c.saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	g_assert_cmpint(c.saved, >=, 0);
	g_assert_cmpint(dup2(p[1], STDERR_FILENO), ==, STDERR_FILENO);
	close(p[1]);
	c.pipe_rd = p[0];
	return c;
}

/* Everything written to stderr so far. */
static char *captured(struct stderr_capture *c)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(c->pipe_rd, buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, n);
	return g_string_free(s, FALSE);
}

static void restore_stderr(struct stderr_capture *c)
{
	g_assert_cmpint(dup2(c->saved, STDERR_FILENO), ==, STDERR_FILENO);
	close(c->saved);
	close(c->pipe_rd);
}

/* ---------------------------------------------------------------- fake clock */

static uint64_t fake_now = 1000000;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* The queue tests flood from one call site: the rate limit would stop them first. */
static void no_ratelimit(void)
{
	log_set_ratelimit(0, 0);
}

static void default_ratelimit(void)
{
	log_set_ratelimit(10, 10);
}

/* ---------------------------------------------------------------- tests */

static void test_journal_fields(void)
{
	struct receiver rx = open_journal_log();
	int line = __LINE__ + 1;
	g_assert_cmpint(log_info("hello %d", 42), ==, 0);
	GHashTable *h = receive(&rx);

	g_assert_cmpstr(field(h, "PRIORITY"), ==, "6");
	g_assert_cmpstr(field(h, "SYSLOG_IDENTIFIER"), ==, "test-ident");
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "hello 42");
	g_assert_true(g_str_has_suffix(field(h, "CODE_FILE"), "test-log.c"));
	g_autofree char *want_line = g_strdup_printf("%d", line);
	g_assert_cmpstr(field(h, "CODE_LINE"), ==, want_line);
	g_assert_cmpstr(field(h, "CODE_FUNC"), ==, "test_journal_fields");
	g_assert_null(field(h, "ERRNO"));
	g_assert_cmpuint(g_hash_table_size(h), ==, 6);
	g_hash_table_unref(h);
	assert_nothing(&rx);
	close_journal_log(&rx);
}

static void test_journal_errno(void)
{
	struct receiver rx = open_journal_log();
	GHashTable *h;

	errno = EPERM;
	g_assert_cmpint(log_error_errno(-ENOENT, "open %s", "x"), ==, -ENOENT);
	g_assert_cmpint(errno, ==, EPERM);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "3");
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "open x: No such file or directory");
	g_assert_cmpstr(field(h, "ERRNO"), ==, "2");
	g_hash_table_unref(h);

	/* positive errors are accepted too; %m sees the error */
	g_assert_cmpint(log_warning_errno(EIO, "read failed (%m)"), ==, -EIO);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "4");
	g_assert_cmpstr(field(h, "MESSAGE"), ==,
			"read failed (Input/output error): Input/output error");
	g_assert_cmpstr(field(h, "ERRNO"), ==, "5");
	g_hash_table_unref(h);
	close_journal_log(&rx);
}

/* A message never carries a newline (it is escaped); a field value with one goes out in the
 * native protocol's binary form. */
static void test_journal_multiline_binary(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GBytes) b = NULL;
	static const char want[] = "HV_TEXT\n\x07\0\0\0\0\0\0\0line1\nx\n";
	gsize len;
	const char *data;

	log_struct(LOG_NOTICE, "line1\n%s", "x", "HV_TEXT=line1\nx", NULL);
	b = receive_raw(&rx);
	g_assert_nonnull(b);
	data = g_bytes_get_data(b, &len);
	/* the exact bytes of the binary form are in the datagram */
	g_assert_nonnull(memmem(data, len, want, sizeof(want) - 1));
	g_assert_nonnull(memmem(data, len, "MESSAGE=line1\\nx\n", 17));
	GHashTable *h = decode(b);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "line1\\nx");
	g_assert_cmpstr(field(h, "HV_TEXT"), ==, "line1\nx");
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "5");
	g_hash_table_unref(h);
	close_journal_log(&rx);
}

static void test_journal_struct(void)
{
	struct receiver rx = open_journal_log();
	GHashTable *h;

	g_assert_cmpint(
	    log_struct(LOG_INFO, "KVP request", "HVGUEST_KVP_OP=get", "HVGUEST_KVP_POOL=0", NULL),
	    ==, 0);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "KVP request");
	g_assert_cmpstr(field(h, "HVGUEST_KVP_OP"), ==, "get");
	g_assert_cmpstr(field(h, "HVGUEST_KVP_POOL"), ==, "0");
	g_assert_cmpstr(field(h, "CODE_FUNC"), ==, "test_journal_struct");
	g_hash_table_unref(h);

	/* format arguments are consumed before the fields; invalid field names are skipped;
	 * a field value with a newline uses the binary form */
	g_assert_cmpint(log_struct_internal(LOG_WARNING, -EAGAIN, "f.c", 7, "fn",
					    "op %s %d %lu %.*s %5.2f%%", "set", -5, 7ul, 2, "abc",
					    1.5, "HVGUEST_KVP_KEY=a\nb", "lower=1", "_PID=1",
					    "NOEQUALS", "HVGUEST_EMPTY=", NULL),
			==, -EAGAIN);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==,
			"op set -5 7 ab  1.50%: Resource temporarily unavailable");
	g_assert_cmpstr(field(h, "ERRNO"), ==, "11");
	g_assert_cmpstr(field(h, "CODE_FILE"), ==, "f.c");
	g_assert_cmpstr(field(h, "CODE_LINE"), ==, "7");
	g_assert_cmpstr(field(h, "CODE_FUNC"), ==, "fn");
	g_assert_cmpstr(field(h, "HVGUEST_KVP_KEY"), ==, "a\nb");
	g_assert_cmpstr(field(h, "HVGUEST_EMPTY"), ==, "");
	g_assert_null(field(h, "lower"));
	g_assert_null(field(h, "_PID"));
	g_assert_null(field(h, "NOEQUALS"));
	g_hash_table_unref(h);

	/* positional, long double, intmax_t/size_t, char and pointer conversions are all
	 * stepped over before the fields */
	g_assert_cmpint(log_struct_internal(LOG_INFO, 0, "f.c", 8, "fn",
					    "%2$s %1$d %3$.1Lf %4$jd %5$zu %6$c %7$p %8$hhd", 4,
					    "x", (long double)2.5, (intmax_t)-9, (size_t)10, 'q',
					    (void *)NULL, 3, "HVGUEST_AFTER=yes", NULL),
			==, 0);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "x 4 2.5 -9 10 q (nil) 3");
	g_assert_cmpstr(field(h, "HVGUEST_AFTER"), ==, "yes");
	g_hash_table_unref(h);
	close_journal_log(&rx);
}

static void test_levels(void)
{
	struct receiver rx = open_journal_log();
	GHashTable *h;

	g_assert_cmpint(log_get_max_level(), ==, LOG_INFO);
	g_assert_cmpint(log_debug("hidden"), ==, 0);
	g_assert_cmpint(log_debug_errno(-EBADF, "hidden"), ==, -EBADF);
	assert_nothing(&rx);
	log_set_max_level(LOG_DEBUG);
	g_assert_cmpint(log_get_max_level(), ==, LOG_DEBUG);
	log_debug("shown");
	h = receive(&rx);
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "7");
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "shown");
	g_hash_table_unref(h);
	log_set_max_level(LOG_ERR);
	log_warning("hidden");
	log_info("hidden");
	assert_nothing(&rx);
	log_error("shown");
	h = receive(&rx);
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "3");
	g_hash_table_unref(h);
	close_journal_log(&rx);
}

static void test_hold_release(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	log_hold();
	log_info("one");
	log_warning("two");
	log_error("three");
	assert_nothing(&rx);
	g_assert_cmpuint(log_queued(), ==, 3);
	g_assert_cmpint(log_release(), ==, 3);
	g_assert_cmpuint(log_queued(), ==, 0);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 3);
	g_assert_cmpstr(msgs->pdata[0], ==, "one");
	g_assert_cmpstr(msgs->pdata[1], ==, "two");
	g_assert_cmpstr(msgs->pdata[2], ==, "three");
	/* releasing again sends nothing */
	g_assert_cmpint(log_release(), ==, 0);
	assert_nothing(&rx);
	close_journal_log(&rx);
}

static void test_queue_record_bound(void)
{
	struct receiver rx = open_journal_log();
	no_ratelimit();
	g_autoptr(GPtrArray) msgs = NULL;

	log_hold();
	for (int i = 0; i < 1100; i++)
		log_info("record %d", i);
	g_assert_cmpuint(log_queued(), ==, 1024);
	assert_nothing(&rx);
	log_release();
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 1025);
	for (int i = 0; i < 1024; i++) {
		g_autofree char *want = g_strdup_printf("record %d", i);
		g_assert_cmpstr(msgs->pdata[i], ==, want);
	}
	g_assert_cmpstr(msgs->pdata[1024], ==,
			"76 log messages were dropped while the log was held");
	default_ratelimit();
	close_journal_log(&rx);
}

static void test_queue_byte_bound(void)
{
	struct receiver rx = open_journal_log();
	no_ratelimit();
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GBytes) sample = NULL;
	g_autofree char *big = g_strnfill(15000, 'x');
	size_t queued, expected = 0, bytes = 0, two_digit_size;

	/* measure one record with a two-digit number (CODE_LINE has as many digits below) */
	log_info("%d %s", 50, big);
	sample = receive_raw(&rx);
	g_assert_nonnull(sample);
	two_digit_size = g_bytes_get_size(sample);
	/* what fits in 1 MiB: records 0..9 are one byte shorter */
	for (size_t i = 0; i < 100; i++) {
		size_t size = i < 10 ? two_digit_size - 1 : two_digit_size;
		if (bytes + size > 1024 * 1024)
			break;
		bytes += size;
		expected++;
	}
	g_assert_cmpuint(expected, >, 10);
	g_assert_cmpuint(expected, <, 100);

	log_hold();
	for (int i = 0; i < 100; i++)
		log_info("%d %s", i, big);
	queued = log_queued();
	g_assert_cmpuint(queued, ==, expected);
	log_release();
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, queued + 1);
	g_autofree char *want =
	    g_strdup_printf("%zu log messages were dropped while the log was held", 100 - queued);
	g_assert_cmpstr(msgs->pdata[queued], ==, want);
	default_ratelimit();
	close_journal_log(&rx);
}

static void test_message_truncated(void)
{
	struct receiver rx = open_journal_log();
	g_autofree char *huge = g_strnfill(100000, 'y');
	GHashTable *h;

	log_info("%s", huge);
	h = receive(&rx);
	g_assert_cmpuint(strlen(field(h, "MESSAGE")), ==, 16383);
	g_hash_table_unref(h);
	close_journal_log(&rx);
}

static void test_full_socket_does_not_block(void)
{
	struct receiver rx = open_journal_log();
	no_ratelimit();
	g_autoptr(GPtrArray) msgs = NULL;
	int small = 1;
	int sent = 0;

	g_assert_cmpint(setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
	/* a blocking send would hang here; the alarm turns that into a failure */
	alarm(60);
	for (; sent < 3000; sent++)
		log_info("flood %d", sent);
	alarm(0);
	/* the socket filled up: the rest waits in the queue, the excess was dropped */
	g_assert_cmpuint(log_queued(), ==, 1024);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, >, 1024);
	g_assert_cmpuint(msgs->len, <, 3000);
	/* in order, gap-free up to the drop point, then the drop report */
	for (guint i = 0; i + 1 < msgs->len; i++) {
		g_autofree char *want = g_strdup_printf("flood %u", i);
		g_assert_cmpstr(msgs->pdata[i], ==, want);
	}
	g_autofree char *want = g_strdup_printf(
	    "%u log messages were dropped while the journal was not accepting messages",
	    3000 - (msgs->len - 1));
	g_assert_cmpstr(msgs->pdata[msgs->len - 1], ==, want);
	/* records flow normally again */
	log_info("after");
	GHashTable *h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "after");
	g_hash_table_unref(h);
	default_ratelimit();
	close_journal_log(&rx);
}

/* One call site: the rate limit's key. */
static void warn_same(int i)
{
	log_warning("same warning %d", i);
}

static void test_ratelimit(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 1000000;
	log_set_clock(fake_clock);
	log_set_ratelimit(10, 5);
	for (int i = 0; i < 8; i++)
		warn_same(i);
	for (int i = 0; i < 6; i++)
		log_error("same warning %d", i); /* same format, other priority: own budget */
	for (int i = 0; i < 8; i++)
		log_info("info %d", i); /* limited as well */
	for (int i = 0; i < 7; i++)
		log_debug("debug %d", i); /* below the level: neither sent nor counted */
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 5 + 5 + 5);
	g_assert_cmpstr(msgs->pdata[4], ==, "same warning 4");
	g_assert_cmpstr(msgs->pdata[9], ==, "same warning 4");
	g_assert_cmpstr(msgs->pdata[14], ==, "info 4");
	g_ptr_array_unref(g_steal_pointer(&msgs));

	/* one microsecond short of the interval: still suppressed, no summary yet */
	fake_now += 10 * 1000000 - 1;
	warn_same(99);
	log_info("tick");
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 1);
	g_assert_cmpstr(msgs->pdata[0], ==, "tick");
	g_ptr_array_unref(g_steal_pointer(&msgs));

	/* the interval rolls over: the summaries come before the next record */
	fake_now += 1;
	log_info("tock");
	GHashTable *h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "Suppressed 4 similar messages: same warning 5");
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "4");
	g_hash_table_unref(h);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "Suppressed 1 similar messages: same warning 5");
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "3");
	g_hash_table_unref(h);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "Suppressed 3 similar messages: info 5");
	g_assert_cmpstr(field(h, "PRIORITY"), ==, "6");
	g_hash_table_unref(h);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "tock");
	g_hash_table_unref(h);
	assert_nothing(&rx);

	/* a fresh interval allows a full burst again */
	for (int i = 0; i < 5; i++)
		warn_same(i);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 5);
	g_ptr_array_unref(g_steal_pointer(&msgs));

	/* 0 disables */
	log_set_ratelimit(0, 0);
	for (int i = 0; i < 20; i++)
		log_error("unlimited %d", i);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 20);

	default_ratelimit();
	log_set_clock(NULL);
	close_journal_log(&rx);
}

static void log_from_site_a(const char *text)
{
	log_info("%s", text);
}

static void log_from_site_b(const char *text)
{
	log_info("%s", text);
}

/* The key is the call site: one format string used at two places has two budgets, and a
 * flood from one site does not silence another. */
static void test_ratelimit_per_call_site(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 9000000;
	log_set_clock(fake_clock);
	log_set_ratelimit(10, 3);
	for (int i = 0; i < 10; i++)
		log_from_site_a("a");
	log_from_site_b("b");
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 3 + 1);
	g_assert_cmpstr(msgs->pdata[3], ==, "b");
	default_ratelimit();
	log_set_clock(NULL);
	close_journal_log(&rx);
}

/* What a host that sends 2,000 requests in a few milliseconds gets from one info line. */
static void test_ratelimit_info_flood(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 20000000;
	log_set_clock(fake_clock);
	default_ratelimit();
	for (int i = 0; i < 2000; i++)
		log_info("negotiated with the host: request %d", i);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 10);
	g_ptr_array_unref(g_steal_pointer(&msgs));
	fake_now += 10 * 1000000;
	log_notice("later");
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 2);
	g_assert_cmpstr(msgs->pdata[0], ==,
			"Suppressed 1990 similar messages: negotiated with the host: request 10");
	g_assert_cmpstr(msgs->pdata[1], ==, "later");
	log_set_clock(NULL);
	close_journal_log(&rx);
}

/* Lines only root can trigger (a SIGHUP reload, start-up) are never suppressed: an admin who
 * reloads twelve times sees twelve lines, and they are escaped like every other. */
static void test_ratelimit_lifecycle_unlimited(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 20000000;
	log_set_clock(fake_clock);
	default_ratelimit();
	for (int i = 0; i < 50; i++)
		log_lifecycle("reloaded the configuration\n%d", i);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 50);
	g_assert_cmpstr(msgs->pdata[49], ==, "reloaded the configuration\\n49");
	log_set_clock(NULL);
	close_journal_log(&rx);
}

static void assert_escaped(const char *in, const char *want)
{
	char buf[256];

	g_assert_cmpstr(log_escape(in, buf, sizeof(buf)), ==, want);
}

/* hv-kvpd logs from its SET_IP_INFO worker thread while the loop logs: records from several
 * threads at once are each queued once, whole, and the rate limit counts them exactly. */
#define THREADS 4
#define PER_THREAD 200
#define FLOOD 20000

static unsigned per_thread = PER_THREAD;

static void *log_many(void *arg)
{
	unsigned id = GPOINTER_TO_UINT(arg);

	for (unsigned i = 0; i < per_thread; i++)
		log_info("thread %u record %u", id, i);
	return NULL;
}

static void run_threads(unsigned n)
{
	pthread_t t[THREADS];

	per_thread = n;
	for (unsigned i = 0; i < THREADS; i++)
		g_assert_cmpint(pthread_create(&t[i], NULL, log_many, GUINT_TO_POINTER(i)), ==, 0);
	for (unsigned i = 0; i < THREADS; i++)
		g_assert_cmpint(pthread_join(t[i], NULL), ==, 0);
}

/* Mutual exclusion, deterministically: the rate limiter reads the clock in the middle of
 * a record's bookkeeping; a clock that starts another thread's record there and waits sees
 * that record finish only once the first one is done. */
static pthread_t other_thread;
static bool other_started;
static volatile bool other_done, other_done_inside;

static void *log_other(void *arg)
{
	log_info("other thread");
	other_done = true;
	return NULL;
}

static uint64_t interleaving_clock(void)
{
	if (!other_started && pthread_equal(pthread_self(), other_thread) == 0) {
		other_started = true;
		g_assert_cmpint(pthread_create(&other_thread, NULL, log_other, NULL), ==, 0);
		g_usleep(200 * 1000);
		other_done_inside = other_done;
	}
	return fake_now;
}

static void test_threads_exclusive(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 5000000;
	log_set_ratelimit(10, 100);
	log_set_clock(interleaving_clock);
	log_info("first thread");
	g_assert_cmpint(pthread_join(other_thread, NULL), ==, 0);
	g_assert_false(other_done_inside);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 2);
	g_assert_cmpstr(msgs->pdata[0], ==, "first thread");
	g_assert_cmpstr(msgs->pdata[1], ==, "other thread");
	default_ratelimit();
	log_set_clock(NULL);
	close_journal_log(&rx);
}

static void test_threads(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;
	unsigned seen[THREADS] = {0};

	fake_now = 5000000;
	log_set_clock(fake_clock);
	log_set_ratelimit(0, 0);
	log_hold(); /* every record goes through the shared queue */
	run_threads(PER_THREAD);
	g_assert_cmpuint(log_queued(), ==, THREADS * PER_THREAD);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, THREADS * PER_THREAD);
	for (guint i = 0; i < msgs->len; i++) {
		unsigned id, n;

		g_assert_cmpint(sscanf(msgs->pdata[i], "thread %u record %u", &id, &n), ==, 2);
		g_assert_cmpuint(id, <, THREADS);
		g_assert_cmpuint(n, ==, seen[id]); /* each thread's records in its order */
		seen[id]++;
	}
	g_ptr_array_unref(g_steal_pointer(&msgs));

	/* one call site, one budget, shared by every thread, counted exactly */
	log_set_ratelimit(10, 7);
	run_threads(FLOOD);
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 7);
	fake_now += 10 * 1000000;
	log_info("after");
	g_ptr_array_unref(g_steal_pointer(&msgs));
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 2);
	g_assert_true(g_str_has_prefix(msgs->pdata[0], "Suppressed 79993 similar messages: "));
	g_assert_cmpstr(msgs->pdata[1], ==, "after");

	default_ratelimit();
	log_set_clock(NULL);
	close_journal_log(&rx);
}

static void test_escape(void)
{
	char small[8];

	assert_escaped("plain text, UTF-8 r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80",
		       "plain text, UTF-8 r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80");
	assert_escaped("x\nWATCHDOG=trigger\nMAINPID=1", "x\\nWATCHDOG=trigger\\nMAINPID=1");
	assert_escaped("\x1b[31mred\r\t\x7f\x01", "\\x1b[31mred\\r\\t\\x7f\\x01");
	assert_escaped("back\\slash", "back\\\\slash");
	/* C1 controls (CSI U+009B), a lone continuation byte, an overlong '/', a surrogate */
	assert_escaped("\xc2\x9b"
		       "2J",
		       "\\xc2\\x9b2J");
	assert_escaped("\x80\xc0\xaf\xed\xa0\x80", "\\x80\\xc0\\xaf\\xed\\xa0\\x80");
	assert_escaped("\xc2\xa0ok", "\xc2\xa0ok"); /* NBSP is text */
	assert_escaped("cut\xe2\x82", "cut\\xe2\\x82");
	/* cut before an escape that does not fit, never inside one */
	g_assert_cmpstr(log_escape("abcdef\nx", small, sizeof(small)), ==, "abcdef");
	g_assert_cmpstr(log_escape("abc\xf0\x9f\x98\x80", small, sizeof(small)), ==,
			"abc\xf0\x9f\x98\x80");
	g_assert_cmpstr(log_escape("abcd\xf0\x9f\x98\x80", small, sizeof(small)), ==, "abcd");
	g_assert_cmpstr(log_escape("x", small, 1), ==, "");
}

/* Outside text in a message reaches neither target raw. */
static void test_escape_targets(void)
{
	static const char host_name[] = "evil\nhv-fcopyd: forged line\x1b]0;title\x07";
	static const char want[] = "copy failed: evil\\nhv-fcopyd: forged line\\x1b]0;title\\x07";
	struct receiver rx = open_journal_log();
	struct stderr_capture c;
	g_autofree char *out = NULL, *line = NULL;
	GHashTable *h;

	log_warning("copy failed: %s", host_name);
	h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, want);
	g_hash_table_unref(h);
	close_journal_log(&rx);

	c = capture_stderr();
	g_assert_cmpint(log_open("ident", LOG_TARGET_STDERR, NULL), ==, 0);
	log_info("copy failed: %s", host_name);
	out = captured(&c);
	line = g_strdup_printf("ident: %s\n", want);
	g_assert_cmpstr(out, ==, line);
	log_close();
	restore_stderr(&c);
}

static void test_ratelimit_summary_on_close(void)
{
	struct receiver rx = open_journal_log();
	g_autoptr(GPtrArray) msgs = NULL;

	fake_now = 5000000;
	log_set_clock(fake_clock);
	log_set_ratelimit(10, 1);
	for (const char *b = "abc"; *b; b++) /* one call site */
		log_error("burst %c", *b);
	log_close();
	msgs = drain_messages(&rx);
	g_assert_cmpuint(msgs->len, ==, 2);
	g_assert_cmpstr(msgs->pdata[0], ==, "burst a");
	g_assert_cmpstr(msgs->pdata[1], ==, "Suppressed 2 similar messages: burst b");
	default_ratelimit();
	log_set_clock(NULL);
	receiver_free(&rx);
}

static void test_stderr_target(void)
{
	struct stderr_capture c = capture_stderr();
	g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL;

	g_assert_cmpint(log_open("ident", LOG_TARGET_STDERR, NULL), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_info("plain %s", "x");
	g_assert_cmpint(log_warning_errno(-EIO, "fail"), ==, -EIO);
	log_notice("two\nlines");
	out = captured(&c);
	g_assert_cmpstr(out, ==,
			"ident: plain x\nident: fail: Input/output error\nident: two\\nlines\n");

	log_hold();
	log_info("held");
	out2 = captured(&c);
	g_assert_cmpstr(out2, ==, "");
	g_assert_cmpint(log_release(), ==, 1);
	out3 = captured(&c);
	g_assert_cmpstr(out3, ==, "ident: held\n");
	log_close();
	restore_stderr(&c);
}

static void test_journal_unreachable_falls_back(void)
{
	struct stderr_capture c = capture_stderr();
	g_autofree char *path = g_build_filename(tmpdir, "no-journal-here", NULL);
	g_autofree char *out = NULL;

	g_assert_cmpint(log_open("fallback", LOG_TARGET_JOURNAL, path), ==, 0);
	log_info("to stderr");
	out = captured(&c);
	g_assert_cmpstr(out, ==, "fallback: to stderr\n");
	log_close();
	restore_stderr(&c);
}

static void test_open_errors(void)
{
	g_autofree char *long_path = g_strnfill(200, 'p');

	g_assert_cmpint(log_open("x", LOG_TARGET_JOURNAL, long_path), ==, -EINVAL);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_STDERR);
	g_assert_cmpint(log_open("x", LOG_TARGET_JOURNAL, ""), ==, -EINVAL);
	log_close();
	log_close(); /* twice is fine */
}

static void test_auto_target(void)
{
	struct receiver rx = receiver_new();
	struct stat st;
	g_autofree char *match = NULL, *other = NULL;

	g_assert_cmpint(fstat(STDERR_FILENO, &st), ==, 0);
	match = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
				(unsigned long long)st.st_ino);
	other = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
				(unsigned long long)st.st_ino + 1);

	g_unsetenv("JOURNAL_STREAM");
	g_assert_cmpint(log_open("a", LOG_TARGET_AUTO, rx.path), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_STDERR);
	g_setenv("JOURNAL_STREAM", other, TRUE);
	g_assert_cmpint(log_open("a", LOG_TARGET_AUTO, rx.path), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_STDERR);
	g_setenv("JOURNAL_STREAM", "garbage", TRUE);
	g_assert_cmpint(log_open("a", LOG_TARGET_AUTO, rx.path), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_STDERR);
	g_setenv("JOURNAL_STREAM", match, TRUE);
	g_assert_cmpint(log_open("a", LOG_TARGET_AUTO, rx.path), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_JOURNAL);
	log_info("via auto");
	GHashTable *h = receive(&rx);
	g_assert_cmpstr(field(h, "MESSAGE"), ==, "via auto");
	g_hash_table_unref(h);
	g_unsetenv("JOURNAL_STREAM");
	close_journal_log(&rx);
}

/* A detached daemon (no stderr) logs to the journal under systemd, else to syslog. */
static void test_resolve_detached(void)
{
	struct receiver journal = receiver_new();
	g_autofree char *missing = g_build_filename(tmpdir, "no-journal", NULL);

	g_unsetenv("JOURNAL_STREAM");
	g_unsetenv("INVOCATION_ID");
	g_assert_cmpint(log_resolve_target(LOG_TARGET_AUTO_DETACHED, missing), ==,
			LOG_TARGET_SYSLOG);
	/* the journal's socket exists: journald runs, if not as our parent */
	g_assert_cmpint(log_resolve_target(LOG_TARGET_AUTO_DETACHED, journal.path), ==,
			LOG_TARGET_JOURNAL);
	/* started by systemd (a unit), whether or not stderr is the journal stream */
	g_setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", TRUE);
	g_assert_cmpint(log_resolve_target(LOG_TARGET_AUTO_DETACHED, missing), ==,
			LOG_TARGET_JOURNAL);
	g_unsetenv("INVOCATION_ID");
	g_setenv("JOURNAL_STREAM", "1:2", TRUE);
	g_assert_cmpint(log_resolve_target(LOG_TARGET_AUTO_DETACHED, missing), ==,
			LOG_TARGET_JOURNAL);
	g_unsetenv("JOURNAL_STREAM");
	/* the others stand for themselves */
	g_assert_cmpint(log_resolve_target(LOG_TARGET_STDERR, missing), ==, LOG_TARGET_STDERR);
	g_assert_cmpint(log_resolve_target(LOG_TARGET_SYSLOG, journal.path), ==, LOG_TARGET_SYSLOG);
	g_assert_cmpint(log_resolve_target(LOG_TARGET_AUTO, journal.path), ==, LOG_TARGET_STDERR);
	receiver_free(&journal);
}

/* Syslog lines: "<PRI>Mmm dd hh:mm:ss ident[pid]: message", facility daemon; held like
 * journal records; stderr when nothing listens. */
static void test_syslog_target(void)
{
	struct receiver rx = receiver_new();
	g_autofree char *missing = g_build_filename(tmpdir, "no-journal", NULL);
	g_autofree char *tail = g_strdup_printf(" hv-test[%d]: hello", (int)getpid());
	g_autofree char *tail_err =
	    g_strdup_printf(" hv-test[%d]: cannot: %s", (int)getpid(), strerror(EIO));
	g_autoptr(GBytes) b = NULL;
	g_autofree char *line = NULL;

	g_unsetenv("JOURNAL_STREAM");
	g_unsetenv("INVOCATION_ID");
	g_assert_cmpint(log_set_syslog_socket(rx.path), ==, 0);
	g_assert_cmpint(log_open("hv-test", LOG_TARGET_AUTO_DETACHED, missing), ==, 0);
	g_assert_cmpint(log_get_target(), ==, LOG_TARGET_SYSLOG);
	log_set_max_level(LOG_INFO);
	log_info("hello");
	b = receive_raw(&rx);
	g_assert_nonnull(b);
	line = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
	g_assert_true(g_str_has_prefix(line, "<30>")); /* LOG_DAEMON | LOG_INFO */
	g_assert_true(g_str_has_suffix(line, tail));
	/* "Mmm dd hh:mm:ss": 15 characters between the priority and the ident */
	g_assert_cmpuint(strlen(line), ==, 4 + 15 + strlen(tail));
	g_clear_pointer(&b, g_bytes_unref);
	g_clear_pointer(&line, g_free);

	log_hold();
	log_error_errno(EIO, "cannot");
	assert_nothing(&rx);
	g_assert_cmpint(log_release(), ==, 1);
	b = receive_raw(&rx);
	g_assert_nonnull(b);
	line = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
	g_assert_true(g_str_has_prefix(line, "<27>")); /* LOG_DAEMON | LOG_ERR */
	g_assert_true(g_str_has_suffix(line, tail_err));
	log_close();
	g_assert_cmpint(log_set_syslog_socket(NULL), ==, 0);
	receiver_free(&rx);
}

/* The key events' ids: "MESSAGE_ID=" and 32 lowercase hex digits (a 128-bit id as
 * journalctl shows it), all different, and sent as the record's MESSAGE_ID field. */
static void test_message_ids(void)
{
	const char *const ids[] = {HVGUEST_MESSAGE_BACKUP_DONE, HVGUEST_MESSAGE_FROZEN,
				   HVGUEST_MESSAGE_THAWED, HVGUEST_MESSAGE_COPY_DONE,
				   HVGUEST_MESSAGE_HOST_DISABLED};
	struct receiver rx = open_journal_log();

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
		const char *hex = ids[i] + strlen("MESSAGE_ID=");
		GHashTable *h;

		g_assert_true(g_str_has_prefix(ids[i], "MESSAGE_ID="));
		g_assert_cmpuint(strlen(hex), ==, 32);
		g_assert_cmpuint(strspn(hex, "0123456789abcdef"), ==, 32);
		for (size_t j = 0; j < i; j++)
			g_assert_cmpstr(ids[i], !=, ids[j]);
		g_assert_cmpint(log_struct(LOG_INFO, "event", ids[i], NULL), ==, 0);
		h = receive(&rx);
		g_assert_cmpstr(field(h, "MESSAGE_ID"), ==, hex);
		g_hash_table_unref(h);
	}
	close_journal_log(&rx);
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-log-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/log/journal/fields", test_journal_fields);
	g_test_add_func("/log/journal/errno", test_journal_errno);
	g_test_add_func("/log/journal/multiline-binary", test_journal_multiline_binary);
	g_test_add_func("/log/journal/struct", test_journal_struct);
	g_test_add_func("/log/journal/message-ids", test_message_ids);
	g_test_add_func("/log/journal/truncated", test_message_truncated);
	g_test_add_func("/log/levels", test_levels);
	g_test_add_func("/log/hold-release", test_hold_release);
	g_test_add_func("/log/threads", test_threads);
	g_test_add_func("/log/threads-exclusive", test_threads_exclusive);
	g_test_add_func("/log/queue/record-bound", test_queue_record_bound);
	g_test_add_func("/log/queue/byte-bound", test_queue_byte_bound);
	g_test_add_func("/log/queue/full-socket", test_full_socket_does_not_block);
	g_test_add_func("/log/ratelimit/counts", test_ratelimit);
	g_test_add_func("/log/ratelimit/summary-on-close", test_ratelimit_summary_on_close);
	g_test_add_func("/log/ratelimit/per-call-site", test_ratelimit_per_call_site);
	g_test_add_func("/log/ratelimit/info-flood", test_ratelimit_info_flood);
	g_test_add_func("/log/ratelimit/lifecycle-unlimited", test_ratelimit_lifecycle_unlimited);
	g_test_add_func("/log/escape/text", test_escape);
	g_test_add_func("/log/escape/targets", test_escape_targets);
	g_test_add_func("/log/stderr", test_stderr_target);
	g_test_add_func("/log/journal/unreachable", test_journal_unreachable_falls_back);
	g_test_add_func("/log/open-errors", test_open_errors);
	g_test_add_func("/log/auto-target", test_auto_target);
	g_test_add_func("/log/resolve-detached", test_resolve_detached);
	g_test_add_func("/log/syslog", test_syslog_target);
	r = g_test_run();
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
