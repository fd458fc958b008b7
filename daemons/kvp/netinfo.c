/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network facts for the KVP host, read over rtnetlink with libnl-route.
 *
 * Every query dumps links, addresses and routes afresh into libnl caches on one long-lived
 * netlink socket and frees them afterwards: the host asks rarely (ENUMERATE of the auto pool,
 * GET_IP_INFO), and a fresh dump is always right after links come and go.
 *
 * Intrinsic lists (NetworkAddressIPv4/IPv6):
 *  - interfaces pass the name filter (fnmatch globs; exclude wins over include);
 *  - loopback addresses (127.0.0.0/8, ::1) never appear, IPv6 link-local only on request,
 *    addresses whose duplicate address detection failed never;
 *  - order: the primary interface (the lowest-metric IPv4 default route's device in the main
 *    table, else IPv6's), then the others by ifindex; within one interface the kernel's dump
 *    order, which lists the primary address first;
 *  - the joined list stops before the first address that would not fit the host's 1022
 *    characters; every address from there on counts as left out (the caller logs it once).
 *
 * GET_IP_INFO:
 *  - the adapter is the interface whose 6-byte MAC equals the parsed adapter_id; names are
 *    never compared, so eth1 never catches eth10;
 *  - several interfaces may share a MAC (a netvsc interface and its SR-IOV VF, bond members):
 *    the first, by ifindex, that has an address wins, else the first; this matches the
 *    reference's "first match with a non-empty address list" without its name-prefix bug;
 *  - all its addresses (link-local included, loopback never), both families whatever the
 *    request's addr_family says, as the reference does; addr_family = OR of 1 (IPv4 seen)
 *    and 2 (IPv6 seen); sub_net pairs with ip_addr item by item;
 *  - gate_way: the `via` of the main table's default routes whose nexthop leaves through
 *    THIS interface (IPv4 first, then IPv6, each by metric);
 *  - gate_way and dns_addr keep the reference's trailing ';' after each item: it is the
 *    format Hyper-V hosts have always received from Linux, and the host splits on ';';
 *  - every field stays within the kernel's limit minus the NUL, never cutting an item; an
 *    address and its mask are kept or dropped together.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glib.h>
#include <limits.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netinfo.h"
#include "hvd-spawn.h"
#include "shared/time-util.h"

const char *const netinfo_default_exclude[] = {
    "lo",     "veth*",   "docker*", "br-*",   "virbr*",        "cni*",    "flannel*", "cali*",
    "vxlan*", "tun*",    "tap*",    "kube-*", "weave*",        "podman*", "lxcbr*",   "lxdbr*",
    "lxc*",   "cilium*", "genev*",  "vnet*",  "nodelocaldns*", NULL,
};

/* cfg's strings and lists point into the copies below (or at netinfo_default_exclude):
 * the caller's config may be freed or replaced (a reload) while this object lives on. */
struct netinfo {
	struct netinfo_config cfg;
	char **include, **exclude;
	char *resolv_conf, *bus_address, *dhcp_root, *script_dir;
	struct nl_sock *sk;
};

/* One query's view of the kernel. */
struct netsnap {
	struct nl_cache *links, *addrs, *routes;
};

/* One address of an interface. */
struct netaddr {
	int ifindex;
	int family;
	unsigned prefixlen;
	char text[INET6_ADDRSTRLEN];
};

static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	default:
		return -EIO;
	}
}

/* Makes ni->cfg point only at memory ni owns (or at static defaults). */
static void netinfo_own_config(struct netinfo *ni)
{
	struct netinfo_config *c = &ni->cfg;

	ni->include = g_strdupv((char **)c->include);
	c->include = (const char *const *)ni->include;
	if (c->exclude) {
		ni->exclude = g_strdupv((char **)c->exclude);
		c->exclude = (const char *const *)ni->exclude;
	} else
		c->exclude = netinfo_default_exclude;
	c->dns.resolv_conf = ni->resolv_conf = g_strdup(c->dns.resolv_conf);
	c->dns.bus_address = ni->bus_address = g_strdup(c->dns.bus_address);
	c->dhcp.root = ni->dhcp_root = g_strdup(c->dhcp.root);
	c->script_dir = ni->script_dir = g_strdup(c->script_dir);
}

static void netinfo_free_config(struct netinfo *ni)
{
	g_strfreev(ni->include);
	g_strfreev(ni->exclude);
	g_free(ni->resolv_conf);
	g_free(ni->bus_address);
	g_free(ni->dhcp_root);
	g_free(ni->script_dir);
}

