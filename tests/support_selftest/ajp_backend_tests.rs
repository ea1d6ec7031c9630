//! Tests of the fault-injecting backend (`tests/support/ajp_backend.rs`): they drive it over real
//! loopback sockets with hand-built packets. The encoders and decoders here play the web server's
//! side and spell the wire format out again on purpose instead of reusing `ajp_wire.rs`, so they
//! check its encoders as well.

use crate::ajp_backend::{pattern_byte, pattern_sha256, sha256_hex, AjpBackend, BackendOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(5);
const GET: u8 = 2;
const HEAD: u8 = 3;
const POST: u8 = 4;

enum Attr<'a> {
    Text(u8, &'a str),
    Named(&'a str, &'a str),
    KeySize(u16),
}

fn connect(backend: &AjpBackend) -> TcpStream {
    let stream = TcpStream::connect(backend.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

fn packet(payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x12, 0x34];
    bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn body_packet(data: &[u8]) -> Vec<u8> {
    let mut payload = (data.len() as u16).to_be_bytes().to_vec();
    payload.extend_from_slice(data);
    packet(&payload)
}

fn put_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.extend_from_slice(&[0xFF, 0xFF]),
        Some(text) => {
            out.extend_from_slice(&(text.len() as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
            out.push(0);
        }
    }
}

fn request_header_code(name: &str) -> Option<u16> {
    match name {
        "accept" => Some(0xA001),
        "content-type" => Some(0xA007),
        "content-length" => Some(0xA008),
        "cookie" => Some(0xA009),
        "host" => Some(0xA00B),
        "user-agent" => Some(0xA00E),
        _ => None,
    }
}

/// FORWARD_REQUEST payload as mod_jk would build it (coded names where mod_jk has a code).
fn forward_payload(
    method: u8,
    uri: &str,
    headers: &[(&str, &str)],
    attributes: &[Attr<'_>],
) -> Vec<u8> {
    let mut p = vec![2, method];
    put_string(&mut p, Some("HTTP/1.1"));
    put_string(&mut p, Some(uri));
    put_string(&mut p, Some("10.0.0.7"));
    put_string(&mut p, None);
    put_string(&mut p, Some("www.example.com"));
    p.extend_from_slice(&8080u16.to_be_bytes());
    p.push(0);
    p.extend_from_slice(&(headers.len() as u16).to_be_bytes());
    for (name, value) in headers {
        match request_header_code(name) {
            Some(code) => p.extend_from_slice(&code.to_be_bytes()),
            None => put_string(&mut p, Some(name)),
        }
        put_string(&mut p, Some(value));
    }
    for attribute in attributes {
        match attribute {
            Attr::Text(code, value) => {
                p.push(*code);
                put_string(&mut p, Some(value));
            }
            Attr::Named(name, value) => {
                p.push(0x0A);
                put_string(&mut p, Some(name));
                put_string(&mut p, Some(value));
            }
            Attr::KeySize(bits) => {
                p.push(0x0B);
                p.extend_from_slice(&bits.to_be_bytes());
            }
        }
    }
    p.push(0xFF);
    p
}

fn forward(method: u8, uri: &str, query: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut attributes = Vec::new();
    if !query.is_empty() {
        attributes.push(Attr::Text(0x05, query));
    }
    attributes.push(Attr::Named("AJP_REMOTE_PORT", "50123"));
    packet(&forward_payload(method, uri, headers, &attributes))
}

/// A GET with `content-length: 0`, the way mod_jk sends body-less requests.
fn get(query: &str) -> Vec<u8> {
    forward(
        GET,
        "/app/test",
        query,
        &[("host", "www.example.com"), ("content-length", "0")],
    )
}

#[derive(Debug, PartialEq)]
enum Reply {
    Headers(u16, String, Vec<(String, String)>),
    Chunk(Vec<u8>),
    GetBody(u16),
    End(u8),
    Cpong,
}

fn read_raw(stream: &mut TcpStream) -> ([u8; 2], Vec<u8>) {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).unwrap();
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).unwrap();
    ([header[0], header[1]], payload)
}

fn take_u16(p: &[u8], at: &mut usize) -> u16 {
    let value = u16::from_be_bytes([p[*at], p[*at + 1]]);
    *at += 2;
    value
}

fn take_string(p: &[u8], at: &mut usize) -> String {
    let len = usize::from(take_u16(p, at));
    let text = String::from_utf8(p[*at..*at + len].to_vec()).unwrap();
    assert_eq!(p[*at + len], 0, "string without NUL");
    *at += len + 1;
    text
}

fn response_header_name(code: u16) -> &'static str {
    match code {
        0xA001 => "Content-Type",
        0xA003 => "Content-Length",
        0xA007 => "Set-Cookie",
        other => panic!("unexpected response header code {other:#x}"),
    }
}

fn parse_reply(payload: &[u8]) -> Reply {
    let mut at = 1;
    match payload[0] {
        4 => {
            let status = take_u16(payload, &mut at);
            let reason = take_string(payload, &mut at);
            let count = take_u16(payload, &mut at);
            let mut headers = Vec::new();
            for _ in 0..count {
                let name = if payload[at] == 0xA0 {
                    response_header_name(take_u16(payload, &mut at)).to_string()
                } else {
                    take_string(payload, &mut at)
                };
                headers.push((name, take_string(payload, &mut at)));
            }
            assert_eq!(at, payload.len(), "bytes after the headers");
            Reply::Headers(status, reason, headers)
        }
        3 => {
            let len = usize::from(take_u16(payload, &mut at));
            assert_eq!(payload.len(), 3 + len + 1, "chunk length vs payload");
            assert_eq!(payload[3 + len], 0, "chunk without trailing NUL");
            Reply::Chunk(payload[3..3 + len].to_vec())
        }
        5 => {
            assert_eq!(payload.len(), 2);
            Reply::End(payload[1])
        }
        6 => {
            assert_eq!(payload.len(), 3);
            Reply::GetBody(take_u16(payload, &mut at))
        }
        9 => {
            assert_eq!(payload.len(), 1);
            Reply::Cpong
        }
        other => panic!("unexpected packet type {other}"),
    }
}

fn read_reply(stream: &mut TcpStream) -> Reply {
    let (magic, payload) = read_raw(stream);
    assert_eq!(&magic, b"AB");
    parse_reply(&payload)
}

#[derive(Debug, Default)]
struct Answer {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    chunks: Vec<usize>,
    reuse: u8,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut answer = Answer::default();
    loop {
        match read_reply(stream) {
            Reply::Headers(status, reason, headers) => {
                answer.status = status;
                answer.reason = reason;
                answer.headers = headers;
            }
            Reply::Chunk(data) => {
                answer.chunks.push(data.len());
                answer.body.extend_from_slice(&data);
            }
            Reply::End(reuse) => {
                answer.reuse = reuse;
                return answer;
            }
            other => panic!("unexpected {other:?} inside an answer"),
        }
    }
}

fn exchange(backend: &AjpBackend, request: &[u8]) -> Answer {
    let mut stream = connect(backend);
    stream.write_all(request).unwrap();
    read_answer(&mut stream)
}

fn assert_closed(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Ok(_) => panic!("expected EOF, got data"),
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
}

fn assert_quiet(stream: &mut TcpStream, for_how_long: Duration) {
    stream.set_read_timeout(Some(for_how_long)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Err(e) => assert!(
            matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
        Ok(n) => panic!("expected silence, read returned {n}"),
    }
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
}

/// Polls `condition` until it holds (true) or PATIENCE runs out (false).
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u64).map(pattern_byte).collect()
}

