/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hook runner (see hooks.h). One hook at a time, everything on the sd-event loop:
 *
 *   defer -> spawn hook i --(child exited)--> drain its pipe, record, i++ -> spawn ...
 *                        \--(timer: hook timeout or run budget)--> SIGKILL to the group
 *
 * A hook runs in its own process group with default signal dispositions, an empty signal
 * mask, stdin on /dev/null, and stdout+stderr on one pipe whose lines are logged as they
 * come (at most HOOK_LINE_MAX bytes per record; longer lines are split). Nothing is ever
 * written to a file. When the budget is used up, the hooks not yet started are recorded as
 * "not run" and the run fails.
 *
 * Hooks run as the daemon's user, root: only a hook nobody else could have written runs.
 * The hook and every directory from / down to it must be owned by root (or the daemon's
 * own user) and not writable by group or others, and no symbolic link is followed on the
 * way. One exception: a world-writable directory above the hook directory (not the hook
 * directory itself) is accepted when it is sticky, like /tmp, since then nobody but its
 * owner can rename or remove the trusted entry below it. This is checked when the
 * directory is listed (a refused hook is logged there, once per listing, with the reason)
 * and again right before each hook runs, on the descriptor that is then executed
 * (fexecve): a hook changed since the listing cannot slip in.
 *
 * A hook's descendants are its own business only while it runs: the daemon is a child
 * subreaper, so one that left the process group with setsid() and lost its parent
 * becomes the daemon's child, and once a hook is over (exited or killed at its timeout)
 * every remaining child of the daemon is killed (hvd_kill_children()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "hvd-spawn.h"
#include "log.h"
#include "shared/time-util.h"

#define HOOK_LINE_MAX 1024
#define HOOK_MAX_HOOKS 256
#define HOOK_REASON_MAX (PATH_MAX + 128)
#define HOOK_LEFTOVER_WAIT_USEC (500 * UINT64_C(1000))

struct hook_run {
	sd_event *event;
	char *dir, *argument;
	uint64_t timeout_usec, deadline;
	struct hook_result *results;
	size_t n, current;
	pid_t pid;
	int pipe_fd;
	sd_event_source *child, *io, *timer, *defer;
	char line[HOOK_LINE_MAX + 1];
	size_t line_len;
	uint64_t started;
	hook_done_fn done;
	void *userdata;
	bool finished, stop_on_failure, failed;
};

/* ---------------------------------------------------------------- the directory */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool hooks_name_ignored(const char *name)
{
	return name[0] == '.' || has_suffix(name, "~") || strstr(name, ".dpkg-") ||
	       strstr(name, ".rpm") || strstr(name, ".ucf-") || has_suffix(name, ".swp");
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---------------------------------------------------------------- trust */

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Why a directory cannot be trusted, NULL when it can. ancestor: above the hook directory. */
static const char *untrusted_dir(const struct stat *st, bool ancestor)
{
	if (!trusted_owner(st->st_uid))
		return "owned by another user";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(ancestor && (st->st_mode & S_ISVTX)))
		return "writable by group or others";
	return NULL;
}

/* Why a directory entry cannot run as a hook, NULL when it can (st from lstat). */
static const char *untrusted_hook(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (!trusted_owner(st->st_uid))
		return "owned by another user";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	if (!(st->st_mode & 0111))
		return "not executable";
	return NULL;
}

/* One step of the walk: opens name below dfd (O_PATH, no symbolic link) and checks it. */
static int open_trusted_step(int dfd, const char *name, const char *path, bool ancestor, char *why,
			     size_t size)
{
	int fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	const char *reason;
	struct stat st;

	if (fd < 0) {
		int r = -errno;

		if (r != -ENOTDIR && r != -ELOOP)
			return r;
		bool link =
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
		snprintf(why, size, "%s is %s", path, link ? "a symbolic link" : "not a directory");
		return -EPERM;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	reason = untrusted_dir(&st, ancestor);
	if (reason) {
		snprintf(why, size, "%s is %s", path, reason);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Opens dir for reading, walking from / and checking every directory on the way. The fd,
 * -ENOENT when it does not exist, -EPERM with the reason in why, or another -errno. */
static int open_trusted_dir(const char *dir, char *why, size_t size)
{
	char path[PATH_MAX];
	size_t len = strlen(dir), at = 0;
	int fd, r;

	if (dir[0] != '/' || len >= sizeof(path)) {
		snprintf(why, size, "%s is not an absolute path", dir);
		return -EPERM;
	}
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	fd = open_trusted_step(AT_FDCWD, "/", "/", len > 1, why, size);
	while (fd >= 0 && at < len) {
		size_t end;
		char saved;

		while (path[at] == '/')
			at++;
		for (end = at; path[end] && path[end] != '/'; end++)
			;
		if (end == at)
			break;
		saved = path[end];
		path[end] = '\0';
		r = open_trusted_step(fd, path + at, path, end < len, why, size);
		path[end] = saved;
		close(fd);
		fd = r;
		at = end;
	}
	if (fd < 0)
		return fd;
	r = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	return r < 0 ? -errno : r;
}

/* Opens the hook name in the trusted directory dfd for fexecve(). The fd, or -EPERM with
 * the reason, or another -errno. */
static int open_trusted_hook(int dfd, const char *name, char *why, size_t size)
{
	/* O_NONBLOCK: a FIFO put there must not block the daemon; refused below */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	const char *reason;
	struct stat st;

	if (fd < 0) {
		int r = -errno;

		if (r != -ELOOP)
			return r;
		snprintf(why, size, "a symbolic link");
		return -EPERM;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	reason = untrusted_hook(&st);
	if (reason) {
		snprintf(why, size, "%s", reason);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Is the entry a hook to run? Entries that are not executable files are not hooks and
 * are passed over quietly; an executable one that cannot be trusted (or a symbolic link,
 * which used to run) is refused with a warning. */
static bool is_trusted_hook(int dfd, const char *dir, const char *name)
{
	const char *reason;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (!S_ISLNK(st.st_mode) && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
		return false;
	reason = untrusted_hook(&st);
	if (reason) {
		log_warning("hook %s/%s refused: %s; it is not run", dir, name, reason);
		return false;
	}
	return faccessat(dfd, name, X_OK, 0) == 0;
}

static int list_dir(DIR *d, const char *dir, char **v, size_t *ret_n)
{
	struct dirent *de;
	size_t n = 0;

	while ((de = readdir(d)) && n < HOOK_MAX_HOOKS) {
		if (hooks_name_ignored(de->d_name) || !is_trusted_hook(dirfd(d), dir, de->d_name))
			continue;
		v[n] = strdup(de->d_name);
		if (!v[n])
			return -ENOMEM;
		n++;
	}
	*ret_n = n;
	return 0;
}

int hooks_dir_trusted(const char *dir)
{
	char why[HOOK_REASON_MAX];
	int fd = open_trusted_dir(dir, why, sizeof(why));

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int hooks_list(const char *dir, char ***ret, size_t *ret_n)
{
	char **v = calloc(HOOK_MAX_HOOKS + 1, sizeof(char *)), why[HOOK_REASON_MAX];
	int fd = open_trusted_dir(dir, why, sizeof(why)), r = 0;
	size_t n = 0;
	DIR *d = NULL;

	if (fd == -EPERM)
		log_warning("hook directory %s refused: %s; running no hooks", dir, why);
	if (fd >= 0 && !(d = fdopendir(fd))) {
		r = -errno;
		close(fd);
	} else if (fd < 0 && fd != -ENOENT && fd != -EPERM)
		r = fd;
	if (r == 0 && !v)
		r = -ENOMEM;
	if (r == 0 && d)
		r = list_dir(d, dir, v, &n);
	if (d)
		closedir(d);
	if (r < 0) {
		strv_free(v);
		return r;
	}
	qsort(v, n, sizeof(char *), cmp_names);
	*ret = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}

/* ---------------------------------------------------------------- output */

static void log_line(struct hook_run *run, const char *text)
{
	char field[300];

	snprintf(field, sizeof(field), "HVGUEST_VSS_HOOK=%s", run->results[run->current].name);
	log_struct(LOG_INFO, "hook %s %s: %s", run->results[run->current].name, run->argument, text,
		   field, NULL);
}

static void flush_line(struct hook_run *run)
{
	if (run->line_len == 0)
		return;
	run->line[run->line_len] = '\0';
	log_line(run, run->line);
	run->line_len = 0;
}

static void take_output(struct hook_run *run, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			flush_line(run);
			continue;
		}
		run->line[run->line_len++] = buf[i] ? buf[i] : ' ';
		if (run->line_len == HOOK_LINE_MAX)
			flush_line(run);
	}
}

/* Reads what is there; true at EOF or error (the pipe is done). */
static bool read_output(struct hook_run *run)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(run->pipe_fd, buf, sizeof(buf));

		if (n > 0) {
			take_output(run, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
}

static void close_pipe(struct hook_run *run)
{
	run->io = sd_event_source_disable_unref(run->io);
	if (run->pipe_fd >= 0)
		close(run->pipe_fd);
	run->pipe_fd = -1;
	flush_line(run);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hook_run *run = userdata;

	if (read_output(run))
		close_pipe(run);
	return 0;
}

/* ---------------------------------------------------------------- the sequence */

static void run_next(struct hook_run *run);

static void finish(struct hook_run *run)
{
	bool ok = true;

	for (size_t i = 0; i < run->n; i++) {
		const struct hook_result *r = &run->results[i];

		if (!r->started || r->timed_out || r->spawn_error || !WIFEXITED(r->wait_status) ||
		    WEXITSTATUS(r->wait_status) != 0)
			ok = false;
	}
	run->finished = true;
	if (run->done)
		run->done(run, ok, run->userdata);
}

static void log_result(struct hook_run *run, const struct hook_result *r)
{
	char what[300];

	hook_result_describe(r, what, sizeof(what));
	if (strstr(what, "=ok"))
		log_info("hook %s %s: ok after %.3f s", r->name, run->argument,
			 (double)r->usec / 1e6);
	else
		log_warning("hook %s %s failed: %s after %.3f s", r->name, run->argument,
			    strchr(what, '=') + 1, (double)r->usec / 1e6);
}

/* Whatever the hook left running (a setsid() child the group kill missed, a daemon it
 * started) is killed now, not left to outlive the backup. except: the hook itself, not yet
 * reaped. */
static void kill_leftovers(struct hook_run *run, pid_t except)
{
	int n = hvd_kill_children(except, HOOK_LEFTOVER_WAIT_USEC);

	if (n > 0)
		log_warning("hook %s %s left %d process(es) behind: killed",
			    run->results[run->current].name, run->argument, n);
	else if (n < 0)
		log_warning_errno(n, "cannot look for processes left by hook %s",
				  run->results[run->current].name);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct hook_run *run = userdata;
	struct hook_result *r = &run->results[run->current];

	r->wait_status =
	    si->si_code == CLD_EXITED ? (si->si_status & 0xff) << 8 : (si->si_status & 0x7f);
	r->usec = now_usec() - run->started;
	kill_leftovers(run, si->si_pid);
	run->pid = 0;
	run->child = sd_event_source_disable_unref(run->child);
	run->timer = sd_event_source_disable_unref(run->timer);
	if (run->pipe_fd >= 0) {
		read_output(run);
		close_pipe(run);
	}
	log_result(run, r);
	if (r->timed_out || !WIFEXITED(r->wait_status) || WEXITSTATUS(r->wait_status) != 0)
		run->failed = true;
	run->current++;
	run_next(run);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hook_run *run = userdata;

	run->results[run->current].timed_out = true;
	if (run->pid > 0)
		kill(-run->pid, SIGKILL);
	return 0;
}

static int start_one(struct hook_run *run)
{
	struct hook_result *res = &run->results[run->current];
	uint64_t now = now_usec(), until = now + run->timeout_usec;
	char why[HOOK_REASON_MAX];
	int fds[2], exec_fd, r;

	/* checked again now: the listing may be minutes old */
	exec_fd = open_trusted_dir(run->dir, why, sizeof(why));
	if (exec_fd >= 0) {
		int dfd = exec_fd;

		exec_fd = open_trusted_hook(dfd, res->name, why, sizeof(why));
		close(dfd);
	}
	if (exec_fd == -EPERM)
		log_warning("hook %s/%s refused when about to run: %s", run->dir, res->name, why);
	if (exec_fd < 0)
		return exec_fd;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		close(exec_fd);
		return r;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	run->started = now;
	r = hvd_spawn_fd(exec_fd, res->name, run->argument, fds[1], fds[1], &run->pid);
	close(exec_fd);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		return r;
	}
	res->started = true;
	run->pipe_fd = fds[0];
	if (until > run->deadline)
		until = run->deadline;
	r = sd_event_add_child(run->event, &run->child, run->pid, WEXITED, on_child, run);
	if (r >= 0)
		r = sd_event_add_time(run->event, &run->timer, CLOCK_MONOTONIC, until, 0,
				      on_timeout, run);
	if (r >= 0)
		r = sd_event_add_io(run->event, &run->io, run->pipe_fd, EPOLLIN, on_output, run);
	if (r < 0) {
		/* cannot watch it: stop it now rather than leave it unsupervised */
		kill(-run->pid, SIGKILL);
		waitpid(run->pid, NULL, 0);
		run->pid = 0;
		run->child = sd_event_source_disable_unref(run->child);
		run->timer = sd_event_source_disable_unref(run->timer);
		close_pipe(run);
		res->started = false;
	}
	return r;
}

static void run_next(struct hook_run *run)
{
	while (run->current < run->n) {
		struct hook_result *res = &run->results[run->current];
		int r;

		if (run->stop_on_failure && run->failed) {
			log_warning("%zu hook(s) not run with %s after a failure",
				    run->n - run->current, run->argument);
			break;
		}
		if (now_usec() >= run->deadline) {
			log_warning("hook budget used up: %zu hook(s) not run with %s",
				    run->n - run->current, run->argument);
			break;
		}
		log_debug("running hook %s %s", res->name, run->argument);
		r = start_one(run);
		if (r >= 0)
			return; /* on_child continues */
		res->spawn_error = -r;
		run->failed = true;
		if (r != -EPERM) /* a refusal was logged with its reason */
			log_warning_errno(r, "cannot run hook %s/%s", run->dir, res->name);
		run->current++;
	}
	finish(run);
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct hook_run *run = userdata;

	run->defer = sd_event_source_disable_unref(run->defer);
	run_next(run);
	return 0;
}

/* ---------------------------------------------------------------- object */

struct hook_run *hook_run_free(struct hook_run *run)
{
	if (!run)
		return NULL;
	if (run->pid > 0) {
		kill(-run->pid, SIGKILL);
		waitpid(run->pid, NULL, 0);
		kill_leftovers(run, 0);
	}
	sd_event_source_disable_unref(run->child);
	sd_event_source_disable_unref(run->timer);
	sd_event_source_disable_unref(run->defer);
	run->io = sd_event_source_disable_unref(run->io);
	if (run->pipe_fd >= 0)
		close(run->pipe_fd);
	for (size_t i = 0; i < run->n; i++)
		free(run->results[i].name);
	free(run->results);
	free(run->dir);
	free(run->argument);
	sd_event_unref(run->event);
	free(run);
	return NULL;
}

int hook_run_start(sd_event *e, const struct hook_run_config *c, const char *const *names,
		   hook_done_fn done, void *userdata, struct hook_run **ret)
{
	struct hook_run *run = calloc(1, sizeof(*run));
	size_t n = 0;
	int r;

	while (names && names[n])
		n++;
	if (!run)
		return -ENOMEM;
	/* so that what a hook leaves behind stays within reach (kill_leftovers) */
	r = hvd_become_subreaper();
	if (r < 0)
		log_warning_errno(r, "cannot become a child subreaper; a hook's setsid() children "
				     "may outlive it");
	run->pipe_fd = -1;
	run->event = sd_event_ref(e);
	run->dir = strdup(c->dir);
	run->argument = strdup(c->argument);
	run->results = calloc(n ? n : 1, sizeof(*run->results));
	run->timeout_usec = c->timeout_usec;
	run->stop_on_failure = c->stop_on_failure;
	run->deadline = now_usec() + c->budget_usec;
	run->done = done;
	run->userdata = userdata;
	if (!run->dir || !run->argument || !run->results) {
		hook_run_free(run);
		return -ENOMEM;
	}
	for (; run->n < n; run->n++)
		if (!(run->results[run->n].name = strdup(names[run->n]))) {
			hook_run_free(run);
			return -ENOMEM;
		}
	r = sd_event_add_defer(e, &run->defer, on_defer, run);
	if (r < 0) {
		hook_run_free(run);
		return r;
	}
	*ret = run;
	return 0;
}

const struct hook_result *hook_run_results(const struct hook_run *run, size_t *ret_n)
{
	*ret_n = run->n;
	return run->results;
}

const char *hook_run_argument(const struct hook_run *run)
{
	return run->argument;
}

void hook_result_describe(const struct hook_result *r, char *buf, size_t size)
{
	if (r->spawn_error)
		snprintf(buf, size, "%s=cannot run (%s)", r->name, strerror(r->spawn_error));
	else if (!r->started)
		snprintf(buf, size, "%s=not run", r->name);
	else if (r->timed_out)
		snprintf(buf, size, "%s=timeout", r->name);
	else if (WIFEXITED(r->wait_status) && WEXITSTATUS(r->wait_status) == 0)
		snprintf(buf, size, "%s=ok", r->name);
	else if (WIFEXITED(r->wait_status))
		snprintf(buf, size, "%s=exit %d", r->name, WEXITSTATUS(r->wait_status));
	else
		snprintf(buf, size, "%s=signal %d", r->name, WTERMSIG(r->wait_status));
}

/* ---------------------------------------------------------------- blocking */

struct blocking {
	bool done, ok;
};

static void blocking_done(struct hook_run *run, bool ok, void *userdata)
{
	struct blocking *b = userdata;

	b->done = true;
	b->ok = ok;
}

int hook_run_blocking(const struct hook_run_config *c, const char *const *names, bool *ret_ok)
{
	struct blocking b = {0};
	struct hook_run *run = NULL;
	sd_event *e = NULL;
	int r = sd_event_new(&e);

	if (r >= 0)
		r = hook_run_start(e, c, names, blocking_done, &b, &run);
	while (r >= 0 && !b.done)
		r = sd_event_run(e, UINT64_MAX);
	hook_run_free(run);
	sd_event_unref(e);
	if (r < 0)
		return r;
	if (ret_ok)
		*ret_ok = b.ok;
	return 0;
}
