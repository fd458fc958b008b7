/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf.c: the SET_IP_INFO core. A validated struct netconf (netconf-parse.c) is applied
 * to the adapter the host named, through one network-stack backend, or not at all.
 *
 * Adapter lookup: the host's {guid} is compared with <sysfs_net_dir>/<if>/device/device_id
 * (the VMBus device instance, which the kernel writes in lower case; both sides are
 * normalised, so hex case does not matter, and the whole GUID must be equal). The interface
 * name is that directory entry, checked to be a valid name; rtnetlink then gives its index
 * and MAC. Host text never becomes a name or a path.
 *
 * Backend choice: set-ip-backend= names one, or "auto" asks each backend compiled in, in
 * the order script (only when set-ifconfig-script= is set), ifcfg, networkmanager,
 * networkd, ifupdown, whether it manages the interface now; the first that says yes wins.
 * Every backend is always built in; each one decides for itself whether its stack runs.
 *
 * Execution (the worker thread, one request at a time): save -> apply -> verify over
 * rtnetlink that every static address (with its prefix) and every gateway's default route
 * is on the interface -> on any failure, or when the reply deadline passed meanwhile,
 * restore what save() captured (which re-applies it). The host hears S_OK only for a
 * configuration verified in force before the deadline.
 *
 * The job: the worker runs beside the daemon's event loop and reports through an eventfd.
 * The loop answers the host when the worker ends or at the reply deadline, whichever comes
 * first; a mutex makes "verified in time" and "deadline answered" mutually exclusive, so a
 * configuration the host was told failed is always rolled back.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define VERIFY_INTERVAL_USEC (100 * USEC_PER_MSEC)

/* The order "auto" asks them in (the backends' declarations: netconf.h). */
static const struct netconf_backend *const backends[] = {
    &netconf_backend_script,   &netconf_backend_ifcfg,    &netconf_backend_networkmanager,
    &netconf_backend_networkd, &netconf_backend_ifupdown,
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

const char *const netconf_backend_names[] = {"auto",  "networkmanager", "networkd", "ifupdown",
					     "ifcfg", "script",         NULL};

const struct netconf_backend *netconf_backend_lookup(const char *name)
{
	for (size_t i = 0; name && i < N_BACKENDS; i++) {
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	}
	return NULL;
}

int netconf_choose_backend(const struct netconf_env *env, const char *choice,
			   const struct netconf_target *t, const struct netconf_backend **ret)
{
	if (choice && strcmp(choice, "auto") != 0) {
		const struct netconf_backend *b = netconf_backend_lookup(choice);

		if (!b)
			return -EOPNOTSUPP;
		*ret = b;
		return 0;
	}
	for (size_t i = 0; i < N_BACKENDS; i++) {
		const struct netconf_backend *b = backends[i];
		int r = b->manages(env, t);

		if (r < 0)
			log_debug_errno(r, "Cannot tell whether %s manages %s, trying the next",
					b->name, t->ifname);
		if (r > 0) {
			*ret = b;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- the adapter */

bool netconf_ifname_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* The normalised device GUID of <dir>/<name>/device/device_id, if it has one. */
static bool device_guid(const char *dir, const char *name, char guid[40])
{
	g_autofree char *path = g_strdup_printf("%s/%s/device/device_id", dir, name);
	_cleanup_free_ char *text = NULL;

	if (read_small_file(path, 128, &text, NULL) < 0)
		return false;
	g_strchomp(text);
	return netconf_parse_guid(text, guid) >= 0;
}

static int link_facts(const char *ifname, struct netconf_target *t)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	struct nl_addr *a;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r >= 0)
		r = rtnl_link_get_kernel(sk, 0, ifname, &link);
	nl_socket_free(sk);
	if (r < 0)
		return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : -EIO;
	t->ifindex = rtnl_link_get_ifindex(link);
	a = rtnl_link_get_addr(link);
	if (a && nl_addr_get_len(a) == 6)
		memcpy(t->mac, nl_addr_get_binary_addr(a), 6);
	rtnl_link_put(link);
	snprintf(t->mac_text, sizeof(t->mac_text), "%02X:%02X:%02X:%02X:%02X:%02X", t->mac[0],
		 t->mac[1], t->mac[2], t->mac[3], t->mac[4], t->mac[5]);
	return 0;
}

/* g_ptr_array_sort() passes pointers to the elements. */
static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int netconf_find_target(const char *sysfs_net_dir, const char *guid, struct netconf_target *ret)
{
	char want[40], have[40];
	struct netconf_target t = {0};
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	DIR *d;
	int r;

	if (netconf_parse_guid(guid, want) < 0)
		return -EINVAL;
	d = opendir(sysfs_net_dir);
	if (!d)
		return negative_errno();
	for (struct dirent *de; (de = readdir(d));)
		if (netconf_ifname_valid(de->d_name) &&
		    device_guid(sysfs_net_dir, de->d_name, have) && strcmp(have, want) == 0)
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(d);
	if (names->len == 0)
		return -ENODEV;
	/* One VMBus device has one netvsc interface; readdir's order is no order. */
	g_ptr_array_sort(names, compare_strings);
	if (names->len > 1)
		log_warning("%u interfaces claim device %s, using %s", names->len, want,
			    (const char *)names->pdata[0]);
	snprintf(t.ifname, sizeof(t.ifname), "%s", (const char *)names->pdata[0]);
	memcpy(t.guid, want, sizeof(t.guid));
	r = link_facts(t.ifname, &t);
	if (r < 0)
		return r;
	*ret = t;
	return 0;
}

/* ---------------------------------------------------------------- verification */

static bool addr_matches(struct nl_addr *a, const struct netconf_addr *want)
{
	size_t len = want->family == AF_INET ? 4 : 16;

	return a && nl_addr_get_family(a) == want->family && nl_addr_get_len(a) == len &&
	       memcmp(nl_addr_get_binary_addr(a), &want->in6, len) == 0;
}

static bool has_address(struct nl_cache *addrs, int ifindex, const struct netconf_addr *want)
{
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(ra) == ifindex &&
		    addr_matches(rtnl_addr_get_local(ra), want) &&
		    (unsigned)rtnl_addr_get_prefixlen(ra) == want->prefix &&
		    !(rtnl_addr_get_flags(ra) & IFA_F_DADFAILED))
			return true;
	}
	return false;
}

