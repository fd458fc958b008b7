/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-fcopyd: host-to-guest file copy (Copy-VMFile -FileSource Host) on top of hvd.
 *
 * Data flow: hvd reads one message from the transport (transport.c: the char device or
 * the UIO ring) and calls fcopyd_handle(); the library validates it into one view (struct
 * vmu_fcopy_request, whichever the format) this file dispatches to copy.c; copy.c answers with the host status, and the reply goes back
 * through hvd. This file neither parses nor writes raw bytes. The two formats:
 *   char device  kernel-translated (vmu_fcopy_request_parse, names already UTF-8); the
 *                reply is a 4-byte status (vmu_fcopy_reply);
 *   UIO          the host's own: IC header + message with UTF-16 names
 *                (vmu_fcopy_host_message_parse cuts the header; strict: invalid UTF-16
 *                fails the request); the reply is the whole message with the IC status set
 *                in place (vmu_fcopy_host_reply).
 * File creation (copy.c, target.c) is the same for both.
 *
 * Policy (config keys below) becomes a struct target_policy that owns copies of its strings,
 * rebuilt on SIGHUP (a new config whose policy cannot be built is refused, and the old one
 * stays in force). Profiles:
 *   compatible      (default) any absolute path; root-owned symlinked parents followed
 *   untrusted-host  destinations limited to allowed-roots (default
 *                   /var/lib/hyperv/incoming) and no symlinked parents at all
 *
 * Every copy ends in one structured journal record (HVGUEST_FCOPY_* fields and the "copy
 * done" MESSAGE_ID of message-ids.h) and the STATUS= line shows the copy in progress (file,
 * bytes of total, rate), refreshed at most every FCOPYD_STATUS_INTERVAL.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "copy.h"
#include "fcopyd.h"
#include "message-ids.h"
#include "state-file.h"
#include "transport.h"
#include "shared/time-util.h"

#define FCOPYD_STATUS_INTERVAL (USEC_PER_SEC / 2)
#define FCOPYD_UNTRUSTED_ROOT "/var/lib/hyperv/incoming"
#define FCOPYD_PENDING_FILE "fcopy-pending"

struct fcopyd {
	struct hvd *hvd;
	struct copy *copy;
	struct target_policy policy;
	const char *untrusted_roots[2];
	char *pending_path;
	uint64_t last_status_usec;
	uint64_t copies, failures, bad_messages;
	char *last_copy; /* the last copy's result as JSON text (fcopyd_publish) */
	/* Every message is parsed into this one: a parse writes only what its op needs (see
	 * struct vmu_fcopy_request), so a WRITE costs no clearing of START's names. */
	struct vmu_fcopy_request req;
};

static const char *const parent_symlink_choices[] = {"deny", "root-owned", "follow", NULL};
static const char *const temp_file_choices[] = {"auto", "named", NULL};
static const char *const profile_choices[] = {"compatible", "untrusted-host", NULL};
static const char *const transport_choices[] = FCOPY_TRANSPORT_CHOICES;

static const char *check_mode(const struct conf *c, const char *value);
static const char *check_owner(const struct conf *c, const char *value);
static const char *check_group(const struct conf *c, const char *value);

static const struct conf_key fcopyd_keys[] = {
    {"transport", CONF_ENUM, "auto",
     "auto: the char device (device=) when it exists, else the UIO device, else wait for "
     "either; chardev or uio: that one only",
     0, 0, transport_choices},
    {"sysfs-root", CONF_PATH, "/sys", "where the fcopy VMBus device is looked up"},
    {"uio-dev-dir", CONF_PATH, "/dev", "where its uioN node is"},
    {"bind-uio", CONF_BOOL, "true",
     "bind uio_hv_generic to an fcopy device bound to no driver (writes its new_id)"},
    {"profile", CONF_ENUM, "compatible",
     "compatible: any absolute path; untrusted-host: allowed-roots only, no symlinked parents", 0,
     0, profile_choices},
    {"allowed-roots", CONF_PATHS, "",
     "directories files may be written beneath (empty: anywhere, or " FCOPYD_UNTRUSTED_ROOT
     " with profile=untrusted-host)"},
    {"parent-symlinks", CONF_ENUM, "root-owned",
     "symlinks among the target's directories: deny, root-owned (follow only links root owns), "
     "follow",
     0, 0, parent_symlink_choices},
    {"file-mode", CONF_STRING, "0644", "mode of the files created (octal)", 0, 0, NULL, check_mode},
    {"file-owner", CONF_STRING, "root", "owner of the files created (name or uid)", 0, 0, NULL,
     check_owner},
    {"file-group", CONF_STRING, "root", "group of the files created (name or gid)", 0, 0, NULL,
     check_group},
    {"directory-mode", CONF_STRING, "0755", "mode of directories CREATE_PATH makes (octal)", 0, 0,
     NULL, check_mode},
    {"allow-special-modes", CONF_BOOL, "false",
     "let file-mode and directory-mode carry the set-uid, set-gid and sticky bits (07000)"},
    {"temp-file", CONF_ENUM, "auto",
     "auto: O_TMPFILE where the file system has it, else a named temporary; named: always named", 0,
     0, temp_file_choices},
    {"preallocate", CONF_BOOL, "true",
     "reserve the announced size at START (false: only check the free space)"},
    {"direct-io", CONF_BOOL, "true",
     "write a large reserved file past the page cache (O_DIRECT; false: through the cache)"},
    {NULL},
};

