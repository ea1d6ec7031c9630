#!/usr/bin/env bash
# Runs the fuzz targets under fuzz/ (cargo-fuzz, libFuzzer) for a short while each.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Default: every target for 30 s. Prints the executions each target ran; exits non-zero when
# a target crashes (a panic, a failed invariant, a sanitizer report or a timeout), after showing
# the reproducer and the command that replays it.
#
# Environment:
#   FUZZ_SANITIZER  cargo fuzz's -s (default: address; `none` builds without a sanitizer,
#                   about twice as fast; the core has no unsafe outside src/shm).
#   FUZZ_NICE       nice level of the runs (default 15: the machine is shared).
#   FUZZ_ARGS       extra libFuzzer flags, e.g. "-runs=10000000" for a long campaign
#                   (then the time limit still applies: pass a large seconds-per-target).
#   FUZZ_LOGS       directory to keep each target's libFuzzer log in (default: a temporary
#                   one, removed when nothing crashed).
#
# Builds are release builds with debug assertions and overflow checks on (cargo fuzz -a).
#
# cargo fuzz needs nightly-only rustc flags (-Z sanitizer, -C passes=sancov-module). With a
# stable toolchain, RUSTC_BOOTSTRAP=1 lets stable rustc accept them; this script sets it.
# cargo-fuzz is installed with `cargo install cargo-fuzz` when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

seconds=${1:-30}
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [seconds-per-target] [target...]" >&2
    exit 2
fi
shift || true

export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-address}
nice_level=${FUZZ_NICE:-15}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    nice -n "$nice_level" cargo install cargo-fuzz
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

build=(-s "$sanitizer" --debug-assertions)
nice -n "$nice_level" cargo fuzz build "${build[@]}"

if [ -n "${FUZZ_LOGS:-}" ]; then
    logs=$FUZZ_LOGS
    mkdir -p "$logs"
else
    logs=$(mktemp -d)
fi
failed=()
for target in "${targets[@]}"; do
    dict=()
    [ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
    mkdir -p "corpus/$target" "artifacts/$target"
    log="$logs/$target.log"
    start=$(date +%s)
    # -timeout: one input taking longer than 10 s is a hang, reported like a crash.
    # shellcheck disable=SC2086
    if nice -n "$nice_level" cargo fuzz run "${build[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${dict[@]}" \
        ${FUZZ_ARGS:-} >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$target")
    fi
    elapsed=$(($(date +%s) - start))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -oE '(DONE|pulse|NEW|REDUCE) +cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
    printf '%-22s %-5s %12s execs %6ss  cov %s\n' "$target" "$status" "${execs:-?}" "$elapsed" "${cov:-?}"
    if [ "$status" = CRASH ]; then
        grep -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)|SUMMARY' "$log" | head -5 | sed 's/^/    /'
        artifact=$(grep -o 'artifacts/[^ ]*' "$log" | tail -1)
        echo "    reproducer: fuzz/$artifact"
        echo "    replay:     cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${build[*]} $target $artifact"
        echo "    shrink:     cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz tmin ${build[*]} $target $artifact"
        echo "    full log:   $log"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: crashed: ${failed[*]}" >&2
    exit 1
fi
[ -n "${FUZZ_LOGS:-}" ] || rm -rf "$logs"
