/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of SET_IP_INFO's parser (daemons/kvp/netconf-parse.c): what valid requests
 * become (addresses, prefixes, methods, order) and that every invalid input class is
 * refused with -EINVAL or -E2BIG, a reason, and the output left untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "daemons/kvp/netconf.h"

#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"

static struct netconf_request req(const char *ip, const char *sub, const char *gw, const char *dns)
{
	return (struct netconf_request){.adapter_id = GUID,
					.addr_family = 1,
					.ip_addr = ip,
					.sub_net = sub,
					.gate_way = gw,
					.dns_addr = dns};
}

static struct netconf *parse_ok(const struct netconf_request *r)
{
	struct netconf *n = g_new0(struct netconf, 1);
	char err[256];
	int ret = netconf_parse(r, n, err, sizeof(err));

	if (ret < 0)
		g_printerr("unexpected refusal: %s\n", err);
	g_assert_cmpint(ret, ==, 0);
	return n;
}

/* A refusal: the error, a reason, and *ret untouched. */
static void parse_bad(const struct netconf_request *r, int want, const char *reason_part)
{
	struct netconf *n = g_new(struct netconf, 1);
	struct netconf *copy = g_new(struct netconf, 1);
	char err[256];

	memset(n, 0x5a, sizeof(*n));
	memcpy(copy, n, sizeof(*n));
	g_assert_cmpint(netconf_parse(r, n, err, sizeof(err)), ==, want);
	g_assert_cmpint(memcmp(n, copy, sizeof(*n)), ==, 0);
	g_assert_cmpuint(strlen(err), >, 0);
	if (reason_part && !strstr(err, reason_part)) {
		g_printerr("reason \"%s\" lacks \"%s\"\n", err, reason_part);
		g_assert_not_reached();
	}
	g_free(n);
	g_free(copy);
}

static void test_static_both_families(void)
{
	struct netconf_request r =
	    req("192.0.2.10; 2001:DB8::0:10 ;192.0.2.11", "255.255.255.0;64;/25",
		"192.0.2.1;2001:db8::1;", "192.0.2.53;2001:db8::53;");
	g_autofree struct netconf *n = parse_ok(&r);

	g_assert_cmpstr(n->target.guid, ==, GUID);
	g_assert_false(n->dhcp);
	g_assert_cmpint(n->ipv4, ==, NETCONF_METHOD_STATIC);
	g_assert_cmpint(n->ipv6, ==, NETCONF_METHOD_STATIC);
	g_assert_cmpuint(n->n_addrs, ==, 3);
	g_assert_cmpstr(n->addrs[0].text, ==, "192.0.2.10");
	g_assert_cmpint(n->addrs[0].family, ==, AF_INET);
	g_assert_cmpuint(n->addrs[0].prefix, ==, 24);
	g_assert_cmpstr(n->addrs[1].text, ==, "2001:db8::10"); /* canonical */
	g_assert_cmpint(n->addrs[1].family, ==, AF_INET6);
	g_assert_cmpuint(n->addrs[1].prefix, ==, 64);
	g_assert_cmpstr(n->addrs[2].text, ==, "192.0.2.11");
	g_assert_cmpuint(n->addrs[2].prefix, ==, 25);
	g_assert_cmpuint(n->n_gateways, ==, 2);
	g_assert_cmpstr(n->gateways[0].text, ==, "192.0.2.1");
	g_assert_cmpstr(n->gateways[1].text, ==, "2001:db8::1");
	g_assert_cmpuint(n->n_dns, ==, 2);
	g_assert_cmpstr(n->dns[1].text, ==, "2001:db8::53");
	g_assert_cmpint(n->target.ifindex, ==, 0);
	g_assert_cmpstr(n->target.ifname, ==, "");
}

static void test_masks_and_prefixes(void)
{
	static const struct {
		const char *ip, *sub;
		unsigned prefix;
	} ok[] = {
	    {"10.0.0.1", "255.0.0.0", 8},
	    {"10.0.0.1", "255.255.255.255", 32},
	    {"10.0.0.1", "128.0.0.0", 1},
	    {"10.0.0.1", "16", 16},
	    {"10.0.0.1", "/30", 30},
	    {"fd00::1", "128", 128},
	    {"fd00::1", "/48", 48},
	    {"fd00::1", "ffff:ffff:ffff:ffff::", 64},
	    {"fd00::1", "ffff:ffff:ffff:ff80::", 57},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		struct netconf_request r = req(ok[i].ip, ok[i].sub, "", "");
		g_autofree struct netconf *n = parse_ok(&r);

		g_assert_cmpuint(n->n_addrs, ==, 1);
		g_assert_cmpuint(n->addrs[0].prefix, ==, ok[i].prefix);
	}
}

