/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Application hooks: executables in the hook directory, run one at a time in lexical order
 * (reverse order for thaw) with one argument, "freeze", "thaw" or "freeze-fail" (qemu-guest-
 * agent's fsfreeze-hook.d convention: argv[1] is the phase). Direct exec, no shell; stdout
 * and stderr go through a pipe into the log, line by line; each hook has a timeout and the
 * whole run a budget, after which the hook's process group is killed.
 */
#ifndef VSS_HOOKS_H
#define VSS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "shared/strv.h"

struct hook_result {
	char *name;
	bool started;
	bool timed_out;
	int wait_status; /* as from waitpid(); valid when started and not spawn_error */
	int spawn_error; /* errno when it could not be started */
	uint64_t usec;
};

struct hook_run;
/* ok: every hook ran and exited 0 within its time. */
typedef void (*hook_done_fn)(struct hook_run *run, bool ok, void *userdata);

/* Names of hook directory entries that are never run (package-manager leftovers, editor
 * backups, hidden files). */
bool hooks_name_ignored(const char *name);
/* The hooks in dir, sorted bytewise, executables only. A missing dir is an empty list.
 * *ret is NULL-terminated (free with strv_free, shared/strv.h). */
int hooks_list(const char *dir, char ***ret, size_t *ret_n);
/* 0 when dir exists and it and every directory above it pass the checks hooks_list()
 * makes; -EPERM when refused, -ENOENT when missing, another -errno. */
int hooks_dir_trusted(const char *dir);

struct hook_run_config {
	const char *dir;
	const char *argument;  /* "freeze", "thaw", "freeze-fail" */
	uint64_t timeout_usec; /* per hook */
	uint64_t budget_usec;  /* the whole run */
	bool stop_on_failure;  /* the first failure ends the run (later hooks: "not run") */
};

/* Starts running names (in the order given; copied) on the event loop; done is called
 * from the loop once the last one finished, never from within this call. */
int hook_run_start(sd_event *e, const struct hook_run_config *c, const char *const *names,
		   hook_done_fn done, void *userdata, struct hook_run **ret);
/* Kills a hook still running (SIGKILL to its process group) and reaps it. */
struct hook_run *hook_run_free(struct hook_run *run);
const struct hook_result *hook_run_results(const struct hook_run *run, size_t *ret_n);
const char *hook_run_argument(const struct hook_run *run);
/* "name=ok", "name=exit 3", "name=timeout", "name=signal 9", "name=not run" */
void hook_result_describe(const struct hook_result *r, char *buf, size_t size);

/* Runs them to completion on a private event loop (start-up recovery, shutdown). */
int hook_run_blocking(const struct hook_run_config *c, const char *const *names, bool *ret_ok);

#endif
