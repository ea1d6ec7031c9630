#!/usr/bin/env bash
# The main job on one machine: runs scripts/setup.sh first (it may install packages with
# apt-get and pip), then builds mod_jk_rs, starts two AJP13 backends (the test backend,
# standing in for two Tomcats) and Debian's apache2 with the module in front of them on
# http://127.0.0.1:8080, all on loopback. Ctrl-C stops everything this script started.
#   PORT=8080 BACKEND_PORTS="8009 8010" scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PORT=${PORT:-8080}
read -r -a BPORTS <<<"${BACKEND_PORTS:-8009 8010}"
cargo build --release --lib --example ajp-backend
DIR=$PWD/target/demo
rm -rf "$DIR" && mkdir -p "$DIR/htdocs" "$DIR/run"
chmod 755 "$DIR" "$DIR/htdocs"
echo "<h1>static page served by httpd</h1>" >"$DIR/htdocs/index.html"
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@MODULE@|$PWD/target/release/libmod_jk_rs.so|g" \
    httpd-conf/demo/httpd.conf >"$DIR/httpd.conf"
sed -e "s|@PORT_A@|${BPORTS[0]}|g" -e "s|@PORT_B@|${BPORTS[1]}|g" httpd-conf/demo/workers.properties >"$DIR/workers.properties"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
target/release/examples/ajp-backend --port "${BPORTS[0]}" --name tomcatA & pids+=($!)
target/release/examples/ajp-backend --port "${BPORTS[1]}" --name tomcatB & pids+=($!)
/usr/sbin/apache2 -f "$DIR/httpd.conf" -DFOREGROUND & pids+=($!)
up=""
for _ in $(seq 50); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then up=1; break; fi
    kill -0 "${pids[2]}" 2>/dev/null || break
    sleep 0.2
done
if [ -z "$up" ]; then
    echo "httpd did not start; see $DIR/error.log" >&2
    tail -n 20 "$DIR/error.log" >&2 2>/dev/null || true
    exit 1
fi
cat <<MSG

httpd with mod_jk_rs is listening on http://127.0.0.1:$PORT/ in front of two AJP13 backends:
  curl http://127.0.0.1:$PORT/examples/hello?x=1     -> lb "lbcluster" over tomcatA (port ${BPORTS[0]}) and tomcatB (port ${BPORTS[1]})
  curl -b 'JSESSIONID=abc.tomcatB' http://127.0.0.1:$PORT/examples/x   -> sticky: always tomcatB
  curl http://127.0.0.1:$PORT/a/hello, /b/hello       -> tomcatA, tomcatB directly
  curl http://127.0.0.1:$PORT/                        -> httpd's own static page
Config: $DIR/httpd.conf, $DIR/workers.properties; log: $DIR/error.log. Ctrl-C to stop.
MSG
for i in 1 2 3 4; do curl -s "http://127.0.0.1:$PORT/examples/hello?x=$i" | head -1; done
if [ -n "${DEMO_ONCE:-}" ]; then exit 0; fi
wait "${pids[2]}"
