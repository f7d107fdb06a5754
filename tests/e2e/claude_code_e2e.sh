#!/usr/bin/env bash
# End-to-end: the real Claude Code CLI (npm @anthropic-ai/claude-code, headless) completes a tool
# round trip through `qcc serve --demo`. Exit 77 (skipped) when the CLI cannot be installed.
# Usage: claude_code_e2e.sh <path-to-qcc> <cache-dir>
set -euo pipefail
qcc="$1"
cache="$2"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
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
out=$(cd "$work/project" && HOME="$work" ANTHROPIC_BASE_URL="http://127.0.0.1:$port" \
  ANTHROPIC_AUTH_TOKEN="$key" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
  DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
  timeout 120 "$claude" -p 'run `echo qcc-e2e-marker`' --allowedTools Bash 2>&1) || fail "claude exited non-zero: $out"
# The simulated model asked for the Bash tool, Claude Code ran it, and the second request carried
# the tool_result back through QCC: the final answer quotes the command's output.
[[ "$out" == *"qcc-e2e-marker"* ]] || fail "no tool round trip in the answer: $out"
await_log "$work/out.log" 'request .*POST /v1/messages.* status=200' 2 ||
  fail "expected at least 2 proxied Messages requests, saw $(grep -c 'request .*POST /v1/messages.* status=200' "$work/out.log")"
grep -q 'session=[0-9a-f-]\{36\}' "$work/out.log" || fail "no Claude Code session id recognised"
echo "claude_code_e2e: ok ($(grep -c 'request .*POST /v1/messages.* status=200' "$work/out.log") requests proxied)"
