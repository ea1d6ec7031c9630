//! End-to-end tests of the foundation issue, the failure paths: a real Debian apache2 (event MPM)
//! with our module in front of the fault-injecting AJP backend. A dead backend, garbage, silence,
//! resets and truncated answers must each become the right HTTP status (or a visibly broken
//! response), be logged, never crash a child, never replay a POST, and leave the next request
//! working. Also: the worker secret, and request headers too large for an AJP packet.
//!
//! The tests talk HTTP only. Each test starts its own httpd and backends on free ports.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{BackendOptions, RecordedRequest};
use e2e_common::{
    app_site, backend, backend_with, crashed_children, dead_port, echo_value, module_log_lines,
    must_get, noise, requests_for, send, Checks, Site, PATIENCE,
};
use http_client::{Connection, Request};
use httpd::{Httpd, Mpm};
use std::time::{Duration, Instant};

/// The next plain request is served normally (the module did not keep a broken connection).
fn next_request_works(httpd: &Httpd, c: &mut Checks, after: &str) {
    let uri = format!("/app/after-{after}");
    match send(httpd, &Request::get(&uri)) {
        Err(e) => c.fail(format!(
            "request after {after} failed at the HTTP level: {e}"
        )),
        Ok(resp) => {
            c.equal(
                resp.status,
                200,
                &format!("status of the request after {after}"),
            );
            c.equal(
                echo_value(&resp.text(), "uri"),
                Some(uri.as_str()),
                &format!("echo after {after}"),
            );
        }
    }
}

/// A request whose every attempt failed: 502 (bad answer) or 503 (no usable backend).
fn failed_with_502_or_503(c: &mut Checks, status: u16) {
    c.check(matches!(status, 502 | 503), || {
        format!("status {status} (want 502 or 503)")
    });
}

fn no_crash(httpd: &Httpd, c: &mut Checks) {
    let crashed = crashed_children(httpd);
    c.check(crashed.is_empty(), || {
        format!("crashed children: {crashed:?}")
    });
}

fn methods_of(seen: &[RecordedRequest]) -> Vec<String> {
    seen.iter()
        .map(|r| {
            format!(
                "{} {} on backend connection {}",
                r.method, r.uri, r.connection
            )
        })
        .collect()
}

#[test]
fn backend_down_gives_503_and_one_error_line_naming_the_worker() {
    let httpd = Site::new(Mpm::Event)
        .worker("wdown", dead_port(), &["retries=2", "retry_interval=50"])
        .conf("JkMount /app/* wdown")
        .start();
    let mut c = Checks::new();
    let resp = must_get(&httpd, "/app/page");
    c.equal(resp.status, 503, "status");
    c.equal(resp.header("X-Backend"), None, "X-Backend");
    c.check(httpd.wait_for_error_log("wdown", PATIENCE), || {
        "no error log line names worker wdown".into()
    });
    let errors = module_log_lines(&httpd, "error", "wdown");
    c.equal(
        errors.len(),
        1,
        "error-level lines naming wdown for one failed request",
    );
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn malformed_backend_answers_give_502_and_the_next_request_works() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["reply_timeout=2000"]).start();
    let mut c = Checks::new();
    for fault in ["garbage", "badmagic", "oversize", "badchunk"] {
        match send(
            &httpd,
            &Request::get(&format!("/app/{fault}?fault={fault}")),
        ) {
            Err(e) => c.fail(format!("fault={fault} failed at the HTTP level: {e}")),
            Ok(resp) => {
                c.equal(resp.status, 502, &format!("status for fault={fault}"));
                c.equal(
                    resp.header("X-Backend"),
                    None,
                    &format!("X-Backend for fault={fault}"),
                );
            }
        }
        next_request_works(&httpd, &mut c, fault);
    }
    let errors = module_log_lines(&httpd, "error", "w1");
    c.check(errors.len() >= 4, || {
        format!("expected an error line per fault, got {errors:?}")
    });
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

