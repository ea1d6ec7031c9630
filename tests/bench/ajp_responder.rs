//! `ajp-responder`: the benchmark's AJP13 backend — a container that answers as fast as it can, so
//! that a benchmark of httpd in front of it measures the front end, not the backend.
//!
//! `ajp-responder --port P [--host 127.0.0.1] [--name tomcatA] [--unix PATH] [--pieces MICROS]`
//! serves until killed (with `--unix`, on a Unix domain socket at PATH too, mode 0666). Every
//! FORWARD_REQUEST gets `200 OK`, `Content-Type: application/octet-stream`, a Content-Length and a
//! body of `size` bytes (`?size=N` in the query string; 1024 when absent), in SEND_BODY_CHUNKs of
//! Tomcat's maximum (8184 bytes); HEAD gets the headers only. An announced request body is read the
//! way Tomcat reads it (AJP13 §6.5) and thrown away. CPING gets CPONG.
//!
//! With `--pieces MICROS` every answer goes out as Tomcat writes it: SEND_HEADERS, each
//! SEND_BODY_CHUNK and END_RESPONSE in a `write` of its own, with a pause of MICROS
//! microseconds before each one but the first, so that the front end reads them one by one.
//! Tomcat's three writes for a small page reach a front end that reads quickly in pieces in
//! about a quarter of the requests on a busy machine; the pause makes that path happen every
//! time, so `callgrind.sh --backend pieces` counts it.
//!
//! The body bytes are those of the test backend's `size=N` answer (tests/support/ajp_backend.rs,
//! `pattern_byte`), so the benchmark's static files hold the very same bytes. Unlike the test
//! backend it keeps no record of requests, hashes nothing, allocates nothing per request and sends
//! each answer with as few `write` calls as the socket allows.
//!
//! It speaks AJP13 through tests/support/ajp_wire.rs, the container-side codec the test backend and
//! the module's unit tests use too (not the crate's own codec), and reads its command line with
//! tests/support/listen_args.rs. Standard library only: `rustc --edition 2021 -C opt-level=3
//! tests/bench/ajp_responder.rs` builds it (tests/bench/run.sh does), `rustc --test` builds its
//! unit tests.

#![forbid(unsafe_code)]

#[path = "../support/ajp_wire.rs"]
mod ajp_wire;
#[path = "../support/listen_args.rs"]
mod listen_args;

use ajp_wire::{
    Attribute, ForwardRequest, FrameError, Names, Part, WireError, DEFAULT_MAX_PACKET,
    FORWARD_REQUEST, METHOD_HEAD, QUERY_STRING,
};
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

const USAGE: &str = "usage: ajp-responder --port PORT [--host 127.0.0.1] [--name tomcatA] \
     [--unix PATH] [--pieces MICROS]";

/// Packet size of Tomcat and mod_jk unless configured otherwise (AJP13 §6.1).
const MAX_PACKET: usize = DEFAULT_MAX_PACKET;
/// Tomcat's largest SEND_BODY_CHUNK data.
const MAX_CHUNK: usize = ajp_wire::max_body_chunk(MAX_PACKET);
/// What GET_BODY_CHUNK asks for: the most a web server can put in one body packet.
const BODY_ASK: u16 = ajp_wire::max_request_body_data(MAX_PACKET) as u16;
/// Answer bytes gathered before one `write`: large answers go out in few system calls.
const WRITE_BATCH: usize = 256 * 1024;
/// Body size when the query string names none.
const DEFAULT_SIZE: u64 = 1024;
/// `pattern_byte(i)` repeats with this period (251 × 256), so one copy of it serves every offset.
const PATTERN_PERIOD: usize = 251 * 256;

/// `--pieces MICROS`, set once by `main`.
static PIECES: OnceLock<Option<Duration>> = OnceLock::new();

fn pieces() -> Option<Duration> {
    PIECES.get().copied().flatten()
}

/// Byte `i` of every answer body; the same formula as the test backend's `pattern_byte`.
fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(7).wrapping_add(i / 251) % 256) as u8
}

/// One period of the pattern plus one chunk more, so any chunk is one contiguous slice.
fn pattern_table() -> Vec<u8> {
    (0..(PATTERN_PERIOD + MAX_CHUNK) as u64)
        .map(pattern_byte)
        .collect()
}

