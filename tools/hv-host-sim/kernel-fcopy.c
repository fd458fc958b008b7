/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The legacy fcopy kernel driver (drivers/hv/hv_fcopy.c, kernels <= 6.9), as facts:
 *
 * - The channel is read whenever state <= READY; fcopy requests before the daemon is READY
 *   are answered HV_E_FAIL.
 * - START is rebuilt for the daemon: UTF-16 names converted to UTF-8 (at most 259 bytes
 *   each) in the file_name/path_name arrays, flags and size copied, 1088 bytes. WRITE is
 *   forwarded as 6196 bytes from the receive buffer whatever the packet size; COMPLETE,
 *   CANCEL (and anything else) from the fcopy header with the length of the whole VMBus
 *   payload, i.e. 28 stale bytes past the end of the packet.
 * - Daemon writes must be exactly 4 bytes. In DEVICE_INIT, value 1 is answered with a
 *   4-byte 1 (READY once read) and 0 is accepted without reply; otherwise the int is the
 *   status of the outstanding request (EINVAL if none).
 * - Hibernation pushes a fake 36-byte CANCEL_FCOPY header and forces READY.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

#define FCOPY_VERSION_0 0
#define FCOPY_VERSION_1 1
#define W_MAX_PATH 260
#define OFF_FILE_NAME 36
#define OFF_PATH_NAME 556
#define OFF_COPY_FLAGS 1076
#define OFF_FILE_SIZE 1080

static void build_start(const uint8_t *in, uint8_t *out)
{
	memcpy(out, in, 4); /* hdr.operation */
	hvsim_kernel_u16_to_u8(in + OFF_FILE_NAME, W_MAX_PATH, out + OFF_FILE_NAME, W_MAX_PATH - 1);
	hvsim_kernel_u16_to_u8(in + OFF_PATH_NAME, W_MAX_PATH, out + OFF_PATH_NAME, W_MAX_PATH - 1);
	memcpy(out + OFF_COPY_FLAGS, in + OFF_COPY_FLAGS, 4);
	memcpy(out + OFF_FILE_SIZE, in + OFF_FILE_SIZE, 8);
}

/* fcopy_send_data */
static void fcopy_send_data(struct hvsim_service *svc)
{
	uint8_t *in = svc->recv_buffer + VMU_ICMSG_HDR_SIZE;
	uint8_t start[VMU_FCOPY_START_SIZE] = {0};
	const uint8_t *src = in;
	size_t len;

	switch (vmu_le32(in)) {
	case VMU_FCOPY_OP_START:
		build_start(in, start);
		src = start;
		len = sizeof(start);
		break;
	case VMU_FCOPY_OP_WRITE:
		len = VMU_FCOPY_WRITE_SIZE;
		break;
	default:
		len = svc->recv_len;
		break;
	}
	svc->state = HVSIM_KSTATE_USERSPACE_REQ;
	if (hvsim_transport_send(&svc->transport, src, len, NULL) < 0 &&
	    hvsim_kernel_cancel_timeout(svc)) {
		hvsim_kernel_respond(svc, VMU_E_FAIL);
		svc->state = HVSIM_KSTATE_READY;
	}
}

static bool fcopy_channel_callback(struct hvsim_service *svc)
{
	uint16_t type;

	if (svc->state > HVSIM_KSTATE_READY || !hvsim_kernel_recvpacket(svc))
		return false;
	if (svc->recv_len < VMU_ICMSG_HDR_SIZE)
		return true;
	type = vmu_le16(svc->recv_buffer + 12);
	if (type == VMU_ICMSGTYPE_NEGOTIATE) {
		hvsim_kernel_negotiate(svc);
		return true;
	}
	if (type != VMU_ICMSGTYPE_FCOPY)
		return true;
	if (svc->state < HVSIM_KSTATE_READY) {
		hvsim_kernel_respond(svc, VMU_E_FAIL);
		return true;
	}
	svc->state = HVSIM_KSTATE_HOSTMSG_RECEIVED;
	hvsim_kernel_arm_timeout(svc, svc->timeout_usec);
	fcopy_send_data(svc);
	return true;
}

static void fcopy_register_done(struct hvsim_service *svc)
{
	snprintf(svc->kernel_version, sizeof(svc->kernel_version), "%d", FCOPY_VERSION_1);
	hvsim_kernel_register_done(svc);
}

static int fcopy_handshake(struct hvsim_service *svc, uint32_t version)
{
	uint8_t reply[4];

	switch (version) {
	case FCOPY_VERSION_0:
		svc->dm_reg_value = (int)version; /* the daemon expects no reply */
		return 0;
	case FCOPY_VERSION_1:
		vmu_put_le32(reply, FCOPY_VERSION_1);
		if (hvsim_transport_send(&svc->transport, reply, sizeof(reply),
					 fcopy_register_done) < 0)
			return -EFAULT;
		svc->dm_reg_value = (int)version;
		return 0;
	default:
		return -EINVAL;
	}
}

static int fcopy_on_msg(struct hvsim_service *svc, const uint8_t *msg, size_t len)
{
	if (len != 4)
		return -EINVAL;
	if (svc->state == HVSIM_KSTATE_DEVICE_INIT)
		return fcopy_handshake(svc, vmu_le32(msg));
	if (svc->state != HVSIM_KSTATE_USERSPACE_REQ)
		return -EINVAL;
	if (hvsim_kernel_cancel_timeout(svc)) {
		svc->state = HVSIM_KSTATE_USERSPACE_RECV;
		hvsim_kernel_daemon_answered(svc);
		hvsim_kernel_respond(svc, vmu_le32(msg));
		hvsim_kernel_poll(svc);
	}
	return 0;
}

static void fcopy_pre_suspend(struct hvsim_service *svc)
{
	uint8_t cancel[VMU_FCOPY_HDR_SIZE] = {0};

	vmu_put_le32(cancel, VMU_FCOPY_OP_CANCEL);
	hvsim_kernel_cancel_timeout(svc);
	(void)hvsim_transport_send(&svc->transport, cancel, sizeof(cancel), NULL);
	svc->state = HVSIM_KSTATE_READY;
}

const struct hvsim_service_ops hvsim_fcopy_ops = {
    .channel_callback = fcopy_channel_callback,
    .on_msg = fcopy_on_msg,
    .on_reset = hvsim_kernel_reset,
    .pre_suspend = fcopy_pre_suspend,
};
