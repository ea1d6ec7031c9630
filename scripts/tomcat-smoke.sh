#!/usr/bin/env bash
# Smoke test against real Tomcat 10 (Debian's tomcat10-common): two Tomcats with jvmRoute tomcatA
# and tomcatB on loopback AJP ports (secret required, as Tomcat insists since Ghostcat), httpd
# with mod_jk_rs and an lb over them. Checks: session stickiness by jvmRoute, 3 MB POST (plain and
# chunked) read completely by Tomcat, a 10 MiB static file byte-identical, HEAD, Tomcat's 404,
# failover when one Tomcat stops. Prints PASS/FAIL per check; exit 1 on any FAIL.
# Stops only what it started (by pid). Needs root for apt (first run) and Java 17.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/share/tomcat10/bin/catalina.sh ]; then
    apt-get install -y -q --no-install-recommends tomcat10-common libtomcat10-java >/dev/null
fi
cargo build --release --lib -q
DIR=$PWD/target/tomcat-smoke
rm -rf "$DIR" && mkdir -p "$DIR/h"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

start_tomcat() { # name ajp-port
    local base=$DIR/$1
    mkdir -p "$base"/{conf,logs,work,temp,webapps/app}
    cat >"$base/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN"><Service name="Catalina">
  <Connector protocol="AJP/1.3" address="127.0.0.1" port="$2" secret="s3cr3t" redirectPort="8443"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="$1">
    <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/></Engine>
</Service></Server>
XML
    cat >"$base/conf/web.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <servlet><servlet-name>default</servlet-name><servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class><load-on-startup>1</load-on-startup></servlet>
  <servlet><servlet-name>jsp</servlet-name><servlet-class>org.apache.jasper.servlet.JspServlet</servlet-class><load-on-startup>3</load-on-startup></servlet>
  <servlet-mapping><servlet-name>default</servlet-name><url-pattern>/</url-pattern></servlet-mapping>
  <servlet-mapping><servlet-name>jsp</servlet-name><url-pattern>*.jsp</url-pattern></servlet-mapping>
</web-app>
XML
    cat >"$base/webapps/app/index.jsp" <<JSP
<%@ page session="true" contentType="text/plain" %><%
  long n = 0; byte[] b = new byte[8192]; int r; java.io.InputStream in = request.getInputStream();
  while ((r = in.read(b)) > 0) n += r;
%>node=$1
session=<%= session.getId() %>
body=<%= n %>
JSP
    echo "handlers = java.util.logging.ConsoleHandler" >"$base/conf/logging.properties"
    CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=$base /usr/share/tomcat10/bin/catalina.sh run >"$base/catalina.out" 2>&1 &
    pids+=($!)
    eval "PID_$1=$!"
}
start_tomcat tomcatA 18109
start_tomcat tomcatB 18110
head -c 10485760 /dev/urandom >"$DIR/tomcatA/webapps/app/big.bin"
cp "$DIR/tomcatA/webapps/app/big.bin" "$DIR/tomcatB/webapps/app/big.bin"
head -c 3000000 /dev/urandom >"$DIR/post.bin"
for port in 18109 18110; do
    for _ in $(seq 60); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 1; done
done
cat >"$DIR/h/workers.properties" <<EOF2
worker.list=lbcluster
worker.tomcatA.host=127.0.0.1
worker.tomcatA.port=18109
worker.tomcatA.ping_mode=A
worker.tomcatB.reference=worker.tomcatA
worker.tomcatB.port=18110
worker.lbcluster.type=lb
worker.lbcluster.balance_workers=tomcatA,tomcatB
worker.lbcluster.secret=s3cr3t
EOF2
cat >"$DIR/h/httpd.conf" <<EOF2
ServerRoot $DIR/h
Listen 127.0.0.1:18280
ServerName 127.0.0.1
PidFile $DIR/h/pid
ErrorLog $DIR/h/error.log
DefaultRuntimeDir $DIR/h
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
<IfDefine !NO_USER>
User www-data
Group www-data
</IfDefine>
LoadModule jk_module $PWD/target/release/libmod_jk_rs.so
LogLevel warn jk:info
JkWorkersFile workers.properties
JkMount /app/* lbcluster
EOF2
/usr/sbin/apache2 -f "$DIR/h/httpd.conf" -DFOREGROUND & pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18280/ && break; sleep 0.2; done
URL=http://127.0.0.1:18280/app
# Before any session exists (lb method Request: load counts per member, so after a run of sticky
# requests the other member rightly takes the new ones).
spread=$(for i in $(seq 20); do curl -s "$URL/index.jsp" | sed -n 's/^node=//p'; done | sort -u | wc -l)
check "requests without a session use both Tomcats" '[ "$spread" = 2 ]'
first=$(curl -s -c "$DIR/cj" "$URL/index.jsp")
node=$(sed -n 's/^node=//p' <<<"$first")
sid=$(sed -n 's/^session=//p' <<<"$first")
check "session id carries the jvmRoute ($sid)" '[[ "$sid" == *".$node" ]]'
sticky=$(for i in $(seq 20); do curl -s -b "$DIR/cj" "$URL/index.jsp" | sed -n 's/^node=//p'; done | sort -u)
check "20 requests with the session stay on $node" '[ "$sticky" = "$node" ]'
check "3 MB POST read whole by Tomcat" '[ "$(curl -s --data-binary @"$DIR/post.bin" "$URL/index.jsp" | sed -n "s/^body=//p")" = 3000000 ]'
check "3 MB chunked POST read whole by Tomcat" '[ "$(curl -s -H "Transfer-Encoding: chunked" --data-binary @"$DIR/post.bin" "$URL/index.jsp" | sed -n "s/^body=//p")" = 3000000 ]'
check "10 MiB static file byte-identical" '[ "$(curl -s "$URL/big.bin" | sha256sum)" = "$(sha256sum <"$DIR/tomcatA/webapps/app/big.bin")" ]'
check "HEAD gives 200 OK and the length" 'curl -sI "$URL/big.bin" | grep -q "Content-Length: 10485760"'
check "Tomcat 404 passes through" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/none.jsp")" = 404 ]'
other=tomcatB; [ "$node" = tomcatB ] && other=tomcatA
eval "kill \$PID_$node"; sleep 1
failover=$(for i in $(seq 10); do curl -s -b "$DIR/cj" -o /dev/null -w "%{http_code}\n" "$URL/index.jsp"; done | sort -u)
check "after $node stops, its session's requests succeed on $other" '[ "$failover" = 200 ]'
check "no crashed httpd child" '! grep -qE "exit signal|panicked" "$DIR/h/error.log"'
echo "$fails failed checks"
exit $((fails > 0))
