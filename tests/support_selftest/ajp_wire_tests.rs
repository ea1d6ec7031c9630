//! Tests of `tests/support/ajp_wire.rs` against byte vectors written out by hand from the AJP13
//! reference, truncation points included.

use crate::ajp_wire::*;
use std::io::{self, Cursor, Read};

/// A GET as mod_jk sends it, every kind of field present: coded and spelled header names, an empty
/// header value, the null string, a string attribute, a req_attribute and ssl_key_size.
const GET: &[u8] = b"\x02\x02\
    \x00\x08HTTP/1.1\x00\
    \x00\x04/app\x00\
    \x00\x09127.0.0.1\x00\
    \xff\xff\
    \x00\x09localhost\x00\
    \x1f\x90\
    \x01\
    \x00\x03\
    \xa0\x0b\x00\x01h\x00\
    \x00\x05X-Foo\x00\x00\x00\x00\
    \xa0\x08\x00\x010\x00\
    \x05\x00\x03a=1\x00\
    \x0a\x00\x04NAME\x00\x00\x01v\x00\
    \x0b\x01\x00\
    \xff";

/// Decodes a whole FORWARD_REQUEST: fixed fields and every part.
fn decode_all(payload: &[u8]) -> Result<(ForwardRequest<'_>, Vec<Part<'_>>), WireError> {
    let request = ForwardRequest::decode(payload)?;
    let parts = request.parts().collect::<Result<Vec<_>, _>>()?;
    Ok((request, parts))
}

/// `GET` with the byte at `at` replaced.
fn get_with(at: usize, byte: u8) -> Vec<u8> {
    let mut payload = GET.to_vec();
    payload[at] = byte;
    payload
}

#[test]
fn forward_request_fields_come_out_as_sent() {
    let (request, parts) = decode_all(GET).unwrap();
    assert_eq!(request.method, 2);
    assert_eq!(request.protocol, Some(&b"HTTP/1.1"[..]));
    assert_eq!(request.req_uri, Some(&b"/app"[..]));
    assert_eq!(request.remote_addr, Some(&b"127.0.0.1"[..]));
    assert_eq!(request.remote_host, None, "the null string");
    assert_eq!(request.server_name, Some(&b"localhost"[..]));
    assert_eq!(request.server_port, 8080);
    assert!(request.is_ssl);
    assert_eq!(
        parts,
        [
            Part::Header(HeaderName::Coded(0xA00B), b"h"),
            Part::Header(HeaderName::Spelled(b"X-Foo"), b""),
            Part::Header(HeaderName::Coded(0xA008), b"0"),
            Part::Attribute(Attribute::Coded(0x05, b"a=1")),
            Part::Attribute(Attribute::Named(b"NAME", b"v")),
            Part::Attribute(Attribute::SslKeySize(256)),
        ]
    );
    // The parts can be walked again.
    assert_eq!(request.parts().count(), 6);
}

#[test]
fn every_truncation_point_is_an_error_not_a_panic() {
    for cut in 0..GET.len() {
        assert!(decode_all(&GET[..cut]).is_err(), "cut at {cut} accepted");
    }
}

#[test]
fn truncation_names_the_field_it_cut() {
    let cases: [(usize, &str); 9] = [
        (0, "packet type"),
        (1, "method"),
        (3, "protocol"),
        (10, "protocol"),     // inside "HTTP/1.1"
        (12, "protocol"),     // before its NUL
        (16, "req_uri"),      // inside "/app"
        (50, "num_headers"),  // one byte of it
        (55, "header value"), // inside the coded host header's value
        (GET.len() - 1, "attribute code (or 0xFF)"),
    ];
    for (cut, what) in cases {
        assert_eq!(
            decode_all(&GET[..cut]).err(),
            Some(WireError::Truncated(what)),
            "cut at {cut}"
        );
    }
    let last_attribute = GET.len() - 4; // the 0x0B code; its u16 follows
    assert_eq!(
        decode_all(&GET[..last_attribute + 2]).err(),
        Some(WireError::Truncated("ssl_key_size"))
    );
    let query = GET.len() - 23; // the 0x05 code of query_string
    assert_eq!(GET[query], 0x05);
    assert_eq!(
        decode_all(&GET[..query + 4]).err(),
        Some(WireError::Truncated("query_string"))
    );
}