/// A GET_BODY_CHUNK asking for 0xFFFF bytes (what a Tomcat with an odd `packetSize` may send)
/// is answered with at most one packet, as mod_jk does, not refused with a 502.
#[test]
fn a_get_body_chunk_for_0xffff_bytes_is_capped_not_refused() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["reply_timeout=2000"]).start();
    let mut c = Checks::new();
    match send(&httpd, &Request::get("/app/odd?fault=badgetbody")) {
        Err(e) => c.fail(format!("failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "status");
            c.equal(resp.header("X-Backend"), Some("b1"), "X-Backend");
        }
    }
    next_request_works(&httpd, &mut c, "badgetbody");
    c.check(b1.protocol_errors().is_empty(), || {
        format!(
            "the backend saw protocol errors: {:?}",
            b1.protocol_errors()
        )
    });
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

/// A status httpd has no phrase for (an application's 477, 599, 299) passes through as mod_jk
/// passes it, whether Tomcat sends a phrase or only the number (its default), instead of
/// httpd's 500; known codes keep httpd's phrase when Tomcat sends only the number.
#[test]
fn status_codes_httpd_does_not_know_pass_through() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let mut c = Checks::new();
    for (query, status, reason) in [
        ("status=477&reason=477", 477, "477"),
        ("status=599&reason=599", 599, "599"),
        ("status=599&reason=", 599, "Unknown Reason"),
        ("status=299&reason=299", 299, "299"),
        ("status=477&reason=Odd", 477, "Odd"),
        ("status=404&reason=404", 404, "Not Found"),
        ("status=200&reason=200", 200, "OK"),
        ("status=200&reason=OK", 200, "OK"),
        ("status=200&reason=Fine", 200, "Fine"),
    ] {
        match send(&httpd, &Request::get(&format!("/app/s?{query}"))) {
            Err(e) => c.fail(format!("{query}: failed at the HTTP level: {e}")),
            Ok(resp) => {
                c.equal(resp.status, status, &format!("{query}: status"));
                c.equal(resp.reason.as_str(), reason, &format!("{query}: reason"));
            }
        }
    }
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn silent_backend_gives_504_after_the_reply_timeout() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["reply_timeout=1000"]).start();
    let mut c = Checks::new();
    let started = Instant::now();
    let result = send(&httpd, &Request::get("/app/silent?fault=silent"));
    let took = started.elapsed();
    match result {
        Err(e) => c.fail(format!(
            "silent backend: HTTP-level failure after {took:?}: {e}"
        )),
        Ok(resp) => c.equal(resp.status, 504, "status"),
    }
    c.check(took >= Duration::from_millis(900), || {
        format!("504 came after only {took:?}, before the 1 s reply timeout")
    });
    c.check(took < Duration::from_secs(8), || {
        format!("504 came after {took:?}, long after the 1 s reply timeout")
    });
    c.equal(
        requests_for(&b1, "/app/silent").len(),
        1,
        "silent requests the backend saw (no retry after a timeout)",
    );
    next_request_works(&httpd, &mut c, "silent");
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn get_reset_by_the_backend_is_retried_then_fails() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["retries=2", "retry_interval=50"]).start();
    let mut c = Checks::new();
    match send(&httpd, &Request::get("/app/reset?fault=reset")) {
        Err(e) => c.fail(format!("GET with reset failed at the HTTP level: {e}")),
        Ok(resp) => failed_with_502_or_503(&mut c, resp.status),
    }
    let seen = requests_for(&b1, "/app/reset");
    c.check((2..=3).contains(&seen.len()), || {
        format!(
            "backend saw the GET {} times (want a retry: 2, at most 3): {:?}",
            seen.len(),
            methods_of(&seen)
        )
    });
    next_request_works(&httpd, &mut c, "reset");
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn post_reset_by_the_backend_is_not_replayed() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["retries=3", "retry_interval=50"]).start();
    let mut c = Checks::new();
    // Small enough to travel whole in the first body packet, i.e. easy to replay.
    let body = noise(1000, 7);
    match send(&httpd, &Request::post("/app/post-reset?fault=reset", body)) {
        Err(e) => c.fail(format!("POST with reset failed at the HTTP level: {e}")),
        Ok(resp) => failed_with_502_or_503(&mut c, resp.status),
    }
    let seen = requests_for(&b1, "/app/post-reset");
    c.equal(seen.len(), 1, "times the backend received the POST");
    next_request_works(&httpd, &mut c, "post-reset");
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn post_reset_on_a_pooled_connection_is_not_replayed() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["retries=3", "retry_interval=50"]).start();
    let mut c = Checks::new();
    // Same client connection, so same child process and same connection pool.
    let mut conn = Connection::open(httpd.addr()).expect("connect to httpd");
    let warm = conn
        .send(&Request::get("/app/warm"))
        .expect("warm-up request");
    c.equal(warm.status, 200, "warm-up status");
    let warm_connection: usize = warm
        .header("X-Backend-Connection")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = noise(1000, 8);
    let post =
        Request::post("/app/post-reset-pooled?fault=reset", body).header("Connection", "close");
    match conn.send(&post) {
        Err(e) => c.fail(format!("POST with reset failed at the HTTP level: {e}")),
        Ok(resp) => failed_with_502_or_503(&mut c, resp.status),
    }
    drop(conn);
    let seen = requests_for(&b1, "/app/post-reset-pooled");
    c.equal(seen.len(), 1, "times the backend received the POST");
    if let Some(first) = seen.first() {
        // Otherwise this test did not exercise a pooled connection at all.
        c.equal(
            first.connection,
            warm_connection,
            "backend connection of the POST (the pooled one)",
        );
    }
    if seen.len() != 1 {
        c.fail(format!("the POST arrived as: {:?}", methods_of(&seen)));
    }
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn truncated_response_is_visibly_broken_for_the_client() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["reply_timeout=2000"]).start();
    let mut c = Checks::new();
    for (what, path) in [
        (
            "with Content-Length",
            "/app/trunc?fault=truncated&size=20000",
        ),
        (
            "chunked",
            "/app/trunc-nocl?fault=truncated&size=20000&nocl=1",
        ),
    ] {
        match send(&httpd, &Request::get(path)) {
            // Connection closed before the declared length, or no final chunk: what we want.
            Err(_) => {}
            // Nothing went out before the failure: a clean error status is fine too.
            Ok(resp) if resp.status >= 500 => {}
            Ok(resp) => c.fail(format!(
                "truncated answer ({what}) looks complete: status {}, {} body bytes, headers {:?}",
                resp.status,
                resp.body.len(),
                resp.headers
            )),
        }
    }
    next_request_works(&httpd, &mut c, "truncated");
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

