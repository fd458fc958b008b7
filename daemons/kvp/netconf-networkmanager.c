/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-networkmanager.c: the SET_IP_INFO backend for NetworkManager, through its D-Bus
 * API (sd-bus; no nmcli, no libnm). Semantics shared by every backend: netconf.h.
 *
 * Which profile: the device is GetDeviceByIpIface(ifname). Its profile is, in this order,
 *   1. the profile active on the device, unless it is volatile or external (NM's record
 *      of a configuration made outside it); NM's own automatic profile ("Wired
 *      connection 1", unsaved: in memory only) counts, and Update() stores it,
 *   2. our own profile "hvguest <if>", whose UUID is derived from the interface name (so
 *      apply() and restore() find it again without sharing state),
 *   3. an available profile bound to this interface (connection.interface-name),
 *   4. none: apply() adds "hvguest <if>" (type ethernet, interface-name <if>, autoconnect),
 *      stored the way NM stores new profiles (the keyfile plugin: system-connections/).
 *
 * What is written: every setting group of the profile is kept as it is, except the
 * addressing of ipv4 and ipv6, which is replaced, not merged: method, address-data, gateway,
 * dns, route-data (and their deprecated forms addresses and routes, and never-default, which
 * would forbid the gateway). Other per-family options (dns-search, may-fail, route-metric,
 * dhcp-*) stay. The change is made with Settings.Connection.Update (persisted by NM) or
 * Settings.AddConnection, then Manager.ActivateConnection on the device.
 *   ipv4.method: manual / auto (DHCP) / disabled; ipv6.method: manual / auto / disabled.
 *   ipv4.dns: au (network byte order); ipv6.dns: aay.
 *   Gateways: NM has one gateway per family, and only with static addresses of that
 *   family. There, the first gateway is ipv4.gateway / ipv6.gateway; every other gateway
 *   (all of them for a family on DHCP/RA) becomes a default route in route-data (0.0.0.0/0
 *   or ::/0 via it) with the metric of the profile's route-metric (NM's Ethernet default
 *   100 when unset) plus its rank among them (1, 2, ...): fallbacks behind the first (or
 *   behind what DHCP/RA provides), as a Windows host means several gateways, and never two
 *   equal-metric IPv6 default routes that the kernel would merge into one multipath route.
 *   A disabled family (no IPv4 address and no DHCP) takes no gateway and no DNS server:
 *   those of that family are left out, with a notice in the log.
 *
 * When apply() returns 0: the new active connection is ACTIVATED. A request without any
 * static family (DHCP for IPv4 and RA/DHCPv6 for IPv6, or disabled) cannot complete without
 * a server answering, which may take NM's whole DHCP timeout or never happen: it is
 * accepted once NM runs the new profile's IP configuration (device state IP_CONFIG or
 * later, active connection ACTIVATING). A deactivated connection or a failed device is
 * -EIO; the deadline (env->deadline_usec, polled every 100 ms) is -ETIME.
 *
 * manages(): 1 when the name org.freedesktop.NetworkManager has an owner, NM knows the
 * interface and its Device.Managed is true. Profiles stored as ifcfg files are left to the
 * ifcfg backend: when the profile chosen above has its Filename under env->ifcfg_dir,
 * manages() is 0. A missing env->nm_run_dir (NM is not running) answers 0 without a bus.
 *
 * save()/restore(): save() keeps the chosen profile's full settings (the GetSettings
 * reply), whether it was active and whether it was NM's in-memory one, or that there was
 * none. restore() puts the settings back with Update (Update2 IN_MEMORY_ONLY for NM's
 * own in-memory profile: the file apply() made NM write is deleted; NM's activation
 * timestamp and its nm-generated mark are not sent back, the settings are the same; a
 * stored profile with unsaved changes gets the settings that were in force stored), or
 * deletes the
 * "hvguest <if>" profile that apply() added; then it re-activates the old profile if it
 * was active, else disconnects the device if that profile is active on it, and waits
 * until NM has done so. A configuration that NM only recorded (external) cannot be
 * brought back. restore() has its own bound (NM_RESTORE_TIMEOUT_USEC from its start),
 * since it often runs because apply() used up the deadline.
 *
 * One bus connection per call (env->bus_address, or the system bus); no global state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "log.h"
#include "netconf.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define NM_SERVICE "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_SETTINGS_PATH NM_PATH "/Settings"
#define NM_DEVICE_IFACE NM_SERVICE ".Device"
#define NM_SETTINGS_IFACE NM_SERVICE ".Settings"
#define NM_CONNECTION_IFACE NM_SERVICE ".Settings.Connection"
#define NM_ACTIVE_IFACE NM_SERVICE ".Connection.Active"

