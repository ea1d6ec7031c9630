#!/usr/bin/env bash
# tests/bench/run.sh: mod_jk_rs against mod_jk, mod_proxy_ajp and static files, loaded with wrk.
#
# Builds the release module, the test backend and tests/bench/ajp_responder.rs, starts two AJP
# responders and the same Debian httpd four times (mod_jk_rs, mod_jk, mod_proxy_ajp, static) on
# free 127.0.0.1 ports, checks every answer, runs the scenarios interleaved (A B C D A B C D ...)
# and prints one table per scenario, then the targets. Stops only what it started. See README.md.
#
#   tests/bench/run.sh [--quick] [--mpm event|worker|prefork] [--rounds 3] [--duration 5]
#                      [--warmup 2] [--scenarios 1k-keepalive,1k-close,100k,10m,post-1m,c200,c50,sticky,...]
#                      [--front-ends mod_jk_rs,mod_jk,mod_proxy_ajp,static] [--topology single|lb]
#                      [--backend fast|pieces|test] [--tomcat HOST:PORT,HOST:PORT --tomcat-path /bench/size.jsp
#                      [--tomcat-pids PID,PID]] [--tomcat-local]
#                      [--pin] [--base-module OTHER.so]
#                      [--module PATH | --no-build] [--keep] [--json FILE]
#
#   --quick    1 round of 2 s per front end and scenario, 1 s warm-up: under 2 minutes.
#   --module   use this libmod_jk_rs.so and skip the cargo build; --no-build skips all building.
#   --tomcat-local  two real Tomcat 10.1 behind the front ends instead of our responders:
#              tests/bench/tomcat.sh starts them (in target/bench-tomcat), the run goes through
#              their /bench/size.jsp with --tomcat, --tomcat-path and --tomcat-pids, and they
#              are stopped at the end, whatever happens (Ctrl-C included).

set -euo pipefail
source "$(dirname "$0")/prepare.sh"

tomcat_local=0
args=()
for arg in "$@"; do
    case $arg in
    --tomcat-local) tomcat_local=1 ;;
    *) args+=("$arg") ;;
    esac
done
if ((tomcat_local)); then
    for arg in "${args[@]}"; do
        case $arg in
        --tomcat | --tomcat=* | --tomcat-path | --tomcat-path=* | --tomcat-pids | --tomcat-pids=*)
            echo "--tomcat-local starts its own Tomcats: leave out $arg" >&2
            exit 2
            ;;
        esac
    done
fi

bench_prepare run "wrk" "${args[@]}"
((tomcat_local)) || exec python3 "$BENCH_DIR/bench.py" "${BENCH_ARGS[@]}"

tomcat_dir=$TARGET/bench-tomcat
# Tomcats someone started there by hand are theirs: neither reused nor stopped.
if "$BENCH_DIR/tomcat.sh" status --dir "$tomcat_dir" 2>/dev/null; then
    echo "Tomcats already run in $tomcat_dir: measure through them with" \
        "--tomcat $(cat "$tomcat_dir/run/tomcat-arg" 2>/dev/null) --tomcat-path /bench/size.jsp," \
        "or stop them (tests/bench/tomcat.sh stop)" >&2
    exit 1
fi
trap '"$BENCH_DIR/tomcat.sh" stop --dir "$tomcat_dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tomcat=$("$BENCH_DIR/tomcat.sh" start --dir "$tomcat_dir")
pids=$("$BENCH_DIR/tomcat.sh" pids --dir "$tomcat_dir")
python3 "$BENCH_DIR/bench.py" "${BENCH_ARGS[@]}" \
    --tomcat "$tomcat" --tomcat-path /bench/size.jsp --tomcat-pids "$pids"
