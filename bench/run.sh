#!/bin/sh
# bench/run.sh -- kawat's benchmarks: durable submissions through the API,
# page and JSON reads under wrk, and the server's resident memory. Prints
# figures to compare between runs and machines, never pass or fail.
#
#   sh bench/run.sh /path/to/kawat        (make bench passes build/kawat)
#
# Knobs (environment): BENCH_SECONDS (each submission run, default 5),
# BENCH_CONNECTIONS (default "1 16 64 256"), WRK_SECONDS (default 10),
# TMPDIR (where the fresh data folder goes; use a real disk, not tmpfs).
# Every load targets 127.0.0.1 and is bounded in time.

set -u

KAWAT=${1:-}
if [ -z "$KAWAT" ] || [ ! -x "$KAWAT" ]; then
    echo "usage: sh bench/run.sh /path/to/kawat" >&2
    exit 2
fi
case $KAWAT in /*) ;; *) KAWAT=$(pwd)/$KAWAT ;; esac
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64 256"}
WRK_SECONDS=${WRK_SECONDS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CC=${CC:-cc}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kawat-bench.XXXXXX") || exit 1
PID=
SAMPLER=

cleanup() {
    if [ -n "$SAMPLER" ]; then kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; fi
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        i=0
        while kill -0 "$PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hr() { echo "------------------------------------------------------------------------------"; }
load() { awk '{print $1, $2, $3}' /proc/loadavg; }
rss_now() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null; }
# phase NAME (no spaces): tags the memory samples; renamed into place so the
# sampler never reads a half-written name.
phase() { echo "$1" > "$TMP/phase.new" && mv -f "$TMP/phase.new" "$TMP/phase"; }
# metric NAME: the value of one unlabelled series from /metrics (loopback).
metric() { curl -s "http://$ADDR/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'; }

# --- the machine --------------------------------------------------------------
echo "kawat benchmarks  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
hr
echo "binary        $KAWAT ($("$KAWAT" version 2>/dev/null | head -n 1))"
echo "cpus (nproc)  $(nproc)  $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "load average  $(load)  (1/5/15 min, before the runs)"
echo "data folder   $TMP ($(stat -f -c %T "$TMP") file system)"
if [ "$(stat -f -c %T "$TMP")" = "tmpfs" ]; then
    echo "WARNING       data folder is on tmpfs: fsync costs nothing, submission figures are not durable ones"
fi
echo "note          client and server share these cpus; compare ratios, not absolutes"

if ! $CC -O2 -o "$TMP/bench_submit" "$HERE/bench_submit.c"; then
    echo "cannot build bench/bench_submit.c" >&2
    exit 1
fi

# --- the server ---------------------------------------------------------------
# Port 0: the kernel picks a free port and kawat prints it.
(cd "$ROOT" && exec "$KAWAT" serve --listen 127.0.0.1:0 --data "$TMP/data" --demo \
    --access-log off) > "$TMP/server.log" 2>&1 &
PID=$!
ADDR=
i=0
while [ -z "$ADDR" ] && [ $i -lt 200 ]; do
    ADDR=$(sed -n 's|^kawat: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$TMP/server.log")
    kill -0 "$PID" 2>/dev/null || break
    [ -z "$ADDR" ] && sleep 0.05
    i=$((i + 1))
done
if [ -z "$ADDR" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/healthz")" != 200 ]; then
    echo "kawat did not start:" >&2
    cat "$TMP/server.log" >&2
    exit 1
fi
sleep 1
IDLE_RSS=$(rss_now)
echo "server        pid $PID at http://$ADDR, 24 demo releases loaded"
echo

# Resident memory sampler: every 200 ms, "<phase> <VmRSS kB>".
phase idle
(
    while kill -0 "$PID" 2>/dev/null; do
        r=$(rss_now)
        [ -n "$r" ] && echo "$(cat "$TMP/phase") $r"
        sleep 0.2
    done
) > "$TMP/rss" 2>/dev/null &
SAMPLER=$!

# --- a. durable submissions ---------------------------------------------------
echo "a. Durable submissions: POST /v1/releases as an issuer, keep-alive, closed loop"
echo "   (each answer only after its group commit is fsync'ed), ${BENCH_SECONDS} s per row"
hr
printf '%6s %9s %7s %9s %8s %8s %6s | %7s %8s %9s\n' \
    conns requests seconds 'req/s' 'p50 ms' 'p99 ms' errors fsyncs ops 'ops/fsync'
TOKEN=$("$KAWAT" token create --data "$TMP/data" --role issuer --name "Bench Issuer" 2>>"$TMP/server.log")
if [ -z "$TOKEN" ]; then
    echo "cannot create an issuer token" >&2
    exit 1
fi
BEST_RPS=0
BEST_CONNS=0
for c in $BENCH_CONNECTIONS; do
    phase "submit-$c"
    b0=$(metric kawat_store_write_batches_total)
    o0=$(metric kawat_store_write_ops_total)
    line=$(KAWAT_TOKEN=$TOKEN "$TMP/bench_submit" -a "$ADDR" -c "$c" -d "$BENCH_SECONDS" \
        2>"$TMP/submit.err")
    b1=$(metric kawat_store_write_batches_total)
    o1=$(metric kawat_store_write_ops_total)
    echo "$line $b0 $b1 $o0 $o1" | awk '{
        for (i = 1; i <= 7; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        fs = $9 - $8; ops = $11 - $10
        printf "%6s %9s %7s %9s %8s %8s %6s | %7d %8d %9.1f\n", v["connections"], v["requests"],
            v["seconds"], v["req_per_s"], v["p50_ms"], v["p99_ms"], v["errors"], fs, ops,
            (fs > 0 ? ops / fs : 0) }'
    if [ -s "$TMP/submit.err" ]; then sed 's/^/       /' "$TMP/submit.err"; fi
    rps=$(echo "$line" | sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p')
    if [ -n "$rps" ] && awk -v a="$rps" -v b="$BEST_RPS" 'BEGIN {exit !(a > b)}'; then
        BEST_RPS=$rps
        BEST_CONNS=$c
    fi
    sleep 1
done
echo "largest group commit so far: $(metric kawat_store_write_batch_max) ops"
echo "aim (issue): 5000 durable submissions/s with group commit; best here: $BEST_RPS/s at $BEST_CONNS connections"
echo

# --- b. reads under wrk -------------------------------------------------------
echo "b. Reads: wrk -t2 -c64 -d${WRK_SECONDS}s --latency"
hr
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed (apt-get install wrk); skipped"
else
    LIST=$(curl -s "http://$ADDR/v1/releases?language=en&limit=100")
    # The launch release (6 languages) is the richest page; else the newest one.
    RID=$(echo "$LIST" | tr '{' '\n' | grep '"translation_group":"kawat-launch"' |
        sed -n 's/^"id":"\([a-z0-9]*\)".*/\1/p' | head -n 1)
    [ -z "$RID" ] && RID=$(echo "$LIST" | sed -n 's/^{"items":\[{"id":"\([a-z0-9]*\)".*/\1/p')
    printf '%-34s %8s %9s %9s %9s %8s %7s\n' target status 'req/s' p50 p99 non-2xx 'sock err'
    for path in "/en/releases/$RID" /en/ "/v1/releases/$RID"; do
        phase "wrk:$path"
        status=$(curl -s -o "$TMP/page" -w '%{http_code}' "http://$ADDR$path")
        bytes=$(wc -c < "$TMP/page" | tr -d ' ')
        wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "http://$ADDR$path" > "$TMP/wrk.out" 2>&1
        awk -v t="$path" -v s="$status" '
            /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2} /^Requests\/sec:/ {rps = $2}
            /Non-2xx or 3xx responses:/ {bad = $NF}
            /Socket errors:/ {gsub(",", ""); err = $4 + $6 + $8 + $10}
            END {printf "%-34s %8s %9s %9s %9s %8d %7d\n", t, s, rps, p50, p99, bad, err}' \
            "$TMP/wrk.out"
        echo "$path $bytes" >> "$TMP/sizes"
        sleep 1
    done
    echo "response sizes (bytes): $(awk '{printf "%s%s %s", sep, $1, $2; sep = ", "}' "$TMP/sizes")"
    echo
    phase pages
    sh "$HERE/pages.sh" "$ADDR" "$RID"
