#!/usr/bin/env bash
# Start/stop a real single-node Apache Cassandra 5.0 for durastore's tests,
# without Docker: cassandra-all and its dependencies come from Maven Central
# (pom.xml beside this script) and run as one JVM process on 127.0.0.1.
#
#   testservers/cassandra/run.sh start      # resolve (cached), start, wait for CQL
#   testservers/cassandra/run.sh stop       # stop the process this script started
#   testservers/cassandra/run.sh status     # exit 0 when running
#   testservers/cassandra/run.sh classpath  # only resolve the classpath
#   testservers/cassandra/run.sh clean      # stop, then delete data and logs
#
# `start` prints `export DURASTORE_CASSANDRA_URL=cassandra://127.0.0.1:9042`
# on stdout (everything else goes to stderr), so `eval "$(run.sh start)"` works.
#
# Environment (all optional):
#   CASSANDRA_SCRATCH      data/logs/pid folder   (/tmp/durastore-services/cassandra)
#   CASSANDRA_NATIVE_PORT  CQL port               (9042)
#   CASSANDRA_STORAGE_PORT internode port         (7000)
#   CASSANDRA_JMX_PORT     JMX port on loopback   (7199)
#   CASSANDRA_HEAP         -Xms/-Xmx              (768M)
#   CASSANDRA_VERSION      cassandra-all version  (the pom's default)
#   CASSANDRA_START_TIMEOUT seconds to wait for CQL (180)
#   CASSANDRA_JVM_EXTRA    more JVM flags, space-separated
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRATCH="${CASSANDRA_SCRATCH:-/tmp/durastore-services/cassandra}"
NATIVE_PORT="${CASSANDRA_NATIVE_PORT:-9042}"
STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
JMX_PORT="${CASSANDRA_JMX_PORT:-7199}"
HEAP="${CASSANDRA_HEAP:-768M}"
TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
VERSION_ARG=()
[[ -n "${CASSANDRA_VERSION:-}" ]] && VERSION_ARG=("-Dcassandra.version=${CASSANDRA_VERSION}")

PIDFILE="$SCRATCH/cassandra.pid"
LOGDIR="$SCRATCH/logs"
CONF="$SCRATCH/conf"
# The classpath cache lives beside the scratch folder so `clean` keeps it.
CPDIR="$(dirname "$SCRATCH")/cassandra-classpath"

log() { echo "cassandra: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid of the Cassandra this script started, if it is still alive.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # Only ours: a CassandraDaemon whose config is in our scratch folder.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "CassandraDaemon" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$CONF/cassandra.yaml" || return 1
  echo "$pid"
}

resolve_classpath() {
  mkdir -p "$CPDIR"
  local key cpfile
  key="$( (cat "$HERE/pom.xml"; echo "${CASSANDRA_VERSION:-}") | sha256sum | cut -c1-16)"
  cpfile="$CPDIR/classpath-$key.txt"
  if [[ -s "$cpfile" ]]; then
    local ok=1 jar
    IFS=: read -r -a jars <"$cpfile"
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { ok=0; break; }; done
    if (( ok )); then echo "$cpfile"; return; fi
    log "cached classpath refers to missing jars; resolving again"
  fi
  log "resolving cassandra-all and its dependencies with Maven (first time: ~40 s)"
  local t0=$SECONDS
  mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" "${VERSION_ARG[@]}" dependency:build-classpath \
      -Dmdep.includeScope=runtime -Dmdep.outputFile="$cpfile.tmp" >&2
  mv "$cpfile.tmp" "$cpfile"
  log "classpath resolved in $((SECONDS - t0)) s"
  echo "$cpfile"
}