#[test]
fn malformed_fields_are_named() {
    let mut trailing = GET.to_vec();
    trailing.extend_from_slice(b"\x00\x00");
    assert_eq!(
        decode_all(&trailing).err(),
        Some(WireError::TrailingBytes(2))
    );
    assert_eq!(
        decode_all(&get_with(12, b'X')).err(),
        Some(WireError::NoNul("protocol", b'X'))
    );
    assert_eq!(
        decode_all(&get_with(48, 2)).err(),
        Some(WireError::NotABoolean("is_ssl", 2))
    );
    assert_eq!(
        decode_all(&get_with(0, SHUTDOWN)).err(),
        Some(WireError::WrongType {
            expected: FORWARD_REQUEST,
            found: SHUTDOWN
        })
    );
    // The X-Foo header's name, then the host header's value, made the null string.
    let mut null_name = get_with(57, 0xFF);
    null_name[58] = 0xFF;
    assert_eq!(
        decode_all(&null_name).err(),
        Some(WireError::NullString("header name"))
    );
    let mut null_value = get_with(53, 0xFF);
    null_value[54] = 0xFF;
    assert_eq!(
        decode_all(&null_value).err(),
        Some(WireError::NullString("header value"))
    );
}

#[test]
fn unknown_codes_are_left_to_the_caller() {
    let mut payload = get_with(1, 99);
    payload[52] = 0xFF; // the host header's code 0xA00B becomes 0xA0FF
    let odd_attribute = GET.len() - 23; // query_string's code
    payload[odd_attribute] = 0x42;
    let (request, parts) = decode_all(&payload).unwrap();
    assert_eq!((request.method, method_name(request.method)), (99, None));
    assert_eq!(parts[0], Part::Header(HeaderName::Coded(0xA0FF), b"h"));
    assert_eq!(HeaderName::Coded(0xA0FF).name(), None);
    assert_eq!(parts[3], Part::Attribute(Attribute::Coded(0x42, b"a=1")));
    assert_eq!(attribute_name(0x42), None);
}

#[test]
fn code_tables_follow_the_reference() {
    assert_eq!(method_name(1), Some("OPTIONS"));
    assert_eq!(method_name(2), Some("GET"));
    assert_eq!(method_name(METHOD_HEAD), Some("HEAD"));
    assert_eq!(method_name(27), Some("MKACTIVITY"));
    for code in [0, 28, STORED_METHOD] {
        assert_eq!(method_name(code), None, "method code {code}");
    }
    assert_eq!(request_header_name(0xA001), Some("accept"));
    assert_eq!(request_header_name(0xA008), Some("content-length"));
    assert_eq!(request_header_name(0xA00E), Some("user-agent"));
    for code in [0xA000, 0xA00F, 0xB001, 0x0001] {
        assert_eq!(request_header_name(code), None, "header code {code:#x}");
    }
    assert_eq!(response_header_code(b"Content-Type"), Some(0xA001));
    assert_eq!(response_header_code(b"content-length"), Some(0xA003));
    assert_eq!(response_header_code(b"WWW-Authenticate"), Some(0xA00B));
    assert_eq!(response_header_code(b"X-Other"), None);
    assert_eq!(attribute_name(0x01), Some("context"));
    assert_eq!(attribute_name(0x0C), Some("secret"));
    assert_eq!(attribute_name(0x0D), Some("stored_method"));
    for code in [0x00, REQ_ATTRIBUTE, SSL_KEY_SIZE, 0x0E, ATTRIBUTES_END] {
        assert_eq!(attribute_name(code), None, "attribute code {code:#x}");
    }
    assert_eq!(max_body_chunk(DEFAULT_MAX_PACKET), 8184);
    assert_eq!(max_request_body_data(DEFAULT_MAX_PACKET), 8186);
}

#[test]
fn header_names_compare_case_insensitively() {
    assert!(HeaderName::Coded(0xA008).is("Content-Length"));
    assert!(HeaderName::Spelled(b"CONTENT-length").is("content-length"));
    assert!(!HeaderName::Spelled(b"content-length2").is("content-length"));
    assert!(!HeaderName::Coded(0xA0FF).is("content-length"));
    assert_eq!(HeaderName::Coded(0xA00B).name(), Some(&b"host"[..]));
}

