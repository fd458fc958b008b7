/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvp: list, get, set and delete the items of the Hyper-V KVP pools from the shell.
 *
 * Design:
 *   - Every access goes through the pool-file API of libvmbus-user, which takes both lock
 *     kinds (flock and a whole-file fcntl lock) around each read and change and updates
 *     records in place. So the tool is safe while hv-kvpd serves the host and while
 *     cloud-init or the Azure agent append records. Each pool file is opened once per run.
 *   - Paths come from hv-kvpd's own config section, loaded with the daemon's key tables
 *     (hvd-keys.c and kvp-keys.c, checked by conf.c), so the tool and the daemon never
 *     disagree about state-dir and run-dir. --state-dir and --run-dir override them. The
 *     tool links only those and the public library, not the daemon (no libsystemd, libnl).
 *   - The auto pool (2) is the daemon's: it computes the items and publishes a read-only
 *     snapshot of what the host sees in <run-dir>/.kvp_pool_2. The tool only reads it.
 *   - set is strict: an item the host would see cut (key over 254 UTF-16 units, value over
 *     1022) or that is not UTF-8 is refused, never truncated.
 *   - get and list never create anything; set creates a missing pool file (0644, by the
 *     library) but not the state directory, which belongs to hv-kvpd.
 *   - Locks wait at most hv-kvpd's pool-lock-timeout (or --lock-timeout): any local user
 *     who can read a pool file can hold its lock, and a tool that hangs for ever on it
 *     helps nobody. A lock held past the deadline is reported as such.
 *
 * Exit status: 0 success, 1 the operation failed (missing key, refused item, I/O), 2 usage.
 * Failures are reported on stderr; with --json also as {"ok":false,...} on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemons/common/hvd-keys.h"
#include "daemons/kvp/kvp-keys.h"
#include "shared/macro.h"
#include "tools/hv-kvp/output.h"
#include "vmbus-user.h"

#define EXIT_USAGE 2
/* hv-kvpd's default pool-lock-timeout, for when the configuration is not read. */
#define LOCK_TIMEOUT_DEFAULT_USEC UINT64_C(2000000)
#define LOCK_TIMEOUT_MAX_MS UINT64_C(3600000)

/* Scope cleanup (this file does not use glib). */
static void pool_freep(struct vmu_kvp_pool_file **p)
{
	vmu_kvp_pool_free(*p);
}

static void json_putp(json_object **o)
{
	json_object_put(*o);
}

#define _cleanup_pool_ _cleanup_(pool_freep)
#define _cleanup_json_ _cleanup_(json_putp)

enum command {
	COMMAND_LIST,
	COMMAND_GET,
	COMMAND_SET,
	COMMAND_DELETE,
	_COMMAND_MAX,
};

struct command_info {
	const char *name;
	int n_args; /* arguments after the command name */
	const char *usage;
};

static const struct command_info commands[_COMMAND_MAX] = {
    [COMMAND_LIST] = {"list", 0, "list"},
    [COMMAND_GET] = {"get", 1, "get KEY"},
    [COMMAND_SET] = {"set", 2, "set KEY VALUE"},
    [COMMAND_DELETE] = {"delete", 1, "delete KEY"},
};

struct pool_info {
	const char *name;
	const char *alias;
	const char *meaning;
};

static const struct pool_info pools[_VMU_KVP_POOL_MAX] = {
    [VMU_KVP_POOL_EXTERNAL] = {"external", NULL, "items the host administrator pushed in"},
    [VMU_KVP_POOL_GUEST] = {"guest", NULL, "items guest software publishes for the host"},
    [VMU_KVP_POOL_AUTO] = {"auto", NULL, "intrinsic items hv-kvpd reports to the host"},
    [VMU_KVP_POOL_AUTO_EXTERNAL] = {"host", "auto-external", "host parameters"},
    [VMU_KVP_POOL_AUTO_INTERNAL] = {"internal", "auto-internal", "unused by Linux"},
};

struct cli {
	enum command command;
	bool json;
	bool pool_given;
	enum vmu_kvp_pool pool;
	const char *config_path;
	const char *state_dir_arg, *run_dir_arg;
	char *state_dir, *run_dir;
	bool lock_timeout_given;
	uint64_t lock_timeout_usec;
	char **args; /* after the command name */
	int n_args;
};

