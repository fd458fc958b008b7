/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvguestctl status: what each service looks like from inside the guest, gathered into one
 * json-c object (the --json output, schema in hvguestctl(8)) that the text output is
 * rendered from, so both always say the same.
 */
#ifndef HVGUESTCTL_STATUS_H
#define HVGUESTCTL_STATUS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "daemons/common/hvd.h"

#define HVGUESTCTL_SCHEMA 1

struct status_options {
	const char *config;  /* NULL: the default file */
	const char *run_dir; /* NULL: each daemon's run-dir= */
};

/* Builds the status of the three services. Returns 0, or a negative errno when a daemon's
 * configuration cannot be loaded (*ret_error says why, malloc'd). */
int status_collect(const struct status_options *o, json_object **ret, char **ret_error);
/* 0 when every offered service has a running daemon (also when none is offered), else 3. */
int status_exit_code(json_object *status);
void status_print_text(json_object *status, FILE *f);

#endif
