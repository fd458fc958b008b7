/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vssd: the VSS (backup) service on top of the shared daemon scaffolding (hvd).
 *
 * One backup, as the host drives it: HOT_BACKUP (a capability check), FREEZE, the host takes
 * its snapshot, THAW. The daemon's phases:
 *
 *   IDLE --FREEZE--> [FREEZE_HOOKS] --hooks ok--> freeze file systems --> FROZEN --THAW-->
 *        thaw file systems --> [AFTER_HOOKS: thaw hooks] --> IDLE
 *
 * FREEZE with hooks installed is answered later (HVD_REPLY_LATER): the hooks run on the
 * event loop, each with a timeout and all of them within a budget, so the answer always
 * comes well inside the kernel's 900 s. A failed step answers HV_E_FAIL after running the
 * freeze hooks that already ran with "freeze-fail" (AFTER_HOOKS as well).
 *
 * Never left frozen:
 *   - auto-thaw: a timer armed when frozen thaws after max-frozen without a THAW;
 *   - the device is reopened (kernel timeout, hibernation's fake THAW): disconnected()
 *     thaws first;
 *   - crash: before the first FIFREEZE every mount of the plan that may become ours is
 *     written to <run-dir>/vss-frozen (thawing one that is not frozen is a harmless
 *     EINVAL), and rewritten to exactly ours afterwards only when that differs; init()
 *     (before the device is opened and registered) thaws what a previous instance left
 *     there and runs the thaw hooks;
 *   - the run directory itself must not lie on a file system of the plan (else refused).
 *
 * While anything is frozen the log is held (log_hold): records are queued in memory and
 * flushed after the thaw, because journald (or a log file) may be on a frozen disk. Nothing
 * else this daemon does while frozen touches a file system besides the run directory.
 *
 * The answer costs little more than the ioctls (issue 10):
 *   - the plan is kept between backups and rebuilt only when the mount table changed
 *     (/proc/self/mountinfo, opened once, polls POLLPRI after any mount or unmount in our
 *     namespace; checked with a zero-timeout poll() at each FREEZE) or after a reload.
 *     Each mount is still opened and checked against the plan at every FREEZE (freeze.c);
 *   - what need not precede the answer (the crash record's final form, the log records,
 *     the status line, the flush of the held log after a thaw) runs after it: from a
 *     defer source, i.e. once hvd has sent the reply, or at once before anything else
 *     this daemon is asked to do (vssd_settle()).
 *
 * Thaw hooks after an auto-thaw or a lost connection, and freeze-fail hooks of a cancelled
 * freeze, run to completion before the daemon goes on (nothing waits for an answer then).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freeze.h"
#include "hooks.h"
#include "message-ids.h"
#include "state-file.h"
#include "plan.h"
#include "state.h"
#include "vssd.h"
#include "shared/time-util.h"

enum vssd_phase {
	VSSD_IDLE,
	VSSD_FREEZE_HOOKS, /* freeze hooks run, the FREEZE answer waits */
	VSSD_FROZEN,
	VSSD_AFTER_HOOKS, /* thaw or freeze-fail hooks run, an answer waits */
};

struct vssd {
	struct hvd *hvd;
	enum vssd_phase phase;
	struct plan *plan;
	struct freeze_set *set;
	struct hook_run *hooks, *finished_hooks;
	char **hook_names;
	size_t n_hooks;
	sd_event_source *auto_thaw;
	char *state_path;
	bool reply_pending, auto_thawed, unknown_logged;
	enum vmu_vss_op reply_op;
	uint32_t reply_status;
	/* the plan kept between backups; rebuilt when the mount table changed */
	int mountinfo_fd; /* -1: no change notification, rebuilt at every FREEZE */
	bool plan_stale;
	bool plan_refused; /* run-dir lies on a file system of the plan */
	/* an empty hook listing kept while the directory does not change */
	int hooks_inotify, hooks_wd;
	bool hooks_empty;
	dev_t hooks_dev;
	ino_t hooks_ino;
	/* work left for after the answer (vssd_after_reply) */
	enum { AFTER_NONE, AFTER_FROZEN, AFTER_THAWED } after;
	sd_event_source *after_source;
	const char *thaw_why;
	/* the current or last backup */
	uint64_t t_start, t_frozen, freeze_usec, frozen_usec, thaw_usec;
	time_t wall_start, wall_frozen;
	char result[256];
	char *hook_log;
	uint64_t backups, failures;
};

static const char *const unfreezable_choices[] = {"skip", "fail", NULL};
static const char *const hook_failure_choices[] = {"abort", "ignore", NULL};
static const char *const freeze_fail_arg_choices[] = {"freeze-fail", "thaw", NULL};

static const struct conf_key vssd_keys[] = {
    {"scope", CONF_PATH, "/",
     "only mount points at or below this directory are ever frozen, whatever include= says"},
    {"include", CONF_STRV, "",
     "if set, only mounts matching one of these globs (\"/...\": mount point, else file system "
     "type) are frozen; a mount point named here is frozen even if it is a pseudo, network or "
     "FUSE file system"},
    {"exclude", CONF_STRV, "vfat;msdos;exfat;iso9660;squashfs;zfs;overlay;/boot/efi",
     "mounts matching these globs (mount point or type) are never frozen"},
    {"journal-dirs", CONF_PATHS, "/var/log/journal;/run/log/journal",
     "the file systems holding these are frozen late (after all others but the root)"},
    {"unfreezable", CONF_ENUM, "skip",
     "a mount whose file system cannot be frozen (EOPNOTSUPP/ENOTTY): skip it, or fail the "
     "whole freeze",
     0, 0, unfreezable_choices},
    {"hooks-dir", CONF_PATH, SYSCONFDIR "/hvguest/vss-hooks.d", "the application hooks"},
    {"hook-timeout", CONF_DURATION, "60s", "longest run of one hook", 100 * USEC_PER_MSEC,
     600 * USEC_PER_SEC},
    {"freeze-hooks-budget", CONF_DURATION, "300s", "longest run of all freeze hooks together",
     100 * USEC_PER_MSEC, 600 * USEC_PER_SEC},
    {"thaw-hooks-budget", CONF_DURATION, "20s",
     "longest run of all thaw (or freeze-fail) hooks together; below the kernel's 30 s",
     100 * USEC_PER_MSEC, 25 * USEC_PER_SEC},
    {"hook-failure", CONF_ENUM, "abort",
     "a freeze hook failed or timed out: abort the freeze (application-consistent or "
     "nothing), or ignore it and freeze anyway",
     0, 0, hook_failure_choices},
    {"freeze-fail-argument", CONF_ENUM, "freeze-fail",
     "the argument given to hooks when a later step fails (\"thaw\" for hooks that only know "
     "freeze and thaw)",
     0, 0, freeze_fail_arg_choices},
    {"max-frozen", CONF_DURATION, "5min",
     "thaw by ourselves when no THAW came this long after the freeze", 100 * USEC_PER_MSEC,
     3600 * USEC_PER_SEC},
    {NULL},
};

static const char *format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
	return buf;
}

