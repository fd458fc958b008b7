/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-parse.c: the host's SET_IP_INFO strings -> struct netconf, or a refusal.
 *
 * The request is untrusted text; the whole of it is checked before anything is looked up or
 * touched, and a request is taken whole or not at all (-EINVAL / -E2BIG: HV_INVALIDARG).
 *
 * Decisions (documented in hv-kvpd(8) and docs/protocol.md §3.7):
 *   - Lists are ';'-separated; blanks (space, tab) around an item are skipped. Empty items
 *     at the end (a trailing ';', as GET_IP_INFO itself sends for gateways and DNS) are
 *     allowed; an empty item followed by a non-empty one is refused: the reference would
 *     silently drop what follows it, which is never what the host meant.
 *   - A string that fills the kernel's byte budget may have been cut in the middle of an
 *     item (docs/protocol.md §3.2): refused rather than applying a shortened address.
 *   - Addresses: inet_pton() of either family, canonical inet_ntop() text kept. Not the
 *     unspecified, loopback or multicast address, nor 255.255.255.255; no duplicates.
 *   - Subnets are paired with addresses by position; the counts must be equal. IPv4: a
 *     contiguous dotted mask (255.255.255.0) or a prefix length (24 or /24), 1..32. IPv6: a
 *     prefix length (64 or /64, as GET_IP_INFO reports it), 1..128, or a contiguous mask.
 *   - Gateways and DNS servers: either family (not unspecified or multicast); an IPv4
 *     gateway needs a static IPv4 address. With DHCP on, the IPv4 addresses, their subnets
 *     and the IPv4 gateways are checked like the rest, then left out: DHCP provides them.
 *   - dhcp_enabled is 0 or 1, addr_family 0..3 (the host's enum); the adapter id a braced
 *     GUID, hex digits of either case, kept in lower case (as sysfs writes it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netconf.h"

/* Longer than any address or mask text: an item this long is refused as it is. */
#define ITEM_MAX 64

enum list_kind { LIST_ADDR, LIST_SUBNET, LIST_GATEWAY, LIST_DNS };

static const char *const list_names[] = {
    [LIST_ADDR] = "ip_addr",
    [LIST_SUBNET] = "sub_net",
    [LIST_GATEWAY] = "gate_way",
    [LIST_DNS] = "dns_addr",
};

struct parse_ctx {
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parse_ctx *c, int error,
						      const char *format, ...)
{
	va_list ap;

	if (c->err && c->err_size > 0) {
		va_start(ap, format);
		vsnprintf(c->err, c->err_size, format, ap);
		va_end(ap);
	}
	return error;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One list's items, trimmed, each at most ITEM_MAX-1 bytes. */
struct items {
	size_t n;
	char v[NETCONF_MAX_ADDRS][ITEM_MAX];
};

static int split_list(struct parse_ctx *c, enum list_kind kind, const char *s, size_t budget,
		      size_t max, struct items *ret)
{
	const char *name = list_names[kind];
	bool ended = false;
	size_t len;

	if (!s)
		return fail(c, -EINVAL, "%s is missing", name);
	len = strnlen(s, budget);
	if (len >= budget)
		return fail(c, -EINVAL,
			    "%s fills the kernel's %zu-byte budget and may have been cut", name,
			    budget);
	ret->n = 0;
	for (const char *p = s;;) {
		const char *end = strchr(p, ';'), *b = p, *e;

		if (!end)
			end = p + strlen(p);
		e = end;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		if (b == e)
			ended = true;
		else if (ended)
			return fail(c, -EINVAL, "%s has an empty item before item %zu", name,
				    ret->n + 1);
		else if (ret->n >= max)
			return fail(c, -E2BIG, "%s has more than %zu items", name, max);
		else if ((size_t)(e - b) >= ITEM_MAX)
			return fail(c, -EINVAL, "%s item %zu is too long (%zu bytes)", name,
				    ret->n + 1, (size_t)(e - b));
		else {
			memcpy(ret->v[ret->n], b, (size_t)(e - b));
			ret->v[ret->n][e - b] = '\0';
			ret->n++;
		}
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static bool addr_is_unspecified(const struct netconf_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	return a->family == AF_INET ? a->in.s_addr == htonl(INADDR_ANY)
				    : memcmp(&a->in6, &any6, sizeof(any6)) == 0;
}

static bool addr_is_multicast(const struct netconf_addr *a)
{
	return a->family == AF_INET ? IN_MULTICAST(ntohl(a->in.s_addr))
				    : IN6_IS_ADDR_MULTICAST(&a->in6);
}

static bool addr_is_loopback(const struct netconf_addr *a)
{
	return a->family == AF_INET ? (ntohl(a->in.s_addr) >> 24) == 127
				    : IN6_IS_ADDR_LOOPBACK(&a->in6);
}

static bool addr_equal(const struct netconf_addr *a, const struct netconf_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET ? a->in.s_addr == b->in.s_addr
				    : memcmp(&a->in6, &b->in6, sizeof(a->in6)) == 0;
}

/* text -> a of either family, canonical text; false if it is neither. */
static bool addr_from_text(const char *text, struct netconf_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &a->in) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, &a->in6) == 1)
		a->family = AF_INET6;
	else
		return false;
	return inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->in : &a->in6, a->text,
			 sizeof(a->text)) != NULL;
}

static int parse_address_item(struct parse_ctx *c, enum list_kind kind, size_t i, const char *text,
			      struct netconf_addr *a)
{
	const char *name = list_names[kind];

	if (!addr_from_text(text, a))
		return fail(c, -EINVAL, "%s item %zu \"%s\" is not an IPv4 or IPv6 address", name,
			    i + 1, text);
	if (addr_is_unspecified(a) || addr_is_multicast(a))
		return fail(c, -EINVAL, "%s item %zu %s is unspecified or multicast", name, i + 1,
			    a->text);
	if (kind == LIST_DNS)
		return 0;
	if (addr_is_loopback(a) || (a->family == AF_INET && a->in.s_addr == INADDR_BROADCAST))
		return fail(c, -EINVAL, "%s item %zu %s is a loopback or broadcast address", name,
			    i + 1, a->text);
	return 0;
}

/* Decimal 0..max, no sign, no leading zero, an optional leading '/'. */
static bool parse_prefix_number(const char *s, unsigned max, unsigned *ret)
{
	unsigned v = 0;
	size_t n = 0;

	if (*s == '/')
		s++;
	if (s[0] == '0' && s[1] != '\0')
		return false;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 3)
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return false;
	*ret = v;
	return true;
}

