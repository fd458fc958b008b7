/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state file (see state-file.h): built in memory, written to a temporary file in the
 * same directory, renamed over the old one, so a reader sees the old or the new object,
 * never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read-file.h"
#include "state-file.h"

void hvd_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_member(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",\n  \"%s\": ", name);
	if (value)
		hvd_json_string(f, value);
	else
		fputs("null", f);
}

static void put_usec(FILE *f, const char *name, uint64_t usec)
{
	if (usec == 0)
		fprintf(f, ",\n  \"%s\": null", name);
	else
		fprintf(f, ",\n  \"%s\": %" PRIu64 ".%06" PRIu64, name, usec / 1000000,
			usec % 1000000);
}

static int render(const struct hvd_state_info *i, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"schema\": %d", HVD_STATE_SCHEMA);
	put_member(f, "service", i->service);
	put_member(f, "program", i->program);
	fprintf(f, ",\n  \"pid\": %d", (int)getpid());
	put_member(f, "state", i->state);
	put_member(f, "transport", i->transport);
	put_member(f, "device", i->device);
	put_member(f, "version", i->version);
	put_member(f, "status", i->status);
	put_usec(f, "started", i->started);
	put_usec(f, "updated", i->updated);
	put_usec(f, "last_request", i->last_request);
	fprintf(f, ",\n  \"requests\": %" PRIu64, i->requests);
	fprintf(f, ",\n  \"details\": %s\n}\n", i->details ? i->details : "{}");
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int hvd_state_write(const char *run_dir, const struct hvd_state_info *info)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (snprintf(path, sizeof(path), "%s/%s" HVD_STATE_SUFFIX, run_dir, info->service) >=
		(int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	r = render(info, &buf, &len);
	if (r < 0)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	/* A daemon whose unit has no RuntimeDirectory= (hv-fcopyd) may start first. */
	if (fd < 0 && errno == ENOENT && mkdir(run_dir, 0755) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	/* 0644 whatever the umask: status is for every local user (nothing secret in it). */
	r = fchmod(fd, 0644) < 0 ? -errno : write_all(fd, buf, len);
	free(buf);
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
