/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration test of hv-kvp: the built binary is run against pool files in a temporary
 * state dir, with a config written by the test (tests/integration/daemon.h). Results are
 * checked through the exit status, the exact output, JSON parsed with json-c, and the pool
 * files read back with the library's pool API.
 *
 * Every run of the child is bounded: its pipes and its pidfd are polled against one
 * deadline, and a child that overruns it is killed and fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "tests/integration/daemon.h"
#include "tools/hv-host-sim/hvsim.h"
#include "vmbus-user.h"

#define RUN_TIMEOUT_MS 20000
#define SEC (1000 * 1000ull)

struct result {
	int status; /* exit status */
	GString *out, *err;
};

static void result_free(struct result *r)
{
	if (!r)
		return;
	g_string_free(r->out, TRUE);
	g_string_free(r->err, TRUE);
	g_free(r);
}
typedef struct result Result;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Result, result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

static int pidfd_open_wrapper(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Reads what is there; returns false at EOF or error. */
static bool drain(int fd, GString *buf)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	g_string_append_len(buf, chunk, n);
	return true;
}

static pid_t spawn(char **argv, int out_fd, int err_fd)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		dup2(null_fd, STDIN_FILENO);
		dup2(out_fd, STDOUT_FILENO);
		dup2(err_fd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Polls stdout, stderr and the pidfd until the child has exited and both pipes are at EOF,
 * or the deadline passes (then the child is killed and the test fails). */
static int collect(pid_t pid, int out_fd, int err_fd, struct result *res)
{
	int pidfd = pidfd_open_wrapper(pid);
	gint64 deadline = g_get_monotonic_time() + RUN_TIMEOUT_MS * 1000;
	bool out_open = true, err_open = true, exited = false;
	int status = 0;

	g_assert_cmpint(pidfd, >=, 0);
	while (out_open || err_open || !exited) {
		struct pollfd p[3] = {{out_open ? out_fd : -1, POLLIN, 0},
				      {err_open ? err_fd : -1, POLLIN, 0},
				      {exited ? -1 : pidfd, POLLIN, 0}};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;

		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			g_error("hv-kvp did not finish within %d ms", RUN_TIMEOUT_MS);
		}
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			g_error("poll: %s", g_strerror(errno));
		if (p[0].revents)
			out_open = drain(out_fd, res->out);
		if (p[1].revents)
			err_open = drain(err_fd, res->err);
		if (p[2].revents) {
			g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
			exited = true;
		}
	}
	close(pidfd);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

struct child {
	pid_t pid;
	int out, err;
};

/* Starts program (a path under the build dir) with the arguments (NULL-terminated). */
static struct child start_program(const char *relpath, const char *const *args)
{
	g_autofree char *program = test_build_path(relpath);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	struct child c;
	int out[2], err[2];

	g_ptr_array_add(argv, program);
	for (; *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	g_assert_cmpint(pipe2(out, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(err, O_CLOEXEC), ==, 0);
	c.pid = spawn((char **)argv->pdata, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	c.out = out[0];
	c.err = err[0];
	return c;
}

/* Waits (bounded) for the child's exit and collects its output. */
static struct result *finish_program(struct child c)
{
	struct result *res = g_new0(struct result, 1);

	res->out = g_string_new(NULL);
	res->err = g_string_new(NULL);
	res->status = collect(c.pid, c.out, c.err, res);
	close(c.out);
	close(c.err);
	if (g_test_verbose())
		g_test_message("exit %d\nstdout: %s\nstderr: %s", res->status, res->out->str,
			       res->err->str);
	return res;
}

/* Runs hv-kvp with the given arguments (NULL-terminated), without adding any. */
static struct result *run_raw(const char *const *args)
{
	return finish_program(start_program("tools/hv-kvp/hv-kvp", args));
}

/* Runs hv-kvp -c <the env's config> ARGS... */
static struct result *run(const struct test_env *env, ...) G_GNUC_NULL_TERMINATED;
static struct result *run(const struct test_env *env, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	const char *a;
	va_list ap;

	g_ptr_array_add(args, (char *)"-c");
	g_ptr_array_add(args, env->config_path);
	va_start(ap, env);
	while ((a = va_arg(ap, const char *)))
		g_ptr_array_add(args, (char *)a);
	va_end(ap);
	g_ptr_array_add(args, NULL);
	return run_raw((const char *const *)args->pdata);
}

static struct test_env *env_new(void)
{
	return test_env_new(VMU_SERVICE_KVP, NULL);
}

static char *pool_file(const char *dir, enum vmu_kvp_pool pool)
{
	return g_build_filename(dir, vmu_kvp_pool_file_name(pool), NULL);
}

/* The value stored for key in a pool file, read with the library (NULL when absent). */
static char *file_get(const char *dir, enum vmu_kvp_pool pool, const char *key)
{
	g_autofree char *path = pool_file(dir, pool);
	struct vmu_kvp_pool_file *f = NULL;
	struct vmu_kvp_pool_record rec = VMU_KVP_POOL_RECORD_INIT;
	char *value = NULL;

	if (vmu_kvp_pool_open(path, VMU_KVP_POOL_READ_ONLY, &f) < 0)
		return NULL;
	if (vmu_kvp_pool_get(f, key, &rec) == 0)
		value = g_strdup(rec.value);
	vmu_kvp_pool_free(f);
	return value;
}

static void file_set(const char *dir, enum vmu_kvp_pool pool, const char *key, const char *value)
{
	g_autofree char *path = pool_file(dir, pool);
	struct vmu_kvp_pool_file *f = NULL;

	g_assert_cmpint(vmu_kvp_pool_open(path, VMU_KVP_POOL_CREATE, &f), ==, 0);
	g_assert_cmpint(vmu_kvp_pool_set(f, key, value), ==, 0);
	vmu_kvp_pool_free(f);
}

static json_object *parse_json(const char *s)
{
	json_object *o = json_tokener_parse(s);

	if (!o)
		g_error("not JSON: '%s'", s);
	return o;
}

static const char *json_field_str(json_object *o, const char *field)
{
	json_object *v = NULL;

	g_assert_true(json_object_object_get_ex(o, field, &v));
	g_assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static bool json_field_bool(json_object *o, const char *field)
{
	json_object *v = NULL;

	g_assert_true(json_object_object_get_ex(o, field, &v));
	g_assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static void assert_status(const struct result *r, int status)
{
	if (r->status != status)
		g_error("exit %d, expected %d; stdout '%s' stderr '%s'", r->status, status,
			r->out->str, r->err->str);
}

/* ---------------------------------------------------------------- round trips */

static void round_trip(const char *pool_name, enum vmu_kvp_pool pool)
{
	struct test_env *env = env_new();
	g_autofree char *stored = NULL;
	g_autoptr(Result) r = NULL;

	r = run(env, "set", "--pool", pool_name, "Color", "blue", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "");
	stored = file_get(env->state_dir, pool, "Color");
	g_assert_cmpstr(stored, ==, "blue");
	for (enum vmu_kvp_pool other = 0; other < _VMU_KVP_POOL_MAX; other++) {
		g_autofree char *elsewhere = NULL;

		if (other == pool)
			continue;
		elsewhere = file_get(env->state_dir, other, "Color");
		g_assert_null(elsewhere);
	}
	g_clear_pointer(&r, result_free);

	/* modify in place: still one item */
	r = run(env, "set", "--pool", pool_name, "Color", "green", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	r = run(env, "set", "--pool", pool_name, "Size", "10", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);

	r = run(env, "get", "--pool", pool_name, "Color", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "green\n");
	g_clear_pointer(&r, result_free);

	r = run(env, "list", "--pool", pool_name, NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "Color=green\nSize=10\n");
	g_clear_pointer(&r, result_free);

	r = run(env, "delete", "--pool", pool_name, "Color", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "");
	g_clear_pointer(&r, result_free);

	r = run(env, "get", "--pool", pool_name, "Color", NULL);
	assert_status(r, 1);
	g_assert_cmpstr(r->out->str, ==, "");
	g_assert_nonnull(strstr(r->err->str, "no such key"));
	g_clear_pointer(&r, result_free);

	r = run(env, "delete", "--pool", pool_name, "Color", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "no such key"));
	g_clear_pointer(&r, result_free);

	r = run(env, "list", "--pool", pool_name, NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "Size=10\n");
	test_env_free(env);
}

static void test_round_trip_guest(void)
{
	round_trip("guest", VMU_KVP_POOL_GUEST);
}

static void test_round_trip_external(void)
{
	round_trip("external", VMU_KVP_POOL_EXTERNAL);
}

static void test_round_trip_host(void)
{
	round_trip("host", VMU_KVP_POOL_AUTO_EXTERNAL);
}

static void test_round_trip_internal(void)
{
	round_trip("internal", VMU_KVP_POOL_AUTO_INTERNAL);
}

static void test_round_trip_numbers(void)
{
	round_trip("0", VMU_KVP_POOL_EXTERNAL);
	round_trip("3", VMU_KVP_POOL_AUTO_EXTERNAL);
	round_trip("auto-internal", VMU_KVP_POOL_AUTO_INTERNAL);
}

static void test_default_pool_is_guest(void)
{
	struct test_env *env = env_new();
	g_autofree char *stored = NULL;
	g_autoptr(Result) r = NULL;

	/* options anywhere: after the command and its arguments too */
	r = run(env, "set", "Provisioning", "done", NULL);
	assert_status(r, 0);
	stored = file_get(env->state_dir, VMU_KVP_POOL_GUEST, "Provisioning");
	g_assert_cmpstr(stored, ==, "done");
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "Provisioning", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "done\n");
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "Provisioning", "--pool", "external", NULL);
	assert_status(r, 1);
	g_clear_pointer(&r, result_free);
	r = run(env, "delete", "Provisioning", NULL);
	assert_status(r, 0);
	g_assert_null(file_get(env->state_dir, VMU_KVP_POOL_GUEST, "Provisioning"));
	test_env_free(env);
}

static void test_value_with_dash(void)
{
	struct test_env *env = env_new();
	g_autoptr(Result) r = NULL;

	r = run(env, "set", "Offset", "--", "-5", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "Offset", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "-5\n");
	g_clear_pointer(&r, result_free);
	/* an empty value is a value */
	r = run(env, "set", "Empty", "", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "Empty", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "\n");
	test_env_free(env);
}

/* ---------------------------------------------------------------- JSON */

static void test_json(void)
{
	struct test_env *env = env_new();
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;
	json_object *item;

	r = run(env, "--json", "set", "--pool", "host", "VirtualMachineName", "vm \"1\"", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_true(json_field_bool(o, "ok"));
	g_assert_cmpstr(json_field_str(o, "pool"), ==, "host");
	g_assert_cmpstr(json_field_str(o, "key"), ==, "VirtualMachineName");
	g_assert_cmpstr(json_field_str(o, "value"), ==, "vm \"1\"");
	g_clear_pointer(&o, json_object_put);
	g_clear_pointer(&r, result_free);

	r = run(env, "get", "--json", "--pool", "3", "VirtualMachineName", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_cmpint(json_object_object_length(o), ==, 3);
	g_assert_cmpstr(json_field_str(o, "pool"), ==, "host");
	g_assert_cmpstr(json_field_str(o, "key"), ==, "VirtualMachineName");
	g_assert_cmpstr(json_field_str(o, "value"), ==, "vm \"1\"");
	g_clear_pointer(&o, json_object_put);
	g_clear_pointer(&r, result_free);

	r = run(env, "set", "a/b", "x\ny", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	r = run(env, "list", "--json", "--pool", "guest", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_true(json_object_is_type(o, json_type_array));
	g_assert_cmpuint(json_object_array_length(o), ==, 1);
	item = json_object_array_get_idx(o, 0);
	g_assert_cmpstr(json_field_str(item, "pool"), ==, "guest");
	g_assert_cmpstr(json_field_str(item, "key"), ==, "a/b");
	g_assert_cmpstr(json_field_str(item, "value"), ==, "x\ny");
	g_clear_pointer(&o, json_object_put);
	g_clear_pointer(&r, result_free);

	r = run(env, "delete", "--json", "a/b", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_true(json_field_bool(o, "ok"));
	g_assert_cmpstr(json_field_str(o, "pool"), ==, "guest");
	g_assert_cmpstr(json_field_str(o, "key"), ==, "a/b");
	g_assert_false(json_object_object_get_ex(o, "value", NULL));
	g_clear_pointer(&o, json_object_put);
	g_clear_pointer(&r, result_free);

	/* failures: text on stderr, an error object on stdout */
	r = run(env, "get", "--json", "a/b", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "no such key"));
	o = parse_json(r->out->str);
	g_assert_false(json_field_bool(o, "ok"));
	g_assert_nonnull(strstr(json_field_str(o, "error"), "no such key"));
	g_assert_cmpint(json_object_get_int(json_object_object_get(o, "errno")), ==, ENOENT);
	g_clear_pointer(&o, json_object_put);
	g_clear_pointer(&r, result_free);

	/* a refused item: the errno of the limit, and the message names it */
	g_autofree char *v1023 = g_strnfill(1023, 'v');
	r = run(env, "set", "--json", "Long", v1023, NULL);
	assert_status(r, 1);
	o = parse_json(r->out->str);
	g_assert_false(json_field_bool(o, "ok"));
	g_assert_cmpstr(json_field_str(o, "error"), ==,
			"refusing the value: it is 1023 UTF-16 units long, the host sees at most "
			"1022 and would cut it");
	g_assert_cmpint(json_object_get_int(json_object_object_get(o, "errno")), ==, E2BIG);
	g_assert_null(file_get(env->state_dir, VMU_KVP_POOL_GUEST, "Long"));
	test_env_free(env);
}

static void test_json_list_all(void)
{
	struct test_env *env = env_new();
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;
	static const char *const expect[][3] = {
	    {"external", "E", "0"}, {"guest", "G", "1"},    {"auto", "OSName", "Linux"},
	    {"host", "H", "3"},     {"internal", "I", "4"},
	};

	file_set(env->state_dir, VMU_KVP_POOL_EXTERNAL, "E", "0");
	file_set(env->state_dir, VMU_KVP_POOL_GUEST, "G", "1");
	file_set(env->run_dir, VMU_KVP_POOL_AUTO, "OSName", "Linux");
	file_set(env->state_dir, VMU_KVP_POOL_AUTO_EXTERNAL, "H", "3");
	file_set(env->state_dir, VMU_KVP_POOL_AUTO_INTERNAL, "I", "4");
	r = run(env, "list", "--json", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_cmpuint(json_object_array_length(o), ==, G_N_ELEMENTS(expect));
	for (size_t i = 0; i < G_N_ELEMENTS(expect); i++) {
		json_object *item = json_object_array_get_idx(o, i);

		g_assert_cmpint(json_object_object_length(item), ==, 3);
		g_assert_cmpstr(json_field_str(item, "pool"), ==, expect[i][0]);
		g_assert_cmpstr(json_field_str(item, "key"), ==, expect[i][1]);
		g_assert_cmpstr(json_field_str(item, "value"), ==, expect[i][2]);
	}
	test_env_free(env);
}

/* ---------------------------------------------------------------- list */

static void test_list_all_text(void)
{
	struct test_env *env = env_new();
	g_autoptr(Result) r = NULL;
	g_autofree char *p1 = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_autofree char *p3 = pool_file(env->state_dir, VMU_KVP_POOL_AUTO_EXTERNAL);
	g_autofree char *expect = NULL;

	file_set(env->state_dir, VMU_KVP_POOL_GUEST, "G", "1");
	file_set(env->state_dir, VMU_KVP_POOL_AUTO_EXTERNAL, "HostName", "hyperv-01");
	/* pools 0 and 4 and the auto snapshot do not exist: empty, with notes */
	r = run(env, "list", NULL);
	assert_status(r, 0);
	g_assert_true(g_str_has_prefix(r->out->str, "# pool 0 external"));
	g_assert_nonnull(strstr(r->out->str, "\n\n# pool 2 auto"));
	g_assert_nonnull(strstr(r->out->str, "\n\n# pool 4 internal"));
	expect = g_strdup_printf("# pool 1 guest (items guest software publishes for the host): "
				 "%s\nG=1\n",
				 p1);
	g_assert_nonnull(strstr(r->out->str, expect));
	g_clear_pointer(&expect, g_free);
	expect = g_strdup_printf("# pool 3 host (host parameters): %s\nHostName=hyperv-01\n", p3);
	g_assert_nonnull(strstr(r->out->str, expect));
	g_assert_nonnull(strstr(r->err->str, "pool external is empty"));
	g_assert_nonnull(strstr(r->err->str, "pool internal is empty"));
	g_assert_nonnull(strstr(r->err->str, "hv-kvpd is not running"));
	test_env_free(env);
}

static void test_list_escapes(void)
{
	struct test_env *env = env_new();
	g_autoptr(Result) r = NULL;

	file_set(env->state_dir, VMU_KVP_POOL_GUEST, "a=b", "line1\nline2\t\\\x1b[0m");
	r = run(env, "list", "--pool", "guest", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "a\\x3db=line1\\nline2\\t\\\\\\x1b[0m\n");
	g_clear_pointer(&r, result_free);
	/* get prints the value as it is */
	r = run(env, "get", "a=b", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "line1\nline2\t\\\x1b[0m\n");
	test_env_free(env);
}

/* Writes one raw 2560-byte record with flock + O_APPEND, as cloud-init does. */
static void append_record(const char *path, const char *key, size_t key_len, const char *value,
			  size_t value_len)
{
	char rec[VMU_KVP_POOL_RECORD_SIZE] = {0};
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	memcpy(rec, key, key_len);
	memcpy(rec + VMU_KVP_MAX_KEY_SIZE, value, value_len);
	g_assert_cmpint(flock(fd, LOCK_EX), ==, 0);
	g_assert_cmpint(write(fd, rec, sizeof(rec)), ==, (ssize_t)sizeof(rec));
	g_assert_cmpint(flock(fd, LOCK_UN), ==, 0);
	close(fd);
}

static void test_external_appender(void)
{
	struct test_env *env = env_new();
	g_autofree char *path = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;

	r = run(env, "set", "Mine", "1", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	append_record(path, "CloudInit", 9, "provisioned", 11);
	r = run(env, "list", "--pool", "guest", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "Mine=1\nCloudInit=provisioned\n");
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "CloudInit", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "provisioned\n");
	g_clear_pointer(&r, result_free);

	/* a record that is not UTF-8: escaped in text, U+FFFD and a flag in JSON */
	append_record(path, "Raw", 3, "a\xff", 2);
	r = run(env, "list", "--pool", "guest", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "Mine=1\nCloudInit=provisioned\nRaw=a\\xff\n");
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "--json", "Raw", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_cmpstr(json_field_str(o, "value"), ==, "a\xef\xbf\xbd");
	g_assert_true(json_field_bool(o, "invalid_utf8"));
	g_clear_pointer(&r, result_free);

	/* the file still holds every record */
	g_autofree char *mine = file_get(env->state_dir, VMU_KVP_POOL_GUEST, "Mine");
	g_assert_cmpstr(mine, ==, "1");
	test_env_free(env);
}

/* cloud-init appends records (flock + O_APPEND) while the CLI adds and changes items:
 * every record of both survives. */
#define APPENDED 400
#define SET 40
static void test_concurrent_appender(void)
{
	struct test_env *env = env_new();
	g_autofree char *path = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_autoptr(Result) appender = NULL;
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) items = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	struct child c;

	c = start_program("tests/unit/kvp-appender",
			  (const char *[]){"append", path, "cloud", G_STRINGIFY(APPENDED), NULL});
	for (int i = 0; i < SET; i++) {
		g_autofree char *key = g_strdup_printf("cli-%d", i % (SET / 2));
		g_autofree char *value = g_strdup_printf("round-%d", i);

		r = run(env, "set", key, value, NULL);
		assert_status(r, 0);
		g_clear_pointer(&r, result_free);
	}
	appender = finish_program(c);
	assert_status(appender, 0);

	r = run(env, "list", "--json", "--pool", "guest", NULL);
	assert_status(r, 0);
	items = parse_json(r->out->str);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *item = json_object_array_get_idx(items, i);

		g_assert_true(g_hash_table_insert(seen, g_strdup(json_field_str(item, "key")),
						  g_strdup(json_field_str(item, "value"))));
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, APPENDED + SET / 2);
	for (int i = 0; i < APPENDED; i++) {
		g_autofree char *key = g_strdup_printf("cloud-%d", i);
		g_autofree char *value = g_strdup_printf("value-%d", i);

		g_assert_cmpstr(g_hash_table_lookup(seen, key), ==, value);
	}
	for (int i = 0; i < SET / 2; i++) {
		g_autofree char *key = g_strdup_printf("cli-%d", i);
		g_autofree char *value = g_strdup_printf("round-%d", i + SET / 2);

		g_assert_cmpstr(g_hash_table_lookup(seen, key), ==, value);
	}
	test_env_free(env);
}

/* A pool path that cannot be a pool file: the message names the file and says why. */
static void test_io_error_named(void)
{
	struct test_env *env = env_new();
	g_autofree char *path = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_autofree char *expect = NULL;
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;

	g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
	expect = g_strdup_printf("cannot open %s: not a regular file", path);
	r = run(env, "get", "Key", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, expect));
	g_clear_pointer(&r, result_free);
	r = run(env, "set", "Key", "v", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, expect));
	g_clear_pointer(&r, result_free);
	r = run(env, "list", "--json", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, expect));
	/* the other pools are still listed on stderr notes; stdout holds the error object */
	o = parse_json(r->out->str);
	g_assert_false(json_field_bool(o, "ok"));
	g_assert_true(json_object_get_int(json_object_object_get(o, "errno")) == EISDIR ||
		      json_object_get_int(json_object_object_get(o, "errno")) == EINVAL);
	g_assert_cmpstr(json_field_str(o, "error"), ==, expect);
	test_env_free(env);
}

/* A pool another user keeps locked: hv-kvp gives up after --lock-timeout (or the config's
 * pool-lock-timeout) with a message that says so, and works again once the lock is gone. */
static void test_lock_held(void)
{
	struct test_env *env = test_env_new(VMU_SERVICE_KVP, "pool-lock-timeout=400ms\n");
	g_autofree char *path = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_autofree char *expect = g_strdup_printf("cannot read %s: another process kept it "
						  "locked for more than 400 ms",
						  path);
	struct test_lock_holder h;
	g_autoptr(Result) r = NULL;
	gint64 t0;

	g_assert_cmpint(chmod(env->dir, 0755), ==, 0);
	g_assert_cmpint(chmod(env->state_dir, 0755), ==, 0);
	r = run(env, "set", "k", "1", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	h = test_lock_holder_start(path, "flock");
	t0 = g_get_monotonic_time();
	r = run(env, "get", "k", NULL);
	assert_status(r, 1);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 400000);
	g_assert_nonnull(strstr(r->err->str, expect));
	g_clear_pointer(&r, result_free);
	r = run(env, "--lock-timeout", "100", "set", "k", "2", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "locked for more than 100 ms"));
	g_clear_pointer(&r, result_free);
	r = run(env, "--lock-timeout", "soon", "get", "k", NULL);
	assert_status(r, 2);
	g_clear_pointer(&r, result_free);
	test_lock_holder_release(&h);
	r = run(env, "get", "k", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "1\n");
	test_env_free(env);
}

/* -c /dev/zero: refused at once with a message, never read (GKeyFile would read it until
 * memory ran out). */
static void test_config_not_regular(void)
{
	const char *const args[] = {"-c", "/dev/zero", "list", NULL};
	g_autoptr(Result) r = run_raw(args);

	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "/dev/zero: not a regular file"));
}

/* ---------------------------------------------------------------- UTF-8 and limits */

static void test_utf8_round_trip(void)
{
	struct test_env *env = env_new();
	const char *key = "Grüße-ключ-日本-\xf0\x9f\x98\x80";
	const char *value = "värde ✓ \xf0\x9d\x84\x9e";
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;
	g_autofree char *line = g_strdup_printf("%s=%s\n", key, value);

	r = run(env, "set", "--pool", "external", key, value, NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "--pool", "external", key, NULL);
	assert_status(r, 0);
	g_assert_true(g_str_has_suffix(r->out->str, "\n"));
	g_assert_cmpmem(r->out->str, r->out->len - 1, value, strlen(value));
	g_clear_pointer(&r, result_free);
	r = run(env, "list", "--pool", "external", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, line);
	g_clear_pointer(&r, result_free);
	r = run(env, "list", "--json", "--pool", "external", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_cmpstr(json_field_str(json_object_array_get_idx(o, 0), "key"), ==, key);
	g_assert_cmpstr(json_field_str(json_object_array_get_idx(o, 0), "value"), ==, value);
	test_env_free(env);
}

static char *repeat(const char *unit, size_t n)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

/* set KEY VALUE: accepted (stored) or refused with exit 1, a message containing what, and
 * nothing stored. */
static void check_set(const struct test_env *env, const char *key, const char *value,
		      const char *refusal)
{
	g_autoptr(Result) r = run(env, "set", key, value, NULL);
	g_autofree char *stored = file_get(env->state_dir, VMU_KVP_POOL_GUEST, key);

	if (!refusal) {
		assert_status(r, 0);
		g_assert_cmpstr(stored, ==, value);
		return;
	}
	assert_status(r, 1);
	if (!strstr(r->err->str, refusal))
		g_error("stderr '%s' does not mention '%s'", r->err->str, refusal);
	g_assert_null(stored);
}

static void test_key_limits(void)
{
	struct test_env *env = env_new();
	g_autofree char *k254 = repeat("k", 254);
	g_autofree char *k255 = repeat("k", 255);
	g_autofree char *emoji127 = repeat("\xf0\x9f\x98\x80", 127);
	g_autofree char *emoji128 = repeat("\xf0\x9f\x98\x80", 128);
	g_autofree char *two_byte254 = repeat("é", 254);    /* 508 bytes: fits a record */
	g_autofree char *three_byte170 = repeat("日", 170); /* 510 bytes */
	g_autofree char *three_byte171 = repeat("日", 171); /* 513 bytes */
	g_autofree char *three_byte169 = repeat("日", 169); /* 507 bytes */

	check_set(env, k254, "v", NULL);
	check_set(env, k255, "v", "255 UTF-16 units long, the host sees at most 254");
	/* outside the BMP: two units each */
	check_set(env, emoji127, "v", NULL);
	check_set(env, emoji128, "v", "256 UTF-16 units long, the host sees at most 254");
	check_set(env, two_byte254, "v", NULL);
	/* within the host's units, but past the record's 511 bytes */
	check_set(env, three_byte170, "v", NULL);
	check_set(env, three_byte171, "v", "513 bytes of UTF-8, a pool record holds at most 511");
	/* exactly 511 bytes (171 units) fit, 512 do not */
	g_autofree char *k511 = g_strconcat(three_byte169, "éé", NULL);
	g_autofree char *k512 = g_strconcat(three_byte169, "ééa", NULL);
	g_assert_cmpuint(strlen(k511), ==, 511);
	check_set(env, k511, "v", NULL);
	check_set(env, k512, "v", "512 bytes of UTF-8, a pool record holds at most 511");
	check_set(env, "", "v", "empty key");
	test_env_free(env);
}

static void test_value_limits(void)
{
	struct test_env *env = env_new();
	g_autofree char *v1022 = repeat("v", 1022);
	g_autofree char *v1023 = repeat("v", 1023);
	g_autofree char *emoji511 = repeat("\xf0\x9f\x98\x80", 511);
	g_autofree char *emoji512 = repeat("\xf0\x9f\x98\x80", 512);
	g_autofree char *three_byte682 = repeat("日", 682); /* 2046 bytes */
	g_autofree char *three_byte683 = repeat("日", 683); /* 2049 bytes */
	g_autofree char *three_byte681 = repeat("日", 681); /* 2043 bytes */

	check_set(env, "a", v1022, NULL);
	check_set(env, "b", v1023, "1023 UTF-16 units long, the host sees at most 1022");
	check_set(env, "c", emoji511, NULL);
	check_set(env, "d", emoji512, "1024 UTF-16 units long, the host sees at most 1022");
	check_set(env, "e", three_byte682, NULL);
	check_set(env, "f", three_byte683, "2049 bytes of UTF-8, a pool record holds at most 2047");
	/* exactly 2047 bytes (683 units) fit, 2048 do not */
	g_autofree char *v2047 = g_strconcat(three_byte681, "éé", NULL);
	g_autofree char *v2048 = g_strconcat(three_byte681, "ééa", NULL);
	g_assert_cmpuint(strlen(v2047), ==, 2047);
	check_set(env, "g", v2047, NULL);
	check_set(env, "h", v2048, "2048 bytes of UTF-8, a pool record holds at most 2047");
	test_env_free(env);
}

static void test_invalid_utf8(void)
{
	struct test_env *env = env_new();

	check_set(env, "bad\xff", "v", "key: it is not valid UTF-8");
	check_set(env, "k", "caf\xc3", "value: it is not valid UTF-8");
	/* a surrogate encoded in UTF-8 (CESU) is not UTF-8 either */
	check_set(env, "k", "\xed\xa0\x80", "value: it is not valid UTF-8");
	test_env_free(env);
}

/* ---------------------------------------------------------------- the auto pool */

static void test_auto_pool(void)
{
	struct test_env *env = env_new();
	g_autofree char *snapshot = pool_file(env->run_dir, VMU_KVP_POOL_AUTO);
	g_autofree char *before = NULL, *after = NULL;
	g_autoptr(Result) r = NULL;
	g_autoptr(json_object) o = NULL;
	gsize before_len, after_len;

	/* not published yet */
	r = run(env, "list", "--pool", "auto", NULL);
	assert_status(r, 1);
	g_assert_cmpstr(r->out->str, ==, "");
	g_assert_nonnull(strstr(r->err->str, "hv-kvpd is not running or has not published the "
					     "auto pool"));
	g_assert_nonnull(strstr(r->err->str, snapshot));
	g_assert_nonnull(strstr(r->err->str, "missing"));
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "--pool", "auto", "OSName", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "hv-kvpd is not running"));
	g_clear_pointer(&r, result_free);
	g_assert_false(g_file_test(snapshot, G_FILE_TEST_EXISTS));

	/* the daemon's snapshot: read from the run dir, not the state dir */
	file_set(env->run_dir, VMU_KVP_POOL_AUTO, "FullyQualifiedDomainName", "vm.example.org");
	file_set(env->run_dir, VMU_KVP_POOL_AUTO, "OSName", "Debian GNU/Linux");
	file_set(env->state_dir, VMU_KVP_POOL_AUTO, "Stale", "not this one");
	r = run(env, "list", "--pool", "auto", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==,
			"FullyQualifiedDomainName=vm.example.org\nOSName=Debian GNU/Linux\n");
	g_clear_pointer(&r, result_free);
	r = run(env, "get", "--pool", "2", "--json", "OSName", NULL);
	assert_status(r, 0);
	o = parse_json(r->out->str);
	g_assert_cmpstr(json_field_str(o, "pool"), ==, "auto");
	g_assert_cmpstr(json_field_str(o, "value"), ==, "Debian GNU/Linux");
	g_clear_pointer(&r, result_free);

	/* it is the daemon's: no changes */
	g_assert_true(g_file_get_contents(snapshot, &before, &before_len, NULL));
	r = run(env, "set", "--pool", "auto", "OSName", "Windows", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "auto pool belongs to hv-kvpd"));
	g_clear_pointer(&r, result_free);
	r = run(env, "delete", "--pool", "auto", "OSName", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "auto pool belongs to hv-kvpd"));
	g_clear_pointer(&r, result_free);
	g_assert_true(g_file_get_contents(snapshot, &after, &after_len, NULL));
	g_assert_cmpmem(before, before_len, after, after_len);
	test_env_free(env);
}

