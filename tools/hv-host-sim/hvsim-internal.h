/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal structures of the simulated host + guest kernel (not installed).
 *
 * One struct hvsim_service per service holds three parts that mirror the real system:
 *   - the host side: a FIFO of host requests, at most one in flight on the channel
 *     (the host sends the next request once the previous one was answered), after an
 *     initial NEGOTIATE sent when the channel is opened (hvsim_listen);
 *   - the VMBus channel: the packets the host sent and the kernel has not read yet;
 *   - the kernel side (hv_utils): recv_buffer (packets are copied into it, so stale bytes
 *     of earlier packets stay behind them, as in the kernel), the transaction state
 *     machine of docs/protocol.md §2, the reply deadline timer and the char-device transport.
 *
 * The kernel reads the channel from a one-shot defer event ("kick"), never re-entrantly
 * from inside another handler; that stands in for the channel tasklet.
 */
#ifndef HVSIM_INTERNAL_H
#define HVSIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "hvsim.h"

#define HVSIM_RECV_BUFFER_SIZE (4 * 4096)
/* Slack behind recv_buffer: the fcopy kernel forwards COMPLETE/CANCEL with the whole payload
 * length counted from the fcopy header, i.e. 28 bytes past the end of a full buffer. */
#define HVSIM_RECV_BUFFER_SLACK 64
#define HVSIM_DEFAULT_TIMEOUT_USEC (30ull * 1000000ull)
#define HVSIM_DEFAULT_FREEZE_TIMEOUT_USEC (900ull * 1000000ull)
#define HVSIM_DEFAULT_HOST_TIMEOUT_USEC (120ull * 1000000ull)

/* hvutil_device_state (drivers/hv/hyperv_vmbus.h), in the kernel's order. */
enum hvsim_kstate {
	HVSIM_KSTATE_DEVICE_INIT,
	HVSIM_KSTATE_READY,
	HVSIM_KSTATE_HOSTMSG_RECEIVED,
	HVSIM_KSTATE_USERSPACE_REQ,
	HVSIM_KSTATE_USERSPACE_RECV,
};

struct hvsim_service;

/* hv_utils_transport in char-device mode, over a UNIX SOCK_SEQPACKET socket. */
struct hvsim_transport {
	struct hvsim_service *svc;
	char *path;
	int listen_fd;
	sd_event_source *listen_src;
	int conn_fd;
	sd_event_source *conn_src;
	/* The one queued kernel->daemon message ("outmsg"), until it went out on the socket. */
	uint8_t *outmsg;
	size_t outmsg_len;
	void (*on_read)(struct hvsim_service *svc);
	bool in_write;
};

/* A host request: lives on the stack of the synchronous caller. */
struct hvsim_request {
	struct hvsim_request *next;
	struct hvsim_service *svc;
	uint8_t *buf; /* host packet; the answer is copied back into it */
	size_t len, size;
	bool done;
	bool kernel_timeout; /* answered by the kernel's deadline */
	int error;           /* < 0: never answered (-EPROTO: negotiation failed) */
	uint64_t t_send_nsec, latency_nsec;
};

/* A packet in the channel ring (host -> guest). */
struct hvsim_packet {
	struct hvsim_packet *next;
	size_t len;
	uint8_t data[];
};

struct hvsim_service_ops {
	/* hv_*_onchannelcallback: reads at most one packet; returns true if it did. */
	bool (*channel_callback)(struct hvsim_service *svc);
	/* hvt on_msg: a daemon write; returns 0 or -errno (what write() would fail with). */
	int (*on_msg)(struct hvsim_service *svc, const uint8_t *msg, size_t len);
	/* hvt on_reset: the daemon closed the device. */
	void (*on_reset)(struct hvsim_service *svc);
	/* *_pre_suspend */
	void (*pre_suspend)(struct hvsim_service *svc);
};

struct hvsim_service {
	struct hvsim *sim;
	enum vmu_service id;
	const struct hvsim_service_ops *ops;
	bool enabled;
	struct hvsim_transport transport;
	struct hvsim_uio *uio; /* fcopy over UIO instead of the kernel + transport (uio-host.c) */

	/* host */
	struct hvsim_request *queue_head, *queue_tail;
	struct hvsim_request *inflight;
	bool inflight_busy; /* a request is on the channel (its caller may have given up) */
	bool nego_sent, negotiated, nego_failed;
	struct vmu_ic_version framework, version;
	uint8_t next_transaction_id;

	/* channel */
	struct hvsim_packet *ring_head, *ring_tail;
	sd_event_source *kick_src;

	/* kernel */
	enum hvsim_kstate state;
	uint8_t *recv_buffer;
	size_t recv_len;
	size_t max_packet;
	int dm_reg_value;
	sd_event_source *timeout_src;
	uint64_t timeout_usec;
	bool kernel_timed_out; /* the current host request was answered by the deadline */
	char kernel_version[16];
	bool registered;
	bool lost;

