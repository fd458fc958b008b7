/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The keys every daemon's config section has (device, state-dir, run-dir, logging,
 * timeouts), joined with a daemon's own table. Kept apart from hvd.c (the event loop) so
 * that a tool can read a daemon's section with conf.c and this file alone, without linking
 * the daemon, libsystemd or the event loop.
 */
#ifndef HVD_KEYS_H
#define HVD_KEYS_H

#include "conf.h"
#include "vmbus-user.h"

/* The log-level key's choices, most severe first (hvd.c maps them to syslog levels in the
 * same order). */
extern const char *const hvd_log_levels[];

/* The common keys, then service_keys ({NULL}-terminated; may be NULL); the result is
 * {NULL}-terminated and malloc'd. NULL on ENOMEM. */
struct conf_key *hvd_keys_build(enum vmu_service service, const struct conf_key *service_keys);

/* The sections hvguest.conf may hold: one per service, vmu_service_name() of each, NULL-
 * terminated (the others argument of conf_load(): a daemon checks its own and skips the
 * others' unchecked). */
const char *const *hvd_keys_sections(void);

/* conf_load() of section with hvd_keys_build(service, service_keys), the others being
 * hvd_keys_sections(). */
int hvd_keys_load(enum vmu_service service, const char *section,
		  const struct conf_key *service_keys, const char *path, struct conf **ret,
		  char **ret_error);

#endif
