/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-ifupdown.c: SET_IP_INFO through Debian's ifupdown (0.8).
 *
 * The configuration is one file of ours, <ifupdown_dir>/hvguest-<if>:
 *
 *   auto <if>
 *   iface <if> inet static            one stanza per IPv4 address ("inet dhcp" for DHCP,
 *       address 192.0.2.10/24         none when IPv4 is disabled); the n-th gateway of a
 *       gateway 192.0.2.1             family goes into its n-th stanza, the later ones
 *       dns-nameservers 192.0.2.53    with "metric <n>" (IPv6: 1024 + n) so that they
 *   iface <if> inet static            do not replace each other.
 *       address 192.0.2.11/24
 *   iface <if> inet6 static           one stanza per IPv6 address, or "inet6 auto"
 *       address 2001:db8::10/64
 *
 * Why one stanza per address: ifupdown 0.8 takes only the first "address" option of a
 * stanza and silently ignores the others, while several stanzas for one interface are
 * documented (interfaces(5)) and each adds its address. No "up" command is ever written:
 * everything in the file is an address, a prefix or a number we formatted ourselves.
 * dns-nameservers is resolvconf's (or openresolv's) option: without one of them installed
 * ifupdown ignores it.
 *
 * Other definitions of the interface: an "iface <if> ..." stanza in <ifupdown_interfaces>
 * or in another file directly in <ifupdown_dir> would be merged by ifupdown with ours (its
 * addresses added to the host's). Such stanzas are commented out ("#hvguest# " before each
 * of their lines, the file rewritten atomically); save() keeps the original bytes and
 * restore() puts them back. "auto"/"allow-*" lines are left alone. Files sourced from
 * elsewhere are not looked at.
 *
 * <ifupdown_interfaces> must read our file: unless one of its "source" lines (a glob that
 * matches our path) or "source-directory <ifupdown_dir>" covers it, the line
 * "source <ifupdown_dir>/hvguest-*" is appended (atomically, saved for a rollback).
 *
 * Applying: ifdown needs the definition the interface was brought up with, so the old one
 * is taken down first (only when ifupdown's state says it is up), then the files are
 * written, then "ifup <if>". Both run directly (netconf_run(): no shell) with
 * "-i <ifupdown_interfaces> --state-dir <ifupdown_state_dir>". A rollback takes the new
 * definition down with "ifdown --force" (it also removes what a half-failed ifup left),
 * puts the files back and brings the old definition up if it was up.
 *
 * manages(): ifup is executable and the interface is either defined in those files or
 * up according to ifupdown's state (<state_dir>/ifstate.<if>). The core asks
 * NetworkManager and networkd first, so a stanza they also cover does not win over them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"

#define IFUPDOWN_FILE_MAX (1024 * 1024)
#define IFUPDOWN_DIR_MAX_ENTRIES 1024
#define IFUPDOWN_COMMENT "#hvguest# "

struct ifupdown_saved {
	struct netconf_saved_files *files;
	char **paths, **texts; /* the same files, to see whether apply() changed any */
	size_t n;
	bool was_up;
};

static const char *const stanza_keywords[] = {
    "iface",  "mapping",      "auto",       "source", "source-directory",
    "rename", "no-auto-down", "no-scripts",
};

static char *our_file(const struct netconf_env *env, const char *ifname)
{
	return g_strdup_printf("%s/hvguest-%s", env->ifupdown_dir, ifname);
}

static char *read_text(const char *path)
{
	char *text = NULL;

	return read_small_file(path, IFUPDOWN_FILE_MAX, &text, NULL) < 0 ? NULL : text;
}

/* The first word of line (after blanks) into word[], and the rest after it. */
static const char *first_word(const char *line, char *word, size_t size)
{
	size_t n;

	line += strspn(line, " \t");
	n = strcspn(line, " \t\r");
	if (n >= size)
		n = size - 1;
	memcpy(word, line, n);
	word[n] = '\0';
	line += strcspn(line, " \t\r");
	return line + strspn(line, " \t");
}

static bool starts_stanza(const char *word)
{
	if (g_str_has_prefix(word, "allow-"))
		return true;
	for (size_t i = 0; i < G_N_ELEMENTS(stanza_keywords); i++)
		if (strcmp(word, stanza_keywords[i]) == 0)
			return true;
	return false;
}

/* Whether an "iface" line's rest (after "iface") defines ifname. */
static bool iface_is(const char *rest, const char *ifname)
{
	size_t n = strlen(ifname);

	return strncmp(rest, ifname, n) == 0 && (rest[n] == ' ' || rest[n] == '\t');
}

/* text with every "iface <ifname> ..." stanza commented out; NULL when there is none. */
static char *comment_out_stanzas(const char *text, const char *ifname)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	g_autoptr(GString) out = g_string_new(NULL);
	bool inside = false, changed = false;

	for (size_t i = 0; lines[i]; i++) {
		char word[32];
		const char *rest = first_word(lines[i], word, sizeof(word));

		if (starts_stanza(word))
			inside = strcmp(word, "iface") == 0 && iface_is(rest, ifname);
		if (inside && word[0] != '\0' && word[0] != '#') {
			g_string_append(out, IFUPDOWN_COMMENT);
			changed = true;
		}
		g_string_append(out, lines[i]);
		if (lines[i + 1])
			g_string_append_c(out, '\n');
	}
	return changed ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

static bool defines_iface(const char *text, const char *ifname)
{
	g_autofree char *commented = comment_out_stanzas(text, ifname);

	return commented != NULL;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files that may hold a definition of ifname: <ifupdown_interfaces> and the regular
 * files in <ifupdown_dir> other than ours, sorted. */
static GPtrArray *candidate_files(const struct netconf_env *env, const char *ifname)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *ours = our_file(env, ifname);
	g_autoptr(GDir) d = g_dir_open(env->ifupdown_dir, 0, NULL);
	const char *name;

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < IFUPDOWN_DIR_MAX_ENTRIES; n++) {
		g_autofree char *path = g_build_filename(env->ifupdown_dir, name, NULL);
		struct stat st;

		if (name[0] == '.' || strcmp(path, ours) == 0 || lstat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode) || strstr(name, ".hvguest-"))
			continue;
		g_ptr_array_add(files, g_steal_pointer(&path));
	}
	g_ptr_array_sort(files, compare_strings);
	g_ptr_array_insert(files, 0, g_strdup(env->ifupdown_interfaces));
	return files;
}

