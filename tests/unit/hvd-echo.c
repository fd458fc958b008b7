/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvd-echo: the smallest KVP-shaped daemon built on hvd_main(), driven by test-hvd.
 *
 * Every request is answered in place with status S_OK (the rest of the message echoed
 * back unchanged), except DELETE, which is answered later (HVD_REPLY_LATER, then hvd_reply()
 * from a defer event source) with status E_FAIL, so the test can tell the paths apart.
 * It has one service key of its own ("greeting") to show up in --dump-config. A GET of
 * "status-later-lazy" or "status-lazy-later" also sets the status line (echo_status()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/common/hvd.h"

struct echo {
	struct hvd *d;
	uint8_t deferred[VMU_KVP_MSG_SIZE];
	sd_event_source *later;
	char status_key[64]; /* of the last status request, for echo_status_later() */
};

static const struct conf_key echo_keys[] = {
    {"greeting", CONF_STRING, "hello", "a key of the echo service"},
    {NULL},
};

static int echo_init(struct hvd *d, void **ret_state)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->d = d;
	*ret_state = e;
	return 0;
}

static void echo_registered(struct hvd *d, void *state, const char *kernel_version)
{
	log_debug("echo service registered, kernel %s, greeting %s", kernel_version,
		  conf_get_string(hvd_conf(d), "greeting"));
}

static int echo_on_later(sd_event_source *s, void *userdata)
{
	struct echo *e = userdata;
	int r;

	e->later = sd_event_source_disable_unref(e->later);
	r = hvd_reply(e->d, e->deferred, sizeof(e->deferred));
	if (r < 0)
		log_warning_errno(r, "deferred reply not sent");
	return 0;
}

/* hvd_set_status_later(): the line is formatted when it goes out. */
static void echo_status_later(struct hvd *d, void *userdata)
{
	struct echo *e = userdata;

	hvd_set_status_lazy(d, "last: later %s", e->status_key);
}

/* Two lines in a row hold the next one back (at most one per 100 ms, so the second arms the
 * timer); then a line from each setter, in the order the key names. The newer must go out. */
static void echo_status(struct echo *e, const char *key)
{
	snprintf(e->status_key, sizeof(e->status_key), "%s", key);
	hvd_set_status_lazy(e->d, "busy 1");
	hvd_set_status_lazy(e->d, "busy 2");
	if (strcmp(e->status_key, "status-later-lazy") == 0) {
		hvd_set_status_later(e->d, echo_status_later, e);
		hvd_set_status_lazy(e->d, "last: lazy %s", e->status_key);
	} else {
		hvd_set_status_lazy(e->d, "last: lazy %s", e->status_key);
		hvd_set_status_later(e->d, echo_status_later, e);
	}
}

static ssize_t echo_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			   size_t reply_size)
{
	struct echo *e = state;
	struct vmu_kvp_request req;
	int r;

	if (len != VMU_KVP_MSG_SIZE)
		return -EBADMSG;
	if (vmu_kvp_request_parse(msg, len, &req) >= 0 && req.op == VMU_KVP_OP_GET &&
	    strncmp(req.key.s, "status-", strlen("status-")) == 0)
		echo_status(e, req.key.s); /* the key is NUL-terminated in msg */
	if (((uint8_t *)msg)[0] == VMU_KVP_OP_DELETE) {
		memcpy(e->deferred, msg, len);
		r = vmu_kvp_reply_status(e->deferred, sizeof(e->deferred), VMU_E_FAIL);
		if (r < 0)
			return r;
		r = sd_event_add_defer(hvd_event(d), &e->later, echo_on_later, e);
		return r < 0 ? r : HVD_REPLY_LATER;
	}
	r = vmu_kvp_reply_status(reply, reply_size, VMU_S_OK);
	return r < 0 ? r : VMU_KVP_MSG_SIZE;
}

static void echo_disconnected(struct hvd *d, void *state)
{
	struct echo *e = state;

	e->later = sd_event_source_disable_unref(e->later);
	log_info("echo service disconnected");
}

static void echo_finish(struct hvd *d, void *state)
{
	struct echo *e = state;

	if (e)
		sd_event_source_disable_unref(e->later);
	free(e);
}

static const struct hvd_service echo_service = {
    .name = "kvp",
    .program = "hvd-echo",
    .summary = "Answers every KVP request with S_OK (a test daemon).",
    .service = VMU_SERVICE_KVP,
    .keys = echo_keys,
    .init = echo_init,
    .registered = echo_registered,
    .handle = echo_handle,
    .disconnected = echo_disconnected,
    .finish = echo_finish,
    .help_extra = "All settings are in the [kvp] section of the config file.",
};

int main(int argc, char **argv)
{
	return hvd_main(&echo_service, argc, argv);
}
