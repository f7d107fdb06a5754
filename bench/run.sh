#!/usr/bin/env bash
# QCC against a plain nginx reverse proxy, both in front of the same simulated upstream, in the
# same run. Prints a markdown table (also written to bench/out/results.md). Not a test: ctest never
# runs it. bench/README.md explains each figure; docs/performance.md has the method and a result.
#
# Environment (all optional):
#   QCC_BIN                 use this qcc binary instead of building build/release/src/qcc
#   BENCH_DURATION=5        seconds per wrk run (keep 5-10)
#   BENCH_ROUNDS=3          rounds of the wrk phases; figures are medians over rounds
#   BENCH_PORT_BASE=18700   first loopback port to try
#   BENCH_HOLD_STREAMS=2000 concurrent slow streams for the memory figure
#   BENCH_PROFILE=1         also count system calls per request (strace) and profile QCC (perf)
#   BENCH_NICE=-15          run everything measured at this nice level (negative: root only)
#   NGINX_BIN               nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
#   JOBS                    build parallelism (default: nproc)
set -euo pipefail
# Thousands of held streams need descriptors in every process started here.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
lib="$here/lib"
out="$here/out"

duration=${BENCH_DURATION:-5}
rounds=${BENCH_ROUNDS:-3}
next_port=${BENCH_PORT_BASE:-18700}
hold_streams=${BENCH_HOLD_STREAMS:-2000}
sse_streams=40
sse_concurrency=8
client_key="sk-qcc-bench-0123456789abcdef"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

nginx_bin=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
for tool in wrk node curl "$nginx_bin"; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh --bench)"
done

if [[ -z "${QCC_BIN:-}" ]]; then
    log "building QCC (release preset)"
    (cd "$root" && cmake --preset release >/dev/null &&
        cmake --build --preset release -j "${JOBS:-$(nproc)}" --target qcc) >&2
    QCC_BIN="$root/build/release/src/qcc"
fi
[[ -x "$QCC_BIN" ]] || die "QCC binary $QCC_BIN is missing"
qcc_source_bin=$QCC_BIN

# --- processes -----------------------------------------------------------------------------------

# shellcheck source=lib/procs.sh
source "$lib/procs.sh"

# "USER SYSTEM": CPU clock ticks of the given PIDs (all their threads) in user and kernel mode.
cpu_ticks() {
    local user=0 system=0 pid stat
    local -a f
    for pid in "$@"; do
        stat=$(<"/proc/$pid/stat")
        read -r -a f <<<"${stat##*) }"  # fields from 3 (state) on: utime is 14, stime 15
        user=$((user + f[11]))
        system=$((system + f[12]))
    done
    echo "$user $system"
}

# Two CPUs: the proxy under test on CPU 0, everything else (wrk, node clients, the upstream) on 1.
cpus=$(nproc)
if ((cpus >= 2)) && command -v taskset >/dev/null; then
    proxy_cpu=0 load_cpu=1
    pin_proxy=(taskset -c "$proxy_cpu")
    pin_load=(taskset -c "$load_cpu")
else
    log "warning: fewer than 2 CPUs or no taskset: nothing is pinned, figures are rough"
    proxy_cpu=any load_cpu=any
    pin_proxy=()
    pin_load=()
fi
# On a machine shared with other work, a higher priority for everything measured (e.g.
# BENCH_NICE=-15, as root) keeps the other processes' time slices out of the latencies.
if [[ -n ${BENCH_NICE:-} ]]; then
    nice -n "$BENCH_NICE" true 2>/dev/null || die "cannot run at nice $BENCH_NICE (root needed)"
    pin_proxy=(nice -n "$BENCH_NICE" "${pin_proxy[@]}")
    pin_load=(nice -n "$BENCH_NICE" "${pin_load[@]}")
fi

rm -rf "$out/run"
mkdir -p "$out/run"
run="$out/run"
logs_dir=$run
results="$out/results.jsonl"
: >"$results"

