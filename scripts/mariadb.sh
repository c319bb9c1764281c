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

log() { echo "mariadb.sh: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

find_bin() {
  local name=$1 d
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for d in /usr/sbin /usr/local/sbin /usr/bin /usr/local/bin /usr/local/mysql/bin; do
    if [ -x "$d/$name" ]; then echo "$d/$name"; return; fi
  done
  return 1
}

# A loopback port nothing listens on (the kernel's choice of an ephemeral port).
free_port() {
  if command -v node >/dev/null 2>&1; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  else
    local p
    while :; do
      p=$((20000 + RANDOM % 30000))
      (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
  fi
}

# Is process $1 running? A zombie is not: a server started by an earlier `start` is reparented
# to init, which may take a while to reap it after it exits.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 0
  [ "$state" != Z ]
}

# Is $1 a live mariadbd/mysqld process serving datadir $2?
is_our_server() {
  local pid=$1 datadir=$2 cmd
  [ -n "$pid" ] && alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"--datadir=$datadir "* ]]
}

cmd_start() {
  local port="" dir="" extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      --) shift; extra=("$@"); break ;;
      -h|--help) usage ;;
      *) log "unknown option: $1"; usage ;;
    esac
  done
  if [ -n "$port" ] && ! [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]]; then
    die "bad --port: $port"
  fi

  local mariadbd install_db admin
  admin=$(find_bin mariadb-admin || find_bin mysqladmin) || die "mariadb-admin not found"
  mariadbd=$(find_bin mariadbd || find_bin mysqld) || die "mariadbd not found (apt-get install mariadb-server)"
  install_db=$(find_bin mariadb-install-db || find_bin mysql_install_db) || die "mariadb-install-db not found"

  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/my2pg-mariadb-XXXXXX")
    # A failed start removes the directory it made (its log tail has gone to stderr by then).
    trap 'rc=$?; [ $rc = 0 ] || { rm -rf -- "'"$dir"'"; log "removed '"$dir"'"; }' EXIT
  else
    mkdir -p "$dir"
  fi
  dir=$(cd "$dir" && pwd -P)
  local datadir="$dir/data" sock="$dir/mysqld.sock" pidfile="$dir/mariadbd.pid" errlog="$dir/mariadbd.err"
  [ ${#sock} -lt 100 ] || die "socket path too long for a unix socket (${#sock} chars): $sock"
  touch "$dir/.my2pg-mariadb"   # marks DIR as ours, so that `stop` may remove it

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

  local attempt pid=""
  for attempt in 1 2 3; do
    local p=$port
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
      "${extra[@]}" \
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

cmd_stop() {
  local dir=${MARIADB_DIR:-}
  while [ $# -gt 0 ]; do
    case $1 in
      --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      -h|--help) usage ;;
      *) log "unknown option: $1"; usage ;;
    esac
  done
  [ -n "$dir" ] || die "stop: give --dir DIR (or set MARIADB_DIR)"
  if [ ! -d "$dir" ]; then log "$dir does not exist; nothing to stop"; return 0; fi
  dir=$(cd "$dir" && pwd -P)
  [ -e "$dir/.my2pg-mariadb" ] || die "$dir was not created by mariadb.sh start; refusing to touch it"

  local pid=""
  [ -f "$dir/mariadbd.pid" ] && pid=$(cat "$dir/mariadbd.pid")
  if [ -z "$pid" ] && [ -f "$dir/mariadb.env" ]; then
    pid=$(sed -n 's/^MARIADB_PID=//p' "$dir/mariadb.env")
  fi
  if [ -n "$pid" ] && is_our_server "$pid" "$dir/data"; then
    log "stopping mariadbd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + ${MARIADB_STOP_TIMEOUT:-30}))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if alive "$pid"; then
      log "mariadbd (pid $pid) still running after ${MARIADB_STOP_TIMEOUT:-30}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.05; done
    fi
  else
    log "no running mariadbd for $dir"
  fi
  rm -rf -- "$dir"
  log "removed $dir"
}

[ $# -ge 1 ] || usage
sub=$1; shift
case $sub in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  -h|--help|help) usage ;;
  *) log "unknown command: $sub"; usage ;;
esac