int netinfo_new(const struct netinfo_config *cfg, struct netinfo **ret)
{
	g_autofree struct netinfo *ni = g_new0(struct netinfo, 1);
	int r;

	if (cfg)
		ni->cfg = *cfg;
	if (ni->cfg.max_list_chars == 0)
		ni->cfg.max_list_chars = NETINFO_MAX_LIST_CHARS;
	ni->sk = nl_socket_alloc();
	if (!ni->sk)
		return -ENOMEM;
	r = nl_connect(ni->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(ni->sk);
		return nl_to_errno(r);
	}
	netinfo_own_config(ni);
	*ret = g_steal_pointer(&ni);
	return 0;
}

struct netinfo *netinfo_free(struct netinfo *ni)
{
	if (!ni)
		return NULL;
	nl_socket_free(ni->sk);
	netinfo_free_config(ni);
	g_free(ni);
	return NULL;
}

static void netsnap_done(struct netsnap *s)
{
	if (s->links)
		nl_cache_free(s->links);
	if (s->addrs)
		nl_cache_free(s->addrs);
	if (s->routes)
		nl_cache_free(s->routes);
	*s = (struct netsnap){0};
}

static int netsnap_load(struct netinfo *ni, struct netsnap *s)
{
	int r;

	*s = (struct netsnap){0};
	r = rtnl_link_alloc_cache(ni->sk, AF_UNSPEC, &s->links);
	if (r >= 0)
		r = rtnl_addr_alloc_cache(ni->sk, &s->addrs);
	if (r >= 0)
		r = rtnl_route_alloc_cache(ni->sk, AF_UNSPEC, 0, &s->routes);
	if (r < 0) {
		netsnap_done(s);
		return nl_to_errno(r);
	}
	return 0;
}

#define nl_cache_foreach(o, cache)                                                                 \
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))

static bool glob_match_any(const char *const *globs, const char *name)
{
	for (size_t i = 0; globs && globs[i]; i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return true;
	return false;
}

static bool interface_selected(const struct netinfo_config *cfg, const char *name)
{
	if (!name)
		return false;
	if (glob_match_any(cfg->exclude, name))
		return false;
	if (!cfg->include || !cfg->include[0])
		return true;
	return glob_match_any(cfg->include, name);
}

static bool address_is_loopback(int family, const void *bin)
{
	if (family == AF_INET)
		return ((const uint8_t *)bin)[0] == 127;
	return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)bin);
}

/* Fills a with the address of o when it is one we ever report (right family, not loopback,
 * DAD not failed); false otherwise. */
static bool netaddr_from_object(struct nl_object *o, int family, struct netaddr *a)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)o;
	struct nl_addr *local = rtnl_addr_get_local(ra);
	int fam = rtnl_addr_get_family(ra);
	size_t want = fam == AF_INET ? 4 : 16;

	if (!local || (fam != AF_INET && fam != AF_INET6) || (family != AF_UNSPEC && fam != family))
		return false;
	if (nl_addr_get_len(local) != want || (rtnl_addr_get_flags(ra) & IFA_F_DADFAILED))
		return false;
	if (address_is_loopback(fam, nl_addr_get_binary_addr(local)))
		return false;
	if (!inet_ntop(fam, nl_addr_get_binary_addr(local), a->text, sizeof(a->text)))
		return false;
	a->ifindex = rtnl_addr_get_ifindex(ra);
	a->family = fam;
	a->prefixlen = rtnl_addr_get_prefixlen(ra);
	return true;
}

static bool netaddr_is_link_local(const struct netaddr *a)
{
	struct in6_addr in6;

	return a->family == AF_INET6 && inet_pton(AF_INET6, a->text, &in6) == 1 &&
	       IN6_IS_ADDR_LINKLOCAL(&in6);
}

/* The addresses of one interface, family AF_UNSPEC for both, in the kernel's order. */
static GArray *addresses_of(const struct netsnap *s, int ifindex, int family)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct netaddr));

	nl_cache_foreach(o, s->addrs)
	{
		struct netaddr a;

		if (netaddr_from_object(o, family, &a) && a.ifindex == ifindex)
			g_array_append_val(out, a);
	}
	return out;
}

static bool route_is_main_default(struct rtnl_route *rt, int family)
{
	struct nl_addr *dst = rtnl_route_get_dst(rt);

	return rtnl_route_get_family(rt) == family && rtnl_route_get_table(rt) == RT_TABLE_MAIN &&
	       rtnl_route_get_type(rt) == RTN_UNICAST && (!dst || nl_addr_get_prefixlen(dst) == 0);
}

