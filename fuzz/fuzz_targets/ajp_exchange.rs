//! The whole response state machine: one request through `Runtime::target(..).forward(..)`,
//! exactly as the handler calls it, against an in-process AJP peer on a Unix socket that plays
//! a fuzzed script (SEND_HEADERS, SEND_BODY_CHUNK, GET_BODY_CHUNK, END_RESPONSE, CPONG and raw
//! bytes in any order) and a fake client whose body, reads and writes are fuzzed too.
//!
//! Invariants beyond "no panic": nothing reaches the client before the headers; an answer of
//! `Status` means nothing was committed; the body relayed is a prefix of the script's body
//! chunks and never longer than the Content-Length the backend declared; the request body sent
//! to the backend is a prefix of the client's, never longer than its Content-Length; the
//! worker's busy count is back to zero.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mod_jk_rs::ajp::{EncodeError, SendHeaders};
use mod_jk_rs::balancer::RequestHints;
use mod_jk_rs::config::{Properties, Workers};
use mod_jk_rs::jklog::Level;
use mod_jk_rs::proxy::{
    BodyKind, Client, ClientError, HeaderSink, Outcome, RequestInfo, Runtime, Target,
};
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// The input
// ---------------------------------------------------------------------------------------------

/// One packet of the backend's script.
#[derive(Arbitrary, Debug)]
enum Packet {
    Headers {
        status: u16,
        reason: Vec<u8>,
        headers: Vec<(HeaderName, Vec<u8>)>,
    },
    Body(Vec<u8>),
    /// A body chunk padded with Tomcat's trailing NUL.
    BodyWithNul(Vec<u8>),
    Flush,
    GetBody(u16),
    End(u8),
    CPong,
    /// A payload framed as given (any type, any content).
    Payload(Vec<u8>),
    /// Bytes as they are, framing included.
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum HeaderName {
    /// 0xA0xx.
    Coded(u8),
    ContentLength,
    Named(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Head,
    Post,
    Put,
    Options,
    Other,
}

#[derive(Arbitrary, Debug)]
struct Input {
    large_packets: bool,
    method: Method,
    /// `None`: no body; `Some(None)`: chunked; `Some(Some(n))`: Content-Length n.
    body_kind: Option<Option<u16>>,
    body: Vec<u8>,
    read_size: u8,
    fail_read_at: Option<(u16, u16)>,
    fail_write_from: Option<u8>,
    flush_packets: bool,
    flush_header: bool,
    use_server_errors: Option<u16>,
    fail_on_status: Option<u16>,
    script: Vec<Packet>,
}

// ---------------------------------------------------------------------------------------------
// The backend: a peer thread on a Unix socket
// ---------------------------------------------------------------------------------------------

/// The script the next connection plays (taken at accept: `None` afterwards).
static SCRIPT: Mutex<Option<Vec<u8>>> = Mutex::new(None);

struct Peer {
    /// What each connection received, once the module closed it.
    received: Mutex<mpsc::Receiver<Vec<u8>>>,
    runtime: Runtime,
}

fn peer() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mod_jk_rs-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path: PathBuf = dir.join("ajp.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("bind the peer's socket");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || serve_connections(listener, tx));
        let text = format!(
            "worker.list=w8k,w64k\n\
             worker.w8k.host=unix:{path}\n\
             worker.w8k.retries=1\n\
             worker.w8k.socket_timeout=10\n\
             worker.w8k.fail_on_status=502,-404\n\
             worker.w64k.reference=worker.w8k\n\
             worker.w64k.max_packet_size=65536\n",
            path = path.display()
        );
        let mut props = Properties::new();
        props
            .parse_str(&text, "fuzz")
            .expect("fuzz workers.properties");
        let workers = Workers::build(&props).expect("fuzz workers");
        let runtime = Runtime::new(workers, 1, None, None).expect("runtime");
        Peer {
            received: Mutex::new(rx),
            runtime,
        }
    })
}

/// Plays the current script to each connection, then reads what the module sends until it
/// closes the connection.
fn serve_connections(listener: UnixListener, received: mpsc::Sender<Vec<u8>>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let script = SCRIPT.lock().unwrap().take().unwrap_or_default();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let _ = stream.write_all(&script);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        if received.send(got).is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The script's bytes
// ---------------------------------------------------------------------------------------------

fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    let len = payload.len().min(0xFFFF);
    out.extend_from_slice(b"AB");
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&payload[..len]);
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    let s = &s[..s.len().min(0x9FFF)];
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

