//! A fault-injecting AJP13 container: a small Tomcat stand-in for the integration tests and the demo.
//!
//! It speaks the container side of AJP13 (reference §6) with the tests' own codec (`ajp_wire.rs`),
//! not the crate's, so a misreading of the protocol cannot hide in both ends at once. Connections
//! are persistent (served until EOF); CPING gets CPONG; request bodies are read the way Tomcat reads
//! them (the first packet arrives unsolicited when `content-length` > 0, the rest is asked for with
//! GET_BODY_CHUNK; without `content-length` the length is unknown and the body ends with an empty
//! packet; `content-length: 0` means no body). Malformed packets close the connection and are
//! listed by [`AjpBackend::protocol_errors`]. Every request is recorded before it is answered.
//!
//! Its tests are in `tests/support_selftest/ajp_backend_tests.rs`: there they run once, not in
//! every binary that includes this file.
//!
//! The answer is chosen by the request's query string, so one backend serves every scenario.
//! Parameters combine; unknown ones are ignored; a bad value gets a 400 that names it.
//!
//! | parameter | effect |
//! |---|---|
//! | (none) | 200 `text/plain`, body = one `key=value` line per request detail (see [`RecordedRequest::echo`]), with Content-Length |
//! | (a request header `X-Request-Id`) | echoed as the response header `X-Request-Id` (whatever the query; the echo body has it as `header.X-Request-Id=`) |
//! | `status=N`, `reason=TEXT` | status code; reason phrase (default from a small table) |
//! | `header=Name:Value` | add a response header (repeatable; `Content-Type` replaces the default) |
//! | `nocl=1` | omit Content-Length |
//! | `size=N` | body of N bytes of [`pattern_byte`] instead of the echo |
//! | `chunk=K` | SEND_BODY_CHUNK data size (default `max_packet - 8`, Tomcat's maximum) |
//! | `sleep=MS`, `sleepbody=MS` | sleep before answering (before any fault too); between headers and body |
//! | `flush=1` | an empty SEND_BODY_CHUNK (explicit flush) before every body chunk |
//! | `drip=MS` | pause MS before every body chunk (with `chunk=1`: a byte at a time) |
//! | `driphead=MS` | write the SEND_HEADERS packet a byte at a time, MS apart |
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
//! | `fault=badgetbody` | a GET_BODY_CHUNK asking for 0xFFFF bytes before the headers (the body packet answering it is read) |
//! | `fault=twoheaders` | SEND_HEADERS twice |
//!
//! After `badmagic`, `oversize`, `badchunk`, `badreuse`, `badgetbody` and `twoheaders` the rest of
//! a normal answer follows and the connection keeps being served: a front end that wrongly accepts the
//! fault then shows a normal answer (or reuses the connection) instead of hanging until a timeout.

#![allow(dead_code)]

#[path = "ajp_wire.rs"]
pub(crate) mod ajp_wire;

