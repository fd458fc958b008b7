/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemons/kvp/netinfo.c against real interfaces.
 *
 * Everything happens in a network namespace this process creates (unshare(CLONE_NEWNET))
 * before it touches any link; the machine's own interfaces are never seen or changed. Links
 * are ifb devices (Ethernet-like, carrier when up) made with iproute2's `ip -batch` (tests only). Needs root: without it
 * (or without CAP_SYS_ADMIN for unshare) every case is skipped with the reason.
 *
 * Topology (created in this order, so ifindex order is eth2 < eth10 < eth1 < docker0 < ...):
 *   eth2    203.0.113.5/28                      default via 203.0.113.1 metric 200
 *   eth10   198.51.100.10/25, 2001:db8:10::10/48 default via 198.51.100.1 metric 300,
 *                                                default via 2001:db8:10::1 metric 500
 *   eth1    192.0.2.10/24, 192.0.2.11/24 (secondary), 2001:db8:1::10/64, fe80::10/64
 *           default via 192.0.2.1 metric 100, default via 2001:db8:1::1 metric 100
 *   docker0 172.17.0.1/16; vethab12 10.200.0.1/24; lo up (127.0.0.1, ::1)
 * Automatic IPv6 link-local addresses are off (addrgenmode none) so the lists are exact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemons/kvp/netinfo.h"
#include "tests/sandbox.h"

#define ETH1_MAC "00:15:5D:01:02:03"

static const char *skip_reason;
static char *tmpdir;

static void run_ip_batch(const char *commands)
{
	g_autofree char *path = g_build_filename(tmpdir, "ip.batch", NULL);
	g_autofree char *ip = g_find_program_in_path("ip");
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	int status = 0;

	if (!ip)
		ip = g_strdup(g_file_test("/usr/sbin/ip", G_FILE_TEST_EXISTS) ? "/usr/sbin/ip"
									      : "/sbin/ip");
	g_assert_true(g_file_set_contents(path, commands, -1, &error));
	{
		const char *argv[] = {ip, "-batch", path, NULL};

		g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
					   NULL, &err, &status, &error));
	}
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("ip -batch failed: %s\n%s", err, commands);
}

static const char base_topology[] = "link set lo up\n"
				    "link add eth2 address 00:15:5d:0a:0b:0c type ifb\n"
				    "link set eth2 addrgenmode none\n"
				    "link add eth10 address 00:15:5d:01:02:30 type ifb\n"
				    "link set eth10 addrgenmode none\n"
				    "link add eth1 address 00:15:5d:01:02:03 type ifb\n"
				    "link set eth1 addrgenmode none\n"
				    "link add docker0 type ifb\n"
				    "link set docker0 addrgenmode none\n"
				    "link add vethab12 type ifb\n"
				    "link set vethab12 addrgenmode none\n"
				    "link set eth2 up\nlink set eth10 up\nlink set eth1 up\n"
				    "link set docker0 up\nlink set vethab12 up\n"
				    "addr add 203.0.113.5/28 dev eth2\n"
				    "addr add 198.51.100.10/25 dev eth10\n"
				    "addr add 2001:db8:10::10/48 dev eth10 nodad\n"
				    "addr add 192.0.2.10/24 dev eth1\n"
				    "addr add 192.0.2.11/24 dev eth1\n"
				    "addr add 2001:db8:1::10/64 dev eth1 nodad\n"
				    "addr add fe80::10/64 dev eth1 nodad\n"
				    "addr add 172.17.0.1/16 dev docker0\n"
				    "addr add 10.200.0.1/24 dev vethab12\n"
				    "route add default via 192.0.2.1 dev eth1 metric 100\n"
				    "route add default via 203.0.113.1 dev eth2 metric 200\n"
				    "route add default via 198.51.100.1 dev eth10 metric 300\n"
				    "route add default via 2001:db8:1::1 dev eth1 metric 100\n"
				    "route add default via 2001:db8:10::1 dev eth10 metric 500\n";

