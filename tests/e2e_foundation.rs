//! End-to-end tests of the foundation issue, the working paths: a real Debian apache2 with our
//! module forwards HTTP requests over AJP13 to the fake backend (`tests/support/ajp_backend.rs`)
//! and brings the answers back. Everything runs under the event MPM; the core scenarios
//! ([`CORE_SCENARIOS`]) also run under prefork and worker. The configuration checks of
//! `apachectl -t` are here too. The failure paths are in `e2e_failures.rs`.
//!
//! The tests talk HTTP only. Each test starts its own httpd and backends on free ports, so they
//! can run in parallel.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{pattern_sha256, sha256_hex, AjpBackend};
use e2e_common::{
    app_site, backend, check_served_by_httpd, crashed_children, dead_port, echo_value,
    module_log_lines, must_get, noise, requests_for, send, split_into, uris_seen, Checks, Site,
};
use http_client::{Body, Connection, Request};
use httpd::{config_test, render_config, Httpd, HttpdConfig, Mpm};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

const MIB: usize = 1024 * 1024;
const TEN_MIB: u64 = 10 * 1024 * 1024;

/// SHA-256 of the 10 MiB `size=` body, computed once for all tests of this binary.
fn ten_mib_sha256() -> &'static str {
    static SHA: OnceLock<String> = OnceLock::new();
    SHA.get_or_init(|| pattern_sha256(TEN_MIB))
}

/// The usual site: backend `b1` behind worker `w1` on `/app/*`, and `wdown` (nothing listens on
/// its port) on `/down/*`.
fn core_site(mpm: Mpm, b1: &AjpBackend) -> Site {
    app_site(mpm, b1.port(), &[])
        .worker("wdown", dead_port(), &[])
        .conf("JkMount /down/* wdown")
}

// ------------------------------------------------------------------ scenarios

/// A scenario runs against a [`core_site`] and records what went wrong in `Checks`.
type Scenario = fn(&Httpd, &AjpBackend, &mut Checks);

/// The subset that must work under every MPM.
const CORE_SCENARIOS: [(&str, Scenario); 7] = [
    ("GET", scenario_get),
    ("1 MiB POST", scenario_post_one_mib),
    ("chunked POST", scenario_chunked_post),
    ("10 MiB response", scenario_ten_mib_response),
    ("HEAD", scenario_head),
    ("backend down", scenario_backend_down),
    ("garbage from backend", scenario_garbage),
];

