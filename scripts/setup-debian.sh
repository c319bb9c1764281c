#!/usr/bin/env bash
# Installs and starts what my2pg's tests and demo need on Debian/Ubuntu, when missing:
# Node.js 20+, Java 17+ and Maven (for the Kafka broker's jars), MariaDB server binaries,
# PostgreSQL and Redis (running), and the npm dependencies; `--bench` adds pgloader (the
# bootstrap benchmark's reference). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else log "need root for: $*"; return 1; fi; }

missing=()
have node || missing+=(nodejs npm)
have java || missing+=(openjdk-17-jre-headless)
have mvn || missing+=(maven)
{ have mariadbd || [ -x /usr/sbin/mariadbd ]; } || missing+=(mariadb-server)
have mariadb-install-db || missing+=(mariadb-server)
{ have pg_ctlcluster && ls /etc/postgresql/*/main >/dev/null 2>&1; } || missing+=(postgresql)
have redis-server || missing+=(redis-server)
{ [ "${1:-}" != --bench ] || have pgloader; } || missing+=(pgloader)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  log "Node.js $node_major found; my2pg needs Node.js 20 or newer"
  exit 1
fi

# The local PostgreSQL must accept connections on 127.0.0.1:5432 (unless the tests get a URL).
if [ -z "${MY2PG_TEST_PG_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  for v in $(ls /etc/postgresql); do as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start || true; done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# Redis for the bootstrap job queue (unless the tests get a URL).
if [ -z "${MY2PG_TEST_REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  # `npm install` with the lock file: npm 11 `ci` rejects locks missing foreign-platform optional
  # packages (msgpackr-extract, under bullmq), which npm itself writes that way.
  npm install --no-audit --no-fund --loglevel=error
fi
