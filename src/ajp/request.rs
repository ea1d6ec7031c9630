//! Web server -> container packets (reference §6.3, §6.5): FORWARD_REQUEST, written incrementally
//! into a reusable buffer so header names and values can be streamed straight from httpd's
//! tables; the framing of request body packets; and the fixed END-OF-BODY and CPING packets.

use std::fmt;

use super::codes::{
    request_header_code, ATTR_AUTH_TYPE, ATTR_END, ATTR_QUERY_STRING, ATTR_REMOTE_USER,
    ATTR_REQ_ATTRIBUTE, ATTR_ROUTE, ATTR_SECRET, ATTR_SSL_CERT, ATTR_SSL_CIPHER, ATTR_SSL_KEY_SIZE,
    ATTR_SSL_SESSION, ATTR_STORED_METHOD, CODED_HEADER_MARK, CPING, FORWARD_REQUEST, HEADER_LEN,
    MAX_FRAMEABLE_PACKET, METHODS, METHOD_STORED, REQUEST_MAGIC,
};
use super::packet::PacketWriter;

/// The fixed part of FORWARD_REQUEST (§6.3). Strings are bytes (httpd strings need not be UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// A method code from [`method_code`].
    pub method: u8,
    pub protocol: &'a [u8],
    pub req_uri: &'a [u8],
    pub remote_addr: &'a [u8],
    /// `None` => AJP null string (0xFFFF).
    pub remote_host: Option<&'a [u8]>,
    pub server_name: &'a [u8],
    pub server_port: u16,
    pub is_ssl: bool,
}

/// Method name -> AJP code (exact, case-sensitive like HTTP); [`METHOD_STORED`] for anything else
/// (the caller then adds [`Attribute::StoredMethod`]).
pub fn method_code(method: &[u8]) -> u8 {
    METHODS
        .iter()
        .find(|(name, _)| *name == method)
        .map_or(METHOD_STORED, |&(_, code)| code)
}

