/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-host-sim: the simulated Hyper-V host on the command line.
 *
 * Creates the sockets of the enabled services first (so a script or shell can wait for
 * them to appear), then executes commands, one per line, from a script file or stdin.
 * Lines are split like a shell would (g_shell_parse_argv: "..." and '...' quoting), '#'
 * starts a comment line. Every host request prints one line: a JSON object with --json,
 * a readable summary otherwise. A command that cannot be executed (bad syntax, no such
 * service, timeout, failed expect-status) makes the exit status 1; a request that the
 * guest answered with a failure HRESULT is not a command failure. Usage errors exit 2.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "tools/hv-host-sim/hvsim.h"

struct cli {
	struct hvsim *sim;
	bool json;
	bool have_result;
	uint32_t last_status;
	bool quit;
};

static void usage(FILE *f)
{
	fputs("Usage: hv-host-sim [OPTIONS]\n"
	      "Simulated Hyper-V host and hv_utils kernel driver for the guest daemons.\n\n"
	      "  --kvp SOCKET             enable KVP, listening at SOCKET\n"
	      "  --vss SOCKET             enable VSS, listening at SOCKET\n"
	      "  --fcopy SOCKET           enable fcopy, listening at SOCKET\n"
	      "  --fcopy-uio SYSFS_ROOT DEV_DIR  enable fcopy over UIO: a fake sysfs tree and\n"
	      "                           DEV_DIR/uio0 (kernels >= 6.10)\n"
	      "  --ring-size N            UIO bytes per ring, header page included (0x5000)\n"
	      "  --timeout DURATION       kernel reply deadline (default 30s)\n"
	      "  --freeze-timeout DURATION  VSS FREEZE deadline (default 900s)\n"
	      "  --host-timeout DURATION  how long the host waits for an answer (default 120s)\n"
	      "  --json                   print results and status as JSON\n"
	      "  --script FILE|-          read commands from FILE (default: stdin)\n"
	      "  -h, --help               show this help\n\n"
	      "DURATION: a number with an optional unit us, ms, s (default) or m.\n"
	      "Commands: wait, wait-gone, run, status, kvp, vss, fcopy, hibernate, echo,\n"
	      "expect-status, uio-disable, uio-enable, quit (see hv-host-sim(1)).\n",
	      f);
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_duration(const char *s, uint64_t *ret_usec)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {{"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000}, {"", 1000000}};
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e9)
		return -EINVAL;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			*ret_usec = (uint64_t)(v * (double)units[i].mult);
			return 0;
		}
	return -EINVAL;
}

static int parse_service(const char *s)
{
	return s ? vmu_service_from_name(s) : -EINVAL;
}

static int parse_pool(const char *s)
{
	static const char *const names[] = {"external", "guest", "auto", "host", "internal"};
	uint64_t v;

	for (size_t i = 0; s && i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(s, names[i]) == 0)
			return (int)i;
	if (parse_u64(s, &v) < 0 || v >= _VMU_KVP_POOL_MAX)
		return -EINVAL;
	return (int)v;
}

static void print_result(struct cli *c, enum vmu_service service, int op,
			 const struct hvsim_result *r)
{
	json_object *o = hvsim_result_json(service, op, r);

	c->have_result = true;
	c->last_status = r->status;
	if (c->json)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	else {
		json_object *key, *value;

		printf("%s %s: %s (0x%08x) %" PRIu64 "us%s", vmu_service_name(service),
		       json_object_get_string(json_object_object_get(o, "op")),
		       hvsim_status_name(r->status), r->status, r->latency_usec,
		       r->kernel_timeout ? " kernel-timeout" : "");
		if (json_object_object_get_ex(o, "key", &key))
			printf(" key=\"%s\"", json_object_get_string(key));
		if (json_object_object_get_ex(o, "value", &value))
			printf(" value=\"%s\"", json_object_get_string(value));
		if (service == VMU_SERVICE_VSS)
			printf(" flags=%u", r->vss_flags);
		printf("\n");
	}
	json_object_put(o);
	fflush(stdout);
}