#[test]
fn request_headers_larger_than_max_packet_size_give_413() {
    let b1 = backend("b1");
    // httpd itself accepts the big header line: the AJP packet (8192) is the limit.
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("LimitRequestFieldSize 32768")
        .start();
    let mut c = Checks::new();
    let big = format!("big={}", "x".repeat(9000));
    let resp = must_get_with_cookie(&httpd, "/app/big-cookie", &big);
    c.equal(resp.status, 413, "status with a 9000-byte cookie");
    c.equal(
        requests_for(&b1, "/app/big-cookie").len(),
        0,
        "big-cookie requests the backend saw",
    );
    let fits = format!("small={}", "y".repeat(4000));
    let resp = must_get_with_cookie(&httpd, "/app/small-cookie", &fits);
    c.equal(resp.status, 200, "status with a 4000-byte cookie");
    let seen = requests_for(&b1, "/app/small-cookie");
    c.equal(
        seen.first().and_then(|r| r.header("cookie")),
        Some(fits.as_str()),
        "cookie the backend saw",
    );
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

fn must_get_with_cookie(httpd: &Httpd, path: &str, cookie: &str) -> http_client::Response {
    e2e_common::must_send(httpd, &Request::get(path).header("Cookie", cookie))
}

#[test]
fn secret_is_sent_and_a_wrong_or_missing_secret_gets_403() {
    let options = BackendOptions {
        required_secret: Some("s3cr3t".to_string()),
        ..BackendOptions::default()
    };
    let guarded = backend_with("guarded", options);
    let httpd = Site::new(Mpm::Event)
        .worker("wgood", guarded.port(), &["secret=s3cr3t"])
        .worker("wwrong", guarded.port(), &["secret=guess"])
        .worker("wnone", guarded.port(), &[])
        .conf("JkMount /good/* wgood")
        .conf("JkMount /wrong/* wwrong")
        .conf("JkMount /none/* wnone")
        .start();
    let mut c = Checks::new();
    for (path, status, secret) in [
        ("/good/page", 200, Some("s3cr3t")),
        ("/wrong/page", 403, Some("guess")),
        ("/none/page", 403, None),
    ] {
        match send(&httpd, &Request::get(path)) {
            Err(e) => c.fail(format!("{path} failed at the HTTP level: {e}")),
            Ok(resp) => c.equal(resp.status, status, &format!("{path} status")),
        }
        let seen = requests_for(&guarded, path);
        c.equal(seen.len(), 1, &format!("{path} requests the backend saw"));
        if let Some(r) = seen.first() {
            c.equal(
                r.attribute("secret"),
                secret,
                &format!("{path} secret attribute"),
            );
        }
    }
    // The refused connections were closed by the backend; the good worker still works.
    c.equal(
        must_get(&httpd, "/good/again").status,
        200,
        "good worker after the refusals",
    );
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}

/// CVE-2007-0774: URIs of 4095 bytes and more are never mapped (and crash nothing); a shorter
/// one under the same mount is.
#[test]
fn cve_2007_0774_very_long_uris_are_not_mapped_and_crash_nothing() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("LimitRequestLine 70000")
        .start();
    let short = format!("/app/{}", "a".repeat(4000));
    assert_eq!(
        must_get(&httpd, &short).status,
        200,
        "a 4005-byte URI is mapped"
    );
    for len in [4095usize, 4096, 8192, 65000] {
        let path = format!("/app/{}", "b".repeat(len - 5));
        let resp = must_get(&httpd, &path);
        // httpd itself answers: 404, or 403 when the file name is too long for the file system.
        assert!(
            matches!(resp.status, 403 | 404),
            "a {len}-byte URI must be left to httpd: {}",
            resp.status
        );
        assert_eq!(
            resp.header("X-Backend"),
            None,
            "a {len}-byte URI reached the backend"
        );
    }
    assert_eq!(
        b1.requests().len(),
        1,
        "only the short URI reached the backend"
    );
    assert!(
        crashed_children(&httpd).is_empty(),
        "{:?}",
        crashed_children(&httpd)
    );
}

