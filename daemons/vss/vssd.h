/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vssd's service: answers the kernel's VSS requests (FREEZE, THAW, HOT_BACKUP).
 */
#ifndef VSSD_H
#define VSSD_H

#include <stdio.h>

#include "hvd.h"

extern const struct hvd_service vssd_service;

/* `hv-vssd --plan`: loads the config as the daemon does and prints the freeze plan of
 * mountinfo (NULL: /proc/self/mountinfo) to f, freezing nothing. Returns an exit status. */
int vssd_print_plan(const char *config_path, const char *mountinfo, FILE *f);

#endif
