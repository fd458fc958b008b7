# SPDX-License-Identifier: GPL-2.0-or-later
# systemd units and udev rules.

systemdsystemunit_DATA = systemd/hv-kvpd.service
systemdsystemunit_DATA += systemd/hv-fcopyd.service
udevrules_DATA = systemd/70-hvguest.rules
EXTRA_DIST += systemd/hv-kvpd.service.in systemd/70-hvguest.rules
CLEANFILES += systemd/hv-kvpd.service
EXTRA_DIST += systemd/hv-fcopyd.service.in
CLEANFILES += systemd/hv-fcopyd.service
systemdsystemunit_DATA += systemd/hv-vssd.service
EXTRA_DIST += systemd/hv-vssd.service.in
CLEANFILES += systemd/hv-vssd.service

systemd/%.service: $(top_srcdir)/systemd/%.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' $< >$@.tmp && mv $@.tmp $@