/// CVE-2008-5519: a client that announces a body and vanishes must not leave a backend
/// connection out of step; the next request gets its own answer.
#[test]
fn cve_2008_5519_client_vanishing_before_its_body_leaves_the_backend_in_step() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    for i in 0..3 {
        let mut conn = Connection::open(httpd.addr()).expect("connect");
        conn.send_raw(
            format!(
                "POST /app/vanish{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
            )
            .as_bytes(),
        )
        .expect("send");
        conn.shutdown_write().expect("half-close");
        let _ = conn.read_to_close();
    }
    for i in 0..5 {
        let resp = must_get(&httpd, &format!("/app/next{i}"));
        assert_eq!(resp.status, 200);
        assert!(
            resp.text().contains(&format!("uri=/app/next{i}")),
            "a response for another request: {}",
            resp.text()
        );
    }
    assert!(
        b1.requests()
            .iter()
            .all(|r| !r.uri.starts_with("/app/vanish")),
        "a request whose client vanished before its body reached the backend"
    );
    assert!(
        b1.protocol_errors().is_empty(),
        "{:?}",
        b1.protocol_errors()
    );
}

/// With `max_packet_size=16384` on both sides (Tomcat's packetSize), a 12 KB cookie fits, and
/// body chunks use the bigger packets.
#[test]
fn bigger_max_packet_size_carries_bigger_headers_and_chunks() {
    let b1 = backend_with(
        "b1",
        BackendOptions {
            max_packet: 16384,
            ..BackendOptions::default()
        },
    );
    let httpd = app_site(Mpm::Event, b1.port(), &["max_packet_size=16384"])
        .conf("LimitRequestFieldSize 32768")
        .start();
    let big = format!("big={}", "z".repeat(12000));
    let resp = must_get_with_cookie(&httpd, "/app/big-cookie", &big);
    assert_eq!(resp.status, 200);
    let seen = requests_for(&b1, "/app/big-cookie");
    assert_eq!(
        seen.first().and_then(|r| r.header("cookie")),
        Some(big.as_str())
    );
    let body = noise(100_000, 7);
    let resp = send(&httpd, &Request::post("/app/post", body.clone())).expect("post");
    assert_eq!(resp.status, 200);
    let posted = requests_for(&b1, "/app/post");
    assert_eq!(posted.first().map(|r| r.body_len), Some(100_000));
    assert_eq!(
        posted.first().map(|r| r.body_sha256.clone()),
        Some(ajp_backend::sha256_hex(&body))
    );
    let got = must_get(&httpd, "/app/x?size=200000");
    assert_eq!(
        ajp_backend::sha256_hex(&got.body),
        ajp_backend::pattern_sha256(200_000)
    );
    assert!(
        b1.protocol_errors().is_empty(),
        "{:?}",
        b1.protocol_errors()
    );
}

