/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: SET_IP_INFO end to end, from the simulated host through the simulated kernel
 * into the real hv-kvpd, applied for real on an interface of a private network namespace
 * this test creates (root only; skipped otherwise). The adapter's VMBus device id comes from
 * a fake sysfs tree (sysfs-net-dir=); the stack is the script backend, with a
 * hv_set_ifconfig written by the test that applies the ifcfg file with ip(8) and writes the
 * test's resolv.conf, which the daemon reads back for GET_IP_INFO. Nothing leaves the
 * namespace; no path outside the test's directory is written.
 *
 * Proven here: the addresses, prefixes, default routes and DNS servers the host asked for
 * are on the interface (ip(8), i.e. rtnetlink) and in GET_IP_INFO; the ifcfg and
 * nmconnection files are byte-exact; every invalid input class is HV_INVALIDARG with
 * nothing written or run; an unknown GUID is HV_GUID_NOTFOUND; a failing script is rolled
 * back (files and live addresses as before) with HV_E_FAIL; a slow script is answered
 * HV_E_FAIL before set-ip-timeout's deadline and rolled back; the same request twice is
 * idempotent; a flood of requests leaves the daemon answering; SIGHUP during an apply is
 * harmless.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"
#define GUID_OTHER "{0e6c4d43-8b45-4f6b-bc2b-3a7a1a6e0a09}"
#define MAC "00:15:5D:00:00:01"

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
	char *dir, *sysfs, *script, *resolv, *ifcfg, *nmconn, *calls;
};

static bool in_private_netns;
static const char *skip_reason;

static char *run_ip(const char *args)
{
	g_autofree char *cmd = g_strdup_printf("ip %s", args);
	g_autofree char *err = NULL;
	char *out = NULL;
	int status;

	g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", cmd, err);
	return out;
}

static void ip(const char *args)
{
	g_free(run_ip(args));
}

/* The test's hv_set_ifconfig: what a site's script does, with ip(8). $DIR/fail makes it
 * fail once after changing the addresses; $DIR/slow makes it sleep first. */
static const char script_text[] =
    "#!/bin/sh\n"
    "D=%s\n"
    "echo \"$1 $2\" >> \"$D/calls\"\n"
    /* read by the shell itself: a child reading /proc/$$ may catch dash with every signal
     * blocked while it waits for that child (its waitproc), a false alarm */
    "while read -r k v; do [ \"$k\" = SigBlk: ] && printf '%%s\\t%%s\\n' \"$k\" \"$v\" "
    "> \"$D/sigblk\"; done < /proc/$$/status\n"
    "if [ -e \"$D/slow\" ]; then sleep \"$(cat \"$D/slow\")\"; fi\n"
    ". \"$1\" || exit 9\n"
    "ip -4 addr flush dev \"$DEVICE\" || exit 10\n"
    "ip -6 addr flush dev \"$DEVICE\" scope global || exit 11\n"
    "for i in 0 1 2 3; do\n"
    "  eval a=\\$IPADDR$i m=\\$NETMASK$i\n"
    "  if [ -n \"$a\" ]; then ip addr add \"$a/$m\" dev \"$DEVICE\" || exit 12; fi\n"
    "done\n"
    "if [ -n \"$IPV6ADDR\" ]; then\n"
    "  ip addr add \"$IPV6ADDR/$IPV6NETMASK\" dev \"$DEVICE\" nodad || exit 13\n"
    "fi\n"
    "if [ -n \"$GATEWAY\" ]; then\n"
    "  ip route replace default via \"$GATEWAY\" dev \"$DEVICE\" || exit 14\n"
    "fi\n"
    "if [ -n \"$IPV6_DEFAULTGW\" ]; then\n"
    "  ip -6 route replace default via \"$IPV6_DEFAULTGW\" dev \"$DEVICE\" || exit 15\n"
    "fi\n"
    "if [ -e \"$D/fail\" ]; then rm -f \"$D/fail\"; exit 3; fi\n"
    ": > \"$D/resolv.tmp\"\n"
    "for i in 1 2 3 4; do\n"
    "  eval d=\\$DNS$i\n"
    "  if [ -n \"$d\" ]; then echo \"nameserver $d\" >> \"$D/resolv.tmp\"; fi\n"
    "done\n"
    "mv \"$D/resolv.tmp\" \"$D/resolv.conf\"\n"
    "exit 0\n";

