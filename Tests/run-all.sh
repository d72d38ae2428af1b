#!/usr/bin/env bash
# Runs Hearth's whole test suite: installs prerequisites, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/dev-prerequisites.sh
# The tests run in parallel in one process and together hold over a thousand descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
swift build --build-tests
swift test --skip-build
# Real-browser tests of the survivor and staff pages (headless Chromium; see Tests/browser/run.sh).
bash Tests/browser/setup.sh
bash Tests/browser/run.sh
