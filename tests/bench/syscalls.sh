#!/usr/bin/env bash
# tests/bench/syscalls.sh: system calls per request, by name, for the four front ends.
#
# For each front end (mod_jk_rs, mod_jk, mod_proxy_ajp, static) runs one httpd process
# (`apache2 -X -f conf`, run.sh's conf with ThreadsPerChild 4) under `strace -f` twice: once with
# W warm-up requests plus N requests on one keep-alive connection, once with the W warm-up
# requests only. (calls of the first - calls of the second) / N, per system call name, is what one
# request costs in user/kernel round trips -- the kernel side of the cost that callgrind.sh's
# instruction count does not see. See README.md.
#
#   tests/bench/syscalls.sh [--requests 2000] [--warmup-requests 200] [--mpm event|worker|prefork]
#                           [--scenarios 1k-keepalive,sticky,...] [--front-ends ...]
#                           [--topology single|lb] [--backend fast|pieces|test]
#                           [--module PATH | --no-build] [--keep] [--json FILE]

set -euo pipefail
source "$(dirname "$0")/prepare.sh"
bench_prepare syscalls "strace" "$@"
exec python3 "$BENCH_DIR/bench.py" "${BENCH_ARGS[@]}"
