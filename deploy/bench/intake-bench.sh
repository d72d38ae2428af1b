#!/usr/bin/env bash
# Intake benchmark: hearth's POST /api/v1/contact-requests vs an nginx TLS floor
# (same certificate, same request mix, `return 201`), alternating rounds, plus a
# durability check (rows in SQLite == 201s seen by wrk). See README.md.
#
# Environment:
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_THREADS=2 BENCH_CONNECTIONS=32
#   BENCH_NO_BUILD=1        skip `swift build` (use the existing release binary)
#   HEARTH_BIN=PATH         use this hearth binary (implies no build)
#   BENCH_NGINX_ONLY=1      skip hearth entirely (nginx rounds only)
#   BENCH_TLS_CERT/KEY      cert+key for nginx in nginx-only mode (default: throwaway
#                           self-signed P-256 cert made with openssl)
#   BENCH_STARTUP_TIMEOUT=120  seconds to wait for hearth /healthz
#   BENCH_KEEP=1            keep the temp dir (wrk outputs, logs, database)
#   TMPDIR                  where the temp dir goes (its filesystem decides fsync cost)
#   BENCH_SEED, BENCH_POOL, BENCH_DUMP=FILE  passed to contact-request.lua (see there)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null) || REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
LUA_SCRIPT="$SCRIPT_DIR/contact-request.lua"
API_PATH=/api/v1/contact-requests

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-120}
NGINX_ONLY=${BENCH_NGINX_ONLY:-0}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for v in DURATION:BENCH_SECONDS ROUNDS:BENCH_ROUNDS THREADS:BENCH_THREADS \
    CONNECTIONS:BENCH_CONNECTIONS STARTUP_TIMEOUT:BENCH_STARTUP_TIMEOUT; do
    name=${v%%:*}
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "${v#*:} must be a positive integer (got '${!name}')"
done
(( CONNECTIONS >= THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
[[ -f $LUA_SCRIPT ]] || die "missing $LUA_SCRIPT"

# ------------------------------------------------------------------ tools
NGINX=/usr/sbin/nginx
ensure_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [[ -x $NGINX ]] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if [[ $NGINX_ONLY != 1 ]]; then
        command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
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
HEARTH_PID="" NGINX_PID="" POLL_PID=""

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
    local rc=$?
    set +e
    stop_pid "$POLL_PID"
    stop_pid "$NGINX_PID"
    stop_pid "$HEARTH_PID"
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $WORK"
    else
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

# ------------------------------------------------------------------ hearth
CERT="" KEY=""
if [[ $NGINX_ONLY != 1 ]]; then
    HEARTH_PORT=$(free_port)
    mkdir -m 700 "$WORK/keys" "$WORK/data"
    log "starting hearth serve --dev on 127.0.0.1:$HEARTH_PORT"
    "$HEARTH" serve --dev --keys "$WORK/keys" --data "$WORK/data" \
        --host 127.0.0.1 --intake-port "$HEARTH_PORT" >"$WORK/hearth.log" 2>&1 &
    HEARTH_PID=$!
    HEARTH_BASE="https://127.0.0.1:$HEARTH_PORT"
    CERT="$WORK/keys/tls.crt"

    # The certificate path and URL are printed on startup; prefer them once they appear.
    deadline=$((SECONDS + STARTUP_TIMEOUT))
    while (( SECONDS < deadline )) && ! grep -q '^certificate: ' "$WORK/hearth.log" 2>/dev/null; do
        kill -0 "$HEARTH_PID" 2>/dev/null || break
        [[ -f $CERT ]] && break
        sleep 0.1
    done
    printed_cert=$(sed -n 's/^certificate: *//p' "$WORK/hearth.log" | head -n1)
    printed_url=$(sed -n 's/^intake: *//p' "$WORK/hearth.log" | head -n1)
    [[ -n $printed_cert ]] && CERT=$printed_cert
    if [[ -n $printed_url && $printed_url != "$HEARTH_BASE" ]]; then
        log "hearth printed intake: $printed_url (expected $HEARTH_BASE); using the printed URL"
        [[ $printed_url == https://127.0.0.1:* ]] || die "hearth is not listening on 127.0.0.1: $printed_url"
        HEARTH_BASE=${printed_url%/}
    fi

    rc=0
    wait_http hearth "$HEARTH_PID" "$deadline" "$HEARTH_BASE/healthz" "$CERT" || rc=$?
    if (( rc != 0 )); then
        (( rc == 2 )) && log "hearth exited during startup"
        log "--- hearth.log (tail) ---"; tail -n 40 "$WORK/hearth.log" >&2 || true
        die "hearth did not become healthy"
    fi
    KEY="$(dirname "$CERT")/tls.key"
    [[ -f $KEY ]] || die "no TLS key next to $CERT"
    log "hearth healthy (pid $HEARTH_PID, cert $CERT)"

    # Poll RSS while hearth runs (VmHWM is read again at the end).
    (
        peak=0
        while kill -0 "$HEARTH_PID" 2>/dev/null; do
            rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$HEARTH_PID/status" 2>/dev/null || true)
            if [[ -n $rss ]] && (( rss > peak )); then
                peak=$rss
                echo "$peak" >"$WORK/rss.max"
            fi
            sleep 0.2
        done
    ) &
    POLL_PID=$!
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
TARGETS=(hearth nginx)
[[ $NGINX_ONLY == 1 ]] && TARGETS=(nginx)
declare -A RPS P50 P99 CREATED NON201 STATUSES SOCKERR
WRK_LIMIT=$((DURATION + 60))

run_wrk() { # target round
    local target=$1 round=$2 base out line e
    if [[ $target == hearth ]]; then base=$HEARTH_BASE; else base=$NGINX_BASE; fi
    out="$WORK/wrk-$target-$round.txt"
    log "round $round/$ROUNDS: $target (${DURATION}s)"
    local refs=""
    [[ $target == hearth ]] && refs="$WORK/refs-hearth.txt"
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
    if [[ $target == hearth ]] && ! kill -0 "$HEARTH_PID" 2>/dev/null; then
        tail -n 40 "$WORK/hearth.log" >&2 || true
        die "hearth exited during round $round"
    fi
}

for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
        run_wrk "$t" "$r"
    done
done

# ------------------------------------------------------------------ after the run
HWM_KB="" RSS_KB="" ROWS="" DB_NOTE=""
if [[ $NGINX_ONLY != 1 ]]; then
    HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$HEARTH_PID/status" 2>/dev/null || true)
    stop_pid "$POLL_PID"; POLL_PID=""
    RSS_KB=$(cat "$WORK/rss.max" 2>/dev/null || true)
    # Kill -9 before counting: whatever was acknowledged must already be in the
    # database files, not only in hearth's memory.
    kill -KILL "$HEARTH_PID" 2>/dev/null || true
    wait "$HEARTH_PID" 2>/dev/null || true
    HEARTH_PID=""
    DB="$WORK/data/hearth.sqlite"
    if [[ -f $DB ]]; then
        ROWS=$(sqlite3 -cmd '.timeout 10000' "$DB" 'select count(*) from records' 2>&1) \
            || { DB_NOTE="sqlite3 failed: $ROWS"; ROWS=""; }
        if [[ -n $ROWS ]]; then
            sqlite3 -cmd '.timeout 10000' "$DB" 'select lower(hex(id)) from records' 2>/dev/null \
                | sort -u >"$WORK/db-ids.txt" || true
        fi
    else
        DB_NOTE="no database at $DB (data dir: $(ls -A "$WORK/data" 2>/dev/null | tr '\n' ' '))"
    fi
fi

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
echo
printf '%-6s %-7s %12s %10s %10s %9s %8s %9s\n' round target req/s p50_ms p99_ms 201s non-201 sock-err
for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
        printf '%-6s %-7s %12s %10s %10s %9s %8s %9s\n' "$r" "$t" "${RPS[$t,$r]}" "${P50[$t,$r]}" \
            "${P99[$t,$r]}" "${CREATED[$t,$r]}" "${NON201[$t,$r]}" "${SOCKERR[$t,$r]}"
    done
done
echo
declare -A MED_RPS MED_P99
for t in "${TARGETS[@]}"; do
    vals=() p99s=()
    for ((r = 1; r <= ROUNDS; r++)); do vals+=("${RPS[$t,$r]}"); p99s+=("${P99[$t,$r]}"); done
    MED_RPS[$t]=$(median "${vals[@]}")
    MED_P99[$t]=$(median "${p99s[@]}")
    printf 'median %-7s %12s req/s   p99 %s ms   non-201: %s (%s)   socket errors: %s\n' "$t" "${MED_RPS[$t]}" \
        "${MED_P99[$t]}" "$(sum_of NON201 "$t")" "$(statuses_of "$t")" "$(sum_of SOCKERR "$t")"
done

status=0
if [[ $NGINX_ONLY != 1 ]]; then
    awk -v h="${MED_RPS[hearth]}" -v n="${MED_RPS[nginx]}" -v hp="${MED_P99[hearth]}" -v np="${MED_P99[nginx]}" 'BEGIN {
        printf "ratio hearth/nginx (median req/s): %s", (n > 0 ? sprintf("%.3f", h / n) : "n/a");
        printf "   (median p99: %s)\n", (np > 0 ? sprintf("%.1fx", hp / np) : "n/a") }'
    PEAK_KB=$(( ${HWM_KB:-0} > ${RSS_KB:-0} ? ${HWM_KB:-0} : ${RSS_KB:-0} ))
    (( PEAK_KB > 0 )) || PEAK_KB=""
    echo "hearth peak RSS: $(mb "$PEAK_KB")  (VmHWM at end $(mb "$HWM_KB"), max polled VmRSS $(mb "$RSS_KB"))"
    echo
    acked=$(sum_of CREATED hearth)
    inflight=$(( CONNECTIONS * ROUNDS + $(sum_of SOCKERR hearth) ))
    if [[ -z $ROWS ]]; then
        echo "durability check: FAIL: could not count rows ($DB_NOTE); 201 responses seen: $acked"
        status=1
    elif (( ROWS == acked )); then
        echo "durability check: rows in records = $ROWS, 201 responses seen by wrk = $acked -> OK (equal)"
    elif (( ROWS < acked )); then
        echo "durability check: rows in records = $ROWS, 201 responses seen by wrk = $acked -> FAIL: $((acked - ROWS)) acknowledged submissions missing after kill -9"
        status=1
    elif (( ROWS - acked <= inflight )); then
        echo "durability check: rows in records = $ROWS, 201 responses seen by wrk = $acked -> OK ($((ROWS - acked)) extra rows: requests in flight when wrk stopped or timed out, at most $inflight)"
    else
        echo "durability check: rows in records = $ROWS, 201 responses seen by wrk = $acked -> WARN: $((ROWS - acked)) more rows than acknowledgements (more than the $inflight that can be in flight; non-201 responses after commit?)"
    fi
    # Stronger: every acknowledged reference (HR-... from the 201 bodies) must be a records.id.
    if [[ -n $ROWS && -s $WORK/refs-hearth.txt ]]; then
        ref_to_hex <"$WORK/refs-hearth.txt" >"$WORK/refs-hex.txt"
        unparsed=$(grep -c '^bad$' "$WORK/refs-hex.txt" || true)
        grep -v '^bad$' "$WORK/refs-hex.txt" | sort >"$WORK/acked-ids.txt" || true
        parsed=$(wc -l <"$WORK/acked-ids.txt")
        dups=$(( parsed - $(sort -u "$WORK/acked-ids.txt" | wc -l) ))
        missing=$(sort -u "$WORK/acked-ids.txt" | comm -23 - "$WORK/db-ids.txt" | wc -l)
        if (( parsed == 0 )); then
            echo "reference check: skipped (no reference found in $unparsed 201 bodies)"
        elif (( missing == parsed - dups && ROWS > 0 )); then
            echo "reference check: inconclusive: none of $parsed references decodes to a records.id (expects HR- + MSB-first Crockford base32 of the 10-byte id)"
        elif (( missing > 0 || dups > 0 )); then
            echo "reference check: FAIL: $missing acknowledged references not in records, $dups duplicate references ($parsed checked, $unparsed unparsable)"
            status=1
        else
            echo "reference check: OK: all $parsed acknowledged references are records.id values ($unparsed unparsable)"
        fi
    fi
fi
[[ ${BENCH_KEEP:-0} == 1 ]] && echo "raw wrk output and logs: $WORK"
exit "$status"
