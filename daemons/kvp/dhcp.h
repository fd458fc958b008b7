/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a link gets its configuration from DHCP, for GET_IP_INFO's dhcp_enabled.
 *
 * Asks, in order, whichever network manager manages the link, from its own files (no D-Bus,
 * no helper program, so it works early in boot and under a strict sandbox):
 *   1. NetworkManager: <root>/run/NetworkManager/devices/<ifindex> (managed=true and the
 *      active connection-uuid=), that connection's keyfile in <root>/run, /etc or /usr/lib
 *      NetworkManager/system-connections/: [ipv4] method=auto (or no method: NM's default)
 *      means DHCP. A connection that is in no keyfile is looked for among the ifcfg-rh
 *      profiles, <root>/etc/sysconfig/network-scripts/ifcfg-*: the one with UUID=<uuid>,
 *      else the one with DEVICE=<ifname> (ifcfg-rh derives the uuid of a file without
 *      UUID= from its path, so the device name is the only other key). A managed device
 *      file without connection-uuid= (NM writes it only once the device is activated, so
 *      not while a profile waits for its DHCP lease): the one keyfile profile whose
 *      [connection] interface-name= is <ifname> (none or several: NM does not answer).
 *   2. systemd-networkd: <root>/run/systemd/netif/links/<ifindex> with ADMIN_STATE other
 *      than unmanaged: a DHCP lease (DHCP_LEASE= or DHCP4_ADDRESS=) means DHCP; else the
 *      DHCP= setting of its NETWORK_FILE (and NETWORK_FILE_DROPINS, last one wins):
 *      yes/true/ipv4/both/on/1 mean DHCP.
 *   3. ifupdown: `iface <ifname> inet dhcp` in <root>/etc/network/interfaces or a file in
 *      interfaces.d/.
 *   4. RHEL network-scripts without NetworkManager: <root>/etc/sysconfig/network-scripts/
 *      ifcfg-<ifname>, BOOTPROTO=dhcp (or bootp).
 *   5. none of them: not DHCP.
 * A manager that manages the link answers; a later one is not asked.
 *
 * IPv6: each source also says whether IPv6 is configured automatically (NM [ipv6]
 * method=auto/dhcp or absent; networkd DHCP=yes/both/ipv6; ifupdown `iface X inet6
 * dhcp|auto`; ifcfg IPV6INIT=yes with DHCPV6C=yes or IPV6_AUTOCONF=yes), and whether the
 * link has any IPv4 configuration at all. The host's flag is one bit and the reference's
 * meaning is IPv4 only, so: dhcp_enabled is the IPv4 answer, except on a link that the
 * manager configures for IPv6 only (NM [ipv4] method=disabled; networkd without DHCPv4 and
 * without an IPv4 Address=; ifupdown without an inet stanza; ifcfg without BOOTPROTO=dhcp
 * and without IPADDR*), where it is the IPv6 answer.
 */
#ifndef KVP_DHCP_H
#define KVP_DHCP_H

#include <stdbool.h>

enum dhcp_origin {
	DHCP_ORIGIN_NETWORKMANAGER,
	DHCP_ORIGIN_NETWORKD,
	DHCP_ORIGIN_IFUPDOWN,
	DHCP_ORIGIN_NONE,
	DHCP_ORIGIN_IFCFG, /* network-scripts; NM's ifcfg-rh profiles are NETWORKMANAGER */
};

#define DHCP_V4_NONE (-1) /* the manager gives the link no IPv4 configuration */
#define DHCP_V4_STATIC 0
#define DHCP_V4_DHCP 1

/* What the managing stack's configuration says about one link. */
struct dhcp_state {
	int ipv4;       /* DHCP_V4_* */
	bool ipv6_auto; /* IPv6 by DHCPv6 / router advertisements */
};

struct dhcp_source {
	const char *root; /* prefix of /run, /etc and /usr/lib; NULL or "": "/" */
};

/* Never fails: unreadable files count as "not managed by this one". */
bool dhcp_enabled_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
			   enum dhcp_origin *ret_origin);

const char *dhcp_origin_to_string(enum dhcp_origin o);

/* Both families' answers of the first source that manages the link (ret_state: IPv4
 * DHCP_V4_STATIC and no IPv6 when none does), and its origin. Never fails. */
enum dhcp_origin dhcp_state_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
				     struct dhcp_state *ret_state);

/* The host's one-bit flag from both answers (see the top of this file). */
bool dhcp_state_flag(const struct dhcp_state *s);

/* The parsers behind dhcp_enabled_for_link(), on the text of one file (NULL: no file; the
 * text ends at its first NUL), apart from the reading so that they can be fuzzed. */
/* NM device state: the active connection-uuid when managed=true, else NULL (g_free). */
char *dhcp_nm_device_parse(const char *text);
/* NM keyfile: 1 if it is connection uuid and [ipv4] method is auto or absent, 0 for
 * another method, -ENOENT if it is another connection or not a keyfile. */
int dhcp_nm_connection_parse(const char *text, const char *uuid);
/* networkd link state: -ENOENT when not managed, 1 with a DHCPv4 lease, else 0 and
 * *ret_network_files the NETWORK_FILE and then its drop-ins (g_strfreev). */
int dhcp_networkd_link_parse(const char *text, char ***ret_network_files);
/* .network file: sets *dhcp from each DHCP= of [Network] (the last wins). */
void dhcp_network_file_parse(const char *text, int *dhcp);
/* ifupdown interfaces file: 1 for `iface IF inet dhcp`, 0 for another method, -ENOENT when
 * IF is not mentioned (the highest answer wins over several stanzas). */
int dhcp_ifupdown_parse(const char *text, const char *ifname);

/* The same parsers with both families' answers; 0, or -ENOENT when the text does not speak
 * of the link (as above). *ret is only written on 0. */
int dhcp_nm_connection_parse_state(const char *text, const char *uuid, struct dhcp_state *ret);
/* A .network file's [Network] DHCP= and IPv4 Address= ([Network] or [Address]) update
 * *dhcp4, *dhcp6 (the last DHCP= wins) and set *has_v4_address; unset ones are untouched. */
void dhcp_network_file_parse_state(const char *text, int *dhcp4, int *dhcp6, bool *has_v4_address);
int dhcp_ifupdown_parse_state(const char *text, const char *ifname, struct dhcp_state *ret);
/* An ifcfg file: -ENOENT unless key (UUID or DEVICE) has the value want (NULL: any). */
int dhcp_ifcfg_parse_state(const char *text, const char *key, const char *want,
			   struct dhcp_state *ret);

#endif
