//! End-to-end tests of the load balancer through a real httpd: an `lb` worker over several fake
//! AJP backends (`tests/support/ajp_backend.rs`, each answering with `X-Backend: <name>`). They
//! check that lbfactor weights hold in aggregate across prefork children and event threads, that
//! sticky sessions (cookie and path parameter) stay on their member, that a dying member loses no
//! GET and gives its sessions away, that it comes back after `recover_time`, that `fail_on_status`
//! puts a member in error, that `activation` is honoured, and that a POST the member already
//! received is never replayed on another member.
//!
//! Each test starts its own httpd and backends on free ports, so they can run in parallel.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{AjpBackend, BackendOptions};
use e2e_common::{backend, dead_port, noise, send, Checks};
use http_client::Request;
use httpd::{Httpd, HttpdConfig, Mpm};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// One lb member: its name (also its route and its backend's name), port and extra properties.
struct Member<'a> {
    name: &'a str,
    port: u16,
    props: &'a [&'a str],
}

fn member<'a>(name: &'a str, port: u16, props: &'a [&'a str]) -> Member<'a> {
    Member { name, port, props }
}

/// workers.properties with one lb worker `lb` over `members`; `lb_props` are lb attributes and
/// `global` whole lines (`worker.maintain=1`).
fn lb_properties(members: &[Member], lb_props: &[&str], global: &[&str]) -> String {
    let mut text = String::from("# written by tests/e2e_lb.rs\nworker.list=lb\n");
    for line in global {
        let _ = writeln!(text, "{line}");
    }
    for m in members {
        let name = m.name;
        let _ = writeln!(text, "worker.{name}.type=ajp13");
        let _ = writeln!(text, "worker.{name}.host=127.0.0.1");
        let _ = writeln!(text, "worker.{name}.port={}", m.port);
        // Quick failures: a dead member must not make the test wait.
        let _ = writeln!(text, "worker.{name}.socket_connect_timeout=1000");
        let _ = writeln!(text, "worker.{name}.reply_timeout=5000");
        for prop in m.props {
            let _ = writeln!(text, "worker.{name}.{prop}");
        }
    }
    let names: Vec<&str> = members.iter().map(|m| m.name).collect();
    let _ = writeln!(text, "worker.lb.type=lb");
    let _ = writeln!(text, "worker.lb.balance_workers={}", names.join(","));
    for prop in lb_props {
        let _ = writeln!(text, "worker.lb.{prop}");
    }
    text
}

/// Three backends b1, b2, b3 behind one lb (members with `props`, lb with `lb_props`), and
/// the httpd in front of them (declared last, so it is dropped first).
fn three_member_lb(
    mpm: Mpm,
    children: usize,
    props: [&[&str]; 3],
    lb_props: &[&str],
) -> (AjpBackend, AjpBackend, AjpBackend, Httpd) {
    let (b1, b2, b3) = (backend("b1"), backend("b2"), backend("b3"));
    let properties = lb_properties(
        &[
            member("b1", b1.port(), props[0]),
            member("b2", b2.port(), props[1]),
            member("b3", b3.port(), props[2]),
        ],
        lb_props,
        &[],
    );
    let httpd = start_lb(mpm, children, properties);
    (b1, b2, b3, httpd)
}

/// An httpd with `properties` as its workers.properties and `/app/*` mounted on `lb`.
fn start_lb(mpm: Mpm, children: usize, properties: String) -> Httpd {
    let mut cfg = HttpdConfig::with_module(mpm);
    cfg.prefork_children = children;
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n".to_string();
    cfg.files = vec![("workers.properties".to_string(), properties)];
    match Httpd::start(cfg) {
        Ok(httpd) => httpd,
        Err(e) => panic!("httpd did not start:\n{e}"),
    }
}

/// What one request got: the status and the member that answered (its `X-Backend`), or a
/// transport error.
fn outcome(httpd: &Httpd, req: &Request) -> Result<(u16, Option<String>), String> {
    send(httpd, req)
        .map(|r| (r.status, r.header("X-Backend").map(str::to_string)))
        .map_err(|e| format!("{} {}: {e}", req.method, req.path))
}

