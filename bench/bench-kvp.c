/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-kvp: host-side throughput of the real hv-kvpd against the simulated host, and
 * against the floor: bench/hvd-floor, a do-nothing responder on the same transport, event
 * loop and host simulator (issue 10).
 *
 * For pools of 10, 1,000 and 10,000 records it prints requests/s for host GET (random
 * existing keys), ENUMERATE (random existing indexes), SET modifying a random existing key,
 * SET inserting a new key and DELETE (see measure() for how inserts and deletes keep the
 * pool at its size), the daemon's idle Private_Dirty (smaps_rollup) and its wake-ups in 2 s
 * of idleness; then SET into an empty pool against inserts at 8 records, judged against what
 * the kernel alone charges more for a write into an emptied file (bare_fill(), no daemon,
 * in the same run) and the same comparison of two identical daemons (its A/A noise), and
 * the latency of GET_IP_INFO for one adapter (in a private network namespace, as root). Every target figure is also printed as one
 * tab-separated line "TABLE figure hvguest floor ratio target met|NOT met", which
 * bench/table.sh gathers into the table of `make bench`. The floor and hv-kvpd are measured
 * in this one run, one after the other: the machines are noisy, compare ratios.
 *
 * Measures; never asserts (no pass/fail: this is not a test).
 *
 * Usage: bench-kvp [BUILDDIR]   (default: $HVGUEST_BUILDDIR or .); BENCH_SECONDS per figure.
 *
 * Profile mode, for figures a loaded machine does not blur (instruction and system call
 * counts per request): bench-kvp --profile OP RECORDS COUNT [PROGRAM] sends exactly COUNT
 * requests of OP (get, enumerate, modify, insert, delete, fill), after one that loads the
 * pool, to PROGRAM (default
 * daemons/kvp/hv-kvpd; bench/hvd-floor for the floor) over a pool of RECORDS records, keys
 * from a fixed seed, and stops it. $BENCH_WRAPPER (e.g. "strace -c -f -o FILE" or
 * "valgrind --tool=callgrind --callgrind-out-file=FILE") is put in front of PROGRAM. Two
 * counts subtracted (COUNT and 2 * COUNT) leave the cost of COUNT requests without the
 * start and the stop. Pool files go to $BENCH_DIR (default: the temporary directory), so
 * that a file system can be chosen.
 */
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench-util.h"
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
	int notify_fd; /* NOTIFY_SOCKET, as under systemd: sd_notify() costs what it costs */
};

/* A datagram socket that stands in for systemd's notification socket. */
static int notify_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		g_error("cannot make a notification socket");
	strcpy(sa.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		g_error("cannot bind %s: %s", path, g_strerror(errno));
	return fd;
}

/* Reads what the daemon sent, as systemd would, before each request: sd_notify() blocks
 * when the socket's queue is full (ten datagrams). */
