/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmbus-user: the user-space side of the Hyper-V integration services.
 *
 * What it gives a daemon, in the order of the sections below:
 *   - Services: names, default devices, read-buffer sizes, and the host status codes;
 *   - bounded, strict UTF-16LE <-> UTF-8 conversion;
 *   - IC framing (vmbuspipe_hdr + icmsg_hdr): parsing, answering in place, and the guest
 *     side of version negotiation;
 *   - validated views of the messages the kernel's hv_utils driver hands to user space, and
 *     builders for the replies in the exact layouts the kernel reads: KVP, VSS, and fcopy
 *     over the legacy char device;
 *   - the char-device transport (/dev/vmbus/hv_*) with its registration handshakes, and the
 *     same transport over a UNIX SOCK_SEQPACKET socket ("unix:/path") for a simulated kernel;
 *   - KVP pool files: the on-disk store shared with other guest programs;
 *   - fcopy messages in the host's own format, as a UIO daemon receives them;
 *   - the UIO transport (uio_hv_generic, kernels >= 6.10): device discovery, the two ring
 *     buffers, interrupts, and the NEGOTIATE answer a UIO daemon gives itself.
 *
 * Versioning: every call says since which library version it exists ("Since: 0.1."); the
 * symbol version node is LIBVMBUS_USER_1.
 *
 * Conventions: every function returns >= 0 on success and a negative errno on failure.
 * Output parameters are called ret_* and are left untouched on failure. Destructors accept
 * NULL and return NULL. The library never logs, never aborts on outside input, and
 * allocates nothing an outsider controls the size of.
 *
 * Byte layouts are those of <linux/hyperv.h> and docs/protocol.md; every size
 * and offset is asserted at compile time in the implementation.
 */
#ifndef VMBUS_USER_H
#define VMBUS_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Services
 * ------------------------------------------------------------------------------------------ */

enum vmu_service {
	VMU_SERVICE_KVP,
	VMU_SERVICE_VSS,
	VMU_SERVICE_FCOPY,
	_VMU_SERVICE_MAX,
};

/* "kvp", "vss", "fcopy"; NULL when out of range. Since: 0.1. */
const char *vmu_service_name(enum vmu_service service);
/* Parses "kvp"/"vss"/"fcopy". Returns the service or -EINVAL. Since: 0.1. */
int vmu_service_from_name(const char *name);
/* "/dev/vmbus/hv_kvp" etc.; NULL when out of range. Since: 0.1. */
const char *vmu_service_default_device(enum vmu_service service);
/* Size of the largest message the kernel hands the daemon for this service (the read buffer
 * a daemon needs): KVP 7432 (sizeof struct hv_kvp_msg), VSS 12, fcopy 8192
 * (VMU_FCOPY_MAX_MESSAGE: COMPLETE and CANCEL come with the whole packet's length).
 * 0 when out of range. Since: 0.1. */
size_t vmu_service_max_message(enum vmu_service service);

/* Host status codes (HRESULTs) as the host sees them; same values as <linux/hyperv.h>. */
#define VMU_S_OK 0x00000000u
#define VMU_E_FAIL 0x80004005u
#define VMU_S_CONT 0x80070103u
#define VMU_ERROR_NOT_SUPPORTED 0x80070032u
#define VMU_INVALIDARG 0x80070057u
#define VMU_GUID_NOTFOUND 0x80041002u
#define VMU_ERROR_ALREADY_EXISTS 0x80070050u
#define VMU_ERROR_DISK_FULL 0x80070070u

/* ------------------------------------------------------------------------------------------
 * UTF-16LE <-> UTF-8
 *
 * Strict by default: unpaired surrogates (UTF-16) and malformed, overlong, surrogate or
 * > U+10FFFF sequences (UTF-8) give -EILSEQ, and output that does not fit gives -ENOBUFS.
 * Output is always NUL-terminated when the call succeeds.
 *
 * VMU_UTF_TRUNCATE: stop at the last whole character that fits instead of -ENOBUFS
 *   (never splits a character or a surrogate pair).
 * Other flag bits are reserved for the library's own tools.
 * ------------------------------------------------------------------------------------------ */

#define VMU_UTF_TRUNCATE (1u << 0)

/* Converts at most src_units UTF-16LE code units from src (stopping at the first NUL unit)
 * into dst (dst_size bytes including the terminating NUL). src need not be aligned.
 * ret_len (optional): bytes written, excluding the NUL. Since: 0.1. */
int vmu_utf16le_to_utf8(const void *src, size_t src_units, char *dst, size_t dst_size,
			unsigned flags, size_t *ret_len);

/* Converts src_len bytes of UTF-8 (stopping at a NUL byte) into dst, which holds dst_units
 * UTF-16 code units including the terminating NUL unit, little-endian, unaligned allowed.
 * ret_units (optional): code units written, excluding the NUL. Since: 0.1. */
int vmu_utf8_to_utf16le(const char *src, size_t src_len, void *dst, size_t dst_units,
			unsigned flags, size_t *ret_units);

/* True when buf[0..len) is well-formed UTF-8 (no NUL inside). Since: 0.1. */
bool vmu_utf8_valid(const char *buf, size_t len);