/* ---------------------------------------------------------------- usage and config */

static void check_usage_error(const struct test_env *env, const char *const *args,
			      const char *message)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(Result) r = NULL;

	g_ptr_array_add(argv, (char *)"-c");
	g_ptr_array_add(argv, env->config_path);
	for (; *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	r = run_raw((const char *const *)argv->pdata);
	assert_status(r, 2);
	g_assert_cmpstr(r->out->str, ==, "");
	if (!strstr(r->err->str, message))
		g_error("stderr '%s' does not mention '%s'", r->err->str, message);
}

static void test_usage_errors(void)
{
	struct test_env *env = env_new();

	check_usage_error(env, (const char *[]){"--pool", "5", "list", NULL}, "unknown pool '5'");
	check_usage_error(env, (const char *[]){"--pool", "foo", "list", NULL}, "unknown pool");
	check_usage_error(env, (const char *[]){"--pool", "", "list", NULL}, "unknown pool");
	check_usage_error(env, (const char *[]){"list", "--pool", NULL}, "needs an argument");
	check_usage_error(env, (const char *[]){"frobnicate", NULL}, "unknown command");
	check_usage_error(env, (const char *[]){NULL}, "no command");
	check_usage_error(env, (const char *[]){"--bogus", "list", NULL}, "unknown option");
	check_usage_error(env, (const char *[]){"get", NULL}, "get KEY");
	check_usage_error(env, (const char *[]){"get", "a", "b", NULL}, "get KEY");
	check_usage_error(env, (const char *[]){"set", "a", NULL}, "set KEY VALUE");
	check_usage_error(env, (const char *[]){"set", "a", "b", "c", NULL}, "set KEY VALUE");
	check_usage_error(env, (const char *[]){"delete", NULL}, "delete KEY");
	check_usage_error(env, (const char *[]){"list", "x", NULL}, "list");
	/* usage errors change nothing */
	g_autofree char *p1 = pool_file(env->state_dir, VMU_KVP_POOL_GUEST);
	g_assert_false(g_file_test(p1, G_FILE_TEST_EXISTS));
	test_env_free(env);
}

