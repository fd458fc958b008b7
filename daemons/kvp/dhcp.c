/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DHCP flag of a link, from the files of the network manager that manages it (see
 * dhcp.h for the order).
 *
 * Files, not D-Bus, for NetworkManager: its runtime device state file says whether it
 * manages the link and which connection is active, and the connection's keyfile says
 * whether IPv4 uses DHCP. That needs no bus round trip in the host's request path and
 * works with a root prefix in tests. A connection in no keyfile is looked for among the
 * ifcfg-rh profiles (by UUID=, then DEVICE=); profiles of other NM settings plugins are
 * not read: then NM does not answer and the next source is asked.
 *
 * Every source yields a struct dhcp_state (IPv4: DHCP, static or none; IPv6 automatic or
 * not); dhcp_state_flag() turns it into the host's one bit (see dhcp.h).
 *
 * Every file read is a regular file of at most FILE_MAX_SIZE bytes (read_small_file(): a FIFO
 * or device never stalls us, an oversize file counts as absent), and at most DIR_MAX_ENTRIES
 * directory entries are looked at, so a strange /etc costs little.
 * Reading and parsing are apart: the dhcp_*_parse() functions see only the text
 * (tests/fuzz/fuzz-dhcp-state feeds them).
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "read-file.h"

#define FILE_MAX_SIZE (64 * 1024)
#define DIR_MAX_ENTRIES 1024

static const char *const nm_connection_dirs[] = {
    "run/NetworkManager/system-connections",
    "etc/NetworkManager/system-connections",
    "usr/lib/NetworkManager/system-connections",
};

#define IFCFG_DIR "etc/sysconfig/network-scripts"

const char *dhcp_origin_to_string(enum dhcp_origin o)
{
	switch (o) {
	case DHCP_ORIGIN_NETWORKMANAGER:
		return "NetworkManager";
	case DHCP_ORIGIN_NETWORKD:
		return "systemd-networkd";
	case DHCP_ORIGIN_IFUPDOWN:
		return "ifupdown";
	case DHCP_ORIGIN_IFCFG:
		return "network-scripts";
	case DHCP_ORIGIN_NONE:
		return "none";
	}
	return "unknown";
}

static char *root_path(const struct dhcp_source *src, const char *rel)
{
	const char *root = src && src->root && *src->root ? src->root : "/";

	while (*rel == '/')
		rel++;
	return g_build_filename(root, rel, NULL);
}

/* The file's text, or NULL when it is missing, unreadable, not a regular file (a FIFO would
 * stall the event loop) or larger than FILE_MAX_SIZE: each of those reads as "no state". */
static char *read_text_file(const char *path)
{
	char *text = NULL;

	return read_small_file(path, FILE_MAX_SIZE, &text, NULL) < 0 ? NULL : text;
}

static GKeyFile *parse_keyfile(const char *text)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	if (!text || !g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL))
		return NULL;
	return g_steal_pointer(&kf);
}

/* ---- NetworkManager ---------------------------------------------------------------- */

char *dhcp_nm_device_parse(const char *text)
{
	g_autoptr(GKeyFile) kf = parse_keyfile(text);
	g_autofree char *uuid = NULL;

	if (!kf || !g_key_file_get_boolean(kf, "device", "managed", NULL))
		return NULL;
	uuid = g_key_file_get_string(kf, "device", "connection-uuid", NULL);
	return uuid && *uuid ? g_steal_pointer(&uuid) : NULL;
}

/* The uuid of the one keyfile profile in the keyfile directories bound to ifname
 * ([connection] interface-name=), NULL when there is none or there are several. */
static char *nm_profile_for_ifname(const struct dhcp_source *src, const char *ifname)
{
	g_autofree char *found = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(nm_connection_dirs); i++) {
		g_autofree char *dir = root_path(src, nm_connection_dirs[i]);
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const char *name;

		for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++) {
			g_autofree char *path = g_build_filename(dir, name, NULL);
			g_autofree char *text = NULL, *iface = NULL, *uuid = NULL;
			g_autoptr(GKeyFile) kf = NULL;

			if (name[0] == '.' || g_str_has_suffix(name, "~"))
				continue;
			text = read_text_file(path);
			kf = parse_keyfile(text);
			iface = kf ? g_key_file_get_string(kf, "connection", "interface-name", NULL)
				   : NULL;
			uuid = kf ? g_key_file_get_string(kf, "connection", "uuid", NULL) : NULL;
			if (!iface || strcmp(iface, ifname) != 0 || !uuid || !*uuid)
				continue;
			if (found && strcmp(found, uuid) != 0)
				return NULL; /* several: which one NM activates is not in the files */
			g_free(found);
			found = g_steal_pointer(&uuid);
		}
	}
	return g_steal_pointer(&found);
}

