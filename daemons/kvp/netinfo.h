/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's network facts for the KVP host: the intrinsic NetworkAddressIPv4/IPv6 lists
 * (docs/protocol.md §3.5) and the GET_IP_INFO answer for one adapter (docs/protocol.md §3.6), read
 * from the kernel over rtnetlink (libnl-route), never from getifaddrs, `ip` or a shell.
 */
#ifndef KVP_NETINFO_H
#define KVP_NETINFO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"
#include "dns.h"

/* Container and virtual plumbing whose addresses mean nothing to the host. */
#define NETINFO_DEFAULT_EXCLUDE                                                                    \
	"lo;veth*;docker*;br-*;virbr*;cni*;flannel*;cali*;vxlan*;tun*;tap*;kube-*;weave*;"         \
	"podman*;lxcbr*;lxdbr*;lxc*;cilium*;genev*;vnet*;nodelocaldns*"
extern const char *const netinfo_default_exclude[];

/* The host's intrinsic value is at most 1022 UTF-16 units; addresses are ASCII. */
#define NETINFO_MAX_LIST_CHARS 1022
#define NETINFO_DEFAULT_SCRIPT_DIR "/usr/libexec/hypervkvpd"
#define NETINFO_DEFAULT_SCRIPT_TIMEOUT_USEC (5 * 1000 * 1000ULL)
#define NETINFO_SCRIPT_MAX_OUTPUT 4096

struct netinfo_config {
	/* fnmatch(3) globs over interface names. include NULL or empty: every interface.
	 * exclude NULL: netinfo_default_exclude; empty: none. Exclude wins over include. */
	const char *const *include;
	const char *const *exclude;
	bool include_link_local; /* IPv6 fe80::/10 in the intrinsic list */
	size_t max_list_chars;   /* 0: NETINFO_MAX_LIST_CHARS */
	struct dns_source dns;
	struct dhcp_source dhcp;
	/* Compatibility: run <script_dir>/hv_get_dns_info IF and hv_get_dhcp_info IF (direct
	 * exec, no shell) instead of the native DNS and DHCP sources. */
	bool use_scripts;
	const char *script_dir;       /* NULL: NETINFO_DEFAULT_SCRIPT_DIR */
	uint64_t script_timeout_usec; /* 0: NETINFO_DEFAULT_SCRIPT_TIMEOUT_USEC */
};

struct netinfo;

/* Opens the rtnetlink socket (in the caller's network namespace). cfg is copied with the
 * strings and lists it points to: nothing of the caller's is kept. */
int netinfo_new(const struct netinfo_config *cfg, struct netinfo **ret);
struct netinfo *netinfo_free(struct netinfo *ni);

/* NetworkAddressIPv4 (family AF_INET) or NetworkAddressIPv6 (AF_INET6): the addresses of the
 * interfaces that pass the filter, ';'-joined, no trailing ';'. Loopback addresses never;
 * IPv6 link-local only if configured; no scope suffix. The primary interface (that of the
 * lowest-metric IPv4 default route, else IPv6) first, then the others by ifindex; within an
 * interface the kernel's order. At most max_list_chars characters: the list stops before the
 * first address that would not fit, and *ret_left_out (optional) counts the addresses left
 * out. ret_list: g_free() it. Errors: -EAFNOSUPPORT, netlink errors as -errno. */
int netinfo_address_list(struct netinfo *ni, int family, char **ret_list, size_t *ret_left_out);

/* The interface index of the primary interface, 0 if there is no default route. */
int netinfo_primary_ifindex(struct netinfo *ni, int *ret_ifindex);

/* Kernel limits of GET_IP_INFO's fields, in UTF-16 units including the NUL the daemon
 * sends: the values are ASCII, so at most size-1 characters each. */
#define NETINFO_IP_ADDR_SIZE 1024
#define NETINFO_SUB_NET_SIZE 1024
#define NETINFO_GATE_WAY_SIZE 512
#define NETINFO_DNS_ADDR_SIZE 1024
#define NETINFO_ADAPTER_ID_SIZE 128

#define NETINFO_FAMILY_IPV4 1
#define NETINFO_FAMILY_IPV6 2

struct netinfo_ip_info {
	int ifindex;
	char ifname[IF_NAMESIZE];
	char adapter_id[NETINFO_ADAPTER_ID_SIZE]; /* the host's text, echoed */
	uint8_t addr_family;                      /* OR of NETINFO_FAMILY_* seen */
	bool dhcp_enabled;
	char ip_addr[NETINFO_IP_ADDR_SIZE];   /* "a;b", no trailing ';' */
	char sub_net[NETINFO_SUB_NET_SIZE];   /* one per address: "255.255.255.0;/64" */
	char gate_way[NETINFO_GATE_WAY_SIZE]; /* "g1;g2;": trailing ';' like the reference */
	char dns_addr[NETINFO_DNS_ADDR_SIZE]; /* "d1;d2;": trailing ';' like the reference */
	size_t left_out;                      /* items dropped to respect the sizes */
};

/* Parses the host's adapter_id: a MAC as six hex pairs separated by ':' or '-' (one kind),
 * either case. -EINVAL otherwise. */
int netinfo_parse_mac(const char *text, uint8_t ret_mac[6]);

/* Addresses, masks and default gateways of the interface whose MAC is adapter_id.
 * dns_addr and dhcp_enabled are left empty/false. Errors: -EINVAL (not a MAC), -ENODEV
 * (no interface has that MAC), netlink errors. */
int netinfo_get_ip_info(struct netinfo *ni, const char *adapter_id, struct netinfo_ip_info *ret);

/* The whole GET_IP_INFO answer: netinfo_get_ip_info() plus DNS servers and the DHCP flag
 * (native sources, or the reference's scripts when configured). Same errors. */
int netinfo_collect_ip_info(struct netinfo *ni, const char *adapter_id,
			    struct netinfo_ip_info *ret);

#endif
