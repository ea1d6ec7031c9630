//! A fault-injecting AJP13 container: a small Tomcat stand-in for the integration tests and the demo.
//!
//! It speaks the container side of AJP13 (reference §6) on its own, without the crate's codec, so a
//! misreading of the protocol cannot hide in both ends at once. Connections are persistent (served
//! until EOF); CPING gets CPONG; request bodies are read the way Tomcat reads them (the first packet
//! arrives unsolicited when `content-length` > 0, the rest is asked for with GET_BODY_CHUNK; without
//! `content-length` the length is unknown and the body ends with an empty packet; `content-length: 0`
//! means no body). Malformed packets close the connection and are listed by
//! [`AjpBackend::protocol_errors`]. Every request is recorded before it is answered.
//!
//! The answer is chosen by the request's query string, so one backend serves every scenario.
//! Parameters combine; unknown ones are ignored; a bad value gets a 400 that names it.
//!
//! | parameter | effect |
//! |---|---|
//! | (none) | 200 `text/plain`, body = one `key=value` line per request detail (see [`RecordedRequest::echo`]), with Content-Length |
//! | `status=N`, `reason=TEXT` | status code; reason phrase (default from a small table) |
//! | `header=Name:Value` | add a response header (repeatable; `Content-Type` replaces the default) |
//! | `nocl=1` | omit Content-Length |
//! | `size=N` | body of N bytes of [`pattern_byte`] instead of the echo |
//! | `chunk=K` | SEND_BODY_CHUNK data size (default `max_packet - 8`, Tomcat's maximum) |
//! | `sleep=MS`, `sleepbody=MS` | sleep before answering (before any fault too); between headers and body |
//! | `flush=1` | an empty SEND_BODY_CHUNK (explicit flush) before every body chunk |
//! | `reuse=0` | END_RESPONSE with reuse=0, then close |
//! | `close=1` | END_RESPONSE with reuse=1, then close anyway (a stale pooled connection) |
//! | `strnames=1` | send every response header name as a string, never as a 0xA0xx code |
//! | `fault=reset` | read the request, close without any answer |
//! | `fault=garbage` | send non-AJP bytes, close |
//! | `fault=badmagic` | the SEND_HEADERS packet starts `BA` instead of `AB` (`12 34` would not do: httpd's mod_proxy_ajp accepts it) |
//! | `fault=oversize` | the SEND_HEADERS packet claims (and carries) `max_packet + 1` payload bytes |
//! | `fault=badchunk` | a SEND_BODY_CHUNK whose chunk length exceeds its payload (CVE-2006-7197) |
//! | `fault=truncated` | headers and half the body, then close |
//! | `fault=silent` | read the request (no GET_BODY_CHUNK), never answer; keep the socket open |
//! | `fault=badreuse` | END_RESPONSE reuse byte 0xFF |
//! | `fault=cpongless` | answer normally, then ignore CPINGs on this connection |
//! | `fault=badgetbody` | a GET_BODY_CHUNK asking for 0xFFFF bytes before the headers |
//! | `fault=twoheaders` | SEND_HEADERS twice |
//!
//! After `badmagic`, `oversize`, `badchunk`, `badreuse`, `badgetbody` and `twoheaders` the rest of
//! a normal answer follows and the connection keeps being served: a front end that wrongly accepts the
//! fault then shows a normal answer (or reuses the connection) instead of hanging until a timeout.

#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Packet size Tomcat and mod_jk use unless configured otherwise (AJP13 §framing).
pub const DEFAULT_MAX_PACKET: usize = 8192;

/// Accepted `max_packet` values. Tomcat's `packetSize` allows 8192..=65536; smaller sizes are
/// allowed here so tests can force many packets cheaply.
const MAX_PACKET_RANGE: std::ops::RangeInclusive<usize> = 1024..=65536;

const MAGIC_TO_CONTAINER: [u8; 2] = [0x12, 0x34];
const MAGIC_FROM_CONTAINER: [u8; 2] = [b'A', b'B'];
const PACKET_HEADER_LEN: usize = 4;
/// Largest payload a u16 length can describe.
const MAX_PAYLOAD: usize = 0xFFFF;

const FORWARD_REQUEST: u8 = 2;
const SEND_BODY_CHUNK: u8 = 3;
const SEND_HEADERS: u8 = 4;
const END_RESPONSE: u8 = 5;
const GET_BODY_CHUNK: u8 = 6;
const SHUTDOWN: u8 = 7;
const CPONG: u8 = 9;
const CPING: u8 = 10;

/// Method byte meaning "the real name is in the stored_method attribute" (mod_jk's SC_M_JK_STORED).
const STORED_METHOD: u8 = 0xFF;
const REQ_ATTRIBUTE: u8 = 0x0A;
const SSL_KEY_SIZE: u8 = 0x0B;
const ATTRIBUTES_END: u8 = 0xFF;

/// Method codes 1..=27 (AJP13 §FORWARD_REQUEST).
const METHODS: [&str; 27] = [
    "OPTIONS",
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "ACL",
    "REPORT",
    "VERSION-CONTROL",
    "CHECKIN",
    "CHECKOUT",
    "UNCHECKOUT",
    "SEARCH",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
];

/// Request header codes 0xA001..=0xA00E, recorded under these lower-case names.
const REQUEST_HEADERS: [&str; 14] = [
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "connection",
    "content-type",
    "content-length",
    "cookie",
    "cookie2",
    "host",
    "pragma",
    "referer",
    "user-agent",
];