static int request_done(struct cli *c, int r, enum vmu_service service, int op,
			const struct hvsim_result *res)
{
	if (r < 0) {
		fprintf(stderr, "hv-host-sim: %s request failed: %s\n", vmu_service_name(service),
			strerror(-r));
		return r;
	}
	print_result(c, service, op, res);
	return 0;
}

static int cmd_kvp_list(struct cli *c, int pool)
{
	json_object *array = NULL;
	int r = hvsim_kvp_enumerate_all(c->sim, pool, &array);

	if (r < 0)
		return request_done(c, r, VMU_SERVICE_KVP, VMU_KVP_OP_ENUMERATE, NULL);
	if (c->json)
		printf("%s\n", json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN));
	else
		for (size_t i = 0; i < json_object_array_length(array); i++) {
			json_object *item = json_object_array_get_idx(array, i);

			printf("%s=%s\n",
			       json_object_get_string(json_object_object_get(item, "key")),
			       json_object_get_string(json_object_object_get(item, "value")));
		}
	json_object_put(array);
	fflush(stdout);
	return 0;
}

static int cmd_kvp_set(struct cli *c, int pool, int argc, char **argv, struct hvsim_result *res)
{
	uint64_t v;

	if (argc == 5 && strcmp(argv[4], "--u32") == 0) {
		if (parse_u64(argv[3], &v) < 0 || v > UINT32_MAX)
			return -EINVAL;
		return hvsim_kvp_set_u32(c->sim, pool, argv[2], (uint32_t)v, res);
	}
	if (argc == 5 && strcmp(argv[4], "--u64") == 0) {
		if (parse_u64(argv[3], &v) < 0)
			return -EINVAL;
		return hvsim_kvp_set_u64(c->sim, pool, argv[2], v, res);
	}
	if (argc != 4)
		return -EINVAL;
	return hvsim_kvp_set(c->sim, pool, argv[2], argv[3], res);
}

static int cmd_kvp_ip(struct cli *c, int argc, char **argv, struct hvsim_result *res, int *op)
{
	struct hvsim_ip_config cfg = {0};
	uint64_t family = 0, dhcp = 0;

	if (strcmp(argv[0], "get-ip-info") == 0) {
		*op = VMU_KVP_OP_GET_IP_INFO;
		if (argc < 2 || argc > 3 || (argc == 3 && parse_u64(argv[2], &family) < 0) ||
		    family > 255)
			return -EINVAL;
		return hvsim_kvp_get_ip_info(c->sim, argv[1], (uint8_t)family, res);
	}
	*op = VMU_KVP_OP_SET_IP_INFO;
	/* set-ip-info GUID FAMILY DHCP IP SUBNET GATEWAY DNS */
	if (argc != 8 || parse_u64(argv[2], &family) < 0 || family > 255 ||
	    parse_u64(argv[3], &dhcp) < 0 || dhcp > 1)
		return -EINVAL;
	cfg = (struct hvsim_ip_config){argv[1], (uint8_t)family, (uint8_t)dhcp, argv[4],
				       argv[5], argv[6],         argv[7]};
	return hvsim_kvp_set_ip_info(c->sim, &cfg, res);
}

static int cmd_kvp(struct cli *c, int argc, char **argv)
{
	struct hvsim_result res;
	uint64_t index;
	int pool, op, r;

	if (argc < 2)
		return -EINVAL;
	argc--, argv++;
	if (strcmp(argv[0], "get-ip-info") == 0 || strcmp(argv[0], "set-ip-info") == 0) {
		r = cmd_kvp_ip(c, argc, argv, &res, &op);
		return r == -EINVAL ? r : request_done(c, r, VMU_SERVICE_KVP, op, &res);
	}
	if (argc < 2 || (pool = parse_pool(argv[1])) < 0)
		return -EINVAL;
	if (strcmp(argv[0], "get") == 0 && argc == 3) {
		op = VMU_KVP_OP_GET;
		r = hvsim_kvp_get(c->sim, pool, argv[2], &res);
	} else if (strcmp(argv[0], "set") == 0 && argc >= 4) {
		op = VMU_KVP_OP_SET;
		r = cmd_kvp_set(c, pool, argc, argv, &res);
		if (r == -EINVAL)
			return r;
	} else if (strcmp(argv[0], "delete") == 0 && argc == 3) {
		op = VMU_KVP_OP_DELETE;
		r = hvsim_kvp_delete(c->sim, pool, argv[2], &res);
	} else if (strcmp(argv[0], "enumerate") == 0 && argc == 3) {
		op = VMU_KVP_OP_ENUMERATE;
		if (parse_u64(argv[2], &index) < 0 || index > UINT32_MAX)
			return -EINVAL;
		r = hvsim_kvp_enumerate(c->sim, pool, (uint32_t)index, &res);
	} else if (strcmp(argv[0], "list") == 0 && argc == 2)
		return cmd_kvp_list(c, pool);
	else
		return -EINVAL;
	return request_done(c, r, VMU_SERVICE_KVP, op, &res);
}

