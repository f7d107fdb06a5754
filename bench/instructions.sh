#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind: the figure that does not move with the
# machine's load (CPU time does, by ±10 % on a shared host), so a change to the request path can be
# judged by it before bench/run.sh confirms it in microseconds. Not a test.
#
# QCC runs its default configuration (request log, a log line per request, metrics) with one
# worker under `valgrind --tool=callgrind`, in front of `qcc sim --profile bench`; wrk sends the
# 2 KiB Claude Code request of bench/run.sh at BENCH_CONNECTIONS connections for BENCH_SECONDS.
# Counting starts after a warm-up and covers every thread. Prints instructions per request in
# total, on the worker and on the request-log writer, then the functions that cost the most per
# request (inclusive). The callgrind file stays in bench/out/instructions/ for callgrind_annotate
# or kcachegrind.
#
# Environment (all optional):
#   QCC_BIN                 qcc binary (default: build/release/src/qcc, built if missing)
#   BENCH_SECONDS=20        counted seconds (under valgrind QCC serves some 500-900 requests a second)
#   BENCH_CONNECTIONS=8     wrk connections
#   BENCH_PORT_BASE=18800   first loopback port to try
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/out/instructions"
seconds=${BENCH_SECONDS:-20}
connections=${BENCH_CONNECTIONS:-8}
next_port=${BENCH_PORT_BASE:-18800}
client_key="sk-qcc-bench-0123456789abcdef"

log() { printf '[instructions %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
for tool in valgrind callgrind_control callgrind_annotate wrk node curl; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install valgrind wrk nodejs curl)"
done

if [[ -z "${QCC_BIN:-}" ]]; then
    QCC_BIN="$root/build/release/src/qcc"
    if [[ ! -x "$QCC_BIN" ]]; then
        log "building QCC (release preset)"
        (cd "$root" && cmake --preset release >/dev/null &&
            cmake --build --preset release -j "$(nproc)" --target qcc) >&2
    fi
fi
[[ -x "$QCC_BIN" ]] || die "QCC binary $QCC_BIN is missing"

# shellcheck source=lib/procs.sh
source "$here/lib/procs.sh"

rm -rf "$out"
mkdir -p "$out/data"
node "$here/lib/bodies.js" "$root/tests/fixtures/claude-code" "$out" >/dev/null
alloc_port sim_port
alloc_port qcc_port
cat >"$out/qcc.toml" <<EOF
listen = "127.0.0.1:$qcc_port"
data_dir = "$out/data"

[[keys]]
name = "bench"
key = "$client_key"

[[endpoints]]
name = "sim"
base_url = "http://127.0.0.1:$sim_port"
api_key = "sk-ant-bench-upstream"
EOF

"$QCC_BIN" sim --listen "127.0.0.1:$sim_port" --profile bench >"$out/sim.log" 2>&1 &
pids+=($!)
wait_listening "$sim_port" "${pids[-1]}" "qcc sim"
log "starting QCC under callgrind"
valgrind --tool=callgrind --separate-threads=no \
    --callgrind-out-file="$out/callgrind.out" \
    "$QCC_BIN" serve --config "$out/qcc.toml" --workers 1 >"$out/qcc.log" 2>&1 &
qcc_pid=$!
pids+=("$qcc_pid")
wait_listening "$qcc_port" "$qcc_pid" "qcc serve (callgrind)" 60

wrk_run() {  # seconds
    BENCH_BODY="$out/small.json" BENCH_HEADERS="$out/headers.txt" BENCH_KEY="$client_key" \
        wrk -t1 -c"$connections" -d"$1"s -s "$here/lib/post.lua" "http://127.0.0.1:$qcc_port"
}
log "warm-up (3 s)"
wrk_run 3 >/dev/null
callgrind_control --zero "$qcc_pid" >/dev/null  # count from here
log "counting for $seconds s at c=$connections"
result=$(wrk_run "$seconds")
# The writer may still hold rows of the last batches (under valgrind threads take turns): wait for
# its queue to empty so that their cost is counted too.
metric() {
    curl -s -m 5 -H "Authorization: Bearer $(cat "$out/data/admin.token")" \
        "http://127.0.0.1:$qcc_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
for ((i = 0; i < 300; i++)); do
    queued=$(metric qcc_log_rows_queued)
    [[ "$queued" == "0" ]] && break
    sleep 0.1
done
[[ "$queued" == "0" ]] || log "warning: the request-log writer still had $queued rows queued"
callgrind_control --dump "$qcc_pid" >/dev/null
requests=$(grep '^WRK_RESULT' <<<"$result" | grep -o '"requests":[0-9]*' | cut -d: -f2)
errors=$(grep -Eo 'Non-2xx or 3xx responses: [0-9]+' <<<"$result" | grep -Eo '[0-9]+$' || echo 0)
[[ -n "$requests" && "$requests" -gt 0 ]] || die "wrk reported no requests"
stop_pid "$qcc_pid"

dump=$(ls "$out"/callgrind.out.* 2>/dev/null | head -1)
[[ -n "$dump" ]] || die "callgrind wrote no dump"
callgrind_annotate --inclusive=yes --threshold=100 "$dump" >"$out/inclusive.txt" 2>/dev/null
node - "$out/inclusive.txt" "$requests" "$errors" <<'EOF'
const fs = require('fs');
const [file, requests, errors] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const rows = [];
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  const m = line.match(/^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/);
  if (m) rows.push({ ir: Number(m[1].replace(/,/g, '')), name: m[2] });
}
const per = (ir) => (ir / requests / 1000).toFixed(1) + 'k';
const find = (re) => rows.find((r) => re.test(r.name));
const total = find(/PROGRAM TOTALS/);
const worker = find(/Worker::start\(\)::\{lambda\(\)#2\}/);
const writer = find(/RequestWriter::run\(\)/);
console.log(`requests counted: ${requests} (non-2xx: ${errors})`);
console.log(`instructions per request: ${per(total.ir)} in all threads`);
if (worker) console.log(`  worker thread:         ${per(worker.ir)}`);
if (writer) console.log(`  request-log writer:    ${per(writer.ir)}`);
console.log('\nmost expensive functions per request (inclusive; nested entries overlap):');
const skip = /PROGRAM TOTALS|clone|start_thread|_State_impl|io_context::run|scheduler::run|do_run_one|0x0000|below main|libc_start/;
let shown = 0;
for (const r of rows) {
  if (skip.test(r.name) || !/qcc::|sqlite3_step|basic_parser|simdjson|spdlog/.test(r.name)) continue;
  const name = r.name.replace(/^\?\?\?:/, '').replace(/\s*\[[^\]]*\]$/, '');
  console.log(`  ${per(r.ir).padStart(7)}  ${name.length > 110 ? name.slice(0, 107) + '...' : name}`);
  if (++shown === 15) break;
}
EOF
log "callgrind data: $dump"