static void test_methods(void)
{
	struct netconf_request r = req("", "", "", "192.0.2.53");
	g_autofree struct netconf *none = parse_ok(&r);
	g_autofree struct netconf *v6 = NULL, *dhcp = NULL, *dhcp6 = NULL;

	/* nothing static: IPv4 off, IPv6 as the stack does by default */
	g_assert_cmpint(none->ipv4, ==, NETCONF_METHOD_DISABLED);
	g_assert_cmpint(none->ipv6, ==, NETCONF_METHOD_AUTO);
	g_assert_cmpuint(none->n_dns, ==, 1);

	r = req("fd00::5", "64", "fd00::1", "");
	v6 = parse_ok(&r);
	g_assert_cmpint(v6->ipv4, ==, NETCONF_METHOD_DISABLED);
	g_assert_cmpint(v6->ipv6, ==, NETCONF_METHOD_STATIC);

	/* DHCP: the IPv4 statics are checked, then left out */
	r = req("192.0.2.10", "255.255.255.0", "192.0.2.1", "192.0.2.53");
	r.dhcp_enabled = 1;
	dhcp = parse_ok(&r);
	g_assert_true(dhcp->dhcp);
	g_assert_cmpint(dhcp->ipv4, ==, NETCONF_METHOD_AUTO);
	g_assert_cmpint(dhcp->ipv6, ==, NETCONF_METHOD_AUTO);
	g_assert_cmpuint(dhcp->n_addrs, ==, 0);
	g_assert_cmpuint(dhcp->n_gateways, ==, 0);
	g_assert_cmpuint(dhcp->n_dns, ==, 1);

	r = req("192.0.2.10;fd00::5", "24;64", "192.0.2.1;fd00::1", "");
	r.dhcp_enabled = 1;
	dhcp6 = parse_ok(&r);
	g_assert_cmpint(dhcp6->ipv4, ==, NETCONF_METHOD_AUTO);
	g_assert_cmpint(dhcp6->ipv6, ==, NETCONF_METHOD_STATIC);
	g_assert_cmpuint(dhcp6->n_addrs, ==, 1);
	g_assert_cmpstr(dhcp6->addrs[0].text, ==, "fd00::5");
	g_assert_cmpuint(dhcp6->n_gateways, ==, 1);
	g_assert_cmpstr(dhcp6->gateways[0].text, ==, "fd00::1");
}

static void test_guid(void)
{
	char out[40];
	struct netconf_request r = req("", "", "", "");

	g_assert_cmpint(netconf_parse_guid("{F8615163-DF3E-46C5-913F-F2D2F965ED0E}", out), ==, 0);
	g_assert_cmpstr(out, ==, GUID);
	r.adapter_id = "{F8615163-DF3E-46C5-913F-F2D2F965ED0E}";
	g_autofree struct netconf *n = parse_ok(&r);
	g_assert_cmpstr(n->target.guid, ==, GUID);

	static const char *const bad[] = {
	    "",
	    "f8615163-df3e-46c5-913f-f2d2f965ed0e",
	    "{f8615163-df3e-46c5-913f-f2d2f965ed0e",
	    "{f8615163-df3e-46c5-913f-f2d2f965ed0e} ",
	    " {f8615163-df3e-46c5-913f-f2d2f965ed0e}",
	    "{f8615163-df3e-46c5-913f-f2d2f965ed0g}",
	    "{f8615163df3e-46c5-913f-f2d2f965ed0e0}",
	    "{../../../../etc/passwd-xxxxxxxxxxxxx}",
	    "00:15:5D:AA:BB:CC",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(netconf_parse_guid(bad[i], out), ==, -EINVAL);
		r.adapter_id = bad[i];
		parse_bad(&r, -EINVAL, "adapter_id");
	}
	r.adapter_id = NULL;
	parse_bad(&r, -EINVAL, "adapter_id");
}

