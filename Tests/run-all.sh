#!/usr/bin/env bash
# Runs Hearth's whole test suite: installs prerequisites, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/dev-prerequisites.sh
swift build --build-tests
swift test --skip-build
