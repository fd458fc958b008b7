/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-vss: FREEZE-to-reply and THAW-to-reply latency of the real hv-vssd, as the
 * simulated host measures them (host send -> host receive), for 1, 4 and 8 loop-mounted
 * ext4 images. Root only (skips otherwise, exit 0).
 *
 * The floor is the bare ioctls: the bench itself opens the same mount points and times
 * FIFREEZE on all of them, then FITHAW on all of them (reverse order), in rounds that
 * alternate with the daemon's, so both see the same machine noise. The images live on a
 * tmpfs the bench mounts in its namespace: FIFREEZE then flushes to memory, not to the
 * shared disk. The daemon's run directory (its crash record) gets a tmpfs too, as /run is
 * one on a real system. The target (issue 10): the daemon at most 100 us above the bare
 * ioctls, judged on the median over the rounds of the difference within a round (the
 * order within a round alternating), printed as TABLE lines (figure, hvguest p50, floor
 * p50, ratio, target, met).
 *
 * Safety as in tests/integration/test-vssd.c: a private mount namespace, scope= and
 * include= set to the bench's own directory, `hv-vssd --plan` checked before the first
 * FREEZE of every round, and the mounts thawed (fsfreeze -u) and unmounted at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/daemon.h"
#include "tools/hv-host-sim/hvsim.h"
#include "shared/time-util.h"

#define ROUNDS 201
#define MAX_MOUNTS 8
#define TARGET_EXTRA_USEC 100

static int run_quiet(const char *const *argv, char **out)
{
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
			      (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL),
			  NULL, NULL, out, NULL, &status, NULL))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The plan must freeze exactly n mounts, all under scope. */
static bool plan_ok(const char *config, const char *scope, size_t n)
{
	g_autofree char *prog = test_build_path("daemons/vss/hv-vssd"), *out = NULL;
	size_t frozen = 0;
	char **lines;

	if (run_quiet((const char *const[]){prog, "--plan", "--config", config, NULL}, &out) != 0)
		return false;
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		char **fields;

		if (!g_str_has_prefix(*l, "freeze\t"))
			continue;
		fields = g_strsplit(*l, "\t", -1);
		if (g_strv_length(fields) >= 3 && g_str_has_prefix(fields[2], scope) &&
		    strcmp(fields[2], "/") != 0)
			frozen++;
		else
			frozen = SIZE_MAX / 2;
		g_strfreev(fields);
	}
	g_strfreev(lines);
	return frozen == n;
}

static pid_t start_vssd(struct test_env *env)
{
	g_autofree char *prog = test_build_path("daemons/vss/hv-vssd");
	g_autofree char *log = g_build_filename(env->dir, "hv-vssd.log", NULL);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		g_unsetenv("NOTIFY_SOCKET");
		execl(prog, prog, "-n", "--config", env->config_path, (char *)NULL);
		_exit(127);
	}
	close(fd);
	return pid;
}

/* The floor: FIFREEZE on fds[0..n), then FITHAW in reverse, timed apart. -errno. */
static int bare_round(const int *fds, size_t n, uint64_t *ret_freeze, uint64_t *ret_thaw)
{
	uint64_t t0 = now_usec(), t1;
	size_t frozen = 0;
	int r = 0;

	for (; frozen < n; frozen++)
		if (ioctl(fds[frozen], FIFREEZE, 0) < 0) {
			r = -errno;
			break;
		}
	t1 = now_usec();
	while (frozen-- > 0)
		if (ioctl(fds[frozen], FITHAW, 0) < 0 && r == 0)
			r = -errno;
	*ret_freeze = t1 - t0;
	*ret_thaw = now_usec() - t1;
	return r;
}

/* hv and floor sorted; extra: the median of the per-round differences (hv - floor, each
 * round's pair measured back to back), which is what the target bounds; the p50s of each
 * side, printed beside it, come from different rounds. */