#[test]
fn pattern_follows_the_documented_formula() {
    assert_eq!(pattern_byte(0), 0);
    assert_eq!(pattern_byte(1), 7);
    assert_eq!(pattern_byte(37), 3); // 259 % 256
    assert_eq!(pattern_byte(251), 222); // (1757 + 1) % 256
    assert_eq!(
        pattern_sha256(0),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // Across the 64 KiB blocks pattern_sha256 hashes in.
    assert_eq!(pattern_sha256(70_000), sha256_hex(&pattern(70_000)));
    assert_eq!(sha256_hex(b"abc").len(), 64);
}

#[test]
fn get_is_answered_with_an_echo_of_the_request() {
    let backend = AjpBackend::start("tomcatA").unwrap();
    let answer = exchange(
        &backend,
        &forward(
            GET,
            "/app/hello",
            "a=1&b=2",
            &[
                ("host", "www.example.com"),
                ("content-length", "0"),
                ("X-Custom", "yes"),
            ],
        ),
    );
    assert_eq!((answer.status, answer.reason.as_str()), (200, "OK"));
    assert_eq!(answer.header("Content-Type"), Some("text/plain"));
    assert_eq!(answer.header("X-Backend"), Some("tomcatA"));
    assert_eq!(answer.header("X-Backend-Connection"), Some("1"));
    assert_eq!(
        answer.header("Content-Length"),
        Some(answer.body.len().to_string().as_str())
    );
    assert_eq!(answer.reuse, 1);
    let text = answer.text();
    for line in [
        "backend=tomcatA",
        "method=GET",
        "uri=/app/hello",
        "query=a=1&b=2",
        "protocol=HTTP/1.1",
        "remote_addr=10.0.0.7",
        "server_name=www.example.com",
        "server_port=8080",
        "is_ssl=false",
        "body_len=0",
        "header.host=www.example.com",
        "header.X-Custom=yes",
        "attr.query_string=a=1&b=2",
        "attr.AJP_REMOTE_PORT=50123",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing in\n{text}"
        );
    }
    assert!(text.starts_with("backend=tomcatA\nmethod=GET\nuri="));
    assert!(backend.protocol_errors().is_empty());
}

