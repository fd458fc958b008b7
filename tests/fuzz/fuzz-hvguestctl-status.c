/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: hvguestctl status (tools/hvguestctl/status.c) reading the daemons' state files
 * (<run-dir>/<service>.state.json). Any user runs hvguestctl; the files are JSON another
 * program wrote (a daemon of another version, a crashed write, a full disk), so the tool must
 * take any text: not JSON, JSON of another shape, members of the wrong type, nulls in arrays,
 * huge numbers, control characters in strings.
 *
 * The input becomes the state file of all three services in a scratch directory (a tmpfs when
 * there is one) that is also their run-dir and state-dir; the configuration names a device
 * that does not exist and the char-device transport for fcopy, so nothing outside the scratch
 * directory is looked at except /proc/<pid>/comm for the pid the file claims. status_collect()
 * must succeed and give the documented shape; the text rendering (status_print_text(), to
 * /dev/null) and status_exit_code() must take whatever it collected.
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
#include "tools/hvguestctl/status.h"

static char base[] = "/dev/shm/fuzz-hvguestctl-XXXXXX";
static char config[sizeof(base) + 32];
static FILE *devnull;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	CHECK(f);
	CHECK(len == 0 || fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

static void setup(void)
{
	static const char *const sections[] = {"kvp", "vss", "fcopy"};
	char text[2048];
	size_t n = 0;

	if (devnull)
		return;
	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "/tmp/fuzz-hvguestctl-XXXXXX");
		CHECK(mkdtemp(base));
	}
	atexit(cleanup);
	for (size_t i = 0; i < 3; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[%s]\ndevice=%s/no-device\nstate-dir=%s\nrun-dir=%s\n%s",
				      sections[i], base, base, base,
				      i == 2 ? "transport=chardev\n" : "");
	CHECK(n < sizeof(text));
	snprintf(config, sizeof(config), "%s/hvguest.conf", base);
	write_file(config, text, n);
	devnull = fopen("/dev/null", "we");
	CHECK(devnull);
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = {"kvp.state.json", "vss.state.json", "fcopy.state.json"};
	struct status_options o;
	json_object *status = NULL, *services;
	char *error = NULL, path[PATH_MAX];
	int r;

	setup();
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", base, files[i]);
		write_file(path, data, size);
	}
	o = (struct status_options){.config = config, .run_dir = NULL};
	r = status_collect(&o, &status, &error);
	CHECK(r == 0);
	CHECK(!error);
	CHECK(json_object_is_type(status, json_type_object));
	services = member(status, "services");
	CHECK(services && json_object_is_type(services, json_type_array));
	CHECK(json_object_array_length(services) == 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *svc = json_object_array_get_idx(services, i);
		json_object *running = member(svc, "running");

		CHECK(json_object_is_type(running, json_type_boolean));
		/* no device, no daemon: nothing is offered */
		CHECK(!json_object_get_boolean(member(svc, "offered")));
	}
	r = status_exit_code(status);
	CHECK(r == 0 || r == 3);
	status_print_text(status, devnull);
	CHECK(json_object_to_json_string(status));
	json_object_put(status);
	return 0;
}
