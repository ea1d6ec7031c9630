//! Unit tests of `service`: a fake `Client` and scripted AJP13 peers on loopback sockets.
//!
//! Each peer is a `TcpListener` on 127.0.0.1:0 driven by one thread that plays a script: it reads
//! what the module sends and answers with AJP13 packets (reference §6), or misbehaves on purpose.
//! Both go through the tests' own container-side codec, `tests/support/ajp_wire.rs`, so the codec
//! under test is not its own judge.

#[path = "../../tests/support/ajp_wire.rs"]
mod ajp_wire;
#[path = "../../tests/support/dead_port.rs"]
mod dead_port;

use super::*;
use crate::config::AjpWorker;
use ajp_wire::{Attribute, ForwardRequest, Names, Part};
use dead_port::dead_port;
use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The fake httpd side
// ---------------------------------------------------------------------------------------------

/// What the client saw, in order, so flush placement can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Headers(u16),
    Write(Vec<u8>),
    Flush,
    Abort,
    /// Body kept back to go out with the end (`keep_body_parts`), and kept body forgotten.
    Kept(Vec<u8>),
    Forgot,
}

/// A `Client` that serves a request body from memory and records everything the service does.
struct FakeClient {
    request_headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
    read_pos: usize,
    /// Largest piece one `read_body` call hands out.
    read_size: usize,
    /// Reads fail (with this status) once this many body bytes were served.
    fail_read_at: Option<(usize, u16)>,
    /// Body writes fail from this (0-based) write on.
    fail_write_from: Option<usize>,
    status: Option<u16>,
    reason: Vec<u8>,
    response_headers: Vec<(Vec<u8>, Vec<u8>)>,
    written: Vec<u8>,
    writes: usize,
    /// Parts per `write_body_parts` call (one pass down httpd's filters each).
    passes: Vec<usize>,
    events: Vec<Event>,
    logs: RefCell<Vec<(Level, String)>>,
    /// Keeps small bodies back as httpd's client does (off: the trait's default, written at once).
    keeps: bool,
    kept: Vec<u8>,
}

impl FakeClient {
    fn new() -> FakeClient {
        FakeClient {
            request_headers: vec![(b"Host".to_vec(), b"example.test".to_vec())],
            body: Vec::new(),
            read_pos: 0,
            read_size: usize::MAX,
            fail_read_at: None,
            fail_write_from: None,
            status: None,
            reason: Vec::new(),
            response_headers: Vec::new(),
            written: Vec::new(),
            writes: 0,
            passes: Vec::new(),
            events: Vec::new(),
            logs: RefCell::new(Vec::new()),
            keeps: false,
            kept: Vec::new(),
        }
    }

    fn keeping(mut self) -> FakeClient {
        self.keeps = true;
        self
    }

    fn header(mut self, name: &str, value: &str) -> FakeClient {
        self.request_headers
            .push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
        self
    }

    fn body(mut self, body: Vec<u8>, read_size: usize) -> FakeClient {
        self.body = body;
        self.read_size = read_size.max(1);
        self
    }

    fn response_header(&self, name: &str) -> Option<&[u8]> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    fn flushes(&self) -> usize {
        self.events.iter().filter(|e| **e == Event::Flush).count()
    }

    fn aborted(&self) -> bool {
        self.events.contains(&Event::Abort)
    }

    fn log_text(&self) -> String {
        self.logs
            .borrow()
            .iter()
            .map(|(level, msg)| format!("{level:?}: {msg}\n"))
            .collect()
    }

    fn logs_containing(&self, needle: &str) -> usize {
        self.logs
            .borrow()
            .iter()
            .filter(|(_, msg)| msg.contains(needle))
            .count()
    }
}

impl Client for FakeClient {
    fn for_each_header(&self, sink: &mut HeaderSink<'_, '_>) -> Result<(), EncodeError> {
        for (name, value) in &self.request_headers {
            sink.header(name, value)?;
        }
        Ok(())
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        let mut limit = self.body.len();
        if let Some((at, status)) = self.fail_read_at {
            if self.read_pos >= at {
                if status == 0 {
                    return Err(ClientError::Gone);
                }
                return Err(ClientError::Read {
                    status,
                    detail: "client read failed (test)".into(),
                });
            }
            limit = limit.min(at);
        }
        let n = buf
            .len()
            .min(self.read_size)
            .min(limit.saturating_sub(self.read_pos));
        buf[..n].copy_from_slice(&self.body[self.read_pos..self.read_pos + n]);
        self.read_pos += n;
        Ok(n)
    }

    fn send_headers(
        &mut self,
        status: u16,
        reason: &[u8],
        headers: &SendHeaders<'_>,
        content_length: Option<u64>,
    ) -> Result<(), ClientError> {
        // The exchange hands over the length it checked: it must be the headers' own.
        let spelled = headers
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"content-length"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse().ok());
        assert_eq!(
            content_length, spelled,
            "declared length handed to the client"
        );
        self.status = Some(status);
        self.reason = reason.to_vec();
        self.response_headers = headers
            .headers()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        self.events.push(Event::Headers(status));
        Ok(())
    }

    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError> {
        let index = self.writes;
        self.writes += 1;
        if self.fail_write_from.is_some_and(|from| index >= from) {
            return Err(ClientError::Gone);
        }
        self.written.extend_from_slice(data);
        self.events.push(Event::Write(data.to_vec()));
        Ok(())
    }

    fn write_body_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        self.passes.push(parts.len());
        parts.iter().try_for_each(|part| self.write_body(part))
    }

    fn keep_body_parts(&mut self, parts: &[&[u8]]) -> Result<bool, ClientError> {
        if !self.keeps {
            return self.write_body_parts(parts).map(|()| false);
        }
        let data = parts.concat();
        self.kept.extend_from_slice(&data);
        self.events.push(Event::Kept(data));
        Ok(true)
    }

    fn forget_kept(&mut self) {
        self.kept.clear();
        self.events.push(Event::Forgot);
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        let kept = std::mem::take(&mut self.kept);
        self.written.extend_from_slice(&kept);
        self.events.push(Event::Flush);
        Ok(())
    }

    fn abort(&mut self) {
        // As httpd's client: what was kept back is dropped before the connection is cut.
        if !self.kept.is_empty() {
            self.forget_kept();
        }
        self.events.push(Event::Abort);
    }

    fn set_routing_cookie(&mut self, _value: &str) {}

    fn log_enabled(&self, _level: Level) -> bool {
        true
    }

    fn log(&self, level: Level, msg: fmt::Arguments<'_>) {
        self.logs.borrow_mut().push((level, msg.to_string()));
    }
}

// ---------------------------------------------------------------------------------------------
// Worker and request set-up
// ---------------------------------------------------------------------------------------------

/// A worker on 127.0.0.1:`port` with short pauses and a socket timeout as a safety net, so a
/// broken test fails instead of hanging.
fn worker(port: u16) -> AjpWorker {
    let mut w = AjpWorker::with_defaults("tomcat1");
    w.host = "127.0.0.1".into();
    w.port = port;
    w.retries = 2;
    w.retry_interval = Duration::from_millis(10);
    w.socket_timeout = Some(Duration::from_secs(5));
    w.socket_connect_timeout = Some(Duration::from_secs(2));
    w.connection_pool_size = Some(4);
    w
}

