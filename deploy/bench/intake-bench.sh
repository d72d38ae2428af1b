#!/usr/bin/env bash
# Intake benchmark: hearth's POST /api/v1/contact-requests vs an nginx TLS floor
# (same certificate, same request mix, `return 201` with a body and headers of the
# same shape as hearth's), alternating rounds, plus a durability check (rows in the
# database == 201s seen by wrk). Each hearth round starts hearth on a fresh data
# directory (same keys) and ends with kill -9; only the target being measured runs.
# See README.md.
#
# Usage: intake-bench.sh [--store sqlite|postgres|both] [--pin [on|off|both]]
#
#   --store sqlite    (default) hearth with its SQLite file          target "hearth"
#   --store postgres  hearth on a throwaway PostgreSQL 15 cluster      target "hearth-pg"
#   --store both      both hearths side by side, alternating rounds with nginx
#   --pin, --pin on   pinned: the server under test (hearth and its PostgreSQL, or nginx
#                     with worker_processes 1) on CPU 0, wrk on CPU 1: work per core
#   --pin off         (default) unpinned, as before: every process on every CPU
#   --pin both        an unpinned run, then a pinned run, both tables and a comparison
#
# Environment:
#   BENCH_STORE=sqlite|postgres|both   same as --store (the option wins)
#   BENCH_PIN=0|1|both      same as --pin (the option wins)
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1   the CPUs of a pinned run
#   BENCH_PROFILE=1         after the rounds, two extra hearth rounds: one under `perf stat`
#                           (CPU µs per request; /proc/PID/stat as a cross-check or fallback)
#                           and one under `perf record -g` (top 25 symbols by self time);
#                           valgrind's callgrind (instruction counts) if perf cannot sample
#   BENCH_PROFILER=perf|callgrind   force the profiler of the second extra round
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_THREADS=2 BENCH_CONNECTIONS=32
#   BENCH_NO_BUILD=1        skip `swift build` (use the existing release binary)
#   HEARTH_BIN=PATH         use this hearth binary (implies no build)
#   BENCH_NGINX_ONLY=1      skip hearth entirely (nginx rounds only)
#   BENCH_TLS_CERT/KEY      cert+key for nginx in nginx-only mode (default: throwaway
#                           self-signed P-256 cert made with openssl)
#   BENCH_STARTUP_TIMEOUT=120  seconds to wait for hearth /healthz
#   BENCH_KEEP=1            keep the temp dir (wrk outputs, logs, databases) and the
#                           PostgreSQL cluster's dir (server stopped)
#   TMPDIR                  where the temp dir goes (its filesystem decides fsync cost;
#                           tmpfs is refused, and fdatasync latency is measured and printed)
#   BENCH_SEED, BENCH_POOL, BENCH_DUMP=FILE  passed to contact-request.lua (see there)
# PostgreSQL (--store postgres|both):
#   BENCH_PG_PARENT=/tmp    where the cluster's dir goes (the postgres user must reach it as
#                           root, and its socket path must stay short; TMPDIR is not used)
#   BENCH_PG_TRANSPORT=socket  socket: hearth connects over the Unix socket (as in a one-host
#                           deployment); tls: over TCP localhost with sslmode=verify-full
#   BENCH_PG_COMMIT_DELAY=0 commit_delay in microseconds (0 = PostgreSQL's default, off)
#   BENCH_PG_CONF           extra postgresql.conf lines (after the tuning below; durability
#                           settings are checked after start: fsync, synchronous_commit and
#                           full_page_writes must stay on)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null) || REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
LUA_SCRIPT="$SCRIPT_DIR/contact-request.lua"
PG_CLUSTER="$REPO/Tests/postgres-cluster.sh"
API_PATH=/api/v1/contact-requests

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

STORE=${BENCH_STORE:-sqlite}
PIN=${BENCH_PIN:-0}
while (( $# )); do
    case $1 in
        --store) (( $# >= 2 )) || die "--store needs sqlite, postgres or both"; STORE=$2; shift 2 ;;
        --store=*) STORE=${1#--store=}; shift ;;
        --pin)
            if (( $# >= 2 )) && [[ $2 =~ ^(on|off|both|0|1|yes|no)$ ]]; then PIN=$2; shift 2
            else PIN=1; shift
            fi ;;
        --pin=*) PIN=${1#--pin=}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case $STORE in sqlite|postgres|both) ;; *) die "--store must be sqlite, postgres or both (got '$STORE')" ;; esac
case $PIN in
    0|off|no) MODES=(unpinned) ;;
    1|on|yes) MODES=(pinned) ;;
    both) MODES=(unpinned pinned) ;;
    *) die "--pin (BENCH_PIN) must be on, off or both (got '$PIN')" ;;
esac

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-120}
NGINX_ONLY=${BENCH_NGINX_ONLY:-0}
PG_TRANSPORT=${BENCH_PG_TRANSPORT:-socket}
PG_COMMIT_DELAY=${BENCH_PG_COMMIT_DELAY:-0}
PROFILE=${BENCH_PROFILE:-0}
PROFILER=${BENCH_PROFILER:-perf}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

for v in DURATION:BENCH_SECONDS ROUNDS:BENCH_ROUNDS THREADS:BENCH_THREADS \
    CONNECTIONS:BENCH_CONNECTIONS STARTUP_TIMEOUT:BENCH_STARTUP_TIMEOUT; do
    name=${v%%:*}
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "${v#*:} must be a positive integer (got '${!name}')"
done
[[ $PG_COMMIT_DELAY =~ ^[0-9]+$ ]] && (( PG_COMMIT_DELAY <= 100000 )) \
    || die "BENCH_PG_COMMIT_DELAY must be 0 to 100000 microseconds"
