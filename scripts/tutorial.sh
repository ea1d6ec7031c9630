#!/usr/bin/env bash
# The tutorial's system on this machine: httpd with mod_jk_rs in front of two real Tomcat 10
# instances, TomcatA and TomcatB (jvmRoute, AJP on loopback with a secret, a DeltaManager cluster
# replicating sessions), configured with the files in httpd-conf/tutorial/.
#
#   scripts/tutorial.sh [start]        build, install what is missing, start all three, print URLs
#   scripts/tutorial.sh stop           stop what start started (by pid)
#   scripts/tutorial.sh status         what is running
#   scripts/tutorial.sh tomcat start|stop|kill TomcatA|TomcatB
#                                      one Tomcat (kill = kill -9: watch its sessions move)
#
# Settings (environment):
#   PORT=8080               httpd's port on 127.0.0.1
#   AJP_PORTS="8009 8010"   TomcatA's and TomcatB's AJP ports (127.0.0.1)
#   CLUSTER_PORTS="4000 4001"  their session-replication ports (127.0.0.1)
#   TUTORIAL_DIR=target/tutorial   where everything lives (configs, logs, pid files)
#   MODULE=path/to/mod.so   use this module instead of building target/release/libmod_jk_rs.so
#   NO_INSTALL=1            never run apt-get: fail naming the missing packages instead
#   WAIT=90                 seconds each Tomcat may take to come up (httpd: 30)
#
# Every wait is bounded; a server counts as started only when the process this script started is
# alive and answers (a Tomcat: an AJP CPing on its port; httpd: a page from one of the Tomcats).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF_SRC=$ROOT/httpd-conf/tutorial
CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
APACHE2=${APACHE2:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
DIR=${TUTORIAL_DIR:-$ROOT/target/tutorial}
PORT=${PORT:-8080}
read -r -a AJP <<<"${AJP_PORTS:-8009 8010}"
read -r -a CLUSTER <<<"${CLUSTER_PORTS:-4000 4001}"
WAIT=${WAIT:-90}
NAMES=(TomcatA TomcatB)
# shellcheck source=scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"

say() { printf '%s\n' "$*"; }
fail() {
    printf 'tutorial.sh: %s\n' "$*" >&2
    exit 1
}

# --- processes: recorded by pid, signalled only while they still are ours ---------------------

pid_file() { echo "$DIR/run/$1.pid"; }

# The recorded pid of $1 (httpd, TomcatA, TomcatB) if that process is alive and still the one we
# started: its command line mentions our directory.
live_pid() {
    local f pid
    f=$(pid_file "$1")
    [ -s "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR" || return 1
    echo "$pid"
}

# Stops $1: SIGTERM (SIGKILL with $2=KILL), then waits up to 30 s, then SIGKILL.
stop_one() {
    local name=$1 sig=${2:-TERM} pid
    if ! pid=$(live_pid "$name"); then
        rm -f "$(pid_file "$name")"
        return 0
    fi
    stop_pid "$name" "$pid" "$sig"
    rm -f "$(pid_file "$name")"
    say "stopped $name (pid $pid)"
}

# --- ports -------------------------------------------------------------------------------------

check_ports() {
    local taken=0 what port var
    while read -r what port var; do
        if ! port_free "$port"; then
            taken=1
            say "port $port ($what) is taken:" >&2
            ss -Hltnp "sport = :$port" 2>/dev/null | sed 's/^/    /' >&2 || true
            say "    choose another with $var, e.g. $var=$(suggest "$var") scripts/tutorial.sh" >&2
        fi
    done <<EOF
httpd $PORT PORT
TomcatA-AJP ${AJP[0]} AJP_PORTS
TomcatB-AJP ${AJP[1]} AJP_PORTS
TomcatA-cluster ${CLUSTER[0]} CLUSTER_PORTS
TomcatB-cluster ${CLUSTER[1]} CLUSTER_PORTS
EOF
    [ "$taken" = 0 ] || fail "nothing was started (ports above are in use)"
}

suggest() {
    case $1 in
    PORT) echo $((PORT + 100)) ;;
    AJP_PORTS) echo "\"$((AJP[0] + 100)) $((AJP[1] + 100))\"" ;;
    CLUSTER_PORTS) echo "\"$((CLUSTER[0] + 100)) $((CLUSTER[1] + 100))\"" ;;
    esac
}

# --- AJP CPing: 12 34 00 01 0A out, 41 42 00 01 09 ("AB", length 1, CPONG) back ---------------

