#!/usr/bin/env bash
# Runs Hearth's whole test suite: installs prerequisites, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/dev-prerequisites.sh
# A throwaway PostgreSQL cluster (Unix socket only) for the PostgreSQL store's tests: its env file
# exports HEARTH_TEST_POSTGRES (the socket directory) and HEARTH_TEST_POSTGRES_PORT to every test.
# Under /tmp rather than $TMPDIR: as root the cluster runs as `postgres`, which must reach it, and
# the socket path must stay short. Stopped and removed on exit, also on Ctrl-C or SIGTERM.
pg_dir="$(mktemp -d /tmp/hearth-pg.XXXXXX)"
trap 'bash Tests/postgres-cluster.sh stop "$pg_dir" || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash Tests/postgres-cluster.sh start "$pg_dir" >/dev/null
# shellcheck source=/dev/null
source "$pg_dir/env"
# The tests run in parallel in one process and together hold over a thousand descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
swift build --build-tests
swift test --skip-build
# Real-browser tests of the survivor and staff pages (headless Chromium; see Tests/browser/run.sh).
bash Tests/browser/setup.sh
bash Tests/browser/run.sh
