/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd: the KVP service on top of the shared daemon scaffolding (hvd).
 *
 * Data flow: hvd reads one message from the device and calls kvpd_handle(); the library
 * validates it into a struct vmu_kvp_request (this file never touches raw bytes); the
 * operation is answered from the pool files (pools 0, 1, 3, 4: store.c over the library's
 * pool store), the intrinsic items (pool 2: intrinsic.c, fqdn.c, netinfo.c) or the network
 * facts (GET_IP_INFO: netinfo.c); the library writes the reply in the layout the kernel
 * reads; hvd writes it back.
 *
 * Status codes (docs/protocol.md §1.3, §3.3): HV_S_OK; HV_S_CONT for a missing key and at the end
 * of an enumeration; HV_E_FAIL when an operation fails (I/O, invalid item, unknown adapter);
 * HV_ERROR_NOT_SUPPORTED for changes to the auto pool, which is the daemon's own.
 *
 * SET_IP_INFO (netconf*.c): the request is parsed and the adapter looked up here, at once
 * (HV_INVALIDARG, HV_GUID_NOTFOUND); applying it runs on a worker thread (netconf_job) and
 * the reply is deferred (HVD_REPLY_LATER): S_OK once applied and verified, HV_E_FAIL when it
 * failed and was rolled back, or at set-ip-timeout= while it still runs (it is then rolled
 * back). The kernel sends nothing else until it has the reply; a SET_IP_INFO that arrives
 * after a deadline answer while the worker still runs is answered HV_E_FAIL at once.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fqdn.h"
#include "intrinsic.h"
#include "kvp-keys.h"
#include "kvpd.h"
#include "netconf.h"
#include "netinfo.h"
#include "shared/time-util.h"
#include "store.h"

struct kvpd {
	struct hvd *hvd;
	struct intrinsic intrinsic;
	struct kvp_store *store;
	struct netinfo *net;
	struct fqdn *fqdn;
	sd_event_source *refresh;
	struct netconf_job *setip; /* the SET_IP_INFO being applied, until its worker ends */
	uint64_t setip_start;
	char *auto_path; /* <run-dir>/.kvp_pool_2: the auto pool as the host sees it */
	uint64_t refresh_usec;
	size_t left_out[2];
	uint64_t requests, failures;
	uint32_t last_op, last_pool, last_status; /* of the latest request, for the status line */
	bool logged_once[_VMU_KVP_OP_MAX];
};

static const char *const kvp_op_names[_VMU_KVP_OP_MAX] = {
    [VMU_KVP_OP_GET] = "get",
    [VMU_KVP_OP_SET] = "set",
    [VMU_KVP_OP_DELETE] = "delete",
    [VMU_KVP_OP_ENUMERATE] = "enumerate",
    [VMU_KVP_OP_GET_IP_INFO] = "get-ip-info",
    [VMU_KVP_OP_SET_IP_INFO] = "set-ip-info",
};

/* ---------------------------------------------------------------- the auto pool */

static void kvpd_publish(struct kvpd *k)
{
	int r = intrinsic_publish(&k->intrinsic, k->auto_path);

	if (r < 0)
		log_warning_errno(r, "Cannot publish the auto pool to %s, continuing",
				  k->auto_path);
}

/* Re-reads one address list; true when it changed. */
static bool kvpd_refresh_family(struct kvpd *k, bool ipv6)
{
	char *list = NULL;
	size_t left_out = 0;
	int r = netinfo_address_list(k->net, ipv6 ? AF_INET6 : AF_INET, &list, &left_out);

	if (r < 0) {
		log_warning_errno(r, "Cannot read the %s addresses, keeping the last list",
				  ipv6 ? "IPv6" : "IPv4");
		return false;
	}
	if (left_out != k->left_out[ipv6] && left_out > 0)
		log_notice("%zu %s addresses left out of NetworkAddressIPv%c: the host shows at "
			   "most %d characters",
			   left_out, ipv6 ? "IPv6" : "IPv4", ipv6 ? '6' : '4',
			   NETINFO_MAX_LIST_CHARS);
	k->left_out[ipv6] = left_out;
	/* netinfo's lists are g_malloc'd; intrinsic owns malloc'd strings. */
	char *copy = strdup(list ? list : "");
	g_free(list);
	return copy && intrinsic_set_addresses(&k->intrinsic, ipv6, copy);
}

