/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-script.c: the "script" backend, for sites with their own hv_set_ifconfig.
 *
 * Compatibility with the reference daemon (docs/protocol.md §3.7): the configuration is
 * written to <state_dir>/ifcfg-<if> and <state_dir>/<if>.nmconnection in the reference's
 * formats, then set-ifconfig-script= runs as `PATH <ifcfg path> <nmconnection path>`,
 * directly (no shell), with the deadline of the request. A non-zero exit is a failure.
 *
 * Differences from the reference, on purpose: files are written atomically (temporary +
 * rename) and only once the whole request is valid; with DHCP on, the host's IPv4 statics
 * are not written (netconf-parse.c drops them: DHCP provides them); IPv6 prefixes are
 * written as numbers (the reference copies the host's text).
 *
 * Rollback: both files are put back as they were (or removed), and when there was a
 * previous ifcfg file the script runs again with the restored files, to re-apply them.
 * The core restores the interface's addresses and routes itself as well.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "netconf.h"
#include "shared/macro.h"

struct script_saved {
	struct netconf_saved_files *files;
	bool had_ifcfg;
};

static char *path_in_state_dir(const struct netconf_env *env, const char *ifname,
			       const char *prefix, const char *suffix)
{
	return g_strdup_printf("%s/%s%s%s", env->state_dir, prefix, ifname, suffix);
}

static void expand_ipv6(const struct in6_addr *a, char buf[40])
{
	const uint8_t *b = a->s6_addr;

	snprintf(buf, 40, "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* The reference's text of an address in ifcfg: IPv4 as it is, IPv6 fully expanded. */
static const char *ifcfg_addr(const struct netconf_addr *a, char buf[40])
{
	if (a->family == AF_INET)
		return a->text;
	expand_ipv6(&a->in6, buf);
	return buf;
}

static void ipv4_mask_text(unsigned prefix, char buf[INET_ADDRSTRLEN])
{
	struct in_addr m = {.s_addr = htonl(prefix == 0 ? 0 : 0xffffffffu << (32 - prefix))};

	inet_ntop(AF_INET, &m, buf, INET_ADDRSTRLEN);
}

/* "KEY" for the first of its family, then KEY<sep><n>: IPV6ADDR, IPV6ADDR_1, ... */
static void append_numbered(GString *s, const char *key, const char *sep, unsigned n,
			    const char *value)
{
	if (n == 0)
		g_string_append_printf(s, "%s=%s\n", key, value);
	else
		g_string_append_printf(s, "%s%s%u=%s\n", key, sep, n, value);
}

char *netconf_script_ifcfg_text(const struct netconf *cfg)
{
	GString *s = g_string_new(NULL);
	unsigned n4 = 0, n6 = 0;
	char buf[40];

	g_string_append_printf(s, "HWADDR=%s\nDEVICE=%s\nBOOTPROTO=%s\n", cfg->target.mac_text,
			       cfg->target.ifname, cfg->dhcp ? "dhcp" : "none");
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		const struct netconf_addr *a = &cfg->addrs[i];

		if (a->family == AF_INET)
			g_string_append_printf(s, "IPADDR%u=%s\n", n4++, a->text);
		else
			append_numbered(s, "IPV6ADDR", "_", n6++, ifcfg_addr(a, buf));
	}
	n4 = n6 = 0;
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		const struct netconf_addr *a = &cfg->addrs[i];

		if (a->family == AF_INET) {
			ipv4_mask_text(a->prefix, buf);
			g_string_append_printf(s, "NETMASK%u=%s\n", n4++, buf);
		} else {
			snprintf(buf, sizeof(buf), "%u", a->prefix);
			append_numbered(s, "IPV6NETMASK", "_", n6++, buf);
		}
	}
	n4 = n6 = 0;
	for (size_t i = 0; i < cfg->n_gateways; i++) {
		const struct netconf_addr *g = &cfg->gateways[i];

		if (g->family == AF_INET)
			append_numbered(s, "GATEWAY", "", n4++, g->text);
		else
			append_numbered(s, "IPV6_DEFAULTGW", "_", n6++, ifcfg_addr(g, buf));
	}
	for (size_t i = 0; i < cfg->n_dns; i++)
		g_string_append_printf(s, "DNS%zu=%s\n", i + 1, ifcfg_addr(&cfg->dns[i], buf));
	return g_string_free(s, FALSE);
}

static void nm_join(GString *s, const char *key, const struct netconf_addr *a, size_t n, int family)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (a[i].family != family)
			continue;
		g_string_append_printf(s, "%s%s", first ? key : ",", a[i].text);
		first = false;
	}
	if (!first)
		g_string_append_c(s, '\n');
}

