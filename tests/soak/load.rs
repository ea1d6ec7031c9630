//! The soak's clients: `connections` threads, each on one keep-alive connection (a new one when
//! httpd closes it or an exchange fails), taking request numbers from a shared counter until the
//! total is reached. Every request carries a unique id (`X-Request-Id` and `?id=`) that the
//! backend echoes in a header and in its body; every answer is checked against what was sent.

use crate::ajp_backend::{pattern_byte, sha256_hex};
use crate::http_client::{Connection, Request, Response};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the clients send.
#[derive(Clone, Debug)]
pub struct Mix {
    /// Prefix of every request id (one per run, so ids never repeat across runs).
    pub tag: String,
    pub total: usize,
    /// Request `n` starts no earlier than `n` × this after the start (zero: no pacing).
    pub interval: Duration,
    /// Per mille of requests that are POSTs with a body (non-idempotent).
    pub post_per_mille: usize,
    /// Per mille of GETs that ask for a 64 KiB answer (several AJP packets) instead of the echo.
    pub large_per_mille: usize,
    /// Routes of the lb members, for the sticky sessions (`JSESSIONID=<n>.<route>`).
    pub routes: Vec<String>,
}

/// Size of the large answers (`size=` on the backend).
const LARGE: u64 = 64 * 1024;

/// One request that got a 5xx, a non-2xx or no complete answer: kept for the report.
#[derive(Clone, Debug)]
pub struct Failure {
    pub id: String,
    pub post: bool,
    /// 0 when there was no HTTP answer (see `transport`).
    pub status: u16,
    pub transport: Option<Transport>,
    /// The connection had carried an answer before (a keep-alive connection httpd may close
    /// when it is idle between two requests, as the client sends the next).
    pub reused: bool,
    pub started: Instant,
    pub ended: Instant,
}

/// How an exchange failed without a complete HTTP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// The connection closed or was reset before any byte of an answer.
    NoAnswer,
    /// The answer started and was cut short (a backend killed after its answer began: httpd
    /// aborts the client connection, as mod_jk does).
    CutShort,
    /// Write failed, timeout, or anything else.
    Other,
}

/// Everything one client thread (and, merged, the whole run) saw.
#[derive(Default, Debug)]
pub struct Tally {
    pub gets: usize,
    pub posts: usize,
    pub ok: usize,
    /// Answered by another member than the session's route.
    pub sticky_moved: usize,
    /// Answers whose echoed id (header or body) was not the id sent, or whose echoed body hash
    /// was not the hash of the body sent: an answer meant for another request.
    pub wrong_client: Vec<String>,
    /// 200 answers whose body was not what was asked for (large answers' pattern).
    pub bad_body: Vec<String>,
    pub failures: Vec<Failure>,
    /// POST ids answered 200 (to check that every one reached a backend's log).
    pub posts_ok: Vec<String>,
    /// Answers per backend (`X-Backend`).
    pub by_backend: BTreeMap<String, usize>,
    pub reconnects: usize,
    /// Transport error texts, counted.
    pub transport_errors: BTreeMap<String, usize>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.gets += other.gets;
        self.posts += other.posts;
        self.ok += other.ok;
        self.sticky_moved += other.sticky_moved;
        self.wrong_client.extend(other.wrong_client);
        self.bad_body.extend(other.bad_body);
        self.failures.extend(other.failures);
        self.posts_ok.extend(other.posts_ok);
        for (name, n) in other.by_backend {
            *self.by_backend.entry(name).or_default() += n;
        }
        self.reconnects += other.reconnects;
        for (text, n) in other.transport_errors {
            *self.transport_errors.entry(text).or_default() += n;
        }
    }

    pub fn requests(&self) -> usize {
        self.gets + self.posts
    }
}

/// A client's session: none, or a route by cookie or by `;jsessionid=`.
#[derive(Clone, Debug)]
enum Session {
    None,
    Cookie(String, String),
    PathParam(String, String),
}

impl Session {
    fn for_client(client: usize, routes: &[String]) -> Session {
        if routes.is_empty() {
            return Session::None;
        }
        let route = routes[client % routes.len()].clone();
        let id = format!("S{client:04}.{route}");
        match client % 4 {
            0 => Session::None,
            1 | 2 => Session::Cookie(id, route),
            _ => Session::PathParam(id, route),
        }
    }

    fn route(&self) -> Option<&str> {
        match self {
            Session::None => None,
            Session::Cookie(_, route) | Session::PathParam(_, route) => Some(route),
        }
    }
}

