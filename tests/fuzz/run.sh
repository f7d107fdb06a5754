#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from its seed corpora, or replays the inputs that
# once crashed it. Usage: run.sh BINARY SECONDS SEED_DIR...   |   run.sh BINARY replay DIR
# A crash prints the input (base64) so it can be added to tests/fuzz/regressions/<target>/.
set -euo pipefail
bin=$1
mode=$2
shift 2
if [[ "$mode" == replay ]]; then
  dir=$1
  shopt -s nullglob
  files=("$dir"/*)
  if ((${#files[@]} == 0)); then
    echo "no regression inputs in $dir"
    exit 0
  fi
  exec "$bin" -runs=1 "${files[@]}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
seeds=()
for d in "$@"; do [[ -d "$d" ]] && seeds+=("$d"); done
status=0
"$bin" -max_total_time="$mode" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" || status=$?
if ((status != 0)); then
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [[ -f "$f" ]] || continue
    echo "=== $(basename "$f") (base64; save it under tests/fuzz/regressions/$(basename "$bin" _fuzz)/):"
    base64 -w0 "$f"
    echo
  done
fi
exit $status
