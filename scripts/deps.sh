#!/bin/sh
# Installs every Debian package kawat builds, tests and benchmarks with.
# Idempotent: installs only what is missing, so `make run` and `make check`
# can call it every time at the cost of one dpkg query.
set -eu

PKGS="build-essential pkg-config ca-certificates
libuv1-dev libhttp-parser-dev libwslay-dev libjansson-dev libsqlite3-dev
libicu-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libxml2-dev libxml2-utils
libcurl4-openssl-dev libssl-dev libargon2-dev libcmocka-dev
sqlite3 curl procps
python3 python3-pytest python3-feedparser python3-aiosmtpd python3-jsonschema
nodejs chromium fonts-noto-core fonts-noto-cjk
wrk nginx"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing:$missing (run as root, or install them)" >&2
        exit 1
    fi
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # nginx is only the benchmarks' reference server (bench/pages.sh runs
    # its own on loopback): its package must not start a service on port
    # 80, so services stay down while installing (policy-rc.d, 101).
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy=1
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# nodesource's nodejs bundles npm; Debian's splits it out.
if ! command -v npm >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends npm
fi

# Browser tests drive Debian's chromium with playwright-core from npm
# (never a downloaded browser build).
root=$(cd "$(dirname "$0")/.." && pwd)
nm="$root/tests/browser/node_modules"
if [ ! -d "$nm/playwright-core" ] || [ ! -d "$nm/eventsource" ] || [ ! -d "$nm/ws" ]; then
    echo "deps: npm install (tests/browser)"
    (cd "$root/tests/browser" && npm install --no-audit --no-fund --silent)
fi
