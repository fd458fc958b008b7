/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-networkd.c: the SET_IP_INFO backend for systemd-networkd (netconf.h).
 *
 * What it writes: one file, <networkd_dir>/05-hvguest-<ifname>.network, matching the adapter
 * by Name= AND MACAddress= (the name alone could follow a rename, the MAC alone also matches
 * an SR-IOV virtual function that shares the synthetic adapter's MAC), with DHCP=, Address=,
 * Gateway=, DNS=, IPv6AcceptRA= and LinkLocalAddressing= as netconf.h's semantics ask. The
 * file is replaced atomically (netconf_write_file), never edited.
 *
 * Precedence: networkd gives a link the first .network file, in lexical order of the file
 * names over all its directories, whose [Match] matches. "05-" sorts before what cloud
 * images generate (netplan's 10-netplan-*, cloud-init's 10-cloud-init-*) and what packages
 * ship (20-wired, 80-*, 99-*), so ours wins over them; a file of the administrator's that
 * sorts earlier and matches this link wins over ours. That is detected from networkd's own
 * answer, not guessed: as soon as the link has picked its file, Link.Describe()'s
 * NetworkFile must be ours, else apply() fails with -EEXIST and logs which file won, and the
 * core rolls back (the administrator decides: remove that file, or narrow its [Match]).
 *
 * How it is applied: over D-Bus (sd-bus, a connection of its own per call, env->bus_address
 * or the system bus, no auto-start so that a machine without networkd never gets one
 * started): Manager.Reload() (networkd 252 re-reads its files and reconfigures the links
 * whose file changed), then Manager.ReconfigureLink(ifindex), which re-applies even an
 * unchanged file. Both only start the work (networkd first asks the kernel for the link,
 * then reconfigures it from that answer), so their replies say nothing about the result.
 *
 * When it is applied: before Reload we subscribe to the link object's PropertiesChanged
 * signals, and a verdict counts only once networkd has been seen working on the link since
 * (AdministrativeState passing through initialized/configuring): a "configured" read
 * before that belongs to the previous file. Then we poll AdministrativeState over the same
 * connection (networkd's in-memory state; its state file is written later, on its own
 * schedule), waking early on a signal:
 *   configured   -> applied, once every static address and gateway of the request is on
 *                   the link in the kernel (rtnetlink), as the core verifies next;
 *   failed       -> -EIO (networkd gave up on the link: the kernel refused a setting);
 *   unmanaged, linger -> -ENODEV (no file matches / the link is gone);
 *   configuring  -> applied as well when the request has a dynamic part (IPv4 DHCP, IPv6
 *                   router advertisements) and its static items are on the link: networkd
 *                   stays "configuring" until a lease or an RA arrives, which may be never
 *                   on a host without DHCP or routers.
 * Anything else, or no answer, until env->deadline_usec: -ETIME. (A gateway outside every
 * subnet of the link is one: networkd 252 waits for it to become reachable, "configuring".)
 *
 * manages(): the link's state file says networkd manages it (ADMIN_STATE neither unmanaged
 * nor linger) and networkd runs now (org.freedesktop.network1 has an owner on the bus; its
 * state directory outlives it). save()/restore(): the one file we write; restore() puts it
 * back (or removes it: networkd then unmanages the link and drops what it had configured
 * from our file) and reloads/reconfigures the same way, waiting until the link is
 * configured, unmanaged or failed; still "configuring" at the deadline (the old file waits
 * for DHCP or a router) counts as restored. It gets at least NETWORKD_RESTORE_MIN_USEC, as
 * it usually runs right after apply() used up its deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <json-c/json.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define NETWORKD_FILE_PREFIX "05-hvguest-"
#define NETWORKD_BUS_NAME "org.freedesktop.network1"
#define NETWORKD_BUS_PATH "/org/freedesktop/network1"
#define NETWORKD_MANAGER_IFACE "org.freedesktop.network1.Manager"
#define NETWORKD_LINK_IFACE "org.freedesktop.network1.Link"
#define NETWORKD_POLL_USEC (50 * USEC_PER_MSEC)
/* restore() runs after a failed apply(), often at its deadline: it gets at least this long. */
#define NETWORKD_RESTORE_MIN_USEC (5 * USEC_PER_SEC)
/* manages() has no deadline of its own. */
#define NETWORKD_PROBE_USEC (2 * USEC_PER_SEC)
#define NETWORKD_STATE_MAX (64 * 1024)

static char *network_file_path(const struct netconf_env *env, const char *ifname)
{
	g_autofree char *name = g_strconcat(NETWORKD_FILE_PREFIX, ifname, ".network", NULL);

	return g_build_filename(env->networkd_dir ? env->networkd_dir : "/etc/systemd/network",
				name, NULL);
}