/// Response header codes 0xA001..=0xA00B.
const RESPONSE_HEADERS: [&str; 11] = [
    "Content-Type",
    "Content-Language",
    "Content-Length",
    "Date",
    "Last-Modified",
    "Location",
    "Set-Cookie",
    "Set-Cookie2",
    "Servlet-Engine",
    "Status",
    "WWW-Authenticate",
];

/// Request attributes Tomcat (9.0.31+) accepts without `allowedRequestAttributesPattern`.
const KNOWN_REQ_ATTRIBUTES: [&str; 4] = [
    "AJP_REMOTE_PORT",
    "AJP_LOCAL_ADDR",
    "AJP_SSL_PROTOCOL",
    "JK_LB_ACTIVATION",
];

/// Byte `i` of every `size=N` body: a pattern whose period is not a power of two, so a dropped,
/// repeated or reordered block changes the hash.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(7).wrapping_add(i / 251) % 256) as u8
}

/// Lower-case hex SHA-256 of the first `n` pattern bytes, i.e. of a `size=n` body.
pub fn pattern_sha256(n: u64) -> String {
    let mut hasher = Sha256::new();
    let mut block = Vec::with_capacity(64 * 1024);
    let mut offset = 0;
    while offset < n {
        let len = (n - offset).min(64 * 1024);
        fill_pattern(offset, len as usize, &mut block);
        hasher.update(&block);
        offset += len;
    }
    hex(&hasher.finalize())
}

/// Lower-case hex SHA-256 of `data` (what `body_sha256` holds).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn fill_pattern(offset: u64, len: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend((offset..offset + len as u64).map(pattern_byte));
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    text
}

/// How the backend behaves beyond what the query string chooses per request.
#[derive(Debug, Default, Clone)]
pub struct BackendOptions {
    /// Like Tomcat's `secret` with `secretRequired`: a request whose secret attribute differs gets
    /// 403 and the connection is closed.
    pub required_secret: Option<String>,
    /// AJP packet size, header included (Tomcat `packetSize`); 0 means [`DEFAULT_MAX_PACKET`].
    pub max_packet: usize,
    /// Each accepted connection waits this long before the backend first reads from it (an
    /// overloaded container: connect succeeds, CPING/request answers are late).
    pub accept_delay: Option<Duration>,
    /// Close a connection that stays idle between requests this long (Tomcat `connectionTimeout`),
    /// leaving a stale connection in the front end's pool.
    pub idle_timeout: Option<Duration>,
    /// Ignore every CPING from the start (see also [`AjpBackend::set_ignore_cping`]).
    pub ignore_cping: bool,
    /// Like Tomcat 9.0.31+: a req_attribute (0x0A) whose name is neither one of Tomcat's known ones
    /// (`AJP_REMOTE_PORT`, `AJP_LOCAL_ADDR`, `AJP_SSL_PROTOCOL`, `JK_LB_ACTIVATION`) nor listed in
    /// `allowed_attributes` gets 403 and the connection is closed.
    pub reject_unknown_attributes: bool,
    /// Extra req_attribute names accepted when `reject_unknown_attributes` is set (exact names; Tomcat
    /// uses a regular expression, `allowedRequestAttributesPattern`).
    pub allowed_attributes: Vec<String>,
}

/// One request as the backend received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Serial number of the connection it arrived on (1 for the first accepted connection).
    pub connection: usize,
    /// Method name; for method byte 0xFF the stored_method attribute.
    pub method: String,
    pub method_code: u8,
    pub protocol: String,
    pub uri: String,
    pub remote_addr: String,
    pub remote_host: Option<String>,
    pub server_name: String,
    pub server_port: u16,
    pub is_ssl: bool,
    /// In arrival order; coded names recorded lower-case (`content-length`), string names as sent.
    pub headers: Vec<(String, String)>,
    /// In arrival order: `context`, `servlet_path`, `remote_user`, `auth_type`, `query_string`,
    /// `route`, `ssl_cert`, `ssl_cipher`, `ssl_session`, `ssl_key_size` (decimal), `secret`,
    /// `stored_method`, and req_attribute (0x0A) names as sent (`AJP_REMOTE_PORT`).
    pub attributes: Vec<(String, String)>,
    pub body_len: u64,
    /// Lower-case hex SHA-256 of the body bytes received.
    pub body_sha256: String,
    /// Body packets received, the empty end-of-body packet included.
    pub body_packets: usize,
    /// The first body packet came unsolicited right after FORWARD_REQUEST (content-length > 0).
    pub initial_body_packet: bool,
    /// An empty body packet (end of body, or "client gone" when content-length was announced) came.
    pub empty_body_packet: bool,
}

impl RecordedRequest {
    /// First header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// First attribute with exactly this name (see [`RecordedRequest::attributes`]).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The query_string attribute.
    pub fn query(&self) -> Option<&str> {
        self.attribute("query_string")
    }

