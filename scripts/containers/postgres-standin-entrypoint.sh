#!/usr/bin/env bash
# Entrypoint of the postgres stand-in (postgres-standin.Dockerfile): the part of the official image's
# docker-entrypoint.sh that docker-compose.yaml relies on.
#  - POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS, each also as NAME_FILE;
#  - on an empty data directory: initdb, then every *.sh and *.sql in /docker-entrypoint-initdb.d, run
#    against a server listening only on its Unix socket, with PGUSER set to the superuser;
#  - the server runs as the postgres user and replaces this script, so it gets the stop signal.
set -Eeuo pipefail
shopt -s nullglob

# NAME_FILE=/path sets NAME to that file's content, as the official image's file_env does.
file_env() {
  local name=$1 file_name="$1_FILE" value=${2:-}
  if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
    echo "error: both $name and $file_name are set (they are exclusive)" >&2
    exit 1
  fi
  if [ -n "${!name:-}" ]; then value=${!name}; elif [ -n "${!file_name:-}" ]; then value=$(<"${!file_name}"); fi
  export "$name"="$value"
  unset "$file_name"
}

# --help, --version and the like go straight to postgres, as in the official image.
wants_help() {
  local arg
  for arg; do case "$arg" in -'?' | --help | --describe-config | -V | --version) return 0 ;; esac; done
  return 1
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && ! wants_help "$@"; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS

  if [ "$(id -u)" = 0 ]; then
    # A fresh named volume belongs to root: hand it to postgres, then run this script again as postgres.
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
  fi

  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ]; then
      echo "error: the database is uninitialized and POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is not set" >&2
      exit 1
    fi
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

    export PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
    if [ "$POSTGRES_DB" != postgres ]; then
      psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for file in /docker-entrypoint-initdb.d/*; do
      case "$file" in
        *.sh)
          if [ -x "$file" ]; then
            echo "$0: running $file"
            "$file"
          else
            echo "$0: sourcing $file"
            # shellcheck disable=SC1090
            . "$file"
          fi
          ;;
        *.sql)
          echo "$0: running $file"
          psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$POSTGRES_DB" -f "$file"
          ;;
        *) echo "$0: ignoring $file" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    echo "PostgreSQL init process complete; ready for start up."
  fi
fi

exec "$@"