static void write_file(const char *path, const char *text)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void fake_sysfs_entry(struct fixture *f, const char *ifname, const char *device_id)
{
	g_autofree char *dev = g_build_filename(f->sysfs, ifname, "device", NULL);
	g_autofree char *id = g_build_filename(dev, "device_id", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
	if (device_id)
		write_file(id, device_id);
}

static void make_links(void)
{
	ip("link set lo up");
	/* ifb links: dummy is not built into every kernel these tests run on. */
	ip("link add eth0 address 00:15:5d:00:00:01 type ifb");
	ip("link set eth0 up");
	ip("addr add 192.0.2.10/24 dev eth0");
	ip("route add default via 192.0.2.1 dev eth0");
	ip("link add eth9 address 00:15:5d:00:00:09 type ifb");
	ip("link set eth9 up");
}

static void write_daemon_config(struct fixture *f, const char *extra)
{
	g_autofree char *config = g_strdup_printf(
	    "sysfs-net-dir=%s\nset-ifconfig-script=%s\nresolv-conf=%s\nuse-resolved=false\n"
	    "network-root=%s\naddress-refresh=1h\n%s",
	    f->sysfs, f->script, f->resolv, f->dir, extra ? extra : "set-ip-timeout=10s\n");

	test_env_write_config(f->env, config);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autofree char *text = NULL;

	if (!in_private_netns)
		return;
	make_links();
	f->env = test_env_new(VMU_SERVICE_KVP, NULL);
	f->dir = g_strdup(f->env->dir);
	f->sysfs = g_build_filename(f->dir, "sys", "class", "net", NULL);
	f->script = g_build_filename(f->dir, "hv_set_ifconfig", NULL);
	f->resolv = g_build_filename(f->dir, "resolv.conf", NULL);
	f->calls = g_build_filename(f->dir, "calls", NULL);
	f->ifcfg = g_build_filename(f->env->state_dir, "ifcfg-eth0", NULL);
	f->nmconn = g_build_filename(f->env->state_dir, "eth0.nmconnection", NULL);
	fake_sysfs_entry(f, "eth0", GUID "\n");
	fake_sysfs_entry(f, "eth9", "{0e6c4d43-8b45-4f6b-bc2b-3a7a1a6e0a10}\n");
	fake_sysfs_entry(f, "lo", NULL);
	write_file(f->resolv, "nameserver 192.0.2.53\n");
	text = g_strdup_printf(script_text, f->dir);
	write_file(f->script, text);
	g_assert_cmpint(chmod(f->script, 0755), ==, 0);
	write_daemon_config(f, data);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(f->sim, VMU_SERVICE_KVP, f->env->socket_path), ==, 0);
	hvsim_set_host_timeout(f->sim, 40 * SEC);
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
	if (f->daemon)
		g_assert_cmpint(test_daemon_stop(f->daemon, SIGTERM, 30000), ==, 0);
	test_daemon_free(f->daemon);
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->dir);
	g_free(f->sysfs);
	g_free(f->script);
	g_free(f->resolv);
	g_free(f->calls);
	g_free(f->ifcfg);
	g_free(f->nmconn);
	ip("link del eth0");
	ip("link del eth9");
}