static const struct conf *vssd_conf(struct vssd *v)
{
	return hvd_conf(v->hvd);
}

/* ---------------------------------------------------------------- plan */

static void plan_config_from(const struct conf *c, struct plan_config *pc)
{
	*pc = (struct plan_config){
	    .scope = conf_get_string(c, "scope"),
	    .include = conf_get_strv(c, "include"),
	    .exclude = conf_get_strv(c, "exclude"),
	    .journal_dirs = conf_get_strv(c, "journal-dirs"),
	};
}

int vssd_print_plan(const char *config_path, const char *mountinfo, FILE *f)
{
	struct conf *c = NULL;
	struct plan *p = NULL;
	struct plan_config pc;
	char *error = NULL;
	int r = hvd_config_load(&vssd_service, config_path, &c, &error);

	if (r < 0) {
		fprintf(stderr, "hv-vssd: %s\n", error ? error : strerror(-r));
		free(error);
		return 1;
	}
	plan_config_from(c, &pc);
	r = plan_build_from_file(mountinfo, &pc, &p);
	if (r < 0) {
		fprintf(stderr, "hv-vssd: cannot read the mount table %s: %s\n",
			mountinfo ? mountinfo : "/proc/self/mountinfo", strerror(-r));
		conf_free(c);
		return 1;
	}
	plan_print(p, f);
	if (plan_freezes_path(p, conf_get_string(c, "run-dir")))
		fprintf(f, "# refused: run-dir %s lies on a file system of the plan\n",
			conf_get_string(c, "run-dir"));
	plan_free(p);
	conf_free(c);
	return 0;
}

/* ---------------------------------------------------------------- status and records */

static size_t vssd_frozen_count(const struct vssd *v)
{
	return freeze_count(v->set, FREEZE_OURS);
}

static const char *const vssd_phase_names[] = {
    [VSSD_IDLE] = "idle",
    [VSSD_FREEZE_HOOKS] = "freeze-hooks",
    [VSSD_FROZEN] = "frozen",
    [VSSD_AFTER_HOOKS] = "after-hooks",
};

static void vssd_publish_frozen(struct vssd *v, FILE *f)
{
	struct state_mount *m = NULL;
	size_t n = 0;

	if (v->phase != VSSD_FROZEN) {
		fputs("null", f);
		return;
	}
	m = freeze_entries(v->set, FREEZE_OURS, &n);
	fprintf(f, "{\"since\": %lld, \"auto_thaw_at\": %lld, \"mounts\": [",
		(long long)v->wall_frozen,
		(long long)v->wall_frozen +
		    (long long)(conf_get_usec(vssd_conf(v), "max-frozen") / 1000000));
	for (size_t i = 0; m && i < n; i++) {
		fputs(i ? ", " : "", f);
		hvd_json_string(f, m[i].target);
	}
	fputs("]}", f);
	free(m); /* the entries point into the set */
}

static void vssd_publish_last(struct vssd *v, FILE *f)
{
	char *list = v->plan ? plan_frozen_list(v->plan) : NULL;

	if (v->backups == 0) {
		fputs("null", f);
		free(list);
		return;
	}
	fprintf(f, "{\"time\": %lld, \"result\": ", (long long)v->wall_start);
	hvd_json_string(f, v->result);
	fputs(", \"mounts\": ", f);
	hvd_json_string(f, list ? list : "");
	fprintf(f,
		", \"freeze_usec\": %" PRIu64 ", \"frozen_usec\": %" PRIu64
		", \"thaw_usec\": %" PRIu64 ", \"hooks\": ",
		v->freeze_usec, v->frozen_usec, v->thaw_usec);
	hvd_json_string(f, v->hook_log ? v->hook_log : "");
	fputs("}", f);
	free(list);
}

/* The "details" of vss.state.json (hvguestctl(8)); urgent: every phase change matters. */
static void vssd_publish(struct vssd *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	fprintf(f,
		"{\"phase\": \"%s\", \"backups\": %" PRIu64 ", \"failures\": %" PRIu64
		", \"frozen\": ",
		vssd_phase_names[v->phase], v->backups, v->failures);
	vssd_publish_frozen(v, f);
	fputs(", \"last_backup\": ", f);
	vssd_publish_last(v, f);
	fputs("}", f);
	if (fclose(f) == 0)
		hvd_publish_details(v->hvd, buf, true);
	free(buf);
}

static void vssd_status_line(struct vssd *v)
{
	char t[64];

	switch (v->phase) {
	case VSSD_IDLE:
		if (v->backups == 0)
			hvd_set_status(v->hvd, "Idle; no backup yet");
		else
			hvd_set_status(v->hvd,
				       "Idle; last backup at %s: %s (freeze %.3f s, frozen %.3f s, "
				       "thaw %.3f s)",
				       format_time(v->wall_start, t, sizeof(t)), v->result,
				       (double)v->freeze_usec / 1e6, (double)v->frozen_usec / 1e6,
				       (double)v->thaw_usec / 1e6);
		return;
	case VSSD_FREEZE_HOOKS:
		hvd_set_status(v->hvd, "Running freeze hooks since %s",
			       format_time(v->wall_start, t, sizeof(t)));
		return;
	case VSSD_FROZEN:
		hvd_set_status(v->hvd, "Frozen since %s (%zu mounts)",
			       format_time(v->wall_frozen, t, sizeof(t)), vssd_frozen_count(v));
		return;
	case VSSD_AFTER_HOOKS:
		hvd_set_status(v->hvd, "Running %s hooks; backup: %s",
			       v->hooks ? hook_run_argument(v->hooks) : "thaw", v->result);
		return;
	}
}

static void vssd_status(struct vssd *v)
{
	vssd_status_line(v);
	vssd_publish(v);
}

