#!/usr/bin/env bash
# End-to-end: every shell block of README.md and docs/*.md marked runnable (a fence "```sh runnable"
# or "```bash runnable"; see docs/development.md, "Writing docs") runs as written against
# `qcc serve --demo`, and succeeds.
#
# Usage: docs_e2e.sh <path-to-qcc> [MARKDOWN-FILE...]   (default: README.md and docs/*.md)
#
# How a file's blocks run:
# - All runnable blocks of one file, in file order, are joined into one script run by
#   `bash -euo pipefail`, so a block may use what an earlier block of the same file set (a variable,
#   a file in the working directory); the first failing command ends the file. The budget is
#   QCC_DOCS_BLOCK_TIMEOUT (30) seconds per block for the whole file; a failure or a timeout names
#   the block that was running (file:line of its opening fence), shows it and its output.
# - Each file gets a fresh world: its own demo server (a new store), a temporary HOME and working
#   directory, a clean environment (env -i: HOME, PATH, LANG; no QCC_ADMIN_TOKEN), no stdin.
# - `qcc` on PATH is the binary under test. It finds the demo server as a user's CLI finds theirs:
#   through ~/.qcc/config.toml (`listen` = the port the demo bound) and ~/.qcc/admin.token, which
#   the server writes. The docs say 127.0.0.1:7860 / localhost:7860 (the default address): the real
#   port is substituted for 7860 in exactly those two spellings before a block runs.
# - `curl` on PATH adds --fail-with-body, so a documented curl that gets an HTTP error fails its
#   block, unless the command asks for that itself (-f/--fail, or -w/--write-out to show the status).
# - The network: when the kernel allows it (unshare), everything runs in a private network namespace
#   with only loopback, so a block that would reach beyond the machine fails instead.
#
# A self-test runs first (a deliberately failing block must be reported with its file:line and
# output; an unmarked block must not run; blocks share one shell), and zero runnable blocks fail the
# test. Every process it starts is stopped by PID on exit.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: docs_e2e.sh <path-to-qcc> [MARKDOWN-FILE...]" >&2
  exit 2
fi

# Loopback only: re-run inside a private network namespace when possible (same PID: exec).
if [[ -z "${QCC_DOCS_E2E_NETNS:-}" ]]; then
  export QCC_DOCS_E2E_NETNS=none
  ip_cmd=$(command -v ip || echo /usr/sbin/ip)
  if command -v unshare >/dev/null 2>&1 && unshare -rn "$ip_cmd" link set lo up >/dev/null 2>&1; then
    export QCC_DOCS_E2E_NETNS=private
    exec unshare -rn bash -c '"$1" link set lo up && shift && exec bash "$@"' docs_e2e "$ip_cmd" "$0" "$@"
  fi
fi