static const char *run_dir(const struct netconf_env *env)
{
	return env->networkd_run_dir ? env->networkd_run_dir : "/run/systemd/netif";
}

static bool has_dynamic_part(const struct netconf *cfg)
{
	return cfg->ipv4 == NETCONF_METHOD_AUTO || cfg->ipv6 == NETCONF_METHOD_AUTO;
}

/* ---------------------------------------------------------------- the file */

static bool guid_is_plain(const char *guid)
{
	return guid[0] && strspn(guid, "0123456789abcdefABCDEF{}-") == strlen(guid);
}

static void append_list(GString *s, const char *key, const struct netconf_addr *a, size_t n,
			bool with_prefix)
{
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(s, "%s=%s", key, a[i].text);
		if (with_prefix)
			g_string_append_printf(s, "/%u", a[i].prefix);
		g_string_append_c(s, '\n');
	}
}

static char *render_network_file(const struct netconf *cfg)
{
	const struct netconf_target *t = &cfg->target;
	GString *s = g_string_new(NULL);

	g_string_append_printf(
	    s, "# Written by hv-kvpd: the Hyper-V host's network settings for %s", t->ifname);
	if (guid_is_plain(t->guid))
		g_string_append_printf(s, " (adapter %s)", t->guid);
	g_string_append(s, ".\n# The host's next SET_IP_INFO request replaces this file.\n");
	g_string_append_printf(s, "[Match]\nName=%s\nMACAddress=%s\n\n[Network]\n", t->ifname,
			       t->mac_text);
	g_string_append_printf(s, "DHCP=%s\n", cfg->ipv4 == NETCONF_METHOD_AUTO ? "ipv4" : "no");
	/* IPv6 link-local stays (neighbour discovery needs it); no IPv4 link-local. */
	g_string_append(s, "LinkLocalAddressing=ipv6\n");
	g_string_append_printf(s, "IPv6AcceptRA=%s\n",
			       cfg->ipv6 == NETCONF_METHOD_AUTO ? "yes" : "no");
	append_list(s, "Address", cfg->addrs, cfg->n_addrs, true);
	append_list(s, "Gateway", cfg->gateways, cfg->n_gateways, false);
	append_list(s, "DNS", cfg->dns, cfg->n_dns, false);
	/* The host's DNS servers replace the interface's: none learnt from DHCP or RAs. */
	if (cfg->n_dns > 0 && cfg->ipv4 == NETCONF_METHOD_AUTO)
		g_string_append(s, "\n[DHCPv4]\nUseDNS=no\n");
	if (cfg->n_dns > 0 && cfg->ipv6 == NETCONF_METHOD_AUTO)
		g_string_append(s, "\n[IPv6AcceptRA]\nUseDNS=no\n\n[DHCPv6]\nUseDNS=no\n");
	return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- networkd's state file */

/* KEY= of the env-style link state file, NULL if absent (g_free). */
static char *state_value(const char *text, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	size_t klen = strlen(key);

	for (size_t i = 0; lines[i]; i++)
		if (strncmp(lines[i], key, klen) == 0 && lines[i][klen] == '=')
			return g_strdup(lines[i] + klen + 1);
	return NULL;
}

static char *link_state_value(const struct netconf_env *env, int ifindex, const char *key)
{
	g_autofree char *name = g_strdup_printf("links/%d", ifindex);
	g_autofree char *path = g_build_filename(run_dir(env), name, NULL);
	g_autofree char *text = NULL;

	if (read_small_file(path, NETWORKD_STATE_MAX, &text, NULL) < 0)
		return NULL;
	return state_value(text, key);
}

/* ---------------------------------------------------------------- the kernel's view */

static bool addr_live(struct nl_cache *addrs, int ifindex, const struct netconf_addr *want)
{
	size_t len = want->family == AF_INET ? 4 : 16;

	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(ra);

		if (rtnl_addr_get_ifindex(ra) == ifindex && local &&
		    rtnl_addr_get_family(ra) == want->family && nl_addr_get_len(local) == len &&
		    memcmp(nl_addr_get_binary_addr(local), &want->in6, len) == 0 &&
		    rtnl_addr_get_prefixlen(ra) == (int)want->prefix)
			return true;
	}
	return false;
}

