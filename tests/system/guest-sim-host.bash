#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the container of test-sim-host: the three daemons run from their installed,
# hardened units; drop-ins change only the device (the simulator's sockets, in
# /etc/hvguest/sim.conf) and the virtualization condition. hv-host-sim plays the host.
. /systest/guest-lib.bash

units="hv-kvpd.service hv-vssd.service hv-fcopyd.service"
MAC=00:15:5D:00:00:01
LOG=/systest/guest.log

# One simulated host run: hv-host-sim serves the three sockets for the script given on
# stdin, then exits (the daemons lose it and wait again).
sim() { # OUTPUT < SCRIPT
	timeout 120 hv-host-sim --kvp /run/hvsim/kvp.sock --vss /run/hvsim/vss.sock \
		--fcopy /run/hvsim/fcopy.sock --json --script - >"$1" 2>>"$LOG"
	echo "hv-host-sim exited $?; output:"
	cat "$1"
}
# The JSON line of the Nth answer (default: the first) to OP in FILE ("fcopy copy"
# answers as op "complete").
answer() { # FILE SERVICE OP [N]
	grep "\"service\":\"$2\",\"op\":\"$3\"" "$1" | sed -n "${4:-1}p"
}
answered_ok() { # FILE SERVICE OP [TEXT]
	local a
	a=$(answer "$1" "$2" "$3")
	echo "$2 $3: $a"
	case "$a" in *'"status":0,'*) ;; *) return 1 ;; esac
	[ -z "${4:-}" ] || case "$a" in *"$4"*) ;; *) return 1 ;; esac
}
answered_failure() { # FILE SERVICE OP N
	local a
	a=$(answer "$1" "$2" "$3" "$4")
	echo "$2 $3 #$4: $a"
	[ -n "$a" ] && case "$a" in *'"status":0,'*) return 1 ;; esac
}
# The host's Get-VMIntegrationService view (the "status" command) of SERVICE.
host_status_ok() { # FILE SERVICE
	tr '{' '\n' <"$1" | grep "\"service\":\"$2\"" |
		grep '"PrimaryStatusDescription":"OK"' | grep -q '"daemon_registered":true'
}
main_pid() { prop "$1" MainPID; }
status_has() { # UNIT TEXT
	prop "$1" StatusText | grep -q -- "$2"
}

timeout 30 systemctl is-system-running --wait
diag "boot with the three daemons started (devices present): $(systemd-analyze time 2>&1 | head -1)"
mkdir -p /run/hvsim

