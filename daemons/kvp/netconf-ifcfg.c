/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-ifcfg.c: SET_IP_INFO through RHEL-style ifcfg files, <ifcfg_dir>/ifcfg-<if>.
 *
 * The file has the reference's keys (docs/protocol.md §3.7: HWADDR, DEVICE, BOOTPROTO,
 * IPADDRn, GATEWAY, IPV6ADDR, IPV6_DEFAULTGW, DNSn, ONBOOT...) in the form
 * NetworkManager's ifcfg-rh plugin and network-scripts both read: PREFIXn rather than
 * NETMASKn, IPV6ADDR with its /prefix and the other IPv6 addresses in
 * IPV6ADDR_SECONDARIES, a UUID= that stays the same across requests (NM finds the profile
 * by it), PEERDNS=no / IPV6_PEERDNS=no when the host gives DNS servers (they replace the
 * interface's). IPv4 disabled is BOOTPROTO=none without any IPADDR; IPv6 automatic is
 * IPV6_AUTOCONF=yes. Both stacks take one default gateway per family (GATEWAY,
 * IPV6_DEFAULTGW): a request with more is refused (-EINVAL) rather than half applied.
 *
 * Who applies it:
 *   - NetworkManager when it runs (the name org.freedesktop.NetworkManager has an owner on
 *     env->bus_address or the system bus; never activated by us): Settings.LoadConnections
 *     ([file]) makes it (re)read the file, Settings.GetConnectionByUuid finds the profile,
 *     ActivateConnection(profile, GetDeviceByIpIface(if), "/") applies it, and the active
 *     connection's State is polled until activated (2), deactivated (4: -EIO) or the
 *     deadline (-ETIME). One bus connection per call of ours. NM_CONTROLLED=yes.
 *   - else network-scripts: ifdown <if> (on the old file), the new file, ifup <if>, run
 *     directly (netconf_run()). NM_CONTROLLED=no, as the reference's script writes.
 *
 * manages(): with NM running, 1 when the device's active profile is an ifcfg file in
 * ifcfg_dir (Settings.Connection's Filename), so the keyfile backend keeps the others;
 * without NM, 1 when network-scripts are installed (<ifcfg_dir>/ifup-eth and ifup_path
 * executable) and <ifcfg_dir>/ifcfg-<if> exists.
 *
 * Rollback: the file's saved bytes come back; with NM, LoadConnections again and the
 * profile that was active at save() is activated again; without, ifdown and ifup.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "log.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define NM_NAME "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_SETTINGS_PATH NM_PATH "/Settings"
#define NM_IFACE NM_NAME
#define NM_SETTINGS_IFACE NM_NAME ".Settings"
#define NM_CONNECTION_IFACE NM_NAME ".Settings.Connection"
#define NM_DEVICE_IFACE NM_NAME ".Device"
#define NM_ACTIVE_IFACE NM_NAME ".Connection.Active"

#define NM_ACTIVE_ACTIVATED 2
#define NM_ACTIVE_DEACTIVATED 4
#define POLL_USEC (50 * 1000)

struct ifcfg_saved {
	struct netconf_saved_files *files;
	bool nm;          /* NetworkManager ran at save() */
	bool existed;     /* the ifcfg file existed */
	char *connection; /* the profile active on the device at save(), NULL: none */
};

static char *ifcfg_path(const struct netconf_env *env, const char *ifname)
{
	return g_strdup_printf("%s/ifcfg-%s", env->ifcfg_dir, ifname);
}

/* ---------------------------------------------------------------- the file */

/* UUID= of an existing file of ours, so that NM keeps seeing the same profile. */
static char *file_uuid(const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (read_small_file(path, 64 * 1024, &text, NULL) < 0)
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (size_t i = 0; lines[i]; i++) {
		const char *v = lines[i];

		if (!g_str_has_prefix(v, "UUID="))
			continue;
		v += 5;
		if (*v == '"')
			v++;
		if (strlen(v) >= 36) {
			char *u = g_strndup(v, 36);

			if (g_uuid_string_is_valid(u))
				return u;
			g_free(u);
		}
	}
	return NULL;
}

static const struct netconf_addr *nth_of_family(const struct netconf_addr *a, size_t n, int family,
						size_t nth)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family == family && nth-- == 0)
			return &a[i];
	return NULL;
}