static void kvpd_refresh_addresses(struct kvpd *k)
{
	bool changed = kvpd_refresh_family(k, false);

	changed |= kvpd_refresh_family(k, true);
	if (changed)
		kvpd_publish(k);
}

static int kvpd_on_refresh(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kvpd *k = userdata;
	int r;

	kvpd_refresh_addresses(k);
	fqdn_check(k->fqdn);
	r = hvd_timer_rearm(s, usec + k->refresh_usec);
	if (r < 0)
		log_error_errno(r, "Cannot re-arm the address refresh; the auto pool follows "
				   "address changes only when the host asks");
	return 0;
}

static void kvpd_fqdn_changed(const char *fqdn, void *userdata)
{
	struct kvpd *k = userdata;

	intrinsic_set_fqdn(&k->intrinsic, fqdn);
	kvpd_publish(k);
}

/* ---------------------------------------------------------------- set-up */

static int kvpd_net_new(const struct conf *c, struct netinfo **ret)
{
	struct netinfo_config nc = {
	    .include = conf_get_strv(c, "include-interfaces"),
	    .exclude = conf_get_strv(c, "exclude-interfaces"),
	    .include_link_local = conf_get_bool(c, "ipv6-link-local"),
	    .dns = {.resolv_conf = conf_get_string(c, "resolv-conf"),
		    .bus_address = conf_get_bool(c, "use-resolved") ? NULL : ""},
	    .dhcp = {.root = conf_get_string(c, "network-root")},
	    .use_scripts = conf_get_bool(c, "compat-scripts"),
	    .script_dir = conf_get_string(c, "script-dir"),
	    .script_timeout_usec = conf_get_usec(c, "script-timeout"),
	};

	return netinfo_new(&nc, ret); /* copies what it keeps */
}

static struct kvpd *kvpd_free(struct kvpd *k)
{
	if (!k)
		return NULL;
	sd_event_source_disable_unref(k->refresh);
	netconf_job_free(k->setip); /* waits for the worker: bounded by its deadlines */
	fqdn_free(k->fqdn);
	netinfo_free(k->net);
	kvp_store_free(k->store);
	intrinsic_done(&k->intrinsic);
	free(k->auto_path);
	free(k);
	return NULL;
}

/* set-ip-backend= must name a backend this binary has (the others are separate files). */
static int kvpd_check_backend(const struct conf *c)
{
	const char *b = conf_get_string(c, "set-ip-backend");

	if (strcmp(b, "auto") == 0 || netconf_backend_lookup(b))
		return 0;
	return log_error_errno(EOPNOTSUPP, "set-ip-backend=%s is not built into this hv-kvpd", b);
}

static int kvpd_init(struct hvd *d, void **ret_state)
{
	const struct conf *c = hvd_conf(d);
	struct kvpd *k = calloc(1, sizeof(*k));
	sd_event *e = hvd_event(d);
	int r;

	if (!k)
		return log_error_errno(ENOMEM, "Cannot allocate the KVP state");
	r = kvpd_check_backend(c);
	if (r < 0) {
		free(k);
		return r;
	}
	k->hvd = d;
	k->refresh_usec = conf_get_usec(c, "address-refresh");
	intrinsic_init(&k->intrinsic, conf_get_strv(c, "os-release"));
	if (asprintf(&k->auto_path, "%s/.kvp_pool_2", conf_get_string(c, "run-dir")) < 0) {
		kvpd_free(k);
		return log_error_errno(ENOMEM, "Cannot allocate the KVP state");
	}
	/* The pool files must exist early: cloud-init looks for them (anchors, pain 18). */
	r = kvp_store_open(conf_get_string(c, "state-dir"), conf_get_usec(c, "pool-lock-timeout"),
			   &k->store);
	if (r < 0) {
		kvpd_free(k);
		return r; /* logged by the store */
	}
	r = kvpd_net_new(c, &k->net);
	if (r < 0) {
		kvpd_free(k);
		return log_error_errno(r, "Cannot open a netlink socket");
	}
	r = fqdn_new(e, 60 * USEC_PER_SEC, conf_get_usec(c, "fqdn-refresh"), kvpd_fqdn_changed, k,
		     &k->fqdn);
	if (r >= 0)
		r = sd_event_add_time_relative(e, &k->refresh, CLOCK_MONOTONIC, k->refresh_usec, 0,
					       kvpd_on_refresh, k);
	if (r < 0) {
		kvpd_free(k);
		return log_error_errno(r, "Cannot set up the KVP timers");
	}
	intrinsic_set_fqdn(&k->intrinsic, fqdn_get(k->fqdn));
	kvpd_refresh_family(k, false);
	kvpd_refresh_family(k, true);
	log_debug("OSName=%s OSMajorVersion=%s OSVersion=%s OSBuildNumber=%s", k->intrinsic.os.name,
		  k->intrinsic.os.version_id, k->intrinsic.os.kernel_version,
		  k->intrinsic.os.kernel_release);
	*ret_state = k;
	return 0;
}