#define REQUIRE_NETNS()                                                                            \
	do {                                                                                       \
		if (!in_private_netns) {                                                           \
			g_test_skip(skip_reason);                                                  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static uint32_t set_ip_full(struct fixture *f, const char *guid, uint8_t dhcp, const char *addrs,
			    const char *subnets, const char *gws, const char *dns,
			    uint64_t *ret_usec)
{
	const struct hvsim_ip_config cfg = {guid, 3, dhcp, addrs, subnets, gws, dns};
	struct hvsim_result r;

	g_assert_cmpint(hvsim_kvp_set_ip_info(f->sim, &cfg, &r), ==, 0);
	g_assert_false(r.kernel_timeout);
	if (ret_usec)
		*ret_usec = r.latency_usec;
	return r.status;
}

static uint32_t set_ip(struct fixture *f, const char *addrs, const char *subnets, const char *gws,
		       const char *dns)
{
	return set_ip_full(f, GUID, 0, addrs, subnets, gws, dns, NULL);
}

/* g_ptr_array_sort() passes pointers to the elements. */
static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "addr/prefix" of eth0's global addresses, sorted, ';'-joined (rtnetlink via ip(8)). */
static char *live_addresses(void)
{
	g_autofree char *out = run_ip("-o addr show dev eth0 scope global");
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(lines[i], " \t", -1);

		for (guint j = 0; w[j] && w[j + 1]; j++)
			if (strcmp(w[j], "inet") == 0 || strcmp(w[j], "inet6") == 0) {
				g_ptr_array_add(found, g_strdup(w[j + 1]));
				break;
			}
	}
	g_ptr_array_sort(found, compare_strings);
	g_ptr_array_add(found, NULL);
	return g_strjoinv(";", (char **)found->pdata);
}

static char *live_default_routes(void)
{
	g_autofree char *v4 = run_ip("-4 route show default dev eth0");
	g_autofree char *v6 = run_ip("-6 route show default dev eth0");

	return g_strdup_printf("%s%s", v4, v6);
}

static char *file_or_null(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static void assert_live(const char *want_addrs)
{
	g_autofree char *addrs = live_addresses();

	g_assert_cmpstr(addrs, ==, want_addrs);
}

/* ---------------------------------------------------------------- applied */

static const char golden_ifcfg[] = "HWADDR=00:15:5D:00:00:01\n"
				   "DEVICE=eth0\n"
				   "BOOTPROTO=none\n"
				   "IPADDR0=198.51.100.20\n"
				   "IPV6ADDR=2001:0db8:0005:0000:0000:0000:0000:0020\n"
				   "IPADDR1=198.51.100.21\n"
				   "NETMASK0=255.255.255.0\n"
				   "IPV6NETMASK=64\n"
				   "NETMASK1=255.255.255.128\n"
				   "GATEWAY=198.51.100.1\n"
				   "IPV6_DEFAULTGW=2001:0db8:0005:0000:0000:0000:0000:0001\n"
				   "DNS1=198.51.100.53\n"
				   "DNS2=2001:0db8:0000:0000:0000:0000:0000:0053\n";

static const char golden_nmconnection[] = "\n[connection]\n"
					  "interface-name=eth0\n"
					  "\n[ethernet]\n"
					  "mac-address=00:15:5D:00:00:01\n"
					  "\n[ipv4]\n"
					  "address1=198.51.100.20/24\n"
					  "address2=198.51.100.21/25\n"
					  "method=manual\n"
					  "gateway=198.51.100.1\n"
					  "dns=198.51.100.53\n"
					  "\n[ipv6]\n"
					  "address1=2001:db8:5::20/64\n"
					  "method=manual\n"
					  "gateway=2001:db8:5::1\n"
					  "dns=2001:db8::53\n";

#define NEW_ADDRS "198.51.100.20;2001:db8:5::20;198.51.100.21"
#define NEW_SUBNETS "255.255.255.0;64;/25"
#define NEW_GWS "198.51.100.1;2001:db8:5::1;"
#define NEW_DNS "198.51.100.53;2001:db8::53;"
#define NEW_LIVE "198.51.100.20/24;198.51.100.21/25;2001:db8:5::20/64"

static void assert_new_config_in_force(struct fixture *f)
{
	g_autofree char *routes = live_default_routes();
	g_autofree char *ifcfg = file_or_null(f->ifcfg);
	g_autofree char *nm = file_or_null(f->nmconn);
	struct hvsim_result r;
	struct stat st;

	assert_live(NEW_LIVE);
	g_assert_nonnull(strstr(routes, "default via 198.51.100.1 "));
	g_assert_nonnull(strstr(routes, "default via 2001:db8:5::1 "));
	g_assert_null(strstr(routes, "192.0.2.1"));
	g_assert_cmpstr(ifcfg, ==, golden_ifcfg);
	g_assert_cmpstr(nm, ==, golden_nmconnection);
	g_assert_cmpint(stat(f->nmconn, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);

	/* The host reads it back. */
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, MAC, 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_true(g_str_has_prefix(r.ip_addr, "198.51.100.20;198.51.100.21;2001:db8:5::20"));
	g_assert_true(g_str_has_prefix(r.sub_net, "255.255.255.0;255.255.255.128;/64"));
	g_assert_nonnull(strstr(r.gate_way, "198.51.100.1;"));
	g_assert_nonnull(strstr(r.gate_way, "2001:db8:5::1;"));
	g_assert_cmpstr(r.dns_addr, ==, "198.51.100.53;2001:db8::53;");
	g_assert_cmpuint(r.addr_family, ==, 3);
}

static void test_applied(struct fixture *f, gconstpointer data)
{
	g_autofree char *sigblk_path = NULL, *sigblk = NULL;

	REQUIRE_NETNS();
	sigblk_path = g_build_filename(f->dir, "sigblk", NULL);
	assert_live("192.0.2.10/24");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_S_OK);
	assert_new_config_in_force(f);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "applied through script"), ==, 1);
	/* The script runs with no signal blocked (the daemon blocks those sd-event handles). */
	sigblk = file_or_null(sigblk_path);
	g_assert_cmpstr(sigblk, ==, "SigBlk:\t0000000000000000\n");
}

