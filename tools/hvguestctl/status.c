/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvguestctl status: gathers, per service,
 *   - offered: does the host offer it? The daemon's device= exists (the char device, or the
 *     simulator's socket), or, for fcopy, a VMBus device of its class is present under
 *     sysfs-root (vmu_uio_find(), never binding anything);
 *   - the daemon: its state file (<run-dir>/<service>.state.json, state-file.h), trusted
 *     for "running" only when the pid in it is alive and is that program (/proc/PID/comm),
 *     so a killed daemon's stale file reads as "not running";
 *   - KVP: the items the host reads (the daemon's snapshot <run-dir>/.kvp_pool_2, read
 *     through the library when the caller may read it: the state file never holds values)
 *     and the size of each pool file in state-dir.
 * Nothing here writes, locks for long or waits on a daemon: files are read with
 * read_small_file() (regular files only, bounded), pools with a short lock deadline.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemons/common/log.h"
#include "daemons/common/read-file.h"
#include "daemons/common/state-file.h"
#include "daemons/fcopy/fcopyd.h"
#include "daemons/kvp/kvpd.h"
#include "daemons/vss/vssd.h"
#include "tools/hvguestctl/status.h"
#include "vmbus-user.h"

#define STATE_FILE_MAX (256 * 1024)
#define POOL_LOCK_TIMEOUT_USEC UINT64_C(500000)
#define AUTO_ITEMS_MAX 256

struct service_info {
	const struct hvd_service *service;
	const char *display; /* Get-VMIntegrationService's name */
};

static const struct service_info services[] = {
    {&kvpd_service, "Key-Value Pair Exchange"},
    {&vssd_service, "VSS"},
    {&fcopyd_service, "Guest Service Interface"},
};

static const char *const pool_names[] = {"external", "guest", "auto", "auto_external",
					 "auto_internal"};

static void json_add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* ---------------------------------------------------------------- offered by the host */

static const char *offered_by(const struct hvd_service *s, const struct conf *c)
{
	const char *device = conf_get_string(c, "device");
	struct vmu_uio_device dev = VMU_UIO_DEVICE_INIT;
	struct stat st;
	int r;

	if (strncmp(device, "unix:", 5) == 0) {
		if (stat(device + 5, &st) == 0 && S_ISSOCK(st.st_mode))
			return "socket";
	} else if (stat(device, &st) == 0 && S_ISCHR(st.st_mode))
		return "device";
	if (s->service != VMU_SERVICE_FCOPY ||
	    strcmp(conf_get_string(c, "transport"), "chardev") == 0)
		return NULL;
	r = vmu_uio_find(conf_get_string(c, "sysfs-root"), VMU_FCOPY_CLASS_ID, 0, &dev);
	/* Present, whoever it is bound to (or not bound yet). */
	if (r >= 0 || r == -ENXIO || r == -EBUSY || r == -ENOPKG || r == -EINPROGRESS)
		return "uio";
	return NULL;
}

/* ---------------------------------------------------------------- the daemon */

static bool pid_is_program(pid_t pid, const char *program)
{
	char path[64], *comm = NULL;
	size_t len = 0;
	bool same;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small_file(path, 64, &comm, &len) < 0)
		return false;
	if (len > 0 && comm[len - 1] == '\n')
		comm[--len] = '\0';
	/* comm holds at most 15 bytes of the name */
	same = len > 0 && strncmp(comm, program, len) == 0 && (len == 15 || program[len] == '\0');
	free(comm);
	return same;
}

