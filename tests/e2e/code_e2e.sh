#!/usr/bin/env bash
# End-to-end: `qcc code` with a stand-in `claude` that records what it was given. The launcher
# starts a demo server when none runs (and says so), passes every argument through unchanged (a
# `--help` meant for claude included), gives claude ANTHROPIC_BASE_URL and a working client key
# (never the caller's ANTHROPIC_API_KEY), returns claude's exit status, reuses the server and the
# key the next time, and explains what is wrong when claude or the config is missing.
# Usage: code_e2e.sh <path-to-qcc>
set -euo pipefail
qcc="$1"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "code_e2e: FAIL: $*" >&2
  [[ -f "$work/.qcc/code-serve.log" ]] && { echo "--- server log:" >&2; cat "$work/.qcc/code-serve.log" >&2; }
  exit 1
}

# The stand-in: one argument per line (NUL-free, so lines are enough here), then the environment.
mkdir -p "$work/bin" "$work/project"
cat >"$work/bin/claude" <<'SH'
#!/usr/bin/env bash
out="$HOME/claude-run-$(ls "$HOME" | grep -c '^claude-run-')"
{ echo "argc=$#"; for a in "$@"; do echo "arg=$a"; done
  echo "url=${ANTHROPIC_BASE_URL-}"; echo "token=${ANTHROPIC_AUTH_TOKEN-}"
  echo "apikey=${ANTHROPIC_API_KEY-unset}"; } >"$out"
exit 7
SH
chmod +x "$work/bin/claude"
run_code() { (cd "$work/project" && HOME="$work" PATH="$work/bin:$PATH" ANTHROPIC_API_KEY=sk-ant-caller \
  timeout 60 "$qcc" code "$@"); }

# 1. No server yet: qcc code --demo starts one (port 0: the kernel picks), then runs claude.
set +e
run_code --demo --listen 127.0.0.1:0 -c -p 'two words' --flag -- x 2>"$work/err1"
status=$?
set -e
server_pid=$(grep -o 'pid [0-9]*' "$work/err1" | head -1 | grep -o '[0-9]*' || true)
[[ -n "$server_pid" ]] || fail "qcc code did not say it started a server: $(cat "$work/err1")"
[[ $status -eq 7 ]] || fail "qcc code returned $status, not claude's 7: $(cat "$work/err1")"
run="$work/claude-run-0"
[[ -f "$run" ]] || fail "claude did not run"
expected=$'argc=6\narg=-c\narg=-p\narg=two words\narg=--flag\narg=--\narg=x'
[[ "$(head -7 "$run")" == "$expected" ]] || fail "arguments changed on the way: $(cat "$run")"
url=$(grep '^url=' "$run" | cut -d= -f2-)
token=$(grep '^token=' "$run" | cut -d= -f2-)
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "ANTHROPIC_BASE_URL: '$url'"
[[ "$token" == sk-qcc-* ]] || fail "ANTHROPIC_AUTH_TOKEN: '$token'"
grep -qx 'apikey=unset' "$run" || fail "the caller's ANTHROPIC_API_KEY reached claude: $(cat "$run")"
code=$(curl -s -o "$work/answer" -w '%{http_code}' "$url/v1/messages" -H "x-api-key: $token" \
  -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
  -d '{"model":"claude-sonnet-4-5","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}')
[[ "$code" == 200 ]] || fail "the key qcc code gave claude got HTTP $code: $(cat "$work/answer")"

# 2. A server runs: found, not started again; the same key; --help goes to claude, not to qcc.
set +e
run_code --listen "${url#http://}" -- --help 2>"$work/err2"
status=$?
set -e
[[ $status -eq 7 ]] || fail "second run returned $status: $(cat "$work/err2")"
! grep -q 'started QCC' "$work/err2" || fail "a second server was started: $(cat "$work/err2")"
run="$work/claude-run-1"
[[ "$(head -2 "$run")" == $'argc=1\narg=--help' ]] || fail "--help did not reach claude: $(cat "$run")"
grep -qx "token=$token" "$run" || fail "the key was not reused: $(cat "$run")"
keys=$(HOME="$work" "$qcc" key list --listen "${url#http://}" | grep -c 'qcc-code' || true)
[[ "$keys" == 1 ]] || fail "expected one qcc-code key, found $keys"

# 3. Settings that would send Claude Code elsewhere are pointed out.
mkdir -p "$work/.claude"
echo '{"env": {"ANTHROPIC_BASE_URL": "https://elsewhere.example"}}' >"$work/.claude/settings.json"
run_code --listen "${url#http://}" -p hi 2>"$work/err3" || true
grep -q 'settings.json sets env.ANTHROPIC_BASE_URL = https://elsewhere.example' "$work/err3" ||
  fail "no warning about settings.json: $(cat "$work/err3")"

# 4. No claude: a clear message and exit 1, nothing started.
set +e
out=$(HOME="$work" PATH=/usr/bin:/bin "$qcc" code --listen "${url#http://}" --claude /nonexistent/claude 2>&1)
status=$?
set -e
[[ $status -eq 1 && "$out" == *"npm install -g @anthropic-ai/claude-code"* ]] ||
  fail "missing claude: exit $status: $out"

# 5. A broken config: its file and line, exit 2.
printf 'listen = \n' >"$work/bad.toml"
set +e
out=$(HOME="$work" PATH="$work/bin:$PATH" "$qcc" code --config "$work/bad.toml" 2>&1)
status=$?
set -e
[[ $status -eq 2 && "$out" == *"bad.toml"* ]] || fail "bad config: exit $status: $out"
# 6. A user who cannot read the server's admin token (a systemd service's): without a key of its
#    own, qcc code says how to get one (exit 3); with --key it runs and keeps the key for next time.
rm -f "$work/.qcc/code-key.json" "$work/.claude/settings.json"
set +e
out=$(run_code --listen "${url#http://}" --token not-the-admin-token -p hi 2>&1)
status=$?
set -e
[[ $status -eq 3 && "$out" == *"qcc code --key KEY"* ]] || fail "no admin token, no key: exit $status: $out"
before=$(ls "$work" | grep -c '^claude-run-')
run_code --listen "${url#http://}" --token not-the-admin-token --key "$token" -p hi 2>"$work/err6" && true
run="$work/claude-run-$before"
[[ -f "$run" ]] || fail "--key: claude did not run: $(cat "$work/err6")"
grep -qx "token=$token" "$run" || fail "--key was not passed: $(cat "$run")"
run_code --listen "${url#http://}" --token not-the-admin-token -p hi 2>"$work/err7" && true
grep -qx "token=$token" "$work/claude-run-$((before + 1))" || fail "the --key was not kept: $(cat "$work/err7")"
set +e
out=$(run_code --listen "${url#http://}" --key sk-qcc-not-a-key -p hi 2>&1)
status=$?
set -e
[[ $status -eq 2 && "$out" == *"--key: not a client key"* ]] || fail "a wrong --key: exit $status: $out"

echo "code_e2e: ok (server started once on ${url#http://}, arguments and key passed, key reused)"