fn request(method: &'static [u8], body: BodyKind) -> RequestInfo<'static> {
    RequestInfo {
        method,
        protocol: b"HTTP/1.1",
        uri: b"/app/index.jsp",
        query: None,
        remote_addr: b"192.0.2.7",
        remote_port: b"40000",
        remote_host: None,
        local_addr: b"127.0.0.1",
        server_name: b"example.test",
        server_port: 80,
        is_ssl: false,
        remote_user: None,
        auth_type: None,
        ssl: SslInfo::default(),
        body,
        reply_timeout: None,
        env_attributes: &[],
        flush_packets: false,
        flush_header: false,
        disable_reuse: false,
        fail_on_status: None,
        use_server_errors: None,
    }
}

fn get() -> RequestInfo<'static> {
    request(b"GET", BodyKind::None)
}

// ---------------------------------------------------------------------------------------------
// The scripted AJP13 peer
// ---------------------------------------------------------------------------------------------

const PEER_WAIT: Duration = Duration::from_secs(5);

/// Starts a peer running `script` on its own thread; returns its port and the script's result.
fn peer<T: Send + 'static>(
    script: impl FnOnce(TcpListener) -> T + Send + 'static,
) -> (u16, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (port, thread::spawn(move || script(listener)))
}

fn join<T>(handle: JoinHandle<T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// The next connection, or a panic after `PEER_WAIT`.
fn accept(listener: &TcpListener) -> TcpStream {
    accept_within(listener, PEER_WAIT).expect("the module never connected")
}

fn accept_within(listener: &TcpListener, wait: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream.set_read_timeout(Some(PEER_WAIT)).expect("timeout");
                return Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return None;
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

/// Asserts the module opens no (further) connection within `wait`.
fn no_more_connections(listener: &TcpListener, wait: Duration) -> bool {
    accept_within(listener, wait).is_none()
}

/// One packet from the module (framing and magic checked by `ajp_wire`): its payload.
fn read_packet(stream: &mut TcpStream) -> Vec<u8> {
    match ajp_wire::read_packet_to_vec(stream, ajp_wire::MAX_PAYLOAD) {
        Ok(Some(p)) => p,
        Ok(None) => panic!("the module closed the connection instead of sending a packet"),
        Err(e) => panic!("reading a packet from the module failed: {e}"),
    }
}

/// Whether the module closed its side: EOF (or a reset, when our unread bytes were discarded)
/// within `PEER_WAIT`, with nothing else sent first.
fn closed_by_module(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
    }
}

/// True when the module sends nothing within `wait` (the connection stays open and silent).
fn silent_for(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let mut byte = [0u8; 1];
    let silent = matches!(
        stream.read(&mut byte),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    );
    stream.set_read_timeout(Some(PEER_WAIT)).expect("timeout");
    silent
}

/// The parts of FORWARD_REQUEST the tests look at, decoded by `ajp_wire`.
#[derive(Debug, Clone)]
struct Forwarded {
    method: u8,
    uri: String,
    /// Coded names in lower case.
    headers: Vec<(String, String)>,
    /// (code, name, value) in order; the name is empty except for req_attribute (0x0A), the value
    /// of ssl_key_size (0x0B) is its number in decimal.
    attributes: Vec<(u8, String, String)>,
}

impl Forwarded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers_named(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}

fn decode_forward_request(payload: &[u8]) -> Forwarded {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let request = ForwardRequest::decode(payload).expect("a FORWARD_REQUEST");
    let mut headers = Vec::new();
    let mut attributes = Vec::new();
    for part in request.parts() {
        match part.expect("a well-formed FORWARD_REQUEST") {
            Part::Header(name, value) => {
                let name = name.name().expect("a known header code");
                headers.push((text(name), text(value)));
            }
            Part::Attribute(Attribute::Coded(code, value)) => {
                attributes.push((code, String::new(), text(value)));
            }
            Part::Attribute(Attribute::Named(name, value)) => {
                attributes.push((ajp_wire::REQ_ATTRIBUTE, text(name), text(value)));
            }
            Part::Attribute(Attribute::SslKeySize(bits)) => {
                attributes.push((ajp_wire::SSL_KEY_SIZE, String::new(), bits.to_string()));
            }
        }
    }
    Forwarded {
        method: request.method,
        uri: text(request.req_uri.unwrap_or_default()),
        headers,
        attributes,
    }
}

fn read_forward_request(stream: &mut TcpStream) -> Forwarded {
    decode_forward_request(&read_packet(stream))
}

fn read_body_packet(stream: &mut TcpStream) -> Vec<u8> {
    let payload = read_packet(stream);
    let data = ajp_wire::request_body_data(&payload).expect("a well-formed body packet");
    data.to_vec()
}

/// SEND_HEADERS with string header names.
fn send_headers(status: u16, reason: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    ajp_wire::send_headers(&mut out, status, reason.as_bytes(), headers, Names::Spelled)
        .expect("headers fit a packet");
    out
}

/// SEND_BODY_CHUNK with Tomcat's trailing NUL.
fn body_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ajp_wire::send_body_chunk(&mut out, data).expect("the chunk fits a packet");
    out
}

fn end_response(reuse: bool) -> Vec<u8> {
    let mut out = Vec::new();
    ajp_wire::end_response(&mut out, u8::from(reuse));
    out
}

fn get_body_chunk(requested: u16) -> Vec<u8> {
    let mut out = Vec::new();
    ajp_wire::get_body_chunk(&mut out, requested);
    out
}

fn cpong() -> Vec<u8> {
    let mut out = Vec::new();
    ajp_wire::cpong(&mut out);
    out
}

/// A backend that reads one request and answers with `packets`, in one write.
fn answering(packets: &[Vec<u8>]) -> (u16, JoinHandle<()>) {
    let wire = packets.concat();
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &wire);
    })
}

/// Like `answering`; the peer then reports whether the module closed the connection.
fn answering_then_closed(packets: &[Vec<u8>]) -> (u16, JoinHandle<bool>) {
    let wire = packets.concat();
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &wire);
        closed_by_module(&mut s)
    })
}

fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).expect("peer write");
}

