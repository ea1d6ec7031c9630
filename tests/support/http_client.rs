//! A small raw HTTP/1.1 client for the end-to-end tests: writes requests byte for byte as asked
//! (fixed, chunked or malformed) and reads responses framed by Content-Length, chunked encoding
//! (with trailers) or connection close, skipping 1xx interim responses.
//!
//! Included from `tests/*.rs` as `#[path = "support/http_client.rs"] mod http_client;` — std only.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// Read/write timeout of a new connection.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest status line, header line or chunk-size line accepted.
const MAX_LINE: u64 = 64 * 1024;
/// Most header lines accepted in one response head (or trailer section).
const MAX_HEADERS: usize = 1000;
/// Cap on the up-front allocation for a Content-Length body, so a bogus length cannot OOM.
const MAX_PREALLOC: u64 = 64 * 1024 * 1024;

/// One HTTP response as received.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// e.g. `HTTP/1.1`
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// In the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// De-chunked body.
    pub body: Vec<u8>,
    /// Trailer fields of a chunked body.
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// First trailer field `name` (case-insensitive).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        find_header(&self.trailers, name)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|te| last_token_is(te, "chunked"))
    }

    /// Whether the server said it closes the connection after this response.
    pub fn closes_connection(&self) -> bool {
        let connection = self.headers_all("connection");
        let has = |token: &str| connection.iter().any(|v| has_token(v, token));
        if self.version.eq_ignore_ascii_case("HTTP/1.0") {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

/// How a request body is sent.
#[derive(Clone, Debug, Default)]
pub enum Body {
    #[default]
    None,
    /// Sent with `Content-Length` (unless the request sets Content-Length or Transfer-Encoding).
    Fixed(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked`, each inner Vec as one chunk, in order, then the last
    /// chunk. Empty inner Vecs are skipped (a zero-size chunk would end the body).
    Chunked(Vec<Vec<u8>>),
}

/// A request to send. Headers go out in order and exactly as given.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/path?query`, `*`, or an absolute URI).
    pub path: String,
    /// `HTTP/1.1` unless changed.
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            version: "HTTP/1.1".to_string(),
            headers: Vec::new(),
            body: Body::None,
        }
    }

    pub fn get(path: &str) -> Self {
        Request::new("GET", path)
    }

    pub fn head(path: &str) -> Self {
        Request::new("HEAD", path)
    }

    pub fn post(path: &str, body: Vec<u8>) -> Self {
        Request::new("POST", path).body(Body::Fixed(body))
    }

    /// Adds a header (repeatable; no replacement).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sends it as `HTTP/1.0`.
    pub fn http10(mut self) -> Self {
        self.version = "HTTP/1.0".to_string();
        self
    }

    pub fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    fn has_header(&self, name: &str) -> bool {
        find_header(&self.headers, name).is_some()
    }

    /// Request line and header block, with `Host: 127.0.0.1` unless given and the framing header
    /// the body needs unless the request already carries Content-Length or Transfer-Encoding.
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(
            format!("{} {} {}\r\n", self.method, self.path, self.version).as_bytes(),
        );
        if !self.has_header("host") {
            out.extend_from_slice(b"Host: 127.0.0.1\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let framed = self.has_header("content-length") || self.has_header("transfer-encoding");
        match &self.body {
            Body::None => {}
            Body::Fixed(bytes) if !framed => {
                out.extend_from_slice(format!("Content-Length: {}\r\n", bytes.len()).as_bytes());
            }
            Body::Chunked(_) if !framed => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The body as it goes on the wire (chunk framing included).
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::None => Vec::new(),
            Body::Fixed(bytes) => bytes.clone(),
            Body::Chunked(chunks) => {
                let mut out = Vec::new();
                for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }
        }
    }

    /// The whole request as bytes (e.g. to pipeline several with [`Connection::send_raw`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.head_bytes();
        out.extend_from_slice(&self.body_bytes());
        out
    }
}

/// One TCP connection, kept alive: send requests in sequence and read their answers.
pub struct Connection {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    /// End of stream was read: the peer has closed its side.
    peer_closed: bool,
}

impl Connection {
    pub fn open(addr: SocketAddr) -> io::Result<Connection> {
        Connection::from_stream(TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?)
    }

    /// A connection the test set up itself (e.g. from a chosen source address).
    pub fn from_stream(stream: TcpStream) -> io::Result<Connection> {
        stream.set_nodelay(true)?;
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        let mut connection = Connection {
            stream,
            reader,
            peer_closed: false,
        };
        connection.set_timeout(DEFAULT_TIMEOUT);
        Ok(connection)
    }