fn script_bytes(script: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in script {
        let mut p = Vec::new();
        match packet {
            Packet::Headers {
                status,
                reason,
                headers,
            } => {
                p.push(4);
                p.extend_from_slice(&status.to_be_bytes());
                string(&mut p, reason);
                p.extend_from_slice(&(headers.len() as u16).to_be_bytes());
                for (name, value) in headers {
                    match name {
                        HeaderName::Coded(c) => p.extend_from_slice(&[0xA0, *c]),
                        HeaderName::ContentLength => p.extend_from_slice(&[0xA0, 0x03]),
                        HeaderName::Named(n) => string(&mut p, n),
                    }
                    string(&mut p, value);
                }
            }
            Packet::Body(data) | Packet::BodyWithNul(data) => {
                let data = &data[..data.len().min(0xFFF0)];
                p.push(3);
                p.extend_from_slice(&(data.len() as u16).to_be_bytes());
                p.extend_from_slice(data);
                if matches!(packet, Packet::BodyWithNul(_)) {
                    p.push(0);
                }
            }
            Packet::Flush => p.extend_from_slice(&[3, 0, 0]),
            Packet::GetBody(n) => {
                p.push(6);
                p.extend_from_slice(&n.to_be_bytes());
            }
            Packet::End(reuse) => p.extend_from_slice(&[5, *reuse]),
            Packet::CPong => p.push(9),
            Packet::Payload(payload) => p.extend_from_slice(payload),
            Packet::Raw(raw) => {
                out.extend_from_slice(raw);
                continue;
            }
        }
        frame(&mut out, &p);
    }
    out
}

