#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: a Unix socket, plus TCP on 127.0.0.1 with TLS only.
#
#   Tests/postgres-cluster.sh start DIR   # initdb DIR/data and make DIR/tls (once), start it, write DIR/env
#   Tests/postgres-cluster.sh stop DIR    # stop it and remove DIR (data, certificates, keys, log)
#   Tests/postgres-cluster.sh crash DIR   # stop it like a crash (immediate shutdown, no checkpoint), keep
#                                         # DIR: the next `start` runs crash recovery
#
# `start` writes DIR/env for callers to source, and prints that file's path as its only line on stdout:
#
#   export HEARTH_TEST_POSTGRES=DIR/socket                  # the Unix socket's directory
#   export HEARTH_TEST_POSTGRES_PORT=PORT                   # the socket's number and the TCP port
#   export HEARTH_TEST_POSTGRES_CA=DIR/tls/ca.crt           # the CA the server's certificate chains to
#   export HEARTH_TEST_POSTGRES_OTHER_CA=DIR/tls/other-ca.crt  # an unrelated CA: verify-full must fail
#
# Superuser `postgres`, trust authentication, the server log in DIR/postgres.log. pg_hba.conf: the socket
# trusts everyone; TCP on 127.0.0.1 (the only TCP listener) accepts TLS only (`hostssl ... trust`,
# `hostnossl ... reject`), TLS 1.2 or later. At the first start, openssl makes a throwaway test CA
# (DIR/tls/ca.crt, ca.key), a server certificate signed by it for DNS name `localhost` only (no IP
# address in it: host=127.0.0.1 with verify-full must fail on the name; DIR/tls/server.crt, server.key,
# the key readable only by the cluster's user), and a second, unrelated CA (DIR/tls/other-ca.crt,
# other-ca.key). So, with PORT from DIR/env:
#
#   host=localhost port=PORT sslmode=verify-full sslrootcert=DIR/tls/ca.crt        connects over TLS
#   host=127.0.0.1 ... sslmode=verify-full sslrootcert=DIR/tls/ca.crt              fails: wrong name
#   host=localhost ... sslmode=verify-full sslrootcert=DIR/tls/other-ca.crt        fails: wrong CA
#   host=localhost ... sslmode=disable                                             rejected by pg_hba
#
# Port: PGPORT_TEST if set (it must be free on 127.0.0.1), else the first free one from 55432 up, so
# clusters in different directories do not clash. PGCONF_TEST, if set, holds extra postgresql.conf
# lines (e.g. the benchmark's shared_buffers); they are applied at every start that starts the server.
# `start` is idempotent: on a running cluster it only rewrites DIR/env. As root, the cluster runs as
# the `postgres` system user (created if missing), since initdb and postgres refuse to run as root.
# Binaries come from /usr/lib/postgresql/15/bin, else PATH; certificates need openssl.
set -euo pipefail

