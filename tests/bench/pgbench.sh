#!/usr/bin/env bash
# Debian's PostgreSQL 15: pgbench transactions per second under ukfork beside
# the same postgres run natively, pgbench in the same run, scale 5, three
# rounds alternating (median reported; the spread says how noisy the 2
# shared cores were). Usage: tests/bench/pgbench.sh [SECONDS] [CLIENTS]
set -euo pipefail
secs=${1:-10}
c=${2:-8}
top=$(cd "$(dirname "$0")/../.." && pwd)
uk=$top/bin/ukfork
B=/usr/lib/postgresql/15/bin
[ -x $B/postgres ] || { echo "postgres is needed (apt-get install postgresql-15)"; exit 1; }
dir=$(mktemp -d)
trap 'kill $ukpid 2>/dev/null || true; su postgres -s /bin/sh -c "$B/pg_ctl -D $dir/nat/db -m fast stop" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/vol" "$dir/nat"
chmod 755 "$dir"
chown postgres "$dir/vol" "$dir/nat"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ukport=$(port); natport=$(port)
opts="-k /tmp -c listen_addresses=127.0.0.1 -c jit=off"
"$uk" bake -o "$dir/pg.img" --mem 1G --file $B:$B --file /usr/lib/postgresql/15/lib:/usr/lib/postgresql/15/lib \
	--file /usr/share/postgresql/15:/usr/share/postgresql/15 --file /usr/share/zoneinfo:/usr/share/zoneinfo \
	--file /etc/passwd:/etc/passwd --file /etc/group:/etc/group --file /bin/dash:/bin/sh \
	--file /usr/bin/locale:/usr/bin/locale /bin/dash >/dev/null
"$uk" run --user postgres --env LANG=C --volume "$dir/vol:/data" --entrypoint $B/initdb "$dir/pg.img" -D /data/db >/dev/null 2>&1
su postgres -s /bin/sh -c "LANG=C $B/initdb -D $dir/nat/db" >/dev/null 2>&1
"$uk" run --user postgres --env LANG=C --volume "$dir/vol:/data" --entrypoint $B/postgres "$dir/pg.img" \
	-D /data/db -p "$ukport" $opts >"$dir/uk.log" 2>&1 & ukpid=$!
su postgres -s /bin/sh -c "$B/pg_ctl -D $dir/nat/db -l $dir/nat/log -o '-p $natport $opts' start" >/dev/null
for p in $ukport $natport; do
	for i in $(seq 300); do $B/pg_isready -q -h 127.0.0.1 -p "$p" && break; sleep 0.1; done
	$B/pgbench -q -h 127.0.0.1 -p "$p" -U postgres -i -s 5 postgres >/dev/null 2>&1
done
tps() { $B/pgbench -h 127.0.0.1 -p "$1" -U postgres $2 -c "$c" -j 2 -T "$secs" postgres 2>/dev/null |
	awk '/^tps/ {print $3} /failed transactions/ {f=$5} END {if (f != 0) print "FAILED " f > "/dev/stderr"}'; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
for mode in "" "-S"; do
	us=(); vs=()
	for r in 1 2 3; do us+=($(tps $ukport "$mode")); vs+=($(tps $natport "$mode")); done
	label="TPC-B (read-write)"; [ "$mode" = "-S" ] && label="select only"
	echo "pgbench, scale 5, $c clients, ${secs} s, $label (3 rounds):"
	u=$(median "${us[@]}"); v=$(median "${vs[@]}")
	printf '  ukfork  %8.1f tps (rounds: %s)\n  native  %8.1f tps (rounds: %s)\n' "$u" "${us[*]}" "$v" "${vs[*]}"
	awk -v u="$u" -v v="$v" 'BEGIN {printf "  ratio   %8.3f\n", u / v}'
done
