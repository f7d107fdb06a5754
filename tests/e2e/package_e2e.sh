#!/usr/bin/env bash
# End-to-end: the Debian package as a user installs it. Builds it with CPack from this build tree,
# installs it with apt, checks `qcc --version`, starts QCC with the systemd unit's own command line
# (no systemd needed; only the listen address is made a free port), checks it answers, then removes
# the package. Needs root and apt (exit 77 = skipped otherwise, or when a qcc package is already
# installed on this machine).
# Usage: package_e2e.sh <build-dir> <expected-version>
set -euo pipefail
build="$1"
version="$2"
work=$(mktemp -d)
pid=""
installed=0
had_state_dir=0
[[ -d /var/lib/qcc ]] && had_state_dir=1
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if (( installed )); then apt-get remove -y -qq qcc >/dev/null 2>&1 || true; fi
  if (( ! had_state_dir )); then rm -rf /var/lib/qcc; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package_e2e: FAIL: $*" >&2; [[ -f "$work/out.log" ]] && tail -30 "$work/out.log" >&2; exit 1; }

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null || ! command -v cpack >/dev/null; then
  echo "package_e2e: needs root, apt-get and cpack: skipped"; exit 77
fi
if dpkg-query -W -f='${Status}' qcc 2>/dev/null | grep -q "install ok installed"; then
  echo "package_e2e: a qcc package is already installed here: skipped"; exit 77
fi

(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/qcc_*.deb)
[[ "$deb" == *"qcc_${version}_"* ]] || fail "unexpected package name $deb"
# Every shared library the binary links must come with a dependency (the allocator included,
# which nothing in QCC calls by name).
depends=$(dpkg-deb -f "$deb" Depends)
if ldd "$build/src/qcc" | grep -q libtcmalloc_minimal; then
  [[ "$depends" == *libtcmalloc-minimal4* ]] || fail "Depends lacks libtcmalloc-minimal4: $depends"
fi
[[ "$depends" == *libsqlite3* && "$depends" == *libpq5* ]] || fail "Depends incomplete: $depends"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install failed"; }
installed=1
[[ "$(/usr/bin/qcc --version)" == "qcc $version" ]] || fail "qcc --version: $(/usr/bin/qcc --version)"
[[ -f /lib/systemd/system/qcc.service && -f /etc/qcc/config.toml ]] || fail "unit or config missing"
[[ -f /usr/share/bash-completion/completions/qcc ]] || fail "bash completion missing"

# The unit's command line, as systemd would run it (a free port instead of 7860).
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/qcc.service)
[[ "$exec_start" == "/usr/bin/qcc serve --config /etc/qcc/config.toml" ]] || fail "ExecStart: $exec_start"
HOME=/var/lib/qcc $exec_start --listen 127.0.0.1:0 >"$work/out.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(grep -o 'qcc listening on http://127.0.0.1:[0-9]*' "$work/out.log" | grep -o '[0-9]*$' || true)
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || fail "qcc exited early"
  sleep 0.05  # polling interval of a bounded wait (10 s)
done
[[ -n "$port" ]] || fail "qcc did not start"
[[ "$(curl -s "http://127.0.0.1:$port/healthz")" == '{"status":"ok"}' ]] || fail "/healthz"
# The CLI finds the service's admin token through the packaged config.
/usr/bin/qcc status --config /etc/qcc/config.toml --listen "127.0.0.1:$port" >"$work/status.log" 2>&1 ||
  { cat "$work/status.log" >&2; fail "qcc status against the packaged service"; }
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

apt-get remove -y -qq qcc >/dev/null 2>&1 || fail "apt-get remove failed"
installed=0
[[ ! -e /usr/bin/qcc ]] || fail "/usr/bin/qcc left after removal"
echo "package_e2e: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
