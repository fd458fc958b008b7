/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: SET_IP_INFO's parser (daemons/kvp/netconf-parse.c, netconf_parse()).
 *
 * Input: byte 0 is dhcp_enabled, byte 1 addr_family, the rest the adapter id, addresses,
 * subnets, gateways and DNS servers separated by '\n' (a missing field is empty; a NUL ends
 * a field early, as the kernel's NUL-terminated strings do). Checked: the parser answers 0,
 * -EINVAL or -E2BIG; a refusal leaves the output untouched and says why; an acceptance holds
 * only canonical addresses with prefixes in range, counts within the bounds, no IPv4 static
 * state under DHCP, methods as netconf.h defines them, and parsing is deterministic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/kvp/netconf.h"

static void check_addr(const struct netconf_addr *a, bool with_prefix)
{
	uint8_t bin[16];
	char back[INET6_ADDRSTRLEN];

	CHECK(a->family == AF_INET || a->family == AF_INET6);
	CHECK(inet_pton(a->family, a->text, bin) == 1);
	CHECK(inet_ntop(a->family, bin, back, sizeof(back)));
	CHECK(strcmp(back, a->text) == 0);
	CHECK(memcmp(bin, a->family == AF_INET ? (const void *)&a->in : &a->in6,
		     a->family == AF_INET ? 4 : 16) == 0);
	if (with_prefix)
		CHECK(a->prefix >= 1 && a->prefix <= (a->family == AF_INET ? 32u : 128u));
	else
		CHECK(a->prefix == 0);
}

static void check_accepted(const struct netconf *n)
{
	size_t v4 = 0, v6 = 0;

	CHECK(strlen(n->target.guid) == 38);
	for (const char *p = n->target.guid; *p; p++)
		CHECK(!(*p >= 'A' && *p <= 'Z'));
	CHECK(n->n_addrs <= NETCONF_MAX_ADDRS && n->n_gateways <= NETCONF_MAX_GATEWAYS &&
	      n->n_dns <= NETCONF_MAX_DNS);
	for (size_t i = 0; i < n->n_addrs; i++) {
		check_addr(&n->addrs[i], true);
		v4 += n->addrs[i].family == AF_INET;
		v6 += n->addrs[i].family == AF_INET6;
	}
	for (size_t i = 0; i < n->n_gateways; i++) {
		check_addr(&n->gateways[i], false);
		CHECK(n->gateways[i].family == AF_INET6 || v4 > 0);
	}
	for (size_t i = 0; i < n->n_dns; i++)
		check_addr(&n->dns[i], false);
	if (n->dhcp)
		CHECK(v4 == 0 && n->ipv4 == NETCONF_METHOD_AUTO);
	else
		CHECK(n->ipv4 == (v4 ? NETCONF_METHOD_STATIC : NETCONF_METHOD_DISABLED));
	CHECK(n->ipv6 == (v6 ? NETCONF_METHOD_STATIC : NETCONF_METHOD_AUTO));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, err[256];
	const char *fields[5] = {"", "", "", "", ""};
	struct netconf *a, *b;
	struct netconf_request req;
	size_t n = 0;
	int r;

	if (size < 2)
		return 0;
	text = malloc(size - 1);
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	CHECK(text && a && b);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	for (char *p = text; n < 5; n++) {
		fields[n] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
	req = (struct netconf_request){fields[0], data[1],   data[0],  fields[1],
				       fields[2], fields[3], fields[4]};
	memset(a, 0xa5, sizeof(*a));
	memcpy(b, a, sizeof(*b));
	r = netconf_parse(&req, a, err, sizeof(err));
	CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r < 0) {
		CHECK(memcmp(a, b, sizeof(*a)) == 0);
		CHECK(err[0] != '\0');
	} else {
		check_accepted(a);
		CHECK(netconf_parse(&req, b, NULL, 0) == 0);
		CHECK(memcmp(a, b, sizeof(*a)) == 0);
	}
	free(text);
	free(a);
	free(b);
	return 0;
}
