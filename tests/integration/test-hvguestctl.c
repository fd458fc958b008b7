/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the real hvguestctl binary reading what the real hv-kvpd, hv-vssd and
 * hv-fcopyd publish while the simulated host (hvsim, in this process) talks to them.
 *
 *   /hvguestctl/all-up          three daemons, a request of each kind: status --json passes
 *                               the schema check, shows the auto-pool items, the last backup
 *                               and the last copy; exit 0; the text output agrees
 *   /hvguestctl/daemon-killed   SIGKILL to hv-fcopyd: its stale state file reads "not
 *                               running", the exit status becomes 3
 *   /hvguestctl/nothing-offered no device at all: exit 0 and it says so
 *   /hvguestctl/fcopy-uio       file copy offered through the UIO device only: offered,
 *                               transport uio; exit 3 once hv-fcopyd is killed
 *   /hvguestctl/frozen-and-thaw (root) a loop-mounted ext4 image in a private mount
 *                               namespace, frozen by hv-vssd: status shows it; hv-vssd is
 *                               killed while frozen; `hvguestctl thaw` thaws it and leaves
 *                               alone a mount someone else froze whose path is in the record
 *                               under another identity; a second thaw is harmless
 *
 * Safety: the frozen test runs only as root in its own mount namespace (sandbox_enter),
 * scope= and include= name only its own image, `hvguestctl plan` must list exactly that
 * mount before the FREEZE, and the abort handler and the test thaw and unmount its mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC UINT64_C(1000000)
#define STATE_SETTLE_USEC (400 * 1000) /* > HVD_STATE_INTERVAL_USEC */

static const char *root_skip_reason;
static char abort_mounts[2][4096];

struct fixture {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *kvpd, *vssd, *fcopyd;
	char *scope, *dest;
	const char *fcopy_transport; /* the [fcopy] transport= line and its keys */
};

/* One config with all three sections; sockets env->dir/<service>.sock. */
static void write_config(struct fixture *f, const char *vss_extra)
{
	const char *d = f->env->dir;
	g_autofree char *owner = getuid() != 0
				     ? g_strdup_printf("file-owner=%u\nfile-group=%u\n",
						       (unsigned)getuid(), (unsigned)getgid())
				     : g_strdup("");
	g_autofree char *text = g_strdup_printf(
	    "[kvp]\ndevice=unix:%s/kvp.sock\nstate-dir=%s\nrun-dir=%s\nlog-target=stderr\n"
	    "[vss]\ndevice=unix:%s/vss.sock\nstate-dir=%s\nrun-dir=%s\nlog-target=stderr\n"
	    "scope=%s\ninclude=%s/*\nhooks-dir=%s/hooks\n%s"
	    "[fcopy]\ndevice=unix:%s/fcopy.sock\nstate-dir=%s\nrun-dir=%s\nlog-target=stderr\n"
	    "%s\n%s",
	    d, f->env->state_dir, f->env->run_dir, d, f->env->state_dir, f->env->run_dir, f->scope,
	    f->scope, d, vss_extra ? vss_extra : "", d, f->env->state_dir, f->env->run_dir,
	    f->fcopy_transport, owner);

	g_assert_true(g_file_set_contents(f->env->config_path, text, -1, NULL));
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->env = test_env_new(VMU_SERVICE_KVP, NULL);
	f->scope = g_build_filename(f->env->dir, "scope", NULL);
	f->dest = g_build_filename(f->env->dir, "dest", NULL);
	g_assert_cmpint(g_mkdir(f->scope, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
	g_autofree char *hooks = g_build_filename(f->env->dir, "hooks", NULL);
	g_assert_cmpint(g_mkdir(hooks, 0755), ==, 0);
	f->fcopy_transport = "transport=chardev";
	write_config(f, NULL);
	g_assert_cmpint(hvsim_new(NULL, &f->sim), ==, 0);
	hvsim_set_host_timeout(f->sim, 30 * SEC);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	struct test_daemon *all[] = {f->kvpd, f->vssd, f->fcopyd};

	for (size_t i = 0; i < 3; i++) {
		if (all[i] && g_test_failed()) {
			g_autofree char *log = test_daemon_log(all[i]);
			g_test_message("daemon log:\n%s", log);
		}
		test_daemon_free(all[i]);
	}
	hvsim_free(f->sim);
	test_env_free(f->env);
	g_free(f->scope);
	g_free(f->dest);
}

static void listen_all(struct fixture *f)
{
	static const char *const names[] = {"kvp", "vss", "fcopy"};
	static const enum vmu_service svc[] = {VMU_SERVICE_KVP, VMU_SERVICE_VSS, VMU_SERVICE_FCOPY};

	for (size_t i = 0; i < 3; i++) {
		g_autofree char *sock = g_strdup_printf("%s/%s.sock", f->env->dir, names[i]);
		g_assert_cmpint(hvsim_listen(f->sim, svc[i], sock), ==, 0);
	}
}

static void start_all(struct fixture *f)
{
	f->kvpd = test_daemon_start(f->env, "daemons/kvp/hv-kvpd", NULL);
	f->vssd = test_daemon_start(f->env, "daemons/vss/hv-vssd", NULL);
	f->fcopyd = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_VSS, 10 * SEC), ==, 0);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
}