/* A mask's bytes -> its prefix length if the one bits are contiguous from the top. */
static bool mask_prefix(const uint8_t *b, size_t len, unsigned *ret)
{
	unsigned prefix = 0;
	bool zero_seen = false;

	for (size_t i = 0; i < len * 8; i++) {
		bool bit = b[i / 8] & (0x80 >> (i % 8));

		if (bit && zero_seen)
			return false;
		if (bit)
			prefix++;
		else
			zero_seen = true;
	}
	*ret = prefix;
	return true;
}

static bool parse_mask_text(int family, const char *text, unsigned *ret)
{
	uint8_t b[16];

	if (family == AF_INET && strchr(text, '.'))
		return inet_pton(AF_INET, text, b) == 1 && mask_prefix(b, 4, ret);
	if (family == AF_INET6 && strchr(text, ':'))
		return inet_pton(AF_INET6, text, b) == 1 && mask_prefix(b, 16, ret);
	return parse_prefix_number(text, family == AF_INET ? 32 : 128, ret);
}

static int parse_subnet_item(struct parse_ctx *c, size_t i, const char *text,
			     struct netconf_addr *a)
{
	unsigned prefix = 0;

	if (!parse_mask_text(a->family, text, &prefix))
		return fail(c, -EINVAL,
			    "sub_net item %zu \"%s\" is not an IPv%c mask or prefix length", i + 1,
			    text, a->family == AF_INET ? '4' : '6');
	if (prefix == 0)
		return fail(c, -EINVAL, "sub_net item %zu \"%s\" is a zero-length prefix", i + 1,
			    text);
	a->prefix = prefix;
	return 0;
}

/* Parses one list of addresses into out (no duplicates). */
static int parse_address_list(struct parse_ctx *c, enum list_kind kind, const char *s,
			      size_t budget, size_t max, struct items *items,
			      struct netconf_addr *out, size_t *ret_n)
{
	int r = split_list(c, kind, s, budget, max, items);