#[test]
fn body_packets_carry_their_length() {
    assert_eq!(request_body_data(b""), Ok(&b""[..]), "end of body");
    assert_eq!(request_body_data(b"\x00\x00"), Ok(&b""[..]));
    assert_eq!(request_body_data(b"\x00\x03abc"), Ok(&b"abc"[..]));
    assert_eq!(
        request_body_data(b"\x00"),
        Err(WireError::Truncated("body data length"))
    );
    assert_eq!(
        request_body_data(b"\x00\x05a"),
        Err(WireError::BodyLength {
            declared: 5,
            carried: 1
        })
    );
    assert_eq!(
        request_body_data(b"\x00\x01ab"),
        Err(WireError::BodyLength {
            declared: 1,
            carried: 2
        })
    );
}

#[test]
fn cping_is_the_single_byte_ten() {
    assert!(is_cping(b"\x0a"));
    for other in [&b""[..], b"\x0a\x00", b"\x02", b"\x09"] {
        assert!(!is_cping(other), "{other:?}");
    }
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        WireError::Truncated("method").to_string(),
        "packet too short for method"
    );
    assert_eq!(
        WireError::NoNul("req_uri", 0x41).to_string(),
        "req_uri ends with 0x41 instead of NUL"
    );
    assert_eq!(
        WireError::TrailingBytes(3).to_string(),
        "3 bytes after the attribute terminator"
    );
    assert_eq!(
        FrameError::BadMagic([0x41, 0x42]).to_string(),
        "bad magic 41 42"
    );
    assert_eq!(
        TooLong(70_000).to_string(),
        "answer packet of 70000 bytes does not fit AJP framing"
    );
}

/// A reader that hands out one byte per call and is interrupted before each.
struct Trickle {
    bytes: Vec<u8>,
    pos: usize,
    interrupt: bool,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let (Some(&byte), Some(slot)) = (self.bytes.get(self.pos), buf.first_mut()) else {
            return Ok(0);
        };
        *slot = byte;
        self.pos += 1;
        Ok(1)
    }
}

#[test]
fn packets_are_read_whole_then_none_at_end_of_stream() {
    let wire = b"\x12\x34\x00\x01\x0a\x12\x34\x00\x00\x12\x34\x00\x03\x02\x03\x04";
    let mut buffer = [0u8; 8];
    let mut reader = Cursor::new(&wire[..]);
    assert_eq!(read_packet(&mut reader, &mut buffer).unwrap(), Some(1));
    assert_eq!(buffer[0], CPING);
    assert_eq!(read_packet(&mut reader, &mut buffer).unwrap(), Some(0));
    assert_eq!(read_packet(&mut reader, &mut buffer).unwrap(), Some(3));
    assert_eq!(&buffer[..3], b"\x02\x03\x04");
    assert_eq!(read_packet(&mut reader, &mut buffer).unwrap(), None);

    let mut trickle = Trickle {
        bytes: wire.to_vec(),
        pos: 0,
        interrupt: false,
    };
    let mut packets = Vec::new();
    while let Some(payload) = read_packet_to_vec(&mut trickle, 3).unwrap() {
        packets.push(payload);
    }
    assert_eq!(packets, [&b"\x0a"[..], b"", b"\x02\x03\x04"]);
}

#[test]
fn broken_framing_is_told_apart() {
    let read = |wire: &[u8], room: usize| {
        let mut buffer = vec![0u8; room];
        read_packet(&mut Cursor::new(wire), &mut buffer)
    };
    assert!(matches!(read(b"", 8), Ok(None)));
    for cut in 1..4 {
        assert!(
            matches!(
                read(&b"\x12\x34\x00\x01"[..cut], 8),
                Err(FrameError::ClosedInHeader)
            ),
            "header cut at {cut}"
        );
    }
    assert!(matches!(
        read(b"\x12\x34\x00\x05\x02\x02", 8),
        Err(FrameError::ClosedInPayload)
    ));
    assert!(matches!(
        read(b"AB\x00\x01\x09", 8),
        Err(FrameError::BadMagic([b'A', b'B']))
    ));
    assert!(matches!(
        read(b"\x12\x34\x00\x08", 8),
        Err(FrameError::ClosedInPayload)
    ));
    assert!(matches!(
        read(b"\x12\x34\x00\x09", 8),
        Err(FrameError::TooLarge { len: 9, limit: 8 })
    ));
    assert!(matches!(
        read_packet_to_vec(&mut Cursor::new(b"\x12\x34\xff\xff"), 8188),
        Err(FrameError::TooLarge {
            len: 0xFFFF,
            limit: 8188
        })
    ));
}