use ajp_wire::{
    Attribute, ForwardRequest, HeaderName, Names, Packet, Part, TooLong, DEFAULT_MAX_PACKET,
    FORWARD_REQUEST, MAGIC_FROM_CONTAINER, MAX_PAYLOAD, SEND_BODY_CHUNK, SHUTDOWN, STORED_METHOD,
};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Accepted `max_packet` values. Tomcat's `packetSize` allows 8192..=65536; smaller sizes are
/// allowed here so tests can force many packets cheaply.
const MAX_PACKET_RANGE: std::ops::RangeInclusive<usize> = 1024..=65536;

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
    /// Append one line per request to this file once the request (body included) has been
    /// received whole, before it is answered: `<method> <X-Request-Id or -> <body_len>
    /// <connection>`. One `write` per line on an `O_APPEND` file, so the lines survive a
    /// `kill -9` of the backend and several processes (a backend restarted on the same port)
    /// can share the file. The soak test (`tests/soak/`) reads it to find duplicated requests.
    pub request_log: Option<PathBuf>,
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
    /// The TCP address; 0.0.0.0:0 for a backend on a Unix socket.
    addr: SocketAddr,
    /// The socket file of a backend started with [`AjpBackend::start_unix`] (removed on stop).
    unix_path: Option<PathBuf>,
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
        let max_packet = max_packet(&options)?;
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        AjpBackend::serve(
            Listener::Tcp(listener),
            addr,
            None,
            name,
            options,
            max_packet,
        )
    }

    /// Listens on a Unix domain socket at `path` (a stale file there is replaced), made
    /// connectable by every user (mode 0666: httpd's children may run as another user).
    pub fn start_unix(path: &Path, name: &str, options: BackendOptions) -> io::Result<AjpBackend> {
        use std::os::unix::fs::PermissionsExt;
        let max_packet = max_packet(&options)?;
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
        let unspecified = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        let listener = Listener::Unix(listener);
        let path = Some(path.to_owned());
        AjpBackend::serve(listener, unspecified, path, name, options, max_packet)
    }

    fn serve(
        listener: Listener,
        addr: SocketAddr,
        unix_path: Option<PathBuf>,
        name: &str,
        options: BackendOptions,
        max_packet: usize,
    ) -> io::Result<AjpBackend> {
        let request_log = match &options.request_log {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared {
            name: name.to_string(),
            request_log,
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
            unix_path,
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

    /// The socket file of a backend on a Unix socket.
    pub fn unix_path(&self) -> Option<&Path> {
        self.unix_path.as_deref()
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
        match &self.unix_path {
            Some(path) => drop(UnixStream::connect(path)),
            None => drop(TcpStream::connect_timeout(
                &wake_address(self.addr),
                Duration::from_secs(2),
            )),
        }
        let _ = acceptor.join();
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
        for (_, stream) in lock(&self.shared.open).iter() {
            stream.shutdown();
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

/// The packet size `options` ask for (0 = AJP's default), if the backend can use it.
fn max_packet(options: &BackendOptions) -> io::Result<usize> {
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
    Ok(max_packet)
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
    /// [`BackendOptions::request_log`], opened for appending.
    request_log: Option<std::fs::File>,
    protocol_errors: Mutex<Vec<String>>,
    /// Clones of the open connections, so stop() can close them under their threads.
    open: Mutex<Vec<(usize, Stream)>>,
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

/// What the backend listens on.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (stream, _) = l.accept()?;
                let _ = stream.set_nodelay(true);
                Ok(Stream::Tcp(stream))
            }
            Listener::Unix(l) => Ok(Stream::Unix(l.accept()?.0)),
        }
    }
}

/// One accepted connection, over TCP or a Unix socket.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
        }
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }

    fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn accept_loop(listener: Listener, shared: Arc<Shared>) {
    loop {
        let incoming = listener.accept();
        if shared.stopping() {
            break;
        }
        let Ok(stream) = incoming else {
            // EMFILE and friends: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let serial = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
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

fn serve_connection(shared: &Shared, stream: Stream, serial: usize) {
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
    connection.stream.shutdown();
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

impl From<TooLong> for ConnError {
    fn from(error: TooLong) -> Self {
        ConnError::Protocol(error.to_string())
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
    stream: Stream,
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
                Some(_) if ajp_wire::is_cping(&payload) => {
                    self.shared.cpings.fetch_add(1, Ordering::SeqCst);
                    if !self.ignore_cping && !self.shared.ignore_cping.load(Ordering::SeqCst) {
                        self.send(|out| {
                            ajp_wire::cpong(out);
                            Ok(())
                        })?;
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
        let limit = self.shared.max_packet - ajp_wire::PACKET_HEADER_LEN;
        ajp_wire::read_packet_to_vec(&mut self.stream, limit).map_err(|error| match error {
            ajp_wire::FrameError::Io(error) => ConnError::Io(error),
            other => ConnError::Protocol(other.to_string()),
        })
    }

    /// A request body packet's data (empty = end of body).
    fn read_body_packet(&mut self) -> Result<Vec<u8>, ConnError> {
        let Some(payload) = self.read_packet()? else {
            return Err(ConnError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed instead of sending a body packet",
            )));
        };
        let data = ajp_wire::request_body_data(&payload).map_err(|e| e.to_string());
        Ok(data.map_err(ConnError::Protocol)?.to_vec())
    }

    /// Encodes one or more packets and sends them in one write.
    fn send(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), TooLong>,
    ) -> Result<(), ConnError> {
        let mut packet = Vec::with_capacity(64);
        encode(&mut packet)?;
        self.stream.write_all(&packet)?;
        Ok(())
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
        self.log_request(&request)?;
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

    /// One line in the request log, if there is one (see [`BackendOptions::request_log`]).
    fn log_request(&self, request: &RecordedRequest) -> io::Result<()> {
        let Some(mut file) = self.shared.request_log.as_ref() else {
            return Ok(());
        };
        let id = request.header("x-request-id").unwrap_or("-");
        let line = format!(
            "{} {} {} {}\n",
            request.method,
            one_line(id).replace(' ', "_"),
            request.body_len,
            self.serial
        );
        // One write: O_APPEND makes it atomic with respect to the other connections' lines.
        file.write_all(line.as_bytes())
    }

    /// Reads the body the way Tomcat does (AJP13 §6.5) into the record's body fields.
    fn read_body(
        &mut self,
        request: &mut RecordedRequest,
        content_length: Option<u64>,
        may_ask: bool,
    ) -> Result<(), ConnError> {
        let mut hasher = Sha256::new();
        let ask = ajp_wire::max_request_body_data(self.shared.max_packet) as u16;
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
        self.send_body(
            &Body::Text(text.as_bytes().to_vec()),
            &ResponsePlan::default(),
            false,
        )?;
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
        headers.extend(Self::echoed_id(request));
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
            // As a container with an odd packetSize asks: the front end may refuse, or cap the
            // size and answer with a body packet (mod_jk does), which is read here.
            self.send_get_body_chunk(0xFFFF)?;
            self.read_body_packet()?;
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
        } else if let Some(pause) = plan.drip_head {
            let packet =
                self.headers_packet(plan.status, reason, &headers, plan.string_names, 0)?;
            for byte in packet.chunks(1) {
                if !self.shared.nap(pause) {
                    return Ok(AfterAnswer::Close);
                }
                self.stream.write_all(byte)?;
                self.stream.flush()?;
            }
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
                Some(Fault::BadChunk) => self.send(|out| {
                    let data = b"chunk shorter than it claims";
                    let mut packet = Packet::begin(out, SEND_BODY_CHUNK);
                    packet.u16(data.len() as u16 + 1000).bytes(data).byte(0);
                    packet.finish()
                })?,
                Some(Fault::Truncated) => {
                    self.send_body(&body, plan, true)?;
                    return Ok(AfterAnswer::Close);
                }
                _ => {
                    if !self.send_body(&body, plan, false)? {
                        return Ok(AfterAnswer::Close);
                    }
                }
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

    /// `X-Request-Id` echoed from the request, if it carried one.
    fn echoed_id(request: &RecordedRequest) -> Option<(String, String)> {
        let id = request.header("x-request-id")?;
        Some(("X-Request-Id".to_string(), id.to_string()))
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
        let names = if string_names {
            Names::Spelled
        } else {
            Names::Coded
        };
        let encode = |headers: &[(String, String)]| {
            let mut packet = Vec::with_capacity(64);
            ajp_wire::send_headers(&mut packet, status, reason.as_bytes(), headers, names)?;
            Ok::<_, TooLong>(packet)
        };
        if pad_to_payload == 0 {
            return Ok(encode(headers)?);
        }
        let mut padded = headers.to_vec();
        padded.push(("X-Padding".to_string(), String::new()));
        let unpadded = encode(&padded)?.len() - ajp_wire::PACKET_HEADER_LEN;
        if let Some((_, value)) = padded.last_mut() {
            *value = "p".repeat(pad_to_payload.saturating_sub(unpadded));
        }
        Ok(encode(&padded)?)
    }

    /// SEND_BODY_CHUNKs of `chunk` bytes (default Tomcat's maximum, max_packet - 8); `truncated`
    /// stops after half the body.
    /// `plan.drip` pauses before each chunk; false when the backend was stopped meanwhile.
    fn send_body(
        &mut self,
        body: &Body,
        plan: &ResponsePlan,
        truncated: bool,
    ) -> Result<bool, ConnError> {
        let (chunk, flush) = (plan.chunk, plan.flush);
        let chunk = chunk
            .unwrap_or(ajp_wire::max_body_chunk(self.shared.max_packet))
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
            if let Some(pause) = plan.drip {
                if !self.shared.nap(pause) {
                    return Ok(false);
                }
            }
            if flush {
                self.send(|out| ajp_wire::send_body_chunk(out, b""))?;
            }
            body.fill(sent, len, &mut data);
            self.send(|out| ajp_wire::send_body_chunk(out, &data))?;
            sent += len as u64;
        }
        Ok(true)
    }

    fn send_end(&mut self, reuse: u8) -> Result<(), ConnError> {
        self.send(|out| {
            ajp_wire::end_response(out, reuse);
            Ok(())
        })
    }

    fn send_get_body_chunk(&mut self, len: u16) -> Result<(), ConnError> {
        self.send(|out| {
            ajp_wire::get_body_chunk(out, len);
            Ok(())
        })
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
    drip: Option<Duration>,
    drip_head: Option<Duration>,
    flush: bool,
    reuse: bool,
    close: bool,
    string_names: bool,
    fault: Option<Fault>,
}

impl Default for ResponsePlan {
    fn default() -> ResponsePlan {
        ResponsePlan {
            status: 200,
            reason: None,
            headers: Vec::new(),
            no_content_length: false,
            size: None,
            chunk: None,
            sleep: None,
            sleep_body: None,
            drip: None,
            drip_head: None,
            flush: false,
            reuse: true,
            close: false,
            string_names: false,
            fault: None,
        }
    }
}

impl ResponsePlan {
    fn from_query(query: &str) -> Result<ResponsePlan, String> {
        let mut plan = ResponsePlan::default();
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
                "drip" => plan.drip = Some(Duration::from_millis(number("drip")?)),
                "driphead" => plan.drip_head = Some(Duration::from_millis(number("driphead")?)),
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

/// FORWARD_REQUEST into a record whose body fields are left empty for `read_body`; the second
/// value lists the req_attribute (0x0A) names. Beyond what `ajp_wire` checks, unknown method,
/// header and attribute codes and a null req_uri are errors.
fn decode_forward_request(
    payload: &[u8],
    connection: usize,
) -> Result<(RecordedRequest, Vec<String>), String> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let request = ForwardRequest::decode(payload).map_err(|e| e.to_string())?;
    let mut headers = Vec::new();
    let mut attributes = Vec::new();
    let mut req_attribute_names = Vec::new();
    for part in request.parts() {
        match part.map_err(|e| e.to_string())? {
            Part::Header(HeaderName::Coded(code), value) => {
                let name = ajp_wire::request_header_name(code)
                    .ok_or_else(|| format!("unknown request header code {code:#06x}"))?;
                headers.push((name.to_string(), text(value)));
            }
            Part::Header(HeaderName::Spelled(name), value) => {
                headers.push((text(name), text(value)))
            }
            Part::Attribute(Attribute::Named(name, value)) => {
                req_attribute_names.push(text(name));
                attributes.push((text(name), text(value)));
            }
            Part::Attribute(Attribute::SslKeySize(bits)) => {
                attributes.push(("ssl_key_size".to_string(), bits.to_string()));
            }
            Part::Attribute(Attribute::Coded(code, value)) => {
                let name = ajp_wire::attribute_name(code)
                    .ok_or_else(|| format!("unknown attribute code {code:#04x}"))?;
                attributes.push((name.to_string(), text(value)));
            }
        }
    }
    let method = if request.method == STORED_METHOD {
        attributes
            .iter()
            .find(|(n, _)| n == "stored_method")
            .map(|(_, v)| v.clone())
            .ok_or("method byte 0xFF without a stored_method attribute")?
    } else {
        ajp_wire::method_name(request.method)
            .ok_or_else(|| format!("unknown method code {}", request.method))?
            .to_string()
    };
    let optional = |field: Option<&[u8]>| field.map(text).unwrap_or_default();
    let record = RecordedRequest {
        connection,
        method,
        method_code: request.method,
        protocol: optional(request.protocol),
        uri: text(request.req_uri.ok_or("req_uri is the null string")?),
        remote_addr: optional(request.remote_addr),
        remote_host: request.remote_host.map(text),
        server_name: optional(request.server_name),
        server_port: request.server_port,
        is_ssl: request.is_ssl,
        headers,
        attributes,
        body_len: 0,
        body_sha256: sha256_hex(b""),
        body_packets: 0,
        initial_body_packet: false,
        empty_body_packet: false,
    };
    Ok((record, req_attribute_names))
}