case $PG_TRANSPORT in socket|tls) ;; *) die "BENCH_PG_TRANSPORT must be socket or tls" ;; esac
case $PROFILE in 0|1) ;; *) die "BENCH_PROFILE must be 0 or 1" ;; esac
case $PROFILER in perf|callgrind) ;; *) die "BENCH_PROFILER must be perf or callgrind" ;; esac
(( CONNECTIONS >= THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
[[ -f $LUA_SCRIPT ]] || die "missing $LUA_SCRIPT"
if [[ " ${MODES[*]} " == *" pinned "* ]]; then
    [[ $SERVER_CPU =~ ^[0-9]+$ && $CLIENT_CPU =~ ^[0-9]+$ && $SERVER_CPU != "$CLIENT_CPU" ]] \
        || die "BENCH_SERVER_CPU and BENCH_CLIENT_CPU must be two different CPU numbers"
    command -v taskset >/dev/null 2>&1 || die "a pinned run needs taskset (util-linux)"
    for c in "$SERVER_CPU" "$CLIENT_CPU"; do
        taskset -c "$c" true 2>/dev/null || die "cannot pin to CPU $c (allowed: $(taskset -cp $$ | sed 's/.*: //'))"
    done
fi
(( PROFILE == 1 )) && [[ $NGINX_ONLY == 1 ]] && die "BENCH_PROFILE profiles hearth; it makes no sense with BENCH_NGINX_ONLY"
# The hearth targets: "hearth" (SQLite) and/or "hearth-pg" (PostgreSQL).
HEARTHS=()
if [[ $NGINX_ONLY != 1 ]]; then
    [[ $STORE == sqlite || $STORE == both ]] && HEARTHS+=(hearth)
    [[ $STORE == postgres || $STORE == both ]] && HEARTHS+=(hearth-pg)
fi
USE_PG=0
[[ " ${HEARTHS[*]} " == *" hearth-pg "* ]] && USE_PG=1
declare -A STORE_NAME=([hearth]=SQLite [hearth-pg]=PostgreSQL [nginx]="-")

# ------------------------------------------------------------------ tools
NGINX=/usr/sbin/nginx
pg_bin() { # name -> path of a PostgreSQL 15 program, or nothing
    if [[ -x /usr/lib/postgresql/15/bin/$1 ]]; then echo "/usr/lib/postgresql/15/bin/$1"
    else command -v "$1" 2>/dev/null || true
    fi
}
ensure_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [[ -x $NGINX ]] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
    if (( PROFILE )); then
        command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
        [[ $PROFILER == callgrind ]] && { command -v valgrind >/dev/null 2>&1 || missing+=(valgrind); }
    fi
    if [[ $NGINX_ONLY != 1 ]]; then
        [[ " ${HEARTHS[*]} " == *" hearth "* ]] && { command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3); }
        if (( USE_PG )); then
            [[ -n $(pg_bin initdb) && -n $(pg_bin psql) ]] || missing+=(postgresql)
            command -v openssl >/dev/null 2>&1 || missing+=(openssl)
        fi
    elif [[ -z ${BENCH_TLS_CERT:-} ]]; then
        command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    fi
    if (( ${#missing[@]} )); then
        local sudo=()
        if (( EUID != 0 )); then
            command -v sudo >/dev/null 2>&1 || die "need root or sudo to install: ${missing[*]}"
            sudo=(sudo)
        fi
        log "installing: ${missing[*]}"
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    [[ -x $NGINX ]] || NGINX=$(command -v nginx) || die "nginx not found"
    command -v wrk >/dev/null 2>&1 || die "wrk not found"
}
ensure_tools

# ------------------------------------------------------------------ temp dir filesystem (before the build: fail fast)
# fsync on tmpfs (or ramfs) costs nothing, which would flatter every durable write: refuse it.
refuse_memory_fs() { # dir what
    local fs
    fs=$(stat -f -c %T "$1" 2>/dev/null) || die "cannot stat the filesystem of $1 ($2)"
    case $fs in
        tmpfs|ramfs) die "$2 $1 is on $fs: fsync costs nothing there, so the figures would mean nothing; point ${3:-TMPDIR} at a directory on a disk-backed filesystem" ;;
    esac
}
refuse_memory_fs "${TMPDIR:-/tmp}" "the temp dir"
if (( USE_PG )); then refuse_memory_fs "${BENCH_PG_PARENT:-/tmp}" "the PostgreSQL parent dir" BENCH_PG_PARENT; fi

# ------------------------------------------------------------------ build
HEARTH=""
if [[ $NGINX_ONLY != 1 ]]; then
    if [[ -n ${HEARTH_BIN:-} ]]; then
        HEARTH=$HEARTH_BIN
    else
        SCRATCH="$REPO/.build-release"
        if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
            log "building release: swift build -c release --product hearth --scratch-path $SCRATCH"
            (cd "$REPO" && swift build -c release --product hearth --scratch-path "$SCRATCH")
        fi
        HEARTH="$SCRATCH/release/hearth"
        if [[ ! -x $HEARTH ]]; then
            bin_dir=$(cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path 2>/dev/null) || true
            [[ -n ${bin_dir:-} ]] && HEARTH="$bin_dir/hearth"
        fi
    fi
    [[ -x $HEARTH ]] || die "hearth binary not found at $HEARTH (build it, or set HEARTH_BIN)"
fi

# ------------------------------------------------------------------ temp dir + cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX")
chmod 700 "$WORK"
NGINX_PID="" PG_DIR="" PG_POLL_PID="" PG_FROZEN=0 PROF_PID=""
declare -A HPID=() HPOLL=() HBASE=() HCERT=()

stop_pid() { # pid [signal]
    local pid=$1 sig=${2:-TERM} i children
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -"$sig" "$pid" 2>/dev/null || true
    # A stopped process (SIGSTOP between rounds) must run to act on the signal.
    kill -CONT "$pid" $children 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? t
    set +e
    stop_pid "$PROF_PID" INT
    stop_pid "$PG_POLL_PID"
    (( PG_FROZEN )) && pg_thaw
    for t in "${!HPOLL[@]}"; do stop_pid "${HPOLL[$t]}"; done
    stop_pid "$NGINX_PID"
    for t in "${!HPID[@]}"; do stop_pid "${HPID[$t]}"; done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        if [[ -n $PG_DIR && -d $PG_DIR ]]; then
            bash "$PG_CLUSTER" crash "$PG_DIR" >/dev/null 2>&1
            log "kept $PG_DIR (server stopped; \`Tests/postgres-cluster.sh start DIR\` restarts it, \`stop DIR\` removes it)"
        fi
        log "kept $WORK"
    else
        [[ -n $PG_DIR ]] && bash "$PG_CLUSTER" stop "$PG_DIR"
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ helpers
USED_PORTS=" "
free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        if command -v python3 >/dev/null 2>&1; then
            p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) || p=""
        fi
        [[ -n ${p:-} ]] || p=$((20000 + RANDOM % 40000))
        [[ $USED_PORTS == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS+="$p "
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# wait_http NAME PID DEADLINE URL CACERT [curl args...]: poll until curl succeeds
wait_http() {
    local name=$1 pid=$2 deadline=$3 url=$4 cacert=$5; shift 5
    local err=""
    while (( SECONDS < deadline )); do
        kill -0 "$pid" 2>/dev/null || return 2
        if [[ -f $cacert ]] && err=$(curl -sS -f -o /dev/null --max-time 3 --cacert "$cacert" "$@" "$url" 2>&1); then
            return 0
        fi
        sleep 0.25
    done
    log "$name not ready in time: ${err:-certificate $cacert not found}"
    return 1
}

to_ms() { # wrk latency value (850.00us, 3.45ms, 1.20s, 1.02m) -> ms
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.2f", v * 1000 }
        else if (v ~ /m$/)  { sub(/m$/, "", v);  printf "%.2f", v * 60000 }
        else if (v ~ /h$/)  { sub(/h$/, "", v);  printf "%.2f", v * 3600000 }
        else print "nan" }'
}

median() { # numbers as args
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) print "nan"; else if (NR % 2) printf "%.2f\n", a[(NR + 1) / 2];
        else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ref_to_hex() { # HR-XXXX-XXXX-XXXX-XXXX per line -> 20 hex digits of the 80-bit id (MSB first), or "bad"
    awk 'BEGIN { a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; for (i = 0; i < 32; i++) v[substr(a, i + 1, 1)] = i
                 split("0 1 2 3 4 5 6 7 8 9 a b c d e f", h, " ") }
    { s = toupper($0); sub(/^HR-/, "", s); gsub(/-/, "", s)
      if (length(s) != 16) { print "bad"; next }
      bits = ""; ok = 1
      for (i = 1; i <= 16; i++) {
          c = substr(s, i, 1); if (!(c in v)) { ok = 0; break }
          x = v[c]; b = ""; for (k = 0; k < 5; k++) { b = (x % 2) b; x = int(x / 2) }; bits = bits b }
      if (!ok) { print "bad"; next }
      out = ""; for (i = 1; i <= 80; i += 4) { n = 0; for (k = 0; k < 4; k++) n = n * 2 + substr(bits, i + k, 1); out = out h[n + 1] }
      print out }'
}

kv() { # key line -> value of key=... in a bench-result line
    sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"
}


dir_mb() { # dir -> its size in MB (du), or "-"
    [[ -d $1 ]] && du -sk "$1" 2>/dev/null | awk '{ printf "%.1f", $1 / 1024 }' || echo "-"
}

# fsync_latency DIR: time fdatasync of 4 KiB writes in DIR, the cost every durable commit pays.
fsync_latency() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], ".fdatasync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
buf = os.urandom(4096)
def run(n, offset_of):
    lat = []
    for i in range(n):
        os.pwrite(fd, buf, offset_of(i))
        t = time.perf_counter_ns()
        os.fdatasync(fd)
        lat.append((time.perf_counter_ns() - t) / 1000)
    return sorted(lat)
try:
    grow = run(200, lambda i: i * 4096)        # the file grows: data and size (a WAL being extended)
    again = run(200, lambda i: i * 4096)       # the same blocks again: data only (a WAL reused)
finally:
    os.close(fd)
    os.unlink(path)
q = lambda l, p: l[min(len(l) - 1, int(p * len(l)))]
print("fdatasync of 4 KiB: appending median %.0f µs, p99 %.0f µs; overwriting median %.0f µs, p99 %.0f µs (200 each)"
      % (q(grow, .5), q(grow, .99), q(again, .5), q(again, .99)))
PY
    else
        local t0 t1
        t0=$(date +%s%N)
        dd if=/dev/zero of="$1/.fdatasync-probe" bs=4k count=200 oflag=dsync 2>/dev/null
        t1=$(date +%s%N)
        rm -f "$1/.fdatasync-probe"
        echo "O_DSYNC write of 4 KiB: mean $(( (t1 - t0) / 200000 )) µs (dd, 200 writes; no python3 for median and p99)"
    fi
}

