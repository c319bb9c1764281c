#!/usr/bin/env bash
# Runs a command with the test servers: an isolated MariaDB with the binlog settings and a Kafka
# broker (unless MY2PG_TEST_MYSQL_URL / MY2PG_TEST_KAFKA_BROKERS name existing ones) and the
# local PostgreSQL (MY2PG_TEST_PG_URL), exported as those variables; stops what it started.
# MY2PG_TEST_SOURCE=mysql starts MySQL 9.7 (scripts/mysql.sh) as the source instead of MariaDB
# (MY2PG_TEST_SOURCE=mariadb, the default). Used by scripts/test.sh and scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source=${MY2PG_TEST_SOURCE:-mariadb}
case $source in
  mariadb|mysql) ;;
  *) echo "with-servers.sh: MY2PG_TEST_SOURCE must be mariadb or mysql, not '$source'" >&2; exit 2 ;;
esac
export MY2PG_TEST_SOURCE=$source

work=$(mktemp -d /tmp/my2pg-servers-XXXXXX)
cleanup() {
  [ -f "$work/kafka/broker.env" ] && bash scripts/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
  [ -f "$work/mariadb/mariadb.env" ] && bash scripts/mariadb.sh stop --dir "$work/mariadb" >/dev/null 2>&1 || true
  [ -f "$work/mysql/mysql.env" ] && bash scripts/mysql.sh stop --dir "$work/mysql" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${MY2PG_TEST_MYSQL_URL:-}" ]; then
  MY2PG_TEST_MYSQL_URL=$(bash "scripts/$source.sh" start --dir "$work/$source")
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
echo "servers: mysql=$MY2PG_TEST_MYSQL_URL kafka=$MY2PG_TEST_KAFKA_BROKERS pg=$MY2PG_TEST_PG_URL" >&2

"$@"
