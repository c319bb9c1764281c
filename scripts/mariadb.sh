#!/usr/bin/env bash
# Throwaway MariaDB instance with a row-based binlog, for my2pg's tests and experiments.
#
#   scripts/mariadb.sh start [--port N] [--dir DIR] [-- extra mariadbd options...]
#       Initialises DIR/data (default: a fresh /tmp/my2pg-mariadb-XXXXXX) with mariadb-install-db
#       unless it already holds a data directory, starts mariadbd in the background listening
#       on 127.0.0.1:N (a free port when not given) and on the socket DIR/mysqld.sock, and waits
#       until it accepts connections. Prints exactly one line on stdout:
#           mysql://root@127.0.0.1:N
#       (user root, empty password, over TCP) and writes DIR/mariadb.env with MARIADB_PID,
#       MARIADB_URL, MARIADB_PORT, MARIADB_SOCKET and MARIADB_DIR. Options after `--` go to
#       mariadbd last, so they override the defaults below (e.g. `-- --binlog-format=MIXED`).
#       The server log is DIR/mariadbd.err. Progress goes to stderr.
#   scripts/mariadb.sh stop [--dir DIR]
#       Shuts the instance down (SIGTERM, i.e. a clean shutdown; SIGKILL after
#       MARIADB_STOP_TIMEOUT seconds, default 30) and removes DIR. DIR defaults to $MARIADB_DIR.
#
# The binlog files are DIR/data/mariadb-bin.NNNNNN, with binlog_format=ROW,
# binlog_row_image=FULL, binlog_row_metadata=FULL, GTIDs in strict mode, server_id=1 and
# character_set_server=utf8mb4. Durability is relaxed for speed: never use this for real data.
# Needs mariadbd and mariadb-install-db (Debian: mariadb-server); the system's option files
# (/etc/mysql) are ignored, and nothing else on the machine is touched.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh disable=SC1091 # (plain shellcheck does not follow it; -x does)
. "$here/lib/servers.sh"
# This script, the server's name in messages, DIR's marker, env-var prefix, default stop timeout.
servers_init "$here/mariadb.sh" mariadbd .my2pg-mariadb MARIADB 30

find_bin() {
  local name=$1 d
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for d in /usr/sbin /usr/local/sbin /usr/bin /usr/local/bin /usr/local/mysql/bin; do
    if [ -x "$d/$name" ]; then echo "$d/$name"; return; fi
  done
  return 1
}

# Is $1 a live mariadbd/mysqld process serving datadir $2?
is_our_server() { runs_with "$1" "--datadir=$2 "; }

# For cmd_stop: sets the caller's pid to the pid of the server running in DIR $1, or to "".
server_pid() {
  pid=""
  [ -f "$1/mariadbd.pid" ] && pid=$(cat "$1/mariadbd.pid")
  if [ -z "$pid" ] && [ -f "$1/mariadb.env" ]; then
    pid=$(sed -n 's/^MARIADB_PID=//p' "$1/mariadb.env")
  fi
  is_our_server "$pid" "$1/data" || pid=""
}

