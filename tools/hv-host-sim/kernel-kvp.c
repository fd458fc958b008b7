/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVP kernel driver (drivers/hv/hv_kvp.c), as facts, not code:
 *
 * - Until a daemon registered (state < READY) the driver does not read the channel at all:
 *   host requests, and the host's NEGOTIATE, wait in the ring.
 * - Registration: a write of >= 7432 bytes with operation 100 (REGISTER1) or 4 (legacy
 *   REGISTER) while state < READY; the kernel answers with a 7432-byte message carrying the
 *   same operation and version "3.1", and the service is READY once the daemon read it.
 * - A host request is translated into the daemon's UTF-8 layout (kvp_send_key) with the
 *   kernel's quirks: key_size passed as the UTF-16 input length, GET value_size 0, SET
 *   value_type not copied, REG_U32/REG_U64 rendered as decimal text.
 * - The daemon's reply: error (bytes 0..3) is the host status (legacy daemons: an empty
 *   enumerate key means S_CONT); on success ENUMERATE and GET copy key @20 / value @532 —
 *   the enumerate layout even for GET — back as UTF-16 limited to 254 / 1022 units.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

#define KVP_OP_REGISTER 4
#define KVP_OP_REGISTER1 100
#define KVP_DRV_VERSION "3.1"
#define REG_SZ 1
#define REG_U32 4
#define REG_U64 8

/* Offsets inside struct hv_kvp_msg (docs/protocol.md §3.1). */
#define OFF_DATA_TYPE 4
#define OFF_DATA_KEY_SIZE 8
#define OFF_DATA_VALUE_SIZE 12
#define OFF_DATA_KEY 16
#define OFF_DATA_VALUE 528
#define OFF_DEL_KEY_SIZE 4
#define OFF_DEL_KEY 8
#define OFF_ENUM_INDEX 4
#define OFF_ENUM_TYPE 8
#define OFF_ENUM_KEY_SIZE 12
#define OFF_ENUM_VALUE_SIZE 16
#define OFF_ENUM_KEY 20
#define OFF_ENUM_VALUE 532

/* struct hv_kvp_ipaddr_value: offsets inside it and UTF-16 sizes in units. */
struct ip_field {
	size_t off, units;
};
static const struct ip_field ip_adapter = {0, 128}, ip_addr = {258, 1024}, ip_subnet = {2306, 1024},
			     ip_gateway = {4354, 512}, ip_dns = {5378, 1024};
#define IP_FAMILY 256
#define IP_DHCP 257
#define HOST_IP_BASE 2   /* hv_kvp_ip_msg: after operation and pool */
#define DAEMON_IP_BASE 4 /* hv_kvp_msg: after kvp_hdr */

static uint8_t *host_msg(struct hvsim_service *svc)
{
	return svc->recv_buffer + VMU_ICMSG_HDR_SIZE;
}

/* Units available from p to the end of the kernel's receive buffer. */
static size_t units_left(struct hvsim_service *svc, const uint8_t *p)
{
	return (size_t)(svc->recv_buffer + HVSIM_RECV_BUFFER_SIZE - p) / 2;
}

static int convert_key(struct hvsim_service *svc, const uint8_t *src, uint32_t key_size,
		       uint8_t *dst)
{
	size_t units = key_size < units_left(svc, src) ? key_size : units_left(svc, src);
	int n = hvsim_kernel_u16_to_u8(src, units, dst, VMU_KVP_MAX_KEY_SIZE - 1);

	return (n < 0 ? 0 : n) + 1;
}

static void ib_ip_string(const uint8_t *in, uint8_t *out, const struct ip_field *f)
{
	hvsim_kernel_u16_to_u8(in + HOST_IP_BASE + f->off, f->units, out + DAEMON_IP_BASE + f->off,
			       f->units);
}

/* process_ib_ipinfo */
static void ib_ipinfo(const uint8_t *in, uint8_t *out, bool set)
{
	if (set) {
		ib_ip_string(in, out, &ip_addr);
		ib_ip_string(in, out, &ip_subnet);
		ib_ip_string(in, out, &ip_gateway);
		ib_ip_string(in, out, &ip_dns);
		out[DAEMON_IP_BASE + IP_DHCP] = in[HOST_IP_BASE + IP_DHCP];
	}
	ib_ip_string(in, out, &ip_adapter);
	out[DAEMON_IP_BASE + IP_FAMILY] = in[HOST_IP_BASE + IP_FAMILY];
}

