/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-fcopyd's service description for hvd, and the transport-independent request entry
 * points (the char-device and the UIO glue both end here). See fcopyd.c.
 */
#ifndef FCOPYD_H
#define FCOPYD_H

#include <stdint.h>

#include "hvd.h"

struct fcopyd;

extern const struct hvd_service fcopyd_service;

/* Each returns the host status (HRESULT). */
uint32_t fcopyd_start(struct fcopyd *f, const char *path_name, const char *file_name,
		      uint32_t flags, uint64_t file_size);
uint32_t fcopyd_write(struct fcopyd *f, uint64_t offset, const void *data, uint32_t size);
uint32_t fcopyd_complete(struct fcopyd *f);
uint32_t fcopyd_cancel(struct fcopyd *f);
/* A message the library refused: logged, counted, answered E_FAIL. */
uint32_t fcopyd_bad_message(struct fcopyd *f, int error);

#endif
