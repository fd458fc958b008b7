#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The generated units (systemd/*.service), read as systemd reads them:
#   - none depends on, or is ordered after, a device unit: a start job for a device that
#     never appears (off Hyper-V) holds the boot for the device timeout, and conditions are
#     checked only after such a job. Conditions that need no job are used instead;
#   - each executes the compatibility process name (pgrep -x hv_kvp_daemon), argv[0] ours;
#   - the sandbox scores at most the issue's limits in systemd-analyze security --offline
#     (skipped without systemd-analyze).
# tests/system/ shows the same units under systemd as PID 1.
set -u
b=${HVGUEST_BUILDDIR:-.}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

echo "1..15"
for spec in kvpd:hv_kvp_daemon:25:/dev/vmbus/hv_kvp vssd:hv_vss_daemon:50:/dev/vmbus/hv_vss \
	fcopyd:hv_fcopy_daemon:25:; do
	name=${spec%%:*}
	rest=${spec#*:}
	compat=${rest%%:*}
	rest=${rest#*:}
	limit=${rest%%:*}
	path=${rest#*:}
	unit=$b/systemd/hv-$name.service
	if [ ! -f "$unit" ]; then
		echo "Bail out! $unit not built"
		exit 1
	fi
	deps=$(grep -E '^(BindsTo|Requires|Requisite|Wants|After|PartOf)=.*\.device' "$unit")
	if [ -z "$deps" ]; then
		ok "hv-$name.service has no dependency on a device unit"
	else
		echo "$deps" | sed 's/^/# /'
		notok "hv-$name.service has no dependency on a device unit"
	fi
	if grep -qx 'ConditionVirtualization=microsoft' "$unit" &&
		{ [ -z "$path" ] || grep -qx "ConditionPathExists=$path" "$unit"; }; then
		ok "hv-$name.service is skipped by conditions outside Hyper-V${path:+ or without $path}"
	else
		notok "hv-$name.service is skipped by conditions outside Hyper-V${path:+ or without $path}"
	fi
	if grep -qE "^ExecStart=@/[^ ]*/$compat hv-$name( |$)" "$unit"; then
		ok "hv-$name.service runs as $compat with argv[0] hv-$name"
	else
		notok "hv-$name.service runs as $compat with argv[0] hv-$name"
	fi
	if ! grep -qx "Alias=$(echo "$compat" | tr _ -).service" "$unit"; then
		notok "hv-$name.service has Debian's name as an alias"
	else
		ok "hv-$name.service has Debian's name as an alias"
	fi
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		skip "hv-$name.service exposure <= $((limit / 10)).$((limit % 10))" "no systemd-analyze"
	elif out=$(systemd-analyze security --offline=yes --threshold="$limit" "$unit" 2>&1); then
		ok "hv-$name.service exposure <= $((limit / 10)).$((limit % 10)): $(echo "$out" |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
	else
		echo "$out" | grep -E 'Overall|✗' | sed 's/^/# /'
		notok "hv-$name.service exposure <= $((limit / 10)).$((limit % 10))"
	fi
done