# ------------------------------------------------------------------ modes
# unpinned: nothing pinned, nginx with one worker per CPU (as before).
# pinned: the server under test on SERVER_CPU (hearth, its PostgreSQL, or nginx with one
# worker), wrk and the script's own pollers on CLIENT_CPU: the ratio compares work per core.
MODE="" SRV_PIN=() CLI_PIN=() NGX_WORKERS=auto
set_mode() {
    MODE=$1
    if [[ $MODE == pinned ]]; then
        SRV_PIN=(taskset -c "$SERVER_CPU") CLI_PIN=(taskset -c "$CLIENT_CPU") NGX_WORKERS=1
    else
        SRV_PIN=() CLI_PIN=() NGX_WORKERS=auto
    fi
}
pin_to_client() { # pid: keep a helper of ours off the server's CPU in a pinned run
    [[ $MODE == pinned ]] && taskset -a -p -c "$CLIENT_CPU" "$1" >/dev/null 2>&1 || true
}
# ------------------------------------------------------------------ postgresql
# A throwaway cluster (Tests/postgres-cluster.sh) tuned as a small production server would be,
# without weakening durability: fsync, synchronous_commit and full_page_writes stay on (stated
# explicitly, and checked after start), so a 201 means the row's WAL is on disk, as with SQLite's
# synchronous=FULL.
PG_TUNING="fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_completion_target = 0.9"
(( PG_COMMIT_DELAY > 0 )) && PG_TUNING+="
commit_delay = $PG_COMMIT_DELAY
commit_siblings = 5"
[[ -n ${BENCH_PG_CONF:-} ]] && PG_TUNING+="
${BENCH_PG_CONF}"

PG_PORT="" PG_SOCK="" PG_CA="" PSQL=() PG_SETTINGS="" PG_FSYNC=""
pg_start() { # (re)start the cluster in PG_DIR on PG_PORT
    PGPORT_TEST=$PG_PORT PGCONF_TEST=$PG_TUNING bash "$PG_CLUSTER" start "$PG_DIR" >/dev/null \
        || die "the PostgreSQL cluster did not start (log: $PG_DIR/postgres.log)"
}
pg_postmaster() { sed -n 1p "$PG_DIR/data/postmaster.pid" 2>/dev/null; }

# pg_url ROLE: how hearth reaches database `hearth` as ROLE.
pg_url() {
    if [[ $PG_TRANSPORT == tls ]]; then
        echo "postgres://$1@localhost:$PG_PORT/hearth?sslmode=verify-full&sslrootcert=$PG_CA"
    else
        echo "postgres://$1@localhost:$PG_PORT/hearth?host=$PG_SOCK"
    fi
}

if (( USE_PG )); then
    PG_PARENT=${BENCH_PG_PARENT:-/tmp}
    PG_DIR=$(mktemp -d "$PG_PARENT/hearth-bench-pg.XXXXXX")
    PG_PORT=$(free_port)
    log "starting PostgreSQL in $PG_DIR (port $PG_PORT)"
    pg_start
    PG_SOCK="$PG_DIR/socket"
    PG_CA="$PG_DIR/tls/ca.crt"
    PSQL=("$(pg_bin psql)" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres)
    PG_SETTINGS=$("${PSQL[@]}" -d postgres -At -c "select name || '=' || current_setting(name) from pg_settings
        where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers',
                       'wal_buffers', 'max_wal_size', 'commit_delay', 'commit_siblings', 'max_connections')
        order by name" | tr '\n' ' ') || die "psql could not reach the cluster"
    for s in fsync=on synchronous_commit=on full_page_writes=on; do
        [[ " $PG_SETTINGS" == *" $s "* ]] || die "durability weakened: want $s, have: $PG_SETTINGS"
    done
    "${PSQL[@]}" -d postgres -c 'CREATE DATABASE hearth' || die "CREATE DATABASE hearth failed"
    "$HEARTH" db migrate --database "postgres://postgres@localhost:$PG_PORT/hearth?host=$PG_SOCK" >"$WORK/migrate.log" 2>&1 \
        || { cat "$WORK/migrate.log" >&2; die "hearth db migrate failed"; }
    log "$(cat "$WORK/migrate.log")"
    PG_FSYNC=$(fsync_latency "$PG_DIR")
fi

pg_pids() { # the postmaster and its children
    local pm kids=""
    pm=$(pg_postmaster)
    [[ -n $pm ]] || return 0
    if [[ -r /proc/$pm/task/$pm/children ]]; then
        read -r kids <"/proc/$pm/task/$pm/children" || true # no newline at its end
    else
        kids=$(ps -o pid= --ppid "$pm" 2>/dev/null | tr '\n' ' ') || true
    fi
    echo "$pm $kids"
}
# While nginx or the other hearth is measured, PostgreSQL takes no CPU (autovacuum, checkpoints):
# every one of its processes is stopped, in one kill, and continued before its hearth's round.
pg_freeze() {
    (( USE_PG && ! PG_FROZEN )) || return 0
    # shellcheck disable=SC2046
    kill -STOP $(pg_pids) 2>/dev/null || true
    PG_FROZEN=1
}
pg_thaw() {
    (( USE_PG && PG_FROZEN )) || return 0
    # shellcheck disable=SC2046
    kill -CONT $(pg_pids) 2>/dev/null || true
    PG_FROZEN=0
}
pg_pin() { # the cluster on the server's CPU in a pinned run, on all CPUs otherwise (backends inherit it)
    (( USE_PG )) || return 0
    local cpus p
    cpus=$([[ $MODE == pinned ]] && echo "$SERVER_CPU" || echo "0-$(( $(nproc --all) - 1 ))")
    for p in $(pg_pids); do taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true; done
}

# Sum RSS and PSS of the postmaster and all its children every 0.25 s (one cat + one awk a
# sample) into WORK/pg-mem-MODE.txt. RSS counts shared_buffers pages once per process that
# touched them; PSS splits shared pages among their users, so the PSS sum is the cluster's
# real footprint.
pg_poll_start() {
    (( USE_PG )) || return 0
    (
        pin_to_client "$BASHPID"
        while kill -0 "$(pg_postmaster)" 2>/dev/null; do
            files=()
            for p in $(pg_pids); do files+=("/proc/$p/status" "/proc/$p/smaps_rollup"); done
            { cat "${files[@]}" 2>/dev/null || true; } \
                | awk '/^VmRSS:/ { r += $2; n++ } /^Pss:/ { s += $2 } END { print r + 0, s + 0, n + 0 }' >>"$WORK/pg-mem-$MODE.txt" \
                || true
            sleep 0.25
        done
    ) &
    PG_POLL_PID=$!
}

# ------------------------------------------------------------------ CPU time of the server side
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_ticks PID...: utime+stime of the processes (all their threads), plus the children they
# have reaped (cutime+cstime), in clock ticks. For PostgreSQL the postmaster's reaped
# children cover the backends that exit during a round.
cpu_ticks() {
    local p s=0 v
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null) || v=0
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# How busy the CPUs were over a round, from two /proc/stat snapshots: in a pinned run the
# server's CPU and the client's (a client CPU near 100 % means wrk, not the server, set the pace).
cpu_snap() { grep '^cpu' /proc/stat; }
busy_pct() { # snapshot-before snapshot-after cpu-name -> busy % (everything but idle and iowait)
    awk -v n="$3" 'FNR == NR { if ($1 == n) { for (i = 2; i <= NF; i++) t0 += $i; i0 = $5 + $6 } next }
        $1 == n { for (i = 2; i <= NF; i++) t1 += $i; i1 = $5 + $6
                  printf "%.0f", (t1 > t0 ? 100 * (1 - (i1 - i0) / (t1 - t0)) : 0) }' <(echo "$1") <(echo "$2")
}

# ------------------------------------------------------------------ hearth
# Every hearth round starts hearth on a new, empty data directory with the same keys (created,
# with the development certificate nginx also uses, on the first start) and ends with kill -9.
declare -A HKEYS=([hearth]="$WORK/keys" [hearth-pg]="$WORK/hearth-pg-keys") HLOG=()
HEARTH_WRAP=() # a command hearth runs under (valgrind for the callgrind profile)