/* Runs hvguestctl with args; returns its exit status, *ret_out its stdout. */
static int ctl(struct fixture *f, const char *const *args, char **ret_out)
{
	g_autofree char *bin = test_build_path("tools/hvguestctl/hvguestctl");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *err = NULL;
	int status = -1;

	/* Let the daemons' rate-limited state writes land first. */
	hvsim_run_for(f->sim, STATE_SETTLE_USEC);
	g_ptr_array_add(argv, bin);
	g_ptr_array_add(argv, (gpointer) "--config");
	g_ptr_array_add(argv, f->env->config_path);
	for (; *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   ret_out, &err, &status, NULL));
	if (err && *err)
		g_test_message("hvguestctl stderr: %s", err);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ---------------------------------------------------------------- the schema */

static json_object *get(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		g_error("member %s missing in %s", key, json_object_to_json_string(o));
	if (type != json_type_null && !json_object_is_type(v, type))
		g_error("member %s is not of type %s: %s", key, json_type_to_name(type),
			json_object_to_json_string(o));
	return v;
}

/* json_type_null here: null or the type given */
static void nullable(json_object *o, const char *key, json_type type)
{
	json_object *v = get(o, key, json_type_null);

	if (v && !json_object_is_type(v, type) &&
	    !(type == json_type_double && json_object_is_type(v, json_type_int)))
		g_error("member %s is neither null nor %s", key, json_type_to_name(type));
}

/* Checks every member hvguestctl(8) documents; returns the services by name. */
static json_object *check_schema(const char *text, json_object **ret_kvp, json_object **ret_vss,
				 json_object **ret_fcopy)
{
	json_object *o = json_tokener_parse(text), *list;

	g_assert_nonnull(o);
	g_assert_cmpint(json_object_get_int(get(o, "schema", json_type_int)), ==, 1);
	get(o, "host_offers_nothing", json_type_boolean);
	get(o, "ok", json_type_boolean);
	list = get(o, "services", json_type_array);
	g_assert_cmpuint(json_object_array_length(list), ==, 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *s = json_object_array_get_idx(list, i);
		const char *name = json_object_get_string(get(s, "service", json_type_string));

		get(s, "name", json_type_string);
		get(s, "program", json_type_string);
		get(s, "offered", json_type_boolean);
		nullable(s, "offered_by", json_type_string);
		get(s, "device", json_type_string);
		get(s, "running", json_type_boolean);
		nullable(s, "pid", json_type_int);
		nullable(s, "state", json_type_string);
		nullable(s, "transport", json_type_string);
		nullable(s, "version", json_type_string);
		nullable(s, "status", json_type_string);
		nullable(s, "started", json_type_double);
		nullable(s, "updated", json_type_double);
		nullable(s, "last_request", json_type_double);
		nullable(s, "requests", json_type_int);
		nullable(s, "details", json_type_object);
		if (strcmp(name, "kvp") == 0) {
			json_object *kvp = get(s, "kvp", json_type_object);
			json_object *pools = get(kvp, "pools", json_type_array);

			nullable(kvp, "auto_items", json_type_array);
			g_assert_cmpuint(json_object_array_length(pools), ==, 5);
			*ret_kvp = s;
		} else if (strcmp(name, "vss") == 0)
			*ret_vss = s;
		else if (strcmp(name, "fcopy") == 0)
			*ret_fcopy = s;
		else
			g_error("unknown service %s", name);
	}
	return o;
}

static bool running(json_object *s)
{
	return json_object_get_boolean(get(s, "running", json_type_boolean));
}

