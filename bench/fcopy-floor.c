/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fcopy-floor: the do-nothing fcopy responder bench-fcopy measures hv-fcopyd against.
 *
 * It is hv-fcopyd without the file: the same hvd loop and the same transport object
 * (daemons/fcopy/transport.c: the char device, or the UIO ring with its NEGOTIATE handled
 * there), so the only difference left is the service's own work. Every fcopy message is
 * answered S_OK unread (a 4-byte status on the char device, the whole message with its IC
 * status set on UIO), so a copy "succeeds" with nothing written. Not a daemon to install:
 * built for `make bench` only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/fcopy/transport.h"

static const char *const transport_choices[] = FCOPY_TRANSPORT_CHOICES;

/* The keys transport.c reads; the defaults of hv-fcopyd's table. */
static const struct conf_key floor_keys[] = {
    {"transport", CONF_ENUM, "auto", "auto, chardev or uio", 0, 0, transport_choices},
    {"sysfs-root", CONF_PATH, "/sys", "where the fcopy VMBus device is looked up"},
    {"uio-dev-dir", CONF_PATH, "/dev", "where its uioN node is"},
    {"bind-uio", CONF_BOOL, "true", "bind uio_hv_generic to an unbound fcopy device"},
    {NULL},
};

static int floor_init(struct hvd *d, void **ret_state)
{
	*ret_state = d;
	return 0;
}

static ssize_t floor_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			    size_t reply_size)
{
	uint8_t *out = reply;

	(void)state;
	if (fcopy_transport_host_format(hvd_transport_data(d))) {
		if (reply_size < len)
			return -ENOBUFS;
		if (reply != msg)
			memmove(reply, msg, len);
		(void)vmu_icmsg_set_response(reply, len, VMU_S_OK);
		return (ssize_t)len;
	}
	if (reply_size < 4)
		return -ENOBUFS;
	out[0] = out[1] = out[2] = out[3] = 0; /* S_OK, little-endian */
	return 4;
}

static const struct hvd_service floor_service = {
    .name = "fcopy",
    .program = "fcopy-floor",
    .summary = "A do-nothing fcopy responder (benchmark floor).",
    .service = VMU_SERVICE_FCOPY,
    .keys = floor_keys,
    .init = floor_init,
    .handle = floor_handle,
    .transport = &fcopy_transport,
};

int main(int argc, char **argv)
{
	return hvd_main(&floor_service, argc, argv);
}