# start_hearth TARGET DATA_DIR LABEL: hearth serve --dev on its own free ports.
start_hearth() {
    local t=$1 data=$2 label=$3
    local keys=${HKEYS[$t]} logf="$WORK/$t-$3.log" port pid base cert deadline printed_cert printed_url rc extra=()
    [[ $t == hearth-pg ]] && extra=(--database "$(pg_url hearth_casework)" --intake-database "$(pg_url hearth_intake)")
    port=$(free_port)
    mkdir -p -m 700 "$keys"
    mkdir -m 700 "$data" || die "$data exists: every round needs a new data directory"
    log "starting $t (${STORE_NAME[$t]}, $label): hearth serve --dev on 127.0.0.1:$port$([[ $MODE == pinned ]] && echo " on CPU $SERVER_CPU")"
    "${SRV_PIN[@]}" "${HEARTH_WRAP[@]}" "$HEARTH" serve --dev --keys "$keys" --data "$data" \
        --host 127.0.0.1 --intake-port "$port" --casework-port 0 --metrics-port 0 \
        --source-submissions 1000000000 --submissions 1000000000 --min-free-disk 0 "${extra[@]}" >"$logf" 2>&1 &
    pid=$!
    HPID[$t]=$pid
    HLOG[$t]=$logf
    base="https://127.0.0.1:$port"
    cert="$keys/tls.crt"

    # The certificate path and URL are printed on startup; prefer them once they appear.
    deadline=$((SECONDS + STARTUP_TIMEOUT))
    while (( SECONDS < deadline )) && ! grep -q '^certificate: ' "$logf" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || break
        [[ -f $cert ]] && break
        sleep 0.1
    done
    printed_cert=$(sed -n 's/^certificate: *//p' "$logf" | head -n1)
    printed_url=$(sed -n 's/^intake: *//p' "$logf" | head -n1)
    [[ -n $printed_cert ]] && cert=$printed_cert
    if [[ -n $printed_url && $printed_url != "$base" ]]; then
        log "$t printed intake: $printed_url (expected $base); using the printed URL"
        [[ $printed_url == https://127.0.0.1:* ]] || die "$t is not listening on 127.0.0.1: $printed_url"
        base=${printed_url%/}
    fi

    rc=0
    wait_http "$t" "$pid" "$deadline" "$base/healthz" "$cert" || rc=$?
    if (( rc != 0 )); then
        (( rc == 2 )) && log "$t exited during startup"
        log "--- $logf (tail) ---"; tail -n 40 "$logf" >&2 || true
        die "$t did not become healthy"
    fi
    [[ -f "$(dirname "$cert")/tls.key" ]] || die "no TLS key next to $cert"
    HBASE[$t]=$base
    HCERT[$t]=$cert

    # Poll RSS while hearth runs (VmHWM is read again at the end).
    (
        pin_to_client "$BASHPID"
        peak=0
        while kill -0 "$pid" 2>/dev/null; do
            rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            if [[ -n $rss ]] && (( rss > peak )); then
                peak=$rss
                echo "$peak" >"$WORK/rss-$t-$label.max"
            fi
            sleep 0.2
        done
    ) &
    HPOLL[$t]=$!
}

# finish_hearth TARGET LABEL [SIGNAL]: read its peak memory into LAST_PEAK_KB (max of VmHWM and
# the polled VmRSS), then kill it: with SIGKILL (the default) whatever it acknowledged must
# already be in the database files, not only in hearth's memory.
LAST_PEAK_KB="" LAST_HWM_KB="" LAST_RSS_KB=""
finish_hearth() {
    local t=$1 label=$2 sig=${3:-KILL}
    LAST_HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/${HPID[$t]}/status" 2>/dev/null || true)
    stop_pid "${HPOLL[$t]}"; unset "HPOLL[$t]"
    LAST_RSS_KB=$(cat "$WORK/rss-$t-$label.max" 2>/dev/null || true)
    LAST_PEAK_KB=$(( ${LAST_HWM_KB:-0} > ${LAST_RSS_KB:-0} ? ${LAST_HWM_KB:-0} : ${LAST_RSS_KB:-0} ))
    (( LAST_PEAK_KB > 0 )) || LAST_PEAK_KB=""
    if [[ $sig == KILL ]]; then
        kill -KILL "${HPID[$t]}" 2>/dev/null || true
        wait "${HPID[$t]}" 2>/dev/null || true
    else
        stop_pid "${HPID[$t]}" "$sig"
    fi
    unset "HPID[$t]"
}

# A real 201 from hearth, taken once before the rounds (on a data directory of its own, thrown
# away): nginx answers with the same body (receipt zeroed, same length) and the same headers,
# so the client parses the same bytes from both targets.
PROBE_BODY="$WORK/probe-request.json"
cat >"$PROBE_BODY" <<'JSON'
{"preferredName":"Sam","contact":[{"method":"phone","value":"07700 900123","safeTimes":"Weekday mornings before 11am.","mayLeaveMessage":false}],"region":"london","wants":["support","information"],"account":"I reported what happened to the police a few years ago but I was told there was not enough evidence to go further. I have been thinking about it again since I heard the case might be looked at again. I would like to understand what options I have now, without committing to anything yet. My support worker at the time has since left and I lost contact with the service.\n\nPlease do not send letters to my home address. I can give more details later but I find it hard to write it all down in one go. Thank you for reading this.","consents":[{"scope":"support"}]}
JSON
HEARTH_201_SIZE=""
probe_hearth() {
    local t=${HEARTHS[0]} data="$WORK/${HEARTHS[0]}-data-probe" code
    [[ $t == hearth-pg ]] && pg_thaw
    start_hearth "$t" "$data" probe
    code=$(curl -sS --http1.1 --max-time 30 --cacert "${HCERT[$t]}" -D "$WORK/probe.headers" -o "$WORK/probe.body" \
        -w '%{http_code} %{size_header} %{size_download}' -H 'Content-Type: application/json' \
        -H 'Accept: application/json' --data-binary @"$PROBE_BODY" "${HBASE[$t]}$API_PATH") || code="curl failed"
    finish_hearth "$t" probe TERM
    [[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$data"
    [[ $code == "201 "* ]] || { cat "$WORK/probe.body" >&2 2>/dev/null; die "the probe submission got '$code', not 201"; }
    HEARTH_201_SIZE="${code#201 }"
}

# ------------------------------------------------------------------ certificate, nginx's answer
CERT="" KEY=""
NGX_TYPE="application/json" NGX_HEADERS="" NGX_BODY=""
nginx_quote() { # text -> nginx single-quoted string
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\\\'}"
}
if [[ $NGINX_ONLY != 1 ]]; then
    probe_hearth
    CERT=${HCERT[${HEARTHS[0]}]}
    KEY="$(dirname "$CERT")/tls.key"
    # hearth's body, receipt zeroed symbol by symbol (same length and shape).
    body=$(sed -E ':a; s/("receipt" *: *"[0-]*)[1-9A-Za-z]/\10/; ta' "$WORK/probe.body")
    [[ $body == *'"reference"'* && $body == *'"receipt"'* ]] || die "hearth's 201 body has no reference or receipt: $body"
    [[ $body != *'$'* ]] || die "hearth's 201 body contains '\$', which nginx's return would read as a variable"
    NGX_BODY=$(nginx_quote "$body")
    # hearth's headers, but those nginx sets itself (Date, Server, Content-Length, Connection).
    while IFS= read -r line; do
        line=${line%$'\r'}
        [[ $line =~ ^([A-Za-z0-9-]+):[[:space:]]*(.*)$ ]] || continue
        name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        case ${name,,} in
            date|server|content-length|connection|keep-alive|transfer-encoding) ;;
            content-type) NGX_TYPE=$value ;;
            *)
                if [[ $value == *'$'* || $value == *'"'* || $value == *'\'* ]]; then
                    log "not copying header $name to nginx (its value has \$, \" or \\)"
                else
                    NGX_HEADERS+="            add_header $name \"$value\" always;"$'\n'
                fi ;;
        esac
    done <"$WORK/probe.headers"
    log "nginx answers with hearth's 201: ${#body}-byte body, $(grep -c add_header <<<"$NGX_HEADERS") headers copied, Content-Type $NGX_TYPE"
else
    if [[ -n ${BENCH_TLS_CERT:-} ]]; then
        CERT=$BENCH_TLS_CERT
        KEY=${BENCH_TLS_KEY:-$(dirname "$CERT")/tls.key}
    else
        mkdir -m 700 "$WORK/tls"
        CERT="$WORK/tls/tls.crt" KEY="$WORK/tls/tls.key"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
            -keyout "$KEY" -out "$CERT" 2>/dev/null || die "openssl could not make a test certificate"
        log "nginx-only mode: throwaway certificate $CERT"
    fi
    [[ -f $CERT && -f $KEY ]] || die "certificate/key not found: $CERT $KEY"
    # No hearth to ask: a body of the shape hearth's 201 has with one consent and the default
    # retention (SECURITY.md §3.8 receipt), keys in the order hearth writes them.
    NGX_BODY=$(nginx_quote '{"consents":[{"scope":"support"}],"receipt":"0000-0000-0000-0000-0000-0000-0000","reference":"HR-0410-6105-0R3G-G28A","retention":{"days":90,"summary":"If no one has your agreement to read your request for 90 days in a row, everything you wrote is erased automatically. You can erase it yourself at any time with your receipt."}}')
    NGX_HEADERS='            add_header Strict-Transport-Security "max-age=63072000" always;
            add_header Cache-Control "no-store" always;
            add_header X-Content-Type-Options "nosniff" always;
            add_header Referrer-Policy "no-referrer" always;
            add_header Content-Security-Policy "default-src '"'none'; frame-ancestors 'none'"'" always;
'
fi

# ------------------------------------------------------------------ nginx
NGX="$WORK/nginx"
NGINX_BASE="" NGINX_201_SIZE=""
nginx_pids() { [[ -n $NGINX_PID ]] && echo "$NGINX_PID $(ps -o pid= --ppid "$NGINX_PID" 2>/dev/null | tr '\n' ' ')"; }
nginx_freeze() { # nginx takes no CPU while a hearth is measured
    # shellcheck disable=SC2046
    [[ -n $NGINX_PID ]] && kill -STOP $(nginx_pids) 2>/dev/null || true
}
nginx_thaw() {
    # shellcheck disable=SC2046
    [[ -n $NGINX_PID ]] && kill -CONT $(nginx_pids) 2>/dev/null || true
}

# start_nginx: a fresh nginx for the current mode (worker_processes auto, or 1 on SERVER_CPU).
start_nginx() {
    local port user_line="" rc=0 sizes
    port=$(free_port)
    rm -rf "$NGX"
    mkdir -p "$NGX/tmp"
    (( EUID == 0 )) && user_line="user root;"
    cat >"$NGX/nginx.conf" <<NGINXCONF
# Generated by intake-bench.sh: a TLS + HTTP floor for the hearth intake ($MODE).
$user_line
worker_processes $NGX_WORKERS;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;

events { worker_connections 1024; }

http {
    access_log off;
    server_tokens off;
    default_type "$NGX_TYPE";
    client_body_temp_path $NGX/tmp/client_body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    # wrk keeps its connections open; don't make nginx close them every 1000 requests.
    keepalive_requests 1000000;
    keepalive_timeout 75s;

    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        # Mozilla "intermediate" suites, as the spec requires of hearth.
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:bench:10m;
        client_max_body_size 64k;

        location / {
            # The headers and body hearth answered the probe submission with.
$NGX_HEADERS            return 201 $NGX_BODY;
        }
    }
}
NGINXCONF
    "$NGINX" -t -q -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" 2>"$NGX/configtest.log" \
        || { cat "$NGX/configtest.log" >&2; die "nginx config test failed"; }
    log "starting nginx on 127.0.0.1:$port (worker_processes $NGX_WORKERS$([[ $MODE == pinned ]] && echo ", CPU $SERVER_CPU"))"
    "${SRV_PIN[@]}" "$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$NGX/stdout.log" 2>&1 &
    NGINX_PID=$!
    NGINX_BASE="https://127.0.0.1:$port"
    wait_http nginx "$NGINX_PID" $((SECONDS + 30)) "$NGINX_BASE$API_PATH" "$CERT" \
        -X POST -H 'Content-Type: application/json' --data '{}' || rc=$?
    if (( rc != 0 )); then
        tail -n 20 "$NGX/error.log" "$NGX/stdout.log" >&2 2>/dev/null || true
        die "nginx did not start"
    fi
    sizes=$(curl -sS --http1.1 --max-time 10 --cacert "$CERT" -o /dev/null -w '%{http_code} %{size_header} %{size_download}' \
        -H 'Content-Type: application/json' --data-binary @"$PROBE_BODY" "$NGINX_BASE$API_PATH") || sizes=""
    NGINX_201_SIZE=${sizes#201 }
}
stop_nginx() {
    stop_pid "$NGINX_PID"
    NGINX_PID=""
}

# ------------------------------------------------------------------ rounds
TARGETS=("${HEARTHS[@]}" nginx)
declare -A RPS P50 P99 CREATED NON201 STATUSES SOCKERR REQS CPU_US RSS_R DB_R ROWS_R BUSY WRK_CPU
WRK_LIMIT=$((DURATION + 60))

server_pids() { # target -> the processes whose CPU time is the target's
    case $1 in
        nginx) nginx_pids ;;
        hearth-pg) echo "${HPID[$1]} $(pg_pids)" ;;
        *) echo "${HPID[$1]}" ;;
    esac
}