/* The files other than ours that define ifname now. */
static GPtrArray *conflicting_files(const struct netconf_env *env, const char *ifname)
{
	g_autoptr(GPtrArray) all = candidate_files(env, ifname);
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < all->len; i++) {
		const char *path = g_ptr_array_index(all, i);
		g_autofree char *text = read_text(path);

		if (text && defines_iface(text, ifname))
			g_ptr_array_add(found, g_strdup(path));
	}
	return found;
}

/* Whether ifupdown's state (<state_dir>/ifstate.<if>) says ifname is up. */
static bool ifstate_up(const struct netconf_env *env, const char *ifname)
{
	g_autofree char *path = NULL, *text = NULL;

	if (!env->ifupdown_state_dir)
		return false;
	path = g_strdup_printf("%s/ifstate.%s", env->ifupdown_state_dir, ifname);
	text = read_text(path);
	return text && *g_strstrip(text) != '\0';
}

/* Whether a line of the interfaces file already makes ifupdown read path. */
static bool source_covers(const struct netconf_env *env, const char *line, const char *path)
{
	g_autofree char *base = g_path_get_dirname(env->ifupdown_interfaces);
	g_autofree char *arg = NULL, *full = NULL;
	char word[32];
	const char *rest = first_word(line, word, sizeof(word));

	if (strcmp(word, "source") != 0 && strcmp(word, "source-directory") != 0)
		return false;
	arg = g_strstrip(g_strdup(rest));
	if (*arg == '\0')
		return false;
	full = g_path_is_absolute(arg) ? g_strdup(arg) : g_build_filename(base, arg, NULL);
	if (strcmp(word, "source") == 0)
		return fnmatch(full, path, FNM_PATHNAME | FNM_PERIOD) == 0;
	/* source-directory reads only names made of [A-Za-z0-9_-]. */
	{
		g_autofree char *dir = g_path_get_dirname(path);
		g_autofree char *name = g_path_get_basename(path);

		while (g_str_has_suffix(full, "/") && strlen(full) > 1)
			full[strlen(full) - 1] = '\0';
		return strcmp(full, dir) == 0 &&
		       strspn(name,
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
			   strlen(name);
	}
}

/* The interfaces file's new text with a source line for our files, NULL if it has one. */
static char *with_source_line(const struct netconf_env *env, const char *text, const char *path)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);

	for (size_t i = 0; lines[i]; i++)
		if (source_covers(env, lines[i], path))
			return NULL;
	return g_strdup_printf("%s%s# Added by hv-kvpd: the network settings the Hyper-V host "
			       "sets (SET_IP_INFO)\nsource %s/hvguest-*\n",
			       text ?: "",
			       text && *text && !g_str_has_suffix(text, "\n") ? "\n" : "",
			       env->ifupdown_dir);
}

