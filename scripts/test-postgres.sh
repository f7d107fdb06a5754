#!/usr/bin/env bash
# Usage: scripts/test-postgres.sh [--own] CMD ARGS...
#
# Runs CMD with QCC_TEST_POSTGRES set to a libpq connection URL for a throwaway PostgreSQL cluster:
# initdb in a fresh temporary directory, no TCP port (a Unix socket in that directory only), fsync
# off. Afterwards (also when CMD fails or this script is interrupted) the cluster is stopped by its
# postmaster pid and the directory removed; the exit status is CMD's. Runs concurrently with itself.
#
# When PostgreSQL cannot start (no server installed, initdb fails, ...) it says so on one line and
# runs CMD without QCC_TEST_POSTGRES: the PostgreSQL store tests skip, the SQLite ones still run.
# When QCC_TEST_POSTGRES is already set, CMD runs against that server and none is started, unless
# --own is given: then CMD always gets a cluster of its own (a test that stops and restarts the
# server), and QCC_TEST_POSTGRES_CTL names a script that does so: `$QCC_TEST_POSTGRES_CTL stop`
# (fast shutdown) and `$QCC_TEST_POSTGRES_CTL start` (same socket, waits until it accepts).
#
# The server binaries (initdb, pg_ctl, postgres) come from QCC_PG_BINDIR when set (only there),
# else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin, else initdb on PATH.
# initdb refuses to run as root: as root the cluster runs as the user postgres (Debian's server
# package creates it), or as a system user qcc-pg-test created for this.
set -uo pipefail

own=0
if [[ "${1:-}" == "--own" ]]; then
  own=1
  shift
fi

if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]  (runs CMD with QCC_TEST_POSTGRES set: a throwaway PostgreSQL)" >&2
  exit 2
fi

if ((!own)) && [[ -n "${QCC_TEST_POSTGRES:-}" ]]; then
  echo "test-postgres: using the PostgreSQL in QCC_TEST_POSTGRES from the environment" >&2
  exec "$@"
fi

readonly PG_PORT=5432  # only names the socket file (DIR/.s.PGSQL.5432): nothing listens on TCP
tmp=""                 # the temporary directory: socket, log, data/
data=""                # the cluster's data directory (tmp/data)
pg_user=""             # the user the cluster runs as when we are root; empty: ourselves
bindir=""
start_attempted=0
cleaned=0
cmd_pid=""

# A system tool on PATH or in the sbin directories (a root shell's PATH may lack them).
sbin_tool() {
  command -v "$1" 2>/dev/null && return 0
  local d
  for d in /usr/sbin /sbin /usr/bin /bin; do
    [[ -x "$d/$1" ]] && { echo "$d/$1"; return 0; }
  done
  return 1
}
runuser_bin=""

# Runs a server binary as the cluster's user (from the temporary directory: a cwd the user cannot
# read would make initdb and postgres complain).
as_pg() {
  if [[ -n "$pg_user" ]]; then
    (cd "$tmp" && "$runuser_bin" -u "$pg_user" -- "$@")
  else
    (cd "$tmp" && "$@")
  fi
}

# True while pid is a live process (a zombie counts as gone).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 0
  [[ "$state" != "Z" ]]
}