/* The paths the pools live at are fixed for the daemon's life (other programs and the
 * published auto pool depend on them); a change is noted, not followed. */
static void kvpd_note_fixed_keys(struct hvd *d, const struct conf *c)
{
	static const char *const fixed[] = {"state-dir", "run-dir"};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(conf_get_string(c, fixed[i]), conf_get_string(hvd_conf(d), fixed[i])) !=
		    0)
			log_notice("%s changed to %s; restart to use it", fixed[i],
				   conf_get_string(c, fixed[i]));
}

/* SIGHUP: the network facts are rebuilt from the new config (netinfo copies its filters
 * and paths), the timers take the new intervals, os-release is read again. The only step
 * that can fail comes first, so a refusal leaves everything as it was. */
static int kvpd_reload(struct hvd *d, void *state, const struct conf *c)
{
	struct kvpd *k = state;
	struct netinfo *net = NULL;
	uint64_t now = 0;
	int r;

	r = kvpd_check_backend(c);
	if (r < 0)
		return r;
	r = kvpd_net_new(c, &net);
	if (r < 0)
		return log_error_errno(r, "Cannot open a netlink socket for the new configuration");
	kvpd_note_fixed_keys(d, c);
	netinfo_free(k->net);
	k->net = net;
	fqdn_set_refresh(k->fqdn, conf_get_usec(c, "fqdn-refresh"));
	k->refresh_usec = conf_get_usec(c, "address-refresh");
	kvp_store_set_lock_timeout(k->store, conf_get_usec(c, "pool-lock-timeout"));
	(void)sd_event_now(hvd_event(d), CLOCK_MONOTONIC, &now);
	r = hvd_timer_rearm(k->refresh, now + k->refresh_usec);
	if (r < 0)
		log_error_errno(r, "Cannot re-arm the address refresh, continuing");
	os_info_load(conf_get_strv(c, "os-release"), &k->intrinsic.os);
	kvpd_refresh_family(k, false);
	kvpd_refresh_family(k, true);
	kvpd_publish(k); /* once, whatever changed */
	return 0;
}

#define KVPD_STATUS_FORMAT "%s%s%" PRIu64 " requests, %" PRIu64 " failed; KVP %s; pools: %zu items"
#define KVPD_STATUS_ARGS(k, last)                                                                  \
	(last) ? (last) : "", (last) ? "; " : "", (k)->requests, (k)->failures,                    \
	    (k)->intrinsic.integration_services_version, kvp_store_total_items((k)->store)

/* After a request the line goes out lazily (at most every 100 ms): one message to systemd
 * per request would cost more than the request. */
static void kvpd_status(struct kvpd *k, const char *last, bool per_request)
{
	if (per_request)
		hvd_set_status_lazy(k->hvd, KVPD_STATUS_FORMAT, KVPD_STATUS_ARGS(k, last));
	else
		hvd_set_status(k->hvd, KVPD_STATUS_FORMAT, KVPD_STATUS_ARGS(k, last));
}

static void kvpd_registered(struct hvd *d, void *state, const char *kernel_version)
{
	struct kvpd *k = state;

	intrinsic_set_kernel_version(&k->intrinsic, kernel_version);
	kvpd_publish(k);
	kvpd_status(k, "Registered", false);
}

/* ---------------------------------------------------------------- operations */