static void test_help_version(void)
{
	g_autoptr(Result) r = run_raw((const char *[]){"--help", NULL});

	assert_status(r, 0);
	g_assert_true(g_str_has_prefix(r->out->str, "Usage: hv-kvp"));
	g_assert_nonnull(strstr(r->out->str, "--pool"));
	g_assert_cmpstr(r->err->str, ==, "");
	g_clear_pointer(&r, result_free);
	r = run_raw((const char *[]){"list", "-h", NULL});
	assert_status(r, 0);
	g_assert_true(g_str_has_prefix(r->out->str, "Usage: hv-kvp"));
	g_clear_pointer(&r, result_free);
	r = run_raw((const char *[]){"-V", NULL});
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "hv-kvp " PACKAGE_VERSION "\n");
}

static void test_config_state_dir(void)
{
	struct test_env *env = env_new();
	g_autofree char *other = g_build_filename(env->dir, "other-state", NULL);
	g_autofree char *override = g_build_filename(env->dir, "override", NULL);
	g_autofree char *config = NULL;
	g_autofree char *stored = NULL;
	g_autoptr(Result) r = NULL;

	g_assert_cmpint(g_mkdir(other, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(override, 0755), ==, 0);
	config = g_strdup_printf("[kvp]\nstate-dir=%s\nrun-dir=%s\n", other, env->run_dir);
	g_assert_true(g_file_set_contents(env->config_path, config, -1, NULL));

	r = run(env, "set", "Where", "config", NULL);
	assert_status(r, 0);
	stored = file_get(other, VMU_KVP_POOL_GUEST, "Where");
	g_assert_cmpstr(stored, ==, "config");
	g_assert_null(file_get(env->state_dir, VMU_KVP_POOL_GUEST, "Where"));
	g_clear_pointer(&stored, g_free);
	g_clear_pointer(&r, result_free);

	/* --state-dir wins over the config */
	r = run(env, "--state-dir", override, "set", "Where", "option", NULL);
	assert_status(r, 0);
	stored = file_get(override, VMU_KVP_POOL_GUEST, "Where");
	g_assert_cmpstr(stored, ==, "option");
	g_clear_pointer(&stored, g_free);
	stored = file_get(other, VMU_KVP_POOL_GUEST, "Where");
	g_assert_cmpstr(stored, ==, "config");
	g_clear_pointer(&r, result_free);

	/* the file was created 0644 */
	g_autofree char *path = pool_file(override, VMU_KVP_POOL_GUEST);
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0644);

	/* a config the daemon would refuse is refused here too */
	g_assert_true(g_file_set_contents(env->config_path, "[kvp]\nbogus-key=1\n", -1, NULL));
	r = run(env, "list", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "bogus-key"));
	g_clear_pointer(&r, result_free);

	/* a missing file named with -c is an error */
	g_autofree char *missing = g_build_filename(env->dir, "nope.conf", NULL);
	r = run_raw((const char *[]){"-c", missing, "list", NULL});
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "nope.conf"));
	test_env_free(env);
}

