# scripts/lib/processes.sh: process and port helpers shared by scripts/tutorial.sh and
# tests/bench/tomcat.sh (sourced, not run). Only pids the caller recorded itself are signalled.

# Succeeds while process $1 exists and is not a zombie.
alive() {
    [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# Stops process $2 (called $1 in messages): signal $3, up to 30 s for it to go, then SIGKILL if
# it is still there and the command in the remaining arguments, if any, still says it is ours.
# Messages go through the caller's `say`.
stop_pid() {
    local name=$1 pid=$2 sig=$3
    shift 3
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 300); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid" && { [ $# -eq 0 ] || "$@"; }; then
        say "$name (pid $pid) did not stop within 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Succeeds when 127.0.0.1:$1 can be bound (nothing listens there).
port_free() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