static bool route_is_default(struct rtnl_route *rt, int family)
{
	struct nl_addr *dst = rtnl_route_get_dst(rt);

	return rtnl_route_get_family(rt) == family && rtnl_route_get_table(rt) == RT_TABLE_MAIN &&
	       (!dst || nl_addr_get_prefixlen(dst) == 0);
}

static bool has_default_route(struct nl_cache *routes, int ifindex, const struct netconf_addr *gw)
{
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;

		if (!route_is_default(rt, gw->family))
			continue;
		for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++) {
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);

			if (nh && rtnl_route_nh_get_ifindex(nh) == ifindex &&
			    addr_matches(rtnl_route_nh_get_gateway(nh), gw))
				return true;
		}
	}
	return false;
}

/* What of cfg is not on the interface yet: NULL when all is, else the first missing item. */
static const struct netconf_addr *first_missing(struct nl_sock *sk, const struct netconf *cfg,
						bool *ret_route, int *ret_error)
{
	struct nl_cache *addrs = NULL, *routes = NULL;
	const struct netconf_addr *missing = NULL;
	int r;

	*ret_error = 0;
	r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r >= 0)
		r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
	if (r < 0) {
		*ret_error = -EIO;
		goto out;
	}
	for (size_t i = 0; !missing && i < cfg->n_addrs; i++)
		if (!has_address(addrs, cfg->target.ifindex, &cfg->addrs[i]))
			missing = &cfg->addrs[i], *ret_route = false;
	for (size_t i = 0; !missing && i < cfg->n_gateways; i++)
		if (!has_default_route(routes, cfg->target.ifindex, &cfg->gateways[i]))
			missing = &cfg->gateways[i], *ret_route = true;
out:
	if (addrs)
		nl_cache_free(addrs);
	if (routes)
		nl_cache_free(routes);
	return missing;
}

