#!/usr/bin/env bash
# Start/stop a real single-node OpenSearch 2 or Elasticsearch 8 for durastore's tests, without
# Docker: the server's integ-test zip (the plain server with its core modules, no bundled JDK, no
# security plugin) comes from Maven Central through `mvn dependency:copy`, is unpacked once per
# version into a cache folder, and runs as one JVM on 127.0.0.1 under an unprivileged system user
# (both servers refuse to run as root).
#
#   testservers/search/run.sh opensearch|elasticsearch start    # fetch (cached), start, wait for yellow
#   testservers/search/run.sh opensearch|elasticsearch stop     # stop the process this script started
#   testservers/search/run.sh opensearch|elasticsearch status   # exit 0 when running
#   testservers/search/run.sh opensearch|elasticsearch fetch    # only download and unpack
#   testservers/search/run.sh opensearch|elasticsearch clean    # stop, then delete data and logs
#
# `start` prints `export DURASTORE_OPENSEARCH_URL=opensearch://127.0.0.1:9200` (or
# `DURASTORE_ELASTICSEARCH_URL=elasticsearch://127.0.0.1:9201`) on stdout; everything else goes to stderr.
#
# What the integ-test zips lack (their modules are only transport-netty4, plus x-pack-core,
# x-pack-security and apm for Elasticsearch): no _delete_by_query/_update_by_query/_reindex
# (reindex module), no scripts (lang-painless), and on Elasticsearch no `GET /` (rest-root; use
# /_cluster/health) and no `scaled_float` (mapper-extras). OpenSearch gets mapper-extras added
# from its jar on Maven Central, so `scaled_float` works there; for Elasticsearch 8 no such jar
# is published. Search, aggregations, scroll, point-in-time, index templates, index sorting and
# the built-in analyzers and normalizers work on both.
#
# Environment (all optional; PRODUCT is OPENSEARCH or ELASTICSEARCH):
#   <PRODUCT>_SCRATCH         config/data/logs/pid folder (/tmp/durastore-services/<product>);
#                             the unpacked distribution is cached beside it in search-dist/
#   <PRODUCT>_VERSION         server version (OpenSearch 2.19.6, Elasticsearch 8.19.21)
#   <PRODUCT>_HTTP_PORT       REST port (OpenSearch 9200, Elasticsearch 9201)
#   <PRODUCT>_TRANSPORT_PORT  node-to-node port (OpenSearch 9300, Elasticsearch 9301)
#   <PRODUCT>_HEAP            -Xms/-Xmx (512m)
#   <PRODUCT>_START_TIMEOUT   seconds to wait for a yellow cluster (180)
#   SEARCH_USER               the system user the servers run as (durastore-search; created when missing)
#   SEARCH_JAVA_HOME          the JDK to run them with (JAVA_HOME, else the `java` on PATH)
set -euo pipefail

product="${1:-}"
case "$product" in
opensearch)
    P=OPENSEARCH E=OPENSEARCH GROUP=org.opensearch.distribution.integ-test-zip
    DEF_VERSION=2.19.6 DEF_HTTP=9200 DEF_TRANSPORT=9300
    ;;
elasticsearch)
    P=ELASTICSEARCH E=ES GROUP=org.elasticsearch.distribution.integ-test-zip
    DEF_VERSION=8.19.21 DEF_HTTP=9201 DEF_TRANSPORT=9301
    ;;
*)
    echo "usage: $0 opensearch|elasticsearch start|stop|status|fetch|clean" >&2
    exit 2
    ;;
esac
env_or() { local v="${P}_$1"; echo "${!v:-$2}"; }

SCRATCH="$(env_or SCRATCH "/tmp/durastore-services/$product")"
VERSION="$(env_or VERSION "$DEF_VERSION")"
HTTP_PORT="$(env_or HTTP_PORT "$DEF_HTTP")"
TRANSPORT_PORT="$(env_or TRANSPORT_PORT "$DEF_TRANSPORT")"
HEAP="$(env_or HEAP 512m)"
TIMEOUT="$(env_or START_TIMEOUT 180)"
RUN_USER="${SEARCH_USER:-durastore-search}"

# The unpacked distribution, shared by restarts; its name changes with what we add to the zip.
DIST="$(dirname "$SCRATCH")/search-dist/$product-$VERSION"
if [[ $product == opensearch ]]; then DIST+="+mapper-extras"; fi
CONF="$SCRATCH/config"
LOGDIR="$SCRATCH/logs"
PIDFILE="$SCRATCH/$product.pid"
URL="http://127.0.0.1:$HTTP_PORT"

