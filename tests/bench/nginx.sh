#!/usr/bin/env bash
# Debian's nginx, master and 4 workers: requests per second under ukfork
# beside the same nginx run natively, with ab in the same run, three rounds
# alternating (median reported; the spread says how noisy the 2 shared
# cores were). Usage: tests/bench/nginx.sh [REQUESTS] [CONCURRENCY]
set -euo pipefail
n=${1:-5000}
c=${2:-16}
top=$(cd "$(dirname "$0")/../.." && pwd)
uk=$top/bin/ukfork
[ -x /usr/sbin/nginx ] || { echo "nginx is needed (apt-get install nginx-light)"; exit 1; }
command -v ab >/dev/null || { echo "ab is needed (apt-get install apache2-utils)"; exit 1; }
dir=$(mktemp -d)
trap 'kill $ukpid $natpid 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/www" "$dir/log" "$dir/ulog"
head -c 10240 /dev/urandom > "$dir/www/page.bin"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
conf() { # port root logdir pidfile
	cat <<CONF
daemon off; master_process on; worker_processes 4; user root;
error_log stderr warn; pid $4;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $3/body; proxy_temp_path $3/proxy;
  fastcgi_temp_path $3/fcgi; uwsgi_temp_path $3/uwsgi; scgi_temp_path $3/scgi;
  server { listen 127.0.0.1:$1; root $2; } }
CONF
}
ukport=$(port); natport=$(port)
conf "$ukport" /srv/www /tmp /tmp/nginx.pid > "$dir/uk.conf"
conf "$natport" "$dir/www" "$dir/log" "$dir/nginx.pid" > "$dir/nat.conf"
"$uk" bake --file "$dir/uk.conf:/etc/nginx/nginx.conf" --file "$dir/www:/srv/www" \
	--file /etc/passwd:/etc/passwd --file /etc/group:/etc/group -o "$dir/nginx.img" /usr/sbin/nginx >/dev/null
"$uk" run "$dir/nginx.img" & ukpid=$!
/usr/sbin/nginx -c "$dir/nat.conf" & natpid=$!
for p in $ukport $natport; do
	for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
done
rps() { ab -q $2 -n "$n" -c "$c" "http://127.0.0.1:$1/page.bin" 2>/dev/null | awk '/Requests per second/ {print $4} /Failed requests/ {f=$3} END {if (f != 0) print "FAILED " f > "/dev/stderr"}'; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
for mode in "" "-k"; do
	us=(); vs=()
	for r in 1 2 3; do us+=($(rps $ukport "$mode")); vs+=($(rps $natport "$mode")); done
	label="a connection per request"; [ "$mode" = "-k" ] && label="keep-alive"
	echo "nginx, 4 workers, $n requests of 10 KiB, $c concurrent, $label (ab, 3 rounds):"
	u=$(median "${us[@]}"); v=$(median "${vs[@]}")
	printf '  ukfork  %8.1f req/s (rounds: %s)\n  native  %8.1f req/s (rounds: %s)\n' "$u" "${us[*]}" "$v" "${vs[*]}"
	awk -v u="$u" -v v="$v" 'BEGIN {printf "  ratio   %8.3f\n", u / v}'
done
