/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvguestctl: the admin's one view of the Hyper-V guest services (hvguestctl(8)).
 *
 *   status [--json]  per service: offered by the host, daemon running, transport, version,
 *                    requests; KVP items and pools; VSS frozen now and the last backup;
 *                    fcopy the copy in progress and the last one (status.c). Exit status 0
 *                    when every offered service has a running daemon, 3 otherwise (as
 *                    `systemctl is-active`), 1 on errors, 2 on usage.
 *   plan             the freeze plan, exactly `hv-vssd --plan` (the same code).
 *   thaw             emergency thaw from hv-vssd's crash record: only the mounts it
 *                    recorded, and only while the path still leads to the very mount it
 *                    froze (mount ID and device, freeze_thaw_recorded()), so nothing someone
 *                    else froze is touched. Safe at any time: a mount that is not frozen is
 *                    reported as such. The record stays: hv-vssd's next start still runs
 *                    the thaw hooks and removes it.
 *
 * Read-only apart from FITHAW: the tool talks to no daemon (it reads their state files),
 * so it works while a daemon hangs or is gone, and never waits on a frozen file system.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/common/hvd.h"
#include "daemons/vss/freeze.h"
#include "daemons/vss/state.h"
#include "daemons/vss/vssd.h"
#include "tools/hvguestctl/status.h"

#define EXIT_USAGE 2

struct options {
	const char *config, *run_dir, *mountinfo;
	bool json;
};

static void usage(FILE *f)
{
	fputs("Usage: hvguestctl [OPTIONS] [status|plan|thaw]\n\n"
	      "The Hyper-V guest services as the guest sees them.\n\n"
	      "Commands:\n"
	      "  status            each service: offered, daemon, version, requests, state "
	      "(default)\n"
	      "  plan              hv-vssd's freeze plan (as hv-vssd --plan)\n"
	      "  thaw              thaw what hv-vssd froze, from its crash record (root)\n\n"
	      "Options:\n"
	      "  -c, --config FILE   the daemons' configuration (default: " SYSCONFDIR
	      "/hvguest/hvguest.conf)\n"
	      "      --run-dir DIR   the daemons' run directory, for all three\n"
	      "      --json          status as JSON (schema in hvguestctl(8))\n"
	      "      --mountinfo FILE  plan: read this mount table instead\n"
	      "  -h, --help          show this help\n"
	      "  -V, --version       show the version\n",
	      f);
}

static int cmd_status(const struct options *o)
{
	struct status_options so = {.config = o->config, .run_dir = o->run_dir};
	json_object *status = NULL;
	char *error = NULL;
	int r = status_collect(&so, &status, &error);

	if (r < 0) {
		fprintf(stderr, "hvguestctl: %s\n", error ? error : strerror(-r));
		free(error);
		return 1;
	}
	if (o->json)
		printf("%s\n",
		       json_object_to_json_string_ext(status, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		status_print_text(status, stdout);
	r = status_exit_code(status);
	json_object_put(status);
	return r;
}

static int thaw_one(const struct state_mount *m)
{
	int r = freeze_thaw_recorded(m);

	if (r == 0)
		printf("thawed %s\n", m->target);
	else if (r == -EINVAL)
		printf("%s was not frozen\n", m->target);
	else if (r == -ESTALE)
		printf("%s is no longer the mount hv-vssd froze: left alone\n", m->target);
	else {
		fprintf(stderr, "hvguestctl: cannot thaw %s: %s\n", m->target, strerror(-r));
		return r;
	}
	return 0;
}

static int cmd_thaw(const struct options *o)
{
	struct state_mount *m = NULL;
	struct conf *c = NULL;
	char *error = NULL, path[PATH_MAX];
	size_t n = 0;
	int r = hvd_config_load(&vssd_service, o->config, &c, &error), failed = 0;

	if (r < 0) {
		fprintf(stderr, "hvguestctl: %s\n", error ? error : strerror(-r));
		free(error);
		return 1;
	}
	r = snprintf(path, sizeof(path), "%s/%s",
		     o->run_dir ? o->run_dir : conf_get_string(c, "run-dir"), STATE_FILE_NAME);
	conf_free(c);
	if (r >= (int)sizeof(path))
		return 1;
	r = state_read(path, &m, &n);
	if (r == -ENOENT) {
		printf("hv-vssd has nothing frozen (no %s)\n", path);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "hvguestctl: cannot read %s: %s; thawing nothing\n", path,
			strerror(-r));
		return 1;
	}
	if (n == 0)
		printf("hv-vssd's record lists no frozen file system\n");
	for (size_t i = 0; i < n; i++)
		failed |= thaw_one(&m[i]) < 0;
	state_mounts_free(m, n);
	return failed ? 1 : 0;
}

static int parse(int argc, char **argv, struct options *o, const char **ret_cmd)
{
	enum { OPT_RUN_DIR = 0x100, OPT_JSON, OPT_MOUNTINFO };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"mountinfo", required_argument, NULL, OPT_MOUNTINFO},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case OPT_RUN_DIR:
			o->run_dir = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_MOUNTINFO:
			o->mountinfo = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("hvguestctl " PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return -EINVAL;
	}
	*ret_cmd = optind < argc ? argv[optind] : "status";
	return 1;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	const char *cmd = NULL;
	int r = parse(argc, argv, &o, &cmd);

	if (r <= 0)
		return r == 0 ? 0 : EXIT_USAGE;
	if (strcmp(cmd, "status") == 0)
		return cmd_status(&o);
	if (o.json) {
		fprintf(stderr, "hvguestctl: --json is only for status\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "plan") == 0)
		return vssd_print_plan(o.config, o.mountinfo, stdout);
	if (strcmp(cmd, "thaw") == 0)
		return cmd_thaw(&o);
	fprintf(stderr, "hvguestctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
