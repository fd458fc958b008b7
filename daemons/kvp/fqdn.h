/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FullyQualifiedDomainName item: the host name resolved to its canonical name without
 * ever blocking the event loop.
 */
#ifndef KVP_FQDN_H
#define KVP_FQDN_H

#include <systemd/sd-event.h>

struct fqdn;

/* Called on the event loop whenever the name changes. */
typedef void (*fqdn_changed_fn)(const char *fqdn, void *userdata);

/* Starts resolving at once and again when the host name changes (checked every
 * check_usec) or every refresh_usec. */
int fqdn_new(sd_event *event, uint64_t check_usec, uint64_t refresh_usec, fqdn_changed_fn cb,
	     void *userdata, struct fqdn **ret);
struct fqdn *fqdn_free(struct fqdn *f);
/* A new refresh_usec (reload), in force from the next check on. */
void fqdn_set_refresh(struct fqdn *f, uint64_t refresh_usec);

/* The current name: the canonical name once resolved, else the host name itself (never an
 * error text). */
const char *fqdn_get(struct fqdn *f);
/* Cheap: notices a changed host name at once (uname) and starts a new resolution. */
void fqdn_check(struct fqdn *f);

#endif