#[test]
fn x_request_id_is_echoed_in_a_header_and_the_body() {
    let backend = AjpBackend::start("b").unwrap();
    let with_id = |query: &str| {
        forward(
            GET,
            "/app/x",
            query,
            &[("content-length", "0"), ("X-Request-Id", "e-7-42")],
        )
    };
    let answer = exchange(&backend, &with_id(""));
    assert_eq!(answer.header("X-Request-Id"), Some("e-7-42"));
    assert!(answer
        .text()
        .lines()
        .any(|l| l == "header.X-Request-Id=e-7-42"));
    // Whatever the query asks for, the id still comes back.
    let answer = exchange(&backend, &with_id("size=10&status=503"));
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("X-Request-Id"), Some("e-7-42"));
    // Without one, no such header.
    assert_eq!(exchange(&backend, &get("")).header("X-Request-Id"), None);
}

#[test]
fn request_log_gets_a_line_per_request_received_whole() {
    let dir = std::env::temp_dir().join(format!("ajp-backend-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("requests.log");
    let _ = std::fs::remove_file(&log);
    let options = BackendOptions {
        request_log: Some(log.clone()),
        ..BackendOptions::default()
    };
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let backend = AjpBackend::start_on(loopback, "b", options).unwrap();
    let body = pattern(100);
    let mut stream = connect(&backend);
    let post = forward(
        POST,
        "/app/order",
        "",
        &[("content-length", "100"), ("X-Request-Id", "p-1")],
    );
    stream.write_all(&post).unwrap();
    stream.write_all(&body_packet(&body)).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    stream.write_all(&get("")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    // A POST whose body never comes whole is not logged.
    let mut cut = connect(&backend);
    let partial = forward(
        POST,
        "/app/order",
        "",
        &[("content-length", "100"), ("X-Request-Id", "p-2")],
    );
    cut.write_all(&partial).unwrap();
    cut.write_all(&body_packet(&body[..40])).unwrap();
    assert_eq!(read_reply(&mut cut), Reply::GetBody(8186));
    drop(cut);
    assert!(eventually(|| backend.open_connections() == 1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text, "POST p-1 100 1\nGET - 0 1\n");
    drop(backend);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_forward_request_field_is_recorded() {
    let backend = AjpBackend::start("b").unwrap();
    let attributes = [
        Attr::Text(0x0C, "s3cret"),
        Attr::Text(0x03, "alice"),
        Attr::Text(0x04, "Basic"),
        Attr::Text(0x05, "x=1"),
        Attr::Text(0x06, "node1"),
        Attr::Text(0x07, "-----BEGIN CERTIFICATE-----\nMIIB\n"),
        Attr::Text(0x08, "TLS_AES_128_GCM_SHA256"),
        Attr::Text(0x09, "abcdef"),
        Attr::KeySize(256),
        Attr::Text(0x0D, "PATCH"),
        Attr::Named("AJP_REMOTE_PORT", "4711"),
        Attr::Named("JK_LB_ACTIVATION", "ACT"),
    ];
    let payload = forward_payload(
        0xFF,
        "/app/r",
        &[("host", "h"), ("content-length", "0"), ("Accept", "*/*")],
        &attributes,
    );
    let answer = exchange(&backend, &packet(&payload));
    assert_eq!(answer.status, 200);
    assert!(answer
        .text()
        .contains("attr.ssl_cert=-----BEGIN CERTIFICATE-----\\nMIIB\\n\n"));
    let recorded = backend.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!((r.method.as_str(), r.method_code), ("PATCH", 0xFF));
    assert_eq!(r.uri, "/app/r");
    assert_eq!(r.remote_addr, "10.0.0.7");
    assert_eq!(r.remote_host, None);
    assert_eq!(
        (r.server_name.as_str(), r.server_port, r.is_ssl),
        ("www.example.com", 8080, false)
    );
    assert_eq!(r.header("HOST"), Some("h"));
    assert_eq!(r.header("accept"), Some("*/*"));
    assert_eq!(
        r.headers[1],
        ("content-length".to_string(), "0".to_string())
    );
    assert_eq!(r.headers[2].0, "Accept", "string names are kept as sent");
    let names: Vec<&str> = r.attributes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "secret",
            "remote_user",
            "auth_type",
            "query_string",
            "route",
            "ssl_cert",
            "ssl_cipher",
            "ssl_session",
            "ssl_key_size",
            "stored_method",
            "AJP_REMOTE_PORT",
            "JK_LB_ACTIVATION"
        ]
    );
    assert_eq!(r.attribute("ssl_key_size"), Some("256"));
    assert_eq!(r.attribute("secret"), Some("s3cret"));
    assert_eq!(r.attribute("AJP_REMOTE_PORT"), Some("4711"));
    assert_eq!(r.query(), Some("x=1"));
    assert_eq!((r.body_len, r.body_packets), (0, 0));
    assert_eq!(r.body_sha256, pattern_sha256(0));
}

#[test]
fn requests_on_one_connection_share_it() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    for i in 0..3 {
        stream.write_all(&get(&format!("n={i}"))).unwrap();
        let answer = read_answer(&mut stream);
        assert_eq!((answer.status, answer.reuse), (200, 1));
    }
    let recorded = backend.requests();
    assert_eq!(recorded.len(), 3);
    assert!(recorded.iter().all(|r| r.connection == 1));
    assert_eq!(recorded[2].query(), Some("n=2"));
    assert_eq!(backend.connections_accepted(), 1);
    let _second = connect(&backend);
    assert!(eventually(|| backend.connections_accepted() == 2));
    backend.clear();
    assert!(backend.requests().is_empty());
}

#[test]
fn cping_is_answered_with_cpong() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    for _ in 0..2 {
        stream.write_all(&[0x12, 0x34, 0x00, 0x01, 0x0A]).unwrap();
        let mut cpong = [0u8; 5];
        stream.read_exact(&mut cpong).unwrap();
        assert_eq!(cpong, [0x41, 0x42, 0x00, 0x01, 0x09]);
    }
    assert_eq!(backend.cpings(), 2);
    stream.write_all(&get("")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
}

#[test]
fn body_spanning_several_packets_is_fetched_with_get_body_chunk() {
    let backend = AjpBackend::start("b").unwrap();
    let body = pattern(20_000);
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(
            POST,
            "/app/up",
            "",
            &[("content-length", "20000")],
        ))
        .unwrap();
    // The first packet goes unsolicited, the rest only when asked for.
    stream.write_all(&body_packet(&body[..8186])).unwrap();
    assert_eq!(read_reply(&mut stream), Reply::GetBody(8186));
    stream.write_all(&body_packet(&body[8186..16372])).unwrap();
    assert_eq!(read_reply(&mut stream), Reply::GetBody(8186));
    stream.write_all(&body_packet(&body[16372..])).unwrap();
    let answer = read_answer(&mut stream);
    assert!(answer
        .text()
        .contains(&format!("body_sha256={}\n", sha256_hex(&body))));
    let r = &backend.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.body_len, r.body_packets),
        ("POST", 20_000, 3)
    );
    assert!(r.initial_body_packet);
    assert!(!r.empty_body_packet);
    assert_eq!(r.body_sha256, sha256_hex(&body));
    // The connection is ready for the next request.
    stream.write_all(&get("")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
}