/* ------------------------------------------------------------------------------------------
 * IC framing (docs/protocol.md §1.2): vmbuspipe_hdr (8 bytes) + icmsg_hdr (20 bytes) = 28 bytes,
 * followed by the service message. The kernel keeps these headers internal, so the layout is ours,
 * asserted against the spec.
 * ------------------------------------------------------------------------------------------ */

#define VMU_ICMSG_HDR_SIZE 28

enum vmu_icmsg_type {
	VMU_ICMSGTYPE_NEGOTIATE = 0,
	VMU_ICMSGTYPE_HEARTBEAT = 1,
	VMU_ICMSGTYPE_KVPEXCHANGE = 2,
	VMU_ICMSGTYPE_SHUTDOWN = 3,
	VMU_ICMSGTYPE_TIMESYNC = 4,
	VMU_ICMSGTYPE_VSS = 5,
	VMU_ICMSGTYPE_FCOPY = 7,
};

#define VMU_ICMSGHDRFLAG_TRANSACTION 1u
#define VMU_ICMSGHDRFLAG_REQUEST 2u
#define VMU_ICMSGHDRFLAG_RESPONSE 4u

struct vmu_ic_version {
	uint16_t major;
	uint16_t minor;
};

/* A parsed copy of the 28-byte header (host byte order). */
struct vmu_icmsg {
	uint32_t pipe_flags;
	uint32_t pipe_msgsize;
	struct vmu_ic_version icverframe;
	uint16_t icmsgtype;
	struct vmu_ic_version icvermsg;
	uint16_t icmsgsize;
	uint32_t status;
	uint8_t ictransaction_id;
	uint8_t icflags;
};

/* Parses the header at buf. Fails with -EBADMSG when len < 28. ret_payload_len: the number of
 * bytes after the header (len - 28). Since: 0.1. */
int vmu_icmsg_parse(const void *buf, size_t len, struct vmu_icmsg *ret_hdr,
		    size_t *ret_payload_len);
/* Turns the message in buf into the response, in place, as the kernel does: sets status and
 * icflags = TRANSACTION|RESPONSE. Since: 0.1. */
int vmu_icmsg_set_response(void *buf, size_t len, uint32_t status);

/* The versions a guest offers for a service, in preference order (docs/protocol.md §1.2 table).
 * Pointers to static tables. Since: 0.1. */
int vmu_service_versions(enum vmu_service service, const struct vmu_ic_version **ret_fw,
			 size_t *ret_n_fw, const struct vmu_ic_version **ret_srv,
			 size_t *ret_n_srv);

/* Guest side of NEGOTIATE, exactly as the kernel's vmbus_prep_negotiate_resp (docs/protocol.md
 * §1.2): edits buf (the whole IC message, header included) in place into the response payload.
 * Returns 0 and the chosen versions when a framework and a service version were agreed,
 * -EPROTO when no common version exists (counts set to 0/0 as the kernel does), -EBADMSG when
 * the message is malformed (too short, counts > 100 or not fitting). The caller then sets
 * status/flags with vmu_icmsg_set_response. Since: 0.1. */
int vmu_ic_negotiate(void *buf, size_t len, const struct vmu_ic_version *fw, size_t n_fw,
		     const struct vmu_ic_version *srv, size_t n_srv, struct vmu_ic_version *ret_fw,
		     struct vmu_ic_version *ret_srv);

/* ------------------------------------------------------------------------------------------
 * KVP messages as the daemon sees them (the kernel's translated, UTF-8 form of
 * struct hv_kvp_msg, 7432 bytes). Views point into the caller's buffer.
 * ------------------------------------------------------------------------------------------ */

#define VMU_KVP_MSG_SIZE 7432
#define VMU_KVP_MAX_KEY_SIZE 512    /* bytes, including the NUL */
#define VMU_KVP_MAX_VALUE_SIZE 2048 /* bytes, including the NUL */
/* What reaches the host after the kernel's UTF-16 conversion (docs/protocol.md §3.2). */
#define VMU_KVP_HOST_MAX_KEY_UNITS 254
#define VMU_KVP_HOST_MAX_VALUE_UNITS 1022

enum vmu_kvp_op {
	VMU_KVP_OP_GET = 0,
	VMU_KVP_OP_SET = 1,
	VMU_KVP_OP_DELETE = 2,
	VMU_KVP_OP_ENUMERATE = 3,
	VMU_KVP_OP_GET_IP_INFO = 4,
	VMU_KVP_OP_SET_IP_INFO = 5,
	_VMU_KVP_OP_MAX,
};

enum vmu_kvp_pool {
	VMU_KVP_POOL_EXTERNAL = 0,
	VMU_KVP_POOL_GUEST = 1,
	VMU_KVP_POOL_AUTO = 2,
	VMU_KVP_POOL_AUTO_EXTERNAL = 3,
	VMU_KVP_POOL_AUTO_INTERNAL = 4,
	_VMU_KVP_POOL_MAX,
};

/* A string inside the message: NUL-terminated at s[len], valid UTF-8. */
struct vmu_str {
	const char *s;
	size_t len;
};