# Stops the cluster by the postmaster pid in DATADIR/postmaster.pid: pg_ctl stop -m fast with a
# bounded wait, then SIGKILL to the postmaster (and its process group, which pg_ctl made its own
# with setsid: the backends) if it is still there.
stop_cluster() {
  local pidfile="$data/postmaster.pid" pid="" pgid shmid i
  [[ -n "$data" ]] || return 0
  if ((start_attempted)) && [[ ! -f "$pidfile" ]]; then
    # Interrupted during pg_ctl start: give the postmaster a moment to write its pid file.
    for ((i = 0; i < 30; i++)); do
      [[ -f "$pidfile" ]] && break
      sleep 0.1
    done
  fi
  [[ -f "$pidfile" ]] || return 0
  pid=$(head -n 1 "$pidfile" 2>/dev/null | tr -d '[:space:]')
  [[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) || return 0
  alive "$pid" || return 0
  as_pg "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 10 >/dev/null 2>&1
  if alive "$pid"; then
    echo "test-postgres: PostgreSQL (pid $pid) did not stop in 10 s; killing it" >&2
    pgid=$(awk '{ sub(/^.*\) /, ""); print $3 }' "/proc/$pid/stat" 2>/dev/null)
    kill -9 "$pid" 2>/dev/null
    [[ "$pgid" == "$pid" ]] && kill -9 -- "-$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "test-postgres: PostgreSQL (pid $pid) is still running" >&2
    else
      # A killed postmaster leaves its small System V segment (postmaster.pid line 7: key, id).
      shmid=$(sed -n 7p "$pidfile" 2>/dev/null | awk '{ print $2 }')
      [[ "$shmid" =~ ^[0-9]+$ ]] && command -v ipcrm >/dev/null 2>&1 && ipcrm -m "$shmid" 2>/dev/null
    fi
  fi
  return 0
}

cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  stop_cluster
  [[ -n "$tmp" && -d "$tmp" ]] && rm -rf -- "$tmp"
  return 0
}

# INT/TERM/HUP: pass the signal on to CMD and give it a bounded time to finish, stop the cluster,
# then die of the same signal.
# shellcheck disable=SC2317  # invoked by the traps below
on_signal() {
  local sig=$1 i
  trap '' INT TERM HUP
  if [[ -n "$cmd_pid" ]] && kill -0 "$cmd_pid" 2>/dev/null; then
    kill -s "$sig" "$cmd_pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      kill -0 "$cmd_pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  cleanup
  trap - EXIT "$sig"
  kill -s "$sig" "$$"
  exit 128  # not reached unless the signal is ignored
}

trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

find_bindir() {
  local d newest=""
  if [[ -n "${QCC_PG_BINDIR:-}" ]]; then
    [[ -x "$QCC_PG_BINDIR/initdb" ]] ||
      { fail "no initdb in QCC_PG_BINDIR=$QCC_PG_BINDIR"; return; }
    bindir=$QCC_PG_BINDIR
    return 0
  fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null)
    if [[ -n "$d" && -x "$d/initdb" ]]; then bindir=$d; return 0; fi
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ -x "$d/initdb" ]] && newest=$d
  done
  if [[ -n "$newest" ]]; then bindir=$newest; return 0; fi
  d=$(command -v initdb 2>/dev/null)
  if [[ -n "$d" ]]; then bindir=$(dirname "$(readlink -f "$d")"); return 0; fi
  fail "no PostgreSQL server found (Debian: apt install postgresql; or set QCC_PG_BINDIR)"
}

# The user the cluster runs as when we are root (initdb refuses root).
choose_user() {
  ((EUID == 0)) || return 0
  runuser_bin=$(sbin_tool runuser) || { fail "running as root and runuser is missing"; return; }
  if id -u postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    pg_user=qcc-pg-test
    if ! id -u "$pg_user" >/dev/null 2>&1; then
      # Another run may create it at the same moment: only its absence afterwards is an error.
      "$(sbin_tool useradd || echo useradd)" -r -M -d /nonexistent -s /usr/sbin/nologin -c "QCC PostgreSQL tests" "$pg_user" \
        >/dev/null 2>&1
      id -u "$pg_user" >/dev/null 2>&1 || { fail "could not create the user $pg_user"; return; }
    fi
  fi
  chown "$pg_user:" "$tmp" || { fail "could not chown $tmp to $pg_user"; return; }
  return 0
}

# Records why PostgreSQL could not start; returns non-zero.
fail() {
  reason=$1
  return 1
}

last_line() { [[ -f "$1" ]] && grep -v '^[[:space:]]*$' "$1" | tail -n 1; }

