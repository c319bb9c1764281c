#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, builds, starts an isolated
# MariaDB with the binlog settings and a Kafka broker (unless MY2PG_TEST_MYSQL_URL /
# MY2PG_TEST_KAFKA_BROKERS point at existing ones), uses the local PostgreSQL
# (MY2PG_TEST_PG_URL), runs unit, integration and end-to-end tests, and stops what it started.
# Pass test file paths (compiled, under dist/test) to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
npm run build --silent

work=$(mktemp -d /tmp/my2pg-test-XXXXXX)
cleanup() {
  [ -f "$work/kafka/broker.env" ] && bash scripts/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
  [ -f "$work/mariadb/mariadb.env" ] && bash scripts/mariadb.sh stop --dir "$work/mariadb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${MY2PG_TEST_MYSQL_URL:-}" ]; then
  MY2PG_TEST_MYSQL_URL=$(bash scripts/mariadb.sh start --dir "$work/mariadb")
  export MY2PG_TEST_MYSQL_URL
fi
if [ -z "${MY2PG_TEST_KAFKA_BROKERS:-}" ]; then
  MY2PG_TEST_KAFKA_BROKERS=$(bash scripts/kafka.sh start --dir "$work/kafka")
  export MY2PG_TEST_KAFKA_BROKERS
fi
if [ -z "${MY2PG_TEST_PG_URL:-}" ]; then
  MY2PG_TEST_PG_URL=$(bash scripts/pg-url.sh)
  export MY2PG_TEST_PG_URL
fi
export MY2PG_TEST_REDIS_URL=${MY2PG_TEST_REDIS_URL:-redis://127.0.0.1:6379}
echo "test servers: mysql=$MY2PG_TEST_MYSQL_URL kafka=$MY2PG_TEST_KAFKA_BROKERS pg=$MY2PG_TEST_PG_URL" >&2

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find dist/test/unit dist/test/integration dist/test/e2e -name '*.test.js' 2>/dev/null | sort)
fi
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
