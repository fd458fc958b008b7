/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host requests: each builds the host-format packet (28-byte IC header + the service
 * message with UTF-16LE strings, docs/protocol.md §3.1/§4/§5), sends it through
 * hvsim_host_transact() and decodes the answer the way the host reads it; hvsim_send_raw() sends
 * what a hostile host would, undecoded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

#define HOST_KVP_MSG_SIZE VMU_KVP_MSG_SIZE
#define HOST_KVP_IP_MSG_SIZE 7428
#define PKT_SIZE (VMU_ICMSG_HDR_SIZE + HVSIM_RAW_MAX) /* >= a KVP packet */
#define REG_SZ 1
#define REG_U32 4
#define REG_U64 8

/* Offsets in the host's KVP message (same layout as the daemon's, docs/protocol.md §3.1). */
#define K_TYPE 4
#define K_KEY_SIZE 8
#define K_VALUE_SIZE 12
#define K_KEY 16
#define K_VALUE 528
#define D_KEY_SIZE 4
#define D_KEY 8
#define E_INDEX 4
#define E_TYPE 8
#define E_KEY_SIZE 12
#define E_VALUE_SIZE 16
#define E_KEY 20
#define E_VALUE 532
/* hv_kvp_ip_msg */
#define IP_ADAPTER 2
#define IP_FAMILY 258
#define IP_DHCP 259
#define IP_ADDR 260
#define IP_SUBNET 2308
#define IP_GATEWAY 4356
#define IP_DNS 5380

struct packet {
	uint8_t buf[PKT_SIZE + 64];
};

static uint8_t *msg_of(struct packet *p)
{
	return p->buf + VMU_ICMSG_HDR_SIZE;
}

static int header(struct hvsim *sim, enum vmu_service service, struct packet *p, size_t payload_len)
{
	return hvsim_host_header(&sim->services[service], p->buf, sizeof(p->buf), 0, payload_len);
}

/* UTF-8 -> host UTF-16 string of at most max_units including the NUL; returns units
 * written excluding the NUL. */
static int put_string(uint8_t *dst, size_t max_units, const char *s)
{
	size_t n = 0;
	int r = vmu_utf8_to_utf16le(s, strlen(s), dst, max_units, 0, &n);

	return r < 0 ? r : (int)n;
}

static int kvp_transact(struct hvsim *sim, struct packet *p, size_t msg_len,
			struct hvsim_result *ret)
{
	int r = header(sim, VMU_SERVICE_KVP, p, msg_len);

	if (r < 0)
		return r;
	return hvsim_host_transact(sim, VMU_SERVICE_KVP, p->buf, VMU_ICMSG_HDR_SIZE + msg_len,
				   sizeof(p->buf), ret);
}

static int kvp_key_request(struct packet *p, uint8_t op, enum vmu_kvp_pool pool, const char *key,
			   size_t size_off, size_t key_off)
{
	uint8_t *m = msg_of(p);
	int n;

	if ((unsigned)pool >= _VMU_KVP_POOL_MAX || !key)
		return -EINVAL;
	m[0] = op;
	m[1] = (uint8_t)pool;
	n = put_string(m + key_off, VMU_KVP_MAX_KEY_SIZE / 2, key);
	if (n < 0)
		return n;
	vmu_put_le32(m + size_off, (uint32_t)(2 * (n + 1)));
	return 0;
}

static size_t value_units(uint32_t value_size)
{
	size_t units = value_size / 2;

	units = units ? units - 1 : 0;
	return units < VMU_KVP_MAX_VALUE_SIZE / 2 ? units : VMU_KVP_MAX_VALUE_SIZE / 2;
}

int hvsim_kvp_get(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key,
		  struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	uint8_t *m = msg_of(&p);
	int r;

	r = kvp_key_request(&p, VMU_KVP_OP_GET, pool, key, K_KEY_SIZE, K_KEY);
	if (r >= 0)
		r = kvp_transact(sim, &p, HOST_KVP_MSG_SIZE, &res);
	if (r < 0)
		return r;
	hvsim_host_decode(m + K_KEY, VMU_KVP_MAX_KEY_SIZE / 2, res.key, sizeof(res.key));
	if (res.status == VMU_S_OK) {
		res.value_type = vmu_le32(m + K_TYPE);
		hvsim_host_decode(m + K_VALUE, value_units(vmu_le32(m + K_VALUE_SIZE)), res.value,
				  sizeof(res.value));
	}
	*ret = res;
	return 0;
}