int netconf_verify(const struct netconf *cfg, uint64_t deadline_usec)
{
	struct nl_sock *sk = nl_socket_alloc();
	const struct netconf_addr *missing = NULL;
	bool route = false;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	/* A stack may apply asynchronously (a daemon told over D-Bus): look again until the
	 * deadline. */
	for (;;) {
		missing = first_missing(sk, cfg, &route, &r);
		if (r < 0 || !missing || now_usec() + VERIFY_INTERVAL_USEC >= deadline_usec)
			break;
		g_usleep(VERIFY_INTERVAL_USEC);
	}
	nl_socket_free(sk);
	if (r < 0)
		return r;
	if (missing) {
		if (route)
			log_warning("%s: no default route via %s after applying",
				    cfg->target.ifname, missing->text);
		else
			log_warning("%s: address %s/%u missing after applying", cfg->target.ifname,
				    missing->text, missing->prefix);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* ---------------------------------------------------------------- the live rollback */

/* The interface's addresses and default gateways before a request touched it. A backend's
 * restore() puts its files back and re-applies them; this puts the live state back as well
 * for what the request itself added or removed (a script that failed half-way, a stack that
 * cannot re-apply): addresses and gateways of the request that were not there before go,
 * and those that were there come back. Anything else is left to the stack. */
struct live_snapshot {
	GArray *addrs; /* struct netconf_addr, prefix set */
	GArray *gateways;
};

static void live_snapshot_done(struct live_snapshot *s)
{
	if (s->addrs)
		g_array_unref(s->addrs);
	if (s->gateways)
		g_array_unref(s->gateways);
	s->addrs = s->gateways = NULL;
}

static bool addr_from_nl(struct nl_addr *a, struct netconf_addr *out)
{
	int family = a ? nl_addr_get_family(a) : AF_UNSPEC;
	size_t len = family == AF_INET ? 4 : 16;

	if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(a) != len)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(&out->in6, nl_addr_get_binary_addr(a), len);
	return inet_ntop(family, &out->in6, out->text, sizeof(out->text)) != NULL;
}

static bool same_addr(const struct netconf_addr *a, const struct netconf_addr *b)
{
	return a->family == b->family &&
	       memcmp(&a->in6, &b->in6, a->family == AF_INET ? 4 : 16) == 0;
}

static bool in_array(GArray *a, const struct netconf_addr *x, bool with_prefix)
{
	for (guint i = 0; i < a->len; i++) {
		const struct netconf_addr *y = &g_array_index(a, struct netconf_addr, i);

		if (same_addr(x, y) && (!with_prefix || x->prefix == y->prefix))
			return true;
	}
	return false;
}

static int live_snapshot_take(struct nl_sock *sk, int ifindex, struct live_snapshot *ret)
{
	struct nl_cache *addrs = NULL, *routes = NULL;
	struct live_snapshot s = {g_array_new(FALSE, FALSE, sizeof(struct netconf_addr)),
				  g_array_new(FALSE, FALSE, sizeof(struct netconf_addr))};
	int r = rtnl_addr_alloc_cache(sk, &addrs);

	if (r >= 0)
		r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
	if (r < 0) {
		if (addrs)
			nl_cache_free(addrs);
		live_snapshot_done(&s);
		return -EIO;
	}
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;
		struct netconf_addr a;

		if (rtnl_addr_get_ifindex(ra) != ifindex ||
		    !addr_from_nl(rtnl_addr_get_local(ra), &a))
			continue;
		a.prefix = (unsigned)rtnl_addr_get_prefixlen(ra);
		g_array_append_val(s.addrs, a);
	}
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;

		for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++) {
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
			struct netconf_addr g;

			if ((rtnl_route_get_family(rt) == AF_INET ||
			     rtnl_route_get_family(rt) == AF_INET6) &&
			    route_is_default(rt, rtnl_route_get_family(rt)) && nh &&
			    rtnl_route_nh_get_ifindex(nh) == ifindex &&
			    addr_from_nl(rtnl_route_nh_get_gateway(nh), &g))
				g_array_append_val(s.gateways, g);
		}
	}
	nl_cache_free(addrs);
	nl_cache_free(routes);
	*ret = s;
	return 0;
}

static int change_address(struct nl_sock *sk, int ifindex, const struct netconf_addr *a, bool add)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(a->family, &a->in6, a->family == AF_INET ? 4 : 16);
	int r = -ENOMEM;

	if (ra && local) {
		nl_addr_set_prefixlen(local, (int)a->prefix);
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_family(ra, a->family);
		r = rtnl_addr_set_local(ra, local);
		if (r >= 0)
			r = add ? rtnl_addr_add(sk, ra, NLM_F_REPLACE)
				: rtnl_addr_delete(sk, ra, 0);
		r = r < 0 ? -EIO : 0;
	}
	if (local)
		nl_addr_put(local);
	if (ra)
		rtnl_addr_put(ra);
	return r;
}

