/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's view of the services (Get-VMIntegrationService) and the JSON renderings.
 *
 * Primary status: "No Contact" while no daemon is registered; "OK" once one registered;
 * "Lost Communication" after a request to the registered daemon hit the kernel's deadline,
 * until the daemon answers a request in time again. A daemon that closes the device is
 * "No Contact" again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/hv-host-sim/hvsim-internal.h"

static const char *const display_names[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = "Key-Value Pair Exchange",
    [VMU_SERVICE_VSS] = "VSS",
    [VMU_SERVICE_FCOPY] = "Guest Service Interface",
};

const char *hvsim_primary_status_name(enum hvsim_primary_status s)
{
	switch (s) {
	case HVSIM_NO_CONTACT:
		return "No Contact";
	case HVSIM_OK:
		return "OK";
	case HVSIM_LOST_COMMUNICATION:
		return "Lost Communication";
	}
	return "Unknown";
}

const char *hvsim_status_name(uint32_t status)
{
	static __thread char buf[16];

	switch (status) {
	case VMU_S_OK:
		return "S_OK";
	case VMU_E_FAIL:
		return "E_FAIL";
	case VMU_S_CONT:
		return "S_CONT";
	case VMU_ERROR_NOT_SUPPORTED:
		return "ERROR_NOT_SUPPORTED";
	case VMU_INVALIDARG:
		return "INVALIDARG";
	case VMU_GUID_NOTFOUND:
		return "GUID_NOTFOUND";
	case VMU_ERROR_ALREADY_EXISTS:
		return "ERROR_ALREADY_EXISTS";
	case VMU_ERROR_DISK_FULL:
		return "ERROR_DISK_FULL";
	}
	snprintf(buf, sizeof(buf), "0x%08x", status);
	return buf;
}

int hvsim_get_status(struct hvsim *sim, enum vmu_service service, struct hvsim_service_status *ret)
{
	struct hvsim_service *svc;
	struct hvsim_service_status st;

	if ((unsigned)service >= _VMU_SERVICE_MAX)
		return -EINVAL;
	svc = &sim->services[service];
	st = (struct hvsim_service_status){
	    .service = service,
	    .enabled = svc->enabled,
	    .daemon_connected = hvsim_daemon_connected(svc),
	    .daemon_registered = svc->registered,
	    .negotiated = svc->negotiated,
	    .framework = svc->framework,
	    .version = svc->version,
	    .requests = svc->requests,
	    .failures = svc->failures,
	    .timeouts = svc->timeouts,
	};
	if (!svc->registered)
		st.primary = HVSIM_NO_CONTACT;
	else
		st.primary = svc->lost ? HVSIM_LOST_COMMUNICATION : HVSIM_OK;
	memcpy(st.kernel_version, svc->kernel_version, sizeof(st.kernel_version));
	*ret = st;
	return 0;
}

static const char *secondary(const struct hvsim *sim, enum vmu_service service)
{
	return sim->services[service].nego_failed ? "Protocol version mismatch" : "";
}

static void version_text(const struct hvsim_service_status *st, char *buf, size_t size)
{
	if (st->negotiated)
		snprintf(buf, size, "%u.%u", st->version.major, st->version.minor);
	else
		buf[0] = '\0';
}

void hvsim_print_status(struct hvsim *sim, FILE *f)
{
	fprintf(f, "%-25s %-7s %-24s %-26s %s\n", "Name", "Enabled", "PrimaryStatusDescription",
		"SecondaryStatusDescription", "ProtocolVersion");
	fprintf(f, "%-25s %-7s %-24s %-26s %s\n", "----", "-------", "------------------------",
		"--------------------------", "---------------");
	for (unsigned i = 0; i < _VMU_SERVICE_MAX; i++) {
		struct hvsim_service_status st;
		char version[16];

		if (hvsim_get_status(sim, i, &st) < 0 || !st.enabled)
			continue;
		version_text(&st, version, sizeof(version));
		fprintf(f, "%-25s %-7s %-24s %-26s %s\n", display_names[i], "True",
			hvsim_primary_status_name(st.primary), secondary(sim, i), version);
	}
}