static bool skip_if_needed(void)
{
	if (skip_reason)
		g_test_skip(skip_reason);
	return skip_reason != NULL;
}

static struct netinfo *new_netinfo(const struct netinfo_config *cfg)
{
	struct netinfo *ni = NULL;

	g_assert_cmpint(netinfo_new(cfg, &ni), ==, 0);
	g_assert_nonnull(ni);
	return ni;
}

static char *list_of(const struct netinfo_config *cfg, int family, size_t *ret_left_out)
{
	struct netinfo *ni = new_netinfo(cfg);
	char *list = NULL;

	g_assert_cmpint(netinfo_address_list(ni, family, &list, ret_left_out), ==, 0);
	netinfo_free(ni);
	return list;
}

static void test_default_filter_and_order(void)
{
	g_autofree char *v4 = NULL, *v6 = NULL;
	size_t left = 99;

	if (skip_if_needed())
		return;
	/* eth1 is primary (lowest-metric IPv4 default route) although its ifindex is the
	 * highest of the three; docker0, vethab12 and lo are excluded by default; the
	 * secondary address follows the primary one. */
	v4 = list_of(NULL, AF_INET, &left);
	g_assert_cmpstr(v4, ==, "192.0.2.10;192.0.2.11;203.0.113.5;198.51.100.10");
	g_assert_cmpuint(left, ==, 0);
	/* Link-local fe80::10 and ::1 are left out by default. */
	v6 = list_of(NULL, AF_INET6, &left);
	g_assert_cmpstr(v6, ==, "2001:db8:1::10;2001:db8:10::10");
	g_assert_cmpuint(left, ==, 0);
}

static void test_link_local_included(void)
{
	struct netinfo_config cfg = {.include_link_local = true};
	g_autofree char *v6 = NULL;
	g_auto(GStrv) items = NULL;

	if (skip_if_needed())
		return;
	v6 = list_of(&cfg, AF_INET6, NULL);
	items = g_strsplit(v6, ";", -1);
	/* eth1's two addresses (kernel order: global before link-local), then eth10's. */
	g_assert_cmpuint(g_strv_length(items), ==, 3);
	g_assert_true(g_strv_contains((const char *const *)items, "fe80::10"));
	g_assert_true(g_strv_contains((const char *const *)items, "2001:db8:1::10"));
	g_assert_cmpstr(items[2], ==, "2001:db8:10::10");
	g_assert_null(strchr(v6, '%'));
}

static void test_include_exclude_globs(void)
{
	const char *const inc[] = {"eth1*", "docker*", NULL};
	const char *const exc[] = {"eth10", NULL};
	const char *const none[] = {NULL};
	const char *const only_lo[] = {"lo", NULL};
	struct netinfo_config cfg = {.include = inc, .exclude = exc};
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	if (skip_if_needed())
		return;
	/* Include eth1* catches eth10, the exclude list takes it out again; docker0 is back
	 * because the exclude list no longer names it. */
	a = list_of(&cfg, AF_INET, NULL);
	g_assert_cmpstr(a, ==, "192.0.2.10;192.0.2.11;172.17.0.1");
	/* An empty exclude list: everything, but never loopback addresses. */
	cfg = (struct netinfo_config){.exclude = none};
	b = list_of(&cfg, AF_INET, NULL);
	g_assert_cmpstr(b, ==,
			"192.0.2.10;192.0.2.11;203.0.113.5;198.51.100.10;172.17.0.1;"
			"10.200.0.1");
	cfg = (struct netinfo_config){.include = only_lo, .exclude = none};
	c = list_of(&cfg, AF_INET, NULL);
	g_assert_cmpstr(c, ==, "");
	d = list_of(&cfg, AF_INET6, NULL);
	g_assert_cmpstr(d, ==, "");
}

