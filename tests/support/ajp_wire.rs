//! The container's end of the AJP13 wire (reference §6), shared by everything that plays Tomcat in
//! the tests: it decodes what a container receives (packet framing, FORWARD_REQUEST with its coded
//! headers and attributes, request body packets, CPING) and encodes what a container sends
//! (SEND_HEADERS, SEND_BODY_CHUNK, END_RESPONSE, GET_BODY_CHUNK, CPONG).
//!
//! It is independent of the crate's own codec (`src/ajp/`), on purpose: a misreading of the
//! protocol must not hide in both ends at once.
//!
//! Users, each through `#[path = "…/ajp_wire.rs"] mod ajp_wire;`: the fault-injecting test
//! backend (`tests/support/ajp_backend.rs`), the benchmark's responder
//! (`tests/bench/ajp_responder.rs`) and the scripted peers of `src/service_tests.rs`. Its own tests
//! are in `tests/support_selftest/ajp_wire_tests.rs`: there they run once, not in every binary that
//! includes this file.
//!
//! Standard library only (`rustc` alone builds the responder). Decoding borrows from the packet and
//! encoding appends to the caller's buffer, so nothing allocates but [`read_packet_to_vec`], which
//! is for test code. The benchmark's responder relies on that: it allocates nothing per request.
//!
//! The decoder is strict about structure (lengths, NUL terminators, the attribute terminator,
//! boolean bytes) and leaves vocabulary to its users: method, header and attribute codes come out
//! as sent, with [`method_name`], [`request_header_name`] and [`attribute_name`] to name them.

#![allow(dead_code)]

use std::fmt;
use std::io::{self, Read};

/// Packet size Tomcat and mod_jk use unless configured otherwise (§6.1).
pub const DEFAULT_MAX_PACKET: usize = 8192;
/// Magic, then a u16 payload length.
pub const PACKET_HEADER_LEN: usize = 4;
/// Largest payload a u16 length can describe.
pub const MAX_PAYLOAD: usize = 0xFFFF;

pub const MAGIC_TO_CONTAINER: [u8; 2] = [0x12, 0x34];
pub const MAGIC_FROM_CONTAINER: [u8; 2] = [b'A', b'B'];

pub const FORWARD_REQUEST: u8 = 2;
pub const SEND_BODY_CHUNK: u8 = 3;
pub const SEND_HEADERS: u8 = 4;
pub const END_RESPONSE: u8 = 5;
pub const GET_BODY_CHUNK: u8 = 6;
pub const SHUTDOWN: u8 = 7;
pub const CPONG: u8 = 9;
pub const CPING: u8 = 10;

/// Method byte meaning "the real name is in the stored_method attribute" (mod_jk's SC_M_JK_STORED).
pub const STORED_METHOD: u8 = 0xFF;
pub const METHOD_HEAD: u8 = 3;
pub const QUERY_STRING: u8 = 0x05;
pub const REQ_ATTRIBUTE: u8 = 0x0A;
pub const SSL_KEY_SIZE: u8 = 0x0B;
pub const ATTRIBUTES_END: u8 = 0xFF;
/// A string of this length is the null string: neither bytes nor NUL follow.
pub const NULL_STRING: u16 = 0xFFFF;
/// High byte of a coded header name (0xA0xx); no string that long fits a packet.
pub const HEADER_CODE_PREFIX: u8 = 0xA0;

/// Tomcat's largest SEND_BODY_CHUNK data in a packet of `max_packet` bytes: packet header, type,
/// chunk length and trailing NUL off.
pub const fn max_body_chunk(max_packet: usize) -> usize {
    max_packet - 8
}

/// The most request body one web-server packet of `max_packet` bytes carries (packet header and
/// data length off): what a container asks for with GET_BODY_CHUNK.
pub const fn max_request_body_data(max_packet: usize) -> usize {
    max_packet - 6
}

