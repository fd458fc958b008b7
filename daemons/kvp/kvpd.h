/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvpd's service: answers the kernel's KVP requests.
 */
#ifndef KVPD_H
#define KVPD_H

#include "hvd.h"

extern const struct hvd_service kvpd_service;

#endif