static void vssd_note_hooks(struct vssd *v, const struct hook_run *run)
{
	const struct hook_result *res;
	size_t n;

	res = hook_run_results(run, &n);
	for (size_t i = 0; i < n; i++) {
		char what[320], *log = NULL;

		hook_result_describe(&res[i], what, sizeof(what));
		if (asprintf(&log, "%s%s%s:%s", v->hook_log ? v->hook_log : "",
			     v->hook_log ? " " : "", hook_run_argument(run), what) < 0)
			return;
		free(v->hook_log);
		v->hook_log = log;
	}
}

static void vssd_set_result(struct vssd *v, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void vssd_set_result(struct vssd *v, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(v->result, sizeof(v->result), format, ap);
	va_end(ap);
}

/* The structured record of one backup, once it is over. */
static void vssd_backup_end(struct vssd *v)
{
	char f_result[300], f_plan[4200], f_mounts[64], f_freeze[64], f_frozen[64], f_thaw[64];
	char f_hooks[4200];
	char *list = v->plan ? plan_frozen_list(v->plan) : NULL;

	v->backups++;
	if (strcmp(v->result, "ok") != 0)
		v->failures++;
	snprintf(f_result, sizeof(f_result), "HVGUEST_VSS_RESULT=%s", v->result);
	snprintf(f_plan, sizeof(f_plan), "HVGUEST_VSS_PLAN=%s", list ? list : "");
	snprintf(f_mounts, sizeof(f_mounts), "HVGUEST_VSS_MOUNTS=%zu",
		 freeze_count(v->set, FREEZE_THAWED) + freeze_count(v->set, FREEZE_OURS));
	snprintf(f_freeze, sizeof(f_freeze), "HVGUEST_VSS_FREEZE_USEC=%" PRIu64, v->freeze_usec);
	snprintf(f_frozen, sizeof(f_frozen), "HVGUEST_VSS_FROZEN_USEC=%" PRIu64, v->frozen_usec);
	snprintf(f_thaw, sizeof(f_thaw), "HVGUEST_VSS_THAW_USEC=%" PRIu64, v->thaw_usec);
	snprintf(f_hooks, sizeof(f_hooks), "HVGUEST_VSS_HOOKS=%s", v->hook_log ? v->hook_log : "");
	log_struct(
	    LOG_INFO, "Backup finished: %s; freeze %.3f s, frozen %.3f s, thaw %.3f s; hooks: %s",
	    v->result, (double)v->freeze_usec / 1e6, (double)v->frozen_usec / 1e6,
	    (double)v->thaw_usec / 1e6, v->hook_log ? v->hook_log : "none", f_result, f_plan,
	    f_mounts, f_freeze, f_frozen, f_thaw, f_hooks, HVGUEST_MESSAGE_BACKUP_DONE, NULL);
	free(list);
	freeze_release(v->set); /* no mount is kept busy between backups */
	if (vssd_frozen_count(v) == 0) {
		int r = state_remove(v->state_path);
		if (r < 0)
			log_warning_errno(r, "cannot remove %s", v->state_path);
	}
	v->phase = VSSD_IDLE;
	vssd_status(v);
}

static void vssd_backup_begin(struct vssd *v)
{
	v->set = freeze_set_free(v->set);
	v->hook_names = strv_free(v->hook_names);
	v->n_hooks = 0;
	free(v->hook_log);
	v->hook_log = NULL;
	v->t_start = now_usec();
	v->wall_start = time(NULL);
	v->freeze_usec = v->frozen_usec = v->thaw_usec = 0;
	v->auto_thawed = false;
	vssd_set_result(v, "in progress");
}

/* ---------------------------------------------------------------- replies */

static ssize_t vssd_reply_now(void *reply, size_t size, enum vmu_vss_op op, uint32_t status)
{
	int r = vmu_vss_reply(reply, size, op, status);

	return r < 0 ? r : VMU_VSS_MSG_SIZE;
}

static void vssd_reply_later(struct vssd *v, uint32_t status)
{
	uint8_t buf[VMU_VSS_MSG_SIZE];
	int r;

	if (!v->reply_pending)
		return;
	v->reply_pending = false;
	if (vmu_vss_reply(buf, sizeof(buf), v->reply_op, status) < 0)
		return;
	r = hvd_reply(v->hvd, buf, sizeof(buf));
	if (r < 0)
		log_warning_errno(r, "cannot answer the host's %s",
				  v->reply_op == VMU_VSS_OP_FREEZE ? "FREEZE" : "THAW");
}

/* ---------------------------------------------------------------- hooks */

static struct hook_run_config vssd_hook_config(struct vssd *v, const char *argument)
{
	const struct conf *c = vssd_conf(v);
	bool freeze = strcmp(argument, "freeze") == 0;

	return (struct hook_run_config){
	    .dir = conf_get_string(c, "hooks-dir"),
	    .argument = argument,
	    .timeout_usec = conf_get_usec(c, "hook-timeout"),
	    .budget_usec = conf_get_usec(c, freeze ? "freeze-hooks-budget" : "thaw-hooks-budget"),
	    /* with hook-failure=abort the first failed freeze hook ends the run */
	    .stop_on_failure = freeze && strcmp(conf_get_string(c, "hook-failure"), "abort") == 0,
	};
}

static const char *vssd_fail_argument(struct vssd *v)
{
	return conf_get_string(vssd_conf(v), "freeze-fail-argument");
}

/* Names of the freeze hooks that were started, in reverse order (for freeze-fail). */
static const char **vssd_started_reversed(const struct hook_run *run)
{
	size_t n;
	const struct hook_result *res = hook_run_results(run, &n);
	const char **names = calloc(n + 1, sizeof(*names));
	size_t k = 0;

	for (size_t i = n; names && i-- > 0;)
		if (res[i].started)
			names[k++] = res[i].name;
	return names;
}

/* All hooks in reverse order (thaw). */
static const char **vssd_hooks_reversed(struct vssd *v)
{
	const char **names = calloc(v->n_hooks + 1, sizeof(*names));

	for (size_t i = 0; names && i < v->n_hooks; i++)
		names[i] = v->hook_names[v->n_hooks - 1 - i];
	return names;
}

static void vssd_run_hooks_blocking(struct vssd *v, const char *argument, const char **names)
{
	struct hook_run_config c = vssd_hook_config(v, argument);
	bool ok = false;
	int r;

	if (!names || !names[0])
		return;
	r = hook_run_blocking(&c, names, &ok);
	if (r < 0)
		log_error_errno(r, "cannot run the %s hooks", argument);
	else if (!ok)
		log_warning("some %s hooks failed, going on", argument);
}

/* A finished run is kept until the next one finishes (its callback is still on the stack,
 * and freeze-fail names point into it); the one before is freed. */
static void vssd_retire(struct vssd *v, struct hook_run *run)
{
	vssd_note_hooks(v, run);
	hook_run_free(v->finished_hooks);
	v->finished_hooks = run;
	v->hooks = NULL;
}

static void on_after_hooks(struct hook_run *run, bool ok, void *userdata)
{
	struct vssd *v = userdata;

	vssd_retire(v, run);
	if (!ok)
		log_warning("some %s hooks failed", hook_run_argument(run));
	v->phase = VSSD_IDLE;
	vssd_reply_later(v, v->reply_status);
	vssd_backup_end(v);
}

/* Runs thaw or freeze-fail hooks, then answers with status (when an answer is pending) and
 * ends the backup. */
static void vssd_after_hooks(struct vssd *v, const char *argument, const char **names,
			     uint32_t status)
{
	struct hook_run_config c = vssd_hook_config(v, argument);
	int r = -ENOENT;

	if (names && names[0])
		r = hook_run_start(hvd_event(v->hvd), &c, names, on_after_hooks, v, &v->hooks);
	if (r < 0) {
		if (r != -ENOENT)
			log_error_errno(r, "cannot run the %s hooks", argument);
		vssd_reply_later(v, status);
		vssd_backup_end(v);
		return;
	}
	v->reply_status = status;
	v->phase = VSSD_AFTER_HOOKS;
	vssd_status(v);
}

/* ---------------------------------------------------------------- freeze and thaw */

static int vssd_record(const struct state_mount *m, size_t n, void *userdata)
{
	struct vssd *v = userdata;

	return state_write(v->state_path, m, n);
}

/* The record now holds exactly ours. */
static void vssd_record_ours(struct vssd *v)
{
	size_t n;
	struct state_mount *ours = freeze_entries(v->set, FREEZE_OURS, &n);

	if (ours)
		(void)state_write(v->state_path, ours, n);
	free(ours);
}

static int on_auto_thaw(sd_event_source *s, uint64_t usec, void *userdata);

static void vssd_arm_auto_thaw(struct vssd *v)
{
	int r;

	v->auto_thaw = sd_event_source_disable_unref(v->auto_thaw);
	r = sd_event_add_time_relative(hvd_event(v->hvd), &v->auto_thaw, CLOCK_MONOTONIC,
				       conf_get_usec(vssd_conf(v), "max-frozen"), 0, on_auto_thaw,
				       v);
	if (r < 0)
		log_error_errno(r, "cannot arm the auto-thaw timer; only a THAW or a restart "
				   "will thaw");
}

static void vssd_log_set(const struct freeze_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct freeze_mount *m = &s->mounts[i];

		if (m->state == FREEZE_ALREADY)
			log_notice("%s was already frozen by someone else: left as it is, and not "
				   "thawed by us",
				   m->target);
		else if (m->state == FREEZE_UNSUPPORTED)
			log_full_errno(LOG_NOTICE, m->error,
				       "%s cannot be frozen, skipped (unfreezable=skip)",
				       m->target);
		else if (m->state == FREEZE_GONE)
			log_full_errno(
			    LOG_WARNING, m->error,
			    "%s was unmounted or replaced since the plan was made: "
			    "skipped, nothing else frozen in its place (unfreezable=skip)",
			    m->target);
	}
}