fn get_with_cookie(path: &str, cookie: &str) -> Request {
    Request::get(path).header("Cookie", cookie)
}

/// Sends `total` GETs of `/app/w` from `threads` client threads (a new connection each) and
/// counts the answers per member; non-200 answers and transport errors are listed apart.
fn spread(
    httpd: &Arc<Httpd>,
    total: usize,
    threads: usize,
) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut handles = Vec::new();
    for t in 0..threads {
        let httpd = Arc::clone(httpd);
        let share = total / threads + usize::from(t < total % threads);
        handles.push(thread::spawn(move || {
            let mut counts = BTreeMap::new();
            let mut bad = Vec::new();
            for _ in 0..share {
                match outcome(&httpd, &Request::get("/app/w")) {
                    Ok((200, Some(name))) => *counts.entry(name).or_insert(0) += 1,
                    Ok((status, name)) => bad.push(format!("status {status} from {name:?}")),
                    Err(e) => bad.push(e),
                }
            }
            (counts, bad)
        }));
    }
    let mut counts = BTreeMap::new();
    let mut bad = Vec::new();
    for h in handles {
        match h.join() {
            Ok((c, b)) => {
                for (name, n) in c {
                    *counts.entry(name).or_insert(0) += n;
                }
                bad.extend(b);
            }
            Err(_) => bad.push("a client thread panicked".to_string()),
        }
    }
    (counts, bad)
}

/// lbfactor 1:2:3 over three members: 1200 requests on new connections from 4 client threads
/// land 1/6, 2/6, 3/6 on the members (±5 percentage points), whichever child or thread serves.
fn check_weights(mpm: Mpm) {
    let (b1, b2, b3, httpd) = three_member_lb(
        mpm,
        8,
        [&["lbfactor=1"], &["lbfactor=2"], &["lbfactor=3"]],
        &[],
    );
    let httpd = Arc::new(httpd);
    // The issue's figure: 10,000 requests, each share within ±5% of its weight.
    let total = 10_000;
    let (counts, bad) = spread(&httpd, total, 8);
    eprintln!("{} lbfactor 1:2:3 counts: {counts:?}", mpm.name());
    let mut c = Checks::new();
    c.check(bad.is_empty(), || {
        format!("{} bad answers, first: {:?}", bad.len(), bad.first())
    });
    for (name, weight) in [("b1", 1.0), ("b2", 2.0), ("b3", 3.0)] {
        let got = counts.get(name).copied().unwrap_or(0) as f64 / total as f64;
        let want = weight / 6.0;
        c.check((got / want - 1.0).abs() <= 0.05, || {
            format!("{name} got share {got:.4}, expected {want:.4} ±5% (counts {counts:?})")
        });
    }
    // The backends agree with the headers.
    let recorded = b1.requests().len() + b2.requests().len() + b3.requests().len();
    c.equal(
        recorded,
        total - bad.len(),
        "requests recorded by the backends",
    );
    c.finish(&httpd);
}

#[test]
fn weights_hold_in_aggregate_across_prefork_children() {
    check_weights(Mpm::Prefork);
}

#[test]
fn weights_hold_in_aggregate_across_event_threads() {
    check_weights(Mpm::Event);
}

/// `JSESSIONID=xyz.b2` sticks to b2 on 50 new connections (so many prefork children), and
/// `;jsessionid=xyz.b3` in the path sticks to b3.
#[test]
fn sticky_session_stays_on_its_member_across_children() {
    let (b1, b2, b3, httpd) = three_member_lb(Mpm::Prefork, 8, [&[], &[], &[]], &[]);
    let mut c = Checks::new();
    for i in 0..50 {
        match outcome(&httpd, &get_with_cookie("/app/s", "JSESSIONID=xyz.b2")) {
            Ok((200, Some(name))) if name == "b2" => {}
            other => c.fail(format!(
                "cookie request {i}: {other:?}, expected 200 from b2"
            )),
        }
    }
    for i in 0..30 {
        match outcome(&httpd, &Request::get("/app/x;jsessionid=xyz.b3")) {
            Ok((200, Some(name))) if name == "b3" => {}
            other => c.fail(format!("path request {i}: {other:?}, expected 200 from b3")),
        }
    }
    c.equal(b1.requests().len(), 0, "requests that reached b1");
    c.equal(b2.requests().len(), 50, "requests that reached b2");
    c.equal(b3.requests().len(), 30, "requests that reached b3");
    c.finish(&httpd);
}

