/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd's own config keys ([kvp] section), in a file of their own so that the hv-kvp tool
 * reads the same section with the same checks without linking the daemon (netinfo, libnl,
 * libsystemd). Only netinfo.h's default macros are used, not its code.
 */
#include "kvp-keys.h"
#include "netinfo.h"
#include "shared/time-util.h"

const struct conf_key kvpd_keys[] = {
    {"os-release", CONF_PATHS, "/etc/os-release;/usr/lib/os-release",
     "os-release files to read the OS name and version from, first found wins"},
    {"include-interfaces", CONF_STRV, "",
     "globs of interfaces whose addresses the host sees (empty: all)"},
    {"exclude-interfaces", CONF_STRV, NETINFO_DEFAULT_EXCLUDE,
     "globs of interfaces never reported (container and virtual plumbing)"},
    {"ipv6-link-local", CONF_BOOL, "false", "report IPv6 link-local (fe80::/10) addresses"},
    {"address-refresh", CONF_DURATION, "30s",
     "how often the published auto pool's addresses are refreshed", 100000, 86400 * USEC_PER_SEC},
    {"fqdn-refresh", CONF_DURATION, "15min", "how often the domain name is resolved again",
     USEC_PER_SEC, 7 * 86400 * USEC_PER_SEC},
    {"resolv-conf", CONF_PATH, "/etc/resolv.conf",
     "DNS servers when systemd-resolved does not answer"},
    {"use-resolved", CONF_BOOL, "true", "ask systemd-resolved for each link's DNS servers"},
    {"network-root", CONF_PATH, "/",
     "root under which NetworkManager, networkd and ifupdown state is read"},
    {"compat-scripts", CONF_BOOL, "false",
     "run hv_get_dns_info and hv_get_dhcp_info instead of the native sources"},
    {"script-dir", CONF_PATH, NETINFO_DEFAULT_SCRIPT_DIR, "where the compatibility scripts live"},
    {"script-timeout", CONF_DURATION, "5s", "how long a compatibility script may run", 100000,
     300 * USEC_PER_SEC},
    {"pool-lock-timeout", CONF_DURATION, "2s",
     "how long a request waits for a pool file another program keeps locked", 10000,
     60 * USEC_PER_SEC},
    {NULL},
};
