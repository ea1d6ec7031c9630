//! Container -> web server packets (reference §6.4, §6.6): SEND_HEADERS, SEND_BODY_CHUNK,
//! END_RESPONSE, GET_BODY_CHUNK and CPONG, parsed from a byte slice into views that borrow it.
//! Every length the container sends is checked against the bytes actually there, with mod_jk's
//! hardening: body chunk within the payload, reuse flag 0xFF and requested length 0xFFFF refused.

use std::fmt;
use std::iter::FusedIterator;

use super::codes::{
    response_header_name, AJP14_MAGIC, CODED_HEADER_MARK, CPONG, END_RESPONSE, GET_BODY_CHUNK,
    HEADER_LEN, RESPONSE_MAGIC, SEND_BODY_CHUNK, SEND_HEADERS,
};
use super::packet::PacketReader;

/// One message from the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response<'a> {
    SendHeaders(SendHeaders<'a>),
    /// Response body bytes; empty means "flush" (§6.6 item 5).
    BodyChunk(&'a [u8]),
    /// `reuse`: the container will keep the connection open for another request.
    EndResponse {
        reuse: bool,
    },
    /// The container wants up to `requested` more bytes of request body.
    GetBodyChunk {
        requested: u16,
    },
    CPong,
}

/// Status line and headers of SEND_HEADERS. The headers stay as validated wire bytes and are
/// decoded on iteration, so parsing allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendHeaders<'a> {
    pub status: u16,
    /// Reason phrase; empty if the container sent a null string.
    pub reason: &'a [u8],
    count: u16,
    /// Exactly the `count` encoded (name, value) pairs, already checked by `parse_payload`.
    raw: &'a [u8],
}

impl<'a> SendHeaders<'a> {
    /// Number of headers.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// (name, value) pairs in wire order; coded names come back as their canonical spelling,
    /// e.g. `b"Content-Type"`. Null strings come back empty.
    pub fn headers(&self) -> ResponseHeaders<'a> {
        ResponseHeaders {
            reader: PacketReader::new(self.raw),
            remaining: self.count,
        }
    }

    /// Value of the first header called `name`, ignoring ASCII case.
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }
}

impl fmt::Debug for SendHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendHeaders")
            .field("status", &self.status)
            .field("reason", &Escaped(self.reason))
            .field(
                "headers",
                &Pairs(self.headers()), // shown decoded, not as raw bytes
            )
            .finish()
    }
}

/// Bytes shown as escaped ASCII in debug output.
struct Escaped<'a>(&'a [u8]);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

struct Pairs<'a>(ResponseHeaders<'a>);

impl fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .clone()
                    .map(|(name, value)| (Escaped(name), Escaped(value))),
            )
            .finish()
    }
}

/// Iterator over the headers of a [`SendHeaders`].
#[derive(Debug, Clone)]
pub struct ResponseHeaders<'a> {
    reader: PacketReader<'a>,
    remaining: u16,
}

impl<'a> Iterator for ResponseHeaders<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.remaining = self.remaining.checked_sub(1)?;
        // Cannot fail: parse_payload read these same bytes with this same function.
        let header = read_header(&mut self.reader).ok();
        if header.is_none() {
            self.remaining = 0;
        }
        header
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.remaining);
        (n, Some(n))
    }
}

impl ExactSizeIterator for ResponseHeaders<'_> {}
impl FusedIterator for ResponseHeaders<'_> {}

