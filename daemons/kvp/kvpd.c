/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd: the KVP service on top of the shared daemon scaffolding (hvd).
 *
 * Data flow: hvd reads one message from the device and calls kvpd_handle(); the library
 * validates it into a struct vmu_kvp_request (this file never touches raw bytes); the
 * operation is answered from the intrinsic items (pool 2); the library writes the reply
 * in the layout the kernel reads; hvd writes it back.
 *
 * Walking-skeleton scope: ENUMERATE of the auto pool is served with real values. The
 * other pools have no store yet: ENUMERATE of them reports the end of the list
 * (HV_S_CONT, an empty pool), GET/SET/DELETE and the IP operations answer HV_E_FAIL and
 * say so once in the log. The pool store, GET_IP_INFO and SET_IP_INFO are the full KVP
 * daemon's work.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intrinsic.h"
#include "kvpd.h"

struct kvpd {
	struct intrinsic intrinsic;
	uint64_t requests, failures;
	bool unsupported_logged[_VMU_KVP_OP_MAX];
};

static const char *const kvp_op_names[_VMU_KVP_OP_MAX] = {
    [VMU_KVP_OP_GET] = "get",
    [VMU_KVP_OP_SET] = "set",
    [VMU_KVP_OP_DELETE] = "delete",
    [VMU_KVP_OP_ENUMERATE] = "enumerate",
    [VMU_KVP_OP_GET_IP_INFO] = "get-ip-info",
    [VMU_KVP_OP_SET_IP_INFO] = "set-ip-info",
};

static const struct conf_key kvpd_keys[] = {
    {"os-release", CONF_STRV, "/etc/os-release;/usr/lib/os-release",
     "os-release files to read the OS name and version from, first found wins"},
    {NULL},
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int kvpd_init(struct hvd *d, void **ret_state)
{
	struct kvpd *k = calloc(1, sizeof(*k));

	if (!k)
		return log_error_errno(ENOMEM, "Cannot allocate the KVP state");
	intrinsic_init(&k->intrinsic, conf_get_strv(hvd_conf(d), "os-release"));
	log_debug("OSName=%s OSMajorVersion=%s OSVersion=%s OSBuildNumber=%s", k->intrinsic.os.name,
		  k->intrinsic.os.version_id, k->intrinsic.os.kernel_version,
		  k->intrinsic.os.kernel_release);
	*ret_state = k;
	return 0;
}

static void kvpd_registered(struct hvd *d, void *state, const char *kernel_version)
{
	struct kvpd *k = state;

	intrinsic_set_kernel_version(&k->intrinsic, kernel_version);
	hvd_set_status(d, "Registered (KVP %s); %" PRIu64 " requests, %" PRIu64 " failed",
		       k->intrinsic.integration_services_version, k->requests, k->failures);
}

static uint32_t kvpd_enumerate(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
			       size_t size, const char **ret_key)
{
	const char *key, *value;
	int r;

	if (req->pool != VMU_KVP_POOL_AUTO)
		return VMU_S_CONT; /* no pool store yet: every other pool is empty */
	if (intrinsic_get(&k->intrinsic, req->index, &key, &value) < 0)
		return VMU_S_CONT; /* past the last item: the end of the enumeration */
	r = vmu_kvp_reply_enumerate(reply, size, key, value);
	if (r < 0) {
		log_warning_errno(r, "Cannot build the reply for %s, answering failure", key);
		return VMU_E_FAIL;
	}
	*ret_key = key;
	return VMU_S_OK;
}

static uint32_t kvpd_unsupported(struct kvpd *k, const struct vmu_kvp_request *req)
{
	if (!k->unsupported_logged[req->op]) {
		log_notice("KVP %s is not implemented yet, answering failure",
			   kvp_op_names[req->op]);
		k->unsupported_logged[req->op] = true;
	}
	return VMU_E_FAIL;
}

static uint32_t kvpd_dispatch(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
			      size_t size, const char **ret_key)
{
	switch (req->op) {
	case VMU_KVP_OP_ENUMERATE:
		return kvpd_enumerate(k, req, reply, size, ret_key);
	case VMU_KVP_OP_GET:
	case VMU_KVP_OP_SET:
	case VMU_KVP_OP_DELETE:
	case VMU_KVP_OP_GET_IP_INFO:
	case VMU_KVP_OP_SET_IP_INFO:
		return kvpd_unsupported(k, req);
	case _VMU_KVP_OP_MAX:
		break;
	}
	return VMU_E_FAIL;
}

static ssize_t kvpd_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			   size_t reply_size)
{
	struct kvpd *k = state;
	struct vmu_kvp_request req;
	const char *key = NULL;
	uint64_t start = now_usec();
	uint32_t status;
	int r;

	k->requests++;
	r = vmu_kvp_request_parse(msg, len, &req);
	if (r < 0) {
		k->failures++;
		log_warning_errno(
		    r, "Malformed KVP request from the kernel (%zu bytes), answering failure", len);
		vmu_kvp_reply_status(reply, reply_size, VMU_E_FAIL);
		return VMU_KVP_MSG_SIZE;
	}
	status = kvpd_dispatch(k, &req, reply, reply_size, &key);
	if (status != VMU_S_OK) {
		vmu_kvp_reply_status(reply, reply_size, status);
		if (status == VMU_E_FAIL)
			k->failures++;
	}
	log_debug("KVP %s pool=%u%s%s status=0x%08x %" PRIu64 "us", kvp_op_names[req.op],
		  (unsigned)req.pool, key ? " key=" : "", key ? key : "", status,
		  now_usec() - start);
	hvd_set_status(d, "Last: %s pool %u -> 0x%08x; %" PRIu64 " requests, %" PRIu64 " failed",
		       kvp_op_names[req.op], (unsigned)req.pool, status, k->requests, k->failures);
	return VMU_KVP_MSG_SIZE;
}

static void kvpd_finish(struct hvd *d, void *state)
{
	free(state);
}

const struct hvd_service kvpd_service = {
    .name = "kvp",
    .program = "hv-kvpd",
    .summary = "Hyper-V key-value pair exchange daemon",
    .service = VMU_SERVICE_KVP,
    .keys = kvpd_keys,
    .init = kvpd_init,
    .registered = kvpd_registered,
    .handle = kvpd_handle,
    .finish = kvpd_finish,
};