/* NMDeviceState, NMActiveConnectionState, NMSettingsConnectionFlags (NM D-Bus API). */
#define NM_DEVICE_STATE_IP_CONFIG 70
#define NM_DEVICE_STATE_ACTIVATED 100
#define NM_DEVICE_STATE_DEACTIVATING 110
#define NM_DEVICE_STATE_FAILED 120
#define NM_ACTIVE_STATE_ACTIVATING 1
#define NM_ACTIVE_STATE_ACTIVATED 2
#define NM_CONNECTION_FLAG_UNSAVED 0x1
#define NM_CONNECTION_FLAG_NM_GENERATED 0x2
#define NM_CONNECTION_FLAGS_NOT_EDITABLE (0x4 | 0x8) /* volatile, external */
#define NM_UPDATE2_FLAG_IN_MEMORY_ONLY 0x8

#define NM_CALL_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define NM_RESTORE_TIMEOUT_USEC (20 * USEC_PER_SEC)
#define NM_POLL_USEC (100 * USEC_PER_MSEC)
#define NM_DEFAULT_ROUTE_METRIC 100
#define NM_MAX_AVAILABLE 256

struct nm_call {
	sd_bus *bus;
	uint64_t deadline; /* CLOCK_MONOTONIC µs; 0: NM_CALL_TIMEOUT_USEC per call */
};

static void nm_call_done(struct nm_call *c)
{
	c->bus = sd_bus_close_unref(c->bus);
}

static int nm_open(const struct netconf_env *env, uint64_t deadline, struct nm_call *ret)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = netconf_bus_open(env->bus_address, &bus);
	if (r < 0)
		return r;
	ret->bus = TAKE_PTR(bus);
	ret->deadline = deadline;
	return 0;
}

/* What one call may take: the time left (-ETIME when none), or the default. */
static int nm_timeout(const struct nm_call *c, uint64_t *ret)
{
	uint64_t now = now_usec();

	if (!c->deadline) {
		*ret = NM_CALL_TIMEOUT_USEC;
		return 0;
	}
	if (now >= c->deadline)
		return -ETIME;
	*ret = c->deadline - now;
	return 0;
}

static int nm_new_call(struct nm_call *c, const char *path, const char *iface, const char *member,
		       sd_bus_message **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(c->bus, &m, NM_SERVICE, path, iface, member);

	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

/* Sends m. A D-Bus error named `absent` (an object NM does not have) is -ENOENT; any
 * other D-Bus error is logged with what was asked (at debug level when quiet: properties
 * of objects that may vanish while we poll) and returned as -errno. */
static int nm_send_full(struct nm_call *c, sd_bus_message *m, const char *absent, bool quiet,
			sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t timeout;
	int r = nm_timeout(c, &timeout);

	if (r < 0)
		return r;
	r = sd_bus_call(c->bus, m, timeout, &error, ret_reply);
	if (r < 0 && absent && sd_bus_error_has_name(&error, absent))
		return -ENOENT;
	if (r < 0 && sd_bus_error_is_set(&error))
		log_full_errno(quiet ? LOG_DEBUG : LOG_WARNING, 0,
			       "NetworkManager: %s.%s on %s: %s: %s",
			       sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
			       sd_bus_message_get_path(m), error.name, error.message ?: "");
	if (r == -ETIMEDOUT && c->deadline && now_usec() >= c->deadline)
		r = -ETIME;
	return r;
}

static int nm_send(struct nm_call *c, sd_bus_message *m, sd_bus_message **ret_reply)
{
	return nm_send_full(c, m, NULL, false, ret_reply);
}

/* Properties.Get; the reply is left inside the variant of type `type`. */
static int nm_get_property(struct nm_call *c, const char *path, const char *iface, const char *name,
			   const char *type, sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	int r = nm_new_call(c, path, "org.freedesktop.DBus.Properties", "Get", &m);

	if (r >= 0)
		r = sd_bus_message_append(m, "ss", iface, name);
	if (r >= 0)
		r = nm_send_full(c, m, NULL, true, &reply);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'v', type);
	if (r < 0)
		return r;
	*ret_reply = TAKE_PTR(reply);
	return 0;
}

static int nm_get_u32(struct nm_call *c, const char *path, const char *iface, const char *name,
		      uint32_t *ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = nm_get_property(c, path, iface, name, "u", &reply);

	return r < 0 ? r : sd_bus_message_read(reply, "u", ret);
}

/* A string or object path property, g_free() it. */
static int nm_get_string(struct nm_call *c, const char *path, const char *iface, const char *name,
			 const char *type, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *s;
	int r = nm_get_property(c, path, iface, name, type, &reply);

	if (r >= 0)
		r = sd_bus_message_read_basic(reply, type[0], &s);
	if (r < 0)
		return r;
	*ret = g_strdup(s);
	return 0;
}