/// Method codes 1..=27 (§6.3).
pub const METHODS: [&str; 27] = [
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

/// Request header codes 0xA001..=0xA00E, named in lower case.
pub const REQUEST_HEADERS: [&str; 14] = [
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
pub const RESPONSE_HEADERS: [&str; 11] = [
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

/// The method a method code stands for (not [`STORED_METHOD`]: its name is an attribute).
pub fn method_name(code: u8) -> Option<&'static str> {
    METHODS.get(usize::from(code).checked_sub(1)?).copied()
}

/// The lower-case name of a coded request header (0xA001..=0xA00E).
pub fn request_header_name(code: u16) -> Option<&'static str> {
    let [prefix, index] = code.to_be_bytes();
    if prefix != HEADER_CODE_PREFIX {
        return None;
    }
    REQUEST_HEADERS
        .get(usize::from(index).checked_sub(1)?)
        .copied()
}

/// The code of a response header name (compared case-insensitively), if it has one.
pub fn response_header_code(name: &[u8]) -> Option<u16> {
    let index = RESPONSE_HEADERS
        .iter()
        .position(|known| known.as_bytes().eq_ignore_ascii_case(name))?;
    Some(0xA001 + index as u16)
}

/// The name of a string attribute code (the codes other than 0x0A, 0x0B and 0xFF).
pub fn attribute_name(code: u8) -> Option<&'static str> {
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

// ---------------------------------------------------------------------------------------------
// Framing: reading web-server packets
// ---------------------------------------------------------------------------------------------

/// Why a web-server packet could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The socket failed (a read timeout included).
    Io(io::Error),
    /// The peer closed after part of the 4-byte packet header.
    ClosedInHeader,
    /// The peer closed inside the payload.
    ClosedInPayload,
    /// The packet does not start with 0x12 0x34.
    BadMagic([u8; 2]),
    /// The payload is longer than the reader accepts.
    TooLarge { len: usize, limit: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(error) => write!(f, "{error}"),
            FrameError::ClosedInHeader => f.write_str("connection closed inside a packet header"),
            FrameError::ClosedInPayload => f.write_str("connection closed inside a packet"),
            FrameError::BadMagic([m0, m1]) => write!(f, "bad magic {m0:02x} {m1:02x}"),
            FrameError::TooLarge { len, limit } => {
                write!(
                    f,
                    "packet payload of {len} bytes exceeds the limit of {limit}"
                )
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads a packet header; the payload length, or `None` when the peer closed before its first
/// byte (between requests, the normal end of a connection).
fn read_header(reader: &mut impl Read, limit: usize) -> Result<Option<usize>, FrameError> {
    let mut header = [0u8; PACKET_HEADER_LEN];
    let mut filled = 0;
    while let Some(rest) = header.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match reader.read(rest) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::ClosedInHeader),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let [m0, m1, l0, l1] = header;
    if [m0, m1] != MAGIC_TO_CONTAINER {
        return Err(FrameError::BadMagic([m0, m1]));
    }
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if len > limit {
        return Err(FrameError::TooLarge { len, limit });
    }
    Ok(Some(len))
}

fn read_payload(reader: &mut impl Read, payload: &mut [u8]) -> Result<(), FrameError> {
    reader.read_exact(payload).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FrameError::ClosedInPayload,
        _ => FrameError::Io(e),
    })
}

/// Reads one web-server packet into `buffer`, whose length is the largest payload accepted;
/// returns the payload length, or `None` when the peer closed between packets. Allocates nothing.
pub fn read_packet(reader: &mut impl Read, buffer: &mut [u8]) -> Result<Option<usize>, FrameError> {
    let Some(len) = read_header(reader, buffer.len())? else {
        return Ok(None);
    };
    read_payload(reader, buffer.get_mut(..len).unwrap_or_default())?;
    Ok(Some(len))
}

/// Like [`read_packet`], into a new `Vec` of the payload's size; `limit` is the largest payload
/// accepted. For test code, where an allocation per packet does not matter.
pub fn read_packet_to_vec(
    reader: &mut impl Read,
    limit: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let Some(len) = read_header(reader, limit)? else {
        return Ok(None);
    };
    let mut payload = vec![0; len];
    read_payload(reader, &mut payload)?;
    Ok(Some(payload))
}

// ---------------------------------------------------------------------------------------------
// Decoding payloads
// ---------------------------------------------------------------------------------------------