static int kvp_set_common(struct hvsim *sim, struct packet *p, struct hvsim_result *ret)
{
	struct hvsim_result res;
	int r = kvp_transact(sim, p, HOST_KVP_MSG_SIZE, &res);

	if (r < 0)
		return r;
	hvsim_host_decode(msg_of(p) + K_KEY, VMU_KVP_MAX_KEY_SIZE / 2, res.key, sizeof(res.key));
	*ret = res;
	return 0;
}

int hvsim_kvp_set(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, const char *value,
		  struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);
	int r, n;

	r = kvp_key_request(&p, VMU_KVP_OP_SET, pool, key, K_KEY_SIZE, K_KEY);
	if (r < 0)
		return r;
	if (!value)
		return -EINVAL;
	n = put_string(m + K_VALUE, VMU_KVP_MAX_VALUE_SIZE / 2, value);
	if (n < 0)
		return n;
	vmu_put_le32(m + K_TYPE, REG_SZ);
	vmu_put_le32(m + K_VALUE_SIZE, (uint32_t)(2 * (n + 1)));
	return kvp_set_common(sim, &p, ret);
}

/* REG_U32 / REG_U64: the value travels binary; the kernel renders it as decimal text. */
static int kvp_set_number(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, uint32_t type,
			  uint64_t value, struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);
	int r;

	r = kvp_key_request(&p, VMU_KVP_OP_SET, pool, key, K_KEY_SIZE, K_KEY);
	if (r < 0)
		return r;
	vmu_put_le32(m + K_TYPE, type);
	if (type == REG_U32) {
		vmu_put_le32(m + K_VALUE_SIZE, 4);
		vmu_put_le32(m + K_VALUE, (uint32_t)value);
	} else {
		vmu_put_le32(m + K_VALUE_SIZE, 8);
		vmu_put_le64(m + K_VALUE, value);
	}
	return kvp_set_common(sim, &p, ret);
}

int hvsim_kvp_set_u32(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, uint32_t value,
		      struct hvsim_result *ret)
{
	return kvp_set_number(sim, pool, key, REG_U32, value, ret);
}

int hvsim_kvp_set_u64(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, uint64_t value,
		      struct hvsim_result *ret)
{
	return kvp_set_number(sim, pool, key, REG_U64, value, ret);
}

static void put_units(uint8_t *dst, const uint16_t *units, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vmu_put_le16(dst + 2 * i, units[i]);
}

int hvsim_kvp_set_utf16(struct hvsim *sim, enum vmu_kvp_pool pool, const uint16_t *key,
			size_t key_units, const uint16_t *value, size_t value_units,
			struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);

	if ((unsigned)pool >= _VMU_KVP_POOL_MAX || (!key && key_units) || (!value && value_units))
		return -EINVAL;
	if (key_units >= VMU_KVP_MAX_KEY_SIZE / 2 || value_units >= VMU_KVP_MAX_VALUE_SIZE / 2)
		return -ENOBUFS;
	m[0] = VMU_KVP_OP_SET;
	m[1] = (uint8_t)pool;
	put_units(m + K_KEY, key, key_units);
	put_units(m + K_VALUE, value, value_units);
	vmu_put_le32(m + K_TYPE, REG_SZ);
	vmu_put_le32(m + K_KEY_SIZE, (uint32_t)(2 * (key_units + 1)));
	vmu_put_le32(m + K_VALUE_SIZE, (uint32_t)(2 * (value_units + 1)));
	return kvp_set_common(sim, &p, ret);
}