/* The same request twice: the same state, the same files, S_OK both times. An upper-case
 * GUID names the same adapter. */
static void test_idempotent(struct fixture *f, gconstpointer data)
{
	g_autofree char *routes = NULL, *routes2 = NULL;

	REQUIRE_NETNS();
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_S_OK);
	routes = live_default_routes();
	g_assert_cmphex(set_ip_full(f, "{F8615163-DF3E-46C5-913F-F2D2F965ED0E}", 0, NEW_ADDRS,
				    NEW_SUBNETS, NEW_GWS, NEW_DNS, NULL),
			==, VMU_S_OK);
	assert_new_config_in_force(f);
	routes2 = live_default_routes();
	g_assert_cmpstr(routes, ==, routes2);
}

/* DHCP: the files say so (the host's IPv4 statics are not written: DHCP provides them),
 * the static IPv4 addresses go, and the request is answered S_OK. */
static void test_dhcp(struct fixture *f, gconstpointer data)
{
	g_autofree char *ifcfg = NULL, *nm = NULL;

	REQUIRE_NETNS();
	g_assert_cmphex(
	    set_ip_full(f, GUID, 1, "198.51.100.20", "24", "198.51.100.1", "198.51.100.53", NULL),
	    ==, VMU_S_OK);
	ifcfg = file_or_null(f->ifcfg);
	nm = file_or_null(f->nmconn);
	g_assert_cmpstr(
	    ifcfg, ==,
	    "HWADDR=00:15:5D:00:00:01\nDEVICE=eth0\nBOOTPROTO=dhcp\nDNS1=198.51.100.53\n");
	g_assert_cmpstr(nm, ==,
			"\n[connection]\ninterface-name=eth0\n\n[ethernet]\n"
			"mac-address=00:15:5D:00:00:01\n\n[ipv4]\nmethod=auto\ndns=198.51.100.53\n"
			"\n[ipv6]\nmethod=auto\n");
	assert_live("");
}