/// A complete response: headers with Content-Length, one body chunk, END_RESPONSE.
fn answer(stream: &mut TcpStream, status: u16, body: &[u8], reuse: bool) {
    let len = body.len().to_string();
    let mut out = send_headers(
        status,
        "OK",
        &[("Content-Type", "text/plain"), ("Content-Length", &len)],
    );
    if !body.is_empty() {
        out.extend(body_chunk(body));
    }
    out.extend(end_response(reuse));
    send(stream, &out);
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

#[test]
fn get_relays_status_headers_and_body_and_reuses_the_connection() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let first = read_forward_request(&mut s);
        send(
            &mut s,
            &[
                send_headers(
                    200,
                    "Fine",
                    &[
                        ("Content-Type", "text/html"),
                        ("X-Backend", "one"),
                        ("Content-Length", "11"),
                    ],
                ),
                body_chunk(b"hello "),
                body_chunk(b"world"),
                end_response(true),
            ]
            .concat(),
        );
        // The second request must arrive on this same connection.
        let second = read_forward_request(&mut s);
        answer(&mut s, 200, b"again", true);
        (
            first,
            second,
            no_more_connections(&listener, Duration::from_millis(100)),
        )
    });
    let backend = Backend::new(worker(port), 4);

    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.status, Some(200));
    assert_eq!(client.reason, b"Fine");
    assert_eq!(
        client.response_header("content-type"),
        Some(&b"text/html"[..])
    );
    assert_eq!(client.response_header("X-Backend"), Some(&b"one"[..]));
    assert_eq!(client.written, b"hello world");
    assert!(!client.aborted());
    assert_eq!(
        backend.pool().idle_count(),
        1,
        "connection back in the pool"
    );

    let mut client2 = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client2), Outcome::Sent);
    assert_eq!(client2.written, b"again");

    let (first, second, single) = join(peer);
    assert_eq!(first.method, 2, "GET is method code 2");
    assert_eq!(first.uri, "/app/index.jsp");
    assert_eq!(second.uri, "/app/index.jsp");
    assert!(single, "the second request opened a new connection");
    assert_eq!(backend.pool().idle_count(), 1);
}

#[test]
fn bodyless_request_gets_content_length_zero() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let fwd = read_forward_request(&mut s);
        answer(&mut s, 200, b"x", true);
        fwd
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    let fwd = join(peer);
    assert_eq!(fwd.header("content-length"), Some("0"));
    assert_eq!(fwd.headers_named("content-length"), 1);
    assert_eq!(fwd.header("host"), Some("example.test"));
}

#[test]
fn post_body_goes_first_packet_unasked_then_on_get_body_chunk_then_empty_packet() {
    let body = pattern(10_000);
    let expected = body.clone();
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let fwd = read_forward_request(&mut s);
        // Sent right behind FORWARD_REQUEST, without being asked (§6.5).
        let first = read_body_packet(&mut s);
        send(&mut s, &get_body_chunk(8186));
        let second = read_body_packet(&mut s);
        send(&mut s, &get_body_chunk(8186));
        let end = read_packet(&mut s);
        answer(&mut s, 201, b"created", true);
        (fwd, first, second, end)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Content-Length", "10000")
        .header("Content-Type", "application/octet-stream")
        .body(body, 1000);
    let req = request(b"POST", BodyKind::Length(10_000));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(client.status, Some(201));
    assert_eq!(client.written, b"created");

    let (fwd, first, second, end) = join(peer);
    assert_eq!(fwd.method, 4, "POST is method code 4");
    assert_eq!(fwd.header("content-length"), Some("10000"));
    assert_eq!(fwd.headers_named("content-length"), 1);
    assert_eq!(first.len(), 8186, "first packet is full");
    assert_eq!(second.len(), 10_000 - 8186);
    assert_eq!([first, second].concat(), expected);
    assert!(
        end.is_empty(),
        "end of body is an empty packet, got {end:?}"
    );
}

#[test]
fn chunked_body_is_streamed_only_on_request_without_content_length_and_ends_empty() {
    let body = pattern(3000);
    let expected = body.clone();
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let fwd = read_forward_request(&mut s);
        let nothing_unasked = silent_for(&mut s, Duration::from_millis(200));
        send(&mut s, &get_body_chunk(8186));
        let data = read_body_packet(&mut s);
        send(&mut s, &get_body_chunk(8186));
        let end = read_packet(&mut s);
        answer(&mut s, 200, b"ok", true);
        (fwd, nothing_unasked, data, end)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Transfer-Encoding", "chunked")
        .header("Content-Length", "99")
        .header("content-LENGTH", "98")
        .body(body, 700);
    let req = request(b"POST", BodyKind::Chunked);
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(client.written, b"ok");

    let (fwd, nothing_unasked, data, end) = join(peer);
    assert_eq!(
        fwd.headers_named("content-length"),
        0,
        "a chunked body must not announce a length: {:?}",
        fwd.headers
    );
    assert!(
        nothing_unasked,
        "a chunked body is only sent when asked for"
    );
    assert_eq!(data, expected);
    assert!(end.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Failures before or while contacting the backend
// ---------------------------------------------------------------------------------------------

#[test]
fn client_announcing_a_body_and_sending_none_gets_400_without_backend_contact() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new().header("Content-Length", "100");
    let req = request(b"POST", BodyKind::Length(100));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(400));
    assert!(no_more_connections(&listener, Duration::from_millis(100)));
    assert_eq!(client.status, None);
}

#[test]
fn client_read_error_in_the_first_packet_maps_its_status_without_backend_contact() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new().body(pattern(50), 10);
    client.fail_read_at = Some((0, 408));
    let req = request(b"POST", BodyKind::Length(50));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(408));
    assert!(no_more_connections(&listener, Duration::from_millis(100)));
}

#[test]
fn headers_too_large_give_413_without_contacting_the_backend() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let backend = Backend::new(worker(port), 4);
    let huge = "c".repeat(9000);
    let mut client = FakeClient::new().header("Cookie", &huge);
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(413));
    assert!(no_more_connections(&listener, Duration::from_millis(100)));
    assert!(client.logs_containing("413") >= 1, "{}", client.log_text());
}

#[test]
fn backend_down_gives_503_after_retries_attempts_with_retry_interval_between() {
    let mut w = worker(dead_port());
    w.retries = 3;
    w.retry_interval = Duration::from_millis(150);
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    let started = Instant::now();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(503));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300),
        "two pauses of 150 ms expected, took {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let logs = client.log_text();
    assert_eq!(client.logs_containing("attempt 1 of 3"), 1, "{logs}");
    assert_eq!(client.logs_containing("attempt 2 of 3"), 1, "{logs}");
    assert_eq!(client.logs_containing("attempt 3 of 3"), 1, "{logs}");
    assert_eq!(client.logs_containing("attempt 4"), 0, "{logs}");
    assert_eq!(client.status, None);
}

#[test]
fn single_retry_setting_makes_exactly_one_attempt() {
    let mut w = worker(dead_port());
    w.retries = 1;
    w.retry_interval = Duration::from_millis(3000);
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    let started = Instant::now();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(503));
    // Well below one retry_interval (with slack for a loaded machine): no pause after the try.
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "no pause after the last try"
    );
    assert_eq!(client.logs_containing("attempt 1 of 1"), 1);
}

#[test]
fn reply_timeout_gives_504_without_retry() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        thread::sleep(Duration::from_millis(3000));
        drop(s);
        no_more_connections(&listener, Duration::from_millis(100))
    });
    let mut w = worker(port);
    w.reply_timeout = Some(Duration::from_millis(200));
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    let started = Instant::now();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(504));
    // The 200 ms reply timeout, well before the peer's 3 s (slack for a loaded machine).
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert!(join(peer), "a timed-out request was sent again");
    assert_eq!(client.status, None);
}