static void usage(FILE *f)
{
	fputs("Usage: hv-kvp [OPTIONS] list\n"
	      "       hv-kvp [OPTIONS] get KEY\n"
	      "       hv-kvp [OPTIONS] set KEY VALUE\n"
	      "       hv-kvp [OPTIONS] delete KEY\n"
	      "Read and change the Hyper-V KVP pools shared with hv-kvpd and the host.\n\n"
	      "  -p, --pool POOL      external|guest|auto|host|internal or 0-4\n"
	      "                       (default: guest; list without --pool lists every pool)\n"
	      "      --json           print results as JSON\n"
	      "      --state-dir DIR  directory of the pool files (default: from the config)\n"
	      "      --run-dir DIR    where hv-kvpd publishes the auto pool (default: config)\n"
	      "      --lock-timeout MS  give up on a pool file another program keeps locked\n"
	      "                       after MS milliseconds (default: config, 2000)\n"
	      "  -c, --config FILE    hv-kvpd's config file (default: " SYSCONFDIR
	      "/hvguest/hvguest.conf)\n"
	      "  -h, --help           show this help\n"
	      "  -V, --version        show the version\n\n"
	      "Use -- before a VALUE that starts with '-'. See hv-kvp(1).\n",
	      f);
}

static int usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *format, ...)
{
	va_list ap;

	fputs("hv-kvp: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputs("\nTry 'hv-kvp --help'.\n", stderr);
	return EXIT_USAGE;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int vfail(const struct cli *c, int error, bool with_strerror, const char *format, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vfail(const struct cli *c, int error, bool with_strerror, const char *format, va_list ap)
{
	char message[1024];
	int n = vsnprintf(message, sizeof(message), format, ap);

	if (n >= 0 && with_strerror && error > 0 && (size_t)n < sizeof(message))
		snprintf(message + n, sizeof(message) - (size_t)n, ": %s", strerror(error));
	fprintf(stderr, "hv-kvp: %s\n", message);
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(message));
		json_object_object_add(o, "errno", json_object_new_int(error));
		print_json(o);
		json_object_put(o);
	}
	return EXIT_FAILURE;
}

/* Reports a failed operation (exit status 1) with the text of error (a positive errno, also
 * put into the JSON object) appended: for system calls that failed. */
static int fail(const struct cli *c, int error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const struct cli *c, int error, const char *format, ...)
{
	va_list ap;
	int status;

	va_start(ap, format);
	status = vfail(c, error, true, format, ap);
	va_end(ap);
	return status;
}

/* The same for outcomes the message explains by itself (a refused item, a missing key):
 * error only goes into the JSON object. */
static int refuse(const struct cli *c, int error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(const struct cli *c, int error, const char *format, ...)
{
	va_list ap;
	int status;

	va_start(ap, format);
	status = vfail(c, error, false, format, ap);
	va_end(ap);
	return status;
}

/* ---------------------------------------------------------------- pools and paths */

static int parse_pool(const char *s, enum vmu_kvp_pool *ret)
{
	for (enum vmu_kvp_pool p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		char number[2] = {(char)('0' + p), '\0'};

		if (strcmp(s, pools[p].name) == 0 || strcmp(s, number) == 0 ||
		    (pools[p].alias && strcmp(s, pools[p].alias) == 0)) {
			*ret = p;
			return 0;
		}
	}
	return -EINVAL;
}

/* <state-dir>/.kvp_pool_N, or <run-dir>/.kvp_pool_2 for the auto pool; NULL when out of
 * memory. */
static char *pool_path(const struct cli *c, enum vmu_kvp_pool pool)
{
	const char *dir = pool == VMU_KVP_POOL_AUTO ? c->run_dir : c->state_dir;
	const char *name = vmu_kvp_pool_file_name(pool);
	size_t size = strlen(dir) + 1 + strlen(name) + 1;
	char *path = malloc(size);

	if (path)
		snprintf(path, size, "%s/%s", dir, name);
	return path;
}

/* Opens path with the lock deadline set. */
static int open_path(const struct cli *c, const char *path, unsigned flags,
		     struct vmu_kvp_pool_file **ret)
{
	struct vmu_kvp_pool_file *f = NULL;
	int r = vmu_kvp_pool_open(path, flags, &f);

	if (r >= 0)
		r = vmu_kvp_pool_set_lock_timeout(f, c->lock_timeout_usec);
	if (r < 0) {
		vmu_kvp_pool_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

static int open_pool(const struct cli *c, const char *path, enum vmu_kvp_pool pool, bool for_change,
		     struct vmu_kvp_pool_file **ret)
{
	unsigned flags = for_change ? VMU_KVP_POOL_CREATE : VMU_KVP_POOL_READ_ONLY;

	if (pool == VMU_KVP_POOL_AUTO)
		flags = VMU_KVP_POOL_READ_ONLY;
	return open_path(c, path, flags, ret);
}

/* The library gives -EISDIR or -EINVAL (by open mode) for a path that is not a regular
 * file; say what that means rather than "Invalid argument". */
static int open_failed(const struct cli *c, int r, const char *path)
{
	if (r == -EISDIR || r == -EINVAL)
		return refuse(c, -r, "cannot open %s: not a regular file", path);
	if (r == -ELOOP)
		return refuse(c, -r, "cannot open %s: a symbolic link, which is never followed",
			      path);
	return fail(c, -r, "cannot open %s", path);
}

/* An operation on an open pool failed ("read" or "write"); a lock held past the deadline is
 * said as such rather than as strerror(ETIMEDOUT). */
static int pool_failed(const struct cli *c, int r, const char *what, const char *path)
{
	if (r == -ETIMEDOUT)
		return refuse(c, -r,
			      "cannot %s %s: another process kept it locked for more than %" PRIu64
			      " ms",
			      what, path, c->lock_timeout_usec / 1000);
	return fail(c, -r, "cannot %s %s", what, path);
}

static const char *auto_missing_text(void)
{
	return "hv-kvpd is not running or has not published the auto pool";
}

/* ---------------------------------------------------------------- JSON and text items */

static json_object *json_string_sanitized(const char *s, size_t len, bool *replaced)
{
	_cleanup_free_ char *clean = NULL;
	size_t clean_len;
	bool r;

	clean = utf8_sanitize(s, len, &clean_len, &r);
	if (!clean)
		return NULL;
	*replaced = *replaced || r;
	return json_object_new_string_len(clean, (int)clean_len);
}

/* {"pool":NAME,"key":KEY,"value":VALUE} (value omitted when NULL); bytes that are not
 * UTF-8 become U+FFFD and add "invalid_utf8":true. NULL when out of memory. */
static json_object *json_item(enum vmu_kvp_pool pool, const char *key, size_t key_len,
			      const char *value, size_t value_len)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *k, *v = NULL;
	bool replaced = false;

	if (!o)
		return NULL;
	k = json_string_sanitized(key, key_len, &replaced);
	if (value)
		v = json_string_sanitized(value, value_len, &replaced);
	if (!k || (value && !v)) {
		json_object_put(k);
		json_object_put(v);
		return NULL;
	}
	json_object_object_add(o, "pool", json_object_new_string(pools[pool].name));
	json_object_object_add(o, "key", k);
	if (v)
		json_object_object_add(o, "value", v);
	if (replaced)
		json_object_object_add(o, "invalid_utf8", json_object_new_boolean(true));
	return json_object_get(o);
}

static void print_item_line(const struct vmu_kvp_pool_record *rec)
{
	print_escaped(stdout, rec->key, rec->key_len, true);
	putchar('=');
	print_escaped(stdout, rec->value, rec->value_len, false);
	putchar('\n');
}

/* ---------------------------------------------------------------- list */

/* Appends every item of an open pool to array (JSON) or prints it. */
static int list_records(const struct cli *c, struct vmu_kvp_pool_file *f, enum vmu_kvp_pool pool,
			json_object *array, const char *path)
{
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	size_t count;
	int r;

	r = vmu_kvp_pool_count(f, &count);
	if (r < 0)
		return pool_failed(c, r, "read", path);
	for (size_t i = 0; i < count; i++) {
		r = vmu_kvp_pool_get_by_index(f, i, &rec);
		if (r == -ENOENT)
			break; /* the file shrank meanwhile: the rest is gone */
		if (r < 0)
			return pool_failed(c, r, "read", path);
		if (!array) {
			print_item_line(&rec);
			continue;
		}
		json_object *item = json_item(pool, rec.key, rec.key_len, rec.value, rec.value_len);

		if (!item)
			return fail(c, ENOMEM, "cannot list %s", path);
		json_object_array_add(array, item);
	}
	return EXIT_SUCCESS;
}

/* A missing pool file: the auto pool's absence is an error when asked for by name; any
 * other pool is listed as empty with a note. */
static int list_missing(const struct cli *c, enum vmu_kvp_pool pool, const char *path)
{
	if (pool == VMU_KVP_POOL_AUTO && c->pool_given)
		return refuse(c, ENOENT, "%s (%s missing)", auto_missing_text(), path);
	if (pool == VMU_KVP_POOL_AUTO)
		fprintf(stderr, "hv-kvp: %s (%s missing)\n", auto_missing_text(), path);
	else
		fprintf(stderr, "hv-kvp: %s does not exist, pool %s is empty\n", path,
			pools[pool].name);
	return EXIT_SUCCESS;
}

static int list_pool(const struct cli *c, enum vmu_kvp_pool pool, json_object *array)
{
	_cleanup_free_ char *path = pool_path(c, pool);
	_cleanup_pool_ struct vmu_kvp_pool_file *f = NULL;
	int r;

	if (!path)
		return fail(c, ENOMEM, "cannot list pool %s", pools[pool].name);
	if (!c->pool_given && !array)
		printf("%s# pool %d %s (%s): %s\n", pool == 0 ? "" : "\n", (int)pool,
		       pools[pool].name, pools[pool].meaning, path);
	r = open_pool(c, path, pool, false, &f);
	if (r == -ENOENT)
		return list_missing(c, pool, path);
	if (r < 0)
		return open_failed(c, r, path);
	return list_records(c, f, pool, array, path);
}

static int command_list(const struct cli *c)
{
	_cleanup_json_ json_object *array = c->json ? json_object_new_array() : NULL;
	int status = EXIT_SUCCESS;

	if (c->json && !array)
		return fail(c, ENOMEM, "cannot list");
	for (enum vmu_kvp_pool p = 0; p < _VMU_KVP_POOL_MAX; p++) {
		if (c->pool_given && p != c->pool)
			continue;
		if (list_pool(c, p, array) == EXIT_SUCCESS)
			continue;
		status = EXIT_FAILURE;
		/* text goes on with the other pools; JSON stays one document on stdout */
		if (c->json)
			break;
	}
	/* with --json a failure has printed its own object already */
	if (array && status == EXIT_SUCCESS)
		print_json(array);
	return status;
}

/* ---------------------------------------------------------------- get */

static int command_get(const struct cli *c)
{
	const char *key = c->args[0];
	_cleanup_free_ char *path = pool_path(c, c->pool);
	_cleanup_pool_ struct vmu_kvp_pool_file *f = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	int r;

	if (!path)
		return fail(c, ENOMEM, "cannot read pool %s", pools[c->pool].name);
	r = open_pool(c, path, c->pool, false, &f);
	if (r == -ENOENT && c->pool == VMU_KVP_POOL_AUTO)
		return refuse(c, ENOENT, "%s (%s missing)", auto_missing_text(), path);
	if (r == -ENOENT)
		return refuse(c, ENOENT, "no such key in pool %s (%s does not exist)",
			      pools[c->pool].name, path);
	if (r < 0)
		return open_failed(c, r, path);
	r = vmu_kvp_pool_get(f, key, &rec);
	if (r == -ENOENT)
		return refuse(c, ENOENT, "no such key in pool %s (%s)", pools[c->pool].name, path);
	if (r < 0)
		return pool_failed(c, r, "read", path);
	if (!c->json) {
		fwrite(rec.value, 1, rec.value_len, stdout);
		putchar('\n');
		return EXIT_SUCCESS;
	}
	o = json_item(c->pool, rec.key, rec.key_len, rec.value, rec.value_len);
	if (!o)
		return fail(c, ENOMEM, "cannot print the item");
	print_json(o);
	return EXIT_SUCCESS;
}

/* ---------------------------------------------------------------- set and delete */

static int print_ok(const struct cli *c, const char *key, const char *value)
{
	_cleanup_json_ json_object *o = NULL;

	if (!c->json)
		return EXIT_SUCCESS;
	o = json_item(c->pool, key, strlen(key), value, value ? strlen(value) : 0);
	if (!o)
		return fail(c, ENOMEM, "cannot print the result");
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	print_json(o);
	return EXIT_SUCCESS;
}

static int refuse_auto(const struct cli *c)
{
	return refuse(c, EROFS,
		      "the auto pool belongs to hv-kvpd, which computes its items; it cannot be "
		      "changed");
}

/* Checks what the library would accept and what the host would see whole; prints why an
 * item is refused. Returns EXIT_SUCCESS when it may be written. */
static int check_item(const struct cli *c, const char *key, const char *value)
{
	size_t key_len = strlen(key), value_len = strlen(value);
	int r;

	if (key_len == 0)
		return refuse(c, EINVAL, "refusing an empty key");
	if (!vmu_utf8_valid(key, key_len))
		return refuse(c, EILSEQ, "refusing the key: it is not valid UTF-8");
	if (!vmu_utf8_valid(value, value_len))
		return refuse(c, EILSEQ, "refusing the value: it is not valid UTF-8");
	r = vmu_kvp_pool_check_host_limits(key, value);
	if (r == -ENAMETOOLONG)
		return refuse(
		    c, ENAMETOOLONG,
		    "refusing the key: it is %zu UTF-16 units long, the host sees at most "
		    "%d and would cut it",
		    utf8_utf16_units(key, key_len), VMU_KVP_HOST_MAX_KEY_UNITS);
	if (r == -E2BIG)
		return refuse(c, E2BIG,
			      "refusing the value: it is %zu UTF-16 units long, the host sees at "
			      "most %d and would cut it",
			      utf8_utf16_units(value, value_len), VMU_KVP_HOST_MAX_VALUE_UNITS);
	if (r < 0)
		return fail(c, -r, "refusing the item");
	if (key_len >= VMU_KVP_MAX_KEY_SIZE)
		return refuse(c, ENAMETOOLONG,
			      "refusing the key: it is %zu bytes of UTF-8, a pool record holds at "
			      "most %d",
			      key_len, VMU_KVP_MAX_KEY_SIZE - 1);
	if (value_len >= VMU_KVP_MAX_VALUE_SIZE)
		return refuse(
		    c, E2BIG,
		    "refusing the value: it is %zu bytes of UTF-8, a pool record holds at "
		    "most %d",
		    value_len, VMU_KVP_MAX_VALUE_SIZE - 1);
	return EXIT_SUCCESS;
}

static int command_set(const struct cli *c)
{
	const char *key = c->args[0], *value = c->args[1];
	_cleanup_free_ char *path = NULL;
	_cleanup_pool_ struct vmu_kvp_pool_file *f = NULL;
	int r;

	if (c->pool == VMU_KVP_POOL_AUTO)
		return refuse_auto(c);
	if (check_item(c, key, value) != EXIT_SUCCESS)
		return EXIT_FAILURE;
	path = pool_path(c, c->pool);
	if (!path)
		return fail(c, ENOMEM, "cannot change pool %s", pools[c->pool].name);
	r = open_pool(c, path, c->pool, true, &f);
	if (r < 0)
		return open_failed(c, r, path);
	r = vmu_kvp_pool_set(f, key, value);
	if (r < 0)
		return pool_failed(c, r, "write", path);
	return print_ok(c, key, value);
}

static int command_delete(const struct cli *c)
{
	const char *key = c->args[0];
	_cleanup_free_ char *path = NULL;
	_cleanup_pool_ struct vmu_kvp_pool_file *f = NULL;
	int r;

	if (c->pool == VMU_KVP_POOL_AUTO)
		return refuse_auto(c);
	path = pool_path(c, c->pool);
	if (!path)
		return fail(c, ENOMEM, "cannot change pool %s", pools[c->pool].name);
	/* no VMU_KVP_POOL_CREATE: deleting from a missing file creates nothing */
	r = open_path(c, path, 0, &f);
	if (r == -ENOENT)
		return refuse(c, ENOENT, "no such key in pool %s (%s does not exist)",
			      pools[c->pool].name, path);
	if (r < 0)
		return open_failed(c, r, path);
	r = vmu_kvp_pool_delete(f, key);
	if (r == -ENOENT)
		return refuse(c, ENOENT, "no such key in pool %s (%s)", pools[c->pool].name, path);
	if (r < 0)
		return pool_failed(c, r, "write", path);
	return print_ok(c, key, NULL);
}

/* ---------------------------------------------------------------- command line */

enum {
	OPT_JSON = 0x100,
	OPT_STATE_DIR,
	OPT_RUN_DIR,
	OPT_LOCK_TIMEOUT,
};

/* Milliseconds, decimal digits only, at most LOCK_TIMEOUT_MAX_MS. */
static int parse_lock_timeout(const char *s, uint64_t *ret_usec)
{
	char *end;
	unsigned long long ms;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	ms = strtoull(s, &end, 10);
	if (errno || *end || ms > LOCK_TIMEOUT_MAX_MS)
		return -EINVAL;
	*ret_usec = (uint64_t)ms * 1000;
	return 0;
}

/* Returns -1 to continue, else the exit status. */
static int parse_options(struct cli *c, int argc, char **argv)
{
	static const struct option options[] = {
	    {"pool", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
	    {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_pool(optarg, &c->pool) < 0)
				return usage_error("unknown pool '%s' (use external, guest, auto, "
						   "host, internal or 0-4)",
						   optarg);
			c->pool_given = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_STATE_DIR:
			c->state_dir_arg = optarg;
			break;
		case OPT_RUN_DIR:
			c->run_dir_arg = optarg;
			break;
		case OPT_LOCK_TIMEOUT:
			if (parse_lock_timeout(optarg, &c->lock_timeout_usec) < 0)
				return usage_error("bad lock timeout '%s' (milliseconds, 0-%" PRIu64
						   ")",
						   optarg, LOCK_TIMEOUT_MAX_MS);
			c->lock_timeout_given = true;
			break;
		case 'c':
			c->config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			puts("hv-kvp " PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
}

static int parse_command(struct cli *c, int argc, char **argv)
{
	const char *name;

	if (optind >= argc)
		return usage_error("no command given (list, get, set or delete)");
	name = argv[optind];
	for (enum command i = 0; i < _COMMAND_MAX; i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		c->command = i;
		c->args = argv + optind + 1;
		c->n_args = argc - optind - 1;
		if (c->n_args != commands[i].n_args)
			return usage_error("usage: hv-kvp [OPTIONS] %s", commands[i].usage);
		if (!c->pool_given)
			c->pool = VMU_KVP_POOL_GUEST;
		return -1;
	}
	return usage_error("unknown command '%s' (list, get, set or delete)", name);
}

/* Copies the directories and the lock deadline: the options where given, else the config's
 * (conf may be NULL when both directories are given). */
static int copy_dirs(struct cli *c, const struct conf *conf)
{
	const char *state =
	    c->state_dir_arg ? c->state_dir_arg : conf_get_string(conf, "state-dir");
	const char *run = c->run_dir_arg ? c->run_dir_arg : conf_get_string(conf, "run-dir");

	if (!c->lock_timeout_given)
		c->lock_timeout_usec =
		    conf ? conf_get_usec(conf, "pool-lock-timeout") : LOCK_TIMEOUT_DEFAULT_USEC;
	c->state_dir = strdup(state);
	c->run_dir = strdup(run);
	if (!c->state_dir || !c->run_dir)
		return fail(c, ENOMEM, "cannot start");
	return EXIT_SUCCESS;
}

/* state-dir and run-dir: the options, else hv-kvpd's config. The config is read only when
 * needed or named with -c, and a missing default file means the defaults. */
static int resolve_dirs(struct cli *c)
{
	struct conf *conf = NULL;
	char *error = NULL;
	int status, r;

	if (!c->config_path && c->state_dir_arg && c->run_dir_arg)
		return copy_dirs(c, NULL);
	r = hvd_keys_load(VMU_SERVICE_KVP, KVPD_SECTION, kvpd_keys, c->config_path, &conf, &error);
	if (r < 0) {
		/* the message names the file, the line and the key */
		status = error ? refuse(c, -r, "%s", error)
			       : fail(c, -r, "cannot load the configuration");
		free(error);
		return status;
	}
	status = copy_dirs(c, conf);
	conf_free(conf);
	return status;
}

static int run_command(const struct cli *c)
{
	switch (c->command) {
	case COMMAND_LIST:
		return command_list(c);
	case COMMAND_GET:
		return command_get(c);
	case COMMAND_SET:
		return command_set(c);
	case COMMAND_DELETE:
		return command_delete(c);
	case _COMMAND_MAX:
		break;
	}
	return EXIT_USAGE;
}

static int run(struct cli *c, int argc, char **argv)
{
	int status;

	status = parse_options(c, argc, argv);
	if (status >= 0)
		return status;
	status = parse_command(c, argc, argv);
	if (status >= 0)
		return status;
	status = resolve_dirs(c);
	if (status != EXIT_SUCCESS)
		return status;
	return run_command(c);
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	int status = run(&c, argc, argv);

	free(c.state_dir);
	free(c.run_dir);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "hv-kvp: cannot write the output: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return status;
}