static void vssd_log_plan(struct vssd *v)
{
	char *list = plan_frozen_list(v->plan);

	log_struct(LOG_INFO, "FREEZE: plan of %zu file systems: %s", v->plan->n_freeze,
		   list ? list : "?", "HVGUEST_VSS_EVENT=plan", NULL);
	free(list);
}

/* 0 when frozen (phase FROZEN; vssd_frozen_report() follows), or the errno after a
 * rollback (phase unchanged, reported). */
static int vssd_freeze_fs(struct vssd *v)
{
	enum freeze_unfreezable policy =
	    strcmp(conf_get_string(vssd_conf(v), "unfreezable"), "fail") == 0
		? FREEZE_UNFREEZABLE_FAIL
		: FREEZE_UNFREEZABLE_SKIP;
	const char *failed = NULL;
	uint64_t t0 = now_usec();
	int r;

	log_hold();
	r = freeze_plan(v->set, policy, vssd_record, v, &failed);
	v->freeze_usec = now_usec() - t0;
	if (r < 0) {
		log_release();
		if (v->n_hooks == 0)
			vssd_log_plan(v);
		log_error_errno(r,
				"freezing %s failed; thawed the %zu file systems frozen before it",
				failed ? failed : "?", freeze_count(v->set, FREEZE_THAWED));
		for (size_t i = 0; v->set && i < v->set->n; i++)
			if (v->set->mounts[i].state == FREEZE_OURS)
				log_error_errno(v->set->mounts[i].error, "cannot thaw %s",
						v->set->mounts[i].target);
		if (r == -ESTALE)
			vssd_set_result(v,
					"failed: %s was unmounted or replaced since the plan "
					"(unfreezable=fail)",
					failed ? failed : "?");
		else
			vssd_set_result(v, "failed: freezing %s: %s", failed ? failed : "?",
					strerror(-r));
		return r;
	}
	v->t_frozen = now_usec();
	v->wall_frozen = time(NULL);
	v->phase = VSSD_FROZEN;
	vssd_arm_auto_thaw(v);
	return 0;
}

/* After a successful vssd_freeze_fs(), once the answer is out: the record narrowed to ours
 * when some planned mount did not become ours, the log (held until the thaw), the status. */
static void vssd_frozen_report(struct vssd *v)
{
	char f_mounts[64];
	size_t opened = 0;

	for (size_t i = 0; i < v->set->n; i++)
		opened += v->set->mounts[i].fd >= 0;
	if (opened != vssd_frozen_count(v))
		vssd_record_ours(v);
	if (v->n_hooks == 0)
		vssd_log_plan(v);
	snprintf(f_mounts, sizeof(f_mounts), "HVGUEST_VSS_MOUNTS=%zu", vssd_frozen_count(v));
	log_struct(LOG_INFO, "froze %zu file systems in %.3f s", vssd_frozen_count(v),
		   (double)v->freeze_usec / 1e6, f_mounts, HVGUEST_MESSAGE_FROZEN,
		   NULL); /* held until the thaw */
	vssd_log_set(v->set);
	vssd_status(v);
}

