/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd's own config keys ([kvp] section), in a file of their own so that the hv-kvp tool
 * reads the same section with the same checks without linking the daemon (netinfo, libnl,
 * libsystemd). Only netinfo.h's default macros are used, not its code.
 */
#include <string.h>

#include "kvp-keys.h"
#include "netinfo.h"
#include "shared/time-util.h"

/* netconf.c's netconf_backend_names, repeated: this file links no daemon code. */
static const char *const set_ip_backends[] = {"auto",  "networkmanager", "networkd", "ifupdown",
					      "ifcfg", "script",         NULL};

static const char *check_script_path(const struct conf *c, const char *value)
{
	return value[0] == '\0' || value[0] == '/' ? NULL : "is not an absolute path";
}

static const char *check_backend(const struct conf *c, const char *value)
{
	if (strcmp(value, "script") == 0 && conf_get_string(c, "set-ifconfig-script")[0] == '\0')
		return "needs set-ifconfig-script=";
	return NULL;
}

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
    {"set-ip-backend", CONF_ENUM, "auto",
     "the network stack SET_IP_INFO configures (auto: the one that manages the interface)", 0, 0,
     set_ip_backends, check_backend},
    {"set-ifconfig-script", CONF_STRING, "",
     "a site's hv_set_ifconfig run for SET_IP_INFO (script backend; empty: none)", 0, 0, NULL,
     check_script_path},
    {"set-ip-timeout", CONF_DURATION, "20s",
     "when SET_IP_INFO is answered at the latest (the kernel gives up after 30s)", 100000,
     25 * USEC_PER_SEC},
    {"sysfs-net-dir", CONF_PATH, "/sys/class/net",
     "where the interfaces and their VMBus device ids are read"},
    {"networkd-dir", CONF_PATH, "/etc/systemd/network", "systemd-networkd's configuration"},
    {"networkd-run-dir", CONF_PATH, "/run/systemd/netif", "systemd-networkd's runtime state"},
    {"nm-run-dir", CONF_PATH, "/run/NetworkManager", "NetworkManager's runtime state"},
    {"ifupdown-interfaces", CONF_PATH, "/etc/network/interfaces", "ifupdown's main file"},
    {"ifupdown-dir", CONF_PATH, "/etc/network/interfaces.d", "ifupdown's included files"},
    {"ifupdown-state-dir", CONF_PATH, "/run/network", "ifupdown's state (ifstate)"},
    {"ifup-path", CONF_PATH, "/sbin/ifup", "ifupdown's ifup"},
    {"ifdown-path", CONF_PATH, "/sbin/ifdown", "ifupdown's ifdown"},
    {"ifcfg-dir", CONF_PATH, "/etc/sysconfig/network-scripts", "ifcfg files (RHEL family)"},
    {"bus-address", CONF_STRING, "",
     "D-Bus address the SET_IP_INFO backends use (empty: the system bus)"},
    {NULL},
};