static int primary_for_family(const struct netsnap *s, int family)
{
	uint32_t best_metric = UINT32_MAX;
	int best = 0;

	nl_cache_foreach(o, s->routes)
	{
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;

		if (!route_is_main_default(rt, family) || rtnl_route_get_nnexthops(rt) < 1)
			continue;
		nh = rtnl_route_nexthop_n(rt, 0);
		if (!nh || (rtnl_route_nh_get_flags(nh) & RTNH_F_DEAD))
			continue;
		if (best == 0 || rtnl_route_get_priority(rt) < best_metric) {
			best_metric = rtnl_route_get_priority(rt);
			best = rtnl_route_nh_get_ifindex(nh);
		}
	}
	return best;
}

static int primary_ifindex(const struct netsnap *s)
{
	int ifindex = primary_for_family(s, AF_INET);

	return ifindex > 0 ? ifindex : primary_for_family(s, AF_INET6);
}

int netinfo_primary_ifindex(struct netinfo *ni, int *ret_ifindex)
{
	struct netsnap s;
	int r = netsnap_load(ni, &s);

	if (r < 0)
		return r;
	*ret_ifindex = MAX(primary_ifindex(&s), 0);
	netsnap_done(&s);
	return 0;
}

static gint compare_int(gconstpointer a, gconstpointer b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The interfaces that pass the filter: the primary first, then by ifindex. */
static GArray *selected_interfaces(const struct netinfo *ni, const struct netsnap *s)
{
	GArray *idx = g_array_new(FALSE, FALSE, sizeof(int));
	int primary = primary_ifindex(s);

	nl_cache_foreach(o, s->links)
	{
		struct rtnl_link *l = (struct rtnl_link *)o;
		int i = rtnl_link_get_ifindex(l);

		if (interface_selected(&ni->cfg, rtnl_link_get_name(l)) && i != primary)
			g_array_append_val(idx, i);
	}
	g_array_sort(idx, compare_int);
	nl_cache_foreach(o, s->links)
	{
		struct rtnl_link *l = (struct rtnl_link *)o;

		if (primary > 0 && rtnl_link_get_ifindex(l) == primary &&
		    interface_selected(&ni->cfg, rtnl_link_get_name(l)))
			g_array_prepend_val(idx, primary);
	}
	return idx;
}

/* Appends item (plus `sep` before it when out is not empty, or after it when trailing) if
 * the result stays within max characters. */
static bool append_capped(GString *out, const char *item, bool trailing, size_t max)
{
	size_t need = strlen(item) + 1;

	if (!trailing && out->len == 0)
		need--;
	if (out->len + need > max)
		return false;
	if (!trailing && out->len > 0)
		g_string_append_c(out, ';');
	g_string_append(out, item);
	if (trailing)
		g_string_append_c(out, ';');
	return true;
}

int netinfo_address_list(struct netinfo *ni, int family, char **ret_list, size_t *ret_left_out)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GArray) ifs = NULL;
	struct netsnap s;
	size_t left_out = 0;
	int r;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	r = netsnap_load(ni, &s);
	if (r < 0)
		return r;
	ifs = selected_interfaces(ni, &s);
	for (guint i = 0; i < ifs->len; i++) {
		g_autoptr(GArray) addrs = addresses_of(&s, g_array_index(ifs, int, i), family);

		for (guint j = 0; j < addrs->len; j++) {
			const struct netaddr *a = &g_array_index(addrs, struct netaddr, j);

			if (!ni->cfg.include_link_local && netaddr_is_link_local(a))
				continue;
			if (left_out > 0 ||
			    !append_capped(out, a->text, false, ni->cfg.max_list_chars))
				left_out++;
		}
	}
	netsnap_done(&s);
	*ret_list = g_string_free(g_steal_pointer(&out), FALSE);
	if (ret_left_out)
		*ret_left_out = left_out;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int netinfo_parse_mac(const char *text, uint8_t ret_mac[6])
{
	uint8_t mac[6];
	char sep;

	if (!text || strlen(text) != 17)
		return -EINVAL;
	sep = text[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		int hi = hex_value(p[0]), lo = hex_value(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != sep))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret_mac, mac, sizeof(mac));
	return 0;
}

static bool link_has_mac(struct rtnl_link *l, const uint8_t mac[6])
{
	struct nl_addr *a = rtnl_link_get_addr(l);

	return a && nl_addr_get_len(a) == 6 && memcmp(nl_addr_get_binary_addr(a), mac, 6) == 0;
}