/// The session is read from every Cookie header line, whatever the case of its name: a first
/// line without a session, a second whose route names no member, a third naming b3 (served
/// by b3). Headers whose names only start or end like "Cookie" are not read: a route in
/// `Cookies:` or `X-Cookie:` alone leaves the request unrouted (spread over the members).
#[test]
fn sessions_are_read_from_every_cookie_line_and_only_those() {
    let (b1, b2, b3, httpd) = three_member_lb(Mpm::Event, 2, [&[], &[], &[]], &[]);
    let mut c = Checks::new();
    for i in 0..10 {
        let req = Request::get("/app/c")
            .header("Cookie", "theme=dark")
            .header("cookie", "JSESSIONID=abc.nowhere; x=1")
            .header("COOKIE", "JSESSIONID=def.b3");
        match outcome(&httpd, &req) {
            Ok((200, Some(name))) if name == "b3" => {}
            other => c.fail(format!("request {i}: {other:?}, expected 200 from b3")),
        }
    }
    c.equal(b3.requests().len(), 10, "requests that reached b3");
    let mut seen = BTreeMap::new();
    for i in 0..30 {
        let req = Request::get("/app/c")
            .header("Cookies", "JSESSIONID=abc.b1")
            .header("X-Cookie", "JSESSIONID=abc.b1")
            .header("Cooki", "JSESSIONID=abc.b1");
        match outcome(&httpd, &req) {
            Ok((200, Some(name))) => *seen.entry(name).or_insert(0) += 1,
            other => c.fail(format!("unrouted request {i}: {other:?}, expected 200")),
        }
    }
    c.check(seen.len() == 3, || {
        format!("requests without a Cookie header went to {seen:?}, not to all three members")
    });
    c.equal(
        b1.requests().len() + b2.requests().len() + b3.requests().len(),
        40,
        "requests recorded by the backends",
    );
    c.finish(&httpd);
}

/// Backend b2 dies after 70 of 200 GETs: every GET still gets 200 (failover), and sticky requests
/// for b2 then go to another member.
#[test]
fn killing_a_member_loses_no_get_and_moves_its_sessions() {
    let (_b1, b2, _b3, httpd) = three_member_lb(Mpm::Prefork, 8, [&[], &[], &[]], &[]);
    let mut c = Checks::new();
    let mut b2 = Some(b2);
    let mut served_by_b2_before = 0;
    for i in 0..200 {
        if i == 70 {
            if let Some(dying) = b2.take() {
                served_by_b2_before = dying.requests().len();
                dying.stop();
            }
        }
        match outcome(&httpd, &Request::get("/app/k")) {
            Ok((200, Some(name))) => {
                c.check(i < 70 || name != "b2", || {
                    format!("request {i} answered by b2 after it was stopped")
                });
            }
            other => c.fail(format!("GET {i}: {other:?}, expected 200")),
        }
    }
    c.check(served_by_b2_before > 0, || {
        "b2 served nothing before it was stopped".to_string()
    });
    for i in 0..20 {
        match outcome(&httpd, &get_with_cookie("/app/k", "JSESSIONID=abc.b2")) {
            Ok((200, Some(name))) if name == "b1" || name == "b3" => {}
            other => c.fail(format!(
                "sticky request {i} for dead b2: {other:?}, expected 200 from b1 or b3"
            )),
        }
    }
    c.finish(&httpd);
}

