/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS servers of one link, for GET_IP_INFO's dns_addr.
 *
 * Source order: systemd-resolved over D-Bus when it answers (the Manager's DNS property,
 * the entries of this link, else the global ones), else the `nameserver` lines of
 * resolv.conf. Nothing is cached: each call asks again.
 */
#ifndef KVP_DNS_H
#define KVP_DNS_H

#include <stdint.h>

#define DNS_DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define DNS_DEFAULT_TIMEOUT_USEC (500 * 1000ULL)
/* Never more servers than this from any source (resolv.conf traditionally holds 3). */
#define DNS_MAX_SERVERS 32

enum dns_origin {
	DNS_ORIGIN_RESOLVED,    /* systemd-resolved answered */
	DNS_ORIGIN_RESOLV_CONF, /* resolv.conf was read (resolved unreachable) */
};

struct dns_source {
	const char *resolv_conf; /* NULL: DNS_DEFAULT_RESOLV_CONF */
	/* D-Bus address where systemd-resolved is asked; NULL: the system bus; "": do not
	 * ask systemd-resolved at all. */
	const char *bus_address;
	uint64_t timeout_usec; /* for each bus call; 0: DNS_DEFAULT_TIMEOUT_USEC */
};

/* Servers of link ifindex as text (inet_ntop form), NULL-terminated, g_strfreev() it.
 * An empty list is a valid answer. Errors: only when neither source answers (resolved
 * unreachable and resolv.conf unreadable): the resolv.conf error (-ENOENT, -EACCES, ...). */
int dns_servers_for_link(const struct dns_source *src, int ifindex, char ***ret_servers,
			 enum dns_origin *ret_origin);

/* The two sources on their own (exposed for tests). */
int dns_servers_from_resolved(const char *bus_address, uint64_t timeout_usec, int ifindex,
			      char ***ret_servers);
int dns_servers_from_resolv_conf(const char *path, char ***ret_servers);
/* Parses resolv.conf text: `nameserver ADDR` lines (valid IPv4/IPv6 only; an IPv6
 * scope suffix "%eth0" is dropped), '#' and ';' comments, other keywords ignored. */
char **dns_parse_resolv_conf(const char *text);

#endif
