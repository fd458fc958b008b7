/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: each daemon's configuration as the daemon itself loads it (hvd_config_load()
 * with kvpd_service, vssd_service and fcopyd_service): the common keys, the daemon's own
 * table and its per-key checks (fcopy's modes, owners and groups, vss's scope and globs, ...),
 * which fuzz-conf's generic table does not reach.
 *
 * The input is the whole file, handed over as /proc/self/fd/N of a memfd. Checked for each
 * daemon: a failure returns a negative errno with a message and leaves *ret alone; a success
 * gives no message, and the effective configuration conf_dump() prints loads back to a
 * configuration that prints the same (but for its first line, which names the file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "daemons/common/hvd.h"
#include "daemons/fcopy/fcopyd.h"
#include "daemons/kvp/kvpd.h"
#include "daemons/vss/vssd.h"

static int memfd_with(const void *data, size_t size, char *path, size_t path_size)
{
	int fd = memfd_create("fuzz-daemon-conf", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

static char *dump(const struct conf *c)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	CHECK(f);
	conf_dump(c, f);
	CHECK(fclose(f) == 0);
	CHECK(text);
	return text;
}

static void check_service(const struct hvd_service *s, const char *path)
{
	struct conf *c = (struct conf *)path, *again = NULL;
	char *error = NULL, *first, *second, again_path[64];
	int fd, r;

	r = hvd_config_load(s, path, &c, &error);
	if (r < 0) {
		CHECK(error && strlen(error) > 0);
		CHECK(c == (struct conf *)path);
		free(error);
		return;
	}
	CHECK(r == 0 && c && !error);
	first = dump(c);
	fd = memfd_with(first, strlen(first), again_path, sizeof(again_path));
	r = hvd_config_load(s, again_path, &again, &error);
	if (r < 0)
		fprintf(stderr, "[%s] dump does not load back: %s\n--\n%s--\n", s->name, error,
			first);
	CHECK(r == 0 && again && !error);
	second = dump(again);
	/* the same, after the first line, which names the file read */
	CHECK(strchr(first, '\n') && strchr(second, '\n'));
	CHECK(strcmp(strchr(first, '\n'), strchr(second, '\n')) == 0);
	free(first);
	free(second);
	conf_free(again);
	conf_free(c);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hvd_service *services[] = {&kvpd_service, &vssd_service, &fcopyd_service};
	char path[64];
	int fd = memfd_with(data, size, path, sizeof(path));

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		check_service(services[i], path);
	close(fd);
	return 0;
}