/* ---------------------------------------------------------------- refused */

static void assert_untouched(struct fixture *f)
{
	g_autofree char *resolv = file_or_null(f->resolv);
	g_autofree char *routes = live_default_routes();

	g_assert_false(g_file_test(f->ifcfg, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->nmconn, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->calls, G_FILE_TEST_EXISTS)); /* the script never ran */
	assert_live("192.0.2.10/24");
	g_assert_nonnull(strstr(routes, "default via 192.0.2.1 "));
	g_assert_cmpstr(resolv, ==, "nameserver 192.0.2.53\n");
}

static void test_invalid(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *addrs, *subnets, *gws, *dns;
	} bad[] = {
	    {"198.51.100.300", "24", "", ""},                  /* not an address */
	    {"198.51.100.20", "255.0.255.0", "", ""},          /* not a contiguous mask */
	    {"198.51.100.20", "33", "", ""},                   /* prefix out of range */
	    {"2001:db8::20", "129", "", ""},                   /* IPv6 prefix out of range */
	    {"198.51.100.20;198.51.100.21", "24", "", ""},     /* count mismatch */
	    {"198.51.100.20;;198.51.100.21", "24;24", "", ""}, /* empty item inside */
	    {"198.51.100.20", "24", "gateway", ""},            /* bad gateway */
	    {"198.51.100.20", "24", "", "8.8.8.8;x"},          /* bad DNS */
	    {"224.0.0.5", "24", "", ""},                       /* multicast */
	    {"198.51.100.20;198.51.100.20", "24;24", "", ""},  /* duplicate */
	    {"2001:db8::20", "64", "198.51.100.1", ""},        /* IPv4 gateway, no IPv4 */
	    {"198.51.100.20 198.51.100.21", "24", "", ""},     /* wrong separator */
	    {"198.51.100.\uff12\uff10", "24", "", ""},         /* not ASCII (fullwidth digits) */
	};
	g_autofree char *many = NULL;
	GString *s = g_string_new(NULL);

	REQUIRE_NETNS();
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmphex(set_ip(f, bad[i].addrs, bad[i].subnets, bad[i].gws, bad[i].dns), ==,
				VMU_INVALIDARG);
	/* Too many items. */
	for (unsigned i = 0; i < 20; i++)
		g_string_append_printf(s, "10.0.%u.1;", i);
	many = g_string_free(s, FALSE);
	g_assert_cmphex(set_ip(f, "198.51.100.20", "24", "", many), ==, VMU_INVALIDARG);
	/* Not a GUID; DHCP flag out of range. */
	g_assert_cmphex(set_ip_full(f, "eth0", 0, "198.51.100.20", "24", "", "", NULL), ==,
			VMU_INVALIDARG);
	g_assert_cmphex(set_ip_full(f, GUID, 2, "198.51.100.20", "24", "", "", NULL), ==,
			VMU_INVALIDARG);
	/* An unknown adapter. */
	g_assert_cmphex(set_ip_full(f, GUID_OTHER, 0, "198.51.100.20", "24", "", "", NULL), ==,
			VMU_GUID_NOTFOUND);
	assert_untouched(f);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "SET_IP_INFO refused, nothing changed"),
			 >=, 10);
}

/* ---------------------------------------------------------------- rolled back */

static void touch(struct fixture *f, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);

	write_file(path, text);
}

