/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intrinsic items of the auto pool, in the order the host enumerates them.
 *
 * The OS items come from os-release and uname (os-info.c) and do not change; the daemon
 * keeps the others current: the FQDN (fqdn.c, resolved off the event loop) and the address
 * lists (netinfo.c, over netlink). Nothing here ever reports an error text as a value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intrinsic.h"
#include "vmbus-user.h"

static const char *const intrinsic_keys[_INTRINSIC_MAX] = {
    [INTRINSIC_FQDN] = "FullyQualifiedDomainName",
    [INTRINSIC_INTEGRATION_SERVICES_VERSION] = "IntegrationServicesVersion",
    [INTRINSIC_NETWORK_ADDRESS_IPV4] = "NetworkAddressIPv4",
    [INTRINSIC_NETWORK_ADDRESS_IPV6] = "NetworkAddressIPv6",
    [INTRINSIC_OS_BUILD_NUMBER] = "OSBuildNumber",
    [INTRINSIC_OS_NAME] = "OSName",
    [INTRINSIC_OS_MAJOR_VERSION] = "OSMajorVersion",
    [INTRINSIC_OS_MINOR_VERSION] = "OSMinorVersion",
    [INTRINSIC_OS_VERSION] = "OSVersion",
    [INTRINSIC_PROCESSOR_ARCHITECTURE] = "ProcessorArchitecture",
};

void intrinsic_init(struct intrinsic *in, const char *const *os_release_paths)
{
	memset(in, 0, sizeof(*in));
	os_info_load(os_release_paths, &in->os);
	/* Before registration the reference reports this text; so do we. */
	snprintf(in->integration_services_version, sizeof(in->integration_services_version),
		 "Unknown version");
	snprintf(in->fqdn, sizeof(in->fqdn), "%s", in->os.hostname);
}

void intrinsic_set_kernel_version(struct intrinsic *in, const char *version)
{
	if (version && *version)
		snprintf(in->integration_services_version, sizeof(in->integration_services_version),
			 "%s", version);
}

static const char *intrinsic_value(const struct intrinsic *in, enum intrinsic_item item)
{
	switch (item) {
	case INTRINSIC_FQDN:
		return in->fqdn;
	case INTRINSIC_INTEGRATION_SERVICES_VERSION:
		return in->integration_services_version;
	case INTRINSIC_NETWORK_ADDRESS_IPV4:
		return in->addresses[0] ? in->addresses[0] : "";
	case INTRINSIC_NETWORK_ADDRESS_IPV6:
		return in->addresses[1] ? in->addresses[1] : "";
	case INTRINSIC_OS_BUILD_NUMBER:
		return in->os.kernel_release;
	case INTRINSIC_OS_NAME:
		return in->os.name;
	case INTRINSIC_OS_MAJOR_VERSION:
		return in->os.version_id;
	case INTRINSIC_OS_MINOR_VERSION:
		return "";
	case INTRINSIC_OS_VERSION:
		return in->os.kernel_version;
	case INTRINSIC_PROCESSOR_ARCHITECTURE:
		return in->os.machine;
	case _INTRINSIC_MAX:
		break;
	}
	return NULL;
}

int intrinsic_get(const struct intrinsic *in, uint32_t index, const char **ret_key,
		  const char **ret_value)
{
	if (index >= _INTRINSIC_MAX)
		return -ENOENT;
	*ret_key = intrinsic_keys[index];
	*ret_value = intrinsic_value(in, (enum intrinsic_item)index);
	return 0;
}

void intrinsic_set_fqdn(struct intrinsic *in, const char *fqdn)
{
	if (fqdn && *fqdn)
		snprintf(in->fqdn, sizeof(in->fqdn), "%s", fqdn);
}

bool intrinsic_set_addresses(struct intrinsic *in, bool ipv6, char *list)
{
	char **slot = &in->addresses[ipv6];
	bool changed = strcmp(*slot ? *slot : "", list ? list : "") != 0;

	free(*slot);
	*slot = list;
	return changed;
}

void intrinsic_done(struct intrinsic *in)
{
	free(in->addresses[0]);
	free(in->addresses[1]);
	in->addresses[0] = in->addresses[1] = NULL;
}

int intrinsic_lookup(const struct intrinsic *in, const char *key, const char **ret_value)
{
	for (uint32_t i = 0; i < _INTRINSIC_MAX; i++)
		if (strcmp(intrinsic_keys[i], key) == 0) {
			*ret_value = intrinsic_value(in, (enum intrinsic_item)i);
			return 0;
		}
	return -ENOENT;
}

int intrinsic_publish(const struct intrinsic *in, const char *path)
{
	struct vmu_kvp_pool_item items[_INTRINSIC_MAX];

	for (uint32_t i = 0; i < _INTRINSIC_MAX; i++)
		items[i] = (struct vmu_kvp_pool_item){intrinsic_keys[i],
						      intrinsic_value(in, (enum intrinsic_item)i)};
	return vmu_kvp_pool_write_snapshot(path, items, _INTRINSIC_MAX);
}
