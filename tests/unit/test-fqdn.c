/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit: fqdn.c's check timer keeps firing. A host name changed after the timer's first run
 * must be noticed by the timer alone (nobody calls fqdn_check() here), and again after
 * that. Runs in private UTS and network namespaces (root only, else skipped): the host
 * name can change without touching the machine's, and resolving it fails fast.
 */
#include <glib.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemons/kvp/fqdn.h"

#define MSEC UINT64_C(1000)

static bool in_private_ns;

static void set_host(const char *name)
{
	g_assert_cmpint(sethostname(name, strlen(name)), ==, 0);
}

/* Runs the loop until fqdn_get() starts with prefix, at most usec; true if it did. */
static bool run_until(sd_event *e, struct fqdn *f, const char *prefix, uint64_t usec)
{
	gint64 end = g_get_monotonic_time() + (gint64)usec;

	while (!g_str_has_prefix(fqdn_get(f), prefix)) {
		gint64 now = g_get_monotonic_time();

		if (now >= end)
			return false;
		g_assert_cmpint(sd_event_run(e, (uint64_t)(end - now)), >=, 0);
	}
	return true;
}

static void run_for(sd_event *e, uint64_t usec)
{
	gint64 end = g_get_monotonic_time() + (gint64)usec;

	for (gint64 now; (now = g_get_monotonic_time()) < end;)
		g_assert_cmpint(sd_event_run(e, (uint64_t)(end - now)), >=, 0);
}

static void test_check_timer_repeats(void)
{
	const uint64_t check = 100 * MSEC;
	sd_event *e = NULL;
	struct fqdn *f = NULL;

	if (!in_private_ns) {
		g_test_skip("needs root for private UTS and network namespaces");
		return;
	}
	set_host("hvguest-fqdn-a");
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	g_assert_cmpint(fqdn_new(e, check, 3600 * 1000 * MSEC, NULL, NULL, &f), ==, 0);
	g_assert_true(run_until(e, f, "hvguest-fqdn-a", 2000 * MSEC));
	/* Past the timer's first run: only a re-armed timer sees what follows. */
	run_for(e, 3 * check + check / 2);
	set_host("hvguest-fqdn-b");
	g_assert_true(run_until(e, f, "hvguest-fqdn-b", 3 * check));
	set_host("hvguest-fqdn-c");
	g_assert_true(run_until(e, f, "hvguest-fqdn-c", 3 * check));
	fqdn_free(f);
	sd_event_unref(e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	in_private_ns = geteuid() == 0 && unshare(CLONE_NEWUTS | CLONE_NEWNET) == 0;
	g_test_add_func("/fqdn/check-timer-repeats", test_check_timer_repeats);
	return g_test_run();
}
