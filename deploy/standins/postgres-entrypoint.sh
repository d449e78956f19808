#!/bin/bash
# First start: initdb with POSTGRES_USER and POSTGRES_PASSWORD (scram-sha-256 over TCP), then
# create POSTGRES_DB. Every start: run the command as the postgres user (setpriv execs it, so
# it is PID 1 and gets `docker stop`'s SIGTERM).
set -euo pipefail
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "postgres: POSTGRES_PASSWORD is not set" >&2; exit 1; }
  pwfile=$(mktemp); printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"; chown postgres "$pwfile"
  as_postgres initdb -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -s start
    PGPASSWORD=$POSTGRES_PASSWORD as_postgres createdb -h /var/run/postgresql -U "$POSTGRES_USER" "$POSTGRES_DB"
    as_postgres pg_ctl -D "$PGDATA" -m fast -w -s stop
  fi
fi
if [ "${1:-}" = postgres ]; then exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; fi
exec "$@"