/// Why a connection was closed: the peer broke AJP13 framing or sent what a container refuses.
#[derive(Debug, PartialEq, Eq)]
enum ProtocolError {
    BadMagic([u8; 2]),
    PacketTooLarge(usize),
    /// The peer closed between the packets of a request body.
    ClosedInBody,
    UnexpectedPacket(u8),
    EmptyPacket,
    BadContentLength,
    /// A malformed FORWARD_REQUEST or request body packet.
    Malformed(WireError),
}

impl From<WireError> for ProtocolError {
    fn from(error: WireError) -> Self {
        ProtocolError::Malformed(error)
    }
}

/// What the answer depends on, read from one FORWARD_REQUEST.
#[derive(Debug, PartialEq, Eq)]
struct RequestSummary {
    is_head: bool,
    /// `None`: no content-length header, the body length is unknown (chunked).
    content_length: Option<u64>,
    /// Body bytes to answer with.
    size: u64,
}

/// Reads what the answer needs from a FORWARD_REQUEST payload (AJP13 §6.3), prefix code included.
fn summarize_forward_request(payload: &[u8]) -> Result<RequestSummary, ProtocolError> {
    let request = ForwardRequest::decode(payload)?;
    let mut content_length = None;
    let mut size = DEFAULT_SIZE;
    for part in request.parts() {
        match part? {
            Part::Header(name, value) if name.is("content-length") => {
                content_length = Some(parse_decimal(value)?);
            }
            Part::Attribute(Attribute::Coded(QUERY_STRING, query)) => {
                if let Some(wanted) = size_parameter(query) {
                    size = wanted;
                }
            }
            _ => {}
        }
    }
    Ok(RequestSummary {
        is_head: request.method == METHOD_HEAD,
        content_length,
        size,
    })
}

fn parse_decimal(text: &[u8]) -> Result<u64, ProtocolError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(ProtocolError::BadContentLength);
    }
    text.iter().try_fold(0u64, |n, &digit| {
        if !digit.is_ascii_digit() {
            return Err(ProtocolError::BadContentLength);
        }
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(digit - b'0')))
            .ok_or(ProtocolError::BadContentLength)
    })
}

/// The `size=N` parameter of a query string; a malformed value counts as absent.
fn size_parameter(query: &[u8]) -> Option<u64> {
    query
        .split(|&b| b == b'&')
        .filter_map(|pair| pair.strip_prefix(b"size="))
        .filter_map(|value| parse_decimal(value).ok())
        .next_back()
}

/// Appends SEND_HEADERS, the body's SEND_BODY_CHUNKs and END_RESPONSE to `out`, handing `out` to
/// `flush` whenever it has gathered a batch (with `pieces`, after every packet); `flush` must
/// leave `out` empty.
fn write_answer(
    summary: &RequestSummary,
    pattern: &[u8],
    pieces: bool,
    out: &mut Vec<u8>,
    flush: &mut impl FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let mut length_text = [0u8; 20];
    let length_text = decimal(summary.size, &mut length_text);
    let headers: [(&[u8], &[u8]); 2] = [
        (b"Content-Type", b"application/octet-stream"),
        (b"Content-Length", length_text),
    ];
    ajp_wire::send_headers(out, 200, b"OK", &headers, Names::Coded).map_err(io::Error::other)?;
    if pieces {
        flush(out)?;
    }

    let body_len = if summary.is_head { 0 } else { summary.size };
    let mut sent = 0u64;
    while sent < body_len {
        let len = (body_len - sent).min(MAX_CHUNK as u64) as usize;
        let start = (sent % PATTERN_PERIOD as u64) as usize;
        let data = pattern
            .get(start..start + len)
            .ok_or_else(|| io::Error::other("pattern table shorter than a chunk"))?;
        ajp_wire::send_body_chunk(out, data).map_err(io::Error::other)?;
        sent += len as u64;
        if pieces || out.len() >= WRITE_BATCH {
            flush(out)?;
        }
    }
    ajp_wire::end_response(out, 1);
    flush(out)
}

/// `n` in decimal, written into `buffer` without allocating.
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        if let Some(digit) = buffer.get_mut(start) {
            *digit = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buffer.get(start..).unwrap_or_default()
}

/// Why a connection stopped being served.
enum ConnectionEnd {
    PeerClosed,
    Protocol(ProtocolError),
    /// The socket failed or closed inside a packet: nothing to report, the peer is gone.
    Io,
}

impl From<io::Error> for ConnectionEnd {
    fn from(_: io::Error) -> Self {
        ConnectionEnd::Io
    }
}

