/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvd-floor: the do-nothing KVP responder that bench-kvp measures hv-kvpd against (the
 * "floor" of issue 10). It runs on hvd_main() over the same transport, event loop and
 * framing as hv-kvpd, and answers every request in place with S_OK and the rest of the
 * message unchanged: no pool, no logging, no status line. What hv-kvpd costs beyond this is
 * the cost of its own work. Built from the test echo daemon (tests/unit/hvd-echo.c) without
 * its deferred-reply path, which would add an event-loop turn per DELETE.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemons/common/hvd.h"

static int floor_init(struct hvd *d, void **ret_state)
{
	*ret_state = NULL;
	return 0;
}

static ssize_t floor_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			    size_t reply_size)
{
	int r;

	if (len != VMU_KVP_MSG_SIZE)
		return -EBADMSG;
	r = vmu_kvp_reply_status(reply, reply_size, VMU_S_OK);
	return r < 0 ? r : VMU_KVP_MSG_SIZE;
}

static const struct hvd_service floor_service = {
    .name = "kvp",
    .program = "hvd-floor",
    .summary = "Answers every KVP request with S_OK and does nothing else (a benchmark floor).",
    .service = VMU_SERVICE_KVP,
    .init = floor_init,
    .handle = floor_handle,
};

int main(int argc, char **argv)
{
	return hvd_main(&floor_service, argc, argv);
}