	uint64_t requests, failures, timeouts;
};

struct hvsim {
	sd_event *event;
	uint64_t freeze_timeout_usec;
	uint64_t host_timeout_usec;
	struct hvsim_service services[_VMU_SERVICE_MAX];
};

extern const struct hvsim_service_ops hvsim_kvp_ops, hvsim_vss_ops, hvsim_fcopy_ops;

/* sim.c */
uint64_t hvsim_now_nsec(void);
int hvsim_run_until(struct hvsim *sim, bool (*done)(void *userdata), void *userdata,
		    uint64_t timeout_usec);

/* transport.c */
void hvsim_transport_init(struct hvsim_transport *t, struct hvsim_service *svc);
int hvsim_transport_listen(struct hvsim_transport *t, const char *path);
void hvsim_transport_done(struct hvsim_transport *t);
/* hvutil_transport_send: -EINVAL without an opener, -EFAULT while a message is queued. */
int hvsim_transport_send(struct hvsim_transport *t, const void *msg, size_t len,
			 void (*on_read)(struct hvsim_service *svc));
bool hvsim_transport_connected(const struct hvsim_transport *t);

/* kernel.c: helpers shared by the three kernel drivers */
void hvsim_kernel_init(struct hvsim_service *svc);
void hvsim_kernel_done(struct hvsim_service *svc);
void hvsim_kernel_kick(struct hvsim_service *svc);
/* vmbus_recvpacket into recv_buffer; false when the ring is empty. */
bool hvsim_kernel_recvpacket(struct hvsim_service *svc);
/* vmbus_sendpacket of recv_buffer[0..recv_len) with status and icflags = 5. */
void hvsim_kernel_respond(struct hvsim_service *svc, uint32_t status);
/* vmbus_prep_negotiate_resp + send; the kernel's versions for the service. */
void hvsim_kernel_negotiate(struct hvsim_service *svc);
void hvsim_kernel_arm_timeout(struct hvsim_service *svc, uint64_t usec);
/* cancel_delayed_work_sync(): true when the timer was pending. */
bool hvsim_kernel_cancel_timeout(struct hvsim_service *svc);
/* hv_poll_channel(channel, *_poll_wrapper): state READY and read the channel again. */
void hvsim_kernel_poll(struct hvsim_service *svc);
/* *_register_done (the daemon read the registration reply). */
void hvsim_kernel_register_done(struct hvsim_service *svc);
/* The daemon answered a forwarded request in time. */
void hvsim_kernel_daemon_answered(struct hvsim_service *svc);
/* The device was closed (on_reset): a pending transaction fails, back to DEVICE_INIT. */
void hvsim_kernel_reset(struct hvsim_service *svc);
/* The daemon's reply to the outstanding transaction: if the deadline has not fired, answer
 * the host with status and look at the channel again. False when it had fired (late). */
bool hvsim_kernel_finish(struct hvsim_service *svc, uint32_t status);
int hvsim_kernel_u16_to_u8(const uint8_t *src, size_t src_units, uint8_t *dst, size_t budget);
int hvsim_kernel_u8_to_u16(const uint8_t *src, size_t src_max, uint8_t *dst, size_t max_units);

/* uio-host.c: the simulated UIO device; NULL-safe destructor. */
struct hvsim_uio;
struct hvsim_uio *hvsim_uio_free(struct hvsim_uio *uio);
/* A daemon has the simulated UIO device open (NULL-safe: false). */
bool hvsim_uio_connected(const struct hvsim_uio *uio);
/* A daemon has the service's device open: the char device, or the UIO device. */
bool hvsim_daemon_connected(const struct hvsim_service *svc);
/* uio-tree.c: the fake sysfs tree of a fcopy device bound to uio_hv_generic as uio0. */
int hvsim_uio_tree_create(const char *sysfs_root, size_t ring_size);

/* host.c */
void hvsim_host_channel_open(struct hvsim_service *svc);
void hvsim_host_receive(struct hvsim_service *svc, const uint8_t *buf, size_t len);
void hvsim_host_cancel_inflight(struct hvsim_service *svc);
void hvsim_host_drop_all(struct hvsim_service *svc);
/* Builds the 28-byte header for a service message of payload_len bytes into buf. */
int hvsim_host_header(struct hvsim_service *svc, uint8_t *buf, size_t size, uint16_t type,
		      size_t payload_len);
/* Sends buf[0..len) as a host request and runs the loop until answered; the answer is
 * copied back into buf (size bytes). */
int hvsim_host_transact(struct hvsim *sim, enum vmu_service service, uint8_t *buf, size_t len,
			size_t size, struct hvsim_result *ret);
/* UTF-16LE for display: strict, else with \uXXXX escapes for what does not decode. */
void hvsim_host_decode(const uint8_t *src, size_t max_units, char *dst, size_t dst_size);

#endif