/* The key named in the log is copied first: the reply overwrites the request buffer the
 * request's strings point into. */
static void note_key(char *buf, size_t size, const char *key)
{
	if (buf)
		snprintf(buf, size, "%s", key);
}

/* Replies with a pool item, making text the host can convert: bytes another program wrote
 * that are not UTF-8 are replaced by U+FFFD rather than failing the whole request. */
static uint32_t reply_item(void *reply, size_t size, enum vmu_kvp_op op, const char *key,
			   const char *value)
{
	g_autofree char *k = g_utf8_make_valid(key, -1), *v = g_utf8_make_valid(value, -1);
	int r;

	if (op == VMU_KVP_OP_GET)
		r = vmu_kvp_reply_get(reply, size, v);
	else
		r = vmu_kvp_reply_enumerate(reply, size, k, v);
	if (r < 0) {
		log_warning_errno(r, "Cannot answer with item %s, answering failure", key);
		return VMU_E_FAIL;
	}
	if (vmu_kvp_pool_check_host_limits(k, v) < 0)
		log_debug("Item %s is longer than the host shows: the kernel cuts it to %d/%d "
			  "UTF-16 units",
			  key, VMU_KVP_HOST_MAX_KEY_UNITS, VMU_KVP_HOST_MAX_VALUE_UNITS);
	return VMU_S_OK;
}

static uint32_t kvpd_enumerate(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
			       size_t size, char *key_out, size_t key_size)
{
	struct vmu_kvp_pool_record *rec;
	const char *key, *value;
	uint32_t status;
	int r;

	if (req->pool == VMU_KVP_POOL_AUTO) {
		if (intrinsic_get(&k->intrinsic, req->index, &key, &value) < 0)
			return VMU_S_CONT; /* past the last item: the end of the enumeration */
		if (req->index == INTRINSIC_FQDN)
			fqdn_check(k->fqdn);
		else if (req->index == INTRINSIC_NETWORK_ADDRESS_IPV4 ||
			 req->index == INTRINSIC_NETWORK_ADDRESS_IPV6) {
			if (kvpd_refresh_family(k, req->index == INTRINSIC_NETWORK_ADDRESS_IPV6))
				kvpd_publish(k);
			intrinsic_get(&k->intrinsic, req->index, &key, &value);
		}
		note_key(key_out, key_size, key);
		return reply_item(reply, size, req->op, key, value);
	}
	rec = malloc(sizeof(*rec));
	if (!rec)
		return VMU_E_FAIL;
	r = kvp_store_get_by_index(k->store, req->pool, req->index, rec);
	if (r == -ENOENT)
		status = VMU_S_CONT;
	else if (r < 0)
		status = VMU_E_FAIL;
	else {
		note_key(key_out, key_size, rec->key);
		status = reply_item(reply, size, req->op, rec->key, rec->value);
	}
	free(rec);
	return status;
}

static uint32_t kvpd_get(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
			 size_t size)
{
	struct vmu_kvp_pool_record *rec;
	const char *value;
	uint32_t status;
	int r;

	if (req->pool == VMU_KVP_POOL_AUTO) {
		if (intrinsic_lookup(&k->intrinsic, req->key.s, &value) < 0)
			return VMU_S_CONT;
		return reply_item(reply, size, req->op, req->key.s, value);
	}
	rec = malloc(sizeof(*rec));
	if (!rec)
		return VMU_E_FAIL;
	r = kvp_store_get(k->store, req->pool, req->key.s, rec);
	status = r == -ENOENT ? VMU_S_CONT
		 : r < 0      ? VMU_E_FAIL
			      : reply_item(reply, size, req->op, rec->key, rec->value);
	free(rec);
	return status;
}

static uint32_t kvpd_not_supported(struct kvpd *k, const struct vmu_kvp_request *req,
				   const char *why)
{
	if (!k->logged_once[req->op]) {
		log_notice("KVP %s %s, answering 'not supported'", kvp_op_names[req->op], why);
		k->logged_once[req->op] = true;
	}
	return VMU_ERROR_NOT_SUPPORTED;
}