#[test]
fn per_request_reply_timeout_overrides_the_workers() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        thread::sleep(Duration::from_millis(800));
    });
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.reply_timeout = Some(Some(Duration::from_millis(150)));
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(504));
    join(peer);
}

#[test]
fn garbage_from_the_backend_gives_502() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        closed_by_module(&mut s)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(join(peer), "the connection must be dropped after garbage");
    assert_eq!(client.status, None);
    assert!(client.written.is_empty());
    assert_eq!(backend.pool().idle_count(), 0);
}

#[test]
fn body_chunk_before_headers_gives_502() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &body_chunk(b"early"));
        closed_by_module(&mut s)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(join(peer));
    assert!(client.written.is_empty());
}

#[test]
fn empty_flush_chunk_before_headers_is_ignored() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &body_chunk(b""));
        answer(&mut s, 200, b"fine", true);
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(client.written, b"fine");
}

// ---------------------------------------------------------------------------------------------
// Closed before answering: retry rules
// ---------------------------------------------------------------------------------------------

/// A peer that takes the first request and closes without a word, then answers the next
/// connection if one comes: within `PEER_WAIT` when the test expects the retry (a loaded
/// machine may be slow to make it), within 300 ms when it expects none. Returns how many
/// requests it saw.
fn close_then_answer_peer(retry_expected: bool) -> (u16, JoinHandle<usize>) {
    let wait = if retry_expected {
        PEER_WAIT
    } else {
        Duration::from_millis(300)
    };
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        drop(s);
        match accept_within(&listener, wait) {
            None => 1,
            Some(mut s) => {
                let _ = read_forward_request(&mut s);
                answer(&mut s, 200, b"second try", true);
                2
            }
        }
    })
}

#[test]
fn get_closed_before_answer_on_a_fresh_connection_is_retried() {
    let (port, peer) = close_then_answer_peer(true);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(join(peer), 2);
    assert_eq!(client.status, Some(200));
    assert_eq!(client.written, b"second try");
}

#[test]
fn post_closed_before_answer_is_not_replayed_and_gives_502() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let body = read_body_packet(&mut s);
        drop(s);
        (
            body,
            no_more_connections(&listener, Duration::from_millis(300)),
        )
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Content-Length", "4")
        .body(b"a=1&".to_vec(), 100);
    let req = request(b"POST", BodyKind::Length(4));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(502));
    let (body, once) = join(peer);
    assert_eq!(body, b"a=1&");
    assert!(once, "the POST reached the backend twice");
}

#[test]
fn recovery_option_1_stops_the_get_retry() {
    let (port, peer) = close_then_answer_peer(false);
    let mut w = worker(port);
    w.recovery_options = 1;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert_eq!(join(peer), 1);
}

#[test]
fn recovery_options_17_allow_the_get_retry_again() {
    let (port, peer) = close_then_answer_peer(true);
    let mut w = worker(port);
    w.recovery_options = 1 | 16;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(join(peer), 2);
    assert_eq!(client.written, b"second try");
}

#[test]
fn get_closed_before_answer_on_every_try_gives_502_after_retries() {
    let (port, peer) = peer(|listener| {
        // The three expected tries may come late on a loaded machine; a fourth must not come.
        let mut seen = 0;
        while seen < 3 {
            let Some(mut s) = accept_within(&listener, PEER_WAIT) else {
                break;
            };
            let _ = read_forward_request(&mut s);
            seen += 1;
        }
        if let Some(mut s) = accept_within(&listener, Duration::from_millis(300)) {
            let _ = read_forward_request(&mut s);
            seen += 1;
        }
        seen
    });
    let mut w = worker(port);
    w.retries = 3;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert_eq!(join(peer), 3);
}

// ---------------------------------------------------------------------------------------------
// Pooled connections
// ---------------------------------------------------------------------------------------------

#[test]
fn stale_pooled_connection_closed_while_idle_is_replaced_transparently() {
    let (closed_tx, closed_rx) = mpsc::channel();
    let (port, peer) = peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"one", true);
        // Tomcat's keep-alive timeout: the idle connection goes away.
        drop(s);
        let _ = closed_tx.send(());
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"two", true);
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(backend.pool().idle_count(), 1);
    closed_rx.recv_timeout(PEER_WAIT).expect("peer closed");
    thread::sleep(Duration::from_millis(50));

    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.status, Some(200));
    assert_eq!(client.written, b"two");
    join(peer);
}

#[test]
fn pooled_connection_closed_after_taking_a_get_is_replayed_on_a_new_connection() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"one", true);
        // Reads the next request and then vanishes (it raced its own keep-alive timeout).
        let _ = read_forward_request(&mut s);
        drop(s);
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"two", true);
    });
    let mut w = worker(port);
    w.retries = 1;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    let mut client = FakeClient::new();
    assert_eq!(
        forward(&backend, &get(), &mut client),
        Outcome::Sent,
        "{}",
        client.log_text()
    );
    assert_eq!(client.written, b"two");
    join(peer);
}

#[test]
fn end_response_without_reuse_closes_the_connection() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"bye", false);
        let closed = closed_by_module(&mut s);
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"new", true);
        closed
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"bye");
    assert_eq!(backend.pool().idle_count(), 0);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"new");
    assert!(join(peer), "the module kept the connection open");
}

#[test]
fn end_response_behind_the_body_is_read_with_it() {
    // Headers, two body chunks and END_RESPONSE(reuse) in one write: the exchange takes the
    // END_RESPONSE with the body run, and the connection goes back to the pool.
    let (port, peer) = answering(&[
        send_headers(200, "OK", &[("Content-Length", "7")]),
        body_chunk(b"abc"),
        body_chunk(b"defg"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"abcdefg");
    assert_eq!(backend.pool().idle_count(), 1);
    join(peer);
}

#[test]
fn malformed_end_response_behind_the_body_is_a_protocol_error() {
    // A reuse flag of 0xFF (mod_jk refuses it) right behind the body: not taken with the
    // run, so the next read reports it. The whole declared body is in hand, so the client
    // still gets it; the connection is not trusted again.
    let mut bad_end = end_response(true);
    let last = bad_end.len() - 1;
    bad_end[last] = 0xFF;
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "3")]),
        body_chunk(b"abc"),
        bad_end,
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"abc");
    assert!(
        client.log_text().contains("reuse flag"),
        "{}",
        client.log_text()
    );
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer), "the connection must be closed");
}

#[test]
fn disable_reuse_closes_the_connection_despite_reuse_flag() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"x", true);
        closed_by_module(&mut s)
    });
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.disable_reuse = true;
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer));
}

// ---------------------------------------------------------------------------------------------
// Response body length checks
// ---------------------------------------------------------------------------------------------

#[test]
fn body_longer_than_content_length_aborts_the_client_and_drops_the_connection() {
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "5")]),
        body_chunk(b"hello"),
        body_chunk(b"world!"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(
        client.written, b"hello",
        "the extra bytes must not reach the client"
    );
    assert!(client.aborted());
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer), "the connection must be closed");
}

