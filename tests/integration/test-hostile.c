/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: a hostile host. Streams of random and malformed host messages, built from a
 * fixed seed, go raw (hvsim_send_raw: the bytes after a well-formed IC header) through the
 * real daemons: hv-kvpd behind the simulated kernel, hv-fcopyd behind the simulated kernel
 * and directly on the UIO ring (there the daemon parses the host's bytes itself). Each
 * message is answered with a status before the kernel's deadline, the daemon stays up, and
 * a valid request afterwards is served. Under the ASan/UBSan build this is the review's
 * "raw hostile messages, no report", scaled down so that make check stays fast: 2,000 KVP
 * and 800 fcopy messages per transport instead of 20,000 and 8,000. The three kinds of
 * message (all random bytes at a random length; the right op and layout with random
 * fields; a valid request with bytes flipped) reach every parser branch the larger runs
 * reached; the fuzz targets (tests/fuzz/) cover the parsers themselves in depth. Malformed
 * IC headers are not sent here (tests/fuzz/fuzz-icmsg.c covers them).
 *
 * fcopyd runs with profile=untrusted-host and its allowlist set to the test's own
 * directory, so that a random START that happens to name a valid path cannot write
 * anywhere else; the test checks that nothing appeared outside it.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define SEED 20261202
#define KVP_MESSAGES 2000
#define FCOPY_MESSAGES 800

/* Host KVP message offsets (docs/protocol.md §3.1). */
#define K_KEY_SIZE 8
#define K_VALUE_SIZE 12
#define K_KEY 16
#define K_VALUE 528
/* Host fcopy START offsets (docs/protocol.md §5). */
#define F_FILE_NAME 36
#define F_PATH_NAME 556
#define F_FLAGS 1076
#define F_FILE_SIZE 1080

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	char *dest, *sysfs, *dev_dir;
	GRand *rand;
	unsigned answered_ok, answered_fail;
};

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	if (f->daemon && g_test_failed()) {
		g_autofree char *log = test_daemon_log(f->daemon);
		g_test_message("daemon log:\n%s", log);
	}
	test_daemon_free(f->daemon);
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->dest);
	g_free(f->sysfs);
	g_free(f->dev_dir);
	if (f->rand)
		g_rand_free(f->rand);
}

static void assert_daemon_alive(struct fixture *f)
{
	g_assert_cmpint(kill(f->daemon->pid, 0), ==, 0);
	g_assert_cmpint(waitpid(f->daemon->pid, NULL, WNOHANG), ==, 0);
}

static void fill_random(GRand *rand, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)g_rand_int(rand);
}

/* UTF-16LE of s (ASCII) at dst, NUL-terminated; returns the bytes written with the NUL. */
static size_t put_ascii16(uint8_t *dst, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		vmu_put_le16(dst + 2 * i, (uint8_t)s[i]);
	vmu_put_le16(dst + 2 * n, 0);
	return 2 * (n + 1);
}

/* A few random bytes of msg[0..len) replaced. */
static void flip_some(GRand *rand, uint8_t *msg, size_t len)
{
	int n = g_rand_int_range(rand, 1, 9);

	for (int i = 0; i < n && len; i++)
		msg[g_rand_int_range(rand, 0, (gint32)len)] = (uint8_t)g_rand_int(rand);
}

/* Sends one message; it must be answered (no kernel timeout), with any status. */
static void send_one(struct fixture *f, enum vmu_service service, const uint8_t *msg, size_t len)
{
	struct hvsim_result r;

	g_assert_cmpint(hvsim_send_raw(f->sim, service, msg, len, &r), ==, 0);
	g_assert_false(r.kernel_timeout);
	if (r.status == VMU_S_OK)
		f->answered_ok++;
	else
		f->answered_fail++;
}

/* ---------------------------------------------------------------- KVP */

static void kvp_setup(struct fixture *f, gconstpointer data)
{
	f->rand = g_rand_new_with_seed(SEED);
	f->env = test_env_new(VMU_SERVICE_KVP, NULL);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_KVP, f->env->socket_path), ==, 0);
	hvsim_set_host_timeout(f->sim, 20 * SEC);
	f->daemon = test_daemon_start(f->env, "daemons/kvp/hv-kvpd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
}