run_wrk() { # target round
    local target=$1 round=$2 base out line e refs="" t0 t1 s0 s1 w0 w1
    if [[ $target == nginx ]]; then base=$NGINX_BASE; else base=${HBASE[$target]}; fi
    out="$WORK/wrk-$target-$MODE-$round.txt"
    log "round $round/$ROUNDS ($MODE): $target (${DURATION}s)"
    [[ $target != nginx ]] && refs="$WORK/refs-$target-$MODE.txt"
    # shellcheck disable=SC2046
    t0=$(cpu_ticks $(server_pids "$target"))
    s0=$(cpu_snap)
    w0=$(awk '{ print $16 + $17 }' "/proc/$$/stat") # the CPU of reaped children: wrk's, once it exits
    if ! BENCH_REFS="$refs" "${CLI_PIN[@]}" timeout --kill-after=5 "$WRK_LIMIT" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA_SCRIPT" \
        "$base$API_PATH" >"$out" 2>&1; then
        cat "$out" >&2
        die "wrk failed against $target"
    fi
    # shellcheck disable=SC2046
    t1=$(cpu_ticks $(server_pids "$target"))
    s1=$(cpu_snap)
    w1=$(awk '{ print $16 + $17 }' "/proc/$$/stat")
    WRK_CPU[$target,$round]=$(awk -v d=$((w1 - w0)) -v hz="$CLK_TCK" -v s="$DURATION" 'BEGIN { printf "%.0f", d / hz / s * 100 }')
    if [[ $MODE == pinned ]]; then
        BUSY[$target,$round]="$(busy_pct "$s0" "$s1" "cpu$SERVER_CPU")/$(busy_pct "$s0" "$s1" "cpu$CLIENT_CPU")"
    else
        BUSY[$target,$round]=$(busy_pct "$s0" "$s1" cpu)
    fi
    line=$(grep '^bench-result ' "$out" | tail -n1) || { cat "$out" >&2; die "no bench-result line from wrk ($target)"; }
    RPS[$target,$round]=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' "$out")
    P50[$target,$round]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    P99[$target,$round]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    REQS[$target,$round]=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")
    CREATED[$target,$round]=$(kv created "$line")
    NON201[$target,$round]=$(kv non201 "$line")
    STATUSES[$target,$round]=$(kv statuses "$line")
    e=$(kv errors "$line")
    SOCKERR[$target,$round]=$(tr ',' '\n' <<<"$e" | awk -F: '{ s += $2 } END { print s + 0 }')
    [[ -n ${RPS[$target,$round]} ]] || { cat "$out" >&2; die "could not parse Requests/sec ($target)"; }
    # CPU time of the server side (utime+stime, all threads; with PostgreSQL its processes too)
    # per request answered.
    CPU_US[$target,$round]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="${REQS[$target,$round]:-0}" \
        'BEGIN { print (n > 0 ? sprintf("%.0f", d * 1e6 / hz / n) : "-") }')
    if [[ $target != nginx ]] && ! kill -0 "${HPID[$target]}" 2>/dev/null; then
        tail -n 40 "${HLOG[$target]}" >&2 || true
        die "$target exited during round $round"
    fi
}

