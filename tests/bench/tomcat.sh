#!/usr/bin/env bash
# tests/bench/tomcat.sh: two real Tomcat 10.1 instances, tomcatA and tomcatB, as the benchmark's
# AJP backends (tests/bench/run.sh --tomcat ...). Each is its own CATALINA_BASE under DIR with the
# files of tests/bench/tomcat/: one AJP/1.3 connector on 127.0.0.1 (no secret, no HTTP connector,
# no shutdown port, no cluster, no access log) and the application /bench, whose size.jsp answers
# ?size=N with N bytes of the benchmark's pattern.
#
#   tests/bench/tomcat.sh start [--dir DIR] [--ports P1,P2]
#       lay out both CATALINA_BASEs afresh, start both, wait until each answers an AJP CPing,
#       check its answers and warm it up through AJP (ajp_client.py check), then print the
#       --tomcat argument for run.sh on stdout: 127.0.0.1:P1,127.0.0.1:P2 (all else: stderr)
#   tests/bench/tomcat.sh stop [--dir DIR]     stop both (by pid; only if they are ours)
#   tests/bench/tomcat.sh status [--dir DIR]   what is running
#   tests/bench/tomcat.sh pids [--dir DIR]     their pids, PID1,PID2 (run.sh --tomcat-pids)
#
#   DIR     default target/bench-tomcat (CARGO_TARGET_DIR/bench-tomcat when that is set)
#   --ports default: two free ports, chosen at start
#
# Settings (environment):
#   CATALINA_HOME=/usr/share/tomcat10   the Tomcat installation (Debian's tomcat10 / tomcat10-user)
#   JAVA=java                           the java command
#   TOMCAT_JAVA_OPTS="-Xms256m -Xmx512m -XX:+UseParallelGC"   each JVM's options
#   TOMCAT_MAX_THREADS=256  TOMCAT_MAX_CONNECTIONS=1024  TOMCAT_ACCEPT_COUNT=256  (server.xml)
#   WARMUP_REQUESTS=20000   1 KiB requests per Tomcat after the answer checks
#   WAIT=90                 seconds each Tomcat may take to answer a CPing
#
# Stops only what it started: a pid from DIR/run/<name>.pid is signalled only while that
# process's command line holds -Dcatalina.base=DIR/<name>. Never touches the system's tomcat10
# service or /etc/tomcat10. Traffic: loopback only.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
CONF_SRC=$BENCH_DIR/tomcat
CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
JAVA=${JAVA:-java}
TOMCAT_JAVA_OPTS=${TOMCAT_JAVA_OPTS:--Xms256m -Xmx512m -XX:+UseParallelGC}
MAX_THREADS=${TOMCAT_MAX_THREADS:-256}
MAX_CONNECTIONS=${TOMCAT_MAX_CONNECTIONS:-1024}
ACCEPT_COUNT=${TOMCAT_ACCEPT_COUNT:-256}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-20000}
# shellcheck source=scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
WAIT=${WAIT:-90}
# bench.py's BACKEND_NAMES: the lb worker's members and the jvmRoutes.
NAMES=(tomcatA tomcatB)
APP_PATH=/bench/size.jsp

