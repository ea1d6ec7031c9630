# tests/bench/prepare.sh: sourced by run.sh, callgrind.sh and syscalls.sh. Checks the tools,
# builds the release module, the test backend and the benchmark's AJP responder, then leaves the
# arguments for bench.py in BENCH_ARGS. Handles --module PATH (use that .so, build nothing with
# cargo), --no-build (use what target/ holds) and --help; every other argument goes to bench.py.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

bench_prepare() {
    local command=$1 tools=$2
    shift 2
    local module="" build=1
    BENCH_ARGS=()
    while (($#)); do
        case $1 in
        --module)
            [ $# -ge 2 ] || { echo "--module needs a path" >&2; exit 2; }
            module=$2
            shift 2
            ;;
        --no-build) build=0; shift ;;
        -h | --help)
            sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *) BENCH_ARGS+=("$1"); shift ;;
        esac
    done

    local missing=()
    [ -x /usr/sbin/apache2 ] || missing+=(apache2)
    [ -f /usr/lib/apache2/modules/mod_jk.so ] || missing+=(libapache2-mod-jk)
    for tool in $tools; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    if ((${#missing[@]})); then
        echo "missing: ${missing[*]}. On Debian/Ubuntu:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        echo "(libapache2-mod-jk's installer enables mod_jk in the system apache2; the benchmark" >&2
        echo " never uses that configuration: 'sudo a2dismod -q jk' takes it out again.)" >&2
        exit 1
    fi
    command -v rustc >/dev/null 2>&1 || { echo "rustc not found: install Rust (https://rustup.rs)" >&2; exit 1; }

    if [ -z "$module" ]; then
        if ((build)); then
            (cd "$ROOT" && cargo build --release --lib --example ajp-backend) || exit 1
        fi
        module=$TARGET/release/libmod_jk_rs.so
    fi
    [ -f "$module" ] || { echo "no module at $module" >&2; exit 1; }
    module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")

    local responder=$TARGET/bench/ajp-responder
    # The responder and the files it includes with #[path].
    local file stale=0
    for file in "$BENCH_DIR/ajp_responder.rs" "$BENCH_DIR/../support/ajp_wire.rs" \
        "$BENCH_DIR/../support/listen_args.rs"; do
        if [ "$file" -nt "$responder" ]; then stale=1; fi
    done
    if ((build)) || [ ! -x "$responder" ]; then
        if [ ! -x "$responder" ] || ((stale)); then
            mkdir -p "$TARGET/bench"
            rustc --edition 2021 -C opt-level=3 -C codegen-units=1 \
                -o "$responder" "$BENCH_DIR/ajp_responder.rs" || exit 1
        fi
    fi
    BENCH_ARGS=("$command" --module "$module" --responder "$responder"
        --backend-bin "$TARGET/release/examples/ajp-backend" "${BENCH_ARGS[@]}")
}