/// With `worker.maintain=1` and `recover_time=1`, a member whose backend died and came back on
/// the same port gets requests again within a few seconds.
#[test]
fn member_comes_back_after_recover_time() {
    let b1 = backend("b1");
    let b2 = backend("b2");
    let b2_addr = b2.addr();
    let props = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", b2.port(), &[])],
        &["recover_time=1"],
        &["worker.maintain=1"],
    );
    let httpd = start_lb(Mpm::Prefork, 4, props);
    let mut c = Checks::new();
    for i in 0..10 {
        match outcome(&httpd, &Request::get("/app/r")) {
            Ok((200, Some(_))) => {}
            other => c.fail(format!("warm-up GET {i}: {other:?}, expected 200")),
        }
    }
    c.check(!b2.requests().is_empty(), || {
        "b2 got nothing before it was stopped".to_string()
    });
    b2.stop();
    // Enough requests for the lb to try b2 and put it in error; all must still succeed.
    for i in 0..20 {
        match outcome(&httpd, &Request::get("/app/r")) {
            Ok((200, Some(name))) if name == "b1" => {}
            other => c.fail(format!(
                "GET {i} with b2 down: {other:?}, expected 200 from b1"
            )),
        }
    }
    let b2 = match AjpBackend::start_on(b2_addr, "b2", BackendOptions::default()) {
        Ok(b) => b,
        Err(e) => panic!("cannot restart b2 on {b2_addr}: {e}"),
    };
    let deadline = Instant::now() + Duration::from_secs(6);
    let mut back_after = None;
    let started = Instant::now();
    while Instant::now() < deadline {
        match outcome(&httpd, &Request::get("/app/r")) {
            Ok((200, Some(_))) => {}
            other => c.fail(format!("GET while b2 recovers: {other:?}, expected 200")),
        }
        if !b2.requests().is_empty() {
            back_after = Some(started.elapsed());
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    eprintln!("b2 got a request again {back_after:?} after its restart");
    c.check(back_after.is_some(), || {
        "restarted b2 got no request within 6 s (recover_time=1, maintain=1)".to_string()
    });
    // Once recovered, its sessions stick to it again.
    if back_after.is_some() {
        match outcome(&httpd, &get_with_cookie("/app/r", "JSESSIONID=z.b2")) {
            Ok((200, Some(name))) if name == "b2" => {}
            other => c.fail(format!("sticky request for recovered b2: {other:?}")),
        }
        // The operator is told both: once when b2 went to error, once when it answered again.
        let log = httpd.error_log();
        let down: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("lb lb: member b2 ") && l.contains("-> ERR: "))
            .collect();
        c.check(down.len() == 1 && down[0].contains(":warn]"), || {
            format!("expected one warning for b2 going to error, got {down:?}")
        });
        c.check(
            log.lines().any(|l| {
                l.contains("lb lb: member b2 ERR/") && l.contains(" -> OK: it answers again")
            }),
            || "no line saying b2 answers again".to_string(),
        );
        let recovering: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("lb lb: member b2 ERR -> ERR/REC: recover_time passed"))
            .collect();
        c.check(!recovering.is_empty(), || {
            "no line for b2 going into recovery (maintenance, recover_time)".to_string()
        });
    }
    c.finish(&httpd);
}

/// `LogLevel jk_rs:debug` shows each request's mapping decision and the lb's choice (mod_jk's
/// "Found a wildchar match" and "found best worker").
#[test]
fn debug_logging_explains_the_mapping_and_the_choice() {
    let b1 = backend("b1");
    let props = lb_properties(&[member("b1", b1.port(), &[])], &[], &[]);
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n".to_string();
    cfg.files = vec![("workers.properties".to_string(), props)];
    cfg.log_level = "info jk_rs:debug".to_string();
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    assert_eq!(
        outcome(&httpd, &Request::get("/app/d")).map(|o| o.0),
        Ok(200)
    );
    assert!(
        httpd.wait_for_error_log(
            "member b1 (route b1) chosen by the only member",
            e2e_common::PATIENCE
        ),
        "no lb choice line:\n{}",
        httpd.error_log()
    );
    let log = httpd.error_log();
    assert!(
        log.lines()
            .any(|l| l.contains(":debug]") && l.contains("/app/d mapped to worker lb by '/app/*'")),
        "no mapping line:\n{log}"
    );
}