usage() { echo "usage: $0 start|stop|crash DIR" >&2; exit 2; }
die() { echo "postgres-cluster: $*" >&2; exit 1; }
warn() { echo "postgres-cluster: $*" >&2; }
[ $# -eq 2 ] || usage
cmd="$1"
[ -n "$2" ] || usage
case "$2" in /*) dir="$2" ;; *) dir="$PWD/$2" ;; esac
dir="${dir%/}"
[ -n "$dir" ] || die "refusing to use / as the cluster directory"
data="$dir/data"
sock="$dir/socket"
tls="$dir/tls"
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
  owned() { chown postgres: "$@"; }
else
  as_owner() { (cd / && "$@"); }
  owned() { :; }
fi

pg_ctl="$(bin pg_ctl)"
running() { [ -f "$data/PG_VERSION" ] && as_owner "$pg_ctl" -D "$data" status >/dev/null 2>&1; }

# postgresql.conf takes single-quoted strings with '' for a quote.
quote() { local s="${1//\'/\'\'}"; printf "'%s'" "$s"; }

# The TLS material, made once (again if a file is missing). Keys are created private (umask 077);
# the server's key then belongs to the cluster's user, mode 0600, as PostgreSQL requires.
tls_files=(ca.crt ca.key server.crt server.key other-ca.crt other-ca.key)
make_tls() {
  local f missing=0
  for f in "${tls_files[@]}"; do [ -s "$tls/$f" ] || missing=1; done
  [ "$missing" -eq 1 ] || return 0
  command -v openssl >/dev/null || die "openssl not found (needed for the test certificates)"
  rm -rf "$tls"
  mkdir -p "$tls"
  chmod 755 "$tls"
  cat >"$tls/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  # (One && chain: `set -e` does nothing inside a condition.)
  if ! (
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    cd "$tls" && umask 077 \
      && openssl req -x509 -config openssl.cnf -extensions ca_ext "${ec[@]}" -days 3650 \
        -subj "/CN=Hearth test PostgreSQL CA" -keyout ca.key -out ca.crt \
      && openssl req -x509 -config openssl.cnf -extensions ca_ext "${ec[@]}" -days 3650 \
        -subj "/CN=Hearth test unrelated CA" -keyout other-ca.key -out other-ca.crt \
      && openssl req -new -config openssl.cnf "${ec[@]}" -subj "/CN=localhost" -keyout server.key -out server.csr \
      && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -CAserial ca.srl -days 825 \
        -extfile openssl.cnf -extensions server_ext -out server.crt \
      && openssl verify -CAfile ca.crt server.crt
  ) >"$dir/openssl.log" 2>&1; then
    cat "$dir/openssl.log" >&2
    die "openssl could not make the test certificates"
  fi
  rm -f "$tls/server.csr" "$tls/ca.srl" "$tls/openssl.cnf" "$dir/openssl.log"
  chmod 644 "$tls/ca.crt" "$tls/other-ca.crt" "$tls/server.crt"
  chmod 600 "$tls/ca.key" "$tls/other-ca.key" "$tls/server.key"
  owned "$tls/server.crt" "$tls/server.key"
}

# The settings this script owns, in DIR/data/hearth-test.conf, included last from postgresql.conf
# (so they also override the block that older versions of this script appended there). Rewritten
# at every start; pg_hba.conf likewise.
configure() {
  local port="$1"
  {
    echo "# Written by Tests/postgres-cluster.sh at every start; edits are lost."
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = $(quote "$sock")"
    echo "unix_socket_permissions = 0777"
    echo "max_connections = 300"
    echo "ssl = on"
    echo "ssl_cert_file = $(quote "$tls/server.crt")"
    echo "ssl_key_file = $(quote "$tls/server.key")"
    echo "ssl_min_protocol_version = 'TLSv1.2'"
    if [ -n "${PGCONF_TEST:-}" ]; then
      echo "# From PGCONF_TEST"
      printf '%s\n' "$PGCONF_TEST"
    fi
  } >"$data/hearth-test.conf"
  chmod 600 "$data/hearth-test.conf"
  owned "$data/hearth-test.conf"
  grep -qxF "include 'hearth-test.conf'" "$data/postgresql.conf" \
    || printf "\n# Added by Tests/postgres-cluster.sh\ninclude 'hearth-test.conf'\n" >>"$data/postgresql.conf"
  cat >"$data/pg_hba.conf" <<'EOF'
# Written by Tests/postgres-cluster.sh at every start; edits are lost.
# TYPE    DATABASE USER ADDRESS       METHOD
# The role hearth_scram_test must give its password (the password-credential test).
local     all      hearth_scram_test  scram-sha-256
hostssl   all      hearth_scram_test  127.0.0.1/32  scram-sha-256
local     all      all                trust
hostssl   all      all  127.0.0.1/32  trust
hostssl   all      all  ::1/128       trust
hostnossl all      all  0.0.0.0/0     reject
hostnossl all      all  ::/0          reject
EOF
}

# Whether something already listens on 127.0.0.1:PORT.
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

write_env() {
  local port listen
  port="$(sed -n 4p "$data/postmaster.pid")"
  listen="$(sed -n 6p "$data/postmaster.pid")"
  [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $data/postmaster.pid"
  {
    printf 'export HEARTH_TEST_POSTGRES=%q\n' "$sock"
    printf 'export HEARTH_TEST_POSTGRES_PORT=%q\n' "$port"
    if [ "$listen" = 127.0.0.1 ] && [ -s "$tls/ca.crt" ] && [ -s "$tls/other-ca.crt" ]; then
      printf 'export HEARTH_TEST_POSTGRES_CA=%q\n' "$tls/ca.crt"
      printf 'export HEARTH_TEST_POSTGRES_OTHER_CA=%q\n' "$tls/other-ca.crt"
    else
      warn "the server in $dir runs without the TLS listener (started by an older version of this" \
        "script?): HEARTH_TEST_POSTGRES_CA is not set; \`stop\` and \`start\` it again to get it"
    fi
  } >"$dir/env.tmp"
  chmod 644 "$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  echo "$dir/env"
}

# Proves the TCP listener: TLS with full verification against DIR/tls/ca.crt, as a client would.
check_tls() {
  local port="$1" psql out
  psql="$(bin psql)"
  if ! out="$(PGCONNECT_TIMEOUT=5 "$psql" -X -At -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' \
      "host=localhost port=$port user=postgres dbname=postgres sslmode=verify-full sslrootcert=$tls/ca.crt" 2>&1)" \
      || [ "$out" != t ]; then
    die "the server started, but TLS on localhost:$port does not work: $out"
  fi
}

start() {
  local port explicit=0
  if [ -n "${PGPORT_TEST:-}" ]; then
    port="$PGPORT_TEST"
    explicit=1
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad PGPORT_TEST: $port"
  else
    port=55432
  fi
  # Unix socket paths are limited to 107 bytes.
  [ "${#sock}" -le 90 ] || die "$dir is too long for a Unix socket path; use a shorter directory"

  if running; then
    echo "postgres-cluster: already running in $dir" >&2
    write_env
    return
  fi

  [ "$explicit" -eq 0 ] || ! port_busy "$port" || die "port $port (PGPORT_TEST) is already in use on 127.0.0.1"

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
  fi
  make_tls

  # Without PGPORT_TEST, a port taken meanwhile (the check above races with other starts) moves
  # the cluster to the next one.
  local attempt offset out
  for attempt in $(seq 1 50); do
    if port_busy "$port"; then
      [ "$explicit" -eq 0 ] || die "port $port (PGPORT_TEST) is already in use on 127.0.0.1"
      port=$((port + 1))
      continue
    fi
    configure "$port"
    touch "$dir/postgres.log"
    owned "$dir/postgres.log"
    offset=$(($(stat -c %s "$dir/postgres.log") + 1))
    if out="$(as_owner "$pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start 2>&1)"; then
      check_tls "$port"
      write_env
      return
    fi
    if [ "$explicit" -eq 0 ] && ! running \
        && tail -c +"$offset" "$dir/postgres.log" | grep -qE 'could not (bind|create any TCP/IP sockets)|could not create lock file'; then
      port=$((port + 1))
      continue
    fi
    echo "$out" >&2
    tail -n 20 "$dir/postgres.log" >&2 2>/dev/null || true
    die "the server did not start (log: $dir/postgres.log)"
  done
  die "no free port found from ${PGPORT_TEST:-55432} up"
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

crash() {
  [ -f "$marker" ] || die "$dir was not made by this script"
  running || die "no server running in $dir"
  as_owner "$pg_ctl" -D "$data" -m immediate -w stop >/dev/null || die "could not stop the server in $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  *) usage ;;
esac
