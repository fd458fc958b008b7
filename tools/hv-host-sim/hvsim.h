/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim: a simulated Hyper-V host together with the guest kernel's hv_utils driver.
 *
 * Daemons talk to it exactly as they talk to the kernel: each service listens on a UNIX
 * SOCK_SEQPACKET socket that the daemon opens as device "unix:/path" (framing in
 * lib/vmbus-user/chardev-sock.h). Behind the socket hvsim plays, per service:
 *   - the kernel driver (drivers/hv/hv_kvp.c, hv_snapshot.c, hv_fcopy.c,
 *     hv_utils_transport.c): single opener, registration handshake and reply, UTF-16 <->
 *     UTF-8 translation with the kernel's quirks, exact write sizes, one outstanding
 *     request, reply deadlines (30 s, FREEZE 900 s; configurable), late replies refused
 *     with EINVAL, the fake THAW/CANCEL of hibernation;
 *   - the host: IC negotiation with the "kernel", host requests built in the host wire
 *     format (IC header + UTF-16 message), answers decoded as the host would see them, and
 *     the Get-VMIntegrationService view (enabled, primary status, negotiated version).
 *
 * Primary status model (documented in hv-host-sim(1)): "No Contact" while no daemon is
 * registered; "OK" once the daemon registered and answered within the deadline; "Lost
 * Communication" once a request to a registered daemon timed out, until it answers again.
 *
 * Everything runs on one sd-event loop, without sleeps or polling: the synchronous request
 * calls below run the loop until the host has the answer, and time the request from the
 * moment the host sends it to the moment the host receives the answer (CLOCK_MONOTONIC).
 */
#ifndef HVSIM_H
#define HVSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "vmbus-user.h"

struct hvsim;

enum hvsim_primary_status {
	HVSIM_NO_CONTACT,
	HVSIM_OK,
	HVSIM_LOST_COMMUNICATION,
};
/* "OK", "No Contact", "Lost Communication" */
const char *hvsim_primary_status_name(enum hvsim_primary_status s);

/* event: the loop to attach to, or NULL to create a private one. */
int hvsim_new(sd_event *event, struct hvsim **ret);
struct hvsim *hvsim_free(struct hvsim *sim);
sd_event *hvsim_event(struct hvsim *sim);

/* Enables a service on the host and starts listening for its daemon at socket_path (created;
 * an existing socket file is replaced). */
int hvsim_listen(struct hvsim *sim, enum vmu_service service, const char *socket_path);
/* The kernel's reply deadline for every operation of the service (default 30 s), and for
 * VSS FREEZE (default 900 s). */
void hvsim_set_timeout(struct hvsim *sim, enum vmu_service service, uint64_t usec);
void hvsim_set_freeze_timeout(struct hvsim *sim, uint64_t usec);
/* How long a synchronous host request waits for any answer before giving up with
 * -ETIMEDOUT (default 120 s). */
void hvsim_set_host_timeout(struct hvsim *sim, uint64_t usec);

struct hvsim_service_status {
	enum vmu_service service;
	bool enabled;
	enum hvsim_primary_status primary;
	bool daemon_connected;                    /* a daemon has the "device" (or UIO) open */
	bool daemon_registered;                   /* ... and completed the handshake */
	bool negotiated;                          /* host <-> kernel IC negotiation done */
	struct vmu_ic_version framework, version; /* negotiated versions */
	char kernel_version[16]; /* what the kernel told the daemon ("3.1", "129", "1") */
	uint64_t requests, failures, timeouts;
};
int hvsim_get_status(struct hvsim *sim, enum vmu_service service, struct hvsim_service_status *ret);
/* The Get-VMIntegrationService-style table, one line per enabled service. */
void hvsim_print_status(struct hvsim *sim, FILE *f);
json_object *hvsim_status_json(struct hvsim *sim);

/* Runs the loop until the daemon of the service has registered (0) or timeout (-ETIMEDOUT). */
int hvsim_wait_registered(struct hvsim *sim, enum vmu_service service, uint64_t timeout_usec);
/* Runs the loop until no daemon has the service open (0) or timeout. */
int hvsim_wait_disconnected(struct hvsim *sim, enum vmu_service service, uint64_t timeout_usec);
/* Runs the loop for this long (lets daemons act; no host request involved). */
int hvsim_run_for(struct hvsim *sim, uint64_t usec);

