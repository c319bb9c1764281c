#!/usr/bin/env bash
# Throwaway single-node Apache Kafka broker (KRaft mode, no ZooKeeper) for my2pg's tests.
#
#   scripts/kafka.sh start [--port N] [--dir DIR]
#       Fetches the broker's jars if needed (see `fetch`), writes DIR/server.properties (DIR
#       defaults to a fresh /tmp/my2pg-kafka-XXXXXX), formats DIR/data with a random cluster id,
#       starts the broker in the background listening on 127.0.0.1:N only (a free port when not
#       given; the KRaft controller listens on a second free loopback port) and waits until it
#       has started and accepts connections (KAFKA_START_TIMEOUT seconds, default 90).
#       Prints exactly one line on stdout, the bootstrap brokers:
#           127.0.0.1:N
#       and writes DIR/broker.env with KAFKA_PID, KAFKA_BROKERS, KAFKA_PORT, KAFKA_DIR,
#       KAFKA_VERSION. Logs: DIR/logs/server.log (log4j) and DIR/kafka.out (JVM stdout/stderr).
#       Progress goes to stderr.
#   scripts/kafka.sh stop [--dir DIR]
#       Stops the broker started in DIR (SIGTERM; SIGKILL after KAFKA_STOP_TIMEOUT seconds,
#       default 15) and removes DIR. DIR defaults to $KAFKA_DIR.
#   scripts/kafka.sh fetch
#       Only fetches the jars (e.g. to warm a CI cache). Prints nothing on stdout.
#
# The jars come from Maven Central through scripts/kafka/pom.xml (mvn dependency:copy-dependencies)
# into ${MY2PG_CACHE:-$HOME/.cache/my2pg}/kafka-<version>/libs, outside the repository; a marker
# file there makes later runs skip Maven. MY2PG_KAFKA_VERSION overrides the pom's kafka.version.
# The broker suits tests only: one node, replication factor 1 everywhere (so idempotent and
# transactional producers work), auto-created topics with 1 partition by default, no rebalance
# delay, internal topics with 1 partition. Extra JVM options: KAFKA_JAVA_OPTS (default heap: -Xmx512m).
# Needs Java 17+ and, for the first fetch, Maven.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh disable=SC1091 # (plain shellcheck does not follow it; -x does)
. "$here/lib/servers.sh"
# This script, the server's name in messages, DIR's marker, env-var prefix, default stop timeout.
servers_init "$here/kafka.sh" Kafka .my2pg-kafka KAFKA 15
pom="$here/kafka/pom.xml"
log4j_conf="$here/kafka/log4j2.properties"

kafka_version() {
  if [ -n "${MY2PG_KAFKA_VERSION:-}" ]; then echo "$MY2PG_KAFKA_VERSION"; return; fi
  local v
  v=$(sed -n 's:.*<kafka.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka.version>.*:\1:p' "$pom" | head -n 1)
  [ -n "$v" ] || die "no <kafka.version> in $pom"
  echo "$v"
}

version=$(kafka_version)
cache="${MY2PG_CACHE:-${HOME:-/tmp}/.cache/my2pg}/kafka-$version"
libs="$cache/libs"
marker="$cache/.complete"

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; return; fi
  command -v java 2>/dev/null || die "java not found (Java 17+ is needed; Debian: openjdk-17-jre-headless)"
}

check_java() {
  local java=$1 major
  major=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1)
  major=${major#1.}
  [[ $major =~ ^[0-9]+$ ]] || die "cannot tell the version of $java"
  [ "$major" -ge 17 ] || die "Kafka $version needs Java 17 or newer; $java is Java $major"
}

# The marker holds the version and a hash of the pom, so editing the pom refetches.
fetch_stamp() { echo "kafka=$version pom=$(sha256sum "$pom" | cut -d' ' -f1)"; }

fetch_complete() {
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$(fetch_stamp)" ] && [ -f "$libs/kafka_2.13-$version.jar" ]
}