/// GET with a query, a custom header and a Host naming another server: the answer comes back
/// whole, and the backend saw every request detail (and `content-length: 0`).
fn scenario_get(httpd: &Httpd, b1: &AjpBackend, c: &mut Checks) {
    let port = httpd.port();
    let host = format!("app.example.test:{port}");
    let req = Request::get("/app/hello?x=1&y=two%20words")
        .header("Host", &host)
        .header("X-Custom", "custom value 42")
        .header("User-Agent", "e2e-test/1.0");
    match send(httpd, &req) {
        Err(e) => c.fail(format!("GET failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "status");
            c.equal(
                resp.header("X-Backend"),
                Some("b1"),
                "X-Backend response header",
            );
            c.check(
                resp.header("Content-Type")
                    .is_some_and(|t| t.starts_with("text/plain")),
                || format!("Content-Type {:?}", resp.header("Content-Type")),
            );
            let body_len = resp.body.len().to_string();
            c.equal(
                resp.header("Content-Length"),
                Some(body_len.as_str()),
                "Content-Length against the body received",
            );
            let text = resp.text();
            c.equal(echo_value(&text, "backend"), Some("b1"), "echoed backend");
            c.equal(echo_value(&text, "uri"), Some("/app/hello"), "echoed uri");
        }
    }
    let seen = requests_for(b1, "/app/hello");
    if seen.len() != 1 {
        c.fail(format!(
            "backend saw {} requests for /app/hello: {seen:?}",
            seen.len()
        ));
        return;
    }
    let r = &seen[0];
    c.equal(r.method.as_str(), "GET", "method");
    c.equal(r.method_code, 2, "method code");
    c.equal(r.protocol.as_str(), "HTTP/1.1", "protocol");
    c.equal(
        r.query(),
        Some("x=1&y=two%20words"),
        "query_string attribute",
    );
    c.equal(r.remote_addr.as_str(), "127.0.0.1", "remote_addr");
    c.equal(r.server_name.as_str(), "app.example.test", "server_name");
    c.equal(r.server_port, port, "server_port");
    c.equal(r.is_ssl, false, "is_ssl");
    c.equal(r.header("host"), Some(host.as_str()), "Host header");
    c.equal(
        r.header("x-custom"),
        Some("custom value 42"),
        "custom header",
    );
    c.equal(
        r.header("user-agent"),
        Some("e2e-test/1.0"),
        "User-Agent header",
    );
    c.equal(
        r.header("content-length"),
        Some("0"),
        "content-length added for a bodyless request",
    );
    c.equal(r.body_len, 0, "body length");
}

/// POST of 1 MiB with Content-Length: the backend gets every byte, in order.
fn scenario_post_one_mib(httpd: &Httpd, b1: &AjpBackend, c: &mut Checks) {
    let body = noise(MIB, 1);
    let sha = sha256_hex(&body);
    match send(httpd, &Request::post("/app/upload", body)) {
        Err(e) => c.fail(format!("POST failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "status");
            let text = resp.text();
            c.equal(
                echo_value(&text, "body_sha256"),
                Some(sha.as_str()),
                "echoed body_sha256",
            );
        }
    }
    let seen = requests_for(b1, "/app/upload");
    if seen.len() != 1 {
        c.fail(format!(
            "backend saw {} requests for /app/upload",
            seen.len()
        ));
        return;
    }
    let r = &seen[0];
    c.equal(r.method.as_str(), "POST", "method");
    c.equal(r.body_len, MIB as u64, "body_len");
    c.equal(r.body_sha256.as_str(), sha.as_str(), "body_sha256");
    let length = MIB.to_string();
    c.equal(
        r.header("content-length"),
        Some(length.as_str()),
        "content-length header",
    );
}

/// Chunk sizes around the AJP body packet size (8186 data bytes in an 8192-byte packet).
const ODD_CHUNKS: [usize; 14] = [
    1, 8185, 8186, 8187, 8192, 16384, 3, 8188, 8191, 65536, 2, 100_000, 24_558, 7,
];

/// Chunked POST with odd chunk sizes: the body arrives intact and without a content-length.
fn scenario_chunked_post(httpd: &Httpd, b1: &AjpBackend, c: &mut Checks) {
    let total: usize = ODD_CHUNKS.iter().sum();
    let data = noise(total, 2);
    let sha = sha256_hex(&data);
    let req =
        Request::new("POST", "/app/chunked").body(Body::Chunked(split_into(&data, &ODD_CHUNKS)));
    match send(httpd, &req) {
        Err(e) => c.fail(format!("chunked POST failed at the HTTP level: {e}")),
        Ok(resp) => c.equal(resp.status, 200, "status"),
    }
    let seen = requests_for(b1, "/app/chunked");
    if seen.len() != 1 {
        c.fail(format!(
            "backend saw {} requests for /app/chunked",
            seen.len()
        ));
        return;
    }
    let r = &seen[0];
    c.equal(r.body_len, total as u64, "body_len");
    c.equal(r.body_sha256.as_str(), sha.as_str(), "body_sha256");
    c.equal(
        r.header("content-length"),
        None,
        "content-length header of a chunked request",
    );
}

/// A 10 MiB answer is byte-identical, with Content-Length and without (then httpd chunks it).
fn scenario_ten_mib_response(httpd: &Httpd, _b1: &AjpBackend, c: &mut Checks) {
    let length = TEN_MIB.to_string();
    match send(httpd, &Request::get("/app/big?size=10485760")) {
        Err(e) => c.fail(format!("10 MiB GET failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "status (Content-Length)");
            c.equal(
                resp.header("Content-Length"),
                Some(length.as_str()),
                "Content-Length",
            );
            c.equal(
                resp.body.len() as u64,
                TEN_MIB,
                "body length (Content-Length)",
            );
            c.equal(
                sha256_hex(&resp.body).as_str(),
                ten_mib_sha256(),
                "body sha256 (Content-Length)",
            );
        }
    }
    match send(httpd, &Request::get("/app/big-nocl?size=10485760&nocl=1")) {
        Err(e) => c.fail(format!(
            "10 MiB GET without Content-Length failed at the HTTP level: {e}"
        )),
        Ok(resp) => {
            c.equal(resp.status, 200, "status (nocl)");
            c.check(resp.is_chunked(), || {
                format!(
                    "answer without Content-Length is not chunked: {:?}",
                    resp.headers
                )
            });
            c.equal(resp.header("Content-Length"), None, "Content-Length (nocl)");
            c.equal(resp.body.len() as u64, TEN_MIB, "body length (nocl)");
            c.equal(
                sha256_hex(&resp.body).as_str(),
                ten_mib_sha256(),
                "body sha256 (nocl)",
            );
        }
    }
}

/// HEAD: status and headers, no body — proved by a second request on the same connection that
/// must parse cleanly — and the backend saw HEAD.
fn scenario_head(httpd: &Httpd, b1: &AjpBackend, c: &mut Checks) {
    let mut conn = match Connection::open(httpd.addr()) {
        Ok(conn) => conn,
        Err(e) => return c.fail(format!("cannot connect: {e}")),
    };
    match conn.send(&Request::head("/app/head?size=5000")) {
        Err(e) => return c.fail(format!("HEAD failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "HEAD status");
            c.equal(
                resp.header("X-Backend"),
                Some("b1"),
                "HEAD X-Backend header",
            );
            c.equal(
                resp.header("Content-Length"),
                Some("5000"),
                "HEAD Content-Length",
            );
        }
    }
    match conn.send(&Request::get("/app/after-head").header("Connection", "close")) {
        Err(e) => c.fail(format!(
            "the request after HEAD failed (stray body bytes?): {e}"
        )),
        Ok(resp) => {
            c.equal(resp.status, 200, "status after HEAD");
            c.equal(
                echo_value(&resp.text(), "uri"),
                Some("/app/after-head"),
                "echo after HEAD",
            );
        }
    }
    let seen = requests_for(b1, "/app/head");
    c.equal(seen.len(), 1, "HEAD requests the backend saw");
    if let Some(r) = seen.first() {
        c.equal(r.method.as_str(), "HEAD", "method");
        c.equal(r.method_code, 3, "method code");
    }
}

/// A worker whose port has no listener: 503.
fn scenario_backend_down(httpd: &Httpd, _b1: &AjpBackend, c: &mut Checks) {
    match send(httpd, &Request::get("/down/page")) {
        Err(e) => c.fail(format!(
            "GET to a dead backend failed at the HTTP level: {e}"
        )),
        Ok(resp) => c.equal(resp.status, 503, "status with the backend down"),
    }
}

/// Non-AJP bytes from the backend: 502, and the next request is served normally.
fn scenario_garbage(httpd: &Httpd, _b1: &AjpBackend, c: &mut Checks) {
    match send(httpd, &Request::get("/app/garbage?fault=garbage")) {
        Err(e) => c.fail(format!("GET with garbage failed at the HTTP level: {e}")),
        Ok(resp) => c.equal(resp.status, 502, "status after garbage"),
    }
    match send(httpd, &Request::get("/app/after-garbage")) {
        Err(e) => c.fail(format!("GET after garbage failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "status after garbage");
            c.equal(
                echo_value(&resp.text(), "uri"),
                Some("/app/after-garbage"),
                "echo after garbage",
            );
        }
    }
    let crashed = crashed_children(httpd);
    c.check(crashed.is_empty(), || {
        format!("crashed children: {crashed:?}")
    });
}

/// Starts a core site and runs one scenario on it.
fn run_one(scenario: Scenario) {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut checks = Checks::new();
    scenario(&httpd, &b1, &mut checks);
    checks.finish(&httpd);
}

/// Runs every core scenario on one site under `mpm`; reports all failures together.
fn run_core_scenarios(mpm: Mpm) {
    let b1 = backend("b1");
    let httpd = core_site(mpm, &b1).start();
    let mut checks = Checks::new();
    for (name, scenario) in CORE_SCENARIOS {
        let mut one = Checks::new();
        scenario(&httpd, &b1, &mut one);
        checks.absorb(&format!("{} MPM, {name}", mpm.name()), one);
    }
    let crashed = crashed_children(&httpd);
    checks.check(crashed.is_empty(), || {
        format!("crashed children: {crashed:?}")
    });
    checks.finish(&httpd);
}

// ------------------------------------------------------------------ the working paths (event MPM)

#[test]
fn get_reaches_the_backend_and_its_answer_comes_back() {
    run_one(scenario_get);
}

#[test]
fn post_of_one_mib_with_content_length_arrives_intact() {
    run_one(scenario_post_one_mib);
}

#[test]
fn chunked_post_with_odd_chunk_sizes_arrives_intact_without_content_length() {
    run_one(scenario_chunked_post);
}

#[test]
fn ten_mib_response_is_byte_identical_with_and_without_content_length() {
    run_one(scenario_ten_mib_response);
}

#[test]
fn head_returns_status_and_headers_without_a_body() {
    run_one(scenario_head);
}

#[test]
fn unknown_method_reaches_the_backend_by_name() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    for (method, code, stored) in [("FOOBAR", 0xFF, Some("FOOBAR")), ("PROPFIND", 8, None)] {
        let uri = format!("/app/method-{}", method.to_ascii_lowercase());
        match send(&httpd, &Request::new(method, &uri)) {
            Err(e) => c.fail(format!("{method} failed at the HTTP level: {e}")),
            Ok(resp) => {
                c.equal(resp.status, 200, &format!("{method} status"));
                c.equal(
                    echo_value(&resp.text(), "method"),
                    Some(method),
                    &format!("{method} echo"),
                );
            }
        }
        let seen = requests_for(&b1, &uri);
        if seen.len() != 1 {
            c.fail(format!("backend saw {} {method} requests", seen.len()));
            continue;
        }
        c.equal(seen[0].method.as_str(), method, "method name");
        c.equal(seen[0].method_code, code, &format!("{method} method code"));
        c.equal(
            seen[0].attribute("stored_method"),
            stored,
            &format!("{method} stored_method attribute"),
        );
    }
    c.finish(&httpd);
}

/// Exactly one Content-Length reaches the backend: `0` added for a GET without one, the
/// client's own `0` (in any letter case) kept and not doubled, a POST's kept.
#[test]
fn content_length_is_forwarded_once_whether_added_or_sent() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    let cases = [
        ("/app/cl-none", Request::get("/app/cl-none"), "0"),
        (
            "/app/cl-zero",
            Request::get("/app/cl-zero").header("content-LENGTH", "0"),
            "0",
        ),
        (
            "/app/cl-post",
            Request::post("/app/cl-post", b"a=1".to_vec()),
            "3",
        ),
    ];
    for (uri, request, length) in cases {
        if let Err(e) = send(&httpd, &request) {
            c.fail(format!("{uri}: {e}"));
            continue;
        }
        let seen = requests_for(&b1, uri);
        let Some(r) = seen.first() else {
            c.fail(format!("{uri} did not reach the backend"));
            continue;
        };
        let lengths: Vec<&str> = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.as_str())
            .collect();
        c.equal(
            lengths,
            vec![length],
            &format!("{uri}: Content-Length headers"),
        );
    }
    c.finish(&httpd);
}

#[test]
fn headers_query_client_address_and_local_address_are_forwarded() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    let mut conn = Connection::open(httpd.addr()).expect("connect to httpd");
    let client_port = conn.local_addr().expect("local address").port();
    let req = Request::get("/app/details?a=%2F&b=c+d&flag&u=%C3%A9")
        .header("Cookie", "JSESSIONID=abc123; theme=dark")
        .header("Referer", "http://example.test/from")
        .header("Accept-Language", "de, en;q=0.5")
        .header("X-Mixed-Case-Name", "Value With  Spaces")
        .header("X-Second", "x")
        .header("Connection", "close");
    match conn.send(&req) {
        Err(e) => c.fail(format!("GET failed at the HTTP level: {e}")),
        Ok(resp) => c.equal(resp.status, 200, "status"),
    }
    drop(conn);
    let seen = requests_for(&b1, "/app/details");
    if seen.len() != 1 {
        c.fail(format!(
            "backend saw {} requests: {:?}",
            seen.len(),
            b1.requests()
        ));
        return c.finish(&httpd);
    }
    let r = &seen[0];
    c.equal(
        r.query(),
        Some("a=%2F&b=c+d&flag&u=%C3%A9"),
        "query_string kept verbatim",
    );
    c.equal(r.remote_addr.as_str(), "127.0.0.1", "remote_addr");
    let port = client_port.to_string();
    c.equal(
        r.attribute("AJP_REMOTE_PORT"),
        Some(port.as_str()),
        "AJP_REMOTE_PORT = client port",
    );
    c.equal(
        r.attribute("AJP_LOCAL_ADDR"),
        Some("127.0.0.1"),
        "AJP_LOCAL_ADDR",
    );
    c.equal(
        r.header("cookie"),
        Some("JSESSIONID=abc123; theme=dark"),
        "Cookie",
    );
    c.equal(
        r.header("referer"),
        Some("http://example.test/from"),
        "Referer",
    );
    c.equal(
        r.header("accept-language"),
        Some("de, en;q=0.5"),
        "Accept-Language",
    );
    c.equal(
        r.header("X-Mixed-Case-Name"),
        Some("Value With  Spaces"),
        "custom header",
    );
    c.equal(r.header("X-Second"), Some("x"), "second custom header");
    c.equal(
        r.attribute("secret"),
        None,
        "no secret configured, none sent",
    );
    c.finish(&httpd);
}

#[test]
fn client_keep_alive_and_backend_connection_reuse() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    let mut conn = Connection::open(httpd.addr()).expect("connect to httpd");

    // Twenty requests on one client connection: one backend connection serves them all.
    let mut backend_connections = BTreeSet::new();
    for i in 0..20 {
        let uri = format!("/app/keepalive/{i}");
        match conn.send(&Request::get(&uri)) {
            Err(e) => {
                c.fail(format!(
                    "request {i} on the kept-alive connection failed: {e}"
                ));
                break;
            }
            Ok(resp) => {
                c.equal(resp.status, 200, &format!("status of request {i}"));
                c.check(!resp.closes_connection(), || {
                    format!("httpd closed the connection after request {i}")
                });
                c.equal(
                    echo_value(&resp.text(), "uri"),
                    Some(uri.as_str()),
                    "echoed uri",
                );
                backend_connections.insert(
                    resp.header("X-Backend-Connection")
                        .unwrap_or("?")
                        .to_string(),
                );
            }
        }
    }
    c.equal(
        backend_connections.len(),
        1,
        "backend connections used by 20 kept-alive requests",
    );
    c.check(b1.connections_accepted() <= 2, || {
        format!(
            "20 sequential requests opened {} backend connections",
            b1.connections_accepted()
        )
    });

    // Ten more, each on its own client connection: still pooled per child process.
    for i in 0..10 {
        let resp = must_get(&httpd, &format!("/app/separate/{i}"));
        c.equal(resp.status, 200, "status on a separate connection");
    }
    // A connection goes back to the pool just after its client has the answer, so the next
    // client connection, served by another thread, may now and then open one more: without
    // pooling it would be one per request (30).
    c.check(b1.connections_accepted() <= 6, || {
        format!(
            "30 sequential requests opened {} backend connections",
            b1.connections_accepted()
        )
    });

    // reuse=0 answers close the backend connection; every request still succeeds.
    let before = b1.connections_accepted();
    for i in 0..5 {
        let uri = format!("/app/noreuse/{i}");
        match conn.send(&Request::get(&format!("{uri}?reuse=0"))) {
            Err(e) => {
                c.fail(format!("reuse=0 request {i} failed at the HTTP level: {e}"));
                break;
            }
            Ok(resp) => {
                c.equal(resp.status, 200, "status of a reuse=0 answer");
                c.equal(
                    echo_value(&resp.text(), "uri"),
                    Some(uri.as_str()),
                    "echoed uri after reuse=0",
                );
            }
        }
    }
    match conn.send(&Request::get("/app/after-noreuse").header("Connection", "close")) {
        Err(e) => c.fail(format!("request after reuse=0 answers failed: {e}")),
        Ok(resp) => c.equal(resp.status, 200, "status after reuse=0 answers"),
    }
    drop(conn);
    let opened = b1.connections_accepted() - before;
    c.check(opened >= 5, || {
        format!(
            "5 reuse=0 answers and one more request opened only {opened} new backend connections"
        )
    });
    c.equal(
        b1.protocol_errors(),
        Vec::<String>::new(),
        "backend protocol errors",
    );
    let complaints = [
        module_log_lines(&httpd, "error", ""),
        module_log_lines(&httpd, "warn", ""),
    ]
    .concat();
    c.equal(
        complaints,
        Vec::<String>::new(),
        "module errors or warnings",
    );
    c.finish(&httpd);
}