int hvsim_kvp_delete(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key,
		     struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	int r;

	r = kvp_key_request(&p, VMU_KVP_OP_DELETE, pool, key, D_KEY_SIZE, D_KEY);
	if (r >= 0)
		r = kvp_transact(sim, &p, HOST_KVP_MSG_SIZE, &res);
	if (r < 0)
		return r;
	hvsim_host_decode(msg_of(&p) + D_KEY, VMU_KVP_MAX_KEY_SIZE / 2, res.key, sizeof(res.key));
	*ret = res;
	return 0;
}

int hvsim_kvp_enumerate(struct hvsim *sim, enum vmu_kvp_pool pool, uint32_t index,
			struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	uint8_t *m = msg_of(&p);
	uint32_t key_size;
	int r;

	if ((unsigned)pool >= _VMU_KVP_POOL_MAX)
		return -EINVAL;
	m[0] = VMU_KVP_OP_ENUMERATE;
	m[1] = (uint8_t)pool;
	vmu_put_le32(m + E_INDEX, index);
	r = kvp_transact(sim, &p, HOST_KVP_MSG_SIZE, &res);
	if (r < 0)
		return r;
	if (res.status == VMU_S_OK) {
		key_size = vmu_le32(m + E_KEY_SIZE);
		res.value_type = vmu_le32(m + E_TYPE);
		hvsim_host_decode(m + E_KEY, key_size / 2 ? key_size / 2 - 1 : 0, res.key,
				  sizeof(res.key));
		hvsim_host_decode(m + E_VALUE, value_units(vmu_le32(m + E_VALUE_SIZE)), res.value,
				  sizeof(res.value));
	}
	*ret = res;
	return 0;
}

int hvsim_kvp_enumerate_all(struct hvsim *sim, enum vmu_kvp_pool pool, json_object **ret)
{
	json_object *array = json_object_new_array();
	struct hvsim_result res;
	int r;

	if (!array)
		return -ENOMEM;
	for (uint32_t i = 0;; i++) {
		json_object *item;

		r = hvsim_kvp_enumerate(sim, pool, i, &res);
		if (r < 0) {
			json_object_put(array);
			return r;
		}
		if (res.status != VMU_S_OK)
			break;
		item = json_object_new_object();
		json_object_object_add(item, "key", json_object_new_string(res.key));
		json_object_object_add(item, "value", json_object_new_string(res.value));
		json_object_array_add(array, item);
	}
	*ret = array;
	return 0;
}

static void decode_ip(const uint8_t *m, struct hvsim_result *res)
{
	hvsim_host_decode(m + IP_ADAPTER, 128, res->adapter_id, sizeof(res->adapter_id));
	hvsim_host_decode(m + IP_ADDR, 1024, res->ip_addr, sizeof(res->ip_addr));
	hvsim_host_decode(m + IP_SUBNET, 1024, res->sub_net, sizeof(res->sub_net));
	hvsim_host_decode(m + IP_GATEWAY, 512, res->gate_way, sizeof(res->gate_way));
	hvsim_host_decode(m + IP_DNS, 1024, res->dns_addr, sizeof(res->dns_addr));
	res->addr_family = m[IP_FAMILY];
	res->dhcp_enabled = m[IP_DHCP];
}

int hvsim_kvp_get_ip_info(struct hvsim *sim, const char *adapter_id, uint8_t addr_family,
			  struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	uint8_t *m = msg_of(&p);
	int r;

	if (!adapter_id)
		return -EINVAL;
	m[0] = VMU_KVP_OP_GET_IP_INFO;
	r = put_string(m + IP_ADAPTER, 128, adapter_id);
	if (r < 0)
		return r;
	m[IP_FAMILY] = addr_family;
	r = kvp_transact(sim, &p, HOST_KVP_IP_MSG_SIZE, &res);
	if (r < 0)
		return r;
	if (res.status == VMU_S_OK)
		decode_ip(m, &res);
	*ret = res;
	return 0;
}