static json_object *read_state_file(const char *run_dir, const char *name)
{
	char path[PATH_MAX], *text = NULL;
	json_object *o = NULL;

	if (snprintf(path, sizeof(path), "%s/%s" HVD_STATE_SUFFIX, run_dir, name) >=
	    (int)sizeof(path))
		return NULL;
	if (read_small_file(path, STATE_FILE_MAX, &text, NULL) < 0)
		return NULL;
	o = json_tokener_parse(text);
	free(text);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void copy_member(json_object *to, json_object *from, const char *key)
{
	json_object *v = member(from, key);

	json_add(to, key, v ? json_object_get(v) : NULL);
}

static void add_daemon(json_object *svc, const struct hvd_service *s, const char *run_dir)
{
	json_object *st = read_state_file(run_dir, s->name);
	json_object *state = member(st, "state"), *pid = member(st, "pid");
	bool running = st && pid && json_object_is_type(pid, json_type_int) &&
		       !(state && strcmp(json_object_get_string(state), "stopped") == 0) &&
		       pid_is_program((pid_t)json_object_get_int(pid), s->program);

	json_add(svc, "running", json_object_new_boolean(running));
	json_add(svc, "pid", running ? json_object_get(pid) : NULL);
	static const char *const keys[] = {"state",        "transport", "version",
					   "status",       "started",   "updated",
					   "last_request", "requests",  "details"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		copy_member(svc, st, keys[i]);
	json_object_put(st);
}

/* ---------------------------------------------------------------- KVP pools */

static json_object *auto_items(const char *run_dir)
{
	struct vmu_kvp_pool_file *pool = NULL;
	json_object *items;
	char path[PATH_MAX];
	size_t n = 0;

	if (snprintf(path, sizeof(path), "%s/%s", run_dir,
		     vmu_kvp_pool_file_name(VMU_KVP_POOL_AUTO)) >= (int)sizeof(path))
		return NULL;
	if (vmu_kvp_pool_open(path, VMU_KVP_POOL_READ_ONLY, &pool) < 0)
		return NULL;
	vmu_kvp_pool_set_lock_timeout(pool, POOL_LOCK_TIMEOUT_USEC);
	if (vmu_kvp_pool_count(pool, &n) < 0) {
		vmu_kvp_pool_free(pool);
		return NULL;
	}
	items = json_object_new_array();
	for (size_t i = 0; i < n && i < AUTO_ITEMS_MAX; i++) {
		struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
		json_object *item;

		if (vmu_kvp_pool_get_by_index(pool, i, &rec) < 0)
			break;
		item = json_object_new_object();
		json_add(item, "key", json_object_new_string(rec.key));
		json_add(item, "value", json_object_new_string(rec.value));
		json_object_array_add(items, item);
	}
	vmu_kvp_pool_free(pool);
	return items;
}

static json_object *pool_sizes(const char *state_dir)
{
	json_object *pools = json_object_new_array();

	for (int p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		json_object *o = json_object_new_object();
		char path[PATH_MAX];
		struct stat st;
		bool ok =
		    snprintf(path, sizeof(path), "%s/%s", state_dir,
			     vmu_kvp_pool_file_name((enum vmu_kvp_pool)p)) < (int)sizeof(path) &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode);

		json_add(o, "pool", json_object_new_int(p));
		json_add(o, "name", json_object_new_string(pool_names[p]));
		json_add(o, "bytes", ok ? json_object_new_int64((int64_t)st.st_size) : NULL);
		json_add(
		    o, "records",
		    ok ? json_object_new_int64((int64_t)(st.st_size / VMU_KVP_POOL_RECORD_SIZE))
		       : NULL);
		json_object_array_add(pools, o);
	}
	return pools;
}

static void add_kvp(json_object *svc, const struct conf *c, const char *run_dir)
{
	json_object *kvp = json_object_new_object();

	json_add(kvp, "auto_items", auto_items(run_dir));
	json_add(kvp, "pools", pool_sizes(conf_get_string(c, "state-dir")));
	json_add(svc, "kvp", kvp);
}

/* ---------------------------------------------------------------- all */

static int collect_one(const struct status_options *o, const struct service_info *si,
		       json_object **ret, char **ret_error)
{
	struct conf *c = NULL;
	json_object *svc;
	const char *run_dir, *by;
	int r = hvd_config_load(si->service, o->config, &c, ret_error);

	if (r < 0)
		return r;
	run_dir = o->run_dir ? o->run_dir : conf_get_string(c, "run-dir");
	by = offered_by(si->service, c);
	svc = json_object_new_object();
	json_add(svc, "service", json_object_new_string(si->service->name));
	json_add(svc, "name", json_object_new_string(si->display));
	json_add(svc, "program", json_object_new_string(si->service->program));
	json_add(svc, "offered", json_object_new_boolean(by != NULL));
	json_add(svc, "offered_by", json_string_or_null(by));
	json_add(svc, "device", json_object_new_string(conf_get_string(c, "device")));
	add_daemon(svc, si->service, run_dir);
	if (si->service->service == VMU_SERVICE_KVP)
		add_kvp(svc, c, run_dir);
	conf_free(c);
	*ret = svc;
	return 0;
}

int status_collect(const struct status_options *o, json_object **ret, char **ret_error)
{
	json_object *all = json_object_new_object(), *list = json_object_new_array();
	bool any = false, ok = true;

	json_add(all, "schema", json_object_new_int(HVGUESTCTL_SCHEMA));
	json_add(all, "services", list);
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		json_object *svc = NULL;
		int r = collect_one(o, &services[i], &svc, ret_error);
		bool offered, running;

		if (r < 0) {
			json_object_put(all);
			return r;
		}
		offered = json_object_get_boolean(member(svc, "offered"));
		running = json_object_get_boolean(member(svc, "running"));
		any |= offered;
		ok &= !offered || running;
		json_object_array_add(list, svc);
	}
	json_add(all, "host_offers_nothing", json_object_new_boolean(!any));
	json_add(all, "ok", json_object_new_boolean(ok));
	*ret = all;
	return 0;
}