/* ---------------------------------------------------------------- policy */

static int parse_mode(const char *s, mode_t *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || !end || end == s || *end || v > 07777)
		return -EINVAL;
	*ret = (mode_t)v;
	return 0;
}

static int parse_id(const char *s, bool group, unsigned *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !errno && end && !*end && v < UINT32_MAX) {
		*ret = (unsigned)v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(s);
		if (!g)
			return -ESRCH;
		*ret = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);
		if (!p)
			return -ESRCH;
		*ret = p->pw_uid;
	}
	return 0;
}

/* Load-time checks (conf_key.check), so that a bad policy is refused with the file's line
 * before it is built, at start and at reload alike. */
static const char *check_mode(const struct conf *c, const char *value)
{
	mode_t mode;

	if (parse_mode(value, &mode) < 0)
		return "is not an octal mode (0000..07777)";
	/* A set-uid root file written for the host is a privilege the admin must ask for. */
	if ((mode & 07000) && !conf_get_bool(c, "allow-special-modes"))
		return "has set-uid, set-gid or sticky bits (07000); allow-special-modes=true "
		       "allows them";
	return NULL;
}

static const char *check_owner(const struct conf *c, const char *value)
{
	unsigned id;

	(void)c;
	return parse_id(value, false, &id) < 0 ? "is neither a known user nor a uid" : NULL;
}

static const char *check_group(const struct conf *c, const char *value)
{
	unsigned id;

	(void)c;
	return parse_id(value, true, &id) < 0 ? "is neither a known group nor a gid" : NULL;
}

static enum target_parent_symlinks parse_parent_symlinks(const char *s)
{
	if (strcmp(s, "deny") == 0)
		return TARGET_SYMLINKS_DENY;
	if (strcmp(s, "follow") == 0)
		return TARGET_SYMLINKS_FOLLOW;
	return TARGET_SYMLINKS_ROOT_OWNED;
}

/* The policy owns copies of its strings: c may be freed (by a later reload) while the
 * policy stays in force. */
static int build_policy(struct fcopyd *f, const struct conf *c, struct target_policy *ret)
{
	struct target_policy p = {.pending_path = f->pending_path};
	unsigned uid = 0, gid = 0;
	bool untrusted = strcmp(conf_get_string(c, "profile"), "untrusted-host") == 0;
	const char *const *roots = conf_get_strv(c, "allowed-roots");

	if (parse_mode(conf_get_string(c, "file-mode"), &p.file_mode) < 0)
		return log_error_errno(EINVAL, "file-mode=%s is not an octal mode",
				       conf_get_string(c, "file-mode"));
	if (parse_mode(conf_get_string(c, "directory-mode"), &p.dir_mode) < 0)
		return log_error_errno(EINVAL, "directory-mode=%s is not an octal mode",
				       conf_get_string(c, "directory-mode"));
	if (parse_id(conf_get_string(c, "file-owner"), false, &uid) < 0)
		return log_error_errno(ESRCH, "file-owner=%s: no such user",
				       conf_get_string(c, "file-owner"));
	if (parse_id(conf_get_string(c, "file-group"), true, &gid) < 0)
		return log_error_errno(ESRCH, "file-group=%s: no such group",
				       conf_get_string(c, "file-group"));
	p.uid = uid;
	p.gid = gid;
	p.parent_symlinks = parse_parent_symlinks(conf_get_string(c, "parent-symlinks"));
	p.tmpfile = strcmp(conf_get_string(c, "temp-file"), "named") == 0 ? TARGET_TMPFILE_NAMED
									  : TARGET_TMPFILE_AUTO;
	p.preallocate = conf_get_bool(c, "preallocate");
	p.direct_io = conf_get_bool(c, "direct-io");
	p.allowed_roots = roots && roots[0] ? roots : NULL;
	if (untrusted) {
		p.parent_symlinks = TARGET_SYMLINKS_DENY;
		if (!p.allowed_roots)
			p.allowed_roots = f->untrusted_roots;
	}
	if (target_policy_copy(&p, ret) < 0)
		return log_error_errno(ENOMEM, "cannot allocate the file policy");
	return 0;
}