static int change_default_route(struct nl_sock *sk, int ifindex, const struct netconf_addr *gw,
				bool add)
{
	static const uint8_t zero[16];
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(gw->family, zero, gw->family == AF_INET ? 4 : 16);
	struct nl_addr *via = nl_addr_build(gw->family, &gw->in6, gw->family == AF_INET ? 4 : 16);
	int r = -ENOMEM;

	if (rt && nh && dst && via) {
		nl_addr_set_prefixlen(dst, 0);
		rtnl_route_set_family(rt, (uint8_t)gw->family);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_dst(rt, dst);
		/* A delete matches any protocol (ip(8) adds IPv6 routes as "boot", libnl's
		 * default is "static"); a put-back route is "static". */
		rtnl_route_set_protocol(rt, add ? RTPROT_STATIC : RTPROT_UNSPEC);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_nh_set_gateway(nh, via);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* the route owns it */
		r = add ? rtnl_route_add(sk, rt, NLM_F_CREATE) : rtnl_route_delete(sk, rt, 0);
		r = r < 0 ? -EIO : 0;
	}
	if (nh)
		rtnl_route_nh_free(nh);
	if (dst)
		nl_addr_put(dst);
	if (via)
		nl_addr_put(via);
	if (rt)
		rtnl_route_put(rt);
	return r;
}

static void note_live_error(int r, const char *what, const struct netconf *cfg,
			    const struct netconf_addr *a, int *ret)
{
	if (r >= 0)
		return;
	log_warning_errno(r, "%s: cannot %s %s while rolling back", cfg->target.ifname, what,
			  a->text);
	if (*ret == 0)
		*ret = r;
}

static int live_restore(struct nl_sock *sk, const struct netconf *cfg,
			const struct live_snapshot *before)
{
	struct live_snapshot now = {0};
	int ifindex = cfg->target.ifindex, ret = 0, r;

	r = live_snapshot_take(sk, ifindex, &now);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg->n_gateways; i++) {
		const struct netconf_addr *g = &cfg->gateways[i];

		if (in_array(now.gateways, g, false) && !in_array(before->gateways, g, false))
			note_live_error(change_default_route(sk, ifindex, g, false),
					"remove the default route via", cfg, g, &ret);
	}
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		const struct netconf_addr *a = &cfg->addrs[i];

		if (in_array(now.addrs, a, false) && !in_array(before->addrs, a, false))
			note_live_error(change_address(sk, ifindex, a, false), "remove address",
					cfg, a, &ret);
	}
	for (guint i = 0; i < before->addrs->len; i++) {
		const struct netconf_addr *a =
		    &g_array_index(before->addrs, struct netconf_addr, i);

		if (!in_array(now.addrs, a, true))
			note_live_error(change_address(sk, ifindex, a, true), "put back address",
					cfg, a, &ret);
	}
	for (guint i = 0; i < before->gateways->len; i++) {
		const struct netconf_addr *g =
		    &g_array_index(before->gateways, struct netconf_addr, i);

		if (!in_array(now.gateways, g, false))
			note_live_error(change_default_route(sk, ifindex, g, true),
					"put back the default route via", cfg, g, &ret);
	}
	live_snapshot_done(&now);
	return ret;
}

/* ---------------------------------------------------------------- the job */

/* The env with strings of its own: a reload may free the config meanwhile. */
struct env_copy {
	struct netconf_env env;
	char *strings[14];
	size_t n;
};

static const char *keep(struct env_copy *c, const char *s)
{
	if (!s)
		return NULL;
	g_assert(c->n < G_N_ELEMENTS(c->strings));
	return c->strings[c->n++] = g_strdup(s);
}

static void env_copy_init(struct env_copy *c, const struct netconf_env *e)
{
	c->env = (struct netconf_env){
	    .sysfs_net_dir = keep(c, e->sysfs_net_dir),
	    .state_dir = keep(c, e->state_dir),
	    .networkd_dir = keep(c, e->networkd_dir),
	    .networkd_run_dir = keep(c, e->networkd_run_dir),
	    .nm_run_dir = keep(c, e->nm_run_dir),
	    .ifupdown_interfaces = keep(c, e->ifupdown_interfaces),
	    .ifupdown_dir = keep(c, e->ifupdown_dir),
	    .ifupdown_state_dir = keep(c, e->ifupdown_state_dir),
	    .ifup_path = keep(c, e->ifup_path),
	    .ifdown_path = keep(c, e->ifdown_path),
	    .ifcfg_dir = keep(c, e->ifcfg_dir),
	    .script_path = keep(c, e->script_path),
	    .bus_address = keep(c, e->bus_address),
	    .deadline_usec = e->deadline_usec,
	};
}