/* The active connection's uuid when NM manages the link, else NULL. NM 1.42 writes
 * connection-uuid= only once the device is activated: while a profile still waits for its
 * DHCP lease the file has none, and the one profile bound to ifname stands for it. */
static char *nm_active_uuid(const struct dhcp_source *src, int ifindex, const char *ifname)
{
	g_autofree char *rel = g_strdup_printf("run/NetworkManager/devices/%d", ifindex);
	g_autofree char *path = root_path(src, rel);
	g_autofree char *text = read_text_file(path);
	g_autoptr(GKeyFile) kf = NULL;
	char *uuid = dhcp_nm_device_parse(text);

	if (uuid || !ifname || !*ifname)
		return uuid;
	kf = parse_keyfile(text);
	if (!kf || !g_key_file_get_boolean(kf, "device", "managed", NULL))
		return NULL;
	return nm_profile_for_ifname(src, ifname);
}

int dhcp_nm_connection_parse_state(const char *text, const char *uuid, struct dhcp_state *ret)
{
	g_autoptr(GKeyFile) kf = parse_keyfile(text);
	g_autofree char *id = NULL, *m4 = NULL, *m6 = NULL;

	id = kf ? g_key_file_get_string(kf, "connection", "uuid", NULL) : NULL;
	if (!id || strcmp(id, uuid) != 0)
		return -ENOENT;
	/* No method: NM's default, auto, for both families. */
	m4 = g_key_file_get_string(kf, "ipv4", "method", NULL);
	m6 = g_key_file_get_string(kf, "ipv6", "method", NULL);
	ret->ipv4 = !m4 || strcmp(m4, "auto") == 0 ? DHCP_V4_DHCP
		    : strcmp(m4, "disabled") == 0  ? DHCP_V4_NONE
						   : DHCP_V4_STATIC;
	ret->ipv6_auto = !m6 || strcmp(m6, "auto") == 0 || strcmp(m6, "dhcp") == 0;
	return 0;
}

int dhcp_nm_connection_parse(const char *text, const char *uuid)
{
	struct dhcp_state st;
	int r = dhcp_nm_connection_parse_state(text, uuid, &st);

	return r < 0 ? r : st.ipv4 == DHCP_V4_DHCP;
}

/* 0 and *ret: the connection with that uuid in dir; -ENOENT: none. */
static int nm_connection_in(const char *dir, const char *uuid, struct dhcp_state *ret)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;

		if (name[0] == '.' || g_str_has_suffix(name, "~"))
			continue;
		text = read_text_file(path);
		if (dhcp_nm_connection_parse_state(text, uuid, ret) == 0)
			return 0;
	}
	return -ENOENT;
}

static int ifcfg_find(const struct dhcp_source *src, const char *key, const char *want,
		      struct dhcp_state *ret);

static int nm_state(const struct dhcp_source *src, int ifindex, const char *ifname,
		    struct dhcp_state *ret)
{
	g_autofree char *uuid = nm_active_uuid(src, ifindex, ifname);

	if (!uuid)
		return -ENOENT;
	for (size_t i = 0; i < G_N_ELEMENTS(nm_connection_dirs); i++) {
		g_autofree char *dir = root_path(src, nm_connection_dirs[i]);

		if (nm_connection_in(dir, uuid, ret) == 0)
			return 0;
	}
	/* An ifcfg-rh profile: by its UUID=, else by the device it names. */
	if (ifcfg_find(src, "UUID", uuid, ret) == 0)
		return 0;
	if (ifname && *ifname && ifcfg_find(src, "DEVICE", ifname, ret) == 0)
		return 0;
	return -ENOENT;
}

/* ---- systemd-networkd -------------------------------------------------------------- */

/* Value of KEY= in an env-style state file, unquoted; NULL if absent. */
static char *state_value(char **lines, const char *key)
{
	size_t klen = strlen(key);
	char *found = NULL;

	for (size_t i = 0; lines[i]; i++)
		if (strncmp(lines[i], key, klen) == 0 && lines[i][klen] == '=') {
			g_free(found);
			found = g_strdup(lines[i] + klen + 1);
		}
	if (found && found[0] == '"' && strlen(found) >= 2 && g_str_has_suffix(found, "\"")) {
		memmove(found, found + 1, strlen(found) - 2);
		found[strlen(found) - 2] = '\0';
	}
	return found;
}