static int render(const struct netconf *cfg, const char *uuid, bool nm, char **ret)
{
	const struct netconf_target *t = &cfg->target;
	g_autoptr(GString) s = g_string_new(NULL);
	size_t n4 = netconf_count_family(cfg->addrs, cfg->n_addrs, AF_INET);
	size_t n6 = netconf_count_family(cfg->addrs, cfg->n_addrs, AF_INET6);
	const struct netconf_addr *gw4, *gw6;

	for (int fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0)
		if (netconf_count_family(cfg->gateways, cfg->n_gateways, fam) > 1) {
			log_error("ifcfg: %s: ifcfg files take one %s default gateway, the host "
				  "sent %zu",
				  t->ifname, fam == AF_INET ? "IPv4" : "IPv6",
				  netconf_count_family(cfg->gateways, cfg->n_gateways, fam));
			return -EINVAL;
		}
	gw4 = nth_of_family(cfg->gateways, cfg->n_gateways, AF_INET, 0);
	gw6 = nth_of_family(cfg->gateways, cfg->n_gateways, AF_INET6, 0);

	g_string_append_printf(
	    s,
	    "# Written by hv-kvpd: the network settings the Hyper-V host set for "
	    "%s.\n# The host's next request replaces this file.\n"
	    "HWADDR=%s\nDEVICE=%s\nNAME=hvguest-%s\nUUID=%s\nTYPE=Ethernet\n"
	    "ONBOOT=yes\nBOOTPROTO=%s\n",
	    t->ifname, t->mac_text, t->ifname, t->ifname, uuid,
	    cfg->ipv4 == NETCONF_METHOD_AUTO ? "dhcp" : "none");
	if (cfg->ipv4 == NETCONF_METHOD_STATIC) {
		for (size_t i = 0; i < n4; i++) {
			const struct netconf_addr *a =
			    nth_of_family(cfg->addrs, cfg->n_addrs, AF_INET, i);

			g_string_append_printf(s, "IPADDR%zu=%s\nPREFIX%zu=%u\n", i, a->text, i,
					       a->prefix);
		}
		if (gw4)
			g_string_append_printf(s, "GATEWAY=%s\nDEFROUTE=yes\n", gw4->text);
	}
	g_string_append(s, "IPV6INIT=yes\n");
	if (cfg->ipv6 == NETCONF_METHOD_STATIC && n6 > 0) {
		const struct netconf_addr *a = nth_of_family(cfg->addrs, cfg->n_addrs, AF_INET6, 0);

		g_string_append_printf(s, "IPV6_AUTOCONF=no\nIPV6ADDR=%s/%u\n", a->text, a->prefix);
		if (n6 > 1) {
			g_string_append(s, "IPV6ADDR_SECONDARIES=\"");
			for (size_t i = 1; i < n6; i++) {
				a = nth_of_family(cfg->addrs, cfg->n_addrs, AF_INET6, i);
				g_string_append_printf(s, "%s%s/%u", i > 1 ? " " : "", a->text,
						       a->prefix);
			}
			g_string_append(s, "\"\n");
		}
		if (gw6)
			g_string_append_printf(s, "IPV6_DEFAULTGW=%s\n", gw6->text);
	} else {
		g_string_append(s, "IPV6_AUTOCONF=yes\n");
	}
	if ((cfg->ipv4 != NETCONF_METHOD_STATIC && gw4) ||
	    (cfg->ipv6 != NETCONF_METHOD_STATIC && gw6))
		log_info("ifcfg: %s: gateways of a family configured automatically are ignored",
			 t->ifname);
	for (size_t i = 0; i < cfg->n_dns; i++)
		g_string_append_printf(s, "DNS%zu=%s\n", i + 1, cfg->dns[i].text);
	if (cfg->n_dns > 0)
		g_string_append(s, "PEERDNS=no\nIPV6_PEERDNS=no\n");
	g_string_append_printf(s, "NM_CONTROLLED=%s\n", nm ? "yes" : "no");
	*ret = g_string_free(g_steal_pointer(&s), FALSE);
	return 0;
}