static void env_copy_done(struct env_copy *c)
{
	for (size_t i = 0; i < c->n; i++)
		g_free(c->strings[i]);
	c->n = 0;
}

struct netconf_job {
	struct env_copy env;
	char *backend_choice;
	struct netconf cfg;
	const struct netconf_job_callbacks *cb;
	void *userdata;

	pthread_t thread;
	bool thread_started, joined;
	int efd;
	sd_event_source *done_source, *deadline_source;

	pthread_mutex_t lock;
	bool decided;  /* worker: verified in time, the host will hear S_OK */
	bool answered; /* loop: the deadline's answer went out, a late success must roll back */
	int result;    /* the worker's outcome, once it ended */
	bool replied;  /* the loop called cb->reply */
	char backend_used[32];
};

/* Under the lock: the worker has a verified configuration; may it keep it? */
static bool job_claim_success(struct netconf_job *j)
{
	bool ok;

	pthread_mutex_lock(&j->lock);
	ok = !j->answered;
	if (ok)
		j->decided = true;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

static int run_backend(struct netconf_job *j, const struct netconf_backend *b)
{
	const struct netconf_env *env = &j->env.env;
	const struct netconf_target *t = &j->cfg.target;
	struct live_snapshot before = {0};
	struct nl_sock *sk = nl_socket_alloc();
	void *saved = NULL;
	int r, rr;

	if (!sk)
		return log_error_errno(ENOMEM, "SET_IP_INFO %s: changing nothing", t->ifname);
	r = nl_connect(sk, NETLINK_ROUTE) < 0 ? -EIO : 0;
	if (r >= 0)
		r = live_snapshot_take(sk, t->ifindex, &before);
	if (r < 0)
		log_warning_errno(r,
				  "SET_IP_INFO %s: cannot read the interface's addresses, "
				  "changing nothing",
				  t->ifname);
	else {
		r = b->save(env, t, &saved);
		if (r < 0)
			log_warning_errno(r,
					  "SET_IP_INFO %s: cannot save the %s configuration, "
					  "changing nothing",
					  t->ifname, b->name);
	}
	if (r < 0) {
		live_snapshot_done(&before);
		nl_socket_free(sk);
		return r;
	}
	r = b->apply(env, &j->cfg);
	if (r < 0)
		log_warning_errno(r, "SET_IP_INFO %s: %s could not apply the configuration",
				  t->ifname, b->name);
	else {
		r = netconf_verify(&j->cfg, env->deadline_usec);
		if (r >= 0 && !job_claim_success(j)) {
			log_warning(
			    "SET_IP_INFO %s: applied after the host was answered, rolling back",
			    t->ifname);
			r = -ETIME;
		}
	}
	if (r < 0) {
		struct netconf_env renv = *env;

		renv.deadline_usec = now_usec() + NETCONF_RESTORE_USEC;
		rr = b->restore(&renv, t, saved);
		if (rr < 0)
			log_error_errno(rr,
					"SET_IP_INFO %s: %s could not restore the previous "
					"configuration",
					t->ifname, b->name);
		rr = live_restore(sk, &j->cfg, &before) < 0 ? -EIO : rr;
		if (rr < 0)
			log_error("SET_IP_INFO %s: the previous configuration could not all be put "
				  "back",
				  t->ifname);
		else
			log_notice("SET_IP_INFO %s: previous configuration restored", t->ifname);
	}
	if (b->free_saved)
		b->free_saved(saved);
	live_snapshot_done(&before);
	nl_socket_free(sk);
	return r;
}

static void *job_worker(void *p)
{
	struct netconf_job *j = p;
	const struct netconf_backend *b = NULL;
	uint64_t one = 1;
	int r;

	r = netconf_choose_backend(&j->env.env, j->backend_choice, &j->cfg.target, &b);
	if (r == -EOPNOTSUPP)
		log_error("SET_IP_INFO %s: set-ip-backend=%s is not built into this hv-kvpd",
			  j->cfg.target.ifname, j->backend_choice);
	else if (r < 0)
		log_error("SET_IP_INFO %s: no network stack manages the interface (NetworkManager, "
			  "systemd-networkd, ifupdown, ifcfg; set set-ip-backend= or "
			  "set-ifconfig-script=), changing nothing",
			  j->cfg.target.ifname);
	else {
		snprintf(j->backend_used, sizeof(j->backend_used), "%s", b->name);
		log_info("SET_IP_INFO %s: applying through %s", j->cfg.target.ifname, b->name);
		r = run_backend(j, b);
	}
	pthread_mutex_lock(&j->lock);
	j->result = r;
	pthread_mutex_unlock(&j->lock);
	if (write(j->efd, &one, sizeof(one)) < 0)
		log_error_errno(errno, "Cannot wake the event loop after SET_IP_INFO");
	return NULL;
}

static void job_reply(struct netconf_job *j, int result)
{
	if (j->replied)
		return;
	j->replied = true;
	if (j->cb->reply)
		j->cb->reply(j->userdata, result);
}

static void job_join(struct netconf_job *j)
{
	if (j->thread_started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = true;
	}
}

static int job_on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct netconf_job *j = userdata;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return 0;
	job_join(j);
	j->done_source = sd_event_source_disable_unref(j->done_source);
	j->deadline_source = sd_event_source_disable_unref(j->deadline_source);
	job_reply(j, j->result);
	if (j->cb->finished)
		j->cb->finished(j->userdata, j->result);
	return 0;
}