node "$lib/bodies.js" "$root/tests/fixtures/claude-code" "$run"
# Measure a private copy: a rebuild of the shared build tree during the run must not change the
# binary between phases.
cp -p "$qcc_source_bin" "$run/qcc"
QCC_BIN="$run/qcc"

sim_port='' nginx_port='' qcc_port='' qcc_fo_port='' qcc_fo_default_port='' dead_port=''
alloc_port sim_port
alloc_port nginx_port
alloc_port qcc_port
alloc_port qcc_fo_port
alloc_port qcc_fo_default_port
alloc_port dead_port  # never listened on: connections to it are refused

# QCC runs on its defaults: request log, one info line per request, metrics all on; one worker
# because it is pinned to one CPU (the default follows the affinity mask).
write_qcc_config() {  # file port data_dir endpoints-toml
    cat >"$1" <<EOF
listen = "127.0.0.1:$2"
data_dir = "$3"

[[keys]]
name = "bench"
key = "$client_key"

$4
EOF
}

log "starting the simulated upstream on :$sim_port"
"${pin_load[@]}" "$QCC_BIN" sim --listen "127.0.0.1:$sim_port" --profile bench >"$run/sim.log" 2>&1 &
sim_pid=$!
pids+=("$sim_pid")
wait_listening "$sim_port" "$sim_pid" "qcc sim"

log "starting QCC on :$qcc_port"
write_qcc_config "$run/qcc.toml" "$qcc_port" "$run/qcc-data" "[[endpoints]]
name = \"sim\"
base_url = \"http://127.0.0.1:$sim_port\"
api_key = \"sk-ant-bench-upstream\""
"${pin_proxy[@]}" "$QCC_BIN" serve --config "$run/qcc.toml" --workers 1 >"$run/qcc.log" 2>&1 &
qcc_pid=$!
pids+=("$qcc_pid")
wait_listening "$qcc_port" "$qcc_pid" "qcc serve"

log "starting nginx on :$nginx_port"
mkdir -p "$run/nginx/logs" "$run/nginx/tmp"
cat >"$run/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $run/nginx/nginx.pid;
error_log $run/nginx/logs/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $run/nginx/tmp/client_body;
    proxy_temp_path $run/nginx/tmp/proxy;
    fastcgi_temp_path $run/nginx/tmp/fastcgi;
    uwsgi_temp_path $run/nginx/tmp/uwsgi;
    scgi_temp_path $run/nginx/tmp/scgi;
    client_max_body_size 32m;
    keepalive_requests 1000000;   # like QCC: no forced reconnects during a run
    upstream sim {
        server 127.0.0.1:$sim_port;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://sim;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 300s;
        }
    }
}
EOF
"${pin_proxy[@]}" "$nginx_bin" -p "$run/nginx" -c "$run/nginx/nginx.conf" -e "$run/nginx/logs/error.log" \
    >"$run/nginx.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_listening "$nginx_port" "$nginx_pid" "nginx"
nginx_pids=("$nginx_pid")  # master, then its worker
for ((i = 0; i < 50; i++)); do
    mapfile -t workers < <(pgrep -P "$nginx_pid" || true)
    ((${#workers[@]} > 0)) && break
    sleep 0.1
done
((${#workers[@]} > 0)) || die "no nginx worker process found"
nginx_pids+=("${workers[@]}")

direct_url="http://127.0.0.1:$sim_port"
nginx_url="http://127.0.0.1:$nginx_port"
qcc_url="http://127.0.0.1:$qcc_port"
url_of() {
    case $1 in
        direct) echo "$direct_url" ;;
        nginx) echo "$nginx_url" ;;
        qcc) echo "$qcc_url" ;;
        qcc-live) echo "$qcc_url" ;;
        qcc-failover) echo "http://127.0.0.1:$qcc_fo_port" ;;
        qcc-failover-default) echo "http://127.0.0.1:$qcc_fo_default_port" ;;
    esac
}

