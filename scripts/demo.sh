#!/usr/bin/env bash
# `npm run demo`: a sync from MySQL to Postgres on the embedded default (no Kafka).
# With MY2PG_SOURCE and MY2PG_TARGET set it just runs `my2pg run` against them. Without, it
# starts a throwaway MariaDB with the binlog settings, uses the local PostgreSQL (database
# my2pg_demo), writes a small shop workload, and shows the replica catching up.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
npm run build --silent

if [ -n "${MY2PG_SOURCE:-}" ] && [ -n "${MY2PG_TARGET:-}" ]; then
  exec node bin/my2pg.js run "$@"
fi

work=$(mktemp -d /tmp/my2pg-demo-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  bash scripts/mariadb.sh stop --dir "$work/mariadb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

source_url=$(bash scripts/mariadb.sh start --dir "$work/mariadb")
pg_admin=$(bash scripts/pg-url.sh)
psql -q "$pg_admin" -c 'DROP DATABASE IF EXISTS my2pg_demo WITH (FORCE)' -c 'CREATE DATABASE my2pg_demo'
target_url="${pg_admin%/*}/my2pg_demo"
sql() { mariadb --default-character-set=utf8mb4 --protocol=tcp -h 127.0.0.1 -P "${source_url##*:}" -u root "$@"; }

echo "== source  $source_url"
echo "== replica $target_url"
node bin/my2pg.js run --source "$source_url" --target "$target_url" --include shop --log-level warn "$@" &
pid=$!
sleep 2

echo "== writing to MySQL: CREATE DATABASE shop; tables customers and orders; inserts, updates, deletes"
sql -e "CREATE DATABASE shop CHARACTER SET utf8mb4;
  CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(50), balance DECIMAL(12,2), since DATETIME(6));
  CREATE TABLE shop.orders (id BIGINT UNSIGNED PRIMARY KEY, customer INT, total DECIMAL(10,2), placed TIMESTAMP(3) NULL, tags SET('gift','rush'));"
for i in $(seq 1 20); do
  sql -e "BEGIN;
    INSERT INTO shop.customers VALUES ($i, 'customer $i 😀', $i * 10.5, NOW(6));
    INSERT INTO shop.orders VALUES (18446744073709551615 - $i, $i, $i * 3.25, NOW(3), 'gift,rush');
    COMMIT;
    UPDATE shop.customers SET balance = balance + 1 WHERE id = $(( (i + 1) / 2 ));"
done
sql -e "DELETE FROM shop.orders WHERE customer <= 5; UPDATE shop.customers SET id = id + 100 WHERE id = 1;"

src_count() { sql -N -e "SELECT (SELECT COUNT(*) FROM shop.customers) + (SELECT COUNT(*) FROM shop.orders)"; }
dst_count() { psql -qAt "$target_url" -c "SELECT (SELECT count(*) FROM shop.customers) + (SELECT count(*) FROM shop.orders)" 2>/dev/null || echo 0; }
want=$(src_count)
for _ in $(seq 1 60); do
  got=$(dst_count)
  echo "   replica rows: $got of $want"
  [ "$got" = "$want" ] && break
  sleep 1
done
echo "== replica (Postgres):"
psql "$target_url" -c "SELECT id, name, balance, since FROM shop.customers ORDER BY id LIMIT 5" \
                   -c "SELECT id, customer, total, placed, tags FROM shop.orders ORDER BY id DESC LIMIT 5"
[ "$(dst_count)" = "$want" ] && echo "== in sync" || { echo "== NOT in sync"; exit 1; }