/// The body bytes of the SEND_BODY_CHUNK packets after the first SEND_HEADERS, read off the
/// script with a framing walk of its own (not the codec under test). The module stops at the
/// first packet it refuses, so what it relays must be a prefix of this.
fn expected_body(script: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut headers_seen = false;
    let mut at = 0;
    while let Some(head) = script.get(at..at + 4) {
        if head[..2] != *b"AB" {
            break;
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let Some(payload) = script.get(at + 4..at + 4 + len) else {
            break;
        };
        match payload.first() {
            Some(4) => headers_seen = true,
            Some(3) if headers_seen && payload.len() >= 3 => {
                let n = usize::from(u16::from_be_bytes([payload[1], payload[2]]));
                if let Some(data) = payload.get(3..3 + n) {
                    body.extend_from_slice(data);
                }
            }
            _ => {}
        }
        at += 4 + len;
    }
    body
}

/// The request body the module sent: the data of every packet after FORWARD_REQUEST (the
/// 0x12 0x34 framing, then a u16 length), read with a walk of its own.
fn forwarded_body(received: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut at = 0;
    let mut first = true;
    while let Some(head) = received.get(at..at + 4) {
        assert_eq!(
            head[..2],
            [0x12, 0x34],
            "module sent a packet without its magic"
        );
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let payload = received
            .get(at + 4..at + 4 + len)
            .expect("module sent a truncated packet");
        if !first && payload.len() >= 2 {
            let n = usize::from(u16::from_be_bytes([payload[0], payload[1]]));
            assert_eq!(n + 2, payload.len(), "body packet length field disagrees");
            body.extend_from_slice(&payload[2..]);
        }
        first = false;
        at += 4 + len;
    }
    assert_eq!(at, received.len(), "module sent a partial packet");
    body
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct FakeClient {
    body: Vec<u8>,
    read_pos: usize,
    read_size: usize,
    fail_read_at: Option<(usize, u16)>,
    fail_write_from: Option<usize>,
    headers: usize,
    status: u16,
    content_length: Option<Option<u64>>,
    written: Vec<u8>,
    writes: usize,
    write_failed: bool,
    flushes: usize,
    aborted: bool,
    /// Something was written or flushed before the headers were set.
    early: bool,
}

impl Client for FakeClient {
    fn for_each_header(&self, sink: &mut HeaderSink<'_, '_>) -> Result<(), EncodeError> {
        sink.header(b"Host", b"fuzz.test")?;
        sink.header(b"Cookie", b"JSESSIONID=abc.w8k")
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        let mut limit = self.body.len();
        if let Some((at, status)) = self.fail_read_at {
            if self.read_pos >= at {
                return Err(match status % 3 {
                    0 => ClientError::Gone,
                    1 => ClientError::AlreadyAnswered,
                    _ => ClientError::Read {
                        status: 400 + status % 100,
                        detail: "fuzz".into(),
                    },
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
        _reason: &[u8],
        headers: &SendHeaders<'_>,
        content_length: Option<u64>,
    ) -> Result<(), ClientError> {
        self.headers += 1;
        self.status = status;
        assert_eq!(headers.headers().count(), headers.len());
        let spelled = headers
            .get(b"content-length")
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok());
        // The exchange hands over the length it parsed and checked: the headers' own number.
        assert_eq!(content_length, spelled, "declared length handed to the client");
        self.content_length = Some(content_length);
        Ok(())
    }

    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError> {
        if self.headers == 0 {
            self.early = true;
        }
        let index = self.writes;
        self.writes += 1;
        if self.fail_write_from.is_some_and(|from| index >= from) {
            self.write_failed = true;
            return Err(ClientError::Gone);
        }
        self.written.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        if self.headers == 0 {
            self.early = true;
        }
        self.flushes += 1;
        Ok(())
    }

    fn abort(&mut self) {
        self.aborted = true;
    }

    fn set_routing_cookie(&mut self, _value: &str) {}

    fn log_enabled(&self, _level: Level) -> bool {
        true
    }

    fn log(&self, _level: Level, msg: fmt::Arguments<'_>) {
        // Formatting is part of the path under test (every argument's Display runs).
        let text = msg.to_string();
        if std::env::var_os("FUZZ_SHOW_LOG").is_some() {
            eprintln!("log: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

fuzz_target!(|input: Input| {
    let peer = peer();
    let script = script_bytes(&input.script);
    if script.len() > 150_000 {
        return; // keep within the socket buffers: the peer writes it all before reading
    }
    let expected = expected_body(&script);
    *SCRIPT.lock().unwrap() = Some(script);

    let method: &[u8] = match input.method {
        Method::Get => b"GET",
        Method::Head => b"HEAD",
        Method::Post => b"POST",
        Method::Put => b"PUT",
        Method::Options => b"OPTIONS",
        Method::Other => b"PATCH",
    };
    let body_kind = match input.body_kind {
        None => BodyKind::None,
        Some(None) => BodyKind::Chunked,
        Some(Some(0)) => BodyKind::None,
        Some(Some(n)) => BodyKind::Length(u64::from(n)),
    };
    let fail_on_status = input.fail_on_status.map(|s| [i32::from(s)]);
    let req = RequestInfo {
        method,
        protocol: b"HTTP/1.1",
        uri: b"/app/x",
        remote_addr: b"127.0.0.1",
        remote_port: b"5555",
        local_addr: b"127.0.0.1",
        server_name: b"fuzz.test",
        server_port: 80,
        body: body_kind,
        flush_packets: input.flush_packets,
        flush_header: input.flush_header,
        fail_on_status: fail_on_status.as_ref().map(|s| &s[..]),
        use_server_errors: input.use_server_errors,
        ..RequestInfo::default()
    };
    let mut client = FakeClient {
        body: input.body,
        read_size: usize::from(input.read_size).max(1),
        fail_read_at: input
            .fail_read_at
            .map(|(at, status)| (usize::from(at), status)),
        fail_write_from: input.fail_write_from.map(usize::from),
        ..FakeClient::default()
    };

    let name = if input.large_packets { "w64k" } else { "w8k" };
    let target = peer.runtime.target(name).expect("fuzz worker");
    let served = target.forward(&req, "/app/x", &[], &RequestHints::default(), &mut client);
    let outcome = served.outcome;
    let Target::Ajp(worker) = target else {
        unreachable!("plain workers only")
    };
    // Pooled connections are closed so the peer sees the end of each one.
    peer.runtime.close_idle_connections();
    // Taken: the peer accepted a connection in this run (only one: `retries=1`, and the pool
    // is empty at the start), and reports what it received once the module closed it.
    let connected = SCRIPT.lock().unwrap().take().is_none();

    // ---- Invariants ----
    assert!(
        !client.early,
        "body or flush before the headers: {outcome:?}"
    );
    assert!(client.headers <= 1, "headers set {} times", client.headers);
    match outcome {
        Outcome::Status(_) | Outcome::FilterError => {
            assert!(
                client.written.is_empty() && client.flushes == 0 && !client.aborted,
                "{outcome:?} after the response was committed ({} bytes, {} flushes, aborted {})",
                client.written.len(),
                client.flushes,
                client.aborted
            );
        }
        Outcome::Sent => {}
    }
    if client.aborted {
        assert_eq!(outcome, Outcome::Sent, "aborted but answered {outcome:?}");
    }
    assert!(
        expected.starts_with(&client.written),
        "relayed body is not a prefix of the script's body chunks"
    );
    if let Some(Some(limit)) = client.content_length {
        assert!(
            client.written.len() as u64 <= limit,
            "{} body bytes relayed past Content-Length {limit}",
            client.written.len()
        );
        let bodyless = method == b"HEAD"
            || client.status == 204
            || client.status == 304
            || (100..200).contains(&client.status);
        if outcome == Outcome::Sent
            && !client.aborted
            && !client.write_failed
            && !bodyless
            && client.flushes + client.writes > 0
        {
            assert_eq!(
                client.written.len() as u64,
                limit,
                "complete-looking response shorter than its Content-Length"
            );
        }
    }
    if let Some(record) = worker.record() {
        assert_eq!(
            record.busy.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "busy count not given back"
        );
    }
    // What reached the backend: only whole packets, and a prefix of the client's body.
    if connected {
        let got = peer
            .received
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .expect("the module never closed its backend connection");
        let sent = forwarded_body(&got);
        assert!(
            client.body.starts_with(&sent),
            "request body sent to the backend is not the client's"
        );
        if let BodyKind::Length(n) = body_kind {
            assert!(
                sent.len() as u64 <= n,
                "more request body than its Content-Length"
            );
        }
    }
});
