#!/usr/bin/env bash
# Soak: QCC on its default configuration under a long mixed load with injected upstream faults,
# recording its resident memory, open file descriptors and CPU time as a curve, what the clients
# saw (every client-visible error by kind), and — after a SIGTERM — that the request log holds a
# row for every request. Not a test: nothing asserts; the report goes to bench/out/soak.md.
#
# Upstreams (simulated, loopback): tier 1 = `healthy` (bench), `overloaded` (every request 529),
# `cutter` (every stream reset after its first events), `ratelimited` (every request 429 with
# retry-after 5); tier 2 = `backup` (bench). SOAK_FAULTS=0 keeps only `healthy`.
#
# Environment: QCC_BIN (default build/release/src/qcc), SOAK_SECONDS (1800), SOAK_CLIENTS (1000),
# SOAK_STREAM_PCT (70), SOAK_FAULTS (1), SOAK_SAMPLE_SECONDS (10), SOAK_TAG (a name for the report).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
qcc=${QCC_BIN:-$root/build/release/src/qcc}
seconds=${SOAK_SECONDS:-1800}
clients=${SOAK_CLIENTS:-1000}
stream_pct=${SOAK_STREAM_PCT:-70}
faults=${SOAK_FAULTS:-1}
sample_every=${SOAK_SAMPLE_SECONDS:-10}
tag=${SOAK_TAG:-soak}
out="$here/out"
run="$out/$tag"
key="sk-qcc-soak-0123456789abcdef"
mkdir -p "$run"
rm -rf "$run"/*
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
log() { printf '[soak %s] %s\n' "$(date +%T)" "$*" >&2; }
for tool in node curl sqlite3; do
  command -v "$tool" >/dev/null || { log "$tool not found (scripts/install-deps.sh --bench)"; exit 1; }
done
[[ -x "$qcc" ]] || { log "no qcc binary at $qcc"; exit 1; }

# Starts a simulator in this shell (so that its pid is recorded and stopped on exit) and sets
# sim_port to the port it bound.
start_sim() {  # name profile
  "$qcc" sim --listen 127.0.0.1:0 --profile "$2" >"$run/sim-$1.log" 2>&1 &
  pids+=($!)
  sim_port=""
  for _ in $(seq 1 200); do
    sim_port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$run/sim-$1.log" | grep -o '[0-9]*$' || true)
    [[ -n "$sim_port" ]] && break
    sleep 0.05  # polling interval of a bounded wait (10 s)
  done
  [[ -n "$sim_port" ]] || { log "simulator $1 did not start"; exit 1; }
}
endpoint() {  # name port tier
  printf '[[endpoints]]\nname = "%s"\nbase_url = "http://127.0.0.1:%s"\napi_key = "sk-ant-soak-%s"\ntier = %s\n\n' \
    "$1" "$2" "$1" "$3"
}

printf 'listen = "127.0.0.1:0"\ndata_dir = "%s"\n\n[[keys]]\nname = "soak"\nkey = "%s"\n\n' "$run/data" "$key" \
  >"$run/qcc.toml"
sims=("healthy bench 1")
if [[ "$faults" == 1 ]]; then
  sims+=("overloaded overloaded 1" "cutter cutter 1" "ratelimited ratelimited 1" "backup bench 2")
fi
for s in "${sims[@]}"; do
  read -r name profile tier <<<"$s"
  start_sim "$name" "$profile"
  endpoint "$name" "$sim_port" "$tier" >>"$run/qcc.toml"
done

"$qcc" serve --config "$run/qcc.toml" >"$run/qcc.log" 2>&1 &
qcc_pid=$!
pids+=("$qcc_pid")
port=""
for _ in $(seq 1 400); do
  port=$(grep -o 'qcc listening on http://127.0.0.1:[0-9]*' "$run/qcc.log" | grep -o '[0-9]*$' || true)
  [[ -n "$port" ]] && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
[[ -n "$port" ]] || { log "qcc did not start"; cat "$run/qcc.log" >&2; exit 1; }
log "qcc pid $qcc_pid on :$port; $clients clients for $seconds s, $stream_pct % streaming, faults=$faults"

clk=$(getconf CLK_TCK)
echo "elapsed_s,rss_kb,fds,cpu_s,threads" >"$run/samples.csv"
sample() {
  local t=$1 rss fds cpu threads
  rss=$(awk '/VmRSS/{print $2}' "/proc/$qcc_pid/status")
  threads=$(awk '/Threads/{print $2}' "/proc/$qcc_pid/status")
  fds=$(ls "/proc/$qcc_pid/fd" | wc -l)
  cpu=$(awk -v c="$clk" '{printf "%.2f", ($14 + $15) / c}' "/proc/$qcc_pid/stat")
  echo "$t,$rss,$fds,$cpu,$threads" >>"$run/samples.csv"
}
start=$(date +%s)
sample 0
node "$here/lib/soak.js" "http://127.0.0.1:$port" "$key" "$seconds" "$clients" "$stream_pct" \
  >"$run/clients.json" 2>"$run/clients.err" &
load_pid=$!
pids+=("$load_pid")
while kill -0 "$load_pid" 2>/dev/null; do
  sleep "$sample_every"
  kill -0 "$qcc_pid" 2>/dev/null || { log "qcc died"; break; }
  sample $(($(date +%s) - start))
done
wait "$load_pid" || true
sleep "$sample_every"
sample $(($(date +%s) - start))  # idle again

kill -TERM "$qcc_pid"
wait "$qcc_pid" || log "qcc exited with $?"
rows=$(sqlite3 "$run/data/qcc.sqlite" 'select count(*) from request_log')
node - "$run/clients.json" "$run/samples.csv" "$rows" "$tag" "$clients" "$seconds" "$stream_pct" "$faults" \
  >"$run/report.md" <<'EOF'
const fs = require('fs');
const [file, csv, rows, tag, clients, seconds, pct, faults] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const samples = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
const visible = Object.values(r.errors).reduce((a, b) => a + b, 0);
const answered = r.requests - r.hangups;
// Under load = the samples taken while the clients ran. Flat means the second half of the load
// adds (almost) nothing: its slope is what a longer run would add.
const loaded = samples.filter((s) => s[0] > 0 && s[0] <= Number(seconds));
const half = loaded.find((s) => s[0] >= Number(seconds) / 2) || loaded[0];
const end = loaded[loaded.length - 1];
const mib = (kb) => (kb / 1024).toFixed(1);
const slope = half && end && end[0] > half[0] ? ((end[1] - half[1]) / 1024) / ((end[0] - half[0]) / 60) : 0;
const fdsLoaded = loaded.map((s) => s[2]);
const lines = [
  `### ${tag}: ${clients} clients, ${seconds} s, ${pct} % streaming, faults ${faults === '1' ? 'on' : 'off'}`,
  '',
  `- requests ${r.requests} (${(r.requests / ((r.finished - r.started) / 1000)).toFixed(0)}/s), answered ${answered}, ` +
    `client hang-ups ${r.hangups}`,
  `- client-visible errors: ${visible} (${(100 * visible / Math.max(1, answered)).toFixed(3)} %): ${errs}`,
  `- streams by serving endpoint: ${Object.entries(r.stream_endpoints).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  `- request-log rows after SIGTERM: ${rows} (requests sent: ${r.requests})`,
  `- first error: ${r.first_error || '—'}`,
  half && end ? `- RSS over the second half of the load: ${mib(half[1])} → ${mib(end[1])} MiB ` +
    `(${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB a minute); open fds under load ` +
    `${Math.min(...fdsLoaded)}–${Math.max(...fdsLoaded)}, after it ${samples[samples.length - 1][2]}` : '',
  `- CPU per request: ${(1e6 * samples[samples.length - 1][3] / Math.max(1, r.requests)).toFixed(0)} µs ` +
    `(all of QCC's threads; streams of 40 events, failovers included)`,
  '',
  '| elapsed s | RSS MiB | open fds | CPU s (total) | threads |',
  '|---:|---:|---:|---:|---:|',
  ...samples.filter((s, i) => i % Math.max(1, Math.floor(samples.length / 20)) === 0 || i === samples.length - 1)
    .map((s) => `| ${s[0]} | ${(s[1] / 1024).toFixed(1)} | ${s[2]} | ${s[3].toFixed(1)} | ${s[4]} |`),
];
console.log(lines.join('\n'));
EOF
cat "$run/report.md"
log "samples in $run/samples.csv, report in $run/report.md"