static void test_failing_script(struct fixture *f, gconstpointer data)
{
	g_autofree char *ifcfg = NULL, *nm = NULL, *ifcfg2 = NULL, *nm2 = NULL, *routes = NULL;

	REQUIRE_NETNS();
	/* First time: no files before, the old addresses only live. */
	touch(f, "fail", "");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_E_FAIL);
	g_assert_false(g_file_test(f->ifcfg, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->nmconn, G_FILE_TEST_EXISTS));
	assert_live("192.0.2.10/24");
	routes = live_default_routes();
	g_assert_nonnull(strstr(routes, "default via 192.0.2.1 "));
	g_assert_null(strstr(routes, "198.51.100.1"));
	g_assert_null(strstr(routes, "2001:db8:5::1"));

	/* With a configuration of ours in force: the files come back byte for byte and the
	 * script re-applies them. */
	g_assert_cmphex(set_ip(f, "203.0.113.5", "24", "203.0.113.1", "203.0.113.53"), ==,
			VMU_S_OK);
	assert_live("203.0.113.5/24");
	ifcfg = file_or_null(f->ifcfg);
	nm = file_or_null(f->nmconn);
	touch(f, "fail", "");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_E_FAIL);
	ifcfg2 = file_or_null(f->ifcfg);
	nm2 = file_or_null(f->nmconn);
	g_assert_cmpstr(ifcfg, ==, ifcfg2);
	g_assert_cmpstr(nm, ==, nm2);
	assert_live("203.0.113.5/24");
	g_free(routes);
	routes = live_default_routes();
	g_assert_nonnull(strstr(routes, "default via 203.0.113.1 "));
	g_assert_null(strstr(routes, "198.51.100.1"));
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "exited with status 3"), ==, 2);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "previous configuration restored"), ==,
			 2);
}

/* A script slower than set-ip-timeout: the host hears HV_E_FAIL by the deadline, the script
 * is stopped and everything rolled back; then the daemon serves on. */
static void test_slow_script(struct fixture *f, gconstpointer data)
{
	uint64_t usec = 0;
	struct hvsim_result r;

	REQUIRE_NETNS();
	touch(f, "slow", "5");
	g_assert_cmphex(set_ip_full(f, GUID, 0, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS, &usec),
			==, VMU_E_FAIL);
	g_assert_cmpuint(usec, >=, 900 * 1000);
	g_assert_cmpuint(usec, <, 3 * SEC);
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, MAC, 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	for (int i = 0; i < 100 && test_daemon_log_count(f->daemon, "SET_IP_INFO not applied") == 0;
	     i++)
		g_usleep(100 * 1000);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "SET_IP_INFO not applied"), ==, 1);
	g_assert_false(g_file_test(f->ifcfg, G_FILE_TEST_EXISTS));
	assert_live("192.0.2.10/24");
	/* and the next request goes through */
	touch(f, "slow", "0");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_S_OK);
	assert_new_config_in_force(f);
}

/* A request while the previous one, answered at its deadline, is still being rolled back
 * (the restore re-runs the slow script): answered HV_E_FAIL at once, nothing else done. */
static void test_busy(struct fixture *f, gconstpointer data)
{
	g_autofree char *ifcfg = NULL, *ifcfg2 = NULL;
	uint64_t usec = 0;

	REQUIRE_NETNS();
	g_assert_cmphex(set_ip(f, "203.0.113.5", "24", "203.0.113.1", "203.0.113.53"), ==,
			VMU_S_OK);
	ifcfg = file_or_null(f->ifcfg);
	touch(f, "slow", "3");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_E_FAIL);
	g_assert_cmphex(set_ip_full(f, GUID, 0, "198.51.100.99", "24", "", "", &usec), ==,
			VMU_E_FAIL);
	g_assert_cmpuint(usec, <, 500 * 1000);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "still being rolled back"), ==, 1);
	for (int i = 0; i < 150 && test_daemon_log_count(f->daemon, "SET_IP_INFO not applied") == 0;
	     i++)
		g_usleep(100 * 1000);
	touch(f, "slow", "0");
	ifcfg2 = file_or_null(f->ifcfg);
	g_assert_cmpstr(ifcfg, ==, ifcfg2);
	assert_live("203.0.113.5/24");
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_S_OK);
	assert_new_config_in_force(f);
}

/* ---------------------------------------------------------------- robustness */

