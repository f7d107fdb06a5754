#!/usr/bin/env bash
# End-to-end (issue #5 "done means"): after a demo session, `qcc stats` and `qcc logs` tell the
# story of every request, the same numbers appear in /api/stats and /metrics, and they are still
# there after a restart. Usage: observability_e2e.sh <path-to-qcc>
set -euo pipefail
qcc="$1"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "observability_e2e: FAIL: $*" >&2; echo "--- qcc output:" >&2; cat "$work/out.log" >&2; exit 1; }
export HOME="$work"
source "$(dirname "$0")/lib.sh"

start() {
  start_qcc "$work/out.log" --demo --workers 1
  pid=$qcc_pid
  port=$qcc_port
}
stop() {
  kill -TERM "$pid"
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then fail "qcc did not stop within 10 s of SIGTERM"; fi
  wait "$pid" || fail "qcc exited with status $?"
  pid=""
}
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log(eval(process.argv[1]))})" "$1"; }

start
key=$(grep -o 'sk-qcc-[0-9a-f]*' "$work/out.log" | head -1)
[[ -n "$key" ]] || fail "demo printed no client key"
token=$(cat "$work/.qcc/admin.token")
cli=("$qcc" --listen "127.0.0.1:$port")

n=8
for i in $(seq 1 "$n"); do
  curl -sN --max-time 20 "http://127.0.0.1:$port/v1/messages" -H "x-api-key: $key" \
    -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    -H "x-claude-code-session-id: e2e-session-$(( i % 2 ))" \
    -d '{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hello QCC"}]}' >/dev/null \
    || fail "request $i failed"
done

# The writer batches rows; await them with a deadline.
for _ in $(seq 1 100); do
  count=$("$qcc" stats --listen "127.0.0.1:$port" --window 1h --json | json 'j.totals.count') || true
  [[ "$count" == "$n" ]] && break
  sleep 0.1
done
[[ "$count" == "$n" ]] || fail "qcc stats counted $count requests, expected $n"

by_endpoint=$("$qcc" stats --listen "127.0.0.1:$port" --window 1h --by endpoint --json | json 'j.rows.reduce((a,r)=>a+r.count,0)')
[[ "$by_endpoint" == "$n" ]] || fail "per-endpoint rows sum to $by_endpoint, expected $n"
"$qcc" stats --listen "127.0.0.1:$port" --window 1h --by endpoint | grep -q 'demo-' || fail "stats table names no demo endpoint"

logs=$("$qcc" logs --listen "127.0.0.1:$port" --limit 100 --json | json 'j.requests.length')
[[ "$logs" == "$n" ]] || fail "qcc logs shows $logs rows, expected $n"
"$qcc" logs --listen "127.0.0.1:$port" --limit 100 | grep -q 'claude-sonnet-4-5' || fail "logs table lacks the model"

api=$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/stats?window=1h" | json 'j.totals.count')
[[ "$api" == "$n" ]] || fail "/api/stats says $api"

metrics=$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/metrics")
served=$(echo "$metrics" | awk '/^qcc_requests_total\{/ {s+=$2} END {print s+0}')
[[ "$served" == "$n" ]] || fail "/metrics qcc_requests_total sums to $served, expected $n"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
[[ "$code" == 401 ]] || fail "/metrics without the admin token returned $code"

stop
start
after=$("$qcc" stats --listen "127.0.0.1:$port" --window 24h --json | json 'j.totals.count')
[[ "$after" == "$n" ]] || fail "after a restart qcc stats counts $after, expected $n"
logs=$("$qcc" logs --listen "127.0.0.1:$port" --limit 100 --json | json 'j.requests.length')
[[ "$logs" == "$n" ]] || fail "after a restart qcc logs shows $logs rows"
stop
echo "observability_e2e: ok"