static void test_primary_ifindex(void)
{
	struct netinfo *ni;
	int ifindex = -1;

	if (skip_if_needed())
		return;
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_primary_ifindex(ni, &ifindex), ==, 0);
	g_assert_cmpint(ifindex, ==, (int)if_nametoindex("eth1"));
	netinfo_free(ni);
}

static void test_cap_small(void)
{
	struct netinfo_config cfg = {.max_list_chars = 21};
	g_autofree char *at = NULL, *below = NULL, *tiny = NULL;
	size_t left = 0;

	if (skip_if_needed())
		return;
	/* "192.0.2.10;192.0.2.11" is exactly 21 characters. */
	at = list_of(&cfg, AF_INET, &left);
	g_assert_cmpstr(at, ==, "192.0.2.10;192.0.2.11");
	g_assert_cmpuint(left, ==, 2);
	cfg.max_list_chars = 20;
	below = list_of(&cfg, AF_INET, &left);
	g_assert_cmpstr(below, ==, "192.0.2.10");
	g_assert_cmpuint(left, ==, 3);
	cfg.max_list_chars = 9;
	tiny = list_of(&cfg, AF_INET, &left);
	g_assert_cmpstr(tiny, ==, "");
	g_assert_cmpuint(left, ==, 4);
}

static void test_cap_many_addresses(void)
{
	const char *const inc[] = {"eth3", NULL};
	struct netinfo_config cfg = {.include = inc};
	g_autoptr(GString) batch = g_string_new("link add eth3 type ifb\n"
						"link set eth3 addrgenmode none\n"
						"link set eth3 up\n");
	g_autoptr(GString) want = g_string_new(NULL);
	g_autofree char *list = NULL;
	size_t left = 0, want_left = 0;

	if (skip_if_needed())
		return;
	for (int i = 1; i <= 150; i++) {
		g_autofree char *a = g_strdup_printf("10.10.%d.%d", i / 100, i);

		g_string_append_printf(batch, "addr add %s/32 dev eth3\n", a);
		if (want_left == 0 && want->len + (want->len ? 1 : 0) + strlen(a) <= 1022)
			g_string_append_printf(want, "%s%s", want->len ? ";" : "", a);
		else
			want_left++;
	}
	run_ip_batch(batch->str);
	list = list_of(&cfg, AF_INET, &left);
	g_assert_cmpuint(strlen(list), <=, 1022);
	g_assert_cmpuint(want_left, >, 0);
	g_assert_cmpstr(list, ==, want->str);
	g_assert_cmpuint(left, ==, want_left);
	/* It ends with a whole address. */
	{
		const char *last = strrchr(list, ';');
		struct in_addr in;

		g_assert_nonnull(last);
		g_assert_cmpint(inet_pton(AF_INET, last + 1, &in), ==, 1);
	}
	run_ip_batch("link del eth3\n");
}

static void test_parse_mac(void)
{
	const uint8_t want[6] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};
	uint8_t mac[6] = {0};
	const char *bad[] = {"",
			     "eth1",
			     "00:15:5D:01:02",
			     "00:15:5D:01:02:03:04",
			     "00:15:5D:01:02:0",
			     "00:15:5D:01:02:033",
			     "00:15-5D:01:02:03",
			     "00.15.5D.01.02.03",
			     "0:15:5D:01:02:03:",
			     "00:15:5D:01:02:0G",
			     "00155D010203",
			     " 00:15:5D:01:02:03"};

	g_assert_cmpint(netinfo_parse_mac("00:15:5D:01:02:03", mac), ==, 0);
	g_assert_cmpmem(mac, 6, want, 6);
	memset(mac, 0, sizeof(mac));
	g_assert_cmpint(netinfo_parse_mac("00:15:5d:01:02:03", mac), ==, 0);
	g_assert_cmpmem(mac, 6, want, 6);
	memset(mac, 0, sizeof(mac));
	g_assert_cmpint(netinfo_parse_mac("00-15-5d-01-02-03", mac), ==, 0);
	g_assert_cmpmem(mac, 6, want, 6);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(mac, 0xaa, sizeof(mac));
		g_assert_cmpint(netinfo_parse_mac(bad[i], mac), ==, -EINVAL);
		g_assert_cmpuint(mac[0], ==, 0xaa); /* untouched on failure */
	}
	g_assert_cmpint(netinfo_parse_mac(NULL, mac), ==, -EINVAL);
}