static void drain_notify(struct run *r)
{
	char buf[4096];

	while (recv(r->notify_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

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

/* A new directory where the pools go: in $BENCH_DIR, or the temporary directory. */
static char *bench_dir(void)
{
	g_autofree char *tmpl = NULL;

	if (!g_getenv("BENCH_DIR"))
		return g_dir_make_tmp("hvguest-bench-XXXXXX", NULL);
	tmpl = g_build_filename(g_getenv("BENCH_DIR"), "hvguest-bench-XXXXXX", NULL);
	return g_mkdtemp(g_steal_pointer(&tmpl));
}

/* program: "daemons/kvp/hv-kvpd" with a pool of records (0: an empty pool), or the floor
 * "bench/hvd-floor" (records ignored; it knows only the common keys). */
static void run_start(struct run *r, const char *program, size_t records, const char *extra)
{
	g_autofree char *state = NULL, *rundir = NULL, *config = NULL, *prog = NULL;
	g_autofree char *notify = NULL;
	bool kvpd = !g_str_has_suffix(program, "hvd-floor");

	r->dir = bench_dir();
	if (!r->dir)
		g_error("cannot make a temporary directory");
	state = g_build_filename(r->dir, "state", NULL);
	rundir = g_build_filename(r->dir, "run", NULL);
	g_mkdir(state, 0755);
	g_mkdir(rundir, 0755);
	if (records)
		write_pool(state, records);
	r->sock = g_build_filename(r->dir, "kvp.sock", NULL);
	notify = g_build_filename(r->dir, "notify", NULL);
	r->notify_fd = notify_socket(notify);
	r->conf = g_build_filename(r->dir, "hvguest.conf", NULL);
	if (kvpd)
		config = g_strdup_printf("[kvp]\ndevice=unix:%s\nstate-dir=%s\nrun-dir=%s\n"
					 "log-target=stderr\nlog-level=warning\n%s",
					 r->sock, state, rundir, extra ? extra : "");
	else
		config = g_strdup_printf("[kvp]\ndevice=unix:%s\nlog-target=stderr\n"
					 "log-level=warning\n",
					 r->sock);
	g_file_set_contents(r->conf, config, -1, NULL);
	if (hvsim_new(NULL, &r->sim) < 0 || hvsim_listen(r->sim, VMU_SERVICE_KVP, r->sock) < 0)
		g_error("cannot start the simulated host");
	prog = g_build_filename(builddir, program, NULL);
	r->pid = fork();
	if (r->pid == 0) {
		g_auto(GStrv) wrapper = NULL;
		GPtrArray *args = g_ptr_array_new();

		/* a group of its own: the stop reaches a daemon behind a wrapper (strace does
		 * not pass SIGTERM on) */
		setpgid(0, 0);
		g_setenv("NOTIFY_SOCKET", notify, true);
		if (g_getenv("BENCH_WRAPPER") &&
		    !g_shell_parse_argv(g_getenv("BENCH_WRAPPER"), NULL, &wrapper, NULL))
			_exit(127);
		for (char **w = wrapper; w && *w; w++)
			g_ptr_array_add(args, *w);
		g_ptr_array_add(args, prog);
		g_ptr_array_add(args, (char *)"-n");
		g_ptr_array_add(args, (char *)"--config");
		g_ptr_array_add(args, r->conf);
		g_ptr_array_add(args, NULL);
		execvp(args->pdata[0], (char **)args->pdata);
		_exit(127);
	}
	/* a wrapper such as valgrind takes its time to start */
	if (hvsim_wait_registered(r->sim, VMU_SERVICE_KVP, 120 * SEC) < 0)
		g_error("%s did not register (is it built?)", prog);
}

static void run_stop(struct run *r)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->dir);

	kill(-r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	hvsim_free(r->sim);
	close(r->notify_fd);
	g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL);
	g_free(r->dir);
	g_free(r->sock);
	g_free(r->conf);
}

/* ------------------------------------------------------------------ one request kind */

enum op { OP_GET, OP_ENUMERATE, OP_SET_MODIFY, OP_SET_INSERT, OP_DELETE, OP_FILL, _OP_MAX };

static const char *const op_names[_OP_MAX] = {
    [OP_GET] = "GET",
    [OP_ENUMERATE] = "ENUMERATE",
    [OP_SET_MODIFY] = "SET (modify)",
    [OP_SET_INSERT] = "SET (insert)",
    [OP_DELETE] = "DELETE",
    [OP_FILL] = "SET filling an empty pool",
};

/* Inserts and deletes come in batches of this many keys, so that the pool stays at its
 * size: the untimed half of each batch undoes the timed half. */
#define BATCH 10
/* The later SETs the first ones into an empty pool are compared with: inserts into a pool of
 * 8 records, whose end (20,480 bytes) is on a page boundary as an empty file's is, so that
 * both batches fill the same 7 new pages of the file. Inserts at 10 records (25,600 bytes)
 * begin in a page the file already has and allocate 6: that page, not the daemon, made them
 * 1-2% cheaper (the same on tmpfs; an A/A test of two daemons gives 1.00). */
#define LATER_RECORDS 8

static void request(struct run *r, int op, const char *key, uint32_t index, bool floor)
{
	struct hvsim_result res;
	int k;

	drain_notify(r);
	switch (op) {
	case OP_GET:
		k = hvsim_kvp_get(r->sim, VMU_KVP_POOL_GUEST, key, &res);
		break;
	case OP_ENUMERATE:
		k = hvsim_kvp_enumerate(r->sim, VMU_KVP_POOL_GUEST, index, &res);
		break;
	case OP_DELETE:
		k = hvsim_kvp_delete(r->sim, VMU_KVP_POOL_GUEST, key, &res);
		break;
	default:
		k = hvsim_kvp_set(r->sim, VMU_KVP_POOL_GUEST, key, "bench-value", &res);
		break;
	}
	/* the floor answers S_OK to everything */
	if (k < 0 || (res.status && !(op == OP_ENUMERATE && !floor && res.status == VMU_S_CONT)))
		g_error("%s %s failed: %d 0x%08x", op_names[op], key, k, res.status);
}

/* Requests of one kind, for at least sec, against a pool of n records, added to *acc. GET,
 * SET (modify) and ENUMERATE pick existing keys/indexes at random. SET (insert) times
 * BATCH inserts of new keys and then deletes them untimed; DELETE inserts BATCH keys
 * untimed and times their deletion (newest first, so that a DELETE at 10,000 records does
 * not measure the shift of the whole file, which is linear by design). OP_FILL is SET
 * (insert) into an empty pool (n = 0): the first SETs into a new pool. */
struct rate {
	double ops, sec;
};

static void measure(struct run *r, enum op op, size_t n, double sec, bool floor, struct rate *acc)
{
	double start = now_sec();
	char key[48];

	do {
		if (op == OP_GET || op == OP_SET_MODIFY || op == OP_ENUMERATE) {
			uint32_t i = (uint32_t)g_random_int_range(0, (gint32)(n ? n : 1));
			double t = now_sec();

			snprintf(key, sizeof(key), "key-%u", i);
			request(r, op, key, i, floor);
			acc->sec += now_sec() - t;
			acc->ops++;
			continue;
		}
		for (int pass = 0; pass < 2; pass++) {
			bool insert = pass == 0;
			bool timed_pass = (op == OP_DELETE) != insert;
			double t = now_sec();

			for (int j = 0; j < BATCH; j++) {
				snprintf(key, sizeof(key), "bench-new-%d",
					 insert ? j : BATCH - 1 - j);
				request(r, insert ? OP_SET_INSERT : OP_DELETE, key, 0, floor);
			}
			if (timed_pass) {
				acc->sec += now_sec() - t;
				acc->ops += BATCH;
			}
		}
	} while (now_sec() - start < sec);
}

/* The kernel's own share of the first SETs' comparison, without a daemon: BATCH 2,560-byte
 * pwrite()s into a file emptied by ftruncate(), as the first SETs into an empty pool are,
 * against BATCH from LATER_RECORDS records, each batch truncated back record by record
 * untimed (as the untimed DELETEs do), alternating, for sec. In ns per pwrite(), each.
 * An emptied file has no page-cache node and no extent-status entry left, so its second
 * page allocates a radix_tree_node and its first delayed block an extent_status that the
 * file at 8 records keeps (perf record -e kmem:kmem_cache_alloc, per batch: 1 and 2 against
 * 0 and 1): 2.5-3.4% more per pwrite() here, which no system call of ours can avoid. */
static void bare_fill(double sec, double *ret_first_ns, double *ret_later_ns)
{
	g_autofree char *dir = bench_dir();
	g_autofree char *pa = g_build_filename(dir, "empty", NULL);
	g_autofree char *pb = g_build_filename(dir, "later", NULL);
	uint8_t rec[RECORD];
	double t[2] = {0, 0}, start = now_sec();
	long batches = 0;
	int fd[2];

	memset(rec, 'x', sizeof(rec));
	fd[0] = open(pa, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fd[1] = open(pb, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd[0] < 0 || fd[1] < 0)
		g_error("cannot create files in %s", dir);
	for (int i = 0; i < LATER_RECORDS; i++)
		if (pwrite(fd[1], rec, RECORD, (off_t)i * RECORD) != RECORD)
			g_error("cannot write %s", pb);
	do {
		for (int k = 0; k < 2; k++) {
			int w = (int)(batches % 2) ^ k; /* the order alternates */
			off_t base = w ? (off_t)LATER_RECORDS * RECORD : 0;
			double t0 = now_sec();

			for (int j = 0; j < BATCH; j++)
				if (pwrite(fd[w], rec, RECORD, base + (off_t)j * RECORD) != RECORD)
					g_error("cannot write in %s", dir);
			t[w] += now_sec() - t0;
			for (int j = BATCH - 1; j >= 0; j--)
				if (ftruncate(fd[w], base + (off_t)j * RECORD) < 0)
					g_error("cannot truncate in %s", dir);
		}
		batches++;
	} while (now_sec() - start < sec);
	close(fd[0]);
	close(fd[1]);
	g_unlink(pa);
	g_unlink(pb);
	g_rmdir(dir);
	*ret_first_ns = t[0] * 1e9 / (double)(batches * BATCH);
	*ret_later_ns = t[1] * 1e9 / (double)(batches * BATCH);
}

/* hv-kvpd and the floor in alternating slices, so that the load the other users of the
 * machine put on it falls on both alike: pairs of slices of 4 ms each ($BENCH_SLICE_MS) (a few dozen
 * requests, or one batch), the order within a pair alternating, for the figure's seconds.
 * The figures are medians over the pairs: each one's requests/s, and the ratio of the two
 * in the same pair. The machine's speed swings by 2x from one second to the next here (a
 * guest whose host is shared; no steal time is reported): pairs a few milliseconds long
 * see the same conditions, and the median leaves out the pairs a stall fell into. */
static double slice_sec = 0.004; /* $BENCH_SLICE_MS */
#define MAX_PAIRS 4096

struct pair {
	double hv, floor, ratio; /* requests/s, medians; ratio: median of hv/floor per pair */
};

/* Requests/s of op on a (against a pool of n records) and on b (against n_b), in
 * alternating pairs of slices for sec in all: medians of each and of a/b. */
static struct pair measure_pair2(struct run *a, enum op op, size_t n, struct run *b, enum op op_b,
				 size_t n_b, bool b_floor, double sec)
{
	static double ra[MAX_PAIRS], rb[MAX_PAIRS], ratio[MAX_PAIRS];
	size_t pairs = (size_t)(sec / (2 * slice_sec));

	if (pairs < 3)
		pairs = 3;
	if (pairs > MAX_PAIRS)
		pairs = MAX_PAIRS;
	for (size_t i = 0; i < pairs; i++) {
		struct rate x = {0}, y = {0};

		if (i % 2) {
			measure(b, op_b, n_b, slice_sec, b_floor, &y);
			measure(a, op, n, slice_sec, false, &x);
		} else {
			measure(a, op, n, slice_sec, false, &x);
			measure(b, op_b, n_b, slice_sec, b_floor, &y);
		}
		ra[i] = x.ops / x.sec;
		rb[i] = y.ops / y.sec;
		ratio[i] = ra[i] / rb[i];
	}
	return (struct pair){bench_median(ra, pairs), bench_median(rb, pairs),
			     bench_median(ratio, pairs)};
}

static struct pair measure_pair(struct run *hv, struct run *fl, enum op op, size_t n,
				double min_sec)
{
	return measure_pair2(hv, op, n, fl, op == OP_FILL ? OP_SET_INSERT : op, 10, true, min_sec);
}

/* ------------------------------------------------------------------ idle figures */

/* Private_Dirty of the process, in kB (smaps_rollup: RSS would count shared library pages). */
static long private_dirty_kb(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/smaps_rollup", (int)pid);
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, "Private_Dirty:")))
		return -1;
	return strtol(p + strlen("Private_Dirty:"), NULL, 10);
}