static const char *item_value(json_object *kvp, const char *key)
{
	json_object *items = get(get(kvp, "kvp", json_type_object), "auto_items", json_type_array);

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i);

		if (strcmp(json_object_get_string(get(it, "key", json_type_string)), key) == 0)
			return json_object_get_string(get(it, "value", json_type_string));
	}
	return NULL;
}

/* ---------------------------------------------------------------- tests */

static void test_all_up(struct fixture *f, gconstpointer data)
{
	g_autofree char *src = g_build_filename(f->env->dir, "src", NULL);
	g_autofree char *out = NULL, *text = NULL, *osname = NULL;
	json_object *kvp = NULL, *vss = NULL, *fcopy = NULL, *o, *last, *d;
	struct hvsim_result res;

	listen_all(f);
	start_all(f);
	g_assert_cmpint(hvsim_kvp_get(f->sim, VMU_KVP_POOL_AUTO, "OSName", &res), ==, 0);
	g_assert_cmpint(res.status, ==, 0);
	osname = g_strdup(res.value);
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_FREEZE, &res), ==, 0);
	g_assert_cmpint(res.status, ==, 0);
	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_THAW, &res), ==, 0);
	g_assert_true(g_file_set_contents(src, "hello\n", -1, NULL));
	g_assert_cmpint(hvsim_fcopy_file(f->sim, src, f->dest, "f\xc3\xa9.txt", 0, &res), ==, 0);
	g_assert_cmpint(res.status, ==, 0);

	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out), ==, 0);
	o = check_schema(out, &kvp, &vss, &fcopy);
	g_assert_false(json_object_get_boolean(get(o, "host_offers_nothing", json_type_boolean)));
	g_assert_true(json_object_get_boolean(get(o, "ok", json_type_boolean)));
	g_assert_true(running(kvp) && running(vss) && running(fcopy));
	g_assert_cmpint(json_object_get_int(get(kvp, "pid", json_type_int)), ==, f->kvpd->pid);
	g_assert_cmpstr(json_object_get_string(get(kvp, "state", json_type_string)), ==,
			"connected");
	g_assert_cmpint(json_object_get_int(get(kvp, "requests", json_type_int)), >=, 1);
	g_assert_cmpstr(item_value(kvp, "OSName"), ==, osname);
	d = get(vss, "details", json_type_object);
	g_assert_cmpstr(json_object_get_string(get(d, "phase", json_type_string)), ==, "idle");
	g_assert_true(json_object_is_type(get(d, "frozen", json_type_null), json_type_null));
	last = get(d, "last_backup", json_type_object);
	g_assert_cmpstr(json_object_get_string(get(last, "result", json_type_string)), ==, "ok");
	d = get(fcopy, "details", json_type_object);
	last = get(d, "last", json_type_object);
	g_assert_cmpstr(json_object_get_string(get(last, "result", json_type_string)), ==,
			"completed");
	g_assert_cmpstr(json_object_get_string(get(last, "source", json_type_string)), ==,
			"f\xc3\xa9.txt");
	g_assert_cmpint(json_object_get_int(get(last, "written", json_type_int)), ==, 6);
	json_object_put(o);

	g_assert_cmpint(ctl(f, (const char *[]){"status", NULL}, &text), ==, 0);
	g_assert_nonnull(strstr(text, "Key-Value Pair Exchange (hv-kvpd): running"));
	g_assert_nonnull(strstr(text, "Last backup: "));
	g_assert_nonnull(strstr(text, "Last copy: "));
	g_assert_nonnull(strstr(text, "Every service the host offers has its daemon running"));
}

static void test_daemon_killed(struct fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *text = NULL;
	json_object *kvp = NULL, *vss = NULL, *fcopy = NULL, *o;

	listen_all(f);
	start_all(f);
	g_assert_cmpint(ctl(f, (const char *[]){"status", NULL}, &text), ==, 0);
	g_assert_true(WIFSIGNALED(test_daemon_stop(f->fcopyd, SIGKILL, 5000)));
	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out), ==, 3);
	o = check_schema(out, &kvp, &vss, &fcopy);
	g_assert_false(json_object_get_boolean(get(o, "ok", json_type_boolean)));
	g_assert_true(running(kvp) && running(vss));
	g_assert_false(running(fcopy));
	g_assert_true(json_object_get_boolean(get(fcopy, "offered", json_type_boolean)));
	g_assert_true(json_object_is_type(get(fcopy, "pid", json_type_null), json_type_null));
	json_object_put(o);
	g_free(text);
	g_assert_cmpint(ctl(f, (const char *[]){"status", NULL}, &text), ==, 3);
	g_assert_nonnull(strstr(text, "NOT RUNNING (the host offers it)"));
}