#[test]
fn body_longer_than_content_length_before_anything_went_out_gives_502() {
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "3")]),
        body_chunk(b"too long"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(client.written.is_empty());
    assert!(join(peer));
}

#[test]
fn buffered_body_chunks_go_to_the_client_in_one_pass() {
    // One write: the module's first read takes in all of it.
    let (port, peer) = answering(&[
        send_headers(200, "OK", &[("Content-Length", "15")]),
        body_chunk(b"one"),
        body_chunk(b"two"),
        body_chunk(b"three"),
        body_chunk(b"four"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(client.written, b"onetwothreefour");
    assert_eq!(client.passes, vec![4]);
    assert!(!client.aborted());
    assert_eq!(backend.pool().idle_count(), 1);
}

/// 40 full 8 KiB packets with Content-Length, written 3001 bytes at a time (packets straddle
/// reads and the end of the receive buffer).
fn large_body_peer(body: Vec<u8>) -> (u16, JoinHandle<()>) {
    large_body_peer_writing(body, 3001)
}

/// The same, written `piece` bytes at a time.
fn large_body_peer_writing(body: Vec<u8>, piece: usize) -> (u16, JoinHandle<()>) {
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let len = body.len().to_string();
        let mut wire = send_headers(200, "OK", &[("Content-Length", &len)]);
        for chunk in body.chunks(8184) {
            wire.extend_from_slice(&body_chunk(chunk));
        }
        wire.extend_from_slice(&end_response(true));
        for piece in wire.chunks(piece) {
            send(&mut s, piece);
            std::thread::sleep(Duration::from_micros(50));
        }
        // Open until the module closes the connection (it is pooled meanwhile).
        let _ = s.read(&mut [0u8; 1]);
    })
}

fn large_body() -> Vec<u8> {
    (0..40 * 8184u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_large_body_in_odd_sized_writes_arrives_whole_and_in_order() {
    let expected = large_body();
    let (port, peer) = large_body_peer(expected.clone());
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written.len(), expected.len());
    assert!(client.written == expected, "body bytes differ");
    assert_eq!(client.passes.iter().sum::<usize>(), 40);
    assert!(!client.aborted());
    let conn = backend.pool().take().expect("the connection is pooled");
    assert!(
        !conn.holds_large(),
        "a pooled connection gave its large buffer back"
    );
    drop(conn);
    join(peer);
}

#[test]
fn a_large_body_written_at_once_goes_out_in_a_few_passes() {
    let _only = crate::backend::lent_buffers::EXCLUSIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let expected = large_body();
    let (port, peer) = large_body_peer_writing(expected.clone(), usize::MAX);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    drop(backend);
    join(peer);
    assert!(client.written == expected, "body bytes differ");
    // A large buffer takes in up to eight packets per read, and they go out together.
    assert!(
        client.passes.len() < 20 && client.passes.iter().any(|&n| n >= 4),
        "passes: {:?}",
        client.passes
    );
}

#[test]
fn a_large_body_arrives_whole_with_no_large_buffer_free() {
    use crate::backend::lent_buffers as large;
    // Other tests borrow and give back large buffers concurrently: draining the shared free
    // list cannot keep one from coming back mid-request. Refuse them on this thread instead.
    large::NONE_FOR_THIS_THREAD.with(|none| none.set(true));
    let expected = large_body();
    let (port, peer) = large_body_peer(expected.clone());
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    let outcome = forward(&backend, &get(), &mut client);
    large::NONE_FOR_THIS_THREAD.with(|none| none.set(false));
    assert_eq!(outcome, Outcome::Sent);
    drop(backend);
    join(peer);
    assert!(client.written == expected, "body bytes differ");
    // The connection's own buffer holds one packet: one pass per packet, as before.
    assert_eq!(client.passes, vec![1; 40]);
}

/// Answers with `body` (Content-Length, or none when `declared` is false) as Tomcat writes a
/// page: SEND_HEADERS, each SEND_BODY_CHUNK and END_RESPONSE in writes of their own, a pause
/// before each, so the module reads them one by one.
fn answering_in_pieces(body: Vec<u8>, declared: bool) -> (u16, JoinHandle<()>) {
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let len = body.len().to_string();
        let headers: &[(&str, &str)] = if declared {
            &[("Content-Length", &len)]
        } else {
            &[]
        };
        let mut pieces = vec![send_headers(200, "OK", headers)];
        pieces.extend(body.chunks(8184).map(body_chunk));
        pieces.push(end_response(true));
        for piece in pieces {
            send(&mut s, &piece);
            std::thread::sleep(Duration::from_millis(15));
        }
        let _ = s.read(&mut [0u8; 1]);
    })
}

/// Large buffers this thread asked for while `f` ran.
fn large_buffers_asked_for(f: impl FnOnce()) -> usize {
    use crate::backend::lent_buffers::BORROWED_ON_THIS_THREAD as asked;
    let before = asked.with(std::cell::Cell::get);
    f();
    asked.with(std::cell::Cell::get) - before
}

#[test]
fn a_small_answer_in_pieces_is_read_into_the_connections_own_buffer() {
    for (size, declared, large_wanted) in [
        // Fits one packet: the connection's own buffer takes it; the process's few large
        // buffers stay free for the large answers they exist for.
        (1024, true, false),
        (8180, true, false),
        // Several packets, or a length nobody declared: read in large pieces.
        (20_000, true, true),
        (1024, false, true),
    ] {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let (port, peer) = answering_in_pieces(body.clone(), declared);
        let backend = Backend::new(worker(port), 4);
        let mut client = FakeClient::new();
        let asked = large_buffers_asked_for(|| {
            assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
        });
        drop(backend);
        join(peer);
        assert!(client.written == body, "{size} bytes: body differs");
        assert!(!client.aborted());
        assert_eq!(
            asked > 0,
            large_wanted,
            "{size} bytes, declared {declared}: asked {asked}"
        );
    }
}

#[test]
fn an_empty_chunk_ends_a_run_and_flushes_between() {
    let (port, peer) = answering(&[
        send_headers(200, "OK", &[("Content-Length", "3")]),
        body_chunk(b"a"),
        body_chunk(b"b"),
        body_chunk(b""),
        body_chunk(b"c"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(
        client.events,
        vec![
            Event::Headers(200),
            Event::Write(b"a".to_vec()),
            Event::Write(b"b".to_vec()),
            Event::Flush,
            Event::Write(b"c".to_vec()),
        ]
    );
    assert_eq!(client.passes, vec![2, 1]);
}

#[test]
fn body_past_content_length_in_one_run_sends_what_fits_then_aborts() {
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "4")]),
        body_chunk(b"ab"),
        body_chunk(b"cd"),
        body_chunk(b"ef"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"abcd");
    assert_eq!(client.passes, vec![2]);
    assert!(client.aborted());
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer));
}

#[test]
fn body_shorter_than_content_length_aborts_the_client() {
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "10")]),
        body_chunk(b"short"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert!(client.aborted());
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer));
}

