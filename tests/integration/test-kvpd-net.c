/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the network facts the host reads from hv-kvpd (GET_IP_INFO, the
 * NetworkAddressIPv4/IPv6 items), with real interfaces in a private network namespace this
 * test creates (root only), with a host name of its own (a private UTS namespace). Nothing is
 * sent on any network; the machine's own interfaces and host name are never touched. Also:
 * the address-refresh timer keeps the items the host GETs current, refresh after refresh;
 * SIGHUP swaps the filters and DNS source while the host keeps asking.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	char *resolv, *root;
};

static bool in_private_netns;
static const char *skip_reason;

static void ip(const char *args)
{
	g_autofree char *cmd = g_strdup_printf("ip %s", args);
	g_autofree char *err = NULL;
	int status;

	g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, &status, NULL));
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", cmd, err);
}

/* eth1 (primary: default routes), eth10 (a name eth1 is a prefix of), docker0 (container
 * plumbing the host must not see). */
static void make_links(void)
{
	ip("link set lo up");
	/* ifb links: dummy is not built into every kernel these tests run on. */
	ip("link add eth1 address 00:15:5d:00:00:01 type ifb");
	ip("link set eth1 up");
	ip("addr add 192.0.2.10/24 dev eth1");
	ip("addr add 2001:db8:1::10/64 dev eth1 nodad");
	ip("route add default via 192.0.2.1 dev eth1");
	ip("-6 route add default via 2001:db8:1::1 dev eth1");
	ip("link add eth10 address 00:15:5d:00:00:0a type ifb");
	ip("link set eth10 up");
	ip("addr add 198.51.100.10/25 dev eth10");
	ip("route add default via 198.51.100.1 dev eth10 metric 500");
	ip("link add docker0 type ifb");
	ip("link set docker0 up");
	ip("addr add 172.17.0.1/16 dev docker0");
}

/* DNS servers from resolv, the fixture's DHCP state, then extra (other keys). */
static void write_config_dns(struct fixture *f, const char *resolv, const char *extra)
{
	g_autofree char *config = g_strdup_printf(
	    "resolv-conf=%s\nuse-resolved=false\nnetwork-root=%s\n%s", resolv, f->root, extra);

	test_env_write_config(f->env, config);
}

static void write_config(struct fixture *f, const char *extra)
{
	write_config_dns(f, f->resolv, extra);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autofree char *ifaces = NULL;

	if (!in_private_netns)
		return;
	make_links();
	f->env = test_env_new(VMU_SERVICE_KVP, NULL);
	f->resolv = g_build_filename(f->env->dir, "resolv.conf", NULL);
	g_assert_true(g_file_set_contents(
	    f->resolv, "nameserver 192.0.2.53\nnameserver 2001:db8::53\n", -1, NULL));
	f->root = g_build_filename(f->env->dir, "root", NULL);
	ifaces = g_build_filename(f->root, "etc", "network", NULL);
	g_assert_cmpint(g_mkdir_with_parents(ifaces, 0755), ==, 0);
	g_free(ifaces);
	ifaces = g_build_filename(f->root, "etc", "network", "interfaces", NULL);
	g_assert_true(g_file_set_contents(ifaces, "auto eth1\niface eth1 inet dhcp\n", -1, NULL));
	write_config(f, "address-refresh=1h\n");
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_KVP, f->env->socket_path), ==, 0);
	hvsim_set_host_timeout(f->sim, 20 * SEC);
	f->daemon = test_daemon_start(f->env, "daemons/kvp/hv-kvpd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	if (!in_private_netns)
		return;
	if (f->daemon && g_test_failed()) {
		g_autofree char *log = test_daemon_log(f->daemon);
		g_test_message("daemon log:\n%s", log);
	}
	test_daemon_free(f->daemon);
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->resolv);
	g_free(f->root);
	ip("link del eth1");
	ip("link del eth10");
	ip("link del docker0");
}

