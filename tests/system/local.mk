# SPDX-License-Identifier: GPL-2.0-or-later
# tests/system: the installed units under a real systemd, in a booted Debian 12 container
# (tests/system/lib.bash). Not part of `make check`: they need root, systemd-nspawn and a
# Debian root (debootstrapped once, cached in HVGUEST_SYSTEM_CACHE, default
# tests/system/cache), and take a few minutes. `make check-system` runs them through the
# same TAP driver, so their .trs files count like every other test's.
# HVGUEST_DEBS=DIR installs the .debs of DIR in the container instead of `make install`.

SYSTEM_TESTS = tests/system/test-boot-no-devices tests/system/test-sim-host
EXTRA_DIST += $(SYSTEM_TESTS) tests/system/lib.bash tests/system/guest-lib.bash \
	tests/system/guest-boot-no-devices.bash tests/system/guest-sim-host.bash

# automake writes rules only for the tests of TESTS, so the TAP driver is called here the
# way its parallel harness calls it: one .log and one .trs per test.
.PHONY: check-system
check-system: all
	@rm -f $(SYSTEM_TESTS:=.log) $(SYSTEM_TESTS:=.trs); \
	for t in $(SYSTEM_TESTS); do \
	  if test -f "$$t"; then p="$$t"; else p="$(srcdir)/$$t"; fi; \
	  $(AM_TESTS_ENVIRONMENT) $(LOG_DRIVER) --test-name "$$t" --log-file "$$t.log" \
	    --trs-file "$$t.trs" --color-tests no --enable-hard-errors yes \
	    --expect-failure no -- $(LOG_COMPILER) "$$p" || exit 1; \
	done; \
	echo "check-system:"; cat $(SYSTEM_TESTS:=.trs) | sed -n 's/^:test-result: //p' | \
	  sort | uniq -c; \
	! grep -qE '^:test-result: (FAIL|ERROR|XPASS)' $(SYSTEM_TESTS:=.trs)
