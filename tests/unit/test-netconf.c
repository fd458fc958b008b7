/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the SET_IP_INFO core's pure parts (daemons/kvp/netconf.c,
 * netconf-script.c): backend choice, interface-name checks, the adapter lookup's sysfs side
 * (a fake tree; the netlink side is covered by tests/integration/test-kvpd-setip) and the
 * script backend's two files for DHCP and IPv6-only requests, byte for byte.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemons/kvp/netconf.h"

#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"

static struct netconf *parse(uint8_t dhcp, const char *ip, const char *sub, const char *gw,
			     const char *dns)
{
	const struct netconf_request r = {GUID, 3, dhcp, ip, sub, gw, dns};
	struct netconf *n = g_new0(struct netconf, 1);

	g_assert_cmpint(netconf_parse(&r, n, NULL, 0), ==, 0);
	snprintf(n->target.ifname, sizeof(n->target.ifname), "eth0");
	snprintf(n->target.mac_text, sizeof(n->target.mac_text), "00:15:5D:AA:BB:CC");
	n->target.ifindex = 2;
	return n;
}

static void test_choose_backend(void)
{
	struct netconf_env env = {.script_path = NULL};
	struct netconf_target t = {.ifname = "eth0", .ifindex = 2};
	const struct netconf_backend *b = NULL;

	g_assert_true(netconf_backend_lookup("script") == &netconf_backend_script);
	g_assert_null(netconf_backend_lookup("nonsense"));
	g_assert_null(netconf_backend_lookup(NULL));
	g_assert_cmpint(netconf_choose_backend(&env, "nonsense", &t, &b), ==, -EOPNOTSUPP);
	/* "auto" takes the script when one is configured, before any stack */
	env.script_path = "/usr/libexec/hypervkvpd/hv_set_ifconfig";
	g_assert_cmpint(netconf_choose_backend(&env, "auto", &t, &b), ==, 0);
	g_assert_true(b == &netconf_backend_script);
	g_assert_cmpint(netconf_choose_backend(&env, NULL, &t, &b), ==, 0);
	g_assert_true(b == &netconf_backend_script);
	g_assert_cmpint(netconf_choose_backend(&env, "script", &t, &b), ==, 0);
	g_assert_true(b == &netconf_backend_script);
	/* the names offered are "auto" and the backends */
	g_assert_cmpstr(netconf_backend_names[0], ==, "auto");
	for (size_t i = 1; netconf_backend_names[i]; i++) {
		const struct netconf_backend *nb = netconf_backend_lookup(netconf_backend_names[i]);

		if (nb)
			g_assert_cmpstr(nb->name, ==, netconf_backend_names[i]);
	}
}

static void test_ifname_valid(void)
{
	static const char *const good[] = {"eth0", "enp0s1", "a",
					   "x.10", "br_0-1", "abcdefghijklmno"};
	static const char *const bad[] = {
	    "", ".", "..", "eth0/x", "eth 0", "abcdefghijklmnop", "eth0\n", "ä", "eth0:1", NULL};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
		g_assert_true(netconf_ifname_valid(good[i]));
	for (size_t i = 0; bad[i]; i++)
		g_assert_false(netconf_ifname_valid(bad[i]));
}

/* The sysfs side of the lookup: no entry has the GUID -> -ENODEV, a malformed GUID ->
 * -EINVAL, a missing directory -> -ENOENT; a directory entry that is not a valid name or
 * whose device_id is no GUID never matches. */