static json_object *status_object(struct hvsim *sim, const struct hvsim_service_status *st)
{
	json_object *o = json_object_new_object();
	char version[16];

	version_text(st, version, sizeof(version));
	json_object_object_add(o, "Name", json_object_new_string(display_names[st->service]));
	json_object_object_add(o, "Enabled", json_object_new_boolean(st->enabled));
	json_object_object_add(o, "PrimaryStatusDescription",
			       json_object_new_string(hvsim_primary_status_name(st->primary)));
	json_object_object_add(o, "SecondaryStatusDescription",
			       json_object_new_string(secondary(sim, st->service)));
	json_object_object_add(o, "ProtocolVersion", json_object_new_string(version));
	json_object_object_add(o, "service", json_object_new_string(vmu_service_name(st->service)));
	json_object_object_add(o, "daemon_connected",
			       json_object_new_boolean(st->daemon_connected));
	json_object_object_add(o, "daemon_registered",
			       json_object_new_boolean(st->daemon_registered));
	json_object_object_add(o, "negotiated", json_object_new_boolean(st->negotiated));
	json_object_object_add(o, "kernel_version", json_object_new_string(st->kernel_version));
	json_object_object_add(o, "requests", json_object_new_uint64(st->requests));
	json_object_object_add(o, "failures", json_object_new_uint64(st->failures));
	json_object_object_add(o, "timeouts", json_object_new_uint64(st->timeouts));
	return o;
}

json_object *hvsim_status_json(struct hvsim *sim)
{
	json_object *array = json_object_new_array();

	for (unsigned i = 0; array && i < _VMU_SERVICE_MAX; i++) {
		struct hvsim_service_status st;

		if (hvsim_get_status(sim, i, &st) < 0 || !st.enabled)
			continue;
		json_object_array_add(array, status_object(sim, &st));
	}
	return array;
}

static const char *op_name(enum vmu_service service, int op)
{
	static const char *const kvp[] = {"get",       "set",         "delete",
					  "enumerate", "get-ip-info", "set-ip-info"};
	static const char *const vss[] = {"create",      "delete", "hot-backup", "get-dm-info",
					  "bu-complete", "freeze", "thaw",       "auto-recover"};
	static const char *const fcopy[] = {"start", "write", "complete", "cancel"};

	if (op < 0)
		return NULL;
	switch (service) {
	case VMU_SERVICE_KVP:
		return (size_t)op < sizeof(kvp) / sizeof(kvp[0]) ? kvp[op] : NULL;
	case VMU_SERVICE_VSS:
		return (size_t)op < sizeof(vss) / sizeof(vss[0]) ? vss[op] : NULL;
	case VMU_SERVICE_FCOPY:
		return (size_t)op < sizeof(fcopy) / sizeof(fcopy[0]) ? fcopy[op] : NULL;
	case _VMU_SERVICE_MAX:
		break;
	}
	return NULL;
}

static void add_string(json_object *o, const char *name, const char *value)
{
	json_object_object_add(o, name, json_object_new_string(value));
}

static void add_kvp_fields(json_object *o, int op, const struct hvsim_result *r)
{
	switch (op) {
	case VMU_KVP_OP_GET:
	case VMU_KVP_OP_ENUMERATE:
		add_string(o, "key", r->key);
		add_string(o, "value", r->value);
		json_object_object_add(o, "value_type", json_object_new_int64(r->value_type));
		break;
	case VMU_KVP_OP_SET:
	case VMU_KVP_OP_DELETE:
		add_string(o, "key", r->key);
		break;
	case VMU_KVP_OP_GET_IP_INFO:
		add_string(o, "adapter_id", r->adapter_id);
		json_object_object_add(o, "addr_family", json_object_new_int(r->addr_family));
		json_object_object_add(o, "dhcp_enabled", json_object_new_boolean(r->dhcp_enabled));
		add_string(o, "ip_addr", r->ip_addr);
		add_string(o, "sub_net", r->sub_net);
		add_string(o, "gate_way", r->gate_way);
		add_string(o, "dns_addr", r->dns_addr);
		break;
	}
}

json_object *hvsim_result_json(enum vmu_service service, int op, const struct hvsim_result *r)
{
	json_object *o = json_object_new_object();
	const char *name = vmu_service_name(service), *opn = op_name(service, op);

	if (!o)
		return NULL;
	if (name)
		add_string(o, "service", name);
	if (opn)
		add_string(o, "op", opn);
	json_object_object_add(o, "status", json_object_new_int64(r->status));
	add_string(o, "status_name", hvsim_status_name(r->status));
	json_object_object_add(o, "latency_us", json_object_new_uint64(r->latency_usec));
	json_object_object_add(o, "kernel_timeout", json_object_new_boolean(r->kernel_timeout));
	if (service == VMU_SERVICE_KVP)
		add_kvp_fields(o, op, r);
	else if (service == VMU_SERVICE_VSS)
		json_object_object_add(o, "vss_flags", json_object_new_int64(r->vss_flags));
	return o;
}
