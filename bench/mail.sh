#!/bin/sh
# bench/mail.sh -- e-mail alerts at the reference scale: N journalists
# (86,000 by default) whose beats all match one release; the release is
# published and every alert is handed to a local SMTP sink. Prints the
# rate of mails handed over and the time from the publish until the last
# was accepted; figures to compare, never pass or fail.
#
#   sh bench/mail.sh /path/to/kawat       (a release build: make all)
#
# Knobs (environment): MAIL_N (journalists, default 86000), MAIL_CONNECTIONS
# (SMTP connections, default 64), MAIL_TIMEOUT (seconds to wait for all,
# default 600), TMPDIR (the data folder; a real disk, not tmpfs).
# The journalists are written straight into the stopped server's store
# (bench/mail_seed.py): 86,000 sign-ups and confirmations through the API
# would measure the sign-up, not the mail. The sink (bench/smtp_sink.py)
# answers 250 to everything and keeps nothing.

set -u
KAWAT=${1:-}
if [ -z "$KAWAT" ] || [ ! -x "$KAWAT" ]; then
    echo "usage: sh bench/mail.sh /path/to/kawat" >&2
    exit 2
fi
case $KAWAT in /*) ;; *) KAWAT=$(pwd)/$KAWAT ;; esac
N=${MAIL_N:-86000}
CONNS=${MAIL_CONNECTIONS:-64}
WAIT=${MAIL_TIMEOUT:-600}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-/usr/bin/python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kawat-mail.XXXXXX") || exit 1
PID=
SINK=

cleanup() {
    for p in $PID $SINK; do
        if kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null
            i=0
            while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            kill -KILL "$p" 2>/dev/null
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port)
SMTP=$(port)
DATA=$TMP/data
BASE=http://127.0.0.1:$HTTP

start() {
    "$KAWAT" serve --listen 127.0.0.1:$HTTP --data "$DATA" --access-log off "$@" \
        >>"$TMP/server.log" 2>&1 &
    PID=$!
    i=0
    until curl -sf "$BASE/healthz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then echo "kawat did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; fi
        sleep 0.05
    done
}
stop() {
    kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
}

echo "== e-mail alerts: $N journalists, one release matching all, $CONNS SMTP connections"
start
stop
t0=$(date +%s.%N)
$PY "$HERE/mail_seed.py" "$DATA" "$N" --prefix journalist --filters '[{"sectors": ["business"]}]' || exit 1
t1=$(date +%s.%N)
echo "seeded $N journalists in $(echo "$t1 - $t0" | bc) s"

$PY "$HERE/smtp_sink.py" "$SMTP" "$TMP/sink" &
SINK=$!
start --smtp "smtp://127.0.0.1:$SMTP" --mail-from alerts@bench.example --mail-connections "$CONNS"
ISSUER=$("$KAWAT" token create --data "$DATA" --role issuer --name Bench --issuer "Bench Corp")
EDITOR=$("$KAWAT" token create --data "$DATA" --role editor --name Editor)
REL=$(curl -sf -X POST "$BASE/v1/releases" -H "Authorization: Bearer $ISSUER" \
    -H 'Content-Type: application/json' \
    -d '{"headline":"Bench release for every journalist","body":"Read [the report](https://example.com/report).","language":"en","sectors":["Business"],"regions":["ID"]}' |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST "$BASE/v1/releases/$REL/submit" -H "Authorization: Bearer $ISSUER" >/dev/null
rss0=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
tp=$(date +%s.%N)
curl -sf -X POST "$BASE/v1/releases/$REL/approve" -H "Authorization: Bearer $EDITOR" >/dev/null
peak=$rss0
while :; do
    set -- $(cat "$TMP/sink" 2>/dev/null || echo "0 0 0")
    count=$1 first=$2 last=$3
    r=$(awk '/VmRSS/ {print $2}' /proc/$PID/status 2>/dev/null || echo 0)
    [ "$r" -gt "$peak" ] && peak=$r
    [ "$count" -ge "$N" ] && break
    if [ "$(echo "$(date +%s.%N) - $tp > $WAIT" | bc)" = 1 ]; then
        echo "timed out after $WAIT s with $count of $N mails" >&2
        break
    fi
    sleep 0.2
done
echo "mails accepted by the sink:     $count of $N"
echo "publish to first mail:          $(echo "$first - $tp" | bc) s"
echo "publish to last mail:           $(echo "$last - $tp" | bc) s"
echo "mails per second (first-last):  $(echo "scale=0; ($count - 1) / ($last - $first)" | bc)"
echo "mails per second (publish-last): $(echo "scale=0; $count / ($last - $tp)" | bc)"
echo "server RSS before / peak:       $((rss0 / 1024)) MiB / $((peak / 1024)) MiB"
curl -s "$BASE/metrics" | grep -E '^kawat_mail_(sent_total|pending|failures_total)' | sed 's/^/  /'
