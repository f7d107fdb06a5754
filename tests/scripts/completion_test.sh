#!/usr/bin/env bash
# The bash completion script loads and completes commands and subcommands.
# Usage: completion_test.sh <dist/completions/qcc.bash>
set -euo pipefail
source "$1"
complete -p qcc >/dev/null || { echo "completion_test: no completion registered for qcc"; exit 1; }
check() {  # check WANT WORDS...
  local want=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  _qcc
  [[ "${COMPREPLY[*]}" == "$want" ]] || { echo "completion_test: '$*' gave '${COMPREPLY[*]}', want '$want'"; exit 1; }
}
check endpoint qcc endp
check revoke qcc key re
check "apply" qcc claude ap
check migrate qcc mig
check "--from" qcc migrate --fr
echo "completion_test: ok"