    /// Read and write timeout (the reader shares the socket, so one setting covers both).
    pub fn set_timeout(&mut self, timeout: Duration) {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let _ = self.stream.set_write_timeout(Some(timeout));
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// Sends `req` and reads its response (HEAD answers are read without a body).
    pub fn send(&mut self, req: &Request) -> io::Result<Response> {
        self.write_request(req)?;
        self.read_response(req.is_head())
    }

    /// Writes `req` without reading anything (pipelining, or a test that reads later).
    pub fn write_request(&mut self, req: &Request) -> io::Result<()> {
        let mut head = req.head_bytes();
        let body = req.body_bytes();
        // Small requests go out in one write; big bodies are not copied again.
        if body.len() <= 64 * 1024 {
            head.extend_from_slice(&body);
            self.send_raw(&head)
        } else {
            self.send_raw(&head)?;
            self.send_raw(&body)
        }
    }

    /// Writes bytes as they are (malformed requests, partial requests, pipelining).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Half-closes the connection: the server sees end of input.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Reads the next final response; 1xx interim responses (100 Continue, 103, …) are skipped,
    /// except 101 Switching Protocols, which is returned. `head_request`: the request was HEAD,
    /// so there is no body whatever the headers say.
    pub fn read_response(&mut self, head_request: bool) -> io::Result<Response> {
        loop {
            let response = self.read_one(head_request)?;
            if (100..200).contains(&response.status) && response.status != 101 {
                continue;
            }
            return Ok(response);
        }
    }

    /// Whether the server has closed (or reset) the connection, without waiting. Unread data
    /// counts as "not closed".
    pub fn is_closed_by_peer(&mut self) -> bool {
        if self.peer_closed {
            return true;
        }
        if !self.reader.buffer().is_empty() {
            return false;
        }
        if self.stream.set_nonblocking(true).is_err() {
            return self.peer_closed;
        }
        let mut byte = [0u8; 1];
        let result = self.stream.peek(&mut byte);
        let _ = self.stream.set_nonblocking(false);
        match result {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(_) => true,
        }
    }

    /// Waits up to `timeout` for the server to close the connection. False if it stays open or
    /// sends data instead.
    pub fn wait_closed_by_peer(&mut self, timeout: Duration) -> bool {
        if self.peer_closed {
            return true;
        }
        if !self.reader.buffer().is_empty() {
            return false;
        }
        let previous = self.stream.read_timeout().ok().flatten();
        let _ = self
            .stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
        let mut byte = [0u8; 1];
        let result = self.stream.peek(&mut byte);
        let _ = self.stream.set_read_timeout(previous);
        match result {
            Ok(0) => true,
            Ok(_) => false,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(_) => true,
        }
    }

    /// Reads whatever the server sends until it closes (for answers to malformed requests).
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.reader.read_to_end(&mut out)?;
        self.peer_closed = true;
        Ok(out)
    }