#define REQUIRE_NETNS()                                                                            \
	do {                                                                                       \
		if (!in_private_netns) {                                                           \
			g_test_skip(skip_reason);                                                  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static void test_get_ip_info(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	REQUIRE_NETNS();
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00:15:5D:00:00:01", 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	/* Every address of the adapter, as the host's adapter view lists them: the kernel's
	 * IPv6 link-local one too (unlike the intrinsic list), each with its mask. */
	g_assert_true(g_str_has_prefix(r.ip_addr, "192.0.2.10;2001:db8:1::10"));
	g_assert_true(g_str_has_prefix(r.sub_net, "255.255.255.0;/64"));
	g_auto(GStrv) addrs = g_strsplit(r.ip_addr, ";", -1);
	g_auto(GStrv) masks = g_strsplit(r.sub_net, ";", -1);
	g_assert_cmpuint(g_strv_length(addrs), ==, g_strv_length(masks));
	for (guint i = 2; addrs[i]; i++) {
		g_assert_true(g_str_has_prefix(addrs[i], "fe80:"));
		g_assert_cmpstr(masks[i], ==, "/64");
	}
	g_assert_cmpstr(r.gate_way, ==, "192.0.2.1;2001:db8:1::1;");
	g_assert_cmpstr(r.dns_addr, ==, "192.0.2.53;2001:db8::53;");
	g_assert_cmpuint(r.addr_family, ==, 3);
	g_assert_cmpuint(r.dhcp_enabled, ==, 1);
	g_assert_cmpstr(r.adapter_id, ==, "00:15:5D:00:00:01");
}

static void test_get_ip_info_exact_interface(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	REQUIRE_NETNS();
	/* eth10 is not eth1 (the reference's prefix match would mix them up). */
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00:15:5D:00:00:0A", 1, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_true(g_str_has_prefix(r.ip_addr, "198.51.100.10"));
	g_assert_null(strstr(r.ip_addr, "192.0.2."));
	g_assert_true(g_str_has_prefix(r.sub_net, "255.255.255.128"));
	g_assert_cmpstr(r.gate_way, ==, "198.51.100.1;");
	g_assert_cmpuint(r.dhcp_enabled, ==, 0);
	/* Lower case and dashes name the same adapter. */
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00-15-5d-00-00-0a", 1, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_true(g_str_has_prefix(r.ip_addr, "198.51.100.10"));
}

static void test_get_ip_info_unknown(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	REQUIRE_NETNS();
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00:15:5D:99:99:99", 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "not-a-mac", 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_E_FAIL);
	/* And the daemon still serves. */
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00:15:5D:00:00:01", 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
}

static void enumerate(struct fixture *f, uint32_t index, struct hvsim_result *r)
{
	g_assert_cmpint(hvsim_kvp_enumerate(f->sim, VMU_KVP_POOL_AUTO, index, r), ==, 0);
	g_assert_cmphex(r->status, ==, VMU_S_OK);
}

static void test_intrinsic_addresses(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	REQUIRE_NETNS();
	/* The primary interface first, docker0 and loopback left out, no link-local. */
	enumerate(f, 2, &r);
	g_assert_cmpstr(r.key, ==, "NetworkAddressIPv4");
	g_assert_cmpstr(r.value, ==, "192.0.2.10;198.51.100.10");
	enumerate(f, 3, &r);
	g_assert_cmpstr(r.key, ==, "NetworkAddressIPv6");
	g_assert_cmpstr(r.value, ==, "2001:db8:1::10");
	/* Addresses added later show up on the next request. */
	ip("addr add 192.0.2.11/24 dev eth1");
	enumerate(f, 2, &r);
	g_assert_cmpstr(r.value, ==, "192.0.2.10;192.0.2.11;198.51.100.10");
}

static void test_intrinsic_cap(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;
	g_auto(GStrv) parts = NULL;

	REQUIRE_NETNS();
	for (int i = 0; i < 120; i++) {
		g_autofree char *args = g_strdup_printf("addr add 10.%d.%d.%d/32 dev eth10", i / 50,
							i % 50, 100 + i % 100);
		ip(args);
	}
	enumerate(f, 2, &r);
	/* Fits the host's 1022 units and never ends in half an address. */
	g_assert_cmpuint(strlen(r.value), <=, 1022);
	g_assert_true(g_str_has_prefix(r.value, "192.0.2.10;"));
	parts = g_strsplit(r.value, ";", -1);
	g_assert_cmpuint(g_strv_length(parts), >, 60);
	for (char **p = parts; *p; p++) {
		unsigned a, b, c, d;
		g_assert_cmpint(sscanf(*p, "%u.%u.%u.%u", &a, &b, &c, &d), ==, 4);
	}
}

static void test_fqdn_follows_hostname(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;

	REQUIRE_NETNS();
	/* The name does not resolve here (no network in this namespace): the host sees the
	 * host name itself, never a resolver error text. */
	enumerate(f, 0, &r);
	g_assert_cmpstr(r.key, ==, "FullyQualifiedDomainName");
	g_test_message("FQDN reported: %s", r.value);
	g_assert_true(g_str_has_prefix(r.value, "hvguest-test-a"));
	g_assert_null(strstr(r.value, "failed"));
	/* A new host name is seen at the host's next request. */
	g_assert_cmpint(sethostname("hvguest-test-b", 14), ==, 0);
	enumerate(f, 0, &r);
	g_assert_true(g_str_has_prefix(r.value, "hvguest-test-b"));
	g_assert_cmpint(sethostname("hvguest-test-a", 14), ==, 0);
}

/* ---------------------------------------------------------------- reload and timers */

static void test_reload_keeps_serving(struct fixture *f, gconstpointer data)
{
	g_autofree char *resolv2 = NULL, *os_release = NULL, *other = NULL;
	struct hvsim_result r;

	REQUIRE_NETNS();
	resolv2 = g_build_filename(f->env->dir, "resolv2.conf", NULL);
	g_assert_true(g_file_set_contents(resolv2, "nameserver 192.0.2.54\n", -1, NULL));
	os_release = g_build_filename(f->env->dir, "os-release", NULL);
	g_assert_true(g_file_set_contents(os_release, "NAME=\"Reloaded Linux\"\n", -1, NULL));
	/* Other filters, resolv.conf and os-release: each new config is what the daemon uses. */
	other = g_strdup_printf("address-refresh=1h\nexclude-interfaces=lo;docker*;eth10\n"
				"include-interfaces=eth*\nos-release=%s\n",
				os_release);
	/* Repeated, so that ASan sees every old config freed while requests still come. */
	for (int i = 0; i < 12; i++) {
		bool alt = i % 2 == 0;

		write_config_dns(f, alt ? resolv2 : f->resolv,
				 alt ? other : "address-refresh=1h\n");
		test_daemon_reload(f->daemon, "reloaded the configuration");
		enumerate(f, 2, &r);
		g_assert_cmpstr(r.value, ==, alt ? "192.0.2.10" : "192.0.2.10;198.51.100.10");
		enumerate(f, 3, &r);
		g_assert_cmpstr(r.value, ==, "2001:db8:1::10");
		g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, "00:15:5D:00:00:01", 3, &r), ==, 0);
		g_assert_cmphex(r.status, ==, VMU_S_OK);
		g_assert_true(g_str_has_prefix(r.ip_addr, "192.0.2.10;2001:db8:1::10"));
		g_assert_cmpstr(r.dns_addr, ==, alt ? "192.0.2.54;" : "192.0.2.53;2001:db8::53;");
		enumerate(f, 5, &r);
		g_assert_cmpstr(r.key, ==, "OSName");
		if (alt)
			g_assert_cmpstr(r.value, ==, "Reloaded Linux");
		else
			g_assert_cmpstr(r.value, !=, "Reloaded Linux");
	}
	g_assert_cmpint(kill(f->daemon->pid, 0), ==, 0);
}

