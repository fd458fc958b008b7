#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libvmbus-user's ABI: the shared library exports exactly the symbols of its version script,
# all under the LIBVMBUS_USER_1 node, and the public header stands alone (C11 and C++).
set -u
b=${HVGUEST_BUILDDIR:-.}
s=${HVGUEST_SRCDIR:-.}
so=$(ls "$b"/lib/vmbus-user/.libs/libvmbus-user.so.[0-9]* 2>/dev/null | head -n1)
echo "1..4"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }

if [ -z "$so" ]; then
	echo "Bail out! libvmbus-user.so not built"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' |
	sed 's/@.*//' | sort -u >"$tmp/exported"
sed -n 's/^[[:space:]]*\(vmu_[a-z0-9_]*\);$/\1/p' "$s/lib/vmbus-user/libvmbus-user.sym" | sort -u >"$tmp/listed"
if diff -u "$tmp/listed" "$tmp/exported" >"$tmp/diff"; then
	ok "exported symbols match libvmbus-user.sym ($(wc -l <"$tmp/listed") symbols)"
else
	sed 's/^/# /' "$tmp/diff"
	notok "exported symbols match libvmbus-user.sym"
fi
if objdump -T "$so" | awk '/ DF .text/ && $NF ~ /^vmu_/ && $(NF-1) != "LIBVMBUS_USER_1" {bad=1} END {exit bad}'; then
	ok "every symbol is versioned LIBVMBUS_USER_1"
else
	notok "every symbol is versioned LIBVMBUS_USER_1"
fi
printf '#include <vmbus-user.h>\nint main(void) { return vmu_service_name(VMU_SERVICE_KVP) == 0; }\n' >"$tmp/c.c"
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic -I"$s/lib/vmbus-user" -fsyntax-only "$tmp/c.c" 2>"$tmp/err"; then
	ok "public header compiles alone as C11"
else
	sed 's/^/# /' "$tmp/err"
	notok "public header compiles alone as C11"
fi
cp "$tmp/c.c" "$tmp/c.cc"
if command -v c++ >/dev/null 2>&1; then
	if c++ -std=c++17 -Wall -Wextra -Werror -I"$s/lib/vmbus-user" -fsyntax-only "$tmp/c.cc" 2>"$tmp/err"; then
		ok "public header compiles as C++17"
	else
		sed 's/^/# /' "$tmp/err"
		notok "public header compiles as C++17"
	fi
else
	n=$((n + 1)); echo "ok $n - # SKIP no C++ compiler"
fi
