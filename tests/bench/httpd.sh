#!/usr/bin/env bash
# busybox httpd, a process (here a VM) per connection: requests per second
# under ukfork beside the same httpd run natively, measured with ab in the
# same run. Usage: tests/bench/httpd.sh [REQUESTS] [CONCURRENCY]
set -euo pipefail
n=${1:-2000}
c=${2:-16}
top=$(cd "$(dirname "$0")/../.." && pwd)
uk=$top/bin/ukfork
bb=$(command -v busybox) || { echo "busybox-static is needed (apt-get install busybox-static)"; exit 1; }
command -v ab >/dev/null || { echo "ab is needed (apt-get install apache2-utils)"; exit 1; }
dir=$(mktemp -d)
trap 'kill $ukpid $natpid 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/www"
head -c 10240 /dev/urandom > "$dir/www/page.bin"
"$uk" bake --applets --file "$dir/www:/www" -o "$dir/httpd.img" "$bb" >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ukport=$(port); natport=$(port)
"$uk" run "$dir/httpd.img" httpd -f -p "127.0.0.1:$ukport" -h /www & ukpid=$!
"$bb" httpd -f -p "127.0.0.1:$natport" -h "$dir/www" & natpid=$!
for p in $ukport $natport; do
	for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
done
rps() { ab -q -n "$n" -c "$c" "http://127.0.0.1:$1/page.bin" 2>/dev/null | awk '/Requests per second/ {print $4} /Failed requests/ {f=$3} END {if (f != 0) print "FAILED " f > "/dev/stderr"}'; }
u=$(rps $ukport); v=$(rps $natport)
echo "busybox httpd, fork per connection, $n requests of 10 KiB, $c concurrent (ab):"
awk -v u="$u" -v v="$v" 'BEGIN {printf "  ukfork  %8.1f req/s\n  native  %8.1f req/s\n  ratio   %8.3f\n", u, v, u / v}'