	if (r < 0)
		return r;
	for (size_t i = 0; i < items->n; i++) {
		r = parse_address_item(c, kind, i, items->v[i], &out[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (addr_equal(&out[i], &out[j]))
				return fail(c, -EINVAL, "%s lists %s twice", list_names[kind],
					    out[i].text);
	}
	*ret_n = items->n;
	return 0;
}

/* Removes the IPv4 entries of a list, keeping the order of the rest. */
static size_t drop_ipv4(struct netconf_addr *a, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (a[i].family != AF_INET)
			a[k++] = a[i];
	return k;
}

int netconf_parse_guid(const char *text, char ret[40])
{
	static const char pattern[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	char out[40] = ""; /* all 40 bytes defined: the GUID is copied whole */
	size_t i;

	if (!text)
		return -EINVAL;
	for (i = 0; pattern[i]; i++) {
		char ch = text[i];

		if (pattern[i] != 'x') {
			if (ch != pattern[i])
				return -EINVAL;
			out[i] = ch;
			continue;
		}
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -EINVAL;
		out[i] = ch;
	}
	if (text[i] != '\0')
		return -EINVAL;
	out[i] = '\0';
	memcpy(ret, out, sizeof(out));
	return 0;
}

static int parse_header(struct parse_ctx *c, const struct netconf_request *req, struct netconf *n)
{
	if (!req->adapter_id ||
	    strnlen(req->adapter_id, NETCONF_ADAPTER_ID_BUDGET) >= NETCONF_ADAPTER_ID_BUDGET)
		return fail(c, -EINVAL, "adapter_id is missing or too long");
	if (netconf_parse_guid(req->adapter_id, n->target.guid) < 0)
		return fail(c, -EINVAL, "adapter_id \"%.40s\" is not a braced device GUID",
			    req->adapter_id);
	if (req->dhcp_enabled > 1)
		return fail(c, -EINVAL, "dhcp_enabled is %u, not 0 or 1",
			    (unsigned)req->dhcp_enabled);
	if (req->addr_family > 3)
		return fail(c, -EINVAL, "addr_family is %u, not 0..3", (unsigned)req->addr_family);
	n->dhcp = req->dhcp_enabled;
	n->addr_family = req->addr_family;
	return 0;
}

static int parse_lists(struct parse_ctx *c, const struct netconf_request *req, struct netconf *n,
		       struct items *items)
{
	int r;

	r = parse_address_list(c, LIST_ADDR, req->ip_addr, NETCONF_IP_ADDR_BUDGET,
			       NETCONF_MAX_ADDRS, items, n->addrs, &n->n_addrs);
	if (r < 0)
		return r;
	r = split_list(c, LIST_SUBNET, req->sub_net, NETCONF_SUB_NET_BUDGET, NETCONF_MAX_ADDRS,
		       items);
	if (r < 0)
		return r;
	if (items->n != n->n_addrs)
		return fail(c, -EINVAL, "%zu addresses but %zu subnets", n->n_addrs, items->n);
	for (size_t i = 0; i < items->n; i++) {
		r = parse_subnet_item(c, i, items->v[i], &n->addrs[i]);
		if (r < 0)
			return r;
	}
	r = parse_address_list(c, LIST_GATEWAY, req->gate_way, NETCONF_GATE_WAY_BUDGET,
			       NETCONF_MAX_GATEWAYS, items, n->gateways, &n->n_gateways);
	if (r < 0)
		return r;
	return parse_address_list(c, LIST_DNS, req->dns_addr, NETCONF_DNS_ADDR_BUDGET,
				  NETCONF_MAX_DNS, items, n->dns, &n->n_dns);
}

/* The methods of netconf.h, and what DHCP makes irrelevant. */
static int settle_methods(struct parse_ctx *c, struct netconf *n)
{
	if (n->dhcp) {
		n->n_addrs = drop_ipv4(n->addrs, n->n_addrs);
		n->n_gateways = drop_ipv4(n->gateways, n->n_gateways);
		n->ipv4 = NETCONF_METHOD_AUTO;
	} else {
		bool v4 = netconf_count_family(n->addrs, n->n_addrs, AF_INET) > 0;

		if (!v4 && netconf_count_family(n->gateways, n->n_gateways, AF_INET) > 0)
			return fail(c, -EINVAL, "an IPv4 gateway without a static IPv4 address");
		n->ipv4 = v4 ? NETCONF_METHOD_STATIC : NETCONF_METHOD_DISABLED;
	}
	n->ipv6 = netconf_count_family(n->addrs, n->n_addrs, AF_INET6) > 0 ? NETCONF_METHOD_STATIC
									   : NETCONF_METHOD_AUTO;
	return 0;
}

int netconf_parse(const struct netconf_request *req, struct netconf *ret, char *err,
		  size_t err_size)
{
	struct parse_ctx c = {.err = err, .err_size = err_size};
	struct items *items;
	struct netconf *n;
	int r;

	if (err && err_size > 0)
		err[0] = '\0';
	if (!req || !ret)
		return fail(&c, -EINVAL, "no request");
	/* Both are several KiB: the heap, so that a worker thread's stack stays small. */
	items = calloc(1, sizeof(*items));
	n = calloc(1, sizeof(*n));
	if (!items || !n) {
		free(items);
		free(n);
		return -ENOMEM;
	}
	r = parse_header(&c, req, n);
	if (r >= 0)
		r = parse_lists(&c, req, n, items);
	if (r >= 0)
		r = settle_methods(&c, n);
	if (r >= 0)
		memcpy(ret, n, sizeof(*n)); /* padding too: the same request, the same bytes */
	free(items);
	free(n);
	return r;
}
