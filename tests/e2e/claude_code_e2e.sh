#!/usr/bin/env bash
# End-to-end: the real Claude Code CLI (npm @anthropic-ai/claude-code, headless) completes a tool
# round trip through `qcc serve --demo`, then again with only its OpenAI-compatible endpoint. Exit 77 (skipped) when the CLI cannot be installed.
# Usage: claude_code_e2e.sh <path-to-qcc> <cache-dir>
set -euo pipefail
qcc="$1"
cache="$2"
work=$(mktemp -d)
pid=""
sim_pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "claude_code_e2e: FAIL: $*" >&2; echo "--- qcc output:" >&2; cat "$work/out.log" >&2; exit 1; }

claude="$cache/node_modules/.bin/claude"
if [[ ! -x "$claude" ]]; then
  mkdir -p "$cache"
  if ! (cd "$cache" && timeout 300 npm install --no-audit --no-fund --silent @anthropic-ai/claude-code >/dev/null 2>&1); then
    echo "claude_code_e2e: cannot install @anthropic-ai/claude-code from npm: skipped"
    exit 77
  fi
fi
"$claude" --version >/dev/null 2>&1 || { echo "claude_code_e2e: claude CLI does not run here: skipped"; exit 77; }

source "$(dirname "$0")/lib.sh"
HOME="$work" start_qcc "$work/out.log" --demo --workers 1
pid=$qcc_pid
port=$qcc_port
key=$(grep -o 'sk-qcc-[0-9a-f]*' "$work/out.log" | head -1)
[[ -n "$key" ]] || fail "demo printed no client key"

mkdir -p "$work/project"
# Runs the CLI headless in the project directory; prints its output, returns its exit status.
run_claude() {
  (cd "$work/project" && HOME="$work" ANTHROPIC_BASE_URL="http://127.0.0.1:$port" \
    ANTHROPIC_AUTH_TOKEN="$key" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
    DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 timeout 120 "$claude" -p "$@" 2>&1)
}
# The management CLI, against this server (the admin token is under $work/.qcc).
admin() { HOME="$work" "$qcc" "$@" --listen "127.0.0.1:$port" >/dev/null || fail "qcc $* failed"; }

out=$(run_claude 'run `echo qcc-e2e-marker`' --allowedTools Bash) || fail "claude exited non-zero: $out"
# The simulated model asked for the Bash tool, Claude Code ran it, and the second request carried
# the tool_result back through QCC: the final answer quotes the command's output.
[[ "$out" == *"qcc-e2e-marker"* ]] || fail "no tool round trip in the answer: $out"
await_log "$work/out.log" 'request .*POST /v1/messages.* status=200' 2 ||
  fail "expected at least 2 proxied Messages requests, saw $(grep -c 'request .*POST /v1/messages.* status=200' "$work/out.log")"
grep -q 'session=[0-9a-f-]\{36\}' "$work/out.log" || fail "no Claude Code session id recognised"
proxied=$(grep -c 'request .*POST /v1/messages.* status=200' "$work/out.log")

# `qcc code`: the launcher finds this server and runs the same CLI through it, with a client key
# of its own and every argument passed through.
out=$(cd "$work/project" && HOME="$work" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
  DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 ANTHROPIC_API_KEY=sk-ant-not-for-qcc timeout 120 \
  "$qcc" code --listen "127.0.0.1:$port" --claude "$claude" -p 'run `echo qcc-code-marker`' \
  --allowedTools Bash 2>&1) || fail "qcc code exited non-zero: $out"
[[ "$out" == *"qcc-code-marker"* ]] || fail "no tool round trip through qcc code: $out"
await_log "$work/out.log" 'POST /v1/messages.* key=qcc-code .*status=200' 2 ||
  fail "expected 2 Messages requests with qcc code's key"
[[ "$out" != *"started QCC"* ]] || fail "qcc code started a server although one runs: $out"

# Only the OpenAI-compatible endpoint left: QCC translates every request to Chat Completions and
# every answer (streamed tool call included) back; the CLI cannot tell, and the round trip works.
for e in demo-fast demo-slow demo-flaky; do admin endpoint disable "$e"; done
served_by_openai() { grep -c 'POST /v1/messages[? ].*endpoint=demo-openai status=200' "$work/out.log" || true; }
before=$(served_by_openai)
out=$(run_claude 'run `echo qcc-openai-marker`' --allowedTools Bash) || fail "claude via demo-openai exited non-zero: $out"
[[ "$out" == *"qcc-openai-marker"* ]] || fail "no tool round trip through the OpenAI endpoint: $out"
await_log "$work/out.log" 'POST /v1/messages[? ].*endpoint=demo-openai status=200' $((before + 2)) ||
  fail "expected 2 more Messages requests served by demo-openai"
grep -q 'endpoint=demo-openai.*stream=true\|stream=true.*endpoint=demo-openai' "$work/out.log" ||
  fail "no streamed request went to demo-openai"
openai_served=$(( $(served_by_openai) - before ))

# Every endpoint disabled: the CLI must stop at once with QCC's message and the fix, after one
# request (without `x-should-retry: false` it retried for minutes, printing nothing).
admin endpoint disable demo-openai
t0=$(date +%s%N)
out=$(run_claude 'say hi') && fail "claude succeeded with every endpoint disabled: $out"
t_disabled=$(( ($(date +%s%N) - t0) / 1000000 ))
[[ "$out" == *"no upstream endpoint is enabled"* && "$out" == *"qcc endpoint enable"* ]] ||
  fail "the CLI did not show QCC's message: $out"
await_log "$work/out.log" 'class=no_endpoint_enabled' || fail "no no_endpoint_enabled request logged"
n=$(grep -c 'class=no_endpoint_enabled' "$work/out.log")
(( n == 1 )) || fail "the CLI asked $n times; x-should-retry: false should stop it after one"

# The only endpoint is rate-limited once (a 429 without retry-after: QCC cools it down for 3 s):
# the CLI's retry gets 503 with retry-after, waits, and succeeds without anyone doing anything.
"$qcc" sim --profile ratelimited-once --listen 127.0.0.1:0 >"$work/sim.log" 2>&1 &
sim_pid=$!
sim_url=""
for _ in $(seq 1 200); do
  sim_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/sim.log" || true)
  [[ -n "$sim_url" ]] && break
  sleep 0.05  # polling interval of a bounded wait (10 s)
done
[[ -n "$sim_url" ]] || fail "qcc sim did not start: $(cat "$work/sim.log")"
admin endpoint add solo --url "$sim_url" --key sk-ant-solo
admin settings set cooldown.rate_limited 3s
t0=$(date +%s%N)
out=$(run_claude 'say hi') || fail "claude did not wait out the cooldown: $out"
t_cooling=$(( ($(date +%s%N) - t0) / 1000000 ))
[[ "$out" == *"You said"* ]] || fail "no answer after the cooldown: $out"
await_log "$work/out.log" 'endpoint=solo status=200' || fail "no successful request on solo logged"
grep -q 'tried=\[solo:rate_limited\]' "$work/out.log" || fail "the 429 was not seen"
grep -q 'class=all_cooling' "$work/out.log" || fail "the CLI's retry did not meet the cooldown answer"
echo "claude_code_e2e: ok ($proxied requests proxied; $openai_served through the OpenAI endpoint;" \
  "every endpoint disabled: CLI exited after" \
  "${t_disabled} ms; only endpoint cooling 3 s: CLI answered after ${t_cooling} ms)"
