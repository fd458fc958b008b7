# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared by the system tests (sourced): a Debian 12 root with hvguest installed, booted with
# systemd as PID 1 in systemd-nspawn. Nothing runs on the host's systemd: the container is
# started with --register=no --keep-unit, and a oneshot-like runner unit inside it runs the
# scenario's guest script, which writes TAP lines into /systest/result.tap and powers the
# container off. The host then prints those lines (plus its own) as this test's TAP.
#
# The root comes from a tarball made once by debootstrap (--variant=minbase, no
# recommends) and kept in $HVGUEST_SYSTEM_CACHE (default: the build tree's
# tests/system/cache). hvguest is installed with `make install DESTDIR=ROOT` from the build
# tree, or, when $HVGUEST_DEBS names a directory of .deb files, with dpkg inside the root.
#
# The container never outlives the test: it is killed by pid (TERM, then KILL after a
# deadline) in the EXIT trap, as is everything else this file starts.

set -uo pipefail

SYS_BUILDDIR=${HVGUEST_BUILDDIR:?HVGUEST_BUILDDIR must name the build tree}
SYS_SRCDIR=${HVGUEST_SRCDIR:-$SYS_BUILDDIR}
SYS_CACHE=${HVGUEST_SYSTEM_CACHE:-$SYS_BUILDDIR/tests/system/cache}
SYS_MIRROR=${HVGUEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# systemd as PID 1 and what the daemons and the tests link or call; systemd-resolved (and
# the bus it needs) for hv-kvpd's DNS query. dbus.service and dbus.socket are masked in the
# root: dbus.service hangs in start inside such a container here, so the test that needs
# the bus starts dbus-daemon itself.
SYS_PACKAGES=systemd,systemd-sysv,iproute2,procps,e2fsprogs,util-linux,mount,libglib2.0-0
SYS_PACKAGES=$SYS_PACKAGES,libnl-3-200,libnl-route-3-200,libmount1,libjson-c5,libsystemd0
SYS_PACKAGES=$SYS_PACKAGES,dbus,systemd-resolved
# With packages to install, the root starts as a machine running Debian's hyperv-daemons, which
# ours replace (Conflicts/Replaces/Provides: dpkg removes it in favour of hvguest).
[ -z "${HVGUEST_DEBS:-}" ] || SYS_PACKAGES=$SYS_PACKAGES,hyperv-daemons
# The cache is keyed by the package list: changing it makes a new root.
SYS_TARBALL=$SYS_CACHE/bookworm-$(echo "$SYS_PACKAGES" | md5sum | cut -c1-8).tar.gz

SYS_N=0
SYS_FAILED=0
SYS_ROOT=
SYS_WORK=
SYS_NSPAWN_PID=
SYS_LOOP=

tap_ok() {
	SYS_N=$((SYS_N + 1))
	echo "ok $SYS_N - $*"
}
tap_not_ok() {
	SYS_N=$((SYS_N + 1))
	SYS_FAILED=1
	echo "not ok $SYS_N - $*"
}
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
bail_out() {
	echo "Bail out! $*"
	exit 99
}

sys_cleanup() {
	if [ -n "$SYS_NSPAWN_PID" ]; then
		sys_kill_container
	fi
	if [ -n "$SYS_LOOP" ]; then
		losetup -d "$SYS_LOOP" 2>/dev/null
		SYS_LOOP=
	fi
	if [ -n "$SYS_WORK" ] && [ -d "$SYS_WORK" ] && [ -z "${HVGUEST_KEEP_TMP:-}" ]; then
		# nspawn's mounts lived in its own namespace; never cross into a mount anyway.
		if ! findmnt -rn -o TARGET | grep -q "^$SYS_WORK"; then
			rm -rf --one-file-system "$SYS_WORK"
		fi
	fi
}

sys_require() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (systemd-nspawn boots a container)"
	command -v systemd-nspawn >/dev/null || skip_all "systemd-nspawn missing (systemd-container)"
	[ -f "$SYS_TARBALL" ] || command -v debootstrap >/dev/null ||
		skip_all "no cached root at $SYS_TARBALL and no debootstrap to make one"
	trap sys_cleanup EXIT
	trap 'exit 1' INT TERM
}

# The cached Debian 12 root, made once (a few minutes with a mirror at hand).
sys_tarball() {
	local tmp
	[ -f "$SYS_TARBALL" ] && return 0
	mkdir -p "$SYS_CACHE" || return 1
	tmp=$(mktemp -d "$SYS_CACHE/debootstrap.XXXXXX") || return 1
	echo "# debootstrap bookworm into $tmp (cached as $SYS_TARBALL)"
	if ! debootstrap --variant=minbase --include="$SYS_PACKAGES" bookworm "$tmp/root" \
		"$SYS_MIRROR" >"$tmp/debootstrap.log" 2>&1; then
		sed 's/^/# /' "$tmp/debootstrap.log" | tail -20
		rm -rf --one-file-system "$tmp"
		return 1
	fi
	tar -C "$tmp/root" -czf "$tmp/root.tar.gz" . && mv "$tmp/root.tar.gz" "$SYS_TARBALL"
	rm -rf --one-file-system "$tmp"
	[ -f "$SYS_TARBALL" ]
}

