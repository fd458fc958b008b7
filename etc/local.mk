# SPDX-License-Identifier: GPL-2.0-or-later
# etc/: the commented default configuration (every key at its default), installed as
# $(sysconfdir)/hvguest/hvguest.conf, and its manual page.

hvguestconfdir = $(sysconfdir)/hvguest
hvguestconf_DATA = etc/hvguest.conf
EXTRA_DIST += etc/hvguest.conf.in
CLEANFILES += etc/hvguest.conf
dist_man_MANS += man/hvguest.conf.5

etc/hvguest.conf: $(top_srcdir)/etc/hvguest.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && \
	sed -e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@runstatedir[@]|$(runstatedir)|g' \
	    $< >$@.tmp && mv $@.tmp $@