    /// The default answer's body: `backend=`, `method=`, `uri=`, `query=`, `protocol=`,
    /// `remote_addr=`, `server_name=`, `server_port=`, `is_ssl=`, `body_len=`, `body_sha256=`, then
    /// `header.<name>=<value>` per header and `attr.<name>=<value>` per attribute, one per line.
    /// CR and LF inside values (a PEM ssl_cert) are written as `\r` and `\n` to keep one per line.
    pub fn echo(&self, backend_name: &str) -> String {
        let mut lines = vec![
            format!("backend={backend_name}"),
            format!("method={}", self.method),
            format!("uri={}", self.uri),
            format!("query={}", self.query().unwrap_or("")),
            format!("protocol={}", self.protocol),
            format!("remote_addr={}", self.remote_addr),
            format!("server_name={}", self.server_name),
            format!("server_port={}", self.server_port),
            format!("is_ssl={}", self.is_ssl),
            format!("body_len={}", self.body_len),
            format!("body_sha256={}", self.body_sha256),
        ];
        lines.extend(
            self.headers
                .iter()
                .map(|(n, v)| format!("header.{n}={}", one_line(v))),
        );
        lines.extend(
            self.attributes
                .iter()
                .map(|(n, v)| format!("attr.{n}={}", one_line(v))),
        );
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

fn one_line(value: &str) -> String {
    value.replace('\r', "\\r").replace('\n', "\\n")
}

/// A running backend; it serves on background threads until [`AjpBackend::stop`] or drop.
pub struct AjpBackend {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl AjpBackend {
    /// Binds 127.0.0.1 on a free port with default options. `name` is echoed in every answer (like a
    /// jvmRoute).
    pub fn start(name: &str) -> io::Result<AjpBackend> {
        let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        AjpBackend::start_on(loopback, name, BackendOptions::default())
    }

    /// Binds `addr` (port 0 = any free port) and serves until stopped.
    pub fn start_on(
        addr: SocketAddr,
        name: &str,
        options: BackendOptions,
    ) -> io::Result<AjpBackend> {
        let max_packet = if options.max_packet == 0 {
            DEFAULT_MAX_PACKET
        } else {
            options.max_packet
        };
        if !MAX_PACKET_RANGE.contains(&max_packet) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("max_packet {max_packet} outside {MAX_PACKET_RANGE:?}"),
            ));
        }
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            name: name.to_string(),
            max_packet,
            stopping: AtomicBool::new(false),
            ignore_cping: AtomicBool::new(options.ignore_cping),
            options,
            accepted: AtomicUsize::new(0),
            cpings: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            protocol_errors: Mutex::new(Vec::new()),
            open: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("ajp-backend-{name}"))
            .spawn(move || accept_loop(listener, acceptor_shared))?;
        Ok(AjpBackend {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Everything received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests and protocol errors (counters keep counting).
    pub fn clear(&self) {
        lock(&self.shared.requests).clear();
        lock(&self.shared.protocol_errors).clear();
    }

    /// Waits until at least `count` requests are recorded; false if `timeout` passed first.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.requests).len() >= count {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Connections accepted since start (to check connection reuse).
    pub fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections currently open (to check that the front end closed one after an error).
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.open).len()
    }

    /// CPING packets received (answered or ignored).
    pub fn cpings(&self) -> usize {
        self.shared.cpings.load(Ordering::SeqCst)
    }

    /// Ignore (true) or answer (false) CPINGs on every connection from now on.
    pub fn set_ignore_cping(&self, ignore: bool) {
        self.shared.ignore_cping.store(ignore, Ordering::SeqCst);
    }

    /// Why connections were closed as malformed, one line each (`connection 3: bad magic 41 42`).
    /// Empty when the front end never sent anything the backend had to reject.
    pub fn protocol_errors(&self) -> Vec<String> {
        lock(&self.shared.protocol_errors).clone()
    }

    /// Stops accepting, closes every open connection and waits for the serving threads.
    pub fn stop(self) {
        // Drop does the work.
    }