static uint32_t kvpd_change(struct kvpd *k, const struct vmu_kvp_request *req)
{
	int r;

	if (req->pool == VMU_KVP_POOL_AUTO)
		return kvpd_not_supported(k, req, "on the auto pool (the daemon's own items)");
	if (req->op == VMU_KVP_OP_DELETE) {
		r = kvp_store_delete(k->store, req->pool, req->key.s);
		if (r == -ENOENT)
			return VMU_S_CONT; /* no such key */
		return r < 0 ? VMU_E_FAIL : VMU_S_OK;
	}
	r = kvp_store_set(k->store, req->pool, req->set.key.s, req->set.value.s);
	if (r == -ENOENT) /* the store logs every other error itself */
		log_warning_errno(r, "Pool %u: SET %s failed, answering failure",
				  (unsigned)req->pool, req->set.key.s);
	return r < 0 ? VMU_E_FAIL : VMU_S_OK;
}

static uint32_t kvpd_get_ip_info(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
				 size_t size)
{
	struct netinfo_ip_info info;
	int r = netinfo_collect_ip_info(k->net, req->get_ip.adapter_id.s, &info);

	if (r < 0) {
		if (r == -ENODEV || r == -EINVAL)
			log_info_errno(r, "GET_IP_INFO: no interface has the MAC %s",
				       req->get_ip.adapter_id.s);
		else
			log_warning_errno(r, "GET_IP_INFO for %s failed", req->get_ip.adapter_id.s);
		return VMU_E_FAIL;
	}
	if (info.left_out > 0)
		log_notice("GET_IP_INFO for %s: %zu items left out to fit the host's limits",
			   info.ifname, info.left_out);
	r = vmu_kvp_reply_ip_info(reply, size,
				  &(struct vmu_kvp_ip_info){
				      .adapter_id = req->get_ip.adapter_id.s,
				      .addr_family = info.addr_family,
				      .dhcp_enabled = info.dhcp_enabled,
				      .ip_addr = info.ip_addr,
				      .sub_net = info.sub_net,
				      .gate_way = info.gate_way,
				      .dns_addr = info.dns_addr,
				  });
	if (r < 0) {
		log_warning_errno(r, "Cannot build the GET_IP_INFO reply for %s", info.ifname);
		return VMU_E_FAIL;
	}
	return VMU_S_OK;
}

/* ---------------------------------------------------------------- SET_IP_INFO */

/* The paths and choices of the config in force when the request came (the job copies
 * them: a reload meanwhile changes the next request, not this one). */
static struct netconf_env kvpd_netconf_env(const struct conf *c)
{
	const char *script = conf_get_string(c, "set-ifconfig-script");
	const char *bus = conf_get_string(c, "bus-address");

	return (struct netconf_env){
	    .sysfs_net_dir = conf_get_string(c, "sysfs-net-dir"),
	    .state_dir = conf_get_string(c, "state-dir"),
	    .networkd_dir = conf_get_string(c, "networkd-dir"),
	    .networkd_run_dir = conf_get_string(c, "networkd-run-dir"),
	    .nm_run_dir = conf_get_string(c, "nm-run-dir"),
	    .ifupdown_interfaces = conf_get_string(c, "ifupdown-interfaces"),
	    .ifupdown_dir = conf_get_string(c, "ifupdown-dir"),
	    .ifupdown_state_dir = conf_get_string(c, "ifupdown-state-dir"),
	    .ifup_path = conf_get_string(c, "ifup-path"),
	    .ifdown_path = conf_get_string(c, "ifdown-path"),
	    .ifcfg_dir = conf_get_string(c, "ifcfg-dir"),
	    .script_path = script[0] ? script : NULL,
	    .bus_address = bus[0] ? bus : NULL,
	};
}

static uint32_t setip_status(int result)
{
	return result >= 0 ? VMU_S_OK : VMU_E_FAIL;
}

static void kvpd_setip_reply(void *userdata, int result)
{
	struct kvpd *k = userdata;
	uint32_t status = setip_status(result);
	uint8_t *buf = calloc(1, VMU_KVP_MSG_SIZE);
	char last[96];
	int r;

	if (!buf) {
		log_error_errno(ENOMEM, "Cannot answer SET_IP_INFO");
		return;
	}
	vmu_kvp_reply_status(buf, VMU_KVP_MSG_SIZE, status);
	r = hvd_reply(k->hvd, buf, VMU_KVP_MSG_SIZE);
	free(buf);
	if (r == -ENOTCONN)
		log_notice("SET_IP_INFO finished after the device was reopened: the host has "
			   "already been answered by the kernel");
	if (status != VMU_S_OK)
		k->failures++;
	log_debug("KVP set-ip-info -> 0x%08x after %" PRIu64 "us", status,
		  now_usec() - k->setip_start);
	snprintf(last, sizeof(last), "last: set-ip-info -> 0x%08x", status);
	kvpd_status(k, last, true);
}