log() { echo "$product: $*" >&2; }

# The servers run as another user, who may not be able to enter the caller's directory.
cd /

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid of the server this script started, if it is still alive.
running_pid() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(head -n1 "$PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
    # Only ours: a JVM whose temp folder is ours (Elasticsearch passes its paths on stdin, not
    # on the command line, so the config folder cannot be checked).
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "-Djava.io.tmpdir=$SCRATCH/tmp" || return 1
    echo "$pid"
}

java_home() {
    if [[ -n "${SEARCH_JAVA_HOME:-}" ]]; then echo "$SEARCH_JAVA_HOME"; return; fi
    if [[ -n "${JAVA_HOME:-}" ]]; then echo "$JAVA_HOME"; return; fi
    local java
    java="$(command -v java)" || { log "java not found (needs Java 17+)"; return 1; }
    dirname "$(dirname "$(readlink -f "$java")")"
}

# Downloads the zip with Maven (cached in ~/.m2) and unpacks it once per version.
cmd_fetch() {
    [[ -x "$DIST/bin/$product" ]] && return 0
    local t0=$SECONDS tmp
    mkdir -p "$(dirname "$DIST")"
    tmp="$(mktemp -d "$(dirname "$DIST")/.fetch-$product-XXXXXX")"
    log "fetching $GROUP:$product:$VERSION:zip with Maven"
    if ! mvn -B -q -Dstyle.color=never dependency:copy \
        "-Dartifact=$GROUP:$product:$VERSION:zip" "-DoutputDirectory=$tmp" >&2; then
        rm -rf "$tmp"
        log "Maven could not fetch $GROUP:$product:$VERSION:zip"
        return 1
    fi
    unzip -q "$tmp/$product-$VERSION.zip" -d "$tmp"
    [[ -x "$tmp/$product-$VERSION/bin/$product" ]] || { rm -rf "$tmp"; log "unexpected zip layout"; return 1; }
    if [[ $product == opensearch ]]; then
        # The integ-test zip has no mapper-extras module, so no `scaled_float`, which Temporal's
        # visibility mapping uses for Double search attributes. Its jar is on Maven Central (with
        # no dependencies of its own): add it as a module, with the descriptor modules carry.
        local mod="$tmp/$product-$VERSION/modules/mapper-extras"
        mvn -B -q -Dstyle.color=never dependency:copy \
            "-Dartifact=org.opensearch.plugin:mapper-extras-client:$VERSION" "-DoutputDirectory=$mod" >&2 \
            || { rm -rf "$tmp"; log "Maven could not fetch org.opensearch.plugin:mapper-extras-client:$VERSION"; return 1; }
        printf '%s\n' "description=Adds advanced field mappers (scaled_float and others)" "version=$VERSION" \
            name=mapper-extras classname=org.opensearch.index.mapper.MapperExtrasPlugin java.version=11 \
            "opensearch.version=$VERSION" custom.foldername= extended.plugins= has.native.controller=false \
            >"$mod/plugin-descriptor.properties"
    fi
    rm -rf "$DIST"
    mv "$tmp/$product-$VERSION" "$DIST"
    rm -rf "$tmp"
    log "$product $VERSION unpacked into $DIST in $((SECONDS - t0)) s"
}

ensure_user() {
    id -u "$RUN_USER" >/dev/null 2>&1 && return 0
    log "creating system user $RUN_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$RUN_USER"
}

# Writes the node's config folder: the distribution's own files (log4j, jvm.options) plus our
# settings. jvm.options paths that are relative to the distribution go to our folders instead.
write_config() {
    rm -rf "$CONF"
    cp -r "$DIST/config" "$CONF"
    sed -i -e "s#=logs/#=$LOGDIR/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$SCRATCH/data#" "$CONF/jvm.options"
    {
        echo "# Written by testservers/search/run.sh; rewritten at every start."
        echo "cluster.name: durastore-$product"
        echo "node.name: durastore-$product"
        echo "network.host: 127.0.0.1"
        echo "http.port: $HTTP_PORT"
        echo "transport.port: $TRANSPORT_PORT"
        echo "discovery.type: single-node"
        echo "path.data: $SCRATCH/data"
        echo "path.logs: $LOGDIR"
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        # Elasticsearch's integ-test zip ships x-pack-security (enabled by default in 8.x).
        if [[ -d "$DIST/modules/x-pack-security" ]]; then echo "xpack.security.enabled: false"; fi
    } >"$CONF/$product.yml"
}

