#!/usr/bin/env bash
# Throwaway MySQL 9.7 instance with a row-based binlog and GTIDs, for my2pg's tests and
# experiments. MySQL runs from Debian sid's packages inside a chroot (Debian 12 cannot install
# them: they need a newer libc), which `install` builds once and caches outside the repository.
#
#   scripts/mysql.sh start [--port N] [--dir DIR] [-- extra mysqld options...]
#       Installs the chroot if missing (see `install`), initialises DIR/data (default: a fresh
#       /tmp/my2pg-mysql-XXXXXX) unless it already holds a data directory, starts mysqld in
#       the background listening on 127.0.0.1:N (a free port when not given) and on the socket
#       DIR/mysqld.sock, and waits until it accepts connections (MYSQL_START_TIMEOUT seconds,
#       default 90). Prints exactly one line on stdout:
#           mysql://root@127.0.0.1:N
#       (user root, empty password, caching_sha2_password, over TCP) and writes DIR/mysql.env
#       with MYSQL_PID, MYSQL_URL, MYSQL_PORT, MYSQL_SOCKET, MYSQL_DIR, MYSQL_CHROOT and
#       MYSQL_VERSION. Options after `--` go to mysqld last, so they override the defaults below
#       (e.g. `-- --binlog-row-image=MINIMAL`); they do not reach the initialisation. The server
#       log is DIR/mysqld.err, an initialisation's DIR/initialize.log. Progress goes to stderr.
#   scripts/mysql.sh stop [--dir DIR]
#       Shuts the instance down (SIGTERM, i.e. a clean shutdown; SIGKILL after
#       MYSQL_STOP_TIMEOUT seconds, default 30) and removes DIR. DIR defaults to $MYSQL_DIR.
#   scripts/mysql.sh client [--dir DIR] [-- mysql options...]
#       Runs the chroot's `mysql` client as root over TCP against the instance in DIR
#       (default $MYSQL_DIR), e.g. `scripts/mysql.sh client -- -e 'SHOW BINARY LOG STATUS'`.
#   scripts/mysql.sh install
#       Only installs the chroot (e.g. to warm a CI cache). Prints nothing on stdout.
#
# The chroot is ${MY2PG_CACHE:-$HOME/.cache/my2pg}/mysql-sid-chroot: `debootstrap
# --variant=minbase sid` from the Debian mirror that /etc/apt/sources.list(.d) uses for the
# host's own suite (MY2PG_DEBIAN_MIRROR overrides), then `apt-get install
# --no-install-recommends mysql-server-core mysql-client-core` inside it. Sid's Release file may
# be past its Valid-Until date, so the chroot's apt is set to Acquire::Check-Valid-Until=false
# (debootstrap does not check that date). It is built in a temporary directory beside it and
# renamed when complete, under a lock (flock on mysql-sid-chroot.lock), so an interrupted or
# concurrent install leaves nothing half-made; installs debootstrap (apt-get) when missing.
# Delete the directory to reinstall (`rm -rf --one-file-system`).
#
# A data directory is initialised by `mysqld --initialize-insecure` (10-20 s) the first time,
# then kept in the cache as mysql-datadir-<hash of the mysqld version and initialisation
# options>; later starts copy it (without auto.cnf, so each instance has its own server_uuid).
#
# DIR stays where it is: mysqld runs in a private mount namespace (unshare --mount) in which DIR
# is bind-mounted at the same path inside the chroot and proc is mounted on the chroot's /proc,
# so paths mean the same inside and out and both mounts vanish with the server's process (none
# is ever visible outside it, and a killed server leaves no mount behind). The empty mount
# point directories made inside the chroot are removed by `stop`. The chroot shares the host's
# network, so clients reach the server on 127.0.0.1.
#
# The binlog files are DIR/data/mysql-bin.NNNNNN, with binlog_format=ROW,
# binlog_row_image=FULL, binlog_row_metadata=FULL, gtid_mode=ON with
# enforce_gtid_consistency, server_id=1 and character_set_server=utf8mb4 (MySQL's default
# collation utf8mb4_0900_ai_ci); secure_file_priv is empty (no restriction), the X plugin is off.
# root has an empty password, as root@localhost (socket) and root@127.0.0.1 (TCP). Durability is
# relaxed for speed: never use this for real data. Needs root (chroot, mount), util-linux's
# unshare and, for the first install, debootstrap and network access to the Debian mirror; the
# host's option files are not read (--no-defaults), and nothing else on the machine is touched.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh disable=SC1091 # (plain shellcheck does not follow it; -x does)
. "$here/lib/servers.sh"
# This script, the server's name in messages, DIR's marker, env-var prefix, default stop timeout.
servers_init "$here/mysql.sh" mysqld .my2pg-mysql MYSQL 30