/// Runs one client until `next` reaches the total or `stop` is set.
pub fn client(
    addr: SocketAddr,
    client: usize,
    mix: &Mix,
    next: &AtomicUsize,
    stop: &AtomicBool,
    start: Instant,
) -> Tally {
    let session = Session::for_client(client, &mix.routes);
    let mut tally = Tally::default();
    let mut connection: Option<Connection> = None;
    // Answers on the current connection.
    let mut answers = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= mix.total {
            break;
        }
        if !mix.interval.is_zero() {
            let due = start + mix.interval * n as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let shape = Shape::of(n, mix);
        let id = format!("{}-{client}-{n}", mix.tag);
        let (request, sent_sha) = build(&shape, &id, &session, n);
        if shape.post {
            tally.posts += 1;
        } else {
            tally.gets += 1;
        }
        let conn = match connection.as_mut() {
            Some(conn) => conn,
            None => match Connection::open(addr) {
                Ok(mut conn) => {
                    conn.set_timeout(Duration::from_secs(60));
                    tally.reconnects += 1;
                    answers = 0;
                    connection.insert(conn)
                }
                Err(e) => {
                    let now = Instant::now();
                    note_transport(&mut tally, &format!("connect: {e}"));
                    tally.failures.push(Failure {
                        id,
                        post: shape.post,
                        status: 0,
                        transport: Some(Transport::Other),
                        reused: false,
                        started: now,
                        ended: now,
                    });
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            },
        };
        let started = Instant::now();
        let result = conn.send(&request);
        let ended = Instant::now();
        match result {
            Ok(response) => {
                answers += 1;
                if response.closes_connection() {
                    connection = None;
                }
                check(
                    &mut tally,
                    &shape,
                    &id,
                    sent_sha.as_deref(),
                    &session,
                    &response,
                );
                if response.status != 200 {
                    tally.failures.push(Failure {
                        id,
                        post: shape.post,
                        status: response.status,
                        transport: None,
                        reused: answers > 1,
                        started,
                        ended,
                    });
                }
            }
            Err(e) => {
                connection = None;
                let kind = classify(&e);
                note_transport(&mut tally, &format!("{kind:?}: {e}"));
                tally.failures.push(Failure {
                    id,
                    post: shape.post,
                    status: 0,
                    transport: Some(kind),
                    reused: answers > 0,
                    started,
                    ended,
                });
            }
        }
    }
    tally
}

fn note_transport(tally: &mut Tally, text: &str) {
    *tally.transport_errors.entry(text.to_string()).or_default() += 1;
}

/// How http_client's errors read: no byte of an answer, or an answer cut short.
fn classify(e: &io::Error) -> Transport {
    let text = e.to_string();
    if text.contains("before a response") {
        Transport::NoAnswer
    } else if text.contains("truncated")
        || text.contains("end of a line")
        || text.contains("chunk")
        || e.kind() == io::ErrorKind::UnexpectedEof
    {
        Transport::CutShort
    } else if e.kind() == io::ErrorKind::ConnectionReset {
        // A reset may come before or after the first byte; http_client does not say which.
        Transport::NoAnswer
    } else {
        Transport::Other
    }
}

/// What request number `n` is.
struct Shape {
    post: bool,
    large: bool,
    body_len: usize,
}

impl Shape {
    fn of(n: usize, mix: &Mix) -> Shape {
        // A multiplicative hash spreads the kinds over the run and over the clients.
        let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let per_mille = (h % 1000) as usize;
        let post = per_mille < mix.post_per_mille;
        let large = !post && per_mille >= 1000 - mix.large_per_mille;
        Shape {
            post,
            large,
            // 100 B .. 20 KB: one to three AJP body packets.
            body_len: 100 + ((h >> 12) % 20_000) as usize,
        }
    }
}

/// The request and, for a POST, the hex SHA-256 of its body.
fn build(shape: &Shape, id: &str, session: &Session, n: usize) -> (Request, Option<String>) {
    let path_param = match session {
        Session::PathParam(sid, _) => format!(";jsessionid={sid}"),
        _ => String::new(),
    };
    let (mut request, sha) = if shape.post {
        let body = body_bytes(n, shape.body_len);
        let sha = sha256_hex(&body);
        let request = Request::post(&format!("/app/order{path_param}?id={id}"), body)
            .header("Content-Type", "application/octet-stream");
        (request, Some(sha))
    } else if shape.large {
        let path = format!("/app/large{path_param}?id={id}&size={LARGE}");
        (Request::get(&path), None)
    } else {
        (
            Request::get(&format!("/app/echo{path_param}?id={id}")),
            None,
        )
    };
    request = request
        .header("Host", "soak.test")
        .header("X-Request-Id", id);
    if let Session::Cookie(sid, _) = session {
        request = request.header("Cookie", &format!("JSESSIONID={sid}"));
    }
    (request, sha)
}

/// Deterministic body bytes of request `n`.
fn body_bytes(n: usize, len: usize) -> Vec<u8> {
    let mut state = (n as u64) ^ 0x5DEE_CE66_D1CE_4E5B;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// The checks of one answer: the echoed id, the body, the route.
fn check(
    tally: &mut Tally,
    shape: &Shape,
    id: &str,
    sent_sha: Option<&str>,
    session: &Session,
    response: &Response,
) {
    if response.status != 200 {
        return;
    }
    tally.ok += 1;
    let backend = response.header("X-Backend").unwrap_or("?").to_string();
    if let Some(route) = session.route() {
        if route != backend {
            tally.sticky_moved += 1;
        }
    }
    *tally.by_backend.entry(backend).or_default() += 1;
    let echoed = response.header("X-Request-Id");
    if echoed != Some(id) {
        tally.wrong_client.push(format!(
            "{id}: answer's X-Request-Id is {echoed:?} (X-Backend {:?})",
            response.header("X-Backend")
        ));
        return;
    }
    if shape.large {
        let expected = (0..LARGE).map(pattern_byte);
        if response.body.len() as u64 != LARGE || !response.body.iter().copied().eq(expected) {
            tally.bad_body.push(format!(
                "{id}: {} bytes, not the pattern",
                response.body.len()
            ));
        }
        return;
    }
    let text = String::from_utf8_lossy(&response.body);
    let line = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(str::to_string))
    };
    let header_line = line("header.X-Request-Id=");
    let query_line = line("query=");
    let expected_query = format!("id={id}");
    if header_line.as_deref() != Some(id) || query_line.as_deref() != Some(&expected_query) {
        tally.wrong_client.push(format!(
            "{id}: echo body has id {header_line:?}, query {query_line:?}"
        ));
        return;
    }
    if let Some(sha) = sent_sha {
        let echoed_sha = line("body_sha256=");
        if echoed_sha.as_deref() != Some(sha) {
            tally.wrong_client.push(format!(
                "{id}: backend received a body with SHA-256 {echoed_sha:?}, sent {sha}"
            ));
            return;
        }
        tally.posts_ok.push(id.to_string());
    }
}
