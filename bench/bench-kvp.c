/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-kvp: host-side throughput of the real hv-kvpd against the simulated host.
 *
 * For pools of 10, 1,000 and 10,000 records it prints ops/s for host GET (random existing
 * keys), SET (modify existing keys) and a full ENUMERATE (every index until S_CONT, counted
 * per request), and the cost at each size relative to 10 records, measured in this one run
 * (the machines are noisy: compare the ratios, not the absolute figures). Then the latency
 * of GET_IP_INFO for one adapter (in a private network namespace, as root).
 *
 * Usage: bench-kvp [BUILDDIR]   (default: $HVGUEST_BUILDDIR or .)
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define RECORD 2560

static const char *builddir;

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
	char *dir, *sock, *conf;
	struct hvsim *sim;
	pid_t pid;
};

static void write_pool(const char *state, size_t n)
{
	g_autofree char *path = g_strdup_printf("%s/.kvp_pool_1", state);
	g_autofree char *buf = g_malloc0(n * RECORD);

	for (size_t i = 0; i < n; i++) {
		snprintf(buf + i * RECORD, 512, "key-%zu", i);
		snprintf(buf + i * RECORD + 512, 2048, "value-%zu", i);
	}
	if (!g_file_set_contents(path, buf, (gssize)(n * RECORD), NULL))
		g_error("cannot write %s", path);
}

static void run_start(struct run *r, size_t records, const char *extra)
{
	g_autofree char *state = NULL, *rundir = NULL, *config = NULL, *prog = NULL;

	r->dir = g_dir_make_tmp("hvguest-bench-XXXXXX", NULL);
	state = g_build_filename(r->dir, "state", NULL);
	rundir = g_build_filename(r->dir, "run", NULL);
	g_mkdir(state, 0755);
	g_mkdir(rundir, 0755);
	if (records)
		write_pool(state, records);
	r->sock = g_build_filename(r->dir, "kvp.sock", NULL);
	r->conf = g_build_filename(r->dir, "hvguest.conf", NULL);
	config = g_strdup_printf("[kvp]\ndevice=unix:%s\nstate-dir=%s\nrun-dir=%s\n"
				 "log-target=stderr\nlog-level=warning\n%s",
				 r->sock, state, rundir, extra ? extra : "");
	g_file_set_contents(r->conf, config, -1, NULL);
	if (hvsim_new(NULL, &r->sim) < 0 || hvsim_listen(r->sim, VMU_SERVICE_KVP, r->sock) < 0)
		g_error("cannot start the simulated host");
	prog = g_build_filename(builddir, "daemons/kvp/hv-kvpd", NULL);
	r->pid = fork();
	if (r->pid == 0) {
		execl(prog, prog, "-n", "--config", r->conf, (char *)NULL);
		_exit(127);
	}
	if (hvsim_wait_registered(r->sim, VMU_SERVICE_KVP, 10 * SEC) < 0)
		g_error("hv-kvpd did not register (is %s built?)", prog);
}

static void run_stop(struct run *r)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->dir);

	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	hvsim_free(r->sim);
	g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL);
	g_free(r->dir);
	g_free(r->sock);
	g_free(r->conf);
}

/* Each measure runs for at least min_sec and returns requests per second. */
static double measure_get(struct run *r, size_t n, double min_sec)
{
	struct hvsim_result res;
	double start = now_sec(), t;
	size_t ops = 0;
	char key[32];

	do {
		snprintf(key, sizeof(key), "key-%u", g_random_int_range(0, (gint32)n));
		if (hvsim_kvp_get(r->sim, VMU_KVP_POOL_GUEST, key, &res) < 0 || res.status)
			g_error("GET %s failed: 0x%08x", key, res.status);
		ops++;
	} while ((t = now_sec() - start) < min_sec);
	return (double)ops / t;
}

static double measure_set(struct run *r, size_t n, double min_sec)
{
	struct hvsim_result res;
	double start = now_sec(), t;
	size_t ops = 0;
	char key[32], value[32];

	do {
		snprintf(key, sizeof(key), "key-%u", g_random_int_range(0, (gint32)n));
		snprintf(value, sizeof(value), "new-%zu", ops);
		if (hvsim_kvp_set(r->sim, VMU_KVP_POOL_GUEST, key, value, &res) < 0 || res.status)
			g_error("SET %s failed: 0x%08x", key, res.status);
		ops++;
	} while ((t = now_sec() - start) < min_sec);
	return (double)ops / t;
}

