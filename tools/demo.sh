#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make demo: the whole suite against the simulated Hyper-V host (hv-host-sim), in a
# temporary directory: hv-kvpd, hv-vssd and hv-fcopyd, then `hvguestctl status`.
#
# Design:
#   - The simulator reads its commands from a FIFO (fd 3), so the demo can act on the guest
#     side between two host requests (hv-kvp set, a write blocked by a freeze). After each
#     step it sends "echo @@sync N" and waits (bounded) until that line appears, then shows
#     the simulator's new output.
#   - VSS as root: the demo re-runs itself under `unshare -m` (a private mount namespace), so
#     the ext4 image it makes and loop-mounts is seen nowhere else and vanishes with it;
#     hv-vssd is scoped (scope=, include=) to that mount alone, and the plan is checked to
#     freeze exactly it before any FREEZE is sent. Without root (or without unshare or loop
#     devices) it shows the plan's dry run instead.
#   - Clean shutdown: everything it started is stopped by pid (trap), the mount undone and
#     the directory removed, so a second run does the same.
set -eu

builddir=${HVGUEST_BUILDDIR:-$(pwd)}
sim="$builddir/tools/hv-host-sim/hv-host-sim"
kvpd="$builddir/daemons/kvp/hv-kvpd"
vssd="$builddir/daemons/vss/hv-vssd"
fcopyd="$builddir/daemons/fcopy/hv-fcopyd"
hvkvp="$builddir/tools/hv-kvp/hv-kvp"
ctl="$builddir/tools/hvguestctl/hvguestctl"

# Root: into a private mount namespace first (the image is mounted only in there).
if [ "$(id -u)" = 0 ] && [ -z "${HVGUEST_DEMO_NS:-}" ] && command -v unshare >/dev/null &&
	command -v mkfs.ext4 >/dev/null && [ -e /dev/loop-control ] &&
	unshare -m --propagation private true 2>/dev/null; then
	HVGUEST_DEMO_NS=1 HVGUEST_BUILDDIR="$builddir" exec unshare -m --propagation private \
		"${SHELL:-/bin/sh}" "$0" "$@"
fi
vss_real=no
[ -n "${HVGUEST_DEMO_NS:-}" ] && vss_real=yes

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvguest-demo.XXXXXX")
pids=""
mounted=""
sync_n=0
shown=0

cleanup() {
	status=$?
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	exec 3>&- 2>/dev/null || true
	[ -n "${sim_pid:-}" ] && { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
	if [ -n "$mounted" ]; then
		fsfreeze -u "$mounted" 2>/dev/null || true # never left frozen, whatever happened
		umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Shows what the simulator printed since the last call (without the sync markers).
show_host() {
	total=$(wc -l <"$tmp/sim.out")
	if [ "$total" -gt "$shown" ]; then
		sed -n "$((shown + 1)),${total}p" "$tmp/sim.out" | grep -v '^@@sync' | sed 's/^/  host> /' || true
	fi
	shown=$total
}

# host CMD...: one simulator command, waited for (at most 30 s).
host() {
	sync_n=$((sync_n + 1))
	printf '%s\necho @@sync %d\n' "$*" "$sync_n" >&3
	i=0
	until grep -q "^@@sync $sync_n\$" "$tmp/sim.out"; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
			show_host
			echo "demo: the simulator did not finish: $*" >&2
			exit 1
		fi
		sleep 0.05
	done
	show_host
}

# Indents, and shows the demo's directory as $DEMO.
indent() { sed "s|$tmp|\$DEMO|g; s/^./  &/"; }

# guest PROGRAM ARGS...: runs it, shown as "guest$ program args" (args with blanks quoted).
guest() {
	line="guest\$ ${1##*/}"
	shift_first=$1
	shift
	for a in "$@"; do
		case $a in
		*" "*) line="$line \"$a\"" ;;
		*) line="$line $a" ;;
		esac
	done
	echo "$line" | indent
	"$shift_first" "$@" 2>&1 | indent
}

