#!/usr/bin/env bash
# Re-wrap benchmark: `hearth keys rewrap --scope support` over N records with two consent wraps
# each, against a floor (rewrap-floor.c: raw libsodium open+seal and batched SQLite updates, no
# Hearth code). See README.md in this directory.
#
#   deploy/bench/rewrap-bench.sh                                  # 1,000,000 records, plus a run at N/10
#   BENCH_RECORDS=20000 deploy/bench/rewrap-bench.sh              # quick check
#   BENCH_NO_BUILD=1 BENCH_ROUNDS=3 deploy/bench/rewrap-bench.sh  # reuse the build, 3 alternating rounds
#
# Environment: BENCH_RECORDS (1000000), BENCH_BATCH (500), BENCH_ROUNDS (1), BENCH_SMALL (1: also
# run at N/10 for the memory check), BENCH_THREADS (2: seeder and floor crypto threads),
# BENCH_NO_BUILD, HEARTH_BIN, BENCH_KEEP (1 keeps the temp dir), TMPDIR (where the databases go),
# BENCH_NICE (0: niceness of the timed runs), BENCH_WAIT_IDLE (0: before each timed run, wait up
# to this many seconds for the rest of the machine to go quiet, under 0.2 cores busy over 5 s).
set -euo pipefail

# The whole script is one compound command, read in full before it starts, so editing this file
# while a (long) run is going does not change what that run executes.
{

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/deploy/bench"
RECORDS=${BENCH_RECORDS:-1000000}
BATCH=${BENCH_BATCH:-500}
ROUNDS=${BENCH_ROUNDS:-1}
SMALL=${BENCH_SMALL:-1}
THREADS=${BENCH_THREADS:-2}
NICE=${BENCH_NICE:-0}
WAIT_IDLE=${BENCH_WAIT_IDLE:-0}
SCOPE=support
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*"; }
fail() { printf 'rewrap-bench: %s\n' "$*" >&2; exit 1; }

[[ "$RECORDS" =~ ^[0-9]+$ && "$RECORDS" -ge 10 ]] || fail "BENCH_RECORDS must be a number >= 10"
[[ "$ROUNDS" =~ ^[0-9]+$ && "$ROUNDS" -ge 1 ]] || fail "BENCH_ROUNDS must be >= 1"

# --- tools -------------------------------------------------------------------------------------
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
command -v gcc >/dev/null || missing+=(gcc)
[[ -f /usr/include/sodium.h ]] || missing+=(libsodium-dev)
[[ -f /usr/include/sqlite3.h ]] || missing+=(libsqlite3-dev)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- work dir ----------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-rewrap-bench.XXXXXX")
TIMED_PID="" TIMED_CHILD=""
cleanup() {
    # A timed run still going (interrupted): stop it and /usr/bin/time by their ids.
    [[ -z "$TIMED_CHILD" ]] || kill "$TIMED_CHILD" 2>/dev/null || true
    [[ -z "$TIMED_PID" ]] || kill "$TIMED_PID" 2>/dev/null || true
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
umask 077

# --- hearth build ------------------------------------------------------------------------------
HEARTH=${HEARTH_BIN:-$REPO/.build-release/release/hearth}
if [[ "${BENCH_NO_BUILD:-0}" != 1 && -z "${HEARTH_BIN:-}" ]]; then
    # Other people may be mid-edit: retry a failed build a few times before giving up.
    for attempt in 1 2 3 4; do
        if (cd "$REPO" && swift build -c release --product hearth --scratch-path "$REPO/.build-release" >"$WORK/build.log" 2>&1); then
            tail -1 "$WORK/build.log"
            break
        fi
        tail -15 "$WORK/build.log" >&2
        ((attempt < 4)) || fail "swift build -c release failed 4 times"
        say "build failed (attempt $attempt); retrying in 60 s"
        sleep 60
    done
fi
[[ -x "$HEARTH" ]] || fail "no hearth binary at $HEARTH (build it, or set HEARTH_BIN)"

say "work dir: $WORK"
df -hT "$WORK" | awk 'NR==2 {printf "filesystem: %s (%s), %s free\n", $1, $2, $5}'
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "hearth: $HEARTH"
[[ "$NICE" == 0 ]] || say "timed runs at niceness $NICE"
gcc -O2 -Wall -pthread -o "$WORK/rewrap-seed" "$HERE/rewrap-seed.c" -lsodium -lsqlite3
gcc -O2 -Wall -pthread -o "$WORK/rewrap-floor" "$HERE/rewrap-floor.c" -lsodium -lsqlite3
SEED="$WORK/rewrap-seed"
FLOOR="$WORK/rewrap-floor"
say "libsodium $(pkg-config --modversion libsodium 2>/dev/null || echo '?'), sqlite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?') (floor and seeder)"

KEYS="$WORK/keys"
"$HEARTH" keys init --dir "$KEYS" >/dev/null

# A data directory holding a migrated, empty database: `retention run` opens (and so migrates)
# an existing database file and finds nothing to do; an empty file is a valid empty database.
new_data_dir() {
    mkdir -m 700 "$1"
    : >"$1/hearth.sqlite"
    "$HEARTH" retention run --keys "$KEYS" --data "$1" --retention-days 3650 >/dev/null
}

copy_db() { # copy_db SRC_DB DST_DB (with -wal/-shm if any)
    rm -f "$2" "$2-wal" "$2-shm"
    cp "$1" "$2"
    for x in -wal -shm; do [[ -f "$1$x" ]] && cp "$1$x" "$2$x"; done
    return 0
}

# Seeds a pristine data directory $WORK/pristine-N: N records, 2 wraps each, all at key version 1.
# Every timed run works on a fresh copy of it.
seed() {
    local n=$1 dir="$WORK/pristine-$1"
    new_data_dir "$dir"
    say "seeding $n records ($((2 * n)) consent wraps) with $THREADS threads..."
    "$SEED" seed "$dir/hearth.sqlite" "$KEYS" "$n" "$THREADS" | sed 's/^/  /'
    "$SEED" verify "$dir/hearth.sqlite" "$KEYS" 100 | sed 's/^/  seed check: /'
    local got
    got=$("$SEED" counts "$dir/hearth.sqlite" | awk -v s="$SCOPE" '$1 == s && $2 == "v1" {print $3}')
    [[ "$got" == "$n" ]] || fail "seeded $got $SCOPE v1 wraps, expected $n"
    say "  database: $(du -h "$dir/hearth.sqlite" | cut -f1)"
}

cpu_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# Waits (up to WAIT_IDLE seconds) until everything else on the machine uses under 0.2 cores.
wait_idle() {
    ((WAIT_IDLE > 0)) || return 0
    local deadline=$((SECONDS + WAIT_IDLE)) a b busy
    while :; do
        a=$(cpu_busy); sleep 5; b=$(cpu_busy)
        busy=$(awk -v a="$a" -v b="$b" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t / 5}')
        [[ $(awk -v x="$busy" 'BEGIN {print (x < 0.2)}') == 1 ]] && return 0
        if ((SECONDS >= deadline)); then say "  (machine still busy: $busy cores in use; running anyway)"; return 0; fi
    done
}

# time_run LABEL OUTFILE CMD...: runs CMD under /usr/bin/time -v; sets WALL, RSS_KB, CPU_S, OTHERS,
# and RSS_PATH: the process's VmRSS at 25/50/75 % of its run (polled every 0.5 s), to tell a
# bounded cache filling up from memory that grows with the records done.
time_run() {
    local label=$1 out=$2
    shift 2
    local before after tpid child="" start
    wait_idle
    before=$(cpu_busy)
    start=$(date +%s.%N)
    nice -n "$NICE" /usr/bin/time -v -o "$out.time" "$@" >"$out" 2>"$out.err" <&0 &
    tpid=$!
    TIMED_PID=$tpid TIMED_CHILD=""
    : >"$out.rss"
    while kill -0 "$tpid" 2>/dev/null; do
        [[ -n "$child" ]] || { child=$(pgrep -P "$tpid" | head -1 || true); TIMED_CHILD=$child; }
        if [[ -n "$child" ]]; then
            awk -v t="$(date +%s.%N)" -v s="$start" '/^VmRSS/ {printf "%.2f %d\n", t - s, $2}' "/proc/$child/status" >>"$out.rss" 2>/dev/null || true
        fi
        sleep 0.5
    done
    if ! wait "$tpid"; then
        TIMED_PID="" TIMED_CHILD=""
        cat "$out" "$out.err" >&2
        fail "$label failed"
    fi
    TIMED_PID="" TIMED_CHILD=""
    after=$(cpu_busy)
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$out.time")
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
    CPU_S=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$out.time")
    # CPU used by everything else on the machine meanwhile, in cores (a busy machine skews the result).
    OTHERS=$(awk -v b="$before" -v a="$after" -v t="$CLK_TCK" -v c="$CPU_S" -v w="$WALL" \
        'BEGIN {o = ((a - b) / t - c) / w; if (o < 0) o = 0; printf "%.2f", o}')
    RSS_PATH=$(awk -v w="$WALL" '{t[NR] = $1; r[NR] = $2}
        END {for (q = 1; q <= 3; q++) {v = "-"; for (i = 1; i <= NR; i++) if (t[i] <= w * q / 4) v = sprintf("%.0f", r[i] / 1024); printf "%s%s", (q > 1 ? " / " : ""), v}}' "$out.rss")
}

mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

# run_hearth N TAG: re-wraps a fresh copy of pristine-N with hearth; sets H_* results.
run_hearth() {
    local n=$1 tag=$2 data="$WORK/hearth-$1"
    rm -rf "$data"
    mkdir -m 700 "$data"
    copy_db "$WORK/pristine-$n/hearth.sqlite" "$data/hearth.sqlite"
    sync
    time_run "hearth keys rewrap" "$WORK/hearth-$tag.out" \
        "$HEARTH" keys rewrap --scope "$SCOPE" --batch "$BATCH" --keys "$KEYS" --data "$data"
    local line
    line=$(grep -E "^$SCOPE: [0-9]+ re-wrapped" "$WORK/hearth-$tag.out") || fail "no summary line from hearth keys rewrap"
    H_DONE=$(sed -E 's/^[a-z]+: ([0-9]+) re-wrapped.*/\1/' <<<"$line")
    H_LEFT=$(sed -E 's/.* ([0-9]+) left alone.*/\1/' <<<"$line")
    H_WALL=$WALL H_RSS=$RSS_KB H_CPU=$CPU_S H_OTHERS=$OTHERS H_PATH=$RSS_PATH
    [[ "$H_LEFT" == 0 ]] || fail "hearth left $H_LEFT wraps alone (the seeded wraps should all open)"
    [[ "$H_DONE" == "$n" ]] || fail "hearth re-wrapped $H_DONE wraps, expected $n"
    check_db "$data/hearth.sqlite" "$n" hearth
    rm -rf "$data"
}

# run_floor N TAG: the same on another fresh copy with rewrap-floor; sets F_* results.
run_floor() {
    local n=$1 tag=$2 db="$WORK/floor-$1.sqlite"
    copy_db "$WORK/pristine-$n/hearth.sqlite" "$db"
    sync
    # The v1 private key goes through a pipe, never to disk.
    time_run "rewrap-floor" "$WORK/floor-$tag.out" "$FLOOR" "$db" "$KEYS" "$SCOPE" 1 "$BATCH" "$THREADS" \
        < <("$SEED" export-key "$KEYS" "$SCOPE" 1)
    local line
    line=$(grep -E "^floor: $SCOPE: " "$WORK/floor-$tag.out") || fail "no summary line from rewrap-floor"
    F_DONE=$(sed -E 's/^floor: [a-z]+: ([0-9]+) re-wrapped.*/\1/' <<<"$line")
    F_WALL=$WALL F_RSS=$RSS_KB F_CPU=$CPU_S F_OTHERS=$OTHERS F_PATH=$RSS_PATH
    F_DETAIL=$(grep -E '^floor: [0-9.]+ s in the loop' "$WORK/floor-$tag.out" | sed 's/^floor: //')
    [[ "$F_DONE" == "$n" ]] || fail "the floor re-wrapped $F_DONE wraps, expected $n"
    check_db "$db" "$n" floor
    rm -f "$db" "$db-wal" "$db-shm"
}

# Every wrap of the scope is now at v2, and a sample opens with the v2 key (and police's with v1).
check_db() {
    local counts
    counts=$("$SEED" counts "$1")
    grep -qx "$SCOPE v2 $2" <<<"$counts" || fail "$3: expected $2 $SCOPE v2 wraps, found: $(tr '\n' ' ' <<<"$counts")"
    "$SEED" verify "$1" "$KEYS" 100 >/dev/null || fail "$3: re-wrapped wraps do not open"
}

rate() { awk -v n="$1" -v w="$2" 'BEGIN {printf "%.0f", n / w}'; }

report() { # report LABEL DONE WALL RSS CPU OTHERS [DETAIL]
    printf '  %-7s %8d wraps  %8.2f s  %7s wraps/s  peak RSS %10s  CPU %7.1f s (%3.0f%% of %d cores)  others %s cores\n' \
        "$1" "$2" "$3" "$(rate "$2" "$3")" "$(mib "$4")" "$5" "$(awk -v c="$5" -v w="$3" -v p="$(nproc)" 'BEGIN {print 100 * c / w / p}')" "$(nproc)" "$6"
    [[ -z "${7:-}" ]] || say "          floor breakdown: $7"
}

# One round: hearth then floor on odd rounds, floor then hearth on even ones.
round() { # round N TAG ORDER
    if [[ $3 == hf ]]; then run_hearth "$1" "$2"; run_floor "$1" "$2"; else run_floor "$1" "$2"; run_hearth "$1" "$2"; fi
    report hearth "$H_DONE" "$H_WALL" "$H_RSS" "$H_CPU" "$H_OTHERS"
    report floor "$F_DONE" "$F_WALL" "$F_RSS" "$F_CPU" "$F_OTHERS" "$F_DETAIL"
    say "  RSS at 25 / 50 / 75 % of the run, then peak (MiB): hearth $H_PATH / $(awk -v k="$H_RSS" 'BEGIN {printf "%.0f", k / 1024}');" \
        "floor $F_PATH / $(awk -v k="$F_RSS" 'BEGIN {printf "%.0f", k / 1024}')"
    RATIO=$(awk -v a="$H_DONE" -v aw="$H_WALL" -v b="$F_DONE" -v bw="$F_WALL" 'BEGIN {printf "%.2f", (a / aw) / (b / bw)}')
    say "  ratio hearth/floor (wraps/s): $RATIO"
    [[ $(awk -v o="$H_OTHERS" -v p="$F_OTHERS" 'BEGIN {print (o > 0.2 || p > 0.2)}') == 0 ]] ||
        say "  WARNING: other processes used CPU during this round (\"others\" above); the figures are skewed"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# --- runs --------------------------------------------------------------------------------------
say "records: $RECORDS (2 consent wraps each: support, police), re-wrapping $SCOPE, batch $BATCH"

SMALL_N=$((RECORDS / 10))
if [[ "$SMALL" == 1 ]]; then
    seed "$SMALL_N"
fi
seed "$RECORDS"

# Rotate once: support v2 becomes primary (the audit entry lands in the big pristine database).
# Every round then re-wraps fresh copies of the pristine databases, whose wraps are all at v1.
"$HEARTH" keys rotate --scope "$SCOPE" --keys "$KEYS" --data "$WORK/pristine-$RECORDS" | sed 's/^/  /'


if [[ "$SMALL" == 1 ]]; then
    say ""
    say "N/10 = $SMALL_N records:"
    round "$SMALL_N" small hf
    S_RSS=$H_RSS S_FRSS=$F_RSS S_WALL=$H_WALL S_RATIO=$RATIO
    rm -rf "$WORK/pristine-$SMALL_N"
fi

walls=() rates=() ratios=() rss=() frss=()
for ((r = 1; r <= ROUNDS; r++)); do
    say ""
    order=hf
    ((r % 2 == 0)) && order=fh
    say "N = $RECORDS records, round $r/$ROUNDS ($([[ $order == hf ]] && echo 'hearth, then floor' || echo 'floor, then hearth')):"
    round "$RECORDS" "r$r" "$order"
    walls+=("$H_WALL") rates+=("$(rate "$H_DONE" "$H_WALL")") ratios+=("$RATIO") rss+=("$H_RSS") frss+=("$F_RSS")
done

say ""
say "summary (N = $RECORDS, $ROUNDS round(s), medians):"
HW=$(echo "${walls[*]}" | median)
HR=$(echo "${rates[*]}" | median)
RT=$(echo "${ratios[*]}" | median)
HRSS=$(echo "${rss[*]}" | median)
FRSS=$(echo "${frss[*]}" | median)
say "  hearth keys rewrap: $HW s, $HR wraps/s, peak RSS $(mib "$HRSS"); floor peak RSS $(mib "$FRSS")"
say "  ratio hearth/floor: $RT"
if [[ "$SMALL" == 1 ]]; then
    say "  memory: hearth peak RSS $(mib "$S_RSS") at $SMALL_N records, $(mib "$HRSS") at $RECORDS records" \
        "($(awk -v a="$HRSS" -v b="$S_RSS" 'BEGIN {printf "%.2f", a / b}')x); floor $(mib "$S_FRSS") vs $(mib "$FRSS")"
fi
# Within the N run: RSS at half time against the peak (last round). Page caches fill early and stay.
HALF=$(awk -F' / ' '{print $2}' <<<"$H_PATH")
say "  memory within the N run: hearth RSS $HALF MiB at half time, peak $(mib "$H_RSS") (RSS at 25/50/75 %: $H_PATH MiB)"
ok() { [[ $(awk "BEGIN {print ($1)}") == 1 ]] && echo yes || echo NO; }
say "  aim: under 120 s: $(ok "$HW < 120"); at least 0.4 x floor: $(ok "$RT >= 0.4")$(
    [[ "$SMALL" == 1 ]] && echo "; memory flat (peak RSS at N within 1.25x of N/10): $(ok "$HRSS <= 1.25 * $S_RSS")")$(
    [[ "$HALF" =~ ^[0-9]+$ ]] && echo "; flat within the run (peak within 1.1x of half time): $(ok "$H_RSS / 1024 <= 1.1 * $HALF")")"

exit 0
}
