#!/usr/bin/env bash
# End-to-end: the dashboard embedded in the built binary, driven in a real browser (Debian's
# Chromium through playwright-core) against `qcc serve --demo`: login, live overview, request log
# and details, endpoints, health checks, keys, settings, sessions, narrow windows, CSRF and logout
# (web/test/dashboard.test.mjs). Exit 77 (skipped) without Chromium or the npm packages.
# Usage: dashboard_e2e.sh <path-to-qcc> <web-dir>
set -euo pipefail
qcc="$1"
web="$2"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "dashboard_e2e: FAIL: $*" >&2; echo "--- qcc output:" >&2; tail -50 "$work/out.log" >&2; exit 1; }

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[[ -x "$chromium" ]] || { echo "dashboard_e2e: no Chromium at $chromium: skipped"; exit 77; }
if [[ ! -d "$web/node_modules/playwright-core" ]]; then
  (cd "$web" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { echo "dashboard_e2e: cannot install the dashboard's npm packages: skipped"; exit 77; }
fi

source "$(dirname "$0")/lib.sh"
HOME="$work" start_qcc "$work/out.log" --demo --workers 1
pid=$qcc_pid
key=$(grep -o 'sk-qcc-[0-9a-f]*' "$work/out.log" | head -1)
[[ -n "$key" ]] || fail "demo printed no client key"
token=$(cat "$work/.qcc/admin.token")
base="http://127.0.0.1:$qcc_port"

# The binary serves the dashboard itself (nothing from web/ at run time).
headers=$(curl -sS -D - -o /dev/null -H 'accept-encoding: gzip' "$base/ui/")
[[ "$headers" == *"content-security-policy: default-src 'self'"* ]] || fail "no CSP on /ui/: $headers"
[[ "$headers" == *"content-encoding: gzip"* ]] || fail "/ui/ not gzip-compressed: $headers"
[[ "$(curl -s -o /dev/null -w '%{redirect_url}' -H 'accept: text/html' "$base/")" == "$base/ui/" ]] ||
  fail "a browser at / is not sent to /ui/"

# demo-flaky answers some requests with 529 or an error event: those fail over, and the tests
# find one and check that its page shows both attempts.
(cd "$web" && QCC_URL="$base" QCC_ADMIN_TOKEN="$token" QCC_CLIENT_KEY="$key" QCC_FAILOVER_SCENARIO=1 \
  CHROMIUM_PATH="$chromium" timeout 300 node test/dashboard.test.mjs) || fail "browser tests failed"
echo "dashboard_e2e: ok"