#[test]
fn body_without_content_length_is_read_until_an_empty_packet() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(POST, "/app/chunked", "", &[("host", "h")]))
        .unwrap();
    for part in [&b"hello "[..], b"chunked ", b"world"] {
        assert_eq!(read_reply(&mut stream), Reply::GetBody(8186));
        stream.write_all(&body_packet(part)).unwrap();
    }
    assert_eq!(read_reply(&mut stream), Reply::GetBody(8186));
    stream.write_all(&[0x12, 0x34, 0x00, 0x00]).unwrap();
    let answer = read_answer(&mut stream);
    assert!(answer.text().contains("body_len=19\n"));
    let r = &backend.requests()[0];
    assert_eq!((r.body_len, r.body_packets), (19, 4));
    assert_eq!(r.body_sha256, sha256_hex(b"hello chunked world"));
    assert!(!r.initial_body_packet);
    assert!(r.empty_body_packet);
}

#[test]
fn content_length_zero_means_no_body_is_read() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(POST, "/app", "", &[("content-length", "0")]))
        .unwrap();
    // Straight to the answer: no GET_BODY_CHUNK.
    assert!(matches!(read_reply(&mut stream), Reply::Headers(200, ..)));
    let r = &backend.requests()[0];
    assert_eq!(
        (r.body_len, r.body_packets, r.initial_body_packet),
        (0, 0, false)
    );
}