static void test_nothing_offered(struct fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *text = NULL;
	json_object *kvp = NULL, *vss = NULL, *fcopy = NULL, *o;

	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out), ==, 0);
	o = check_schema(out, &kvp, &vss, &fcopy);
	g_assert_true(json_object_get_boolean(get(o, "host_offers_nothing", json_type_boolean)));
	g_assert_false(json_object_get_boolean(get(kvp, "offered", json_type_boolean)));
	g_assert_false(running(kvp) || running(vss) || running(fcopy));
	json_object_put(o);
	g_assert_cmpint(ctl(f, (const char *[]){"status", NULL}, &text), ==, 0);
	g_assert_nonnull(strstr(text, "The host offers none of these services"));
}

/* File copy over UIO: offered because the VMBus device is there (no char device), and the
 * daemon's transport is the ring. */
static void test_fcopy_uio(struct fixture *f, gconstpointer data)
{
	g_autofree char *sys = g_build_filename(f->env->dir, "sys", NULL);
	g_autofree char *dev = g_build_filename(f->env->dir, "dev", NULL);
	g_autofree char *line =
	    g_strdup_printf("transport=uio\nsysfs-root=%s\nuio-dev-dir=%s", sys, dev);
	g_autofree char *out = NULL, *out2 = NULL;
	json_object *kvp = NULL, *vss = NULL, *fcopy = NULL, *o;

	f->fcopy_transport = line;
	write_config(f, NULL);
	g_assert_cmpint(hvsim_listen_uio(f->sim, sys, dev, 0), ==, 0);
	f->fcopyd = test_daemon_start(f->env, "daemons/fcopy/hv-fcopyd", NULL);
	g_assert_cmpint(hvsim_wait_registered(f->sim, VMU_SERVICE_FCOPY, 10 * SEC), ==, 0);
	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out), ==, 0);
	o = check_schema(out, &kvp, &vss, &fcopy);
	g_assert_cmpstr(json_object_get_string(get(fcopy, "offered_by", json_type_string)), ==,
			"uio");
	g_assert_true(running(fcopy));
	g_assert_cmpstr(json_object_get_string(get(fcopy, "transport", json_type_string)), ==,
			"uio");
	g_assert_false(json_object_get_boolean(get(kvp, "offered", json_type_boolean)));
	json_object_put(o);
	g_assert_true(WIFSIGNALED(test_daemon_stop(f->fcopyd, SIGKILL, 5000)));
	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out2), ==, 3);
}

/* ---------------------------------------------------------------- frozen (root) */