/* Thaws ours (the log stays held: vssd_thawed_report() follows). 0, or the first thaw
 * error. */
static int vssd_thaw_only(struct vssd *v, const char *why)
{
	uint64_t t0 = now_usec();
	int r;

	v->auto_thaw = sd_event_source_disable_unref(v->auto_thaw);
	v->frozen_usec = t0 - v->t_frozen;
	r = freeze_thaw(v->set);
	v->thaw_usec = now_usec() - t0;
	v->phase = VSSD_IDLE;
	v->thaw_why = why;
	return r < 0 ? r : 0;
}

/* Releases the log and reports the thaw; a mount that could not be thawed stays in the
 * record. 0, or the first thaw error. */
static int vssd_thawed_report(struct vssd *v)
{
	const char *why = v->thaw_why ? v->thaw_why : "?";
	size_t held = (size_t)log_release();
	char f_mounts[64];
	int r = freeze_count(v->set, FREEZE_OURS) > 0 ? -EIO : 0;

	snprintf(f_mounts, sizeof(f_mounts), "HVGUEST_VSS_MOUNTS=%zu",
		 freeze_count(v->set, FREEZE_THAWED));
	log_struct(LOG_INFO,
		   "thawed %zu file systems (%s) after %.3f s frozen; %zu log records held while "
		   "frozen were flushed",
		   freeze_count(v->set, FREEZE_THAWED), why, (double)v->frozen_usec / 1e6, held,
		   f_mounts, HVGUEST_MESSAGE_THAWED, NULL);
	for (size_t i = 0; r < 0 && i < v->set->n; i++)
		if (v->set->mounts[i].state == FREEZE_OURS) {
			log_error_errno(v->set->mounts[i].error,
					"cannot thaw %s; it stays in %s for the next start",
					v->set->mounts[i].target, v->state_path);
			r = -v->set->mounts[i].error;
		}
	if (r < 0)
		vssd_record_ours(v);
	return r;
}

/* Thaws ours, releases the log and reports. 0, or the first thaw error. */
static int vssd_thaw_fs(struct vssd *v, const char *why)
{
	int r = vssd_thaw_only(v, why);

	(void)vssd_thawed_report(v);
	return r;
}

/* ---------------------------------------------------------------- after the answer */

static void vssd_settle(struct vssd *v)
{
	int what = v->after;

	v->after_source = sd_event_source_disable_unref(v->after_source);
	v->after = AFTER_NONE;
	if (what == AFTER_FROZEN)
		vssd_frozen_report(v);
	else if (what == AFTER_THAWED) {
		(void)vssd_thawed_report(v);
		vssd_backup_end(v);
	}
}

static int on_after_reply(sd_event_source *s, void *userdata)
{
	vssd_settle(userdata);
	return 0;
}

/* Leaves what for after the answer: hvd sends the reply when handle() returns, before the
 * event loop runs a defer source. Without one, it runs now (before the answer). */
static void vssd_after_reply(struct vssd *v, int what)
{
	v->after = what;
	if (sd_event_add_defer(hvd_event(v->hvd), &v->after_source, on_after_reply, v) < 0)
		vssd_settle(v);
}

static int on_auto_thaw(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct vssd *v = userdata;
	const char **names;
	size_t n;

	vssd_settle(v);
	n = vssd_frozen_count(v);
	if (v->phase != VSSD_FROZEN)
		return 0;
	(void)vssd_thaw_fs(v, "auto-thaw");
	log_struct(LOG_ERR,
		   "AUTO-THAW: no THAW from the host within %.3f s of the freeze; thawed %zu file "
		   "systems by ourselves. A snapshot taken now is not consistent.",
		   (double)v->frozen_usec / 1e6, n, "HVGUEST_VSS_EVENT=auto-thaw", NULL);
	v->auto_thawed = true;
	vssd_set_result(v, "auto-thawed after %.3f s without THAW", (double)v->frozen_usec / 1e6);
	names = vssd_hooks_reversed(v);
	vssd_run_hooks_blocking(v, "thaw", names);
	free(names);
	vssd_backup_end(v);
	v->auto_thawed = true; /* the THAW that may still come is answered with a failure */
	return 0;
}

/* Runs the freeze-fail hooks for a freeze that did not happen, then answers. */
static void vssd_freeze_failed(struct vssd *v, const struct hook_run *run)
{
	const char **names = run ? vssd_started_reversed(run) : NULL;

	vssd_after_hooks(v, vssd_fail_argument(v), names, VMU_E_FAIL);
	free(names);
}

static void on_freeze_hooks(struct hook_run *run, bool ok, void *userdata)
{
	struct vssd *v = userdata;
	bool abort_freeze = strcmp(conf_get_string(vssd_conf(v), "hook-failure"), "abort") == 0;

	vssd_retire(v, run);
	if (!ok && abort_freeze) {
		log_error("a freeze hook failed: not freezing (hook-failure=abort)");
		vssd_set_result(v, "failed: a freeze hook failed");
		vssd_freeze_failed(v, run);
		return;
	}
	if (!ok)
		log_warning("a freeze hook failed: freezing anyway (hook-failure=ignore)");
	if (vssd_freeze_fs(v) < 0) {
		vssd_freeze_failed(v, run);
		return;
	}
	vssd_reply_later(v, VMU_S_OK);
	vssd_frozen_report(v);
}

/* Did the mount table change since the last call? A zero-timeout poll(): mountinfo
 * reports POLLPRI (with POLLERR) once per change, and the poll itself consumes it, so the
 * plan read after a true answer misses no later change. */
static bool vssd_mounts_changed(struct vssd *v)
{
	struct pollfd p = {.fd = v->mountinfo_fd, .events = POLLPRI};

	if (v->mountinfo_fd < 0)
		return true;
	if (poll(&p, 1, 0) < 0)
		return true; /* cannot tell: read it again */
	return (p.revents & (POLLPRI | POLLERR | POLLNVAL)) != 0;
}

/* The current plan in v->plan: the kept one unless the mount table or the config changed.
 * 0, or <0 with the result set. */