/* The value the host reads with GET: the daemon's last refresh, not a fresh query (unlike
 * ENUMERATE of the address items). */
static void get_auto(struct fixture *f, const char *key, struct hvsim_result *r)
{
	g_assert_cmpint(hvsim_kvp_get(f->sim, VMU_KVP_POOL_AUTO, key, r), ==, 0);
	g_assert_cmphex(r->status, ==, VMU_S_OK);
}

/* Both address items show v4 and v6 within usec (polled). */
static bool wait_addresses(struct fixture *f, const char *v4, const char *v6, uint64_t usec)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)usec;
	struct hvsim_result r4, r6;

	do {
		get_auto(f, "NetworkAddressIPv4", &r4);
		get_auto(f, "NetworkAddressIPv6", &r6);
		if (strstr(r4.value, v4) && strstr(r6.value, v6))
			return true;
		g_usleep(50 * 1000);
	} while (g_get_monotonic_time() < deadline);
	g_test_message("IPv4: %s; IPv6: %s", r4.value, r6.value);
	return false;
}

static void restart_daemon(struct fixture *f)
{
	g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 5000), ==, 0);
	g_assert_cmpint(hvsim_wait_disconnected(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	test_daemon_free(f->daemon);
	f->daemon = test_daemon_start(f->env, "daemons/kvp/hv-kvpd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
}

static void test_address_refresh_repeats(struct fixture *f, gconstpointer data)
{
	const uint64_t interval = SEC;

	REQUIRE_NETNS();
	write_config(f, "address-refresh=1s\n");
	restart_daemon(f);
	/* Past the first refresh: the timer must fire again after it. */
	g_usleep(interval + interval / 2);
	g_assert_true(wait_addresses(f, "192.0.2.10", "2001:db8:1::10", 0));
	ip("addr add 192.0.2.12/24 dev eth1");
	ip("-6 addr add 2001:db8:1::12/64 dev eth1 nodad");
	g_assert_true(wait_addresses(f, "192.0.2.12", "2001:db8:1::12", 2 * interval));
	/* And again, later: every refresh re-arms the next. */
	g_usleep(interval);
	ip("addr add 192.0.2.13/24 dev eth1");
	g_assert_true(wait_addresses(f, "192.0.2.13", "2001:db8:1::12", 2 * interval));
	/* A reload takes the new interval and the timer keeps going after it. */
	write_config(f, "address-refresh=500ms\n");
	test_daemon_reload(f->daemon, "reloaded the configuration");
	g_usleep(interval);
	ip("-6 addr add 2001:db8:1::14/64 dev eth1 nodad");
	g_assert_true(wait_addresses(f, "192.0.2.13", "2001:db8:1::14", interval));
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* Everything below happens in a network namespace of our own: the daemon inherits it. */
	g_autofree char *ip_path = g_find_program_in_path("ip");

	skip_reason =
	    ip_path ? sandbox_enter(CLONE_NEWNET | CLONE_NEWUTS) : "iproute2's ip is not installed";
	in_private_netns = !skip_reason && sethostname("hvguest-test-a", 14) == 0;
	if (!skip_reason && !in_private_netns)
		skip_reason = "sethostname() in the private UTS namespace failed";
	ADD("/kvpd/net/get-ip-info", test_get_ip_info);
	ADD("/kvpd/net/get-ip-info-exact-interface", test_get_ip_info_exact_interface);
	ADD("/kvpd/net/get-ip-info-unknown", test_get_ip_info_unknown);
	ADD("/kvpd/net/intrinsic-addresses", test_intrinsic_addresses);
	ADD("/kvpd/net/intrinsic-cap", test_intrinsic_cap);
	ADD("/kvpd/net/fqdn-follows-hostname", test_fqdn_follows_hostname);
	ADD("/kvpd/net/reload-keeps-serving", test_reload_keeps_serving);
	ADD("/kvpd/net/address-refresh-repeats", test_address_refresh_repeats);
	return g_test_run();
}
