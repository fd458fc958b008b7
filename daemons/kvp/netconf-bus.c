/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-bus.c: hv-kvpd's one way onto D-Bus (netconf_bus_open(), declared in netconf.h),
 * shared by the SET_IP_INFO backends and by dns.c, and the backends' deadline-bound method
 * call (netconf_bus_callv()). Nothing here logs: the callers say what they asked. A file of its own so that a program that
 * needs only the bus (the resolv.conf fuzz target) does not pull in the rest of netconf.
 */
#include <errno.h>
#include <systemd/sd-bus.h>

#include "netconf.h"
#include "shared/macro.h"
#include "shared/time-util.h"

int netconf_bus_open(const char *address, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (!address)
		return sd_bus_open_system(ret);
	if (!*address)
		return -EHOSTUNREACH;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_close_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

int netconf_bus_callv(sd_bus *bus, uint64_t deadline_usec, sd_bus_error *ret_error,
		      const char *dest, const char *path, const char *iface, const char *member,
		      sd_bus_message **ret_reply, const char *types, va_list ap)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	uint64_t now = now_usec();
	int r;

	if (now >= deadline_usec)
		return -ETIME; /* (a timeout of 0 would mean sd-bus's default) */
	r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
	if (r >= 0 && types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, deadline_usec - now, ret_error, ret_reply);
	return r == -ETIMEDOUT ? -ETIME : r;
}