    fn shutdown(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The accept loop blocks in accept(); one connection wakes it to see the stop flag.
        let _ = TcpStream::connect_timeout(&wake_address(self.addr), Duration::from_secs(2));
        let _ = acceptor.join();
        for (_, stream) in lock(&self.shared.open).iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for AjpBackend {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where to connect to reach a listener bound to `addr` (a wildcard bind is reached via loopback).
fn wake_address(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

struct Shared {
    name: String,
    options: BackendOptions,
    max_packet: usize,
    stopping: AtomicBool,
    ignore_cping: AtomicBool,
    accepted: AtomicUsize,
    cpings: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
    protocol_errors: Mutex<Vec<String>>,
    /// Clones of the open connections, so stop() can close them under their threads.
    open: Mutex<Vec<(usize, TcpStream)>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` unless the backend stops first; false when it stopped.
    fn nap(&self, duration: Duration) -> bool {
        let end = Instant::now() + duration;
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(Duration::from_millis(10)));
        }
    }
}

/// A poisoned lock only means a test thread panicked; the data is still worth reading.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for incoming in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = incoming else {
            // EMFILE and friends: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let serial = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = stream.set_nodelay(true);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).push((serial, clone));
        }
        let worker_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("ajp-backend-conn-{serial}"))
            .spawn(move || {
                serve_connection(&worker_shared, stream, serial);
                lock(&worker_shared.open).retain(|(n, _)| *n != serial);
            });
        match spawned {
            Ok(handle) => {
                let mut workers = lock(&shared.workers);
                workers.retain(|w| !w.is_finished());
                workers.push(handle);
            }
            Err(_) => lock(&shared.open).retain(|(n, _)| *n != serial),
        }
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream, serial: usize) {
    if let Some(delay) = shared.options.accept_delay {
        if !shared.nap(delay) {
            return;
        }
    }
    let mut connection = Connection {
        shared,
        stream,
        serial,
        ignore_cping: false,
    };
    if let Err(ConnError::Protocol(why)) = connection.serve() {
        // A packet cut short by stop() is our doing, not the peer's.
        if !shared.stopping() {
            lock(&shared.protocol_errors).push(format!("connection {serial}: {why}"));
        }
    }
    let _ = connection.stream.shutdown(Shutdown::Both);
}

enum ConnError {
    /// The peer went away or the socket failed: close quietly.
    Io(io::Error),
    /// The peer broke the protocol (or an answer could not be encoded): close and report.
    Protocol(String),
}

impl From<io::Error> for ConnError {
    fn from(error: io::Error) -> Self {
        ConnError::Io(error)
    }
}

fn protocol<T>(why: impl Into<String>) -> Result<T, ConnError> {
    Err(ConnError::Protocol(why.into()))
}

/// What happens to the connection once an answer is out.
#[derive(PartialEq)]
enum AfterAnswer {
    KeepServing,
    Close,
}

struct Connection<'a> {
    shared: &'a Shared,
    stream: TcpStream,
    serial: usize,
    /// Set by `fault=cpongless`.
    ignore_cping: bool,
}

impl Connection<'_> {
    fn serve(&mut self) -> Result<(), ConnError> {
        loop {
            self.stream
                .set_read_timeout(self.shared.options.idle_timeout)?;
            let Some(payload) = self.read_packet()? else {
                return Ok(());
            };
            self.stream.set_read_timeout(None)?;
            match payload.first().copied() {
                Some(CPING) if payload.len() == 1 => {
                    self.shared.cpings.fetch_add(1, Ordering::SeqCst);
                    if !self.ignore_cping && !self.shared.ignore_cping.load(Ordering::SeqCst) {
                        self.stream.write_all(&Packet::new(CPONG).finish()?)?;
                    }
                }
                Some(FORWARD_REQUEST) => {
                    if self.serve_request(&payload)? == AfterAnswer::Close {
                        return Ok(());
                    }
                }
                Some(SHUTDOWN) => return protocol("SHUTDOWN packet (refused, as Tomcat does)"),
                Some(code) => {
                    return protocol(format!(
                        "packet type {code} ({} bytes) where a request was expected",
                        payload.len()
                    ))
                }
                None => return protocol("empty packet where a request was expected"),
            }
        }
    }

    /// Next web-server-to-container packet's payload; None on EOF between packets.
    fn read_packet(&mut self) -> Result<Option<Vec<u8>>, ConnError> {
        let mut header = [0u8; PACKET_HEADER_LEN];
        let mut filled = 0;
        while filled < header.len() {
            match self.stream.read(&mut header[filled..]) {
                Ok(0) if filled == 0 => return Ok(None),
                Ok(0) => return protocol("connection closed inside a packet header"),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let [m0, m1, l0, l1] = header;
        if [m0, m1] != MAGIC_TO_CONTAINER {
            return protocol(format!("bad magic {m0:02x} {m1:02x}"));
        }
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if len > self.shared.max_packet - PACKET_HEADER_LEN {
            return protocol(format!(
                "packet payload of {len} bytes exceeds max_packet {}",
                self.shared.max_packet
            ));
        }
        let mut payload = vec![0; len];
        match self.stream.read_exact(&mut payload) {
            Ok(()) => Ok(Some(payload)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                protocol("connection closed inside a packet")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A request body packet's data (empty = end of body).
    fn read_body_packet(&mut self) -> Result<Vec<u8>, ConnError> {
        let Some(payload) = self.read_packet()? else {
            return Err(ConnError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed instead of sending a body packet",
            )));
        };
        if payload.is_empty() {
            return Ok(payload);
        }
        let Some((length, data)) = payload.split_first_chunk::<2>() else {
            return protocol("body packet of 1 byte");
        };
        let declared = usize::from(u16::from_be_bytes(*length));
        if declared != data.len() {
            return protocol(format!(
                "body packet declares {declared} bytes but carries {}",
                data.len()
            ));
        }
        Ok(data.to_vec())
    }

    fn serve_request(&mut self, payload: &[u8]) -> Result<AfterAnswer, ConnError> {
        let (mut request, req_attribute_names) =
            decode_forward_request(payload, self.serial).map_err(ConnError::Protocol)?;
        let plan = ResponsePlan::from_query(request.query().unwrap_or(""));
        // `silent` must not send even a GET_BODY_CHUNK.
        let may_ask_for_body = !matches!(&plan, Ok(p) if p.fault == Some(Fault::Silent));
        let content_length = match request.header("content-length") {
            None => None,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => return protocol(format!("content-length {text:?} is not a number")),
            },
        };
        self.read_body(&mut request, content_length, may_ask_for_body)?;
        lock(&self.shared.requests).push(request.clone());

        if let Some(required) = &self.shared.options.required_secret {
            if request.attribute("secret") != Some(required.as_str()) {
                return self.refuse(403, "secret mismatch");
            }
        }
        if self.shared.options.reject_unknown_attributes {
            if let Some(name) = self.unknown_req_attribute(&req_attribute_names) {
                return self.refuse(403, &format!("request attribute {name} not allowed"));
            }
        }
        match plan {
            Ok(plan) => self.answer(&request, &plan),
            Err(why) => {
                self.send_plain(400, &format!("bad query: {why}\n"), true)?;
                Ok(AfterAnswer::KeepServing)
            }
        }
    }

    /// Reads the body the way Tomcat does (AJP13 §6.5) into the record's body fields.
    fn read_body(
        &mut self,
        request: &mut RecordedRequest,
        content_length: Option<u64>,
        may_ask: bool,
    ) -> Result<(), ConnError> {
        let mut hasher = Sha256::new();
        let ask = (self.shared.max_packet - 6) as u16;
        // Only an announced, non-empty body has its first packet sent unasked.
        let mut unasked = content_length.is_some();
        loop {
            if content_length.is_some_and(|expected| request.body_len >= expected) {
                break;
            }
            if !unasked {
                if !may_ask {
                    break;
                }
                self.send_get_body_chunk(ask)?;
            }
            let data = self.read_body_packet()?;
            request.initial_body_packet |= unasked;
            unasked = false;
            request.body_packets += 1;
            if data.is_empty() {
                // End of an unknown-length body, or (content-length announced) the client went
                // away: mod_jk's CVE-2008-5519 fix sends an empty packet then.
                request.empty_body_packet = true;
                break;
            }
            request.body_len += data.len() as u64;
            hasher.update(&data);
        }
        if let Some(expected) = content_length.filter(|&n| request.body_len > n) {
            return protocol(format!(
                "{} body bytes for content-length {expected}",
                request.body_len
            ));
        }
        request.body_sha256 = hex(&hasher.finalize());
        Ok(())
    }

    fn unknown_req_attribute<'r>(&self, names: &'r [String]) -> Option<&'r str> {
        let allowed = &self.shared.options.allowed_attributes;
        names
            .iter()
            .map(String::as_str)
            .find(|name| !KNOWN_REQ_ATTRIBUTES.contains(name) && !allowed.iter().any(|a| a == name))
    }

    /// Tomcat's answer to a forbidden request: 403, then the connection is closed.
    fn refuse(&mut self, status: u16, why: &str) -> Result<AfterAnswer, ConnError> {
        self.send_plain(status, &format!("{why}\n"), false)?;
        Ok(AfterAnswer::Close)
    }

    /// A complete short text answer of the backend's own (not chosen by the query string).
    fn send_plain(&mut self, status: u16, text: &str, reuse: bool) -> Result<(), ConnError> {
        let headers = self.standard_headers("text/plain", Some(text.len() as u64));
        let reason = reason_phrase(status);
        self.send_headers(status, reason, &headers, false, MAGIC_FROM_CONTAINER)?;
        self.send_body(&Body::Text(text.as_bytes().to_vec()), None, false, false)?;
        self.send_end(u8::from(reuse))
    }

    fn answer(
        &mut self,
        request: &RecordedRequest,
        plan: &ResponsePlan,
    ) -> Result<AfterAnswer, ConnError> {
        // Before the faults too: `sleep=500&fault=reset` is a container dying mid-request.
        if let Some(sleep) = plan.sleep {
            if !self.shared.nap(sleep) {
                return Ok(AfterAnswer::Close);
            }
        }
        match plan.fault {
            Some(Fault::Reset) => return Ok(AfterAnswer::Close),
            Some(Fault::Silent) => {
                self.wait_for_peer_close();
                return Ok(AfterAnswer::Close);
            }
            Some(Fault::Garbage) => {
                self.stream.write_all(
                    b"HTTP/1.1 502 Not AJP\r\nContent-Length: 0\r\n\r\nnot an AJP packet",
                )?;
                return Ok(AfterAnswer::Close);
            }
            Some(Fault::CpongLess) => self.ignore_cping = true,
            _ => {}
        }
        let body = match plan.size {
            Some(n) => Body::Pattern(n),
            None => Body::Text(request.echo(&self.shared.name).into_bytes()),
        };
        // As Tomcat: HEAD keeps the Content-Length of the body it does not send; 204/304 have none.
        let bodiless_status = plan.status == 204 || plan.status == 304;
        let send_body = request.method != "HEAD" && !bodiless_status;
        let content_length = (!plan.no_content_length && !bodiless_status).then(|| body.len());
        let content_type = match body {
            Body::Pattern(_) => "application/octet-stream",
            Body::Text(_) => "text/plain",
        };
        let mut headers = self.standard_headers(content_type, content_length);
        for (name, value) in &plan.headers {
            let replaces_default_type = name.eq_ignore_ascii_case("content-type");
            match headers.first_mut() {
                Some(default_type) if replaces_default_type => default_type.1 = value.clone(),
                _ => headers.push((name.clone(), value.clone())),
            }
        }
        let reason = plan
            .reason
            .as_deref()
            .unwrap_or_else(|| reason_phrase(plan.status));

        if plan.fault == Some(Fault::BadGetBody) {
            self.stream
                .write_all(&Packet::new(GET_BODY_CHUNK).u16(0xFFFF).finish()?)?;
        }
        // Byte-swapped: a magic that no AJP13 peer accepts.
        let magic = match plan.fault {
            Some(Fault::BadMagic) => [b'B', b'A'],
            _ => MAGIC_FROM_CONTAINER,
        };
        if plan.fault == Some(Fault::Oversize) {
            let claimed = (self.shared.max_packet + 1).min(MAX_PAYLOAD);
            let packet =
                self.headers_packet(plan.status, reason, &headers, plan.string_names, claimed)?;
            self.stream.write_all(&packet)?;
        } else {
            self.send_headers(plan.status, reason, &headers, plan.string_names, magic)?;
        }
        if plan.fault == Some(Fault::TwoHeaders) {
            self.send_headers(
                plan.status,
                reason,
                &headers,
                plan.string_names,
                MAGIC_FROM_CONTAINER,
            )?;
        }
        if let Some(sleep) = plan.sleep_body {
            if !self.shared.nap(sleep) {
                return Ok(AfterAnswer::Close);
            }
        }
        if send_body {
            match plan.fault {
                Some(Fault::BadChunk) => {
                    let data = b"chunk shorter than it claims";
                    let packet = Packet::new(SEND_BODY_CHUNK)
                        .u16(data.len() as u16 + 1000)
                        .bytes(data)
                        .byte(0)
                        .finish()?;
                    self.stream.write_all(&packet)?;
                }
                Some(Fault::Truncated) => {
                    self.send_body(&body, plan.chunk, plan.flush, true)?;
                    return Ok(AfterAnswer::Close);
                }
                _ => self.send_body(&body, plan.chunk, plan.flush, false)?,
            }
        } else if plan.fault == Some(Fault::Truncated) {
            return Ok(AfterAnswer::Close);
        }
        let reuse = match plan.fault {
            Some(Fault::BadReuse) => 0xFF,
            _ => u8::from(plan.reuse),
        };
        self.send_end(reuse)?;
        if plan.reuse && !plan.close {
            Ok(AfterAnswer::KeepServing)
        } else {
            Ok(AfterAnswer::Close)
        }
    }

    /// Content-Type, Content-Length (when known) and the two headers naming this backend and
    /// connection, so a client-side test can tell who answered and whether a connection was reused.
    fn standard_headers(
        &self,
        content_type: &str,
        content_length: Option<u64>,
    ) -> Vec<(String, String)> {
        let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
        if let Some(n) = content_length {
            headers.push(("Content-Length".to_string(), n.to_string()));
        }
        headers.push(("X-Backend".to_string(), self.shared.name.clone()));
        headers.push(("X-Backend-Connection".to_string(), self.serial.to_string()));
        headers
    }

    fn send_headers(
        &mut self,
        status: u16,
        reason: &str,
        headers: &[(String, String)],
        string_names: bool,
        magic: [u8; 2],
    ) -> Result<(), ConnError> {
        let mut packet = self.headers_packet(status, reason, headers, string_names, 0)?;
        if let Some(first) = packet.first_chunk_mut::<2>() {
            *first = magic;
        }
        self.stream.write_all(&packet)?;
        Ok(())
    }

    /// SEND_HEADERS; with `pad_to_payload` > 0 an X-Padding header grows the payload to that size.
    fn headers_packet(
        &self,
        status: u16,
        reason: &str,
        headers: &[(String, String)],
        string_names: bool,
        pad_to_payload: usize,
    ) -> Result<Vec<u8>, ConnError> {
        let encode = |padding: usize| {
            let count = headers.len() + usize::from(pad_to_payload > 0);
            let mut packet = Packet::new(SEND_HEADERS)
                .u16(status)
                .string(reason)
                .u16(count as u16);
            for (name, value) in headers {
                packet = match response_header_code(name).filter(|_| !string_names) {
                    Some(code) => packet.u16(code),
                    None => packet.string(name),
                };
                packet = packet.string(value);
            }
            if pad_to_payload > 0 {
                packet = packet.string("X-Padding").string(&"p".repeat(padding));
            }
            packet
        };
        let unpadded = encode(0);
        let padding = pad_to_payload.saturating_sub(unpadded.payload_len());
        if padding == 0 {
            unpadded.finish()
        } else {
            encode(padding).finish()
        }
    }

    /// SEND_BODY_CHUNKs of `chunk` bytes (default Tomcat's maximum, max_packet - 8); `truncated`
    /// stops after half the body.
    fn send_body(
        &mut self,
        body: &Body,
        chunk: Option<usize>,
        flush: bool,
        truncated: bool,
    ) -> Result<(), ConnError> {
        // The 8 bytes: packet header, type, chunk length and Tomcat's trailing NUL.
        let chunk = chunk
            .unwrap_or(self.shared.max_packet - 8)
            .clamp(1, MAX_PAYLOAD - 4);
        let total = if truncated {
            body.len() / 2
        } else {
            body.len()
        };
        let mut data = Vec::with_capacity(chunk);
        let mut sent = 0;
        while sent < total {
            let len = (total - sent).min(chunk as u64) as usize;
            if flush {
                self.stream
                    .write_all(&Packet::new(SEND_BODY_CHUNK).u16(0).byte(0).finish()?)?;
            }
            body.fill(sent, len, &mut data);
            let packet = Packet::new(SEND_BODY_CHUNK)
                .u16(len as u16)
                .bytes(&data)
                .byte(0)
                .finish()?;
            self.stream.write_all(&packet)?;
            sent += len as u64;
        }
        Ok(())
    }

    fn send_end(&mut self, reuse: u8) -> Result<(), ConnError> {
        self.stream
            .write_all(&Packet::new(END_RESPONSE).byte(reuse).finish()?)?;
        Ok(())
    }

    fn send_get_body_chunk(&mut self, len: u16) -> Result<(), ConnError> {
        self.stream
            .write_all(&Packet::new(GET_BODY_CHUNK).u16(len).finish()?)?;
        Ok(())
    }

    /// Swallows whatever arrives until the peer closes or stop() shuts the socket.
    fn wait_for_peer_close(&mut self) {
        let mut sink = [0u8; 4096];
        while let Ok(n) = self.stream.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
    }
}

/// Container-to-web-server packet under construction: `AB`, length, payload.
struct Packet {
    bytes: Vec<u8>,
}

impl Packet {
    fn new(code: u8) -> Packet {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&MAGIC_FROM_CONTAINER);
        bytes.extend_from_slice(&[0, 0, code]);
        Packet { bytes }
    }

    fn byte(mut self, value: u8) -> Packet {
        self.bytes.push(value);
        self
    }

    fn u16(mut self, value: u16) -> Packet {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn bytes(mut self, data: &[u8]) -> Packet {
        self.bytes.extend_from_slice(data);
        self
    }

    /// AJP string: u16 length, bytes, NUL. Over-long strings are caught by `finish`.
    fn string(self, text: &str) -> Packet {
        self.u16(text.len().min(0xFFFE) as u16)
            .bytes(text.as_bytes())
            .byte(0)
    }

    fn payload_len(&self) -> usize {
        self.bytes.len() - PACKET_HEADER_LEN
    }

    fn finish(mut self) -> Result<Vec<u8>, ConnError> {
        let len = self.payload_len();
        let Ok(len) = u16::try_from(len) else {
            return protocol(format!(
                "answer packet of {len} bytes does not fit AJP framing"
            ));
        };
        if let Some(field) = self.bytes.get_mut(2..4) {
            field.copy_from_slice(&len.to_be_bytes());
        }
        Ok(self.bytes)
    }
}

fn response_header_code(name: &str) -> Option<u16> {
    RESPONSE_HEADERS
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name))
        .map(|i| 0xA001 + i as u16)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Response body source.
enum Body {
    Text(Vec<u8>),
    /// `size=N`: N bytes of `pattern_byte`.
    Pattern(u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Text(bytes) => bytes.len() as u64,
            Body::Pattern(n) => *n,
        }
    }

    fn fill(&self, offset: u64, len: usize, out: &mut Vec<u8>) {
        match self {
            Body::Text(bytes) => {
                out.clear();
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                out.extend(bytes.iter().skip(start).take(len));
            }
            Body::Pattern(_) => fill_pattern(offset, len, out),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Reset,
    Garbage,
    BadMagic,
    Oversize,
    BadChunk,
    Truncated,
    Silent,
    BadReuse,
    CpongLess,
    BadGetBody,
    TwoHeaders,
}

impl Fault {
    fn parse(name: &str) -> Option<Fault> {
        Some(match name {
            "reset" => Fault::Reset,
            "garbage" => Fault::Garbage,
            "badmagic" => Fault::BadMagic,
            "oversize" => Fault::Oversize,
            "badchunk" => Fault::BadChunk,
            "truncated" => Fault::Truncated,
            "silent" => Fault::Silent,
            "badreuse" => Fault::BadReuse,
            "cpongless" => Fault::CpongLess,
            "badgetbody" => Fault::BadGetBody,
            "twoheaders" => Fault::TwoHeaders,
            _ => return None,
        })
    }
}

/// The answer a request's query string asks for (see the module docs).
#[derive(Debug, Clone, PartialEq)]
struct ResponsePlan {
    status: u16,
    reason: Option<String>,
    headers: Vec<(String, String)>,
    no_content_length: bool,
    size: Option<u64>,
    chunk: Option<usize>,
    sleep: Option<Duration>,
    sleep_body: Option<Duration>,
    flush: bool,
    reuse: bool,
    close: bool,
    string_names: bool,
    fault: Option<Fault>,
}

impl ResponsePlan {
    fn from_query(query: &str) -> Result<ResponsePlan, String> {
        let mut plan = ResponsePlan {
            status: 200,
            reason: None,
            headers: Vec::new(),
            no_content_length: false,
            size: None,
            chunk: None,
            sleep: None,
            sleep_body: None,
            flush: false,
            reuse: true,
            close: false,
            string_names: false,
            fault: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            let number = |what: &str| {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{what}={value:?} is not a number"))
            };
            match percent_decode(key).as_str() {
                "status" => {
                    plan.status = number("status")?
                        .try_into()
                        .ok()
                        .filter(|s| (100..=999).contains(s))
                        .ok_or_else(|| format!("status={value} is not 100..=999"))?;
                }
                "reason" => plan.reason = Some(value.clone()),
                "header" => {
                    let (name, text) = value
                        .split_once(':')
                        .ok_or_else(|| format!("header={value:?} has no ':'"))?;
                    plan.headers
                        .push((name.trim().to_string(), text.trim_start().to_string()));
                }
                "nocl" => plan.no_content_length = flag("nocl", &value)?,
                "size" => plan.size = Some(number("size")?),
                "chunk" => {
                    plan.chunk = Some(
                        usize::try_from(number("chunk")?)
                            .ok()
                            .filter(|&k| k > 0)
                            .ok_or_else(|| format!("chunk={value} must be at least 1"))?,
                    )
                }
                "sleep" => plan.sleep = Some(Duration::from_millis(number("sleep")?)),
                "sleepbody" => plan.sleep_body = Some(Duration::from_millis(number("sleepbody")?)),
                "flush" => plan.flush = flag("flush", &value)?,
                "reuse" => plan.reuse = flag("reuse", &value)?,
                "close" => plan.close = flag("close", &value)?,
                "strnames" => plan.string_names = flag("strnames", &value)?,
                "fault" => {
                    plan.fault =
                        Some(Fault::parse(&value).ok_or_else(|| format!("unknown fault={value}"))?)
                }
                _ => {}
            }
        }
        Ok(plan)
    }
}

fn flag(what: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" | "yes" | "on" | "" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{what}={value:?} is not 0 or 1")),
    }
}

/// Query-string decoding: `%XX` and `+` for space; a stray `%` stays as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = match (byte, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match (escaped, byte) {
            (Some((hi, lo)), _) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|v| v as u8)
}

/// Reads web-server-to-container payload fields (AJP13 §data types).
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn byte(&mut self, what: &str) -> Result<u8, String> {
        let value = self
            .data
            .get(self.pos)
            .copied()
            .ok_or_else(|| format!("packet ends before {what}"))?;
        self.pos += 1;
        Ok(value)
    }

    fn peek_u16(&self) -> Option<u16> {
        let bytes = self.data.get(self.pos..self.pos + 2)?;
        Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let value = self
            .peek_u16()
            .ok_or_else(|| format!("packet ends inside {what}"))?;
        self.pos += 2;
        Ok(value)
    }

    /// AJP string; None for the null string (length 0xFFFF).
    fn string(&mut self, what: &str) -> Result<Option<String>, String> {
        let len = self.u16(what)?;
        if len == 0xFFFF {
            return Ok(None);
        }
        let end = self.pos + usize::from(len);
        let text = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| format!("{what} of {len} bytes runs past the packet"))?;
        match self.data.get(end) {
            Some(0) => {}
            Some(other) => return Err(format!("{what} ends with {other:#04x} instead of NUL")),
            None => return Err(format!("{what} lacks its NUL")),
        }
        self.pos = end + 1;
        Ok(Some(String::from_utf8_lossy(text).into_owned()))
    }

    fn required_string(&mut self, what: &str) -> Result<String, String> {
        self.string(what)?
            .ok_or_else(|| format!("{what} is the null string"))
    }

    fn rest(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

/// FORWARD_REQUEST (AJP13 §6.3, with mod_jk's divergences §6.6: method 0xFF, u16 ssl_key_size).
/// Body fields are left empty for `read_body`; the second value lists the req_attribute (0x0A) names.
fn decode_forward_request(
    payload: &[u8],
    connection: usize,
) -> Result<(RecordedRequest, Vec<String>), String> {
    let mut fields = Fields {
        data: payload,
        pos: 0,
    };
    if fields.byte("type")? != FORWARD_REQUEST {
        return Err("not a FORWARD_REQUEST".to_string());
    }
    let method_code = fields.byte("method")?;
    let protocol = fields.string("protocol")?.unwrap_or_default();
    let uri = fields.required_string("req_uri")?;
    let remote_addr = fields.string("remote_addr")?.unwrap_or_default();
    let remote_host = fields.string("remote_host")?;
    let server_name = fields.string("server_name")?.unwrap_or_default();
    let server_port = fields.u16("server_port")?;
    let is_ssl = match fields.byte("is_ssl")? {
        0 => false,
        1 => true,
        other => return Err(format!("is_ssl byte {other:#04x}")),
    };
    let header_count = fields.u16("num_headers")?;
    let mut headers = Vec::with_capacity(usize::from(header_count));
    for index in 0..header_count {
        let what = format!("header {index}");
        let coded = fields.peek_u16().filter(|n| n >> 8 == 0xA0);
        let name = match coded {
            Some(code) => {
                fields.u16(&what)?;
                REQUEST_HEADERS
                    .get(usize::from(code & 0xFF).wrapping_sub(1))
                    .ok_or_else(|| format!("unknown request header code {code:#06x}"))?
                    .to_string()
            }
            None => fields.required_string(&format!("{what} name"))?,
        };
        let value = fields.required_string(&format!("{what} value ({name})"))?;
        headers.push((name, value));
    }
    let mut attributes = Vec::new();
    let mut req_attribute_names = Vec::new();
    loop {
        let code = fields.byte("attribute code (or 0xFF)")?;
        let attribute = match code {
            ATTRIBUTES_END => break,
            REQ_ATTRIBUTE => {
                let name = fields.required_string("req_attribute name")?;
                let value = fields.required_string(&format!("req_attribute {name} value"))?;
                req_attribute_names.push(name.clone());
                (name, value)
            }
            SSL_KEY_SIZE => (
                "ssl_key_size".to_string(),
                fields.u16("ssl_key_size")?.to_string(),
            ),
            _ => {
                let name = attribute_name(code)
                    .ok_or_else(|| format!("unknown attribute code {code:#04x}"))?;
                (name.to_string(), fields.required_string(name)?)
            }
        };
        attributes.push(attribute);
    }
    if fields.rest() > 0 {
        return Err(format!(
            "{} bytes after the attribute terminator",
            fields.rest()
        ));
    }
    let method = if method_code == STORED_METHOD {
        attributes
            .iter()
            .find(|(n, _)| n == "stored_method")
            .map(|(_, v)| v.clone())
            .ok_or("method byte 0xFF without a stored_method attribute")?
    } else {
        METHODS
            .get(usize::from(method_code).wrapping_sub(1))
            .ok_or_else(|| format!("unknown method code {method_code}"))?
            .to_string()
    };
    let request = RecordedRequest {
        connection,
        method,
        method_code,
        protocol,
        uri,
        remote_addr,
        remote_host,
        server_name,
        server_port,
        is_ssl,
        headers,
        attributes,
        body_len: 0,
        body_sha256: sha256_hex(b""),
        body_packets: 0,
        initial_body_packet: false,
        empty_body_packet: false,
    };
    Ok((request, req_attribute_names))
}

fn attribute_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "context",
        0x02 => "servlet_path",
        0x03 => "remote_user",
        0x04 => "auth_type",
        0x05 => "query_string",
        0x06 => "route",
        0x07 => "ssl_cert",
        0x08 => "ssl_cipher",
        0x09 => "ssl_session",
        0x0C => "secret",
        0x0D => "stored_method",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    //! Drives the backend over real loopback sockets with hand-built packets. The encoders and
    //! decoders here spell the wire format out again on purpose instead of reusing the tables above.

    use super::*;

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
        assert_rejected(&[0x12, 0x34, 0x1F, 0xFD], "exceeds max_packet 8192");
        let mut trailing = good.clone();
        trailing.push(0);
        assert_rejected(&packet(&trailing), "1 bytes after the attribute terminator");
        assert_rejected(
            &packet(&good[..good.len() - 1]),
            "packet ends before attribute code",
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
        assert_eq!(percent_decode("a%20b+c%3A%zz%4"), "a b c:%zz%4");
        let plan = ResponsePlan::from_query("header=X-Y%3A1&flush&reuse=0").unwrap();
        assert_eq!(plan.headers, [("X-Y".to_string(), "1".to_string())]);
        assert!(plan.flush && !plan.reuse);
    }
}
