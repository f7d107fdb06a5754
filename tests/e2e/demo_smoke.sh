#!/usr/bin/env bash
# End-to-end: the built binary in demo mode, driven with curl as a new user would (README).
# Usage: demo_smoke.sh <path-to-qcc>
set -euo pipefail
qcc="$1"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "demo_smoke: FAIL: $*" >&2; echo "--- qcc output:" >&2; cat "$work/out.log" >&2; exit 1; }

source "$(dirname "$0")/lib.sh"
HOME="$work" start_qcc "$work/out.log" --demo --workers 1
pid=$qcc_pid
port=$qcc_port
key=$(grep -o 'sk-qcc-[0-9a-f]*' "$work/out.log" | head -1)
# The next steps name a command that runs: this binary's path unless `qcc` on PATH is this binary.
self=$(readlink -f "$qcc")
on_path=$(command -v qcc 2>/dev/null || true)
if [[ -n "$on_path" && "$(readlink -f "$on_path")" == "$self" ]]; then cmd=qcc; else cmd=$self; fi
await_log "$work/out.log" "  $cmd code --listen 127.0.0.1:$qcc_port -p " ||
  fail "the banner does not show how to run qcc code with this binary ($cmd)"
[[ -n "$key" ]] || fail "demo printed no client key"

# HEAD / warm-up as older Claude Code versions send it.
code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$port/")
[[ "$code" == 200 ]] || fail "HEAD / returned $code"

# No key: 401 in Anthropic format.
body=$(curl -s "http://127.0.0.1:$port/v1/messages" -H 'content-type: application/json' -d '{}')
[[ "$body" == *'"authentication_error"'* ]] || fail "missing key not rejected: $body"

# A streamed reply through the demo endpoints (the flaky one may fail over; the answer must arrive).
for i in 1 2 3 4 5 6; do
  out=$(curl -sN --max-time 20 "http://127.0.0.1:$port/v1/messages" -H "x-api-key: $key" \
    -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hello QCC"}]}')
  [[ "$out" == *"event: message_start"* ]] || fail "request $i: no message_start: $out"
  [[ "$out" == *"event: message_stop"* || "$out" == *"event: error"* ]] || fail "request $i: stream neither completed nor ended with an error event: $out"
done
await_log "$work/out.log" 'request .* status=200' || fail "no request line logged"

# Graceful stop on SIGTERM.
kill -TERM "$pid"
for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then fail "qcc did not stop within 10 s of SIGTERM"; fi
wait "$pid" || fail "qcc exited with status $?"
pid=""
echo "demo_smoke: ok"
