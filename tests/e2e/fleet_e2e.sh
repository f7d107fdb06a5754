#!/usr/bin/env bash
# End-to-end: three `qcc serve` processes on one PostgreSQL database (a cluster of this test's own,
# from scripts/test-postgres.sh --own), in front of one simulated upstream, each client key's
# requests spread over the instances as a round-robin balancer would. Checks what a team running
# a fleet relies on:
#   - every instance lists the fleet (`qcc status`, /api/status);
#   - one instance killed with SIGKILL mid-traffic: every request the others answered is in the
#     shared request log, and the killed one leaves the fleet by itself;
#   - PostgreSQL stopped and started again mid-traffic: every request is still answered, every
#     answered request reaches the log once the database is back, and the admin API works again
#     without a restart.
# Usage: fleet_e2e.sh <path-to-qcc>   (skips with 77 without QCC_TEST_POSTGRES_CTL)
set -euo pipefail
qcc="$1"
if [[ -z "${QCC_TEST_POSTGRES:-}" || -z "${QCC_TEST_POSTGRES_CTL:-}" ]]; then
  echo "fleet_e2e: SKIP: needs a PostgreSQL cluster of its own (scripts/test-postgres.sh --own)"
  exit 77
fi
work=$(mktemp -d)
pids=()
sim_pid=""
cleanup() {
  local p
  for p in "${pids[@]}" $sim_pid; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $sim_pid; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "fleet_e2e: FAIL: $*" >&2
  local f
  for f in "$work"/*.log; do
    [[ -f "$f" ]] || continue
    echo "--- $(basename "$f") (last 30 lines):" >&2
    tail -n 30 "$f" >&2
  done
  exit 1
}
source "$(dirname "$0")/lib.sh"
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log(eval(process.argv[1]))})" "$1"; }

# One simulated upstream on a port the kernel picks.
"$qcc" sim --listen 127.0.0.1:0 >"$work/sim.log" 2>&1 &
sim_pid=$!
sim_url=""
for _ in $(seq 1 200); do
  sim_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/sim.log" | head -1 || true)
  [[ -n "$sim_url" ]] && break
  kill -0 "$sim_pid" 2>/dev/null || fail "qcc sim exited early"
  sleep 0.05  # polling interval of a bounded wait (10 s)
done
[[ -n "$sim_url" ]] || fail "qcc sim did not say where it listens"

# The same configuration, admin token and master key for every instance; a data directory each.
export QCC_STORE="$QCC_TEST_POSTGRES"
export QCC_ADMIN_TOKEN="fleet-e2e-admin-token-0123456789"
export QCC_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/config.toml" <<EOF
[[keys]]
name = "k1"
key = "sk-qcc-fleet-e2e-key-one-0123456789"

[[keys]]
name = "k2"
key = "sk-qcc-fleet-e2e-key-two-0123456789"

[[keys]]
name = "k3"
key = "sk-qcc-fleet-e2e-key-three-0123456789"

[[endpoints]]
name = "sim"
base_url = "$sim_url"
api_key = "sk-ant-fleet-e2e-0123456789"
EOF

ports=()
for i in 1 2 3; do
  mkdir -p "$work/home$i"
  HOME="$work/home$i" start_qcc "$work/qcc$i.log" --config "$work/config.toml" --workers 1
  pids+=("$qcc_pid")
  ports+=("$qcc_port")
done
cli() {  # PORT COMMAND... (the admin token comes from QCC_ADMIN_TOKEN)
  local port=$1
  shift
  "$qcc" "$@" --listen "127.0.0.1:$port"
}

# Fleet: every instance lists three (heartbeats every 5 s).
instances_of() { curl -fsS -H "authorization: Bearer $QCC_ADMIN_TOKEN" \
  "http://127.0.0.1:$1/api/status" | json 'j.instances.length'; }
await_fleet() {  # PORT COUNT: the instance on PORT lists COUNT instances, within 40 s
  local n=0
  for _ in $(seq 1 400); do
    n=$(instances_of "$1" || echo 0)
    [[ "$n" == "$2" ]] && return 0
    sleep 0.1  # polling interval of a bounded wait (40 s)
  done
  fail "instance on port $1 lists $n instances, expected $2"
}
for port in "${ports[@]}"; do await_fleet "$port" 3; done
cli "${ports[0]}" status | grep -q "3 instances share the store" ||
  fail "qcc status does not show the fleet: $(cli "${ports[0]}" status 2>&1)"

# --- The documented recipe: nginx in front of the three --------------------------------------
# The nginx block of docs/operations.md as written, with the instances' addresses replaced by this
# test's and nginx listening on a Unix socket of its own (no port to pick).
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [[ -x "$nginx_bin" ]]; then
  docs="$(dirname "$0")/../../docs/operations.md"
  mkdir -p "$work/nginx/logs"
  {
    echo "daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/logs/error.log;"
    echo "events {}"
    echo "http { access_log off; client_body_temp_path $work/nginx/body;"
    echo "  proxy_temp_path $work/nginx/proxy;"
    awk '/^   ```nginx$/ {on=1; next} on && /^   ```$/ {exit} on' "$docs" |
      sed -E "s#server 10\.0\.0\.11:7860;#server 127.0.0.1:${ports[0]};#;
              s#server 10\.0\.0\.12:7860;#server 127.0.0.1:${ports[1]};#;
              s#server 10\.0\.0\.13:7860;#server 127.0.0.1:${ports[2]};#;
              s#listen 80;#listen unix:$work/nginx/lb.sock;#"
    echo "}"
  } >"$work/nginx/nginx.conf"
  grep -q "127.0.0.1:${ports[2]}" "$work/nginx/nginx.conf" ||
    fail "docs/operations.md's nginx block no longer names three instances: $(cat "$work/nginx/nginx.conf")"
  "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$work/nginx.log" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
  lb() { curl -s --unix-socket "$work/nginx/lb.sock" --max-time 20 "$@"; }
  up=0
  for _ in $(seq 1 200); do
    if lb -fo /dev/null http://localhost/healthz; then
      up=1
      break
    fi
    kill -0 "$nginx_pid" 2>/dev/null || fail "nginx exited: $(cat "$work/nginx.log" "$work/nginx/logs/error.log")"
    sleep 0.05  # polling interval of a bounded wait (10 s)
  done
  ((up)) || fail "nginx did not answer within 10 s"

  # A streamed answer passes through whole. (Key three: the rows of keys one and two are counted
  # exactly below.)
  lb http://localhost/v1/messages -o "$work/lb-stream.out" \
    -H "x-api-key: sk-qcc-fleet-e2e-key-three-0123456789" -H 'content-type: application/json' \
    -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
  grep -q '^event: message_stop' "$work/lb-stream.out" ||
    fail "a stream through nginx did not end with message_stop: $(head -c 400 "$work/lb-stream.out")"

  # A member's key limited to 30 requests a minute gets 30 ± 10 % through the whole fleet.
  limited=$(cli "${ports[0]}" key create member --rpm 30 --json | json 'j.key')
  # Each instance learns the key within about a second; wait until each one accepts it (the
  # requests spent on that count against the limit as well).
  got=0
  for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$port/v1/messages" \
        -H "x-api-key: $limited" -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
        -d '{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}' || true)
      [[ "$code" == 200 ]] && { got=$((got + 1)); break; }
      [[ "$code" == 401 ]] || fail "instance on port $port answered $code to a new key"
      sleep 0.1  # polling interval of a bounded wait (10 s)
    done
  done
  [[ $got == 3 ]] || fail "the new key was not accepted by every instance within 10 s"
  limited429=0
  for _ in $(seq 1 45); do
    code=$(lb -o "$work/lb-limited.out" -w '%{http_code}' http://localhost/v1/messages \
      -H "x-api-key: $limited" -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
      -d '{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}' || true)
    case "$code" in
      200) got=$((got + 1)) ;;
      429) limited429=$((limited429 + 1))
           grep -q 'rate_limit_error' "$work/lb-limited.out" ||
             fail "a 429 through nginx is not a rate_limit_error: $(cat "$work/lb-limited.out")" ;;
      *) fail "a limited key's request through nginx got $code: $(head -c 400 "$work/lb-limited.out")" ;;
    esac
  done
  ((got >= 27 && got <= 33)) ||
    fail "a key limited to 30 requests a minute got $got through three instances behind nginx"

  # A dashboard login made through the balancer works whichever instance answers next (logins
  # are shared within about two seconds), and the page's own Origin passes the CSRF check.
  token_json="{\"token\":\"$QCC_ADMIN_TOKEN\"}"
  cookie=$(lb -D - -o /dev/null http://localhost/api/login -H 'origin: http://localhost' \
    -H 'content-type: application/json' -d "$token_json" | grep -io 'qcc_session=[^;]*' | head -1)
  [[ -n "$cookie" ]] || fail "no session cookie from a login through nginx"
  streak=0
  for _ in $(seq 1 200); do
    code=$(lb -o /dev/null -w '%{http_code}' http://localhost/api/session -H "cookie: $cookie")
    if [[ "$code" == 200 ]]; then streak=$((streak + 1)); else streak=0; fi
    ((streak >= 6)) && break
    sleep 0.05  # polling interval of a bounded wait (10 s)
  done
  ((streak >= 6)) || fail "a login through nginx is not honoured by every instance within 10 s"
  code=$(lb -o "$work/lb-logout.out" -w '%{http_code}' -X POST http://localhost/api/logout \
    -H "cookie: $cookie" -H 'origin: http://localhost')
  [[ "$code" == 200 || "$code" == 204 ]] ||
    fail "logout through nginx with the page's Origin got $code: $(cat "$work/lb-logout.out")"
  kill "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  lb_summary="nginx recipe: stream, $got of 48 for a 30/min key, shared login"
else
  echo "fleet_e2e: nginx not installed: the balancer recipe is not exercised (scripts/install-deps.sh installs it)"
  lb_summary="no nginx"
fi

# Sends one request with key K to the instance on PORT; prints the HTTP status (000: no answer).
send() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$2/v1/messages" \
    -H "x-api-key: sk-qcc-fleet-e2e-key-$1-0123456789" -H 'content-type: application/json' \
    -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}' ||
    true
}
# Rows in the shared request log for key NAME (any instance answers for all of them).
rows_of() {
  curl -fsS -H "authorization: Bearer $QCC_ADMIN_TOKEN" \
    "http://127.0.0.1:$2/api/stats?window=1h&by=key" |
    json "(j.rows.find(r => r.group === '$1') || {count: 0}).count"
}
await_rows() {  # NAME PORT COUNT: within 30 s
  local n=0
  for _ in $(seq 1 300); do
    n=$(rows_of "$1" "$2" || echo -1)
    [[ "$n" == "$3" ]] && return 0
    sleep 0.1  # polling interval of a bounded wait (30 s)
  done
  fail "key $1: $n rows in the request log, expected $3"
}

# --- SIGKILL one instance mid-traffic --------------------------------------------------------
# Key one goes to instances 1 and 2 only, key two too; key three to instance 3, which is killed.
ok1=0 ok2=0
for round in $(seq 1 40); do
  [[ $(send one "${ports[0]}") == 200 ]] && ok1=$((ok1 + 1))
  [[ $(send two "${ports[1]}") == 200 ]] && ok2=$((ok2 + 1))
  send three "${ports[2]}" >/dev/null
  [[ $round == 20 ]] && kill -KILL "${pids[2]}"
done
wait "${pids[2]}" 2>/dev/null || true
[[ $ok1 == 40 && $ok2 == 40 ]] || fail "survivors answered $ok1 and $ok2 of 40 requests"
await_rows k1 "${ports[1]}" 40
await_rows k2 "${ports[0]}" 40
# The killed instance stops heartbeating and drops out of the others' fleet (15 s).
await_fleet "${ports[0]}" 2

# --- PostgreSQL stops and starts mid-traffic -------------------------------------------------
before1=$(rows_of k1 "${ports[0]}")
before2=$(rows_of k2 "${ports[0]}")
ok1=0 ok2=0
for round in $(seq 1 30); do
  [[ $(send one "${ports[0]}") == 200 ]] && ok1=$((ok1 + 1))
  [[ $(send two "${ports[1]}") == 200 ]] && ok2=$((ok2 + 1))
  if [[ $round == 10 ]]; then
    "$QCC_TEST_POSTGRES_CTL" stop >"$work/pg-stop.log" 2>&1 || fail "could not stop PostgreSQL"
  fi
  if [[ $round == 20 ]]; then
    # While it is down: the admin API says so; the data plane keeps serving (checked above).
    if cli "${ports[0]}" endpoint list >"$work/down.out" 2>&1; then
      fail "endpoint list worked without a database"
    fi
    "$QCC_TEST_POSTGRES_CTL" start >"$work/pg-start.log" 2>&1 || fail "could not start PostgreSQL"
  fi
done
[[ $ok1 == 30 && $ok2 == 30 ]] ||
  fail "with the database down, $ok1 and $ok2 of 30 requests were answered"
await_rows k1 "${ports[1]}" $((before1 + 30))
await_rows k2 "${ports[0]}" $((before2 + 30))
# The admin API works again without a restart.
ok=0
for _ in $(seq 1 300); do
  if cli "${ports[1]}" endpoint list 2>/dev/null | grep -q sim; then
    ok=1
    break
  fi
  sleep 0.1  # polling interval of a bounded wait (30 s)
done
((ok)) || fail "the admin API did not recover after PostgreSQL came back"
grep -q "request log: writing works again" "$work/qcc1.log" "$work/qcc2.log" ||
  fail "no instance logged that writing works again"

echo "fleet_e2e: OK (fleet of 3 listed; $lb_summary; SIGKILL lost no survivor rows; 60 requests answered" \
  "across a PostgreSQL restart, all logged)"
