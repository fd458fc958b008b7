/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake sysfs tree of the simulated UIO device, shaped like the kernel's:
 *
 *   <root>/bus/vmbus/devices/<instance>/class_id        "{34d14be3-...}\n" (fcopy)
 *   <root>/bus/vmbus/devices/<instance>/device_id       "{<instance>}\n"
 *   <root>/bus/vmbus/devices/<instance>/driver          -> ../../drivers/uio_hv_generic
 *   <root>/bus/vmbus/devices/<instance>/uio/uio0/
 *   <root>/bus/vmbus/devices/<instance>/channels/14/ring   4 MiB (sparse), as on kernels
 *                                                       before "make the sysfs node size
 *                                                       dynamic": a daemon that takes the
 *                                                       ring size from it gets it wrong
 *   <root>/class/uio/uio0/name                          "uio_hv_generic\n"
 *   <root>/class/uio/uio0/maps/map0/size                "0x%016llx\n" = 2 x ring size
 *   <root>/bus/vmbus/drivers/uio_hv_generic/new_id      (empty)
 *   <root>/bus/vmbus/devices/<kvp instance>/class_id    a KVP device next to it
 *
 * The instance GUID is not the one the reference daemon hard-codes, on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tools/hv-host-sim/hvsim-internal.h"

#define KVP_INSTANCE "242ff919-07db-4180-9c2e-b86cb68c8c55"
#define KVP_CLASS "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
#define OLD_RING_FILE_SIZE (4 * 1024 * 1024)

/* mkdir -p root/rel */
static int make_dirs(const char *root, const char *rel)
{
	char path[PATH_MAX];
	size_t len;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	len = strlen(path);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

static int write_file(const char *root, const char *rel, const char *content, off_t size)
{
	_vmu_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	size_t len = strlen(content);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (len && write(fd, content, len) != (ssize_t)len)
		return -EIO;
	if (size && ftruncate(fd, size) < 0)
		return -errno;
	return 0;
}

static int make_link(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	if (symlink(target, path) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hvsim_uio_tree_create(const char *root, size_t ring_size)
{
	const char *dev = "bus/vmbus/devices/" HVSIM_UIO_INSTANCE_ID;
	char rel[256], size[64];
	int r;

	snprintf(size, sizeof(size), "0x%016llx\n", (unsigned long long)(2 * ring_size));
	snprintf(rel, sizeof(rel), "%s/uio/uio0", dev);
	if ((r = make_dirs(root, rel)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/channels/14", dev);
	if ((r = make_dirs(root, rel)) < 0 ||
	    (r = make_dirs(root, "class/uio/uio0/maps/map0")) < 0 ||
	    (r = make_dirs(root, "bus/vmbus/drivers/uio_hv_generic")) < 0 ||
	    (r = make_dirs(root, "bus/vmbus/devices/" KVP_INSTANCE)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/class_id", dev);
	if ((r = write_file(root, rel, "{" VMU_FCOPY_CLASS_ID "}\n", 0)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/device_id", dev);
	if ((r = write_file(root, rel, "{" HVSIM_UIO_INSTANCE_ID "}\n", 0)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/channels/14/ring", dev);
	if ((r = write_file(root, rel, "", OLD_RING_FILE_SIZE)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/driver", dev);
	if ((r = make_link(root, rel, "../../drivers/uio_hv_generic")) < 0)
		return r;
	if ((r = write_file(root, "class/uio/uio0/name", "uio_hv_generic\n", 0)) < 0 ||
	    (r = write_file(root, "class/uio/uio0/maps/map0/size", size, 0)) < 0 ||
	    (r = write_file(root, "bus/vmbus/drivers/uio_hv_generic/new_id", "", 0)) < 0 ||
	    (r = write_file(root, "bus/vmbus/devices/" KVP_INSTANCE "/class_id",
			    "{" KVP_CLASS "}\n", 0)) < 0)
		return r;
	return 0;
}
