#!/usr/bin/env bash
# scripts/soak.sh: the soak test of issue #19 (bounded, not in CI). Builds the release module, the
# test AJP backend and the soak driver (tests/soak/), then for each MPM: two backend processes
# behind an lb worker with sticky sessions, C keep-alive clients sending N requests (mostly GETs,
# 10 % POSTs with a body, 2 % 64 KiB answers) paced over D seconds, while one backend after the
# other is killed (SIGKILL) and started again on its port. Prints a summary table per MPM and
# exits non-zero on any wrong-client answer, duplicated POST, failed GET, unexplained failed POST,
# crashed child, or child RSS / descriptors not flat from the first minute to the last.
#
#   scripts/soak.sh [--mpm prefork|event|both] [--requests 300000] [--connections 200]
#                   [--duration 300] [--warmup 20000] [--kill-every 4] [--down 1.5] [--time-limit 600]
#                   [--post-per-mille 100] [--no-build]
#
#   --duration 0   as fast as httpd answers (no pacing).
#   --warmup N     requests sent flat out first, every backend up, not counted: every child and
#                  thread has served before the first minute's RSS is sampled.
# Logs of the last run (request logs of the backends, httpd's error and access logs) are kept in
# target/soak/<mpm>/. Everything runs on 127.0.0.1 and under `nice -n 10`; only the processes the
# driver started are ever signalled.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
build=1
args=()
while (($#)); do
    case $1 in
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
    esac
done
[ -x /usr/sbin/apache2 ] || { echo "apache2 is missing: scripts/setup.sh installs it" >&2; exit 1; }
if ((build)); then
    (cd "$ROOT" && nice -n 10 cargo build --release --lib --example ajp-backend --example soak)
fi
exec nice -n 10 "$TARGET/release/examples/soak" \
    --module "$TARGET/release/libmod_jk_rs.so" \
    --backend-bin "$TARGET/release/examples/ajp-backend" \
    --out "$TARGET/soak" "${args[@]}"
