# shellcheck shell=bash
# Shared shell for the scripts that start throwaway test servers (scripts/kafka.sh,
# scripts/mariadb.sh, scripts/mysql.sh). Sourcing this file only defines functions; a script
# then calls
#
#   servers_init SCRIPT LABEL MARKER ENV STOP_TIMEOUT
#       SCRIPT        the script's own path: usage() prints its header comment (line 2 up to
#                     `set -euo pipefail`) and log() prefixes messages with its file name
#       LABEL         what messages call the server, e.g. Kafka
#       MARKER        the file that marks a DIR as made by the script's `start` (so that `stop`
#                     may remove it), e.g. .my2pg-kafka; fresh DIRs are
#                     ${TMPDIR:-/tmp}/<MARKER without its dot>-XXXXXX
#       ENV           the prefix of its environment variables: ENV_DIR is the default DIR of
#                     `stop`, ENV_STOP_TIMEOUT how long `stop` waits after SIGTERM
#       STOP_TIMEOUT  the default of ENV_STOP_TIMEOUT, in seconds
#
# before it uses the rest, defines server_pid (for cmd_stop) and cmd_<command> functions, and
# ends with `run_command "$@"`.
#
# Note: `set -e` does not reach into $(...), so whatever must stop the script on failure (above
# all anything that decides which directory gets removed) runs in the calling shell or checks
# each step itself.

servers_init() {
  [ $# -eq 5 ] || { echo "servers_init: want 5 arguments, got $#" >&2; exit 2; }
  srv_script=$1 srv_name=${1##*/} srv_label=$2 srv_marker=$3 srv_env=$4 srv_stop_timeout=$5
}

log() { echo "$srv_name: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$srv_script" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# run_command ARGS...: runs cmd_<first argument> with the others; usage for none, help or an
# unknown command.
run_command() {
  [ $# -ge 1 ] || usage
  local sub=$1; shift
  case $sub in
    -h|--help|help) usage ;;
  esac
  if ! [[ $sub =~ ^[a-z]+$ ]] || ! declare -F "cmd_$sub" >/dev/null; then
    log "unknown command: $sub"; usage
  fi
  "cmd_$sub" "$@"
}

# parse_start_args [--extra] -- ARGS...: parses the options of `start` into the caller's
# variables port and dir (--port N, --dir DIR, also as --port=N, --dir=DIR) and checks the port.
# With --extra, the words after a `--` among ARGS go to the caller's array server_opts;
# without it, `--` is an unknown option.
# shellcheck disable=SC2034 # port, dir and server_opts are the caller's
parse_start_args() {
  local takes_extra=""
  if [ "${1:-}" = --extra ]; then takes_extra=1; shift; fi
  [ "${1:-}" = -- ] || { echo "parse_start_args: want -- before the arguments" >&2; exit 2; }
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      --) [ -n "$takes_extra" ] || { log "unknown option: $1"; usage; }; shift; server_opts=("$@"); break ;;
      -h|--help) usage ;;
      *) log "unknown option: $1"; usage ;;
    esac
  done
  if [ -n "$port" ] && ! [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]]; then
    die "bad --port: $port"
  fi
}

# make_server_dir: makes the caller's directory dir (when empty, a fresh
# ${TMPDIR:-/tmp}/<marker without its dot>-XXXXXX) and sets dir to its absolute physical path.
# Runs in the calling shell (not in $(...)) and dies on any failure, so that dir is never left
# empty or pointing elsewhere.
make_server_dir() {
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/${srv_marker#.}-XXXXXX") || die "cannot create a directory in ${TMPDIR:-/tmp}"
  else
    mkdir -p -- "$dir" || die "cannot create $dir"
  fi
  resolve_dir
}

# resolve_dir: sets the caller's dir, an existing directory, to its absolute physical path;
# dies if it cannot.
resolve_dir() {
  local abs
  [ -n "$dir" ] || die "no directory given"   # (cd "" would stay in the current directory)
  abs=$(cd -- "$dir" && pwd -P) || die "cannot resolve $dir"
  if [ -z "$abs" ] || [ ! -d "$abs" ]; then die "cannot resolve $dir"; fi
  dir=$abs
}

# mark_dir DIR: marks DIR as made by `start`, so that `stop` may remove it.
mark_dir() { touch "$1/$srv_marker"; }

# Is something listening on 127.0.0.1:$1?
port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A loopback port nothing listens on (the kernel's choice of an ephemeral port), other than $1.
free_port() {
  local p other=${1:-}
  for _ in $(seq 1 50); do
    if command -v node >/dev/null 2>&1; then
      p=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    elif command -v python3 >/dev/null 2>&1; then
      p=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
    else
      p=$((20000 + RANDOM % 30000))
      port_in_use "$p" && continue
    fi
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" != "$other" ] && { echo "$p"; return; }
  done
  die "could not find a free port"
}

# Is process $1 running? A zombie is not: a server started by an earlier `start` is reparented
# to init, which may take a while to reap it after it exits.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 0
  [ "$state" != Z ]
}

# Is $1 a live process whose command line (its words joined by spaces, each followed by one)
# contains the string $2?
runs_with() {
  local pid=$1 cmd
  [ -n "$pid" ] && alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$2"* ]]
}

# stop_pid PID: SIGTERM, then SIGKILL if PID still runs after ${ENV}_STOP_TIMEOUT seconds;
# returns once PID has gone.
stop_pid() {
  local pid=$1 timeout_var="${srv_env}_STOP_TIMEOUT" timeout deadline
  timeout=${!timeout_var:-$srv_stop_timeout}
  deadline=$((SECONDS + timeout))
  log "stopping $srv_label (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
  if alive "$pid"; then
    log "$srv_label (pid $pid) still running after ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.05; done
  fi
}

# cmd_stop [--dir DIR]: stops the server started in DIR (default ${ENV}_DIR) and removes DIR.
# A missing DIR is nothing to stop; a DIR without the marker is refused. The script's
# server_pid DIR sets the caller's pid to the pid of the server running in DIR, or to "";
# its after_stop DIR, when it defines one, is called last (DIR is gone by then).
cmd_stop() {
  local dir_var="${srv_env}_DIR" dir pid=""
  dir=${!dir_var:-}
  while [ $# -gt 0 ]; do
    case $1 in
      --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      -h|--help) usage ;;
      *) log "unknown option: $1"; usage ;;
    esac
  done
  [ -n "$dir" ] || die "stop: give --dir DIR (or set $dir_var)"
  if [ ! -d "$dir" ]; then log "$dir does not exist; nothing to stop"; return 0; fi
  resolve_dir
  [ -e "$dir/$srv_marker" ] || die "$dir was not created by $srv_name start; refusing to touch it"

  server_pid "$dir"
  if [ -n "$pid" ]; then
    stop_pid "$pid"
  else
    log "no running $srv_label for $dir"
  fi
  rm -rf -- "$dir"
  log "removed $dir"
  if declare -F after_stop >/dev/null; then after_stop "$dir"; fi
}