impl From<ProtocolError> for ConnectionEnd {
    fn from(error: ProtocolError) -> Self {
        ConnectionEnd::Protocol(error)
    }
}

/// One persistent AJP connection's state; its buffers live as long as the connection.
struct Connection<R: Read, W: Write> {
    reader: R,
    writer: W,
    payload: Vec<u8>,
    out: Vec<u8>,
    pattern: Arc<Vec<u8>>,
    /// `--pieces`: each packet of an answer in a write of its own, after this pause.
    pieces: Option<Duration>,
}

impl<R: Read, W: Write> Connection<R, W> {
    fn new(reader: R, writer: W, pattern: Arc<Vec<u8>>, pieces: Option<Duration>) -> Self {
        Connection {
            reader,
            writer,
            payload: vec![0; MAX_PACKET],
            out: Vec::with_capacity(WRITE_BATCH + MAX_PACKET),
            pattern,
            pieces,
        }
    }

    /// Serves requests until the peer closes or breaks the protocol.
    fn serve(&mut self) -> ConnectionEnd {
        loop {
            if let Err(end) = self.serve_one() {
                return end;
            }
        }
    }

    fn serve_one(&mut self) -> Result<(), ConnectionEnd> {
        let len = self.read_packet(true)?;
        let payload = self.payload.get(..len).unwrap_or_default();
        match payload.first().copied() {
            Some(_) if ajp_wire::is_cping(payload) => {
                ajp_wire::cpong(&mut self.out);
                self.send_out()?;
            }
            Some(FORWARD_REQUEST) => {
                let summary = summarize_forward_request(payload)?;
                self.discard_body(summary.content_length)?;
                let Connection {
                    writer,
                    out,
                    pattern,
                    pieces,
                    ..
                } = self;
                let mut first = true;
                write_answer(
                    &summary,
                    pattern,
                    pieces.is_some(),
                    out,
                    &mut |batch: &mut Vec<u8>| {
                        if let (Some(pause), false) = (*pieces, first) {
                            thread::sleep(pause);
                        }
                        first = false;
                        writer.write_all(batch)?;
                        batch.clear();
                        Ok(())
                    },
                )?;
            }
            Some(code) => return Err(ProtocolError::UnexpectedPacket(code).into()),
            None => return Err(ProtocolError::EmptyPacket.into()),
        }
        Ok(())
    }

    /// Writes out what `out` gathered and empties it.
    fn send_out(&mut self) -> io::Result<()> {
        self.writer.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Reads one web-server packet into `payload`; returns its length. EOF before the first header
    /// byte is the peer closing between requests when `between_requests`.
    fn read_packet(&mut self, between_requests: bool) -> Result<usize, ConnectionEnd> {
        match ajp_wire::read_packet(&mut self.reader, &mut self.payload) {
            Ok(Some(len)) => Ok(len),
            Ok(None) if between_requests => Err(ConnectionEnd::PeerClosed),
            Ok(None) => Err(ProtocolError::ClosedInBody.into()),
            Err(FrameError::BadMagic(magic)) => Err(ProtocolError::BadMagic(magic).into()),
            Err(FrameError::TooLarge { len, .. }) => Err(ProtocolError::PacketTooLarge(len).into()),
            // Closed inside a packet, or the socket failed: the peer is gone.
            Err(FrameError::Io(_) | FrameError::ClosedInHeader | FrameError::ClosedInPayload) => {
                Err(ConnectionEnd::Io)
            }
        }
    }

    /// Reads and drops an announced request body as Tomcat does (AJP13 §6.5): the first packet
    /// comes unasked, the rest after GET_BODY_CHUNK. Like a servlet that never reads its input, it
    /// leaves a body of unknown length (no content-length) alone: Tomcat does not ask for it then.
    fn discard_body(&mut self, content_length: Option<u64>) -> Result<(), ConnectionEnd> {
        let expected = content_length.unwrap_or(0);
        let mut received = 0u64;
        let mut first = true;
        while received < expected {
            if !first {
                ajp_wire::get_body_chunk(&mut self.out, BODY_ASK);
                self.send_out()?;
            }
            first = false;
            let len = self.read_packet(false)?;
            if len == 0 {
                // The client went away before its body ended (mod_jk, CVE-2008-5519).
                return Ok(());
            }
            let payload = self.payload.get(..len).unwrap_or_default();
            let data = ajp_wire::request_body_data(payload).map_err(ProtocolError::from)?;
            received += data.len() as u64;
        }
        Ok(())
    }
}

fn serve_tcp(stream: TcpStream, pattern: Arc<Vec<u8>>, name: &str) {
    let _ = stream.set_nodelay(true);
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    serve_stream(reader, stream, pattern, name);
}

fn serve_unix(stream: UnixStream, pattern: Arc<Vec<u8>>, name: &str) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    serve_stream(reader, stream, pattern, name);
}