/// b1 has `fail_on_status=500`: its 500 answer never reaches the client (failover to another
/// member, or 503), and afterwards non-sticky requests avoid b1 (in error for `recover_time`).
#[test]
fn fail_on_status_puts_a_member_in_error() {
    let (b1, _b2, _b3, httpd) = three_member_lb(
        Mpm::Prefork,
        4,
        [&["fail_on_status=500"], &[], &[]],
        &["recover_time=60"],
    );
    let mut c = Checks::new();
    let first = outcome(
        &httpd,
        &get_with_cookie("/app/f?status=500", "JSESSIONID=q.b1"),
    );
    eprintln!("fail_on_status request got {first:?}");
    match first {
        Ok((503, _)) => {}
        Ok((status, Some(name))) if name != "b1" => {
            // Failed over: another member answered the replayed GET (its own 500).
            c.check(status == 500 || status == 200, || {
                format!("failed-over answer from {name} has status {status}")
            });
        }
        other => c.fail(format!(
            "fail_on_status request: {other:?}, expected failover away from b1 or 503"
        )),
    }
    c.equal(
        b1.requests().len(),
        1,
        "requests b1 saw for the status=500 GET",
    );
    for i in 0..30 {
        match outcome(&httpd, &Request::get("/app/f")) {
            Ok((200, Some(name))) if name != "b1" => {}
            other => c.fail(format!(
                "GET {i} after fail_on_status: {other:?}, expected 200 not from b1"
            )),
        }
    }
    c.equal(b1.requests().len(), 1, "requests b1 saw in total");
    c.finish(&httpd);
}

/// `activation=disabled`: b2 gets no new requests but keeps its sessions.
#[test]
fn disabled_member_gets_only_its_sessions() {
    let (_b1, b2, _b3, httpd) =
        three_member_lb(Mpm::Prefork, 4, [&[], &["activation=disabled"], &[]], &[]);
    let mut c = Checks::new();
    for i in 0..30 {
        match outcome(&httpd, &Request::get("/app/d")) {
            Ok((200, Some(name))) if name != "b2" => {}
            other => c.fail(format!("GET {i}: {other:?}, expected 200 not from b2")),
        }
    }
    c.equal(
        b2.requests().len(),
        0,
        "non-sticky requests that reached disabled b2",
    );
    for i in 0..10 {
        match outcome(&httpd, &get_with_cookie("/app/d", "JSESSIONID=s.b2")) {
            Ok((200, Some(name))) if name == "b2" => {}
            other => c.fail(format!("sticky GET {i}: {other:?}, expected 200 from b2")),
        }
    }
    c.finish(&httpd);
}

/// `activation=stopped`: b3 gets nothing, not even its own sessions (they fail over).
#[test]
fn stopped_member_gets_nothing() {
    let (_b1, _b2, b3, httpd) =
        three_member_lb(Mpm::Prefork, 4, [&[], &[], &["activation=stopped"]], &[]);
    let mut c = Checks::new();
    for i in 0..30 {
        match outcome(&httpd, &Request::get("/app/t")) {
            Ok((200, Some(name))) if name != "b3" => {}
            other => c.fail(format!("GET {i}: {other:?}, expected 200 not from b3")),
        }
    }
    for i in 0..10 {
        match outcome(&httpd, &get_with_cookie("/app/t", "JSESSIONID=s.b3")) {
            Ok((200, Some(name))) if name != "b3" => {}
            other => c.fail(format!(
                "sticky GET {i} for stopped b3: {other:?}, expected 200 elsewhere"
            )),
        }
    }
    c.equal(b3.requests().len(), 0, "requests that reached stopped b3");
    c.finish(&httpd);
}

/// A POST whose member reads it and then resets the connection is not replayed on another
/// member: the client gets a 5xx and exactly one backend recorded the POST.
#[test]
fn post_received_then_reset_is_not_replayed() {
    let (b1, b2, b3, httpd) = three_member_lb(Mpm::Event, 4, [&[], &[], &[]], &[]);
    let mut c = Checks::new();
    let req = Request::post("/app/p?fault=reset", noise(64 * 1024, 7));
    match send(&httpd, &req) {
        Ok(resp) => c.check((500..600).contains(&resp.status), || {
            format!(
                "POST answered {} (X-Backend {:?}), expected 5xx",
                resp.status,
                resp.header("X-Backend")
            )
        }),
        Err(e) => c.fail(format!("POST failed at the HTTP level: {e}")),
    }
    let posts: usize = [&b1, &b2, &b3]
        .iter()
        .map(|b| b.requests().iter().filter(|r| r.method == "POST").count())
        .sum();
    c.equal(posts, 1, "backends that recorded the POST");
    c.finish(&httpd);
}