static int vssd_plan_current(struct vssd *v)
{
	const struct conf *c = vssd_conf(v);
	struct plan_config pc;
	struct plan *p = NULL;
	bool changed = vssd_mounts_changed(v); /* before reading: a later change is seen next */
	int r;

	if (v->plan && !v->plan_stale && !changed)
		return v->plan_refused ? -ELOOP : 0;
	plan_config_from(c, &pc);
	r = plan_build_from_file(NULL, &pc, &p);
	if (r < 0) {
		v->plan = plan_free(v->plan);
		vssd_set_result(v, "failed: cannot read the mount table");
		return log_error_errno(r, "cannot read the mount table, answering failure");
	}
	plan_free(v->plan);
	v->plan = p;
	v->plan_stale = false;
	v->plan_refused = plan_freezes_path(v->plan, conf_get_string(c, "run-dir"));
	return v->plan_refused ? -ELOOP : 0;
}

/* ---------------------------------------------------------------- the hook listing kept */

/* Listing the hook directory walks and checks every directory from / (hooks.c), some tens
 * of microseconds: too much for every FREEZE when, as usual, it is empty. An empty listing
 * is kept while nothing happened to the directory: an inotify watch, added before the
 * listing, reports any entry created, moved in or changed there (and the directory's own
 * removal or move); the path must still lead to the watched directory (st_dev/st_ino:
 * a directory renamed away and replaced is listed again). Keeping "no hooks" can only
 * skip hooks, never run one: a non-empty listing is made again at every FREEZE, with all
 * of its checks. */
static void vssd_hooks_forget(struct vssd *v)
{
	v->hooks_empty = false;
	if (v->hooks_wd >= 0 && v->hooks_inotify >= 0)
		(void)inotify_rm_watch(v->hooks_inotify, v->hooks_wd);
	v->hooks_wd = -1;
}

/* True when anything is queued (or the queue cannot be read): the queue is drained. */
static bool vssd_hooks_events(struct vssd *v)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	while ((n = read(v->hooks_inotify, buf, sizeof(buf))) > 0)
		any = true;
	return any || (n < 0 && errno != EAGAIN && errno != EINTR);
}

static bool vssd_hooks_still_empty(struct vssd *v, const char *dir)
{
	struct stat st;

	if (!v->hooks_empty)
		return false;
	if (vssd_hooks_events(v) || stat(dir, &st) < 0 || st.st_dev != v->hooks_dev ||
	    st.st_ino != v->hooks_ino) {
		vssd_hooks_forget(v);
		return false;
	}
	return true;
}

/* Watches dir before it is listed; without a watch nothing is kept. */
static void vssd_hooks_watch(struct vssd *v, const char *dir)
{
	struct stat st;

	vssd_hooks_forget(v);
	if (v->hooks_inotify < 0)
		v->hooks_inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (v->hooks_inotify < 0)
		return;
	(void)vssd_hooks_events(v); /* of an earlier watch */
	v->hooks_wd = inotify_add_watch(
	    v->hooks_inotify, dir,
	    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_MODIFY |
		IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW);
	if (v->hooks_wd >= 0 && stat(dir, &st) == 0) {
		v->hooks_dev = st.st_dev;
		v->hooks_ino = st.st_ino;
	} else
		vssd_hooks_forget(v);
}

/* Plan, run-dir check, hook list. 0, or <0 with the result set. The plan is logged later:
 * before the hooks when there are any, else with the freeze (held, after the answer). */
static int vssd_prepare(struct vssd *v)
{
	const struct conf *c = vssd_conf(v);
	int r = vssd_plan_current(v);

	if (r == -ELOOP) {
		vssd_set_result(v, "failed: run-dir on a file system to freeze");
		log_error("run-dir %s lies on a file system of the freeze plan; refusing to freeze",
			  conf_get_string(c, "run-dir"));
	}
	if (r < 0)
		return r;
	/* before the hooks: what is frozen later is what the plan names, or nothing */
	r = freeze_open(v->plan, &v->set);
	if (r < 0) {
		vssd_set_result(v, "failed: cannot open the mounts of the plan");
		return log_error_errno(r, "cannot open the mounts of the plan, answering failure");
	}
	if (vssd_hooks_still_empty(v, conf_get_string(c, "hooks-dir")))
		return 0;
	vssd_hooks_watch(v, conf_get_string(c, "hooks-dir"));
	r = hooks_list(conf_get_string(c, "hooks-dir"), &v->hook_names, &v->n_hooks);
	if (r < 0)
		log_warning_errno(r, "cannot read the hook directory %s, running no hooks",
				  conf_get_string(c, "hooks-dir"));
	/* a refused directory is not kept: it is logged, and listed again, at every FREEZE */
	v->hooks_empty = r >= 0 && v->n_hooks == 0 && v->hooks_wd >= 0 &&
			 hooks_dir_trusted(conf_get_string(c, "hooks-dir")) == 0;
	return 0;
}

static ssize_t vssd_freeze(struct vssd *v, void *reply, size_t size)
{
	struct hook_run_config c;
	int r;

	if (v->phase == VSSD_FROZEN) {
		log_notice("FREEZE while frozen: still frozen, auto-thaw timer restarted");
		vssd_arm_auto_thaw(v);
		return vssd_reply_now(reply, size, VMU_VSS_OP_FREEZE, VMU_S_OK);
	}
	if (v->phase != VSSD_IDLE) {
		log_warning("FREEZE while hooks of the last backup still run, answering failure");
		return vssd_reply_now(reply, size, VMU_VSS_OP_FREEZE, VMU_E_FAIL);
	}
	vssd_backup_begin(v);
	v->finished_hooks = hook_run_free(v->finished_hooks);
	if (vssd_prepare(v) < 0) {
		vssd_backup_end(v);
		return vssd_reply_now(reply, size, VMU_VSS_OP_FREEZE, VMU_E_FAIL);
	}
	if (v->n_hooks == 0) {
		r = vssd_freeze_fs(v);
		if (r < 0)
			vssd_backup_end(v);
		else
			vssd_after_reply(v, AFTER_FROZEN);
		return vssd_reply_now(reply, size, VMU_VSS_OP_FREEZE,
				      r < 0 ? VMU_E_FAIL : VMU_S_OK);
	}
	vssd_log_plan(v);
	/* The hooks may quiesce applications: a crash from now on must run the thaw hooks. */
	r = state_write(v->state_path, NULL, 0);
	c = vssd_hook_config(v, "freeze");
	if (r >= 0)
		r = hook_run_start(hvd_event(v->hvd), &c, (const char *const *)v->hook_names,
				   on_freeze_hooks, v, &v->hooks);
	if (r < 0) {
		log_error_errno(r, "cannot start the freeze hooks, answering failure");
		vssd_set_result(v, "failed: cannot start the freeze hooks");
		vssd_backup_end(v);
		return vssd_reply_now(reply, size, VMU_VSS_OP_FREEZE, VMU_E_FAIL);
	}
	v->phase = VSSD_FREEZE_HOOKS;
	v->reply_pending = true;
	v->reply_op = VMU_VSS_OP_FREEZE;
	vssd_status(v);
	return HVD_REPLY_LATER;
}