# 1. No host yet: the daemons are up, ready and say what they wait for.
for u in $units; do
	check "$u is active (READY=1) before any host is there" \
		wait_for 10 prop_is "$u" ActiveState active
	check "$u says it waits for the simulated device" \
		wait_for 10 status_has "$u" "Waiting for unix:/run/hvsim/"
	check "$u runs with its hardening (NoNewPrivileges, a device policy)" \
		bash -c "[ \"\$(systemctl show -P NoNewPrivileges $u)\" = yes ] &&
			[ \"\$(systemctl show -P DevicePolicy $u)\" = closed ]"
done
kvp_pid=$(main_pid hv-kvpd.service)
check "hv-kvpd runs without any capability" \
	grep -q '^CapBnd:[[:space:]]*0000000000000000$' "/proc/$kvp_pid/status"
check "hv-kvpd sees / read-only (ProtectSystem=strict)" \
	bash -c "awk '\$5 == \"/\" { print \$6 }' /proc/$kvp_pid/mountinfo | grep -q '^ro'"
for pair in hv_kvp_daemon:hv-kvpd hv_vss_daemon:hv-vssd hv_fcopy_daemon:hv-fcopyd; do
	check "pgrep -x ${pair%%:*} finds ${pair#*:}'s main process" \
		bash -c "[ \"\$(pgrep -x ${pair%%:*})\" = \"\$(systemctl show -P MainPID ${pair#*:})\" ]"
done

# 2. The host comes: every operation through the sandboxed daemons.
ip link add hvt0 address "$MAC" type veth peer name hvt1 &&
	ip link set hvt1 up && ip link set hvt0 up && ip addr add 192.0.2.10/24 dev hvt0
# systemd-resolved on a system bus started here (dbus.service is masked, see lib.bash),
# with a DNS server for the link: GET_IP_INFO must get it over D-Bus, from the sandbox.
dns=
if command -v dbus-daemon >/dev/null && command -v resolvectl >/dev/null &&
	mkdir -p /run/dbus && dbus-daemon --system &&
	systemctl restart systemd-resolved.service &&
	wait_for 10 resolvectl dns hvt0 192.0.2.53; then
	dns=192.0.2.53
	resolvectl dns hvt0
else
	diag "no system bus or systemd-resolved in the container: DNS comes from resolv.conf"
fi
loop=$(cat /systest/loopdev 2>/dev/null)
mkdir -p /mnt/vss
have_loop=
if [ -n "$loop" ] && mount "$loop" /mnt/vss; then
	have_loop=1
	echo before >/mnt/vss/file
else
	diag "no loop device in the container: FREEZE/THAW runs with nothing to freeze"
fi
head -c 100000 /dev/urandom >/systest/payload
sim /systest/sim1.out <<'SCRIPT'
wait kvp 30
wait vss 30
wait fcopy 30
kvp set external Greeting hello
kvp get external Greeting
kvp enumerate auto 0
kvp get-ip-info 00:15:5D:00:00:01
fcopy copy /systest/payload /srv/incoming payload --create-path
fcopy copy /systest/payload /usr/share payload
vss freeze
run 1
vss thaw
status
SCRIPT
out=/systest/sim1.out
for service in kvp vss fcopy; do
	check "the host sees the $service daemon registered (status OK)" host_status_ok $out $service
done
check "KVP SET from the host" answered_ok $out kvp set
check "KVP GET answers the value set" answered_ok $out kvp get '"value":"hello"'
check "KVP ENUMERATE answers an intrinsic item" answered_ok $out kvp enumerate
check "KVP GET_IP_INFO finds 192.0.2.10 over netlink" \
	answered_ok $out kvp get-ip-info 192.0.2.10
if [ -n "$dns" ]; then
	check "KVP GET_IP_INFO has the link's DNS server from systemd-resolved (D-Bus)" \
		answered_ok $out kvp get-ip-info "\"dns_addr\":\"$dns"
fi
check "fcopy copy into /srv/incoming (an allowed root)" \
	bash -c "cmp /systest/payload /srv/incoming/payload"
usr_copy_refused() {
	[ ! -e /usr/share/payload ] && answered_failure $out fcopy complete 2
}
check "fcopy copy into /usr fails (ProtectSystem=full keeps it read-only)" usr_copy_refused
check "VSS FREEZE answered S_OK" answered_ok $out vss freeze
check "VSS THAW answered S_OK" answered_ok $out vss thaw
if [ -n "$have_loop" ]; then
	check "hv-vssd froze and thawed the loop-mounted file system" \
		bash -c "journalctl -q -b -u hv-vssd.service | grep -q 'froze 1 file systems' &&
			journalctl -q -b -u hv-vssd.service | grep -q 'thawed 1 file systems'"
	check "the file system is writable after THAW" \
		timeout 5 bash -c "echo after >/mnt/vss/file && sync -f /mnt/vss/file"
fi

# 3. reload, watchdog, kill -9, stop.
pid=$(main_pid hv-kvpd.service)
check "systemctl reload hv-kvpd" timeout 10 systemctl reload hv-kvpd.service
check "hv-kvpd reloaded its configuration, same process" \
	bash -c "journalctl -q -b -u hv-kvpd.service | grep -q 'reloaded the configuration' &&
		[ \"\$(systemctl show -P MainPID hv-kvpd.service)\" = $pid ]"
for u in $units; do
	check "$u has a watchdog (WatchdogUSec=1min)" prop_is "$u" WatchdogUSec 1min
done
# The pings themselves, made visible with a 2 s watchdog (a runtime drop-in).
mkdir -p /run/systemd/system/hv-kvpd.service.d
printf '[Service]\nWatchdogSec=2s\n' >/run/systemd/system/hv-kvpd.service.d/watchdog.conf
systemctl daemon-reload && systemctl restart hv-kvpd.service
t1=$(prop hv-kvpd.service WatchdogTimestampMonotonic)
sleep 5
t2=$(prop hv-kvpd.service WatchdogTimestampMonotonic)
echo "watchdog timestamps: $t1 -> $t2"
check "hv-kvpd pings a 2 s watchdog (timestamp advances, no restart)" \
	bash -c "[ '$t2' -gt '$t1' ] && [ \"\$(systemctl show -P NRestarts hv-kvpd.service)\" = 0 ] &&
		[ \"\$(systemctl show -P ActiveState hv-kvpd.service)\" = active ]"
rm /run/systemd/system/hv-kvpd.service.d/watchdog.conf
systemctl daemon-reload && systemctl restart hv-kvpd.service

for u in $units; do
	pid=$(main_pid "$u")
	kill -9 "$pid"
	check "$u is restarted after kill -9 (NRestarts=1)" \
		wait_for 15 bash -c "[ \"\$(systemctl show -P NRestarts $u)\" = 1 ] &&
			[ \"\$(systemctl show -P ActiveState $u)\" = active ] &&
			[ \"\$(systemctl show -P MainPID $u)\" != $pid ]"
done
sim /systest/sim2.out <<'SCRIPT'
wait kvp 30
wait vss 30
wait fcopy 30
kvp get external Greeting
fcopy copy /systest/payload /srv/incoming again
vss freeze
vss thaw
SCRIPT
check "the restarted hv-kvpd serves the pool it kept" \
	answered_ok /systest/sim2.out kvp get '"value":"hello"'
check "the restarted hv-fcopyd copies" bash -c "cmp /systest/payload /srv/incoming/again"
check "the restarted hv-vssd freezes and thaws" \
	bash -c "grep '\"op\":\"freeze\"' /systest/sim2.out | grep -q '\"status\":0,' &&
		grep '\"op\":\"thaw\"' /systest/sim2.out | grep -q '\"status\":0,'"

for u in $units; do
	check "systemctl stop $u" timeout 20 systemctl stop "$u"
	check "$u stopped cleanly (inactive, Result=success)" \
		bash -c "[ \"\$(systemctl show -P ActiveState $u)\" = inactive ] &&
			[ \"\$(systemctl show -P Result $u)\" = success ]"
done
[ -z "$have_loop" ] || umount /mnt/vss
journalctl -q -b --no-pager -u hv-kvpd.service -u hv-vssd.service -u hv-fcopyd.service \
	>>"$LOG" 2>&1