struct vmu_kvp_request {
	enum vmu_kvp_op op;
	enum vmu_kvp_pool pool;
	union {
		struct vmu_str key; /* GET, DELETE */
		struct {
			struct vmu_str key;
			struct vmu_str value;
		} set;
		uint32_t index; /* ENUMERATE */
		struct {
			struct vmu_str adapter_id;
			uint8_t addr_family;
		} get_ip;
		struct {
			struct vmu_str adapter_id;
			uint8_t addr_family;
			uint8_t dhcp_enabled;
			struct vmu_str ip_addr, sub_net, gate_way, dns_addr;
		} set_ip;
	};
};

/* Validates a kernel->daemon KVP message. len must be VMU_KVP_MSG_SIZE; op and pool in range;
 * every string NUL-bounded inside its array, its size field (where there is one) equal to
 * its length + 1, and valid UTF-8. GET's value_size is ignored (the kernel sends 0).
 * Errors: -EBADMSG (wrong length, bad size field, missing NUL), -ERANGE (op or pool out of
 * range), -EILSEQ (invalid UTF-8). Since: 0.1. */
int vmu_kvp_request_parse(const void *buf, size_t len, struct vmu_kvp_request *ret);

/* Reply builders. buf is the VMU_KVP_MSG_SIZE reply buffer (usually the request buffer,
 * reused); each writes the error field (bytes 0..3) and whatever the kernel reads for that
 * operation. Strings must be valid UTF-8 and fit (-EILSEQ, -ENOBUFS). Since: 0.1. */
int vmu_kvp_reply_status(void *buf, size_t len, uint32_t status);
/* ENUMERATE success: key @20, value @532 as the kernel reads them. Since: 0.1. */
int vmu_kvp_reply_enumerate(void *buf, size_t len, const char *key, const char *value);
/* GET success: the value where the kernel really reads it
 * (offset 532, docs/protocol.md §3.2/§9.1). Since: 0.1. */
int vmu_kvp_reply_get(void *buf, size_t len, const char *value);
struct vmu_kvp_ip_info {
	const char *adapter_id;
	uint8_t addr_family;
	uint8_t dhcp_enabled;
	const char *ip_addr, *sub_net, *gate_way, *dns_addr;
};
/* GET_IP_INFO success: UTF-8 fields in the daemon layout (docs/protocol.md §3.1 kvp_ip_val).
 * Since: 0.1. */
int vmu_kvp_reply_ip_info(void *buf, size_t len, const struct vmu_kvp_ip_info *info);

/* ------------------------------------------------------------------------------------------
 * VSS messages (struct hv_vss_msg, 12 bytes)
 * ------------------------------------------------------------------------------------------ */

#define VMU_VSS_MSG_SIZE 12
enum vmu_vss_op {
	VMU_VSS_OP_CREATE = 0,
	VMU_VSS_OP_DELETE = 1,
	VMU_VSS_OP_HOT_BACKUP = 2,
	VMU_VSS_OP_GET_DM_INFO = 3,
	VMU_VSS_OP_BU_COMPLETE = 4,
	VMU_VSS_OP_FREEZE = 5,
	VMU_VSS_OP_THAW = 6,
	VMU_VSS_OP_AUTO_RECOVER = 7,
	_VMU_VSS_OP_MAX,
};
#define VMU_VSS_HBU_NO_AUTO_RECOVERY 0x00000005u

struct vmu_vss_request {
	enum vmu_vss_op op;
};
/* -EBADMSG when len != 12, -ERANGE when the op is not a VSS operation. Since: 0.1. */
int vmu_vss_request_parse(const void *buf, size_t len, struct vmu_vss_request *ret);
/* Writes the 12-byte reply: error = status, and for a successful HOT_BACKUP the layout the
 * kernel needs to report VSS_HBU_NO_AUTO_RECOVERY (docs/protocol.md §4, §9.13). Since: 0.1. */
int vmu_vss_reply(void *buf, size_t len, enum vmu_vss_op op, uint32_t status);

/* ------------------------------------------------------------------------------------------
 * fcopy messages as the legacy char device delivers them (docs/protocol.md §5): START with UTF-8
 * names, WRITE raw, COMPLETE/CANCEL header only. Replies are a 4-byte status.
 * ------------------------------------------------------------------------------------------ */

#define VMU_FCOPY_HDR_SIZE 36
#define VMU_FCOPY_START_SIZE 1088
#define VMU_FCOPY_WRITE_SIZE 6196
#define VMU_FCOPY_DATA_FRAGMENT 6144
/* The largest fcopy message the kernel can hand on: it forwards COMPLETE and CANCEL from the
 * fcopy header on with the whole packet's length (28 bytes too many), and its receive buffer
 * holds two pages. */
#define VMU_FCOPY_MAX_MESSAGE (2 * 4096)
#define VMU_FCOPY_MAX_PATH 260 /* UTF-16 units per name on the wire */
#define VMU_FCOPY_OVER_WRITE 0x1u
#define VMU_FCOPY_CREATE_PATH 0x2u