static void on_abort(int sig)
{
	for (size_t i = 0; i < 2; i++) {
		int fd;

		if (!abort_mounts[i][0])
			continue;
		fd = open(abort_mounts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			ioctl(fd, FITHAW, 0);
			close(fd);
		}
		umount2(abort_mounts[i], MNT_DETACH);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run(const char *const *argv)
{
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
			  &status, NULL))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void make_ext4(struct fixture *f, const char *name, const char *dir, size_t slot)
{
	g_autofree char *img = g_strdup_printf("%s/%s.img", f->env->dir, name);

	g_assert_cmpint(run((const char *[]){"truncate", "-s", "32M", img, NULL}), ==, 0);
	g_assert_cmpint(run((const char *[]){"mkfs.ext4", "-q", "-F", img, NULL}), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_cmpint(run((const char *[]){"mount", "-o", "loop", "-t", "ext4", img, dir, NULL}),
			==, 0);
	g_strlcpy(abort_mounts[slot], dir, sizeof(abort_mounts[slot]));
}

/* FITHAW on dir: 0 when it was frozen, -EINVAL when it was not. */
static int fithaw(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	g_assert_cmpint(fd, >=, 0);
	r = ioctl(fd, FITHAW, 0) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void unmount_all(void)
{
	for (size_t i = 0; i < 2; i++) {
		if (!abort_mounts[i][0])
			continue;
		(void)fithaw(abort_mounts[i]);
		if (umount(abort_mounts[i]) < 0)
			umount2(abort_mounts[i], MNT_DETACH);
		abort_mounts[i][0] = '\0';
	}
}

static void test_frozen_and_thaw(struct fixture *f, gconstpointer data)
{
	g_autofree char *mnt = NULL, *other = NULL, *plan = NULL, *out = NULL, *record = NULL;
	g_autofree char *rec_path = NULL, *thaw1 = NULL, *thaw2 = NULL, *expect = NULL;
	json_object *kvp = NULL, *vss = NULL, *fcopy = NULL, *o, *d, *frozen, *mounts;
	struct hvsim_result res;
	int fd;

	if (root_skip_reason) {
		g_test_skip(root_skip_reason);
		return;
	}
	mnt = g_build_filename(f->scope, "data", NULL);
	other = g_build_filename(f->env->dir, "other", NULL);
	make_ext4(f, "data", mnt, 0);
	make_ext4(f, "other", other, 1);
	listen_all(f);
	start_all(f);

	/* Safety: the plan freezes exactly the test's own image. */
	g_assert_cmpint(ctl(f, (const char *[]){"plan", NULL}, &plan), ==, 0);
	expect = g_strdup_printf("freeze\t1\t%s\text4\t", mnt);
	g_assert_nonnull(strstr(plan, expect));
	g_assert_null(strstr(plan, "freeze\t2\t"));

	g_assert_cmpint(hvsim_vss_request(f->sim, VMU_VSS_OP_FREEZE, &res), ==, 0);
	g_assert_cmpint(res.status, ==, 0);
	g_assert_cmpint(ctl(f, (const char *[]){"status", "--json", NULL}, &out), ==, 0);
	o = check_schema(out, &kvp, &vss, &fcopy);
	d = get(vss, "details", json_type_object);
	g_assert_cmpstr(json_object_get_string(get(d, "phase", json_type_string)), ==, "frozen");
	frozen = get(d, "frozen", json_type_object);
	mounts = get(frozen, "mounts", json_type_array);
	g_assert_cmpuint(json_object_array_length(mounts), ==, 1);
	g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(mounts, 0)), ==, mnt);
	g_assert_cmpint(json_object_get_int64(get(frozen, "auto_thaw_at", json_type_int)), >,
			json_object_get_int64(get(frozen, "since", json_type_int)));
	json_object_put(o);

	/* hv-vssd dies with the image frozen; someone else freezes another mount, and the
	 * record names that path too, under an identity that is not that mount's. */
	g_assert_true(WIFSIGNALED(test_daemon_stop(f->vssd, SIGKILL, 5000)));
	fd = open(other, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ioctl(fd, FIFREEZE, 0), ==, 0);
	close(fd);
	rec_path = g_build_filename(f->env->run_dir, "vss-frozen", NULL);
	g_assert_true(g_file_get_contents(rec_path, &record, NULL, NULL));
	g_autofree char *more = g_strdup_printf("%s999999 1 %s\n", record, other);
	g_assert_true(g_file_set_contents(rec_path, more, -1, NULL));

	g_assert_cmpint(ctl(f, (const char *[]){"thaw", NULL}, &thaw1), ==, 0);
	g_test_message("thaw: %s", thaw1);
	g_assert_nonnull(strstr(thaw1, "thawed "));
	g_assert_nonnull(strstr(thaw1, "left alone"));
	g_assert_cmpint(fithaw(mnt), ==, -EINVAL); /* thawed by hvguestctl */
	g_assert_cmpint(fithaw(other), ==, 0);     /* was still frozen: not ours, untouched */
	/* Safe at any time: again, nothing is frozen and nothing fails. */
	g_assert_cmpint(ctl(f, (const char *[]){"thaw", NULL}, &thaw2), ==, 0);
	g_assert_nonnull(strstr(thaw2, "was not frozen"));
	unmount_all();
}

static void check_root(void)
{
	if (geteuid() != 0) {
		root_skip_reason = "needs root (loop mounts and FIFREEZE)";
		return;
	}
	root_skip_reason = sandbox_loop_unavailable();
	if (!root_skip_reason)
		root_skip_reason = sandbox_enter(CLONE_NEWNS);
	if (!root_skip_reason && run((const char *[]){"mkfs.ext4", "-V", NULL}) != 0)
		root_skip_reason = "mkfs.ext4 missing";
	if (!root_skip_reason)
		signal(SIGABRT, on_abort);
}

#define ADD(name, fn) g_test_add(name, struct fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	check_root();
	ADD("/hvguestctl/all-up", test_all_up);
	ADD("/hvguestctl/daemon-killed", test_daemon_killed);
	ADD("/hvguestctl/nothing-offered", test_nothing_offered);
	ADD("/hvguestctl/fcopy-uio", test_fcopy_uio);
	ADD("/hvguestctl/frozen-and-thaw", test_frozen_and_thaw);
	return g_test_run();
}