    fn read_one(&mut self, head_request: bool) -> io::Result<Response> {
        // A client should ignore empty lines before the status line (RFC 9112 §2.2).
        let status_line = loop {
            match self.read_line()? {
                None => {
                    self.peer_closed = true;
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before a response",
                    ));
                }
                Some(line) if line.is_empty() => continue,
                Some(line) => break line,
            }
        };
        let (version, status, reason) = parse_status_line(&status_line)?;
        let headers = self.read_fields("header")?;
        let mut response = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            trailers: Vec::new(),
        };
        let no_body =
            head_request || (100..200).contains(&status) || status == 204 || status == 304;
        if no_body {
            // nothing to read
        } else if let Some(te) = response.header("transfer-encoding") {
            if last_token_is(te, "chunked") {
                self.read_chunked(&mut response)?;
            } else {
                // Not chunked last: the body runs to the close (RFC 9112 §6.3 rule 4).
                response.body = self.read_to_close()?;
            }
        } else if let Some(length) = content_length(&response.headers)? {
            response.body = self.read_exact_body(length)?;
        } else {
            response.body = self.read_to_close()?;
        }
        Ok(response)
    }

    fn read_exact_body(&mut self, length: u64) -> io::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(length.min(MAX_PREALLOC) as usize);
        self.append_exact(length, &mut body)?;
        Ok(body)
    }

    /// Appends exactly `length` bytes to `out`; large reads bypass the buffer (BufReader does
    /// that once its buffer is drained), so a 10 MiB body costs a few hundred syscalls.
    fn append_exact(&mut self, length: u64, out: &mut Vec<u8>) -> io::Result<()> {
        let before = out.len();
        (&mut self.reader).take(length).read_to_end(out)?;
        let got = (out.len() - before) as u64;
        if got < length {
            self.peer_closed = true;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("body truncated: got {got} of {length} bytes"),
            ));
        }
        Ok(())
    }

    fn read_chunked(&mut self, response: &mut Response) -> io::Result<()> {
        loop {
            let line = self.read_line()?.ok_or_else(|| eof("chunk size line"))?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
            let size_text = String::from_utf8_lossy(size_text);
            let size = u64::from_str_radix(size_text.trim(), 16).map_err(|_| {
                invalid(format!(
                    "bad chunk size line {:?}",
                    String::from_utf8_lossy(&line)
                ))
            })?;
            if size == 0 {
                response.trailers = self.read_fields("trailer")?;
                return Ok(());
            }
            self.append_exact(size, &mut response.body)?;
            let end = self.read_line()?.ok_or_else(|| eof("chunk data CRLF"))?;
            if !end.is_empty() {
                return Err(invalid(format!(
                    "chunk of {size} bytes not followed by CRLF but {:?}",
                    String::from_utf8_lossy(&end)
                )));
            }
        }
    }

    /// Header (or trailer) lines up to the empty line; obs-fold continuation lines are joined.
    fn read_fields(&mut self, what: &str) -> io::Result<Vec<(String, String)>> {
        let mut fields: Vec<(String, String)> = Vec::new();
        loop {
            let line = self.read_line()?.ok_or_else(|| eof(what))?;
            if line.is_empty() {
                return Ok(fields);
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            if text.starts_with([' ', '\t']) {
                match fields.last_mut() {
                    Some((_, value)) => {
                        value.push(' ');
                        value.push_str(text.trim());
                        continue;
                    }
                    None => {
                        return Err(invalid(format!(
                            "{what} continuation without a field: {text:?}"
                        )))
                    }
                }
            }
            let (name, value) = text
                .split_once(':')
                .ok_or_else(|| invalid(format!("{what} line without ':': {text:?}")))?;
            fields.push((name.to_string(), value.trim().to_string()));
            if fields.len() > MAX_HEADERS {
                return Err(invalid(format!("more than {MAX_HEADERS} {what} lines")));
            }
        }
    }

    /// One line without its CRLF (or bare LF); None at a clean end of stream.
    fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        (&mut self.reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') {
            if line.len() as u64 >= MAX_LINE {
                return Err(invalid(format!("line longer than {MAX_LINE} bytes")));
            }
            self.peer_closed = true;
            return Err(eof("the end of a line"));
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }
}

/// New connection, one request with `Connection: close` (unless the request sets Connection).
pub fn request(addr: SocketAddr, req: &Request) -> io::Result<Response> {
    let mut req = req.clone();
    if find_header(&req.headers, "connection").is_none() {
        req.headers
            .push(("Connection".to_string(), "close".to_string()));
    }
    Connection::open(addr)?.send(&req)
}

pub fn get(addr: SocketAddr, path: &str) -> io::Result<Response> {
    request(addr, &Request::get(path))
}

fn parse_status_line(line: &[u8]) -> io::Result<(String, u16, String)> {
    let text = String::from_utf8_lossy(line);
    let bad = || invalid(format!("bad status line {text:?}"));
    let (version, rest) = text.split_once(' ').ok_or_else(bad)?;
    if !version.starts_with("HTTP/") {
        return Err(bad());
    }
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let status = code.parse().map_err(|_| bad())?;
    Ok((version.to_string(), status, reason.to_string()))
}

/// The Content-Length, if any; several values must agree (RFC 9110 §8.6).
fn content_length(headers: &[(String, String)]) -> io::Result<Option<u64>> {
    let mut length = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        for part in value.split(',') {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?;
            if length.is_some_and(|l| l != n) {
                return Err(invalid("conflicting Content-Length values"));
            }
            length = Some(n);
        }
    }
    Ok(length)
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn has_token(list: &str, token: &str) -> bool {
    list.split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn last_token_is(list: &str, token: &str) -> bool {
    list.rsplit(',')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(token))
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn eof(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed while reading {what}"),
    )
}