enum vmu_fcopy_op {
	VMU_FCOPY_OP_START = 0,
	VMU_FCOPY_OP_WRITE = 1,
	VMU_FCOPY_OP_COMPLETE = 2,
	VMU_FCOPY_OP_CANCEL = 3,
	_VMU_FCOPY_OP_MAX,
};

/* UTF-8 bytes a 259-unit UTF-16 name can need, including the NUL. */
#define VMU_FCOPY_NAME_UTF8_MAX 780

/* One view of an fcopy request, whichever format it came in: the char device's
 * (vmu_fcopy_request_parse) or the host's own (vmu_fcopy_host_request_parse,
 * vmu_fcopy_host_message_parse). The names are copied into the struct (UTF-8,
 * NUL-terminated), so the view does not point into the message for them; WRITE data does.
 * Changed in 0.1 before 1.0: this replaces struct vmu_fcopy_host_request and the names are
 * no longer struct vmu_str views into the char device's buffer.
 * Growable: the caller sets size to sizeof(struct vmu_fcopy_request) (or uses
 * VMU_FCOPY_REQUEST_INIT); the parsers refuse a NULL view or a size below the 0.1 struct
 * (-EINVAL), fill no more than size bytes, keep size as given and leave fields a later
 * version added untouched for an older library (the INIT macro zeroes them). The union
 * stays the last member; its structs only grow at their ends. Read only the member of op: a
 * parse writes op and that member (start for START; write, all zero for COMPLETE and
 * CANCEL), and leaves the rest of the union as it was, so that a WRITE does not clear or
 * copy START's names. A failed parse leaves the whole struct as it was. */
struct vmu_fcopy_request {
	size_t size; /* in: bytes the caller's struct has; kept as given */
	enum vmu_fcopy_op op;
	union {
		struct {
			char file_name[VMU_FCOPY_NAME_UTF8_MAX]; /* UTF-8, NUL-terminated */
			char path_name[VMU_FCOPY_NAME_UTF8_MAX];
			size_t file_name_len, path_name_len; /* bytes, without the NUL */
			uint32_t flags;
			uint64_t file_size;
		} start;
		struct {
			uint64_t offset;
			uint32_t size;       /* <= VMU_FCOPY_DATA_FRAGMENT, inside the message */
			const uint8_t *data; /* points into the caller's message buffer */
		} write;
	};
};
#define VMU_FCOPY_REQUEST_INIT                                                                     \
	{                                                                                          \
		.size = sizeof(struct vmu_fcopy_request)                                           \
	}
/* Validates a kernel->daemon fcopy message. START: len == 1088, names NUL-bounded within 260
 * bytes and valid UTF-8, flags only OVER_WRITE|CREATE_PATH; WRITE: len == 6196, size <= 6144,
 * offset + size does not overflow; COMPLETE/CANCEL: len >= 36. ret (see the struct) is
 * written only on success. Errors: -EINVAL (ret NULL or ret->size too small), -EBADMSG,
 * -ERANGE (op or flags), -EILSEQ. Since: 0.1. */
int vmu_fcopy_request_parse(const void *buf, size_t len, struct vmu_fcopy_request *ret);

/* ------------------------------------------------------------------------------------------
 * Char-device transport.
 *
 * path: NULL for the default device, "/dev/..." (any file path) for a real hv_utils char
 * device, or "unix:/path/to/socket" for a simulated kernel speaking the same protocol over a
 * SOCK_SEQPACKET socket (see chardev-sock.h in the source tree for its framing).
 *
 * Kernel rules this mirrors (docs/protocol.md §2): one opener (-EBUSY), one message per read (a
 * buffer that is too small gives -EINVAL and leaves the message queued), replies checked by the
 * kernel (-EINVAL for a late or malformed reply). After -EINVAL, -EBADF, -EIO or a short read/write
 * the daemon should call vmu_chardev_reopen().
 * ------------------------------------------------------------------------------------------ */

struct vmu_chardev;

/* Opens (does not register). -ENOENT: no such device; -EBUSY: another daemon has it open;
 * -EINVAL: bad path syntax or service. Since: 0.1. */
int vmu_chardev_open(enum vmu_service service, const char *path, struct vmu_chardev **ret);
/* Since: 0.1. */
struct vmu_chardev *vmu_chardev_free(struct vmu_chardev *dev);

/* Registration handshake (docs/protocol.md §2.1): writes REGISTER1 / VSS_OP_REGISTER1 /
 * FCOPY_VERSION_1 and reads the kernel's reply, waiting at most timeout_ms for it (-ETIMEDOUT).
 * -EPROTO when the reply is not what the kernel sends. Since: 0.1. */
int vmu_chardev_register(struct vmu_chardev *dev, int timeout_ms);
/* Closes, opens again and registers, keeping the path and service. Since: 0.1. */
int vmu_chardev_reopen(struct vmu_chardev *dev, int timeout_ms);

/* The version the kernel announced on registration: KVP its version string ("3.1"),
 * VSS "129" (VSS_OP_REGISTER1), fcopy "1". NULL before registration. Since: 0.1. */
