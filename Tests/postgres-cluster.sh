#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite, reachable only through a Unix socket.
#
#   Tests/postgres-cluster.sh start DIR   # initdb DIR/data (once), start it, write DIR/env
#   Tests/postgres-cluster.sh stop DIR    # stop it and remove DIR
#
# `start` writes DIR/env (`export HEARTH_TEST_POSTGRES=DIR/socket`, `export
# HEARTH_TEST_POSTGRES_PORT=PORT`) for callers to source, and prints that file's path as its only
# line on stdout. Superuser `postgres`, trust authentication, no TCP listener; the server log is
# DIR/postgres.log. The port (default 55432, override with PGPORT_TEST) only names the socket
# file, so clusters in different directories do not clash. As root, the cluster runs as the
# `postgres` system user (created if missing), since initdb and postgres refuse to run as root.
# Binaries come from /usr/lib/postgresql/15/bin, else PATH.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
die() { echo "postgres-cluster: $*" >&2; exit 1; }
[ $# -eq 2 ] || usage
cmd="$1"
[ -n "$2" ] || usage
case "$2" in /*) dir="$2" ;; *) dir="$PWD/$2" ;; esac
dir="${dir%/}"
[ -n "$dir" ] || die "refusing to use / as the cluster directory"
data="$dir/data"
sock="$dir/socket"
marker="$dir/.hearth-test-cluster"

bin() {
  if [ -x "/usr/lib/postgresql/15/bin/$1" ]; then echo "/usr/lib/postgresql/15/bin/$1"
  elif command -v "$1" >/dev/null; then command -v "$1"
  else die "$1 not found (install the postgresql package: deploy/dev-prerequisites.sh)"
  fi
}

# Runs a PostgreSQL program as the cluster's owner, from a directory that owner can enter.
if [ "$(id -u)" -eq 0 ]; then
  as_owner() { (cd / && runuser -u postgres -- "$@"); }
else
  as_owner() { (cd / && "$@"); }
fi

pg_ctl="$(bin pg_ctl)"
running() { [ -f "$data/PG_VERSION" ] && as_owner "$pg_ctl" -D "$data" status >/dev/null 2>&1; }

write_env() {
  local port
  port="$(sed -n 4p "$data/postmaster.pid")"
  [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $data/postmaster.pid"
  {
    printf 'export HEARTH_TEST_POSTGRES=%q\n' "$sock"
    printf 'export HEARTH_TEST_POSTGRES_PORT=%q\n' "$port"
  } >"$dir/env.tmp"
  chmod 644 "$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  echo "$dir/env"
}

start() {
  local port="${PGPORT_TEST:-55432}"
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad PGPORT_TEST: $port"
  # Unix socket paths are limited to 107 bytes.
  [ "${#sock}" -le 90 ] || die "$dir is too long for a Unix socket path; use a shorter directory"

  if running; then
    echo "postgres-cluster: already running in $dir" >&2
    write_env
    return
  fi

  mkdir -p "$dir"
  [ -f "$marker" ] || [ -z "$(ls -A "$dir")" ] || die "$dir is not empty and was not made by this script"
  touch "$marker"
  mkdir -p "$sock"
  if [ "$(id -u)" -eq 0 ]; then
    if ! getent passwd postgres >/dev/null; then
      if getent group postgres >/dev/null; then group=(-g postgres); else group=(-U); fi
      useradd --system "${group[@]}" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin postgres
    fi
    chown postgres: "$dir" "$sock"
    as_owner test -w "$dir" -a -x "$dir" \
      || die "the postgres user cannot reach $dir (is a parent directory private?)"
  fi
  chmod 755 "$dir" "$sock"

  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    local locale=(--no-locale)
    locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && locale=(--locale=C.UTF-8)
    local initdb
    initdb="$(bin initdb)"
    if ! as_owner "$initdb" -D "$data" -A trust -U postgres --no-sync -E UTF8 "${locale[@]}" \
        >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      die "initdb failed"
    fi
    # No TCP listener; the socket in DIR/socket; room for the suite's parallel connections.
    local quoted="${sock//\'/\'\'}"
    cat >>"$data/postgresql.conf" <<EOF

# Added by Tests/postgres-cluster.sh
listen_addresses = ''
unix_socket_directories = '$quoted'
unix_socket_permissions = 0777
max_connections = 300
EOF
  fi

  if ! as_owner "$pg_ctl" -D "$data" -l "$dir/postgres.log" -w -o "-p $port" start >/dev/null; then
    tail -n 20 "$dir/postgres.log" >&2 2>/dev/null || true
    die "the server did not start (log: $dir/postgres.log)"
  fi
  write_env
}

stop() {
  [ -e "$dir" ] || return 0
  [ -f "$marker" ] || die "$dir was not made by this script; not removing it"
  if running; then
    as_owner "$pg_ctl" -D "$data" -m fast -w stop >/dev/null \
      || as_owner "$pg_ctl" -D "$data" -m immediate -w stop >/dev/null \
      || die "could not stop the server in $dir"
  fi
  rm -rf -- "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
