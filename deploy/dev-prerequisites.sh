#!/usr/bin/env bash
# Installs what building and testing Hearth needs on Debian (idempotent; needs root or sudo).
set -euo pipefail
need=()
pkg-config --exists libsodium 2>/dev/null || need+=(libsodium-dev)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
# PostgreSQL 15 (Debian 12) for the PostgreSQL store's tests, which run their own throwaway cluster
# (Tests/postgres-cluster.sh); the package's own cluster, if its postinst starts one, is not used.
{ [ -x /usr/lib/postgresql/15/bin/initdb ] || command -v initdb >/dev/null; } || need+=(postgresql)
# `hearth backup` and `hearth restore` with PostgreSQL run pg_dump and pg_restore.
{ command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; } || need+=(postgresql-client)
# Tor: a test checks deploy/tor/onion-service.torrc with `tor --verify-config` (and fails in CI
# without it). The package's own daemon, if its postinst starts one, is not used.
command -v tor >/dev/null || need+=(tor)
# Interview times on the pages are UK time (Europe/London, summer time included).
[ -e /usr/share/zoneinfo/Europe/London ] || need+=(tzdata)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