/* DHCP= of a .network file: *v4 and *v6. */
static void dhcp_setting(const char *v, int *v4, int *v6)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "both"};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
		if (g_ascii_strcasecmp(v, yes[i]) == 0) {
			*v4 = *v6 = 1;
			return;
		}
	*v4 = g_ascii_strcasecmp(v, "ipv4") == 0;
	*v6 = g_ascii_strcasecmp(v, "ipv6") == 0;
}

/* The value of "KEY =" at the start of l (blanks around '=' allowed), else NULL. */
static char *setting_value(char *l, const char *key)
{
	size_t n = strlen(key);
	char *v;

	if (strncmp(l, key, n) != 0)
		return NULL;
	v = l + n + strspn(l + n, " \t");
	return *v == '=' ? g_strstrip(v + 1) : NULL;
}

void dhcp_network_file_parse_state(const char *text, int *dhcp4, int *dhcp6, bool *has_v4_address)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	bool in_network = false, in_address = false;

	for (size_t i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]), *v;

		if (l[0] == '[') {
			in_network = strcmp(l, "[Network]") == 0;
			in_address = strcmp(l, "[Address]") == 0;
		} else if (in_network && (v = setting_value(l, "DHCP"))) {
			dhcp_setting(v, dhcp4, dhcp6);
		} else if ((in_network || in_address) && (v = setting_value(l, "Address"))) {
			if (strchr(v, '.') && !strchr(v, ':'))
				*has_v4_address = true;
		}
	}
}

void dhcp_network_file_parse(const char *text, int *dhcp)
{
	int v6 = 0;
	bool has_v4 = false;

	dhcp_network_file_parse_state(text, dhcp, &v6, &has_v4);
}

/* Updates the settings with one .network file (or drop-in). */
static void network_file_state(const char *path, int *dhcp4, int *dhcp6, bool *has_v4)
{
	g_autofree char *text = read_text_file(path);

	dhcp_network_file_parse_state(text, dhcp4, dhcp6, has_v4);
}

/* -ENOENT when not managed; else 0, *lease, and the NETWORK_FILE then its drop-ins. */
static int networkd_link_parse(const char *text, bool *lease4, char ***ret_network_files)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	g_autofree char *admin = state_value(lines, "ADMIN_STATE");
	g_autofree char *lease = state_value(lines, "DHCP_LEASE");
	g_autofree char *addr4 = state_value(lines, "DHCP4_ADDRESS");
	g_autofree char *network = state_value(lines, "NETWORK_FILE");
	g_autofree char *dropins = state_value(lines, "NETWORK_FILE_DROPINS");
	g_auto(GStrv) dropin_list = g_strsplit_set(dropins ?: "", " \t", -1);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

	if (!text || !admin || strcmp(admin, "unmanaged") == 0 || strcmp(admin, "") == 0)
		return -ENOENT;
	*lease4 = (lease && *lease) || (addr4 && *addr4);
	if (network && *network)
		g_ptr_array_add(files, g_steal_pointer(&network));
	for (size_t i = 0; dropin_list[i]; i++)
		if (dropin_list[i][0])
			g_ptr_array_add(files, g_strdup(dropin_list[i]));
	g_ptr_array_add(files, NULL);
	*ret_network_files = (char **)g_ptr_array_free(g_steal_pointer(&files), FALSE);
	return 0;
}

int dhcp_networkd_link_parse(const char *text, char ***ret_network_files)
{
	char **files = NULL;
	bool lease = false;
	int r = networkd_link_parse(text, &lease, &files);

	if (r < 0)
		return r;
	if (lease) {
		g_strfreev(files);
		return 1;
	}
	*ret_network_files = files;
	return 0;
}

static int networkd_state(const struct dhcp_source *src, int ifindex, struct dhcp_state *ret)
{
	g_autofree char *rel = g_strdup_printf("run/systemd/netif/links/%d", ifindex);
	g_autofree char *path = root_path(src, rel);
	g_autofree char *text = read_text_file(path);
	g_auto(GStrv) files = NULL;
	int dhcp4 = 0, dhcp6 = 0;
	bool lease = false, has_v4 = false;

	if (networkd_link_parse(text, &lease, &files) < 0)
		return -ENOENT;
	for (size_t i = 0; files[i]; i++) {
		g_autofree char *np = root_path(src, files[i]);

		network_file_state(np, &dhcp4, &dhcp6, &has_v4);
	}
	ret->ipv4 = lease || dhcp4 ? DHCP_V4_DHCP : has_v4 ? DHCP_V4_STATIC : DHCP_V4_NONE;
	ret->ipv6_auto = dhcp6;
	return 0;
}

