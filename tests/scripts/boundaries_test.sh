#!/usr/bin/env bash
# The module-boundary check passes on the tree and catches each kind of violation in a scratch
# tree (with the rule it broke in the message).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
check=$here/scripts/check-boundaries.sh
"$check" "$here"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/src/{proxy,admin,cli,common}
expect_failure() {  # FILE CONTENT EXPECTED-TEXT
  rm -f "$tmp"/src/*/*.cpp
  printf '%s\n' "$2" > "$tmp/$1"
  if out=$("$check" "$tmp" 2>&1); then
    echo "FAIL: $1 passed the check:"; echo "$2"; exit 1
  fi
  if [[ "$out" != *"$3"* ]]; then
    echo "FAIL: $1: expected '$3' in:"; echo "$out"; exit 1
  fi
  echo "ok: $out"
}
expect_failure src/proxy/a.cpp '#include "admin/router.hpp"' "the data plane does not know control, admin"
expect_failure src/admin/a.cpp '#include "proxy/worker.hpp"' "data-plane internals"
expect_failure src/cli/a.cpp '#include "store/store.hpp"' "only the offline commands"
expect_failure src/cli/a.cpp '#include "app/gateway.hpp"' "the CLI talks to the admin API"
expect_failure src/common/a.cpp '#include "config/config.hpp"' "common is the bottom layer"
expect_failure src/proxy/a.cpp 'x(); if (!co_await f()) return;' "co_await inside an if/while condition"
# Allowed: co_await in the body, a door that goes down.
rm -f "$tmp"/src/*/*.cpp
printf '#include "proxy/sinks.hpp"\nvoid f() { if (x) co_await g(); }\n' > "$tmp/src/admin/a.cpp"
"$check" "$tmp"
echo "boundaries: all checks behave"
