#!/usr/bin/env bash
# Backup benchmark: seeds N real records (sealed by `hearth serve` itself, submitted over TLS by wrk
# with contact-request.lua: 1–2 contacts, a 300–1500 character account, 0–2 consents), then times
# `hearth backup`, `hearth backup verify` and `hearth restore` (wall time and peak RSS from
# /usr/bin/time -v) and prints the sizes of the live database and of the backup file. Not run by CI.
#
#   deploy/bench/backup-bench.sh                                   # 100,000 records, SQLite
#   BENCH_STORE=both deploy/bench/backup-bench.sh                  # SQLite, then PostgreSQL 15
#   BENCH_RECORDS=5000 HEARTH_BIN=.build/debug/hearth deploy/bench/backup-bench.sh
#
# Environment: BENCH_RECORDS (100000), BENCH_STORE (sqlite | postgres | both), HEARTH_BIN (default:
# .build/release/hearth, built with `swift build -c release --product hearth` if missing),
# BENCH_KEEP=1 (keep the temp dir), TMPDIR (where keys, data and backups go; point it at a disk).
# Seeding is what takes longest (the intake's own rate: ~2,500 records/s release on 2 cores).
set -euo pipefail
{
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/deploy/bench"
RECORDS=${BENCH_RECORDS:-100000}
STORE=${BENCH_STORE:-sqlite}
HEARTH=${HEARTH_BIN:-$REPO/.build/release/hearth}
say() { printf '%s\n' "$*"; }
fail() { printf 'backup-bench: %s\n' "$*" >&2; exit 1; }
[[ "$RECORDS" =~ ^[0-9]+$ && "$RECORDS" -ge 10 ]] || fail "BENCH_RECORDS must be a number >= 10"
case "$STORE" in sqlite | postgres | both) ;; *) fail "BENCH_STORE must be sqlite, postgres or both" ;; esac
for tool in wrk sqlite3 /usr/bin/time; do command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install wrk sqlite3 time)"; done
if [[ ! -x "$HEARTH" ]]; then
    say "building hearth (release)"
    (cd "$REPO" && swift build -c release --product hearth) >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-backup-bench.XXXXXX")
SERVER_PID="" PG_DIR=""
cleanup() {
    [[ -z "$SERVER_PID" ]] || kill "$SERVER_PID" 2>/dev/null || true
    [[ -z "$PG_DIR" ]] || bash "$REPO/Tests/postgres-cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
umask 077
say "hearth: $HEARTH"
say "work dir: $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"

# timed LABEL COMMAND...: runs it under /usr/bin/time -v, prints wall seconds and peak RSS.
timed() {
    local label=$1
    shift
    /usr/bin/time -v -o "$WORK/time.$label" "$@" >"$WORK/out.$label" 2>"$WORK/err.$label" || {
        cat "$WORK/err.$label" >&2
        fail "$label failed"
    }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.$label")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.$label")
    printf '  %-8s wall %s  peak RSS %s MiB\n' "$label" "$wall" "$((rss / 1024))"
}

size() { du -b "$@" 2>/dev/null | awk '{s += $1} END {printf "%.1f MiB (%d bytes)", s / 1048576, s}'; }

# seed DB_ARGS...: starts hearth serve, posts with wrk until RECORDS are stored, stops it.
seed() {
    local count_cmd=$1
    shift
    "$HEARTH" serve --keys "$WORK/keys" "$@" --intake-port 0 --casework-port 0 --log-level error \
        --source-submissions 1000000000 --submissions 1000000000 --min-free-disk 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVER_PID=$!
    local url=""
    for _ in $(seq 1 300); do
        url=$(awk '/^intake: / {print $2}' "$WORK/serve.out")
        [[ -n "$url" ]] && break
        sleep 0.1
    done
    [[ -n "$url" ]] || fail "hearth serve did not start: $(cat "$WORK/serve.err")"
    local have=0 start=$SECONDS
    while ((have < RECORDS)); do
        wrk -t2 -c32 -d5s -s "$HERE/contact-request.lua" "$url/api/v1/contact-requests" >/dev/null 2>&1 || true
        have=$(eval "$count_cmd")
        printf '\r  seeded %d records (%ds)' "$have" "$((SECONDS - start))"
    done
    printf '\n'
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    say "  seeded: $have records in $((SECONDS - start)) s"
}

