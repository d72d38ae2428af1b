#!/usr/bin/env bash
# Builds Hearth's libFuzzer targets and runs each for a while (issue 11, item 6).
#
#   Tests/Fuzz/run.sh [TARGET|all] [SECONDS]     e.g.  Tests/Fuzz/run.sh all 20   Tests/Fuzz/run.sh JSON 600
#
# TARGET is a folder under Tests/Fuzz (JSON, Form, Reference, KeyFile, Envelope), default all;
# SECONDS per target, default 20. The targets are declared in Package.swift only when HEARTH_FUZZ
# is set, which also gives Hearth's own modules libFuzzer's instrumentation. They are built in
# .build-fuzz, so the ordinary .build is untouched; HEARTH_FUZZ_SCRATCH=.build builds them there
# instead, reusing the dependencies already built (Tests/run-all.sh, as its last step: the next
# ordinary build then recompiles Hearth's own modules).
# Each run starts from the committed seeds (Tests/Fuzz/corpus/TARGET, never written to) plus
# what earlier runs found (.build-fuzz/fuzz/corpus/TARGET). Prints executions per target; exits
# non-zero on any crash, time-out (10 s for one input) or memory over 2 GB, with the input in
# .build-fuzz/fuzz/artifacts/TARGET/ — fix the code, add a regression test, and copy that input into
# Tests/Fuzz/corpus/TARGET/ so every later run replays it first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scratch="$root/${HEARTH_FUZZ_SCRATCH:-.build-fuzz}"
all=(JSON Form Reference KeyFile Envelope ProxyHeader)
which="${1:-all}"
seconds="${2:-20}"
if [ "$which" = all ]; then targets=("${all[@]}"); else targets=("$which"); fi
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: unknown target $t (one of: ${all[*]})" >&2; exit 2; }
done

cd "$root"
mkdir -p "$scratch/fuzz"
for t in "${targets[@]}"; do
  start=$(date +%s)
  if ! HEARTH_FUZZ=1 swift build --scratch-path "$scratch" --product "Fuzz$t" > "$scratch/fuzz/build-$t.log" 2>&1; then
    grep -E "error|warning: [^']" "$scratch/fuzz/build-$t.log" >&2 || tail -20 "$scratch/fuzz/build-$t.log" >&2
    echo "run.sh: Fuzz$t did not build" >&2
    exit 1
  fi
  echo "fuzz: built Fuzz$t in $(( $(date +%s) - start )) s"
done

status=0
total=0
for t in "${targets[@]}"; do
  corpus="$scratch/fuzz/corpus/$t"
  artifacts="$scratch/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$scratch/fuzz/run-$t.log"
  # SWIFT_BACKTRACE off: libFuzzer's own handler then writes the crashing input.
  rc=0
  SWIFT_BACKTRACE=enable=no "$scratch/debug/Fuzz$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" "$corpus" "$here/corpus/$t" > "$log" 2>&1 || rc=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  per_second="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  found="$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)"
  total=$(( total + ${runs:-0} ))
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: Fuzz$t: ${runs:-?} executions in $seconds s (${per_second:-?}/s), ${found:-?} new inputs, 0 crashes"
  else
    status=1
    echo "fuzz: Fuzz$t: CRASH after ${runs:-?} executions (exit $rc); input and log:"
    ls -1 "$artifacts"/* 2>/dev/null | sed 's/^/  /' || true
    grep -E "ERROR: libFuzzer|Fatal error|SUMMARY|Test unit written|Base64" "$log" | sed 's/^/  /' || true
    echo "  full log: $log"
  fi
done
echo "fuzz: ${#targets[@]} target(s), $total executions, $([ "$status" -eq 0 ] && echo "no crashes" || echo "CRASHES FOUND")"
exit "$status"