static void test_find_target_sysfs(void)
{
	g_autofree char *dir = g_dir_make_tmp("netconf-XXXXXX", NULL);
	g_autofree char *dev = g_build_filename(dir, "eth1", "device", NULL);
	g_autofree char *id = g_build_filename(dev, "device_id", NULL);
	g_autofree char *missing = g_build_filename(dir, "none", NULL);
	struct netconf_target t;

	g_assert_nonnull(dir);
	g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
	g_assert_true(g_file_set_contents(id, "not a guid\n", -1, NULL));
	g_assert_cmpint(netconf_find_target(dir, GUID, &t), ==, -ENODEV);
	g_assert_cmpint(netconf_find_target(dir, "eth1", &t), ==, -EINVAL);
	g_assert_cmpint(netconf_find_target(missing, GUID, &t), ==, -ENOENT);
	g_assert_cmpint(g_unlink(id), ==, 0);
	g_assert_cmpint(g_rmdir(dev), ==, 0);
	g_free(dev);
	dev = g_build_filename(dir, "eth1", NULL);
	g_assert_cmpint(g_rmdir(dev), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_script_files_dhcp(void)
{
	g_autofree struct netconf *n =
	    parse(1, "192.0.2.10;fd00::5", "24;64", "192.0.2.1;fd00::1", "192.0.2.53");
	g_autofree char *ifcfg = netconf_script_ifcfg_text(n);
	g_autofree char *nm = netconf_script_nmconnection_text(n);

	g_assert_cmpstr(ifcfg, ==,
			"HWADDR=00:15:5D:AA:BB:CC\nDEVICE=eth0\nBOOTPROTO=dhcp\n"
			"IPV6ADDR=fd00:0000:0000:0000:0000:0000:0000:0005\nIPV6NETMASK=64\n"
			"IPV6_DEFAULTGW=fd00:0000:0000:0000:0000:0000:0000:0001\n"
			"DNS1=192.0.2.53\n");
	g_assert_cmpstr(nm, ==,
			"\n[connection]\ninterface-name=eth0\n\n[ethernet]\n"
			"mac-address=00:15:5D:AA:BB:CC\n\n[ipv4]\nmethod=auto\ndns=192.0.2.53\n"
			"\n[ipv6]\naddress1=fd00::5/64\nmethod=manual\ngateway=fd00::1\n");
}

static void test_script_files_none(void)
{
	g_autofree struct netconf *n = parse(0, "", "", "", "");
	g_autofree char *ifcfg = netconf_script_ifcfg_text(n);
	g_autofree char *nm = netconf_script_nmconnection_text(n);

	g_assert_cmpstr(ifcfg, ==, "HWADDR=00:15:5D:AA:BB:CC\nDEVICE=eth0\nBOOTPROTO=none\n");
	g_assert_cmpstr(nm, ==,
			"\n[connection]\ninterface-name=eth0\n\n[ethernet]\n"
			"mac-address=00:15:5D:AA:BB:CC\n\n[ipv4]\nmethod=disabled\n"
			"\n[ipv6]\nmethod=auto\n");
}

static void test_script_files_numbering(void)
{
	g_autofree struct netconf *n =
	    parse(0, "10.0.0.1;fd00::1;10.0.0.2;fd00::2;10.0.0.3",
		  "8;/64;255.255.0.0;ffff:ffff:ffff:ffff:ffff::;/32",
		  "10.0.0.254;10.0.0.253;fd00::fe;fd00::fd", "fd00::53;10.0.0.53");
	g_autofree char *ifcfg = netconf_script_ifcfg_text(n);

	g_assert_cmpstr(ifcfg, ==,
			"HWADDR=00:15:5D:AA:BB:CC\nDEVICE=eth0\nBOOTPROTO=none\n"
			"IPADDR0=10.0.0.1\n"
			"IPV6ADDR=fd00:0000:0000:0000:0000:0000:0000:0001\n"
			"IPADDR1=10.0.0.2\n"
			"IPV6ADDR_1=fd00:0000:0000:0000:0000:0000:0000:0002\n"
			"IPADDR2=10.0.0.3\n"
			"NETMASK0=255.0.0.0\nIPV6NETMASK=64\nNETMASK1=255.255.0.0\n"
			"IPV6NETMASK_1=80\nNETMASK2=255.255.255.255\n"
			"GATEWAY=10.0.0.254\nGATEWAY1=10.0.0.253\n"
			"IPV6_DEFAULTGW=fd00:0000:0000:0000:0000:0000:0000:00fe\n"
			"IPV6_DEFAULTGW_1=fd00:0000:0000:0000:0000:0000:0000:00fd\n"
			"DNS1=fd00:0000:0000:0000:0000:0000:0000:0053\nDNS2=10.0.0.53\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/netconf/choose-backend", test_choose_backend);
	g_test_add_func("/netconf/ifname-valid", test_ifname_valid);
	g_test_add_func("/netconf/find-target-sysfs", test_find_target_sysfs);
	g_test_add_func("/netconf/script-files/dhcp", test_script_files_dhcp);
	g_test_add_func("/netconf/script-files/none", test_script_files_none);
	g_test_add_func("/netconf/script-files/numbering", test_script_files_numbering);
	return g_test_run();
}
