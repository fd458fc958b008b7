/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hvsim object: services, settings and the loop helpers.
 *
 * Every wait runs sd_event_run() on the simulator's loop until a completion condition
 * holds or a deadline timer (a real sd-event timer on CLOCK_MONOTONIC) fires; nothing
 * sleeps or polls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/hv-host-sim/hvsim-internal.h"

static const struct hvsim_service_ops *const service_ops[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = &hvsim_kvp_ops,
    [VMU_SERVICE_VSS] = &hvsim_vss_ops,
    [VMU_SERVICE_FCOPY] = &hvsim_fcopy_ops,
};

/* Largest packet each kernel driver reads
 * (docs/protocol.md §1.1: KVP 4x4 KiB, VSS/fcopy 2x4 KiB). */
static const size_t service_max_packet[_VMU_SERVICE_MAX] = {
    [VMU_SERVICE_KVP] = 4 * 4096,
    [VMU_SERVICE_VSS] = 2 * 4096,
    [VMU_SERVICE_FCOPY] = 2 * 4096,
};

uint64_t hvsim_now_nsec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool valid_service(enum vmu_service service)
{
	return (unsigned)service < _VMU_SERVICE_MAX;
}

static int service_init(struct hvsim *sim, enum vmu_service id)
{
	struct hvsim_service *svc = &sim->services[id];

	svc->sim = sim;
	svc->id = id;
	svc->ops = service_ops[id];
	svc->max_packet = service_max_packet[id];
	svc->timeout_usec = HVSIM_DEFAULT_TIMEOUT_USEC;
	svc->recv_buffer = calloc(1, HVSIM_RECV_BUFFER_SIZE + HVSIM_RECV_BUFFER_SLACK);
	if (!svc->recv_buffer)
		return -ENOMEM;
	hvsim_transport_init(&svc->transport, svc);
	hvsim_kernel_init(svc);
	return 0;
}

struct hvsim *hvsim_free(struct hvsim *sim)
{
	if (!sim)
		return NULL;
	for (unsigned i = 0; i < _VMU_SERVICE_MAX; i++) {
		struct hvsim_service *svc = &sim->services[i];

		if (!svc->sim)
			continue;
		svc->uio = hvsim_uio_free(svc->uio);
		hvsim_transport_done(&svc->transport);
		hvsim_kernel_done(svc);
		hvsim_host_drop_all(svc);
		free(svc->recv_buffer);
	}
	sd_event_unref(sim->event);
	free(sim);
	return NULL;
}

int hvsim_new(sd_event *event, struct hvsim **ret)
{
	struct hvsim *sim;
	int r;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->freeze_timeout_usec = HVSIM_DEFAULT_FREEZE_TIMEOUT_USEC;
	sim->host_timeout_usec = HVSIM_DEFAULT_HOST_TIMEOUT_USEC;
	if (event)
		sim->event = sd_event_ref(event);
	else {
		r = sd_event_new(&sim->event);
		if (r < 0) {
			free(sim);
			return r;
		}
	}
	for (unsigned i = 0; i < _VMU_SERVICE_MAX; i++) {
		r = service_init(sim, i);
		if (r < 0) {
			hvsim_free(sim);
			return r;
		}
	}
	*ret = sim;
	return 0;
}

sd_event *hvsim_event(struct hvsim *sim)
{
	return sim->event;
}

int hvsim_listen(struct hvsim *sim, enum vmu_service service, const char *socket_path)
{
	struct hvsim_service *svc;
	int r;

	if (!valid_service(service) || !socket_path)
		return -EINVAL;
	svc = &sim->services[service];
	if (svc->enabled)
		return -EALREADY;
	r = hvsim_transport_listen(&svc->transport, socket_path);
	if (r < 0)
		return r;
	svc->enabled = true;
	hvsim_host_channel_open(svc);
	return 0;
}

void hvsim_set_timeout(struct hvsim *sim, enum vmu_service service, uint64_t usec)
{
	if (valid_service(service))
		sim->services[service].timeout_usec = usec;
}

void hvsim_set_freeze_timeout(struct hvsim *sim, uint64_t usec)
{
	sim->freeze_timeout_usec = usec;
}

void hvsim_set_host_timeout(struct hvsim *sim, uint64_t usec)
{
	sim->host_timeout_usec = usec;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	*(bool *)userdata = true;
	return 0;
}

int hvsim_run_until(struct hvsim *sim, bool (*done)(void *userdata), void *userdata,
		    uint64_t timeout_usec)
{
	sd_event_source *deadline = NULL;
	bool expired = false;
	int r = 0;

	if (done && done(userdata))
		return 0;
	r = sd_event_add_time_relative(sim->event, &deadline, CLOCK_MONOTONIC, timeout_usec, 1,
				       on_deadline, &expired);
	if (r < 0)
		return r;
	while (!(done && done(userdata))) {
		if (expired) {
			r = -ETIMEDOUT;
			break;
		}
		r = sd_event_run(sim->event, UINT64_MAX);
		if (r < 0)
			break;
		r = 0;
	}
	sd_event_source_disable_unref(deadline);
	return r;
}

struct wait_service {
	struct hvsim_service *svc;
	bool registered;
};

static bool service_state_reached(void *userdata)
{
	struct wait_service *w = userdata;

	/* Registered, and the host <-> kernel negotiation that registration unblocks (KVP
	 * defers reading its channel until a daemon is there) has settled, so a status
	 * right after the wait shows the negotiated version. */
	if (w->registered)
		return w->svc->registered &&
		       (!w->svc->nego_sent || w->svc->negotiated || w->svc->nego_failed);
	return !hvsim_daemon_connected(w->svc);
}

int hvsim_wait_registered(struct hvsim *sim, enum vmu_service service, uint64_t timeout_usec)
{
	struct wait_service w;

	if (!valid_service(service))
		return -EINVAL;
	w = (struct wait_service){&sim->services[service], true};
	if (!w.svc->enabled)
		return -ENOTCONN;
	return hvsim_run_until(sim, service_state_reached, &w, timeout_usec);
}

int hvsim_wait_disconnected(struct hvsim *sim, enum vmu_service service, uint64_t timeout_usec)
{
	struct wait_service w;

	if (!valid_service(service))
		return -EINVAL;
	w = (struct wait_service){&sim->services[service], false};
	return hvsim_run_until(sim, service_state_reached, &w, timeout_usec);
}

int hvsim_run_for(struct hvsim *sim, uint64_t usec)
{
	int r = hvsim_run_until(sim, NULL, NULL, usec);

	return r == -ETIMEDOUT ? 0 : r;
}