/* Every class of malformed request, each alone in an otherwise valid request. */
static void test_invalid_classes(void)
{
	static const struct {
		const char *ip, *sub, *gw, *dns, *reason;
		int error;
	} bad[] = {
	    /* not an address, in each list */
	    {"192.0.2.300", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"192.0.2.1/24", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"1.2.3", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"fe80::1%eth0", "64", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"host.example", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"192.0.2.10", "24", "gateway", "", "gate_way item 1", -EINVAL},
	    {"192.0.2.10", "24", "", "192.0.2.53;nameserver", "dns_addr item 2", -EINVAL},
	    /* addresses that cannot be an interface's */
	    {"0.0.0.0", "24", "", "", "unspecified", -EINVAL},
	    {"::", "64", "", "", "unspecified", -EINVAL},
	    {"224.0.0.1", "24", "", "", "multicast", -EINVAL},
	    {"ff02::1", "64", "", "", "multicast", -EINVAL},
	    {"127.0.0.2", "8", "", "", "loopback", -EINVAL},
	    {"::1", "128", "", "", "loopback", -EINVAL},
	    {"255.255.255.255", "32", "", "", "broadcast", -EINVAL},
	    {"192.0.2.10", "24", "0.0.0.0", "", "unspecified", -EINVAL},
	    {"192.0.2.10", "24", "", "ff02::fb", "multicast", -EINVAL},
	    /* masks and prefixes */
	    {"192.0.2.10", "255.0.255.0", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "255.255.255.1", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "33", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "024", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "-1", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "+24", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "24a", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "ffff:ff00::", "", "", "not an IPv4 mask", -EINVAL},
	    {"192.0.2.10", "0", "", "", "zero-length", -EINVAL},
	    {"192.0.2.10", "0.0.0.0", "", "", "zero-length", -EINVAL},
	    {"fd00::1", "129", "", "", "not an IPv6 mask", -EINVAL},
	    {"fd00::1", "255.255.255.0", "", "", "not an IPv6 mask", -EINVAL},
	    {"fd00::1", "ffff:0:ffff::", "", "", "not an IPv6 mask", -EINVAL},
	    {"fd00::1", "/", "", "", "not an IPv6 mask", -EINVAL},
	    {"fd00::1", "//64", "", "", "not an IPv6 mask", -EINVAL},
	    /* positional pairing */
	    {"192.0.2.10;192.0.2.11", "24", "", "", "2 addresses but 1 subnets", -EINVAL},
	    {"192.0.2.10", "24;24", "", "", "1 addresses but 2 subnets", -EINVAL},
	    {"", "24", "", "", "0 addresses but 1 subnets", -EINVAL},
	    /* separators */
	    {"192.0.2.10;;192.0.2.11", "24;24", "", "", "empty item before item 2", -EINVAL},
	    {";192.0.2.10", "24", "", "", "empty item before item 1", -EINVAL},
	    {"192.0.2.10,192.0.2.11", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"192.0.2.10 192.0.2.11", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"192.0.2.10\n", "24", "", "", "not an IPv4 or IPv6", -EINVAL},
	    {"192.0.2.10", "24", "; 192.0.2.1", "", "empty item before item 1", -EINVAL},
	    /* duplicates */
	    {"192.0.2.10;192.0.2.10", "24;24", "", "", "twice", -EINVAL},
	    {"fd00::1;FD00:0::1", "64;64", "", "", "twice", -EINVAL},
	    {"192.0.2.10", "24", "192.0.2.1;192.0.2.1", "", "twice", -EINVAL},
	    /* consistency */
	    {"fd00::1", "64", "192.0.2.1", "", "IPv4 gateway without", -EINVAL},
	    {"", "", "192.0.2.1", "", "IPv4 gateway without", -EINVAL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct netconf_request r = req(bad[i].ip, bad[i].sub, bad[i].gw, bad[i].dns);

		g_test_message("case %zu: %s | %s | %s | %s", i, bad[i].ip, bad[i].sub, bad[i].gw,
			       bad[i].dns);
		parse_bad(&r, bad[i].error, bad[i].reason);
	}
}

static void test_missing_and_flags(void)
{
	struct netconf_request r = req("192.0.2.10", "24", "", "");

	r.ip_addr = NULL;
	parse_bad(&r, -EINVAL, "ip_addr is missing");
	r = req("192.0.2.10", "24", "", "");
	r.dns_addr = NULL;
	parse_bad(&r, -EINVAL, "dns_addr is missing");
	r = req("192.0.2.10", "24", "", "");
	r.dhcp_enabled = 2;
	parse_bad(&r, -EINVAL, "dhcp_enabled");
	r = req("192.0.2.10", "24", "", "");
	r.addr_family = 4;
	parse_bad(&r, -EINVAL, "addr_family");
	g_assert_cmpint(netconf_parse(NULL, NULL, NULL, 0), ==, -EINVAL);
}

/* Lengths: too many items, items too long, strings the kernel may have cut. */
static void test_limits(void)
{
	GString *ips = g_string_new(NULL), *subs = g_string_new(NULL), *gws = g_string_new(NULL);
	g_autofree char *long_item = g_strnfill(70, '1');
	g_autofree char *full = NULL;
	struct netconf_request r;

	/* exactly NETCONF_MAX_ADDRS items fit (short IPv4 ones, ~9 bytes each) */
	for (unsigned i = 0; i < NETCONF_MAX_ADDRS; i++) {
		g_string_append_printf(ips, "%s10.%u.0.1", i ? ";" : "", i);
		g_string_append_printf(subs, "%s8", i ? ";" : "");
	}
	r = req(ips->str, subs->str, "", "");
	g_autofree struct netconf *n = parse_ok(&r);
	g_assert_cmpuint(n->n_addrs, ==, NETCONF_MAX_ADDRS);
	g_string_append(ips, ";11.0.0.1");
	g_string_append(subs, ";8");
	r = req(ips->str, subs->str, "", "");
	parse_bad(&r, -E2BIG, "more than 64");

	for (unsigned i = 0; i <= NETCONF_MAX_GATEWAYS; i++)
		g_string_append_printf(gws, "fd00::%x;", i + 1);
	r = req("fd00::100", "64", gws->str, "");
	parse_bad(&r, -E2BIG, "gate_way has more than 16");

	r = req("1.1.1.1", "8", "",
		"1.1.1.1;1.1.1.2;1.1.1.3;1.1.1.4;1.1.1.5;1.1.1.6;1.1.1.7;"
		"1.1.1.8;1.1.1.9;1.1.1.10;1.1.1.11;1.1.1.12;1.1.1.13;1.1.1.14;"
		"1.1.1.15;1.1.1.16;1.1.1.17");
	parse_bad(&r, -E2BIG, "dns_addr has more than 16");

	r = req(long_item, "8", "", "");
	parse_bad(&r, -EINVAL, "too long");

	/* A string as long as the kernel's budget may have been cut: 1023 bytes are fine
	 * (trailing blanks), 1024 are not. */
	full = g_strdup_printf("192.0.2.10;%*s", NETCONF_IP_ADDR_BUDGET - 1 - 11, "");
	g_assert_cmpuint(strlen(full), ==, NETCONF_IP_ADDR_BUDGET - 1);
	r = req(full, "24", "", "");
	g_autofree struct netconf *n2 = parse_ok(&r);
	g_assert_cmpuint(n2->n_addrs, ==, 1);
	g_free(full);
	full = g_strdup_printf("192.0.2.10;%*s", NETCONF_IP_ADDR_BUDGET - 11, "");
	r = req(full, "24", "", "");
	parse_bad(&r, -EINVAL, "may have been cut");
	g_free(full);
	full = g_strdup_printf("%*s", NETCONF_GATE_WAY_BUDGET, "");
	r = req("", "", full, "");
	parse_bad(&r, -EINVAL, "gate_way fills");
	g_free(full);
	full = g_strdup_printf("{f8615163-df3e-46c5-913f-f2d2f965ed0e}%*s", 100, "");
	r = req("", "", "", "");
	r.adapter_id = full;
	parse_bad(&r, -EINVAL, "adapter_id is missing or too long");

	g_string_free(ips, TRUE);
	g_string_free(subs, TRUE);
	g_string_free(gws, TRUE);
}

/* Blanks around items and trailing separators, as hosts and GET_IP_INFO write them. */
static void test_separators(void)
{
	struct netconf_request r =
	    req(" 192.0.2.10 ;\t192.0.2.11;;", "24 ; 255.255.255.0;", " ; ", "192.0.2.53;");
	g_autofree struct netconf *n = parse_ok(&r);

	g_assert_cmpuint(n->n_addrs, ==, 2);
	g_assert_cmpstr(n->addrs[1].text, ==, "192.0.2.11");
	g_assert_cmpuint(n->addrs[1].prefix, ==, 24);
	g_assert_cmpuint(n->n_gateways, ==, 0);
	g_assert_cmpuint(n->n_dns, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/netconf-parse/static", test_static_both_families);
	g_test_add_func("/netconf-parse/masks", test_masks_and_prefixes);
	g_test_add_func("/netconf-parse/methods", test_methods);
	g_test_add_func("/netconf-parse/guid", test_guid);
	g_test_add_func("/netconf-parse/invalid", test_invalid_classes);
	g_test_add_func("/netconf-parse/missing", test_missing_and_flags);
	g_test_add_func("/netconf-parse/limits", test_limits);
	g_test_add_func("/netconf-parse/separators", test_separators);
	return g_test_run();
}
