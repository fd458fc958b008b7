/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netconf-bus.c: hv-kvpd's one way onto D-Bus (netconf_bus_open(), declared in netconf.h),
 * shared by the SET_IP_INFO backends and by dns.c. A file of its own so that a program that
 * needs only the bus (the resolv.conf fuzz target) does not pull in the rest of netconf.
 */
#include <errno.h>
#include <systemd/sd-bus.h>

#include "netconf.h"

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
