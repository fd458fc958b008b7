/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/vmbus-user/service.c: names, devices, message sizes. */
#include "vmbus-user.h"

#include <errno.h>
#include <glib.h>

static void test_names(void)
{
	g_assert_cmpstr(vmu_service_name(VMU_SERVICE_KVP), ==, "kvp");
	g_assert_cmpstr(vmu_service_name(VMU_SERVICE_VSS), ==, "vss");
	g_assert_cmpstr(vmu_service_name(VMU_SERVICE_FCOPY), ==, "fcopy");
	g_assert_null(vmu_service_name(_VMU_SERVICE_MAX));
	g_assert_null(vmu_service_name((enum vmu_service) - 1));
}

static void test_from_name(void)
{
	g_assert_cmpint(vmu_service_from_name("kvp"), ==, VMU_SERVICE_KVP);
	g_assert_cmpint(vmu_service_from_name("vss"), ==, VMU_SERVICE_VSS);
	g_assert_cmpint(vmu_service_from_name("fcopy"), ==, VMU_SERVICE_FCOPY);
	g_assert_cmpint(vmu_service_from_name("KVP"), ==, -EINVAL);
	g_assert_cmpint(vmu_service_from_name("kvp "), ==, -EINVAL);
	g_assert_cmpint(vmu_service_from_name("kv"), ==, -EINVAL);
	g_assert_cmpint(vmu_service_from_name(""), ==, -EINVAL);
	g_assert_cmpint(vmu_service_from_name(NULL), ==, -EINVAL);
}

static void test_devices(void)
{
	g_assert_cmpstr(vmu_service_default_device(VMU_SERVICE_KVP), ==, "/dev/vmbus/hv_kvp");
	g_assert_cmpstr(vmu_service_default_device(VMU_SERVICE_VSS), ==, "/dev/vmbus/hv_vss");
	g_assert_cmpstr(vmu_service_default_device(VMU_SERVICE_FCOPY), ==, "/dev/vmbus/hv_fcopy");
	g_assert_null(vmu_service_default_device(_VMU_SERVICE_MAX));
}

static void test_max_message(void)
{
	g_assert_cmpuint(vmu_service_max_message(VMU_SERVICE_KVP), ==, 7432);
	g_assert_cmpuint(vmu_service_max_message(VMU_SERVICE_VSS), ==, 12);
	g_assert_cmpuint(vmu_service_max_message(VMU_SERVICE_FCOPY), ==, 8192);
	g_assert_cmpuint(vmu_service_max_message(_VMU_SERVICE_MAX), ==, 0);
	g_assert_cmpuint(vmu_service_max_message((enum vmu_service)1000), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/service/names", test_names);
	g_test_add_func("/service/from-name", test_from_name);
	g_test_add_func("/service/devices", test_devices);
	g_test_add_func("/service/max-message", test_max_message);
	return g_test_run();
}
