#!/usr/bin/env bash
# Runs Hearth for development: installs prerequisites, builds, and starts `hearth serve --dev`,
# which creates development keys and a self-signed certificate under keys/ on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/dev-prerequisites.sh
swift build --product hearth
exec .build/debug/hearth serve --dev "$@"
