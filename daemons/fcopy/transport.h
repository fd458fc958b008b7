/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-fcopyd's transport for hvd: the legacy char device (kernels <= 6.9) or the fcopy VMBus
 * channel bound to uio_hv_generic (kernels >= 6.10), chosen at every connection attempt
 * by the transport= key. See transport.c.
 */
#ifndef FCOPY_TRANSPORT_H
#define FCOPY_TRANSPORT_H

#include <stdbool.h>

#include "hvd.h"

extern const struct hvd_transport fcopy_transport;

/* The [fcopy] keys it reads (declared in fcopyd.c's table):
 *   transport=   auto|chardev|uio
 *   sysfs-root=  where the VMBus devices are looked up (/sys)
 *   uio-dev-dir= where the uioN node is (/dev)
 *   bind-uio=    bind uio_hv_generic (new_id) to an unbound fcopy device */
#define FCOPY_TRANSPORT_CHOICES                                                                    \
	{                                                                                          \
		"auto", "chardev", "uio", NULL                                                     \
	}

/* True while connected over UIO: messages are then the host's (IC header + UTF-16
 * names), and the reply is the whole message with its status set. */
bool fcopy_transport_host_format(const void *t);

#endif