# Fails the run unless $1 answers a small request and a short stream with 200.
preflight() {
    local url=$1 name=$2 status
    status=$(curl -s -o "$run/preflight-$name.out" -w '%{http_code}' --max-time 10 \
        -H "x-api-key: $client_key" -H 'content-type: application/json' \
        -H 'anthropic-version: 2023-06-01' --data-binary "@$run/small.json" \
        "$url/v1/messages?beta=true") || true
    [[ $status == 200 ]] || die "$name answered $status to a small request (see $run/preflight-$name.out)"
    status=$(curl -s -N -o "$run/preflight-$name-sse.out" -w '%{http_code}' --max-time 10 \
        -H "x-api-key: $client_key" -H 'content-type: application/json' -H 'x-sim-deltas: 3' \
        -H 'x-sim-gap-ms: 1' --data-binary "@$run/stream.json" "$url/v1/messages?beta=true") || true
    if [[ $status != 200 ]] || ! grep -q 'message_stop' "$run/preflight-$name-sse.out"; then
        die "$name did not stream (status $status, see $run/preflight-$name-sse.out)"
    fi
}

# run_wrk URL CONCURRENCY SECONDS BODY [HEADERS] [COUNT_ATTEMPTS]: prints wrk's JSON result.
run_wrk() {
    local url=$1 conc=$2 secs=$3 body=$4 headers=${5:-$run/headers.txt} count=${6:-0} output
    output=$(BENCH_BODY=$body BENCH_HEADERS=$headers BENCH_KEY=$client_key \
        BENCH_COUNT_ATTEMPTS=$count "${pin_load[@]}" wrk -t1 -c"$conc" -d"${secs}s" \
        --timeout 10s --latency -s "$lib/post.lua" "$url") || die "wrk failed against $url"
    printf '%s\n' "$output" >>"$run/wrk.log"
    output=$(grep '^WRK_RESULT ' <<<"$output") || die "wrk printed no result for $url"
    echo "${output#WRK_RESULT }"
}

# record '{"phase":...}' '{measurement json}': appends their union to results.jsonl.
record() {
    local tags=$1 json=$2
    [[ $json == "{"* ]] || die "bad measurement: $json"
    echo "${tags%\}},${json#\{}" >>"$results"
}