/// What is wrong with a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The payload ends before this field does.
    Truncated(&'static str),
    /// This string's bytes are followed by this byte instead of NUL.
    NoNul(&'static str, u8),
    /// The null string (length 0xFFFF) where a string is required.
    NullString(&'static str),
    /// This boolean field holds a byte other than 0 or 1.
    NotABoolean(&'static str, u8),
    /// The payload is not of the expected type.
    WrongType { expected: u8, found: u8 },
    /// Bytes follow the attribute terminator.
    TrailingBytes(usize),
    /// A request body packet's length field disagrees with the data it carries.
    BodyLength { declared: usize, carried: usize },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated(what) => write!(f, "packet too short for {what}"),
            WireError::NoNul(what, byte) => {
                write!(f, "{what} ends with {byte:#04x} instead of NUL")
            }
            WireError::NullString(what) => write!(f, "{what} is the null string"),
            WireError::NotABoolean(what, byte) => write!(f, "{what} byte {byte:#04x}"),
            WireError::WrongType { expected, found } => {
                write!(f, "packet type {found} where {expected} was expected")
            }
            WireError::TrailingBytes(n) => write!(f, "{n} bytes after the attribute terminator"),
            WireError::BodyLength { declared, carried } => {
                write!(
                    f,
                    "body packet declares {declared} bytes but carries {carried}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Reads AJP13 fields (§6.1: byte, u16, string) front to back from one payload, borrowing.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(bytes: &'a [u8]) -> Fields<'a> {
        Fields { bytes, pos: 0 }
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let taken = self
            .pos
            .checked_add(len)
            .and_then(|end| self.bytes.get(self.pos..end))
            .ok_or(WireError::Truncated(what))?;
        self.pos += len;
        Ok(taken)
    }

    pub fn byte(&mut self, what: &'static str) -> Result<u8, WireError> {
        let [byte] = *self.take(1, what)? else {
            return Err(WireError::Truncated(what));
        };
        Ok(byte)
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        let [high, low] = *self.take(2, what)? else {
            return Err(WireError::Truncated(what));
        };
        Ok(u16::from_be_bytes([high, low]))
    }

    /// The next u16 without consuming it.
    pub fn peek_u16(&self) -> Option<u16> {
        let mut ahead = *self;
        ahead.u16("").ok()
    }

    /// A string's bytes (without the NUL), or `None` for the null string.
    pub fn string(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, WireError> {
        let len = self.u16(what)?;
        if len == NULL_STRING {
            return Ok(None);
        }
        let text = self.take(usize::from(len), what)?;
        match self.byte(what)? {
            0 => Ok(Some(text)),
            other => Err(WireError::NoNul(what, other)),
        }
    }

    /// A string that must not be the null string.
    pub fn required_string(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        self.string(what)?.ok_or(WireError::NullString(what))
    }

    /// A byte that must be 0 or 1.
    pub fn boolean(&mut self, what: &'static str) -> Result<bool, WireError> {
        match self.byte(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(WireError::NotABoolean(what, other)),
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

/// Whether a payload is a CPING (§6.2: the single byte 10).
pub fn is_cping(payload: &[u8]) -> bool {
    payload == [CPING]
}

/// The data of a request body packet (§6.5: u16 length, then the bytes); empty for the empty
/// packet that ends a body of unknown length (or tells that the client went away).
pub fn request_body_data(payload: &[u8]) -> Result<&[u8], WireError> {
    if payload.is_empty() {
        return Ok(payload);
    }
    let mut fields = Fields::new(payload);
    let declared = usize::from(fields.u16("body data length")?);
    let data = payload.get(2..).unwrap_or_default();
    if declared != data.len() {
        return Err(WireError::BodyLength {
            declared,
            carried: data.len(),
        });
    }
    Ok(data)
}

/// A FORWARD_REQUEST (§6.3, with mod_jk's divergences of §6.6: method 0xFF, ssl_key_size as a
/// u16): its fixed fields as sent, and its headers and attributes through
/// [`ForwardRequest::parts`].
#[derive(Debug, Clone, Copy)]
pub struct ForwardRequest<'a> {
    /// Method code as sent ([`method_name`]; [`STORED_METHOD`] names it in an attribute).
    pub method: u8,
    pub protocol: Option<&'a [u8]>,
    pub req_uri: Option<&'a [u8]>,
    pub remote_addr: Option<&'a [u8]>,
    pub remote_host: Option<&'a [u8]>,
    pub server_name: Option<&'a [u8]>,
    pub server_port: u16,
    pub is_ssl: bool,
    header_count: u16,
    /// Positioned at the first header.
    rest: Fields<'a>,
}

impl<'a> ForwardRequest<'a> {
    /// Decodes the fixed fields of a FORWARD_REQUEST payload (type byte included); the headers and
    /// attributes are decoded by iterating [`ForwardRequest::parts`].
    pub fn decode(payload: &'a [u8]) -> Result<ForwardRequest<'a>, WireError> {
        let mut fields = Fields::new(payload);
        let found = fields.byte("packet type")?;
        if found != FORWARD_REQUEST {
            return Err(WireError::WrongType {
                expected: FORWARD_REQUEST,
                found,
            });
        }
        Ok(ForwardRequest {
            method: fields.byte("method")?,
            protocol: fields.string("protocol")?,
            req_uri: fields.string("req_uri")?,
            remote_addr: fields.string("remote_addr")?,
            remote_host: fields.string("remote_host")?,
            server_name: fields.string("server_name")?,
            server_port: fields.u16("server_port")?,
            is_ssl: fields.boolean("is_ssl")?,
            header_count: fields.u16("num_headers")?,
            rest: fields,
        })
    }

    /// The headers, then the attributes, in the order sent. Iteration ends after the attribute
    /// terminator, or with the first error (bytes after the terminator are one).
    pub fn parts(&self) -> Parts<'a> {
        Parts {
            fields: self.rest,
            headers_left: self.header_count,
            done: false,
        }
    }
}

/// One header or attribute of a FORWARD_REQUEST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    Header(HeaderName<'a>, &'a [u8]),
    Attribute(Attribute<'a>),
}

/// A request header name as sent: a code (0xA0xx) or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderName<'a> {
    Coded(u16),
    Spelled(&'a [u8]),
}

impl<'a> HeaderName<'a> {
    /// The name: a coded one in lower case (see [`REQUEST_HEADERS`]), a string one as sent;
    /// `None` for an unknown code.
    pub fn name(&self) -> Option<&'a [u8]> {
        match *self {
            HeaderName::Coded(code) => request_header_name(code).map(str::as_bytes),
            HeaderName::Spelled(name) => Some(name),
        }
    }

    /// Whether this is the header `name` (compared case-insensitively).
    pub fn is(&self, name: &str) -> bool {
        self.name()
            .is_some_and(|own| own.eq_ignore_ascii_case(name.as_bytes()))
    }
}

/// A FORWARD_REQUEST attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// A string attribute by code ([`attribute_name`]); an unknown code is read as one too.
    Coded(u8, &'a [u8]),
    /// A req_attribute (0x0A): name and value.
    Named(&'a [u8], &'a [u8]),
    /// ssl_key_size (0x0B), which mod_jk sends as a u16, not as the string the spec names.
    SslKeySize(u16),
}

/// Iterator over the headers and attributes of a FORWARD_REQUEST ([`ForwardRequest::parts`]).
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    fields: Fields<'a>,
    headers_left: u16,
    done: bool,
}

impl<'a> Parts<'a> {
    fn header(&mut self) -> Result<Part<'a>, WireError> {
        let coded = self
            .fields
            .peek_u16()
            .filter(|mark| mark.to_be_bytes()[0] == HEADER_CODE_PREFIX);
        let name = match coded {
            Some(code) => {
                self.fields.u16("header code")?;
                HeaderName::Coded(code)
            }
            None => HeaderName::Spelled(self.fields.required_string("header name")?),
        };
        let value = self.fields.required_string("header value")?;
        Ok(Part::Header(name, value))
    }

    /// The next attribute; `None` at the terminator.
    fn attribute(&mut self) -> Result<Option<Part<'a>>, WireError> {
        let attribute = match self.fields.byte("attribute code (or 0xFF)")? {
            ATTRIBUTES_END => {
                return match self.fields.remaining() {
                    0 => Ok(None),
                    n => Err(WireError::TrailingBytes(n)),
                }
            }
            REQ_ATTRIBUTE => Attribute::Named(
                self.fields.required_string("req_attribute name")?,
                self.fields.required_string("req_attribute value")?,
            ),
            SSL_KEY_SIZE => Attribute::SslKeySize(self.fields.u16("ssl_key_size")?),
            code => Attribute::Coded(
                code,
                self.fields
                    .required_string(attribute_name(code).unwrap_or("attribute"))?,
            ),
        };
        Ok(Some(Part::Attribute(attribute)))
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = Result<Part<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = if self.headers_left > 0 {
            self.headers_left -= 1;
            self.header().map(Some)
        } else {
            self.attribute()
        };
        self.done = !matches!(next, Ok(Some(_)));
        next.transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding container packets
// ---------------------------------------------------------------------------------------------

/// A container packet whose payload exceeds what a u16 length describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong(pub usize);

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "answer packet of {} bytes does not fit AJP framing",
            self.0
        )
    }
}

impl std::error::Error for TooLong {}

/// A container packet being appended to a buffer: `AB`, a length patched by
/// [`Packet::finish`], the type code, then the fields. Dropped unfinished it leaves a packet of
/// length 0 behind.
pub struct Packet<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
}

impl<'o> Packet<'o> {
    pub fn begin(out: &'o mut Vec<u8>, code: u8) -> Packet<'o> {
        let start = out.len();
        out.extend_from_slice(&MAGIC_FROM_CONTAINER);
        out.extend_from_slice(&[0, 0, code]);
        Packet { out, start }
    }

    pub fn byte(&mut self, value: u8) -> &mut Self {
        self.out.push(value);
        self
    }

    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.out.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn bytes(&mut self, data: &[u8]) -> &mut Self {
        self.out.extend_from_slice(data);
        self
    }

    /// An AJP string: u16 length, bytes, NUL. One too long for its length field makes the packet
    /// too long as well, which [`Packet::finish`] reports.
    pub fn string(&mut self, text: &[u8]) -> &mut Self {
        let len = text.len().min(usize::from(NULL_STRING - 1)) as u16;
        self.u16(len).bytes(text).byte(0)
    }

    /// Payload bytes so far, the type code included.
    pub fn payload_len(&self) -> usize {
        self.out.len() - self.start - PACKET_HEADER_LEN
    }

    /// Writes the payload length into the packet header; a payload that does not fit is taken out
    /// of the buffer again.
    pub fn finish(self) -> Result<(), TooLong> {
        let len = self.payload_len();
        let Ok(field) = u16::try_from(len) else {
            self.out.truncate(self.start);
            return Err(TooLong(len));
        };
        if let Some(slot) = self.out.get_mut(self.start + 2..self.start + 4) {
            slot.copy_from_slice(&field.to_be_bytes());
        }
        Ok(())
    }
}

/// How SEND_HEADERS writes header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// As a 0xA0xx code where the name has one ([`RESPONSE_HEADERS`]), as Tomcat does.
    Coded,
    /// Always as a string.
    Spelled,
}

/// Appends SEND_HEADERS (§6.4): status, reason phrase, then the headers in order.
pub fn send_headers<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    status: u16,
    reason: &[u8],
    headers: &[(N, V)],
    names: Names,
) -> Result<(), TooLong> {
    let mut packet = Packet::begin(out, SEND_HEADERS);
    packet.u16(status).string(reason);
    packet.u16(headers.len().min(usize::from(u16::MAX)) as u16);
    for (name, value) in headers {
        let name = name.as_ref();
        match response_header_code(name).filter(|_| names == Names::Coded) {
            Some(code) => packet.u16(code),
            None => packet.string(name),
        };
        packet.string(value.as_ref());
    }
    packet.finish()
}

