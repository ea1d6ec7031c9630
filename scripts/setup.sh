#!/usr/bin/env bash
# Installs what building and testing mod_jk_rs needs on Debian/Ubuntu (idempotent).
# Needs root (or sudo); installs nothing when everything is already there.
set -euo pipefail
pkgs=(apache2 apache2-dev libclang-dev clang pkg-config ca-certificates curl python3)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian starts the packaged apache2 service on install where systemd runs; the tests use their own
# instances on free loopback ports and never touch it.
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