const char *vmu_chardev_kernel_version(const struct vmu_chardev *dev);
/* Since: 0.1. */
enum vmu_service vmu_chardev_service(const struct vmu_chardev *dev);
/* The path as given (or the default). Since: 0.1. */
const char *vmu_chardev_path(const struct vmu_chardev *dev);
/* fd to poll for POLLIN; -EBADF when closed. Changes on reopen. Since: 0.1. */
int vmu_chardev_fd(const struct vmu_chardev *dev);

/* Reads one message into buf. Returns its length. -EAGAIN when none is queued (only
 * possible after a poll that did not signal POLLIN), -EINVAL when size is smaller than the
 * message (the message stays queued). Since: 0.1. */
ssize_t vmu_chardev_recv(struct vmu_chardev *dev, void *buf, size_t size);
/* Writes one reply. Returns 0 when the kernel took it whole. Since: 0.1. */
int vmu_chardev_send(struct vmu_chardev *dev, const void *buf, size_t len);
/* True when a message is already buffered inside the transport (the socket transport may
 * receive one while waiting for the result of a send); call vmu_chardev_recv() without
 * polling. Since: 0.1. */
bool vmu_chardev_has_pending(const struct vmu_chardev *dev);

/* ------------------------------------------------------------------------------------------
 * KVP pool files (docs/protocol.md §3.4): <state dir>/.kvp_pool_0 .. _4, headerless arrays of
 * 2560-byte records (char key[512]; char value[2048]; NUL-terminated UTF-8), shared with
 * cloud-init, azure-init, WALinuxAgent and the kernel's reference daemon. See kvp-pool.c for the
 * design: both lock kinds around every access, in-place updates, an in-memory index reloaded only
 * when the file changed. The object follows the path: a file replaced there (renamed over,
 * or deleted and made again) is opened at the next access; a directory above it renamed, or a
 * mount over it, which queues nothing on the file itself, within a millisecond.
 *
 * One object per pool file and per thread; the library takes no mutex. Open each pool file
 * once per process: fcntl locks belong to the process, and closing any other fd of the same
 * file drops them.
 * ------------------------------------------------------------------------------------------ */

#define VMU_KVP_POOL_RECORD_SIZE 2560
/* Largest file the index accepts, in records (a bigger file gives -EFBIG). */
#define VMU_KVP_POOL_MAX_RECORDS 131072

/* vmu_kvp_pool_open() flags. */
#define VMU_KVP_POOL_CREATE (1u << 0)    /* create the file (0644) when missing, also later */
#define VMU_KVP_POOL_READ_ONLY (1u << 1) /* O_RDONLY, shared locks only; changes give -EROFS */

/* Per-record flags: the record is returned as stored, the caller decides what to do. */
#define VMU_KVP_RECORD_KEY_NOT_UTF8 (1u << 0)
#define VMU_KVP_RECORD_VALUE_NOT_UTF8 (1u << 1)

struct vmu_kvp_pool_file;

/* A copy of one item: key and value NUL-terminated, lengths without the NUL.
 * Growable: the caller sets size to sizeof(struct vmu_kvp_pool_record) (or uses
 * VMU_KVP_POOL_RECORD_INIT) before vmu_kvp_pool_get() or vmu_kvp_pool_get_by_index(), which
 * refuse a size below the 0.1 struct (-EINVAL), fill no more than size bytes, keep size as
 * given and leave fields a later version added untouched for an older library (the INIT
 * macro zeroes them). */
struct vmu_kvp_pool_record {
	size_t size; /* in: bytes the caller's struct has; kept as given */
	char key[VMU_KVP_MAX_KEY_SIZE];
	char value[VMU_KVP_MAX_VALUE_SIZE];
	size_t key_len;
	size_t value_len;
	unsigned flags; /* VMU_KVP_RECORD_* */
};
#define VMU_KVP_POOL_RECORD_INIT                                                                   \
	{                                                                                          \
		.size = sizeof(struct vmu_kvp_pool_record)                                         \
	}

enum vmu_kvp_pool_reload {
	VMU_KVP_POOL_RELOAD_NONE,     /* nothing read yet */
	VMU_KVP_POOL_RELOAD_INITIAL,  /* first read */
	VMU_KVP_POOL_RELOAD_REOPENED, /* the path names another file now (replaced, recreated) */
	VMU_KVP_POOL_RELOAD_CHANGED,  /* size, mtime or ctime differ */
	VMU_KVP_POOL_RELOAD_RACY,     /* unchanged, but too recent to trust (racily clean) */
	VMU_KVP_POOL_RELOAD_MISMATCH, /* a record did not hold the key the index expected */
	_VMU_KVP_POOL_RELOAD_MAX,
};

/* What the last reload found, and counters since open, for the caller's log lines.
 * Growable: the caller sets size to sizeof(struct vmu_kvp_pool_stats) (or uses
 * VMU_KVP_POOL_STATS_INIT) before vmu_kvp_pool_get_stats(), which fills no more than size
 * bytes and leaves fields a later version added untouched for an older library. */
