#!/usr/bin/env bash
# Audit memory benchmark (issue 10): seeds a scratch SQLite store with N audit entries on a valid
# hash chain (deploy/seed-transparency.py's chain hash) and one signed checkpoint at the head
# (`hearth audit checkpoint`), then runs `hearth audit checkpoint` and `hearth audit verify` under
# /usr/bin/time -v and prints their wall time and peak RSS. With HEARTH_BEFORE, the same database
# is verified by that binary too, side by side (say, a build from before verification streamed).
# Not run by CI. Never point it at real data: it makes its own scratch directory.
#
#   deploy/bench/audit-memory.sh                                 # N = 10,000 and 1,000,000
#   BENCH_ENTRIES="10000 100000" HEARTH_BIN=.build/debug/hearth HEARTH_BEFORE=/tmp/hearth-old deploy/bench/audit-memory.sh
#
# Environment: BENCH_ENTRIES (space-separated counts, "10000 1000000"), HEARTH_BIN (default:
# .build/release/hearth, built with `swift build -c release --product hearth` if missing),
# HEARTH_BEFORE (a second binary to compare), BENCH_KEEP=1 (keep the scratch directory), TMPDIR.
# Seeding writes ~250,000 entries/s (Python, one transaction).
set -euo pipefail
{
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ENTRIES=${BENCH_ENTRIES:-10000 1000000}
HEARTH=${HEARTH_BIN:-$REPO/.build/release/hearth}
BEFORE=${HEARTH_BEFORE:-}
say() { printf '%s\n' "$*"; }
fail() { printf 'audit-memory: %s\n' "$*" >&2; exit 1; }
for n in $ENTRIES; do [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || fail "BENCH_ENTRIES must be counts >= 1, not '$n'"; done
for tool in python3 /usr/bin/time; do command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install python3 time)"; done
if [[ ! -x "$HEARTH" ]]; then
    say "building hearth (release)"
    (cd "$REPO" && swift build -c release --product hearth) >/dev/null
fi
[[ -z "$BEFORE" || -x "$BEFORE" ]] || fail "HEARTH_BEFORE '$BEFORE' is not an executable"
HEARTH=$(realpath "$HEARTH")
[[ -z "$BEFORE" ]] || BEFORE=$(realpath "$BEFORE")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-audit-memory.XXXXXX")
SERVER_PID=""
cleanup() {
    [[ -z "$SERVER_PID" ]] || kill "$SERVER_PID" 2>/dev/null || true
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
umask 077
say "hearth: $HEARTH${BEFORE:+ (before: $BEFORE)}"
say "work dir: $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"

# timed LABEL DIR COMMAND...: runs it in DIR under /usr/bin/time -v; prints wall time, peak RSS
# and the command's last line of output.
timed() {
    local label=$1 dir=$2
    shift 2
    (cd "$dir" && /usr/bin/time -v -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err") || {
        cat "$WORK/out" "$WORK/err" >&2
        fail "$label failed"
    }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
    printf '  %-20s wall %8s  peak RSS %5d MiB  | %s\n' "$label" "$wall" "$((rss / 1024))" "$(tail -n 1 "$WORK/out" | cut -c1-90)"
}

# seed DIR N: keys and schema from one `hearth serve --dev` run, then N audit entries.
seed() {
    local dir=$1 n=$2
    mkdir -p "$dir"
    (cd "$dir" && exec "$HEARTH" serve --dev --intake-port 0 --casework-port 0 --no-metrics >serve.out 2>serve.err) &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        grep -q '^certificate:' "$dir/serve.out" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/serve.err" >&2; fail "hearth serve --dev did not start"; }
        sleep 0.2
    done
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=""
    python3 - "$REPO/deploy/seed-transparency.py" "$dir/.hearth/hearth.sqlite" "$n" <<'PY'
import importlib.util, sqlite3, sys
spec = importlib.util.spec_from_file_location("seed", sys.argv[1])
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)
db, n = sqlite3.connect(sys.argv[2]), int(sys.argv[3])
last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
seq, previous = (last[0], last[1]) if last else (0, bytes(32))
start = seq

def rows():
    global seq, previous
    for i in range(n):
        seq += 1
        at = 1_764_547_200 + seq * 7
        e = ("survivor", "", "record.create", f"HR-{seq:04X}-AAAA-BBBB-CCCC", "", "ok") if i % 2 else \
            (f"staff:{i % 40 + 1}", "caseworker", "case.status", f"HR-{seq:04X}-AAAA-BBBB-CCCC", "support", "in-progress")
        h = seed.chain_hash(previous, seq, at, *e)
        yield (seq, at, *e, previous, h)
        previous = h

with db:
    db.executemany("INSERT INTO audit (seq, at, actor, role, action, subject, scope, outcome, previous_hash, hash) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
print(f"seeded {seq - start} audit entries (the trail now ends at {seq})")
PY
}

say ""
say "N entries; peak RSS of each command (/usr/bin/time -v); one signed checkpoint at the head"
for n in $ENTRIES; do
    dir="$WORK/n$n"
    say ""
    seed "$dir" "$n" >"$WORK/seeded"
    say "N = $n: $(cat "$WORK/seeded"), database $(du -b "$dir/.hearth/hearth.sqlite" | awk '{printf "%.1f MiB", $1 / 1048576}')"
    timed "audit checkpoint" "$dir" "$HEARTH" audit checkpoint
    timed "audit verify" "$dir" "$HEARTH" audit verify
    [[ -z "$BEFORE" ]] || timed "audit verify before" "$dir" "$BEFORE" audit verify
done
}
