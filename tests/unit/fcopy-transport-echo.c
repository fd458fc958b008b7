/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fcopy-transport-echo: hv-fcopyd's transport (daemons/fcopy/transport.c) under hvd_main()
 * with a service that copies nothing, driven by test-fcopy-transport.
 *
 * It has hv-fcopyd's [fcopy] keys (transport=, sysfs-root=, uio-dev-dir=, bind-uio=) and
 * transport; every message the transport hands to the service is logged on one line,
 *   echo: message icmsgtype=T len=N format=host|kernel
 * and answered S_OK (over UIO the whole IC message with its status set, as hv-fcopyd does;
 * over the char device the kernel's 4-byte reply). A message over UIO that is not an fcopy
 * IC message is answered E_FAIL and logged as "echo: UNEXPECTED ...": the transport should
 * have kept it from the service. disconnected() logs "echo: disconnected".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/common/hvd.h"
#include "daemons/fcopy/fcopyd.h"
#include "daemons/fcopy/transport.h"

static int echo_init(struct hvd *d, void **ret_state)
{
	*ret_state = d;
	return 0;
}

static ssize_t echo_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			   size_t reply_size)
{
	bool host = fcopy_transport_host_format(hvd_transport_data(d));
	struct vmu_icmsg hdr;

	if (!host) {
		log_info("echo: message icmsgtype=- len=%zu format=kernel", len);
		return vmu_fcopy_reply(reply, reply_size, VMU_S_OK);
	}
	if (vmu_icmsg_parse(msg, len, &hdr, NULL) < 0 || hdr.icmsgtype != VMU_ICMSGTYPE_FCOPY) {
		log_warning("echo: UNEXPECTED message of %zu bytes over uio", len);
		return len >= VMU_ICMSG_HDR_SIZE ? vmu_fcopy_host_reply(msg, len, VMU_E_FAIL) : 0;
	}
	log_info("echo: message icmsgtype=%u len=%zu format=host", hdr.icmsgtype, len);
	if (reply_size < len)
		return -ENOBUFS;
	if (reply != msg)
		memmove(reply, msg, len);
	return vmu_fcopy_host_reply(reply, len, VMU_S_OK);
}

static void echo_disconnected(struct hvd *d, void *state)
{
	log_info("echo: disconnected");
}

int main(int argc, char **argv)
{
	struct hvd_service s = fcopyd_service;

	s.program = "fcopy-transport-echo";
	s.init = echo_init;
	s.handle = echo_handle;
	s.disconnected = echo_disconnected;
	s.reload = NULL;
	s.finish = NULL;
	return hvd_main(&s, argc, argv);
}