static void kvpd_setip_finished(void *userdata, int result)
{
	struct kvpd *k = userdata;
	const char *backend = netconf_job_backend(k->setip);

	if (result >= 0)
		log_info("SET_IP_INFO applied through %s in %" PRIu64 " ms", backend,
			 (now_usec() - k->setip_start) / USEC_PER_MSEC);
	else
		log_warning_errno(result, "SET_IP_INFO not applied (%s)",
				  backend ? backend : "no backend");
	k->setip = netconf_job_free(k->setip);
	/* The addresses changed: the auto pool follows now rather than at the next refresh. */
	kvpd_refresh_addresses(k);
}

static const struct netconf_job_callbacks kvpd_setip_callbacks = {
    .reply = kvpd_setip_reply,
    .finished = kvpd_setip_finished,
};

/* Answers at once (invalid, unknown adapter, busy) or starts the job: *ret_later. */
static uint32_t kvpd_set_ip_info(struct kvpd *k, const struct vmu_kvp_request *req, bool *ret_later)
{
	const struct conf *c = hvd_conf(k->hvd);
	const struct netconf_request nr = {
	    .adapter_id = req->set_ip.adapter_id.s,
	    .addr_family = req->set_ip.addr_family,
	    .dhcp_enabled = req->set_ip.dhcp_enabled,
	    .ip_addr = req->set_ip.ip_addr.s,
	    .sub_net = req->set_ip.sub_net.s,
	    .gate_way = req->set_ip.gate_way.s,
	    .dns_addr = req->set_ip.dns_addr.s,
	};
	g_autofree struct netconf *cfg = g_new0(struct netconf, 1);
	struct netconf_env env = kvpd_netconf_env(c);
	char err[192];
	int r;

	if (netconf_job_running(k->setip)) {
		log_warning("SET_IP_INFO while the previous one is still being rolled back, "
			    "answering failure");
		return VMU_E_FAIL;
	}
	r = netconf_parse(&nr, cfg, err, sizeof(err));
	if (r < 0) {
		log_warning("SET_IP_INFO refused, nothing changed: %s", err);
		return VMU_INVALIDARG;
	}
	r = netconf_find_target(env.sysfs_net_dir, cfg->target.guid, &cfg->target);
	if (r == -ENODEV) {
		log_info("SET_IP_INFO: no interface is VMBus device %s", cfg->target.guid);
		return VMU_GUID_NOTFOUND;
	}
	if (r < 0) {
		log_warning_errno(r, "SET_IP_INFO: cannot look up device %s", cfg->target.guid);
		return VMU_E_FAIL;
	}
	k->setip_start = now_usec();
	r = netconf_job_start(hvd_event(k->hvd), &env, conf_get_string(c, "set-ip-backend"), cfg,
			      k->setip_start + conf_get_usec(c, "set-ip-timeout"),
			      &kvpd_setip_callbacks, k, &k->setip);
	if (r < 0) {
		log_error_errno(r, "SET_IP_INFO %s: cannot start applying", cfg->target.ifname);
		return VMU_E_FAIL;
	}
	*ret_later = true;
	return VMU_S_OK;
}

static uint32_t kvpd_dispatch(struct kvpd *k, const struct vmu_kvp_request *req, void *reply,
			      size_t size, char *key, size_t key_size, bool *ret_later)
{
	switch (req->op) {
	case VMU_KVP_OP_ENUMERATE:
		return kvpd_enumerate(k, req, reply, size, key, key_size);
	case VMU_KVP_OP_GET:
		note_key(key, key_size, req->key.s);
		return kvpd_get(k, req, reply, size);
	case VMU_KVP_OP_SET:
		note_key(key, key_size, req->set.key.s);
		return kvpd_change(k, req);
	case VMU_KVP_OP_DELETE:
		note_key(key, key_size, req->key.s);
		return kvpd_change(k, req);
	case VMU_KVP_OP_GET_IP_INFO:
		note_key(key, key_size, req->get_ip.adapter_id.s);
		return kvpd_get_ip_info(k, req, reply, size);
	case VMU_KVP_OP_SET_IP_INFO:
		note_key(key, key_size, req->set_ip.adapter_id.s);
		return kvpd_set_ip_info(k, req, ret_later);
	case _VMU_KVP_OP_MAX:
		break;
	}
	return VMU_E_FAIL;
}

