/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS servers of one link.
 *
 * systemd-resolved first: one Properties.Get of org.freedesktop.resolve1.Manager's DNS
 * (a(iiay): ifindex, family, address bytes) on a fresh connection, with auto-start off (we
 * ask resolved when it runs; we never start it) and a short timeout. The entries of the link
 * win; a link without its own servers uses the global ones (ifindex 0), as resolved itself
 * does. If resolved answers, its answer stands, even when empty: resolv.conf then usually
 * holds only resolved's stub 127.0.0.53, which means nothing to the host.
 *
 * resolv.conf otherwise: every valid `nameserver` address, in file order (a regular file of at
 * most RESOLV_CONF_MAX_SIZE bytes; anything else is an error, see read_small_file()). When resolved is
 * unreachable but resolv.conf still names its stub, the stub is reported anyway: it is what
 * the guest really uses, and an empty answer would hide that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "dns.h"
#include "netconf.h"
#include "read-file.h"
#include "shared/macro.h"

#define RESOLV_CONF_MAX_SIZE (64 * 1024)

static bool address_text(int family, const void *bin, size_t len, char *buf, size_t size)
{
	if ((family == AF_INET && len != 4) || (family == AF_INET6 && len != 16))
		return false;
	if (family != AF_INET && family != AF_INET6)
		return false;
	return inet_ntop(family, bin, buf, size) != NULL;
}

static int call_get_dns(sd_bus *bus, uint64_t timeout_usec, sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.resolve1",
					   "/org/freedesktop/resolve1",
					   "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", "org.freedesktop.resolve1.Manager", "DNS");
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, timeout_usec, &error, ret_reply);
	return r;
}

/* Reads one (iiay) entry; 0 at the end of the array. */
static int read_entry(sd_bus_message *reply, int *ret_ifindex, char *buf, size_t size)
{
	const void *bin;
	size_t len;
	int32_t ifindex, family;
	int r;

	r = sd_bus_message_enter_container(reply, 'r', "iiay");
	if (r <= 0)
		return r;
	r = sd_bus_message_read(reply, "ii", &ifindex, &family);
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'y', &bin, &len);
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return r;
	*ret_ifindex = ifindex;
	if (!address_text(family, bin, len, buf, size))
		buf[0] = '\0';
	return 1;
}

static int parse_dns_property(sd_bus_message *reply, int ifindex, GPtrArray *link,
			      GPtrArray *global)
{
	int r = sd_bus_message_enter_container(reply, 'v', "a(iiay)");

	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(iiay)");
	while (r >= 0) {
		char text[INET6_ADDRSTRLEN];
		int index;

		r = read_entry(reply, &index, text, sizeof(text));
		if (r <= 0)
			break;
		if (text[0] && index == ifindex && link->len < DNS_MAX_SERVERS)
			g_ptr_array_add(link, g_strdup(text));
		else if (text[0] && index == 0 && global->len < DNS_MAX_SERVERS)
			g_ptr_array_add(global, g_strdup(text));
	}
	return r;
}

static char **strv_from_array(GPtrArray *a)
{
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

int dns_servers_from_resolved(const char *bus_address, uint64_t timeout_usec, int ifindex,
			      char ***ret_servers)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	g_autoptr(GPtrArray) link = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) global = g_ptr_array_new_with_free_func(g_free);
	int r;

	if (bus_address && !*bus_address)
		return -EHOSTUNREACH;
	r = netconf_bus_open(bus_address, &bus);
	if (r >= 0)
		r = call_get_dns(bus, timeout_usec ?: DNS_DEFAULT_TIMEOUT_USEC, &reply);
	if (r >= 0)
		r = parse_dns_property(reply, ifindex, link, global);
	if (r < 0)
		return r;
	*ret_servers =
	    strv_from_array(link->len > 0 ? g_steal_pointer(&link) : g_steal_pointer(&global));
	return 0;
}

/* The first word of s (after blanks), NUL-terminated in place; s moves past it. */
static char *next_word(char **s)
{
	char *p = *s + strspn(*s, " \t\r"), *end;

	if (!*p)
		return NULL;
	end = p + strcspn(p, " \t\r");
	*s = *end ? end + 1 : end;
	*end = '\0';
	return p;
}

static bool nameserver_text(char *word, char *buf, size_t size)
{
	uint8_t bin[16];
	char *scope = strchr(word, '%');

	if (scope)
		*scope = '\0';
	if (inet_pton(AF_INET, word, bin) == 1)
		return inet_ntop(AF_INET, bin, buf, size) != NULL;
	if (inet_pton(AF_INET6, word, bin) == 1)
		return inet_ntop(AF_INET6, bin, buf, size) != NULL;
	return false;
}

char **dns_parse_resolv_conf(const char *text)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);

	for (size_t i = 0; lines[i] && out->len < DNS_MAX_SERVERS; i++) {
		char *rest = lines[i], *keyword = next_word(&rest), *value;
		char text6[INET6_ADDRSTRLEN];

		if (!keyword || keyword[0] == '#' || keyword[0] == ';')
			continue;
		if (strcmp(keyword, "nameserver") != 0)
			continue;
		value = next_word(&rest);
		if (value && nameserver_text(value, text6, sizeof(text6)))
			g_ptr_array_add(out, g_strdup(text6));
	}
	return strv_from_array(g_steal_pointer(&out));
}

int dns_servers_from_resolv_conf(const char *path, char ***ret_servers)
{
	g_autofree char *text = NULL;
	/* A FIFO or device there would stall the event loop; a huge file is not a resolv.conf */
	int r = read_small_file(path ?: DNS_DEFAULT_RESOLV_CONF, RESOLV_CONF_MAX_SIZE, &text, NULL);

	if (r < 0)
		return r;
	*ret_servers = dns_parse_resolv_conf(text);
	return 0;
}

int dns_servers_for_link(const struct dns_source *src, int ifindex, char ***ret_servers,
			 enum dns_origin *ret_origin)
{
	const struct dns_source none = {0};
	int r;

	if (!src)
		src = &none;
	r = dns_servers_from_resolved(src->bus_address, src->timeout_usec, ifindex, ret_servers);
	if (r >= 0) {
		if (ret_origin)
			*ret_origin = DNS_ORIGIN_RESOLVED;
		return 0;
	}
	r = dns_servers_from_resolv_conf(src->resolv_conf, ret_servers);
	if (r >= 0 && ret_origin)
		*ret_origin = DNS_ORIGIN_RESOLV_CONF;
	return r;
}