print_url() { echo "export DURASTORE_CASSANDRA_URL=cassandra://127.0.0.1:$NATIVE_PORT"; }

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    print_url
    return 0
  fi
  if port_open "$NATIVE_PORT"; then
    log "port $NATIVE_PORT is already in use by another process; not starting"
    return 1
  fi
  command -v java >/dev/null || { log "java not found (needs Java 17)"; return 1; }

  local cpfile classpath jamm
  cpfile="$(resolve_classpath)"
  classpath="$(cat "$cpfile")"
  jamm="$(tr ':' '\n' <"$cpfile" | grep '/jamm-[^/]*\.jar$' | head -n1 || true)"

  mkdir -p "$SCRATCH"/{data,commitlog,saved_caches,hints,cdc_raw} "$LOGDIR" "$CONF"
  sed "s#/tmp/durastore-services/cassandra#$SCRATCH#g" "$HERE/cassandra.yaml" >"$CONF/cassandra.yaml"
  cp "$HERE/logback.xml" "$CONF/logback.xml"

  local -a opts=(
    # Heap and GC (from Cassandra's jvm-server.options / jvm17-server.options,
    # sized for a small test node).
    "-Xms$HEAP" "-Xmx$HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
    -XX:InitiatingHeapOccupancyPercent=70
    -XX:+UseThreadPriorities -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem
    -XX:+ExitOnOutOfMemoryError
    -ea -da:net.openhft...
    -Djava.net.preferIPv4Stack=true
    # JPMS: the list from Cassandra's conf/jvm17-server.options.
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    # Cassandra itself.
    "-Dcassandra.config=file://$CONF/cassandra.yaml"
    "-Dcassandra.storagedir=$SCRATCH"
    "-Dcassandra.logdir=$LOGDIR"
    "-Dlogback.configurationFile=file://$CONF/logback.xml"
    "-Dcassandra-pidfile=$PIDFILE"
    -Dcassandra-foreground=no
    "-Dcassandra.native_transport_port=$NATIVE_PORT"
    "-Dcassandra.storage_port=$STORAGE_PORT"
    "-Dcassandra.jmx.local.port=$JMX_PORT"
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.available_processors="$(nproc)"
  )
  [[ -n "$jamm" ]] && opts+=("-javaagent:$jamm")
  # Extra JVM flags, split on spaces (e.g. -XX:NativeMemoryTracking=summary).
  # shellcheck disable=SC2206
  [[ -n "${CASSANDRA_JVM_EXTRA:-}" ]] && opts+=(${CASSANDRA_JVM_EXTRA})

  log "starting (heap $HEAP, data in $SCRATCH, log $LOGDIR/system.log)"
  local t0=$SECONDS
  : >"$LOGDIR/stdout.log"
  # setsid: own session, so it survives the calling shell and is not hit by
  # its job-control signals. $! is java itself (setsid execs when it can).
  setsid java "${opts[@]}" -cp "$classpath" org.apache.cassandra.service.CassandraDaemon \
    >>"$LOGDIR/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"

  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the JVM exited during startup; last lines of its logs:"
      tail -n 30 "$LOGDIR/stdout.log" >&2 || true
      grep -E "ERROR|Exception" "$LOGDIR/system.log" 2>/dev/null | tail -n 20 >&2 || true
      rm -f "$PIDFILE"
      return 1
    fi
    if port_open "$NATIVE_PORT"; then break; fi
    if (( SECONDS - t0 >= TIMEOUT )); then
      log "CQL port $NATIVE_PORT not open after $TIMEOUT s; stopping pid $pid"
      tail -n 30 "$LOGDIR/system.log" >&2 || true
      cmd_stop || true
      return 1
    fi
    sleep 1
  done
  # Cassandra rewrites the pid file itself; keep ours if it agrees.
  echo "$pid" >"$PIDFILE"
  log "CQL ready on 127.0.0.1:$NATIVE_PORT after $((SECONDS - t0)) s (pid $pid)"
  print_url
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop within 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$NATIVE_PORT"; then
      log "running (pid $pid), CQL on 127.0.0.1:$NATIVE_PORT"
      print_url
      return 0
    fi
    log "process $pid alive but CQL port $NATIVE_PORT not open (starting?)"
    return 1
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  classpath) cat "$(resolve_classpath)" ;;
  clean) cmd_stop; rm -rf "$SCRATCH"; log "removed $SCRATCH" ;;
  *) echo "usage: $0 start|stop|status|classpath|clean" >&2; exit 2 ;;
esac