/// Appends SEND_BODY_CHUNK (§6.4): u16 length, the data, and the NUL Tomcat sends after it.
pub fn send_body_chunk(out: &mut Vec<u8>, data: &[u8]) -> Result<(), TooLong> {
    let mut packet = Packet::begin(out, SEND_BODY_CHUNK);
    packet
        .u16(data.len().min(usize::from(u16::MAX)) as u16)
        .bytes(data)
        .byte(0);
    packet.finish()
}

/// Appends END_RESPONSE; `reuse` 1 keeps the connection, 0 closes it (any other byte is a fault).
pub fn end_response(out: &mut Vec<u8>, reuse: u8) {
    out.extend_from_slice(&[b'A', b'B', 0, 2, END_RESPONSE, reuse]);
}

/// Appends GET_BODY_CHUNK asking for up to `len` bytes of request body.
pub fn get_body_chunk(out: &mut Vec<u8>, len: u16) {
    let [high, low] = len.to_be_bytes();
    out.extend_from_slice(&[b'A', b'B', 0, 3, GET_BODY_CHUNK, high, low]);
}

/// Appends CPONG, the answer to CPING.
pub fn cpong(out: &mut Vec<u8>) {
    out.extend_from_slice(&[b'A', b'B', 0, 1, CPONG]);
}