/* ---------------------------------------------------------------- the stanza file */

static void append_gateway(GString *s, const struct netconf_addr *gw, unsigned nth)
{
	g_string_append_printf(s, "\tgateway %s\n", gw->text);
	if (nth > 0)
		g_string_append_printf(s, "\tmetric %u\n",
				       (gw->family == AF_INET6 ? 1024 : 0) + nth);
}

static void append_dns(GString *s, const struct netconf *cfg, bool *done)
{
	if (*done || cfg->n_dns == 0)
		return;
	g_string_append(s, "\tdns-nameservers");
	for (size_t i = 0; i < cfg->n_dns; i++)
		g_string_append_printf(s, " %s", cfg->dns[i].text);
	g_string_append_c(s, '\n');
	*done = true;
}

/* The stanzas of one family. -EINVAL when a gateway has no stanza to go into. */
static int append_family(GString *s, const struct netconf *cfg, int family, bool *dns_done)
{
	const char *fam = family == AF_INET ? "inet" : "inet6";
	enum netconf_method m = family == AF_INET ? cfg->ipv4 : cfg->ipv6;
	size_t n_gw = 0, n_addr = 0;

	for (size_t i = 0; i < cfg->n_gateways; i++)
		n_gw += cfg->gateways[i].family == family;
	if (m == NETCONF_METHOD_DISABLED)
		return 0;
	if (m == NETCONF_METHOD_AUTO) {
		if (n_gw > 0)
			log_info(
			    "ifupdown: %s: %zu %s gateway(s) ignored: the family is configured "
			    "by %s",
			    cfg->target.ifname, n_gw, fam,
			    family == AF_INET ? "DHCP" : "router advertisements");
		g_string_append_printf(s, "iface %s %s %s\n", cfg->target.ifname, fam,
				       family == AF_INET ? "dhcp" : "auto");
		append_dns(s, cfg, dns_done);
		return 0;
	}
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		const struct netconf_addr *a = &cfg->addrs[i];
		size_t seen = 0;

		if (a->family != family)
			continue;
		g_string_append_printf(s, "iface %s %s static\n\taddress %s/%u\n",
				       cfg->target.ifname, fam, a->text, a->prefix);
		for (size_t j = 0; j < cfg->n_gateways; j++) {
			if (cfg->gateways[j].family != family)
				continue;
			if (seen++ == n_addr)
				append_gateway(s, &cfg->gateways[j], (unsigned)n_addr);
		}
		append_dns(s, cfg, dns_done);
		n_addr++;
	}
	if (n_gw > n_addr) {
		log_error("ifupdown: %s: %zu %s gateways but only %zu %s addresses: ifupdown takes "
			  "one gateway per address",
			  cfg->target.ifname, n_gw, fam, n_addr, fam);
		return -EINVAL;
	}
	return 0;
}

