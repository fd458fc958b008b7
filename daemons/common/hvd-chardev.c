/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvd's default transport: the legacy hv_utils char device (config key device=), or the
 * simulated kernel's socket ("unix:/path"), through the library's struct vmu_chardev.
 *
 * The first connect() opens the device and registers with the kernel; later ones call
 * vmu_chardev_reopen() (close, open, register). disconnect() keeps the fd: the reopen that
 * follows closes it, so that a kernel that is still answering is never left without an
 * opener longer than needed. opened() is true once the device was opened, even when the
 * registration then failed: from then on, hvd retries failures instead of exiting.
 *
 * Every error reopens: the kernel's state machine starts over (docs/protocol.md §9.12). A
 * message the socket transport parked while a reply was being written (has_pending in the
 * library) is read by the receive loop hvd runs after every reply it sends.
 */
#include <errno.h>
#include <stdlib.h>

#include "hvd.h"

struct hvd_chardev {
	struct hvd *d;
	enum vmu_service service;
	struct vmu_chardev *dev;
};

static int chardev_new(struct hvd *d, void **ret)
{
	struct hvd_chardev *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->service = hvd_service_of(d)->service;
	*ret = c;
	return 0;
}

static void *chardev_free(void *t)
{
	struct hvd_chardev *c = t;

	if (!c)
		return NULL;
	vmu_chardev_free(c->dev);
	free(c);
	return NULL;
}

static const char *chardev_device(const void *t)
{
	const struct hvd_chardev *c = t;

	return conf_get_string(hvd_conf(c->d), "device");
}

static int chardev_open_register(struct hvd_chardev *c)
{
	int timeout_ms = hvd_register_timeout_ms(c->d);
	int r;

	if (c->dev)
		return vmu_chardev_reopen(c->dev, timeout_ms);
	r = vmu_chardev_open(c->service, chardev_device(c), &c->dev);
	if (r == -ECONNREFUSED)
		r = -ENOENT;
	if (r < 0)
		return r;
	return vmu_chardev_register(c->dev, timeout_ms);
}

static int chardev_connect(void *t, struct hvd_link *ret)
{
	struct hvd_chardev *c = t;
	int r = chardev_open_register(c);

	if (r < 0)
		return r;
	*ret = (struct hvd_link){
	    .fd = vmu_chardev_fd(c->dev),
	    .kind = "chardev",
	    .version = vmu_chardev_kernel_version(c->dev),
	    .max_message = vmu_service_max_message(c->service),
	};
	return 0;
}

static void chardev_disconnect(void *t)
{
}

static bool chardev_opened(const void *t)
{
	return ((const struct hvd_chardev *)t)->dev != NULL;
}

static ssize_t chardev_recv(void *t, void *buf, size_t size)
{
	return vmu_chardev_recv(((struct hvd_chardev *)t)->dev, buf, size);
}

static int chardev_send(void *t, const void *buf, size_t len)
{
	return vmu_chardev_send(((struct hvd_chardev *)t)->dev, buf, len);
}

const struct hvd_transport hvd_chardev_transport = {
    .new = chardev_new,
    .free = chardev_free,
    .connect = chardev_connect,
    .disconnect = chardev_disconnect,
    .opened = chardev_opened,
    .recv = chardev_recv,
    .send = chardev_send,
    .device = chardev_device,
};