static void table_row(const char *what, size_t n, const uint64_t *hv, const uint64_t *floor,
		      int64_t extra)
{
	uint64_t h = hv[ROUNDS / 2], f = floor[ROUNDS / 2];

	printf("TABLE\tVSS %s->reply p50 us, %zu mount%s\t%" PRIu64 "\t%" PRIu64
	       "\t%.2f\tmedian extra per round %+" PRId64 " <= %d us\t%s\n",
	       what, n, n == 1 ? "" : "s", h, f, f ? (double)h / (double)f : 0.0, extra,
	       TARGET_EXTRA_USEC, extra <= TARGET_EXTRA_USEC ? "met" : "NOT met");
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The median of a[i] - b[i]. */
static int64_t median_extra(const uint64_t *a, const uint64_t *b)
{
	int64_t d[ROUNDS];

	for (int i = 0; i < ROUNDS; i++)
		d[i] = (int64_t)a[i] - (int64_t)b[i];
	qsort(d, ROUNDS, sizeof(d[0]), cmp_i64);
	return d[ROUNDS / 2];
}

static int bench_round(struct test_env *env, struct hvsim *sim, const char *scope,
		       char *const *paths, size_t n)
{
	uint64_t freeze[ROUNDS], thaw[ROUNDS], bare_freeze[ROUNDS], bare_thaw[ROUNDS];
	int fds[MAX_MOUNTS];
	g_autofree char *extra =
	    g_strdup_printf("scope=%s\ninclude=%s/*\nhooks-dir=%s/hooks\n", scope, scope, env->dir);
	struct hvsim_result r;
	pid_t pid;

	/* an empty hook directory, as a package installs it: listed at every FREEZE */
	g_autofree char *hooks = g_build_filename(env->dir, "hooks", NULL);
	g_mkdir(hooks, 0755);
	test_env_write_config(env, extra);
	if (!plan_ok(env->config_path, scope, n)) {
		fprintf(stderr,
			"bench-vss: the plan is not exactly the %zu bench mounts, stopping\n", n);
		return -1;
	}
	pid = start_vssd(env);
	if (hvsim_wait_registered(sim, VMU_SERVICE_VSS, 10 * USEC_PER_SEC) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* the daemon's plan is children first: reverse mount order, as here */
	for (size_t i = 0; i < n; i++)
		fds[i] = open(paths[n - 1 - i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (int i = 0; i < ROUNDS; i++) {
		bool ok = true;

		for (size_t k = 0; k < n; k++)
			ok = ok && fds[k] >= 0;
		/* The bare ioctls first in even rounds, after the daemon in odd ones: a FIFREEZE
		 * right after the other side's FITHAW costs more (up to 50 us more per round at 4
		 * and 8 mounts, seen with the bare ioctls always first), so neither side may
		 * always be the one that follows. */
		if (!ok || (i % 2 == 0 && bare_round(fds, n, &bare_freeze[i], &bare_thaw[i]) < 0))
			break;
		if (hvsim_vss_request(sim, VMU_VSS_OP_FREEZE, &r) < 0 || r.status != VMU_S_OK)
			break;
		freeze[i] = r.latency_usec;
		if (hvsim_vss_request(sim, VMU_VSS_OP_THAW, &r) < 0 || r.status != VMU_S_OK)
			break;
		thaw[i] = r.latency_usec;
		if (i % 2 == 1 && bare_round(fds, n, &bare_freeze[i], &bare_thaw[i]) < 0)
			break;
		if (i == ROUNDS - 1) {
			int64_t extra_freeze = median_extra(freeze, bare_freeze);
			int64_t extra_thaw = median_extra(thaw, bare_thaw);

			qsort(freeze, ROUNDS, sizeof(uint64_t), cmp_u64);
			qsort(thaw, ROUNDS, sizeof(uint64_t), cmp_u64);
			qsort(bare_freeze, ROUNDS, sizeof(uint64_t), cmp_u64);
			qsort(bare_thaw, ROUNDS, sizeof(uint64_t), cmp_u64);
			printf("%zu mount%s  FREEZE->reply p50 %7" PRIu64 " us (min %7" PRIu64
			       ", max %7" PRIu64 "), bare FIFREEZEs p50 %7" PRIu64 " us\n",
			       n, n == 1 ? " " : "s", freeze[ROUNDS / 2], freeze[0],
			       freeze[ROUNDS - 1], bare_freeze[ROUNDS / 2]);
			printf("%zu mount%s  THAW->reply   p50 %7" PRIu64 " us (min %7" PRIu64
			       ", max %7" PRIu64 "), bare FITHAWs   p50 %7" PRIu64 " us\n",
			       n, n == 1 ? " " : "s", thaw[ROUNDS / 2], thaw[0], thaw[ROUNDS - 1],
			       bare_thaw[ROUNDS / 2]);
			table_row("FREEZE", n, freeze, bare_freeze, extra_freeze);
			table_row("THAW", n, thaw, bare_thaw, extra_thaw);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	hvsim_wait_disconnected(sim, VMU_SERVICE_VSS, 10 * USEC_PER_SEC);
	return 0;
}

int main(void)
{
	static const size_t counts[] = {1, 4, 8};
	char *paths[MAX_MOUNTS] = {0}, *imgs[MAX_MOUNTS] = {0};
	struct test_env *env;
	struct hvsim *sim = NULL;
	g_autofree char *scope = NULL, *imgdir = NULL;
	bool tmpfs = false, run_tmpfs;
	size_t made = 0;
	int r = 0;

	if (geteuid() != 0) {
		printf("bench-vss: skipped (needs root for loop mounts and FIFREEZE)\n");
		return 0;
	}
	/* Not pinned to one CPU as bench-kvp and bench-fcopy are (bench/bench-util.h): the host is
	 * another machine, and pinned, the bookkeeping the daemon does after its answer held
	 * the simulated host back from reading that answer. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("bench-vss: skipped (no private mount namespace)\n");
		return 0;
	}
	env = test_env_new(VMU_SERVICE_VSS, NULL);
	scope = g_build_filename(env->dir, "mnt", NULL);
	imgdir = g_build_filename(env->dir, "img", NULL);
	g_mkdir(imgdir, 0700);
	tmpfs = mount("tmpfs", imgdir, "tmpfs", MS_NOSUID | MS_NODEV, "size=320m,mode=0700") == 0;
	if (!tmpfs)
		fprintf(stderr, "bench-vss: no tmpfs for the images, using %s's disk\n", env->dir);
	run_tmpfs = mount("tmpfs", env->run_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") == 0;
	if (hvsim_new(NULL, &sim) < 0 || hvsim_listen(sim, VMU_SERVICE_VSS, env->socket_path) < 0)
		return 1;
	hvsim_set_host_timeout(sim, 60 * USEC_PER_SEC);
	printf("bench-vss: hv-vssd FREEZE/THAW as the host sees them, %d rounds, ext4 loop "
	       "mounts, an empty hook directory\n",
	       ROUNDS);
	for (size_t c = 0; c < G_N_ELEMENTS(counts) && r == 0; c++) {
		for (; made < counts[c]; made++) {
			g_autofree char *name = g_strdup_printf("m%zu", made);

			paths[made] = g_build_filename(scope, name, NULL);
			imgs[made] = g_strdup_printf("%s/%s.img", imgdir, name);
			g_mkdir_with_parents(paths[made], 0755);
			if (run_quiet(
				(const char *const[]){"truncate", "-s", "32M", imgs[made], NULL},
				NULL) != 0 ||
			    run_quiet(
				(const char *const[]){"mkfs.ext4", "-q", "-F", imgs[made], NULL},
				NULL) != 0 ||
			    run_quiet((const char *const[]){"mount", "-o", "loop", imgs[made],
							    paths[made], NULL},
				      NULL) != 0) {
				fprintf(stderr, "bench-vss: cannot make loop mount %s\n",
					paths[made]);
				r = -1;
				made++;
				break;
			}
		}
		if (r == 0)
			r = bench_round(env, sim, scope, paths, counts[c]);
	}
	for (size_t i = made; i-- > 0;) {
		run_quiet((const char *const[]){"fsfreeze", "-u", paths[i], NULL}, NULL);
		if (umount(paths[i]) < 0)
			umount2(paths[i], MNT_DETACH);
		g_unlink(imgs[i]);
		g_free(paths[i]);
		g_free(imgs[i]);
	}
	if (run_tmpfs && umount(env->run_dir) < 0)
		umount2(env->run_dir, MNT_DETACH);
	if (tmpfs && umount(imgdir) < 0)
		umount2(imgdir, MNT_DETACH);
	g_rmdir(imgdir);
	hvsim_free(sim);
	test_env_free(env);
	return r < 0 ? 1 : 0;
}