int hvsim_kvp_set_ip_info(struct hvsim *sim, const struct hvsim_ip_config *cfg,
			  struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	uint8_t *m = msg_of(&p);
	int r;

	if (!cfg || !cfg->adapter_id)
		return -EINVAL;
	m[0] = VMU_KVP_OP_SET_IP_INFO;
	m[IP_FAMILY] = cfg->addr_family;
	m[IP_DHCP] = cfg->dhcp_enabled;
	if ((r = put_string(m + IP_ADAPTER, 128, cfg->adapter_id)) < 0 ||
	    (r = put_string(m + IP_ADDR, 1024, cfg->ip_addr ? cfg->ip_addr : "")) < 0 ||
	    (r = put_string(m + IP_SUBNET, 1024, cfg->sub_net ? cfg->sub_net : "")) < 0 ||
	    (r = put_string(m + IP_GATEWAY, 512, cfg->gate_way ? cfg->gate_way : "")) < 0 ||
	    (r = put_string(m + IP_DNS, 1024, cfg->dns_addr ? cfg->dns_addr : "")) < 0)
		return r;
	r = kvp_transact(sim, &p, HOST_KVP_IP_MSG_SIZE, &res);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

int hvsim_vss_request(struct hvsim *sim, enum vmu_vss_op op, struct hvsim_result *ret)
{
	struct packet p = {0};
	struct hvsim_result res;
	int r;

	if ((unsigned)op > 0xff)
		return -EINVAL;
	msg_of(&p)[0] = (uint8_t)op;
	r = header(sim, VMU_SERVICE_VSS, &p, VMU_VSS_MSG_SIZE);
	if (r >= 0)
		r = hvsim_host_transact(sim, VMU_SERVICE_VSS, p.buf,
					VMU_ICMSG_HDR_SIZE + VMU_VSS_MSG_SIZE, sizeof(p.buf), &res);
	if (r < 0)
		return r;
	res.vss_flags = vmu_le32(msg_of(&p) + 8);
	*ret = res;
	return 0;
}

static int fcopy_transact(struct hvsim *sim, struct packet *p, size_t msg_len,
			  struct hvsim_result *ret)
{
	int r = header(sim, VMU_SERVICE_FCOPY, p, msg_len);

	if (r < 0)
		return r;
	return hvsim_host_transact(sim, VMU_SERVICE_FCOPY, p->buf, VMU_ICMSG_HDR_SIZE + msg_len,
				   sizeof(p->buf), ret);
}

/* Offsets in the host's START (docs/protocol.md §5). */
#define F_FILE_NAME 36
#define F_PATH_NAME 556
#define F_FLAGS 1076
#define F_FILE_SIZE 1080

/* Sends a START whose names are already in place. */
static int fcopy_start_send(struct hvsim *sim, struct packet *p, uint32_t flags, uint64_t file_size,
			    struct hvsim_result *ret)
{
	uint8_t *m = msg_of(p);

	vmu_put_le32(m, VMU_FCOPY_OP_START);
	vmu_put_le32(m + F_FLAGS, flags);
	vmu_put_le64(m + F_FILE_SIZE, file_size);
	return fcopy_transact(sim, p, VMU_FCOPY_START_SIZE, ret);
}

int hvsim_fcopy_start(struct hvsim *sim, const char *path_name, const char *file_name,
		      uint32_t flags, uint64_t file_size, struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);
	int r;

	if (!path_name || !file_name)
		return -EINVAL;
	if ((r = put_string(m + F_FILE_NAME, VMU_FCOPY_MAX_PATH, file_name)) < 0 ||
	    (r = put_string(m + F_PATH_NAME, VMU_FCOPY_MAX_PATH, path_name)) < 0)
		return r;
	return fcopy_start_send(sim, &p, flags, file_size, ret);
}

int hvsim_fcopy_start_utf16(struct hvsim *sim, const uint16_t *path_name, size_t path_units,
			    const uint16_t *file_name, size_t name_units, uint32_t flags,
			    uint64_t file_size, struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);

	if ((!path_name && path_units) || (!file_name && name_units))
		return -EINVAL;
	if (path_units >= VMU_FCOPY_MAX_PATH || name_units >= VMU_FCOPY_MAX_PATH)
		return -ENOBUFS;
	put_units(m + F_FILE_NAME, file_name, name_units);
	put_units(m + F_PATH_NAME, path_name, path_units);
	return fcopy_start_send(sim, &p, flags, file_size, ret);
}