"$HEARTH" keys init --dir "$WORK/keys" >/dev/null
"$HEARTH" keys init-backup --dir "$WORK/offline" >/dev/null
cp "$WORK/offline/backup.pub" "$WORK/keys/backup.pub"

if [[ "$STORE" == sqlite || "$STORE" == both ]]; then
    say "SQLite, $RECORDS records"
    DATA="$WORK/data"
    seed "sqlite3 '$DATA/hearth.sqlite' 'SELECT count(*) FROM records'" --data "$DATA"
    records=$(sqlite3 "$DATA/hearth.sqlite" 'SELECT count(*) FROM records')
    say "  live database: $(size "$DATA/hearth.sqlite" "$DATA/hearth.sqlite-wal" "$DATA/hearth.sqlite-shm")"
    timed backup "$HEARTH" backup --to "$WORK/sqlite.hbk" --keys "$WORK/keys" --data "$DATA"
    timed verify "$HEARTH" backup verify "$WORK/sqlite.hbk" --backup-key "$WORK/offline"
    timed restore "$HEARTH" restore --from "$WORK/sqlite.hbk" --backup-key "$WORK/offline" --data "$WORK/restored"
    say "  backup file: $(size "$WORK/sqlite.hbk"); restored database: $(size "$WORK/restored/hearth.sqlite")"
    grep -q "records: $records (manifest: $records)" "$WORK/out.restore" || fail "restored record count is not $records"
    say "  restored and checked: $records records"
fi

if [[ "$STORE" == postgres || "$STORE" == both ]]; then
    say "PostgreSQL 15, $RECORDS records"
    PG_DIR=$(mktemp -d /tmp/hearth-bench-pg.XXXXXX)
    # shellcheck source=/dev/null
    source "$(bash "$REPO/Tests/postgres-cluster.sh" start "$PG_DIR")"
    sock=$HEARTH_TEST_POSTGRES port=$HEARTH_TEST_POSTGRES_PORT
    pgurl() { echo "postgres://$1@localhost:$port/$2?host=$sock"; }
    psql -qh "$sock" -p "$port" -U postgres -c "CREATE DATABASE hearth" -c "CREATE DATABASE restored"
    "$HEARTH" db migrate --database "$(pgurl postgres hearth)" >/dev/null
    seed "psql -tAqh '$sock' -p '$port' -U postgres -d hearth -c 'SELECT count(*) FROM hearth.records'" --data "$WORK/pgdata" \
        --database "$(pgurl hearth_casework hearth)" --intake-database "$(pgurl hearth_intake hearth)"
    records=$(psql -tAqh "$sock" -p "$port" -U postgres -d hearth -c 'SELECT count(*) FROM hearth.records')
    say "  live database: $(psql -tAqh "$sock" -p "$port" -U postgres -d hearth -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hearth' AND c.relkind = 'r'") (schema hearth, tables with indexes and TOAST)"
    timed backup "$HEARTH" backup --to "$WORK/pg.hbk" --keys "$WORK/keys" --data "$WORK/pgdata" --database "$(pgurl hearth_casework hearth)"
    timed verify "$HEARTH" backup verify "$WORK/pg.hbk" --backup-key "$WORK/offline"
    timed restore "$HEARTH" restore --from "$WORK/pg.hbk" --backup-key "$WORK/offline" --database "$(pgurl postgres restored)"
    say "  backup file: $(size "$WORK/pg.hbk")"
    grep -q "records: $records (manifest: $records)" "$WORK/out.restore" || fail "restored record count is not $records"
    say "  restored and checked: $records records"
fi
exit 0
}