# hvguest into the root: the .debs of $HVGUEST_DEBS with dpkg, else make install.
sys_install_hvguest() {
	local log=$SYS_WORK/install.log
	if [ -n "${HVGUEST_DEBS:-}" ]; then
		mkdir -p "$SYS_ROOT/tmp/hvguest-debs" &&
			cp "$HVGUEST_DEBS"/*.deb "$SYS_ROOT/tmp/hvguest-debs/" &&
			chroot "$SYS_ROOT" sh -c 'dpkg -i /tmp/hvguest-debs/*.deb' >"$log" 2>&1 &&
			! chroot "$SYS_ROOT" dpkg-query -W -f='${Status}\n' hyperv-daemons 2>/dev/null |
			grep -q '^install ok installed' ||
			{ echo "hyperv-daemons is still installed" >>"$log"; false; }
	else
		make -C "$SYS_BUILDDIR" install DESTDIR="$SYS_ROOT" >"$log" 2>&1 &&
			chroot "$SYS_ROOT" ldconfig >>"$log" 2>&1
	fi
	local r=$?
	[ $r -eq 0 ] || sed 's/^/# /' "$log" | tail -20
	return $r
}

# Makes SYS_WORK with a fresh root in it, hvguest installed and the guest side of the test
# (guest-lib.bash and GUEST_SCRIPT) under /systest, run by systest.service at boot.
sys_prepare() { # GUEST_SCRIPT
	SYS_WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/hvguest-system.XXXXXX") || bail_out "mktemp"
	SYS_ROOT=$SYS_WORK/root
	mkdir -p "$SYS_ROOT"
	sys_tarball || bail_out "cannot make the Debian 12 root (debootstrap failed)"
	tar -C "$SYS_ROOT" -xzf "$SYS_TARBALL" || bail_out "cannot unpack $SYS_TARBALL"
	sys_install_hvguest || bail_out "cannot install hvguest into the root"
	mkdir -p "$SYS_ROOT/systest"
	install -m 0644 "$SYS_SRCDIR/tests/system/guest-lib.bash" "$SYS_ROOT/systest/guest-lib.bash"
	install -m 0755 "$1" "$SYS_ROOT/systest/run"
	# No system bus (see SYS_PACKAGES); the runner starts with the boot, and its own
	# start does not hold the boot: Type=simple.
	ln -sf /dev/null "$SYS_ROOT/etc/systemd/system/dbus.service"
	ln -sf /dev/null "$SYS_ROOT/etc/systemd/system/dbus.socket"
	# logind needs the bus at boot; nobody logs in here.
	ln -sf /dev/null "$SYS_ROOT/etc/systemd/system/systemd-logind.service"
	ln -sf /dev/null "$SYS_ROOT/etc/systemd/system/console-getty.service"
	cat >"$SYS_ROOT/etc/systemd/system/systest.service" <<-'UNIT'
		[Unit]
		Description=hvguest system test (writes /systest/result.tap, then powers off)
		[Service]
		Type=simple
		ExecStart=/bin/bash /systest/run
		StandardOutput=append:/systest/guest.log
		StandardError=append:/systest/guest.log
		[Install]
		WantedBy=multi-user.target
	UNIT
	chroot "$SYS_ROOT" systemctl enable systest.service >/dev/null 2>&1 ||
		bail_out "cannot enable the runner unit"
}

# Enables the three units in the root, as a package or an image builder would.
sys_enable_units() {
	if chroot "$SYS_ROOT" systemctl enable hv-kvpd.service hv-vssd.service hv-fcopyd.service \
		>"$SYS_WORK/enable.log" 2>&1; then
		tap_ok "systemctl enable hv-kvpd hv-vssd hv-fcopyd"
	else
		tap_not_ok "systemctl enable hv-kvpd hv-vssd hv-fcopyd"
		sed 's/^/# /' "$SYS_WORK/enable.log"
	fi
}

# Boots the root, waits at most TIMEOUT seconds for it to power itself off (the guest
# script's last step), kills it by pid otherwise. Extra arguments go to systemd-nspawn.
sys_boot() { # TIMEOUT [NSPAWN ARGS...]
	local timeout=$1 i
	shift
	SYS_BOOT_START=$(date +%s.%N)
	systemd-nspawn --register=no --keep-unit --quiet --console=read-only -b \
		-D "$SYS_ROOT" "$@" </dev/null >"$SYS_WORK/console.log" 2>&1 &
	SYS_NSPAWN_PID=$!
	for i in $(seq 1 $((timeout * 10))); do
		kill -0 "$SYS_NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SYS_NSPAWN_PID" 2>/dev/null; then
		tap_not_ok "the container powered itself off within ${timeout}s"
		sys_kill_container
	else
		wait "$SYS_NSPAWN_PID"
		SYS_NSPAWN_PID=
		tap_ok "the container powered itself off within ${timeout}s"
	fi
}

sys_elapsed() { # START (date +%s.%N)
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# TERM (nspawn powers the container off), KILL after 10 s; by pid only.
sys_kill_container() {
	local i
	kill -TERM "$SYS_NSPAWN_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$SYS_NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SYS_NSPAWN_PID" 2>/dev/null
	wait "$SYS_NSPAWN_PID" 2>/dev/null
	SYS_NSPAWN_PID=
}

# The guest's TAP lines (renumbered), then the plan; the guest's log on failure.
sys_report() {
	local line
	if [ ! -s "$SYS_ROOT/systest/result.tap" ]; then
		tap_not_ok "the guest script wrote results"
	fi
	while IFS= read -r line; do
		case "$line" in
		"ok "*) tap_ok "${line#ok - }" ;;
		"not ok "*) tap_not_ok "${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$SYS_ROOT/systest/result.tap" 2>/dev/null
	if [ "$SYS_FAILED" != 0 ] || [ -n "${HVGUEST_SYSTEM_VERBOSE:-}" ]; then
		echo "# --- guest log"
		sed 's/^/# /' "$SYS_ROOT/systest/guest.log" 2>/dev/null | tail -150
		echo "# --- console (last lines)"
		sed 's/\x1b\[[0-9;]*m//g; s/^/# /' "$SYS_WORK/console.log" | tail -40
	fi
	echo "1..$SYS_N"
}