int hvsim_fcopy_write(struct hvsim *sim, uint64_t offset, const void *data, uint32_t size,
		      struct hvsim_result *ret)
{
	struct packet p = {0};
	uint8_t *m = msg_of(&p);

	if (size > VMU_FCOPY_DATA_FRAGMENT || (!data && size))
		return -EINVAL;
	vmu_put_le32(m, VMU_FCOPY_OP_WRITE);
	vmu_put_le64(m + 40, offset);
	vmu_put_le32(m + 48, size);
	if (size)
		memcpy(m + 52, data, size);
	return fcopy_transact(sim, &p, VMU_FCOPY_WRITE_SIZE, ret);
}

static int fcopy_simple(struct hvsim *sim, enum vmu_fcopy_op op, struct hvsim_result *ret)
{
	struct packet p = {0};

	vmu_put_le32(msg_of(&p), op);
	return fcopy_transact(sim, &p, VMU_FCOPY_HDR_SIZE, ret);
}

int hvsim_fcopy_complete(struct hvsim *sim, struct hvsim_result *ret)
{
	return fcopy_simple(sim, VMU_FCOPY_OP_COMPLETE, ret);
}

int hvsim_fcopy_cancel(struct hvsim *sim, struct hvsim_result *ret)
{
	return fcopy_simple(sim, VMU_FCOPY_OP_CANCEL, ret);
}

static int fcopy_send_file(struct hvsim *sim, int fd, struct hvsim_result *res, uint64_t *latency)
{
	uint8_t chunk[VMU_FCOPY_DATA_FRAGMENT];
	uint64_t offset = 0;
	ssize_t n;
	int r;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		r = hvsim_fcopy_write(sim, offset, chunk, (uint32_t)n, res);
		if (r < 0)
			return r;
		*latency += res->latency_usec;
		if (res->status != VMU_S_OK)
			return 0;
		offset += (uint64_t)n;
	}
}

int hvsim_fcopy_file(struct hvsim *sim, const char *local_path, const char *path_name,
		     const char *file_name, uint32_t flags, struct hvsim_result *ret)
{
	struct hvsim_result res, cancel;
	uint64_t latency = 0;
	struct stat st;
	int fd, r;

	fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = hvsim_fcopy_start(sim, path_name, file_name, flags, (uint64_t)st.st_size, &res);
	if (r >= 0 && res.status == VMU_S_OK) {
		latency += res.latency_usec;
		r = fcopy_send_file(sim, fd, &res, &latency);
		if (r >= 0 && res.status == VMU_S_OK)
			r = hvsim_fcopy_complete(sim, &res);
		else if (r >= 0)
			(void)hvsim_fcopy_cancel(sim, &cancel);
	}
	close(fd);
	if (r < 0)
		return r;
	res.latency_usec += latency;
	*ret = res;
	return 0;
}

int hvsim_hibernate(struct hvsim *sim, enum vmu_service service)
{
	struct hvsim_service *svc;

	if ((unsigned)service >= _VMU_SERVICE_MAX)
		return -EINVAL;
	svc = &sim->services[service];
	if (!svc->enabled)
		return -ENOTCONN;
	svc->ops->pre_suspend(svc);
	hvsim_host_cancel_inflight(svc);
	return 0;
}

int hvsim_send_raw(struct hvsim *sim, enum vmu_service service, const void *msg, size_t len,
		   struct hvsim_result *ret)
{
	struct packet p = {0};
	int r;

	if ((service != VMU_SERVICE_KVP && service != VMU_SERVICE_FCOPY) || (!msg && len) || !ret)
		return -EINVAL;
	if (len > HVSIM_RAW_MAX)
		return -ENOBUFS;
	if (len)
		memcpy(msg_of(&p), msg, len);
	r = header(sim, service, &p, len);
	if (r < 0)
		return r;
	return hvsim_host_transact(sim, service, p.buf, VMU_ICMSG_HDR_SIZE + len, sizeof(p.buf),
				   ret);
}
