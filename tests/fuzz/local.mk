# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz targets for every parser of outside input in lib/vmbus-user's message layer.
#
# Always: each target is linked with the replay driver tests/fuzz/fuzz-main.c and run by
# `make check`, which replays the checked-in corpus tests/fuzz/corpus/<target>/.
# With a libFuzzer-capable compiler (clang): tests/fuzz/<target>-libfuzzer as well, built
# from the library's message sources with coverage instrumentation, and
# `make fuzz-smoke [FUZZ_SECONDS=n]` runs each for n seconds on a scratch copy of its corpus
# and fails on the first crash; `make fuzz-long [FUZZ_SECONDS=n]` is the long campaign
# (10 minutes per target by default).

FUZZ_TARGETS = fuzz-kvp-msg fuzz-utf16 fuzz-icmsg fuzz-vss-fcopy-msg fuzz-kvp-pool
FUZZ_TARGETS += fuzz-vss-plan
FUZZ_TARGETS += fuzz-fcopy-host-msg
FUZZ_TARGETS += fuzz-ring
FUZZ_REPLAY_BINS = \
	tests/fuzz/fuzz-kvp-msg \
	tests/fuzz/fuzz-utf16 \
	tests/fuzz/fuzz-icmsg \
	tests/fuzz/fuzz-vss-fcopy-msg \
	tests/fuzz/fuzz-kvp-pool
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-fcopy-host-msg
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-ring

check_PROGRAMS += $(FUZZ_REPLAY_BINS)
TESTS += $(FUZZ_REPLAY_BINS)

FUZZ_REPLAY_LIBS = lib/vmbus-user/libvmbus-user-internal.la

tests_fuzz_fuzz_kvp_msg_SOURCES = tests/fuzz/fuzz-kvp-msg.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_kvp_msg_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_fuzz_utf16_SOURCES = tests/fuzz/fuzz-utf16.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_utf16_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_fuzz_icmsg_SOURCES = tests/fuzz/fuzz-icmsg.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_icmsg_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_fuzz_vss_fcopy_msg_SOURCES = tests/fuzz/fuzz-vss-fcopy-msg.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_vss_fcopy_msg_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_fuzz_kvp_pool_SOURCES = tests/fuzz/fuzz-kvp-pool.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_kvp_pool_LDADD = $(FUZZ_REPLAY_LIBS)

# hv-vssd's mountinfo -> freeze plan path (daemons/vss/plan.c, libmount).
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-vss-plan
tests_fuzz_fuzz_vss_plan_SOURCES = tests/fuzz/fuzz-vss-plan.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_vss_plan_CFLAGS = $(AM_CFLAGS) $(LIBMOUNT_CFLAGS)
tests_fuzz_fuzz_vss_plan_LDADD = daemons/vss/libvssd.la $(LIBMOUNT_LIBS)
tests_fuzz_fuzz_fcopy_host_msg_SOURCES = tests/fuzz/fuzz-fcopy-host-msg.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_fcopy_host_msg_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_fuzz_ring_SOURCES = tests/fuzz/fuzz-ring.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_ring_LDADD = $(FUZZ_REPLAY_LIBS)

# The daemons' parsers of files from outside: resolv.conf (daemons/kvp/dns.c), os-release and
# the kernel release (daemons/kvp/os-info.c), the configuration file (daemons/common/conf.c).
# Their sources are listed here rather than linked from the convenience libraries, so that
# the libFuzzer builds instrument them and the replay builds pull in nothing else.
FUZZ_TARGETS += fuzz-resolv-conf fuzz-os-release fuzz-conf
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-resolv-conf tests/fuzz/fuzz-os-release tests/fuzz/fuzz-conf
FUZZ_DAEMON_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemons/common
FUZZ_RESOLV_CONF_CFLAGS = $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS)
FUZZ_RESOLV_CONF_LIBS = $(GLIB_LIBS) $(LIBSYSTEMD_LIBS)
tests_fuzz_fuzz_resolv_conf_SOURCES = tests/fuzz/fuzz-resolv-conf.c daemons/kvp/dns.c \
	daemons/kvp/netconf-bus.c \
	daemons/common/read-file.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_resolv_conf_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_resolv_conf_CFLAGS = $(AM_CFLAGS) $(FUZZ_RESOLV_CONF_CFLAGS)