#[test]
fn empty_first_body_packet_ends_an_announced_body() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(POST, "/app", "", &[("content-length", "500")]))
        .unwrap();
    // mod_jk's answer to a client that vanished before its body (CVE-2008-5519).
    stream.write_all(&[0x12, 0x34, 0x00, 0x00]).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    let r = &backend.requests()[0];
    assert_eq!((r.body_len, r.body_packets), (0, 1));
    assert!(r.initial_body_packet && r.empty_body_packet);
}

#[test]
fn size_sends_the_pattern_in_tomcat_sized_chunks() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(&backend, &get("size=20000"));
    assert_eq!(answer.header("Content-Length"), Some("20000"));
    assert_eq!(
        answer.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(answer.chunks, [8184, 8184, 3632]);
    assert_eq!(answer.body, pattern(20_000));
    assert_eq!(sha256_hex(&answer.body), pattern_sha256(20_000));
}

#[test]
fn chunk_and_flush_shape_the_body_packets() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(&backend, &get("size=10&chunk=4&flush=1"));
    assert_eq!(answer.chunks, [0, 4, 0, 4, 0, 2]);
    assert_eq!(answer.body, pattern(10));
    let answer = exchange(&backend, &get("size=0"));
    assert!(answer.chunks.is_empty());
    assert_eq!(answer.header("Content-Length"), Some("0"));
}

#[test]
fn status_header_and_nocl_shape_the_headers() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(
        &backend,
        &get("status=404&header=X-A:%20one+two&header=Set-Cookie:k=v&header=Content-Type:text/html&nocl=1"),
    );
    assert_eq!((answer.status, answer.reason.as_str()), (404, "Not Found"));
    assert_eq!(answer.header("Content-Length"), None);
    assert_eq!(answer.header("X-A"), Some("one two"));
    assert_eq!(answer.header("Set-Cookie"), Some("k=v"));
    assert_eq!(answer.header("Content-Type"), Some("text/html"));
    assert_eq!(
        answer
            .headers
            .iter()
            .filter(|(n, _)| n == "Content-Type")
            .count(),
        1
    );
    assert!(answer.text().starts_with("backend=b\n"));
    let answer = exchange(&backend, &get("status=299&reason=Odd+One"));
    assert_eq!((answer.status, answer.reason.as_str()), (299, "Odd One"));
}

#[test]
fn strnames_sends_header_names_as_strings() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("strnames=1&size=3")).unwrap();
    let (_, payload) = read_raw(&mut stream);
    // status, reason "OK", count, then the first name: a string, not 0xA001.
    assert_eq!(&payload[..10], b"\x04\x00\xc8\x00\x02OK\x00\x00\x04");
    assert_eq!(&payload[10..25], b"\x00\x0cContent-Type\x00");
    assert!(matches!(
        parse_reply(&payload),
        Reply::Headers(200, _, h) if h[1] == ("Content-Length".to_string(), "3".to_string())
    ));
}

#[test]
fn head_keeps_content_length_but_sends_no_body() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(
        &backend,
        &forward(HEAD, "/app", "size=5000", &[("content-length", "0")]),
    );
    assert_eq!(answer.header("Content-Length"), Some("5000"));
    assert!(answer.chunks.is_empty());
    let answer = exchange(&backend, &get("status=204"));
    assert_eq!(answer.header("Content-Length"), None);
    assert!(answer.chunks.is_empty());
}

#[test]
fn reuse_zero_ends_with_reuse_false_and_closes() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("reuse=0")).unwrap();
    assert_eq!(read_answer(&mut stream).reuse, 0);
    assert_closed(&mut stream);
}

#[test]
fn close_keeps_the_reuse_flag_but_closes() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("close=1")).unwrap();
    assert_eq!(read_answer(&mut stream).reuse, 1);
    assert_closed(&mut stream);
}