static void test_missing_state_dir(void)
{
	struct test_env *env = env_new();
	g_autofree char *gone = g_build_filename(env->dir, "gone", NULL);
	g_autofree char *expect = NULL;
	g_autoptr(Result) r = NULL;

	r = run(env, "--state-dir", gone, "list", "--pool", "guest", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "");
	g_assert_nonnull(strstr(r->err->str, "pool guest is empty"));
	g_clear_pointer(&r, result_free);
	r = run(env, "--state-dir", gone, "get", "Key", NULL);
	assert_status(r, 1);
	g_assert_nonnull(strstr(r->err->str, "no such key"));
	g_clear_pointer(&r, result_free);
	r = run(env, "--state-dir", gone, "delete", "Key", NULL);
	assert_status(r, 1);
	g_clear_pointer(&r, result_free);
	/* set does not create the state directory (it is hv-kvpd's): names the file and errno */
	r = run(env, "--state-dir", gone, "set", "Key", "v", NULL);
	assert_status(r, 1);
	expect = g_strdup_printf("%s/.kvp_pool_1: %s", gone, g_strerror(ENOENT));
	g_assert_nonnull(strstr(r->err->str, expect));
	g_clear_pointer(&r, result_free);
	g_assert_false(g_file_test(gone, G_FILE_TEST_EXISTS));
	test_env_free(env);
}