tests_fuzz_fuzz_resolv_conf_LDADD = $(FUZZ_RESOLV_CONF_LIBS)
tests_fuzz_fuzz_os_release_SOURCES = tests/fuzz/fuzz-os-release.c daemons/kvp/os-info.c \
	daemons/common/read-file.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_os_release_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c daemons/common/conf.c \
	daemons/common/read-file.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(GLIB_LIBS)

# hv-kvpd's network managers' state files (daemons/kvp/dhcp.c), hv-vssd's crash record
# (daemons/vss/state.c) and its hooks directory listing (daemons/vss/hooks.c, fed a real
# scratch directory since it reads one by path).
FUZZ_TARGETS += fuzz-dhcp-state fuzz-vss-state fuzz-vss-hooks-dir
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-dhcp-state tests/fuzz/fuzz-vss-state \
	tests/fuzz/fuzz-vss-hooks-dir
FUZZ_HOOKS_SOURCES = daemons/vss/hooks.c daemons/common/hvd-spawn.c daemons/common/log.c
tests_fuzz_fuzz_dhcp_state_SOURCES = tests/fuzz/fuzz-dhcp-state.c daemons/kvp/dhcp.c \
	daemons/common/read-file.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_dhcp_state_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_dhcp_state_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_fuzz_fuzz_dhcp_state_LDADD = $(GLIB_LIBS)