static int parse_vss_op(const char *s)
{
	static const char *const names[] = {"create",      "delete", "hot-backup", "get-dm-info",
					    "bu-complete", "freeze", "thaw",       "auto-recover"};
	uint64_t v;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (parse_u64(s, &v) < 0 || v > 255)
		return -EINVAL;
	return (int)v;
}

static int cmd_vss(struct cli *c, int argc, char **argv)
{
	struct hvsim_result res;
	int op, r;

	if (argc != 2 || (op = parse_vss_op(argv[1])) < 0)
		return -EINVAL;
	r = hvsim_vss_request(c->sim, op, &res);
	return request_done(c, r, VMU_SERVICE_VSS, op, &res);
}

/* [--overwrite] [--create-path] [--size N] */
static int parse_fcopy_flags(int argc, char **argv, uint32_t *flags, uint64_t *size)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--overwrite") == 0)
			*flags |= VMU_FCOPY_OVER_WRITE;
		else if (strcmp(argv[i], "--create-path") == 0)
			*flags |= VMU_FCOPY_CREATE_PATH;
		else if (strcmp(argv[i], "--size") == 0 && size && i + 1 < argc) {
			if (parse_u64(argv[++i], size) < 0)
				return -EINVAL;
		} else
			return -EINVAL;
	}
	return 0;
}

static int cmd_fcopy(struct cli *c, int argc, char **argv)
{
	struct hvsim_result res;
	uint32_t flags = 0;
	uint64_t size = 0, offset;
	int op, r;

	if (argc < 2)
		return -EINVAL;
	if (strcmp(argv[1], "start") == 0 && argc >= 4) {
		op = VMU_FCOPY_OP_START;
		if (parse_fcopy_flags(argc - 4, argv + 4, &flags, &size) < 0)
			return -EINVAL;
		r = hvsim_fcopy_start(c->sim, argv[2], argv[3], flags, size, &res);
	} else if (strcmp(argv[1], "write") == 0 && argc == 4) {
		op = VMU_FCOPY_OP_WRITE;
		if (parse_u64(argv[2], &offset) < 0 || strlen(argv[3]) > VMU_FCOPY_DATA_FRAGMENT)
			return -EINVAL;
		r = hvsim_fcopy_write(c->sim, offset, argv[3], (uint32_t)strlen(argv[3]), &res);
	} else if (strcmp(argv[1], "complete") == 0 && argc == 2) {
		op = VMU_FCOPY_OP_COMPLETE;
		r = hvsim_fcopy_complete(c->sim, &res);
	} else if (strcmp(argv[1], "cancel") == 0 && argc == 2) {
		op = VMU_FCOPY_OP_CANCEL;
		r = hvsim_fcopy_cancel(c->sim, &res);
	} else if (strcmp(argv[1], "copy") == 0 && argc >= 5) {
		op = VMU_FCOPY_OP_COMPLETE;
		if (parse_fcopy_flags(argc - 5, argv + 5, &flags, NULL) < 0)
			return -EINVAL;
		r = hvsim_fcopy_file(c->sim, argv[2], argv[3], argv[4], flags, &res);
	} else
		return -EINVAL;
	return request_done(c, r, VMU_SERVICE_FCOPY, op, &res);
}

