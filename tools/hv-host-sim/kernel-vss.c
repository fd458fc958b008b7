/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VSS kernel driver (drivers/hv/hv_snapshot.c), as facts:
 *
 * - The channel is read whenever no transaction is outstanding (state <= READY), daemon or
 *   not, so host negotiation needs no daemon.
 * - FREEZE, THAW and HOT_BACKUP go to the daemon as a zeroed 12-byte message holding only
 *   the op byte (HV_E_FAIL at once while state < READY); the deadline is 30 s, FREEZE 900 s.
 *   GET_DM_INFO is answered by the kernel (dm_info.flags = 0), every other op S_OK.
 * - Daemon writes must be exactly 12 bytes. REGISTER1 (129) while state <= READY is
 *   answered with a 4-byte 129 (READY once read); legacy REGISTER (128) is accepted
 *   without reply and does not make the service READY. A reply while a request is
 *   outstanding: its int error is the host status, and if its byte 0 is HOT_BACKUP the
 *   kernel sets vss_cf.flags = VSS_HBU_NO_AUTO_RECOVERY in the host's message.
 * - Hibernation pushes a fake THAW and forces READY, so the daemon's reply gets EINVAL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

#define VSS_OP_REGISTER 128
#define VSS_OP_REGISTER1 129
#define OFF_FLAGS 8

static void vss_send_op(struct hvsim_service *svc, uint8_t op)
{
	uint8_t msg[VMU_VSS_MSG_SIZE] = {op};

	svc->state = HVSIM_KSTATE_USERSPACE_REQ;
	hvsim_kernel_arm_timeout(svc, op == VMU_VSS_OP_FREEZE ? svc->sim->freeze_timeout_usec
							      : svc->timeout_usec);
	if (hvsim_transport_send(&svc->transport, msg, sizeof(msg), NULL) < 0 &&
	    hvsim_kernel_cancel_timeout(svc)) {
		hvsim_kernel_respond(svc, VMU_E_FAIL);
		svc->state = HVSIM_KSTATE_READY;
	}
}

/* vss_handle_request */
static void vss_handle_request(struct hvsim_service *svc)
{
	uint8_t *msg = svc->recv_buffer + VMU_ICMSG_HDR_SIZE;
	uint8_t op = msg[0];

	switch (op) {
	case VMU_VSS_OP_THAW:
	case VMU_VSS_OP_FREEZE:
	case VMU_VSS_OP_HOT_BACKUP:
		if (svc->state < HVSIM_KSTATE_READY) {
			hvsim_kernel_respond(svc, VMU_E_FAIL);
			return;
		}
		svc->state = HVSIM_KSTATE_HOSTMSG_RECEIVED;
		vss_send_op(svc, op);
		return;
	case VMU_VSS_OP_GET_DM_INFO:
		vmu_put_le32(msg + OFF_FLAGS, 0);
		break;
	default:
		break;
	}
	hvsim_kernel_respond(svc, VMU_S_OK);
	hvsim_kernel_poll(svc);
}

static bool vss_channel_callback(struct hvsim_service *svc)
{
	uint16_t type;

	if (svc->state > HVSIM_KSTATE_READY || !hvsim_kernel_recvpacket(svc))
		return false;
	if (svc->recv_len < VMU_ICMSG_HDR_SIZE)
		return true;
	type = vmu_le16(svc->recv_buffer + 12);
	if (type == VMU_ICMSGTYPE_NEGOTIATE)
		hvsim_kernel_negotiate(svc);
	else if (type == VMU_ICMSGTYPE_VSS &&
		 svc->recv_len >= VMU_ICMSG_HDR_SIZE + VMU_VSS_MSG_SIZE)
		vss_handle_request(svc);
	return true;
}

static void vss_register_done(struct hvsim_service *svc)
{
	snprintf(svc->kernel_version, sizeof(svc->kernel_version), "%d", VSS_OP_REGISTER1);
	hvsim_kernel_register_done(svc);
}

static int vss_handshake(struct hvsim_service *svc, uint8_t op)
{
	uint8_t version[4];

	if (op == VSS_OP_REGISTER) {
		svc->dm_reg_value = op; /* the daemon expects no reply */
		return 0;
	}
	vmu_put_le32(version, VSS_OP_REGISTER1);
	if (hvsim_transport_send(&svc->transport, version, sizeof(version), vss_register_done) < 0)
		return -EFAULT;
	svc->dm_reg_value = op;
	return 0;
}

static int vss_on_msg(struct hvsim_service *svc, const uint8_t *msg, size_t len)
{
	if (len != VMU_VSS_MSG_SIZE)
		return -EINVAL;
	if (msg[0] == VSS_OP_REGISTER || msg[0] == VSS_OP_REGISTER1) {
		if (svc->state > HVSIM_KSTATE_READY)
			return -EINVAL;
		return vss_handshake(svc, msg[0]);
	}
	if (svc->state != HVSIM_KSTATE_USERSPACE_REQ)
		return -EINVAL;
	svc->state = HVSIM_KSTATE_USERSPACE_RECV;
	if (msg[0] == VMU_VSS_OP_HOT_BACKUP)
		vmu_put_le32(svc->recv_buffer + VMU_ICMSG_HDR_SIZE + OFF_FLAGS,
			     VMU_VSS_HBU_NO_AUTO_RECOVERY);
	hvsim_kernel_finish(svc, vmu_le32(msg));
	return 0;
}

static void vss_pre_suspend(struct hvsim_service *svc)
{
	uint8_t thaw[VMU_VSS_MSG_SIZE] = {VMU_VSS_OP_THAW};

	hvsim_kernel_cancel_timeout(svc);
	(void)hvsim_transport_send(&svc->transport, thaw, sizeof(thaw), NULL);
	svc->state = HVSIM_KSTATE_READY;
}

const struct hvsim_service_ops hvsim_vss_ops = {
    .channel_callback = vss_channel_callback,
    .on_msg = vss_on_msg,
    .on_reset = hvsim_kernel_reset,
    .pre_suspend = vss_pre_suspend,
};
