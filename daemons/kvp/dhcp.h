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

#endif
