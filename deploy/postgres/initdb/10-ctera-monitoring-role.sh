#!/usr/bin/env bash
# Creates the role ctera-app connects as: it may log in, read catalogs and statistics (pg_monitor), and
# write nothing. The official postgres image runs this once, as the superuser, when it initialises an
# empty data volume; it reads the role's password from the app's secret.
#
# A read-only default alone does not stop a session that asks for BEGIN READ WRITE, and PostgreSQL lets
# every role (PUBLIC) create temporary tables and large objects in every database. So this script takes
# those rights, and CREATE on the schema public, from PUBLIC in every database that accepts connections
# now. Owners and superusers keep them; grant them back to any other role that needs them. A database
# created later gets TEMP for PUBLIC again (PostgreSQL's default): run this script again after creating one.
#
# Also usable by hand against an existing server (it changes what every role may do, as said above):
#   PGHOST=db PGUSER=postgres POSTGRES_DB=ctera APP_PASSWORD_FILE=db_password.txt \
#     bash deploy/postgres/initdb/10-ctera-monitoring-role.sh

# The image runs this file when it is executable and sources it otherwise: the subshell keeps the
# options and variables below out of the image's entrypoint either way.
(
  set -euo pipefail

  role=${APP_DB_USER:-ctera}
  database=${POSTGRES_DB:-postgres}
  password_file=${APP_PASSWORD_FILE:-/run/secrets/db_password}
  # The image's entrypoint names its superuser in POSTGRES_USER and leaves PGUSER unset.
  export PGUSER=${PGUSER:-${POSTGRES_USER:-postgres}}

  fail() {
    echo "10-ctera-monitoring-role: $*" >&2
    exit 1
  }

  # Read the password as the app reads DB_PASSWORD_FILE: at most 4096 bytes, one final newline dropped.
  if [ ! -f "$password_file" ] || [ ! -r "$password_file" ]; then fail "cannot read $password_file"; fi
  [ "$(wc -c <"$password_file")" -le 4096 ] || fail "$password_file is larger than 4096 bytes"
  password=$(
    cat "$password_file"
    printf x
  )
  password=${password%x}
  case $password in
    *$'\r\n') password=${password%$'\r\n'} ;;
    *$'\n') password=${password%$'\n'} ;;
  esac
  [ -n "$password" ] || fail "$password_file is empty"
  case $password in *$'\n'*) fail "$password_file holds more than one line" ;; esac

  # The password reaches psql on standard input: \prompt reads the line after it (psql -f -), so it never
  # appears on a command line (/proc/PID/cmdline). printf is a shell builtin, not a process.
  {
    printf '%s\n' '\prompt password' "$password"
    cat <<'SQL'
-- Keep the password out of the server's log and statistics, whatever they are set to record.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET pg_stat_statements.track_utility = off;
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'password' CONNECTION LIMIT 50;
-- Every session of this role is read-only unless it asks otherwise; the revocations below stop what
-- a session that asks could still write.
ALTER ROLE :"role" SET default_transaction_read_only = on;
-- The service's queries never spill to disk (every sort has a LIMIT); this bounds one that tries.
-- Only a superuser may change it, so the role cannot raise it.
ALTER ROLE :"role" SET temp_file_limit = '32MB';
GRANT CONNECT ON DATABASE :"database" TO :"role";
-- Statistics of every session (connections by state) without being a superuser.
GRANT pg_monitor TO :"role";
SQL
  } | psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --dbname "$database" \
    -v role="$role" -v database="$database" -f -

  # Each database has its own privileges, schemas and functions: revoke in each. A new database copies
  # template1's schemas and functions, not its database privileges.
  mapfile -d '' -t databases < <(psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$database" --tuples-only \
    --no-align --record-separator-zero -c 'SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname')
  wait $! || fail "cannot list the databases"
  for each in "${databases[@]}"; do
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --dbname "$each" <<'SQL'
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()) \gexec
-- Before PostgreSQL 15 every role could create tables in public.
SELECT 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'
WHERE EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public') \gexec
-- Creating a large object writes to pg_largeobject; writing one needs its owner's rights after that.
REVOKE EXECUTE ON FUNCTION lo_creat(integer), lo_create(oid), lo_from_bytea(oid, bytea) FROM PUBLIC;
SQL
  done

  echo "10-ctera-monitoring-role: role $role ready (read-only, pg_monitor) in $database;" \
    "PUBLIC may no longer create temporary tables, large objects or tables in public in: ${databases[*]}"
)
