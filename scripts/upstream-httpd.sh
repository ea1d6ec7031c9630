#!/usr/bin/env bash
# Builds httpd the way the official `httpd:2.4` image does — from the pristine upstream source,
# `--enable-mods-shared=reallyall --enable-mpms-shared=all`, against Debian's APR — into
# target/upstream-httpd/prefix, so that tests/docker.rs can run the end-to-end core against the
# httpd our Docker image runs (no image registry is reachable here). Takes a few minutes once;
# then it is cached (delete target/upstream-httpd to rebuild).
#
# The source is the `apache2` Debian source package's apache2_<version>.orig.tar.gz, which is the
# upstream release tarball; `apt-get source` needs a deb-src entry, which this script adds (the
# same archives as the existing deb entries) when there is none. Needs root or sudo for apt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/target/upstream-httpd
PREFIX=$WORK/prefix
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if [ -x "$PREFIX/bin/httpd" ] && [ -f "$PREFIX/.built" ]; then
    echo "upstream httpd already built: $("$PREFIX/bin/httpd" -v | head -1) in $PREFIX"
    exit 0
fi

need=(build-essential libapr1-dev libaprutil1-dev libpcre2-dev zlib1g-dev libssl-dev libxml2-dev
    libexpat1-dev dpkg-dev)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing with apt-get: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mkdir -p "$WORK/src"
cd "$WORK/src"
if ! ls apache2_*.orig.tar.* >/dev/null 2>&1; then
    if ! apt-cache showsrc apache2 2>/dev/null | grep -q '^Version:'; then
        # No deb-src entry: add one for each deb entry (same archive, same suites).
        echo "adding deb-src entries (from the existing deb entries) to fetch apache2's source"
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] && grep -q '^Types: deb$' "$f" || continue
            sed 's/^Types: deb$/Types: deb-src/' "$f" |
                $SUDO tee "/etc/apt/sources.list.d/mod-jk-rs-src-$(basename "$f")" >/dev/null
        done
        if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
            sed -n 's/^deb /deb-src /p' /etc/apt/sources.list |
                $SUDO tee /etc/apt/sources.list.d/mod-jk-rs-src.list >/dev/null
        fi
        $SUDO apt-get update -q
    fi
    # The newest version whose source a mirror still serves (a security mirror may carry only
    # the binaries).
    for v in $(apt-cache showsrc apache2 | sed -n 's/^Version: //p' | sort -rV); do
        apt-get source --download-only "apache2=$v" >/dev/null 2>&1 && break
    done
    ls apache2_*.orig.tar.* >/dev/null 2>&1 || { echo "cannot download apache2's source" >&2; exit 1; }
fi
orig=$(ls apache2_*.orig.tar.* | grep -v '\.asc$' | sort -V | tail -1)
echo "source: $orig"
rm -rf build && mkdir build
tar -xf "$orig" -C build --strip-components=1
cd build
[ -f include/ap_release.h ] || { echo "$orig is not an httpd source tree" >&2; exit 1; }
./configure --prefix="$PREFIX" --enable-layout=Apache \
    --enable-mods-shared=reallyall --enable-mpms-shared=all \
    --with-apr=/usr/bin/apr-1-config --with-apr-util=/usr/bin/apu-1-config >"$WORK/configure.log" 2>&1 ||
    { tail -n 30 "$WORK/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$WORK/make.log" 2>&1 || { tail -n 30 "$WORK/make.log" >&2; exit 1; }
rm -rf "$PREFIX"
make install >"$WORK/install.log" 2>&1 || { tail -n 30 "$WORK/install.log" >&2; exit 1; }
touch "$PREFIX/.built"
echo "built $("$PREFIX/bin/httpd" -v | head -1) in $PREFIX (apxs: $PREFIX/bin/apxs)"