# Starts the cluster and sets url and version; on failure sets reason and returns non-zero.
start_cluster() {
  local i ok=0 out locale
  find_bindir || return 1
  [[ -x "$bindir/pg_ctl" ]] || { fail "no pg_ctl in $bindir"; return; }
  tmp=$(mktemp -d /tmp/qcc-pg.XXXXXX) || { fail "mktemp failed"; return; }
  chmod 755 "$tmp"  # root's clients reach the socket; the data directory itself stays 0700
  data=$tmp/data
  choose_user || return 1

  for locale in C.UTF-8 C; do
    rm -rf -- "$data"
    if as_pg "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale="$locale" --no-sync \
      >"$tmp/initdb.log" 2>&1; then
      ok=1
      break
    fi
  done
  ((ok)) || { fail "initdb failed: $(last_line "$tmp/initdb.log")"; return; }

  # Unix socket only, in tmp; durability off (a throwaway cluster); room for parallel tests.
  local opts="-c listen_addresses='' -k $tmp -p $PG_PORT -c max_connections=200"
  opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  start_attempted=1
  if ! as_pg "$bindir/pg_ctl" -D "$data" -w -t 30 start -l "$tmp/log" -o "$opts" \
    >"$tmp/pg_ctl.log" 2>&1; then
    fail "pg_ctl start failed: $(last_line "$tmp/log" || last_line "$tmp/pg_ctl.log")"
    return
  fi

  # pg_ctl -w has waited already; this confirms that the socket takes connections.
  local isready=$bindir/pg_isready deadline=$((SECONDS + 30))
  [[ -x "$isready" ]] || isready=$(command -v pg_isready) ||
    { fail "pg_isready not found"; return; }
  ok=0
  for ((i = 0; i < 300 && SECONDS < deadline; i++)); do
    if "$isready" -q -h "$tmp" -p "$PG_PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1
    then
      ok=1
      break
    fi
    sleep 0.1
  done
  ((ok)) || { fail "not ready after 30 s: $(last_line "$tmp/log")"; return; }

  # The stop/start script for --own (the same options as above).
  {
    echo '#!/usr/bin/env bash'
    echo 'set -euo pipefail'
    printf 'run() { cd %q && ' "$tmp"
    if [[ -n "$pg_user" ]]; then printf '%q -u %q -- ' "$runuser_bin" "$pg_user"; fi
    echo '"$@"; }'
    echo 'case "${1:-}" in'
    printf '  stop) run %q -D %q -m fast -w -t 30 stop ;;\n' "$bindir/pg_ctl" "$data"
    printf '  start) run %q -D %q -w -t 30 start -l %q -o %q ;;\n' "$bindir/pg_ctl" "$data" \
      "$tmp/log" "$opts"
    echo '  *) echo "usage: $0 stop|start" >&2; exit 2 ;;'
    echo 'esac'
  } >"$tmp/ctl"
  chmod 755 "$tmp/ctl"

  url="postgresql://postgres@/postgres?host=$tmp&port=$PG_PORT"
  local psql=$bindir/psql
  [[ -x "$psql" ]] || psql=$(command -v psql) || { fail "psql not found"; return; }
  out=$("$psql" "$url" -X -A -t -q -c 'select 1' -c 'show server_version' 2>&1) ||
    { fail "psql could not connect: ${out//$'\n'/ }"; return; }
  [[ "$(printf '%s\n' "$out" | sed -n 1p)" == 1 ]] ||
    { fail "select 1 returned: ${out//$'\n'/ }"; return; }
  version=$(printf '%s\n' "$out" | sed -n 2p | awk '{ print $1 }')
  return 0
}

url=""
version=""
reason=""
if start_cluster; then
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null | tr -d '[:space:]')
  echo "test-postgres: throwaway PostgreSQL $version at $tmp (pid $pid)" >&2
  export QCC_TEST_POSTGRES=$url
  if ((own)); then export QCC_TEST_POSTGRES_CTL=$tmp/ctl; else unset QCC_TEST_POSTGRES_CTL; fi
else
  echo "test-postgres: PostgreSQL could not start ($reason); the PostgreSQL store tests will be" \
    "skipped, the SQLite ones run" >&2
  cleanup
  unset QCC_TEST_POSTGRES QCC_TEST_POSTGRES_CTL
fi

# CMD runs in the background so that a signal reaches the trap at once (a foreground command would
# delay it until CMD ends); it keeps stdin and the default SIGINT/SIGQUIT that bash would otherwise
# take from an asynchronous command.
(
  trap - INT QUIT TERM HUP EXIT
  exec "$@"
) <&0 &
cmd_pid=$!
wait "$cmd_pid"
status=$?
cmd_pid=""
cleanup
exit "$status"
