#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the container of test-boot-no-devices: not Hyper-V, no /dev/vmbus, our units
# enabled. The boot must finish at once, with nothing of ours queued, failed or restarting.
. /systest/guest-lib.bash

units="hv-kvpd.service hv-vssd.service hv-fcopyd.service"

start=$(date +%s.%N)
state=$(timeout 20 systemctl is-system-running --wait)
rc=$?
answered=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "is-system-running: $state (rc $rc)"
if [ $rc -ne 124 ] && { [ "$state" = running ] || [ "$state" = degraded ]; }; then
	ok "systemctl is-system-running --wait answers within 20 s ($state after ${answered}s)"
else
	not_ok "systemctl is-system-running --wait answers within 20 s (rc $rc, '$state')"
fi
diag "boot: $(systemd-analyze time 2>&1 | head -1)"
failed=$(systemctl --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')
[ -z "$failed" ] || diag "failed units (not ours, checked below): $failed"

jobs=$(systemctl list-jobs --no-legend)
echo "jobs: $jobs"
if echo "$jobs" | grep -E 'hv-|vmbus|\.device'; then
	not_ok "no job of ours or of a device is queued"
else
	ok "no job of ours or of a device is queued"
fi

for u in $units; do
	check "$u is enabled" prop_is "$u" UnitFileState enabled
	check "$u was skipped by its conditions, not started" prop_is "$u" ConditionResult no
	check "$u is inactive, not failed" prop_is "$u" ActiveState inactive
	check "$u never restarted" prop_is "$u" NRestarts 0
done
for pair in hv-kvp-daemon:hv-kvpd hv-vss-daemon:hv-vssd hv-fcopy-daemon:hv-fcopyd; do
	check "Debian's name ${pair%%:*}.service is ${pair#*:}.service" \
		prop_is "${pair%%:*}.service" Id "${pair#*:}.service"
done
for name in hv-kvpd hv-vssd hv-fcopyd hv_kvp_daemon hv_vss_daemon hv_fcopy_daemon; do
	check "no process named $name" bash -c "! pgrep -x $name"
done