tests_fuzz_fuzz_vss_state_SOURCES = tests/fuzz/fuzz-vss-state.c daemons/vss/state.c \
	daemons/common/read-file.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_vss_state_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_SOURCES = tests/fuzz/fuzz-vss-hooks-dir.c $(FUZZ_HOOKS_SOURCES) \
	tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_vss_hooks_dir_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_CFLAGS = $(AM_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_LDADD = $(LIBSYSTEMD_LIBS)

# hv-kvpd's SET_IP_INFO parser (daemons/kvp/netconf-parse.c): the host's address lists.
FUZZ_TARGETS += fuzz-netconf-parse
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-netconf-parse
tests_fuzz_fuzz_netconf_parse_SOURCES = tests/fuzz/fuzz-netconf-parse.c \
	daemons/kvp/netconf-parse.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_netconf_parse_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
# The library's UIO discovery over sysfs text (lib/vmbus-user/uio.c: class_id, uioN, map0
# size), fed a scratch tree; and hvguestctl status reading the daemons' state files
# (tools/hvguestctl/status.c: JSON another program wrote).
FUZZ_TARGETS += fuzz-uio-sysfs fuzz-hvguestctl-status
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-uio-sysfs tests/fuzz/fuzz-hvguestctl-status
tests_fuzz_fuzz_uio_sysfs_SOURCES = tests/fuzz/fuzz-uio-sysfs.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_uio_sysfs_LDADD = $(FUZZ_REPLAY_LIBS)
FUZZ_HVGUESTCTL_CPPFLAGS = $(tools_hvguestctl_hvguestctl_CPPFLAGS)
FUZZ_HVGUESTCTL_CFLAGS = $(GLIB_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(LIBMOUNT_CFLAGS) $(JSONC_CFLAGS)
FUZZ_HVGUESTCTL_LIBS = $(tools_hvguestctl_hvguestctl_LDADD)
tests_fuzz_fuzz_hvguestctl_status_SOURCES = tests/fuzz/fuzz-hvguestctl-status.c \
	tools/hvguestctl/status.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_hvguestctl_status_CPPFLAGS = $(FUZZ_HVGUESTCTL_CPPFLAGS)
tests_fuzz_fuzz_hvguestctl_status_CFLAGS = $(AM_CFLAGS) $(FUZZ_HVGUESTCTL_CFLAGS)
tests_fuzz_fuzz_hvguestctl_status_LDADD = $(FUZZ_HVGUESTCTL_LIBS)
# The simulated host's ring code against the library's on hostile rings (differential).
FUZZ_TARGETS += fuzz-host-ring
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-host-ring
tests_fuzz_fuzz_host_ring_SOURCES = tests/fuzz/fuzz-host-ring.c tools/hv-host-sim/host-ring.c \
	tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_host_ring_LDADD = $(FUZZ_REPLAY_LIBS)
# Each daemon's own section: its key table and per-key checks (fuzz-conf has a generic table).
FUZZ_TARGETS += fuzz-daemon-conf
FUZZ_REPLAY_BINS += tests/fuzz/fuzz-daemon-conf
tests_fuzz_fuzz_daemon_conf_SOURCES = tests/fuzz/fuzz-daemon-conf.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_daemon_conf_CPPFLAGS = $(FUZZ_HVGUESTCTL_CPPFLAGS)
tests_fuzz_fuzz_daemon_conf_CFLAGS = $(AM_CFLAGS) $(FUZZ_HVGUESTCTL_CFLAGS)
tests_fuzz_fuzz_daemon_conf_LDADD = $(FUZZ_HVGUESTCTL_LIBS)

EXTRA_DIST += tests/fuzz/fuzz-main.c tests/fuzz/fuzz.h tests/fuzz/corpus

FUZZ_SECONDS = 20

if HAVE_LIBFUZZER
# The library's message sources are compiled into each binary so that libFuzzer sees
# their coverage.
FUZZ_LIB_SOURCES = \
	lib/vmbus-user/service.c \
	lib/vmbus-user/utf16.c \
	lib/vmbus-user/icmsg.c \
	lib/vmbus-user/kvp-msg.c \
	lib/vmbus-user/vss-msg.c \
	lib/vmbus-user/fcopy-msg.c \
	lib/vmbus-user/fcopy-host-msg.c
FUZZ_LF_CFLAGS = $(AM_CFLAGS) -DVMU_BUILDING_LIBRARY -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_LF_LINKFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LIBFUZZER_BINS = \
	tests/fuzz/fuzz-kvp-msg-libfuzzer \
	tests/fuzz/fuzz-utf16-libfuzzer \
	tests/fuzz/fuzz-icmsg-libfuzzer \
	tests/fuzz/fuzz-vss-fcopy-msg-libfuzzer \
	tests/fuzz/fuzz-kvp-pool-libfuzzer
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-fcopy-host-msg-libfuzzer
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-ring-libfuzzer
check_PROGRAMS += $(FUZZ_LIBFUZZER_BINS)

tests_fuzz_fuzz_kvp_msg_libfuzzer_SOURCES = tests/fuzz/fuzz-kvp-msg.c $(FUZZ_LIB_SOURCES)
tests_fuzz_fuzz_kvp_msg_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_kvp_msg_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_utf16_libfuzzer_SOURCES = tests/fuzz/fuzz-utf16.c $(FUZZ_LIB_SOURCES)
tests_fuzz_fuzz_utf16_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_utf16_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_icmsg_libfuzzer_SOURCES = tests/fuzz/fuzz-icmsg.c $(FUZZ_LIB_SOURCES)
tests_fuzz_fuzz_icmsg_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_icmsg_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_vss_fcopy_msg_libfuzzer_SOURCES = tests/fuzz/fuzz-vss-fcopy-msg.c \
	$(FUZZ_LIB_SOURCES)
tests_fuzz_fuzz_vss_fcopy_msg_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_vss_fcopy_msg_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_kvp_pool_libfuzzer_SOURCES = tests/fuzz/fuzz-kvp-pool.c $(FUZZ_LIB_SOURCES) \
	lib/vmbus-user/kvp-pool.c
tests_fuzz_fuzz_kvp_pool_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_kvp_pool_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-vss-plan-libfuzzer
tests_fuzz_fuzz_vss_plan_libfuzzer_SOURCES = tests/fuzz/fuzz-vss-plan.c daemons/vss/plan.c
tests_fuzz_fuzz_vss_plan_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(LIBMOUNT_CFLAGS)
tests_fuzz_fuzz_vss_plan_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_vss_plan_libfuzzer_LDADD = $(LIBMOUNT_LIBS)
tests_fuzz_fuzz_fcopy_host_msg_libfuzzer_SOURCES = tests/fuzz/fuzz-fcopy-host-msg.c \
	$(FUZZ_LIB_SOURCES)
tests_fuzz_fuzz_fcopy_host_msg_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_fcopy_host_msg_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_ring_libfuzzer_SOURCES = tests/fuzz/fuzz-ring.c lib/vmbus-user/ring.c
tests_fuzz_fuzz_ring_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_ring_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)

FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-resolv-conf-libfuzzer \
	tests/fuzz/fuzz-os-release-libfuzzer tests/fuzz/fuzz-conf-libfuzzer
tests_fuzz_fuzz_resolv_conf_libfuzzer_SOURCES = tests/fuzz/fuzz-resolv-conf.c daemons/kvp/dns.c \
	daemons/kvp/netconf-bus.c \
	daemons/common/read-file.c
tests_fuzz_fuzz_resolv_conf_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_resolv_conf_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(FUZZ_RESOLV_CONF_CFLAGS)
tests_fuzz_fuzz_resolv_conf_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_resolv_conf_libfuzzer_LDADD = $(FUZZ_RESOLV_CONF_LIBS)
tests_fuzz_fuzz_os_release_libfuzzer_SOURCES = tests/fuzz/fuzz-os-release.c daemons/kvp/os-info.c \
	daemons/common/read-file.c
tests_fuzz_fuzz_os_release_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_os_release_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_os_release_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_conf_libfuzzer_SOURCES = tests/fuzz/fuzz-conf.c daemons/common/conf.c \
	daemons/common/read-file.c
tests_fuzz_fuzz_conf_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_conf_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(GLIB_CFLAGS)
tests_fuzz_fuzz_conf_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_conf_libfuzzer_LDADD = $(GLIB_LIBS)

FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-dhcp-state-libfuzzer tests/fuzz/fuzz-vss-state-libfuzzer \
	tests/fuzz/fuzz-vss-hooks-dir-libfuzzer
tests_fuzz_fuzz_dhcp_state_libfuzzer_SOURCES = tests/fuzz/fuzz-dhcp-state.c daemons/kvp/dhcp.c \
	daemons/common/read-file.c
tests_fuzz_fuzz_dhcp_state_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_dhcp_state_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(GLIB_CFLAGS)
tests_fuzz_fuzz_dhcp_state_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_dhcp_state_libfuzzer_LDADD = $(GLIB_LIBS)
tests_fuzz_fuzz_vss_state_libfuzzer_SOURCES = tests/fuzz/fuzz-vss-state.c daemons/vss/state.c \
	daemons/common/read-file.c
tests_fuzz_fuzz_vss_state_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_vss_state_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_vss_state_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_libfuzzer_SOURCES = tests/fuzz/fuzz-vss-hooks-dir.c \
	$(FUZZ_HOOKS_SOURCES)
tests_fuzz_fuzz_vss_hooks_dir_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_vss_hooks_dir_libfuzzer_LDADD = $(LIBSYSTEMD_LIBS)

FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-netconf-parse-libfuzzer
tests_fuzz_fuzz_netconf_parse_libfuzzer_SOURCES = tests/fuzz/fuzz-netconf-parse.c \
	daemons/kvp/netconf-parse.c
tests_fuzz_fuzz_netconf_parse_libfuzzer_CPPFLAGS = $(FUZZ_DAEMON_CPPFLAGS)
tests_fuzz_fuzz_netconf_parse_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_netconf_parse_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-uio-sysfs-libfuzzer \
	tests/fuzz/fuzz-hvguestctl-status-libfuzzer
tests_fuzz_fuzz_uio_sysfs_libfuzzer_SOURCES = tests/fuzz/fuzz-uio-sysfs.c $(FUZZ_LIB_SOURCES) \
	lib/vmbus-user/uio.c lib/vmbus-user/ring.c
tests_fuzz_fuzz_uio_sysfs_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_uio_sysfs_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
# status.c is instrumented; the daemons' libraries it reads configs through are linked as built.
tests_fuzz_fuzz_hvguestctl_status_libfuzzer_SOURCES = tests/fuzz/fuzz-hvguestctl-status.c \
	tools/hvguestctl/status.c
tests_fuzz_fuzz_hvguestctl_status_libfuzzer_CPPFLAGS = $(FUZZ_HVGUESTCTL_CPPFLAGS)
tests_fuzz_fuzz_hvguestctl_status_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(FUZZ_HVGUESTCTL_CFLAGS)
tests_fuzz_fuzz_hvguestctl_status_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_hvguestctl_status_libfuzzer_LDADD = $(FUZZ_HVGUESTCTL_LIBS)
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-host-ring-libfuzzer
tests_fuzz_fuzz_host_ring_libfuzzer_SOURCES = tests/fuzz/fuzz-host-ring.c lib/vmbus-user/ring.c \
	tools/hv-host-sim/host-ring.c
tests_fuzz_fuzz_host_ring_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS)
tests_fuzz_fuzz_host_ring_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
# The loader and the daemons' key tables and checks are instrumented; the rest is linked.
FUZZ_LIBFUZZER_BINS += tests/fuzz/fuzz-daemon-conf-libfuzzer
tests_fuzz_fuzz_daemon_conf_libfuzzer_SOURCES = tests/fuzz/fuzz-daemon-conf.c \
	daemons/common/conf.c daemons/common/hvd-keys.c daemons/common/read-file.c \
	daemons/fcopy/fcopyd.c daemons/vss/vssd.c daemons/kvp/kvpd.c daemons/kvp/kvp-keys.c
