/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VSS messages (struct hv_vss_msg, 12 bytes): request validation and the reply.
 *
 * The reply has one subtlety (docs/protocol.md §4, §9.13). The kernel (hv_snapshot.c, vss_on_msg)
 * looks at byte 0 of the reply, which is both vss_hdr.operation and the low byte of the
 * int `error`:
 *   - byte 0 == VSS_OP_HOT_BACKUP (2): it sets VSS_HBU_NO_AUTO_RECOVERY in the host's
 *     check-feature answer, then forwards the whole `error` int as the host status;
 *   - byte 0 == VSS_OP_REGISTER (128) / VSS_OP_REGISTER1 (129): it treats the write as a
 *     registration, not as a reply.
 * So a successful HOT_BACKUP reply carries error = 0x00000002: byte 0 reads as HOT_BACKUP,
 * and as an HRESULT 2 is a success code (severity bit clear), which the host accepts. The
 * reference daemon writes 0 and so never gets NO_AUTO_RECOVERY. A failed HOT_BACKUP
 * carries its failure status unchanged. A status whose low byte is 128 or 129 cannot be
 * delivered at all and is refused with -EINVAL.
 */
#include "vmbus-user.h"

#include <linux/hyperv.h>

#include "vmu-internal.h"

VMU_ASSERT_SIZE(struct hv_vss_msg, 12);
VMU_ASSERT_SIZE(struct hv_vss_msg, VMU_VSS_MSG_SIZE);
VMU_ASSERT_SIZE(struct hv_vss_hdr, 8);
VMU_ASSERT_OFFSET(struct hv_vss_msg, vss_cf.flags, 8);
VMU_ASSERT_OFFSET(struct hv_vss_msg, dm_info.flags, 8);
_Static_assert((int)VMU_VSS_OP_CREATE == (int)VSS_OP_CREATE &&
		   (int)VMU_VSS_OP_DELETE == (int)VSS_OP_DELETE &&
		   (int)VMU_VSS_OP_HOT_BACKUP == (int)VSS_OP_HOT_BACKUP &&
		   (int)VMU_VSS_OP_GET_DM_INFO == (int)VSS_OP_GET_DM_INFO &&
		   (int)VMU_VSS_OP_BU_COMPLETE == (int)VSS_OP_BU_COMPLETE &&
		   (int)VMU_VSS_OP_FREEZE == (int)VSS_OP_FREEZE &&
		   (int)VMU_VSS_OP_THAW == (int)VSS_OP_THAW &&
		   (int)VMU_VSS_OP_AUTO_RECOVER == (int)VSS_OP_AUTO_RECOVER &&
		   (int)_VMU_VSS_OP_MAX == (int)VSS_OP_COUNT,
	       "VSS ops");
_Static_assert(VMU_VSS_HBU_NO_AUTO_RECOVERY == VSS_HBU_NO_AUTO_RECOVERY, "NO_AUTO_RECOVERY");

/* Severity bit of an HRESULT. */
#define HRESULT_FAILED(s) (((s)&0x80000000u) != 0)

VMU_EXPORT int vmu_vss_request_parse(const void *buf, size_t len, struct vmu_vss_request *ret)
{
	const uint8_t *b = buf;

	if (!buf || len != VMU_VSS_MSG_SIZE)
		return -EBADMSG;
	if (b[0] >= _VMU_VSS_OP_MAX)
		return -ERANGE;
	if (ret)
		*ret = (struct vmu_vss_request){.op = (enum vmu_vss_op)b[0]};
	return 0;
}

VMU_EXPORT int vmu_vss_reply(void *buf, size_t len, enum vmu_vss_op op, uint32_t status)
{
	uint32_t error = status;

	if ((unsigned)op >= _VMU_VSS_OP_MAX)
		return -EINVAL;
	if ((status & 0xff) == VSS_OP_REGISTER || (status & 0xff) == VSS_OP_REGISTER1)
		return -EINVAL;
	if (!buf || len < VMU_VSS_MSG_SIZE)
		return -ENOBUFS;
	if (op == VMU_VSS_OP_HOT_BACKUP && !HRESULT_FAILED(status))
		error = VSS_OP_HOT_BACKUP;
	memset(buf, 0, VMU_VSS_MSG_SIZE);
	vmu_put_le32(buf, error);
	return 0;
}