# Rotates the target list by the round number so no target always runs first.
rotate() {
    local r=$1
    shift
    local -a t=("$@")
    local n=${#t[@]} i
    for ((i = 0; i < n; i++)); do printf '%s ' "${t[$(((i + r) % n))]}"; done
}

for t in direct nginx qcc; do preflight "$(url_of "$t")" "$t"; done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

log "warm-up"
for t in nginx qcc; do run_wrk "$(url_of "$t")" 8 2 "$run/small.json" >/dev/null; done

# 1. Memory per held stream: first, while the heaps are still small, so that memory freed by the
#    other phases cannot hide what the streams cost.
for t in nginx qcc; do
    if [[ $t == nginx ]]; then pidlist=$(IFS=,; echo "${nginx_pids[*]}"); else pidlist=$qcc_pid; fi
    log "held streams: $hold_streams through $t"
    json=$("${pin_load[@]}" node "$lib/hold.js" "$(url_of "$t")" "$client_key" "$run/headers.txt" \
        "$run/stream.json" "$hold_streams" 100 100 "$pidlist")
    record "{\"phase\":\"hold\",\"target\":\"$t\"}" "$json"
    sleep 1  # let the cancelled streams unwind before the next figure
done

# 2. Added latency, 100 KB Claude Code request, c=1 and c=32.
for ((r = 0; r < rounds; r++)); do
    for conc in 1 32; do
        for t in $(rotate "$r" direct nginx qcc); do
            log "latency round $((r + 1))/$rounds c=$conc $t"
            json=$(run_wrk "$(url_of "$t")" "$conc" "$duration" "$run/big.json")
            record "{\"phase\":\"latency\",\"target\":\"$t\",\"conc\":$conc,\"round\":$r}" "$json"
        done
    done
done

# 3. Proxy CPU per request, 2 KB request, c=64.
for ((r = 0; r < rounds; r++)); do
    for t in $(rotate "$r" nginx qcc); do
        if [[ $t == nginx ]]; then watched=("${nginx_pids[@]}"); else watched=("$qcc_pid"); fi
        log "cpu round $((r + 1))/$rounds $t"
        read -r user0 sys0 < <(cpu_ticks "${watched[@]}")
        json=$(run_wrk "$(url_of "$t")" 64 "$duration" "$run/small.json")
        read -r user1 sys1 < <(cpu_ticks "${watched[@]}")
        ticks="\"ticks\":$((user1 - user0 + sys1 - sys0)),\"user_ticks\":$((user1 - user0)),\"sys_ticks\":$((sys1 - sys0))"
        record "{\"phase\":\"cpu\",\"target\":\"$t\",\"round\":$r,$ticks}" "$json"
    done
done

# 4. SSE timing: 40 deltas 20 ms apart.
for t in direct nginx qcc; do
    log "sse $t"
    json=$("${pin_load[@]}" node "$lib/sse.js" "$(url_of "$t")" "$client_key" "$run/headers.txt" \
        "$run/stream.json" "$sse_streams" "$sse_concurrency" 40 20)
    record "{\"phase\":\"sse\",\"target\":\"$t\"}" "$json"
done

# 5. Refused first endpoint: QCC with "dead" (tier 1, nothing listening) before "live" (tier 2).
#    Two instances: "failover" has the breaker and the retry budget relaxed so that every request
#    meets the refusal and moves on (the cost of one failover); "failover-default" keeps the
#    default settings, where the breaker soon stops trying "dead" (what a user sees over time).
start_failover_qcc() {  # name port; sets fo_pid
    local name=$1 port=$2
    write_qcc_config "$run/qcc-$name.toml" "$port" "$run/qcc-$name-data" "[[endpoints]]
name = \"dead\"
base_url = \"http://127.0.0.1:$dead_port\"
api_key = \"sk-ant-bench-dead\"
tier = 1

[[endpoints]]
name = \"live\"
base_url = \"http://127.0.0.1:$sim_port\"
api_key = \"sk-ant-bench-upstream\"
tier = 2"
    log "starting QCC ($name) with a dead tier-1 endpoint on :$port"
    "${pin_proxy[@]}" "$QCC_BIN" serve --config "$run/qcc-$name.toml" --workers 1 \
        >"$run/qcc-$name.log" 2>&1 &
    fo_pid=$!
    pids+=("$fo_pid")
    wait_listening "$port" "$fo_pid" "qcc serve ($name)"
}
fo_pid=''
start_failover_qcc failover "$qcc_fo_port"
qcc_fo_pid=$fo_pid
for setting in breaker.consecutive_failures=10000000 breaker.min_volume=10000000 \
    retry.budget_ratio=1 retry.budget_min_per_second=10000000; do
    "$QCC_BIN" settings set "${setting%%=*}" "${setting#*=}" --config "$run/qcc-failover.toml" \
        >>"$run/qcc-failover.log" 2>&1 || die "qcc settings set $setting failed"
done
start_failover_qcc failover-default "$qcc_fo_default_port"
qcc_fo_default_pid=$fo_pid
sleep 1.5  # a running server applies store settings within 1 s
preflight "$(url_of qcc-failover)" qcc-failover
preflight "$(url_of qcc-failover-default)" qcc-failover-default
for ((r = 0; r < rounds; r++)); do
    for t in $(rotate "$r" qcc-live qcc-failover qcc-failover-default); do
        log "failover round $((r + 1))/$rounds $t"
        json=$(run_wrk "$(url_of "$t")" 1 "$duration" "$run/nosession.json" \
            "$run/headers-nosession.txt" 1)
        record "{\"phase\":\"failover\",\"target\":\"$t\",\"round\":$r}" "$json"
    done
done
stop_pid "$qcc_fo_pid"
stop_pid "$qcc_fo_default_pid"

# 6. Optional (BENCH_PROFILE=1): system calls per request under strace, and a perf profile of
#    QCC. strace slows both proxies down a lot, so this runs after every timed figure.
if [[ ${BENCH_PROFILE:-0} == 1 ]]; then
    if command -v strace >/dev/null; then
        for t in nginx qcc; do
            if [[ $t == nginx ]]; then traced=("${nginx_pids[@]:1}"); else traced=("$qcc_pid"); fi
            for shape in small:64 big:1; do
                body=${shape%%:*} conc=${shape##*:}
                log "profile: syscalls per request, $t, $body body, c=$conc"
                strace_args=()
                for pid in "${traced[@]}"; do strace_args+=(-p "$pid"); done
                strace -c -f "${strace_args[@]}" -o "$run/strace-$t-$body.txt" 2>/dev/null &
                strace_pid=$!
                pids+=("$strace_pid")
                sleep 0.5
                json=$(run_wrk "$(url_of "$t")" "$conc" 3 "$run/$body.json")
                kill -INT "$strace_pid" 2>/dev/null || true
                wait "$strace_pid" 2>/dev/null || true
                forget_pid "$strace_pid"
                calls=$(awk '$NF != "total" && $NF != "syscall" && $4 ~ /^[0-9]+$/ {
                            printf "%s\"%s\":%s", sep, $NF, $4; sep = "," }' "$run/strace-$t-$body.txt")
                record "{\"phase\":\"syscalls\",\"target\":\"$t\",\"body\":\"$body\",\"conc\":$conc,\"calls\":{$calls}}" "$json"
            done
        done
    else
        log "profile: strace not installed, skipping syscall counts"
    fi
    if command -v perf >/dev/null; then
        log "profile: perf record of QCC, 2 KB body, c=64"
        perf record -F 999 -g -p "$qcc_pid" -o "$run/perf-qcc.data" -- sleep "$duration" \
            >"$run/perf-record.log" 2>&1 &
        perf_pid=$!
        pids+=("$perf_pid")
        run_wrk "$qcc_url" 64 "$duration" "$run/small.json" >/dev/null
        wait "$perf_pid" || true
        forget_pid "$perf_pid"
        perf report -i "$run/perf-qcc.data" --no-children --sort dso,sym -g none --stdio \
            --percent-limit 0.5 >"$run/perf-qcc.txt" 2>/dev/null || true
        log "profile: perf report in $run/perf-qcc.txt"
    fi
fi

# --- report --------------------------------------------------------------------------------------

# The binary may have been built from another state of the tree than the one checked out now:
# name both the tree and the binary's build time.
qcc_commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$root" diff --quiet HEAD -- src 2>/dev/null; then qcc_commit+=" with local changes"; fi
qcc_commit+=", binary built $(date -u -r "$QCC_BIN" '+%Y-%m-%d %H:%M UTC')"
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' -- "$1"; }
meta=$(
    cat <<EOF
{"phase":"meta","date":$(json_str "$(date -u '+%Y-%m-%d %H:%M UTC')"),"cpus":$cpus,
"cpu_model":$(json_str "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"),
"os":$(json_str "$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)"),"kernel":$(json_str "$(uname -r)"),
"load_before":$(json_str "$load_before"),"load_after":$(json_str "$(cut -d' ' -f1-3 /proc/loadavg)"),
"qcc_commit":$(json_str "$qcc_commit"),
"nginx_version":$(json_str "$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"),
"wrk_version":$(json_str "$( (wrk -v 2>&1 || true) | head -1 | awk '{print $2}')"),
"node_version":$(json_str "$(node --version)"),"proxy_cpu":"$proxy_cpu","load_cpu":"$load_cpu",
"duration_s":$duration,"rounds":$rounds,"nice":$(json_str "${BENCH_NICE:-0}"),"clk_tck":$(getconf CLK_TCK),"elapsed_s":$(($(date +%s) - started))}
EOF
)
echo "$meta" | tr -d '\n' >>"$results"
echo >>"$results"
node "$lib/report.js" "$results" >"$out/results.md"
cat "$out/results.md"
log "done in $(($(date +%s) - started)) s; raw figures in $results, logs in $run"
