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

# Compatibility names (hv-kvpd(8), COMPATIBILITY), each with its manual page (a link). Debian's unit names keep working as
# vendor aliases installed next to the units: [Install] Alias= alone would exist only once
# a unit is enabled. The daemons also answer to the process names that tools and image
# tests look for (pgrep -x hv_kvp_daemon): the units execute them through these links.
HV_COMPAT_SBIN = hv-kvpd:hv_kvp_daemon hv-kvpd:hypervkvpd \
	hv-vssd:hv_vss_daemon hv-vssd:hypervvssd \
	hv-fcopyd:hv_fcopy_daemon hv-fcopyd:hv_fcopy_uio_daemon hv-fcopyd:hypervfcopyd
HV_COMPAT_UNITS = hv-kvpd.service:hv-kvp-daemon.service \
	hv-vssd.service:hv-vss-daemon.service hv-fcopyd.service:hv-fcopy-daemon.service

install-exec-hook: install-compat-names
install-data-hook: install-unit-aliases
uninstall-hook: uninstall-compat-names

.PHONY: install-compat-names install-unit-aliases uninstall-compat-names
install-compat-names:
	$(MKDIR_P) '$(DESTDIR)$(sbindir)'
	for pair in $(HV_COMPAT_SBIN); do \
	  ln -sfn "$${pair%%:*}" '$(DESTDIR)$(sbindir)'/"$${pair#*:}" || exit 1; \
	done
install-unit-aliases:
	$(MKDIR_P) '$(DESTDIR)$(systemdsystemunitdir)'
	for pair in $(HV_COMPAT_UNITS); do \
	  ln -sfn "$${pair%%:*}" '$(DESTDIR)$(systemdsystemunitdir)'/"$${pair#*:}" || exit 1; \
	done
	$(MKDIR_P) '$(DESTDIR)$(man8dir)'
	for pair in $(HV_COMPAT_SBIN); do \
	  ln -sfn "$${pair%%:*}.8" '$(DESTDIR)$(man8dir)'/"$${pair#*:}.8" || exit 1; \
	done
uninstall-compat-names:
	for pair in $(HV_COMPAT_SBIN); do \
	  rm -f '$(DESTDIR)$(sbindir)'/"$${pair#*:}" '$(DESTDIR)$(man8dir)'/"$${pair#*:}.8"; \
	done
	for pair in $(HV_COMPAT_UNITS); do \
	  rm -f '$(DESTDIR)$(systemdsystemunitdir)'/"$${pair#*:}"; \
	done

# The units as systemd reads them: no device dependencies, compatibility names, exposure.
TESTS += tests/unit/test-units.sh
dist_check_SCRIPTS += tests/unit/test-units.sh
