/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's identity as the host shows it: OS name and versions from os-release, kernel
 * release and machine from uname(2).
 */
#ifndef KVP_OS_INFO_H
#define KVP_OS_INFO_H

#include <stddef.h>

#define OS_INFO_FIELD_MAX 256

struct os_info {
	char name[OS_INFO_FIELD_MAX];           /* os-release NAME, else uname sysname */
	char version_id[OS_INFO_FIELD_MAX];     /* os-release VERSION_ID, else "" */
	char kernel_release[OS_INFO_FIELD_MAX]; /* uname -r, e.g. 6.1.0-28-amd64 */
	char kernel_version[OS_INFO_FIELD_MAX]; /* x.y.z from the release: 6.1.0 */
	char machine[OS_INFO_FIELD_MAX];        /* uname -m */
	char hostname[OS_INFO_FIELD_MAX];       /* uname nodename */
};

/* Reads os-release from the first of paths (NULL-terminated) that exists, then uname.
 * Never fails: missing or unreadable files fall back as documented above. */
void os_info_load(const char *const *paths, struct os_info *ret);

/* Looks up KEY in os-release text. Lines starting with '#' are comments; the value is
 * unquoted the way a shell would ("..." and '...' quoting, backslash escapes). Returns the
 * length written (dst is NUL-terminated), or -ENOENT when the key is absent, -ENOBUFS when
 * the value does not fit. */
int os_release_lookup(const char *text, const char *key, char *dst, size_t dst_size);

/* "6.1.0-28-amd64" -> "6.1.0"; "6.10" -> "6.10.0"; always x.y.z (missing parts are 0). */
void kernel_version_xyz(const char *release, char *dst, size_t dst_size);

#endif