static void translate_set_value(const uint8_t *in, uint8_t *out)
{
	char text[32];
	uint32_t size = 0;
	int n;

	switch (vmu_le32(in + OFF_DATA_TYPE)) {
	case REG_SZ:
		n = hvsim_kernel_u16_to_u8(in + OFF_DATA_VALUE, vmu_le32(in + OFF_DATA_VALUE_SIZE),
					   out + OFF_DATA_VALUE, VMU_KVP_MAX_VALUE_SIZE - 1);
		size = (uint32_t)(n < 0 ? 0 : n) + 1;
		break;
	case REG_U32:
		size = (uint32_t)snprintf(text, sizeof(text), "%u", vmu_le32(in + OFF_DATA_VALUE));
		memcpy(out + OFF_DATA_VALUE, text, size);
		size++;
		break;
	case REG_U64:
		size = (uint32_t)snprintf(text, sizeof(text), "%llu",
					  (unsigned long long)vmu_le64(in + OFF_DATA_VALUE));
		memcpy(out + OFF_DATA_VALUE, text, size);
		size++;
		break;
	}
	vmu_put_le32(out + OFF_DATA_VALUE_SIZE, size);
}

static void translate_request(struct hvsim_service *svc, const uint8_t *in, uint8_t *out)
{
	out[0] = in[0];
	out[1] = in[1];
	switch (in[0]) {
	case VMU_KVP_OP_SET_IP_INFO:
		ib_ipinfo(in, out, true);
		break;
	case VMU_KVP_OP_GET_IP_INFO:
		ib_ipinfo(in, out, false);
		break;
	case VMU_KVP_OP_SET:
		translate_set_value(in, out);
		/* the key as for GET */
		__attribute__((fallthrough));
	case VMU_KVP_OP_GET:
		vmu_put_le32(out + OFF_DATA_KEY_SIZE,
			     convert_key(svc, in + OFF_DATA_KEY, vmu_le32(in + OFF_DATA_KEY_SIZE),
					 out + OFF_DATA_KEY));
		break;
	case VMU_KVP_OP_DELETE:
		vmu_put_le32(out + OFF_DEL_KEY_SIZE,
			     convert_key(svc, in + OFF_DEL_KEY, vmu_le32(in + OFF_DEL_KEY_SIZE),
					 out + OFF_DEL_KEY));
		break;
	case VMU_KVP_OP_ENUMERATE:
		vmu_put_le32(out + OFF_ENUM_INDEX, vmu_le32(in + OFF_ENUM_INDEX));
		break;
	}
}

/* kvp_send_key */
static void send_key(struct hvsim_service *svc)
{
	uint8_t out[VMU_KVP_MSG_SIZE] = {0};

	translate_request(svc, host_msg(svc), out);
	svc->state = HVSIM_KSTATE_USERSPACE_REQ;
	if (hvsim_transport_send(&svc->transport, out, sizeof(out), NULL) < 0 &&
	    hvsim_kernel_cancel_timeout(svc)) {
		hvsim_kernel_respond(svc, VMU_E_FAIL);
		svc->state = HVSIM_KSTATE_READY;
	}
}

static int ob_ip_string(const uint8_t *in, size_t in_len, uint8_t *out, const struct ip_field *f)
{
	size_t off = DAEMON_IP_BASE + f->off;

	return hvsim_kernel_u8_to_u16(in + off, in_len - off, out + HOST_IP_BASE + f->off,
				      f->units);
}

/* process_ob_ipinfo */
static int ob_ipinfo(const uint8_t *in, size_t in_len, uint8_t *out)
{
	static const struct ip_field *const order[] = {&ip_addr, &ip_subnet, &ip_gateway, &ip_dns,
						       &ip_adapter};

	for (size_t i = 0; i < VMU_ELEMENTSOF(order); i++)
		if (ob_ip_string(in, in_len, out, order[i]) < 0)
			return -EINVAL;
	out[HOST_IP_BASE + IP_DHCP] = in[DAEMON_IP_BASE + IP_DHCP];
	out[HOST_IP_BASE + IP_FAMILY] = in[DAEMON_IP_BASE + IP_FAMILY];
	return 0;
}

/* The copy_value part of kvp_respond_to_host: data points at the host's value_type. */
static int copy_value(const uint8_t *in, size_t in_len, uint8_t *type, uint8_t *value_size,
		      uint8_t *value)
{
	int n = hvsim_kernel_u8_to_u16(in + OFF_ENUM_VALUE, in_len - OFF_ENUM_VALUE, value,
				       VMU_KVP_HOST_MAX_VALUE_UNITS);

	vmu_put_le32(value_size, (uint32_t)(2 * ((n < 0 ? -EINVAL : n) + 1)));
	vmu_put_le32(type, REG_SZ);
	return n;
}

