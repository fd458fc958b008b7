/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SET_IP_INFO: the host's static (or DHCP) network configuration for one adapter, as a
 * validated model (struct netconf), and the interface every network-stack backend
 * implements (struct netconf_backend).
 *
 * Layers:
 *   netconf-parse.c    host strings (docs/protocol.md §3.7) -> struct netconf, or -EINVAL;
 *                      nothing is touched before the whole request is valid.
 *   netconf.c          the core: adapter lookup by VMBus device GUID (sysfs, never host text
 *                      for names), backend choice, save -> apply -> verify (netlink) ->
 *                      restore on failure, the deadline, the worker thread.
 *   netconf-file.c     atomic file writes and the saved copies used for a rollback.
 *   netconf-<stack>.c  one backend each: networkmanager, networkd, ifupdown, ifcfg, script.
 *
 * Threading: apply() and restore() run on a worker thread, one request at a time; a backend
 * keeps no global state and opens its own bus connection per call. They return -errno and
 * may log through log.h.
 *
 * Semantics every backend implements the same way:
 *   - IPv4: dhcp -> DHCP; else the static addresses (several), or none at all
 *     (NETCONF_METHOD_DISABLED) when the request has no IPv4 address.
 *   - IPv6: the static addresses when the request has any, else NETCONF_METHOD_AUTO
 *     (router advertisements / DHCPv6, as the stack does by default).
 *   - Gateways become default routes of their family on this interface; DNS servers
 *     replace the interface's DNS servers. The previous configuration of this interface,
 *     as far as this backend owns it, is replaced, not merged.
 */
#ifndef KVP_NETCONF_H
#define KVP_NETCONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* Bounds on what one request may carry; the host's strings are at most 1024 bytes, so a
 * list cannot hold more than ~64 IPv4 items anyway. More items -> -E2BIG (HV_INVALIDARG). */
#define NETCONF_MAX_ADDRS 64
#define NETCONF_MAX_GATEWAYS 16
#define NETCONF_MAX_DNS 16

/* How long a rollback may take, after a failure or the reply deadline. */
#define NETCONF_RESTORE_USEC (10 * 1000 * 1000ULL)

enum netconf_method {
	NETCONF_METHOD_DISABLED, /* no configuration for this family (IPv4 only) */
	NETCONF_METHOD_AUTO,     /* DHCP for IPv4; RA/DHCPv6 for IPv6 */
	NETCONF_METHOD_STATIC,
};

struct netconf_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr in;
		struct in6_addr in6;
	};
	unsigned prefix;             /* 0..32 / 0..128; 0 for gateways and DNS servers */
	char text[INET6_ADDRSTRLEN]; /* canonical inet_ntop() text, no prefix */
};

/* The adapter, as the kernel names it: ifname is a sysfs directory entry whose
 * device/device_id equals the host's GUID, checked against rtnetlink (ifindex, MAC). Never
 * host text. ifname is a valid interface name ([A-Za-z0-9_.-], 1..15 bytes, not "." or
 * ".."), so file names built from it are safe. */
struct netconf_target {
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	char mac_text[18]; /* "00:15:5D:AA:BB:CC", upper case, as the reference writes HWADDR */
	char guid[40];     /* the device GUID "{...}", lower case, as sysfs has it */
};

struct netconf {
	struct netconf_target target;
	bool dhcp;           /* the host's dhcp_enabled */
	uint8_t addr_family; /* the host's addr_family byte, informational */
	enum netconf_method ipv4, ipv6;
	size_t n_addrs; /* both families, in the host's order */
	struct netconf_addr addrs[NETCONF_MAX_ADDRS];
	size_t n_gateways;
	struct netconf_addr gateways[NETCONF_MAX_GATEWAYS];
	size_t n_dns;
	struct netconf_addr dns[NETCONF_MAX_DNS];
};

/* Where things are: every path configurable (hvguest.conf [kvp] keys, tests). Owned by the
 * core; backends only read it. */
