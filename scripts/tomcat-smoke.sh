#!/usr/bin/env bash
# The checks against real Tomcat 10 now live in tests/e2e_tomcat.rs (run by `cargo test` and CI):
# TomcatA/TomcatB started by scripts/tutorial.sh on free ports, stickiness by cookie and by
# ;jsessionid=, 3 MB plain and chunked POSTs, a 10 MiB download, a wrong secret, kill -9 failover
# with DeltaManager and recovery, the tutorial's own files. This runs that test file.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --test e2e_tomcat -- --nocapture
