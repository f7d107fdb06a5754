# Process and port helpers shared by bench/run.sh and bench/instructions.sh (sourced, not run).
# The caller defines die(), sets next_port (the first loopback port to try) and logs_dir (where
# the started processes log; $out if unset). Everything it starts goes into pids and is stopped by
# PID when the script exits.

pids=()  # everything started here, stopped by PID on exit

# Drops $1 from pids once it has been reaped, so that cleanup never signals a recycled PID.
forget_pid() {
    local -a kept=()
    local p
    for p in "${pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
    pids=("${kept[@]}")
}

# SIGTERM, up to 10 s (valgrind needs a few to write its data), then SIGKILL; reaps the process.
stop_pid() {
    local pid=$1 i
    if kill -TERM "$pid" 2>/dev/null; then
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sets variable $1 to a loopback port nothing listens on.
alloc_port() {
    while (exec 3<>"/dev/tcp/127.0.0.1/$next_port") 2>/dev/null; do next_port=$((next_port + 1)); done
    printf -v "$1" '%s' "$next_port"
    next_port=$((next_port + 1))
}

# Waits until something accepts on port $1; fails if process $2 (named $3) died, or after $4
# seconds (default 15).
wait_listening() {
    local port=$1 pid=$2 what=$3 limit=$((${4:-15} * 10)) i
    for ((i = 0; i < limit; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$what exited during start-up (see the logs in ${logs_dir:-$out})"
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "$what did not listen on port $port within ${4:-15} s"
}