struct netconf_env {
	const char *sysfs_net_dir;       /* /sys/class/net */
	const char *state_dir;           /* /var/lib/hyperv: ifcfg-<if> for the script, saves */
	const char *networkd_dir;        /* /etc/systemd/network */
	const char *networkd_run_dir;    /* /run/systemd/netif (is networkd running?) */
	const char *nm_run_dir;          /* /run/NetworkManager */
	const char *ifupdown_interfaces; /* /etc/network/interfaces */
	const char *ifupdown_dir;        /* /etc/network/interfaces.d */
	const char *ifupdown_state_dir;  /* /run/network (ifstate) */
	const char *ifup_path;           /* /sbin/ifup */
	const char *ifdown_path;         /* /sbin/ifdown */
	const char *ifcfg_dir;           /* /etc/sysconfig/network-scripts */
	const char *script_path;         /* set-ifconfig-script=, NULL: none */
	const char *bus_address;         /* NULL: the system bus; tests: a private bus */
	uint64_t deadline_usec;          /* CLOCK_MONOTONIC µs by which apply() must return */
};

struct netconf_backend {
	const char *name; /* "networkmanager", "networkd", "ifupdown", "ifcfg", "script" */
	/* 1 if this stack manages t now (is running and owns the interface), 0 if not. */
	int (*manages)(const struct netconf_env *env, const struct netconf_target *t);
	/* Captures this stack's current configuration of t (files, profiles), for restore(). */
	int (*save)(const struct netconf_env *env, const struct netconf_target *t,
		    void **ret_saved);
	/* Writes cfg the way this stack stores it (atomically) and applies it; returns once the
	 * stack reports it applied, failed, or env->deadline_usec passed (-ETIME). */
	int (*apply)(const struct netconf_env *env, const struct netconf *cfg);
	/* Puts back what save() captured and re-applies it. env->deadline_usec is then the
	 * restore's own: NETCONF_RESTORE_USEC from when it starts. */
	int (*restore)(const struct netconf_env *env, const struct netconf_target *t, void *saved);
	void (*free_saved)(void *saved);
};

extern const struct netconf_backend netconf_backend_networkmanager;
extern const struct netconf_backend netconf_backend_networkd;
extern const struct netconf_backend netconf_backend_ifupdown;
extern const struct netconf_backend netconf_backend_ifcfg;
extern const struct netconf_backend netconf_backend_script;

/* ---------------------------------------------------------------- netconf.c */

/* set-ip-backend= values: "auto" then the backends' names; NULL-terminated. */
extern const char *const netconf_backend_names[];
/* The backend of that name if it is built in, else NULL. */
const struct netconf_backend *netconf_backend_lookup(const char *name);
/* choice "auto" (or NULL): the first backend whose manages() says yes (script, ifcfg,
 * networkmanager, networkd, ifupdown); else that backend. -ENOENT none manages t,
 * -EOPNOTSUPP the named one is not built in. */
int netconf_choose_backend(const struct netconf_env *env, const char *choice,
			   const struct netconf_target *t, const struct netconf_backend **ret);
/* [A-Za-z0-9_.-], 1..IF_NAMESIZE-1 bytes, not "." or "..". */
bool netconf_ifname_valid(const char *name);
/* The interface whose <sysfs_net_dir>/<if>/device/device_id is guid (either case), with its
 * ifindex and MAC from rtnetlink. -EINVAL guid malformed, -ENODEV no such interface. */
int netconf_find_target(const char *sysfs_net_dir, const char *guid, struct netconf_target *ret);
/* Whether every static address (with its prefix) and every gateway's default route of cfg
 * is on cfg->target now, looking again until deadline_usec. 0, -EADDRNOTAVAIL (logged). */
int netconf_verify(const struct netconf *cfg, uint64_t deadline_usec);

/* One SET_IP_INFO in a worker thread (choose, save, apply, verify, restore on failure).
 * reply() is called once from the event loop: with the worker's result when it ends
 * first (0 applied and verified; -errno failed and rolled back, -ENOENT no stack manages
 * the interface, -EOPNOTSUPP backend not built in), or with -ETIME at reply_deadline_usec
 * (the worker then rolls back whatever it applies). finished() follows once the worker
 * ended: the job may be freed from it. env and cfg are copied. */
struct netconf_job;
struct netconf_job_callbacks {
	void (*reply)(void *userdata, int result);
	void (*finished)(void *userdata, int result);
};
int netconf_job_start(sd_event *e, const struct netconf_env *env, const char *backend,
		      const struct netconf *cfg, uint64_t reply_deadline_usec,
		      const struct netconf_job_callbacks *cb, void *userdata,
		      struct netconf_job **ret);
