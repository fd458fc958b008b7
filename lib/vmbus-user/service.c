/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Services: the three integration services this library speaks for, their names, default
 * char devices and the size of the largest message the kernel hands the daemon.
 *
 * Tables are indexed by enum vmu_service; every lookup bounds-checks the value first
 * because callers may pass anything cast to the enum.
 */
#include "vmbus-user.h"

#include <linux/hyperv.h>

#include "vmu-internal.h"

struct service_info {
	const char *name;
	const char *device;
	size_t max_message;
};

static const struct service_info services[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = {"kvp", "/dev/vmbus/hv_kvp", sizeof(struct hv_kvp_msg)},
    [VMU_SERVICE_VSS] = {"vss", "/dev/vmbus/hv_vss", sizeof(struct hv_vss_msg)},
    [VMU_SERVICE_FCOPY] = {"fcopy", "/dev/vmbus/hv_fcopy", VMU_FCOPY_MAX_MESSAGE},
};

VMU_ASSERT_SIZE(struct hv_kvp_msg, VMU_KVP_MSG_SIZE);
VMU_ASSERT_SIZE(struct hv_vss_msg, VMU_VSS_MSG_SIZE);
VMU_ASSERT_SIZE(struct hv_do_fcopy, VMU_FCOPY_WRITE_SIZE);

static const struct service_info *service_lookup(enum vmu_service service)
{
	if ((unsigned)service >= _VMU_SERVICE_MAX)
		return NULL;
	return &services[service];
}

VMU_EXPORT const char *vmu_service_name(enum vmu_service service)
{
	const struct service_info *info = service_lookup(service);

	return info ? info->name : NULL;
}

VMU_EXPORT int vmu_service_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < VMU_ELEMENTSOF(services); i++)
		if (strcmp(services[i].name, name) == 0)
			return (int)i;
	return -EINVAL;
}

VMU_EXPORT const char *vmu_service_default_device(enum vmu_service service)
{
	const struct service_info *info = service_lookup(service);

	return info ? info->device : NULL;
}

VMU_EXPORT size_t vmu_service_max_message(enum vmu_service service)
{
	const struct service_info *info = service_lookup(service);

	return info ? info->max_message : 0;
}
