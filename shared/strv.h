/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shared/strv.h: NULL-terminated string vectors allocated with malloc (GLib's g_strfreev()
 * serves the vectors GLib made; these are for code that does not use GLib).
 *
 * Design: header-only, never installed; the free function returns NULL for
 * `v = strv_free(v)` and accepts NULL.
 */
#ifndef HV_SHARED_STRV_H
#define HV_SHARED_STRV_H

#include <stdlib.h>

#include "shared/macro.h"

static inline char **strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static inline void strv_freep(char ***v)
{
	strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#endif