fi
echo

# --- c. memory ----------------------------------------------------------------
phase end
sleep 0.5
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=
echo "c. Resident memory (VmRSS, sampled every 200 ms)"
hr
printf '%-34s %10s\n' 'phase (submit-N: N connections)' 'peak MiB'
printf '%-34s %10.1f\n' "idle after start (1 s)" "$(echo "${IDLE_RSS:-0}" | awk '{print $1 / 1024}')"
awk '{ if (!($1 in peak)) order[n++] = $1; if ($2 > peak[$1]) peak[$1] = $2 }
     END { for (i = 0; i < n; i++) printf "%-34s %10.1f\n", order[i], peak[order[i]] / 1024 }' \
    "$TMP/rss" | grep -v '^idle \|^end '
printf '%-34s %10.1f\n' "high-water mark (kernel's VmHWM)" \
    "$(awk '/^VmHWM/ {print $2 / 1024}' "/proc/$PID/status")"
printf '%-34s %10.1f\n' "now, after the runs" "$(rss_now | awk '{print $1 / 1024}')"
echo "database after the runs: $(du -sk "$TMP/data" | awk '{printf "%.1f MiB", $1 / 1024}')"
echo
echo "load average  $(load)  (after the runs)"

# --- stop ---------------------------------------------------------------------
kill -TERM "$PID"
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$PID" 2>/dev/null; then
    echo "server did not stop within 15 s of SIGTERM; killed"
    kill -KILL "$PID"