int status_exit_code(json_object *status)
{
	return json_object_get_boolean(member(status, "ok")) ? 0 : 3;
}

/* ---------------------------------------------------------------- text */

/* A string member for the terminal, escaped (log_escape()): mount points, file and item
 * names come from the host or local users and must not carry terminal controls. A few
 * rotating buffers, as one printf shows several. NULL when absent. */
static const char *str(json_object *o, const char *key)
{
	static char bufs[8][4 * 2048 + 16];
	static unsigned next;
	json_object *v = member(o, key);
	char *buf = bufs[next++ % 8];

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return log_escape(json_object_get_string(v), buf, sizeof(bufs[0]));
}

static const char *when(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v = member(o, key);
	double d;
	time_t t;
	struct tm tm;

	if (!v ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return "never";
	d = json_object_get_double(v);
	/* a time a file (anyone who could write it) says: one past what time_t holds, or NaN,
	 * is no time, and converting it would be undefined */
	if (!(d > -1e15 && d < 1e15))
		return "?";
	t = (time_t)d;
	if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return "?";
	return buf;
}

static void print_kvp(json_object *kvp, FILE *f)
{
	json_object *items = member(kvp, "auto_items"), *pools = member(kvp, "pools");

	if (!items)
		fputs("    What the host reads (auto pool): not available (no snapshot, or not "
		      "readable by this user)\n",
		      f);
	else {
		fputs("    What the host reads (auto pool):\n", f);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i);

			fprintf(f, "      %-28s %s\n", str(it, "key"), str(it, "value"));
		}
	}
	fputs("    Pool files (records):", f);
	for (size_t i = 0; pools && i < json_object_array_length(pools); i++) {
		json_object *p = json_object_array_get_idx(pools, i), *b = member(p, "bytes");

		if (b)
			fprintf(f, "%s %s %" PRId64, i ? "," : "", str(p, "name"),
				json_object_get_int64(member(p, "records")));
		else
			fprintf(f, "%s %s missing", i ? "," : "", str(p, "name"));
	}
	fputs("\n", f);
}

