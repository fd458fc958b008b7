/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IC message framing (docs/protocol.md §1.2): the 28-byte vmbuspipe_hdr + icmsg_hdr in front of
 * every util-service payload, and version negotiation.
 *
 * The kernel keeps these headers private, so the layout below is our own packed mirror,
 * asserted against the spec table. All accesses go through vmu_le*() at the asserted
 * offsets, so buffers may be unaligned.
 *
 * vmu_ic_negotiate() is the guest side exactly as the kernel's vmbus_prep_negotiate_resp:
 * it edits the caller's buffer in place, including the kernel's odd failure layout (counts
 * 0/0 with entries [0]/[1] overwritten: with the host's counts on an early failure, with the
 * chosen framework and the host's service count when only the service search failed). One
 * deliberate difference: the kernel writes entries [0]/[1] even when they lie past the end
 * of a short packet (into the rest of its receive buffer); we only write what lies inside
 * len.
 */
#include "vmbus-user.h"

#include <linux/hyperv.h>

#include "vmu-internal.h"

struct ic_header {
	/* struct vmbuspipe_hdr */
	uint32_t pipe_flags;
	uint32_t pipe_msgsize;
	/* struct icmsg_hdr */
	uint16_t icverframe_major;
	uint16_t icverframe_minor;
	uint16_t icmsgtype;
	uint16_t icvermsg_major;
	uint16_t icvermsg_minor;
	uint16_t icmsgsize;
	uint32_t status;
	uint8_t ictransaction_id;
	uint8_t icflags;
	uint8_t reserved[2];
} __attribute__((packed));

VMU_ASSERT_SIZE(struct ic_header, VMU_ICMSG_HDR_SIZE);
VMU_ASSERT_OFFSET(struct ic_header, pipe_msgsize, 4);
VMU_ASSERT_OFFSET(struct ic_header, icverframe_major, 8);
VMU_ASSERT_OFFSET(struct ic_header, icverframe_minor, 10);
VMU_ASSERT_OFFSET(struct ic_header, icmsgtype, 12);
VMU_ASSERT_OFFSET(struct ic_header, icvermsg_major, 14);
VMU_ASSERT_OFFSET(struct ic_header, icvermsg_minor, 16);
VMU_ASSERT_OFFSET(struct ic_header, icmsgsize, 18);
VMU_ASSERT_OFFSET(struct ic_header, status, 20);
VMU_ASSERT_OFFSET(struct ic_header, ictransaction_id, 24);
VMU_ASSERT_OFFSET(struct ic_header, icflags, 25);
VMU_ASSERT_OFFSET(struct ic_header, reserved, 26);

struct ic_negotiate {
	uint16_t icframe_vercnt;
	uint16_t icmsg_vercnt;
	uint32_t reserved;
	/* struct ic_version icversion_data[] follows, 4 bytes each */
} __attribute__((packed));

VMU_ASSERT_SIZE(struct ic_negotiate, 8);
VMU_ASSERT_OFFSET(struct ic_negotiate, icmsg_vercnt, 2);
VMU_ASSERT_OFFSET(struct ic_negotiate, reserved, 4);
VMU_ASSERT_SIZE(struct vmu_ic_version, 4);

/* The kernel's limits and framework versions (include/linux/hyperv.h, drivers/hv). */
#define IC_MAX_VERSION_COUNT 100
#define IC_VERSION_SIZE 4
#define NEGOTIATE_OFF VMU_ICMSG_HDR_SIZE
#define VERSIONS_OFF (NEGOTIATE_OFF + sizeof(struct ic_negotiate))
#define OFF(member) __builtin_offsetof(struct ic_header, member)

_Static_assert(UTIL_FW_MAJOR == 3 && UTIL_WS2K8_FW_MAJOR == 1 && UTIL_FW_MINOR == 0,
	       "framework versions 3.0 and 1.0");

#define ICFLAGS_RESPONSE (VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_RESPONSE)

VMU_EXPORT int vmu_icmsg_parse(const void *buf, size_t len, struct vmu_icmsg *ret_hdr,
			       size_t *ret_payload_len)
{
	const uint8_t *b = buf;

	if (!buf || len < VMU_ICMSG_HDR_SIZE)
		return -EBADMSG;
	if (ret_hdr)
		*ret_hdr = (struct vmu_icmsg){
		    .pipe_flags = vmu_le32(b + OFF(pipe_flags)),
		    .pipe_msgsize = vmu_le32(b + OFF(pipe_msgsize)),
		    .icverframe = {vmu_le16(b + OFF(icverframe_major)),
				   vmu_le16(b + OFF(icverframe_minor))},
		    .icmsgtype = vmu_le16(b + OFF(icmsgtype)),
		    .icvermsg = {vmu_le16(b + OFF(icvermsg_major)),
				 vmu_le16(b + OFF(icvermsg_minor))},
		    .icmsgsize = vmu_le16(b + OFF(icmsgsize)),
		    .status = vmu_le32(b + OFF(status)),
		    .ictransaction_id = b[OFF(ictransaction_id)],
		    .icflags = b[OFF(icflags)],
		};
	if (ret_payload_len)
		*ret_payload_len = len - VMU_ICMSG_HDR_SIZE;
	return 0;
}

int vmu_icmsg_write(void *buf, size_t size, const struct vmu_icmsg *hdr)
{
	uint8_t *b = buf;

	if (!hdr)
		return -EINVAL;
	if (!buf || size < VMU_ICMSG_HDR_SIZE)
		return -ENOBUFS;
	vmu_put_le32(b + OFF(pipe_flags), hdr->pipe_flags);
	vmu_put_le32(b + OFF(pipe_msgsize), hdr->pipe_msgsize);
	vmu_put_le16(b + OFF(icverframe_major), hdr->icverframe.major);
	vmu_put_le16(b + OFF(icverframe_minor), hdr->icverframe.minor);
	vmu_put_le16(b + OFF(icmsgtype), hdr->icmsgtype);
	vmu_put_le16(b + OFF(icvermsg_major), hdr->icvermsg.major);
	vmu_put_le16(b + OFF(icvermsg_minor), hdr->icvermsg.minor);
	vmu_put_le16(b + OFF(icmsgsize), hdr->icmsgsize);
	vmu_put_le32(b + OFF(status), hdr->status);
	b[OFF(ictransaction_id)] = hdr->ictransaction_id;
	b[OFF(icflags)] = hdr->icflags;
	b[OFF(reserved)] = 0;
	b[OFF(reserved) + 1] = 0;
	return 0;
}

VMU_EXPORT int vmu_icmsg_set_response(void *buf, size_t len, uint32_t status)
{
	uint8_t *b = buf;

	if (!buf || len < VMU_ICMSG_HDR_SIZE)
		return -EBADMSG;
	vmu_put_le32(b + OFF(status), status);
	b[OFF(icflags)] = ICFLAGS_RESPONSE;
	return 0;
}

/* ---------------------------------------------------------------- versions */

static const struct vmu_ic_version kvp_fw[] = {{3, 0}, {1, 0}};
static const struct vmu_ic_version kvp_srv[] = {{4, 0}, {3, 0}, {1, 0}};
static const struct vmu_ic_version vss_fw[] = {{3, 0}};
static const struct vmu_ic_version vss_srv[] = {{5, 0}};
static const struct vmu_ic_version fcopy_fw[] = {{3, 0}};
static const struct vmu_ic_version fcopy_srv[] = {{1, 1}};

struct version_table {
	const struct vmu_ic_version *fw, *srv;
	size_t n_fw, n_srv;
};

#define TABLE(f, s)                                                                                \
	{                                                                                          \
		f, s, VMU_ELEMENTSOF(f), VMU_ELEMENTSOF(s)                                         \
	}
static const struct version_table version_tables[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = TABLE(kvp_fw, kvp_srv),
    [VMU_SERVICE_VSS] = TABLE(vss_fw, vss_srv),
    [VMU_SERVICE_FCOPY] = TABLE(fcopy_fw, fcopy_srv),
};

VMU_EXPORT int vmu_service_versions(enum vmu_service service, const struct vmu_ic_version **ret_fw,
				    size_t *ret_n_fw, const struct vmu_ic_version **ret_srv,
				    size_t *ret_n_srv)
{
	const struct version_table *t;

	if ((unsigned)service >= _VMU_SERVICE_MAX)
		return -EINVAL;
	t = &version_tables[service];
	if (ret_fw)
		*ret_fw = t->fw;
	if (ret_n_fw)
		*ret_n_fw = t->n_fw;
	if (ret_srv)
		*ret_srv = t->srv;
	if (ret_n_srv)
		*ret_n_srv = t->n_srv;
	return 0;
}

/* ---------------------------------------------------------------- negotiation */

static size_t negotiate_size(size_t n_fw, size_t n_srv)
{
	return VERSIONS_OFF + IC_VERSION_SIZE * (n_fw + n_srv);
}

static struct vmu_ic_version version_at(const uint8_t *b, size_t idx)
{
	const uint8_t *p = b + VERSIONS_OFF + IC_VERSION_SIZE * idx;

	return (struct vmu_ic_version){vmu_le16(p), vmu_le16(p + 2)};
}

static void put_version(uint8_t *b, size_t len, size_t idx, struct vmu_ic_version v)
{
	size_t off = VERSIONS_OFF + IC_VERSION_SIZE * idx;

	if (off + IC_VERSION_SIZE > len)
		return; /* the kernel would write past the packet; we do not */
	vmu_put_le16(b + off, v.major);
	vmu_put_le16(b + off + 2, v.minor);
}

/* First local version (preference order) found among host entries [first, first + n). */
static bool find_version(const uint8_t *b, size_t first, size_t n,
			 const struct vmu_ic_version *local, size_t n_local,
			 struct vmu_ic_version *ret)
{
	for (size_t i = 0; i < n_local; i++)
		for (size_t j = first; j < first + n; j++) {
			struct vmu_ic_version h = version_at(b, j);

			if (h.major == local[i].major && h.minor == local[i].minor) {
				*ret = h;
				return true;
			}
		}
	return false;
}

static void negotiate_answer(uint8_t *b, size_t len, bool ok, struct vmu_ic_version fw,
			     struct vmu_ic_version srv)
{
	vmu_put_le16(b + NEGOTIATE_OFF, ok ? 1 : 0);
	vmu_put_le16(b + NEGOTIATE_OFF + 2, ok ? 1 : 0);
	put_version(b, len, 0, fw);
	put_version(b, len, 1, srv);
}

VMU_EXPORT int vmu_ic_negotiate(void *buf, size_t len, const struct vmu_ic_version *fw, size_t n_fw,
				const struct vmu_ic_version *srv, size_t n_srv,
				struct vmu_ic_version *ret_fw, struct vmu_ic_version *ret_srv)
{
	uint8_t *b = buf;
	uint16_t fc, mc;
	struct vmu_ic_version chosen_fw, chosen_srv;

	if ((!fw && n_fw > 0) || (!srv && n_srv > 0))
		return -EINVAL;
	/* Step 1: too short to hold the two counts: the buffer is left alone. */
	if (!buf || len < NEGOTIATE_OFF + 4)
		return -EBADMSG;

	/* Step 2. */
	vmu_put_le16(b + OFF(icmsgsize), 0x10);
	fc = vmu_le16(b + NEGOTIATE_OFF);
	mc = vmu_le16(b + NEGOTIATE_OFF + 2);
	/* Until a search succeeds, the entries receive the host's counts (minor 0). */
	chosen_fw = (struct vmu_ic_version){fc, 0};
	chosen_srv = (struct vmu_ic_version){mc, 0};
	if (fc > IC_MAX_VERSION_COUNT || mc > IC_MAX_VERSION_COUNT ||
	    negotiate_size(fc, mc) > len) {
		negotiate_answer(b, len, false, chosen_fw, chosen_srv);
		return -EBADMSG;
	}

	/* Step 3. */
	if (!find_version(b, 0, fc, fw, n_fw, &chosen_fw) ||
	    !find_version(b, fc, mc, srv, n_srv, &chosen_srv)) {
		negotiate_answer(b, len, false, chosen_fw, chosen_srv);
		return -EPROTO;
	}

	/* Step 4. */
	negotiate_answer(b, len, true, chosen_fw, chosen_srv);
	if (ret_fw)
		*ret_fw = chosen_fw;
	if (ret_srv)
		*ret_srv = chosen_srv;
	return 0;
}

/* The host's request header: NEGOTIATE, TRANSACTION|REQUEST, versions in icverframe and
 * icvermsg set to the first (most preferred) offered ones, pipe msgsize = bytes after the
 * 8-byte pipe header, icmsgsize = size of the negotiate body. */
int vmu_ic_negotiate_build(void *buf, size_t size, const struct vmu_ic_version *fw, size_t n_fw,
			   const struct vmu_ic_version *srv, size_t n_srv, size_t *ret_len)
{
	uint8_t *b = buf;
	size_t total;
	struct vmu_icmsg hdr;
	int r;

	if ((!fw && n_fw > 0) || (!srv && n_srv > 0))
		return -EINVAL;
	if (n_fw > IC_MAX_VERSION_COUNT || n_srv > IC_MAX_VERSION_COUNT)
		return -EINVAL;
	total = negotiate_size(n_fw, n_srv);
	if (!buf || size < total)
		return -ENOBUFS;

	hdr = (struct vmu_icmsg){
	    .pipe_msgsize = (uint32_t)(total - 8),
	    .icverframe = n_fw > 0 ? fw[0] : (struct vmu_ic_version){0, 0},
	    .icmsgtype = VMU_ICMSGTYPE_NEGOTIATE,
	    .icvermsg = n_srv > 0 ? srv[0] : (struct vmu_ic_version){0, 0},
	    .icmsgsize = (uint16_t)(total - VMU_ICMSG_HDR_SIZE),
	    .icflags = VMU_ICMSGHDRFLAG_TRANSACTION | VMU_ICMSGHDRFLAG_REQUEST,
	};
	r = vmu_icmsg_write(b, size, &hdr);
	if (r < 0)
		return r;
	vmu_put_le16(b + NEGOTIATE_OFF, (uint16_t)n_fw);
	vmu_put_le16(b + NEGOTIATE_OFF + 2, (uint16_t)n_srv);
	vmu_put_le32(b + NEGOTIATE_OFF + 4, 0);
	for (size_t i = 0; i < n_fw; i++)
		put_version(b, size, i, fw[i]);
	for (size_t i = 0; i < n_srv; i++)
		put_version(b, size, n_fw + i, srv[i]);
	if (ret_len)
		*ret_len = total;
	return 0;
}

int vmu_ic_negotiate_parse_response(const void *buf, size_t len, struct vmu_ic_version *ret_fw,
				    struct vmu_ic_version *ret_srv)
{
	const uint8_t *b = buf;
	uint16_t fc, mc;

	if (!buf || len < VERSIONS_OFF)
		return -EBADMSG;
	fc = vmu_le16(b + NEGOTIATE_OFF);
	mc = vmu_le16(b + NEGOTIATE_OFF + 2);
	if (fc == 0 && mc == 0)
		return -EPROTO;
	if (fc != 1 || mc != 1 || len < negotiate_size(1, 1))
		return -EBADMSG;
	if (ret_fw)
		*ret_fw = version_at(b, 0);
	if (ret_srv)
		*ret_srv = version_at(b, 1);
	return 0;
}
