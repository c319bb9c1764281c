#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, builds, starts the test servers
# (scripts/with-servers.sh), runs unit, integration and end-to-end tests, and stops the servers.
# Pass test file paths (compiled, under dist/test) to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
npm run build --silent

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find dist/test/unit dist/test/integration dist/test/e2e -name '*.test.js' 2>/dev/null | sort)
fi
exec bash scripts/with-servers.sh node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