static bool gateway_live(struct nl_cache *routes, int ifindex, const struct netconf_addr *want)
{
	size_t len = want->family == AF_INET ? 4 : 16;

	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		int n = rtnl_route_get_nnexthops(rt);

		if (rtnl_route_get_family(rt) != want->family ||
		    rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
		    (dst && nl_addr_get_prefixlen(dst) != 0))
			continue;
		for (int i = 0; i < n; i++) {
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
			struct nl_addr *gw = nh ? rtnl_route_nh_get_gateway(nh) : NULL;

			if (gw && rtnl_route_nh_get_ifindex(nh) == ifindex &&
			    nl_addr_get_len(gw) == len &&
			    memcmp(nl_addr_get_binary_addr(gw), &want->in6, len) == 0)
				return true;
		}
	}
	return false;
}

/* 1 when every static address and gateway of cfg is on its link, 0 if not yet. */
static int statics_live(const struct netconf *cfg)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *addrs = NULL, *routes = NULL;
	int r = 1, ifindex = cfg->target.ifindex;

	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE) < 0 || rtnl_addr_alloc_cache(sk, &addrs) < 0 ||
	    rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes) < 0)
		r = -EIO;
	for (size_t i = 0; r == 1 && i < cfg->n_addrs; i++)
		if (!addr_live(addrs, ifindex, &cfg->addrs[i]))
			r = 0;
	for (size_t i = 0; r == 1 && i < cfg->n_gateways; i++)
		if (!gateway_live(routes, ifindex, &cfg->gateways[i]))
			r = 0;
	if (addrs)
		nl_cache_free(addrs);
	if (routes)
		nl_cache_free(routes);
	nl_socket_free(sk);
	return r;
}

/* ---------------------------------------------------------------- D-Bus */

/* Time left until deadline, or -ETIME. (A timeout of 0 would mean sd-bus's default.) */
static int time_left(uint64_t deadline, uint64_t *ret_usec)
{
	uint64_t now = now_usec();

	if (now >= deadline)
		return -ETIME;
	*ret_usec = deadline - now;
	return 0;
}

static int bus_call(sd_bus *bus, uint64_t deadline, const char *path, const char *iface,
		    const char *member, sd_bus_message **ret_reply, const char *types, ...)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = netconf_bus_callv(bus, deadline, &error, NETWORKD_BUS_NAME, path, iface, member,
			      ret_reply, types, ap);
	va_end(ap);
	if (r < 0 && sd_bus_error_is_set(&error))
		log_debug("systemd-networkd %s: %s", member, error.message ?: error.name);
	return r;
}

static int link_object_path(sd_bus *bus, uint64_t deadline, int ifindex, char **ret_path)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *name = NULL, *path = NULL;
	int r;

	r = bus_call(bus, deadline, NETWORKD_BUS_PATH, NETWORKD_MANAGER_IFACE, "GetLinkByIndex",
		     &reply, "i", ifindex);
	if (r >= 0)
		r = sd_bus_message_read(reply, "so", &name, &path);
	if (r < 0)
		return r;
	*ret_path = g_strdup(path);
	return 0;
}

static int admin_state(sd_bus *bus, uint64_t deadline, const char *link_path, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *state = NULL;
	int r;

	r = bus_call(bus, deadline, link_path, "org.freedesktop.DBus.Properties", "Get", &reply,
		     "ss", NETWORKD_LINK_IFACE, "AdministrativeState");
	if (r >= 0)
		r = sd_bus_message_read(reply, "v", "s", &state);
	if (r < 0)
		return r;
	*ret = g_strdup(state);
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* 0 if networkd configures the link from our file, -EEXIST if another file wins. Asked with
 * Link.Describe(), networkd's in-memory view (NetworkFile), set before the link leaves
 * "initialized": the state file could still name the file of a moment ago. */
static int check_network_file(sd_bus *bus, uint64_t deadline, const char *link_path,
			      const char *ifname, const char *ours)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct json_object *root = NULL, *file = NULL;
	const char *json = NULL, *used = NULL;
	int r;

	r = bus_call(bus, deadline, link_path, NETWORKD_LINK_IFACE, "Describe", &reply, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &json);
	if (r < 0)
		return r;
	root = json_tokener_parse(json);
	if (root && json_object_object_get_ex(root, "NetworkFile", &file))
		used = json_object_get_string(file);
	if (!used || same_file(used, ours))
		r = used ? 0 : -EPROTO;
	else
		r = log_warning_errno(-EEXIST,
				      "systemd-networkd configures %s from %s, which sorts before "
				      "%s and matches the link: not applied",
				      ifname, used, ours);
	json_object_put(root);
	return r;
}

enum wait_for {
	WAIT_APPLIED, /* apply(): configured, or configuring with every static item live */
	WAIT_SETTLED, /* restore(): whatever the old file asks, as far as networkd got */
};