static int cmd_wait(struct cli *c, int argc, char **argv, bool gone)
{
	uint64_t usec = 30000000;
	int service, r;

	if (argc < 2 || argc > 3 || (service = parse_service(argv[1])) < 0 ||
	    (argc == 3 && parse_duration(argv[2], &usec) < 0))
		return -EINVAL;
	r = gone ? hvsim_wait_disconnected(c->sim, service, usec)
		 : hvsim_wait_registered(c->sim, service, usec);
	if (r < 0)
		fprintf(stderr, "hv-host-sim: %s %s: %s\n", argv[0], argv[1], strerror(-r));
	return r;
}

static int cmd_status(struct cli *c)
{
	if (c->json) {
		json_object *o = hvsim_status_json(c->sim);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else
		hvsim_print_status(c->sim, stdout);
	fflush(stdout);
	return 0;
}

static int cmd_expect_status(struct cli *c, int argc, char **argv)
{
	uint64_t v;

	if (argc != 2)
		return -EINVAL;
	if (!c->have_result) {
		fprintf(stderr, "hv-host-sim: expect-status: no request yet\n");
		return -ENOENT;
	}
	if (g_ascii_strcasecmp(argv[1], hvsim_status_name(c->last_status)) == 0 ||
	    (parse_u64(argv[1], &v) == 0 && v == c->last_status))
		return 0;
	fprintf(stderr, "hv-host-sim: expected %s, got %s\n", argv[1],
		hvsim_status_name(c->last_status));
	return -EBADMSG;
}

static int cmd_hibernate(struct cli *c, int argc, char **argv)
{
	int service;

	if (argc != 2 || (service = parse_service(argv[1])) < 0)
		return -EINVAL;
	return hvsim_hibernate(c->sim, service);
}

static int execute(struct cli *c, int argc, char **argv)
{
	uint64_t usec;
	const char *cmd = argv[0];

	if (strcmp(cmd, "wait") == 0 || strcmp(cmd, "wait-gone") == 0)
		return cmd_wait(c, argc, argv, strcmp(cmd, "wait-gone") == 0);
	if (strcmp(cmd, "run") == 0) {
		if (argc != 2 || parse_duration(argv[1], &usec) < 0)
			return -EINVAL;
		return hvsim_run_for(c->sim, usec);
	}
	if (strcmp(cmd, "status") == 0 && argc == 1)
		return cmd_status(c);
	if (strcmp(cmd, "kvp") == 0)
		return cmd_kvp(c, argc, argv);
	if (strcmp(cmd, "vss") == 0)
		return cmd_vss(c, argc, argv);
	if (strcmp(cmd, "fcopy") == 0)
		return cmd_fcopy(c, argc, argv);
	if (strcmp(cmd, "hibernate") == 0)
		return cmd_hibernate(c, argc, argv);
	if (strcmp(cmd, "uio-disable") == 0 && argc == 1)
		return hvsim_uio_disable(c->sim);
	if (strcmp(cmd, "uio-enable") == 0 && argc == 1)
		return hvsim_uio_enable(c->sim);
	if (strcmp(cmd, "expect-status") == 0)
		return cmd_expect_status(c, argc, argv);
	if (strcmp(cmd, "echo") == 0) {
		for (int i = 1; i < argc; i++)
			printf("%s%s", i > 1 ? " " : "", argv[i]);
		printf("\n");
		fflush(stdout);
		return 0;
	}
	if (strcmp(cmd, "quit") == 0 && argc == 1) {
		c->quit = true;
		return 0;
	}
	return -EINVAL;
}

/* Returns true when the line executed (or was empty/comment). */
static bool execute_line(struct cli *c, const char *line, unsigned lineno)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;
	const char *p = line + strspn(line, " \t\r\n");
	int argc, r;

	if (*p == '\0' || *p == '#')
		return true;
	if (!g_shell_parse_argv(p, &argc, &argv, &error)) {
		fprintf(stderr, "hv-host-sim: line %u: %s\n", lineno, error->message);
		return false;
	}
	r = execute(c, argc, argv);
	if (r == -EINVAL)
		fprintf(stderr, "hv-host-sim: line %u: invalid command: %s", lineno, p);
	return r >= 0;
}

static int run_script(struct cli *c, FILE *f)
{
	char *line = NULL;
	size_t size = 0;
	unsigned lineno = 0;
	bool failed = false;

	while (!c->quit && getline(&line, &size, f) >= 0)
		if (!execute_line(c, line, ++lineno))
			failed = true;
	free(line);
	return failed ? 1 : 0;
}