/* The answer to one host request, as the host sees it. */
struct hvsim_result {
	uint32_t status;       /* HRESULT in the host's icmsg header */
	uint64_t latency_usec; /* host send -> host receive */
	bool kernel_timeout;   /* the kernel's deadline fired */
	/* KVP GET/ENUMERATE: UTF-8 decoded from the host's UTF-16 */
	uint32_t value_type;
	char key[1024];
	char value[4096];
	/* KVP GET_IP_INFO */
	uint8_t addr_family, dhcp_enabled;
	char adapter_id[512], ip_addr[4096], sub_net[4096], gate_way[2048], dns_addr[4096];
	/* VSS: vss_cf.flags the host received (HOT_BACKUP) */
	uint32_t vss_flags;
};

int hvsim_kvp_get(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key,
		  struct hvsim_result *ret);
/* REG_SZ value. */
int hvsim_kvp_set(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, const char *value,
		  struct hvsim_result *ret);
/* REG_U32 / REG_U64 values (the kernel renders them as decimal text for the daemon). */
int hvsim_kvp_set_u32(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, uint32_t value,
		      struct hvsim_result *ret);
int hvsim_kvp_set_u64(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key, uint64_t value,
		      struct hvsim_result *ret);
int hvsim_kvp_delete(struct hvsim *sim, enum vmu_kvp_pool pool, const char *key,
		     struct hvsim_result *ret);
int hvsim_kvp_enumerate(struct hvsim *sim, enum vmu_kvp_pool pool, uint32_t index,
			struct hvsim_result *ret);
/* ENUMERATE from index 0 until a non-S_OK status; returns a JSON array of {key,value}. */
int hvsim_kvp_enumerate_all(struct hvsim *sim, enum vmu_kvp_pool pool, json_object **ret);
/* adapter_id: the MAC as the host sends it ("00:15:5D:..."), addr_family ADDR_FAMILY_*. */
int hvsim_kvp_get_ip_info(struct hvsim *sim, const char *adapter_id, uint8_t addr_family,
			  struct hvsim_result *ret);
struct hvsim_ip_config {
	const char *adapter_id; /* device GUID "{...}" */
	uint8_t addr_family, dhcp_enabled;
	const char *ip_addr, *sub_net, *gate_way, *dns_addr;
};
int hvsim_kvp_set_ip_info(struct hvsim *sim, const struct hvsim_ip_config *cfg,
			  struct hvsim_result *ret);

/* SET with a REG_SZ value given as raw UTF-16 code units, as a host may send them
 * (unpaired surrogates, over-long strings): key_units/value_units exclude the NUL and
 * must fit the host arrays (255 / 1023 units), else -ENOBUFS. */
int hvsim_kvp_set_utf16(struct hvsim *sim, enum vmu_kvp_pool pool, const uint16_t *key,
			size_t key_units, const uint16_t *value, size_t value_units,
			struct hvsim_result *ret);

int hvsim_vss_request(struct hvsim *sim, enum vmu_vss_op op, struct hvsim_result *ret);

/* fcopy: names are UTF-8 here and go on the wire as UTF-16, as the host sends them. */
int hvsim_fcopy_start(struct hvsim *sim, const char *path_name, const char *file_name,
		      uint32_t flags, uint64_t file_size, struct hvsim_result *ret);
/* START with names given as raw UTF-16 code units, as a host may send them (unpaired
 * surrogates): path_units/name_units exclude the NUL and must fit the host arrays
 * (VMU_FCOPY_MAX_PATH - 1 units), else -ENOBUFS. */
int hvsim_fcopy_start_utf16(struct hvsim *sim, const uint16_t *path_name, size_t path_units,
			    const uint16_t *file_name, size_t name_units, uint32_t flags,
			    uint64_t file_size, struct hvsim_result *ret);
int hvsim_fcopy_write(struct hvsim *sim, uint64_t offset, const void *data, uint32_t size,
		      struct hvsim_result *ret);