/* Freeze hooks interrupted (THAW during them, reconnect, stop): freeze-fail to those that
 * ran, here and now. */
static void vssd_cancel_freeze_hooks(struct vssd *v, const char *why)
{
	const char **names = vssd_started_reversed(v->hooks);

	log_warning("%s while the freeze hooks run: cancelling the freeze", why);
	v->reply_pending = false; /* void: the kernel no longer waits for it */
	vssd_note_hooks(v, v->hooks);
	v->hooks = hook_run_free(v->hooks);
	vssd_run_hooks_blocking(v, vssd_fail_argument(v), names);
	free(names);
	vssd_set_result(v, "failed: cancelled (%s)", why);
	vssd_backup_end(v);
}

static ssize_t vssd_thaw(struct vssd *v, void *reply, size_t size)
{
	const char **names;
	int r;

	switch (v->phase) {
	case VSSD_FROZEN:
		break;
	case VSSD_FREEZE_HOOKS:
		vssd_cancel_freeze_hooks(v, "THAW");
		return vssd_reply_now(reply, size, VMU_VSS_OP_THAW, VMU_S_OK);
	case VSSD_IDLE:
	case VSSD_AFTER_HOOKS:
		if (v->auto_thawed) {
			v->auto_thawed = false;
			log_warning("THAW after the auto-thaw: the snapshot may not be consistent, "
				    "answering failure");
			return vssd_reply_now(reply, size, VMU_VSS_OP_THAW, VMU_E_FAIL);
		}
		log_info("THAW with nothing frozen");
		return vssd_reply_now(reply, size, VMU_VSS_OP_THAW, VMU_S_OK);
	}
	if (v->n_hooks == 0) {
		/* the answer right after the ioctls; the log and the record after it */
		r = vssd_thaw_only(v, "THAW from the host");
		vssd_set_result(v, r < 0 ? "failed: a file system could not be thawed" : "ok");
		if (r < 0) {
			(void)vssd_thawed_report(v);
			vssd_backup_end(v);
		} else
			vssd_after_reply(v, AFTER_THAWED);
		return vssd_reply_now(reply, size, VMU_VSS_OP_THAW, r < 0 ? VMU_E_FAIL : VMU_S_OK);
	}
	r = vssd_thaw_fs(v, "THAW from the host");
	vssd_set_result(v, r < 0 ? "failed: a file system could not be thawed" : "ok");
	names = vssd_hooks_reversed(v);
	v->reply_pending = true;
	v->reply_op = VMU_VSS_OP_THAW;
	vssd_after_hooks(v, "thaw", names, r < 0 ? VMU_E_FAIL : VMU_S_OK);
	free(names);
	return HVD_REPLY_LATER;
}

/* ---------------------------------------------------------------- hvd callbacks */

static ssize_t vssd_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			   size_t reply_size)
{
	struct vssd *v = state;
	struct vmu_vss_request req;
	int r = vmu_vss_request_parse(msg, len, &req);

	vssd_settle(v);
	if (r == -ERANGE) {
		if (!v->unknown_logged)
			log_warning("an unknown VSS operation from the kernel, answering 'not "
				    "supported'"); /* the library's view has no op to name */
		v->unknown_logged = true;
		return vssd_reply_now(reply, reply_size, VMU_VSS_OP_CREATE,
				      VMU_ERROR_NOT_SUPPORTED);
	}
	if (r < 0) {
		log_warning_errno(r, "malformed VSS message (%zu bytes), answering failure", len);
		return vssd_reply_now(reply, reply_size, VMU_VSS_OP_CREATE, VMU_E_FAIL);
	}
	switch (req.op) {
	case VMU_VSS_OP_FREEZE:
		return vssd_freeze(v, reply, reply_size);
	case VMU_VSS_OP_THAW:
		return vssd_thaw(v, reply, reply_size);
	case VMU_VSS_OP_HOT_BACKUP:
		log_info("HOT_BACKUP: answering that backups are supported, without auto-recovery");
		return vssd_reply_now(reply, reply_size, req.op, VMU_S_OK);
	case VMU_VSS_OP_CREATE:
	case VMU_VSS_OP_DELETE:
	case VMU_VSS_OP_GET_DM_INFO:
	case VMU_VSS_OP_BU_COMPLETE:
	case VMU_VSS_OP_AUTO_RECOVER:
	case _VMU_VSS_OP_MAX:
		break;
	}
	/* The kernel answers these itself (S_OK); should one reach us, answer as it would. */
	log_notice("VSS operation %d is answered by the kernel, not the daemon; answering S_OK",
		   (int)req.op);
	return vssd_reply_now(reply, reply_size, req.op, VMU_S_OK);
}

static void vssd_disconnected(struct hvd *d, void *state)
{
	struct vssd *v = state;
	const char **names;

	vssd_settle(v);
	v->reply_pending = false; /* a pending answer is void now */
	switch (v->phase) {
	case VSSD_FROZEN:
		log_warning("the device is being reopened while frozen: thawing first");
		(void)vssd_thaw_fs(v, "device reopened");
		vssd_set_result(v, "thawed: the connection to the kernel was lost while frozen");
		names = vssd_hooks_reversed(v);
		vssd_run_hooks_blocking(v, "thaw", names);
		free(names);
		vssd_backup_end(v);
		return;
	case VSSD_FREEZE_HOOKS:
		vssd_cancel_freeze_hooks(v, "the device is being reopened");
		return;
	case VSSD_IDLE:
	case VSSD_AFTER_HOOKS:
		return;
	}
}

static void vssd_registered(struct hvd *d, void *state, const char *kernel_version)
{
	vssd_status(state);
}