static void assert_eth1_info(const struct netinfo_ip_info *info)
{
	g_assert_cmpint(info->ifindex, ==, (int)if_nametoindex("eth1"));
	g_assert_cmpstr(info->ifname, ==, "eth1");
	/* Only eth1's addresses (never eth10's), IPv4 first as the kernel dumps them. */
	g_assert_cmpstr(info->ip_addr, ==, "192.0.2.10;192.0.2.11;2001:db8:1::10;fe80::10");
	g_assert_cmpstr(info->sub_net, ==, "255.255.255.0;255.255.255.0;/64;/64");
	g_assert_cmpuint(info->addr_family, ==, NETINFO_FAMILY_IPV4 | NETINFO_FAMILY_IPV6);
	/* Only eth1's default gateways, each followed by ';' like the reference. */
	g_assert_cmpstr(info->gate_way, ==, "192.0.2.1;2001:db8:1::1;");
	g_assert_cmpuint(info->left_out, ==, 0);
}

static void test_get_ip_info_forms(void)
{
	const char *forms[] = {ETH1_MAC, "00:15:5d:01:02:03", "00-15-5D-01-02-03"};
	struct netinfo *ni;

	if (skip_if_needed())
		return;
	ni = new_netinfo(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		struct netinfo_ip_info info;

		g_assert_cmpint(netinfo_get_ip_info(ni, forms[i], &info), ==, 0);
		assert_eth1_info(&info);
		g_assert_cmpstr(info.adapter_id, ==, forms[i]);
		g_assert_cmpstr(info.dns_addr, ==, "");
	}
	netinfo_free(ni);
}

static void test_get_ip_info_eth10_and_masks(void)
{
	struct netinfo *ni;
	struct netinfo_ip_info info;

	if (skip_if_needed())
		return;
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5D:01:02:30", &info), ==, 0);
	g_assert_cmpstr(info.ifname, ==, "eth10");
	g_assert_cmpstr(info.ip_addr, ==, "198.51.100.10;2001:db8:10::10");
	g_assert_cmpstr(info.sub_net, ==, "255.255.255.128;/48");
	g_assert_cmpstr(info.gate_way, ==, "198.51.100.1;2001:db8:10::1;");
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5D:0A:0B:0C", &info), ==, 0);
	g_assert_cmpstr(info.ip_addr, ==, "203.0.113.5");
	g_assert_cmpstr(info.sub_net, ==, "255.255.255.240");
	g_assert_cmpuint(info.addr_family, ==, NETINFO_FAMILY_IPV4);
	g_assert_cmpstr(info.gate_way, ==, "203.0.113.1;");
	netinfo_free(ni);
}

static void test_get_ip_info_errors(void)
{
	struct netinfo *ni;
	struct netinfo_ip_info info;

	if (skip_if_needed())
		return;
	ni = new_netinfo(NULL);
	memset(&info, 0x5a, sizeof(info));
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5D:FF:FF:FF", &info), ==, -ENODEV);
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5D:01:02", &info), ==, -EINVAL);
	g_assert_cmpint(netinfo_get_ip_info(ni, "eth1", &info), ==, -EINVAL);
	g_assert_cmpint(netinfo_collect_ip_info(ni, "00:15:5D:FF:FF:FF", &info), ==, -ENODEV);
	g_assert_cmpuint(info.addr_family, ==, 0x5a); /* untouched on failure */
	netinfo_free(ni);
}

