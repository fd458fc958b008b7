/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auto pool (pool 2): the guest's intrinsic items, which the host reads by ENUMERATE
 * index in a fixed order (docs/protocol.md §3.5).
 */
#ifndef KVP_INTRINSIC_H
#define KVP_INTRINSIC_H

#include <stdbool.h>
#include <stdint.h>

#include "os-info.h"

enum intrinsic_item {
	INTRINSIC_FQDN,
	INTRINSIC_INTEGRATION_SERVICES_VERSION,
	INTRINSIC_NETWORK_ADDRESS_IPV4,
	INTRINSIC_NETWORK_ADDRESS_IPV6,
	INTRINSIC_OS_BUILD_NUMBER,
	INTRINSIC_OS_NAME,
	INTRINSIC_OS_MAJOR_VERSION,
	INTRINSIC_OS_MINOR_VERSION,
	INTRINSIC_OS_VERSION,
	INTRINSIC_PROCESSOR_ARCHITECTURE,
	_INTRINSIC_MAX,
};

struct intrinsic {
	struct os_info os;
	char integration_services_version[64]; /* from the kernel's registration reply */
	char fqdn[256];
	char *addresses[2]; /* [0] IPv4, [1] IPv6 lists, malloc'd; NULL = "" */
};

/* Fills everything that does not change while the daemon runs. */
void intrinsic_init(struct intrinsic *in, const char *const *os_release_paths);
void intrinsic_set_kernel_version(struct intrinsic *in, const char *version);

void intrinsic_set_fqdn(struct intrinsic *in, const char *fqdn);
/* Takes ownership of list (malloc'd). Returns true when the value changed. */
bool intrinsic_set_addresses(struct intrinsic *in, bool ipv6, char *list);
void intrinsic_done(struct intrinsic *in);

/* The key and value of item index; -ENOENT past the last item. Pointers stay valid until
 * the next change. */
int intrinsic_get(const struct intrinsic *in, uint32_t index, const char **ret_key,
		  const char **ret_value);
/* The item whose key is exactly key (host GET on the auto pool); -ENOENT if none. */
int intrinsic_lookup(const struct intrinsic *in, const char *key, const char **ret_value);

/* Writes the items as a pool file (2560-byte records) to path, atomically (a temporary
 * file in the same directory, then rename): what the host sees, for hv-kvp. */
int intrinsic_publish(const struct intrinsic *in, const char *path);

#endif