qcc=$(realpath "$1")
shift
[[ -x "$qcc" ]] || { echo "docs_e2e: FAIL: no executable qcc at $qcc" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
block_timeout=${QCC_DOCS_BLOCK_TIMEOUT:-30}
real_curl=$(command -v curl) || { echo "docs_e2e: FAIL: curl not found" >&2; exit 1; }
unset QCC_ADMIN_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

work=$(mktemp -d)
pid=""       # the demo server of the file being run
block_pid="" # the `timeout` running a file's script (its own process group)
cleanup() {
  if [[ -n "$block_pid" ]]; then kill -TERM "$block_pid" 2>/dev/null || true; wait "$block_pid" 2>/dev/null || true; fi
  stop_demo || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "docs_e2e: FAIL: $*" >&2; [[ -f "${server_log:-}" ]] && { echo "--- qcc serve output:" >&2; tail -40 "$server_log" >&2; }; exit 1; }
source "$(dirname "$0")/lib.sh"

# The PATH the blocks see first: qcc under test and the failing curl.
bindir="$work/bin"
mkdir -p "$bindir"
ln -s "$qcc" "$bindir/qcc"
cat >"$bindir/curl" <<EOF
#!/usr/bin/env bash
# docs_e2e: an HTTP error fails the command unless it handles the status itself.
for a in "\$@"; do
  case "\$a" in
    --fail | --fail-with-body | --write-out | --write-out=*) exec "$real_curl" "\$@" ;;
    --*) ;;
    -*[fw]*) [[ "\$a" =~ ^-[A-Za-z0-9#:]+\$ ]] && exec "$real_curl" "\$@" ;;
  esac
done
exec "$real_curl" --fail-with-body "\$@"
EOF
chmod +x "$bindir/curl"

# extract MD NAME PORT SCRIPT INDEX: writes the file's runnable blocks to SCRIPT (each preceded by
# `__docs_block 'NAME:LINE'`, 7860 → PORT in URLs) and "LINE END" per block to INDEX; prints the
# number of blocks. Exit 2 (with file:line) on a malformed marker or an unclosed block.
extract() {
  awk -v name="$2" -v port="$3" -v out="$4" -v idx="$5" '
    function lead(s,   i) { i = 0; while (substr(s, i + 1, 1) == " ") i++; return i }
    function ticks(s,   i) { i = 0; while (substr(s, i + 1, 1) == "`") i++; return i }
    BEGIN { inb = 0; n = 0; bad = 0; printf "" > out; printf "" > idx }
    !inb {
      ind = lead($0); rest = substr($0, ind + 1)
      if (rest !~ /^```/) next
      fence = ticks(rest); info = substr(rest, fence + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", info)
      inb = 1; run = 0; findent = ind; start = NR
      if (info ~ /(^|[ \t])runnable([ \t]|$)/) {
        if (info ~ /^(sh|bash)[ \t]+runnable$/) {
          run = 1; n++
          printf "\n__docs_block '\''%s:%d'\''\n", name, NR >> out
        } else {
          printf "%s:%d: malformed runnable marker \"%s\" (write ```sh runnable)\n", name, NR, $0 > "/dev/stderr"
          bad = 1
        }
      }
      next
    }
    {
      ind = lead($0); rest = substr($0, ind + 1)
      if (ind < 4 && rest ~ /^`+[ \t]*$/ && ticks(rest) >= fence) {
        if (run) print start, NR >> idx
        inb = 0; run = 0; next
      }
      if (!run) next
      line = $0; k = 0
      while (k < findent && substr(line, k + 1, 1) == " ") k++
      line = substr(line, k + 1)
      gsub(/127\.0\.0\.1:7860/, "127.0.0.1:" port, line)
      gsub(/localhost:7860/, "localhost:" port, line)
      print line >> out
    }
    END {
      if (inb) { printf "%s:%d: code block never closed\n", name, start > "/dev/stderr"; bad = 1 }
      print n
      exit bad ? 2 : 0
    }' "$1"
}

# run_blocks MD NAME PORT HOME_DIR: runs MD's runnable blocks (see the header) with HOME_DIR as HOME;
# prints the report. Returns 0 when all passed (sets `ran` to their count), 1 on a failure, 2 when
# the markdown is malformed.
run_blocks() {
  local md=$1 name=$2 port=$3 home=$4
  local dir
  dir=$(mktemp -d "$work/run.XXXX")
  mkdir -p "$dir/cwd"
  local script="$dir/blocks.sh" index="$dir/index" marks="$dir/marks" log="$dir/output"
  ran=$(extract "$md" "$name" "$port" "$dir/body.sh" "$index") || return 2
  [[ "$ran" -gt 0 ]] || return 0
  {
    # Each block first records its name and where its output starts.
    printf '__docs_block() { printf "%%s %%s\\n" "$1" "$(wc -c <%q)" >>%q; }\n' "$log" "$marks"
    cat "$dir/body.sh"
  } >"$script"
  : >"$marks"
  local -a keep=()
  local v
  for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
    [[ -n "${!v:-}" ]] && keep+=("$v=${!v}")
  done
  local rc=0
  (cd "$dir/cwd" && exec env -i HOME="$home" PATH="$bindir:$PATH" LANG=C.UTF-8 TMPDIR="$dir" "${keep[@]}" \
    timeout -k 5 "$((block_timeout * ran))" bash -euo pipefail "$script") </dev/null >"$log" 2>&1 &
  block_pid=$!
  wait "$block_pid" || rc=$?
  kill -TERM -- "-$block_pid" 2>/dev/null || true  # anything a block left running in the background
  block_pid=""
  if ((rc == 0)); then
    local started
    started=$(wc -l <"$marks")
    ((started == ran)) && return 0
    echo "docs_e2e: FAIL: $name: only $started of its $ran runnable blocks ran (a block ended the shell" \
      "early: exit?); the last one started: $(tail -n 1 "$marks" | cut -d' ' -f1)" >&2
    return 1
  fi

  local where offset line end
  read -r where offset < <(tail -n 1 "$marks") || true
  if [[ -z "${where:-}" ]]; then
    echo "docs_e2e: FAIL: $name: the blocks did not start (status $rc):" >&2
    cat "$log" >&2
    return 1
  fi
  line=${where##*:}
  end=$(awk -v s="$line" '$1 == s { print $2 }' "$index")
  if ((rc == 124 || rc == 137)); then
    echo "docs_e2e: FAIL: $where: timed out (budget ${block_timeout} s per block of $name)" >&2
  else
    echo "docs_e2e: FAIL: $where: the block failed (exit status $rc)" >&2
  fi
  echo "--- the block (as written; 7860 becomes the demo's port $port):" >&2
  sed -n "$((line + 1)),$((end - 1))p" "$md" >&2
  echo "--- its output:" >&2
  printf "%s\n" "$(tail -c +"$((offset + 1))" "$log")" >&2
  echo "---" >&2
  return 1
}

start_demo() {  # start_demo HOME_DIR: sets pid, port, server_log; points ~/.qcc/config.toml at it
  local home=$1
  server_log="$home/serve.log"
  HOME="$home" start_qcc "$server_log" --demo --workers 1
  pid=$qcc_pid
  port=$qcc_port
  [[ -f "$home/.qcc/admin.token" ]] || fail "the demo wrote no $home/.qcc/admin.token"
  printf 'listen = "127.0.0.1:%s"\n' "$port" >"$home/.qcc/config.toml"
}

stop_demo() {
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done  # bounded: 10 s
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  server_log=""
}

# --- Self-test: the extraction and the failure report work (no server needed). ---
self="$work/selftest"
mkdir -p "$self/home"
{
  printf '# self-test\n\n'                                             # 1-2
  printf '```sh runnable\ngreeting=hello\necho "first block"\n```\n\n' # 3-7
  printf '```sh\nexit 3\n```\n\n'                                      # 8-11: unmarked, never runs
  printf '  ```bash runnable\n  test "$greeting" = hello\n'            # 12-13: shares the shell
  printf '  echo "second block at http://127.0.0.1:7860/x"\n'          # 14
  printf '  false\n  echo "not reached"\n  ```\n'                      # 15-17
} >"$self/fail.md"
sed -e '/^  false$/d' "$self/fail.md" >"$self/pass.md"
printf '```sh runnable\necho ok\n```\n\n```runnable\necho bad marker\n```\n' >"$self/bad.md"

run_blocks "$self/pass.md" selftest/pass.md 4321 "$self/home" 2>"$self/pass.err" ||
  { cat "$self/pass.err" >&2; fail "self-test: the passing blocks did not pass"; }
[[ "$ran" == 2 ]] || fail "self-test: expected 2 runnable blocks in pass.md, found $ran"
set +e
run_blocks "$self/fail.md" selftest/fail.md 4321 "$self/home" 2>"$self/fail.err"
rc=$?
run_blocks "$self/bad.md" selftest/bad.md 4321 "$self/home" 2>"$self/bad.err"
bad_rc=$?
set -e
report=$(cat "$self/fail.err")
[[ $rc == 1 ]] || fail "self-test: a failing block was not reported (status $rc): $report"
[[ "$report" == *"FAIL: selftest/fail.md:12: the block failed (exit status 1)"* ]] ||
  fail "self-test: the report does not name selftest/fail.md:12: $report"
[[ "$report" == *"second block at http://127.0.0.1:4321/x"* ]] ||
  fail "self-test: the report lacks the block's output with the port substituted: $report"
[[ "$report" == *'echo "second block at http://127.0.0.1:7860/x"'* ]] ||
  fail "self-test: the report does not show the block as written: $report"
[[ "$report" != *"first block"* && "$report" != *"not reached"*"not reached"* ]] ||
  fail "self-test: the report shows output that is not the failing block's: $report"
[[ $bad_rc == 2 && "$(cat "$self/bad.err")" == *"selftest/bad.md:5: malformed runnable marker"* ]] ||
  fail "self-test: a malformed marker was not rejected (status $bad_rc): $(cat "$self/bad.err")"
if [[ "$QCC_DOCS_E2E_NETNS" == private ]]; then net="a private namespace: loopback only"; else net="the host's (no private namespace: unshare unavailable)"; fi
echo "docs_e2e: self-test ok; network: $net"

# --- The docs. ---
cd "$root"
if [[ $# -gt 0 ]]; then files=("$@"); else files=(README.md docs/*.md); fi
total=0 nfiles=0 failed=0 checked_curl=""
for md in "${files[@]}"; do
  [[ -f "$md" ]] || fail "no such file: $md"
  n=$(extract "$md" "$md" 7860 /dev/null /dev/null) || fail "$md: malformed runnable block (above)"
  ((n > 0)) || continue
  home=$(mktemp -d "$work/home.XXXX")
  start_demo "$home"
  if [[ -z "$checked_curl" ]]; then  # the curl wrapper fails on an HTTP error (401 here)
    if "$bindir/curl" -s -o /dev/null "http://127.0.0.1:$port/api/status"; then
      fail "curl on the blocks' PATH does not fail on an HTTP error"
    fi
    checked_curl=1
  fi
  if run_blocks "$md" "$md" "$port" "$home"; then
    echo "docs_e2e: $md: $ran block(s) ok"
    total=$((total + ran))
    nfiles=$((nfiles + 1))
  else
    failed=$((failed + 1))
    echo "--- qcc serve output (last 12 lines):" >&2
    tail -12 "$server_log" >&2
  fi
  stop_demo
done
((failed == 0)) || fail "$failed file(s) had a failing block (above)"
((total > 0)) || fail "no runnable blocks found in ${files[*]} (is the \"\`\`\`sh runnable\" marker extracted?)"
echo "docs_e2e: ok: $total runnable block(s) from $nfiles file(s) ran against the demo"