static void test_get_ip_info_shared_mac(void)
{
	struct netinfo *ni;
	struct netinfo_ip_info info;

	if (skip_if_needed())
		return;
	/* A VF twin without addresses comes first by ifindex; the one with addresses wins. */
	run_ip_batch("link add twinvf address 00:15:5d:aa:bb:cc type ifb\n"
		     "link set twinvf addrgenmode none\n"
		     "link add twinnet address 00:15:5d:aa:bb:cc type ifb\n"
		     "link set twinnet addrgenmode none\n"
		     "link set twinvf up\nlink set twinnet up\n"
		     "addr add 100.64.0.7/10 dev twinnet\n");
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5d:aa:bb:cc", &info), ==, 0);
	g_assert_cmpstr(info.ifname, ==, "twinnet");
	g_assert_cmpstr(info.ip_addr, ==, "100.64.0.7");
	g_assert_cmpstr(info.sub_net, ==, "255.192.0.0");
	g_assert_cmpstr(info.gate_way, ==, "");
	/* Neither has an address: the first one is answered, empty. */
	run_ip_batch("addr flush dev twinnet\n");
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5d:aa:bb:cc", &info), ==, 0);
	g_assert_cmpstr(info.ifname, ==, "twinvf");
	g_assert_cmpstr(info.ip_addr, ==, "");
	g_assert_cmpuint(info.addr_family, ==, 0);
	netinfo_free(ni);
	run_ip_batch("link del twinvf\nlink del twinnet\n");
}

static void test_get_ip_info_bounds(void)
{
	g_autoptr(GString) batch =
	    g_string_new("link add eth4 address 00:15:5d:44:44:44 type ifb\n"
			 "link set eth4 addrgenmode none\nlink set eth4 up\n");
	struct netinfo *ni;
	struct netinfo_ip_info info;
	size_t n_ip;

	if (skip_if_needed())
		return;
	/* 120 addresses of 13-14 characters, 48 gateways by ECMP: far past every limit. */
	for (int i = 0; i < 120; i++)
		g_string_append_printf(batch, "addr add 10.44.%d.%d/16 dev eth4\n", i, 100 + i);
	g_string_append(batch, "route add default metric 700");
	for (int i = 0; i < 48; i++)
		g_string_append_printf(batch, " nexthop via 10.44.%d.%d dev eth4", i, 100 + i);
	g_string_append(batch, "\n");
	run_ip_batch(batch->str);
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_get_ip_info(ni, "00:15:5d:44:44:44", &info), ==, 0);
	g_assert_cmpuint(strlen(info.ip_addr), <=, 1023);
	g_assert_cmpuint(strlen(info.sub_net), <=, 1023);
	g_assert_cmpuint(strlen(info.gate_way), <=, 511);
	g_assert_true(g_str_has_suffix(info.gate_way, ";"));
	{
		g_auto(GStrv) ips = g_strsplit(info.ip_addr, ";", -1);
		g_auto(GStrv) masks = g_strsplit(info.sub_net, ";", -1);
		g_auto(GStrv) gws = g_strsplit(info.gate_way, ";", -1);
		struct in_addr in;

		n_ip = g_strv_length(ips);
		/* Addresses and masks stay paired, every item whole. */
		g_assert_cmpuint(n_ip, ==, g_strv_length(masks));
		g_assert_cmpuint(n_ip, <, 120);
		for (size_t i = 0; i < n_ip; i++) {
			g_assert_cmpint(inet_pton(AF_INET, ips[i], &in), ==, 1);
			g_assert_cmpstr(masks[i], ==, "255.255.0.0");
		}
		/* The gateway list ends with ';': the last split item is empty. */
		g_assert_cmpuint(g_strv_length(gws), <, 49);
		for (size_t i = 0; gws[i + 1]; i++)
			g_assert_cmpint(inet_pton(AF_INET, gws[i], &in), ==, 1);
		g_assert_cmpuint(info.left_out, ==, (120 - n_ip) + (49 - g_strv_length(gws)));
		/* The next address would not have fitted. */
		{
			g_autofree char *next = g_strdup_printf("10.44.%zu.%zu", n_ip, 100 + n_ip);

			g_assert_cmpuint(strlen(info.ip_addr) + 1 + strlen(next), >, 1023);
		}
	}
	netinfo_free(ni);
	run_ip_batch("link del eth4\n");
}

