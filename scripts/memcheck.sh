#!/usr/bin/env bash
# scripts/memcheck.sh: the end-to-end core (foundation, lb, failures, status) once with httpd under
# valgrind's memcheck in single-process mode (`apache2 -X`, started by tests/support/httpd.rs
# through MOD_JK_RS_HTTPD_WRAPPER; its start and stop timeouts stretch with it), then reads every
# valgrind log: errors are counted by kind, ours (a frame of mod_jk_rs or shim.c in the error's
# own stack) apart from the rest. Exits 1 when valgrind found any error of ours, or when a test
# failed. Tests that need several httpd processes or a restart (httpd -X exits on one) are
# skipped by name below. Noise from httpd/APR/libc is in tests/memcheck/httpd.supp.
#
#   scripts/memcheck.sh [--jobs 2] [--suites e2e_foundation,e2e_lb,e2e_failures,e2e_status]
#                       [--no-build] [-- extra libtest arguments, e.g. a test name filter]
#
# Logs: target/memcheck/vg.<pid>.log (one per httpd), target/memcheck/tests.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/memcheck
SUITES=(e2e_foundation e2e_lb e2e_failures e2e_status)
# Not under -X: they need several children (prefork spread, shared memory seen by other
# processes) or restart httpd (a restart signal ends httpd -X).
SKIP=(
    core_scenarios_pass_under_the_prefork_mpm   # e2e_foundation: prefork, several children
    core_scenarios_pass_under_the_worker_mpm    # the same scenarios as event, under worker
    weights_hold_in_aggregate_across_prefork_children   # e2e_lb: several children
    graceful_restart_keeps_counters_and_states          # e2e_lb: restarts
    hard_restart_keeps_counters_and_states
    connected_counts_open_backend_connections_across_children   # restart, several children
    a_drain_by_plain_get_is_seen_by_every_prefork_child  # e2e_status: several children
    an_edit_survives_a_graceful_restart                  # restart
)
jobs=2 build=1 extra=()
while (($#)); do
    case $1 in
    --jobs) jobs=$2; shift 2 ;;
    --suites) IFS=, read -r -a SUITES <<<"$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
cd "$ROOT"
tests=()
for s in "${SUITES[@]}"; do tests+=(--test "$s"); done
if ((build)); then
    nice -n 10 cargo test --no-run "${tests[@]}" 2>&1 | tail -n 1
fi
rm -rf "$OUT" && mkdir -p "$OUT"
chmod 777 "$OUT" # the logs are written after httpd drops to www-data when run as root
skips=()
for t in "${SKIP[@]}"; do skips+=(--skip "$t"); done
export MOD_JK_RS_HTTPD_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes \
--num-callers=40 --error-limit=no --vgdb=no --suppressions=$ROOT/tests/memcheck/httpd.supp \
--gen-suppressions=all --log-file=$OUT/vg.%p.log"
set +e
nice -n 10 cargo test --no-fail-fast "${tests[@]}" -- --test-threads="$jobs" "${skips[@]}" "${extra[@]}" \
    >"$OUT/tests.log" 2>&1
tests_status=$?
set -e
grep -E '^test result:|^test .* FAILED$|^    [a-z_0-9:]+$' "$OUT/tests.log" || true

python3 - "$OUT" <<'PY'
import glob, os, re, sys
out = sys.argv[1]
kinds = {}          # kind -> [ours, not ours]
ours_examples = []
logs = sorted(glob.glob(os.path.join(out, "vg.*.log")))
for path in logs:
    lines = [re.sub(r"^==\d+== ?", "", l.rstrip("\n")) for l in open(path, errors="replace")]
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = None
        for k in ("Invalid read", "Invalid write", "Invalid free", "Mismatched free",
                  "Conditional jump or move depends on uninitialised",
                  "Use of uninitialised value", "Syscall param", "Source and destination overlap",
                  "Argument 'size' of function", "Jump to the invalid address"):
            if line.startswith(k):
                kind = k
        if kind is None:
            i += 1
            continue
        # The error's own stack: the "at"/"by" lines right after its first line.
        j = i + 1
        stack = []
        while j < len(lines) and re.match(r"\s+(at|by) 0x", lines[j]):
            stack.append(lines[j]); j += 1
        ours = any("mod_jk_rs" in f or "shim.c" in f for f in stack)
        kinds.setdefault(kind, [0, 0])[0 if ours else 1] += 1
        if ours and len(ours_examples) < 5:
            block = [line] + stack
            k = j
            while k < len(lines) and lines[k].strip() and not lines[k].startswith("{"):
                block.append(lines[k]); k += 1
            ours_examples.append(os.path.basename(path) + ":\n  " + "\n  ".join(block))
        i = j
suppressed = 0
for path in logs:
    for l in open(path, errors="replace"):
        m = re.search(r"ERROR SUMMARY: \d+ errors from \d+ contexts \(suppressed: (\d+)", l)
        if m: suppressed += int(m.group(1))
print(f"\nvalgrind: {len(logs)} httpd processes checked, {suppressed} errors suppressed as not ours")
print(f"{'kind':<55} {'ours':>6} {'not ours':>9}")
total_ours = 0
for k, (o, n) in sorted(kinds.items()):
    print(f"{k:<55} {o:>6} {n:>9}")
    total_ours += o
if not kinds:
    print("(no errors)")
for e in ours_examples:
    print("\n" + e)
sys.exit(1 if total_ours else 0)
PY
vg_status=$?
if ((tests_status != 0)); then
    echo "memcheck: some tests failed under valgrind (see $OUT/tests.log)"
fi
if ((vg_status != 0)); then
    echo "memcheck: FAIL: valgrind reports errors in mod_jk_rs or the shim"
    exit 1
fi
((tests_status == 0)) || exit 1
echo "memcheck: PASS"