struct options {
	const char *sockets[_VMU_SERVICE_MAX];
	const char *script;
	const char *uio_sysfs, *uio_dev;
	uint64_t ring_size;
	bool json;
	bool timeout_set, freeze_set, host_set;
	uint64_t timeout, freeze_timeout, host_timeout;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_KVP = 256,
		OPT_VSS,
		OPT_FCOPY,
		OPT_TIMEOUT,
		OPT_FREEZE,
		OPT_HOST,
		OPT_JSON,
		OPT_SCRIPT,
		OPT_FCOPY_UIO,
		OPT_RING_SIZE
	};
	static const struct option longopts[] = {
	    {"kvp", required_argument, NULL, OPT_KVP},
	    {"vss", required_argument, NULL, OPT_VSS},
	    {"fcopy", required_argument, NULL, OPT_FCOPY},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"freeze-timeout", required_argument, NULL, OPT_FREEZE},
	    {"host-timeout", required_argument, NULL, OPT_HOST},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"script", required_argument, NULL, OPT_SCRIPT},
	    {"fcopy-uio", required_argument, NULL, OPT_FCOPY_UIO},
	    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
		switch (opt) {
		case OPT_KVP:
		case OPT_VSS:
		case OPT_FCOPY:
			o->sockets[opt - OPT_KVP] = optarg;
			break;
		case OPT_TIMEOUT:
			o->timeout_set = true;
			if (parse_duration(optarg, &o->timeout) < 0)
				return -EINVAL;
			break;
		case OPT_FREEZE:
			o->freeze_set = true;
			if (parse_duration(optarg, &o->freeze_timeout) < 0)
				return -EINVAL;
			break;
		case OPT_HOST:
			o->host_set = true;
			if (parse_duration(optarg, &o->host_timeout) < 0)
				return -EINVAL;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_SCRIPT:
			o->script = optarg;
			break;
		case OPT_FCOPY_UIO: /* two arguments: SYSFS_ROOT DEV_DIR */
			if (optind >= argc || argv[optind][0] == '-')
				return -EINVAL;
			o->uio_sysfs = optarg;
			o->uio_dev = argv[optind++];
			break;
		case OPT_RING_SIZE:
			if (parse_u64(optarg, &o->ring_size) < 0 || o->ring_size > SIZE_MAX)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

static int setup(struct cli *c, const struct options *o)
{
	int r;

	r = hvsim_new(NULL, &c->sim);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < _VMU_SERVICE_MAX; i++) {
		if (o->timeout_set)
			hvsim_set_timeout(c->sim, i, o->timeout);
		if (!o->sockets[i])
			continue;
		r = hvsim_listen(c->sim, i, o->sockets[i]);
		if (r < 0) {
			fprintf(stderr, "hv-host-sim: cannot listen at %s: %s\n", o->sockets[i],
				strerror(-r));
			return r;
		}
	}
	if (o->uio_sysfs) {
		r = hvsim_listen_uio(c->sim, o->uio_sysfs, o->uio_dev, (size_t)o->ring_size);
		if (r < 0) {
			fprintf(stderr, "hv-host-sim: cannot set up fcopy over UIO at %s, %s: %s\n",
				o->uio_sysfs, o->uio_dev, strerror(-r));
			return r;
		}
	}
	if (o->freeze_set)
		hvsim_set_freeze_timeout(c->sim, o->freeze_timeout);
	if (o->host_set)
		hvsim_set_host_timeout(c->sim, o->host_timeout);
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {0};
	struct cli c = {0};
	FILE *f = stdin;
	int ret;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	c.json = o.json;
	if (o.script && strcmp(o.script, "-") != 0) {
		f = fopen(o.script, "re");
		if (!f) {
			fprintf(stderr, "hv-host-sim: %s: %s\n", o.script, strerror(errno));
			return 1;
		}
	}
	if (setup(&c, &o) < 0)
		ret = 1;
	else
		ret = run_script(&c, f);
	if (f != stdin)
		fclose(f);
	hvsim_free(c.sim);
	return ret;
}