static char *write_script(const char *name, const char *body)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	g_assert_true(g_file_set_contents(path, body, -1, NULL));
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	return path;
}

static void test_collect_native(void)
{
	struct netinfo_config cfg = {
	    .dns = {.resolv_conf = NET_FIXTURES_DIR "/resolv/basic.conf", .bus_address = ""},
	    .dhcp = {.root = NET_FIXTURES_DIR "/root-ifupdown"},
	};
	struct netinfo *ni;
	struct netinfo_ip_info info;

	if (skip_if_needed())
		return;
	ni = new_netinfo(&cfg);
	g_assert_cmpint(netinfo_collect_ip_info(ni, ETH1_MAC, &info), ==, 0);
	assert_eth1_info(&info);
	g_assert_cmpstr(info.dns_addr, ==, "192.0.2.53;2001:db8::53;198.51.100.53;");
	/* The ifupdown fixture: `iface eth1 inet dhcp`; eth10 is static. */
	g_assert_true(info.dhcp_enabled);
	g_assert_cmpint(netinfo_collect_ip_info(ni, "00:15:5D:01:02:30", &info), ==, 0);
	g_assert_false(info.dhcp_enabled);
	netinfo_free(ni);
}

static void test_collect_scripts(void)
{
	g_autofree char *dir = NULL, *dns = NULL, *dhcp = NULL;
	struct netinfo_config cfg = {.use_scripts = true};
	struct netinfo *ni;
	struct netinfo_ip_info info;

	if (skip_if_needed())
		return;
	dir = g_build_filename(tmpdir, "scripts", NULL);
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	dns = write_script("scripts/hv_get_dns_info", "#!/bin/sh\n"
						      "[ \"$1\" = eth1 ] || exit 1\n"
						      "echo 192.0.2.53\necho ' 2001:db8::53 '\n"
						      "echo 'not an address'\necho\n");
	dhcp = write_script("scripts/hv_get_dhcp_info", "#!/bin/sh\n"
							"if [ \"$1\" = eth1 ]; then echo Enabled; "
							"else echo Disabled; fi\n");
	cfg.script_dir = dir;
	ni = new_netinfo(&cfg);
	g_assert_cmpint(netinfo_collect_ip_info(ni, ETH1_MAC, &info), ==, 0);
	assert_eth1_info(&info);
	g_assert_cmpstr(info.dns_addr, ==, "192.0.2.53;2001:db8::53;");
	g_assert_true(info.dhcp_enabled);
	g_assert_cmpint(netinfo_collect_ip_info(ni, "00:15:5D:01:02:30", &info), ==, 0);
	g_assert_cmpstr(info.dns_addr, ==, "");
	g_assert_false(info.dhcp_enabled);
	netinfo_free(ni);
	/* Scripts missing: the answer still comes, without DNS and DHCP. */
	cfg.script_dir = "/nonexistent/hypervkvpd";
	ni = new_netinfo(&cfg);
	g_assert_cmpint(netinfo_collect_ip_info(ni, ETH1_MAC, &info), ==, 0);
	assert_eth1_info(&info);
	g_assert_cmpstr(info.dns_addr, ==, "");
	g_assert_false(info.dhcp_enabled);
	netinfo_free(ni);
}

