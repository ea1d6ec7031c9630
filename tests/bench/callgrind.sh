#!/usr/bin/env bash
# tests/bench/callgrind.sh: instructions and heap allocations per request, deterministic.
#
# For each front end (mod_jk_rs, mod_jk, mod_proxy_ajp, static) runs one httpd process
# (`apache2 -X -f conf`, run.sh's conf with ThreadsPerChild 4) under `valgrind --tool=callgrind`
# twice: once with W warm-up requests plus N requests on one keep-alive connection, once with the
# W warm-up requests only. (Ir of the first - Ir of the second) / N is the cost of one request,
# start-up and shut-down cancelling out; the same difference of the calls into malloc, calloc,
# realloc, posix_memalign, aligned_alloc, memalign and valloc counted by callgrind is the
# allocations per request, listed by the function that asked for them. See README.md.
#
#   tests/bench/callgrind.sh [--requests 2000] [--warmup-requests 200] [--mpm event|worker|prefork]
#                            [--scenarios 1k-keepalive,sticky,...] [--front-ends ...]
#                            [--topology single|lb] [--backend fast|pieces|test]
#                            [--module PATH | --no-build] [--keep] [--json FILE]

set -euo pipefail
source "$(dirname "$0")/prepare.sh"
bench_prepare callgrind "valgrind" "$@"
exec python3 "$BENCH_DIR/bench.py" "${BENCH_ARGS[@]}"