/* Context switches of every thread of the process: each wake-up is one. */
static long long context_switches(pid_t pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	long long total = 0;

	if (!d)
		return -1;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_strdup_printf("%s/%s/status", dir, name);
		g_autofree char *text = NULL;
		const char *p;

		if (!g_file_get_contents(path, &text, NULL, NULL))
			continue;
		if ((p = strstr(text, "voluntary_ctxt_switches:")))
			total += strtoll(p + strlen("voluntary_ctxt_switches:"), NULL, 10);
		if ((p = strstr(text, "nonvoluntary_ctxt_switches:")))
			total += strtoll(p + strlen("nonvoluntary_ctxt_switches:"), NULL, 10);
	}
	return total;
}

/* Wake-ups of an idle process over idle_sec, after a settling second. */
static long long idle_wakeups(pid_t pid, double idle_sec)
{
	long long before;

	g_usleep(G_USEC_PER_SEC);
	before = context_switches(pid);
	g_usleep((gulong)(idle_sec * G_USEC_PER_SEC));
	return context_switches(pid) - before;
}

/* ------------------------------------------------------------------ the table */

static void table_row(const char *figure, const char *hv, const char *floor, double ratio,
		      const char *target, bool met)
{
	printf("TABLE\t%s\t%s\t%s\t%.2f\t%s\t%s\n", figure, hv, floor, ratio, target,
	       met ? "met" : "NOT met");
}