pg_sql() { "${PSQL[@]}" -d hearth -At -c "$1"; }
pg_db_mb() { pg_sql "select round(pg_database_size('hearth') / 1048576.0, 1)" 2>/dev/null || echo "?"; }
pg_rows() { pg_sql 'select count(*) from hearth.records'; }

# count_sqlite TARGET ROUND DATA_DIR: rows of this round's database, ids appended for the reference check.
count_sqlite() {
    local t=$1 r=$2 db="$3/hearth.sqlite" n
    if [[ -f $db ]]; then
        if n=$(sqlite3 -cmd '.timeout 10000' "$db" 'select count(*) from records' 2>&1); then
            ROWS_R[$t,$r]=$n
            sqlite3 -cmd '.timeout 10000' "$db" 'select lower(hex(id)) from records' 2>/dev/null \
                >>"$WORK/db-ids-$t-$MODE.txt" || true
        else
            DB_NOTE[$t]+="round $r: sqlite3 failed: $n; "
        fi
    else
        DB_NOTE[$t]+="round $r: no database at $db (data dir: $(ls -A "$3" 2>/dev/null | tr '\n' ' ')); "
    fi
}

# hearth_round TARGET ROUND: hearth on a new data directory, wrk, kill -9, count.
hearth_round() {
    local t=$1 r=$2 label="$MODE-r$2" data db_start db_end before=""
    data="$WORK/$t-data-$label"
    [[ $t == hearth-pg ]] && { pg_thaw; before=$(pg_rows); }
    start_hearth "$t" "$data" "$label"
    if [[ $t == hearth-pg ]]; then db_start=$(pg_db_mb); else db_start=$(dir_mb "$data"); fi
    log "$t: database at the start of round $r: $db_start MB"
    run_wrk "$t" "$r"
    finish_hearth "$t" "$label"
    RSS_R[$t,$r]=$LAST_PEAK_KB
    (( ${LAST_HWM_KB:-0} > ${HWM_KB[$t]:-0} )) && HWM_KB[$t]=$LAST_HWM_KB
    (( ${LAST_RSS_KB:-0} > ${RSS_KB[$t]:-0} )) && RSS_KB[$t]=$LAST_RSS_KB
    if [[ $t == hearth-pg ]]; then
        db_end=$(pg_db_mb)
        ROWS_R[$t,$r]=$(( $(pg_rows) - before ))
        pg_freeze
    else
        db_end=$(dir_mb "$data")
        count_sqlite "$t" "$r" "$data"
        [[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$data"
    fi
    DB_R[$t,$r]="$db_start>$db_end"
}

# count_postgres: crash PostgreSQL (immediate shutdown: no checkpoint, no flush) and start it
# again: crash recovery must bring back every acknowledged row from the WAL.
count_postgres() {
    local n
    stop_pid "$PG_POLL_PID"; PG_POLL_PID=""
    pg_thaw
    if [[ -s $WORK/pg-mem-$MODE.txt ]]; then
        read -r PG_PEAK_RSS PG_PEAK_N < <(sort -k1,1n "$WORK/pg-mem-$MODE.txt" | tail -n1 | awk '{ print $1, $3 }')
        PG_PEAK_PSS=$(sort -k2,2n "$WORK/pg-mem-$MODE.txt" | tail -n1 | awk '{ print $2 }')
    fi
    bash "$PG_CLUSTER" crash "$PG_DIR" >/dev/null || { DB_NOTE[hearth-pg]="could not crash-stop PostgreSQL"; return; }
    pg_start
    if n=$(pg_rows 2>&1); then
        ROWS[hearth-pg]=$(( n - PG_ROWS_AT_START ))
        pg_sql "select encode(id, 'hex') from hearth.records" 2>/dev/null | sort -u >"$WORK/db-ids-hearth-pg-$MODE.txt" || true
    else
        DB_NOTE[hearth-pg]="psql failed after restart: $n"
    fi
}

# ------------------------------------------------------------------ summary helpers
mb() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }' || echo "n/a"; }
sum_of() { # assoc-name target
    local -n arr=$1
    local s=0 r
    for ((r = 1; r <= ROUNDS; r++)); do s=$((s + ${arr[$2,$r]:-0})); done
    echo "$s"
}
statuses_of() {
    local r out=""
    for ((r = 1; r <= ROUNDS; r++)); do
        [[ ${STATUSES[$1,$r]:--} != - ]] && out+="r$r[${STATUSES[$1,$r]}] "
    done
    echo "${out:-none}"
}
mode_title() {
    if [[ $MODE == pinned ]]; then
        echo "pinned: server under test on CPU $SERVER_CPU (hearth$( (( USE_PG )) && echo ' and PostgreSQL'), or nginx with worker_processes 1), wrk on CPU $CLIENT_CPU"
    else
        echo "unpinned: every process on any of the $(nproc) CPUs, nginx worker_processes auto"
    fi
}

STATUS=0
COMPARE=()
FSYNC=""
declare -A HWM_KB=() RSS_KB=() ROWS=() DB_NOTE=() MED_RPS MED_P99 MED_P50 MED_CPU PEAK_KB
PG_PEAK_RSS="" PG_PEAK_PSS="" PG_PEAK_N="" PG_ROWS_AT_START=0

# run_mode MODE: fresh nginx for the mode, the alternating rounds, the durability checks, the tables.
run_mode() {
    local r t
    set_mode "$1"
    RPS=() P50=() P99=() CREATED=() NON201=() STATUSES=() SOCKERR=() REQS=() CPU_US=() RSS_R=() DB_R=() ROWS_R=() BUSY=() WRK_CPU=()
    HWM_KB=() RSS_KB=() ROWS=() DB_NOTE=() MED_RPS=() MED_P99=() MED_P50=() MED_CPU=() PEAK_KB=()
    PG_PEAK_RSS="" PG_PEAK_PSS="" PG_PEAK_N=""
    start_nginx
    nginx_freeze
    if (( USE_PG )); then
        pg_thaw
        pg_pin
        PG_ROWS_AT_START=$(pg_rows)
        pg_poll_start
        pg_freeze
    fi
    for ((r = 1; r <= ROUNDS; r++)); do
        for t in "${TARGETS[@]}"; do
            if [[ $t == nginx ]]; then
                nginx_thaw
                run_wrk nginx "$r"
                nginx_freeze
            else
                hearth_round "$t" "$r"
            fi
        done
    done
    stop_nginx
    if [[ " ${HEARTHS[*]} " == *" hearth "* ]]; then ROWS[hearth]=$(sum_of ROWS_R hearth); fi
    (( USE_PG )) && count_postgres
    summarize_mode
}

summarize_mode() {
    local t r b vals p50s p99s cpus ratio hr pg label rows acked inflight after unparsed parsed dups missing
    echo
    echo "=== $(mode_title)"
    echo "Hearth intake benchmark: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS round(s) each, alternating"
    echo "POST $API_PATH over TLS on 127.0.0.1; cpus: $(nproc); temp dir fs: $(stat -f -c %T "$WORK" 2>/dev/null || echo '?')"
    echo "temp dir $FSYNC"
    [[ -n $HEARTH_201_SIZE ]] && echo "201 response, header + body bytes: hearth ${HEARTH_201_SIZE/ / + }, nginx ${NGINX_201_SIZE/ / + }"
    if (( USE_PG )); then
        echo "PostgreSQL $("${PSQL[@]}" -d postgres -At -c 'show server_version' 2>/dev/null | awk '{ print $1 }'):" \
            "hearth connects over the $([[ $PG_TRANSPORT == tls ]] && echo 'TCP localhost with TLS (verify-full)' || echo 'Unix socket');" \
            "cluster dir fs: $(stat -f -c %T "$PG_DIR" 2>/dev/null || echo '?')"
        echo "  $PG_SETTINGS"
        echo "  cluster dir $PG_FSYNC"
    fi
    echo
    printf '%-6s %-9s %10s %8s %8s %8s %7s %8s %10s %8s %5s %16s %9s\n' round target req/s p50_ms p99_ms 201s non-201 sock-err \
        cpu_us/req "$([[ $MODE == pinned ]] && echo busy%s/c || echo busy%)" wrk% "db_MB start>end" peak_RSS
    for ((r = 1; r <= ROUNDS; r++)); do
        for t in "${TARGETS[@]}"; do
            printf '%-6s %-9s %10s %8s %8s %8s %7s %8s %10s %8s %5s %16s %9s\n' "$r" "$t" "${RPS[$t,$r]}" "${P50[$t,$r]}" \
                "${P99[$t,$r]}" "${CREATED[$t,$r]}" "${NON201[$t,$r]}" "${SOCKERR[$t,$r]}" "${CPU_US[$t,$r]}" \
                "${BUSY[$t,$r]}" "${WRK_CPU[$t,$r]}" "${DB_R[$t,$r]:--}" "$([[ -n ${RSS_R[$t,$r]:-} ]] && mb "${RSS_R[$t,$r]}" || echo -)"
        done
    done
    echo
    for t in "${TARGETS[@]}"; do
        vals=() p50s=() p99s=() cpus=()
        for ((r = 1; r <= ROUNDS; r++)); do
            vals+=("${RPS[$t,$r]}"); p50s+=("${P50[$t,$r]}"); p99s+=("${P99[$t,$r]}")
            [[ ${CPU_US[$t,$r]} != - ]] && cpus+=("${CPU_US[$t,$r]}")
        done
        MED_RPS[$t]=$(median "${vals[@]}")
        MED_P50[$t]=$(median "${p50s[@]}")
        MED_P99[$t]=$(median "${p99s[@]}")
        MED_CPU[$t]=$( (( ${#cpus[@]} )) && median "${cpus[@]}" | awk '{ printf "%.0f", $1 }' || echo -)
        printf 'median %-9s %12s req/s   p50 %s ms   p99 %s ms   CPU %s µs/request   non-201: %s (%s)   socket errors: %s\n' \
            "$t" "${MED_RPS[$t]}" "${MED_P50[$t]}" "${MED_P99[$t]}" "${MED_CPU[$t]}" "$(sum_of NON201 "$t")" \
            "$(statuses_of "$t")" "$(sum_of SOCKERR "$t")"
    done

    for t in "${HEARTHS[@]}"; do
        awk -v t="$t" -v h="${MED_RPS[$t]}" -v n="${MED_RPS[nginx]}" -v hp="${MED_P99[$t]}" -v np="${MED_P99[nginx]}" 'BEGIN {
            printf "ratio %s/nginx (median req/s): %s", t, (n > 0 ? sprintf("%.3f", h / n) : "n/a");
            printf "   (median p99: %s)\n", (np > 0 ? sprintf("%.1fx", hp / np) : "n/a") }'
    done
    for t in "${HEARTHS[@]}"; do
        awk -v t="$t" -v h="${MED_CPU[$t]}" -v n="${MED_CPU[nginx]}" 'BEGIN { if (h > 0 && n > 0)
            printf "ratio by CPU per request (nginx µs / %s µs, work per request whoever set the pace): %.3f\n", t, n / h }'
    done
    if [[ $MODE == pinned ]]; then
        for ((r = 1; r <= ROUNDS; r++)); do
            b=${BUSY[nginx,$r]:-0/0}
            if (( ${b#*/} >= 95 )); then
                echo "note: the client CPU was ${b#*/}% busy in nginx round $r: wrk, not nginx, set that pace (nginx's req/s is a lower bound; the CPU ratio is the fairer one)"
                break
            fi
        done
    fi
    for t in "${HEARTHS[@]}"; do
        PEAK_KB[$t]=$(( ${HWM_KB[$t]:-0} > ${RSS_KB[$t]:-0} ? ${HWM_KB[$t]:-0} : ${RSS_KB[$t]:-0} ))
        (( PEAK_KB[$t] > 0 )) || PEAK_KB[$t]=""
        echo "$t peak RSS over the rounds: $(mb "${PEAK_KB[$t]}")  (VmHWM $(mb "${HWM_KB[$t]:-}"), max polled VmRSS $(mb "${RSS_KB[$t]:-}"))"
    done
    if (( USE_PG )); then
        echo "postgres peak RSS, summed over the postmaster and its children: $(mb "$PG_PEAK_RSS") ($PG_PEAK_N processes);" \
            "peak summed PSS: $(mb "$PG_PEAK_PSS")"
    fi

    for t in "${HEARTHS[@]}"; do
        echo
        label="durability check ($t, ${STORE_NAME[$t]})"
        rows=${ROWS[$t]:-}
        [[ $t == hearth && -n ${DB_NOTE[$t]:-} ]] && rows=""
        acked=$(sum_of CREATED "$t")
        inflight=$(( CONNECTIONS * ROUNDS + $(sum_of SOCKERR "$t") ))
        after="after kill -9 (every round)"
        [[ $t == hearth-pg ]] && after="after kill -9 of hearth (every round) and an immediate (crash) stop of PostgreSQL"
        if [[ -z $rows ]]; then
            echo "$label: FAIL: could not count rows (${DB_NOTE[$t]:-}); 201 responses seen: $acked"
            STATUS=1
        elif (( rows == acked )); then
            echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> OK (equal)"
        elif (( rows < acked )); then
            echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> FAIL: $((acked - rows)) acknowledged submissions missing $after"
            STATUS=1
        elif (( rows - acked <= inflight )); then
            echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> OK ($((rows - acked)) extra rows: requests in flight when wrk stopped or timed out, at most $inflight)"
        else
            echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> WARN: $((rows - acked)) more rows than acknowledgements (more than the $inflight that can be in flight; non-201 responses after commit?)"
        fi
        # Stronger: every acknowledged reference (HR-... from the 201 bodies) must be a records.id.
        if [[ -n $rows && -s $WORK/refs-$t-$MODE.txt ]]; then
            sort -u -o "$WORK/db-ids-$t-$MODE.txt" "$WORK/db-ids-$t-$MODE.txt" 2>/dev/null || : >"$WORK/db-ids-$t-$MODE.txt"
            ref_to_hex <"$WORK/refs-$t-$MODE.txt" >"$WORK/refs-hex-$t-$MODE.txt"
            unparsed=$(grep -c '^bad$' "$WORK/refs-hex-$t-$MODE.txt" || true)
            grep -v '^bad$' "$WORK/refs-hex-$t-$MODE.txt" | sort >"$WORK/acked-ids-$t-$MODE.txt" || true
            parsed=$(wc -l <"$WORK/acked-ids-$t-$MODE.txt")
            dups=$(( parsed - $(sort -u "$WORK/acked-ids-$t-$MODE.txt" | wc -l) ))
            missing=$(sort -u "$WORK/acked-ids-$t-$MODE.txt" | comm -23 - "$WORK/db-ids-$t-$MODE.txt" | wc -l)
            if (( parsed == 0 )); then
                echo "reference check ($t): skipped (no reference found in $unparsed 201 bodies)"
            elif (( missing == parsed - dups && rows > 0 )); then
                echo "reference check ($t): inconclusive: none of $parsed references decodes to a records.id (expects HR- + MSB-first Crockford base32 of the 10-byte id)"
            elif (( missing > 0 || dups > 0 )); then
                echo "reference check ($t): FAIL: $missing acknowledged references not in records, $dups duplicate references ($parsed checked, $unparsed unparsable)"
                STATUS=1
            else
                echo "reference check ($t): OK: all $parsed acknowledged references are records.id values ($unparsed unparsable)"
            fi
        fi
    done

    # One table to compare the targets side by side (and, after the last mode, the modes).
    if (( ${#HEARTHS[@]} )); then
        echo
        printf '%-9s %-10s %12s %9s %8s %8s %10s %22s %22s\n' target store "req/s (med)" "x nginx" "p50 ms" "p99 ms" \
            "CPU µs/req" "hearth RSS (polled)" "postgres RSS / PSS"
    fi
    for t in "${TARGETS[@]}"; do
        ratio=$(awk -v h="${MED_RPS[$t]}" -v n="${MED_RPS[nginx]}" 'BEGIN { print (n > 0 ? sprintf("%.3f", h / n) : "n/a") }')
        hr="-" pg="-"
        [[ $t != nginx ]] && hr="$(mb "${PEAK_KB[$t]}") ($(mb "${RSS_KB[$t]:-}" | sed 's/ MB$//'))"
        [[ $t == hearth-pg ]] && pg="$(mb "$PG_PEAK_RSS") / $(mb "$PG_PEAK_PSS")"
        (( ${#HEARTHS[@]} )) && printf '%-9s %-10s %12s %9s %8s %8s %10s %22s %22s\n' "$t" "${STORE_NAME[$t]}" "${MED_RPS[$t]}" \
            "$ratio" "${MED_P50[$t]}" "${MED_P99[$t]}" "${MED_CPU[$t]}" "$hr" "$pg"
        COMPARE+=("$(printf '%-9s %-9s %12s %9s %8s %8s %10s %12s' "$MODE" "$t" "${MED_RPS[$t]}" "$ratio" "${MED_P50[$t]}" \
            "${MED_P99[$t]}" "${MED_CPU[$t]}" "$([[ $t != nginx ]] && mb "${PEAK_KB[$t]}" || echo -)")")
    done
}

# ------------------------------------------------------------------ profile (BENCH_PROFILE=1)
# Two extra rounds of the first hearth target, after the measured ones: (1) under `perf stat`
# for the CPU time per request (task-clock of every hearth thread; the /proc/PID/stat figure of
# the same window beside it, or alone if perf cannot count here), (2) under `perf record -g`
# (or callgrind) for the symbols hearth spends its own time in.
demangle() { if command -v swift >/dev/null 2>&1; then swift demangle --simplified 2>/dev/null || cat; else cat; fi; }

profile_hearth() {
    local t=${HEARTHS[0]} label pid ticks0 ticks1 u0 u1 s0 s1 reqs msec perf_note="" top="" how=""
    echo
    echo "=== profile: $t, $(mode_title), one round each"
    if [[ $t == hearth-pg ]]; then pg_thaw; else pg_freeze; fi

    # (1) CPU per request.
    label="profile-stat"
    start_hearth "$t" "$WORK/$t-data-$label" "$label"
    pid=${HPID[$t]}
    if command -v perf >/dev/null 2>&1; then
        "${CLI_PIN[@]}" perf stat -e task-clock -x, -o "$WORK/perf-stat.txt" -p "$pid" >/dev/null 2>"$WORK/perf-stat.err" &
        PROF_PID=$!
        sleep 0.5
        kill -0 "$PROF_PID" 2>/dev/null || perf_note="perf stat exited: $(head -c 300 "$WORK/perf-stat.err" | tr '\n' ' ')"
    else
        perf_note="perf not installed"
    fi
    read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
    run_wrk "$t" profile
    read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
    [[ -n $PROF_PID ]] && { kill -INT "$PROF_PID" 2>/dev/null || true; wait "$PROF_PID" 2>/dev/null || true; PROF_PID=""; }
    finish_hearth "$t" "$label"
    rm -rf "$WORK/$t-data-$label"
    reqs=${REQS[$t,profile]:-0}
    echo "round: ${RPS[$t,profile]} req/s, $reqs requests answered (${CREATED[$t,profile]} created), p50 ${P50[$t,profile]} ms, p99 ${P99[$t,profile]} ms"
    if [[ -z $perf_note ]]; then
        msec=$(awk -F, '$3 ~ /^task-clock/ && $1 ~ /^[0-9.]+$/ { print $1 }' "$WORK/perf-stat.txt" 2>/dev/null | tail -n1)
        [[ -n $msec ]] || perf_note="perf stat counted no task-clock here: $(grep -v '^#' "$WORK/perf-stat.txt" 2>/dev/null | tr '\n' ' ' | head -c 200)"
    fi
    if [[ -z $perf_note ]] && (( reqs > 0 )); then
        awk -v ms="$msec" -v n="$reqs" 'BEGIN { printf "CPU per request (perf stat task-clock, all hearth threads): %.0f µs  (%.0f ms of CPU / %d requests)\n", ms * 1000 / n, ms, n }'
    else
        echo "CPU per request from perf: not available (${perf_note:-no requests}); /proc/PID/stat figures only"
    fi
    (( reqs > 0 )) && awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN {
        printf "CPU per request (/proc/PID/stat utime+stime, %d Hz ticks): %.0f µs  (user %.0f µs, system %.0f µs)\n",
            hz, (u + s) * 1e6 / hz / n, u * 1e6 / hz / n, s * 1e6 / hz / n }'
    [[ $t == hearth-pg ]] && echo "(hearth only; PostgreSQL's processes are not counted here, the rounds' cpu_us/req column includes them)"

    # (2) Where the time goes.
    label="profile-record"
    if [[ $PROFILER == perf ]] && command -v perf >/dev/null 2>&1; then
        start_hearth "$t" "$WORK/$t-data-$label" "$label"
        pid=${HPID[$t]}
        "${CLI_PIN[@]}" perf record -e cpu-clock -F 999 -g -o "$WORK/perf.data" -p "$pid" >/dev/null 2>"$WORK/perf-record.err" &
        PROF_PID=$!
        sleep 0.5
        run_wrk "$t" profile-record
        kill -INT "$PROF_PID" 2>/dev/null || true; wait "$PROF_PID" 2>/dev/null || true; PROF_PID=""
        finish_hearth "$t" "$label"
        rm -rf "$WORK/$t-data-$label"
        perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none >"$WORK/perf-report.txt" 2>/dev/null || true
        top=$(awk 'n < 25 && !/^#/ && NF { print; n++ }' "$WORK/perf-report.txt" | demangle | cut -c1-180 | sed 's/[[:space:]]*$//')
        perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
            | awk 'n < 12 && !/^#/ && NF { printf "%s%s %s", (n ? ", " : ""), $2, $1; n++ } END { if (n) print "" }' \
            >"$WORK/perf-dso.txt" || true
        how="perf record -e cpu-clock -F 999 -g, self time of each symbol ([k] kernel, [.] user)"
        [[ -n $top ]] || log "perf record gave nothing ($(head -c 300 "$WORK/perf-record.err" | tr '\n' ' ')); trying callgrind"
    fi
    if [[ -z $top ]]; then
        command -v valgrind >/dev/null 2>&1 || die "neither perf record nor valgrind is usable for the profile"
        label="profile-callgrind"
        HEARTH_WRAP=(valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out")
        start_hearth "$t" "$WORK/$t-data-$label" "$label"
        HEARTH_WRAP=()
        run_wrk "$t" profile-record
        finish_hearth "$t" "$label" TERM # callgrind writes its file at exit
        rm -rf "$WORK/$t-data-$label"
        callgrind_annotate --inclusive=no "$WORK/callgrind.out" >"$WORK/callgrind.txt" 2>/dev/null || true
        top=$(awk '/^-+$/ { d++; next } d >= 3 && NF && n < 25 { print; n++ }' "$WORK/callgrind.txt" | demangle | cut -c1-180 | sed 's/[[:space:]]*$//')
        how="valgrind --tool=callgrind, instructions executed in each function itself (hearth ran ~50x slower: ${RPS[$t,profile-record]} req/s)"
    fi
    echo "top 25 symbols by self time ($how):"
    printf '%s\n' "${top:-(none)}"
    [[ -s $WORK/perf-dso.txt ]] && echo "self time by library: $(cat "$WORK/perf-dso.txt")"
    (( USE_PG )) && pg_freeze
    return 0
}

# ------------------------------------------------------------------ main
FSYNC=$(fsync_latency "$WORK")
echo "temp dir $WORK ($(stat -f -c %T "$WORK")): $FSYNC"
(( USE_PG )) && echo "PostgreSQL dir $PG_DIR ($(stat -f -c %T "$PG_DIR")): $PG_FSYNC"
(( USE_PG )) && pg_freeze
for m in "${MODES[@]}"; do
    run_mode "$m"
done
if (( ${#MODES[@]} > 1 )); then
    echo
    echo "=== both modes (medians)"
    printf '%-9s %-9s %12s %9s %8s %8s %10s %12s\n' mode target req/s "x nginx" "p50 ms" "p99 ms" "CPU µs/req" "peak RSS"
    printf '%s\n' "${COMPARE[@]}"
fi
(( PROFILE )) && profile_hearth
[[ ${BENCH_KEEP:-0} == 1 ]] && echo "raw wrk output and logs: $WORK"
exit "$STATUS"