tests_fuzz_fuzz_daemon_conf_libfuzzer_CPPFLAGS = $(FUZZ_HVGUESTCTL_CPPFLAGS)
tests_fuzz_fuzz_daemon_conf_libfuzzer_CFLAGS = $(FUZZ_LF_CFLAGS) $(FUZZ_HVGUESTCTL_CFLAGS)
tests_fuzz_fuzz_daemon_conf_libfuzzer_LDFLAGS = $(FUZZ_LF_LINKFLAGS)
tests_fuzz_fuzz_daemon_conf_libfuzzer_LDADD = $(FUZZ_HVGUESTCTL_LIBS)

# Every target runs even after one fails; tests/fuzz/smoke-passed and smoke-failed list the
# targets, one per line, for CI's summary.
fuzz-smoke: $(FUZZ_LIBFUZZER_BINS)
	$(AM_V_at)rm -f tests/fuzz/smoke-passed tests/fuzz/smoke-failed; \
	touch tests/fuzz/smoke-passed tests/fuzz/smoke-failed; failed=0; \
	for t in $(FUZZ_TARGETS); do \
		work=`mktemp -d` || exit 1; \
		cp -R $(srcdir)/tests/fuzz/corpus/$$t/. "$$work/" || { rm -rf "$$work"; exit 1; }; \
		echo "  FUZZ     $$t for $(FUZZ_SECONDS)s"; \
		./tests/fuzz/$$t-libfuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			-artifact_prefix=tests/fuzz/$$t- "$$work" >tests/fuzz/$$t-smoke.log 2>&1; \
		rc=$$?; rm -rf "$$work"; \
		if test $$rc -ne 0; then \
			tail -n 40 tests/fuzz/$$t-smoke.log; \
			echo "fuzz-smoke: $$t found a crash (exit $$rc), see tests/fuzz/$$t-smoke.log"; \
			echo $$t >>tests/fuzz/smoke-failed; failed=1; \
		else \
			echo $$t >>tests/fuzz/smoke-passed; \
		fi; \
	done; \
	exit $$failed

# The standing campaign (issue 8): every target for FUZZ_SECONDS each, 10 minutes unless
# FUZZ_SECONDS is given on the command line, new inputs kept in tests/fuzz/long/<target>/new
# (never in the tree), one line per target with execs, corpus size and crashes; fails when
# any target crashed. See tests/fuzz/fuzz-long.sh.
FUZZ_LONG_SECONDS = $(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)
fuzz-long: $(FUZZ_LIBFUZZER_BINS)
	$(AM_V_at)$(SHELL) $(srcdir)/tests/fuzz/fuzz-long.sh $(FUZZ_LONG_SECONDS) \
		$(srcdir)/tests/fuzz/corpus tests/fuzz tests/fuzz/long $(FUZZ_TARGETS)
else
fuzz-smoke fuzz-long:
	@echo "$@: the compiler has no libFuzzer (configure with CC=clang); nothing to do"
endif

EXTRA_DIST += tests/fuzz/fuzz-long.sh
CLEANFILES += tests/fuzz/*-smoke.log tests/fuzz/smoke-passed tests/fuzz/smoke-failed
clean-local: clean-fuzz-long
clean-fuzz-long:
	-rm -rf tests/fuzz/long
.PHONY: fuzz-smoke fuzz-long clean-fuzz-long
