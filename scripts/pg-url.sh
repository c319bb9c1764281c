#!/usr/bin/env bash
# Prints a superuser URL for the local PostgreSQL on 127.0.0.1:5432. Uses the postgres role
# when it may log in without a password (trust), else creates a `my2pg` role (as root).
set -euo pipefail
if psql -qAt "postgres://postgres@127.0.0.1:5432/postgres" -c 'select 1' >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:5432/postgres"
  exit 0
fi
url="postgres://my2pg:my2pg@127.0.0.1:5432/postgres"
if ! psql -qAt "$url" -c 'select 1' >/dev/null 2>&1; then
  runuser -u postgres -- psql -q -c "DO \$\$ BEGIN CREATE ROLE my2pg LOGIN SUPERUSER PASSWORD 'my2pg'; EXCEPTION WHEN duplicate_object THEN ALTER ROLE my2pg LOGIN SUPERUSER PASSWORD 'my2pg'; END \$\$" >&2
fi
echo "$url"