say() { printf '%s\n' "$*" >&2; }
fail() {
    printf 'tomcat.sh: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo pipefail/s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

# --- arguments ---------------------------------------------------------------------------------

COMMAND=${1:-}
[ $# -eq 0 ] || shift
DIR=${CARGO_TARGET_DIR:-$ROOT/target}/bench-tomcat
PORTS=""
while (($#)); do
    case $1 in
    --dir)
        [ $# -ge 2 ] || fail "--dir needs a directory"
        DIR=$2
        shift 2
        ;;
    --ports)
        [ $# -ge 2 ] || fail "--ports needs P1,P2"
        PORTS=$2
        shift 2
        ;;
    -h | --help) usage 0 ;;
    *) fail "unknown argument '$1' (tests/bench/tomcat.sh --help)" ;;
    esac
done
DIR=$(realpath -m -- "$DIR")

# --- processes: recorded by pid, signalled only while they still are ours ---------------------

pid_file() { echo "$DIR/run/$1.pid"; }
base_of() { echo "$DIR/$1"; }

# Succeeds when process $1 runs with the argument -Dcatalina.base=<base of $2>: the java command
# line (and setsid's, which execs it) has it from the start.
is_ours() {
    local pid=$1 name=$2
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Dcatalina.base=$(base_of "$name")"
}

# The recorded pid of Tomcat $1 if that process is alive and still the one we started.
live_pid() {
    local f pid
    f=$(pid_file "$1")
    [ -s "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] && alive "$pid" && is_ours "$pid" "$1" || return 1
    echo "$pid"
}

# Stops Tomcat $1: SIGTERM (Tomcat shuts down in order), up to 30 s, then SIGKILL.
stop_one() {
    local name=$1 pid
    if ! pid=$(live_pid "$name"); then
        rm -f "$(pid_file "$name")"
        return 0
    fi
    stop_pid "$name" "$pid" TERM is_ours "$pid" "$name"
    rm -f "$(pid_file "$name")"
    say "stopped $name (pid $pid)"
}

# --- ports -------------------------------------------------------------------------------------

# Two distinct ports the kernel calls free right now, "P1 P2".
free_ports() {
    python3 - <<'PY'
import socket
held = [socket.socket() for _ in range(2)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
}

# --- layout ------------------------------------------------------------------------------------

tomcat_skel() {
    local d
    for d in "$CATALINA_HOME/skel/conf" "$CATALINA_HOME/etc"; do
        [ -f "$d/catalina.properties" ] && { echo "$d"; return 0; }
    done
    return 1
}

check_tools() {
    command -v "$JAVA" >/dev/null || fail "no '$JAVA' command: sudo apt-get install -y default-jre-headless"
    command -v python3 >/dev/null || fail "python3 not found"
    command -v setsid >/dev/null || fail "setsid not found (util-linux)"
    [ -f "$CATALINA_HOME/bin/bootstrap.jar" ] && [ -f "$CATALINA_HOME/bin/tomcat-juli.jar" ] ||
        fail "no Tomcat in CATALINA_HOME=$CATALINA_HOME: sudo apt-get install -y tomcat10-user"
    tomcat_skel >/dev/null || fail "no configuration templates in $CATALINA_HOME (tomcat10-user)"
}

# A fresh CATALINA_BASE for $1 (only DIR/<name> is removed, never DIR itself).
layout_tomcat() {
    local name=$1 base skel
    base=$(base_of "$name")
    skel=$(tomcat_skel)
    rm -rf "$base"
    mkdir -p "$base"/{conf,logs,work,temp,webapps}
    cp "$skel/catalina.properties" "$base/conf/"
    cp "$CONF_SRC/server.xml" "$CONF_SRC/web.xml" "$CONF_SRC/logging.properties" "$base/conf/"
    cp -r "$CONF_SRC/bench" "$base/webapps/bench"
}

# --- start -------------------------------------------------------------------------------------

# Starts Tomcat $1 on port $2 in the background, in its own session (a Ctrl-C in the terminal
# does not reach it: `stop` does), and records its pid. Java directly rather than catalina.sh:
# no setenv.sh, JAVA_OPTS or /etc/default file can change what runs, and the pid recorded is the
# JVM's from the first instant. Logs: logs/catalina.out, and logs/gc.log (a line per garbage
# collection, to tell whether a pause can explain a latency figure).
spawn_tomcat() {
    local name=$1 port=$2 base
    base=$(base_of "$name")
    local -a opts
    read -r -a opts <<<"$TOMCAT_JAVA_OPTS"
    # The --add-opens of catalina.sh for Java 9+ (Tomcat's memory-leak protection uses them).
    setsid "$JAVA" "${opts[@]}" \
        --add-opens=java.base/java.lang=ALL-UNNAMED \
        --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
        --add-opens=java.base/java.io=ALL-UNNAMED \
        --add-opens=java.base/java.util=ALL-UNNAMED \
        --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
        --add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED \
        "-Dcatalina.base=$base" "-Dcatalina.home=$CATALINA_HOME" "-Djava.io.tmpdir=$base/temp" \
        "-Djava.util.logging.config.file=$base/conf/logging.properties" \
        -Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager \
        -Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true \
        "-Xlog:gc:file=$base/logs/gc.log" \
        "-Dbench.ajp.port=$port" "-Dbench.jvm.route=$name" \
        "-Dbench.max.threads=$MAX_THREADS" "-Dbench.max.connections=$MAX_CONNECTIONS" \
        "-Dbench.accept.count=$ACCEPT_COUNT" \
        -classpath "$CATALINA_HOME/bin/bootstrap.jar:$CATALINA_HOME/bin/tomcat-juli.jar" \
        org.apache.catalina.startup.Bootstrap start \
        >"$base/logs/catalina.out" 2>&1 </dev/null &
    echo $! >"$(pid_file "$name")"
}

# Waits until Tomcat $1 (port $2) has started and answers a CPing, at most WAIT seconds.
wait_tomcat() {
    local name=$1 port=$2 log pid deadline
    log=$(base_of "$name")/logs/catalina.out
    deadline=$((SECONDS + WAIT))
    while :; do
        pid=$(live_pid "$name") || {
            tail -n 30 "$log" >&2
            fail "$name exited during start-up; log: $log"
        }
        if grep -qE "Address already in use|Failed to (start|initialize)" "$log"; then
            tail -n 30 "$log" >&2
            fail "$name could not open its port $port; log: $log"
        fi
        if grep -q "Server startup in" "$log" && python3 -B "$BENCH_DIR/ajp_client.py" cping --port "$port"; then
            say "$name is up: pid $pid, AJP 127.0.0.1:$port answers CPing ($(grep -o 'Server startup in.*' "$log"))"
            return 0
        fi
        ((SECONDS < deadline)) || {
            tail -n 30 "$log" >&2
            fail "$name (pid $pid) did not answer an AJP CPing within $WAIT s; log: $log"
        }
        sleep 0.25
    done
}

cmd_start() {
    local -a ports
    local i name
    check_tools
    for name in "${NAMES[@]}"; do
        ! live_pid "$name" >/dev/null ||
            fail "$name is already running (pid $(live_pid "$name")); tests/bench/tomcat.sh stop --dir $DIR first"
    done
    if [ -n "$PORTS" ]; then
        IFS=, read -r -a ports <<<"$PORTS"
        [ ${#ports[@]} -eq 2 ] && [[ ${ports[0]} =~ ^[0-9]+$ && ${ports[1]} =~ ^[0-9]+$ ]] &&
            [ "${ports[0]}" != "${ports[1]}" ] || fail "--ports needs two different ports, P1,P2"
        for i in 0 1; do
            port_free "${ports[$i]}" || fail "port ${ports[$i]} (${NAMES[$i]}) is taken"
        done
    else
        read -r -a ports <<<"$(free_ports)"
    fi
    mkdir -p "$DIR/run"
    rm -f "$DIR/run/tomcat-arg"
    for name in "${NAMES[@]}"; do layout_tomcat "$name"; done
    # Whatever fails or interrupts from here on, stop what this run started.
    trap 'cmd_stop 2>/dev/null' ERR
    trap 'cmd_stop 2>/dev/null; exit 1' INT TERM
    (
        set +e
        trap - ERR
        spawn_tomcat "${NAMES[0]}" "${ports[0]}" && spawn_tomcat "${NAMES[1]}" "${ports[1]}" &&
            wait_tomcat "${NAMES[0]}" "${ports[0]}" && wait_tomcat "${NAMES[1]}" "${ports[1]}" &&
            python3 -B "$BENCH_DIR/ajp_client.py" check --port "${ports[0]}" --path "$APP_PATH" \
                --name "${NAMES[0]}" --warmup "$WARMUP_REQUESTS" &&
            python3 -B "$BENCH_DIR/ajp_client.py" check --port "${ports[1]}" --path "$APP_PATH" \
                --name "${NAMES[1]}" --warmup "$WARMUP_REQUESTS"
    ) || {
        say "stopping what was started; logs: $DIR/tomcat?/logs/catalina.out"
        cmd_stop
        exit 1
    }
    trap - ERR INT TERM
    local arg="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}"
    echo "$arg" >"$DIR/run/tomcat-arg"
    say "JVM options: $TOMCAT_JAVA_OPTS; AJP maxThreads $MAX_THREADS, maxConnections $MAX_CONNECTIONS"
    say "run.sh: --tomcat $arg --tomcat-path $APP_PATH --tomcat-pids $(cmd_pids)"
    say "stop:   tests/bench/tomcat.sh stop --dir $DIR"
    echo "$arg"
}

cmd_stop() {
    local name
    for name in "${NAMES[@]}"; do stop_one "$name"; done
}

cmd_status() {
    local any=0 pid name
    for name in "${NAMES[@]}"; do
        if pid=$(live_pid "$name"); then
            say "$name: running, pid $pid, $(base_of "$name")"
            any=1
        else
            say "$name: not running"
        fi
    done
    [ -s "$DIR/run/tomcat-arg" ] && [ "$any" = 1 ] && say "--tomcat $(cat "$DIR/run/tomcat-arg")"
    [ "$any" = 1 ]
}

cmd_pids() {
    local a b
    a=$(live_pid "${NAMES[0]}") || fail "${NAMES[0]} is not running"
    b=$(live_pid "${NAMES[1]}") || fail "${NAMES[1]} is not running"
    echo "$a,$b"
}

case $COMMAND in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
pids) cmd_pids ;;
-h | --help) usage 0 ;;
*) usage 2 ;;
esac