#[test]
fn wrong_secret_gets_403_and_the_connection_closed() {
    let options = BackendOptions {
        required_secret: Some("s3cret".to_string()),
        ..BackendOptions::default()
    };
    let backend = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", options).unwrap();
    let with_secret = |secret: &str| {
        packet(&forward_payload(
            GET,
            "/app",
            &[("content-length", "0")],
            &[Attr::Text(0x0C, secret)],
        ))
    };
    let mut stream = connect(&backend);
    stream.write_all(&with_secret("s3cret")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    stream.write_all(&with_secret("guess")).unwrap();
    let answer = read_answer(&mut stream);
    assert_eq!((answer.status, answer.reuse), (403, 0));
    assert_closed(&mut stream);
    let mut stream = connect(&backend);
    stream.write_all(&get("")).unwrap();
    assert_eq!(
        read_answer(&mut stream).status,
        403,
        "a missing secret is wrong too"
    );
    let recorded = backend.requests();
    assert_eq!(recorded.len(), 3, "refused requests are recorded too");
    assert_eq!(recorded[1].attribute("secret"), Some("guess"));
}

#[test]
fn unknown_request_attribute_is_refused_when_strict() {
    let options = BackendOptions {
        reject_unknown_attributes: true,
        allowed_attributes: vec!["SSL_CLIENT_S_DN".to_string()],
        ..BackendOptions::default()
    };
    let backend = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", options).unwrap();
    let with = |name: &str| {
        packet(&forward_payload(
            GET,
            "/app",
            &[("content-length", "0")],
            &[
                Attr::Text(0x06, "r1"),
                Attr::Named("AJP_LOCAL_ADDR", "1.2.3.4"),
                Attr::Named(name, "v"),
            ],
        ))
    };
    assert_eq!(exchange(&backend, &with("SSL_CLIENT_S_DN")).status, 200);
    assert_eq!(exchange(&backend, &with("INJECTED")).status, 403);
}

fn assert_rejected(bytes: &[u8], reason: &str) {
    assert_rejected_with(bytes, false, reason);
}

/// Sends `bytes` (then half-closes when `then_eof`) and expects the backend to close the
/// connection and report exactly one protocol error containing `reason`.
fn assert_rejected_with(bytes: &[u8], then_eof: bool, reason: &str) {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(bytes).unwrap();
    if then_eof {
        stream.shutdown(Shutdown::Write).unwrap();
    }
    assert_closed(&mut stream);
    assert!(eventually(|| !backend.protocol_errors().is_empty()));
    let errors = backend.protocol_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains(reason), "{errors:?} lacks {reason:?}");
    assert!(backend.requests().is_empty());
}

#[test]
fn malformed_packets_close_the_connection_and_are_reported() {
    let good = forward_payload(GET, "/app", &[("content-length", "0")], &[]);
    assert_rejected(b"GET / HTTP/1.1\r\n\r\n", "bad magic 47 45");
    assert_rejected(
        &[0x12, 0x34, 0x1F, 0xFD],
        "packet payload of 8189 bytes exceeds the limit of 8188",
    );
    let mut trailing = good.clone();
    trailing.push(0);
    assert_rejected(&packet(&trailing), "1 bytes after the attribute terminator");
    assert_rejected(
        &packet(&good[..good.len() - 1]),
        "packet too short for attribute code (or 0xFF)",
    );
    let mut no_nul = good.clone();
    no_nul[12] = b'X'; // the NUL after "HTTP/1.1"
    assert_rejected(&packet(&no_nul), "protocol ends with 0x58 instead of NUL");
    let mut bad_method = good.clone();
    bad_method[1] = 99;
    assert_rejected(&packet(&bad_method), "unknown method code 99");
    assert_rejected_with(
        &[0x12, 0x34, 0x00, 0x02, 0x02],
        true,
        "closed inside a packet",
    );
    assert_rejected_with(&[0x12, 0x34, 0x00], true, "closed inside a packet header");
    assert_rejected(
        &[0x12, 0x34, 0x00, 0x00],
        "empty packet where a request was expected",
    );
    assert_rejected(&packet(&[0x07]), "SHUTDOWN");
    let mut body = forward(POST, "/app", "", &[("content-length", "10")]);
    body.extend_from_slice(&packet(&[0x00, 0x0A, b'x']));
    assert_rejected(&body, "body packet declares 10 bytes but carries 1");
    let mut long = forward(POST, "/app", "", &[("content-length", "10")]);
    long.extend_from_slice(&packet(&[0x00, 0x01, b'x', b'y']));
    assert_rejected(&long, "body packet declares 1 bytes but carries 2");
    let mut too_much = forward(POST, "/app", "", &[("content-length", "2")]);
    too_much.extend_from_slice(&body_packet(b"abc"));
    assert_rejected(&too_much, "3 body bytes for content-length 2");
    let not_a_number = forward(POST, "/app", "", &[("content-length", "ten")]);
    assert_rejected(&not_a_number, "is not a number");
}

