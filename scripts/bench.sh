#!/usr/bin/env bash
# `npm run bench [-- scenario…]`: builds, starts the servers like the tests do, and runs the
# benchmark scenarios (bench/), writing JSON results under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh --bench
npm run build --silent
exec bash scripts/with-servers.sh node dist/bench/run.js "$@"
