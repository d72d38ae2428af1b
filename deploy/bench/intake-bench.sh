#!/usr/bin/env bash
# Intake benchmark: hearth's POST /api/v1/contact-requests vs an nginx TLS floor
# (same certificate, same request mix, `return 201`), alternating rounds, plus a
# durability check (rows in the database == 201s seen by wrk). See README.md.
#
# Usage: intake-bench.sh [--store sqlite|postgres|both]
#
#   --store sqlite    (default) hearth with its SQLite file          target "hearth"
#   --store postgres  hearth on a throwaway PostgreSQL 15 cluster      target "hearth-pg"
#   --store both      both hearths side by side, alternating rounds with nginx
#
# Environment:
#   BENCH_STORE=sqlite|postgres|both   same as --store (the option wins)
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_THREADS=2 BENCH_CONNECTIONS=32
#   BENCH_NO_BUILD=1        skip `swift build` (use the existing release binary)
#   HEARTH_BIN=PATH         use this hearth binary (implies no build)
#   BENCH_NGINX_ONLY=1      skip hearth entirely (nginx rounds only)
#   BENCH_TLS_CERT/KEY      cert+key for nginx in nginx-only mode (default: throwaway
#                           self-signed P-256 cert made with openssl)
#   BENCH_STARTUP_TIMEOUT=120  seconds to wait for hearth /healthz
#   BENCH_KEEP=1            keep the temp dir (wrk outputs, logs, database) and the
#                           PostgreSQL cluster's dir (server stopped)
#   TMPDIR                  where the temp dir goes (its filesystem decides fsync cost)
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
while (( $# )); do
    case $1 in
        --store) (( $# >= 2 )) || die "--store needs sqlite, postgres or both"; STORE=$2; shift 2 ;;
        --store=*) STORE=${1#--store=}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case $STORE in sqlite|postgres|both) ;; *) die "--store must be sqlite, postgres or both (got '$STORE')" ;; esac

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-120}
NGINX_ONLY=${BENCH_NGINX_ONLY:-0}
PG_TRANSPORT=${BENCH_PG_TRANSPORT:-socket}
PG_COMMIT_DELAY=${BENCH_PG_COMMIT_DELAY:-0}

for v in DURATION:BENCH_SECONDS ROUNDS:BENCH_ROUNDS THREADS:BENCH_THREADS \
    CONNECTIONS:BENCH_CONNECTIONS STARTUP_TIMEOUT:BENCH_STARTUP_TIMEOUT; do
    name=${v%%:*}
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "${v#*:} must be a positive integer (got '${!name}')"
done
[[ $PG_COMMIT_DELAY =~ ^[0-9]+$ ]] && (( PG_COMMIT_DELAY <= 100000 )) \
    || die "BENCH_PG_COMMIT_DELAY must be 0 to 100000 microseconds"
case $PG_TRANSPORT in socket|tls) ;; *) die "BENCH_PG_TRANSPORT must be socket or tls" ;; esac
(( CONNECTIONS >= THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
[[ -f $LUA_SCRIPT ]] || die "missing $LUA_SCRIPT"

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
NGINX_PID="" PG_DIR="" PG_POLL_PID=""
declare -A HPID=() HPOLL=() HBASE=() HCERT=()

stop_pid() { # pid [signal]
    local pid=$1 sig=${2:-TERM} i children
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -"$sig" "$pid" 2>/dev/null || true
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
    stop_pid "$PG_POLL_PID"
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

PG_PORT="" PG_SOCK="" PG_CA="" PSQL=() PG_SETTINGS=""
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

    # Sum RSS and PSS of the postmaster and all its children every 0.25 s (one cat + one awk a
    # sample). RSS counts shared_buffers pages once per process that touched them; PSS splits
    # shared pages among their users, so the PSS sum is the cluster's real footprint.
    pg_poll() { # postmaster pid -> appends "rss_kb pss_kb processes" lines to WORK/pg-mem.txt
        local pm=$1 kids files p
        while kill -0 "$pm" 2>/dev/null; do
            kids=""
            if [[ -r /proc/$pm/task/$pm/children ]]; then
                read -r kids <"/proc/$pm/task/$pm/children" || true # no newline at its end
            else
                kids=$(ps -o pid= --ppid "$pm" 2>/dev/null | tr '\n' ' ') || true
            fi
            files=()
            for p in $pm $kids; do files+=("/proc/$p/status" "/proc/$p/smaps_rollup"); done
            { cat "${files[@]}" 2>/dev/null || true; } \
                | awk '/^VmRSS:/ { r += $2; n++ } /^Pss:/ { s += $2 } END { print r + 0, s + 0, n + 0 }' >>"$WORK/pg-mem.txt" \
                || true
            sleep 0.25
        done
    }
    pg_poll "$(pg_postmaster)" &
    PG_POLL_PID=$!
fi

# ------------------------------------------------------------------ hearth
# start_hearth TARGET [extra serve args...]: fresh keys and data in WORK, its own free ports.
start_hearth() {
    local t=$1; shift
    local keys="$WORK/keys" data="$WORK/data" logf="$WORK/$t.log" port pid base cert deadline printed_cert printed_url rc
    if [[ $t != hearth ]]; then keys="$WORK/$t-keys" data="$WORK/$t-data"; fi
    port=$(free_port)
    mkdir -m 700 "$keys" "$data"
    log "starting $t (${STORE_NAME[$t]}): hearth serve --dev on 127.0.0.1:$port"
    "$HEARTH" serve --dev --keys "$keys" --data "$data" \
        --host 127.0.0.1 --intake-port "$port" --casework-port 0 --metrics-port 0 \
        --source-submissions 1000000000 --submissions 1000000000 --min-free-disk 0 "$@" >"$logf" 2>&1 &
    pid=$!
    HPID[$t]=$pid
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
        log "--- $t.log (tail) ---"; tail -n 40 "$logf" >&2 || true
        die "$t did not become healthy"
    fi
    [[ -f "$(dirname "$cert")/tls.key" ]] || die "no TLS key next to $cert"
    HBASE[$t]=$base
    HCERT[$t]=$cert
    log "$t healthy (pid $pid, cert $cert)"

    # Poll RSS while hearth runs (VmHWM is read again at the end).
    (
        peak=0
        while kill -0 "$pid" 2>/dev/null; do
            rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            if [[ -n $rss ]] && (( rss > peak )); then
                peak=$rss
                echo "$peak" >"$WORK/rss-$t.max"
            fi
            sleep 0.2
        done
    ) &
    HPOLL[$t]=$!
}

CERT="" KEY=""
if [[ $NGINX_ONLY != 1 ]]; then
    for t in "${HEARTHS[@]}"; do
        if [[ $t == hearth-pg ]]; then
            start_hearth "$t" --database "$(pg_url hearth_casework)" --intake-database "$(pg_url hearth_intake)"
        else
            start_hearth "$t"
        fi
    done
    CERT=${HCERT[${HEARTHS[0]}]}
    KEY="$(dirname "$CERT")/tls.key"
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
fi

# ------------------------------------------------------------------ nginx
NGINX_PORT=$(free_port)
NGX="$WORK/nginx"
mkdir -p "$NGX/tmp"
user_line=""
(( EUID == 0 )) && user_line="user root;"
cat >"$NGX/nginx.conf" <<EOF
# Generated by intake-bench.sh: a TLS + HTTP floor for the hearth intake.
$user_line
worker_processes auto;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;

events { worker_connections 1024; }

http {
    access_log off;
    server_tokens off;
    default_type application/json;
    client_body_temp_path $NGX/tmp/client_body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    # wrk keeps its connections open; don't make nginx close them every 1000 requests.
    keepalive_requests 1000000;
    keepalive_timeout 75s;

    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        # Mozilla "intermediate" suites, as the spec requires of hearth.
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:bench:10m;
        client_max_body_size 64k;

        location / {
            # Same security headers hearth sends, so responses are of similar size.
            add_header Strict-Transport-Security "max-age=63072000" always;
            add_header Cache-Control "no-store" always;
            add_header X-Content-Type-Options "nosniff" always;
            add_header Referrer-Policy "no-referrer" always;
            add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
            return 201 '{"ok":true}';
        }
    }
}
EOF
"$NGINX" -t -q -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" 2>"$NGX/configtest.log" \
    || { cat "$NGX/configtest.log" >&2; die "nginx config test failed"; }
log "starting nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$NGX/stdout.log" 2>&1 &
NGINX_PID=$!
NGINX_BASE="https://127.0.0.1:$NGINX_PORT"
rc=0
wait_http nginx "$NGINX_PID" $((SECONDS + 30)) "$NGINX_BASE$API_PATH" "$CERT" \
    -X POST -H 'Content-Type: application/json' --data '{}' || rc=$?
if (( rc != 0 )); then
    tail -n 20 "$NGX/error.log" "$NGX/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start"
fi

# ------------------------------------------------------------------ rounds
TARGETS=("${HEARTHS[@]}" nginx)
declare -A RPS P50 P99 CREATED NON201 STATUSES SOCKERR
WRK_LIMIT=$((DURATION + 60))

run_wrk() { # target round
    local target=$1 round=$2 base out line e refs=""
    if [[ $target == nginx ]]; then base=$NGINX_BASE; else base=${HBASE[$target]}; fi
    out="$WORK/wrk-$target-$round.txt"
    log "round $round/$ROUNDS: $target (${DURATION}s)"
    [[ $target != nginx ]] && refs="$WORK/refs-$target.txt"
    if ! BENCH_REFS="$refs" timeout --kill-after=5 "$WRK_LIMIT" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA_SCRIPT" \
        "$base$API_PATH" >"$out" 2>&1; then
        cat "$out" >&2
        die "wrk failed against $target"
    fi
    line=$(grep '^bench-result ' "$out" | tail -n1) || { cat "$out" >&2; die "no bench-result line from wrk ($target)"; }
    RPS[$target,$round]=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' "$out")
    P50[$target,$round]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    P99[$target,$round]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    CREATED[$target,$round]=$(kv created "$line")
    NON201[$target,$round]=$(kv non201 "$line")
    STATUSES[$target,$round]=$(kv statuses "$line")
    e=$(kv errors "$line")
    SOCKERR[$target,$round]=$(tr ',' '\n' <<<"$e" | awk -F: '{ s += $2 } END { print s + 0 }')
    [[ -n ${RPS[$target,$round]} ]] || { cat "$out" >&2; die "could not parse Requests/sec ($target)"; }
    if [[ $target != nginx ]] && ! kill -0 "${HPID[$target]}" 2>/dev/null; then
        tail -n 40 "$WORK/$target.log" >&2 || true
        die "$target exited during round $round"
    fi
}

for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
        run_wrk "$t" "$r"
    done
done

# ------------------------------------------------------------------ after the run
declare -A HWM_KB=() RSS_KB=() ROWS=() DB_NOTE=()
PG_PEAK_RSS="" PG_PEAK_PSS="" PG_PEAK_N=""
for t in "${HEARTHS[@]}"; do
    HWM_KB[$t]=$(awk '/^VmHWM:/ { print $2 }' "/proc/${HPID[$t]}/status" 2>/dev/null || true)
    stop_pid "${HPOLL[$t]}"; unset "HPOLL[$t]"
    RSS_KB[$t]=$(cat "$WORK/rss-$t.max" 2>/dev/null || true)
    # Kill -9 before counting: whatever was acknowledged must already be in the
    # database files, not only in hearth's memory.
    kill -KILL "${HPID[$t]}" 2>/dev/null || true
    wait "${HPID[$t]}" 2>/dev/null || true
    unset "HPID[$t]"
done

count_sqlite() {
    local DB="$WORK/data/hearth.sqlite" n
    if [[ -f $DB ]]; then
        if n=$(sqlite3 -cmd '.timeout 10000' "$DB" 'select count(*) from records' 2>&1); then
            ROWS[hearth]=$n
            sqlite3 -cmd '.timeout 10000' "$DB" 'select lower(hex(id)) from records' 2>/dev/null \
                | sort -u >"$WORK/db-ids-hearth.txt" || true
        else
            DB_NOTE[hearth]="sqlite3 failed: $n"
        fi
    else
        DB_NOTE[hearth]="no database at $DB (data dir: $(ls -A "$WORK/data" 2>/dev/null | tr '\n' ' '))"
    fi
}

count_postgres() {
    local n
    stop_pid "$PG_POLL_PID"; PG_POLL_PID=""
    if [[ -s $WORK/pg-mem.txt ]]; then
        read -r PG_PEAK_RSS PG_PEAK_N < <(sort -k1,1n "$WORK/pg-mem.txt" | tail -n1 | awk '{ print $1, $3 }')
        PG_PEAK_PSS=$(sort -k2,2n "$WORK/pg-mem.txt" | tail -n1 | awk '{ print $2 }')
    fi
    # Crash the server too (immediate shutdown: no checkpoint, no flush), then start it again:
    # crash recovery must bring back every acknowledged row from the WAL.
    bash "$PG_CLUSTER" crash "$PG_DIR" >/dev/null || { DB_NOTE[hearth-pg]="could not crash-stop PostgreSQL"; return; }
    pg_start
    if n=$("${PSQL[@]}" -d hearth -At -c 'select count(*) from hearth.records' 2>&1); then
        ROWS[hearth-pg]=$n
        "${PSQL[@]}" -d hearth -At -c "select encode(id, 'hex') from hearth.records" 2>/dev/null \
            | sort -u >"$WORK/db-ids-hearth-pg.txt" || true
    else
        DB_NOTE[hearth-pg]="psql failed after restart: $n"
    fi
}

[[ " ${HEARTHS[*]} " == *" hearth "* ]] && count_sqlite
(( USE_PG )) && count_postgres

# ------------------------------------------------------------------ summary
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

echo
echo "Hearth intake benchmark: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS round(s) each, alternating"
echo "POST $API_PATH over TLS on 127.0.0.1; cpus: $(nproc); temp dir fs: $(stat -f -c %T "$WORK" 2>/dev/null || echo '?')"
if (( USE_PG )); then
    echo "PostgreSQL $("${PSQL[@]}" -d postgres -At -c 'show server_version' 2>/dev/null | awk '{ print $1 }'):" \
        "hearth connects over the $([[ $PG_TRANSPORT == tls ]] && echo 'TCP localhost with TLS (verify-full)' || echo 'Unix socket');" \
        "cluster dir fs: $(stat -f -c %T "$PG_DIR" 2>/dev/null || echo '?')"
    echo "  $PG_SETTINGS"
fi
echo
printf '%-6s %-9s %12s %10s %10s %9s %8s %9s\n' round target req/s p50_ms p99_ms 201s non-201 sock-err
for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
        printf '%-6s %-9s %12s %10s %10s %9s %8s %9s\n' "$r" "$t" "${RPS[$t,$r]}" "${P50[$t,$r]}" \
            "${P99[$t,$r]}" "${CREATED[$t,$r]}" "${NON201[$t,$r]}" "${SOCKERR[$t,$r]}"
    done
done
echo
declare -A MED_RPS MED_P99 PEAK_KB
for t in "${TARGETS[@]}"; do
    vals=() p99s=()
    for ((r = 1; r <= ROUNDS; r++)); do vals+=("${RPS[$t,$r]}"); p99s+=("${P99[$t,$r]}"); done
    MED_RPS[$t]=$(median "${vals[@]}")
    MED_P99[$t]=$(median "${p99s[@]}")
    printf 'median %-9s %12s req/s   p99 %s ms   non-201: %s (%s)   socket errors: %s\n' "$t" "${MED_RPS[$t]}" \
        "${MED_P99[$t]}" "$(sum_of NON201 "$t")" "$(statuses_of "$t")" "$(sum_of SOCKERR "$t")"
done

status=0
for t in "${HEARTHS[@]}"; do
    awk -v t="$t" -v h="${MED_RPS[$t]}" -v n="${MED_RPS[nginx]}" -v hp="${MED_P99[$t]}" -v np="${MED_P99[nginx]}" 'BEGIN {
        printf "ratio %s/nginx (median req/s): %s", t, (n > 0 ? sprintf("%.3f", h / n) : "n/a");
        printf "   (median p99: %s)\n", (np > 0 ? sprintf("%.1fx", hp / np) : "n/a") }'
done
for t in "${HEARTHS[@]}"; do
    hwm=${HWM_KB[$t]:-} rss=${RSS_KB[$t]:-}
    PEAK_KB[$t]=$(( ${hwm:-0} > ${rss:-0} ? ${hwm:-0} : ${rss:-0} ))
    (( PEAK_KB[$t] > 0 )) || PEAK_KB[$t]=""
    echo "$t peak RSS: $(mb "${PEAK_KB[$t]}")  (VmHWM at end $(mb "$hwm"), max polled VmRSS $(mb "$rss"))"
done
if (( USE_PG )); then
    echo "postgres peak RSS, summed over the postmaster and its children: $(mb "$PG_PEAK_RSS") ($PG_PEAK_N processes);" \
        "peak summed PSS: $(mb "$PG_PEAK_PSS")"
fi

for t in "${HEARTHS[@]}"; do
    echo
    label="durability check ($t, ${STORE_NAME[$t]})"
    rows=${ROWS[$t]:-}
    acked=$(sum_of CREATED "$t")
    inflight=$(( CONNECTIONS * ROUNDS + $(sum_of SOCKERR "$t") ))
    after="after kill -9"
    [[ $t == hearth-pg ]] && after="after kill -9 of hearth and an immediate (crash) stop of PostgreSQL"
    if [[ -z $rows ]]; then
        echo "$label: FAIL: could not count rows (${DB_NOTE[$t]:-}); 201 responses seen: $acked"
        status=1
    elif (( rows == acked )); then
        echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> OK (equal)"
    elif (( rows < acked )); then
        echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> FAIL: $((acked - rows)) acknowledged submissions missing $after"
        status=1
    elif (( rows - acked <= inflight )); then
        echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> OK ($((rows - acked)) extra rows: requests in flight when wrk stopped or timed out, at most $inflight)"
    else
        echo "$label: rows in records = $rows, 201 responses seen by wrk = $acked -> WARN: $((rows - acked)) more rows than acknowledgements (more than the $inflight that can be in flight; non-201 responses after commit?)"
    fi
    # Stronger: every acknowledged reference (HR-... from the 201 bodies) must be a records.id.
    if [[ -n $rows && -s $WORK/refs-$t.txt ]]; then
        ref_to_hex <"$WORK/refs-$t.txt" >"$WORK/refs-hex-$t.txt"
        unparsed=$(grep -c '^bad$' "$WORK/refs-hex-$t.txt" || true)
        grep -v '^bad$' "$WORK/refs-hex-$t.txt" | sort >"$WORK/acked-ids-$t.txt" || true
        parsed=$(wc -l <"$WORK/acked-ids-$t.txt")
        dups=$(( parsed - $(sort -u "$WORK/acked-ids-$t.txt" | wc -l) ))
        missing=$(sort -u "$WORK/acked-ids-$t.txt" | comm -23 - "$WORK/db-ids-$t.txt" | wc -l)
        if (( parsed == 0 )); then
            echo "reference check ($t): skipped (no reference found in $unparsed 201 bodies)"
        elif (( missing == parsed - dups && rows > 0 )); then
            echo "reference check ($t): inconclusive: none of $parsed references decodes to a records.id (expects HR- + MSB-first Crockford base32 of the 10-byte id)"
        elif (( missing > 0 || dups > 0 )); then
            echo "reference check ($t): FAIL: $missing acknowledged references not in records, $dups duplicate references ($parsed checked, $unparsed unparsable)"
            status=1
        else
            echo "reference check ($t): OK: all $parsed acknowledged references are records.id values ($unparsed unparsable)"
        fi
    fi
done

# One table to compare the stores side by side.
if (( ${#HEARTHS[@]} )); then
    echo
    printf '%-9s %-10s %12s %9s %10s %22s %22s\n' target store "req/s (med)" "x nginx" "p99 ms" "hearth RSS (polled)" "postgres RSS / PSS"
    for t in "${TARGETS[@]}"; do
        ratio=$(awk -v h="${MED_RPS[$t]}" -v n="${MED_RPS[nginx]}" 'BEGIN { print (n > 0 ? sprintf("%.3f", h / n) : "n/a") }')
        hr="-" pg="-"
        [[ $t != nginx ]] && hr="$(mb "${PEAK_KB[$t]}") ($(mb "${RSS_KB[$t]:-}" | sed 's/ MB$//'))"
        [[ $t == hearth-pg ]] && pg="$(mb "$PG_PEAK_RSS") / $(mb "$PG_PEAK_PSS")"
        printf '%-9s %-10s %12s %9s %10s %22s %22s\n' "$t" "${STORE_NAME[$t]}" "${MED_RPS[$t]}" "$ratio" "${MED_P99[$t]}" "$hr" "$pg"
    done
fi
[[ ${BENCH_KEEP:-0} == 1 ]] && echo "raw wrk output and logs: $WORK"
exit "$status"