# shellcheck disable=SC2120 # run_command passes the arguments of `fetch`
cmd_fetch() {
  [ $# -eq 0 ] || usage
  fetch_complete && return 0
  mkdir -p "$cache"
  # Serialise concurrent fetches into the same cache.
  exec 9>"$cache/.lock"
  flock 9
  if fetch_complete; then exec 9>&-; return 0; fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars; Debian: maven)"
  log "fetching Apache Kafka $version jars from Maven Central into $libs"
  local t0=$SECONDS tmp="$cache/libs.tmp.$$"
  rm -rf "$tmp"
  # Maven's output goes to a log (Debian's mvn prints stray colour codes even with -q -B).
  if ! mvn -q -B -Dstyle.color=never -f "$pom" "-Dkafka.version=$version" dependency:copy-dependencies \
      "-DoutputDirectory=$tmp" >"$cache/mvn.log" 2>&1 </dev/null; then
    rm -rf "$tmp"
    sed 's/\x1b\[[0-9;]*m//g' "$cache/mvn.log" | tail -n 40 >&2 || true
    die "mvn dependency:copy-dependencies failed for Kafka $version (log: $cache/mvn.log)"
  fi
  [ -f "$tmp/kafka_2.13-$version.jar" ] || { rm -rf "$tmp"; die "kafka_2.13-$version.jar missing after mvn"; }
  rm -rf "$libs" "$marker"
  mv "$tmp" "$libs"
  fetch_stamp >"$marker"
  exec 9>&-
  log "fetched $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
}

# Is $1 a live broker process using server.properties $2?
is_our_broker() { runs_with "$1" " kafka.Kafka $2 "; }

# For cmd_stop: sets the caller's pid to the pid of the broker running in DIR $1, or to "".
server_pid() {
  local props="$1/server.properties"
  pid=""
  [ -f "$1/broker.env" ] && pid=$(sed -n 's/^KAFKA_PID=//p' "$1/broker.env")
  if [ -z "$pid" ] && command -v pgrep >/dev/null 2>&1; then
    # Started but not (yet) ready, e.g. an interrupted start: find it by its command line.
    pid=$(pgrep -f -- " kafka.Kafka $props\$" | head -n 1 || true)
  fi
  is_our_broker "$pid" "$props" || pid=""
}

# A random KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).
random_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    # Not the reserved all-zero and ...01 ids, and no leading '-' (it would read as an option).
    [[ $id == AAAAAAAAAAAAAAAAAAAAA[AQ] || $id == -* ]] || { echo "$id"; return; }
  done
}

write_properties() {
  local file=$1 dir=$2 port=$3 cport=$4
  cat >"$file" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data

# One node: every replication factor and min ISR is 1, so that consumer groups, idempotent
# and transactional producers work. Internal topics get 1 partition to start fast.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=true
delete.topic.enable=true
group.initial.rebalance.delay.ms=0

# Small and quick.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.segment.bytes=67108864
log.retention.hours=24
log.retention.check.interval.ms=300000
EOF
}