/* -d: one structured record per host operation (op, pool, key, status, microseconds). */
static void kvpd_log_op(const struct vmu_kvp_request *req, const char *key, uint32_t status,
			uint64_t usec)
{
	g_autofree char *f_op = g_strdup_printf("HVGUEST_KVP_OP=%s", kvp_op_names[req->op]);
	g_autofree char *f_pool = g_strdup_printf("HVGUEST_KVP_POOL=%u", (unsigned)req->pool);
	g_autofree char *f_key = g_strdup_printf("HVGUEST_KVP_KEY=%s", key);
	g_autofree char *f_status = g_strdup_printf("HVGUEST_KVP_STATUS=0x%08x", status);
	g_autofree char *f_usec = g_strdup_printf("HVGUEST_KVP_USEC=%" PRIu64, usec);

	log_struct(LOG_DEBUG, "KVP %s pool=%u key=%s status=0x%08x %" PRIu64 "us",
		   kvp_op_names[req->op], (unsigned)req->pool, key[0] ? key : "-", status, usec,
		   f_op, f_pool, f_key, f_status, f_usec, NULL);
}

/* hvd_set_status_later(): the line after requests, written only when it goes out. */
static void kvpd_status_later(struct hvd *d, void *userdata)
{
	struct kvpd *k = userdata;
	char last[96];

	snprintf(last, sizeof(last), "last: %s pool %u -> 0x%08x", kvp_op_names[k->last_op],
		 (unsigned)k->last_pool, k->last_status);
	kvpd_status(k, last, true);
}

static ssize_t kvpd_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			   size_t reply_size)
{
	struct kvpd *k = state;
	struct vmu_kvp_request req;
	bool debug = log_get_max_level() >= LOG_DEBUG;
	char key[VMU_KVP_MAX_KEY_SIZE] = "";
	uint64_t start = now_usec();
	uint32_t status;
	bool later = false;
	int r;

	k->requests++;
	r = vmu_kvp_request_parse(msg, len, &req);
	if (r < 0) {
		k->failures++;
		log_warning_errno(r,
				  "Malformed KVP request from the kernel (%zu bytes), "
				  "answering failure",
				  len);
		vmu_kvp_reply_status(reply, reply_size, VMU_E_FAIL);
		return VMU_KVP_MSG_SIZE;
	}
	status = kvpd_dispatch(k, &req, reply, reply_size, debug ? key : NULL, sizeof(key), &later);
	if (later)
		return HVD_REPLY_LATER; /* kvpd_setip_reply() answers */
	/* Always: a SET or DELETE reply has no payload, and its first bytes still hold the
	 * request's op and pool, which the kernel would take as the status. */
	vmu_kvp_reply_status(reply, reply_size, status);
	if (status != VMU_S_OK && status != VMU_S_CONT)
		k->failures++;
	if (debug)
		kvpd_log_op(&req, key, status, now_usec() - start);
	k->last_op = req.op;
	k->last_pool = req.pool;
	k->last_status = status;
	hvd_set_status_later(d, kvpd_status_later, k);
	return VMU_KVP_MSG_SIZE;
}

static void kvpd_finish(struct hvd *d, void *state)
{
	kvpd_free(state);
}

const struct hvd_service kvpd_service = {
    .name = KVPD_SECTION,
    .program = "hv-kvpd",
    .summary = "Hyper-V key-value pair exchange daemon",
    .service = VMU_SERVICE_KVP,
    .keys = kvpd_keys,
    .init = kvpd_init,
    .registered = kvpd_registered,
    .handle = kvpd_handle,
    .reload = kvpd_reload,
    .finish = kvpd_finish,
};