/* One hostile KVP message of the kind i % 3 into msg; returns its length. */
static size_t kvp_hostile(GRand *rand, unsigned i, uint8_t *msg)
{
	size_t len = VMU_KVP_MSG_SIZE;

	memset(msg, 0, HVSIM_RAW_MAX);
	switch (i % 3) {
	case 0: /* random bytes, random length */
		len = (size_t)g_rand_int_range(rand, 0, HVSIM_RAW_MAX + 1);
		fill_random(rand, msg, len);
		break;
	case 1: /* the layout, with every field random: ops and pools out of range, sizes
		 * that disagree with the strings, strings without a NUL */
		msg[0] = (uint8_t)g_rand_int_range(rand, 0, 8);
		msg[1] = (uint8_t)g_rand_int_range(rand, 0, 7);
		fill_random(rand, msg + 4, 16);
		fill_random(rand, msg + K_KEY, (size_t)g_rand_int_range(rand, 0, 513));
		fill_random(rand, msg + K_VALUE, (size_t)g_rand_int_range(rand, 0, 2049));
		if (g_rand_boolean(rand))
			len = (size_t)g_rand_int_range(rand, 1, VMU_KVP_MSG_SIZE);
		break;
	default: /* a valid SET, GET or DELETE with bytes flipped */
		msg[0] = (uint8_t)g_rand_int_range(rand, VMU_KVP_OP_GET, VMU_KVP_OP_DELETE + 1);
		msg[1] = (uint8_t)g_rand_int_range(rand, 0, 5);
		{
			g_autofree char *key = g_strdup_printf("key-%u", i % 50);
			size_t off = msg[0] == VMU_KVP_OP_DELETE ? 4 : K_KEY_SIZE;
			size_t key_off = msg[0] == VMU_KVP_OP_DELETE ? 8 : K_KEY;

			vmu_put_le32(msg + off, (uint32_t)put_ascii16(msg + key_off, key));
			if (msg[0] == VMU_KVP_OP_SET) {
				vmu_put_le32(msg + 4, 1); /* REG_SZ */
				vmu_put_le32(msg + K_VALUE_SIZE,
					     (uint32_t)put_ascii16(msg + K_VALUE, "value"));
			}
		}
		flip_some(rand, msg, 1040);
		break;
	}
	return len;
}

static void test_kvp_raw(struct fixture *f, gconstpointer data)
{
	g_autofree uint8_t *msg = g_malloc(HVSIM_RAW_MAX);
	struct hvsim_result r;

	for (unsigned i = 0; i < KVP_MESSAGES; i++)
		send_one(f, VMU_SERVICE_KVP, msg, kvp_hostile(f->rand, i, msg));
	g_test_message("%u hostile KVP messages: %u answered S_OK, %u an error", KVP_MESSAGES,
		       f->answered_ok, f->answered_fail);
	g_assert_cmpuint(f->answered_ok + f->answered_fail, ==, KVP_MESSAGES);
	g_assert_cmpuint(f->answered_fail, >, 0); /* the malformed ones were refused */
	assert_daemon_alive(f);
	/* none of them cost a reconnect: all of them reached the daemon */
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "reopening"), ==, 0);
	/* still serving valid requests, the auto pool included */
	g_assert_cmpint(hvsim_kvp_set(f->sim, VMU_KVP_POOL_GUEST, "after", "fine", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpint(hvsim_kvp_get(f->sim, VMU_KVP_POOL_GUEST, "after", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.value, ==, "fine");
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_AUTO, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_cmpstr(r.key, ==, "FullyQualifiedDomainName");
}

/* ---------------------------------------------------------------- fcopy */

static void fcopy_setup(struct fixture *f, gconstpointer data)
{
	bool uio = GPOINTER_TO_INT(data);
	g_autofree char *config = NULL;

	f->rand = g_rand_new_with_seed(SEED);
	f->env = test_env_new(VMU_SERVICE_FCOPY, NULL);
	f->dest = g_build_filename(f->env->dir, "dest", NULL);
	f->sysfs = g_build_filename(f->env->dir, "sys", NULL);
	f->dev_dir = g_build_filename(f->env->dir, "devices", NULL);
	g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
	/* not root: the files are ours (root, the default owner, cannot be given away to) */
	config = g_strdup_printf("transport=%s\nsysfs-root=%s\nuio-dev-dir=%s\n"
				 "profile=untrusted-host\nallowed-roots=%s\n"
				 "file-owner=%u\nfile-group=%u\n",
				 uio ? "uio" : "chardev", f->sysfs, f->dev_dir, f->dest,
				 (unsigned)getuid(), (unsigned)getgid());
	test_env_write_config(f->env, config);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	if (uio)
		g_assert_cmpint(hvsim_listen_uio(f->sim, f->sysfs, f->dev_dir, 0), ==, 0);
	else
		g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_FCOPY, f->env->socket_path), ==,
				0);
	hvsim_set_host_timeout(f->sim, 20 * SEC);
	f->daemon = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
}

