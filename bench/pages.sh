#!/bin/sh
# bench/pages.sh -- the portal against nginx, side by side in one run: the
# language home, a release page and a feed, served by kawat (rendered once,
# then from its page cache) and by nginx serving the very same bytes as
# static files; then the same with ETag revalidation (If-None-Match: every
# answer a 304). Prints requests/s and p99 for each and kawat's share of
# nginx's rate. Figures, never pass or fail.
#
#   sh bench/pages.sh HOST:PORT [RELEASE_ID]     (a running kawat; run.sh calls it)
#
# nginx runs with one worker, as kawat serves pages from one loop; both
# get the same wrk load (WRK_SECONDS, default 10; -t2 -c64). Everything
# targets 127.0.0.1.

set -u
ADDR=${1:-}
RID=${2:-}
WRK_SECONDS=${WRK_SECONDS:-10}
NGINX=${NGINX:-/usr/sbin/nginx}
if [ -z "$ADDR" ]; then
    echo "usage: sh bench/pages.sh HOST:PORT [RELEASE_ID]" >&2
    exit 2
fi
if ! command -v wrk >/dev/null 2>&1 || [ ! -x "$NGINX" ]; then
    echo "wrk or nginx is missing (scripts/deps.sh installs both); skipped"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kawat-pages.XXXXXX") || exit 1
NPID=
cleanup() {
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
    sleep 0.2
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$RID" ]; then
    RID=$(curl -s "http://$ADDR/v1/releases?language=en&limit=1" |
        sed -n 's/^{"items":\[{"id":"\([a-z0-9]*\)".*/\1/p')
fi
PATHS="/en/ /en/releases/$RID /en/rss.xml"

# The same bytes as static files: each path's body saved where nginx finds
# it ("/en/" is en/index.html; a release page has no extension: text/html).
mkdir -p "$TMP/root/en/releases" "$TMP/logs"
for p in $PATHS; do
    f="$TMP/root$p"
    case $p in */) f="${f}index.html" ;; esac
    curl -s -o "$f" "http://$ADDR$p"
done
NPORT=$(awk 'BEGIN {srand(); print 20000 + int(rand() * 20000)}')
cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/html;
    types { application/rss+xml xml; text/html html; }
    sendfile on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT;
        root $TMP/root;
    }
}
EOF
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" > "$TMP/logs/nginx.out" 2>&1 &
NPID=$!
i=0
while [ $i -lt 50 ] && ! curl -s -o /dev/null "http://127.0.0.1:$NPORT/en/"; do
    sleep 0.1
    i=$((i + 1))
done

# run LABEL URL [HEADER]: one wrk run, one line of figures ("rps p99").
run() {
    if [ -n "${3:-}" ]; then
        wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -H "$3" "$2" > "$TMP/wrk.out" 2>&1
    else
        wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "$2" > "$TMP/wrk.out" 2>&1
    fi
    awk '/^ +99%/ {p99 = $2} /^Requests\/sec:/ {rps = $2}
         /Non-2xx or 3xx responses:/ {bad = $NF}
         END {printf "%s %s %d\n", rps, p99, bad}' "$TMP/wrk.out"
}

etag() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}'; }

echo "Portal against nginx (same bytes as static files, 1 worker): wrk -t2 -c64 -d${WRK_SECONDS}s"
printf '%-30s %7s | %10s %9s | %10s %9s | %7s\n' target bytes 'kawat r/s' 'p99' \
    'nginx r/s' 'p99' 'ratio'
for mode in full revalidate; do
    for p in $PATHS; do
        bytes=$(curl -s "http://$ADDR$p" | wc -c | tr -d ' ')
        if [ $mode = full ]; then
            k=$(run kawat "http://$ADDR$p")
            sleep 1
            n=$(run nginx "http://127.0.0.1:$NPORT$p")
            label=$p
        else
            k=$(run kawat "http://$ADDR$p" "If-None-Match: $(etag "http://$ADDR$p")")
            sleep 1
            n=$(run nginx "http://127.0.0.1:$NPORT$p" "If-None-Match: $(etag "http://127.0.0.1:$NPORT$p")")
            label="$p (304)"
        fi
        set -- $k $n
        ratio=$(awk -v a="$1" -v b="$4" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
        printf '%-30s %7s | %10s %9s | %10s %9s | %6sx\n' "$label" "$bytes" "$1" "$2" "$4" "$5" \
            "$ratio"
        sleep 1
    done
done
echo "aim (issue): kawat at least half of nginx's rate (ratio >= 0.50)"