static int nm_has_owner(struct nm_call *c)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t timeout;
	int has = 0, r = nm_timeout(c, &timeout);

	if (r >= 0)
		r = sd_bus_message_new_method_call(c->bus, &m, "org.freedesktop.DBus",
						   "/org/freedesktop/DBus", "org.freedesktop.DBus",
						   "NameHasOwner");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", NM_SERVICE);
	if (r >= 0)
		r = sd_bus_call(c->bus, m, timeout, &error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	return r < 0 ? r : !!has;
}

/* The device's object path; -ENODEV when NM does not know the interface. */
static int nm_find_device(struct nm_call *c, const char *ifname, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r = nm_new_call(c, NM_PATH, NM_SERVICE, "GetDeviceByIpIface", &m);

	if (r >= 0)
		r = sd_bus_message_append(m, "s", ifname);
	if (r >= 0)
		r = nm_send_full(c, m, NM_SERVICE ".UnknownDevice", false, &reply);
	if (r == -ENOENT)
		r = -ENODEV;
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*ret = g_strdup(path);
	return 0;
}

/* "hvguest <if>"'s UUID: name-based (SHA-1, version 5 layout) from the interface name. */
static void nm_our_uuid(const char *ifname, char ret[37])
{
	g_autofree char *name = g_strconcat("hvguest-netconf:", ifname, NULL);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA1);
	uint8_t d[20];
	gsize len = sizeof(d);

	g_checksum_update(sum, (const guchar *)name, strlen(name));
	g_checksum_get_digest(sum, d, &len);
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12],
		 d[13], d[14], d[15]);
}

/* 1 when conn is a profile to edit: not NM's record of an outside configuration
 * (external), not about to vanish (volatile). An unsaved one (NM's automatic "Wired
 * connection 1", say) is: Update() stores it. */
static int nm_connection_editable(struct nm_call *c, const char *conn)
{
	uint32_t flags = 0;
	int r = nm_get_u32(c, conn, NM_CONNECTION_IFACE, "Flags", &flags);

	return r < 0 ? r : !(flags & NM_CONNECTION_FLAGS_NOT_EDITABLE);
}

/* The stored profile active on dev, or NULL. */
static int nm_active_profile(struct nm_call *c, const char *dev, char **ret)
{
	g_autofree char *ac = NULL, *conn = NULL;
	int r = nm_get_string(c, dev, NM_DEVICE_IFACE, "ActiveConnection", "o", &ac);

	if (r < 0)
		return r;
	if (strcmp(ac, "/") != 0) {
		r = nm_get_string(c, ac, NM_ACTIVE_IFACE, "Connection", "o", &conn);
		/* The active connection may vanish while we look: then there is none. */
		if (r >= 0 && nm_connection_editable(c, conn) <= 0)
			conn = (g_free(conn), NULL);
	}
	*ret = g_steal_pointer(&conn);
	return 0;
}

/* Settings.GetConnectionByUuid; NULL when there is no such profile. */
static int nm_profile_by_uuid(struct nm_call *c, const char *uuid, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r = nm_new_call(c, NM_SETTINGS_PATH, NM_SETTINGS_IFACE, "GetConnectionByUuid", &m);

	if (r >= 0)
		r = sd_bus_message_append(m, "s", uuid);
	if (r >= 0)
		r = nm_send_full(c, m, NM_SERVICE ".Settings.InvalidConnection", false, &reply);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*ret = g_strdup(path);
	return 0;
}

static int nm_get_settings(struct nm_call *c, const char *conn, sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = nm_new_call(c, conn, NM_CONNECTION_IFACE, "GetSettings", &m);

	return r < 0 ? r : nm_send(c, m, ret_reply);
}

/* Skips to group `group` of an a{sa{sv}} reply and then to key `key` in it, reads it as a
 * string. 1 and *ret set (borrowed from reply) when found, 0 when not. Rewinds first. */
static int nm_settings_string(sd_bus_message *reply, const char *group, const char *key,
			      const char **ret)
{
	const char *g, *k;
	int r = sd_bus_message_rewind(reply, 1);

	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(reply, "s", &g);
		if (r >= 0 && strcmp(g, group) == 0)
			break;
		if (r >= 0)
			r = sd_bus_message_skip(reply, "a{sv}");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r <= 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		r = sd_bus_message_read(reply, "s", &k);
		if (r >= 0 && strcmp(k, key) == 0) {
			r = sd_bus_message_read(reply, "v", "s", ret);
			return r < 0 ? 0 : 1; /* not a string: treat as absent */
		}
		if (r >= 0)
			r = sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	return r;
}

