#!/bin/sh
# Turns the official image's stock httpd.conf and the tutorial's files into the image's
# configuration (run by docker/Dockerfile; tests/docker.rs runs it on a copy to check the result):
#   - httpd.conf includes conf/extra/httpd-jk.conf and loads mod_authz_host (Require ip);
#   - workers.properties reaches the Tomcats by their compose service names, on their own 8009,
#     and takes the AJP secret from the environment variable AJP_SECRET (set in compose.yml);
#   - /jkstatus also answers private addresses: Docker's port forwarding hands httpd every client
#     of a published port from the network's gateway, never from 127.0.0.1, so who sees the page
#     is decided by where the port is published (compose.yml: the host's 127.0.0.1 only).
# $1: the ServerRoot (/usr/local/apache2).
set -eu
root=$1
conf=$root/conf/httpd.conf
sed -i 's|^#\(LoadModule authz_host_module .*\)|\1|' "$conf"
grep -q '^Include conf/extra/httpd-jk.conf' "$conf" ||
    printf '\n# mod_jk_rs: the tutorial topology (TomcatA, TomcatB, lbcluster, stat1)\nInclude conf/extra/httpd-jk.conf\n' >>"$conf"
sed -i \
    -e 's|^worker\.TomcatA\.host=.*|worker.TomcatA.host=tomcat-a|' \
    -e 's|^worker\.TomcatB\.port=.*|worker.TomcatB.host=tomcat-b|' \
    -e 's|^\(worker\.[A-Za-z]*\.secret\)=.*|\1=$(AJP_SECRET)|' \
    "$root/conf/workers.properties"
sed -i 's|^\( *\)Require ip 127\.0\.0\.1 ::1$|\1Require ip 127.0.0.1 ::1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16|' \
    "$root/conf/extra/httpd-jk.conf"
grep -q '^ *Require ip 127.0.0.1 ::1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16$' "$root/conf/extra/httpd-jk.conf"