/* ---------------------------------------------------------------- reports */

static double rate_mbps(uint64_t bytes, uint64_t usec)
{
	return usec ? (double)bytes / (double)usec : 0.0; /* bytes/us = MB/s */
}

/* "status 0x80004005 (write: No space left on device)", or what stands in for a status when
 * the host was answered nothing for this copy (superseded, transport gone). */
static void format_outcome(const struct copy_report *r, char *buf, size_t size)
{
	int n;

	if (r->answered)
		n = snprintf(buf, size, "status 0x%08" PRIx32, r->status);
	else
		n = snprintf(buf, size, "no status sent to the host");
	if (n < 0 || (size_t)n >= size || !r->what)
		return;
	snprintf(buf + n, size - (size_t)n, " (%s%s%s)", r->what, r->error ? ": " : "",
		 r->error ? strerror(-r->error) : "");
}

/* A START whose names were refused: the names are shown (escaped by the log and the status
 * setter) but never put in HVGUEST_FCOPY_SOURCE/TARGET, which hold only names that were used. */
static void fcopyd_log_refused(const struct copy_report *r, const char *outcome)
{
	log_struct(LOG_WARNING, "copy failed: refused the host's names %s in %s, %s", r->source,
		   r->target, outcome, "HVGUEST_FCOPY_RESULT=failed", NULL);
}

static void fcopyd_log_copy(const struct copy_report *r, const char *outcome)
{
	char size[48], written[48], duration[48], status[48], err[48];
	char *source = NULL, *target = NULL, *result = NULL;
	int prio = r->result == COPY_COMPLETED ? LOG_INFO : LOG_WARNING;

	snprintf(size, sizeof(size), "HVGUEST_FCOPY_SIZE=%" PRIu64, r->size);
	snprintf(written, sizeof(written), "HVGUEST_FCOPY_WRITTEN=%" PRIu64, r->written);
	snprintf(duration, sizeof(duration), "HVGUEST_FCOPY_DURATION_USEC=%" PRIu64,
		 r->duration_usec);
	snprintf(status, sizeof(status), "HVGUEST_FCOPY_STATUS=0x%08" PRIx32, r->status);
	snprintf(err, sizeof(err), "HVGUEST_FCOPY_ERRNO=%d", r->error < 0 ? -r->error : 0);
	if (asprintf(&source, "HVGUEST_FCOPY_SOURCE=%s", r->source ? r->source : "") < 0)
		source = NULL;
	if (asprintf(&target, "HVGUEST_FCOPY_TARGET=%s", r->target ? r->target : "") < 0)
		target = NULL;
	if (asprintf(&result, "HVGUEST_FCOPY_RESULT=%s", copy_result_name(r->result)) < 0)
		result = NULL;
	if (source && target && result)
		log_struct(
		    prio, "copy %s: %s -> %s, %" PRIu64 " of %" PRIu64 " bytes in %.3f s, %s",
		    copy_result_name(r->result), r->source ? r->source : "",
		    r->target ? r->target : "", r->written, r->size, (double)r->duration_usec / 1e6,
		    outcome, source, target, result, size, written, err, duration,
		    HVGUEST_MESSAGE_COPY_DONE,
		    /* last: no HVGUEST_FCOPY_STATUS= when the host got no answer for this copy */
		    r->answered ? status : NULL, NULL);
	free(source);
	free(target);
	free(result);
}

/* The "details" of fcopy.state.json (hvguestctl(8)): the copy in progress (p), or none, and
 * the last copy's result. Names refused by START are never recorded (escaped logs only). */
static void fcopyd_publish(struct fcopyd *f, const struct copy_progress *p, bool urgent)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	fprintf(m, "{\"copies\": %" PRIu64 ", \"failures\": %" PRIu64 ", \"current\": ", f->copies,
		f->failures);
	if (p) {
		fputs("{\"source\": ", m);
		hvd_json_string(m, p->source);
		fputs(", \"target\": ", m);
		hvd_json_string(m, p->target);
		fprintf(m,
			", \"done\": %" PRIu64 ", \"total\": %" PRIu64
			", \"elapsed_usec\": %" PRIu64 "}",
			p->done, p->total, p->elapsed_usec);
	} else
		fputs("null", m);
	fprintf(m, ", \"last\": %s}", f->last_copy ? f->last_copy : "null");
	if (fclose(m) == 0)
		hvd_publish_details(f->hvd, buf, urgent);
	free(buf);
}

