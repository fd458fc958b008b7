/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a link gets its IPv4 configuration from DHCP, for GET_IP_INFO's dhcp_enabled.
 *
 * Asks, in order, whichever network manager manages the link, from its own files (no D-Bus,
 * no helper program, so it works early in boot and under a strict sandbox):
 *   1. NetworkManager: <root>/run/NetworkManager/devices/<ifindex> (managed=true and the
 *      active connection-uuid=), that connection's keyfile in <root>/run, /etc or /usr/lib
 *      NetworkManager/system-connections/: [ipv4] method=auto (or no method: NM's default)
 *      means DHCP.
 *   2. systemd-networkd: <root>/run/systemd/netif/links/<ifindex> with ADMIN_STATE other
 *      than unmanaged: a DHCP lease (DHCP_LEASE= or DHCP4_ADDRESS=) means DHCP; else the
 *      DHCP= setting of its NETWORK_FILE (and NETWORK_FILE_DROPINS, last one wins):
 *      yes/true/ipv4/both/on/1 mean DHCP.
 *   3. ifupdown: `iface <ifname> inet dhcp` in <root>/etc/network/interfaces or a file in
 *      interfaces.d/.
 *   4. none of them: not DHCP.
 * A manager that manages the link answers; a later one is not asked.
 */
#ifndef KVP_DHCP_H
#define KVP_DHCP_H

#include <stdbool.h>

enum dhcp_origin {
	DHCP_ORIGIN_NETWORKMANAGER,
	DHCP_ORIGIN_NETWORKD,
	DHCP_ORIGIN_IFUPDOWN,
	DHCP_ORIGIN_NONE,
};

struct dhcp_source {
	const char *root; /* prefix of /run, /etc and /usr/lib; NULL or "": "/" */
};

/* Never fails: unreadable files count as "not managed by this one". */
bool dhcp_enabled_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
			   enum dhcp_origin *ret_origin);

const char *dhcp_origin_to_string(enum dhcp_origin o);

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

#endif
