#!/usr/bin/env bash
# Prepares the browser tests: headless Chromium, its WebDriver and Python's venv from apt (only
# when missing; running Hearth itself needs none of them), then the Python environment in
# .build-browser/venv (idempotent: nothing is done when it already matches requirements.txt).
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.build-browser/venv"
stamp="$venv/hearth-requirements.txt"
# axe-selenium-python 3.0.0 bundles axe-core 4.10.2. It declares Python 3.12 or later but is plain
# Python that runs on 3.11 (Debian bookworm), hence --ignore-requires-python; its own dependencies
# (selenium, pytest) come from requirements.txt.
axe="axe-selenium-python==3.0.0"
wanted="$(cat "$here/requirements.txt"; echo "$axe")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" -r "$here/requirements.txt"
"${pip[@]}" --no-deps --ignore-requires-python "$axe"
printf '%s\n' "$wanted" > "$stamp"