# The server's own log, when this start wrote to it (the config is written at every start).
server_log_tail() {
    local f="$LOGDIR/durastore-$product.log"
    if [[ $f -nt $CONF/$product.yml ]]; then tail -n 30 "$f" >&2 || true; fi
}

print_url() { echo "export DURASTORE_${P}_URL=${product}://127.0.0.1:$HTTP_PORT"; }

healthy() { curl -fsS -m 5 "$URL/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1; }

cmd_start() {
    local pid
    if pid="$(running_pid)"; then
        if healthy; then
            log "already running (pid $pid) on $URL"
            print_url
            return 0
        fi
        log "pid $pid is ours but not yet healthy; waiting"
    else
        if port_open "$HTTP_PORT" || port_open "$TRANSPORT_PORT"; then
            log "port $HTTP_PORT or $TRANSPORT_PORT is already in use by another process; not starting"
            return 1
        fi
        local jhome
        jhome="$(java_home)"
        cmd_fetch
        ensure_user
        mkdir -p "$SCRATCH"/{data,tmp} "$LOGDIR"
        write_config
        rm -f "$PIDFILE"
        chown -R "$RUN_USER:$RUN_USER" "$SCRATCH"
        chmod 755 "$(dirname "$SCRATCH")"

        log "starting $VERSION (heap $HEAP, http $URL, transport $TRANSPORT_PORT, data in $SCRATCH)"
        # -d: the launcher daemonizes the server and -p makes the server write its own pid file.
        # setsid + setpriv: own session, unprivileged user, no PAM; the launcher's output (early
        # failures, before the server's own log is set up) goes to launcher.log. No heap
        # pre-touch: pages are committed as the heap is used, which keeps an idle node's RSS low.
        setsid setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups \
            env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$SCRATCH" LANG=C.UTF-8 \
            "${E}_JAVA_HOME=$jhome" "${E}_JAVA_OPTS=-Xms$HEAP -Xmx$HEAP -XX:-AlwaysPreTouch" \
            "${E}_PATH_CONF=$CONF" "${E}_TMPDIR=$SCRATCH/tmp" \
            "$DIST/bin/$product" -d -p "$PIDFILE" >"$LOGDIR/launcher.log" 2>&1 </dev/null &
    fi

    # Alive means: our server's pid file names a live JVM, or the launcher is still at work. The
    # OpenSearch launcher exits as soon as the JVM runs, a moment before the JVM writes its pid
    # file, hence the grace period before calling it dead.
    local t0=$SECONDS launcher=${!:-} dead_since=-1
    while ! healthy; do
        if running_pid >/dev/null || { [[ -n "$launcher" ]] && kill -0 "$launcher" 2>/dev/null; }; then
            dead_since=-1
        elif ((dead_since < 0)); then
            dead_since=$SECONDS
        elif ((SECONDS - dead_since >= 10)); then
            log "the server exited during startup; last lines of its logs:"
            tail -n 30 "$LOGDIR/launcher.log" >&2 || true
            server_log_tail
            return 1
        fi
        if ((SECONDS - t0 >= TIMEOUT)); then
            log "no yellow cluster on $URL after $TIMEOUT s; stopping"
            server_log_tail
            cmd_stop || true
            return 1
        fi
        sleep 0.5
    done
    pid="$(running_pid)" || { log "healthy on $URL but the pid file names no server of ours"; return 1; }
    log "ready on $URL after $((SECONDS - t0)) s (pid $pid)"
    print_url
}

cmd_stop() {
    local pid i
    if ! pid="$(running_pid)"; then
        log "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
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
        if healthy; then
            log "running (pid $pid) on $URL"
            print_url
            return 0
        fi
        log "process $pid alive but $URL not healthy (starting?)"
        return 1
    fi
    log "not running"
    return 1
}

case "${2:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
fetch) cmd_fetch ;;
clean) cmd_stop; rm -rf "$SCRATCH"; log "removed $SCRATCH" ;;
*) echo "usage: $0 opensearch|elasticsearch start|stop|status|fetch|clean" >&2; exit 2 ;;
esac
