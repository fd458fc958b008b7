# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by a guest script inside the booted container (tests/system/lib.bash installs it
# as /systest/guest-lib.bash): TAP lines into /systest/result.tap, whose numbering the
# host redoes, bounded waits, and the power-off that ends the boot.

set -uo pipefail
RESULT=/systest/result.tap
: >"$RESULT"

ok() { echo "ok - $*" >>"$RESULT"; }
not_ok() { echo "not ok - $*" >>"$RESULT"; }
diag() { echo "# $*" >>"$RESULT"; }
check() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	echo "--- $desc: $*"
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# Retries COMMAND every 0.2 s until it succeeds or SECONDS pass.
wait_for() { # SECONDS COMMAND...
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
prop() { # UNIT PROPERTY
	systemctl show -P "$2" "$1"
}
prop_is() { # UNIT PROPERTY VALUE
	local v
	v=$(prop "$1" "$2")
	echo "$1 $2=$v (want $3)"
	[ "$v" = "$3" ]
}
finish() {
	sync
	systemctl poweroff --no-block
	exit 0
}
trap finish EXIT