/// Why bytes from the container are not a valid AJP13 response message. Any of these ends the
/// connection: the stream can no longer be trusted to be in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The packet does not start with `'A' 'B'`.
    BadMagic,
    /// The packet starts with AJP14's `0x12 0x35`: the worker is probably configured for the wrong
    /// protocol.
    Ajp14Magic,
    /// The payload length `len` exceeds the `max` payload of `max_packet_size - 4`.
    TooLong { len: usize, max: usize },
    /// A packet with no payload, so no message type.
    EmptyPayload,
    /// A message type the container must not send.
    UnknownType(u8),
    /// The payload ended inside the named field.
    Truncated { what: &'static str },
    /// SEND_BODY_CHUNK claims more bytes than the payload holds (CVE-2006-7197 hardening).
    BodyChunkTooLong { claimed: usize, available: usize },
    /// END_RESPONSE reuse flag 0xFF, which mod_jk refuses.
    BadReuseFlag(u8),
    /// A response header code 0xA0xx that AJP does not define.
    UnknownHeaderCode(u16),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::BadMagic => f.write_str("AJP response packet without the 'AB' magic"),
            ProtocolError::Ajp14Magic => {
                f.write_str("AJP response packet with AJP14 magic 0x1235 instead of 'AB'")
            }
            ProtocolError::TooLong { len, max } => write!(
                f,
                "AJP response payload of {len} bytes exceeds the maximum of {max} \
                 (max_packet_size may differ from Tomcat's packetSize)"
            ),
            ProtocolError::EmptyPayload => f.write_str("AJP response packet with empty payload"),
            ProtocolError::UnknownType(t) => write!(f, "unknown AJP response message type {t}"),
            ProtocolError::Truncated { what } => {
                write!(f, "AJP response message truncated in {what}")
            }
            ProtocolError::BodyChunkTooLong { claimed, available } => write!(
                f,
                "AJP body chunk claims {claimed} bytes but only {available} follow"
            ),
            ProtocolError::BadReuseFlag(flag) => {
                write!(f, "AJP END_RESPONSE with invalid reuse flag {flag:#04x}")
            }
            ProtocolError::UnknownHeaderCode(code) => {
                write!(f, "unknown AJP response header code {code:#06x}")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Checks the magic, given as many of its two bytes as have arrived. `None`: fine so far.
fn magic_error(seen: &[u8]) -> Option<ProtocolError> {
    if RESPONSE_MAGIC.starts_with(seen) {
        None
    } else if seen == AJP14_MAGIC {
        Some(ProtocolError::Ajp14Magic)
    } else if AJP14_MAGIC.starts_with(seen) {
        // A lone 0x12 is wrong either way; wait for the next byte to say which error it is.
        None
    } else {
        Some(ProtocolError::BadMagic)
    }
}

/// Validates the 4-byte packet header ('A' 'B' magic, 0 < length <= max_packet - 4) and returns
/// the payload length.
pub fn parse_header(header: &[u8; 4], max_packet: usize) -> Result<usize, ProtocolError> {
    let [magic_hi, magic_lo, len_hi, len_lo] = *header;
    if let Some(error) = magic_error(&[magic_hi, magic_lo]) {
        return Err(error);
    }
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let max = max_packet.saturating_sub(HEADER_LEN);
    if len > max {
        return Err(ProtocolError::TooLong { len, max });
    }
    if len == 0 {
        return Err(ProtocolError::EmptyPayload);
    }
    Ok(len)
}

/// Parses one complete payload (the bytes after the 4-byte header). Bytes after the message are
/// ignored: Tomcat follows body chunk data with a NUL.
#[inline]
pub fn parse_payload(payload: &[u8]) -> Result<Response<'_>, ProtocolError> {
    let mut reader = PacketReader::new(payload);
    let kind = reader
        .byte("message type")
        .map_err(|_| ProtocolError::EmptyPayload)?;
    match kind {
        SEND_BODY_CHUNK => {
            let claimed = usize::from(reader.u16("body chunk length")?);
            let available = reader.rest().len();
            if claimed > available {
                return Err(ProtocolError::BodyChunkTooLong { claimed, available });
            }
            reader.bytes(claimed, "body chunk").map(Response::BodyChunk)
        }
        SEND_HEADERS => parse_send_headers(reader).map(Response::SendHeaders),
        END_RESPONSE => match reader.byte("reuse flag")? {
            // mod_jk's byte getter answers 0xFF when out of data, so it refuses 0xFF outright.
            0xFF => Err(ProtocolError::BadReuseFlag(0xFF)),
            flag => Ok(Response::EndResponse { reuse: flag != 0 }),
        },
        // Any length, 0xFFFF included (a container with an odd packetSize asks for it): the
        // answer is capped at what a packet holds, as mod_jk does.
        GET_BODY_CHUNK => Ok(Response::GetBodyChunk {
            requested: reader.u16("requested length")?,
        }),
        CPONG => Ok(Response::CPong),
        other => Err(ProtocolError::UnknownType(other)),
    }
}

fn parse_send_headers(mut reader: PacketReader<'_>) -> Result<SendHeaders<'_>, ProtocolError> {
    let status = reader.u16("status")?;
    let reason = reader.string("reason")?;
    let count = reader.u16("header count")?;
    let headers_start = reader.rest();
    for _ in 0..count {
        read_header(&mut reader)?;
    }
    let used = headers_start.len().saturating_sub(reader.rest().len());
    Ok(SendHeaders {
        status,
        reason,
        count,
        raw: headers_start.get(..used).unwrap_or_default(),
    })
}

/// One response header: a 0xA0xx code or a string name, then a string value.
fn read_header<'a>(reader: &mut PacketReader<'a>) -> Result<(&'a [u8], &'a [u8]), ProtocolError> {
    let name = match reader.peek_u16() {
        Some(code) if code >> 8 == u16::from(CODED_HEADER_MARK) => {
            reader.u16("header name")?;
            response_header_name(code).ok_or(ProtocolError::UnknownHeaderCode(code))?
        }
        _ => reader.string("header name")?,
    };
    let value = reader.string("header value")?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::super::codes::{DEFAULT_MAX_PACKET, MAX_MAX_PACKET};
    use super::*;

    /// The connection's way through a buffer that may hold a partial packet, for the tests:
    /// `Ok(None)` = need more bytes; `Ok(Some((msg, consumed)))`. A wrong magic is reported as
    /// soon as its bytes arrive.
    fn decode(
        buf: &[u8],
        max_packet: usize,
    ) -> Result<Option<(Response<'_>, usize)>, ProtocolError> {
        if let Some(error) = magic_error(buf.get(..2).unwrap_or(buf)) {
            return Err(error);
        }
        let Some((header, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let len = parse_header(header, max_packet)?;
        let Some(payload) = rest.get(..len) else {
            return Ok(None);
        };
        let message = parse_payload(payload)?;
        Ok(Some((message, HEADER_LEN + len)))
    }

    /// Frames a payload as the container would.
    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut packet = b"AB".to_vec();
        packet.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
        packet.extend_from_slice(payload);
        packet
    }

    /// 200 OK with a coded, a string-named and another coded header.
    const SEND_HEADERS_PACKET: &[u8] = b"AB\x00\x2d\
        \x04\
        \x00\xc8\
        \x00\x02OK\x00\
        \x00\x03\
        \xa0\x01\x00\x09text/html\x00\
        \x00\x06X-Test\x00\x00\x011\x00\
        \xa0\x07\x00\x03a=b\x00";
    const BODY_CHUNK_PACKET: &[u8] = b"AB\x00\x06\x03\x00\x03abc";
    const BODY_CHUNK_WITH_NUL_PACKET: &[u8] = b"AB\x00\x07\x03\x00\x03abc\x00";
    const END_RESPONSE_PACKET: &[u8] = b"AB\x00\x02\x05\x01";
    const GET_BODY_CHUNK_PACKET: &[u8] = b"AB\x00\x03\x06\x1f\xfa";
    const CPONG_PACKET: &[u8] = b"AB\x00\x01\x09";

    /// Every valid packet with no bytes after its message, so every shorter payload is invalid.
    const TIGHT_PACKETS: [&[u8]; 5] = [
        SEND_HEADERS_PACKET,
        BODY_CHUNK_PACKET,
        END_RESPONSE_PACKET,
        GET_BODY_CHUNK_PACKET,
        CPONG_PACKET,
    ];

    fn parse(payload: &[u8]) -> Result<Response<'_>, ProtocolError> {
        parse_payload(payload)
    }

    fn headers_of(response: Response<'_>) -> SendHeaders<'_> {
        match response {
            Response::SendHeaders(headers) => headers,
            other => panic!("expected SEND_HEADERS, got {other:?}"),
        }
    }

    fn header_list<'a>(headers: &SendHeaders<'a>) -> Vec<(&'a [u8], &'a [u8])> {
        headers.headers().collect()
    }

    // ---- Valid messages, byte-exact ----

    #[test]
    fn send_headers_with_coded_and_string_names() {
        let (message, used) = decode(SEND_HEADERS_PACKET, DEFAULT_MAX_PACKET)
            .unwrap()
            .unwrap();
        assert_eq!(used, SEND_HEADERS_PACKET.len());
        let headers = headers_of(message);
        assert_eq!(headers.status, 200);
        assert_eq!(headers.reason, b"OK");
        assert_eq!(headers.len(), 3);
        assert!(!headers.is_empty());
        assert_eq!(
            header_list(&headers),
            [
                (&b"Content-Type"[..], &b"text/html"[..]),
                (&b"X-Test"[..], &b"1"[..]),
                (&b"Set-Cookie"[..], &b"a=b"[..]),
            ]
        );
        assert_eq!(headers.headers().len(), 3);
        assert_eq!(headers.get(b"content-type"), Some(&b"text/html"[..]));
        assert_eq!(headers.get(b"x-test"), Some(&b"1"[..]));
        assert_eq!(headers.get(b"Location"), None);
    }

    #[test]
    fn every_coded_response_header_decodes_to_its_canonical_name() {
        let names: [&[u8]; 11] = [
            b"Content-Type",
            b"Content-Language",
            b"Content-Length",
            b"Date",
            b"Last-Modified",
            b"Location",
            b"Set-Cookie",
            b"Set-Cookie2",
            b"Servlet-Engine",
            b"Status",
            b"WWW-Authenticate",
        ];
        for (offset, name) in (0u8..).zip(names) {
            let payload = [4, 0, 200, 0, 0, 0, 0, 1, 0xA0, 1 + offset, 0, 1, b'v', 0];
            let headers = headers_of(parse(&payload).unwrap());
            assert_eq!(header_list(&headers), [(name, &b"v"[..])]);
        }
    }

    #[test]
    fn send_headers_without_headers_is_empty() {
        let headers = headers_of(parse(b"\x04\x01\x94\x00\x09Not Found\x00\x00\x00").unwrap());
        assert_eq!(headers.status, 404);
        assert_eq!(headers.reason, b"Not Found");
        assert!(headers.is_empty());
        assert_eq!(headers.headers().next(), None);
    }

    #[test]
    fn null_strings_in_send_headers_read_as_empty() {
        let payload = b"\x04\x00\xc8\xff\xff\x00\x02\
            \x00\x01X\x00\xff\xff\
            \xff\xff\x00\x01v\x00";
        let headers = headers_of(parse(payload).unwrap());
        assert_eq!(headers.reason, b"");
        assert_eq!(
            header_list(&headers),
            [(&b"X"[..], &b""[..]), (&b""[..], &b"v"[..])]
        );
    }

    #[test]
    fn body_chunk_borrows_its_data() {
        assert_eq!(
            decode(BODY_CHUNK_PACKET, DEFAULT_MAX_PACKET),
            Ok(Some((Response::BodyChunk(b"abc"), 10)))
        );
    }

    #[test]
    fn body_chunk_may_be_followed_by_tomcats_nul() {
        assert_eq!(
            decode(BODY_CHUNK_WITH_NUL_PACKET, DEFAULT_MAX_PACKET),
            Ok(Some((Response::BodyChunk(b"abc"), 11)))
        );
        assert_eq!(
            parse(b"\x03\x00\x01z\x00junk"),
            Ok(Response::BodyChunk(b"z"))
        );
    }

    #[test]
    fn empty_body_chunk_is_a_flush() {
        assert_eq!(parse(b"\x03\x00\x00"), Ok(Response::BodyChunk(b"")));
        assert_eq!(parse(b"\x03\x00\x00\x00"), Ok(Response::BodyChunk(b"")));
    }

    #[test]
    fn end_response_reuse_flag() {
        assert_eq!(
            decode(END_RESPONSE_PACKET, DEFAULT_MAX_PACKET),
            Ok(Some((Response::EndResponse { reuse: true }, 6)))
        );
        assert_eq!(
            parse(b"\x05\x00"),
            Ok(Response::EndResponse { reuse: false })
        );
        assert_eq!(
            parse(b"\x05\x02"),
            Ok(Response::EndResponse { reuse: true })
        );
        assert_eq!(
            parse(b"\x05\xfe"),
            Ok(Response::EndResponse { reuse: true })
        );
        assert_eq!(parse(b"\x05\xff"), Err(ProtocolError::BadReuseFlag(0xFF)));
    }

    #[test]
    fn get_body_chunk_length() {
        assert_eq!(
            decode(GET_BODY_CHUNK_PACKET, DEFAULT_MAX_PACKET),
            Ok(Some((Response::GetBodyChunk { requested: 8186 }, 7)))
        );
        assert_eq!(
            parse(b"\x06\x00\x00"),
            Ok(Response::GetBodyChunk { requested: 0 })
        );
        assert_eq!(
            parse(b"\x06\xff\xfe"),
            Ok(Response::GetBodyChunk { requested: 0xFFFE })
        );
        // 0xFFFF too: the exchange caps what it sends at one packet, as mod_jk does.
        assert_eq!(
            parse(b"\x06\xff\xff"),
            Ok(Response::GetBodyChunk { requested: 0xFFFF })
        );
    }

    #[test]
    fn cpong_answers_cping() {
        assert_eq!(
            decode(&[0x41, 0x42, 0x00, 0x01, 0x09], DEFAULT_MAX_PACKET),
            Ok(Some((Response::CPong, 5)))
        );
    }

    #[test]
    fn decode_consumes_one_packet_and_leaves_the_next() {
        let mut stream = CPONG_PACKET.to_vec();
        stream.extend_from_slice(BODY_CHUNK_PACKET);
        stream.extend_from_slice(&END_RESPONSE_PACKET[..3]);
        let (first, used) = decode(&stream, DEFAULT_MAX_PACKET).unwrap().unwrap();
        assert_eq!((first, used), (Response::CPong, 5));
        let (second, used2) = decode(&stream[used..], DEFAULT_MAX_PACKET)
            .unwrap()
            .unwrap();
        assert_eq!((second, used2), (Response::BodyChunk(b"abc"), 10));
        assert_eq!(
            decode(&stream[used + used2..], DEFAULT_MAX_PACKET),
            Ok(None)
        );
    }

    // ---- Every truncation point ----

    #[test]
    fn every_prefix_of_every_response_packet_needs_more_bytes() {
        let all = TIGHT_PACKETS.iter().chain([&BODY_CHUNK_WITH_NUL_PACKET]);
        for packet in all {
            for n in 0..packet.len() {
                assert_eq!(
                    decode(&packet[..n], DEFAULT_MAX_PACKET),
                    Ok(None),
                    "{:?} cut at {n}",
                    packet.escape_ascii().to_string()
                );
            }
            assert!(matches!(
                decode(packet, DEFAULT_MAX_PACKET),
                Ok(Some((_, used))) if used == packet.len()
            ));
        }
    }

    #[test]
    fn every_truncated_payload_is_an_error() {
        for packet in TIGHT_PACKETS {
            let payload = &packet[HEADER_LEN..];
            assert!(parse(payload).is_ok());
            for n in 0..payload.len() {
                let cut = &payload[..n];
                let expected_kind = match parse(cut) {
                    Err(ProtocolError::EmptyPayload) => n == 0,
                    Err(ProtocolError::Truncated { .. }) => n > 0,
                    // A body chunk cut inside its data is caught by the length check.
                    Err(ProtocolError::BodyChunkTooLong { claimed, available }) => {
                        cut[0] == SEND_BODY_CHUNK && claimed == 3 && available == n - 3
                    }
                    other => panic!("payload {payload:?} cut at {n}: {other:?}"),
                };
                assert!(expected_kind, "payload {payload:?} cut at {n}");
                // The same cut, framed as a complete packet, is refused by decode too.
                if n > 0 {
                    assert!(decode(&frame(cut), DEFAULT_MAX_PACKET).is_err());
                }
            }
        }
    }

    #[test]
    fn truncation_errors_name_the_field() {
        let cases: [(&[u8], &str); 11] = [
            (b"\x04", "status"),
            (b"\x04\x00", "status"),
            (b"\x04\x00\xc8", "reason"),
            (b"\x04\x00\xc8\x00\x02OK", "reason"),
            (b"\x04\x00\xc8\x00\x02OK\x00\x00", "header count"),
            (b"\x04\x00\xc8\x00\x02OK\x00\x00\x01", "header name"),
            (b"\x04\x00\xc8\x00\x02OK\x00\x00\x01\xa0", "header name"),
            (
                b"\x04\x00\xc8\x00\x02OK\x00\x00\x01\xa0\x01",
                "header value",
            ),
            (b"\x03\x00", "body chunk length"),
            (b"\x05", "reuse flag"),
            (b"\x06\x01", "requested length"),
        ];
        for (payload, what) in cases {
            assert_eq!(
                parse(payload),
                Err(ProtocolError::Truncated { what }),
                "{payload:?}"
            );
        }
    }

    // ---- Hostile lengths ----

    #[test]
    fn body_chunk_longer_than_its_payload_is_refused() {
        assert_eq!(
            parse(b"\x03\x00\x05ab"),
            Err(ProtocolError::BodyChunkTooLong {
                claimed: 5,
                available: 2
            })
        );
        assert_eq!(
            parse(b"\x03\xff\xffab\x00"),
            Err(ProtocolError::BodyChunkTooLong {
                claimed: 0xFFFF,
                available: 3
            })
        );
        // Data spilling into the next packet's bytes in the buffer does not count as payload.
        let mut stream = frame(b"\x03\x00\x05ab");
        stream.extend_from_slice(b"AB\x00\x01\x09");
        assert_eq!(
            decode(&stream, DEFAULT_MAX_PACKET),
            Err(ProtocolError::BodyChunkTooLong {
                claimed: 5,
                available: 2
            })
        );
    }

    #[test]
    fn string_lengths_past_the_end_are_refused() {
        assert_eq!(
            parse(b"\x04\x00\xc8\x01\x00OK\x00\x00\x00"),
            Err(ProtocolError::Truncated { what: "reason" })
        );
        assert_eq!(
            parse(b"\x04\x00\xc8\xff\xfeOK\x00\x00\x00"),
            Err(ProtocolError::Truncated { what: "reason" })
        );
        assert_eq!(
            parse(b"\x04\x00\xc8\x00\x00\x00\x00\x01\x00\x40X\x00\x00\x00\x00"),
            Err(ProtocolError::Truncated {
                what: "header name"
            })
        );
        assert_eq!(
            parse(b"\x04\x00\xc8\x00\x00\x00\x00\x01\xa0\x01\x90\x00text/html\x00"),
            Err(ProtocolError::Truncated {
                what: "header value"
            })
        );
    }

    #[test]
    fn header_count_beyond_the_headers_present_is_refused() {
        let payload = b"\x04\x00\xc8\x00\x00\x00\xff\xff\xa0\x01\x00\x01x\x00";
        assert_eq!(
            parse(payload),
            Err(ProtocolError::Truncated {
                what: "header name"
            })
        );
    }

    #[test]
    fn all_0xffff_lengths_are_refused_or_read_as_null() {
        // Strings: 0xFFFF is null, i.e. empty, everywhere.
        let headers = headers_of(parse(b"\x04\xff\xff\xff\xff\x00\x01\xff\xff\xff\xff").unwrap());
        assert_eq!(headers.status, 0xFFFF);
        assert_eq!(header_list(&headers), [(&b""[..], &b""[..])]);
        // Counts and lengths: refused.
        assert!(parse(b"\x04\xff\xff\xff\xff\xff\xff").is_err());
        assert!(parse(b"\x03\xff\xff").is_err());
        assert_eq!(
            decode(b"AB\xff\xff\x09", MAX_MAX_PACKET),
            Err(ProtocolError::TooLong {
                len: 0xFFFF,
                max: MAX_MAX_PACKET - 4
            })
        );
    }

    #[test]
    fn unknown_response_header_codes_are_refused() {
        for code in [0xA000u16, 0xA00C, 0xA0FF] {
            let mut payload = b"\x04\x00\xc8\x00\x00\x00\x00\x01".to_vec();
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(b"\x00\x01v\x00");
            assert_eq!(parse(&payload), Err(ProtocolError::UnknownHeaderCode(code)));
        }
    }

    #[test]
    fn packet_length_over_max_is_refused_and_exactly_max_is_accepted() {
        let header = |len: u16| {
            let [hi, lo] = len.to_be_bytes();
            [b'A', b'B', hi, lo]
        };
        assert_eq!(parse_header(&header(8188), DEFAULT_MAX_PACKET), Ok(8188));
        assert_eq!(
            parse_header(&header(8189), DEFAULT_MAX_PACKET),
            Err(ProtocolError::TooLong {
                len: 8189,
                max: 8188
            })
        );
        assert_eq!(decode(&header(8188), DEFAULT_MAX_PACKET), Ok(None));
        assert_eq!(
            decode(&header(8189), DEFAULT_MAX_PACKET),
            Err(ProtocolError::TooLong {
                len: 8189,
                max: 8188
            })
        );
        // A body chunk that fills the largest packet exactly.
        let mut payload = vec![SEND_BODY_CHUNK, 0x1F, 0xF9];
        payload.resize(8188, b'd');
        let packet = frame(&payload);
        match decode(&packet, DEFAULT_MAX_PACKET) {
            Ok(Some((Response::BodyChunk(data), 8192))) => assert_eq!(data.len(), 8185),
            other => panic!("{other:?}"),
        }
        assert!(parse_header(&header(1), 0).is_err());
    }

    #[test]
    fn empty_payload_is_refused() {
        assert_eq!(
            parse_header(b"AB\x00\x00", DEFAULT_MAX_PACKET),
            Err(ProtocolError::EmptyPayload)
        );
        assert_eq!(
            decode(b"AB\x00\x00", DEFAULT_MAX_PACKET),
            Err(ProtocolError::EmptyPayload)
        );
        assert_eq!(parse(b""), Err(ProtocolError::EmptyPayload));
    }

    #[test]
    fn wrong_magic_is_refused_and_ajp14_is_named() {
        let headers: [(&[u8; 4], ProtocolError); 3] = [
            (b"\x12\x34\x00\x01", ProtocolError::BadMagic),
            (b"\x12\x35\x00\x01", ProtocolError::Ajp14Magic),
            (b"BA\x00\x01", ProtocolError::BadMagic),
        ];
        for (header, error) in headers {
            assert_eq!(parse_header(header, DEFAULT_MAX_PACKET), Err(error.clone()));
            let mut packet = header.to_vec();
            packet.push(CPONG);
            assert_eq!(decode(&packet, DEFAULT_MAX_PACKET), Err(error));
        }
    }

    #[test]
    fn wrong_magic_is_reported_as_soon_as_its_bytes_arrive() {
        let cases: [(&[u8], Result<(), ProtocolError>); 7] = [
            (b"H", Err(ProtocolError::BadMagic)),
            (b"AC", Err(ProtocolError::BadMagic)),
            (b"\x12\x34", Err(ProtocolError::BadMagic)),
            (b"\x12\x35", Err(ProtocolError::Ajp14Magic)),
            (b"\x12", Ok(())), // 0x12 0x35 would be AJP14: wait to say which error
            (b"A", Ok(())),
            (b"", Ok(())),
        ];
        for (bytes, expected) in cases {
            let result = decode(bytes, DEFAULT_MAX_PACKET);
            match expected {
                Ok(()) => assert_eq!(result, Ok(None), "{bytes:?}"),
                Err(error) => assert_eq!(result, Err(error), "{bytes:?}"),
            }
        }
    }

    #[test]
    fn only_container_message_types_are_accepted() {
        for kind in 0..=u8::MAX {
            let payload = [kind, 0, 1, b'x', 0];
            let accepted = [
                SEND_BODY_CHUNK,
                SEND_HEADERS,
                END_RESPONSE,
                GET_BODY_CHUNK,
                CPONG,
            ];
            match parse(&payload) {
                Err(ProtocolError::UnknownType(k)) => {
                    assert_eq!(k, kind);
                    assert!(!accepted.contains(&kind));
                }
                _ => assert!(accepted.contains(&kind), "type {kind}"),
            }
        }
    }

    // ---- Never panic, and SEND_HEADERS iteration matches its count ----

    /// Decodes `bytes` and checks what must hold for anything decode accepts.
    fn check_invariants(bytes: &[u8]) {
        for max in [DEFAULT_MAX_PACKET, 16, 0] {
            match decode(bytes, max) {
                Ok(Some((message, used))) => {
                    assert!(used <= bytes.len() && used <= max.max(HEADER_LEN));
                    if let Response::SendHeaders(headers) = message {
                        assert_eq!(headers.headers().count(), headers.len());
                        let _ = format!("{headers:?}");
                    }
                    if let Response::BodyChunk(data) = message {
                        assert!(data.len() + HEADER_LEN + 3 <= used);
                    }
                }
                Ok(None) => {}
                Err(error) => assert!(!error.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn every_single_byte_change_of_every_packet_is_handled() {
        for packet in TIGHT_PACKETS.iter().chain([&BODY_CHUNK_WITH_NUL_PACKET]) {
            let mut bytes = packet.to_vec();
            for at in 0..bytes.len() {
                let original = bytes[at];
                for value in 0..=u8::MAX {
                    bytes[at] = value;
                    check_invariants(&bytes);
                }
                bytes[at] = original;
            }
        }
    }

    #[test]
    fn random_mutations_never_panic() {
        // xorshift: deterministic, so a failure reproduces.
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for round in 0..20_000 {
            let base = TIGHT_PACKETS[round % TIGHT_PACKETS.len()];
            let mut bytes = base.to_vec();
            for _ in 0..=(next() % 4) {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            if next().is_multiple_of(3) {
                bytes.truncate((next() as usize) % (bytes.len() + 1));
            }
            if next().is_multiple_of(3) {
                bytes.extend((0..next() % 8).map(|_| next() as u8));
            }
            check_invariants(&bytes);
            // Fully random payloads behind a valid header.
            let len = (next() % 40) as usize;
            let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            check_invariants(&frame(&payload));
        }
    }

    #[test]
    fn debug_output_shows_decoded_headers() {
        let (message, _) = decode(SEND_HEADERS_PACKET, DEFAULT_MAX_PACKET)
            .unwrap()
            .unwrap();
        let text = format!("{message:?}");
        assert!(text.contains("\"Content-Type\": \"text/html\""), "{text}");
        assert!(text.contains("\"OK\""), "{text}");
    }

    #[test]
    fn errors_explain_themselves() {
        let text = ProtocolError::TooLong {
            len: 9000,
            max: 8188,
        }
        .to_string();
        assert!(text.contains("9000") && text.contains("8188"), "{text}");
        assert!(ProtocolError::UnknownHeaderCode(0xA00C)
            .to_string()
            .contains("0xa00c"));
        assert!(ProtocolError::Truncated { what: "reason" }
            .to_string()
            .contains("reason"));
    }
}