#[test]
fn head_response_with_content_length_and_no_body_is_complete() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let fwd = read_forward_request(&mut s);
        send(
            &mut s,
            &[
                send_headers(200, "OK", &[("Content-Length", "1234")]),
                end_response(true),
            ]
            .concat(),
        );
        fwd.method
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    let req = request(b"HEAD", BodyKind::None);
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert!(!client.aborted());
    assert_eq!(backend.pool().idle_count(), 1);
    assert_eq!(join(peer), 3, "HEAD is method code 3");
}

// ---------------------------------------------------------------------------------------------
// Status handling
// ---------------------------------------------------------------------------------------------

#[test]
fn fail_on_status_gives_503_and_relays_nothing() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 500, b"stack trace", true);
    });
    let mut w = worker(port);
    w.fail_on_status = vec![500];
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(503));
    join(peer);
    assert_eq!(
        client.status, None,
        "the backend's headers must not be relayed"
    );
    assert!(client.written.is_empty());
    assert!(client.events.is_empty(), "{:?}", client.events);
}

#[test]
fn mount_fail_on_status_replaces_the_workers_and_keeps_its_sign() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 404, b"missing", true);
    });
    let mut w = worker(port);
    w.fail_on_status = vec![500];
    let backend = Backend::new(w, 4);
    let mut req = get();
    req.fail_on_status = Some(&[-404]);
    let mut client = FakeClient::new();
    let (outcome, kind) = with_buffers(|bufs| {
        let mut x = Exchange::new(&backend, &req, &mut client, bufs);
        assert!(x.prepare().is_ok());
        x.serve(None, b"ACT")
    });
    assert_eq!(outcome, Outcome::Status(503));
    assert_eq!(kind, AttemptKind::FailOnStatus(-404));
    assert!(client.written.is_empty());
    join(peer);
}

#[test]
fn use_server_errors_returns_the_status_and_swallows_the_body() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(
            &mut s,
            &[
                send_headers(404, "Not Found", &[("Content-Length", "13")]),
                body_chunk(b"tomcat's "),
                body_chunk(b""),
                body_chunk(b"page"),
                end_response(true),
            ]
            .concat(),
        );
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"reused", true);
    });
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.use_server_errors = Some(400);
    req.flush_header = true;
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(404));
    assert!(client.written.is_empty());
    assert_eq!(client.flushes(), 0, "nothing may reach the network");
    assert_eq!(
        backend.pool().idle_count(),
        1,
        "a clean exchange keeps its connection"
    );
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"reused");
    join(peer);
}

#[test]
fn use_server_errors_leaves_statuses_below_the_threshold_alone() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 302, b"moved", true);
    });
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.use_server_errors = Some(400);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(client.written, b"moved");
    join(peer);
}

#[test]
fn error_status_without_a_body_lets_httpd_render_the_page() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 500, b"", true);
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(500));
    join(peer);
}

// ---------------------------------------------------------------------------------------------
// Flushing
// ---------------------------------------------------------------------------------------------

/// Headers, chunks "a", "b", "c", END_RESPONSE.
fn three_chunk_peer() -> (u16, JoinHandle<()>) {
    answering(&[
        send_headers(200, "OK", &[("Content-Length", "3")]),
        body_chunk(b"a"),
        body_chunk(b"b"),
        body_chunk(b"c"),
        end_response(true),
    ])
}

#[test]
fn flush_packets_flushes_after_each_chunk() {
    let (port, peer) = three_chunk_peer();
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.flush_packets = true;
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(
        client.events,
        vec![
            Event::Headers(200),
            Event::Write(b"a".to_vec()),
            Event::Flush,
            Event::Write(b"b".to_vec()),
            Event::Flush,
            Event::Write(b"c".to_vec()),
            Event::Flush,
        ]
    );
}

#[test]
fn without_flush_options_chunks_are_not_flushed() {
    let (port, peer) = three_chunk_peer();
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(client.flushes(), 0, "{:?}", client.events);
    assert_eq!(client.written, b"abc");
}

#[test]
fn flush_header_flushes_right_after_the_headers() {
    let (port, peer) = three_chunk_peer();
    let backend = Backend::new(worker(port), 4);
    let mut req = get();
    req.flush_header = true;
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(client.events[..2], [Event::Headers(200), Event::Flush]);
    assert_eq!(client.flushes(), 1);
}

