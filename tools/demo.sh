#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make demo: the simulated Hyper-V host and the real hv-kvpd, in a temporary directory.
# Shows the integration-service table as Get-VMIntegrationService would, and the guest's
# auto-pool items as the host reads them, then shuts both down cleanly.
set -eu

builddir=${HVGUEST_BUILDDIR:-$(pwd)}
sim="$builddir/tools/hv-host-sim/hv-host-sim"
kvpd="$builddir/daemons/kvp/hv-kvpd"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvguest-demo.XXXXXX")
sim_pid=""
kvpd_pid=""

cleanup() {
	[ -n "$kvpd_pid" ] && kill "$kvpd_pid" 2>/dev/null && wait "$kvpd_pid" 2>/dev/null
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/state" "$tmp/run"
cat >"$tmp/hvguest.conf" <<CONF
[kvp]
device=unix:$tmp/kvp.sock
state-dir=$tmp/state
run-dir=$tmp/run
log-target=stderr
CONF

cat >"$tmp/demo.script" <<'SCRIPT'
echo == Waiting for hv-kvpd to register with the host
wait kvp 10
echo
echo "== PS> Get-VMIntegrationService -VMName demo"
status
echo
echo "== The guest's intrinsic items (auto pool), as the host reads them"
kvp list auto
echo
echo "== One host request in detail"
kvp enumerate auto 5
echo
echo "== Stopping hv-kvpd (SIGTERM)"
wait-gone kvp 10
status
SCRIPT

echo "hvguest demo: simulated host and hv-kvpd in $tmp"
"$sim" --kvp "$tmp/kvp.sock" --script "$tmp/demo.script" >"$tmp/sim.out" 2>&1 &
sim_pid=$!
# Follow the simulator's output; it creates its sockets before it runs the script.
tail -n +1 -f "$tmp/sim.out" --pid="$sim_pid" &
tail_pid=$!
i=0
while [ ! -S "$tmp/kvp.sock" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "demo: the simulator did not start" >&2; exit 1; }
	sleep 0.05
done
"$kvpd" -n --config "$tmp/hvguest.conf" 2>"$tmp/kvpd.log" &
kvpd_pid=$!
# Stop the daemon once the host has asked its questions, so the host sees it go.
i=0
until grep -q "^== Stopping hv-kvpd" "$tmp/sim.out"; do
	i=$((i + 1))
	if [ $i -gt 400 ] || ! kill -0 "$sim_pid" 2>/dev/null; then break; fi
	sleep 0.05
done
kill -TERM "$kvpd_pid" 2>/dev/null || true
wait "$kvpd_pid" || true
kvpd_pid=""

status=0
wait "$sim_pid" || status=$?
sim_pid=""
wait "$tail_pid" 2>/dev/null || true
echo
echo "== hv-kvpd's log"
sed 's/^/  /' "$tmp/kvpd.log"
exit $status