static int write_ifcfg(const struct netconf_env *env, const struct netconf *cfg, bool nm)
{
	g_autofree char *path = ifcfg_path(env, cfg->target.ifname);
	g_autofree char *uuid = file_uuid(path), *text = NULL;
	int r;

	if (!uuid)
		uuid = g_uuid_string_random();
	r = render(cfg, uuid, nm, &text);
	if (r < 0)
		return r;
	r = netconf_write_file(path, text, strlen(text), 0644);
	if (r < 0)
		return log_error_errno(r, "ifcfg: cannot write %s: %m", path);
	return 0;
}

/* ---------------------------------------------------------------- NetworkManager over D-Bus */

/* A method call that never starts NM by bus activation, bounded by the deadline. */
static int call(const struct netconf_env *env, sd_bus *bus, const char *dest, const char *path,
		const char *iface, const char *member, sd_bus_message **ret_reply,
		const char *types, ...)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = netconf_bus_callv(bus, env->deadline_usec, &error, dest, path, iface, member, ret_reply,
			      types, ap);
	va_end(ap);
	if (r < 0 && sd_bus_error_is_set(&error))
		log_debug("ifcfg: %s.%s: %s", iface, member, error.message ?: error.name);
	return r;
}

static int get_property(const struct netconf_env *env, sd_bus *bus, const char *path,
			const char *iface, const char *prop, char type, void *ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char sig[2] = {type, '\0'};
	const char *s = NULL;
	int r;

	r = call(env, bus, NM_NAME, path, "org.freedesktop.DBus.Properties", "Get", &reply, "ss",
		 iface, prop);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'v', sig);
	if (r < 0)
		return r;
	if (type == 'u')
		return sd_bus_message_read_basic(reply, 'u', ret);
	r = sd_bus_message_read_basic(reply, type, &s);
	if (r < 0)
		return r;
	*(char **)ret = g_strdup(s);
	return 0;
}

static int nm_running(const struct netconf_env *env, sd_bus *bus)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int has = 0, r;

	r = call(env, bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		 "NameHasOwner", &reply, "s", NM_NAME);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	return r < 0 ? r : has;
}

static int read_path(sd_bus_message *reply, char **ret)
{
	const char *p = NULL;
	int r = sd_bus_message_read(reply, "o", &p);

	if (r < 0)
		return r;
	*ret = g_strdup(p);
	return 0;
}

static int nm_device(const struct netconf_env *env, sd_bus *bus, const char *ifname, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r =
	    call(env, bus, NM_NAME, NM_PATH, NM_IFACE, "GetDeviceByIpIface", &reply, "s", ifname);

	return r < 0 ? r : read_path(reply, ret);
}

/* The settings connection active on the device, NULL when none. */
static int nm_active_profile(const struct netconf_env *env, sd_bus *bus, const char *ifname,
			     char **ret_connection)
{
	g_autofree char *dev = NULL, *active = NULL;
	int r = nm_device(env, bus, ifname, &dev);

	*ret_connection = NULL;
	if (r >= 0)
		r = get_property(env, bus, dev, NM_DEVICE_IFACE, "ActiveConnection", 'o', &active);
	if (r < 0 || strcmp(active, "/") == 0)
		return r;
	return get_property(env, bus, active, NM_ACTIVE_IFACE, "Connection", 'o', ret_connection);
}

