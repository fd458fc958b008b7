/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds struct netconf values by hand for the SET_IP_INFO backend tests, without the
 * request parser: a target, then addresses, gateways and DNS servers from literal text
 * (which must be valid: the helpers abort the test otherwise). The text kept is the
 * canonical inet_ntop() form, as the parser leaves it.
 */
#ifndef TESTS_NETCONF_CFG_H
#define TESTS_NETCONF_CFG_H

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "daemons/kvp/netconf.h"

static inline void netconf_cfg_init(struct netconf *cfg, const char *ifname, int ifindex,
				    const uint8_t mac[6])
{
	memset(cfg, 0, sizeof(*cfg));
	g_strlcpy(cfg->target.ifname, ifname, sizeof(cfg->target.ifname));
	cfg->target.ifindex = ifindex;
	memcpy(cfg->target.mac, mac, 6);
	snprintf(cfg->target.mac_text, sizeof(cfg->target.mac_text),
		 "%02X:%02X:%02X:%02X:%02X:%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	g_strlcpy(cfg->target.guid, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}",
		  sizeof(cfg->target.guid));
	cfg->ipv4 = NETCONF_METHOD_DISABLED;
	cfg->ipv6 = NETCONF_METHOD_AUTO;
}

static inline void netconf_cfg_parse(struct netconf_addr *a, const char *text, unsigned prefix)
{
	memset(a, 0, sizeof(*a));
	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	g_assert_cmpint(inet_pton(a->family, text, &a->in6), ==, 1);
	g_assert_nonnull(inet_ntop(a->family, &a->in6, a->text, sizeof(a->text)));
	a->prefix = prefix;
}

/* An address: the family's method becomes static. */
static inline void netconf_cfg_addr(struct netconf *cfg, const char *text, unsigned prefix)
{
	g_assert_cmpuint(cfg->n_addrs, <, NETCONF_MAX_ADDRS);
	netconf_cfg_parse(&cfg->addrs[cfg->n_addrs], text, prefix);
	if (cfg->addrs[cfg->n_addrs].family == AF_INET)
		cfg->ipv4 = NETCONF_METHOD_STATIC;
	else
		cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family |= cfg->addrs[cfg->n_addrs].family == AF_INET ? 1 : 2;
	cfg->n_addrs++;
}

static inline void netconf_cfg_gateway(struct netconf *cfg, const char *text)
{
	g_assert_cmpuint(cfg->n_gateways, <, NETCONF_MAX_GATEWAYS);
	netconf_cfg_parse(&cfg->gateways[cfg->n_gateways++], text, 0);
}

static inline void netconf_cfg_dns(struct netconf *cfg, const char *text)
{
	g_assert_cmpuint(cfg->n_dns, <, NETCONF_MAX_DNS);
	netconf_cfg_parse(&cfg->dns[cfg->n_dns++], text, 0);
}

/* The host asked for DHCP: IPv4 by DHCP, IPv6 automatic. */
static inline void netconf_cfg_dhcp(struct netconf *cfg)
{
	cfg->dhcp = true;
	cfg->ipv4 = NETCONF_METHOD_AUTO;
}

#endif