/// mod_log_config sees the lb notes: the first and last member tried (here one member dead, so
/// a sticky request to it shows it first and the survivor last), their states and counters.
#[test]
fn lb_notes_name_the_first_and_last_member_tried() {
    let b1 = backend("b1");
    let dead = dead_port();
    let properties = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", dead, &[])],
        &[],
        &[],
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n\
                  LogFormat \"%r type=%{JK_WORKER_TYPE}n route=%{JK_WORKER_ROUTE}n \
                  first=%{JK_LB_FIRST_NAME}n/%{JK_LB_FIRST_STATE}n/%{JK_LB_FIRST_ERRORS}n \
                  last=%{JK_LB_LAST_NAME}n/%{JK_LB_LAST_STATE}n/%{JK_LB_LAST_ACCESSED}n\" lbnotes\n\
                  CustomLog {dir}/lbnotes.log lbnotes\n"
        .to_string();
    cfg.files = vec![("workers.properties".to_string(), properties)];
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let got = outcome(&httpd, &get_with_cookie("/app/n", "JSESSIONID=s.b2"));
    assert_eq!(
        got,
        Ok((200, Some("b1".to_string()))),
        "the sticky request fails over to b1"
    );
    let log_path = httpd.dir().join("lbnotes.log");
    let mut line = String::new();
    for _ in 0..50 {
        line = std::fs::read_to_string(&log_path).unwrap_or_default();
        if !line.is_empty() {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    let line = line.lines().next().unwrap_or_default().to_string();
    assert!(line.contains("type=lb route=b1"), "{line}");
    assert!(
        line.contains("first=b2/ERR/1"),
        "the first try was b2, now in error with 1 error: {line}"
    );
    assert!(
        line.contains("last=b1/OK/1"),
        "the last try was b1, elected once: {line}"
    );
}

/// Graceful restart (`apachectl -k graceful`) keeps the shared counters and states: the member's
/// election count goes on from where it was, and a member in error stays in error.
#[test]
fn graceful_restart_keeps_counters_and_states() {
    graceful_restart_keeps(None);
}

/// The same with the state in a JkShmFile: the next generation's file replaces the old one.
#[test]
fn graceful_restart_keeps_counters_and_states_in_a_jk_shm_file() {
    graceful_restart_keeps(Some("JkShmFile {dir}/jk-shm\n"));
}

/// A hard restart (SIGHUP, `apachectl -k restart`) keeps them as well: the parent survives it.
#[test]
fn hard_restart_keeps_counters_and_states() {
    restart_keeps(None, true);
}

fn graceful_restart_keeps(shm_line: Option<&str>) {
    restart_keeps(shm_line, false);
}

fn restart_keeps(shm_line: Option<&str>, hard: bool) {
    let b1 = backend("b1");
    let dead = dead_port();
    let properties = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", dead, &[])],
        &["recover_time=600"],
        &[],
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Prefork);
    cfg.prefork_children = 2;
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n\
                  LogFormat \"%r last=%{JK_LB_LAST_NAME}n/%{JK_LB_LAST_STATE}n/%{JK_LB_LAST_ACCESSED}n \
                  first=%{JK_LB_FIRST_NAME}n/%{JK_LB_FIRST_STATE}n\" lbnotes\n\
                  CustomLog {dir}/lbnotes.log lbnotes\n"
        .to_string();
    cfg.global.push_str(shm_line.unwrap_or(""));
    cfg.files = vec![("workers.properties".to_string(), properties)];
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    // Put b2 in error (a sticky request tries it first), then count five elections of b1.
    assert_eq!(
        outcome(&httpd, &get_with_cookie("/app/s", "JSESSIONID=x.b2")),
        Ok((200, Some("b1".into())))
    );
    for i in 0..4 {
        assert_eq!(
            outcome(&httpd, &Request::get(&format!("/app/{i}"))),
            Ok((200, Some("b1".into())))
        );
    }
    if hard {
        httpd
            .restart()
            .unwrap_or_else(|e| panic!("restart failed: {e}"));
    } else {
        httpd
            .graceful()
            .unwrap_or_else(|e| panic!("graceful restart failed: {e}"));
    }
    let got = outcome(&httpd, &get_with_cookie("/app/after", "JSESSIONID=x.b2"));
    assert_eq!(got, Ok((200, Some("b1".into()))));
    let log_path = httpd.dir().join("lbnotes.log");
    let mut after = None;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        after = text
            .lines()
            .find(|l| l.contains("/app/after"))
            .map(str::to_string);
        if after.is_some() {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    let after = after.expect("the request after the restart is logged");
    // b2 is still in error (recover_time 600 s): the sticky request goes straight to b1, which
    // has now been elected six times in all, across both generations.
    assert!(
        after.contains("last=b1/OK/6"),
        "counter did not survive the restart: {after}"
    );
    assert!(
        after.contains("first=b1/"),
        "b2 lost its error state in the restart: {after}"
    );
}

/// `set_session_cookie`: a request without a session gets a routing cookie naming the member
/// that served it; a request that already sticks gets none.
#[test]
fn set_session_cookie_names_the_serving_member() {
    // Two members: a one-member lb treats every request as sticky (as mod_jk does).
    let b1 = backend("b1");
    let b2 = backend("b2");
    let properties = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", b2.port(), &[])],
        &["set_session_cookie=true"],
        &[],
    );
    let httpd = start_lb(Mpm::Event, 2, properties);
    let fresh = send(&httpd, &Request::get("/app/new")).expect("request without a session");
    assert_eq!(fresh.status, 200);
    let served_by = fresh.header("X-Backend").unwrap_or_default().to_string();
    let cookies = fresh.headers_all("Set-Cookie");
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("JSESSIONID=.{served_by}")) && c.contains("HttpOnly")),
        "no routing cookie for {served_by}: {cookies:?}"
    );
    let sticky =
        send(&httpd, &get_with_cookie("/app/again", "JSESSIONID=abc.b1")).expect("sticky request");
    assert_eq!(sticky.status, 200);
    assert!(
        sticky.headers_all("Set-Cookie").is_empty(),
        "a sticky request got a cookie: {:?}",
        sticky.headers
    );
}