/// A backend that sends a little at a time never lets `reply_timeout` (the wait between
/// packets) expire; `reply_deadline` bounds the whole reply: a 504 when the headers are not in
/// by then (or the answer is small and still held back), a cut-off response when they went out, and a log line naming the limit either way.
/// Without the deadline the same dripping answer completes (the control).
#[test]
fn reply_deadline_cuts_off_a_dripping_backend() {
    let b1 = backend("b1");
    let httpd = app_site(
        Mpm::Event,
        b1.port(),
        &["reply_timeout=1000", "reply_deadline=1500"],
    )
    .worker("nodeadline", b1.port(), &["reply_timeout=1000"])
    .conf("JkMount /free/* nodeadline")
    .start();
    let mut c = Checks::new();

    // Headers dripped a byte every 100 ms (~10 s in all): 504 once the 1.5 s are up.
    let started = Instant::now();
    let result = send(&httpd, &Request::get("/app/drip-head?driphead=100"));
    let took = started.elapsed();
    match result {
        Err(e) => c.fail(format!("dripped headers: HTTP-level failure: {e}")),
        Ok(resp) => c.equal(resp.status, 504, "status when the headers drip"),
    }
    c.check(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(5),
        || format!("the 504 came after {took:?}, want about 1.5 s"),
    );

    // A small answer (100 bytes, one every 100 ms) is held until its end, so nothing went out
    // yet: a clean 504.
    match send(
        &httpd,
        &Request::get("/app/drip-small?size=100&chunk=1&drip=100"),
    ) {
        Err(e) => c.fail(format!("dripped small body: HTTP-level failure: {e}")),
        Ok(resp) => c.equal(resp.status, 504, "status when a small body drips"),
    }

    // Headers at once, then a streamed body (9000 bytes), a byte every 100 ms: the client sees
    // a response that ends early, visibly broken, after about 1.5 s.
    let started = Instant::now();
    let result = send(
        &httpd,
        &Request::get("/app/drip-body?size=9000&chunk=1&drip=100"),
    );
    let took = started.elapsed();
    match result {
        Err(_) => {}
        Ok(resp) => c.fail(format!(
            "a body cut off by the deadline looks complete: status {}, {} body bytes",
            resp.status,
            resp.body.len()
        )),
    }
    c.check(took < Duration::from_secs(5), || {
        format!("the dripping body was cut off only after {took:?}, want about 1.5 s")
    });
    let lines = module_log_lines(&httpd, "error", "reply_deadline");
    c.check(lines.len() >= 3, || {
        format!("want an error line naming reply_deadline per cut-off reply, got {lines:?}")
    });
    c.check(
        lines
            .iter()
            .any(|l| l.contains("1500 ms") && l.contains("504")),
        || format!("no line says the 1500 ms limit and the 504: {lines:?}"),
    );

    // The control: 20 body bytes 100 ms apart (2 s) pass reply_timeout=1000 without a deadline.
    match send(&httpd, &Request::get("/free/drip?size=20&chunk=1&drip=100")) {
        Err(e) => c.fail(format!(
            "without reply_deadline the dripping reply failed: {e}"
        )),
        Ok(resp) => {
            c.equal(resp.status, 200, "status without reply_deadline");
            c.equal(resp.body.len(), 20, "body bytes without reply_deadline");
        }
    }
    next_request_works(&httpd, &mut c, "drip");
    no_crash(&httpd, &mut c);
    c.finish(&httpd);
}