/* kvp_respond_to_host with error == 0 */
static void respond_success(struct hvsim_service *svc, const uint8_t *in, size_t in_len)
{
	uint8_t *out = host_msg(svc);
	uint32_t status = VMU_S_OK;
	int kn = 0, vn;

	switch (out[0]) {
	case VMU_KVP_OP_GET_IP_INFO:
		if (ob_ipinfo(in, in_len, out) < 0)
			status = VMU_E_FAIL;
		break;
	case VMU_KVP_OP_SET_IP_INFO:
	case VMU_KVP_OP_SET:
	case VMU_KVP_OP_DELETE:
		break;
	case VMU_KVP_OP_GET:
		vn = copy_value(in, in_len, out + OFF_DATA_TYPE, out + OFF_DATA_VALUE_SIZE,
				out + OFF_DATA_VALUE);
		if (vn < 0)
			status = VMU_E_FAIL;
		break;
	default:
		kn = hvsim_kernel_u8_to_u16(in + OFF_ENUM_KEY, in_len - OFF_ENUM_KEY,
					    out + OFF_ENUM_KEY, VMU_KVP_HOST_MAX_KEY_UNITS);
		vmu_put_le32(out + OFF_ENUM_KEY_SIZE,
			     (uint32_t)(2 * ((kn < 0 ? -EINVAL : kn) + 1)));
		vn = copy_value(in, in_len, out + OFF_ENUM_TYPE, out + OFF_ENUM_VALUE_SIZE,
				out + OFF_ENUM_VALUE);
		if (kn < 0 || vn < 0)
			status = VMU_E_FAIL;
		break;
	}
	hvsim_kernel_respond(svc, status);
}

static bool kvp_channel_callback(struct hvsim_service *svc)
{
	uint16_t type;

	/* No daemon yet: the kernel does not read the channel (negotiation deferred). */
	if (svc->state != HVSIM_KSTATE_READY || !hvsim_kernel_recvpacket(svc))
		return false;
	if (svc->recv_len < VMU_ICMSG_HDR_SIZE)
		return true;
	type = vmu_le16(svc->recv_buffer + 12);
	if (type == VMU_ICMSGTYPE_NEGOTIATE) {
		hvsim_kernel_negotiate(svc);
		return true;
	}
	if (type != VMU_ICMSGTYPE_KVPEXCHANGE)
		return true;
	svc->state = HVSIM_KSTATE_HOSTMSG_RECEIVED;
	hvsim_kernel_arm_timeout(svc, svc->timeout_usec);
	send_key(svc);
	return true;
}

static void kvp_register_done(struct hvsim_service *svc)
{
	snprintf(svc->kernel_version, sizeof(svc->kernel_version), "%s", KVP_DRV_VERSION);
	hvsim_kernel_register_done(svc);
}

static int kvp_handshake(struct hvsim_service *svc, uint8_t op)
{
	uint8_t reply[VMU_KVP_MSG_SIZE] = {0};

	if (op != KVP_OP_REGISTER && op != KVP_OP_REGISTER1)
		return -EINVAL;
	svc->dm_reg_value = op;
	reply[0] = op;
	memcpy(reply + 4, KVP_DRV_VERSION, sizeof(KVP_DRV_VERSION));
	return hvsim_transport_send(&svc->transport, reply, sizeof(reply), kvp_register_done);
}

static int kvp_on_msg(struct hvsim_service *svc, const uint8_t *msg, size_t len)
{
	uint32_t error;

	if (len < VMU_KVP_MSG_SIZE)
		return -EINVAL;
	if (svc->state < HVSIM_KSTATE_READY)
		return kvp_handshake(svc, msg[0]);
	if (svc->state < HVSIM_KSTATE_USERSPACE_REQ)
		return -EINVAL;
	svc->state = HVSIM_KSTATE_USERSPACE_RECV;
	if (svc->dm_reg_value == KVP_OP_REGISTER)
		error = msg[OFF_ENUM_KEY] == 0 ? VMU_S_CONT : VMU_S_OK;
	else
		error = vmu_le32(msg);
	if (hvsim_kernel_cancel_timeout(svc)) {
		hvsim_kernel_daemon_answered(svc);
		if (error)
			hvsim_kernel_respond(svc, error);
		else
			respond_success(svc, msg, len < 16384 ? len : 16384);
		hvsim_kernel_poll(svc);
	}
	return 0;
}

static void kvp_pre_suspend(struct hvsim_service *svc)
{
	/* hv_kvp_pre_suspend: no message to the daemon; pending work cancelled, READY. */
	hvsim_kernel_cancel_timeout(svc);
	svc->state = HVSIM_KSTATE_READY;
}

const struct hvsim_service_ops hvsim_kvp_ops = {
    .channel_callback = kvp_channel_callback,
    .on_msg = kvp_on_msg,
    .on_reset = hvsim_kernel_reset,
    .pre_suspend = kvp_pre_suspend,
};
