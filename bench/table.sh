#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# table.sh: runs every bench program given as an argument, passes its output through, and
# prints at the end the one table of `make bench` (issue 10): every line a program printed
# as "TABLE<TAB>figure<TAB>hvguest<TAB>floor<TAB>ratio<TAB>target<TAB>met", aligned. A
# program that fails is named under the table and makes the script fail, after the others
# have run (their figures are still worth having).
set -u

rows=$(mktemp) || exit 1
trap 'rm -f "$rows"' EXIT
failed=
for prog in "$@"; do
	echo "=== $prog"
	# the program's status, not tee's: run it in a subshell that records it
	{ "$prog"; echo "$?" >"$rows.status"; } | tee -a "$rows"
	status=$(cat "$rows.status" 2>/dev/null || echo 1)
	rm -f "$rows.status"
	[ "$status" = 0 ] || failed="$failed $prog($status)"
done

echo
echo "=== make bench: hvguest against the floor (a do-nothing responder on the same transport)"
grep '^TABLE	' "$rows" | cut -f2- |
	awk -F'\t' 'BEGIN { OFS = "\t"; print "figure", "hvguest", "floor", "ratio", "target", "met" }
		{ print }' |
	awk -F'\t' '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
		      if (NF > nf) nf = NF }
		    END { for (r = 1; r <= NR; r++) { line = ""
			    for (i = 1; i <= nf; i++)
				    line = line sprintf(i < nf ? "%-" w[i] "s | " : "%s", cell[r, i])
			    print line } }'
if [ -n "$failed" ]; then
	echo "failed:$failed" >&2
	exit 1
fi
