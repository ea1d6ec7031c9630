#!/usr/bin/env bash
# tests/bench/run.sh: mod_jk_rs against mod_jk, mod_proxy_ajp and static files, loaded with wrk.
#
# Builds the release module, the test backend and tests/bench/ajp_responder.rs, starts two AJP
# responders and the same Debian httpd four times (mod_jk_rs, mod_jk, mod_proxy_ajp, static) on
# free 127.0.0.1 ports, checks every answer, runs the scenarios interleaved (A B C D A B C D ...)
# and prints one table per scenario, then the targets. Stops only what it started. See README.md.
#
#   tests/bench/run.sh [--quick] [--mpm event|worker|prefork] [--rounds 3] [--duration 5]
#                      [--warmup 2] [--scenarios 1k-keepalive,1k-close,100k,10m,post-1m,c200,sticky]
#                      [--front-ends mod_jk_rs,mod_jk,mod_proxy_ajp,static] [--topology single|lb]
#                      [--backend fast|test] [--tomcat HOST:PORT,HOST:PORT --tomcat-path /bench/size.jsp]
#                      [--module PATH | --no-build] [--keep] [--json FILE]
#
#   --quick    1 round of 2 s per front end and scenario, 1 s warm-up: under 2 minutes.
#   --module   use this libmod_jk_rs.so and skip the cargo build; --no-build skips all building.

set -euo pipefail
source "$(dirname "$0")/prepare.sh"
bench_prepare run "wrk" "$@"
exec python3 "$BENCH_DIR/bench.py" "${BENCH_ARGS[@]}"