/// JkShmFile: the shared state lives in that file, created mode 0600 (CVE-2024-46544), and an
/// existing world-writable file there is refused at start-up instead of being trusted.
#[test]
fn cve_2024_46544_jk_shm_file_is_private_and_a_world_writable_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let b1 = backend("b1");
    let b2 = backend("b2");
    let properties = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", b2.port(), &[])],
        &[],
        &[],
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global =
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\nJkShmFile {dir}/jk-shm\n"
            .to_string();
    cfg.files = vec![("workers.properties".to_string(), properties)];
    let httpd = Httpd::start(cfg.clone()).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    assert_eq!(
        outcome(&httpd, &Request::get("/app/x")).map(|(s, _)| s),
        Ok(200)
    );
    let meta = std::fs::metadata(httpd.dir().join("jk-shm")).expect("the shm file exists");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "shm file mode");
    drop(httpd);

    // A file planted beforehand, writable by everyone: refused, with a message naming it.
    cfg.files
        .push(("jk-shm".to_string(), "planted".to_string()));
    cfg.modes.push(("jk-shm".to_string(), 0o666));
    match Httpd::start(cfg) {
        Ok(_) => panic!("httpd started with a world-writable JkShmFile"),
        Err(log) => assert!(
            log.contains("jk-shm"),
            "the refusal does not name the file:\n{log}"
        ),
    }
}

/// JK_STICKY_IGNORE set but empty (as mod_jk reads it: on) lets a request with a session spread
/// over the members; without it the session sticks.
#[test]
fn empty_jk_sticky_ignore_turns_stickiness_off() {
    let b1 = backend("b1");
    let b2 = backend("b2");
    let properties = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", b2.port(), &[])],
        &[],
        &[],
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.extra_modules = vec!["setenvif".to_string()];
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n\
                  SetEnvIf Request_URI \"^/app/free\" JK_STICKY_IGNORE=\n"
        .to_string();
    cfg.files = vec![("workers.properties".to_string(), properties)];
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let mut free = BTreeSet::new();
    let mut sticky = BTreeSet::new();
    for i in 0..10 {
        if let Ok((200, Some(who))) = outcome(
            &httpd,
            &get_with_cookie(&format!("/app/free{i}"), "JSESSIONID=s.b1"),
        ) {
            free.insert(who);
        }
        if let Ok((200, Some(who))) = outcome(
            &httpd,
            &get_with_cookie(&format!("/app/stick{i}"), "JSESSIONID=s.b1"),
        ) {
            sticky.insert(who);
        }
    }
    assert_eq!(
        sticky.into_iter().collect::<Vec<_>>(),
        vec!["b1".to_string()],
        "the session sticks"
    );
    assert_eq!(
        free.len(),
        2,
        "with JK_STICKY_IGNORE the requests spread: {free:?}"
    );
}