cping() {
    local reply
    reply=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "\x12\x34\x00\x01\x0a" >&3
        head -c 5 <&3 | od -An -tx1' _ "$1" 2>/dev/null) || return 1
    [ "$(echo $reply)" = "41 42 00 01 09" ]
}

# --- what is needed ----------------------------------------------------------------------------

tomcat_skel() {
    for d in "$CATALINA_HOME/skel/conf" "$CATALINA_HOME/etc"; do
        [ -f "$d/web.xml" ] && { echo "$d"; return 0; }
    done
    return 1
}

install_missing() {
    local missing=()
    [ -x "$APACHE2" ] || missing+=(apache2)
    # tomcat10-user: Tomcat 10 and its configuration templates, without the system service
    # (the tomcat10 package would start one on 8080 that has nothing to do with this).
    { [ -x "$CATALINA_HOME/bin/catalina.sh" ] && tomcat_skel >/dev/null; } || missing+=(tomcat10-user)
    command -v java >/dev/null || missing+=(default-jre-headless)
    command -v curl >/dev/null || missing+=(curl)
    command -v python3 >/dev/null || missing+=(python3)
    if [ -z "$MODULE_GIVEN" ]; then
        command -v apxs >/dev/null || missing+=(apache2-dev)
        dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q "ok installed" || missing+=(libclang-dev clang)
    fi
    ((${#missing[@]})) || return 0
    [ -z "${NO_INSTALL:-}" ] || fail "missing: ${missing[*]} (NO_INSTALL is set: apt-get install ${missing[*]})"
    say "installing with apt-get: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- Tomcat ------------------------------------------------------------------------------------

index_of() {
    case $1 in
    TomcatA) echo 0 ;;
    TomcatB) echo 1 ;;
    *) fail "no Tomcat named '$1' (TomcatA or TomcatB)" ;;
    esac
}

# Writes CATALINA_BASE for $1 (once; a restart keeps its logs and work files).
layout_tomcat() {
    local name=$1 base=$DIR/$1 skel
    [ -f "$base/conf/server.xml" ] && return 0
    skel=$(tomcat_skel) || fail "no Tomcat configuration templates in $CATALINA_HOME (apt-get install tomcat10-user)"
    mkdir -p "$base"/{conf,logs,work,temp,webapps/ROOT/WEB-INF}
    cp "$skel/web.xml" "$skel/catalina.properties" "$skel/context.xml" "$base/conf/"
    cp "$CONF_SRC/tomcat/server.xml" "$base/conf/server.xml"
    # The secret as a property Tomcat reads from catalina.properties (on the command line it
    # would be in Tomcat's start-up log and in ps).
    printf '\n# scripts/tutorial.sh: the AJP secret (server.xml: secret="${ajp.secret}")\najp.secret=%s\n' \
        "$SECRET" >>"$base/conf/catalina.properties"
    chmod 600 "$base/conf/catalina.properties"
    # Everything on the console, which catalina.sh sends to logs/catalina.out.
    cat >"$base/conf/logging.properties" <<'EOF'
handlers = java.util.logging.ConsoleHandler
.handlers = java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level = FINE
EOF
    cp "$CONF_SRC/tomcat/webapp/index.jsp" "$base/webapps/ROOT/index.jsp"
    cp "$CONF_SRC/tomcat/webapp/WEB-INF/web.xml" "$base/webapps/ROOT/WEB-INF/web.xml"
}

# Starts Tomcat $1 in the background (does not wait).
spawn_tomcat() {
    local name=$1 i base=$DIR/$1
    i=$(index_of "$name")
    ! live_pid "$name" >/dev/null || fail "$name is already running (pid $(live_pid "$name"))"
    layout_tomcat "$name"
    : >"$base/logs/catalina.out"
    CATALINA_HOME=$CATALINA_HOME CATALINA_BASE=$base CATALINA_PID=$(pid_file "$name") \
        CATALINA_OUT=$base/logs/catalina.out CATALINA_TMPDIR=$base/temp \
        CATALINA_OPTS="-DjvmRoute=$name -Dajp.port=${AJP[$i]} \
-Dcluster.port=${CLUSTER[$i]} -Dcluster.portA=${CLUSTER[0]} -Dcluster.portB=${CLUSTER[1]} \
-Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true -Xmx256m" \
        "$CATALINA_HOME/bin/catalina.sh" start >"$base/logs/start.log" 2>&1 ||
        fail "$name: catalina.sh start failed: $(cat "$base/logs/start.log")"
}

# Waits until Tomcat $1 has started and its AJP connector answers a CPing.
wait_tomcat() {
    local name=$1 i base=$DIR/$1 pid deadline
    i=$(index_of "$name")
    deadline=$((SECONDS + WAIT))
    while :; do
        pid=$(live_pid "$name") || {
            tail -n 30 "$base/logs/catalina.out" >&2
            fail "$name exited during start-up; log: $base/logs/catalina.out"
        }
        if grep -qE "Address already in use|Failed to (start|initialize) (connector|component)" "$base/logs/catalina.out"; then
            tail -n 30 "$base/logs/catalina.out" >&2
            fail "$name could not open its ports; log: $base/logs/catalina.out"
        fi
        if grep -q "Server startup in" "$base/logs/catalina.out" && cping "${AJP[$i]}"; then
            say "$name is up: pid $pid, AJP 127.0.0.1:${AJP[$i]} answers CPing, cluster port ${CLUSTER[$i]}"
            return 0
        fi
        ((SECONDS < deadline)) || {
            tail -n 30 "$base/logs/catalina.out" >&2
            fail "$name (pid $pid) did not answer an AJP CPing within $WAIT s; log: $base/logs/catalina.out"
        }
        sleep 0.25
    done
}

# --- httpd -------------------------------------------------------------------------------------

layout_httpd() {
    local h=$DIR/httpd
    mkdir -p "$h"/{conf,logs,modules,htdocs}
    cp "$MODULE" "$h/modules/mod_jk_rs.so"
    cp "$CONF_SRC/httpd-jk.conf" "$CONF_SRC/uriworkermap.properties" "$h/conf/"
    # The shipped workers.properties with this run's ports and secret.
    sed -e "s|^worker\.TomcatA\.port=.*|worker.TomcatA.port=${AJP[0]}|" \
        -e "s|^worker\.TomcatB\.port=.*|worker.TomcatB.port=${AJP[1]}|" \
        -e "s|^\(worker\.[A-Za-z]*\.secret\)=.*|\1=$SECRET|" \
        "$CONF_SRC/workers.properties" >"$h/conf/workers.properties"
    local user=""
    [ "$(id -u)" -ne 0 ] || user=$'User www-data\nGroup www-data'
    cat >"$h/conf/httpd.conf" <<EOF
# Written by scripts/tutorial.sh: a minimal httpd.conf that includes the tutorial's httpd-jk.conf.
ServerRoot "$h"
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
PidFile logs/httpd.pid
DefaultRuntimeDir logs
Mutex file:logs default
ErrorLog logs/error.log
LogLevel warn jk:info
LoadModule mpm_event_module $APACHE_MODULES/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule authz_host_module $APACHE_MODULES/mod_authz_host.so
<IfModule !log_config_module>
    LoadModule log_config_module $APACHE_MODULES/mod_log_config.so
</IfModule>
$user
DocumentRoot "$h/htdocs"
Include conf/httpd-jk.conf
EOF
    chmod -R a+rX "$h"
    # httpd reads it before it drops privileges; nobody else needs the secret in it.
    chmod 600 "$h/conf/workers.properties"
}

start_httpd() {
    local h=$DIR/httpd pid deadline page
    ! live_pid httpd >/dev/null || fail "httpd is already running (pid $(live_pid httpd))"
    layout_httpd
    "$APACHE2" -t -f "$h/conf/httpd.conf" >"$h/logs/configtest.log" 2>&1 ||
        fail "httpd's configuration test failed: $(cat "$h/logs/configtest.log")"
    : >"$h/logs/error.log"
    rm -f "$h/logs/httpd.pid"
    "$APACHE2" -f "$h/conf/httpd.conf" -k start >"$h/logs/start.log" 2>&1 ||
        fail "httpd did not start: $(cat "$h/logs/start.log" "$h/logs/error.log")"
    deadline=$((SECONDS + 30))
    until [ -s "$h/logs/httpd.pid" ] && grep -q "resuming normal operations" "$h/logs/error.log"; do
        ((SECONDS < deadline)) || fail "httpd did not report ready within 30 s: $(tail -n 20 "$h/logs/error.log")"
        sleep 0.1
    done
    cp "$h/logs/httpd.pid" "$(pid_file httpd)"
    pid=$(live_pid httpd) || fail "httpd exited: $(tail -n 20 "$h/logs/error.log")"
    # The answer must come from one of our Tomcats through our httpd.
    page=$(curl -sS --max-time 15 "http://127.0.0.1:$PORT/index.jsp" 2>&1) || true
    grep -qE "<title>Tomcat[AB]</title>" <<<"$page" ||
        fail "httpd (pid $pid) is up but / did not answer with a Tomcat's page: $page"
    say "httpd is up: pid $pid, http://127.0.0.1:$PORT/"
}

# --- commands ----------------------------------------------------------------------------------

cmd_start() {
    MODULE_GIVEN=${MODULE:-}
    for n in httpd "${NAMES[@]}"; do
        ! live_pid "$n" >/dev/null || fail "already running ($n, pid $(live_pid "$n")); scripts/tutorial.sh stop first"
    done
    install_missing
    if [ -z "$MODULE_GIVEN" ]; then
        say "building mod_jk_rs (cargo build --release --lib)"
        (cd "$ROOT" && cargo build --release --lib)
        MODULE=$ROOT/target/release/libmod_jk_rs.so
    fi
    [ -f "$MODULE" ] || fail "module not found: $MODULE"
    check_ports
    rm -rf "$DIR"
    mkdir -p "$DIR/run"
    # One secret per run, written to both sides (the shipped files say change-me).
    SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    echo "$SECRET" >"$DIR/run/secret"
    chmod 600 "$DIR/run/secret"
    save_settings
    # Whatever fails from here on, stop what this run started.
    trap 'cmd_stop >/dev/null 2>&1' ERR
    trap 'cmd_stop >/dev/null 2>&1; exit 1' INT TERM
    (
        set +e
        trap - ERR
        spawn_tomcat TomcatA && spawn_tomcat TomcatB && wait_tomcat TomcatA && wait_tomcat TomcatB && start_httpd
    ) || {
        say "stopping what was started" >&2
        cmd_stop >&2
        exit 1
    }
    trap - ERR INT TERM
    cat <<MSG

The tutorial's system is running (all on 127.0.0.1):
  http://127.0.0.1:$PORT/index.jsp   the application, balanced over TomcatA and TomcatB (lbcluster)
  http://127.0.0.1:$PORT/jkstatus    the status page (stat1)
Try it:
  curl -s http://127.0.0.1:$PORT/index.jsp | grep h1     # without a session: TomcatA, TomcatB, ...
  curl -s -c jar -b jar http://127.0.0.1:$PORT/index.jsp | grep -A1 Session   # sticky: same id
  scripts/tutorial.sh tomcat kill TomcatA    # kill -9: its sessions continue on TomcatB
  scripts/tutorial.sh tomcat start TomcatA   # and it is taken back (within ~20 s)
Files: $DIR/httpd/conf (httpd), $DIR/TomcatA/conf, $DIR/TomcatB/conf (Tomcat);
logs: $DIR/httpd/logs/error.log, $DIR/Tomcat?/logs/catalina.out
Stop: scripts/tutorial.sh stop
MSG
}

# Settings of a running system, so that stop/tomcat use the same ports and secret.
save_settings() {
    {
        printf 'PORT=%q\n' "$PORT"
        printf 'AJP_PORTS=%q\n' "${AJP[*]}"
        printf 'CLUSTER_PORTS=%q\n' "${CLUSTER[*]}"
    } >"$DIR/run/settings"
}

load_settings() {
    [ -f "$DIR/run/settings" ] || return 0
    # shellcheck disable=SC1091
    . "$DIR/run/settings"
    read -r -a AJP <<<"$AJP_PORTS"
    read -r -a CLUSTER <<<"$CLUSTER_PORTS"
    SECRET=$(cat "$DIR/run/secret" 2>/dev/null || echo change-me)
}

cmd_stop() {
    stop_one httpd
    for n in "${NAMES[@]}"; do stop_one "$n"; done
}

cmd_status() {
    local any=0 pid
    for n in httpd "${NAMES[@]}"; do
        if pid=$(live_pid "$n"); then
            say "$n: running, pid $pid"
            any=1
        else
            say "$n: not running"
        fi
    done
    [ "$any" = 1 ]
}

cmd_tomcat() {
    local action=${1:-} name=${2:-}
    index_of "$name" >/dev/null
    load_settings
    case $action in
    start)
        port_free "${AJP[$(index_of "$name")]}" || fail "AJP port ${AJP[$(index_of "$name")]} is taken"
        spawn_tomcat "$name"
        wait_tomcat "$name"
        ;;
    stop) stop_one "$name" ;;
    kill) stop_one "$name" KILL ;;
    *) fail "usage: scripts/tutorial.sh tomcat start|stop|kill TomcatA|TomcatB" ;;
    esac
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
tomcat)
    shift
    cmd_tomcat "$@"
    ;;
*) fail "usage: scripts/tutorial.sh [start|stop|status|tomcat start|stop|kill NAME]" ;;
esac