#[test]
fn empty_body_chunk_from_the_backend_is_a_flush() {
    let (port, peer) = answering(&[
        send_headers(200, "OK", &[]),
        body_chunk(b"part"),
        body_chunk(b""),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    join(peer);
    assert_eq!(
        client.events,
        vec![
            Event::Headers(200),
            Event::Write(b"part".to_vec()),
            Event::Flush
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Client failures
// ---------------------------------------------------------------------------------------------

#[test]
fn client_read_failure_mid_body_sends_end_of_body_and_closes_the_connection() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let first = read_body_packet(&mut s);
        send(&mut s, &get_body_chunk(8186));
        let end = read_packet(&mut s);
        (first.len(), end, closed_by_module(&mut s))
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Content-Length", "20000")
        .body(pattern(20_000), 4096);
    client.fail_read_at = Some((8186, 400));
    let req = request(b"POST", BodyKind::Length(20_000));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(400));
    let (first, end, closed) = join(peer);
    assert_eq!(first, 8186);
    assert!(
        end.is_empty(),
        "expected the empty end-of-body packet, got {end:?}"
    );
    assert!(closed, "the half-fed connection must not be kept");
    assert_eq!(backend.pool().idle_count(), 0);
}

/// Found by fuzzing (fuzz/README.md, ajp_exchange): a backend may ask for request body after
/// its response started; a client read failing then was answered with its status (400), which
/// httpd would have written after part of the response.
#[test]
fn client_read_failure_after_the_response_started_aborts_the_client() {
    body_fails_after_the_response_started(&[send_headers(200, "OK", &[])], 400);
}

/// Found by the fuzz campaign (ajp_exchange): a client whose connection failed while the
/// backend was reading its body, after the response had started, was answered `Sent` without
/// an abort, so httpd would have ended a short response as if it were whole.
#[test]
fn client_gone_while_feeding_after_the_response_started_aborts_the_client() {
    let head = send_headers(200, "OK", &[("Content-Length", "9")]);
    // status 0: the fake client's read says the connection is gone.
    body_fails_after_the_response_started(&[head, body_chunk(b"")], 0);
}

/// The backend sends `head`, then "early", then asks for body; the client's read fails with
/// `status` (0: gone). The client must be aborted with what was relayed, the backend told the
/// body ended, and the half-fed connection closed.
fn body_fails_after_the_response_started(head: &[Vec<u8>], status: u16) {
    let head = head.concat();
    let (port, peer) = peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &head);
        send(&mut s, &body_chunk(b"early"));
        send(&mut s, &get_body_chunk(8186));
        let end = read_packet(&mut s);
        (end, closed_by_module(&mut s))
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Transfer-Encoding", "chunked")
        .body(pattern(100), 100);
    client.fail_read_at = Some((0, status));
    let req = request(b"POST", BodyKind::Chunked);
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(client.written, b"early");
    assert!(client.aborted(), "a committed response must look broken");
    let (end, closed) = join(peer);
    assert!(
        end.is_empty(),
        "expected the empty end-of-body packet, got {end:?}"
    );
    assert!(closed, "the half-fed connection must not be kept");
}

/// Found by the fuzz campaign (ajp_exchange): two Content-Length headers that disagree were
/// taken at the first; the client could not know where the body ends. Refused before any
/// header reaches the client.
#[test]
fn conflicting_content_lengths_are_refused() {
    let (port, peer) = answering_then_closed(&[
        send_headers(
            200,
            "OK",
            &[("Content-Length", "5"), ("Content-Length", "50")],
        ),
        body_chunk(b"abcde"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(client.written.is_empty());
    assert_eq!(client.status, None, "no header may reach the client");
    assert!(join(peer));
}

#[test]
fn repeated_equal_content_lengths_are_one() {
    let (port, peer) = answering(&[
        send_headers(
            200,
            "OK",
            &[("Content-Length", "5"), ("content-length", " 5")],
        ),
        body_chunk(b"abcde"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"abcde");
    drop(backend);
    join(peer);
}

#[test]
fn client_gone_during_the_response_returns_sent_and_drops_the_connection() {
    let (port, peer) = answering_then_closed(&[
        send_headers(200, "OK", &[("Content-Length", "6")]),
        body_chunk(b"abc"),
        body_chunk(b"def"),
        end_response(true),
    ]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    client.fail_write_from = Some(0);
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(backend.pool().idle_count(), 0);
    assert!(join(peer));
}

#[test]
fn backend_closing_after_the_response_started_aborts_the_client() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(
            &mut s,
            &[send_headers(200, "OK", &[]), body_chunk(b"partial")].concat(),
        );
        drop(s);
        no_more_connections(&listener, Duration::from_millis(200))
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"partial");
    assert!(client.aborted());
    assert!(join(peer), "a started response must never be retried");
}

// ---------------------------------------------------------------------------------------------
// Replays carrying a body, CPing, attributes
// ---------------------------------------------------------------------------------------------

#[test]
fn put_closed_before_answer_is_replayed_with_its_first_body_packet() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let first = read_body_packet(&mut s);
        drop(s);
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let again = read_body_packet(&mut s);
        answer(&mut s, 204, b"", true);
        (first, again)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Content-Length", "6")
        .body(b"put-me".to_vec(), 2);
    let req = request(b"PUT", BodyKind::Length(6));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    let (first, again) = join(peer);
    assert_eq!(first, b"put-me");
    assert_eq!(again, b"put-me", "the replay must carry the same body");
}

#[test]
fn put_closed_after_streaming_more_body_is_not_replayed() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let _ = read_body_packet(&mut s);
        send(&mut s, &get_body_chunk(8186));
        let _ = read_body_packet(&mut s);
        drop(s);
        no_more_connections(&listener, Duration::from_millis(300))
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new()
        .header("Content-Length", "9000")
        .body(pattern(9000), 9000);
    let req = request(b"PUT", BodyKind::Length(9000));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Status(502));
    assert!(
        join(peer),
        "a body that cannot be replayed whole was sent again"
    );
}

#[test]
fn get_body_chunk_gets_at_most_the_requested_size() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let mut got = read_body_packet(&mut s);
        let first = got.len();
        let mut sizes = Vec::new();
        while got.len() < 9000 {
            send(&mut s, &get_body_chunk(300));
            let piece = read_body_packet(&mut s);
            sizes.push(piece.len());
            got.extend(piece);
        }
        answer(&mut s, 200, b"", true);
        (first, sizes, got)
    });
    let backend = Backend::new(worker(port), 4);
    let body = pattern(9000);
    let mut client = FakeClient::new()
        .header("Content-Length", "9000")
        .body(body.clone(), 128);
    let req = request(b"POST", BodyKind::Length(9000));
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    let (first, sizes, got) = join(peer);
    assert_eq!(first, 8186);
    assert_eq!(sizes, vec![300, 300, 9000 - 8186 - 600]);
    assert_eq!(got, body);
}

#[test]
fn prepost_cping_is_sent_on_a_pooled_connection_before_the_request() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"one", true);
        let cping = read_packet(&mut s);
        send(&mut s, &cpong());
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"two", true);
        cping
    });
    let mut w = worker(port);
    w.prepost_timeout = Some(Duration::from_millis(500));
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"two");
    assert_eq!(join(peer), vec![0x0A], "CPING is a single 0x0A byte");
}

#[test]
fn pooled_connection_failing_prepost_cping_is_replaced_by_a_new_one() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, b"one", true);
        // Hangs: takes the CPing and never answers.
        let _ = read_packet(&mut s);
        let mut fresh = accept(&listener);
        let _ = read_forward_request(&mut fresh);
        answer(&mut fresh, 200, b"fresh", true);
        drop(s);
    });
    let mut w = worker(port);
    w.prepost_timeout = Some(Duration::from_millis(150));
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.written, b"fresh");
    join(peer);
}

#[test]
fn forward_request_carries_secret_query_route_and_mod_jk_attributes_in_order() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let fwd = read_forward_request(&mut s);
        answer(&mut s, 200, b"", true);
        fwd
    });
    let mut w = worker(port);
    w.secret = Some("s3cret".into());
    let backend = Backend::new(w, 4);
    let mut req = get();
    req.query = Some(b"a=1");
    req.env_attributes = &[(b"MY_VAR", b"v")];
    let mut client = FakeClient::new();
    // The route an lb member's attempt carries.
    let (outcome, _) = with_buffers(|bufs| {
        let mut x = Exchange::new(&backend, &req, &mut client, bufs);
        assert!(x.prepare().is_ok());
        x.serve(Some(b"node1"), b"ACT")
    });
    assert_eq!(outcome, Outcome::Sent);
    let attrs = join(peer).attributes;
    let expected = vec![
        (0x0C, String::new(), "s3cret".to_string()),
        (0x05, String::new(), "a=1".to_string()),
        (0x06, String::new(), "node1".to_string()),
        (0x0A, "AJP_REMOTE_PORT".to_string(), "40000".to_string()),
        (0x0A, "AJP_LOCAL_ADDR".to_string(), "127.0.0.1".to_string()),
        (0x0A, "JK_LB_ACTIVATION".to_string(), "ACT".to_string()),
        (0x0A, "MY_VAR".to_string(), "v".to_string()),
    ];
    assert_eq!(attrs, expected);
}

#[test]
fn traffic_counts_the_bytes_exchanged_with_the_backend() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let request = read_packet(&mut s);
        let reply = [
            send_headers(200, "OK", &[("Content-Length", "4")]),
            body_chunk(b"data"),
            end_response(true),
        ]
        .concat();
        send(&mut s, &reply);
        (4 + request.len() as u64, reply.len() as u64)
    });
    let backend = Backend::new(worker(port), 4);
    let req = get();
    let mut client = FakeClient::new();
    let (outcome, traffic, again) = with_buffers(|bufs| {
        let mut x = Exchange::new(&backend, &req, &mut client, bufs);
        assert!(x.prepare().is_ok());
        let (outcome, _) = x.serve(None, b"ACT");
        let traffic = x.take_traffic();
        (outcome, traffic, x.take_traffic())
    });
    assert_eq!(outcome, Outcome::Sent);
    assert_eq!(traffic, join(peer));
    assert_eq!(again, (0, 0), "take_traffic resets the counters");
}

