//! End-to-end health checks through real httpd: CPing/CPong per `ping_mode` (C on connect, P before
//! a request on a pooled connection, I for idle pooled connections from the watchdog), and idle
//! connections closed after `connection_pool_timeout`.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{AjpBackend, BackendOptions};
use e2e_common::{app_site, backend, must_get};
use http_client::Connection;
use http_client::Request;
use httpd::Mpm;
use std::time::{Duration, Instant};

fn wait_until(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    probe()
}

#[test]
fn ping_mode_c_cpings_each_new_connection() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["ping_mode=C", "ping_timeout=1000"]).start();
    assert_eq!(must_get(&httpd, "/app/one").status, 200);
    assert!(
        b1.cpings() >= 1,
        "no CPing after connecting: {}",
        b1.cpings()
    );
    assert!(
        b1.cpings() <= b1.connections_accepted(),
        "more CPings than connections"
    );
}

#[test]
fn ping_mode_p_cpings_a_pooled_connection_before_reusing_it() {
    let b1 = backend("b1");
    let httpd = app_site(
        Mpm::Prefork,
        b1.port(),
        // Generous: a CPong slower than the timeout (a loaded machine) would open a new
        // connection and change the counts below.
        &["ping_mode=P", "ping_timeout=5000"],
    )
    .start();
    // One client connection: prefork serves it in one child, whose pooled connection is reused.
    let mut conn = Connection::open(httpd.addr()).expect("connect");
    for i in 0..3 {
        let resp = conn
            .send(&Request::get(&format!("/app/{i}")))
            .expect("request");
        assert_eq!(resp.status, 200);
    }
    drop(conn);
    assert_eq!(
        b1.connections_accepted(),
        1,
        "the backend connection was not reused"
    );
    assert_eq!(
        b1.cpings(),
        2,
        "one CPing before each reuse of the pooled connection"
    );
}

#[test]
fn backend_that_ignores_cping_gets_no_request_and_the_client_503() {
    let b1 = AjpBackend::start_on(
        "127.0.0.1:0".parse().expect("address"),
        "b1",
        BackendOptions {
            ignore_cping: true,
            ..BackendOptions::default()
        },
    )
    .expect("backend");
    let httpd = app_site(
        Mpm::Event,
        b1.port(),
        &["ping_mode=C", "ping_timeout=300", "retries=1"],
    )
    .start();
    let started = Instant::now();
    assert_eq!(must_get(&httpd, "/app/x").status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        b1.requests().is_empty(),
        "a request reached a backend that failed its CPing"
    );
}

#[test]
fn watchdog_cpings_idle_connections_and_closes_expired_ones() {
    let b1 = backend("b1");
    let b2 = backend("b2");
    let httpd = app_site(
        Mpm::Event,
        b1.port(),
        &[
            "ping_mode=I",
            "connection_ping_interval=1",
            "ping_timeout=1000",
        ],
    )
    // connection_pool_minsize=0: mod_jk keeps minsize idle connections (default (pool+1)/2)
    // however old they are.
    .worker(
        "w2",
        b2.port(),
        &["connection_pool_timeout=1", "connection_pool_minsize=0"],
    )
    .conf("JkMount /two/* w2")
    .conf("JkWatchdogInterval 1")
    .start();
    assert_eq!(must_get(&httpd, "/app/x").status, 200);
    assert_eq!(must_get(&httpd, "/two/x").status, 200);
    assert!(
        wait_until(Duration::from_secs(6), || b1.cpings() >= 1),
        "the idle connection of w1 got no interval CPing"
    );
    assert!(
        wait_until(Duration::from_secs(6), || b2.open_connections() == 0),
        "w2's idle connection was not closed after connection_pool_timeout ({} open)",
        b2.open_connections()
    );
}
