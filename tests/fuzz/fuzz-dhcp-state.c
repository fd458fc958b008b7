/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-kvpd's readers of the network managers' state files (daemons/kvp/dhcp.c):
 * NetworkManager's device state and connection keyfiles, systemd-networkd's link state and
 * .network files, ifupdown's interfaces files. Any local program that can write those files
 * (or a broken manager) controls the text, so each parser sees every input.
 *
 * The input is the file's text (any bytes; a NUL ends it, as a C string read from the file
 * does). Checked, against the contracts in dhcp.h:
 *   - NM device: NULL or a non-empty uuid that occurs in the text; the keyfile's uuid is
 *     then looked up in the same text as a connection (1, 0 or -ENOENT);
 *   - networkd link: -ENOENT, 1, or 0 with a NULL-terminated list of non-empty names whose
 *     drop-ins hold no blank; no DHCP_LEASE/DHCP4_ADDRESS/ADMIN_STATE in the text means
 *     -ENOENT;
 *   - .network: *dhcp untouched without "DHCP" in the text, else 0 or 1;
 *   - ifupdown: -ENOENT without "iface" in the text, else -ENOENT, 0 or 1, for a fixed name
 *     and for the second word of the text;
 *   - every answer is the same when asked twice (no hidden state).
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/kvp/dhcp.h"

static bool is_answer(int r)
{
	return r == 1 || r == 0 || r == -ENOENT;
}

static void check_nm(const char *text)
{
	g_autofree char *uuid = dhcp_nm_device_parse(text);
	g_autofree char *again = dhcp_nm_device_parse(text);
	int r;

	CHECK(!uuid == !again);
	if (uuid) {
		CHECK(*uuid && strcmp(uuid, again) == 0);
		CHECK(strstr(text, "connection-uuid"));
	}
	r = dhcp_nm_connection_parse(text, uuid ?: "0b1b6f3e-1c4e-4c52-9d1e-4c2c3c1a0f00");
	CHECK(is_answer(r));
	CHECK(r == dhcp_nm_connection_parse(text, uuid ?: "0b1b6f3e-1c4e-4c52-9d1e-4c2c3c1a0f00"));
	if (r >= 0)
		CHECK(strstr(text, "uuid"));
}

static void check_networkd(const char *text)
{
	char **files = NULL;
	int r = dhcp_networkd_link_parse(text, &files);

	CHECK(r == 1 || r == 0 || r == -ENOENT);
	CHECK((r == 0) == (files != NULL));
	if (!strstr(text, "ADMIN_STATE="))
		CHECK(r == -ENOENT);
	if (r == 1)
		CHECK(strstr(text, "DHCP_LEASE=") || strstr(text, "DHCP4_ADDRESS="));
	for (size_t i = 0; files && files[i]; i++) {
		CHECK(files[i][0]);
		CHECK(i <= strlen(text));
		if (i > 0)
			CHECK(!strpbrk(files[i], " \t"));
	}
	g_strfreev(files);
	CHECK(dhcp_networkd_link_parse(NULL, &files) == -ENOENT);
}

static void check_network_file(const char *text)
{
	int dhcp = 7, again = 7;

	dhcp_network_file_parse(text, &dhcp);
	dhcp_network_file_parse(text, &again);
	CHECK(dhcp == again);
	if (!strstr(text, "DHCP"))
		CHECK(dhcp == 7);
	else
		CHECK(dhcp == 7 || dhcp == 0 || dhcp == 1);
}

static void check_ifupdown(const char *text)
{
	g_auto(GStrv) words = g_strsplit_set(text, " \t\n", 3);
	const char *second = words[0] && words[1] ? words[1] : "";
	int r = dhcp_ifupdown_parse(text, "eth0");

	CHECK(is_answer(r) && r == dhcp_ifupdown_parse(text, "eth0"));
	if (!strstr(text, "iface"))
		CHECK(r == -ENOENT);
	r = dhcp_ifupdown_parse(text, second);
	CHECK(is_answer(r) && r == dhcp_ifupdown_parse(text, second));
	CHECK(dhcp_ifupdown_parse(NULL, "eth0") == -ENOENT);
}

static bool state_ok(const struct dhcp_state *st)
{
	return st->ipv4 == DHCP_V4_NONE || st->ipv4 == DHCP_V4_STATIC || st->ipv4 == DHCP_V4_DHCP;
}

/* The two-family parsers: an answer in range, the same twice, and agreeing with the
 * IPv4-only ones. */
static void check_states(const char *text)
{
	struct dhcp_state st = {.ipv4 = 7}, again = {.ipv4 = 7};
	int r = dhcp_ifupdown_parse_state(text, "eth0", &st), d4 = 7, d6 = 7, v4 = 7;
	bool has4 = false;

	CHECK(r == 0 || r == -ENOENT);
	CHECK(r == dhcp_ifupdown_parse_state(text, "eth0", &again));
	if (r == 0) {
		CHECK(state_ok(&st) && st.ipv4 == again.ipv4 && st.ipv6_auto == again.ipv6_auto);
		r = dhcp_ifupdown_parse(text, "eth0");
		CHECK(st.ipv4 == DHCP_V4_NONE ? r == -ENOENT : r == st.ipv4);
	}
	r = dhcp_ifcfg_parse_state(text, NULL, NULL, &st);
	CHECK(r == 0 && state_ok(&st));
	r = dhcp_ifcfg_parse_state(text, "DEVICE", "eth0", &st);
	CHECK(r == -ENOENT || (r == 0 && strstr(text, "DEVICE=") && state_ok(&st)));
	r = dhcp_nm_connection_parse_state(text, "0b1b6f3e-1c4e-4c52-9d1e-4c2c3c1a0f00", &st);
	CHECK(r == -ENOENT || (r == 0 && state_ok(&st)));
	dhcp_network_file_parse_state(text, &d4, &d6, &has4);
	dhcp_network_file_parse(text, &v4);
	CHECK(d4 == v4 && (d6 == 7 || d6 == 0 || d6 == 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	check_nm(text);
	check_networkd(text);
	check_network_file(text);
	check_ifupdown(text);
	check_states(text);
	return 0;
}
