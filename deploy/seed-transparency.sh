#!/usr/bin/env bash
# Seeds a scratch Hearth deployment with a few thousand realistic records over several closed
# months and publishes their transparency figures (SECURITY.md §13). Never point it at real data.
#
#   deploy/seed-transparency.sh WORKDIR [--months 6] [--per-month 600] [--seed 1]
#
# WORKDIR must be new or empty. It runs `hearth serve --dev` there once (development keys, a
# self-signed certificate and the SQLite schema), stops it, seeds WORKDIR/.hearth/hearth.sqlite
# with deploy/seed-transparency.py, then runs `hearth stats` (which publishes every closed month)
# and prints the published figures. Then, to see the page, the CSV and the JSON:
#   (cd WORKDIR && hearth serve --dev)   →  https://127.0.0.1:8443/transparency
# HEARTH names the binary (default: .build/debug/hearth, built with `swift build`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:?usage: seed-transparency.sh WORKDIR [--months N] [--per-month N] [--seed N]}"
shift
hearth="${HEARTH:-$here/../.build/debug/hearth}"
hearth="$(cd "$(dirname "$hearth")" && pwd)/$(basename "$hearth")"
[ -x "$hearth" ] || { echo "seed-transparency: failed to find hearth at $hearth" >&2; echo "hint: swift build, or set HEARTH" >&2; exit 1; }
mkdir -p "$work"
if [ -n "$(ls -A "$work")" ]; then echo "seed-transparency: refusing: $work is not empty (seed only a scratch directory)" >&2; exit 1; fi
cd "$work"

# One run of the service creates the keys and the schema; it is stopped as soon as it listens.
"$hearth" serve --dev --intake-port 0 --casework-port 0 --no-metrics >serve.out 2>serve.err &
pid=$!
for _ in $(seq 1 300); do
  grep -q '^certificate:' serve.out 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat serve.err >&2; exit 1; }
  sleep 0.2
done
kill -TERM "$pid"
wait "$pid" || true
rm -f serve.out serve.err

python3 "$here/seed-transparency.py" .hearth/hearth.sqlite "$@"
"$hearth" stats