static void table_vs_floor(const char *figure, const struct pair *p, double min_ratio)
{
	g_autofree char *h = g_strdup_printf("%.0f", p->hv);
	g_autofree char *f = g_strdup_printf("%.0f", p->floor);
	g_autofree char *t = g_strdup_printf(">= %.2f of floor", min_ratio);

	table_row(figure, h, f, p->ratio, t, p->ratio >= min_ratio);
}

static const size_t sizes[] = {10, 1000, 10000};
#define N_SIZES G_N_ELEMENTS(sizes)

static void bench_pools(double min_sec)
{
	static const enum op ops[] = {OP_GET, OP_ENUMERATE, OP_SET_MODIFY, OP_SET_INSERT,
				      OP_DELETE};
	struct pair m[N_SIZES][_OP_MAX] = {{{0}}}, fill, fill_aa, aa[2];
	double bare_first_ns, bare_later_ns;
	long dirty[N_SIZES];
	long long wakeups[N_SIZES];
	struct run r = {0}, f = {0}, later = {0};
	char figure[128];

	/* The floor: the same transport, host simulator and hvd event loop, no work. */
	run_start(&f, "bench/hvd-floor", 0, NULL);
	printf("hv-kvpd through the simulated host (pool 1, host requests one at a time), "
	       "requests/s; (floor) the do-nothing responder in alternating slices\n");
	printf("%8s", "records");
	for (size_t o = 0; o < G_N_ELEMENTS(ops); o++)
		printf(" %21s", op_names[ops[o]]);
	printf(" %14s %8s\n", "Private_Dirty", "wakeups");
	for (size_t i = 0; i < N_SIZES; i++) {
		run_start(&r, "daemons/kvp/hv-kvpd", sizes[i], NULL);
		for (size_t o = 0; o < G_N_ELEMENTS(ops); o++)
			m[i][ops[o]] = measure_pair(&r, &f, ops[o], sizes[i], min_sec);
		wakeups[i] = idle_wakeups(r.pid, 2.0);
		dirty[i] = private_dirty_kb(r.pid);
		run_stop(&r);
		printf("%8zu", sizes[i]);
		for (size_t o = 0; o < G_N_ELEMENTS(ops); o++)
			printf(" %11.0f (%7.0f)", m[i][ops[o]].hv, m[i][ops[o]].floor);
		printf(" %11ld kB %8lld\n", dirty[i], wakeups[i]);
	}
	/* The method's own noise: the floor against a second floor (an A/A test), GET and
	 * DELETE. A ratio far from 1 says the machine was too noisy for this run's figures. */
	{
		struct run f2 = {0};

		run_start(&f2, "bench/hvd-floor", 0, NULL);
		aa[0] = measure_pair2(&f2, OP_GET, 10, &f, OP_GET, 10, true, min_sec);
		aa[1] = measure_pair2(&f2, OP_DELETE, 10, &f, OP_DELETE, 10, true, min_sec);
		run_stop(&f2);
	}
	run_stop(&f);
	/* The first SETs into an empty pool against later inserts: two hv-kvpd, one
	 * with each pool, in alternating slices. */
	run_start(&r, "daemons/kvp/hv-kvpd", 0, NULL);
	run_start(&later, "daemons/kvp/hv-kvpd", LATER_RECORDS, NULL);
	fill = measure_pair2(&r, OP_FILL, 0, &later, OP_SET_INSERT, LATER_RECORDS, false, min_sec);
	run_stop(&r);
	/* The same comparison with nothing to tell the two apart (an A/A test: a second
	 * hv-kvpd inserting at 8 records): the resolution of the row above. Its deviation from
	 * 1 read up to 1.2% here, the difference looked for is below 0.5%. */
	run_start(&r, "daemons/kvp/hv-kvpd", LATER_RECORDS, NULL);
	fill_aa = measure_pair2(&r, OP_SET_INSERT, LATER_RECORDS, &later, OP_SET_INSERT,
				LATER_RECORDS, false, min_sec);
	run_stop(&later);
	run_stop(&r);
	bare_fill(min_sec, &bare_first_ns, &bare_later_ns);
	printf(
	    "SET into an empty pool (first %d records): %.0f/s (inserts at %d records: %.0f/s)\n",
	    BATCH, fill.hv, LATER_RECORDS, fill.floor);
	printf("the kernel alone (no daemon): a 2560-byte pwrite into an emptied file %.0f ns, "
	       "from %d records %.0f ns\n",
	       bare_first_ns, LATER_RECORDS, bare_later_ns);

	for (int i = 0; i < 2; i++) {
		g_autofree char *h = g_strdup_printf("%.0f", aa[i].hv);
		g_autofree char *fstr = g_strdup_printf("%.0f", aa[i].floor);

		snprintf(figure, sizeof(figure), "noise: KVP %s floor vs a second floor",
			 i ? "DELETE" : "GET");
		table_row(figure, h, fstr, aa[i].ratio, "0.97..1.03 (this run's noise)",
			  aa[i].ratio >= 0.97 && aa[i].ratio <= 1.03);
	}
	/* Target 2: small requests at the floor. */
	for (size_t o = 0; o < G_N_ELEMENTS(ops); o++) {
		snprintf(figure, sizeof(figure), "KVP %s ops/s, 10 records", op_names[ops[o]]);
		table_vs_floor(figure, &m[0][ops[o]], 0.75);
	}
	/* Target 1: SET in constant time. The cost at size against the cost at 10 records is
	 * taken relative to the floor measured alongside each (hv-kvpd's share of the round
	 * trip), so that the machine's load at one moment does not pass for a cost. */
	for (size_t i = 1; i < N_SIZES; i++)
		for (enum op op = OP_SET_MODIFY; op <= OP_SET_INSERT; op++) {
			double cost = m[0][op].ratio / m[i][op].ratio;
			g_autofree char *h = g_strdup_printf("%.2fx", cost);

			snprintf(figure, sizeof(figure), "KVP %s ops/s, %zu records", op_names[op],
				 sizes[i]);
			table_vs_floor(figure, &m[i][op], 0.25);
			snprintf(figure, sizeof(figure), "KVP %s cost, %zu vs 10 records",
				 op_names[op], sizes[i]);
			table_row(figure, h, "-", cost, "<= 1.50x", cost <= 1.5);
		}
	/* The first SETs: their cost against later inserts, judged against what the kernel
	 * alone charges more for them (its extra ns per pwrite, as a share of a later insert's
	 * round trip; the floor column, never below 1.00x) and the A/A noise. */
	{
		double cost = 1 / fill.ratio, aa_cost = 1 / fill_aa.ratio;
		double noise = fabs(aa_cost - 1);
		/* below 1: none that this run resolves */
		double kernel = MAX(1.0, 1 + (bare_first_ns - bare_later_ns) * fill.floor / 1e9);
		g_autofree char *h = g_strdup_printf("%.3fx", cost);
		g_autofree char *k = g_strdup_printf("%.3fx", kernel);
		g_autofree char *ha = g_strdup_printf("%.3fx", aa_cost);
		g_autofree char *target = g_strdup_printf(
		    "<= the kernel's own (floor column), beyond noise (%.3f)", noise);

		table_row("noise: KVP SET inserts at 8, hv-kvpd vs a second one", ha, "-", aa_cost,
			  "0.97..1.03 (the next row's resolution)", noise <= 0.03);
		table_row("KVP SET cost, first 10 into an empty pool vs inserts at 8", h, k, cost,
			  target, cost <= kernel + noise);
	}
	/* GET and ENUMERATE at size: what the index is for (no target of issue 10 beyond
	 * "keep what is good": within 2x of the cost at 10 records). */
	for (size_t i = 1; i < N_SIZES; i++)
		for (enum op op = OP_GET; op <= OP_ENUMERATE; op++) {
			g_autofree char *h = g_strdup_printf("%.0f", m[i][op].hv);
			g_autofree char *fstr = g_strdup_printf("%.0f", m[i][op].floor);

			snprintf(figure, sizeof(figure), "KVP %s ops/s, %zu records", op_names[op],
				 sizes[i]);
			table_row(figure, h, fstr, m[i][op].ratio, "<= 2x cost at 10",
				  m[0][op].ratio / m[i][op].ratio <= 2.0);
		}
	/* Target 5: keep what is good. */
	/* <= 1 MB per idle daemon (at 10 records), and within +1 MB from 10 records. */
	{
		g_autofree char *h = g_strdup_printf("%ld kB", dirty[0]);

		table_row("hv-kvpd Private_Dirty idle, 10 records", h, "-",
			  (double)dirty[0] / 1024.0, "<= 1024 kB",
			  dirty[0] >= 0 && dirty[0] <= 1024);
	}
	for (size_t i = 1; i < N_SIZES; i++) {
		g_autofree char *h =
		    g_strdup_printf("%ld kB (%+ld kB)", dirty[i], dirty[i] - dirty[0]);

		snprintf(figure, sizeof(figure), "hv-kvpd Private_Dirty idle, %zu records (vs 10)",
			 sizes[i]);
		table_row(figure, h, "-", (double)(dirty[i] - dirty[0]) / 1024.0, "<= +1024 kB",
			  dirty[i] >= 0 && dirty[i] - dirty[0] <= 1024);
	}
	for (size_t i = 0; i < N_SIZES; i++) {
		g_autofree char *h = g_strdup_printf("%lld", wakeups[i]);

		snprintf(figure, sizeof(figure), "hv-kvpd wake-ups in 2 s idle, %zu records",
			 sizes[i]);
		table_row(figure, h, "-", (double)wakeups[i], "0", wakeups[i] == 0);
	}
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
	run_start(&r, "daemons/kvp/hv-kvpd", 0, extra);
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
	{
		g_autofree char *h = g_strdup_printf("%" PRIu64 " us", lat[count / 2]);

		table_row("KVP GET_IP_INFO p50, one adapter, no program", h, "-",
			  (double)lat[count / 2] / 300.0, "<= 300 us", lat[count / 2] <= 300);
	}
}