/* A previous instance died with file systems frozen (or its freeze hooks run). */
static void vssd_recover(struct vssd *v)
{
	struct state_mount *recorded = NULL;
	char **hooks = NULL;
	const char **rev = NULL;
	size_t n_hooks = 0, n = 0, thawed = 0;
	int r = state_read(v->state_path, &recorded, &n);

	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_error_errno(r, "cannot read %s; thawing nothing from it", v->state_path);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *target = recorded[i].target;
		int t = freeze_thaw_recorded(&recorded[i]);

		if (t == 0) {
			log_warning("thawed %s, left frozen by a previous hv-vssd", target);
			thawed++;
		} else if (t == -EINVAL)
			log_info("%s from the previous hv-vssd was not frozen", target);
		else if (t == -ESTALE)
			log_warning("%s is no longer the mount a previous hv-vssd froze (unmounted "
				    "or replaced): left alone",
				    target);
		else
			log_error_errno(t, "cannot thaw %s left frozen by a previous hv-vssd",
					target);
	}
	if (hooks_list(conf_get_string(vssd_conf(v), "hooks-dir"), &hooks, &n_hooks) >= 0) {
		rev = calloc(n_hooks + 1, sizeof(*rev));
		for (size_t i = 0; rev && i < n_hooks; i++)
			rev[i] = hooks[n_hooks - 1 - i];
		vssd_run_hooks_blocking(v, "thaw", rev);
	}
	log_struct(LOG_WARNING,
		   "recovered from a previous hv-vssd that stopped during a backup: "
		   "%zu file systems thawed, %zu thaw hooks run",
		   thawed, n_hooks, "HVGUEST_VSS_EVENT=recovered", NULL);
	free(rev);
	strv_free(hooks);
	state_mounts_free(recorded, n);
	r = state_remove(v->state_path);
	if (r < 0)
		log_warning_errno(r, "cannot remove %s", v->state_path);
}

static struct vssd *vssd_free(struct vssd *v)
{
	if (!v)
		return NULL;
	v->auto_thaw = sd_event_source_disable_unref(v->auto_thaw);
	v->after_source = sd_event_source_disable_unref(v->after_source);
	if (v->mountinfo_fd >= 0)
		close(v->mountinfo_fd);
	if (v->hooks_inotify >= 0)
		close(v->hooks_inotify);
	hook_run_free(v->hooks);
	hook_run_free(v->finished_hooks);
	plan_free(v->plan);
	freeze_set_free(v->set);
	strv_free(v->hook_names);
	free(v->hook_log);
	free(v->state_path);
	free(v);
	return NULL;
}

static int vssd_init(struct hvd *d, void **ret_state)
{
	const char *run_dir = conf_get_string(hvd_conf(d), "run-dir");
	struct vssd *v = calloc(1, sizeof(*v));
	sigset_t mask;

	if (!v)
		return log_error_errno(ENOMEM, "cannot allocate the VSS state");
	v->hvd = d;
	v->hooks_inotify = v->hooks_wd = -1;
	/* opened before any plan is read: every later change of the table is reported */
	v->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (v->mountinfo_fd < 0)
		log_warning_errno(errno, "cannot watch /proc/self/mountinfo; reading the mount "
					 "table at every FREEZE");
	/* sd-event watches hook processes; SIGCHLD must be blocked for that. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		vssd_free(v);
		return log_error_errno(errno, "cannot block SIGCHLD");
	}
	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
		vssd_free(v);
		return log_error_errno(errno, "cannot create %s", run_dir);
	}
	if (asprintf(&v->state_path, "%s/%s", run_dir, STATE_FILE_NAME) < 0) {
		v->state_path = NULL;
		vssd_free(v);
		return log_error_errno(ENOMEM, "cannot allocate the VSS state");
	}
	vssd_recover(v);
	vssd_status(v);
	*ret_state = v;
	return 0;
}

/* SIGHUP. This daemon keeps no pointer into a config: each step reads hvd_conf() when it
 * runs, so accepting adopts the new config whole. Refused:
 *   - during a backup: its steps read hook-failure, the hook limits and
 *     freeze-fail-argument at different moments, and one backup must not mix two configs
 *     (a freeze hook run started under hook-failure=abort stops at the first failure; read
 *     as "ignore" when it ends, the daemon would freeze after an aborted run). SIGHUP again
 *     once it is over;
 *   - a new run-dir: the crash record stays where init() put it, and the check that no
 *     file system of the plan holds it must look at that directory. Restart to move it. */
static int vssd_reload(struct hvd *d, void *state, const struct conf *new_conf)
{
	struct vssd *v = state;
	const char *run_dir = conf_get_string(new_conf, "run-dir");

	vssd_settle(v);
	if (v->phase != VSSD_IDLE) {
		log_warning("reload during a backup: this backup keeps the configuration it "
			    "started with; send SIGHUP again after it");
		return -EBUSY;
	}
	if (strcmp(run_dir, conf_get_string(hvd_conf(d), "run-dir")) != 0) {
		log_warning("run-dir cannot change to %s while running (the crash record is in "
			    "%s); restart to move it",
			    run_dir, v->state_path);
		return -EINVAL;
	}
	v->plan_stale = true; /* scope=, include=, ... may have changed */
	vssd_hooks_forget(v); /* and hooks-dir= */
	return 0;
}

static void vssd_finish(struct hvd *d, void *state)
{
	struct vssd *v = state;

	vssd_settle(v);
	if (v->phase == VSSD_FREEZE_HOOKS)
		vssd_cancel_freeze_hooks(v, "stopping");
	if (v->phase == VSSD_FROZEN)
		vssd_disconnected(d, v);
	if (v->phase == VSSD_AFTER_HOOKS)
		log_warning("stopping while %s hooks run: the running hook is killed",
			    v->hooks ? hook_run_argument(v->hooks) : "thaw");
	vssd_free(v);
}

const struct hvd_service vssd_service = {
    .name = "vss",
    .program = "hv-vssd",
    .summary = "Hyper-V backup (VSS) daemon: freezes file systems for host snapshots",
    .service = VMU_SERVICE_VSS,
    .keys = vssd_keys,
    .init = vssd_init,
    .registered = vssd_registered,
    .handle = vssd_handle,
    .disconnected = vssd_disconnected,
    .reload = vssd_reload,
    .finish = vssd_finish,
    .help_extra = "      --plan          print the freeze plan and the reason for every mount,\n"
		  "                      freezing nothing (with --mountinfo=FILE: of that table)",
};
