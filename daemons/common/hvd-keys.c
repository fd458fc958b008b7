/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The common config keys of every daemon's section (hvd-keys.h).
 *
 * Design: the table is built at run time because the device default depends on the service
 * (vmu_service_default_device); a daemon's own keys follow the common ones, so a key name
 * clash is caught by conf_load's duplicate check, not silently shadowed. Each daemon brings
 * its own section (struct hvd_service: name, keys); the sections the others own are those
 * of the services the library knows (hvd_keys_sections), so conf.c names no daemon and a
 * new service's daemon needs no change here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvd-keys.h"
#include "shared/time-util.h"

const char *const hvd_log_levels[] = {"err", "warning", "notice", "info", "debug", NULL};
static const char *const hvd_log_targets[] = {"auto", "journal", "stderr", "syslog", NULL};

static const char *hvd_check_device(const struct conf *c, const char *value)
{
	(void)c;
	if (value[0] == '/' || (strncmp(value, "unix:/", 6) == 0))
		return NULL;
	return "is neither an absolute path nor unix:/absolute-path";
}

struct conf_key *hvd_keys_build(enum vmu_service service, const struct conf_key *service_keys)
{
	const struct conf_key common[] = {
	    {"device", CONF_STRING, vmu_service_default_device(service),
	     "the kernel's char device, or unix:/path for a simulated host", 0, 0, NULL,
	     hvd_check_device},
	    {"state-dir", CONF_PATH, "/var/lib/hyperv", "persistent state (KVP pools)"},
	    {"run-dir", CONF_PATH, RUNSTATEDIR "/hvguest", "runtime state"},
	    {"log-level", CONF_ENUM, "info", "most verbose level logged", 0, 0, hvd_log_levels},
	    {"log-target", CONF_ENUM, "auto",
	     "auto: the journal when stderr is connected to it, else stderr; detached (without "
	     "-n): the journal under systemd, else syslog",
	     0, 0, hvd_log_targets},
	    {"journal-socket", CONF_PATH, "/run/systemd/journal/socket",
	     "where journal records are sent"},
	    {"syslog-socket", CONF_PATH, "/dev/log", "where syslog lines are sent"},
	    {"register-timeout", CONF_DURATION, "10s",
	     "how long to wait for the kernel's registration reply", USEC_PER_MSEC,
	     3600 * USEC_PER_SEC},
	    {"reconnect-max", CONF_DURATION, "30s",
	     "longest back-off between attempts to open the device", USEC_PER_MSEC,
	     86400 * USEC_PER_SEC},
	};
	size_t n_common = sizeof(common) / sizeof(common[0]), n = 0;
	struct conf_key *keys;

	while (service_keys && service_keys[n].name)
		n++;
	keys = calloc(n_common + n + 1, sizeof(*keys));
	if (!keys)
		return NULL;
	memcpy(keys, common, sizeof(common));
	if (n)
		memcpy(keys + n_common, service_keys, n * sizeof(*keys));
	return keys;
}

/* hvguest.conf's sections: one per service the library knows, named after it. Filled on the
 * first call; the names are the library's static strings. */
const char *const *hvd_keys_sections(void)
{
	static const char *sections[_VMU_SERVICE_MAX + 1];

	if (!sections[0])
		for (int i = _VMU_SERVICE_MAX - 1; i >= 0; i--)
			sections[i] = vmu_service_name((enum vmu_service)i);
	return sections;
}

int hvd_keys_load(enum vmu_service service, const char *section,
		  const struct conf_key *service_keys, const char *path, struct conf **ret,
		  char **ret_error)
{
	struct conf_key *keys = hvd_keys_build(service, service_keys);
	int r;

	if (!keys)
		return -ENOMEM;
	r = conf_load(path, section, keys, hvd_keys_sections(), ret, ret_error);
	free(keys);
	return r;
}