/* ---------------------------------------------------------------- with hv-kvpd and a host */

/* The real daemon, serving the simulated host in this process, on the same state and run
 * dirs the CLI uses. */
struct live {
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *daemon;
};

static void live_setup(struct live *l, gconstpointer data)
{
	g_autofree char *os_release = NULL, *extra = NULL;
	struct hvsim_result r;

	l->env = env_new();
	os_release = g_build_filename(l->env->dir, "os-release", NULL);
	g_assert_true(g_file_set_contents(
	    os_release, "NAME=\"CLI Test Linux\"\nVERSION_ID=\"4.2\"\n", -1, NULL));
	extra = g_strdup_printf("os-release=%s\n", os_release);
	test_env_write_config(l->env, extra);
	g_assert_cmpint(hvsim_new(NULL, &l->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(l->sim, VMU_SERVICE_KVP, l->env->socket_path), ==, 0);
	hvsim_set_host_timeout(l->sim, 20 * SEC);
	l->daemon = test_daemon_start(l->env, "daemons/kvp/hv-kvpd", NULL);
	g_assert_cmpint(hvsim_wait_registered(l->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
	/* The daemon publishes the auto pool when it registers; once it has answered a request
	 * after that, the snapshot is there (it serves one message at a time). */
	g_assert_cmpint(hvsim_kvp_enumerate(l->sim, VMU_KVP_POOL_AUTO, 0, &r), ==, 0);
	g_assert_cmphex(r.status, ==, VMU_S_OK);
}

static void live_teardown(struct live *l, gconstpointer data)
{
	if (l->daemon && g_test_failed()) {
		g_autofree char *log = test_daemon_log(l->daemon);

		g_test_message("daemon log:\n%s", log);
	}
	if (l->daemon)
		g_assert_cmpint(test_daemon_stop(l->daemon, SIGTERM, 10000), !=, -1);
	test_daemon_free(l->daemon);
	hvsim_free(l->sim);
	test_env_free(l->env);
}

/* Items that do not change while the daemon runs (the FQDN and the addresses may be
 * republished at any time). */
static bool stable_intrinsic(const char *key)
{
	return strcmp(key, "FullyQualifiedDomainName") != 0 &&
	       !g_str_has_prefix(key, "NetworkAddress");
}

static void test_live_auto_is_what_host_sees(struct live *l, gconstpointer data)
{
	g_autoptr(json_object) host = NULL;
	g_autoptr(json_object) cli = NULL;
	g_autoptr(Result) r = NULL;
	size_t n;

	g_assert_cmpint(hvsim_kvp_enumerate_all(l->sim, VMU_KVP_POOL_AUTO, &host), ==, 0);
	r = run(l->env, "list", "--pool", "auto", "--json", NULL);
	assert_status(r, 0);
	cli = parse_json(r->out->str);
	n = json_object_array_length(host);
	g_assert_cmpuint(n, ==, 10);
	g_assert_cmpuint(json_object_array_length(cli), ==, n);
	for (size_t i = 0; i < n; i++) {
		json_object *h = json_object_array_get_idx(host, i);
		json_object *c = json_object_array_get_idx(cli, i);
		const char *key = json_field_str(h, "key");

		g_assert_cmpstr(json_field_str(c, "pool"), ==, "auto");
		g_assert_cmpstr(json_field_str(c, "key"), ==, key);
		if (stable_intrinsic(key))
			g_assert_cmpstr(json_field_str(c, "value"), ==, json_field_str(h, "value"));
	}
	g_clear_pointer(&r, result_free);
	r = run(l->env, "get", "--pool", "auto", "OSName", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "CLI Test Linux\n");
}

static void test_live_host_and_cli(struct live *l, gconstpointer data)
{
	struct hvsim_result hr;
	g_autoptr(Result) r = NULL;

	/* host -> pool 0 -> CLI */
	g_assert_cmpint(hvsim_kvp_set(l->sim, VMU_KVP_POOL_EXTERNAL, "Admin✓", "from host ✓", &hr),
			==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_OK);
	r = run(l->env, "get", "--pool", "external", "Admin✓", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "from host ✓\n");
	g_clear_pointer(&r, result_free);

	/* CLI -> pool 1 -> host, while the daemon has the file open */
	r = run(l->env, "set", "Guest✓", "from guest \xf0\x9f\x98\x80", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	g_assert_cmpint(hvsim_kvp_get(l->sim, VMU_KVP_POOL_GUEST, "Guest✓", &hr), ==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_OK);
	g_assert_cmpstr(hr.value, ==, "from guest \xf0\x9f\x98\x80");
	g_assert_cmpint(hvsim_kvp_enumerate(l->sim, VMU_KVP_POOL_GUEST, 0, &hr), ==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_OK);
	g_assert_cmpstr(hr.key, ==, "Guest✓");

	/* CLI delete: the host no longer finds it */
	r = run(l->env, "delete", "Guest✓", NULL);
	assert_status(r, 0);
	g_clear_pointer(&r, result_free);
	g_assert_cmpint(hvsim_kvp_get(l->sim, VMU_KVP_POOL_GUEST, "Guest✓", &hr), ==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_CONT);

	/* host parameters (pool 3) */
	g_assert_cmpint(
	    hvsim_kvp_set(l->sim, VMU_KVP_POOL_AUTO_EXTERNAL, "VirtualMachineName", "web-01", &hr),
	    ==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_OK);
	r = run(l->env, "list", "--pool", "host", NULL);
	assert_status(r, 0);
	g_assert_cmpstr(r->out->str, ==, "VirtualMachineName=web-01\n");
}

/* What set accepts at the limits, the host receives whole. */
static void test_live_limits_reach_host(struct live *l, gconstpointer data)
{
	g_autofree char *key = repeat("\xf0\x9f\x98\x80", 127);   /* 254 units */
	g_autofree char *value = repeat("\xf0\x9f\x98\x80", 511); /* 1022 units */
	struct hvsim_result hr;
	g_autoptr(Result) r = NULL;

	r = run(l->env, "set", key, value, NULL);
	assert_status(r, 0);
	g_assert_cmpint(hvsim_kvp_enumerate(l->sim, VMU_KVP_POOL_GUEST, 0, &hr), ==, 0);
	g_assert_cmphex(hr.status, ==, VMU_S_OK);
	g_assert_cmpstr(hr.key, ==, key);
	g_assert_cmpstr(hr.value, ==, value);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hv-kvp/round-trip/guest", test_round_trip_guest);
	g_test_add_func("/hv-kvp/round-trip/external", test_round_trip_external);
	g_test_add_func("/hv-kvp/round-trip/host", test_round_trip_host);
	g_test_add_func("/hv-kvp/round-trip/internal", test_round_trip_internal);
	g_test_add_func("/hv-kvp/round-trip/numbers", test_round_trip_numbers);
	g_test_add_func("/hv-kvp/default-pool", test_default_pool_is_guest);
	g_test_add_func("/hv-kvp/value-with-dash", test_value_with_dash);
	g_test_add_func("/hv-kvp/json", test_json);
	g_test_add_func("/hv-kvp/json-list-all", test_json_list_all);
	g_test_add_func("/hv-kvp/list-all-text", test_list_all_text);
	g_test_add_func("/hv-kvp/list-escapes", test_list_escapes);
	g_test_add_func("/hv-kvp/external-appender", test_external_appender);
	g_test_add_func("/hv-kvp/concurrent-appender", test_concurrent_appender);
	g_test_add_func("/hv-kvp/io-error-named", test_io_error_named);
	g_test_add_func("/hv-kvp/lock-held", test_lock_held);
	g_test_add_func("/hv-kvp/config-not-regular", test_config_not_regular);
	g_test_add_func("/hv-kvp/utf8", test_utf8_round_trip);
	g_test_add_func("/hv-kvp/limits/key", test_key_limits);
	g_test_add_func("/hv-kvp/limits/value", test_value_limits);
	g_test_add_func("/hv-kvp/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/hv-kvp/auto-pool", test_auto_pool);
	g_test_add_func("/hv-kvp/usage-errors", test_usage_errors);
	g_test_add_func("/hv-kvp/help-version", test_help_version);
	g_test_add_func("/hv-kvp/config-state-dir", test_config_state_dir);
	g_test_add_func("/hv-kvp/missing-state-dir", test_missing_state_dir);
	g_test_add("/hv-kvp/live/auto-is-what-host-sees", struct live, NULL, live_setup,
		   test_live_auto_is_what_host_sees, live_teardown);
	g_test_add("/hv-kvp/live/host-and-cli", struct live, NULL, live_setup,
		   test_live_host_and_cli, live_teardown);
	g_test_add("/hv-kvp/live/limits-reach-host", struct live, NULL, live_setup,
		   test_live_limits_reach_host, live_teardown);
	return g_test_run();
}