else
    wait "$PID"
    echo "server stopped (exit $?)"
fi
PID=

# --- d. the matcher (in process) ------------------------------------------------
# bench_match builds the subscription index of src/match/ in its own
# process, no server: MATCH_SUBSCRIPTIONS (default 3500000) synthetic
# subscriptions at the issue's skew, MATCH_RELEASES (1000) releases to
# match, MATCH_UPDATES (10000) replacements. About 30 s and 400 MiB at the
# defaults. MATCH_SUBSCRIPTIONS=0 skips it.
MATCH_SUBSCRIPTIONS=${MATCH_SUBSCRIPTIONS:-3500000}
if [ "$MATCH_SUBSCRIPTIONS" -gt 0 ] 2>/dev/null; then
    echo
    echo "d. The matcher, in process: $MATCH_SUBSCRIPTIONS subscriptions (bench/bench_match.c)"
    hr
    if $CC -O2 -std=c17 -D_GNU_SOURCE -I"$ROOT/src" $(pkg-config --cflags jansson icu-uc) \
        -o "$TMP/bench_match" "$HERE/bench_match.c" "$ROOT"/src/match/match_*.c \
        "$ROOT/src/core/core_buf.c" "$ROOT/src/core/core_lang.c" "$ROOT/src/core/core_region.c" \
        "$ROOT/src/core/core_sector.c" "$ROOT/src/core/core_release.c" \
        "$ROOT/src/core/core_time.c" $(pkg-config --libs jansson icu-uc icu-i18n) -lm; then
        "$TMP/bench_match" -n "$MATCH_SUBSCRIPTIONS" -r "${MATCH_RELEASES:-1000}" \
            -u "${MATCH_UPDATES:-10000}"
        echo "aim (issue): match p50/p99 under 2 ms, under 64 bytes per subscription"
    else
        echo "cannot build bench/bench_match.c; skipped"
    fi
fi

# --- e. SSE fan-out against nginx + Nchan (minutes; see bench/README.md) -----
if [ "${FANOUT:-0}" = 1 ]; then echo; sh "$HERE/fanout.sh" "$KAWAT"; fi
