#!/bin/sh
# PostgreSQL 15 (Debian's) for compose: creates the cluster in the data volume on first
# start (superuser POSTGRES_USER with POSTGRES_PASSWORD, database POSTGRES_DB, password
# auth over TCP), then runs the server in the foreground as pid 1's child.
set -eu
bin=/usr/lib/postgresql/15/bin
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=sonocode}" "${POSTGRES_DB:=sonocode}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    # The identifier is quoted; a name with a double quote is refused rather than escaped.
    case "$POSTGRES_DB" in *'"'*) echo "POSTGRES_DB must not contain a double quote" >&2; exit 1 ;; esac
    echo "CREATE DATABASE \"$POSTGRES_DB\"" | "$bin/postgres" --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