static void test_flood(struct fixture *f, gconstpointer data)
{
	struct hvsim_result r;
	unsigned ok = 0, invalid = 0;

	REQUIRE_NETNS();
	for (unsigned i = 0; i < 300; i++) {
		g_autofree char *addr = g_strdup_printf("198.51.100.%u", 20 + i % 2);
		uint32_t st;

		if (i % 10 == 0)
			st = set_ip(f, addr, "24", "198.51.100.1", "198.51.100.53");
		else if (i % 10 == 5)
			st = set_ip_full(f, GUID_OTHER, 0, addr, "24", "", "", NULL);
		else
			st = set_ip(f, addr, i % 2 ? "24;24" : "0", "", "");
		if (st == VMU_S_OK)
			ok++;
		else if (st == VMU_INVALIDARG)
			invalid++;
		else
			g_assert_cmphex(st, ==, VMU_GUID_NOTFOUND);
	}
	g_assert_cmpuint(ok, ==, 30);
	g_assert_cmpuint(invalid, ==, 240);
	/* the last valid one (i = 290: .20) is in force, and GET answers */
	assert_live("198.51.100.20/24");
	g_assert_cmpint(hvsim_kvp_get_ip_info(f->sim, MAC, 3, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
	g_assert_true(g_str_has_prefix(r.ip_addr, "198.51.100.20"));
	g_assert_cmpint(hvsim_kvp_set(f->sim, VMU_KVP_POOL_GUEST, "k", "v", &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
}

struct hup {
	pid_t pid;
	unsigned n;
};

static void *send_hups(void *p)
{
	struct hup *h = p;

	for (unsigned i = 0; i < h->n; i++) {
		g_usleep(200 * 1000);
		kill(h->pid, SIGHUP);
	}
	return NULL;
}

/* SIGHUP while the worker applies: reloads go through, the request completes. */
static void test_reload_during_apply(struct fixture *f, gconstpointer data)
{
	struct hup h;
	pthread_t t;

	REQUIRE_NETNS(); /* before f->daemon is read: there is none when skipping */
	h = (struct hup){f->daemon->pid, 5};
	touch(f, "slow", "2");
	g_assert_cmpint(pthread_create(&t, NULL, send_hups, &h), ==, 0);
	g_assert_cmphex(set_ip(f, NEW_ADDRS, NEW_SUBNETS, NEW_GWS, NEW_DNS), ==, VMU_S_OK);
	g_assert_cmpint(pthread_join(t, NULL), ==, 0);
	touch(f, "slow", "0");
	assert_new_config_in_force(f);
	g_assert_cmpuint(test_daemon_log_count(f->daemon, "eloaded"), >=, 1);
}

#define ADD(path, fn, data)                                                                        \
	g_test_add(path, struct fixture, data, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_autofree char *ip_path = g_find_program_in_path("ip");

	g_test_init(&argc, &argv, NULL);
	/* Everything below happens in a network namespace of our own: the daemon inherits it. */
	skip_reason = ip_path ? sandbox_enter(CLONE_NEWNET) : "iproute2's ip is not installed";
	in_private_netns = !skip_reason;
	ADD("/kvpd/setip/applied", test_applied, NULL);
	ADD("/kvpd/setip/idempotent", test_idempotent, NULL);
	ADD("/kvpd/setip/dhcp", test_dhcp, NULL);
	ADD("/kvpd/setip/invalid", test_invalid, NULL);
	ADD("/kvpd/setip/failing-script", test_failing_script, NULL);
	ADD("/kvpd/setip/slow-script", test_slow_script, "set-ip-timeout=1s\n");
	ADD("/kvpd/setip/busy", test_busy, "set-ip-timeout=1s\n");
	ADD("/kvpd/setip/flood", test_flood, NULL);
	ADD("/kvpd/setip/reload-during-apply", test_reload_during_apply, NULL);
	return g_test_run();
}
