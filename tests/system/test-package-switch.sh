#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The switch from Debian's hyperv-daemons to hvguest, on real packages in a Debian 12 chroot:
# install hyperv-daemons, put pool files into /var/lib/hyperv, install our .debs over it
# (apt removes hyperv-daemons: Conflicts/Replaces/Provides), then purge hyperv-daemons and
# finally purge ours. The pool files belong to the host and to cloud-init: after every step
# they must be there, byte for byte. Also checked: nothing is started inside the chroot, and
# our files replace theirs without dpkg errors.
#
# Usage: test-package-switch.sh [DEB_DIR]   (or HVGUEST_DEBS=DEB_DIR)
#   DEB_DIR holds hvguest_*.deb and its siblings (dpkg-buildpackage's output directory).
# Environment:
#   HVGUEST_ROOT_TAR  a tarball of `debootstrap --variant=minbase bookworm`; made (and kept
#                     there, as a cache) when it does not exist yet; without it, a root is
#                     debootstrapped for this run only.
#   HVGUEST_MIRROR    the Debian mirror (default http://deb.debian.org/debian).
# Needs root, debootstrap and the Debian mirror; prints TAP and skips with a reason otherwise.
# Everything happens in a private mount namespace and a temporary directory that is removed.
set -u

N=13
debs=${1:-${HVGUEST_DEBS:-}}
mirror=${HVGUEST_MIRROR:-http://deb.debian.org/debian}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (chroot, dpkg in a Debian root)"
[ -n "$debs" ] || skip_all "no .deb directory given (argument or HVGUEST_DEBS)"
for t in unshare chroot tar mount umount sha256sum; do
	command -v "$t" >/dev/null 2>&1 || skip_all "$t is not installed"
done
if [ -z "${HVGUEST_ROOT_TAR:-}" ] || [ ! -s "$HVGUEST_ROOT_TAR" ]; then
	command -v debootstrap >/dev/null 2>&1 ||
		skip_all "debootstrap is not installed and no HVGUEST_ROOT_TAR was given"
fi
debs=$(cd "$debs" 2>/dev/null && pwd) || skip_all "no such directory: ${1:-$HVGUEST_DEBS}"
set -- "$debs"/hvguest_*.deb
[ -e "$1" ] || skip_all "no hvguest_*.deb in $debs"

# Mounts (the chroot's /proc) must not leak into the caller's namespace, nor outlive us.
if [ -z "${HVGUEST_SWITCH_IN_NS:-}" ]; then
	HVGUEST_SWITCH_IN_NS=1 exec unshare -m --propagation private /bin/sh "$0" "$debs"
fi

tmp=$(mktemp -d /tmp/hvguest-switch.XXXXXX) || exit 1
root=$tmp/root
cleanup() {
	# Anything running from our root was started by this test (a maintainer script): end it.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	umount -l "$root/proc" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

echo "1..$N"
n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# A failed step makes the rest meaningless: report the remaining tests as failed and stop.
bail() {
	not_ok "$1"
	[ -z "$2" ] || printf '%s\n' "$2" | sed 's/^/# /'
	while [ "$n" -lt "$N" ]; do not_ok "not run: an earlier step failed"; done
	exit 1
}
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}
log=$tmp/log

# --- the Debian 12 root
mkdir "$root"
if [ -n "${HVGUEST_ROOT_TAR:-}" ] && [ -s "$HVGUEST_ROOT_TAR" ]; then
	tar -C "$root" -xf "$HVGUEST_ROOT_TAR" >"$log" 2>&1 || bail "unpack $HVGUEST_ROOT_TAR" "$(tail -5 "$log")"
else
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1 ||
		bail "debootstrap bookworm" "$(tail -5 "$log")"
	if [ -n "${HVGUEST_ROOT_TAR:-}" ]; then
		mkdir -p "$(dirname "$HVGUEST_ROOT_TAR")" &&
			tar -C "$root" -cf "$HVGUEST_ROOT_TAR.tmp" . &&
			mv "$HVGUEST_ROOT_TAR.tmp" "$HVGUEST_ROOT_TAR"
	fi
fi
mount -t proc proc "$root/proc" || bail "mount /proc in the root" ""
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
ok "a Debian 12 root"

# --- hyperv-daemons, and the host's pool files
in_root apt-get update -q >"$log" 2>&1 &&
	in_root apt-get install -y -q --no-install-recommends hyperv-daemons >>"$log" 2>&1 ||
	bail "install hyperv-daemons" "$(tail -5 "$log")"
status() { in_root dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
check "hyperv-daemons is installed" [ "$(status hyperv-daemons)" = ii ]

# Records of 512-byte keys and 2048-byte values, as the host and cloud-init write them.
mkdir -p "$root/var/lib/hyperv"
for i in 0 1 2 3 4; do
	{
		printf 'pool%s-key' "$i" | dd bs=512 conv=sync 2>/dev/null
		printf 'value written before the switch, pool %s' "$i" | dd bs=2048 conv=sync 2>/dev/null
	} >"$root/var/lib/hyperv/.kvp_pool_$i"
done
chmod 0644 "$root"/var/lib/hyperv/.kvp_pool_*
(cd "$root/var/lib/hyperv" && sha256sum .kvp_pool_0 .kvp_pool_1 .kvp_pool_2 .kvp_pool_3 .kvp_pool_4) >"$tmp/pools.sha256"
pools_intact() {
	(cd "$root/var/lib/hyperv" && sha256sum --quiet -c "$tmp/pools.sha256") >"$log" 2>&1 ||
		{ sed 's/^/# /' "$log"; return 1; }
}

# --- the switch: our packages over hyperv-daemons
mkdir "$root/tmp/debs"
for f in "$debs"/*.deb; do
	case "$f" in *-dbgsym_*) continue ;; esac
	cp "$f" "$root/tmp/debs/"
done
if in_root sh -c 'apt-get install -y -q --no-install-recommends /tmp/debs/*.deb' >"$log" 2>&1; then
	ok "apt installs our packages over hyperv-daemons"
else
	not_ok "apt installs our packages over hyperv-daemons"
	tail -20 "$log" | sed 's/^/# /'
fi
check "hvguest is installed" [ "$(status hvguest)" = ii ]
hd=$(status hyperv-daemons)
check "hyperv-daemons was removed (dpkg status '$hd')" eval '[ "$hd" = rc ] || [ "$hd" = un ] || [ -z "$hd" ]'
check "pool files intact after the switch" pools_intact
# Every file of the old package that is still on disk now belongs to ours (Replaces).
leftovers() {
	bad=0
	for f in /usr/sbin/hv_kvp_daemon /usr/sbin/hv_vss_daemon /usr/sbin/hv_fcopy_daemon \
		/lib/systemd/system/hv-kvp-daemon.service /lib/udev/rules.d/60-hyperv-daemons.rules; do
		[ -e "$root$f" ] || [ -L "$root$f" ] || continue
		owner=$(in_root dpkg-query -S "$f" 2>/dev/null | cut -d: -f1)
		[ "$owner" = hvguest ] || { echo "# $f left behind (owner: '${owner:-none}')"; bad=1; }
	done
	[ -x "$root/usr/sbin/hv-kvpd" ] || { echo "# /usr/sbin/hv-kvpd missing"; bad=1; }
	return $bad
}
check "hyperv-daemons' files are gone or taken over; hv-kvpd is in place" leftovers
started_in_root() {
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
			echo "# started in the chroot: $(tr '\0' ' ' <"$p/cmdline")"
			return 0
		fi
	done
	return 1
}
check "nothing was started in the chroot" eval '! started_in_root'

# --- postinst on a running system: no systemd runs in this chroot, so give postinst what it
# looks for (/run/systemd/system, a device node) and a systemctl that records its calls.
# Only the unit whose device exists is started; policy-rc.d's 101 forbids it.
postinst_starts() {
	# $1: postinst's second argument (old version, empty on first install); $2: expected calls
	mkdir -p "$root/run/systemd/system" "$root/dev/vmbus" "$root/usr/local/sbin"
	: >"$root/dev/vmbus/hv_kvp"
	printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.calls\n' >"$root/usr/local/sbin/systemctl"
	chmod 755 "$root/usr/local/sbin/systemctl"
	rm -f "$root/tmp/systemctl.calls"
	chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
		/var/lib/dpkg/info/hvguest.postinst configure $1 >"$log" 2>&1
	rc=$?
	calls=$(grep -E 'start|stop' "$root/tmp/systemctl.calls" 2>/dev/null | tr '\n' ';')
	rm -rf "$root/run/systemd/system" "$root/dev/vmbus" "$root/usr/local/sbin/systemctl" \
		"$root/usr/sbin/policy-rc.d"
	[ "$rc" -eq 0 ] && [ "$calls" = "$2" ] ||
		{ echo "# postinst exit $rc, systemctl calls: '$calls', expected '$2'"; return 1; }
}
check "postinst (systemd running, only hv_kvp present) starts hv-kvpd.service alone; restarts it on upgrade" \
	eval 'postinst_starts "" "--no-block start hv-kvpd.service;" &&
		postinst_starts 0.0.1 "--no-block restart hv-kvpd.service;"'
policy_forbids() {
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	postinst_starts "" ""
}
check "postinst starts nothing when policy-rc.d forbids it" policy_forbids

# --- hyperv-daemons' own purge (its postrm) must not take the pool files with it
if [ "$hd" = rc ]; then
	in_root dpkg --purge hyperv-daemons >"$log" 2>&1 || { tail -5 "$log" | sed 's/^/# /'; }
fi
check "pool files intact after purging hyperv-daemons" eval '[ -z "$(status hyperv-daemons)" ] || [ "$(status hyperv-daemons)" = un ] && pools_intact'

# --- and our purge must not either
in_root apt-get purge -y -q hvguest hvguest-sim libvmbus-user-dev libvmbus-user0 >"$log" 2>&1 ||
	{ tail -5 "$log" | sed 's/^/# /'; }
check "hvguest purged" eval '[ -z "$(status hvguest)" ] || [ "$(status hvguest)" = un ]'
check "pool files intact after purging hvguest" pools_intact

exit $failed
