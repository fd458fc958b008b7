/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the library's UIO discovery (lib/vmbus-user/uio.c, vmu_uio_find()), which
 * parses what sysfs says about VMBus devices: class_id files ("{guid}" or a bare GUID), the
 * uioN entries under a device, the driver link and map0's size ("0x..." hex). The kernel
 * writes those, but they are still text from outside the daemon, and a tree can be odd (a
 * device directory named by anyone who can write there in a test, a driver with a new
 * format). vmu_uio_find() reads by path, so the input builds a real scratch tree on a tmpfs
 * (/dev/shm, else /tmp); nothing is ever bound (no VMU_UIO_ALLOW_BIND).
 *
 * The input is up to five fields separated by 0xFF bytes:
 *   0  the fcopy device's class_id file
 *   1  map0/size of its uio entry
 *   2  the name of its uio entry ('/' becomes '_'; "." and ".." are dropped)
 *   3  the name of a second device directory, whose class_id is field 4
 *   4  the second device's class_id
 * and the first byte of field 0, when one of 'u', 'h', 'n', picks the fcopy device's driver
 * link (uio_hv_generic, hv_utils, none; default uio_hv_generic).
 * Checked: the outcome is one of the documented ones; on success the instance is one of the
 * two device directories, the uio name is "uio" and 1..9 digits, and map_size is an even
 * size whose half is a 4096-byte page plus a positive multiple of 8 of at most 128 MiB.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "vmbus-user.h"

#define DEVICE "1c2b3a4d-0000-4000-8000-00000000f00d"
#define N_FIELDS 5

static char base[] = "/dev/shm/fuzz-uio-sysfs-XXXXXX";
static char made[16][PATH_MAX];
static size_t n_made;

static void remember(const char *path)
{
	if (n_made < sizeof(made) / sizeof(made[0]))
		snprintf(made[n_made++], sizeof(made[0]), "%s", path);
}

/* Removes what the last input made, deepest first. */
static void undo(void)
{
	while (n_made > 0) {
		const char *p = made[--n_made];

		if (unlink(p) < 0)
			rmdir(p);
	}
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	CHECK(f);
	CHECK(fwrite(text, 1, len, f) == len || len == 0);
	CHECK(fclose(f) == 0);
}

/* base/prefix/name/suffix ("" where none) */
static void make_dir(const char *prefix, const char *name, const char *suffix)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/%s%s", base, prefix, name, suffix);
	if (mkdir(path, 0755) == 0)
		remember(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	static bool done;
	char path[PATH_MAX];
	static const char *const dirs[] = {"/bus",
					   "/bus/vmbus",
					   "/bus/vmbus/devices",
					   "/bus/vmbus/drivers",
					   "/bus/vmbus/drivers/uio_hv_generic",
					   "/bus/vmbus/drivers/hv_utils",
					   "/bus/vmbus/devices/" DEVICE,
					   "/bus/vmbus/devices/" DEVICE "/uio",
					   "/class",
					   "/class/uio"};

	if (done)
		return;
	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "/tmp/fuzz-uio-sysfs-XXXXXX");
		CHECK(mkdtemp(base));
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", base, dirs[i]);
		CHECK(mkdir(path, 0755) == 0);
	}
	snprintf(path, sizeof(path), "%s/bus/vmbus/drivers/uio_hv_generic/new_id", base);
	write_text(path, "", 0);
	atexit(cleanup);
	done = true;
}

/* A field as a path component: NUL-free, no '/', not "." or "..", not empty. */
static bool component(const uint8_t *p, size_t n, char *ret, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < n && len + 1 < size && len < NAME_MAX; i++)
		if (p[i] != '\0')
			ret[len++] = p[i] == '/' ? '_' : (char)p[i];
	ret[len] = '\0';
	return len > 0 && strcmp(ret, ".") != 0 && strcmp(ret, "..") != 0;
}

static void split(const uint8_t *data, size_t size, const uint8_t **f, size_t *n)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i < N_FIELDS; i++) {
		f[i] = data;
		n[i] = 0;
	}
	for (size_t i = 0; i <= size && k < N_FIELDS; i++) {
		if (i == size || data[i] == 0xFF) {
			f[k] = data + start;
			n[k++] = i - start;
			start = i + 1;
		}
	}
}

static bool uio_name_ok(const char *s)
{
	size_t digits = strspn(s + 3, "0123456789");

	return strncmp(s, "uio", 3) == 0 && digits >= 1 && digits <= 9 && s[3 + digits] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *f[N_FIELDS];
	size_t n[N_FIELDS];
	char path[PATH_MAX], uio[NAME_MAX + 1], other[NAME_MAX + 1];
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;
	const char *driver = "../../drivers/uio_hv_generic";
	uint64_t half;
	int r;

	setup();
	split(data, size, f, n);
	if (n[0] > 0 && (f[0][0] == 'h' || f[0][0] == 'n' || f[0][0] == 'u'))
		driver = f[0][0] == 'h' ? "../../drivers/hv_utils" : f[0][0] == 'n' ? NULL : driver;

	snprintf(path, sizeof(path), "%s/bus/vmbus/devices/" DEVICE "/class_id", base);
	write_text(path, (const char *)f[0], n[0]);
	remember(path);
	if (driver) {
		snprintf(path, sizeof(path), "%s/bus/vmbus/devices/" DEVICE "/driver", base);
		CHECK(symlink(driver, path) == 0);
		remember(path);
	}
	if (component(f[2], n[2], uio, sizeof(uio))) {
		make_dir("bus/vmbus/devices/" DEVICE "/uio", uio, "");
		make_dir("class/uio", uio, "");
		make_dir("class/uio", uio, "/maps");
		make_dir("class/uio", uio, "/maps/map0");
		snprintf(path, sizeof(path), "%s/class/uio/%s/maps/map0/size", base, uio);
		if (access(path, F_OK) != 0) {
			write_text(path, (const char *)f[1], n[1]);
			remember(path);
		}
	}
	if (component(f[3], n[3], other, sizeof(other)) && strcmp(other, DEVICE) != 0) {
		make_dir("bus/vmbus/devices", other, "");
		snprintf(path, sizeof(path), "%s/bus/vmbus/devices/%s/class_id", base, other);
		if (access(path, F_OK) != 0) {
			write_text(path, (const char *)f[4], n[4]);
			remember(path);
		}
	} else
		other[0] = '\0';

	r = vmu_uio_find(base, NULL, 0, &dev);
	CHECK(r == 0 || r == -ENODEV || r == -ENOENT || r == -EBUSY || r == -ENXIO ||
	      r == -EBADMSG || r == -ENAMETOOLONG || r == -ENOTDIR || r == -EISDIR);
	if (r == 0) {
		CHECK(strcmp(dev.instance_id, DEVICE) == 0 || strcmp(dev.instance_id, other) == 0);
		CHECK(uio_name_ok(dev.uio_name));
		CHECK(dev.map_size % 2 == 0);
		half = dev.map_size / 2;
		CHECK(half > 4096 && (half - 4096) % 8 == 0 && half - 4096 <= (128u << 20));
	}
	undo();
	return 0;
}
