#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, builds, and runs two passes, each
# with its own test servers (scripts/with-servers.sh):
#   1. MariaDB 10.11 as the source: unit, integration and end-to-end tests;
#   2. MySQL 9.7 as the source (scripts/mysql.sh, installed once into ~/.cache/my2pg):
#      integration and end-to-end tests again, except those that start MariaDB servers of their
#      own (they do not use the suite's source).
# Ends with one line `N passed, N failed` over both passes; exits non-zero when any test failed.
#
# With test file paths (compiled, under dist/test), or with MY2PG_TEST_MYSQL_URL naming a
# server of your own, it runs one pass only, on MY2PG_TEST_SOURCE (default mariadb).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
npm run build --silent

run_pass() { # source, files...
  local source=$1
  shift
  MY2PG_TEST_SOURCE=$source bash scripts/with-servers.sh node --test --test-concurrency=1 --test-reporter=spec "$@"
}

if [ $# -gt 0 ] || [ -n "${MY2PG_TEST_MYSQL_URL:-}" ]; then
  if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find dist/test/unit dist/test/integration dist/test/e2e -name '*.test.js' | sort); fi
  exec env MY2PG_TEST_SOURCE="${MY2PG_TEST_SOURCE:-mariadb}" bash scripts/with-servers.sh node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
fi

# Tests that start their own MariaDB servers: the MariaDB pass covers them.
own_servers='/(faults|table-id-reuse)\.test\.js$'
mapfile -t mariadb_files < <(find dist/test/unit dist/test/integration dist/test/e2e -name '*.test.js' | sort)
mapfile -t mysql_files < <(find dist/test/integration dist/test/e2e -name '*.test.js' | sort | grep -Ev "$own_servers")

logs=$(mktemp -d /tmp/my2pg-test-XXXXXX)
trap 'rm -rf "$logs"' EXIT
status=0
echo "== pass 1 of 2: MariaDB 10.11 as the source (${#mariadb_files[@]} files)"
run_pass mariadb "${mariadb_files[@]}" 2>&1 | tee "$logs/mariadb.log" || status=1
echo "== pass 2 of 2: MySQL 9.7 as the source (${#mysql_files[@]} files)"
run_pass mysql "${mysql_files[@]}" 2>&1 | tee "$logs/mysql.log" || status=1

# node's spec reporter ends each run with "ℹ pass N" and "ℹ fail N".
count() { grep -E "^ℹ $1 [0-9]+$" "$2" | tail -1 | awk '{print $3}'; }
passed=0
failed=0
for source in mariadb mysql; do
  p=$(count pass "$logs/$source.log")
  f=$(count fail "$logs/$source.log")
  [ -n "$p" ] && [ -n "$f" ] || { echo "$source pass: no summary from the test runner"; status=1; continue; }
  echo "$source: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
