#!/usr/bin/env bash
# Module boundaries of src/, checked on every `make test`: each module may include only the
# modules listed for it (doors only go down), a few headers are internal to their module, and the
# CLI opens the store only in the documented offline commands. Also rejects `co_await` inside an
# if/while condition, which GCC 12 miscompiles. Prints every violation with the rule it breaks and
# exits 1 when there is one. Usage: check-boundaries.sh [TREE] (default: this repository).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# module -> modules it may include (besides itself)
declare -A allowed=(
  [common]=""
  [protocol]="common"
  [config]="common"
  [store]="common config"
  [metrics]="common"
  [upstream]="common protocol config"
  [sim]="common protocol"
  [proxy]="common protocol config upstream"
  [control]="common protocol config upstream store metrics proxy"
  [admin]="common protocol config upstream store metrics proxy control"
  [cli]="common protocol config sim store"
  [app]="common protocol config upstream store metrics proxy control admin cli sim"
)
declare -A why=(
  [common]="common is the bottom layer: it includes no other module"
  [protocol]="protocol is pure parsing and formatting: common only"
  [config]="config reads files: common only"
  [store]="the store knows only config records: common, config"
  [metrics]="metrics: common only"
  [upstream]="upstream (pools, breakers, selection, checks) sits below the data plane"
  [sim]="the simulator uses protocol only"
  [proxy]="the data plane does not know control, admin, store, metrics, cli or app (it gets them as proxy/sinks.hpp interfaces)"
  [control]="control does not know admin, cli or app"
  [admin]="admin reaches the gateway through control::ControlApi, never cli or app"
  [cli]="the CLI talks to the admin API; it never includes the data plane, control, admin or app"
  [app]="app is the composition root"
)
# Data-plane internals: only the data plane itself (and app, which builds the Server) may include
# them; control and admin see the data plane through its state and interface headers.
internal_proxy="worker server session forwarder relay attempt_plan classify"
# CLI files that may open the store directly: commands that must work with the server stopped.
cli_store_files="${QCC_CLI_STORE_FILES:-src/cli/offline_store.cpp src/cli/backup_cmd.cpp}"

status=0
fail() {
  echo "$1" >&2
  status=1
}

while IFS= read -r file; do
  module=${file#src/}
  module=${module%%/*}
  [[ -v allowed[$module] ]] || { fail "$file: module '$module' is not in the boundary table (scripts/check-boundaries.sh)"; continue; }
  while IFS=: read -r line inc; do
    target=${inc#*\"}
    target=${target%%\"*}
    dep=${target%%/*}
    [[ "$target" == */* ]] || continue
    [[ "$dep" == "$module" ]] && continue
    if [[ " ${allowed[$module]} " != *" $dep "* ]]; then
      fail "$file:$line: includes \"$target\": ${why[$module]}"
      continue
    fi
    if [[ "$dep" == proxy && "$module" != app ]]; then
      header=${target#proxy/}
      header=${header%.hpp}
      if [[ " $internal_proxy " == *" $header "* ]]; then
        fail "$file:$line: includes \"$target\": data-plane internals (worker, server, session, forwarder, relay, attempt plan, classify) are not for $module"
      fi
    fi
    if [[ "$module" == cli && "$dep" == store && " $cli_store_files " != *" $file "* ]]; then
      fail "$file:$line: includes \"$target\": the CLI goes through the admin API; only the offline commands ($cli_store_files) open the store"
    fi
  done < <(grep -n '^#include "' "$file" | sed 's/^\([0-9]*\):/\1:/')
  # GCC 12 miscompiles co_await inside a condition (a crash, not a diagnostic). perl (always on
  # Debian) extracts the parenthesised condition of every if/while and looks for co_await in it.
  while IFS= read -r line; do
    fail "$file:$line: co_await inside an if/while condition: GCC 12 miscompiles it; await into a variable first"
  done < <(perl -ne 'if (/\b(?:if|while)\s*(\((?:[^()]++|(?1))*\))/) { print "$.\n" if $1 =~ /\bco_await\b/ }' "$file")
done < <(find src -name '*.cpp' -o -name '*.hpp' | sort)

if ((status == 0)); then
  echo "module boundaries: ok ($(find src -name '*.cpp' -o -name '*.hpp' | wc -l) files)"
fi
exit $status
