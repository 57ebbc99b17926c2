#!/usr/bin/env bash
# N live children of one 64 MiB parent (8 MiB touched), each its own VM:
# the host memory they take (MemAvailable before and while they live), the
# time to make them, and the same program run natively beside it.
# Usage: tests/bench/children.sh [N]
set -euo pipefail
n=${1:-1000}
top=$(cd "$(dirname "$0")/../.." && pwd)
uk=$top/bin/ukfork
app=$top/tests/apps/build/musl/children
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$uk" bake --mem 64M -o "$dir/children.img" "$app" >/dev/null
avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
measure() { # command...: prints "KiB seconds"
	local before t0 line
	before=$(avail)
	t0=$(date +%s.%N)
	coproc P { "$@"; }
	read -r line <&"${P[0]}"
	local t1 used
	t1=$(date +%s.%N)
	used=$((before - $(avail)))
	echo >&"${P[1]}"
	read -r done <&"${P[0]}" || true
	wait "$P_PID" 2>/dev/null || true
	echo "$used $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') $line / $done"
}
read -r uku ukt ukl <<<"$(measure "$uk" run "$dir/children.img" "$n")"
read -r nau nat nal <<<"$(measure "$app" "$n")"
echo "$n live children of a 64 MiB parent with 8 MiB touched:"
printf "  ukfork  %8.1f MiB host memory, %6.2f s to make them (%s)\n" "$(awk -v k="$uku" 'BEGIN {print k / 1024}')" "$ukt" "$ukl"
printf "  native  %8.1f MiB host memory, %6.2f s to make them (%s)\n" "$(awk -v k="$nau" 'BEGIN {print k / 1024}')" "$nat" "$nal"
