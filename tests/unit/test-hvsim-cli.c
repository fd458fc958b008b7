/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-host-sim on the command line: runs the real binary with a script against fake
 * daemons (threads using the library transport), checks that every output line is JSON
 * that json-c parses and carries the expected values, and checks the exit statuses.
 * The test waits for the sockets with inotify, never with sleeps.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/vmbus-user/vmu-internal.h"
#include "tests/unit/test-hvsim-daemon.h"

static const char *binary(void)
{
	static char path[4096];
	const char *dir = g_getenv("HVGUEST_BUILDDIR");

	g_snprintf(path, sizeof(path), "%s/tools/hv-host-sim/hv-host-sim", dir ? dir : ".");
	return path;
}

static void kvp_handler(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_KVP_MSG_SIZE];

	memcpy(reply, msg, sizeof(reply));
	if (msg[0] == VMU_KVP_OP_GET)
		g_assert_cmpint(vmu_kvp_reply_get(reply, sizeof(reply), "hello world"), ==, 0);
	else
		g_assert_cmpint(vmu_kvp_reply_status(reply, sizeof(reply), VMU_S_OK), ==, 0);
	fake_reply(d, reply, sizeof(reply));
}

static void vss_handler(struct fake_daemon *d, const uint8_t *msg, size_t len)
{
	uint8_t reply[VMU_VSS_MSG_SIZE] = {0};

	fake_reply(d, reply, sizeof(reply));
}

/* Waits (inotify) until every path exists. */
static void wait_for_files(int ifd, const char *const *paths, size_t n)
{
	for (;;) {
		struct pollfd p = {.fd = ifd, .events = POLLIN};
		char buf[4096];
		size_t present = 0;

		for (size_t i = 0; i < n; i++)
			present += access(paths[i], F_OK) == 0;
		if (present == n)
			return;
		g_assert_cmpint(poll(&p, 1, 10000), ==, 1);
		g_assert_cmpint(read(ifd, buf, sizeof(buf)), >, 0);
	}
}

static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			g_string_append_len(s, buf, n);
	return g_string_free(s, FALSE);
}

static int run_cli(const char **argv, char **ret_out, void (*during)(void *), void *userdata)
{
	GPid pid;
	int out, status;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &pid, NULL, &out, NULL, NULL));
	if (during)
		during(userdata);
	*ret_out = read_all(out);
	close(out);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

struct session {
	int ifd;
	const char *socks[2];
	struct hvsim *loop; /* only its event loop: the fake daemons report through it */
	struct fake_daemon kvp, vss;
};

static void start_daemons(void *userdata)
{
	struct session *s = userdata;

	wait_for_files(s->ifd, s->socks, 2);
	fake_daemon_start(s->loop, &s->kvp, VMU_SERVICE_KVP, s->socks[0], kvp_handler);
	fake_daemon_start(s->loop, &s->vss, VMU_SERVICE_VSS, s->socks[1], vss_handler);
}

static json_object *parse_line(const char *line)
{
	json_object *o = json_tokener_parse(line);

	g_assert_nonnull(o);
	return o;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static void check_output(const char *out)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	json_object *o, *st;

	g_assert_cmpuint(g_strv_length(lines), ==, 6); /* 5 lines + empty tail */
	g_assert_cmpstr(lines[0], ==, "starting");
	o = parse_line(lines[1]);
	g_assert_cmpstr(str(o, "service"), ==, "kvp");
	g_assert_cmpstr(str(o, "op"), ==, "set");
	g_assert_cmpstr(str(o, "status_name"), ==, "S_OK");
	g_assert_cmpstr(str(o, "key"), ==, "my key");
	json_object_put(o);
	o = parse_line(lines[2]);
	g_assert_cmpstr(str(o, "op"), ==, "get");
	g_assert_cmpstr(str(o, "value"), ==, "hello world");
	g_assert_cmpint(json_object_get_int64(json_object_object_get(o, "latency_us")), >, 0);
	json_object_put(o);
	o = parse_line(lines[3]);
	g_assert_cmpstr(str(o, "service"), ==, "vss");
	g_assert_cmpstr(str(o, "op"), ==, "hot-backup");
	g_assert_cmpint(json_object_get_int(json_object_object_get(o, "vss_flags")), ==, 0);
	json_object_put(o);
	o = parse_line(lines[4]);
	g_assert_cmpuint(json_object_array_length(o), ==, 2);
	st = json_object_array_get_idx(o, 0);
	g_assert_cmpstr(str(st, "Name"), ==, "Key-Value Pair Exchange");
	g_assert_cmpstr(str(st, "PrimaryStatusDescription"), ==, "OK");
	g_assert_cmpstr(str(st, "ProtocolVersion"), ==, "4.0");
	g_assert_cmpstr(str(st, "kernel_version"), ==, "3.1");
	st = json_object_array_get_idx(o, 1);
	g_assert_cmpstr(str(st, "Name"), ==, "VSS");
	g_assert_cmpstr(str(st, "ProtocolVersion"), ==, "5.0");
	json_object_put(o);
}