/// A request whose headers can never fit `max_packet_size` is the client's error: one 413, one
/// log line, no member tried twice, no failover, and the balance of the next requests is
/// untouched (it used to cost two attempts per member and skew the load values).
#[test]
fn an_oversized_request_is_a_413_that_touches_no_member() {
    let (b1, b2) = (backend("b1"), backend("b2"));
    let props = lb_properties(
        &[member("b1", b1.port(), &[]), member("b2", b2.port(), &[])],
        &[],
        &[],
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global =
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\nLimitRequestFieldSize 32768\n"
            .to_string();
    cfg.files = vec![("workers.properties".to_string(), props)];
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let mut c = Checks::new();
    let big = format!("big={}", "x".repeat(9000));
    match outcome(&httpd, &get_with_cookie("/app/big", &big)) {
        Ok((413, None)) => {}
        other => c.fail(format!(
            "oversized request: {other:?}, expected 413 from httpd"
        )),
    }
    let log = httpd.error_log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("max_packet_size"))
        .collect();
    c.check(lines.len() == 1, || {
        format!("expected one log line, got {lines:?}")
    });
    c.check(!log.contains("trying another member"), || {
        "a failover was tried".to_string()
    });
    let mut seen = BTreeMap::new();
    for _ in 0..20 {
        if let Ok((200, Some(name))) = outcome(&httpd, &Request::get("/app/after")) {
            *seen.entry(name).or_insert(0) += 1;
        }
    }
    c.check(
        seen.get("b1") == Some(&10) && seen.get("b2") == Some(&10),
        || format!("the next 20 requests were not balanced 10/10: {seen:?}"),
    );
    c.finish(&httpd);
}

/// The status page's `connected` counts the backend connections the children hold open, and a
/// graceful restart does not carry the old children's count into the new generation.
#[test]
fn connected_counts_open_backend_connections_across_children() {
    let b1 = backend("b1");
    let props = lb_properties(&[member("b1", b1.port(), &[])], &[], &[])
        + "worker.list=lb,stat1\nworker.stat1.type=status\n";
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global =
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\nJkMount /jkstatus stat1\n"
            .to_string();
    cfg.files = vec![("workers.properties".to_string(), props)];
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let figure = |httpd: &Httpd, key: &str| -> u64 {
        let list = e2e_common::must_get(httpd, "/jkstatus?mime=txt").text();
        let line = list
            .lines()
            .find(|l| l.starts_with("Member: name=b1 "))
            .unwrap_or_else(|| panic!("no member b1:\n{list}"))
            .to_string();
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line}"))
    };
    for i in 0..6 {
        assert_eq!(
            outcome(&httpd, &Request::get(&format!("/app/c{i}"))).map(|o| o.0),
            Ok(200)
        );
    }
    let connected = figure(&httpd, "connected");
    assert!(
        (1..=6).contains(&connected),
        "connected={connected} after 6 requests"
    );
    assert!(figure(&httpd, "max_connected") >= connected);
    httpd.graceful().expect("graceful restart");
    assert!(
        httpd.wait_for_error_log("resuming normal operations", e2e_common::PATIENCE),
        "no restart"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = figure(&httpd, "connected");
    while after != 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
        after = figure(&httpd, "connected");
    }
    assert_eq!(
        after, 0,
        "the new generation counts the old children's connections"
    );
    assert_eq!(
        outcome(&httpd, &Request::get("/app/again")).map(|o| o.0),
        Ok(200)
    );
    assert!(figure(&httpd, "connected") >= 1);
}