/// One request attribute of FORWARD_REQUEST (§6.3, §6.6). mod_jk's order is: secret, remote_user,
/// auth_type, query_string, route, ssl_cert, ssl_cipher, ssl_session, ssl_key_size, stored_method,
/// then the named `ReqAttribute`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute<'a> {
    RemoteUser(&'a [u8]),
    AuthType(&'a [u8]),
    QueryString(&'a [u8]),
    Route(&'a [u8]),
    SslCert(&'a [u8]),
    SslCipher(&'a [u8]),
    SslSession(&'a [u8]),
    /// A u16 integer as mod_jk sends it, not a string.
    SslKeySize(u16),
    Secret(&'a [u8]),
    /// The method name when the method byte is [`METHOD_STORED`].
    StoredMethod(&'a [u8]),
    /// A named attribute, e.g. [`REQ_ATTR_REMOTE_PORT`](super::codes::REQ_ATTR_REMOTE_PORT).
    ReqAttribute {
        name: &'a [u8],
        value: &'a [u8],
    },
}

impl Attribute<'_> {
    /// The attribute's code byte on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Attribute::RemoteUser(_) => ATTR_REMOTE_USER,
            Attribute::AuthType(_) => ATTR_AUTH_TYPE,
            Attribute::QueryString(_) => ATTR_QUERY_STRING,
            Attribute::Route(_) => ATTR_ROUTE,
            Attribute::SslCert(_) => ATTR_SSL_CERT,
            Attribute::SslCipher(_) => ATTR_SSL_CIPHER,
            Attribute::SslSession(_) => ATTR_SSL_SESSION,
            Attribute::SslKeySize(_) => ATTR_SSL_KEY_SIZE,
            Attribute::Secret(_) => ATTR_SECRET,
            Attribute::StoredMethod(_) => ATTR_STORED_METHOD,
            Attribute::ReqAttribute { .. } => ATTR_REQ_ATTRIBUTE,
        }
    }
}

/// Why a FORWARD_REQUEST could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The packet would be `needed` bytes (header and final 0xFF included) but may be `max`.
    /// AJP has no continuation packets, so mod_jk answers 413 (§6.6 item 10).
    TooLarge { needed: usize, max: usize },
    /// More than 0xFFFF headers: the count is a u16.
    TooManyHeaders,
    /// A string of 0xFFFF bytes or more (0xFFFF means null), or a header name whose length would
    /// read back as a 0xA0xx header code.
    StringTooLong,
    /// Headers must all come before the first attribute.
    HeaderAfterAttribute,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLarge { needed, max } => write!(
                f,
                "AJP request packet needs {needed} bytes but max_packet_size is {max}"
            ),
            EncodeError::TooManyHeaders => f.write_str("more than 65535 request headers for AJP"),
            EncodeError::StringTooLong => {
                f.write_str("string too long for an AJP string (65534 bytes at most)")
            }
            EncodeError::HeaderAfterAttribute => {
                f.write_str("AJP request header written after a request attribute")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Encodes one FORWARD_REQUEST at the start of `buf`, incrementally, so the caller can stream
/// header names/values borrowed from httpd's tables without building an intermediate list.
///
/// Each call appends a whole item or nothing: after an error the packet is as it was before the
/// call, so a caller may drop an optional attribute and go on. After an error from `begin` the
/// buffer holds a partial packet and must not be sent.
#[derive(Debug)]
pub struct ForwardRequestEncoder<'b> {
    writer: PacketWriter<'b>,
    /// Where num_headers sits; it is patched in `finish`.
    num_headers_at: usize,
    headers: u16,
    in_attributes: bool,
}

impl<'b> ForwardRequestEncoder<'b> {
    /// Writes the packet header and the fixed part at the start of `buf`; `max_packet` is the worker's
    /// `max_packet_size` (capped at what a u16 length can frame).
    pub fn begin(
        buf: &'b mut Vec<u8>,
        max_packet: usize,
        line: &RequestLine<'_>,
    ) -> Result<Self, EncodeError> {
        // One byte stays reserved for the closing ATTR_END, so `finish` cannot run out of room.
        let mut writer = PacketWriter::begin(buf, REQUEST_MAGIC, max_packet, 1)?;
        writer.put_byte(FORWARD_REQUEST)?;
        writer.put_byte(line.method)?;
        writer.put_string(line.protocol)?;
        writer.put_string(line.req_uri)?;
        writer.put_string(line.remote_addr)?;
        writer.put_optional_string(line.remote_host)?;
        writer.put_string(line.server_name)?;
        writer.put_u16(line.server_port)?;
        writer.put_bool(line.is_ssl)?;
        let num_headers_at = writer.len();
        writer.put_u16(0)?;
        Ok(ForwardRequestEncoder {
            writer,
            num_headers_at,
            headers: 0,
            in_attributes: false,
        })
    }

    /// Known names (case-insensitive) are sent as their 0xA0xx code, others as strings.
    #[inline(always)]
    pub fn header(&mut self, name: &[u8], value: &[u8]) -> Result<(), EncodeError> {
        if self.in_attributes {
            return Err(EncodeError::HeaderAfterAttribute);
        }
        if self.headers == u16::MAX {
            return Err(EncodeError::TooManyHeaders);
        }
        // Each branch is one append: all of it or nothing.
        match request_header_code(name) {
            Some(code) => self.writer.put_prefixed(code.to_be_bytes(), value)?,
            None => {
                // Tomcat reads any u16 whose high byte is 0xA0 as a code, so a name of
                // 0xA000..=0xA0FF bytes would be misread; refuse it rather than desync.
                if name.len() >> 8 == usize::from(CODED_HEADER_MARK) {
                    return Err(EncodeError::StringTooLong);
                }
                self.writer.put_two_strings(name, value)?
            }
        }
        self.headers += 1;
        Ok(())
    }

    /// Appends one attribute; from here on, headers are refused.
    #[inline(always)]
    pub fn attribute(&mut self, attr: Attribute<'_>) -> Result<(), EncodeError> {
        self.in_attributes = true;
        let code = attr.code();
        // Each branch is one append: all of it or nothing.
        let w = &mut self.writer;
        match attr {
            Attribute::SslKeySize(bits) => {
                let [hi, lo] = bits.to_be_bytes();
                w.put_raw(&[code, hi, lo])
            }
            Attribute::ReqAttribute { name, value } => w.put_named(code, name, value),
            Attribute::RemoteUser(text)
            | Attribute::AuthType(text)
            | Attribute::QueryString(text)
            | Attribute::Route(text)
            | Attribute::SslCert(text)
            | Attribute::SslCipher(text)
            | Attribute::SslSession(text)
            | Attribute::Secret(text)
            | Attribute::StoredMethod(text) => w.put_prefixed([code], text),
        }
    }

    /// Writes the 0xFF terminator, patches num_headers and the packet length; returns the packet's
    /// total length (header included): the packet is `buf[..len]`.
    pub fn finish(mut self) -> Result<usize, EncodeError> {
        self.writer.patch_u16(self.num_headers_at, self.headers);
        self.writer.put_trailer(ATTR_END)?;
        Ok(self.writer.finish())
    }
}

/// 6 bytes that precede `data_len` bytes of request body in a body packet: 0x12 0x34,
/// u16 (data_len+2), u16 data_len. `data_len` must not exceed [`max_body_chunk`], which is never
/// more than 0xFFFD.
pub fn body_packet_header(data_len: u16) -> [u8; 6] {
    let [len_hi, len_lo] = data_len.saturating_add(2).to_be_bytes();
    let [data_hi, data_lo] = data_len.to_be_bytes();
    let [magic_hi, magic_lo] = REQUEST_MAGIC;
    [magic_hi, magic_lo, len_hi, len_lo, data_hi, data_lo]
}

/// Largest body data that fits one packet: max_packet - 6 (8186 for the default 8192).
pub fn max_body_chunk(max_packet: usize) -> usize {
    max_packet
        .min(MAX_FRAMEABLE_PACKET)
        .saturating_sub(HEADER_LEN + 2)
}

/// An empty body packet: end of the request body (§6.4 GET_BODY_CHUNK), or the "client gone"
/// signal of §6.6 item 8.
pub const END_OF_BODY_PACKET: [u8; 4] = [REQUEST_MAGIC[0], REQUEST_MAGIC[1], 0x00, 0x00];

/// "Are you alive?"; the container answers CPONG.
pub const CPING_PACKET: [u8; 5] = [REQUEST_MAGIC[0], REQUEST_MAGIC[1], 0x00, 0x01, CPING];

#[cfg(test)]
mod tests {
    use super::super::codes::*;
    use super::*;

    const LINE: RequestLine<'static> = RequestLine {
        method: METHOD_GET,
        protocol: b"HTTP/1.1",
        req_uri: b"/app/x",
        remote_addr: b"10.0.0.1",
        remote_host: None,
        server_name: b"www",
        server_port: 80,
        is_ssl: false,
    };

    /// The bytes of `LINE` after the packet header, up to and including num_headers = 0.
    const LINE_BYTES: &[u8] = b"\x02\x02\
        \x00\x08HTTP/1.1\x00\
        \x00\x06/app/x\x00\
        \x00\x0810.0.0.1\x00\
        \xff\xff\
        \x00\x03www\x00\
        \x00\x50\
        \x00\
        \x00\x00";

    fn frame(payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len()).unwrap();
        let mut packet = vec![0x12, 0x34];
        packet.extend_from_slice(&len.to_be_bytes());
        packet.extend_from_slice(payload);
        packet
    }

    /// The packet for `LINE` with `headers` headers, followed by `rest` (headers, attributes, 0xFF).
    fn expected_packet(headers: u16, rest: &[u8]) -> Vec<u8> {
        let mut payload = LINE_BYTES.to_vec();
        let at = payload.len() - 2;
        payload[at..].copy_from_slice(&headers.to_be_bytes());
        payload.extend_from_slice(rest);
        frame(&payload)
    }

    /// A FORWARD_REQUEST of `LINE` with no headers and the given attributes.
    fn with_attributes(attributes: &[Attribute<'_>]) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &LINE).unwrap();
        for &attr in attributes {
            enc.attribute(attr).unwrap();
        }
        let n = enc.finish().unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn get_with_query_headers_and_attributes_matches_spec_bytes() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &LINE).unwrap();
        enc.header(b"Host", b"www").unwrap();
        enc.header(b"X-Id", b"7").unwrap();
        enc.header(b"content-length", b"0").unwrap();
        enc.attribute(Attribute::Secret(b"s3cr3t")).unwrap();
        enc.attribute(Attribute::QueryString(b"y")).unwrap();
        enc.attribute(Attribute::Route(b"n1")).unwrap();
        enc.attribute(Attribute::SslKeySize(256)).unwrap();
        enc.attribute(Attribute::ReqAttribute {
            name: b"AJP_REMOTE_PORT",
            value: b"5555",
        })
        .unwrap();
        let total = enc.finish().unwrap();
        buf.truncate(total);

        let expected: &[u8] = b"\x12\x34\x00\x7a\
            \x02\
            \x02\
            \x00\x08HTTP/1.1\x00\
            \x00\x06/app/x\x00\
            \x00\x0810.0.0.1\x00\
            \xff\xff\
            \x00\x03www\x00\
            \x00\x50\
            \x00\
            \x00\x03\
            \xa0\x0b\x00\x03www\x00\
            \x00\x04X-Id\x00\x00\x017\x00\
            \xa0\x08\x00\x010\x00\
            \x0c\x00\x06s3cr3t\x00\
            \x05\x00\x01y\x00\
            \x06\x00\x02n1\x00\
            \x0b\x01\x00\
            \x0a\x00\x0fAJP_REMOTE_PORT\x00\x00\x045555\x00\
            \xff";
        assert_eq!(buf, expected);
        assert_eq!(total, expected.len());
        assert_eq!(total, 4 + 0x7a);
    }

    #[test]
    fn empty_request_is_line_then_zero_headers_then_terminator() {
        assert_eq!(with_attributes(&[]), expected_packet(0, b"\xff"));
    }

    #[test]
    fn remote_host_and_ssl_flag_are_written_when_present() {
        let line = RequestLine {
            remote_host: Some(b"client.example"),
            is_ssl: true,
            server_port: 443,
            ..LINE
        };
        let mut buf = Vec::new();
        let enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &line).unwrap();
        let n = enc.finish().unwrap();
        buf.truncate(n);
        let expected: &[u8] = b"\x02\x02\
            \x00\x08HTTP/1.1\x00\
            \x00\x06/app/x\x00\
            \x00\x0810.0.0.1\x00\
            \x00\x0eclient.example\x00\
            \x00\x03www\x00\
            \x01\xbb\
            \x01\
            \x00\x00\
            \xff";
        assert_eq!(buf, frame(expected));
    }

    #[test]
    fn every_coded_request_header_is_sent_as_its_code_whatever_the_case() {
        for &(name, code) in REQUEST_HEADERS.iter() {
            for spelling in [name.to_vec(), name.to_ascii_uppercase()] {
                let mut buf = Vec::new();
                let mut enc =
                    ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &LINE).unwrap();
                enc.header(&spelling, b"v").unwrap();
                let n = enc.finish().unwrap();
                buf.truncate(n);
                let mut rest = code.to_be_bytes().to_vec();
                rest.extend_from_slice(b"\x00\x01v\x00\xff");
                let name = String::from_utf8_lossy(name);
                assert_eq!(buf, expected_packet(1, &rest), "{name}");
            }
        }
    }

    #[test]
    fn uncoded_header_names_keep_their_spelling() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &LINE).unwrap();
        enc.header(b"Accept-Ranges", b"").unwrap();
        enc.header(b"X-Forwarded-For", b"1.2.3.4").unwrap();
        let n = enc.finish().unwrap();
        buf.truncate(n);
        let rest = b"\x00\x0dAccept-Ranges\x00\x00\x00\x00\
            \x00\x0fX-Forwarded-For\x00\x00\x071.2.3.4\x00\
            \xff";
        assert_eq!(buf, expected_packet(2, rest));
    }

    #[test]
    fn every_attribute_has_its_code_and_value_layout() {
        let cases: [(Attribute<'_>, &[u8]); 11] = [
            (Attribute::RemoteUser(b"bob"), b"\x03\x00\x03bob\x00"),
            (Attribute::AuthType(b"Basic"), b"\x04\x00\x05Basic\x00"),
            (Attribute::QueryString(b"a=1&b"), b"\x05\x00\x05a=1&b\x00"),
            (Attribute::Route(b"node1"), b"\x06\x00\x05node1\x00"),
            (Attribute::SslCert(b"PEM"), b"\x07\x00\x03PEM\x00"),
            (Attribute::SslCipher(b"AES"), b"\x08\x00\x03AES\x00"),
            (Attribute::SslSession(b"ab12"), b"\x09\x00\x04ab12\x00"),
            (
                Attribute::ReqAttribute {
                    name: b"JK_LB_ACTIVATION",
                    value: b"ACT",
                },
                b"\x0a\x00\x10JK_LB_ACTIVATION\x00\x00\x03ACT\x00",
            ),
            (Attribute::SslKeySize(0x0100), b"\x0b\x01\x00"),
            (Attribute::Secret(b"pw"), b"\x0c\x00\x02pw\x00"),
            (Attribute::StoredMethod(b"PATCH"), b"\x0d\x00\x05PATCH\x00"),
        ];
        for (attr, bytes) in cases {
            let rest = [bytes, b"\xff"].concat();
            assert_eq!(
                with_attributes(&[attr]),
                expected_packet(0, &rest),
                "{attr:?}"
            );
        }
    }

    #[test]
    fn known_methods_map_to_their_codes() {
        assert_eq!(method_code(b"OPTIONS"), 1);
        assert_eq!(method_code(b"GET"), 2);
        assert_eq!(method_code(b"POST"), 4);
        assert_eq!(method_code(b"VERSION-CONTROL"), 17);
        assert_eq!(method_code(b"BASELINE-CONTROL"), 26);
        assert_eq!(method_code(b"MKACTIVITY"), 27);
        for &(name, code) in METHODS.iter() {
            assert_eq!(method_code(name), code);
        }
    }

    #[test]
    fn unknown_or_miscased_method_is_stored() {
        assert_eq!(method_code(b"PATCH"), METHOD_STORED);
        assert_eq!(method_code(b"get"), METHOD_STORED);
        assert_eq!(method_code(b"BASELINE_CONTROL"), METHOD_STORED);
        assert_eq!(method_code(b""), METHOD_STORED);
        assert_eq!(method_code(b"GET "), METHOD_STORED);
    }

    #[test]
    fn stored_method_request_carries_0xff_and_the_name_attribute() {
        let line = RequestLine {
            method: method_code(b"PATCH"),
            ..LINE
        };
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &line).unwrap();
        enc.attribute(Attribute::StoredMethod(b"PATCH")).unwrap();
        let n = enc.finish().unwrap();
        buf.truncate(n);
        let mut expected = LINE_BYTES.to_vec();
        expected[1] = 0xFF;
        expected.extend_from_slice(b"\x0d\x00\x05PATCH\x00\xff");
        assert_eq!(buf, frame(&expected));
    }

    #[test]
    fn header_after_attribute_is_refused() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, DEFAULT_MAX_PACKET, &LINE).unwrap();
        enc.attribute(Attribute::Route(b"r")).unwrap();
        assert_eq!(
            enc.header(b"Host", b"h"),
            Err(EncodeError::HeaderAfterAttribute)
        );
        let n = enc.finish().unwrap();
        buf.truncate(n);
        assert_eq!(
            buf,
            expected_packet(0, b"\x06\x00\x01r\x00\xff"),
            "the refused header left no trace"
        );
    }

    #[test]
    fn header_count_stops_at_u16_max() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, MAX_MAX_PACKET, &LINE).unwrap();
        // 65535 real headers cannot fit a packet; set the counter to reach the limit.
        enc.headers = u16::MAX - 1;
        enc.header(b"Host", b"").unwrap();
        assert_eq!(enc.header(b"Host", b""), Err(EncodeError::TooManyHeaders));
        let n = enc.finish().unwrap();
        buf.truncate(n);
        assert_eq!(&buf[LINE_BYTES.len() + 2..][..2], &[0xFF, 0xFF]);
    }

    /// Size of a packet holding `LINE` plus one uncoded header `X: <value_len bytes>`.
    fn size_with_header(value_len: usize) -> usize {
        HEADER_LEN + LINE_BYTES.len() + (2 + 1 + 1) + (2 + value_len + 1) + 1
    }

    #[test]
    fn packet_of_exactly_max_fits_and_one_byte_more_does_not() {
        let max = DEFAULT_MAX_PACKET;
        let fitting = max - size_with_header(0);
        let value = vec![b'v'; fitting + 1];

        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, max, &LINE).unwrap();
        enc.header(b"X", &value[..fitting]).unwrap();
        assert_eq!(enc.finish(), Ok(max));
        buf.truncate(max);
        assert_eq!(buf.len(), max);
        assert_eq!(&buf[2..4], &u16::try_from(max - 4).unwrap().to_be_bytes());
        assert_eq!(buf.last(), Some(&0xFF));

        let mut enc = ForwardRequestEncoder::begin(&mut buf, max, &LINE).unwrap();
        assert_eq!(
            enc.header(b"X", &value),
            Err(EncodeError::TooLarge {
                needed: max + 1,
                max
            })
        );
    }

    #[test]
    fn attribute_at_the_boundary_fits_and_one_byte_more_does_not() {
        let fixed = HEADER_LEN + LINE_BYTES.len() + (1 + 2 + 1) + 1;
        let max = 300;
        let route = vec![b'r'; max - fixed + 1];
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, max, &LINE).unwrap();
        assert_eq!(
            enc.attribute(Attribute::Route(&route)),
            Err(EncodeError::TooLarge {
                needed: max + 1,
                max
            })
        );
        enc.attribute(Attribute::Route(&route[1..])).unwrap();
        assert_eq!(enc.finish(), Ok(max));
    }

    #[test]
    fn request_line_too_big_for_the_packet_fails_in_begin() {
        let exact = HEADER_LEN + LINE_BYTES.len() + 1;
        let mut buf = Vec::new();
        let enc = ForwardRequestEncoder::begin(&mut buf, exact, &LINE).unwrap();
        assert_eq!(enc.finish(), Ok(exact));
        assert_eq!(
            ForwardRequestEncoder::begin(&mut buf, exact - 1, &LINE).unwrap_err(),
            EncodeError::TooLarge {
                needed: exact,
                max: exact - 1
            }
        );
    }

    #[test]
    fn failed_item_leaves_the_packet_usable() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, 200, &LINE).unwrap();
        enc.header(b"Host", b"h").unwrap();
        let huge = [b'x'; 300];
        assert!(matches!(
            enc.header(b"X-Big", &huge),
            Err(EncodeError::TooLarge { .. })
        ));
        assert!(matches!(
            enc.attribute(Attribute::ReqAttribute {
                name: b"JK_ENV",
                value: &huge
            }),
            Err(EncodeError::TooLarge { .. })
        ));
        enc.attribute(Attribute::Route(b"r")).unwrap();
        let n = enc.finish().unwrap();
        buf.truncate(n);
        let rest = b"\xa0\x0b\x00\x01h\x00\x06\x00\x01r\x00\xff";
        assert_eq!(buf, expected_packet(1, rest));
    }

    #[test]
    fn strings_of_0xffff_bytes_or_more_are_refused() {
        let long = vec![b'a'; 0xFFFF];
        let line = RequestLine {
            req_uri: &long,
            ..LINE
        };
        let mut buf = Vec::new();
        assert_eq!(
            ForwardRequestEncoder::begin(&mut buf, MAX_MAX_PACKET, &line).unwrap_err(),
            EncodeError::StringTooLong
        );
        let mut enc = ForwardRequestEncoder::begin(&mut buf, usize::MAX, &LINE).unwrap();
        assert_eq!(enc.header(b"X", &long), Err(EncodeError::StringTooLong));
        assert_eq!(
            enc.attribute(Attribute::SslCert(&long)),
            Err(EncodeError::StringTooLong)
        );
    }

    #[test]
    fn header_name_whose_length_looks_like_a_code_is_refused() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, MAX_MAX_PACKET, &LINE).unwrap();
        assert_eq!(
            enc.header(&vec![b'n'; 0xA000], b""),
            Err(EncodeError::StringTooLong)
        );
        assert_eq!(
            enc.header(&vec![b'n'; 0xA0FF], b""),
            Err(EncodeError::StringTooLong)
        );
        enc.header(&vec![b'n'; 0x9FFF], b"").unwrap();
    }

    #[test]
    fn packets_never_exceed_what_a_u16_length_can_frame() {
        let mut buf = Vec::new();
        let mut enc = ForwardRequestEncoder::begin(&mut buf, usize::MAX, &LINE).unwrap();
        let big = vec![b'b'; 0xFFFE];
        assert!(matches!(
            enc.attribute(Attribute::SslCert(&big)),
            Err(EncodeError::TooLarge {
                max: MAX_FRAMEABLE_PACKET,
                ..
            })
        ));
    }

    #[test]
    fn body_packet_header_frames_data_length() {
        assert_eq!(
            body_packet_header(8186),
            [0x12, 0x34, 0x1F, 0xFC, 0x1F, 0xFA]
        );
        assert_eq!(body_packet_header(0), [0x12, 0x34, 0x00, 0x02, 0x00, 0x00]);
        assert_eq!(
            body_packet_header(0xFFFD),
            [0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFD]
        );
    }

    #[test]
    fn body_chunk_is_packet_minus_six() {
        assert_eq!(max_body_chunk(DEFAULT_MAX_PACKET), 8186);
        assert_eq!(max_body_chunk(MAX_MAX_PACKET), 65530);
        assert_eq!(max_body_chunk(usize::MAX), 0xFFFD);
        assert_eq!(max_body_chunk(5), 0);
        let largest = u16::try_from(max_body_chunk(usize::MAX)).unwrap();
        assert_eq!(body_packet_header(largest)[2..4], [0xFF, 0xFF]);
    }

    #[test]
    fn fixed_packets_match_the_spec() {
        assert_eq!(END_OF_BODY_PACKET, [0x12, 0x34, 0x00, 0x00]);
        assert_eq!(CPING_PACKET, [0x12, 0x34, 0x00, 0x01, 0x0A]);
    }

    #[test]
    fn errors_explain_themselves() {
        let text = EncodeError::TooLarge {
            needed: 9000,
            max: 8192,
        }
        .to_string();
        assert!(text.contains("9000") && text.contains("8192"), "{text}");
        assert!(EncodeError::HeaderAfterAttribute
            .to_string()
            .contains("attribute"));
    }
}