struct vmu_kvp_pool_stats {
	size_t size; /* in: bytes the caller's struct has; kept as given */
	enum vmu_kvp_pool_reload last_reload;
	size_t records;      /* whole records in the file */
	size_t keys;         /* distinct valid keys (= vmu_kvp_pool_count) */
	size_t duplicates;   /* records shadowed by a later record of the same key */
	size_t invalid;      /* records skipped: no NUL inside key or value, or an empty key */
	size_t not_utf8;     /* valid records whose key or value is not UTF-8 (kept, flagged) */
	size_t partial_tail; /* bytes of a trailing partial record (ignored) */
	uint64_t reloads;
	uint64_t reopens;
	uint64_t tails_truncated; /* partial tails this object cut off before changing the file */
};
#define VMU_KVP_POOL_STATS_INIT                                                                    \
	{                                                                                          \
		.size = sizeof(struct vmu_kvp_pool_stats)                                          \
	}

/* ".kvp_pool_0" .. ".kvp_pool_4"; NULL when out of range. Since: 0.1. */
const char *vmu_kvp_pool_file_name(enum vmu_kvp_pool pool);
/* Creates dir (0755) when missing and the five pool files (0644) that are missing; never
 * truncates or re-modes an existing file. -ENOTDIR when dir is not a directory. Since: 0.1. */
int vmu_kvp_pool_create_all(const char *dir);

/* Opens a pool file (nothing is read until the first operation). -ENOENT when missing and
 * not VMU_KVP_POOL_CREATE, -EISDIR, -EACCES, -ELOOP when the path is a symbolic link (never
 * followed, also when the file is opened again later), -EINVAL for a non-regular file or bad
 * flags. Since: 0.1. */
int vmu_kvp_pool_open(const char *path, unsigned flags, struct vmu_kvp_pool_file **ret);
/* Since: 0.1. */
struct vmu_kvp_pool_file *vmu_kvp_pool_free(struct vmu_kvp_pool_file *pool);
/* How long each later operation may wait for the file's locks, which any local user who can
 * read the file can hold: the operation then fails with -ETIMEDOUT, having changed nothing.
 * 0 (the default) waits for ever. The library polls (no signals, no timers); the wait
 * blocks the calling thread up to usec. Since: 0.1. */
int vmu_kvp_pool_set_lock_timeout(struct vmu_kvp_pool_file *pool, uint64_t usec);

/* Every operation checks cheaply whether the file changed (and re-reads it if so) under both
 * locks. Errors common to all: -ENOENT (file gone, no CREATE), -EFBIG (more than
 * VMU_KVP_POOL_MAX_RECORDS), -ETIMEDOUT (the lock deadline passed), -ELOOP (a symbolic link
 * now stands at the path), -ENOMEM, I/O and lock errors as -errno. */

/* Explicit change check. Returns 1 when the file was re-read, 0 when the index was current.
 * Since: 0.1. */
int vmu_kvp_pool_refresh(struct vmu_kvp_pool_file *pool);
/* Number of distinct valid keys: the ENUMERATE view. Since: 0.1. */
int vmu_kvp_pool_count(struct vmu_kvp_pool_file *pool, size_t *ret_count);
/* The value of the LAST record holding exactly key. -ENOENT when absent. Since: 0.1. */
int vmu_kvp_pool_get(struct vmu_kvp_pool_file *pool, const char *key,
		     struct vmu_kvp_pool_record *ret);
/* Item #index of the ENUMERATE view: one item per distinct key, in the order of the key's
 * first record in the file, with the value of its last record (what GET returns). Indexes
 * are stable while the file does not change. -ENOENT when index >= count. Since: 0.1. */
int vmu_kvp_pool_get_by_index(struct vmu_kvp_pool_file *pool, size_t index,
			      struct vmu_kvp_pool_record *ret);
/* Adds or modifies. Every existing record of key is rewritten in place with value; a new key
 * is appended. Limits are the file format's: key 1..511 bytes (-EINVAL empty,
 * -ENAMETOOLONG longer), value 0..2047 bytes (-E2BIG longer), both valid UTF-8 (-EILSEQ).
 * -EROFS on a read-only object. Since: 0.1. */
int vmu_kvp_pool_set(struct vmu_kvp_pool_file *pool, const char *key, const char *value);
/* Removes every record of key. -ENOENT when absent, -EROFS on a read-only object. Since: 0.1. */
int vmu_kvp_pool_delete(struct vmu_kvp_pool_file *pool, const char *key);
/* Copies the statistics into ret, at most ret->size bytes. -EINVAL when ret->size is smaller
 * than the 0.1 struct. Since: 0.1. */
int vmu_kvp_pool_get_stats(const struct vmu_kvp_pool_file *pool, struct vmu_kvp_pool_stats *ret);

/* Whether the host would see key and value whole after the kernel's UTF-16 conversion
 * (VMU_KVP_HOST_MAX_KEY_UNITS / VMU_KVP_HOST_MAX_VALUE_UNITS, excluding the NUL). Either may
 * be NULL (not checked). -ENAMETOOLONG: the key would be cut; -E2BIG: the value would be
 * cut; -EILSEQ: not UTF-8. Since: 0.1. */
int vmu_kvp_pool_check_host_limits(const char *key, const char *value);