#[test]
fn flushed_response_arrives_complete() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    for (path, size) in [
        ("/app/flush?size=200000&flush=1&chunk=1000", 200_000u64),
        ("/app/flush-nocl?size=100000&flush=1&nocl=1", 100_000),
    ] {
        match send(&httpd, &Request::get(path)) {
            Err(e) => c.fail(format!("{path} failed at the HTTP level: {e}")),
            Ok(resp) => {
                c.equal(resp.status, 200, &format!("{path} status"));
                c.equal(resp.body.len() as u64, size, &format!("{path} body length"));
                c.equal(
                    sha256_hex(&resp.body),
                    pattern_sha256(size),
                    &format!("{path} body sha256"),
                );
            }
        }
    }
    c.finish(&httpd);
}

/// Requests written back to back on one connection (HTTP/1.1 pipelining) get their answers in
/// order and whole: each response is ended and flushed on its own (EOS then FLUSH), so a chunked
/// answer keeps its last chunk, a HEAD gets no body, and an error page from the backend does not
/// run into the next answer.
#[test]
fn pipelined_requests_are_answered_in_order_and_whole() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1).start();
    let mut c = Checks::new();
    let requests = [
        (Request::get("/app/pipe/1?size=1000"), 200, 1000u64),
        (
            Request::get("/app/pipe/2?size=70000&nocl=1&chunk=7000"),
            200,
            70_000,
        ),
        (Request::head("/app/pipe/3?size=5000"), 200, 0),
        (Request::get("/app/pipe/4?status=404&size=300"), 404, 300),
        (Request::get("/app/pipe/5?status=204&size=0"), 204, 0),
        (Request::get("/app/pipe/6?size=3&nocl=1"), 200, 3),
        (Request::get("/app/pipe/7?size=150000"), 200, 150_000),
    ];
    let mut conn = Connection::open(httpd.addr()).expect("connect to httpd");
    let mut all = Vec::new();
    for (req, _, _) in &requests {
        all.extend_from_slice(&req.to_bytes());
    }
    conn.send_raw(&all).expect("write the pipelined requests");
    for (i, (req, status, size)) in requests.iter().enumerate() {
        match conn.read_response(req.is_head()) {
            Err(e) => {
                c.fail(format!("pipelined answer {i} could not be read: {e}"));
                break;
            }
            Ok(resp) => {
                c.equal(
                    resp.status,
                    *status,
                    &format!("status of pipelined answer {i}"),
                );
                c.equal(
                    resp.body.len() as u64,
                    *size,
                    &format!("body of answer {i}"),
                );
                if *size > 0 && *status == 200 {
                    c.equal(
                        sha256_hex(&resp.body),
                        pattern_sha256(*size),
                        &format!("body sha256 of answer {i}"),
                    );
                }
                c.check(!resp.closes_connection(), || {
                    format!("httpd closed the connection after pipelined answer {i}")
                });
            }
        }
    }
    // Nothing beyond the seven answers: the connection is idle and still open.
    c.check(!conn.is_closed_by_peer(), || {
        "the connection closed after the pipelined answers".to_string()
    });
    match conn.send(&Request::get("/app/pipe/after?size=10")) {
        Err(e) => c.fail(format!("request after the pipelined ones failed: {e}")),
        Ok(resp) => c.equal(resp.body.len(), 10, "body after the pipelined answers"),
    }
    c.equal(
        b1.protocol_errors(),
        Vec::<String>::new(),
        "backend protocol errors",
    );
    c.finish(&httpd);
}

