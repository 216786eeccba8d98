#!/usr/bin/env bash
# Creates the role ctera-app connects as: it may log in, read catalogs and statistics (pg_monitor), and
# nothing else. The official postgres image runs this once, when it initialises an empty data volume,
# as the superuser; it reads the role's password from the app's secret.
#
# Also usable by hand against an existing server:
#   PGHOST=db PGUSER=postgres POSTGRES_DB=ctera APP_PASSWORD_FILE=db_password.txt \
#     bash deploy/postgres/initdb/10-ctera-monitoring-role.sh
set -euo pipefail

role=${APP_DB_USER:-ctera}
database=${POSTGRES_DB:-postgres}
password_file=${APP_PASSWORD_FILE:-/run/secrets/db_password}
[ -r "$password_file" ] || { echo "10-ctera-monitoring-role: cannot read $password_file" >&2; exit 1; }
password=$(sed -e '$ s/\r\?$//' "$password_file" | head -c 4096)

# The password travels as a psql variable (:'password' quotes it), never on a command line.
psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$database" \
  -v role="$role" -v database="$database" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'password' CONNECTION LIMIT 50;
-- Every session of this role is read-only, whatever a query asks.
ALTER ROLE :"role" SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE :"database" TO :"role";
-- Statistics of every session (connections by state) without being a superuser.
GRANT pg_monitor TO :"role";
-- Before PostgreSQL 15 every role could create tables in public; this one must not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
echo "10-ctera-monitoring-role: role $role ready (read-only, pg_monitor) in $database"