bool netconf_job_running(const struct netconf_job *j);
/* The backend chosen, once chosen, else NULL. */
const char *netconf_job_backend(const struct netconf_job *j);
/* Waits for the worker (bounded by the deadline and a restore), then frees. */
struct netconf_job *netconf_job_free(struct netconf_job *j);

/* ---------------------------------------------------------------- netconf-script.c */

/* The files the script backend writes for the site's hv_set_ifconfig (docs/protocol.md
 * §3.7), as text: ifcfg-<if> and <if>.nmconnection. g_free() them. */
char *netconf_script_ifcfg_text(const struct netconf *cfg);
char *netconf_script_nmconnection_text(const struct netconf *cfg);

/* ---------------------------------------------------------------- netconf-parse.c */

/* What the kernel hands over for SET_IP_INFO (docs/protocol.md §3.2, §3.7): UTF-8,
 * NUL-terminated, converted from the host's UTF-16 with these byte budgets. A string that
 * reaches its budget may have been cut by the kernel in the middle of an item. */
#define NETCONF_ADAPTER_ID_BUDGET 128
#define NETCONF_IP_ADDR_BUDGET 1024
#define NETCONF_SUB_NET_BUDGET 1024
#define NETCONF_GATE_WAY_BUDGET 512
#define NETCONF_DNS_ADDR_BUDGET 1024

struct netconf_request {
	const char *adapter_id; /* "{guid}" */
	uint8_t addr_family;    /* 0..3: OR of 1 (IPv4) and 2 (IPv6), informational */
	uint8_t dhcp_enabled;   /* 0 or 1 */
	const char *ip_addr, *sub_net, *gate_way, *dns_addr;
};

/* Validates the whole request into *ret (target.guid set, the rest of target zeroed): every
 * list, item, address, mask and count, and the methods (netconf.h semantics). Nothing else
 * is looked at or touched. -EINVAL (malformed) or -E2BIG (too many items), with a one-line
 * reason in err (err_size bytes, may be 0) for the log; *ret untouched on failure. */
int netconf_parse(const struct netconf_request *req, struct netconf *ret, char *err,
		  size_t err_size);

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", hex digits of either case, nothing around it
 * -> the same in lower case (39 bytes + NUL). -EINVAL otherwise. */
int netconf_parse_guid(const char *text, char ret[40]);

/* How many of the n items of list are of family (AF_INET or AF_INET6). */
static inline size_t netconf_count_family(const struct netconf_addr *list, size_t n, int family)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += list[i].family == family;
	return count;
}

/* ---------------------------------------------------------------- netconf-file.c */

/* hv-kvpd's one way onto D-Bus, for the backends and for dns.c: a new connection of the
 * caller's own (the backends run on a worker thread), to the system bus when address is
 * NULL, else to that address (a private bus in tests; "" is refused with -EHOSTUNREACH).
 * Free it with sd_bus_close_unref(). */
int netconf_bus_open(const char *address, sd_bus **ret);

/* A method call with the arguments of types from ap, that never starts its destination by bus
 * activation, bounded by deadline_usec (CLOCK_MONOTONIC): -ETIME when it has passed or the call
 * times out. A D-Bus error is left in *ret_error (optional) for the caller's log. */
int netconf_bus_callv(sd_bus *bus, uint64_t deadline_usec, sd_bus_error *ret_error,
		      const char *dest, const char *path, const char *iface, const char *member,
		      sd_bus_message **ret_reply, const char *types, va_list ap);

/* Writes data to path atomically: a temporary in the same directory (O_EXCL, mode), fsync,
 * rename, fsync of the directory. Creates no directory. */
int netconf_write_file(const char *path, const char *data, size_t len, unsigned mode);

/* A saved copy of files, for a rollback: each path's content, or that it did not exist. */
struct netconf_saved_files;
int netconf_save_files(const char *const *paths, size_t n, struct netconf_saved_files **ret);
/* Puts every file back as it was (rewrites it atomically, or removes it). */
int netconf_restore_files(const struct netconf_saved_files *s);
struct netconf_saved_files *netconf_saved_files_free(struct netconf_saved_files *s);

/* Runs argv[0] with argv (no shell, stdin /dev/null, stdout+stderr captured up to 4 KiB
 * into *ret_output if not NULL, its own process group killed at deadline_usec). Returns the
 * exit status (0..255), -ETIME, or -errno. */
int netconf_run(const char *const *argv, uint64_t deadline_usec, char **ret_output);

#endif