static void test_script_json(void)
{
	static const char script[] = "# a comment\n"
				     "echo starting\n"
				     "wait kvp 10\n"
				     "wait vss 10\n"
				     "kvp set external \"my key\" \"v w\"\n"
				     "expect-status S_OK\n"
				     "kvp get 0 \"my key\"\n"
				     "vss hot-backup\n"
				     "status\n"
				     "quit\n"
				     "this line is never read\n";
	g_autofree char *dir = g_dir_make_tmp("hvsim-cli-XXXXXX", NULL);
	g_autofree char *kvp = g_build_filename(dir, "kvp", NULL);
	g_autofree char *vss = g_build_filename(dir, "vss", NULL);
	g_autofree char *file = g_build_filename(dir, "script", NULL);
	g_autofree char *out = NULL;
	const char *argv[] = {binary(), "--kvp",    kvp,  "--vss", vss,
			      "--json", "--script", file, NULL};
	struct session s = {.socks = {kvp, vss}};

	g_assert_true(g_file_set_contents(file, script, -1, NULL));
	s.ifd = inotify_init1(IN_CLOEXEC);
	g_assert_cmpint(inotify_add_watch(s.ifd, dir, IN_CREATE | IN_MOVED_TO), >=, 0);
	g_assert_cmpint(hvsim_new(NULL, &s.loop), ==, 0);
	g_assert_cmpint(run_cli(argv, &out, start_daemons, &s), ==, 0);
	check_output(out);
	/* The simulator exited: both daemons see the device go away. */
	fake_wait(s.loop, &s.kvp, fake_closed);
	fake_wait(s.loop, &s.vss, fake_closed);
	fake_daemon_stop(&s.kvp);
	fake_daemon_stop(&s.vss);
	hvsim_free(s.loop);
	close(s.ifd);
	g_assert_cmpint(access(kvp, F_OK), <, 0);
	unlink(file);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_exit_codes(void)
{
	g_autofree char *dir = g_dir_make_tmp("hvsim-cli-XXXXXX", NULL);
	g_autofree char *kvp = g_build_filename(dir, "kvp", NULL);
	g_autofree char *file = g_build_filename(dir, "script", NULL);
	g_autofree char *out1 = NULL, *out2 = NULL, *out3 = NULL;
	const char *usage[] = {binary(), "--bogus", NULL};
	const char *help[] = {binary(), "--help", NULL};
	const char *fail[] = {binary(), "--vss", kvp, "--script", file, NULL};

	g_assert_cmpint(run_cli(usage, &out1, NULL, NULL), ==, 2);
	g_assert_cmpint(run_cli(help, &out2, NULL, NULL), ==, 0);
	g_assert_nonnull(strstr(out2, "Usage: hv-host-sim"));
	/* A failure HRESULT is not a command failure; a wrong expectation is. */
	g_assert_true(g_file_set_contents(file,
					  "vss freeze\nexpect-status E_FAIL\nvss get-dm-info\n"
					  "expect-status E_FAIL\n",
					  -1, NULL));
	g_assert_cmpint(run_cli(fail, &out3, NULL, NULL), ==, 1);
	g_assert_nonnull(strstr(out3, "vss freeze: E_FAIL (0x80004005)"));
	g_assert_nonnull(strstr(out3, "vss get-dm-info: S_OK"));
	unlink(file);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hvsim/cli/script-json", test_script_json);
	g_test_add_func("/hvsim/cli/exit-codes", test_exit_codes);
	return g_test_run();
}