static void print_vss(json_object *d, FILE *f)
{
	json_object *frozen = member(d, "frozen"), *last = member(d, "last_backup");
	char t1[64], t2[64];

	if (frozen) {
		json_object *m = member(frozen, "mounts");

		fprintf(f, "    FROZEN since %s, auto-thaw at %s:",
			when(frozen, "since", t1, sizeof(t1)),
			when(frozen, "auto_thaw_at", t2, sizeof(t2)));
		/* the state file is another program's: skip what is not a path */
		for (size_t i = 0;
		     json_object_is_type(m, json_type_array) && i < json_object_array_length(m);
		     i++) {
			json_object *e = json_object_array_get_idx(m, i);
			char buf[4 * PATH_MAX];

			if (json_object_is_type(e, json_type_string))
				fprintf(f, " %s",
					log_escape(json_object_get_string(e), buf, sizeof(buf)));
		}
		fputs("\n", f);
	} else
		fputs("    Frozen: nothing\n", f);
	if (!last) {
		fputs("    Last backup: none\n", f);
		return;
	}
	fprintf(f,
		"    Last backup: %s, %s; mounts %s; freeze %.3f s, frozen %.3f s, thaw %.3f s\n"
		"    Hooks: %s\n",
		when(last, "time", t1, sizeof(t1)), str(last, "result"), str(last, "mounts"),
		json_object_get_double(member(last, "freeze_usec")) / 1e6,
		json_object_get_double(member(last, "frozen_usec")) / 1e6,
		json_object_get_double(member(last, "thaw_usec")) / 1e6,
		str(last, "hooks") && *str(last, "hooks") ? str(last, "hooks") : "none");
}

static void print_fcopy(json_object *d, FILE *f)
{
	json_object *cur = member(d, "current"), *last = member(d, "last");

	if (cur) {
		double secs = json_object_get_double(member(cur, "elapsed_usec")) / 1e6;
		double done = json_object_get_double(member(cur, "done"));

		fprintf(f, "    Copying %s: %" PRId64 " of %" PRId64 " bytes (%.1f MB/s)\n",
			str(cur, "target"), json_object_get_int64(member(cur, "done")),
			json_object_get_int64(member(cur, "total")),
			secs > 0 ? done / secs / 1e6 : 0.0);
	}
	if (!last) {
		fputs("    Last copy: none\n", f);
		return;
	}
	fprintf(f, "    Last copy: %s -> %s: %s, %" PRId64 " bytes in %.3f s\n",
		str(last, "source"), str(last, "target"), str(last, "result"),
		json_object_get_int64(member(last, "written")),
		json_object_get_double(member(last, "duration_usec")) / 1e6);
}

static void print_service(json_object *svc, FILE *f)
{
	bool offered = json_object_get_boolean(member(svc, "offered"));
	bool running = json_object_get_boolean(member(svc, "running"));
	json_object *d = member(svc, "details");
	const char *name = json_object_get_string(member(svc, "service")); /* ours, not escaped */
	char t[64];

	fprintf(f, "%s (%s): %s\n", str(svc, "name"), str(svc, "program"),
		running   ? "running"
		: offered ? "NOT RUNNING (the host offers it)"
			  : "not running");
	fprintf(f, "    Offered by the host: %s", offered ? "yes" : "no");
	if (offered)
		fprintf(f, " (%s %s)", str(svc, "offered_by"), str(svc, "device"));
	fputs("\n", f);
	if (running) {
		fprintf(f, "    Daemon: pid %" PRId64 ", %s over %s, version %s\n",
			json_object_get_int64(member(svc, "pid")), str(svc, "state"),
			str(svc, "transport") ? str(svc, "transport") : "-",
			str(svc, "version") ? str(svc, "version") : "-");
		fprintf(f, "    Requests: %" PRId64 ", last at %s\n",
			json_object_get_int64(member(svc, "requests")),
			when(svc, "last_request", t, sizeof(t)));
		if (str(svc, "status"))
			fprintf(f, "    Status: %s\n", str(svc, "status"));
	}
	if (strcmp(name, "kvp") == 0)
		print_kvp(member(svc, "kvp"), f);
	else if (d && strcmp(name, "vss") == 0)
		print_vss(d, f);
	else if (d && strcmp(name, "fcopy") == 0)
		print_fcopy(d, f);
}

void status_print_text(json_object *status, FILE *f)
{
	json_object *list = member(status, "services");

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		print_service(json_object_array_get_idx(list, i), f);
		fputs("\n", f);
	}
	if (json_object_get_boolean(member(status, "host_offers_nothing")))
		fputs("The host offers none of these services (no device): nothing to run.\n", f);
	else if (json_object_get_boolean(member(status, "ok")))
		fputs("Every service the host offers has its daemon running.\n", f);
	else
		fputs("A service the host offers has no running daemon.\n", f);
}