#[test]
fn bad_query_value_gets_a_400_naming_it() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(&backend, &get("fault=typo"));
    assert_eq!((answer.status, answer.reuse), (400, 1));
    assert!(answer.text().contains("unknown fault=typo"));
    assert_eq!(exchange(&backend, &get("size=lots")).status, 400);
    assert_eq!(exchange(&backend, &get("status=42")).status, 400);
    assert_eq!(exchange(&backend, &get("unrelated=x")).status, 200);
}

#[test]
fn fault_reset_closes_without_any_answer() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=reset")).unwrap();
    assert_closed(&mut stream);
    assert_eq!(backend.requests().len(), 1, "recorded before the fault");
}

#[test]
fn fault_garbage_sends_non_ajp_bytes_then_closes() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=garbage")).unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    assert!(received.starts_with(b"HTTP/1.1 "));
}

#[test]
fn fault_badmagic_swaps_the_magic_of_the_headers() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=badmagic&size=5")).unwrap();
    let (magic, payload) = read_raw(&mut stream);
    assert_eq!(&magic, b"BA");
    assert!(matches!(parse_reply(&payload), Reply::Headers(200, ..)));
    // The rest of a normal answer follows.
    assert_eq!(read_reply(&mut stream), Reply::Chunk(pattern(5)));
    assert_eq!(read_reply(&mut stream), Reply::End(1));
}

#[test]
fn fault_oversize_sends_a_packet_longer_than_max_packet() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=oversize")).unwrap();
    let (magic, payload) = read_raw(&mut stream);
    assert_eq!(&magic, b"AB");
    assert_eq!(payload.len(), 8193);
    match parse_reply(&payload) {
        Reply::Headers(200, _, headers) => {
            assert_eq!(headers.last().unwrap().0, "X-Padding")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(read_reply(&mut stream), Reply::Chunk(_)));
}

#[test]
fn fault_badchunk_declares_more_than_it_carries() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=badchunk")).unwrap();
    assert!(matches!(read_reply(&mut stream), Reply::Headers(200, ..)));
    let (_, payload) = read_raw(&mut stream);
    assert_eq!(payload[0], 3);
    let declared = usize::from(u16::from_be_bytes([payload[1], payload[2]]));
    assert!(
        declared > payload.len() - 3,
        "{declared} vs {}",
        payload.len()
    );
    assert_eq!(read_reply(&mut stream), Reply::End(1));
}

#[test]
fn fault_truncated_sends_half_the_body_then_closes() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&get("fault=truncated&size=20000"))
        .unwrap();
    match read_reply(&mut stream) {
        Reply::Headers(200, _, h) => {
            assert!(h.contains(&("Content-Length".into(), "20000".into())))
        }
        other => panic!("{other:?}"),
    }
    let mut body = Vec::new();
    while body.len() < 10_000 {
        match read_reply(&mut stream) {
            Reply::Chunk(data) => body.extend_from_slice(&data),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(body, pattern(10_000));
    assert_closed(&mut stream);
}

#[test]
fn fault_silent_reads_and_never_answers_until_stopped() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(
            POST,
            "/app",
            "fault=silent",
            &[("content-length", "20000")],
        ))
        .unwrap();
    stream.write_all(&body_packet(&[7; 8186])).unwrap();
    assert!(backend.wait_for_requests(1, PATIENCE));
    // Not even a GET_BODY_CHUNK for the rest of the body.
    assert_quiet(&mut stream, Duration::from_millis(200));
    assert_eq!(backend.requests()[0].body_len, 8186);
    assert_eq!(backend.open_connections(), 1);
    backend.stop();
    assert_closed(&mut stream);
}

#[test]
fn fault_badreuse_ends_with_reuse_byte_ff() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=badreuse")).unwrap();
    assert_eq!(read_answer(&mut stream).reuse, 0xFF);
    // Still served: a front end that wrongly reuses it shows up as a repeated connection number.
    stream.write_all(&get("")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
}