# ---------------------------------------------------------------- set-up
mkdir -p "$tmp/state" "$tmp/run" "$tmp/hooks" "$tmp/host" "$tmp/guest" "$tmp/scope"
owner=""
[ "$(id -u)" = 0 ] || owner="file-owner=$(id -u)
file-group=$(id -g)"
if [ $vss_real = yes ]; then
	truncate -s 32M "$tmp/data.img"
	mkfs.ext4 -q -F "$tmp/data.img" >/dev/null 2>&1
	mkdir -p "$tmp/scope/data"
	if mount -o loop -t ext4 "$tmp/data.img" "$tmp/scope/data"; then
		mounted="$tmp/scope/data"
	else
		echo "demo: cannot loop-mount an image here; VSS shows the plan's dry run" >&2
		vss_real=no
	fi
fi
if [ $vss_real = yes ]; then
	cat >"$tmp/hooks/50-demo" <<'HOOK'
#!/bin/sh
echo "demo hook: $1 (an application would flush its data here)"
HOOK
	chmod 0755 "$tmp/hooks/50-demo"
fi
cat >"$tmp/hvguest.conf" <<CONF
[kvp]
device=unix:$tmp/kvp.sock
state-dir=$tmp/state
run-dir=$tmp/run
log-target=stderr
[vss]
device=unix:$tmp/vss.sock
state-dir=$tmp/state
run-dir=$tmp/run
log-target=stderr
log-level=info
scope=$tmp/scope
include=$tmp/scope/*
hooks-dir=$tmp/hooks
[fcopy]
device=unix:$tmp/fcopy.sock
state-dir=$tmp/state
run-dir=$tmp/run
log-target=stderr
log-level=info
transport=chardev
$owner
CONF

echo "hvguest demo: the simulated Hyper-V host, hv-kvpd, hv-vssd and hv-fcopyd in \$DEMO=$tmp"
mkfifo "$tmp/host.fifo"
"$sim" --kvp "$tmp/kvp.sock" --vss "$tmp/vss.sock" --fcopy "$tmp/fcopy.sock" \
	--script - <"$tmp/host.fifo" >"$tmp/sim.out" 2>&1 &
sim_pid=$!
exec 3>"$tmp/host.fifo"
i=0
while [ ! -S "$tmp/fcopy.sock" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "demo: the simulator did not start" >&2; exit 1; }
	sleep 0.05
done
"$kvpd" -n --config "$tmp/hvguest.conf" 2>"$tmp/kvpd.log" &
pids="$pids $!"
"$vssd" -n --config "$tmp/hvguest.conf" 2>"$tmp/vssd.log" &
pids="$pids $!"
"$fcopyd" -n --config "$tmp/hvguest.conf" 2>"$tmp/fcopyd.log" &
pids="$pids $!"
host wait kvp 10
host wait vss 10
host wait fcopy 10

say "PS> Get-VMIntegrationService -VMName demo"
host status

# ---------------------------------------------------------------- KVP
say "KVP: the guest's intrinsic items (auto pool), as the host reads them"
host kvp list auto
say "KVP: the host writes into the external pool; hv-kvp reads it in the guest"
host kvp set external DemoFromHost "\"written by the host\""
guest "$hvkvp" -c "$tmp/hvguest.conf" --pool external get DemoFromHost
say "KVP: hv-kvp writes into the guest pool; the host reads it"
guest "$hvkvp" -c "$tmp/hvguest.conf" --pool guest set DemoFromGuest "written in the guest"
host kvp get guest DemoFromGuest

# ---------------------------------------------------------------- VSS
if [ $vss_real = yes ]; then
	say "VSS: the freeze plan (hvguestctl plan = hv-vssd --plan): only the demo's own image"
	printf 'guest$ hvguestctl -c $DEMO/hvguest.conf plan | grep -v ^skip\n' | indent
	"$ctl" -c "$tmp/hvguest.conf" plan | grep -v '^skip' | indent
	planned=$("$ctl" -c "$tmp/hvguest.conf" plan | grep -c '^freeze' || true)
	if [ "$planned" != 1 ] || ! "$ctl" -c "$tmp/hvguest.conf" plan | grep -q "^freeze	1	$mounted	"; then
		echo "demo: the plan is not exactly the demo's image; not freezing anything" >&2
		exit 1
	fi
	say "VSS: the host starts a backup (FREEZE); the freeze hook runs first"
	host vss freeze
	grep 'hook 50-demo freeze' "$tmp/vssd.log" | sed 's/^/guest log: /' | indent || true
	"$ctl" -c "$tmp/hvguest.conf" status | sed -n '/^VSS/,/^$/p' | indent
	say "VSS: a write in the frozen image blocks ..."
	sh -c 'echo "written during the backup" >"$1/during-backup.txt"' sh "$mounted" &
	writer=$!
	pids="$pids $writer"
	sleep 1
	if kill -0 "$writer" 2>/dev/null; then
		echo "  the write is still waiting after 1 s (the file system is frozen)"
	else
		echo "  unexpected: the write finished while frozen" >&2
	fi
	say "VSS: ... until the host ends the backup (THAW); then it completes"
	host vss thaw
	wait "$writer" && echo "  the write completed: $(cat "$mounted/during-backup.txt")"
	say "VSS: the backup record"
	sleep 0.3
	grep -E 'hook 50-demo thaw|Backup finished' "$tmp/vssd.log" | sed 's/^/guest log: /' | indent || true
else
	say "VSS: the freeze plan's dry run (hv-vssd --plan for this machine; nothing is frozen)"
	printf '[vss]\nrun-dir=/run/hvguest\n' >"$tmp/plan.conf" # as installed
	printf 'guest$ hv-vssd --plan | grep -v "^skip.*pseudo"\n' | indent
	"$vssd" --plan -c "$tmp/plan.conf" | grep -v '^skip.*pseudo' | indent
	echo "  Not root: nothing is frozen. Run as root, the demo loop-mounts an ext4 image in a"
	echo "  private mount namespace, scopes hv-vssd to it, and shows the host's FREEZE with a"
	echo "  freeze hook running, a write in the image blocking until THAW and then completing,"
	echo "  and the backup record."
fi

# ---------------------------------------------------------------- fcopy
say "fcopy: the host copies a file with a non-ASCII name into a new directory (CREATE_PATH)"
head -c 1048576 /dev/urandom >"$tmp/host/demo-src.bin"
host fcopy copy "$tmp/host/demo-src.bin" "$tmp/guest/new-dir" "\"Grüße ☃ données.bin\"" --create-path
src_sum=$(sha256sum <"$tmp/host/demo-src.bin" | cut -d' ' -f1)
dst_sum=$(sha256sum <"$tmp/guest/new-dir/Grüße ☃ données.bin" | cut -d' ' -f1)
echo "  host  SHA-256 $src_sum"
echo "  guest SHA-256 $dst_sum  \$DEMO/guest/new-dir/Grüße ☃ données.bin"
[ "$src_sum" = "$dst_sum" ] && echo "  the copy arrived whole"
grep 'copy completed' "$tmp/fcopyd.log" | sed 's/^/journal record: /' | indent || true

say "PS> Get-VMIntegrationService -VMName demo"
host status

say "guest# hvguestctl status"
sleep 0.3 # the daemons publish their state at most every 250 ms
"$ctl" -c "$tmp/hvguest.conf" status | indent || true
# HVGUEST_DEMO_JSON=FILE keeps the same view as JSON (hvguestctl(8), schema 1).
[ -z "${HVGUEST_DEMO_JSON:-}" ] || "$ctl" -c "$tmp/hvguest.conf" status --json >"$HVGUEST_DEMO_JSON" || true

echo
echo "demo finished in $(($(date +%s) - start)) s; stopping the daemons and removing \$DEMO"
