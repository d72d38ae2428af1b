#!/usr/bin/env bash
# Real-browser tests of Hearth's survivor and staff pages (issue 5).
#
# Builds nothing: expects `swift build --build-tests` (for .build/debug/hearth) and
# Tests/browser/setup.sh (for .build-browser/venv) to have run. In a fresh temporary directory it
# starts a neutral "Weather" site and `hearth serve --dev --pseudo-locales` (English, Welsh and the
# pseudo-locales en-XA and ar-XB in the language links) with "Exit this page" pointing at that
# site, creates staff, then runs test_pages.py with pytest. Screenshots of every page go to
# .build-browser/screenshots/, every axe-core finding to .build-browser/axe-report.txt (and to the
# end of pytest's report).
# Extra arguments go to pytest (e.g. `-k exit -x`). Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hearth="$root/.build/debug/hearth"
python="$root/.build-browser/venv/bin/python"
artifacts="$root/.build-browser"

[ -x "$hearth" ] || { echo "run.sh: no $hearth; run swift build --build-tests first" >&2; exit 2; }
[ -x "$python" ] || { echo "run.sh: no $python; run Tests/browser/setup.sh first" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/hearth-browser.XXXXXX")"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints the first match of the extended regex $2 in file $1, waiting up to 60 s while process $3 lives.
await_line() {
  local file="$1" pattern="$2" pid="$3" line
  for _ in $(seq 600); do
    line="$(grep -m1 -E "$pattern" "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then printf '%s\n' "$line"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: gave up waiting for /$pattern/ in $file" >&2
  cat "$file" "${file%.out}.err" >&2 2>/dev/null || true
  return 1
}

# The neutral site that "Exit this page" leads to.
mkdir "$work/site"
cat > "$work/site/index.html" <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Weather</title></head>
<body><main><h1>Weather</h1><p>Sunny spells, light winds.</p></main></body></html>
HTML
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/site" > "$work/site.out" 2> "$work/site.err" &
pids+=("$!")
site_port="$(await_line "$work/site.out" 'port [0-9]+' "${pids[-1]}" | sed -E 's/.*port ([0-9]+).*/\1/')"
exit_url="http://127.0.0.1:$site_port/"

(cd "$work" && exec "$hearth" serve --dev --pseudo-locales --intake-port 0 --casework-port 0 --metrics-port 0 --exit-url "$exit_url" \
  --source-submissions 100000 --submissions 100000 --min-free-disk 0 \
  > "$work/hearth.out" 2> "$work/hearth.err") &
pids+=("$!")
hearth_pid="${pids[-1]}"
await_line "$work/hearth.out" '^certificate: ' "$hearth_pid" > /dev/null
intake="$(await_line "$work/hearth.out" '^intake: ' "$hearth_pid" | cut -d' ' -f2)"
casework="$(await_line "$work/hearth.out" '^casework: ' "$hearth_pid" | cut -d' ' -f2)"
certificate="$(await_line "$work/hearth.out" '^certificate: ' "$hearth_pid" | cut -d' ' -f2-)"

# Staff, one JSON file each (username, role, password, totpSecret). test_pages.py names them.
mkdir "$work/staff"
while read -r username role; do
  (cd "$work" && "$hearth" staff add --username "$username" --role "$role" --json) > "$work/staff/$username.json"
done <<'STAFF'
sofia supervisor
casey caseworker
priya privacy-officer
sam supervisor
carl caseworker
otto reviewer
rory reviewer
worker-en-nojs caseworker
worker-cy-nojs caseworker
worker-en-xa-nojs caseworker
worker-ar-xb-nojs caseworker
worker-ar-xb-js caseworker
STAFF

# Closed months of realistic audit entries for the transparency page, published as casework
# would (audit only: the staff queue keeps only the tests' own cases).
python3 "$root/deploy/seed-transparency.py" "$work/.hearth/hearth.sqlite" --months 4 --per-month 300 --audit-only > /dev/null
(cd "$work" && "$hearth" stats) > "$work/stats.out"

rm -rf "$artifacts/screenshots" "$artifacts/axe-report.txt"
mkdir -p "$artifacts/screenshots"
echo "browser tests: intake $intake, casework $casework, neutral site $exit_url"

status=0
(
  cd "$here"
  HEARTH_INTAKE="$intake" HEARTH_CASEWORK="$casework" HEARTH_CERTIFICATE="$certificate" \
    HEARTH_EXIT_URL="$exit_url" HEARTH_STAFF_DIR="$work/staff" HEARTH_ARTIFACTS="$artifacts" \
    PYTHONDONTWRITEBYTECODE=1 \
    timeout --signal=INT --kill-after=30 900 \
    "$python" -m pytest -p no:cacheprovider -p harness -q -rfE "$@" test_pages.py
) || status=$?

if [ "$status" -ne 0 ]; then
  echo "--- hearth stderr (last 40 lines) ---"
  tail -n 40 "$work/hearth.err" || true
fi
exit "$status"