fn serve_stream(reader: impl Read, stream: impl Write, pattern: Arc<Vec<u8>>, name: &str) {
    let mut connection = Connection::new(
        BufReader::with_capacity(64 * 1024, reader),
        stream,
        pattern,
        pieces(),
    );
    if let ConnectionEnd::Protocol(why) = connection.serve() {
        eprintln!("ajp-responder {name}: closed a connection: {why:?}");
    }
}

fn main() -> ExitCode {
    let arguments = match listen_args::parse_listen_args(
        std::env::args().skip(1),
        USAGE,
        &["--unix", "--pieces"],
    ) {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some((_, micros)) = arguments.extra.iter().find(|(flag, _)| flag == "--pieces") {
        let Ok(micros) = micros.parse::<u64>() else {
            eprintln!("--pieces needs a number of microseconds, not {micros:?}\n{USAGE}");
            return ExitCode::from(2);
        };
        let _ = PIECES.set(Some(Duration::from_micros(micros)));
    }
    let listener = match TcpListener::bind(arguments.address) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "ajp-responder: cannot listen on {}: {error}",
                arguments.address
            );
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {} as {}", arguments.address, arguments.name);
    let _ = io::stdout().flush();
    let pattern = Arc::new(pattern_table());
    let name: Arc<str> = arguments.name.into();
    if let Some((_, path)) = arguments.extra.iter().find(|(flag, _)| flag == "--unix") {
        if let Err(error) = listen_unix(path, Arc::clone(&pattern), Arc::clone(&name)) {
            eprintln!("ajp-responder: cannot listen on {path}: {error}");
            return ExitCode::FAILURE;
        }
        println!("listening on unix:{path} too");
    }
    accept_loop(listener.incoming(), serve_tcp, &pattern, &name);
    ExitCode::SUCCESS
}

/// Serves every accepted connection with `serve` on a thread of its own.
fn accept_loop<S: Send + 'static>(
    incoming: impl Iterator<Item = io::Result<S>>,
    serve: fn(S, Arc<Vec<u8>>, &str),
    pattern: &Arc<Vec<u8>>,
    name: &Arc<str>,
) {
    for stream in incoming {
        let Ok(stream) = stream else {
            // EMFILE and friends: back off instead of spinning.
            thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        let pattern = Arc::clone(pattern);
        let name = Arc::clone(name);
        // AJP connections are few and long-lived (pooled by the front end): a thread each is cheapest.
        let _ = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || serve(stream, pattern, &name));
    }
}