static double measure_enumerate(struct run *r, size_t n, double min_sec, double *ret_full)
{
	struct hvsim_result res;
	double start = now_sec(), t;
	size_t ops = 0, passes = 0;

	do {
		for (uint32_t i = 0;; i++) {
			if (hvsim_kvp_enumerate(r->sim, VMU_KVP_POOL_GUEST, i, &res) < 0)
				g_error("ENUMERATE failed");
			ops++;
			if (res.status == VMU_S_CONT)
				break;
		}
		if (ops < n)
			g_error("ENUMERATE ended early");
		passes++;
	} while ((t = now_sec() - start) < min_sec);
	*ret_full = t / (double)passes;
	return (double)ops / t;
}

static void bench_pools(double min_sec)
{
	static const size_t sizes[] = {10, 1000, 10000};
	double get[3], set[3], enu[3], full[3];

	printf("hv-kvpd through the simulated host (pool 1, host requests one at a time)\n");
	printf("%8s %12s %12s %14s %14s\n", "records", "GET ops/s", "SET ops/s", "ENUM req/s",
	       "full ENUM ms");
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		struct run r = {0};

		run_start(&r, sizes[i], NULL);
		get[i] = measure_get(&r, sizes[i], min_sec);
		set[i] = measure_set(&r, sizes[i], min_sec);
		enu[i] = measure_enumerate(&r, sizes[i], min_sec, &full[i]);
		run_stop(&r);
		printf("%8zu %12.0f %12.0f %14.0f %14.2f\n", sizes[i], get[i], set[i], enu[i],
		       full[i] * 1e3);
	}
	printf("cost per request relative to 10 records (1.00 = same; target <= 2.00 for GET and "
	       "ENUMERATE):\n");
	for (size_t i = 1; i < G_N_ELEMENTS(sizes); i++)
		printf("  %5zu records: GET %.2fx  SET %.2fx  ENUMERATE %.2fx\n", sizes[i],
		       get[0] / get[i], set[0] / set[i], enu[0] / enu[i]);
}

static bool make_netns_adapter(void)
{
	static const char *const cmds[] = {
	    "ip link set lo up",
	    "ip link add eth0 address 00:15:5d:00:00:01 type ifb",
	    "ip link set eth0 up",
	    "ip addr add 192.0.2.10/24 dev eth0",
	    "ip addr add 2001:db8::10/64 dev eth0 nodad",
	    "ip route add default via 192.0.2.1 dev eth0",
	};
	int status;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
		if (!g_spawn_command_line_sync(cmds[i], NULL, NULL, &status, NULL) ||
		    !g_spawn_check_wait_status(status, NULL))
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void bench_ip_info(int count)
{
	g_autofree uint64_t *lat = g_new(uint64_t, count);
	g_autofree char *dir = g_dir_make_tmp("hvguest-bench-XXXXXX", NULL);
	g_autofree char *resolv = g_build_filename(dir, "resolv.conf", NULL);
	g_autofree char *extra = NULL;
	struct hvsim_result res;
	struct run r = {0};

	if (!make_netns_adapter()) {
		printf("GET_IP_INFO: skipped (needs root for a private network namespace)\n");
		return;
	}
	g_file_set_contents(resolv, "nameserver 192.0.2.53\n", -1, NULL);
	extra = g_strdup_printf("resolv-conf=%s\nuse-resolved=false\n", resolv);
	run_start(&r, 0, extra);
	for (int i = 0; i < count; i++) {
		if (hvsim_kvp_get_ip_info(r.sim, "00:15:5D:00:00:01", 3, &res) < 0 || res.status)
			g_error("GET_IP_INFO failed: 0x%08x", res.status);
		lat[i] = res.latency_usec;
	}
	run_stop(&r);
	g_unlink(resolv);
	g_rmdir(dir);
	qsort(lat, (size_t)count, sizeof(*lat), cmp_u64);
	printf("GET_IP_INFO latency over %d requests (host send -> host receive): median %" PRIu64
	       " us, p90 %" PRIu64 " us, max %" PRIu64 " us\n",
	       count, lat[count / 2], lat[count * 9 / 10], lat[count - 1]);
}

int main(int argc, char **argv)
{
	const char *secs = g_getenv("BENCH_SECONDS");
	double min_sec = secs ? g_ascii_strtod(secs, NULL) : 1.0;

	builddir = argc > 1 ? argv[1] : g_getenv("HVGUEST_BUILDDIR");
	if (!builddir)
		builddir = ".";
	if (min_sec <= 0)
		min_sec = 1.0;
	bench_pools(min_sec);
	bench_ip_info(500);
	return 0;
}
