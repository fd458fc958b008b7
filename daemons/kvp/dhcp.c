/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DHCP flag of a link, from the files of the network manager that manages it (see
 * dhcp.h for the order).
 *
 * Files, not D-Bus, for NetworkManager: its runtime device state file says whether it
 * manages the link and which connection is active, and the connection's keyfile says
 * whether IPv4 uses DHCP. That needs no bus round trip in the host's request path and
 * works with a root prefix in tests. Connections stored by other NM settings plugins
 * (ifcfg-rh) are not read: then NM does not answer and the next source is asked.
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

const char *dhcp_origin_to_string(enum dhcp_origin o)
{
	switch (o) {
	case DHCP_ORIGIN_NETWORKMANAGER:
		return "NetworkManager";
	case DHCP_ORIGIN_NETWORKD:
		return "systemd-networkd";
	case DHCP_ORIGIN_IFUPDOWN:
		return "ifupdown";
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

/* The active connection's uuid when NM manages the link, else NULL. */
static char *nm_active_uuid(const struct dhcp_source *src, int ifindex)
{
	g_autofree char *rel = g_strdup_printf("run/NetworkManager/devices/%d", ifindex);
	g_autofree char *path = root_path(src, rel);
	g_autofree char *text = read_text_file(path);

	return dhcp_nm_device_parse(text);
}

int dhcp_nm_connection_parse(const char *text, const char *uuid)
{
	g_autoptr(GKeyFile) kf = parse_keyfile(text);
	g_autofree char *id = NULL, *method = NULL;

	id = kf ? g_key_file_get_string(kf, "connection", "uuid", NULL) : NULL;
	if (!id || strcmp(id, uuid) != 0)
		return -ENOENT;
	method = g_key_file_get_string(kf, "ipv4", "method", NULL);
	return !method || strcmp(method, "auto") == 0;
}

/* 1: DHCP, 0: not, -ENOENT: no connection with that uuid in dir. */
static int nm_connection_dhcp_in(const char *dir, const char *uuid)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;
		int r;

		if (name[0] == '.' || g_str_has_suffix(name, "~"))
			continue;
		text = read_text_file(path);
		r = dhcp_nm_connection_parse(text, uuid);
		if (r >= 0)
			return r;
	}
	return -ENOENT;
}

static int nm_dhcp(const struct dhcp_source *src, int ifindex)
{
	g_autofree char *uuid = nm_active_uuid(src, ifindex);

	for (size_t i = 0; uuid && i < G_N_ELEMENTS(nm_connection_dirs); i++) {
		g_autofree char *dir = root_path(src, nm_connection_dirs[i]);
		int r = nm_connection_dhcp_in(dir, uuid);

		if (r >= 0)
			return r;
	}
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

static bool dhcp_setting_means_v4(const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "ipv4", "both"};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			return true;
	return false;
}

void dhcp_network_file_parse(const char *text, int *dhcp)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	bool in_network = false;

	for (size_t i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);

		if (l[0] == '[')
			in_network = strcmp(l, "[Network]") == 0;
		else if (in_network && g_str_has_prefix(l, "DHCP")) {
			char *v = l + 4;

			v += strspn(v, " \t");
			if (*v == '=')
				*dhcp = dhcp_setting_means_v4(g_strstrip(v + 1));
		}
	}
}

/* Updates *dhcp with the last DHCP= of [Network] in one .network file (or drop-in). */
static void network_file_dhcp(const char *path, int *dhcp)
{
	g_autofree char *text = read_text_file(path);

	dhcp_network_file_parse(text, dhcp);
}

int dhcp_networkd_link_parse(const char *text, char ***ret_network_files)
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
	if ((lease && *lease) || (addr4 && *addr4))
		return 1;
	if (network && *network)
		g_ptr_array_add(files, g_steal_pointer(&network));
	for (size_t i = 0; dropin_list[i]; i++)
		if (dropin_list[i][0])
			g_ptr_array_add(files, g_strdup(dropin_list[i]));
	g_ptr_array_add(files, NULL);
	*ret_network_files = (char **)g_ptr_array_free(g_steal_pointer(&files), FALSE);
	return 0;
}

static int networkd_dhcp(const struct dhcp_source *src, int ifindex)
{
	g_autofree char *rel = g_strdup_printf("run/systemd/netif/links/%d", ifindex);
	g_autofree char *path = root_path(src, rel);
	g_autofree char *text = read_text_file(path);
	g_auto(GStrv) files = NULL;
	int dhcp = 0, r = dhcp_networkd_link_parse(text, &files);

	if (r != 0)
		return r;
	for (size_t i = 0; files[i]; i++) {
		g_autofree char *np = root_path(src, files[i]);

		network_file_dhcp(np, &dhcp);
	}
	return dhcp;
}

/* ---- ifupdown ---------------------------------------------------------------------- */

int dhcp_ifupdown_parse(const char *text, const char *ifname)
{
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);
	int found = -ENOENT;

	for (size_t i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(g_strstrip(lines[i]), " \t", 5);

		if (g_strv_length(w) < 4 || strcmp(w[0], "iface") != 0 ||
		    strcmp(w[1], ifname) != 0 || strcmp(w[2], "inet") != 0)
			continue;
		found = MAX(found, strcmp(w[3], "dhcp") == 0 ? 1 : 0);
	}
	return found;
}

/* 1: `iface IF inet dhcp`, 0: `iface IF inet <other>`, -ENOENT: not mentioned. */
static int ifupdown_file_dhcp(const char *path, const char *ifname)
{
	g_autofree char *text = read_text_file(path);

	return dhcp_ifupdown_parse(text, ifname);
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ifupdown_dhcp(const struct dhcp_source *src, const char *ifname)
{
	g_autofree char *main_file = root_path(src, "etc/network/interfaces");
	g_autofree char *dir = root_path(src, "etc/network/interfaces.d");
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	int found = ifupdown_file_dhcp(main_file, ifname);

	for (int n = 0; d && (name = g_dir_read_name(d)) && n < DIR_MAX_ENTRIES; n++)
		if (name[0] != '.' && !g_str_has_suffix(name, "~") && !strstr(name, ".dpkg-"))
			g_ptr_array_add(files, g_build_filename(dir, name, NULL));
	g_ptr_array_sort(files, compare_strings);
	for (guint i = 0; i < files->len; i++)
		found = MAX(found, ifupdown_file_dhcp(g_ptr_array_index(files, i), ifname));
	return found;
}

bool dhcp_enabled_for_link(const struct dhcp_source *src, int ifindex, const char *ifname,
			   enum dhcp_origin *ret_origin)
{
	enum dhcp_origin origin = DHCP_ORIGIN_NONE;
	int r = nm_dhcp(src, ifindex);

	if (r >= 0)
		origin = DHCP_ORIGIN_NETWORKMANAGER;
	if (r < 0 && (r = networkd_dhcp(src, ifindex)) >= 0)
		origin = DHCP_ORIGIN_NETWORKD;
	if (r < 0 && ifname && *ifname && (r = ifupdown_dhcp(src, ifname)) >= 0)
		origin = DHCP_ORIGIN_IFUPDOWN;
	if (ret_origin)
		*ret_origin = origin;
	return r > 0;
}