static int render(const struct netconf *cfg, char **ret)
{
	g_autoptr(GString) s = g_string_new(NULL);
	bool dns_done = false;
	int r;

	g_string_append_printf(
	    s,
	    "# Written by hv-kvpd: the network settings the Hyper-V host set for "
	    "%s (%s).\n# The host's next request replaces this file.\nauto %s\n",
	    cfg->target.ifname, cfg->target.mac_text, cfg->target.ifname);
	r = append_family(s, cfg, AF_INET, &dns_done);
	if (r >= 0)
		r = append_family(s, cfg, AF_INET6, &dns_done);
	if (r < 0)
		return r;
	*ret = g_string_free(g_steal_pointer(&s), FALSE);
	return 0;
}

/* ---------------------------------------------------------------- running ifup/ifdown */

static int run_ifupdown(const struct netconf_env *env, const char *prog, bool force,
			const char *ifname)
{
	const char *argv[9];
	g_autofree char *output = NULL;
	size_t n = 0;
	int r;

	argv[n++] = prog;
	if (force)
		argv[n++] = "--force";
	if (env->ifupdown_interfaces) {
		argv[n++] = "-i";
		argv[n++] = env->ifupdown_interfaces;
	}
	if (env->ifupdown_state_dir) {
		argv[n++] = "--state-dir";
		argv[n++] = env->ifupdown_state_dir;
	}
	argv[n++] = ifname;
	argv[n] = NULL;
	r = netconf_run(argv, env->deadline_usec, &output);
	if (r < 0)
		return log_error_errno(r, "ifupdown: %s %s: %m", prog, ifname);
	if (r != 0) {
		log_error("ifupdown: %s %s exited with %d: %s", prog, ifname, r,
			  g_strstrip(output));
		return -EIO;
	}
	return 0;
}

/* ---------------------------------------------------------------- the backend */

static int ifupdown_manages(const struct netconf_env *env, const struct netconf_target *t)
{
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *ours = NULL, *text = NULL;

	if (!env->ifup_path || !env->ifdown_path || !env->ifupdown_interfaces ||
	    !env->ifupdown_dir || access(env->ifup_path, X_OK) < 0 ||
	    access(env->ifdown_path, X_OK) < 0)
		return 0;
	if (ifstate_up(env, t->ifname))
		return 1;
	ours = our_file(env, t->ifname);
	text = read_text(ours);
	if (text && defines_iface(text, t->ifname))
		return 1;
	files = conflicting_files(env, t->ifname);
	return files->len > 0;
}

static void ifupdown_free_saved(void *p)
{
	struct ifupdown_saved *s = p;

	if (!s)
		return;
	netconf_saved_files_free(s->files);
	for (size_t i = 0; i < s->n; i++) {
		g_free(s->paths[i]);
		g_free(s->texts[i]);
	}
	g_free(s->paths);
	g_free(s->texts);
	g_free(s);
}

/* Whether every saved file reads as it did at save() (apply() wrote nothing). */
static bool files_unchanged(const struct ifupdown_saved *s)
{
	for (size_t i = 0; i < s->n; i++) {
		g_autofree char *now = read_text(s->paths[i]);

		if (g_strcmp0(now, s->texts[i]) != 0)
			return false;
	}
	return true;
}

static int ifupdown_save(const struct netconf_env *env, const struct netconf_target *t,
			 void **ret_saved)
{
	g_autoptr(GPtrArray) paths = conflicting_files(env, t->ifname);
	struct ifupdown_saved *s = g_new0(struct ifupdown_saved, 1);
	int r;

	/* The interfaces file gets the source line; conflicting_files() may list it already. */
	if (paths->len == 0 || strcmp(g_ptr_array_index(paths, 0), env->ifupdown_interfaces) != 0)
		g_ptr_array_insert(paths, 0, g_strdup(env->ifupdown_interfaces));
	g_ptr_array_add(paths, our_file(env, t->ifname));
	r = netconf_save_files((const char *const *)paths->pdata, paths->len, &s->files);
	if (r < 0) {
		ifupdown_free_saved(s);
		return log_error_errno(r, "ifupdown: cannot save the configuration of %s: %m",
				       t->ifname);
	}
	s->n = paths->len;
	s->paths = g_new0(char *, s->n);
	s->texts = g_new0(char *, s->n);
	for (size_t i = 0; i < s->n; i++) {
		s->paths[i] = g_strdup(g_ptr_array_index(paths, i));
		s->texts[i] = read_text(s->paths[i]);
	}
	s->was_up = ifstate_up(env, t->ifname);
	*ret_saved = s;
	return 0;
}

