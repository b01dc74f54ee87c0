#!/bin/sh
# bench/webhooks.sh -- outlet webhooks at network scale (bench/webhooks.py):
# starts kawat on loopback with a fresh data folder and --webhook-allow
# 127.0.0.0/8, makes an issuer and an editor, and measures the time from
# publish until 6,500 endpoints have the release, 1% of them failing.
#
#   sh bench/webhooks.sh /path/to/kawat      (make bench passes build/kawat)
#
# Knobs: WEBHOOK_ENDPOINTS (default 6500), TMPDIR.
set -u
KAWAT=${1:-}
if [ -z "$KAWAT" ] || [ ! -x "$KAWAT" ]; then
    echo "usage: sh bench/webhooks.sh /path/to/kawat" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kawat-webhooks.XXXXXX") || exit 1
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        i=0
        while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$KAWAT" serve --listen 127.0.0.1:0 --data "$TMP/data" --access-log off \
    --webhook-allow 127.0.0.0/8 > "$TMP/server.log" 2>&1 &
PID=$!
ADDR=
i=0
while [ -z "$ADDR" ] && [ $i -lt 200 ]; do
    ADDR=$(sed -n 's|^kawat: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$TMP/server.log")
    [ -z "$ADDR" ] && sleep 0.05
    i=$((i + 1))
done
if [ -z "$ADDR" ]; then
    cat "$TMP/server.log" >&2
    exit 1
fi
ISSUER=$("$KAWAT" token create --data "$TMP/data" --role issuer --name "Bench Issuer" \
    --issuer "Bench Issuer")
EDITOR=$("$KAWAT" token create --data "$TMP/data" --role editor --name "Bench Editor")
echo "Webhooks for outlets: one release to ${WEBHOOK_ENDPOINTS:-6500} endpoints on loopback, 1% failing"
/usr/bin/python3 "$HERE/webhooks.py" "$ADDR" "$ISSUER" "$EDITOR"
curl -s "http://$ADDR/metrics" | grep -E '^kawat_webhook' | sed 's/^/metric        /'