static void nm_section(GString *s, const struct netconf *cfg, int family)
{
	unsigned n = 0;

	g_string_append(s, family == AF_INET ? "\n[ipv4]\n" : "\n[ipv6]\n");
	for (size_t i = 0; i < cfg->n_addrs; i++)
		if (cfg->addrs[i].family == family)
			g_string_append_printf(s, "address%u=%s/%u\n", ++n, cfg->addrs[i].text,
					       cfg->addrs[i].prefix);
	if (family == AF_INET)
		g_string_append_printf(s, "method=%s\n",
				       cfg->dhcp ? "auto"
				       : n > 0   ? "manual"
						 : "disabled");
	else
		g_string_append_printf(s, "method=%s\n", n > 0 ? "manual" : "auto");
	nm_join(s, "gateway=", cfg->gateways, cfg->n_gateways, family);
	nm_join(s, "dns=", cfg->dns, cfg->n_dns, family);
}

char *netconf_script_nmconnection_text(const struct netconf *cfg)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s,
			       "\n[connection]\ninterface-name=%s\n\n[ethernet]\nmac-address=%s\n",
			       cfg->target.ifname, cfg->target.mac_text);
	nm_section(s, cfg, AF_INET);
	nm_section(s, cfg, AF_INET6);
	return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- the backend */

static int script_manages(const struct netconf_env *env, const struct netconf_target *t)
{
	return env->script_path && env->script_path[0] ? 1 : 0;
}

static int run_script(const struct netconf_env *env, const char *ifname, const char *ifcfg,
		      const char *nm)
{
	const char *argv[] = {env->script_path, ifcfg, nm, NULL};
	g_autofree char *out = NULL;
	int r = netconf_run(argv, env->deadline_usec, &out);

	if (out && out[0])
		log_info("%s %s said: %s", env->script_path, ifname, g_strchomp(out));
	if (r == -ETIME)
		return log_warning_errno(r, "%s did not finish in time, killed", env->script_path);
	if (r < 0)
		return log_warning_errno(r, "Cannot run %s", env->script_path);
	if (r > 0) {
		log_warning("%s %s exited with status %d", env->script_path, ifname, r);
		return -EIO;
	}
	return 0;
}

static int script_save(const struct netconf_env *env, const struct netconf_target *t,
		       void **ret_saved)
{
	g_autofree char *ifcfg = path_in_state_dir(env, t->ifname, "ifcfg-", "");
	g_autofree char *nm = path_in_state_dir(env, t->ifname, "", ".nmconnection");
	const char *const paths[] = {ifcfg, nm};
	struct script_saved *s = g_new0(struct script_saved, 1);
	int r = netconf_save_files(paths, 2, &s->files);

	if (r < 0) {
		g_free(s);
		return r;
	}
	s->had_ifcfg = g_file_test(ifcfg, G_FILE_TEST_IS_REGULAR);
	*ret_saved = s;
	return 0;
}

static int script_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	g_autofree char *ifcfg = path_in_state_dir(env, cfg->target.ifname, "ifcfg-", "");
	g_autofree char *nm = path_in_state_dir(env, cfg->target.ifname, "", ".nmconnection");
	g_autofree char *ifcfg_text = netconf_script_ifcfg_text(cfg);
	g_autofree char *nm_text = netconf_script_nmconnection_text(cfg);
	int r;

	if (!script_manages(env, &cfg->target))
		return -ENOENT;
	r = netconf_write_file(ifcfg, ifcfg_text, strlen(ifcfg_text), 0644);
	if (r >= 0)
		r = netconf_write_file(nm, nm_text, strlen(nm_text), 0600);
	if (r < 0)
		return log_warning_errno(r, "Cannot write %s or %s", ifcfg, nm);
	return run_script(env, cfg->target.ifname, ifcfg, nm);
}

static int script_restore(const struct netconf_env *env, const struct netconf_target *t,
			  void *saved)
{
	struct script_saved *s = saved;
	g_autofree char *ifcfg = path_in_state_dir(env, t->ifname, "ifcfg-", "");
	g_autofree char *nm = path_in_state_dir(env, t->ifname, "", ".nmconnection");
	int r;

	if (!s)
		return 0;
	r = netconf_restore_files(s->files);
	if (r < 0)
		return r;
	if (!s->had_ifcfg || !script_manages(env, t))
		return 0;
	/* env->deadline_usec is the restore's own (the core gives it NETCONF_RESTORE_USEC). */
	return run_script(env, t->ifname, ifcfg, nm);
}

static void script_free_saved(void *saved)
{
	struct script_saved *s = saved;

	if (!s)
		return;
	netconf_saved_files_free(s->files);
	g_free(s);
}

const struct netconf_backend netconf_backend_script = {
    .name = "script",
    .manages = script_manages,
    .save = script_save,
    .apply = script_apply,
    .restore = script_restore,
    .free_saved = script_free_saved,
};