static int job_on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct netconf_job *j = userdata;
	bool decided;

	pthread_mutex_lock(&j->lock);
	decided = j->decided;
	if (!decided)
		j->answered = true;
	pthread_mutex_unlock(&j->lock);
	/* A verified configuration: its S_OK follows within moments, from job_on_done. */
	if (!decided) {
		log_warning("SET_IP_INFO %s: no result by the reply deadline, answering failure; "
			    "the previous configuration will be restored",
			    j->cfg.target.ifname);
		job_reply(j, -ETIME);
	}
	return 0;
}

bool netconf_job_running(const struct netconf_job *j)
{
	return j && j->thread_started && !j->joined;
}

const char *netconf_job_backend(const struct netconf_job *j)
{
	return j && j->backend_used[0] ? j->backend_used : NULL;
}

struct netconf_job *netconf_job_free(struct netconf_job *j)
{
	if (!j)
		return NULL;
	/* The worker is bounded by the deadline (plus a restore): wait for it. */
	job_join(j);
	sd_event_source_disable_unref(j->done_source);
	sd_event_source_disable_unref(j->deadline_source);
	if (j->efd >= 0)
		close(j->efd);
	pthread_mutex_destroy(&j->lock);
	env_copy_done(&j->env);
	g_free(j->backend_choice);
	g_free(j);
	return NULL;
}

int netconf_job_start(sd_event *e, const struct netconf_env *env, const char *backend,
		      const struct netconf *cfg, uint64_t reply_deadline_usec,
		      const struct netconf_job_callbacks *cb, void *userdata,
		      struct netconf_job **ret)
{
	struct netconf_job *j = g_new0(struct netconf_job, 1);
	pthread_attr_t attr;
	int r;

	j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&j->lock, NULL);
	env_copy_init(&j->env, env);
	j->env.env.deadline_usec = reply_deadline_usec;
	j->backend_choice = g_strdup(backend ? backend : "auto");
	j->cfg = *cfg;
	j->cb = cb;
	j->userdata = userdata;
	if (j->efd < 0) {
		r = negative_errno();
		netconf_job_free(j);
		return r;
	}
	r = sd_event_add_io(e, &j->done_source, j->efd, EPOLLIN, job_on_done, j);
	if (r >= 0)
		r = sd_event_add_time(e, &j->deadline_source, CLOCK_MONOTONIC, reply_deadline_usec,
				      0, job_on_deadline, j);
	if (r < 0) {
		netconf_job_free(j);
		return r;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	r = -pthread_create(&j->thread, &attr, job_worker, j);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		netconf_job_free(j);
		return r;
	}
	j->thread_started = true;
	*ret = j;
	return 0;
}