cache="${MY2PG_CACHE:-${HOME:-/tmp}/.cache/my2pg}"
root="$cache/mysql-sid-chroot"
complete="$root/.my2pg-complete"   # written last by install: holds `mysqld --version`
packages=(mysql-server-core mysql-client-core)

need_root() { [ "$(id -u)" = 0 ] || die "needs root (chroot and mount)"; }

# The Debian mirror of the host's own suite (VERSION_CODENAME) in its apt sources, one-line
# (.list) or deb822 (.sources) format; deb.debian.org when none is found.
debian_mirror() {
  if [ -n "${MY2PG_DEBIAN_MIRROR:-}" ]; then echo "$MY2PG_DEBIAN_MIRROR"; return; fi
  local codename="" f found=""
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=""
  if [ -n "$codename" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      # deb [options] URI SUITE COMPONENTS...
      found=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
        awk -v s="$codename" '$1 == "deb" && $3 == s { print $2; exit }')
      [ -n "$found" ] && break
    done
    if [ -z "$found" ]; then
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        found=$(awk -v s="$codename" '
          function flush() {
            if (!done && enabled && deb && uri != "" && (" " suites " ") ~ (" " s " ")) {
              print uri; done = 1; exit
            }
            enabled = 1; deb = 0; uri = ""; suites = ""
          }
          BEGIN { enabled = 1 }
          /^[[:space:]]*#/ { next }
          /^[[:space:]]*$/ { flush(); next }
          tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
          tolower($1) == "uris:" { uri = $2 }
          tolower($1) == "suites:" { $1 = ""; suites = $0 }
          tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
          END { flush() }' "$f")
        [ -n "$found" ] && break
      done
    fi
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

# Unmounts whatever is mounted at or below $1 (deepest first); for leftovers of an install
# interrupted before the private-namespace steps existed, or of a crashed machine.
unmount_below() {
  local m
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Installs the chroot unless it is complete. Runs in the calling shell; holds the lock (fd 9)
# only while it works, so no server started later inherits it.
install_chroot() {
  [ -f "$complete" ] && return 0
  need_root
  mkdir -p "$cache" || die "cannot create $cache"
  exec 9>"$root.lock"
  if ! flock -n 9; then
    log "another install of $root runs; waiting for it"
    flock -w "${MYSQL_INSTALL_TIMEOUT:-1200}" 9 || die "gave up waiting for the lock on $root.lock"
  fi
  if [ -f "$complete" ]; then exec 9>&-; return 0; fi
  if [ -e "$root" ]; then
    log "$root is incomplete (no ${complete##*/}); reinstalling"
    unmount_below "$root"
    rm -rf --one-file-system -- "$root"
  fi
  local old
  for old in "$root".tmp-*; do
    [ -e "$old" ] || continue
    log "removing $old (left by an interrupted install)"
    [ -d "$old" ] && unmount_below "$old"
    rm -rf --one-file-system -- "$old"
  done
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get install -y debootstrap >&2 || die "apt-get install debootstrap failed"
  fi

  local mirror tmp t0 ilog
  mirror=$(debian_mirror)
  tmp=$(mktemp -d "$root.tmp-XXXXXX") || die "cannot create a directory in $cache"
  ilog="$tmp.log"
  # An interrupted install removes its temporary directory (its mounts die with their namespace).
  trap 'rm -rf --one-file-system -- "'"$tmp"'" "'"$ilog"'"' EXIT
  trap 'exit 130' INT TERM
  t0=$SECONDS
  log "installing Debian sid (minbase) from $mirror into $tmp (log: $ilog)"
  # In a private mount namespace: the proc and sys that debootstrap mounts go with it even if
  # it is killed.
  if ! unshare --mount --propagation private -- \
      debootstrap --variant=minbase sid "$tmp" "$mirror" >"$ilog" 2>&1; then
    tail -n 30 "$ilog" >&2 || true
    die "debootstrap failed (log: $ilog)"
  fi
  log "debootstrap done in $((SECONDS - t0)) s; installing ${packages[*]}"
  cat >"$tmp/etc/apt/apt.conf.d/99my2pg" <<'EOF'
// sid's Release file may be past its Valid-Until date on the mirror (scripts/mysql.sh)
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
EOF
  cp /etc/hosts "$tmp/etc/hosts" 2>/dev/null || true
  cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  # shellcheck disable=SC2016 # expanded by the inner shell
  if ! unshare --mount --propagation private -- sh -c '
      mount -t proc proc "$1/proc" || exit 1
      r=$1; shift
      exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y --no-install-recommends $* && apt-get clean"
    ' sh "$tmp" "${packages[@]}" >>"$ilog" 2>&1; then
    tail -n 30 "$ilog" >&2 || true
    die "apt-get install ${packages[*]} in the chroot failed (log: $ilog)"
  fi
  local version
  version=$(chroot "$tmp" /usr/sbin/mysqld --version 2>/dev/null) || { tail -n 30 "$ilog" >&2; die "mysqld does not run in the chroot (log: $ilog)"; }
  mv "$ilog" "$tmp/var/log/my2pg-install.log"
  echo "$version" >"$tmp/${complete##*/}"
  mv -T -- "$tmp" "$root" || die "cannot rename $tmp to $root"
  trap - EXIT INT TERM
  exec 9>&-
  log "installed $root in $((SECONDS - t0)) s: $version"
}

# chroot_cmd DIR CMD ARGS...: sets the caller's array cmd to a command line that runs CMD (a
# path inside the chroot, with a clean environment) in the chroot, in a private mount namespace
# where DIR is bind-mounted at the same path and proc is mounted on /proc. Each step exec's, so
# the process keeps its pid through unshare, sh, chroot and env, and the mounts live exactly as
# long as it does. Makes the mount point inside the chroot.
# shellcheck disable=SC2034 # cmd is the caller's
chroot_cmd() {
  local d=$1; shift
  mkdir -p -- "$root$d" || die "cannot create the mount point $root$d"
  # shellcheck disable=SC2016 # expanded by the inner shell
  cmd=(unshare --mount --propagation private -- /bin/sh -c '
    r=$1 d=$2; shift 2
    mount --bind "$d" "$r$d" || exit 1
    mount -t proc proc "$r/proc" || exit 1
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TZ=UTC "$@"
  ' sh "$root" "$d" "$@")
}

# Removes the empty mount point directories that chroot_cmd made for DIR $1 inside the chroot,
# up to (not including) the chroot's top-level directories.
remove_mount_point() {
  local d="$root$1" rel
  while rel=${d#"$root"/} && [[ $rel == */* ]]; do
    rmdir -- "$d" 2>/dev/null || break
    d=${d%/*}
  done
}
# servers.sh's cmd_stop calls this after it has removed DIR.
after_stop() { remove_mount_point "$1"; }

# Is $1 a live mysqld process serving datadir $2?
is_our_server() { runs_with "$1" "--datadir=$2 "; }

# For cmd_stop: sets the caller's pid to the pid of the server running in DIR $1, or to "".
server_pid() {
  pid=""
  [ -f "$1/mysqld.pid" ] && pid=$(cat "$1/mysqld.pid")
  if [ -z "$pid" ] && [ -f "$1/mysql.env" ]; then
    pid=$(sed -n 's/^MYSQL_PID=//p' "$1/mysql.env")
  fi
  is_our_server "$pid" "$1/data" || pid=""
}

# save_template DATADIR TEMPLATE: keeps a copy of the freshly initialised DATADIR (before any
# server has run on it) as TEMPLATE, built beside it and renamed when complete. Skipped, not
# waited for, while another start saves one.
save_template() {
  local src=$1 template=$2 tmp old
  (
    flock -n 9 || exit 0
    [ -f "$template/.my2pg-complete" ] && exit 0
    for old in "$template".tmp-*; do [ -e "$old" ] && rm -rf -- "$old"; done
    tmp=$(mktemp -d "$template.tmp-XXXXXX") || exit 0
    if cp -a -- "$src/." "$tmp/" && rm -f -- "$tmp/auto.cnf" && touch "$tmp/.my2pg-complete" &&
        mv -T -- "$tmp" "$template"; then
      log "kept the initialised data directory as $template"
    else
      rm -rf -- "$tmp"
    fi
  ) 9>"$template.lock" || true
}

cmd_install() {
  [ $# -eq 0 ] || usage
  install_chroot
  [ -f "$complete" ] && log "$root: $(cat "$complete")"
}

cmd_client() {
  local dir=${MYSQL_DIR:-} opts=()
  while [ $# -gt 0 ]; do
    case $1 in
      --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      --) shift; opts=("$@"); break ;;
      *) log "unknown option: $1"; usage ;;
    esac
  done
  [ -n "$dir" ] || die "client: give --dir DIR (or set MYSQL_DIR)"
  local p
  p=$(sed -n 's/^MYSQL_PORT=//p' "$dir/mysql.env" 2>/dev/null) || true
  [ -n "$p" ] || die "no MYSQL_PORT in $dir/mysql.env"
  [ -f "$complete" ] || die "$root is not installed"
  need_root
  exec chroot "$root" /usr/bin/mysql --no-defaults --protocol=TCP -h127.0.0.1 "-P$p" -uroot "${opts[@]}"
}

cmd_start() {
  local port="" dir="" server_opts=()
  parse_start_args --extra -- "$@"
  need_root
  command -v unshare >/dev/null 2>&1 || die "unshare not found (Debian: util-linux)"
  install_chroot

  local made_dir=""
  [ -n "$dir" ] || made_dir=1
  make_server_dir
  case $dir/ in
    "$root"/*) die "DIR must not lie inside the chroot $root" ;;
  esac
  # A failed start removes the directory it made (its log tail has gone to stderr by then) and,
  # unless a server still runs in DIR, the mount point made for it in the chroot.
  # shellcheck disable=SC2317 # called by the trap
  start_failed() {
    if [ -n "$made_dir" ]; then rm -rf -- "$dir"; log "removed $dir"; fi
    local pid; server_pid "$dir"; [ -n "$pid" ] || remove_mount_point "$dir"
  }
  trap '[ $? = 0 ] || start_failed' EXIT
  local datadir="$dir/data" sock="$dir/mysqld.sock" pidfile="$dir/mysqld.pid" errlog="$dir/mysqld.err"
  [ ${#sock} -lt 100 ] || die "socket path too long for a unix socket (${#sock} chars): $sock"
  mark_dir "$dir"

  if [ -f "$pidfile" ] && is_our_server "$(cat "$pidfile")" "$datadir"; then
    die "an instance already runs in $dir (pid $(cat "$pidfile")); stop it first"
  fi

  # Options shared by the initialisation and the server, so InnoDB files are created as they
  # will be used. --no-defaults must come first.
  local common=(
    --no-defaults
    "--datadir=$datadir"
    --user=root
    --innodb-buffer-pool-size=128M
    --innodb-redo-log-capacity=64M
    --character-set-server=utf8mb4
    --collation-server=utf8mb4_0900_ai_ci
    --secure-file-priv=
    --mysqlx=OFF
    --performance-schema=OFF
  )

  # root@localhost (socket) gets an empty password from --initialize-insecure; with
  # --skip-name-resolve a TCP client from 127.0.0.1 does not match 'localhost', so the same
  # root is made for 127.0.0.1.
  local init_sql="CREATE USER 'root'@'127.0.0.1' IDENTIFIED WITH caching_sha2_password BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
GRANT PROXY ON ''@'' TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  # A freshly initialised data directory is kept in the cache for this mysqld and these options:
  # a copy of it (without auto.cnf, so that each instance gets its own server_uuid) replaces the
  # 10-20 s of --initialize-insecure.
  local key template
  key=$({ cat "$complete"; printf '%s\n' "${common[@]}" | grep -v -- '^--datadir='; echo "$init_sql"; } |
    sha256sum | cut -c1-16) || die "cannot hash the initialisation options"
  template="$cache/mysql-datadir-$key"

  local t0 cmd; t0=$(date +%s%N)
  if [ -d "$datadir/mysql" ]; then
    log "reusing the data directory $datadir"
  elif [ -f "$template/.my2pg-complete" ]; then
    log "initialising $datadir (a copy of $template)"
    rm -rf -- "$datadir"
    cp -a -- "$template" "$datadir" || die "cannot copy $template to $datadir"
    rm -f -- "$datadir/.my2pg-complete" "$datadir/auto.cnf"
  else
    log "initialising $datadir"
    rm -rf -- "$datadir"
    echo "$init_sql" >"$dir/init.sql"
    chroot_cmd "$dir" /usr/sbin/mysqld "${common[@]}" --initialize-insecure \
      "--init-file=$dir/init.sql" "--log-error=$dir/initialize.log"
    if ! "${cmd[@]}" </dev/null >>"$dir/initialize.log" 2>&1; then
      tail -n 30 "$dir/initialize.log" >&2 || true
      die "mysqld --initialize-insecure failed (log: $dir/initialize.log)"
    fi
    save_template "$datadir" "$template"
  fi
  local pid="" ready="" p ping
  chroot_cmd "$dir" /usr/bin/mysqladmin --no-defaults "--socket=$sock" -uroot --connect-timeout=2 ping
  ping=("${cmd[@]}")
  for _ in 1 2 3; do
    p=$port
    # shellcheck disable=SC2119 # free_port's argument is optional
    [ -n "$p" ] || p=$(free_port)
    : >"$errlog"
    rm -f "$pidfile"
    log "starting mysqld on 127.0.0.1:$p"
    # setsid + redirected stdio: the server outlives this script and never holds the caller's
    # stdout/stderr pipes open. Every step exec's into the next, so $! is mysqld's pid.
    chroot_cmd "$dir" /usr/sbin/mysqld "${common[@]}" \
      "--port=$p" --bind-address=127.0.0.1 "--socket=$sock" "--pid-file=$pidfile" \
      "--log-error=$errlog" --skip-name-resolve \
      --server-id=1 --log-bin=mysql-bin \
      --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
      --gtid-mode=ON --enforce-gtid-consistency=ON \
      --max-binlog-size=256M --max-allowed-packet=64M \
      --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --innodb-doublewrite=OFF \
      --innodb-buffer-pool-dump-at-shutdown=OFF --innodb-buffer-pool-load-at-startup=OFF \
      --innodb-fast-shutdown=1 \
      "${server_opts[@]}"
    setsid "${cmd[@]}" </dev/null >>"$errlog" 2>&1 &
    pid=$!

    # Ready when it answers on the socket (so it is this server, not another on the port);
    # give up after MYSQL_START_TIMEOUT seconds.
    local deadline=$((SECONDS + ${MYSQL_START_TIMEOUT:-90}))
    ready=""
    while [ $SECONDS -lt $deadline ]; do
      if ! alive "$pid"; then
        if [ -s "$pidfile" ] && alive "$(cat "$pidfile")"; then pid=$(cat "$pidfile"); else break; fi
      fi
      if [ -S "$sock" ] && "${ping[@]}" </dev/null >/dev/null 2>&1; then
        ready=1; break
      fi
      sleep 0.1
    done
    if [ -n "$ready" ]; then
      port=$p
      [ -s "$pidfile" ] && pid=$(cat "$pidfile")
      break
    fi
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      tail -n 30 "$errlog" >&2 || true
      die "mysqld did not become ready within ${MYSQL_START_TIMEOUT:-90}s (log: $errlog)"
    fi
    wait "$pid" 2>/dev/null || true
    if [ -z "$port" ] && grep -q 'Address already in use' "$errlog"; then
      log "port $p was taken meanwhile; retrying"
      continue
    fi
    tail -n 30 "$errlog" >&2 || true
    die "mysqld exited during startup (log: $errlog)"
  done
  [ -n "$ready" ] || die "could not start mysqld (log: $errlog)"

  local url="mysql://root@127.0.0.1:$port"
  cat >"$dir/mysql.env" <<EOF
MYSQL_PID=$pid
MYSQL_URL=$url
MYSQL_PORT=$port
MYSQL_SOCKET=$sock
MYSQL_DIR=$dir
MYSQL_CHROOT=$root
MYSQL_VERSION=$(sed -n 's/.* Ver \([^ ]*\).*/\1/p' "$complete")
EOF
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms: pid $pid, dir $dir"
  echo "$url"
}

run_command "$@"