/* 1 when done, 0 to poll again, -errno on a verdict. */
static int judge_state(const char *state, enum wait_for what, const struct netconf *cfg)
{
	if (strcmp(state, "configured") == 0)
		return what == WAIT_APPLIED ? statics_live(cfg) : 1;
	if (strcmp(state, "failed") == 0)
		return -EIO;
	if (strcmp(state, "linger") == 0)
		return -ENODEV;
	if (strcmp(state, "unmanaged") == 0)
		return what == WAIT_SETTLED ? 1 : -ENODEV;
	if (strcmp(state, "configuring") == 0 && what == WAIT_APPLIED && has_dynamic_part(cfg))
		return statics_live(cfg);
	return 0;
}

/* The states in which networkd has picked the link's .network file. */
static bool has_network(const char *state)
{
	return strcmp(state, "configuring") == 0 || strcmp(state, "configured") == 0 ||
	       strcmp(state, "failed") == 0;
}

/* Whether networkd has been seen working on the link since we asked: its AdministrativeState
 * passing through a transient state, from the PropertiesChanged signals of the link object
 * (a reconfiguration always goes through "initialized"). A "configured" or "failed" read
 * before that may belong to the previous file. */
struct link_watch {
	bool moved;
};

static bool is_transient(const char *state)
{
	return strcmp(state, "pending") == 0 || strcmp(state, "initialized") == 0 ||
	       strcmp(state, "configuring") == 0;
}

static int on_link_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct link_watch *w = userdata;
	const char *iface = NULL;
	int r = sd_bus_message_read(m, "s", &iface);

	if (r < 0 || strcmp(iface, NETWORKD_LINK_IFACE) != 0)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *name = NULL, *state = NULL;

		r = sd_bus_message_read(m, "s", &name);
		if (r >= 0 && strcmp(name, "AdministrativeState") == 0) {
			r = sd_bus_message_read(m, "v", "s", &state);
			if (r >= 0 && is_transient(state))
				w->moved = true;
		} else if (r >= 0) {
			r = sd_bus_message_skip(m, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return 0;
}

static int watch_link(sd_bus *bus, uint64_t deadline, const char *link_path, struct link_watch *w,
		      sd_bus_slot **ret_slot)
{
	uint64_t left = 0;
	int r = time_left(deadline, &left);

	if (r >= 0)
		r = sd_bus_set_method_call_timeout(bus, left);
	if (r >= 0)
		r = sd_bus_match_signal(bus, ret_slot, NULL, link_path,
					"org.freedesktop.DBus.Properties", "PropertiesChanged",
					on_link_changed, w);
	if (r == -ETIMEDOUT)
		r = -ETIME;
	return r;
}

static int drain(sd_bus *bus)
{
	int r;

	while ((r = sd_bus_process(bus, NULL)) > 0)
		;
	return r;
}

/* A verdict on the link for `what`: 1 done, 0 poll again, -errno. Without a sign of our
 * reconfiguration, unmanaged and linger still count once two polls in a row read them:
 * networkd leaves such a link as it is, emitting nothing, while a reconfiguration leaves
 * "unmanaged" within a netlink round trip. */
static int judge(const char *state, const char *last, enum wait_for what, const struct netconf *cfg,
		 bool moved)
{
	bool stable = last && strcmp(last, state) == 0;

	if (what == WAIT_APPLIED && !moved &&
	    !(stable && (strcmp(state, "unmanaged") == 0 || strcmp(state, "linger") == 0)))
		return 0;
	return judge_state(state, what, cfg);
}

/* For restore(): still "configuring" when time is up means the old file waits for DHCP or
 * a router, which networkd keeps doing on its own. */
static int wait_link(sd_bus *bus, uint64_t deadline, const char *link_path, enum wait_for what,
		     const struct netconf *cfg, const char *ours, const struct link_watch *w)
{
	g_autofree char *last = NULL;
	bool checked = !ours;

	for (;;) {
		g_autofree char *state = NULL;
		uint64_t left = 0;
		int r = admin_state(bus, deadline, link_path, &state);

		if (r >= 0)
			r = drain(bus);
		if (r >= 0 && !checked && w->moved && has_network(state)) {
			r = check_network_file(bus, deadline, link_path, cfg->target.ifname, ours);
			checked = true;
		}
		if (r >= 0) {
			r = judge(state, last, what, cfg, w->moved);
			if (r < 0)
				log_debug("systemd-networkd: %s is %s", link_path, state);
			if (r != 0)
				return MIN(r, 0);
			g_free(last);
			last = g_steal_pointer(&state);
			r = time_left(deadline, &left);
		}
		if (r == -ETIME && what == WAIT_SETTLED && last && strcmp(last, "configuring") == 0)
			return 0;
		if (r < 0)
			return r;
		r = sd_bus_wait(bus, MIN(left, NETWORKD_POLL_USEC));
		if (r < 0)
			return r;
	}
}

/* Watch the link, Reload, ReconfigureLink, then wait as `what` says. */
static int reload_and_wait(const struct netconf_env *env, const struct netconf_target *t,
			   uint64_t deadline, enum wait_for what, const struct netconf *cfg,
			   const char *ours)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	g_autofree char *link_path = NULL;
	struct link_watch w = {};
	int r;

	r = netconf_bus_open(env->bus_address, &bus);
	if (r < 0)
		return log_warning_errno(r, "Cannot reach systemd-networkd on the bus, giving up");
	r = link_object_path(bus, deadline, t->ifindex, &link_path);
	if (r >= 0 && watch_link(bus, deadline, link_path, &w, &slot) < 0) {
		/* Without the signals, the first verdict is taken as it comes. */
		log_debug("Cannot watch %s for changes, polling only", link_path);
		w.moved = true;
	}
	if (r >= 0)
		r = bus_call(bus, deadline, NETWORKD_BUS_PATH, NETWORKD_MANAGER_IFACE, "Reload",
			     NULL, NULL);
	if (r >= 0)
		r = bus_call(bus, deadline, NETWORKD_BUS_PATH, NETWORKD_MANAGER_IFACE,
			     "ReconfigureLink", NULL, "i", t->ifindex);
	if (r >= 0)
		r = wait_link(bus, deadline, link_path, what, cfg, ours, &w);
	if (r < 0 && r != -EEXIST)
		log_warning_errno(r, "systemd-networkd did not apply %s to %s, giving up",
				  ours ? ours : "the restored configuration", t->ifname);
	return MIN(r, 0);
}