#[test]
fn send_headers_codes_names_tomcat_knows() {
    let mut out = Vec::new();
    let headers = [("Content-Type", "text/plain"), ("X-A", "1")];
    send_headers(&mut out, 200, b"OK", &headers, Names::Coded).unwrap();
    let expected: &[u8] = b"AB\x00\x23\
        \x04\x00\xc8\x00\x02OK\x00\
        \x00\x02\
        \xa0\x01\x00\x0atext/plain\x00\
        \x00\x03X-A\x00\x00\x011\x00";
    assert_eq!(out, expected);
}

#[test]
fn send_headers_can_spell_every_name() {
    let mut out = Vec::new();
    let headers = [(&b"content-length"[..], &b"0"[..])];
    send_headers(&mut out, 404, b"", &headers, Names::Spelled).unwrap();
    let expected: &[u8] = b"AB\x00\x1d\
        \x04\x01\x94\x00\x00\x00\
        \x00\x01\
        \x00\x0econtent-length\x00\x00\x010\x00";
    assert_eq!(out, expected);
    out.clear();
    send_headers(&mut out, 404, b"", &headers, Names::Coded).unwrap();
    assert_eq!(
        &out[12..],
        b"\xa0\x03\x00\x010\x00",
        "coded case-insensitively"
    );
}

#[test]
fn small_packets_are_byte_exact() {
    let mut out = b"xyz".to_vec();
    send_body_chunk(&mut out, b"hi").unwrap();
    assert_eq!(
        out, b"xyzAB\x00\x06\x03\x00\x02hi\x00",
        "appended, length patched"
    );
    out.clear();
    send_body_chunk(&mut out, b"").unwrap();
    assert_eq!(
        out, b"AB\x00\x04\x03\x00\x00\x00",
        "an empty chunk (a flush)"
    );
    out.clear();
    end_response(&mut out, 1);
    end_response(&mut out, 0);
    assert_eq!(out, b"AB\x00\x02\x05\x01AB\x00\x02\x05\x00");
    out.clear();
    get_body_chunk(&mut out, 8186);
    assert_eq!(out, b"AB\x00\x03\x06\x1f\xfa");
    out.clear();
    cpong(&mut out);
    assert_eq!(out, b"AB\x00\x01\x09");
}

#[test]
fn packet_builder_writes_fields_in_order() {
    let mut out = Vec::new();
    let mut packet = Packet::begin(&mut out, SEND_BODY_CHUNK);
    packet.u16(1000).bytes(b"ab").byte(0).string(b"s");
    assert_eq!(packet.payload_len(), 10);
    packet.finish().unwrap();
    assert_eq!(out, b"AB\x00\x0a\x03\x03\xe8ab\x00\x00\x01s\x00");
}

#[test]
fn a_packet_longer_than_u16_framing_is_refused_and_taken_back() {
    let mut out = b"keep".to_vec();
    let largest = vec![7u8; MAX_PAYLOAD - 4];
    send_body_chunk(&mut out, &largest).unwrap();
    assert_eq!(&out[4..8], b"AB\xff\xff");
    assert_eq!(out.len(), 4 + PACKET_HEADER_LEN + MAX_PAYLOAD);
    out.truncate(4);
    let too_big = vec![7u8; MAX_PAYLOAD - 3];
    assert_eq!(send_body_chunk(&mut out, &too_big), Err(TooLong(0x10000)));
    assert_eq!(out, b"keep", "nothing of the refused packet stays");
    let long_value = "v".repeat(MAX_PAYLOAD);
    assert_eq!(
        send_headers(&mut out, 200, b"OK", &[("X", long_value)], Names::Coded),
        Err(TooLong(1 + 2 + 5 + 2 + 4 + 2 + MAX_PAYLOAD + 1))
    );
    assert_eq!(out, b"keep");
}