/* ------------------------------------------------------------------------------------------
 * fcopy messages in the host's format (docs/protocol.md §6.4), as a UIO daemon receives them: the
 * service message after the 28-byte IC header. START names are the host's UTF-16LE and are
 * converted here, strictly; WRITE data is checked against the received length. The view is
 * the same struct vmu_fcopy_request the char device's parser fills.
 * ------------------------------------------------------------------------------------------ */

/* Validates a host->guest fcopy service message (buf = the bytes after the IC header, len =
 * their number). START: len >= 1088, each name NUL-terminated within its 260 units and valid
 * UTF-16 (converted to UTF-8), flags only OVER_WRITE|CREATE_PATH; WRITE: len >= 52,
 * size <= 6144 and within len - 52, offset + size does not overflow; COMPLETE/CANCEL:
 * len >= 36. ret is written only on success. Errors: -EINVAL (ret NULL or ret->size too
 * small), -EBADMSG (short, no NUL, bad size), -ERANGE (op or flags), -EILSEQ (invalid
 * UTF-16). Since: 0.1. */
int vmu_fcopy_host_request_parse(const void *buf, size_t len, struct vmu_fcopy_request *ret);

/* ------------------------------------------------------------------------------------------
 * UIO transport (docs/protocol.md §6): a VMBus channel bound to uio_hv_generic (kernels >= 6.10 for
 * fcopy), its two ring buffers mapped and driven by the library. Also accepts a simulated
 * device: when <dev_dir>/uioN is a UNIX socket, the simulated host (hv-host-sim) hands over
 * the ring memory through it (see uio-sock.h in the source tree).
 *
 * A daemon's loop: vmu_uio_find() + vmu_uio_open(); poll vmu_uio_fd() for POLLIN; on
 * wake-up vmu_uio_ack(); then vmu_uio_recv() until -EAGAIN, answering each request with
 * vmu_uio_send(); then vmu_uio_rearm() and, when it returns 1, receive again before
 * polling. -ESHUTDOWN from any call: the host disabled the service; free the object and
 * wait for the device to come back (find + open again), without retrying in a loop.
 * ------------------------------------------------------------------------------------------ */

#define VMU_FCOPY_CLASS_ID "34d14be3-dee4-41c8-9ae7-6b174977c192"
/* vmu_uio_find(): bind uio_hv_generic (write the class GUID to its new_id) when the device
 * is bound to no driver. */
#define VMU_UIO_ALLOW_BIND (1u << 0)

/* Growable: the caller sets size to sizeof(struct vmu_uio_device) (VMU_UIO_DEVICE_INIT)
 * before vmu_uio_find(), which fills no more than size bytes and keeps size as given;
 * vmu_uio_open() reads only the fields both sides know. A size below the 0.1 struct: -EINVAL. */
struct vmu_uio_device {
	size_t size;          /* bytes the caller's struct has */
	char instance_id[64]; /* the device's directory under bus/vmbus/devices */
	char uio_name[32];    /* "uio0" */
	uint64_t map_size;    /* map0 = both rings = 2 x ring size (header page + data) */
};
#define VMU_UIO_DEVICE_INIT                                                                        \
	{                                                                                          \
		.size = sizeof(struct vmu_uio_device)                                              \
	}

/* Finds the VMBus device of class class_id (NULL: fcopy; lower-case, no braces) under
 * sysfs_root (NULL: "/sys"): its uio node and the ring size from
 * class/uio/uioN/maps/map0/size (never the channel's `ring` file). Returns 0 when found
 * bound, 1 when this call bound it (new_id written; tell the user). Errors: -ENODEV no
 * device of that class; -ENXIO not bound and binding not allowed; -EBUSY bound to another
 * driver (e.g. hv_utils on kernels <= 6.9: use the char device); -ENOPKG uio_hv_generic not
 * loaded (no new_id); -EINPROGRESS new_id written but no uio node yet; -ENOENT bound but no
 * uio node or no map0/size; -EBADMSG unusable map size; -EINVAL bad arguments. Since: 0.1. */
int vmu_uio_find(const char *sysfs_root, const char *class_id, unsigned flags,
		 struct vmu_uio_device *ret);

struct vmu_uio;

/* Opens <dev_dir>/<uio_name> (dev_dir NULL: "/dev"), a char device or a simulated device
 * socket, maps both rings and clears the inbound interrupt mask. The fd is non-blocking.
 * Errors: -ENOENT/-ECONNREFUSED no device node (yet); -EBUSY a simulated device refused
 * the opener; -EBADMSG ring headers or memory unusable; -ENODEV not a device; -EINVAL.
 * Since: 0.1. */
int vmu_uio_open(const char *dev_dir, const struct vmu_uio_device *dev, struct vmu_uio **ret);
/* Since: 0.1. */
struct vmu_uio *vmu_uio_free(struct vmu_uio *uio);
/* fd to poll for POLLIN (interrupts, and the host going away); -EBADF when closed. Since: 0.1. */
int vmu_uio_fd(const struct vmu_uio *uio);
/* Bytes per ring, header page included (map0 size / 2). Since: 0.1. */
size_t vmu_uio_ring_size(const struct vmu_uio *uio);
/* The largest payload an inbound packet can have: a buffer this large always fits. Since: 0.1. */
size_t vmu_uio_max_payload(const struct vmu_uio *uio);