/* One hostile fcopy message of the kind i % 3 into msg; returns its length. */
static size_t fcopy_hostile(struct fixture *f, unsigned i, uint8_t *msg)
{
	GRand *rand = f->rand;
	size_t len;

	memset(msg, 0, HVSIM_RAW_MAX);
	switch (i % 3) {
	case 0: /* random bytes, random length (as in case 1) */
		len = (size_t)g_rand_int_range(rand, 0, VMU_FCOPY_WRITE_SIZE - VMU_ICMSG_HDR_SIZE);
		fill_random(rand, msg, len);
		break;
	case 1: /* an op, in range or not, with random fields and a random length; short of
		 * what costs a reconnect (see over_long below), which is tested once on its own */
		vmu_put_le32(msg, (uint32_t)g_rand_int_range(rand, 0, 8));
		len = (size_t)g_rand_int_range(rand, 4, VMU_FCOPY_WRITE_SIZE - VMU_ICMSG_HDR_SIZE);
		fill_random(rand, msg + 4, len - 4);
		break;
	default: { /* a valid START into the allowed tree, WRITE, COMPLETE or CANCEL, half of
		    * them with bytes flipped */
		g_autofree char *name = g_strdup_printf("f%u", i % 7);
		uint32_t op = (uint32_t)g_rand_int_range(rand, 0, 4);

		vmu_put_le32(msg, op);
		if (op == VMU_FCOPY_OP_START) {
			put_ascii16(msg + F_FILE_NAME, name);
			put_ascii16(msg + F_PATH_NAME, f->dest);
			vmu_put_le32(msg + F_FLAGS, (uint32_t)g_rand_int_range(rand, 0, 4));
			vmu_put_le64(msg + F_FILE_SIZE, (uint64_t)g_rand_int_range(rand, 0, 20000));
			len = VMU_FCOPY_START_SIZE;
			if (g_rand_boolean(rand))
				flip_some(rand, msg + F_FLAGS, 4);
		} else if (op == VMU_FCOPY_OP_WRITE) {
			vmu_put_le64(msg + 40, (uint64_t)g_rand_int_range(rand, 0, 20000));
			vmu_put_le32(msg + 48, (uint32_t)g_rand_int_range(rand, 0, 7000));
			len = VMU_FCOPY_WRITE_SIZE;
			if (g_rand_boolean(rand))
				flip_some(rand, msg + 40, 12);
		} else {
			len = 4 + (size_t)g_rand_int_range(rand, 0, 64);
			fill_random(rand, msg + 4, len - 4);
		}
		break;
	}
	}
	return len;
}

static void test_fcopy_raw(struct fixture *f, gconstpointer data)
{
	g_autofree uint8_t *msg = g_malloc(HVSIM_RAW_MAX);
	g_autofree char *src = g_build_filename(f->env->dir, "src", NULL);
	g_autofree char *dst = g_build_filename(f->dest, "after", NULL);
	g_autofree char *got = NULL;
	struct hvsim_result r;
	unsigned answered;
	GDir *dir;
	const char *n;

	g_assert_true(g_file_set_contents(src, "after the storm", -1, NULL));
	for (unsigned i = 0; i < FCOPY_MESSAGES; i++)
		send_one(f, VMU_SERVICE_FCOPY, msg, fcopy_hostile(f, i, msg));
	g_test_message("%u hostile fcopy messages: %u answered S_OK, %u an error", FCOPY_MESSAGES,
		       f->answered_ok, f->answered_fail);
	g_assert_cmpuint(f->answered_ok + f->answered_fail, ==, FCOPY_MESSAGES);
	g_assert_cmpuint(f->answered_fail, >, 0);
	assert_daemon_alive(f);
	/* none of them cost a reconnect: all of them reached the daemon */
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "reopening"), ==, 0);
	/* The longest message the kernel hands on: a CANCEL as long as its receive buffer
	 * allows (it forwards COMPLETE and CANCEL with the whole packet's length). The daemon
	 * reads it whole and answers it like any CANCEL, without reopening the device (before,
	 * its 6,196-byte read failed with EINVAL and it reconnected). */
	answered = f->answered_ok + f->answered_fail;
	memset(msg, 0xa5, HVSIM_RAW_MAX);
	vmu_put_le32(msg, VMU_FCOPY_OP_CANCEL);
	send_one(f, VMU_SERVICE_FCOPY, msg, HVSIM_RAW_MAX); /* handed on as 8,192 bytes */
	g_assert_cmpuint(f->answered_ok + f->answered_fail, ==, answered + 1);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "reopening"), ==, 0);
	assert_daemon_alive(f);
	/* a copy in progress, if any, is dropped by the next START; this one works */
	g_assert_cmpint(hvsim_fcopy_file(f->sim, src, f->dest, "after", 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_true(g_file_get_contents(dst, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, "after the storm");
	/* nothing was written outside the allowed tree: the test directory holds only what the
	 * test and the daemon's own files put there */
	dir = g_dir_open(f->env->dir, 0, NULL);
	g_assert_nonnull(dir);
	while ((n = g_dir_read_name(dir)))
		g_assert_true(g_str_equal(n, "dest") || g_str_equal(n, "src") ||
			      g_str_equal(n, "sys") || g_str_equal(n, "devices") ||
			      g_str_equal(n, "state") || g_str_equal(n, "run") ||
			      g_str_equal(n, "hvguest.conf") || g_str_equal(n, "fcopy.sock") ||
			      g_str_has_prefix(n, "hv-fcopyd."));
	g_dir_close(dir);
	assert_daemon_alive(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_daemon_set_parent_death_signal(SIGKILL); /* a failed test leaves no daemon behind */
	g_test_add("/hostile/kvp-raw", struct fixture, NULL, kvp_setup, test_kvp_raw,
		   fixture_teardown);
	g_test_add("/hostile/fcopy-raw/chardev", struct fixture, GINT_TO_POINTER(0), fcopy_setup,
		   test_fcopy_raw, fixture_teardown);
	g_test_add("/hostile/fcopy-raw/uio", struct fixture, GINT_TO_POINTER(1), fcopy_setup,
		   test_fcopy_raw, fixture_teardown);
	return g_test_run();
}