#[test]
fn content_length_that_is_not_a_number_gives_502_and_relays_nothing() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(
            &mut s,
            &send_headers(200, "OK", &[("Content-Length", "12abc")]),
        );
        send(&mut s, &body_chunk(b"hello world!"));
        closed_by_module(&mut s)
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(join(peer), "the connection must be dropped");
    assert_eq!(client.status, None, "no headers relayed");
    assert!(client.written.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Small answers kept back to go out whole
// ---------------------------------------------------------------------------------------------

#[test]
fn a_small_answer_is_kept_back_whole_and_a_large_one_streams() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        answer(&mut s, 200, &pattern(636), true);
        let _ = read_forward_request(&mut s);
        let large = pattern(9000);
        let wire = [
            send_headers(200, "OK", &[("Content-Length", "9000")]),
            body_chunk(&large[..4500]),
            body_chunk(&large[4500..]),
            end_response(true),
        ];
        send(&mut s, &wire.concat());
    });
    let backend = Backend::new(worker(port), 4);
    let mut small = FakeClient::new().keeping();
    assert_eq!(forward(&backend, &get(), &mut small), Outcome::Sent);
    assert_eq!(small.kept, pattern(636), "the whole small body kept back");
    assert!(
        small.written.is_empty(),
        "nothing of it written before the end"
    );
    let mut large = FakeClient::new().keeping();
    assert_eq!(forward(&backend, &get(), &mut large), Outcome::Sent);
    // Over 8000 bytes the body streams; only the packet that completes it is kept back.
    assert_eq!(large.written, pattern(9000)[..4500]);
    assert_eq!(large.kept, pattern(9000)[4500..]);
    join(peer);
}

#[test]
fn a_small_answer_in_two_reads_is_kept_whole_and_in_order() {
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let mut first = send_headers(200, "OK", &[("Content-Length", "10")]);
        first.extend(body_chunk(b"01234"));
        send(&mut s, &first);
        std::thread::sleep(Duration::from_millis(50));
        let mut rest = body_chunk(b"56789");
        rest.extend(end_response(true));
        send(&mut s, &rest);
    });
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new().keeping();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert_eq!(client.kept, b"0123456789");
    assert!(client.written.is_empty());
    assert_eq!(backend.pool().idle_count(), 1);
    join(peer);
}

#[test]
fn the_kept_end_of_a_streamed_body_is_forgotten_when_the_backend_then_fails() {
    let large = pattern(9000);
    let wire = [
        send_headers(200, "OK", &[("Content-Length", "9000")]),
        body_chunk(&large[..4500]),
        body_chunk(&large[4500..]),
        // A second SEND_HEADERS instead of END_RESPONSE: invalid.
        send_headers(200, "OK", &[]),
    ]
    .concat();
    let (port, peer) = answering(&[wire]);
    let backend = Backend::new(worker(port), 4);
    let mut client = FakeClient::new().keeping();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Sent);
    assert!(client.kept.is_empty(), "the kept end was forgotten");
    assert_eq!(
        client.written,
        large[..4500],
        "only the streamed part went out"
    );
    let forgot_then_aborted = client
        .events
        .windows(2)
        .any(|w| w == [Event::Forgot, Event::Abort]);
    assert!(forgot_then_aborted, "{:?}", &client.events[1..]);
    join(peer);
}

#[test]
fn a_kept_body_is_forgotten_when_the_backend_fails_before_the_end() {
    // Headers and the whole small body, then the backend closes without END_RESPONSE.
    let wire = [
        send_headers(200, "OK", &[("Content-Length", "5")]),
        body_chunk(b"hello"),
    ]
    .concat();
    let (port, peer) = peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        send(&mut s, &wire);
        // Dropped here: closed without END_RESPONSE.
    });
    let mut w = worker(port);
    w.retries = 1;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new().keeping();
    assert_eq!(forward(&backend, &get(), &mut client), Outcome::Status(502));
    assert!(client.kept.is_empty(), "the kept body was forgotten");
    assert!(client.written.is_empty(), "nothing reached the client");
    assert_eq!(
        client.events,
        [
            Event::Headers(200),
            Event::Kept(b"hello".to_vec()),
            Event::Forgot
        ]
    );
    join(peer);
}

// ---------------------------------------------------------------------------------------------
// request_body_buffer
// ---------------------------------------------------------------------------------------------

/// A peer that takes a Content-Length body of `total` bytes (first packet unasked, then asking
/// 8186 at a time) and answers 200; returns the body it got.
fn body_taker(total: usize) -> (u16, JoinHandle<Vec<u8>>) {
    peer(move |listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let mut got = read_body_packet(&mut s);
        while got.len() < total {
            send(&mut s, &get_body_chunk(8186));
            got.extend(read_body_packet(&mut s));
        }
        answer(&mut s, 200, b"ok", true);
        got
    })
}

#[test]
fn a_buffered_body_larger_than_memory_arrives_whole_through_the_temporary_file() {
    for (total, limit) in [(150_000, 1_000_000), (150_000, 150_000), (10_000, 1000)] {
        let body = pattern(total);
        let (port, peer) = body_taker(total);
        let mut w = worker(port);
        w.request_body_buffer = limit;
        let backend = Backend::new(w, 4);
        let mut client = FakeClient::new()
            .header("Content-Length", &total.to_string())
            .body(body.clone(), 3000);
        let req = request(b"POST", BodyKind::Length(total as u64));
        assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
        assert_eq!(client.written, b"ok");
        assert_eq!(client.read_pos, total);
        assert!(
            join(peer) == body,
            "body of {total} bytes with a {limit}-byte buffer"
        );
        assert!(
            client.logs_containing("request body bytes ahead") == 1,
            "{}",
            client.log_text()
        );
    }
}

#[test]
fn a_buffered_chunked_body_is_still_sent_when_asked_and_ends_empty() {
    let body = pattern(20_000);
    let expected = body.clone();
    let (port, peer) = peer(|listener| {
        let mut s = accept(&listener);
        let _ = read_forward_request(&mut s);
        let mut got = Vec::new();
        loop {
            send(&mut s, &get_body_chunk(8186));
            let data = read_body_packet(&mut s);
            if data.is_empty() {
                break;
            }
            got.extend(data);
        }
        answer(&mut s, 200, b"ok", true);
        got
    });
    let mut w = worker(port);
    w.request_body_buffer = 100_000;
    let backend = Backend::new(w, 4);
    let mut client = FakeClient::new()
        .header("Transfer-Encoding", "chunked")
        .body(body, 700);
    let req = request(b"POST", BodyKind::Chunked);
    assert_eq!(forward(&backend, &req, &mut client), Outcome::Sent);
    assert_eq!(client.written, b"ok");
    assert!(join(peer) == expected);
}