cmd_start() {
  local port="" dir=""
  parse_start_args -- "$@"
  if [ -n "$port" ] && port_in_use "$port"; then die "port $port on 127.0.0.1 is already in use"; fi

  local java t0=$SECONDS
  java=$(java_bin)
  check_java "$java"
  cmd_fetch

  make_server_dir
  local props="$dir/server.properties" logdir="$dir/logs" out="$dir/kafka.out"
  mark_dir "$dir"
  if [ -f "$dir/broker.env" ]; then
    local old
    old=$(sed -n 's/^KAFKA_PID=//p' "$dir/broker.env")
    if is_our_broker "$old" "$props"; then die "a broker already runs in $dir (pid $old); stop it first"; fi
  fi
  rm -f "$dir/broker.env"

  local heap=(-Xms128m -Xmx512m)
  # shellcheck disable=SC2206 # KAFKA_JAVA_OPTS is a list of words by design
  local extra=(${KAFKA_JAVA_OPTS:-})
  [[ " ${KAFKA_JAVA_OPTS:-} " == *" -Xmx"* ]] && heap=()
  local jvm=(
    "${heap[@]}"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$log4j_conf"
    "-Dkafka.logs.dir=$logdir"
    "${extra[@]}"
  )

  local pid="" ready="" p cp
  # Whatever ends this script before the broker is ready (an error, Ctrl-C, SIGTERM) kills it.
  trap '[ -n "${starting_pid:-}" ] && kill -KILL "$starting_pid" 2>/dev/null; true' EXIT
  trap 'exit 130' INT TERM
  for _ in 1 2 3; do
    p=$port
    [ -n "$p" ] || p=$(free_port)
    cp=$(free_port "$p")
    rm -rf "$dir/data" "$logdir"
    mkdir -p "$logdir"
    write_properties "$props" "$dir" "$p" "$cp"

    if ! "$java" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        "-Dlog4j2.configurationFile=$log4j_conf" "-Dkafka.logs.dir=$logdir" \
        -cp "$libs/*" kafka.tools.StorageTool format -t "$(random_cluster_id)" -c "$props" \
        >"$logdir/format.out" 2>&1 </dev/null; then
      tail -n 30 "$logdir/format.out" >&2 || true
      die "formatting $dir/data failed (log: $logdir/format.out)"
    fi

    log "starting Kafka $version on 127.0.0.1:$p (controller 127.0.0.1:$cp), dir $dir"
    : >"$out"
    # setsid + redirected stdio: the broker outlives this script and never holds the caller's
    # stdout/stderr pipes open.
    setsid "$java" "${jvm[@]}" -cp "$libs/*" kafka.Kafka "$props" </dev/null >>"$out" 2>&1 &
    pid=$!
    starting_pid=$pid

    # Ready when the server says it has started (the broker is then registered and unfenced)
    # and its listener accepts connections.
    local timeout=${KAFKA_START_TIMEOUT:-90}
    local deadline=$((SECONDS + timeout))
    while [ $SECONDS -lt $deadline ]; do
      kill -0 "$pid" 2>/dev/null || break
      if grep -q 'Kafka Server started' "$logdir/server.log" 2>/dev/null && port_in_use "$p"; then
        ready=1; break
      fi
      sleep 0.1
    done
    if [ -n "$ready" ]; then port=$p; break; fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      { tail -n 40 "$logdir/server.log"; tail -n 20 "$out"; } >&2 2>/dev/null || true
      die "Kafka did not become ready within ${timeout}s (logs: $logdir/server.log, $out)"
    fi
    wait "$pid" 2>/dev/null || true
    starting_pid=""
    # A port taken between choosing and binding it: retry with new ones (unless it was --port).
    if grep -qs 'Address already in use' "$logdir/server.log" "$out" &&
        ! { [ -n "$port" ] && grep -qs "127.0.0.1:$port: Address already in use" "$logdir/server.log" "$out"; }; then
      log "port $p or $cp was taken meanwhile; retrying"
      continue
    fi
    { tail -n 40 "$logdir/server.log"; tail -n 20 "$out"; } >&2 2>/dev/null || true
    die "Kafka exited during startup (logs: $logdir/server.log, $out)"
  done
  [ -n "$ready" ] || die "could not start Kafka (logs: $logdir/server.log, $out)"

  local brokers="127.0.0.1:$port"
  cat >"$dir/broker.env" <<EOF
KAFKA_PID=$pid
KAFKA_BROKERS=$brokers
KAFKA_PORT=$port
KAFKA_DIR=$dir
KAFKA_VERSION=$version
EOF
  starting_pid=""
  trap - EXIT INT TERM
  log "ready in $((SECONDS - t0))s: pid $pid, brokers $brokers, dir $dir"
  echo "$brokers"
}

run_command "$@"
