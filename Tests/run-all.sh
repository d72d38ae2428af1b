#!/usr/bin/env bash
# Runs Hearth's whole test suite: installs prerequisites, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/dev-prerequisites.sh
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests, on a Unix socket and on TCP
# 127.0.0.1 with TLS only: its env file exports HEARTH_TEST_POSTGRES (the socket directory),
# HEARTH_TEST_POSTGRES_PORT (socket number and TCP port), HEARTH_TEST_POSTGRES_CA (the CA of the
# server's `localhost` certificate) and HEARTH_TEST_POSTGRES_OTHER_CA (an unrelated CA) to every test.
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
# schemathesis against the OpenAPI document the intake serves, with a real receipt: any server
# error or conformance failure fails the run (see Tests/api/schemathesis.sh).
bash Tests/api/schemathesis.sh
# libFuzzer: every target for 20 s; any crash fails the run and leaves its input in
# .build/fuzz/artifacts (see Tests/Fuzz/run.sh). Last, because it builds in .build with Hearth's own
# modules instrumented (reusing the dependencies built above), which the next build undoes.
HEARTH_FUZZ_SCRATCH=.build bash Tests/Fuzz/run.sh all 20