/* ---- ifupdown ---------------------------------------------------------------------- */

int dhcp_ifupdown_parse_state(const char *text, const char *ifname, struct dhcp_state *ret)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	struct dhcp_state st = {.ipv4 = DHCP_V4_NONE};
	bool found = false;

	for (size_t i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(g_strstrip(lines[i]), " \t", 5);

		if (g_strv_length(w) < 4 || strcmp(w[0], "iface") != 0 || strcmp(w[1], ifname) != 0)
			continue;
		if (strcmp(w[2], "inet") == 0)
			st.ipv4 =
			    MAX(st.ipv4, strcmp(w[3], "dhcp") == 0 ? DHCP_V4_DHCP : DHCP_V4_STATIC);
		else if (strcmp(w[2], "inet6") == 0)
			st.ipv6_auto |= strcmp(w[3], "dhcp") == 0 || strcmp(w[3], "auto") == 0;
		else
			continue;
		found = true;
	}
	if (!found)
		return -ENOENT;
	*ret = st;
	return 0;
}

int dhcp_ifupdown_parse(const char *text, const char *ifname)
{
	struct dhcp_state st;

	if (dhcp_ifupdown_parse_state(text, ifname, &st) < 0 || st.ipv4 == DHCP_V4_NONE)
		return -ENOENT;
	return st.ipv4 == DHCP_V4_DHCP;
}

/* Merges one file's answer into *acc; 0 if the file speaks of ifname. */
static int ifupdown_file_state(const char *path, const char *ifname, struct dhcp_state *acc)
{
	g_autofree char *text = read_text_file(path);
	struct dhcp_state st;

	if (dhcp_ifupdown_parse_state(text, ifname, &st) < 0)
		return -ENOENT;
	acc->ipv4 = MAX(acc->ipv4, st.ipv4);
	acc->ipv6_auto |= st.ipv6_auto;
	return 0;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ifupdown_state(const struct dhcp_source *src, const char *ifname, struct dhcp_state *ret)
{
	g_autofree char *main_file = root_path(src, "etc/network/interfaces");
	g_autofree char *dir = root_path(src, "etc/network/interfaces.d");
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	struct dhcp_state st = {.ipv4 = DHCP_V4_NONE};
	const char *name;
	bool found = ifupdown_file_state(main_file, ifname, &st) == 0;

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++)
		if (name[0] != '.' && !g_str_has_suffix(name, "~") && !strstr(name, ".dpkg-"))
			g_ptr_array_add(files, g_build_filename(dir, name, NULL));
	g_ptr_array_sort(files, compare_strings);
	for (guint i = 0; i < files->len; i++)
		found |= ifupdown_file_state(g_ptr_array_index(files, i), ifname, &st) == 0;
	if (!found)
		return -ENOENT;
	*ret = st;
	return 0;
}

/* ---- ifcfg (RHEL network-scripts, NetworkManager's ifcfg-rh) --------------------- */

/* KEY's value in an ifcfg file (shell-style KEY=VALUE, quotes removed), NULL if absent. */
static char *ifcfg_value(char **lines, const char *key)
{
	size_t n = strlen(key);
	char *found = NULL;

	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i] + strspn(lines[i], " \t");
		size_t len;

		if (strncmp(l, key, n) != 0 || l[n] != '=')
			continue;
		g_free(found);
		found = g_strstrip(g_strdup(l + n + 1));
		len = strlen(found);
		if (len >= 2 && (found[0] == '"' || found[0] == '\'') &&
		    found[len - 1] == found[0]) {
			memmove(found, found + 1, len - 2);
			found[len - 2] = '\0';
		}
	}
	return found;
}

static bool ifcfg_true(char **lines, const char *key)
{
	static const char *const yes[] = {"yes", "true", "y", "t", "1", "on"};
	g_autofree char *v = ifcfg_value(lines, key);

	for (size_t i = 0; v && i < G_N_ELEMENTS(yes); i++)
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			return true;
	return false;
}

