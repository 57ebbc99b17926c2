#!/usr/bin/env bash
# Debian's python3 under ukfork beside the same binary natively, this run:
#  - launch of `python3 -c pass` (median of N, from outside);
#  - host memory per idle python3: M separate `ukfork run`s sleeping, the
#    PSS of each (the VMM and its guest's RAM; pages shared between them,
#    like the image's text in the page cache, count once over all), divided
#    by M; natively, M python3 processes the same way, and one's own RSS;
#  - fork of a python3 that has imported its modules (fork+exit+wait).
# Usage: tests/bench/python.sh [N] [M]
set -euo pipefail
n=${1:-20}
m=${2:-30}
top=$(cd "$(dirname "$0")/../.." && pwd)
uk=$top/bin/ukfork
py=$(readlink -f /usr/bin/python3)
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
stdlib=$(dirname "$("$py" -c 'import os; print(os.__file__)')")
"$uk" bake --mem 256M -o "$dir/py.img" --file "$stdlib:$stdlib" --file "$top/tests/bench/pyfork.py:/pyfork.py" "$py" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
launch() { # command...: median ms of n runs
	for _ in $(seq "$n"); do
		local t0 t1
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | median | awk '{printf "%.1f", $1 / 1000}'
}
uk_launch=$(launch "$uk" run "$dir/py.img" -c pass)
na_launch=$(launch "$py" -c pass)

pss() { awk '/^Pss:/ {s += $2} END {print s + 0}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
idle() { # command...: KiB of host memory (PSS, so shared pages count once) per live process of m
	pids=()
	for _ in $(seq "$m"); do
		"$@" -c 'import sys, time; print("up", flush=True); time.sleep(60)' >"$dir/up.$RANDOM" &
		pids+=($!)
	done
	for _ in $(seq 600); do
		[ "$(cat "$dir"/up.* 2>/dev/null | grep -c up)" -ge "$m" ] && break
		sleep 0.1
	done
	sleep 1
	local total=0
	for p in "${pids[@]}"; do total=$((total + $(pss "$p"))); done
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -f "$dir"/up.*
	echo $((total / m))
}
uk_idle=$(idle "$uk" run "$dir/py.img")
na_idle=$(idle "$py")
na_rss=$("$py" -c 'print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS")))')

uk_fork=$("$uk" run "$dir/py.img" /pyfork.py 200)
na_fork=$("$py" "$top/tests/bench/pyfork.py" 200)

echo "python3 under ukfork and natively (this run; 2 shared cores: expect 10-20% noise)"
printf "%-44s %10s %10s %8s\n" "" ukfork native ratio
printf "%-44s %10s %10s %8s\n" "launch of python3 -c pass (ms, median of $n)" "$uk_launch" "$na_launch" "$(awk -v a="$uk_launch" -v b="$na_launch" 'BEGIN {printf "%.2fx", a / b}')"
printf "%-44s %10s %10s %8s\n" "host memory (PSS) per idle python3, $m live (KiB)" "$uk_idle" "$na_idle" "$(awk -v a="$uk_idle" -v b="$na_idle" 'BEGIN {printf "%.2fx", a / b}')"
printf "%-44s %10s %10s\n" "a native python3's own RSS (KiB)" "-" "$na_rss"
printf "%-44s %10s %10s %8s\n" "fork+exit+wait after imports (ms, median)" "$uk_fork" "$na_fork" "$(awk -v a="$uk_fork" -v b="$na_fork" 'BEGIN {printf "%.2fx", a / b}')"