static void fcopyd_remember(struct fcopyd *f, const struct copy_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	fputs("{\"source\": ", m);
	hvd_json_string(m, r->name_refused ? "" : r->source);
	fputs(", \"target\": ", m);
	hvd_json_string(m, r->name_refused ? "" : r->target);
	fprintf(m,
		", \"result\": \"%s\", \"size\": %" PRIu64 ", \"written\": %" PRIu64
		", \"duration_usec\": %" PRIu64 ", \"time\": %lld}",
		copy_result_name(r->result), r->size, r->written, r->duration_usec,
		(long long)time(NULL));
	if (fclose(m) == 0) {
		free(f->last_copy);
		f->last_copy = buf;
		buf = NULL;
	}
	free(buf);
}

static void fcopyd_on_finish(void *userdata, const struct copy_report *r)
{
	struct fcopyd *f = userdata;
	char outcome[160];

	f->copies++;
	if (r->result != COPY_COMPLETED)
		f->failures++;
	format_outcome(r, outcome, sizeof(outcome));
	if (r->name_refused)
		fcopyd_log_refused(r, outcome);
	else
		fcopyd_log_copy(r, outcome);
	hvd_set_status(f->hvd, "Idle; %" PRIu64 " copies, %" PRIu64 " failed; last: %s (%s)",
		       f->copies, f->failures, r->source ? r->source : "",
		       copy_result_name(r->result));
	f->last_status_usec = 0;
	fcopyd_remember(f, r);
	fcopyd_publish(f, NULL, true);
}

static void fcopyd_progress(struct fcopyd *f, bool force)
{
	struct copy_progress p;
	uint64_t now = now_usec();

	if (!force && now - f->last_status_usec < FCOPYD_STATUS_INTERVAL)
		return;
	if (!copy_get_progress(f->copy, &p))
		return;
	f->last_status_usec = now;
	hvd_set_status(f->hvd, "Copying %s to %s: %" PRIu64 " of %" PRIu64 " bytes (%.1f MB/s)",
		       p.source, p.target, p.done, p.total, rate_mbps(p.done, p.elapsed_usec));
	fcopyd_publish(f, &p, false);
}

/* ---------------------------------------------------------------- requests */

uint32_t fcopyd_start(struct fcopyd *f, const char *path_name, const char *file_name,
		      uint32_t flags, uint64_t file_size)
{
	uint32_t status = copy_start(f->copy, &f->policy, path_name, file_name, flags, file_size);

	if (status == VMU_S_OK)
		fcopyd_progress(f, true);
	return status;
}

uint32_t fcopyd_write(struct fcopyd *f, uint64_t offset, const void *data, uint32_t size)
{
	uint32_t status = copy_write(f->copy, offset, data, size);

	if (status == VMU_S_OK)
		fcopyd_progress(f, false);
	return status;
}

uint32_t fcopyd_complete(struct fcopyd *f)
{
	return copy_complete(f->copy);
}

uint32_t fcopyd_cancel(struct fcopyd *f)
{
	return copy_cancel(f->copy);
}

uint32_t fcopyd_bad_message(struct fcopyd *f, int error)
{
	f->bad_messages++;
	log_warning_errno(error, "malformed fcopy message from the host, answering E_FAIL");
	return VMU_E_FAIL;
}

/* Both formats arrive as the same view (struct vmu_fcopy_request), names already UTF-8. */
static uint32_t fcopyd_dispatch(struct fcopyd *f, const struct vmu_fcopy_request *req)
{
	switch (req->op) {
	case VMU_FCOPY_OP_START:
		return fcopyd_start(f, req->start.path_name, req->start.file_name, req->start.flags,
				    req->start.file_size);
	case VMU_FCOPY_OP_WRITE:
		return fcopyd_write(f, req->write.offset, req->write.data, req->write.size);
	case VMU_FCOPY_OP_COMPLETE:
		return fcopyd_complete(f);
	case VMU_FCOPY_OP_CANCEL:
		return fcopyd_cancel(f);
	case _VMU_FCOPY_OP_MAX:
		break;
	}
	return fcopyd_bad_message(f, -ERANGE);
}

/* msg is the char device's message, or (host_format) the whole IC message, whose header the
 * library cuts. */
