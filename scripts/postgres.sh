#!/usr/bin/env bash
# Starts a private PostgreSQL server on 127.0.0.1 for ward's tests, installing
# Debian's package first when it is missing. Prints the connection URL on
# stdout. Idempotent: a server already running from an earlier call is reused.
#   url=$(scripts/postgres.sh)          start (or reuse)
#   scripts/postgres.sh stop            stop it
set -euo pipefail
port="${WARD_PG_PORT:-54329}"
base="${WARD_PG_DIR:-${TMPDIR:-/tmp}/ward-postgres-$(id -u)}"
user=ward

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL (Debian package)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; }
  else
    echo "PostgreSQL is not installed; run: sudo apt-get install postgresql" >&2
    exit 1
  fi
  bin=$(find_bin)
fi

# initdb refuses to run as root: the cluster belongs to the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
  as_owner "$bin/pg_ctl" -D "$base/data" -m fast stop >&2 || true
  exit 0
fi

if ! as_owner "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
  if [ ! -f "$base/data/PG_VERSION" ]; then
    rm -rf "$base"
    mkdir -p "$base"
    [ "$(id -u)" = 0 ] && chown postgres "$base"
    as_owner "$bin/initdb" -D "$base/data" -U "$user" -A trust --no-sync >&2
  fi
  as_owner "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w \
    -o "-p $port -h 127.0.0.1 -k $base -c fsync=on -c max_connections=200" start >&2
fi
echo "postgres://$user@127.0.0.1:$port/postgres"