#[test]
fn unmapped_and_unmounted_uris_are_served_by_httpd() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1)
        .conf("JkUnMount /app/static/* w1")
        .file("htdocs/app/static/logo.txt", "static logo\n")
        .start();
    let mut c = Checks::new();
    check_served_by_httpd(&mut c, &httpd, "/static.txt", &httpd::static_txt());
    check_served_by_httpd(&mut c, &httpd, "/app/static/logo.txt", b"static logo\n");
    let missing = must_get(&httpd, "/nothing/here").status;
    c.equal(missing, 404, "unmapped missing file");
    let mapped = must_get(&httpd, "/app/dynamic");
    c.equal(
        mapped.header("X-Backend"),
        Some("b1"),
        "mapped /app/dynamic",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/app/dynamic".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

/// `resp` is a 200 that `backend` answered.
fn check_forwarded(c: &mut Checks, resp: &http_client::Response, backend: &str, what: &str) {
    c.equal(resp.status, 200, &format!("{what}: status"));
    c.equal(
        resp.header("X-Backend"),
        Some(backend),
        &format!("{what}: X-Backend"),
    );
}

/// `resp` came from httpd itself: no backend answered it, and it is no 200.
fn check_not_forwarded(c: &mut Checks, resp: &http_client::Response, what: &str) {
    c.equal(
        resp.header("X-Backend"),
        None,
        &format!("{what}: X-Backend"),
    );
    c.check(resp.status != 200, || {
        format!("{what} answered {}", resp.status)
    });
}

/// A mapped request is translated as mod_jk translates it: the later translate hooks do not
/// join it to DocumentRoot, and its filename (`%f`) is the URI's last segment. mod_dir's
/// DirectoryIndex reaches a mapped index only when that file is in the directory, as with
/// mod_jk (which stats it for mod_dir).
#[test]
fn mapped_requests_name_their_file_as_mod_jk_does_and_directory_index_reaches_them() {
    let b1 = backend("b1");
    let site = core_site(Mpm::Event, &b1)
        .conf("JkMount /docs/*.jsp w1")
        .conf("DirectoryIndex index.jsp")
        .conf("LogFormat \"%U %f\" files")
        .conf("CustomLog \"{dir}/files.log\" files")
        .file("htdocs/docs/index.jsp", "the index's copy on disk\n")
        .file("htdocs/bare/readme.txt", "a directory without index.jsp\n");
    let mut cfg = site.config();
    cfg.extra_modules.push("dir".into());
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let mut c = Checks::new();
    let mapped = must_get(&httpd, "/app/dynamic");
    c.equal(
        mapped.header("X-Backend"),
        Some("b1"),
        "mapped /app/dynamic",
    );
    let index = must_get(&httpd, "/docs/");
    check_forwarded(&mut c, &index, "b1", "/docs/ (index.jsp on disk)");
    let bare = must_get(&httpd, "/bare/");
    check_not_forwarded(&mut c, &bare, "/bare/ (no index.jsp)");
    c.equal(
        uris_seen(&b1),
        vec!["/app/dynamic".to_string(), "/docs/index.jsp".to_string()],
        "URIs the backend saw",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let files = loop {
        let text = std::fs::read_to_string(httpd.dir().join("files.log")).unwrap_or_default();
        if text.lines().count() >= 3 || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    c.check(files.lines().any(|l| l == "/app/dynamic dynamic"), || {
        format!("%f of /app/dynamic is not its last segment: {files:?}")
    });
    c.finish(&httpd);
}

#[test]
fn set_handler_needs_jk_worker_name_to_forward() {
    let b1 = backend("b1");
    let b2 = backend("b2");
    let httpd = Site::new(Mpm::Event)
        .worker("w1", b1.port(), &[])
        .worker("w2", b2.port(), &[])
        .conf("JkMount /app/* w1")
        .conf("<Location /handler-only>\n    SetHandler jakarta-servlet\n</Location>")
        .conf("<Location /via-env>\n    SetHandler jakarta-servlet\n    SetEnv JK_WORKER_NAME w2\n</Location>")
        .start();
    let mut c = Checks::new();
    // CVE-2023-41081: no implicit worker (mod_jk <= 1.2.48 took the first of worker.list).
    let implicit = must_get(&httpd, "/handler-only/page");
    check_not_forwarded(&mut c, &implicit, "SetHandler alone");
    let via_env = must_get(&httpd, "/via-env/page");
    check_forwarded(&mut c, &via_env, "b2", "SetEnv JK_WORKER_NAME w2");
    c.equal(
        uris_seen(&b1),
        Vec::<String>::new(),
        "URIs w1's backend saw",
    );
    c.equal(
        uris_seen(&b2),
        vec!["/via-env/page".to_string()],
        "URIs w2's backend saw",
    );
    c.finish(&httpd);
}

#[test]
fn no_jk_environment_keeps_a_mapped_uri_away_from_the_backend() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1)
        .conf("SetEnvIf Request_URI \"^/app/nojk\" no-jk")
        .file("htdocs/app/nojk/local.txt", "served by httpd\n")
        .start();
    let mut c = Checks::new();
    check_served_by_httpd(&mut c, &httpd, "/app/nojk/local.txt", b"served by httpd\n");
    let missing = must_get(&httpd, "/app/nojk/missing").status;
    c.equal(missing, 404, "no-jk missing file");
    let control = must_get(&httpd, "/app/yes");
    c.equal(control.header("X-Backend"), Some("b1"), "control request");
    c.equal(
        uris_seen(&b1),
        vec!["/app/yes".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

#[test]
fn path_traversal_is_resolved_by_httpd_and_jsessionid_parameter_is_kept() {
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1)
        .file("htdocs/secret.txt", "local secret file\n")
        .start();
    let mut c = Checks::new();
    for path in [
        "/app/../secret.txt",
        "/app/%2e%2e/secret.txt",
        "/app/./../secret.txt",
    ] {
        check_served_by_httpd(&mut c, &httpd, path, b"local secret file\n");
    }
    let above_root = must_get(&httpd, "/../secret.txt").status;
    c.equal(above_root, 400, "/../secret.txt climbs above the root");
    let resp = must_get(&httpd, "/app/x;jsessionid=ABC.w1?q=1");
    c.equal(resp.status, 200, "jsessionid status");
    c.equal(resp.header("X-Backend"), Some("b1"), "jsessionid X-Backend");
    let expected = vec!["/app/x;jsessionid=ABC.w1".to_string()];
    c.equal(uris_seen(&b1), expected, "URIs the backend saw");
    c.finish(&httpd);
}

#[test]
fn dot_dot_segment_with_a_path_parameter_is_not_forwarded() {
    // CVE-2018-11759: httpd keeps "..;" as a segment, a servlet container reads it as "..".
    let b1 = backend("b1");
    let httpd = core_site(Mpm::Event, &b1)
        .file("htdocs/secret.txt", "local secret file\n")
        .start();
    let mut c = Checks::new();
    for path in ["/app/..;/secret.txt", "/app/..;x=y/secret.txt"] {
        match send(&httpd, &Request::get(path)) {
            Err(e) => c.fail(format!("{path} failed at the HTTP level: {e}")),
            Ok(resp) => c.equal(resp.header("X-Backend"), None, &format!("{path} X-Backend")),
        }
    }
    c.equal(uris_seen(&b1), Vec::<String>::new(), "URIs the backend saw");
    c.finish(&httpd);
}

// ------------------------------------------------------------------ MPM variants

#[test]
fn core_scenarios_pass_under_the_event_mpm() {
    run_core_scenarios(Mpm::Event);
}

#[test]
fn core_scenarios_pass_under_the_worker_mpm() {
    run_core_scenarios(Mpm::Worker);
}

#[test]
fn core_scenarios_pass_under_the_prefork_mpm() {
    run_core_scenarios(Mpm::Prefork);
}

// ------------------------------------------------------------------ apachectl -t

const GOOD_WORKERS: &str = "worker.list=w1\n\
                            worker.w1.type=ajp13\n\
                            worker.w1.host=127.0.0.1\n\
                            worker.w1.port=8009\n";

fn config_with(global: &str, workers: &str) -> HttpdConfig {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global = global.to_string();
    cfg.files = vec![("workers.properties".to_string(), workers.to_string())];
    cfg
}

/// 1-based line of `needle` (`{dir}` expanded) in the httpd.conf generated for `cfg`; line
/// numbers do not depend on the directory.
fn conf_line_of(cfg: &HttpdConfig, needle: &str) -> usize {
    let dir = "/srv/line-count";
    let text = render_config(cfg, Path::new(dir), 8080);
    let needle = needle.replace("{dir}", dir);
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the generated httpd.conf:\n{text}"))
}

/// `file:line` as our module writes it, or httpd's own "Syntax error on line N of FILE".
fn names_location(output: &str, file: &str, line: usize) -> bool {
    output.contains(&format!("{file}:{line}"))
        || output
            .lines()
            .any(|l| l.contains(&format!("line {line} of ")) && l.contains(file))
}

#[test]
fn config_test_passes_for_a_good_config() {
    let cfg = config_with(
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* w1\n",
        GOOD_WORKERS,
    );
    let (code, output) = config_test(&cfg);
    assert_eq!(code, 0, "apachectl -t failed:\n{output}");
    assert!(output.contains("Syntax OK"), "{output}");
}

/// `apachectl -t` must fail, point at `file:line` and name `culprit`.
fn assert_config_rejected(cfg: &HttpdConfig, file: &str, line: usize, culprit: &str) {
    let (code, output) = config_test(cfg);
    assert_ne!(code, 0, "apachectl -t accepted it:\n{output}");
    assert!(
        names_location(&output, file, line),
        "no {file}:{line} in:\n{output}"
    );
    assert!(
        output.contains(culprit),
        "{culprit} is not named:\n{output}"
    );
}

#[test]
fn config_test_names_file_and_line_of_an_unknown_worker_property() {
    let workers = format!("{GOOD_WORKERS}worker.w1.colour=blue\n");
    let cfg = config_with(
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* w1\n",
        &workers,
    );
    assert_config_rejected(&cfg, "workers.properties", 5, "colour");
}

#[test]
fn config_test_names_file_and_line_of_a_jkmount_to_a_misspelt_worker() {
    let cfg = config_with(
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* w1\nJkMount /other/* w2\n",
        GOOD_WORKERS,
    );
    let line = conf_line_of(&cfg, "JkMount /other/* w2");
    assert_config_rejected(&cfg, "httpd.conf", line, "did you mean 'w1'");
}

#[test]
fn config_test_names_file_and_line_of_a_missing_workers_file() {
    let cfg = config_with(
        "JkWorkersFile {dir}/missing-workers.properties\nJkMount /app/* w1\n",
        GOOD_WORKERS,
    );
    let line = conf_line_of(&cfg, "JkWorkersFile {dir}/missing-workers.properties");
    assert_config_rejected(&cfg, "httpd.conf", line, "missing-workers.properties");
}

/// A path that decodes to bytes that are not UTF-8 (Latin-1 `/caf%E9`) is still mapped, and the
/// backend receives it re-encoded, byte for byte.
#[test]
fn non_utf8_path_is_mapped_and_forwarded_byte_for_byte() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let resp = must_get(&httpd, "/app/caf%E9?q=%E9");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let seen: Vec<String> = b1.requests().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(seen, vec!["/app/caf%E9".to_string()]);
    assert_eq!(b1.requests()[0].attribute("query_string"), Some("q=%E9"));
}

/// Tomcat 8.5+ sends the status code itself as the reason phrase: the client gets httpd's
/// phrase ("200 OK"), not "200 200"; a real phrase from the backend is kept.
#[test]
fn numeric_reason_phrases_are_replaced_by_httpds_own() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let numeric = must_get(&httpd, "/app/x?reason=200");
    assert_eq!((numeric.status, numeric.reason.as_str()), (200, "OK"));
    let custom = must_get(&httpd, "/app/x?status=299&reason=Quite%20Fine");
    assert_eq!((custom.status, custom.reason.as_str()), (299, "Quite Fine"));
}

/// Only the two module records leave the `.so` (the hooks and the shim's helpers stay local),
/// so nothing of ours can clash with another module's symbols.
#[test]
fn only_the_module_records_are_exported() {
    let so = httpd::module_path();
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm (binutils) runs");
    assert!(out.status.success(), "nm failed on {}", so.display());
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, ["jk_module", "jk_rs_module"]);
}

/// A `Range` request on a small answer gets httpd's `206 Partial Content`, as with mod_jk: the
/// whole small body goes down the output filters with its end, so the byte-range filter applies.
/// A large answer streams (the filter steps aside: 200 and the whole body), with or without a
/// Content-Length; a small one without gets one from httpd, as with mod_jk. Holding a small answer back until the exchange is over also means the worker is free
/// (busy_limit 1) before the client sees the answer: back-to-back requests are never refused.
#[test]
fn range_requests_on_small_answers_get_206() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["busy_limit=1"]).start();
    let mut c = Checks::new();
    let whole = must_get(&httpd, "/app/small?size=636");
    c.equal(whole.status, 200, "status without Range");
    c.equal(whole.body.len(), 636, "body without Range");
    let ranged = |path: &str, range: &str| {
        e2e_common::must_send(&httpd, &Request::get(path).header("Range", range))
    };
    let part = ranged("/app/small?size=636", "bytes=0-10");
    c.equal(part.status, 206, "status of bytes=0-10 on 636 bytes");
    c.equal(
        part.header("Content-Range"),
        Some("bytes 0-10/636"),
        "Content-Range",
    );
    c.equal(part.body.as_slice(), &whole.body[..11], "the 11 bytes");
    let tail = ranged("/app/small?size=636", "bytes=-6");
    c.equal(tail.status, 206, "status of bytes=-6");
    c.equal(tail.body.as_slice(), &whole.body[630..], "the last 6 bytes");
    let beyond = ranged("/app/small?size=636", "bytes=700-800");
    c.equal(beyond.status, 416, "status of a range past the end");

    let large = ranged("/app/large?size=200000", "bytes=0-10");
    c.equal(
        large.status,
        200,
        "status of a Range on a streamed 200000-byte answer",
    );
    c.equal(large.body.len(), 200_000, "body of the streamed answer");
    // Without a Content-Length: small answers too are held whole (httpd gives them one, as
    // for mod_jk), large ones stream chunked.
    let small = ranged("/app/nocl?size=636&nocl=1", "bytes=0-10");
    c.equal(
        small.status,
        206,
        "status of a Range on a small answer without Content-Length",
    );
    c.equal(small.body.as_slice(), &whole.body[..11], "its 11 bytes");
    let plain = must_get(&httpd, "/app/nocl?size=636&nocl=1");
    c.equal(
        plain.header("Content-Length"),
        Some("636"),
        "Content-Length httpd gave the small answer",
    );
    c.check(!plain.is_chunked(), || {
        "the small answer went out chunked".into()
    });
    let chunked = ranged("/app/chunked?size=20000&nocl=1", "bytes=0-10");
    c.equal(
        chunked.status,
        200,
        "status of a Range on a large answer without Content-Length",
    );
    c.equal(
        chunked.body.len(),
        20_000,
        "body of the large answer without Content-Length",
    );
    c.check(chunked.is_chunked(), || {
        "the large answer without Content-Length was not chunked".into()
    });

    for i in 0..20 {
        let resp = send(&httpd, &Request::get(&format!("/app/next-{i}?size=100")));
        match resp {
            Ok(r) => c.equal(
                r.status,
                200,
                &format!("back-to-back request {i} (busy_limit 1)"),
            ),
            Err(e) => c.fail(format!("back-to-back request {i}: {e}")),
        }
    }
    c.finish(&httpd);
}

/// `request_body_buffer`: a client that sends its upload slowly holds no backend connection
/// while it sends (the backend is contacted once the body is in), and the body arrives intact,
/// the part past the first 64 KiB through a temporary file. Without it the backend is
/// connected from the first packet on (the control).
#[test]
fn request_body_buffer_keeps_a_slow_upload_off_the_backend() {
    let buffered = backend("buffered");
    let streamed = backend("streamed");
    let httpd = Site::new(Mpm::Event)
        .worker("wb", buffered.port(), &["request_body_buffer=1000000"])
        .worker("ws", streamed.port(), &[])
        .conf("JkMount /buf/* wb")
        .conf("JkMount /str/* ws")
        .start();
    let mut c = Checks::new();
    let body = noise(100_000, 7);
    for (path, b, buffers) in [("/buf/up", &buffered, true), ("/str/up", &streamed, false)] {
        let mut conn = Connection::open(httpd.addr()).expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        conn.send_raw(head.as_bytes()).expect("head");
        conn.send_raw(&body[..30_000]).expect("first part");
        std::thread::sleep(std::time::Duration::from_millis(800));
        let during = b.connections_accepted();
        conn.send_raw(&body[30_000..]).expect("rest");
        match conn.read_response(false) {
            Err(e) => c.fail(format!("{path}: {e}")),
            Ok(resp) => c.equal(resp.status, 200, &format!("{path}: status")),
        }
        if buffers {
            c.equal(
                during,
                0,
                "backend connections while the client was still sending (buffered)",
            );
        } else {
            c.check(during >= 1, || {
                format!("{path}: without the buffer the backend was not contacted during the upload ({during})")
            });
        }
        let seen = requests_for(b, path);
        c.equal(seen.len(), 1, &format!("{path}: requests the backend saw"));
        if let Some(r) = seen.first() {
            c.equal(
                r.body_len,
                body.len() as u64,
                &format!("{path}: body length"),
            );
            c.equal(
                r.body_sha256.as_str(),
                sha256_hex(&body).as_str(),
                &format!("{path}: body SHA-256"),
            );
        }
    }
    c.finish(&httpd);
}