static uint32_t fcopyd_parse_dispatch(struct fcopyd *f, bool host_format, const void *msg,
				      size_t len)
{
	int r = host_format ? vmu_fcopy_host_message_parse(msg, len, &f->req)
			    : vmu_fcopy_request_parse(msg, len, &f->req);

	return r < 0 ? fcopyd_bad_message(f, r) : fcopyd_dispatch(f, &f->req);
}

/* UIO: the whole IC message (the transport checked its header) goes back with the status
 * set in place. */
static ssize_t fcopyd_handle_host(struct fcopyd *f, void *msg, size_t len, void *reply,
				  size_t reply_size)
{
	uint32_t status;

	if (len < VMU_ICMSG_HDR_SIZE || reply_size < len)
		return -ENOBUFS;
	status = fcopyd_parse_dispatch(f, true, msg, len);
	if (reply != msg)
		memmove(reply, msg, len);
	return vmu_fcopy_host_reply(reply, len, status);
}

static ssize_t fcopyd_handle(struct hvd *d, void *state, void *msg, size_t len, void *reply,
			     size_t reply_size)
{
	struct fcopyd *f = state;

	if (fcopy_transport_host_format(hvd_transport_data(d)))
		return fcopyd_handle_host(f, msg, len, reply, reply_size);
	if (reply_size < VMU_FCOPY_REPLY_SIZE)
		return -ENOBUFS;
	return vmu_fcopy_reply(reply, reply_size, fcopyd_parse_dispatch(f, false, msg, len));
}

/* ---------------------------------------------------------------- life cycle */

static int fcopyd_setup_pending(struct fcopyd *f, const struct conf *c)
{
	const char *state_dir = conf_get_string(c, "state-dir");

	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		log_warning_errno(errno, "cannot create %s, crash cleanup of named temporaries off",
				  state_dir);
	else if (asprintf(&f->pending_path, "%s/%s", state_dir, FCOPYD_PENDING_FILE) < 0)
		return -ENOMEM;
	return 0;
}

static void fcopyd_clean_stale(struct fcopyd *f)
{
	int r = target_clean_stale(&f->policy);

	if (r > 0)
		log_notice("removed the temporary file of a copy interrupted by a crash");
	else if (r < 0)
		log_warning_errno(r, "cannot clean up after an interrupted copy, ignoring");
}

static int fcopyd_init(struct hvd *d, void **ret_state)
{
	struct fcopyd *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->hvd = d;
	f->req.size = sizeof(f->req);
	f->untrusted_roots[0] = FCOPYD_UNTRUSTED_ROOT;
	r = fcopyd_setup_pending(f, hvd_conf(d));
	if (r >= 0)
		r = build_policy(f, hvd_conf(d), &f->policy);
	if (r >= 0)
		r = copy_new(fcopyd_on_finish, f, &f->copy);
	if (r < 0) {
		target_policy_done(&f->policy);
		free(f->pending_path);
		free(f->last_copy);
		free(f);
		return r;
	}
	fcopyd_clean_stale(f);
	*ret_state = f;
	return 0;
}

static void fcopyd_disconnected(struct hvd *d, void *state)
{
	struct fcopyd *f = state;

	copy_abort(f->copy, COPY_DISCONNECTED);
}

/* A new config whose policy cannot be built (a bad mode, an owner that does not resolve,
 * say during a directory-service outage) is refused as a whole: the previous policy and
 * config stay in force. A copy in progress keeps what it started with (its target holds
 * its own copies). */
static int fcopyd_reload(struct hvd *d, void *state, const struct conf *new_conf)
{
	struct fcopyd *f = state;
	struct target_policy p;
	int r = build_policy(f, new_conf, &p);

	if (r < 0)
		return r; /* build_policy() said why; hvd says what it kept */
	target_policy_done(&f->policy);
	f->policy = p;
	return 0;
}

static void fcopyd_finish(struct hvd *d, void *state)
{
	struct fcopyd *f = state;

	if (!f)
		return;
	f->copy = copy_free(f->copy);
	target_policy_done(&f->policy);
	free(f->pending_path);
	free(f->last_copy);
	free(f);
}

const struct hvd_service fcopyd_service = {
    .name = "fcopy",
    .program = "hv-fcopyd",
    .summary = "Hyper-V guest file copy daemon (Copy-VMFile -FileSource Host).",
    .service = VMU_SERVICE_FCOPY,
    .keys = fcopyd_keys,
    .init = fcopyd_init,
    .handle = fcopyd_handle,
    .disconnected = fcopyd_disconnected,
    .reload = fcopyd_reload,
    .finish = fcopyd_finish,
    .transport = &fcopy_transport,
    .help_extra = "Options are set in the [fcopy] section of the configuration file;\n"
		  "see hv-fcopyd(8) and --dump-config.",
};