static int nm_load(const struct netconf_env *env, sd_bus *bus, const char *path)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *failed = NULL;
	int ok = 0, r;

	r = call(env, bus, NM_NAME, NM_SETTINGS_PATH, NM_SETTINGS_IFACE, "LoadConnections", &reply,
		 "as", 1, path);
	if (r < 0)
		return log_error_errno(r, "ifcfg: NetworkManager cannot load %s: %m", path);
	r = sd_bus_message_read(reply, "b", &ok);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "s");
	if (r >= 0 && sd_bus_message_read(reply, "s", &failed) > 0) {
		log_error("ifcfg: NetworkManager did not load %s (is its ifcfg-rh plugin enabled?)",
			  failed);
		return -EIO;
	}
	return r < 0 ? r : 0;
}

/* Activates the profile on the device and waits until NM says how it went. */
static int nm_activate(const struct netconf_env *env, sd_bus *bus, const char *connection,
		       const char *ifname)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	g_autofree char *dev = NULL, *active = NULL;
	int r = nm_device(env, bus, ifname, &dev);

	if (r >= 0)
		r = call(env, bus, NM_NAME, NM_PATH, NM_IFACE, "ActivateConnection", &reply, "ooo",
			 connection, dev, "/");
	if (r >= 0)
		r = read_path(reply, &active);
	if (r < 0)
		return log_error_errno(r, "ifcfg: NetworkManager cannot activate %s on %s: %m",
				       connection, ifname);
	for (;;) {
		uint32_t state = 0;

		r = get_property(env, bus, active, NM_ACTIVE_IFACE, "State", 'u', &state);
		if (r < 0)
			/* The active connection is gone: it failed and was removed. */
			return log_error_errno(r == -ETIME ? r : -EIO,
					       "ifcfg: activation of %s on %s ended: %m",
					       connection, ifname);
		if (state == NM_ACTIVE_ACTIVATED)
			return 0;
		if (state >= NM_ACTIVE_DEACTIVATED) {
			log_error("ifcfg: NetworkManager could not activate %s on %s", connection,
				  ifname);
			return -EIO;
		}
		if (now_usec() + POLL_USEC >= env->deadline_usec)
			return -ETIME;
		g_usleep(POLL_USEC);
	}
}

static int nm_apply(const struct netconf_env *env, sd_bus *bus, const struct netconf *cfg)
{
	g_autofree char *path = ifcfg_path(env, cfg->target.ifname);
	g_autofree char *uuid = NULL, *connection = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = write_ifcfg(env, cfg, true);

	if (r >= 0)
		r = nm_load(env, bus, path);
	if (r < 0)
		return r;
	uuid = file_uuid(path);
	r = uuid ? call(env, bus, NM_NAME, NM_SETTINGS_PATH, NM_SETTINGS_IFACE,
			"GetConnectionByUuid", &reply, "s", uuid)
		 : -EIO;
	if (r >= 0)
		r = read_path(reply, &connection);
	if (r < 0)
		return log_error_errno(r, "ifcfg: NetworkManager has no profile for %s: %m", path);
	return nm_activate(env, bus, connection, cfg->target.ifname);
}

/* ---------------------------------------------------------------- network-scripts */

static int run_script(const struct netconf_env *env, const char *prog, const char *ifname)
{
	const char *argv[] = {prog, ifname, NULL};
	g_autofree char *output = NULL;
	int r = netconf_run(argv, env->deadline_usec, &output);

	if (r < 0)
		return log_error_errno(r, "ifcfg: %s %s: %m", prog, ifname);
	if (r != 0) {
		log_error("ifcfg: %s %s exited with %d: %s", prog, ifname, r, g_strstrip(output));
		return -EIO;
	}
	return 0;
}

static bool network_scripts(const struct netconf_env *env)
{
	g_autofree char *marker = NULL;

	if (!env->ifcfg_dir || !env->ifup_path || !env->ifdown_path)
		return false;
	marker = g_build_filename(env->ifcfg_dir, "ifup-eth", NULL);
	return access(marker, X_OK) == 0 && access(env->ifup_path, X_OK) == 0 &&
	       access(env->ifdown_path, X_OK) == 0;
}