/* The adapter for mac: the first (by ifindex) with an address, else the first; 0 if none. */
static int find_adapter(const struct netsnap *s, const uint8_t mac[6])
{
	g_autoptr(GArray) matches = g_array_new(FALSE, FALSE, sizeof(int));

	nl_cache_foreach(o, s->links)
	{
		struct rtnl_link *l = (struct rtnl_link *)o;
		int i = rtnl_link_get_ifindex(l);

		if (link_has_mac(l, mac))
			g_array_append_val(matches, i);
	}
	g_array_sort(matches, compare_int);
	for (guint i = 0; i < matches->len; i++) {
		int ifindex = g_array_index(matches, int, i);
		g_autoptr(GArray) addrs = addresses_of(s, ifindex, AF_UNSPEC);

		if (addrs->len > 0)
			return ifindex;
	}
	return matches->len > 0 ? g_array_index(matches, int, 0) : 0;
}

static void format_mask(const struct netaddr *a, char *buf, size_t size)
{
	struct in_addr mask;

	if (a->family == AF_INET6) {
		g_snprintf(buf, size, "/%u", a->prefixlen);
		return;
	}
	mask.s_addr =
	    htonl(a->prefixlen == 0 ? 0 : (uint32_t)(~0u << (32 - MIN(a->prefixlen, 32u))));
	inet_ntop(AF_INET, &mask, buf, size);
}

static void fill_addresses(const struct netsnap *s, struct netinfo_ip_info *info)
{
	g_autoptr(GArray) addrs = addresses_of(s, info->ifindex, AF_UNSPEC);
	g_autoptr(GString) ips = g_string_new(NULL);
	g_autoptr(GString) masks = g_string_new(NULL);

	for (guint i = 0; i < addrs->len; i++) {
		const struct netaddr *a = &g_array_index(addrs, struct netaddr, i);
		char mask[INET_ADDRSTRLEN];
		size_t ips_len = ips->len;

		format_mask(a, mask, sizeof(mask));
		if (!append_capped(ips, a->text, false, sizeof(info->ip_addr) - 1) ||
		    !append_capped(masks, mask, false, sizeof(info->sub_net) - 1)) {
			g_string_truncate(ips, ips_len);
			info->left_out += addrs->len - i;
			break;
		}
		info->addr_family |=
		    a->family == AF_INET ? NETINFO_FAMILY_IPV4 : NETINFO_FAMILY_IPV6;
	}
	g_strlcpy(info->ip_addr, ips->str, sizeof(info->ip_addr));
	g_strlcpy(info->sub_net, masks->str, sizeof(info->sub_net));
}

struct gateway {
	uint32_t metric;
	char text[INET6_ADDRSTRLEN];
};

static gint compare_gateway(gconstpointer a, gconstpointer b)
{
	uint32_t x = ((const struct gateway *)a)->metric, y = ((const struct gateway *)b)->metric;

	return (x > y) - (x < y);
}

static void gateways_via(struct rtnl_route *rt, int ifindex, GArray *out)
{
	for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
		struct nl_addr *gw = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
		int fam = rtnl_route_get_family(rt);
		struct gateway g = {.metric = rtnl_route_get_priority(rt)};

		if (!gw || rtnl_route_nh_get_ifindex(nh) != ifindex ||
		    nl_addr_get_len(gw) != (fam == AF_INET ? 4u : 16u))
			continue;
		if (inet_ntop(fam, nl_addr_get_binary_addr(gw), g.text, sizeof(g.text)))
			g_array_append_val(out, g);
	}
}

static void fill_gateways(const struct netsnap *s, struct netinfo_ip_info *info)
{
	static const int families[] = {AF_INET, AF_INET6};
	g_autoptr(GString) out = g_string_new(NULL);
	bool full = false;

	for (size_t f = 0; f < G_N_ELEMENTS(families); f++) {
		g_autoptr(GArray) gws = g_array_new(FALSE, FALSE, sizeof(struct gateway));

		nl_cache_foreach(o, s->routes)
		{
			struct rtnl_route *rt = (struct rtnl_route *)o;

			if (route_is_main_default(rt, families[f]))
				gateways_via(rt, info->ifindex, gws);
		}
		g_array_sort(gws, compare_gateway);
		for (guint i = 0; i < gws->len; i++)
			if (full || !append_capped(out, g_array_index(gws, struct gateway, i).text,
						   true, sizeof(info->gate_way) - 1)) {
				full = true;
				info->left_out++;
			}
	}
	g_strlcpy(info->gate_way, out->str, sizeof(info->gate_way));
}

static int ip_info_from_snapshot(const struct netsnap *s, const uint8_t mac[6],
				 struct netinfo_ip_info *info)
{
	struct rtnl_link *l;

