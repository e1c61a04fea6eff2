#!/usr/bin/env bash
# PostgreSQL 16 + pgvector from the PyPI wheel `pgserver`, for tests and local
# development: `postgres.sh start` prints `export DATABASE_URL=...` lines,
# `postgres.sh stop` stops it. PostgreSQL refuses to run as root, so the
# server runs as the `postgres` user (created if missing) on 127.0.0.1 with a
# socket dir of its own under the cache.
set -euo pipefail

cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
venv="$cache/venv"
root="$cache/postgres"
data="$root/data"
sock="$root/sock"
port="${PERSONALIZATION_PG_PORT:-54329}"

pgbin() {
  if ! "$venv/bin/python" -c 'import pgserver' 2>/dev/null; then
    "$venv/bin/pip" install --quiet pgserver >&2
  fi
  "$venv/bin/python" -c 'import os, pgserver; print(os.path.join(os.path.dirname(pgserver.__file__), "pginstall", "bin"))' 2>/dev/null
}

as_postgres() { runuser -u postgres -- "$@"; }

start() {
  local bin; bin="$(pgbin)"
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$root" --shell /usr/sbin/nologin postgres
  mkdir -p "$root" "$sock"
  # The binaries live under root's home: make the path traversable for postgres.
  chmod o+x "$HOME" "$HOME/.cache" "$cache" 2>/dev/null || true
  chown postgres "$root" "$sock"
  if [ ! -s "$data/PG_VERSION" ]; then
    install -d -o postgres "$data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w \
      -o "-h 127.0.0.1 -p $port -k $sock -c fsync=off -c full_page_writes=off" start >/dev/null
  fi
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'personalization'" | grep -q 1 ||
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres personalization
  echo "export PERSONALIZATION_PG_BIN=$bin"
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/personalization"
}

stop() {
  local bin; bin="$(pgbin)"
  [ -d "$data" ] && as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