static int scripts_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	g_autofree char *path = ifcfg_path(env, cfg->target.ifname);
	int r;

	/* ifdown reads the file in force: the old one, before it is replaced. */
	if (access(path, F_OK) == 0)
		(void)run_script(env, env->ifdown_path, cfg->target.ifname);
	r = write_ifcfg(env, cfg, false);
	if (r < 0)
		return r;
	return run_script(env, env->ifup_path, cfg->target.ifname);
}

/* ---------------------------------------------------------------- the backend */

static int ifcfg_manages(const struct netconf_env *env, const struct netconf_target *t)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	g_autofree char *path = NULL, *connection = NULL, *file = NULL;

	if (!env->ifcfg_dir)
		return 0;
	path = ifcfg_path(env, t->ifname);
	if (netconf_bus_open(env->bus_address, &bus) >= 0 && nm_running(env, bus) > 0) {
		g_autofree char *prefix = g_strdup_printf("%s/ifcfg-", env->ifcfg_dir);

		if (nm_active_profile(env, bus, t->ifname, &connection) < 0 || !connection)
			return 0;
		if (get_property(env, bus, connection, NM_CONNECTION_IFACE, "Filename", 's',
				 &file) < 0)
			return 0;
		return g_str_has_prefix(file, prefix);
	}
	return network_scripts(env) && access(path, F_OK) == 0;
}

static void ifcfg_free_saved(void *p)
{
	struct ifcfg_saved *s = p;

	if (!s)
		return;
	netconf_saved_files_free(s->files);
	g_free(s->connection);
	g_free(s);
}

static int ifcfg_save(const struct netconf_env *env, const struct netconf_target *t,
		      void **ret_saved)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	g_autofree char *path = ifcfg_path(env, t->ifname);
	const char *paths[] = {path};
	struct ifcfg_saved *s = g_new0(struct ifcfg_saved, 1);
	int r;

	s->existed = access(path, F_OK) == 0;
	r = netconf_save_files(paths, 1, &s->files);
	if (r >= 0 && netconf_bus_open(env->bus_address, &bus) >= 0 && nm_running(env, bus) > 0) {
		s->nm = true;
		r = nm_active_profile(env, bus, t->ifname, &s->connection);
	}
	if (r < 0) {
		ifcfg_free_saved(s);
		return log_error_errno(r, "ifcfg: cannot save the configuration of %s: %m",
				       t->ifname);
	}
	*ret_saved = s;
	return 0;
}

static int ifcfg_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	int r;

	if (netconf_bus_open(env->bus_address, &bus) >= 0 && nm_running(env, bus) > 0)
		r = nm_apply(env, bus, cfg);
	else
		r = scripts_apply(env, cfg);
	if (r >= 0)
		log_info("ifcfg: %s configured", cfg->target.ifname);
	return r;
}

static int ifcfg_restore(const struct netconf_env *env, const struct netconf_target *t, void *saved)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	g_autofree char *path = ifcfg_path(env, t->ifname);
	struct ifcfg_saved *s = saved;
	int r, ret;

	if (!s)
		return -EINVAL;
	if (!s->nm) {
		(void)run_script(env, env->ifdown_path, t->ifname);
		ret = netconf_restore_files(s->files);
		if (s->existed && (r = run_script(env, env->ifup_path, t->ifname)) < 0 && ret == 0)
			ret = r;
		return ret;
	}
	ret = netconf_restore_files(s->files);
	r = netconf_bus_open(env->bus_address, &bus);
	/* A file that did not exist: loading its absence drops the profile; NM may also
	 * report it as not loaded, which is no failure of the rollback. */
	if (r >= 0 && nm_load(env, bus, path) < 0 && s->existed)
		r = -EIO;
	if (r >= 0 && s->connection)
		r = nm_activate(env, bus, s->connection, t->ifname);
	return ret < 0 ? ret : r;
}

const struct netconf_backend netconf_backend_ifcfg = {
    .name = "ifcfg",
    .manages = ifcfg_manages,
    .save = ifcfg_save,
    .apply = ifcfg_apply,
    .restore = ifcfg_restore,
    .free_saved = ifcfg_free_saved,
};