/* CPU time the process has run, in ns (/proc/PID/schedstat), or -1. */
static long long cpu_ns(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/schedstat", (int)pid);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	return g_ascii_strtoll(text, NULL, 10);
}

/* --profile OP RECORDS COUNT [PROGRAM]: exactly COUNT requests, nothing timed. */
static int profile(int argc, char **argv)
{
	static const char *const names[_OP_MAX] = {
	    [OP_GET] = "get",           [OP_ENUMERATE] = "enumerate", [OP_SET_MODIFY] = "modify",
	    [OP_SET_INSERT] = "insert", [OP_DELETE] = "delete",       [OP_FILL] = "fill",
	};
	const char *program = argc > 5 ? argv[5] : "daemons/kvp/hv-kvpd";
	bool floor = g_str_has_suffix(program, "hvd-floor");
	size_t records, count;
	struct run r = {0};
	long long cpu;
	int op = -1;
	char key[48];

	if (argc < 5)
		g_error("usage: bench-kvp --profile OP RECORDS COUNT [PROGRAM]");
	for (int o = 0; o < _OP_MAX; o++)
		if (g_str_equal(argv[2], names[o]))
			op = o;
	records = (size_t)g_ascii_strtoull(argv[3], NULL, 10);
	count = (size_t)g_ascii_strtoull(argv[4], NULL, 10);
	if (op < 0 || (records == 0 && op != OP_FILL && op != OP_SET_INSERT))
		g_error("unknown OP or no records for it");
	g_random_set_seed(1);
	run_start(&r, program, op == OP_FILL ? 0 : records, NULL);
	cpu = cpu_ns(r.pid);
	for (size_t i = 0; i <= count; i++) {
		uint32_t k = (uint32_t)g_random_int_range(0, (gint32)(records ? records : 1));

		/* inserts add new keys (the pool grows by COUNT); a delete removes a key it
		 * inserted first, at the end of the file as in the timed figures (so DELETE's
		 * count is that of an insert and a delete: subtract insert's) */
		if (op == OP_SET_INSERT || op == OP_FILL)
			snprintf(key, sizeof(key), "bench-new-%zu", i);
		else if (op == OP_DELETE) {
			snprintf(key, sizeof(key), "bench-new-%zu", i);
			request(&r, OP_SET_INSERT, key, k, floor);
		} else
			snprintf(key, sizeof(key), "key-%u", k);
		request(&r, op == OP_FILL ? OP_SET_INSERT : op, key, k, floor);
		/* the first request loads the pool: not counted */
		if (i == 0)
			cpu = cpu_ns(r.pid);
	}
	/* without a wrapper, the daemon's CPU time per request (the scheduler's ns count: noisy
	 * on a loaded machine, but not a wall-clock figure) */
	if (!g_getenv("BENCH_WRAPPER"))
		printf("%s %s at %zu records: daemon CPU %.2f us per request (%zu requests)\n",
		       program, argv[2], records,
		       (double)(cpu_ns(r.pid) - cpu) / 1e3 / (double)count, count);
	run_stop(&r);
	return 0;
}

int main(int argc, char **argv)
{
	const char *secs = g_getenv("BENCH_SECONDS");
	double min_sec = secs ? g_ascii_strtod(secs, NULL) : 1.0;
	bool prof = argc > 1 && g_str_equal(argv[1], "--profile");

	bench_pin_cpu();
	builddir = argc > 1 && !prof ? argv[1] : g_getenv("HVGUEST_BUILDDIR");
	if (!builddir)
		builddir = ".";
	if (prof)
		return profile(argc, argv);
	if (g_getenv("BENCH_SLICE_MS"))
		slice_sec = g_ascii_strtod(g_getenv("BENCH_SLICE_MS"), NULL) / 1000;
	if (slice_sec <= 0 || slice_sec > 1)
		g_error("BENCH_SLICE_MS must be in (0, 1000]");
	if (min_sec <= 0)
		min_sec = 1.0;
	bench_pools(min_sec);
	bench_ip_info(500);
	return 0;
}