/* ---------------------------------------------------------------- the operations */

static int networkd_manages(const struct netconf_env *env, const struct netconf_target *t)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	g_autofree char *admin = link_state_value(env, t->ifindex, "ADMIN_STATE");
	int has_owner = 0, r;

	if (!admin || !admin[0] || strcmp(admin, "unmanaged") == 0 || strcmp(admin, "linger") == 0)
		return 0;
	r = netconf_bus_open(env->bus_address, &bus);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.DBus",
						   "/org/freedesktop/DBus", "org.freedesktop.DBus",
						   "NameHasOwner");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", NETWORKD_BUS_NAME);
	if (r >= 0)
		r = sd_bus_call(bus, m, NETWORKD_PROBE_USEC, NULL, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has_owner);
	if (r < 0) {
		log_debug_errno(r,
				"Cannot ask the bus whether systemd-networkd runs, assuming not");
		return 0;
	}
	return has_owner ? 1 : 0;
}

static int networkd_save(const struct netconf_env *env, const struct netconf_target *t,
			 void **ret_saved)
{
	g_autofree char *path = network_file_path(env, t->ifname);
	const char *paths[] = {path};
	struct netconf_saved_files *saved = NULL;
	int r = netconf_save_files(paths, 1, &saved);

	if (r < 0)
		return log_warning_errno(r, "Cannot save %s for a rollback", path);
	*ret_saved = saved;
	return 0;
}

static int networkd_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	g_autofree char *path = network_file_path(env, cfg->target.ifname);
	g_autofree char *text = render_network_file(cfg);
	int r;

	r = netconf_write_file(path, text, strlen(text), 0644);
	if (r < 0)
		return log_warning_errno(r, "Cannot write %s", path);
	return reload_and_wait(env, &cfg->target, env->deadline_usec, WAIT_APPLIED, cfg, path);
}

static int networkd_restore(const struct netconf_env *env, const struct netconf_target *t,
			    void *saved)
{
	uint64_t deadline = MAX(env->deadline_usec, now_usec() + NETWORKD_RESTORE_MIN_USEC);
	int r = netconf_restore_files(saved);

	if (r < 0)
		return log_warning_errno(r, "Cannot put back systemd-networkd's file for %s",
					 t->ifname);
	return reload_and_wait(env, t, deadline, WAIT_SETTLED, NULL, NULL);
}

static void networkd_free_saved(void *saved)
{
	netconf_saved_files_free(saved);
}

const struct netconf_backend netconf_backend_networkd = {
    .name = "networkd",
    .manages = networkd_manages,
    .save = networkd_save,
    .apply = networkd_apply,
    .restore = networkd_restore,
    .free_saved = networkd_free_saved,
};