int hvsim_fcopy_complete(struct hvsim *sim, struct hvsim_result *ret);
int hvsim_fcopy_cancel(struct hvsim *sim, struct hvsim_result *ret);
/* Start, write the whole local file in DATA_FRAGMENT pieces, complete (cancel on failure). */
int hvsim_fcopy_file(struct hvsim *sim, const char *local_path, const char *path_name,
		     const char *file_name, uint32_t flags, struct hvsim_result *ret);

/* A hostile or broken host: msg (len bytes, at most HVSIM_RAW_MAX) goes out as the
 * service's message right after a well-formed IC header of the simulator's, whatever it
 * holds; the kernel (or, over UIO, the daemon) sees it as a host request. KVP and fcopy.
 * ret->status is the HRESULT the host got back; the decoded fields are left empty. */
/* the larger of a KVP message and what fits the kernel's two-page fcopy receive buffer */
#define HVSIM_RAW_MAX (VMU_FCOPY_MAX_MESSAGE - VMU_ICMSG_HDR_SIZE)
int hvsim_send_raw(struct hvsim *sim, enum vmu_service service, const void *msg, size_t len,
		   struct hvsim_result *ret);

/* Hibernation: the kernel pushes the fake VSS THAW / fcopy CANCEL to the daemon and treats
 * the service as READY, so the daemon's reply is refused with EINVAL (docs/protocol.md §2). */
int hvsim_hibernate(struct hvsim *sim, enum vmu_service service);

/* fcopy over UIO (docs/protocol.md §6, kernels >= 6.10): instead of the kernel's char device, the
 * host talks to the daemon directly through a shared ring, presented the way the kernel presents a
 * uio_hv_generic device: a fake sysfs tree under sysfs_root (the fcopy device, instance
 * HVSIM_UIO_INSTANCE_ID, bound as uio0, map0/size = 2 x ring_size, a 4 MiB `ring` file as old
 * kernels had, and drivers/uio_hv_generic/new_id) and dev_dir/uio0, a UNIX socket that hands out
 * the ring memory (a memfd) and carries the interrupts (lib/vmbus-user/uio-sock.h). ring_size:
 * bytes per ring, a 4096-byte header included (0: HVSIM_UIO_DEFAULT_RING_SIZE). On every connection
 * the rings are reset and the host negotiates again; the hvsim_fcopy_* requests then go over the
 * ring (a packet that can never fit the ring is answered E_FAIL). The host signals only when the
 * guest's ring was empty and unmasked, and honours pending_send_sz. Replaces hvsim_listen() for
 * fcopy. */
#define HVSIM_UIO_DEFAULT_RING_SIZE 0x5000
#define HVSIM_UIO_INSTANCE_ID "c1e4a7b2-5f38-4d6a-9b0e-2a7d3f6c8e15"
int hvsim_listen_uio(struct hvsim *sim, const char *sysfs_root, const char *dev_dir,
		     size_t ring_size);
/* The host disables the service: the connection is closed (the daemon's next read/write
 * fails, as EIO does on a real device), dev_dir/uio0 disappears, queued requests fail with
 * -ECANCELED and new ones with -ENOTCONN until hvsim_uio_enable(). */
int hvsim_uio_disable(struct hvsim *sim);
int hvsim_uio_enable(struct hvsim *sim);
struct hvsim_uio_stats {
	bool connected;
	uint64_t connections;
	uint64_t packets_sent, packets_received;
	uint64_t interrupts_sent, signals_received;
	uint64_t wraps_sent, wraps_received; /* packets that crossed the end of a ring */
	uint64_t ring_full;                  /* host writes that had to wait for space */
	uint64_t replies_wrong_xactid; /* guest packets not echoing the request's transaction id */
};
int hvsim_uio_get_stats(struct hvsim *sim, struct hvsim_uio_stats *ret);

/* {"status":..., "status_name":"S_OK", "latency_us":..., plus the fields that apply}. */
json_object *hvsim_result_json(enum vmu_service service, int op, const struct hvsim_result *r);
/* "S_OK", "E_FAIL", "S_CONT", ... or "0x%08x". Static or thread-local buffer. */
const char *hvsim_status_name(uint32_t status);

#endif
