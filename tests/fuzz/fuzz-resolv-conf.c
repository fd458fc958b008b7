/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hv-kvpd's resolv.conf parser (daemons/kvp/dns.c, dns_parse_resolv_conf()).
 *
 * The input is resolv.conf text (any bytes; a NUL ends the text, as it would for the
 * daemon's reader). Checked: the parser always returns a NULL-terminated list of at most
 * DNS_MAX_SERVERS entries, every entry is an address in inet_ntop form (it parses as IPv4
 * or IPv6, prints back the same, carries no scope suffix), and nothing leaks.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/kvp/dns.h"

/* s parses as an address of some family and inet_ntop prints it back unchanged. */
static void check_server(const char *s)
{
	uint8_t bin[16];
	char back[INET6_ADDRSTRLEN];
	int family = AF_INET;

	CHECK(strlen(s) < INET6_ADDRSTRLEN);
	if (inet_pton(AF_INET, s, bin) != 1) {
		family = AF_INET6;
		CHECK(inet_pton(AF_INET6, s, bin) == 1);
	}
	CHECK(inet_ntop(family, bin, back, sizeof(back)) != NULL);
	CHECK(strcmp(back, s) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char **servers;
	size_t n = 0;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	servers = dns_parse_resolv_conf(text);
	CHECK(servers);
	for (; servers[n]; n++)
		check_server(servers[n]);
	CHECK(n <= DNS_MAX_SERVERS);
	/* the parser works on its own copy: the text is unchanged */
	CHECK(memcmp(text, data, size) == 0);
	g_strfreev(servers);
	free(text);
	return 0;
}
