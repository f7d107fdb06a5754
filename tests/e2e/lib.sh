# Shared by the end-to-end scripts: start `qcc serve` on a port the kernel picks (never a random
# one: those collide when CI shares the machine) and learn the port from its log line.
# Usage: start_qcc LOGFILE ARGS...   (sets qcc_pid and qcc_port; needs $qcc and a fail function)
start_qcc() {
  local log=$1
  shift
  local before=0
  [[ -f "$log" ]] && before=$(wc -l <"$log")
  "$qcc" serve --listen 127.0.0.1:0 "$@" >>"$log" 2>&1 &
  qcc_pid=$!
  qcc_port=""
  for _ in $(seq 1 400); do
    qcc_port=$(tail -n +"$((before + 1))" "$log" | grep -o 'qcc listening on http://127.0.0.1:[0-9]*' |
      head -1 | grep -o '[0-9]*$' || true)
    if [[ -n "$qcc_port" ]] && curl -fsS "http://127.0.0.1:$qcc_port/healthz" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$qcc_pid" 2>/dev/null || fail "qcc exited early"
    sleep 0.05  # polling interval of a bounded wait (20 s)
  done
  fail "qcc not ready after 20 s"
}

# QCC writes informational log lines in batches (at most 200 ms late): await them, bounded.
# Usage: await_log LOGFILE PATTERN [COUNT]   (true once COUNT lines (default 1) match, within 10 s)
await_log() {
  local log=$1 pattern=$2 want=${3:-1} n=0
  for _ in $(seq 1 200); do
    n=$(grep -c -- "$pattern" "$log" || true)
    (( n >= want )) && return 0
    sleep 0.05  # polling interval of a bounded wait (10 s)
  done
  return 1
}
