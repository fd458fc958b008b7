/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay driver for the fuzz targets when they are not linked with libFuzzer: feeds every
 * file named on the command line (directories are walked one level, sorted) to
 * LLVMFuzzerTestOneInput and reports TAP, one "ok N - file" per input and the plan at the
 * end. "--tap" (added by tests/run-test) is ignored. With no file arguments it replays
 * $HVGUEST_SRCDIR/tests/fuzz/corpus/<program name>/, so `make check` replays the
 * checked-in corpus. A target that crashes takes the test down, which the TAP driver
 * reports as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_INPUT (1024 * 1024)

static unsigned n_tests;
static unsigned n_failed;

static void report(int ok, const char *path, const char *why)
{
	n_tests++;
	if (!ok)
		n_failed++;
	printf("%s %u - %s%s%s\n", ok ? "ok" : "not ok", n_tests, path, why ? " # " : "",
	       why ? why : "");
	fflush(stdout);
}

/* Reads a whole regular file of at most FUZZ_MAX_INPUT bytes. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_size)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	buf = malloc(FUZZ_MAX_INPUT + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + size, FUZZ_MAX_INPUT + 1 - size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > FUZZ_MAX_INPUT) {
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*ret = buf;
	*ret_size = size;
	return 0;
}

static void run_file(const char *path)
{
	uint8_t *data = NULL, *copy;
	size_t size = 0;
	int r = read_input(path, &data, &size);

	if (r < 0) {
		report(0, path, strerror(-r));
		return;
	}
	/* an exact-size heap copy, so ASan catches any read past the input */
	copy = malloc(size ? size : 1);
	if (!copy) {
		free(data);
		report(0, path, "out of memory");
		return;
	}
	memcpy(copy, data, size);
	free(data);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	report(1, path, NULL);
}

static int skip_entry(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static void run_dir(const char *dir)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, skip_entry, alphasort);

	if (n < 0) {
		report(0, dir, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
		    sizeof(path))
			report(0, list[i]->d_name, "path too long");
		else
			run_file(path);
		free(list[i]);
	}
	free(list);
}

static void run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		run_dir(path);
	else
		run_file(path);
}

static const char *program_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	const char *name = slash ? slash + 1 : argv0;

	return strncmp(name, "lt-", 3) == 0 ? name + 3 : name;
}

int main(int argc, char **argv)
{
	int n_paths = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tap") == 0)
			continue;
		run_path(argv[i]);
		n_paths++;
	}
	if (n_paths == 0) {
		const char *srcdir = getenv("HVGUEST_SRCDIR");
		char dir[PATH_MAX];

		if (!srcdir)
			srcdir = ".";
		if ((size_t)snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", srcdir,
				     program_name(argv[0])) >= sizeof(dir)) {
			printf("Bail out! corpus path too long\n");
			return 1;
		}
		run_dir(dir);
	}
	printf("1..%u\n", n_tests);
	return n_failed ? 1 : 0;
}