	info->ifindex = find_adapter(s, mac);
	if (info->ifindex <= 0)
		return -ENODEV;
	l = rtnl_link_get(s->links, info->ifindex);
	if (l) {
		g_strlcpy(info->ifname, rtnl_link_get_name(l) ?: "", sizeof(info->ifname));
		rtnl_link_put(l);
	}
	fill_addresses(s, info);
	fill_gateways(s, info);
	return 0;
}

int netinfo_get_ip_info(struct netinfo *ni, const char *adapter_id, struct netinfo_ip_info *ret)
{
	g_autofree struct netinfo_ip_info *info = g_new0(struct netinfo_ip_info, 1);
	uint8_t mac[6];
	struct netsnap s;
	int r;

	r = netinfo_parse_mac(adapter_id, mac);
	if (r < 0)
		return r;
	g_strlcpy(info->adapter_id, adapter_id, sizeof(info->adapter_id));
	r = netsnap_load(ni, &s);
	if (r < 0)
		return r;
	r = ip_info_from_snapshot(&s, mac, info);
	netsnap_done(&s);
	if (r < 0)
		return r;
	*ret = *info;
	return 0;
}

static void join_dns(char **servers, bool only_addresses, struct netinfo_ip_info *info)
{
	g_autoptr(GString) out = g_string_new(NULL);

	bool full = false;

	for (size_t i = 0; servers && servers[i]; i++) {
		char *item = g_strstrip(servers[i]);
		uint8_t bin[16];

		if (!*item || (only_addresses && inet_pton(AF_INET, item, bin) != 1 &&
			       inet_pton(AF_INET6, item, bin) != 1))
			continue;
		if (full || !append_capped(out, item, true, sizeof(info->dns_addr) - 1)) {
			full = true;
			info->left_out++;
		}
	}
	g_strlcpy(info->dns_addr, out->str, sizeof(info->dns_addr));
}

static void collect_native(struct netinfo *ni, struct netinfo_ip_info *info)
{
	g_auto(GStrv) servers = NULL;

	if (dns_servers_for_link(&ni->cfg.dns, info->ifindex, &servers, NULL) >= 0)
		join_dns(servers, false, info);
	info->dhcp_enabled =
	    dhcp_enabled_for_link(&ni->cfg.dhcp, info->ifindex, info->ifname, NULL);
}

/* Compatibility mode: the reference's helper scripts, run with the interface name (no shell,
 * hvd_run()), their stdout cut after the last whole line within NETINFO_SCRIPT_MAX_OUTPUT
 * (the process group is killed then), their exit status ignored as the reference does. */
static int run_script(const char *path, const char *ifname, uint64_t timeout_usec,
		      char **ret_output)
{
	const char *const argv[] = {path, ifname, NULL};

	return hvd_run(argv, 0, now_usec() + timeout_usec, NETINFO_SCRIPT_MAX_OUTPUT, ret_output,
		       NULL);
}

static void collect_scripts(struct netinfo *ni, struct netinfo_ip_info *info)
{
	const char *dir = ni->cfg.script_dir ?: NETINFO_DEFAULT_SCRIPT_DIR;
	uint64_t timeout = ni->cfg.script_timeout_usec ?: NETINFO_DEFAULT_SCRIPT_TIMEOUT_USEC;
	g_autofree char *dns_path = g_build_filename(dir, "hv_get_dns_info", NULL);
	g_autofree char *dhcp_path = g_build_filename(dir, "hv_get_dhcp_info", NULL);
	g_autofree char *dns_out = NULL, *dhcp_out = NULL;

	if (run_script(dns_path, info->ifname, timeout, &dns_out) >= 0) {
		g_auto(GStrv) lines = g_strsplit(dns_out, "\n", DNS_MAX_SERVERS + 1);

		if (g_strv_length(lines) > DNS_MAX_SERVERS)
			g_clear_pointer(&lines[DNS_MAX_SERVERS], g_free);
		join_dns(lines, true, info);
	}
	if (run_script(dhcp_path, info->ifname, timeout, &dhcp_out) >= 0)
		info->dhcp_enabled = g_str_has_prefix(dhcp_out, "Enabled");
}

int netinfo_collect_ip_info(struct netinfo *ni, const char *adapter_id, struct netinfo_ip_info *ret)
{
	g_autofree struct netinfo_ip_info *info = g_new0(struct netinfo_ip_info, 1);
	int r = netinfo_get_ip_info(ni, adapter_id, info);

	if (r < 0)
		return r;
	if (ni->cfg.use_scripts)
		collect_scripts(ni, info);
	else
		collect_native(ni, info);
	*ret = *info;
	return 0;
}