cmd_start() {
  local port="" dir="" server_opts=()
  parse_start_args --extra -- "$@"

  local mariadbd install_db admin
  admin=$(find_bin mariadb-admin || find_bin mysqladmin) || die "mariadb-admin not found"
  mariadbd=$(find_bin mariadbd || find_bin mysqld) || die "mariadbd not found (apt-get install mariadb-server)"
  install_db=$(find_bin mariadb-install-db || find_bin mysql_install_db) || die "mariadb-install-db not found"

  local made_dir=""
  [ -n "$dir" ] || made_dir=1
  make_server_dir
  if [ -n "$made_dir" ]; then
    # A failed start removes the directory it made (its log tail has gone to stderr by then).
    trap '[ $? = 0 ] || { rm -rf -- "'"$dir"'"; log "removed '"$dir"'"; }' EXIT
  fi
  local datadir="$dir/data" sock="$dir/mysqld.sock" pidfile="$dir/mariadbd.pid" errlog="$dir/mariadbd.err"
  [ ${#sock} -lt 100 ] || die "socket path too long for a unix socket (${#sock} chars): $sock"
  mark_dir "$dir"

  if [ -f "$pidfile" ] && is_our_server "$(cat "$pidfile")" "$datadir"; then
    die "an instance already runs in $dir (pid $(cat "$pidfile")); stop it first"
  fi

  local user_opt=()
  [ "$(id -u)" = 0 ] && user_opt=(--user=root)

  # Options shared by the bootstrap and the server, so InnoDB files are created as they will be used.
  local common=(
    --no-defaults
    "--datadir=$datadir"
    "${user_opt[@]}"
    --innodb-buffer-pool-size=128M
    --innodb-log-file-size=32M
    --character-set-server=utf8mb4
    --collation-server=utf8mb4_general_ci
  )

  local t0; t0=$(date +%s%N)
  if [ ! -d "$datadir/mysql" ]; then
    log "initialising $datadir"
    rm -rf "$datadir"
    if ! "$install_db" "${common[@]}" --auth-root-authentication-method=normal --skip-test-db \
        --skip-name-resolve >"$dir/install-db.log" 2>&1; then
      tail -n 30 "$dir/install-db.log" >&2 || true
      die "mariadb-install-db failed (log: $dir/install-db.log)"
    fi
  else
    log "reusing the data directory $datadir"
  fi

  local pid=""
  for _ in 1 2 3; do
    local p=$port
    # shellcheck disable=SC2119 # free_port's argument is optional
    [ -n "$p" ] || p=$(free_port)
    : >"$errlog"
    rm -f "$pidfile"
    log "starting mariadbd on 127.0.0.1:$p"
    # setsid + redirected stdio: the server outlives this script and never holds the caller's
    # stdout/stderr pipes open.
    setsid "$mariadbd" "${common[@]}" \
      "--port=$p" --bind-address=127.0.0.1 "--socket=$sock" "--pid-file=$pidfile" \
      "--log-error=$errlog" --skip-name-resolve \
      --server-id=1 --log-bin=mariadb-bin \
      --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
      --gtid-strict-mode=ON --gtid-domain-id=0 \
      --max-binlog-size=256M --max-allowed-packet=64M \
      --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --innodb-doublewrite=0 \
      --innodb-buffer-pool-dump-at-shutdown=OFF --innodb-buffer-pool-load-at-startup=OFF \
      --innodb-fast-shutdown=1 --performance-schema=OFF \
      "${server_opts[@]}" \
      </dev/null >>"$errlog" 2>&1 &
    pid=$!

    # Ready when it answers on the socket; give up after MARIADB_START_TIMEOUT seconds.
    local deadline=$((SECONDS + ${MARIADB_START_TIMEOUT:-60})) ready=""
    while [ $SECONDS -lt $deadline ]; do
      if ! alive "$pid"; then
        # setsid may have forked (when this shell leads a process group): go by the pid file
        if [ -s "$pidfile" ] && alive "$(cat "$pidfile")"; then pid=$(cat "$pidfile"); else break; fi
      fi
      if [ -S "$sock" ] && "$admin" --no-defaults "--socket=$sock" -uroot --connect-timeout=2 \
          ping >/dev/null 2>&1; then
        ready=1; break
      fi
      sleep 0.05
    done
    if [ -n "$ready" ]; then
      port=$p
      [ -s "$pidfile" ] && pid=$(cat "$pidfile")
      break
    fi
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      tail -n 30 "$errlog" >&2 || true
      die "mariadbd did not become ready within ${MARIADB_START_TIMEOUT:-60}s (log: $errlog)"
    fi
    wait "$pid" 2>/dev/null || true
    if [ -z "$port" ] && grep -q 'Address already in use' "$errlog"; then
      log "port $p was taken meanwhile; retrying"
      continue
    fi
    tail -n 30 "$errlog" >&2 || true
    die "mariadbd exited during startup (log: $errlog)"
  done
  [ -n "$ready" ] || die "could not start mariadbd (log: $errlog)"

  local url="mysql://root@127.0.0.1:$port"
  cat >"$dir/mariadb.env" <<EOF
MARIADB_PID=$pid
MARIADB_URL=$url
MARIADB_PORT=$port
MARIADB_SOCKET=$sock
MARIADB_DIR=$dir
EOF
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms: pid $pid, dir $dir"
  echo "$url"
}

run_command "$@"