/* Comments out the other definitions of the interface, writes ours, adds the source line. */
static int write_files(const struct netconf_env *env, const char *ifname, const char *stanzas)
{
	g_autoptr(GPtrArray) others = conflicting_files(env, ifname);
	g_autofree char *ours = our_file(env, ifname);
	g_autofree char *main_text = NULL, *new_main = NULL;
	int r;

	for (guint i = 0; i < others->len; i++) {
		const char *path = g_ptr_array_index(others, i);
		g_autofree char *text = read_text(path);
		g_autofree char *commented = comment_out_stanzas(text, ifname);
		struct stat st;

		if (!commented || stat(path, &st) < 0)
			continue;
		log_notice("ifupdown: %s: commenting out its definition in %s (the host's "
			   "settings replace it)",
			   ifname, path);
		r = netconf_write_file(path, commented, strlen(commented), st.st_mode & 07777);
		if (r < 0)
			return log_error_errno(r, "ifupdown: cannot rewrite %s: %m", path);
	}
	r = netconf_write_file(ours, stanzas, strlen(stanzas), 0644);
	if (r < 0)
		return log_error_errno(r, "ifupdown: cannot write %s: %m", ours);
	main_text = read_text(env->ifupdown_interfaces);
	new_main = with_source_line(env, main_text, ours);
	if (new_main) {
		struct stat st;
		unsigned mode =
		    stat(env->ifupdown_interfaces, &st) == 0 ? st.st_mode & 07777 : 0644;

		r = netconf_write_file(env->ifupdown_interfaces, new_main, strlen(new_main), mode);
		if (r < 0)
			return log_error_errno(r, "ifupdown: cannot write %s: %m",
					       env->ifupdown_interfaces);
	}
	return 0;
}

static int ifupdown_apply(const struct netconf_env *env, const struct netconf *cfg)
{
	const char *ifname = cfg->target.ifname;
	g_autofree char *stanzas = NULL;
	int r;

	r = render(cfg, &stanzas);
	if (r < 0)
		return r;
	/* ifdown deconfigures what the file in force says: the old definition, before it goes. */
	if (ifstate_up(env, ifname)) {
		r = run_ifupdown(env, env->ifdown_path, false, ifname);
		if (r < 0)
			return r;
	}
	r = write_files(env, ifname, stanzas);
	if (r < 0)
		return r;
	r = run_ifupdown(env, env->ifup_path, false, ifname);
	if (r < 0)
		return r;
	log_info("ifupdown: %s configured", ifname);
	return 0;
}

static int ifupdown_restore(const struct netconf_env *env, const struct netconf_target *t,
			    void *saved)
{
	struct ifupdown_saved *s = saved;
	int r, ret = 0;

	if (!s)
		return -EINVAL;
	/* apply() stopped before it changed anything (a refused request): no need to take the
	 * interface down. Any ifdown it ran marked the interface down, which shows here. */
	if (files_unchanged(s) && ifstate_up(env, t->ifname) == s->was_up)
		return 0;
	/* --force: also what a half-failed ifup added, which ifstate does not record. */
	(void)run_ifupdown(env, env->ifdown_path, true, t->ifname);
	ret = netconf_restore_files(s->files);
	if (ret < 0)
		log_error_errno(ret, "ifupdown: cannot put back the files of %s: %m", t->ifname);
	if (s->was_up) {
		r = run_ifupdown(env, env->ifup_path, false, t->ifname);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

const struct netconf_backend netconf_backend_ifupdown = {
    .name = "ifupdown",
    .manages = ifupdown_manages,
    .save = ifupdown_save,
    .apply = ifupdown_apply,
    .restore = ifupdown_restore,
    .free_saved = ifupdown_free_saved,
};
