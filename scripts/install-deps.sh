#!/usr/bin/env bash
# Installs everything QCC needs to build, test and benchmark on Debian 12 (apt only).
# Fast no-op when everything is already installed.
set -euo pipefail
# Other systems: say what to install by hand (docs/install.md has the commands).
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  cat >&2 <<'MSG'
install-deps: this script installs with apt (Debian 12, Ubuntu 22.04+). On this system install by
hand, then run the make targets again (docs/install.md lists the packages for Fedora, Arch and
macOS/Homebrew): a C++20 compiler (GCC 12+ or Clang 15+), CMake 3.25+, Ninja, Boost 1.81+ (json,
url, asio, beast), OpenSSL 3, SQLite 3, libpq (PostgreSQL client), simdjson, toml++ 3, spdlog, fmt,
CLI11, GoogleTest, a PostgreSQL server (PostgreSQL store tests; they skip without one), nginx (the
fleet test's load balancer), Node.js 18+ with npm (dashboard build, end-to-end tests) and Chromium
(dashboard browser tests).
MSG
  for tool in cmake ninja c++ node npm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-deps: missing: $tool" >&2; exit 1; }
  done
  exit 0
fi
packages=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libsimdjson-dev libtomlplusplus-dev
  libtcmalloc-minimal4
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev
  chromium
  postgresql
  nginx-light
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk sqlite3 valgrind)
fi
# libtcmalloc-minimal4 is the allocator the qcc executable links (cmake/allocator.cmake).
# Chromium runs the dashboard's browser tests (driven by playwright-core from npm). The PostgreSQL
# server runs the PostgreSQL store tests (scripts/test-postgres.sh: a throwaway cluster per test run).
# nginx runs the fleet test's load balancer (the recipe in docs/operations.md) and the benchmark's
# reference proxy.
# Node.js + npm build the dashboard and run the end-to-end test with the real Claude Code CLI. Machines that already have a
# Node.js from elsewhere (e.g. NodeSource, which bundles npm) keep it: Debian's npm would conflict.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
