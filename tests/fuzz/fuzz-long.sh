#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The long fuzzing campaign behind `make fuzz-long` (issue 8): runs each libFuzzer target
# for SECONDS, one after the other, starting from its corpus in the tree, and prints one
# line per target: executions, corpus size (the tree's inputs + the new ones), crashes.
#
#   fuzz-long.sh SECONDS TREE_CORPUS_DIR BIN_DIR OUT_DIR TARGET...
#
# The tree is never written: libFuzzer adds what it finds to the first corpus directory it
# is given, which is OUT_DIR/TARGET/new (kept between runs, so a second run goes on where
# the first stopped; copy what is worth keeping into the tree by hand, after
# `TARGET-libfuzzer -merge=1` against the tree's corpus). A crash, leak, timeout or OOM is
# saved as OUT_DIR/TARGET/crash-* (etc.) and the log as OUT_DIR/TARGET/log. Every target
# runs even after one crashed; the exit status is 1 when any did.
set -u

if [ $# -lt 5 ]; then
	echo "usage: $0 SECONDS TREE_CORPUS_DIR BIN_DIR OUT_DIR TARGET..." >&2
	exit 2
fi
seconds=$1 tree=$2 bindir=$3 out=$4
shift 4
case $seconds in
'' | *[!0-9]*)
	echo "fuzz-long: SECONDS must be a number, not '$seconds'" >&2
	exit 2
	;;
esac

count_files() {
	find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l | tr -d ' '
}

# The last value libFuzzer printed for a final statistic, 0 when there is none.
final_stat() {
	sed -n "s/^stat::$1: *\([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1 | grep . || echo 0
}

failed=0
printf '%-24s %12s %8s %6s %8s\n' target execs corpus new crashes
for t in "$@"; do
	dir=$out/$t
	mkdir -p "$dir/new" || exit 1
	rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
	"$bindir/$t-libfuzzer" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$dir/new" "$tree/$t" >"$dir/log" 2>&1
	rc=$?
	crashes=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | wc -l | tr -d ' ')
	# a non-zero exit without an artifact (the binary would not start, say) counts too
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1
	fi
	new=$(count_files "$dir/new")
	corpus=$(($(count_files "$tree/$t") + new))
	printf '%-24s %12s %8s %6s %8s\n' "$t" "$(final_stat number_of_executed_units "$dir/log")" \
		"$corpus" "$new" "$crashes"
	if [ "$crashes" -ne 0 ]; then
		failed=1
		tail -n 30 "$dir/log" | sed "s/^/  $t: /"
	fi
done
exit $failed