/// Serves the Unix socket at `path` (replacing a stale file; mode 0666, as httpd's children may
/// run as another user) on a thread of its own, a thread per connection.
fn listen_unix(path: &str, pattern: Arc<Vec<u8>>, name: Arc<str>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    thread::Builder::new()
        .spawn(move || accept_loop(listener.incoming(), serve_unix, &pattern, &name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajp_wire::{
        ATTRIBUTES_END, CPING, END_RESPONSE, GET_BODY_CHUNK, MAGIC_TO_CONTAINER, REQ_ATTRIBUTE,
        SEND_HEADERS, SSL_KEY_SIZE,
    };
    use std::io::Cursor;

    const CPONG_PACKET: [u8; 5] = [b'A', b'B', 0, 1, 9];

    /// AJP string: u16 length, bytes, NUL.
    fn put_string(out: &mut Vec<u8>, text: &[u8]) {
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text);
        out.push(0);
    }

    /// A FORWARD_REQUEST payload as mod_jk builds it (prefix code included).
    fn forward_request(method: u8, headers: &[(&[u8], &[u8])], query: Option<&[u8]>) -> Vec<u8> {
        let mut p = vec![FORWARD_REQUEST, method];
        for text in [
            &b"HTTP/1.1"[..],
            b"/bench/s",
            b"127.0.0.1",
            b"127.0.0.1",
            b"localhost",
        ] {
            put_string(&mut p, text);
        }
        p.extend_from_slice(&8080u16.to_be_bytes());
        p.push(0);
        p.extend_from_slice(&(headers.len() as u16).to_be_bytes());
        for (name, value) in headers {
            match *name {
                b"content-length" => p.extend_from_slice(&[0xA0, 0x08]),
                other => put_string(&mut p, other),
            }
            put_string(&mut p, value);
        }
        p.push(SSL_KEY_SIZE);
        p.extend_from_slice(&256u16.to_be_bytes());
        if let Some(query) = query {
            p.push(QUERY_STRING);
            put_string(&mut p, query);
        }
        p.push(REQ_ATTRIBUTE);
        put_string(&mut p, b"AJP_REMOTE_PORT");
        put_string(&mut p, b"40000");
        p.push(ATTRIBUTES_END);
        p
    }

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut packet = MAGIC_TO_CONTAINER.to_vec();
        packet.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        packet.extend_from_slice(payload);
        packet
    }

    fn body_packet(data: &[u8]) -> Vec<u8> {
        let mut payload = (data.len() as u16).to_be_bytes().to_vec();
        payload.extend_from_slice(data);
        framed(&payload)
    }

    /// Splits container packets into (type, payload after the type byte).
    fn container_packets(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut packets = Vec::new();
        while let Some((header, rest)) = bytes.split_first_chunk::<4>() {
            assert_eq!(&header[..2], b"AB");
            let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
            let (payload, rest) = rest.split_at(len);
            packets.push((payload[0], payload[1..].to_vec()));
            bytes = rest;
        }
        assert!(bytes.is_empty(), "trailing bytes");
        packets
    }

    fn serve(input: Vec<u8>) -> (Vec<u8>, ConnectionEnd) {
        let mut output = Vec::new();
        let pattern = Arc::new(pattern_table());
        let end = Connection::new(Cursor::new(input), &mut output, pattern, None).serve();
        (output, end)
    }

    #[test]
    fn size_parameter_chooses_the_body_length() {
        let request = forward_request(2, &[], Some(b"a=1&size=102400&b=2"));
        let summary = summarize_forward_request(&request).unwrap();
        assert_eq!(summary.size, 102400);
        assert!(!summary.is_head);
        assert_eq!(summary.content_length, None);
    }

    #[test]
    fn missing_or_malformed_size_answers_one_kibibyte() {
        let plain = forward_request(2, &[], None);
        assert_eq!(summarize_forward_request(&plain).unwrap().size, 1024);
        let bad = forward_request(2, &[], Some(b"size=12x"));
        assert_eq!(summarize_forward_request(&bad).unwrap().size, 1024);
    }

    #[test]
    fn content_length_is_found_coded_or_spelled_out() {
        let coded = forward_request(4, &[(b"content-length", b"1048576")], None);
        assert_eq!(
            summarize_forward_request(&coded).unwrap().content_length,
            Some(1048576)
        );
        let spelled = forward_request(4, &[(b"Content-Length", b" 7 ")], None);
        assert_eq!(
            summarize_forward_request(&spelled).unwrap().content_length,
            Some(7)
        );
    }

    #[test]
    fn truncated_request_is_a_protocol_error_not_a_panic() {
        let request = forward_request(2, &[(b"x-long-header", b"value")], Some(b"size=1"));
        for cut in 0..request.len() {
            assert!(
                summarize_forward_request(&request[..cut]).is_err(),
                "cut at {cut} accepted"
            );
        }
    }

    #[test]
    fn answer_carries_the_pattern_in_tomcat_sized_chunks() {
        let size = 20_000u64;
        let request = framed(&forward_request(2, &[], Some(b"size=20000")));
        let (output, end) = serve(request);
        assert!(matches!(end, ConnectionEnd::PeerClosed));
        let packets = container_packets(&output);
        let types: Vec<u8> = packets.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [SEND_HEADERS, 3, 3, 3, END_RESPONSE]);
        let headers = &packets[0].1;
        assert_eq!(&headers[..2], &200u16.to_be_bytes());
        assert!(headers.windows(6).any(|w| w == b"20000\0"));
        let mut body = Vec::new();
        for (_, payload) in &packets[1..4] {
            let len = usize::from(u16::from_be_bytes([payload[0], payload[1]]));
            assert!(len <= MAX_CHUNK);
            body.extend_from_slice(&payload[2..2 + len]);
        }
        let expected: Vec<u8> = (0..size).map(pattern_byte).collect();
        assert_eq!(body, expected);
        assert_eq!(packets[4].1, [1], "END_RESPONSE must allow reuse");
    }

    /// Keeps each `write` call's bytes apart.
    struct Writes(Vec<Vec<u8>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn writes_of_one_answer(pieces: Option<Duration>) -> Vec<Vec<u8>> {
        let request = framed(&forward_request(2, &[], Some(b"size=20000")));
        let mut writes = Writes(Vec::new());
        let pattern = Arc::new(pattern_table());
        let end = Connection::new(Cursor::new(request), &mut writes, pattern, pieces).serve();
        assert!(matches!(end, ConnectionEnd::PeerClosed));
        writes.0
    }

    #[test]
    fn pieces_writes_every_packet_by_itself_as_tomcat_does() {
        let whole = writes_of_one_answer(None);
        assert_eq!(whole.len(), 1, "one write for the whole answer");
        let pieces = writes_of_one_answer(Some(Duration::from_micros(1)));
        let types: Vec<Vec<u8>> = pieces
            .iter()
            .map(|w| container_packets(w).iter().map(|(t, _)| *t).collect())
            .collect();
        assert_eq!(
            types,
            [
                vec![SEND_HEADERS],
                vec![3],
                vec![3],
                vec![3],
                vec![END_RESPONSE]
            ]
        );
        assert_eq!(pieces.concat(), whole[0], "the same bytes either way");
    }

    #[test]
    fn pattern_repeats_with_the_period_the_table_relies_on() {
        for i in [0u64, 1, 250, 251, 60_000, 64_255] {
            assert_eq!(pattern_byte(i), pattern_byte(i + PATTERN_PERIOD as u64));
        }
        assert_ne!(pattern_byte(1), pattern_byte(1 + 256));
    }

    #[test]
    fn head_gets_headers_without_body() {
        let (output, _) = serve(framed(&forward_request(METHOD_HEAD, &[], None)));
        let types: Vec<u8> = container_packets(&output).iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [SEND_HEADERS, END_RESPONSE]);
    }

    #[test]
    fn announced_body_is_read_with_get_body_chunk_after_the_first_packet() {
        let mut input = framed(&forward_request(4, &[(b"content-length", b"10000")], None));
        input.extend(body_packet(&[1; 8186]));
        input.extend(body_packet(&[2; 1814]));
        // A second request on the same connection proves the body was consumed exactly.
        input.extend(framed(&forward_request(2, &[], Some(b"size=1"))));
        let (output, end) = serve(input);
        assert!(matches!(end, ConnectionEnd::PeerClosed));
        let types: Vec<u8> = container_packets(&output).iter().map(|(t, _)| *t).collect();
        assert_eq!(
            types,
            [
                GET_BODY_CHUNK,
                SEND_HEADERS,
                3,
                END_RESPONSE,
                SEND_HEADERS,
                3,
                END_RESPONSE
            ]
        );
    }

    #[test]
    fn body_of_unknown_length_is_not_asked_for() {
        let (output, end) = serve(framed(&forward_request(4, &[], Some(b"size=0"))));
        assert!(matches!(end, ConnectionEnd::PeerClosed));
        let types: Vec<u8> = container_packets(&output).iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [SEND_HEADERS, END_RESPONSE]);
    }

    #[test]
    fn client_gone_mid_body_ends_the_body() {
        let mut input = framed(&forward_request(4, &[(b"content-length", b"9000")], None));
        input.extend(body_packet(&[1; 100]));
        input.extend(framed(&[]));
        let (output, end) = serve(input);
        assert!(matches!(end, ConnectionEnd::PeerClosed));
        let types: Vec<u8> = container_packets(&output).iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [GET_BODY_CHUNK, SEND_HEADERS, 3, END_RESPONSE]);
    }

    #[test]
    fn cping_gets_cpong() {
        let (output, _) = serve(framed(&[CPING]));
        assert_eq!(output, CPONG_PACKET);
    }

    #[test]
    fn bad_magic_closes_the_connection() {
        let (output, end) = serve(vec![b'A', b'B', 0, 1, CPING]);
        assert!(output.is_empty());
        assert!(matches!(
            end,
            ConnectionEnd::Protocol(ProtocolError::BadMagic([b'A', b'B']))
        ));
    }

    #[test]
    fn oversized_packet_is_refused() {
        let (_, end) = serve(vec![0x12, 0x34, 0x20, 0x01]);
        assert!(matches!(
            end,
            ConnectionEnd::Protocol(ProtocolError::PacketTooLarge(0x2001))
        ));
    }
}
