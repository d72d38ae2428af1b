#!/usr/bin/env bash
# Slow-connection check: `hearth serve --dev` under Debian's slowhttptest in slowloris (-H, slow
# request heads) and slow-body (-B) modes against the intake, while a real survivor's submission
# is sent every two seconds with curl (verifying the certificate). Not part of CI.
#
# Usage: deploy/bench/slowloris-check.sh
#
# Environment:
#   HEARTH_BIN=PATH      the hearth binary (default: .build/release/hearth, else .build/debug/hearth)
#   SLOW_CONNECTIONS=3000  connections slowhttptest tries to hold in each mode (-c)
#   SLOW_RATE=300        connections it opens per second (-r)
#   SLOW_SECONDS=60      length of each mode (-l)
#   SLOW_INTERVAL=5      seconds between its follow-up bytes (-i)
#   SLOW_ARGS="..."      extra hearth serve options (e.g. "--max-connections 1000 --request-head-timeout 5")
#   SLOW_KEEP=1          keep the temp dir (slowhttptest CSV/HTML, hearth's log)
#
# Printed per mode: the most connections slowhttptest held at once and what it saw of the service
# (its own probe), the most TCP connections the intake port had established (ss), and every curl
# submission: how many were answered 201, the slowest, the median, and any failures.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
log() { printf '[slowloris] %s\n' "$*" >&2; }
die() { printf '[slowloris] error: %s\n' "$*" >&2; exit 1; }

CONNECTIONS=${SLOW_CONNECTIONS:-3000}
RATE=${SLOW_RATE:-300}
SECONDS_PER_MODE=${SLOW_SECONDS:-60}
INTERVAL=${SLOW_INTERVAL:-5}

if [ -n "${HEARTH_BIN:-}" ]; then BIN=$HEARTH_BIN
elif [ -x "$REPO/.build/release/hearth" ]; then BIN=$REPO/.build/release/hearth
else BIN=$REPO/.build/debug/hearth; fi
[ -x "$BIN" ] || die "no hearth binary at $BIN: run swift build (or set HEARTH_BIN)"
need=()
command -v slowhttptest >/dev/null || need+=(slowhttptest)
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Both slowhttptest and hearth hold thousands of descriptors.
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-slowloris.XXXXXX")
HEARTH_PID=""
cleanup() {
    [ -n "$HEARTH_PID" ] && kill "$HEARTH_PID" 2>/dev/null && wait "$HEARTH_PID" 2>/dev/null || true
    if [ -n "${SLOW_KEEP:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$BIN" serve --dev --keys "$WORK/keys" --data "$WORK/data" --intake-port 0 --casework-port 0 --no-metrics \
    --receipt-failures 1000000 ${SLOW_ARGS:-} >"$WORK/stdout" 2>"$WORK/hearth.log" &
HEARTH_PID=$!
for _ in $(seq 1 600); do
    grep -q '^certificate: ' "$WORK/stdout" 2>/dev/null && break
    kill -0 "$HEARTH_PID" 2>/dev/null || die "hearth exited: $(cat "$WORK/hearth.log")"
    sleep 0.1
done
URL=$(sed -n 's/^intake: //p' "$WORK/stdout")
CERT=$(sed -n 's/^certificate: //p' "$WORK/stdout")
PORT=${URL##*:}
[ -n "$URL" ] && [ -n "$CERT" ] || die "hearth printed no intake line"
log "hearth $(basename "$BIN") pid $HEARTH_PID, intake $URL ${SLOW_ARGS:-}"

BODY='{"preferredName":"Sam","contact":[{"method":"phone","value":"07700 900123","safeTimes":"weekdays before 3pm","mayLeaveMessage":false}],"region":"north-west","wants":["support"],"account":"What happened, in my words.","consents":[]}'

# Submits every two seconds until told to stop; one line per submission: status seconds.
probe() {
    local out=$1
    : >"$out"
    while [ ! -e "$WORK/stop" ]; do
        curl -s -o /dev/null --cacert "$CERT" --max-time 10 -w '%{http_code} %{time_total}\n' \
            -H 'Content-Type: application/json' --data "$BODY" "$URL/api/v1/contact-requests" >>"$out" || echo "000 10" >>"$out"
        sleep 2
    done
}

# The most established TCP connections on the intake port, sampled every second.
count_established() {
    local out=$1 most=0 n
    while [ ! -e "$WORK/stop" ]; do
        n=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
        (( n > most )) && most=$n
        echo "$most" >"$out"
        sleep 1
    done
}

run_mode() {
    local name=$1; shift
    rm -f "$WORK/stop"
    probe "$WORK/$name.curl" & local probe_pid=$!
    count_established "$WORK/$name.ss" & local ss_pid=$!
    log "$name: slowhttptest $* -c $CONNECTIONS -r $RATE -i $INTERVAL -l $SECONDS_PER_MODE"
    slowhttptest "$@" -c "$CONNECTIONS" -r "$RATE" -i "$INTERVAL" -l "$SECONDS_PER_MODE" -p 5 -g -o "$WORK/$name" \
        >"$WORK/$name.out" 2>&1 || true
    touch "$WORK/stop"
    wait "$probe_pid" "$ss_pid" 2>/dev/null || true
    # slowhttptest's CSV: seconds,closed,pending,connected,service available.
    local held available
    held=$(awk -F, 'NR>1 && $4+0>m {m=$4+0} END {print m+0}' "$WORK/$name.csv" 2>/dev/null || echo "?")
    available=$(awk -F, 'NR>1 {n++; if ($5+0>0) a++} END {printf "%d of %d seconds", a, n}' "$WORK/$name.csv" 2>/dev/null || echo "?")
    local answered total slowest median failures
    total=$(wc -l <"$WORK/$name.curl")
    answered=$(awk '$1==201' "$WORK/$name.curl" | wc -l)
    failures=$(awk '$1!=201' "$WORK/$name.curl" | wc -l)
    slowest=$(awk '$1==201 {print $2}' "$WORK/$name.curl" | sort -n | tail -1)
    median=$(awk '$1==201 {print $2}' "$WORK/$name.curl" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
    printf '%s: slowhttptest held up to %s connections (its probe saw the service up %s); intake port had up to %s established\n' \
        "$name" "$held" "$available" "$(cat "$WORK/$name.ss")"
    printf '%s: submissions answered 201: %s of %s; median %ss, slowest %ss; failures %s\n' \
        "$name" "$answered" "$total" "${median:-?}" "${slowest:-?}" "$failures"
}

run_mode slowloris -H -t GET -u "$URL/" -x 24
# The JSON content type, so that the submission route reads the body rather than answering 415.
run_mode slow-body -B -t POST -f application/json -u "$URL/api/v1/contact-requests" -s 8192 -x 10
kill -0 "$HEARTH_PID" 2>/dev/null || die "hearth died during the check: $(tail -5 "$WORK/hearth.log")"
log "hearth still running; resident memory $(awk '/VmHWM/ {print $2, $3}' "/proc/$HEARTH_PID/status") peak"