/* An available profile of dev bound to ifname (connection.interface-name), or NULL. */
static int nm_bound_profile(struct nm_call *c, const char *dev, const char *ifname, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	const char *p;
	int r = nm_get_property(c, dev, NM_DEVICE_IFACE, "AvailableConnections", "ao", &reply);

	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "o");
	while (r >= 0 && paths->len < NM_MAX_AVAILABLE &&
	       (r = sd_bus_message_read(reply, "o", &p)) > 0)
		g_ptr_array_add(paths, g_strdup(p));
	if (r < 0)
		return r;
	for (unsigned i = 0; i < paths->len; i++) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *settings = NULL;
		const char *bound = NULL;

		if (nm_connection_editable(c, paths->pdata[i]) <= 0 ||
		    nm_get_settings(c, paths->pdata[i], &settings) < 0)
			continue;
		if (nm_settings_string(settings, "connection", "interface-name", &bound) > 0 &&
		    strcmp(bound, ifname) == 0) {
			*ret = g_strdup(paths->pdata[i]);
			return 0;
		}
	}
	*ret = NULL;
	return 0;
}

/* The profile this backend edits for ifname on dev (see the top), or NULL. */
static int nm_find_profile(struct nm_call *c, const char *dev, const char *ifname, char **ret_conn,
			   bool *ret_active)
{
	g_autofree char *conn = NULL;
	char uuid[37];
	int r = nm_active_profile(c, dev, &conn);

	*ret_active = conn != NULL;
	if (r >= 0 && !conn) {
		nm_our_uuid(ifname, uuid);
		r = nm_profile_by_uuid(c, uuid, &conn);
	}
	if (r >= 0 && !conn)
		r = nm_bound_profile(c, dev, ifname, &conn);
	if (r < 0)
		return r;
	*ret_conn = g_steal_pointer(&conn);
	return 0;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* ------------------------------------------------------------------ manages() */

static int nm_manages(const struct netconf_env *env, const struct netconf_target *t)
{
	struct nm_call c = {0};
	g_autofree char *dev = NULL, *conn = NULL, *filename = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int managed = 0, r;
	bool active;

	if (env->nm_run_dir && access(env->nm_run_dir, F_OK) < 0)
		return 0;
	if (nm_open(env, 0, &c) < 0)
		return 0; /* no bus: nothing runs NM here */
	r = nm_has_owner(&c);
	if (r > 0)
		r = nm_find_device(&c, t->ifname, &dev);
	if (r >= 0 && dev)
		r = nm_get_property(&c, dev, NM_DEVICE_IFACE, "Managed", "b", &reply);
	if (r >= 0 && reply)
		r = sd_bus_message_read(reply, "b", &managed);
	if (r >= 0 && managed)
		r = nm_find_profile(&c, dev, t->ifname, &conn, &active);
	if (r >= 0 && conn && env->ifcfg_dir &&
	    nm_get_string(&c, conn, NM_CONNECTION_IFACE, "Filename", "s", &filename) >= 0 &&
	    path_under(filename, env->ifcfg_dir)) {
		log_debug("NetworkManager: %s's profile is the ifcfg file %s, not ours", t->ifname,
			  filename);
		managed = 0;
	}
	nm_call_done(&c);
	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : !!managed;
}

/* ------------------------------------------------------------------ save() / free */

struct nm_saved {
	char *conn;               /* the profile apply() will edit; NULL: it adds its own */
	sd_bus_message *settings; /* conn's GetSettings reply */
	bool active;              /* conn was active on the device */
	bool in_memory;           /* conn had no file (NM's Unsaved flag) */
};

static void nm_free_saved(void *p)
{
	struct nm_saved *s = p;

	if (!s)
		return;
	g_free(s->conn);
	sd_bus_message_unref(s->settings);
	g_free(s);
}

/* Whether conn is NM's own in-memory profile (Unsaved and nm-generated: "Wired
 * connection 1"), which restore() puts back in memory only. Any other Unsaved profile may
 * be a stored one with changes not saved (NM then reports its in-memory copy under /run
 * as its Filename): restore() stores the settings that were in force rather than delete
 * the admin's file. */
static int nm_in_memory_only(struct nm_call *c, const char *conn, bool *ret)
{
	uint32_t flags = 0;
	int r = nm_get_u32(c, conn, NM_CONNECTION_IFACE, "Flags", &flags);

	if (r < 0)
		return r;
	*ret = (flags & NM_CONNECTION_FLAG_UNSAVED) && (flags & NM_CONNECTION_FLAG_NM_GENERATED);
	return 0;
}

static int nm_save(const struct netconf_env *env, const struct netconf_target *t, void **ret_saved)
{
	struct nm_call c = {0};
	g_autofree char *dev = NULL;
	struct nm_saved *s = g_new0(struct nm_saved, 1);
	int r = nm_open(env, 0, &c);

	if (r >= 0)
		r = nm_find_device(&c, t->ifname, &dev);
	if (r >= 0)
		r = nm_find_profile(&c, dev, t->ifname, &s->conn, &s->active);
	if (r >= 0 && s->conn)
		r = nm_get_settings(&c, s->conn, &s->settings);
	if (r >= 0 && s->conn)
		r = nm_in_memory_only(&c, s->conn, &s->in_memory);
	nm_call_done(&c);
	if (r < 0) {
		nm_free_saved(s);
		return log_warning_errno(r, "NetworkManager: cannot save %s's profile", t->ifname);
	}
	*ret_saved = s;
	return 0;
}

/* ------------------------------------------------------------------ building settings */

static bool nm_key_is_ours(const char *key)
{
	static const char *const ours[] = {"method",  "addresses",  "address-data",
					   "gateway", "dns",        "dns-data",
					   "routes",  "route-data", "never-default"};

	for (size_t i = 0; i < G_N_ELEMENTS(ours); i++)
		if (strcmp(key, ours[i]) == 0)
			return true;
	return false;
}

static const char *nm_method(int family, enum netconf_method m)
{
	switch (m) {
	case NETCONF_METHOD_DISABLED:
		return "disabled";
	case NETCONF_METHOD_AUTO:
		return "auto";
	case NETCONF_METHOD_STATIC:
		return "manual";
	}
	return family == AF_INET ? "disabled" : "auto";
}

static int nm_append_address_data(sd_bus_message *m, const struct netconf *cfg, int family)
{
	int r = sd_bus_message_open_container(m, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", "address-data");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "aa{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "a{sv}");
	for (size_t i = 0; r >= 0 && i < cfg->n_addrs; i++) {
		const struct netconf_addr *a = &cfg->addrs[i];

		if (a->family != family)
			continue;
		r = sd_bus_message_append(m, "a{sv}", 2, "address", "s", a->text, "prefix", "u",
					  (uint32_t)a->prefix);
	}
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

/* With static addresses, the first gateway of the family is ipv4.gateway/ipv6.gateway
 * (NM refuses a gateway without addresses); every other one is a default route in
 * route-data with metric base + its rank among them (see the top). */
static int nm_append_gateways(sd_bus_message *m, const struct netconf *cfg, int family,
			      int64_t route_metric)
{
	uint32_t base = route_metric >= 0 ? (uint32_t)route_metric : NM_DEFAULT_ROUTE_METRIC;
	bool first_is_gateway = netconf_count_family(cfg->addrs, cfg->n_addrs, family) > 0;
	const struct netconf_addr *first = NULL;
	uint32_t rank = 0;
	int r = sd_bus_message_open_container(m, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", "route-data");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "aa{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "a{sv}");
	for (size_t i = 0; r >= 0 && i < cfg->n_gateways; i++) {
		const struct netconf_addr *g = &cfg->gateways[i];

		if (g->family != family)
			continue;
		if (!first) {
			first = g;
			if (first_is_gateway)
				continue;
		}
		rank++;
		r = sd_bus_message_append(
		    m, "a{sv}", 4, "dest", "s", family == AF_INET ? "0.0.0.0" : "::", "prefix", "u",
		    (uint32_t)0, "next-hop", "s", g->text, "metric", "u", base + rank);
	}
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	if (r >= 0 && first && first_is_gateway)
		r = sd_bus_message_append(m, "{sv}", "gateway", "s", first->text);
	return r;
}

static int nm_append_dns(sd_bus_message *m, const struct netconf *cfg, int family)
{
	int r = sd_bus_message_open_container(m, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", "dns");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', family == AF_INET ? "au" : "aay");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', family == AF_INET ? "u" : "ay");
	for (size_t i = 0; r >= 0 && i < cfg->n_dns; i++) {
		const struct netconf_addr *d = &cfg->dns[i];

		if (d->family != family)
			continue;
		if (family == AF_INET)
			r = sd_bus_message_append(m, "u", (uint32_t)d->in.s_addr);
		else
			r = sd_bus_message_append_array(m, 'y', &d->in6, sizeof(d->in6));
	}
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

/* Our keys of one family's group (the {sv} entries, inside an open a{sv}). */
static int nm_append_family(sd_bus_message *m, const struct netconf *cfg, int family,
			    int64_t route_metric)
{
	enum netconf_method method = family == AF_INET ? cfg->ipv4 : cfg->ipv6;
	int r = sd_bus_message_append(m, "{sv}", "method", "s", nm_method(family, method));

	if (method == NETCONF_METHOD_DISABLED &&
	    (netconf_count_family(cfg->gateways, cfg->n_gateways, family) > 0 ||
	     netconf_count_family(cfg->dns, cfg->n_dns, family) > 0))
		log_notice("NetworkManager: %s has no %s configuration: its %s gateways and DNS "
			   "servers are left out",
			   cfg->target.ifname, family == AF_INET ? "IPv4" : "IPv6",
			   family == AF_INET ? "IPv4" : "IPv6");
	if (r >= 0)
		r = nm_append_address_data(m, cfg, family);
	if (r >= 0 && method != NETCONF_METHOD_DISABLED)
		r = nm_append_gateways(m, cfg, family, route_metric);
	if (r >= 0 && method != NETCONF_METHOD_DISABLED)
		r = nm_append_dns(m, cfg, family);
	return r;
}

/* Whether a copy leaves key of group out: the deprecated forms of what address-data and
 * route-data carry (always: NM would prefer them, and they lose attributes), the
 * activation timestamp (NM keeps it itself; sent back, it lands in the keyfile and every
 * activation would change the file), and our keys when the addressing is replaced. */
static bool nm_key_dropped(const char *group, const char *key, bool replacing)
{
	if (strcmp(group, "connection") == 0)
		return strcmp(key, "timestamp") == 0;
	if (strcmp(group, "ipv4") != 0 && strcmp(group, "ipv6") != 0)
		return false;
	return strcmp(key, "addresses") == 0 || strcmp(key, "routes") == 0 ||
	       (replacing && nm_key_is_ours(key));
}

/* Copies one a{sv} group from src to m, less the keys nm_key_dropped() names; with cfg,
 * then our keys for family. */
static int nm_copy_group(sd_bus_message *m, sd_bus_message *src, const char *group,
			 const struct netconf *cfg, int family)
{
	int64_t route_metric = -1;
	const char *key;
	int r = sd_bus_message_enter_container(src, 'a', "{sv}");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(src, 'e', "sv")) > 0) {
		r = sd_bus_message_read(src, "s", &key);
		if (r < 0)
			break;
		if (cfg && strcmp(key, "route-metric") == 0 &&
		    sd_bus_message_read(src, "v", "x", &route_metric) >= 0)
			r = sd_bus_message_append(m, "{sv}", key, "x", route_metric);
		else if (nm_key_dropped(group, key, cfg != NULL))
			r = sd_bus_message_skip(src, "v");
		else {
			r = sd_bus_message_open_container(m, 'e', "sv");
			if (r >= 0)
				r = sd_bus_message_append(m, "s", key);
			if (r >= 0)
				r = sd_bus_message_copy(m, src, 0);
			if (r >= 0)
				r = sd_bus_message_close_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(src);
	}
	if (r >= 0 && cfg)
		r = nm_append_family(m, cfg, family, route_metric);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(src);
	return r;
}

static int nm_append_new_group(sd_bus_message *m, const struct netconf *cfg, int family)
{
	int r = sd_bus_message_open_container(m, 'e', "sa{sv}");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", family == AF_INET ? "ipv4" : "ipv6");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = nm_append_family(m, cfg, family, -1);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* The a{sa{sv}} of src (a GetSettings reply) into m: with cfg, its addressing replaced
 * (groups ipv4/ipv6 added when src has none); without, as it was. */
static int nm_append_settings(sd_bus_message *m, sd_bus_message *src, const struct netconf *cfg)
{
	bool seen4 = false, seen6 = false;
	const char *group;
	int r = sd_bus_message_rewind(src, 1);

	if (r >= 0)
		r = sd_bus_message_enter_container(src, 'a', "{sa{sv}}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(src, 'e', "sa{sv}")) > 0) {
		int family = 0;

		r = sd_bus_message_read(src, "s", &group);
		if (r < 0)
			break;
		if (strcmp(group, "ipv4") == 0)
			family = AF_INET, seen4 = true;
		else if (strcmp(group, "ipv6") == 0)
			family = AF_INET6, seen6 = true;
		r = sd_bus_message_open_container(m, 'e', "sa{sv}");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", group);
		if (r >= 0)
			r = nm_copy_group(m, src, group, family ? cfg : NULL, family);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(src);
	}
	if (r >= 0 && cfg && !seen4)
		r = nm_append_new_group(m, cfg, AF_INET);
	if (r >= 0 && cfg && !seen6)
		r = nm_append_new_group(m, cfg, AF_INET6);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* A new profile "hvguest <if>" with cfg. */
static int nm_append_new_profile(sd_bus_message *m, const struct netconf *cfg)
{
	g_autofree char *id = g_strconcat("hvguest ", cfg->target.ifname, NULL);
	char uuid[37];
	int r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");

	nm_our_uuid(cfg->target.ifname, uuid);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sa{sv}}", "connection", 5, "id", "s", id, "uuid",
					  "s", uuid, "type", "s", "802-3-ethernet",
					  "interface-name", "s", cfg->target.ifname, "autoconnect",
					  "b", 1);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sa{sv}}", "802-3-ethernet", 0);
	if (r >= 0)
		r = nm_append_new_group(m, cfg, AF_INET);
	if (r >= 0)
		r = nm_append_new_group(m, cfg, AF_INET6);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* ------------------------------------------------------------------ apply() */

/* Update (stored to disk), or with in_memory Update2 IN_MEMORY_ONLY: back to a profile
 * without a file, the file written meanwhile deleted. */
static int nm_update(struct nm_call *c, const char *conn, sd_bus_message *old,
		     const struct netconf *cfg, bool in_memory)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = nm_new_call(c, conn, NM_CONNECTION_IFACE, in_memory ? "Update2" : "Update", &m);

	if (r >= 0)
		r = nm_append_settings(m, old, cfg);
	if (r >= 0 && in_memory)
		r = sd_bus_message_append(m, "ua{sv}", (uint32_t)NM_UPDATE2_FLAG_IN_MEMORY_ONLY, 0);
	return r < 0 ? r : nm_send(c, m, NULL);
}

static int nm_add(struct nm_call *c, const struct netconf *cfg, char **ret_conn)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r = nm_new_call(c, NM_SETTINGS_PATH, NM_SETTINGS_IFACE, "AddConnection", &m);

	if (r >= 0)
		r = nm_append_new_profile(m, cfg);
	if (r >= 0)
		r = nm_send(c, m, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*ret_conn = g_strdup(path);
	return 0;
}

static int nm_activate(struct nm_call *c, const char *conn, const char *dev, char **ret_ac)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r = nm_new_call(c, NM_PATH, NM_SERVICE, "ActivateConnection", &m);

	if (r >= 0)
		r = sd_bus_message_append(m, "ooo", conn, dev, "/");
	if (r >= 0)
		r = nm_send(c, m, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*ret_ac = g_strdup(path);
	return 0;
}

/* Sleeps until the next poll, or -ETIME when the deadline has passed (the last poll is
 * made at the deadline). */
static int nm_pause(const struct nm_call *c)
{
	uint64_t now = now_usec();

	if (now >= c->deadline)
		return -ETIME;
	g_usleep(MIN(NM_POLL_USEC, c->deadline - now));
	return 0;
}

/* Polls until ac is ACTIVATED (or, with accept_ip_config, the device runs its IP
 * configuration for it). -EIO when it went down or the device failed; -ETIME. */
static int nm_wait_active(struct nm_call *c, const char *dev, const char *ac, bool accept_ip_config)
{
	for (;;) {
		uint32_t state = 0, dev_state = 0;
		int r = nm_get_u32(c, ac, NM_ACTIVE_IFACE, "State", &state);

		if (r == -ETIME)
			return r;
		if (r < 0 || state > NM_ACTIVE_STATE_ACTIVATED)
			return log_warning_errno(-EIO, "NetworkManager: activation of %s ended",
						 ac);
		if (state == NM_ACTIVE_STATE_ACTIVATED)
			return 0;
		r = nm_get_u32(c, dev, NM_DEVICE_IFACE, "State", &dev_state);
		if (r < 0)
			return r;
		if (dev_state == NM_DEVICE_STATE_FAILED)
			return log_warning_errno(-EIO, "NetworkManager: the device %s failed", dev);
		if (accept_ip_config && state == NM_ACTIVE_STATE_ACTIVATING &&
		    dev_state >= NM_DEVICE_STATE_IP_CONFIG &&
		    dev_state <= NM_DEVICE_STATE_ACTIVATED)
			return 0;
		r = nm_pause(c);
		if (r < 0)
			return r;
	}
}

static int nm_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	struct nm_call c = {0};
	g_autofree char *dev = NULL, *conn = NULL, *ac = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *old = NULL;
	const char *ifname = cfg->target.ifname;
	bool active;
	int r;

	if (!env->deadline_usec || now_usec() >= env->deadline_usec)
		return -ETIME;
	r = nm_open(env, env->deadline_usec, &c);
	if (r >= 0)
		r = nm_find_device(&c, ifname, &dev);
	if (r >= 0)
		r = nm_find_profile(&c, dev, ifname, &conn, &active);
	if (r >= 0 && conn)
		r = nm_get_settings(&c, conn, &old);
	if (r >= 0 && conn)
		r = nm_update(&c, conn, old, cfg, false);
	else if (r >= 0)
		r = nm_add(&c, cfg, &conn);
	if (r >= 0)
		r = nm_activate(&c, conn, dev, &ac);
	if (r >= 0)
		r = nm_wait_active(&c, dev, ac,
				   cfg->ipv4 != NETCONF_METHOD_STATIC &&
				       cfg->ipv6 != NETCONF_METHOD_STATIC);
	nm_call_done(&c);
	if (r < 0)
		return log_warning_errno(r, "NetworkManager: cannot apply the configuration of %s",
					 ifname);
	log_info("NetworkManager: %s configured through profile %s", ifname, conn);
	return 0;
}

/* ------------------------------------------------------------------ restore() */

/* The device's active connection and the profile it runs ("/" and NULL: none). */
static int nm_device_active(struct nm_call *c, const char *dev, char **ret_ac, char **ret_conn)
{
	g_autofree char *ac = NULL, *conn = NULL;
	int r = nm_get_string(c, dev, NM_DEVICE_IFACE, "ActiveConnection", "o", &ac);

	if (r < 0)
		return r;
	if (strcmp(ac, "/") != 0 &&
	    nm_get_string(c, ac, NM_ACTIVE_IFACE, "Connection", "o", &conn) < 0)
		conn = NULL; /* it went away while we looked */
	*ret_ac = g_steal_pointer(&ac);
	*ret_conn = g_steal_pointer(&conn);
	return 0;
}

/* Polls until the device no longer runs active connection ac and is not deactivating
 * (NM takes the addresses away on the way). */
static int nm_wait_released(struct nm_call *c, const char *dev, const char *ac)
{
	for (;;) {
		g_autofree char *now = NULL;
		uint32_t state = 0;
		int r = nm_get_string(c, dev, NM_DEVICE_IFACE, "ActiveConnection", "o", &now);

		if (r >= 0)
			r = nm_get_u32(c, dev, NM_DEVICE_IFACE, "State", &state);
		if (r < 0)
			return r;
		if (strcmp(now, ac) != 0 && state != NM_DEVICE_STATE_DEACTIVATING)
			return 0;
		r = nm_pause(c);
		if (r < 0)
			return r;
	}
}

/* Removes profile conn (delete) or takes it off the device (!delete), and waits until the
 * device has let go of it. */
static int nm_release(struct nm_call *c, const char *dev, const char *conn, bool delete)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	g_autofree char *ac = NULL, *active = NULL;
	int r = nm_device_active(c, dev, &ac, &active);
	bool running = r >= 0 && active && strcmp(active, conn) == 0;

	if (r < 0 || (!delete &&!running))
		return r;
	if (delete)
		r = nm_new_call(c, conn, NM_CONNECTION_IFACE, "Delete", &m);
	else
		r = nm_new_call(c, dev, NM_DEVICE_IFACE, "Disconnect", &m);
	if (r >= 0)
		r = nm_send(c, m, NULL);
	return r < 0 || !running ? r : nm_wait_released(c, dev, ac);
}

/* Whether a GetSettings reply configures family `group` statically ("manual"). */
static bool nm_settings_static(sd_bus_message *settings, const char *group)
{
	const char *method = NULL;

	return nm_settings_string(settings, group, "method", &method) > 0 &&
	       strcmp(method, "manual") == 0;
}

static int nm_restore_profile(struct nm_call *c, const char *dev, const struct nm_saved *s)
{
	g_autofree char *ac = NULL;
	bool any_static =
	    nm_settings_static(s->settings, "ipv4") || nm_settings_static(s->settings, "ipv6");
	int r = nm_update(c, s->conn, s->settings, NULL, s->in_memory);

	if (r < 0 || !s->active)
		return r < 0 ? r : nm_release(c, dev, s->conn, false);
	r = nm_activate(c, s->conn, dev, &ac);
	/* As in apply(): a profile that waits for DHCP/RA only counts once it runs. */
	return r < 0 ? r : nm_wait_active(c, dev, ac, !any_static);
}

static int nm_restore(const struct netconf_env *env, const struct netconf_target *t, void *saved)
{
	const struct nm_saved *s = saved;
	struct nm_call c = {0};
	g_autofree char *dev = NULL, *ours = NULL;
	char uuid[37];
	int r;

	if (!s)
		return -EINVAL;
	r = nm_open(env, now_usec() + NM_RESTORE_TIMEOUT_USEC, &c);
	if (r >= 0)
		r = nm_find_device(&c, t->ifname, &dev);
	if (r >= 0 && s->conn) {
		r = nm_restore_profile(&c, dev, s);
	} else if (r >= 0) {
		nm_our_uuid(t->ifname, uuid);
		r = nm_profile_by_uuid(&c, uuid, &ours);
		if (r >= 0 && ours)
			r = nm_release(&c, dev, ours, true);
	}
	nm_call_done(&c);
	if (r < 0)
		return log_warning_errno(r, "NetworkManager: cannot restore %s's profile",
					 t->ifname);
	log_info("NetworkManager: %s's previous profile restored", t->ifname);
	return 0;
}

const struct netconf_backend netconf_backend_networkmanager = {
    .name = "networkmanager",
    .manages = nm_manages,
    .save = nm_save,
    .apply = nm_apply,
    .restore = nm_restore,
    .free_saved = nm_free_saved,
};