/* Consumes pending interrupts (UIO read of the event counter; never blocks). ret_count
 * (optional): the counter. -EAGAIN none pending; -ESHUTDOWN host disabled the service.
 * Since: 0.1. */
int vmu_uio_ack(struct vmu_uio *uio, uint32_t *ret_count);
/* poll() for at most timeout_ms (-1: no limit), then vmu_uio_ack(). 0 after a wake-up
 * (check the ring), -ETIMEDOUT, -ESHUTDOWN. Since: 0.1. */
int vmu_uio_wait(struct vmu_uio *uio, int timeout_ms);
/* After vmu_uio_recv() returned -EAGAIN: clears the inbound interrupt mask, then checks the
 * ring again. 1: a packet arrived meanwhile, receive it now (no interrupt will come for
 * it); 0: safe to poll. -EBADMSG: hostile ring. Since: 0.1. */
int vmu_uio_rearm(struct vmu_uio *uio);

struct vmu_uio_packet {
	uint16_t type;   /* 6: inband data */
	uint16_t flags;  /* 1: completion requested */
	uint64_t xactid; /* echo it in the reply */
};

/* Receives one inbound packet: copies its payload (the IC message, padded to 8 bytes) into
 * buf and returns its length. The packet header is validated; the host is signalled when
 * it waits for ring space this read freed. -EAGAIN ring empty; -ENOBUFS payload larger
 * than size (the packet stays; vmu_uio_max_payload() always fits); -EBADMSG hostile or
 * corrupt ring (reopen); -ESHUTDOWN. Since: 0.1. */
ssize_t vmu_uio_recv(struct vmu_uio *uio, void *buf, size_t size, struct vmu_uio_packet *ret);
/* Sends one inband packet (type 6) with payload and xactid, and signals the host when
 * needed. -EAGAIN: the outbound ring is full (the host is asked to signal when there is
 * room: poll, ack, send again); -EMSGSIZE never fits; -EBADMSG; -ESHUTDOWN. Since: 0.1. */
int vmu_uio_send(struct vmu_uio *uio, const void *payload, size_t len, uint64_t xactid);

/* Answers an inbound NEGOTIATE in place, as a UIO daemon must do itself (docs/protocol.md §6.4):
 * the service's versions (fcopy: framework {3.0}, service {1.1}) via vmu_ic_negotiate(), status
 * S_OK on agreement else E_FAIL, icflags TRANSACTION|RESPONSE. Send the whole buffer back whatever
 * the result. 0 and the chosen versions (both optional) on agreement; -EPROTO no common version;
 * -EBADMSG malformed (not answered when len < 28); -EINVAL bad service. Since: 0.1. */
int vmu_ic_negotiate_respond(enum vmu_service service, void *buf, size_t len,
			     struct vmu_ic_version *ret_fw, struct vmu_ic_version *ret_srv);

/* ------------------------------------------------------------------------------------------
 * fcopy reply builders and the whole-message host parser so that a daemon writes no
 * fcopy or IC byte itself.
 * ------------------------------------------------------------------------------------------ */

/* The legacy char device's reply: 4 bytes, the host status as a little-endian int. */
#define VMU_FCOPY_REPLY_SIZE 4

/* Writes the legacy reply for status into buf. Returns VMU_FCOPY_REPLY_SIZE, or -ENOBUFS when
 * size is smaller. Since: 0.1. */
ssize_t vmu_fcopy_reply(void *buf, size_t size, uint32_t status);
/* vmu_fcopy_host_request_parse() on a whole IC message (msg, len bytes): the IC header is
 * checked (-EBADMSG when len < 28) and cut here. Since: 0.1. */
int vmu_fcopy_host_message_parse(const void *msg, size_t len, struct vmu_fcopy_request *ret);
/* Turns the host's IC message (msg, len bytes) into its reply in place, status in the IC
 * header (vmu_icmsg_set_response). Returns len, the reply's length, or -EBADMSG when
 * len < 28. Since: 0.1. */
ssize_t vmu_fcopy_host_reply(void *msg, size_t len, uint32_t status);

/* ------------------------------------------------------------------------------------------
 * KVP pool snapshot writer: a whole pool file in the record layout, for a
 * writer that owns the file alone (hv-kvpd's intrinsic auto pool).
 * ------------------------------------------------------------------------------------------ */

struct vmu_kvp_pool_item {
	const char *key;
	const char *value;
};

/* Replaces the file at path, atomically (a temporary file beside it, mode 0644, renamed over
 * it), with n records (at most VMU_KVP_POOL_MAX_RECORDS), in order. Takes no lock: readers
 * see the old file or the new one. A value longer than 2047 bytes is cut to fit its field
 * (not inside a UTF-8 character). -EINVAL: NULL or empty key, NULL value; -ENAMETOOLONG: a
 * key of 512 bytes or more; -ENOMEM; or the errno of creating, writing or renaming.
 * Since: 0.1. */
int vmu_kvp_pool_write_snapshot(const char *path, const struct vmu_kvp_pool_item *items, size_t n);

#ifdef __cplusplus
}
#endif

#endif