#[test]
fn fault_cpongless_ignores_later_cpings_on_that_connection_only() {
    let backend = AjpBackend::start("b").unwrap();
    let cping = [0x12, 0x34, 0x00, 0x01, 0x0A];
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=cpongless")).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    stream.write_all(&cping).unwrap();
    assert_quiet(&mut stream, Duration::from_millis(200));
    stream.write_all(&get("")).unwrap();
    assert_eq!(
        read_answer(&mut stream).status,
        200,
        "requests still served"
    );
    let mut other = connect(&backend);
    other.write_all(&cping).unwrap();
    assert_eq!(read_reply(&mut other), Reply::Cpong);
    assert_eq!(backend.cpings(), 2);
    backend.set_ignore_cping(true);
    other.write_all(&cping).unwrap();
    assert_quiet(&mut other, Duration::from_millis(200));
}

#[test]
fn fault_badgetbody_and_twoheaders_break_the_answer_order() {
    let backend = AjpBackend::start("b").unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("fault=badgetbody")).unwrap();
    assert_eq!(read_reply(&mut stream), Reply::GetBody(0xFFFF));
    // The front end's answer to it (here: end of body) is read before the answer goes on.
    stream.write_all(&body_packet(&[])).unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    stream.write_all(&get("fault=twoheaders")).unwrap();
    assert!(matches!(read_reply(&mut stream), Reply::Headers(200, ..)));
    assert!(matches!(read_reply(&mut stream), Reply::Headers(200, ..)));
    assert_eq!(read_answer(&mut stream).reuse, 1);
}

#[test]
fn sleep_delays_the_headers() {
    let backend = AjpBackend::start("b").unwrap();
    let started = Instant::now();
    let answer = exchange(&backend, &get("sleep=150&sleepbody=100"));
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn stop_closes_open_connections_and_frees_the_port() {
    let backend = AjpBackend::start("b").unwrap();
    let addr = backend.addr();
    let mut idle = connect(&backend);
    idle.write_all(&get("")).unwrap();
    read_answer(&mut idle);
    backend.stop();
    assert_closed(&mut idle);
    let again = AjpBackend::start_on(addr, "b2", BackendOptions::default()).unwrap();
    assert_eq!(exchange(&again, &get("")).header("X-Backend"), Some("b2"));
}

#[test]
fn accept_delay_holds_back_the_first_answer() {
    let options = BackendOptions {
        accept_delay: Some(Duration::from_millis(300)),
        ..BackendOptions::default()
    };
    let backend = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", options).unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&[0x12, 0x34, 0x00, 0x01, 0x0A]).unwrap();
    assert_quiet(&mut stream, Duration::from_millis(150));
    assert_eq!(read_reply(&mut stream), Reply::Cpong);
}

#[test]
fn idle_timeout_closes_an_idle_connection() {
    let options = BackendOptions {
        idle_timeout: Some(Duration::from_millis(100)),
        ..BackendOptions::default()
    };
    let backend = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", options).unwrap();
    let mut stream = connect(&backend);
    stream.write_all(&get("")).unwrap();
    read_answer(&mut stream);
    assert_closed(&mut stream);
}

#[test]
fn max_packet_option_sizes_body_requests_and_chunks() {
    let options = BackendOptions {
        max_packet: 16384,
        ..BackendOptions::default()
    };
    let backend = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", options).unwrap();
    let mut stream = connect(&backend);
    stream
        .write_all(&forward(
            POST,
            "/app",
            "size=20000",
            &[("content-length", "16383")],
        ))
        .unwrap();
    stream.write_all(&body_packet(&[1; 16378])).unwrap();
    assert_eq!(read_reply(&mut stream), Reply::GetBody(16378));
    stream.write_all(&body_packet(&[1; 5])).unwrap();
    assert_eq!(read_answer(&mut stream).chunks, [16376, 3624]);
    let too_small = BackendOptions {
        max_packet: 100,
        ..BackendOptions::default()
    };
    let refused = AjpBackend::start_on("127.0.0.1:0".parse().unwrap(), "b", too_small);
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(io::ErrorKind::InvalidInput)
    );
}

#[test]
fn query_values_are_percent_decoded() {
    let backend = AjpBackend::start("b").unwrap();
    let answer = exchange(
        &backend,
        &get("reason=a%20b+c%3A%zz%4&header=X-Y%3A1&flush&reuse=0&size=2"),
    );
    // `%XX` and `+` decoded, a stray `%` kept; a bare `flush` is flush=1.
    assert_eq!(answer.reason, "a b c:%zz%4");
    assert_eq!(answer.header("X-Y"), Some("1"));
    assert_eq!(answer.chunks, [0, 2]);
    assert_eq!(answer.reuse, 0);
}