/* Runs last: it changes the default routes. */
static void test_primary_from_ipv6(void)
{
	g_autofree char *v4 = NULL;
	struct netinfo *ni;
	int ifindex = -1;

	if (skip_if_needed())
		return;
	run_ip_batch("route del default via 192.0.2.1 dev eth1\n"
		     "route del default via 203.0.113.1 dev eth2\n"
		     "route del default via 198.51.100.1 dev eth10\n"
		     "route add default via 2001:db8:10::2 dev eth10 metric 50\n");
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_primary_ifindex(ni, &ifindex), ==, 0);
	g_assert_cmpint(ifindex, ==, (int)if_nametoindex("eth10"));
	netinfo_free(ni);
	v4 = list_of(NULL, AF_INET, NULL);
	g_assert_cmpstr(v4, ==, "198.51.100.10;203.0.113.5;192.0.2.10;192.0.2.11");
	run_ip_batch("route flush table main\n"
		     "route del default via 2001:db8:1::1 dev eth1\n"
		     "route del default via 2001:db8:10::1 dev eth10\n"
		     "route del default via 2001:db8:10::2 dev eth10\n");
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_primary_ifindex(ni, &ifindex), ==, 0);
	g_assert_cmpint(ifindex, ==, 0);
	netinfo_free(ni);
}

static void test_bad_family(void)
{
	struct netinfo *ni;
	char *list = (char *)"untouched";

	if (skip_if_needed())
		return;
	ni = new_netinfo(NULL);
	g_assert_cmpint(netinfo_address_list(ni, AF_UNIX, &list, NULL), ==, -EAFNOSUPPORT);
	g_assert_cmpstr(list, ==, "untouched");
	g_assert_null(netinfo_free(ni));
	g_assert_null(netinfo_free(NULL));
}

static void setup_namespace(void)
{
	skip_reason = sandbox_enter(CLONE_NEWNET);
	if (skip_reason)
		return;
	g_autofree char *ip = g_find_program_in_path("ip");

	if (!ip && !g_file_test("/usr/sbin/ip", G_FILE_TEST_EXISTS) &&
	    !g_file_test("/sbin/ip", G_FILE_TEST_EXISTS)) {
		skip_reason = "iproute2's ip is not installed";
		return;
	}
	run_ip_batch(base_topology);
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-netinfo-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	setup_namespace();
	g_test_add_func("/netinfo/list/default-filter-and-order", test_default_filter_and_order);
	g_test_add_func("/netinfo/list/link-local-included", test_link_local_included);
	g_test_add_func("/netinfo/list/include-exclude-globs", test_include_exclude_globs);
	g_test_add_func("/netinfo/list/primary-ifindex", test_primary_ifindex);
	g_test_add_func("/netinfo/list/cap-small", test_cap_small);
	g_test_add_func("/netinfo/list/cap-many-addresses", test_cap_many_addresses);
	g_test_add_func("/netinfo/list/bad-family", test_bad_family);
	g_test_add_func("/netinfo/mac/parse", test_parse_mac);
	g_test_add_func("/netinfo/ip-info/eth1-forms", test_get_ip_info_forms);
	g_test_add_func("/netinfo/ip-info/eth10-and-masks", test_get_ip_info_eth10_and_masks);
	g_test_add_func("/netinfo/ip-info/errors", test_get_ip_info_errors);
	g_test_add_func("/netinfo/ip-info/shared-mac", test_get_ip_info_shared_mac);
	g_test_add_func("/netinfo/ip-info/bounds", test_get_ip_info_bounds);
	g_test_add_func("/netinfo/ip-info/collect-native", test_collect_native);
	g_test_add_func("/netinfo/ip-info/collect-scripts", test_collect_scripts);
	g_test_add_func("/netinfo/routes-changed/primary-from-ipv6", test_primary_from_ipv6);
	r = g_test_run();
	{
		const char *argv_rm[] = {"rm", "-rf", tmpdir, NULL};

		g_spawn_sync(NULL, (char **)argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
			     NULL, NULL, NULL);
	}
	g_free(tmpdir);
	return r;
}
