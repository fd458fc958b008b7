/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vssd: hvd_main() runs the daemon; `--plan [--mountinfo=FILE]` prints the freeze plan
 * instead, with the same config (-c/--config), and freezes nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vssd.h"

/* The value of -c/--config among the arguments, or NULL. */
static const char *config_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mountinfo = NULL;
	bool plan = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plan") == 0)
			plan = true;
		else if (strncmp(argv[i], "--mountinfo=", 12) == 0)
			mountinfo = argv[i] + 12;
	}
	if (plan)
		return vssd_print_plan(config_arg(argc, argv), mountinfo, stdout);
	if (mountinfo) {
		fprintf(stderr, "hv-vssd: --mountinfo is only for --plan\n");
		return 1;
	}
	return hvd_main(&vssd_service, argc, argv);
}