static bool ifcfg_has_ipv4_address(char **lines)
{
	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i] + strspn(lines[i], " \t");
		const char *eq = strchr(l, '=');

		if (g_str_has_prefix(l, "IPADDR") && eq &&
		    strspn(l + 6, "0123456789") == (size_t)(eq - l - 6) && eq[1] != '\0' &&
		    strcmp(eq + 1, "\"\"") != 0)
			return true;
	}
	return false;
}

int dhcp_ifcfg_parse_state(const char *text, const char *key, const char *want,
			   struct dhcp_state *ret)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	g_autofree char *proto = NULL;

	if (!text)
		return -ENOENT;
	if (key) {
		g_autofree char *v = ifcfg_value(lines, key);

		if (!v || !want || strcmp(v, want) != 0)
			return -ENOENT;
	}
	proto = ifcfg_value(lines, "BOOTPROTO");
	if (proto &&
	    (g_ascii_strcasecmp(proto, "dhcp") == 0 || g_ascii_strcasecmp(proto, "bootp") == 0))
		ret->ipv4 = DHCP_V4_DHCP;
	else
		ret->ipv4 = ifcfg_has_ipv4_address(lines) ? DHCP_V4_STATIC : DHCP_V4_NONE;
	ret->ipv6_auto = ifcfg_true(lines, "IPV6INIT") &&
			 (ifcfg_true(lines, "DHCPV6C") || ifcfg_true(lines, "IPV6_AUTOCONF"));
	return 0;
}

/* Backups and package-manager leftovers, which ifcfg-rh does not read either. */
static bool ifcfg_ignored(const char *name)
{
	static const char *const suffixes[] = {"~", ".bak", ".orig", ".rej", ".rpmnew", ".rpmsave"};

	for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++)
		if (g_str_has_suffix(name, suffixes[i]))
			return true;
	return name[0] == '.';
}

/* The ifcfg-* profile whose key is want (sorted names, first match). */
static int ifcfg_find(const struct dhcp_source *src, const char *key, const char *want,
		      struct dhcp_state *ret)
{
	g_autofree char *dir = root_path(src, IFCFG_DIR);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++)
		if (g_str_has_prefix(name, "ifcfg-") && !ifcfg_ignored(name))
			g_ptr_array_add(files, g_build_filename(dir, name, NULL));
	g_ptr_array_sort(files, compare_strings);
	for (guint i = 0; i < files->len; i++) {
		g_autofree char *text = read_text_file(g_ptr_array_index(files, i));

		if (dhcp_ifcfg_parse_state(text, key, want, ret) == 0)
			return 0;
	}
	return -ENOENT;
}

/* network-scripts without NetworkManager: ifcfg-<ifname>. */
static int ifcfg_state(const struct dhcp_source *src, const char *ifname, struct dhcp_state *ret)
{
	g_autofree char *rel = g_strdup_printf(IFCFG_DIR "/ifcfg-%s", ifname);
	g_autofree char *path = root_path(src, rel);
	g_autofree char *text = read_text_file(path);

	return dhcp_ifcfg_parse_state(text, NULL, NULL, ret);
}

/* ---- the answer -------------------------------------------------------------------- */

bool dhcp_state_flag(const struct dhcp_state *s)
{
	return s->ipv4 == DHCP_V4_DHCP || (s->ipv4 == DHCP_V4_NONE && s->ipv6_auto);
}

enum dhcp_origin dhcp_state_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
				     struct dhcp_state *ret_state)
{
	struct dhcp_state st = {.ipv4 = DHCP_V4_STATIC};
	enum dhcp_origin origin = DHCP_ORIGIN_NONE;
	bool named = ifname && *ifname;

	if (nm_state(src, ifindex, ifname, &st) == 0)
		origin = DHCP_ORIGIN_NETWORKMANAGER;
	else if (networkd_state(src, ifindex, &st) == 0)
		origin = DHCP_ORIGIN_NETWORKD;
	else if (named && ifupdown_state(src, ifname, &st) == 0)
		origin = DHCP_ORIGIN_IFUPDOWN;
	else if (named && ifcfg_state(src, ifname, &st) == 0)
		origin = DHCP_ORIGIN_IFCFG;
	else
		st = (struct dhcp_state){.ipv4 = DHCP_V4_STATIC};
	if (ret_state)
		*ret_state = st;
	return origin;
}

bool dhcp_enabled_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
			   enum dhcp_origin *ret_origin)
{
	struct dhcp_state st;
	enum dhcp_origin origin = dhcp_state_for_link(src, ifindex, ifname, &st);

	if (ret_origin)
		*ret_origin = origin;
	return dhcp_state_flag(&st);
}
