/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd's config section: its name and its own keys (the common ones are in
 * daemons/common/hvd-keys.h). Shared by the daemon and the hv-kvp tool.
 */
#ifndef KVP_KEYS_H
#define KVP_KEYS_H

#include "conf.h"

#define KVPD_SECTION "kvp"

/* {NULL}-terminated. */
extern const struct conf_key kvpd_keys[];

#endif
