//! The numbers of AJP/1.3 (reference §6): framing sizes, magic bytes, message prefix codes, method
//! codes, coded request and response header names, and request attribute codes, plus the two
//! lookups the codec needs (request header name -> code, response header code -> name).

// ---- Framing (§6.1) ----

/// mod_jk's default `max_packet_size`; Tomcat's `packetSize` default matches.
pub const DEFAULT_MAX_PACKET: usize = 8192;
/// Smallest `max_packet_size` mod_jk accepts.
pub const MIN_MAX_PACKET: usize = 8192;
/// Largest `max_packet_size` mod_jk accepts.
pub const MAX_MAX_PACKET: usize = 65536;
/// Every packet starts with two magic bytes and a big-endian u16 payload length.
pub const HEADER_LEN: usize = 4;
/// The largest packet a u16 payload length can describe; encoders never go past it whatever
/// `max_packet` says, so the length field cannot wrap.
pub const MAX_FRAMEABLE_PACKET: usize = HEADER_LEN + 0xFFFF;
/// Magic of packets from the web server to the container.
pub const REQUEST_MAGIC: [u8; 2] = [0x12, 0x34];
/// Magic of packets from the container to the web server: `'A' 'B'`.
pub const RESPONSE_MAGIC: [u8; 2] = [b'A', b'B'];
/// Magic an AJP14 peer would use; mod_jk names it in its error so the misconfiguration is obvious.
pub const AJP14_MAGIC: [u8; 2] = [0x12, 0x35];
/// A string length of 0xFFFF means "null string": no bytes and no NUL follow.
pub const NULL_STRING: u16 = 0xFFFF;
/// High byte of a u16 that is a header code rather than a string length.
pub const CODED_HEADER_MARK: u8 = 0xA0;

// ---- Message prefix codes (§6.2) ----

/// Web server -> container: a request.
pub const FORWARD_REQUEST: u8 = 2;
/// Container -> web server: a piece of the response body.
pub const SEND_BODY_CHUNK: u8 = 3;
/// Container -> web server: status line and response headers.
pub const SEND_HEADERS: u8 = 4;
/// Container -> web server: the response is complete.
pub const END_RESPONSE: u8 = 5;
/// Container -> web server: send more request body.
pub const GET_BODY_CHUNK: u8 = 6;
/// Web server -> container: shut down (never sent by mod_jk).
pub const SHUTDOWN: u8 = 7;
/// Web server -> container: AJP14 login-phase ping.
pub const PING: u8 = 8;
/// Container -> web server: answer to CPING.
pub const CPONG: u8 = 9;
/// Web server -> container: "are you alive?".
pub const CPING: u8 = 10;

// ---- Method codes (§6.3) ----

pub const METHOD_OPTIONS: u8 = 1;
pub const METHOD_GET: u8 = 2;
pub const METHOD_HEAD: u8 = 3;
pub const METHOD_POST: u8 = 4;
pub const METHOD_PUT: u8 = 5;
pub const METHOD_DELETE: u8 = 6;
pub const METHOD_TRACE: u8 = 7;
pub const METHOD_PROPFIND: u8 = 8;
pub const METHOD_PROPPATCH: u8 = 9;
pub const METHOD_MKCOL: u8 = 10;
pub const METHOD_COPY: u8 = 11;
pub const METHOD_MOVE: u8 = 12;
pub const METHOD_LOCK: u8 = 13;
pub const METHOD_UNLOCK: u8 = 14;
pub const METHOD_ACL: u8 = 15;
pub const METHOD_REPORT: u8 = 16;
pub const METHOD_VERSION_CONTROL: u8 = 17;
pub const METHOD_CHECKIN: u8 = 18;
pub const METHOD_CHECKOUT: u8 = 19;
pub const METHOD_UNCHECKOUT: u8 = 20;
pub const METHOD_SEARCH: u8 = 21;
pub const METHOD_MKWORKSPACE: u8 = 22;
pub const METHOD_UPDATE: u8 = 23;
pub const METHOD_LABEL: u8 = 24;
pub const METHOD_MERGE: u8 = 25;
pub const METHOD_BASELINE_CONTROL: u8 = 26;
pub const METHOD_MKACTIVITY: u8 = 27;
/// `SC_M_JK_STORED`: any other method; its name travels in [`ATTR_STORED_METHOD`] (§6.6 item 1).
pub const METHOD_STORED: u8 = 0xFF;

/// Method names as HTTP spells them (case-sensitive) and their codes.
pub const METHODS: [(&[u8], u8); 27] = [
    (b"OPTIONS", METHOD_OPTIONS),
    (b"GET", METHOD_GET),
    (b"HEAD", METHOD_HEAD),
    (b"POST", METHOD_POST),
    (b"PUT", METHOD_PUT),
    (b"DELETE", METHOD_DELETE),
    (b"TRACE", METHOD_TRACE),
    (b"PROPFIND", METHOD_PROPFIND),
    (b"PROPPATCH", METHOD_PROPPATCH),
    (b"MKCOL", METHOD_MKCOL),
    (b"COPY", METHOD_COPY),
    (b"MOVE", METHOD_MOVE),
    (b"LOCK", METHOD_LOCK),
    (b"UNLOCK", METHOD_UNLOCK),
    (b"ACL", METHOD_ACL),
    (b"REPORT", METHOD_REPORT),
    (b"VERSION-CONTROL", METHOD_VERSION_CONTROL),
    (b"CHECKIN", METHOD_CHECKIN),
    (b"CHECKOUT", METHOD_CHECKOUT),
    (b"UNCHECKOUT", METHOD_UNCHECKOUT),
    (b"SEARCH", METHOD_SEARCH),
    (b"MKWORKSPACE", METHOD_MKWORKSPACE),
    (b"UPDATE", METHOD_UPDATE),
    (b"LABEL", METHOD_LABEL),
    (b"MERGE", METHOD_MERGE),
    // RFC 3253 spells it with a hyphen; the AJP document's `BASELINE_CONTROL` is a typo.
    (b"BASELINE-CONTROL", METHOD_BASELINE_CONTROL),
    (b"MKACTIVITY", METHOD_MKACTIVITY),
];

// ---- Coded request header names (§6.3) ----

pub const REQ_ACCEPT: u16 = 0xA001;
pub const REQ_ACCEPT_CHARSET: u16 = 0xA002;
pub const REQ_ACCEPT_ENCODING: u16 = 0xA003;
pub const REQ_ACCEPT_LANGUAGE: u16 = 0xA004;
pub const REQ_AUTHORIZATION: u16 = 0xA005;
pub const REQ_CONNECTION: u16 = 0xA006;
pub const REQ_CONTENT_TYPE: u16 = 0xA007;
pub const REQ_CONTENT_LENGTH: u16 = 0xA008;
pub const REQ_COOKIE: u16 = 0xA009;
pub const REQ_COOKIE2: u16 = 0xA00A;
pub const REQ_HOST: u16 = 0xA00B;
pub const REQ_PRAGMA: u16 = 0xA00C;
pub const REQ_REFERER: u16 = 0xA00D;
pub const REQ_USER_AGENT: u16 = 0xA00E;

/// Request header names that travel as a code; matched ignoring ASCII case, as mod_jk does.
pub const REQUEST_HEADERS: [(&[u8], u16); 14] = [
    (b"accept", REQ_ACCEPT),
    (b"accept-charset", REQ_ACCEPT_CHARSET),
    (b"accept-encoding", REQ_ACCEPT_ENCODING),
    (b"accept-language", REQ_ACCEPT_LANGUAGE),
    (b"authorization", REQ_AUTHORIZATION),
    (b"connection", REQ_CONNECTION),
    (b"content-type", REQ_CONTENT_TYPE),
    (b"content-length", REQ_CONTENT_LENGTH),
    (b"cookie", REQ_COOKIE),
    (b"cookie2", REQ_COOKIE2),
    (b"host", REQ_HOST),
    (b"pragma", REQ_PRAGMA),
    (b"referer", REQ_REFERER),
    (b"user-agent", REQ_USER_AGENT),
];

/// The code a request header name travels as, if it has one (ASCII case ignored).
#[inline]
pub fn request_header_code(name: &[u8]) -> Option<u16> {
    // Length and first letter leave at most one candidate (two of length 15, told apart by
    // their 8th letter), so a header costs one comparison, not fourteen.
    let first = name.first()? | 0x20;
    let code = match (name.len(), first) {
        (4, b'h') => REQ_HOST,
        (6, b'a') => REQ_ACCEPT,
        (6, b'c') => REQ_COOKIE,
        (6, b'p') => REQ_PRAGMA,
        (7, b'c') => REQ_COOKIE2,
        (7, b'r') => REQ_REFERER,
        (10, b'c') => REQ_CONNECTION,
        (10, b'u') => REQ_USER_AGENT,
        (12, b'c') => REQ_CONTENT_TYPE,
        (13, b'a') => REQ_AUTHORIZATION,
        (14, b'a') => REQ_ACCEPT_CHARSET,
        (14, b'c') => REQ_CONTENT_LENGTH,
        (15, b'a') if name[7] | 0x20 == b'e' => REQ_ACCEPT_ENCODING,
        (15, b'a') => REQ_ACCEPT_LANGUAGE,
        _ => return None,
    };
    let known = &FOLDED_REQUEST_HEADERS[usize::from(code - REQ_ACCEPT)];
    known.is(name).then_some(code)
}

/// A known header name as two overlapping little-endian words (the first and the last 8
/// bytes, or 4 for names under 8), with the case bit set where it has a letter: a name of the
/// same length matches, in any letter case, when its words with that bit set are equal. Two
/// loads and two comparisons, whatever the length (4 to 16 bytes).
pub struct FoldedName {
    len: usize,
    words: [u64; 2],
    case: [u64; 2],
}

impl FoldedName {
    /// `lower`: 4 to 16 bytes, letters in lower case (checked at compile time).
    pub const fn of(lower: &[u8]) -> FoldedName {
        let len = lower.len();
        assert!(len >= 4 && len <= 16);
        let mut case = [0u8; 16];
        let mut i = 0;
        while i < len {
            if lower[i].is_ascii_lowercase() {
                case[i] = 0x20;
            }
            i += 1;
        }
        FoldedName {
            len,
            words: [word_at(lower, 0, len), word_at(lower, tail(len), len)],
            case: [word_at(&case, 0, len), word_at(&case, tail(len), len)],
        }
    }

    /// Whether `name` is this name in any letter case.
    pub fn is(&self, name: &[u8]) -> bool {
        let n = name.len();
        if n != self.len {
            return false;
        }
        let (a, b) = if n >= 8 {
            (
                u64::from_le_bytes(name[..8].try_into().unwrap_or_default()),
                u64::from_le_bytes(name[n - 8..].try_into().unwrap_or_default()),
            )
        } else {
            (
                u64::from(u32::from_le_bytes(name[..4].try_into().unwrap_or_default())),
                u64::from(u32::from_le_bytes(
                    name[n - 4..].try_into().unwrap_or_default(),
                )),
            )
        };
        ((a | self.case[0]) ^ self.words[0]) | ((b | self.case[1]) ^ self.words[1]) == 0
    }
}

/// Where the second word of a name of `len` bytes starts.
const fn tail(len: usize) -> usize {
    if len >= 8 {
        len - 8
    } else {
        len - 4
    }
}

/// The 8 bytes (4 for names under 8) of `bytes` from `at`, little-endian.
const fn word_at(bytes: &[u8], at: usize, len: usize) -> u64 {
    let width = if len >= 8 { 8 } else { 4 };
    let mut w = 0u64;
    let mut i = 0;
    while i < width {
        w |= (bytes[at + i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// `content-length` and `content-type`, as response headers are checked for them.
pub const CONTENT_LENGTH: FoldedName = FoldedName::of(b"content-length");
pub const CONTENT_TYPE: FoldedName = FoldedName::of(b"content-type");

/// [`REQUEST_HEADERS`] folded, in code order (entry `i` is code `REQ_ACCEPT + i`).
const FOLDED_REQUEST_HEADERS: [FoldedName; 14] = {
    let mut out = [const {
        FoldedName {
            len: 0,
            words: [0; 2],
            case: [0; 2],
        }
    }; 14];
    let mut i = 0;
    while i < REQUEST_HEADERS.len() {
        let (name, code) = REQUEST_HEADERS[i];
        out[(code - REQ_ACCEPT) as usize] = FoldedName::of(name);
        i += 1;
    }
    out
};

// ---- Coded response header names (§6.4) ----

pub const RESP_CONTENT_TYPE: u16 = 0xA001;
pub const RESP_CONTENT_LANGUAGE: u16 = 0xA002;
pub const RESP_CONTENT_LENGTH: u16 = 0xA003;
pub const RESP_DATE: u16 = 0xA004;
pub const RESP_LAST_MODIFIED: u16 = 0xA005;
pub const RESP_LOCATION: u16 = 0xA006;
pub const RESP_SET_COOKIE: u16 = 0xA007;
pub const RESP_SET_COOKIE2: u16 = 0xA008;
pub const RESP_SERVLET_ENGINE: u16 = 0xA009;
pub const RESP_STATUS: u16 = 0xA00A;
pub const RESP_WWW_AUTHENTICATE: u16 = 0xA00B;

/// Canonical spellings of the coded response headers; entry `i` is code `0xA001 + i`.
pub const RESPONSE_HEADERS: [&[u8]; 11] = [
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

/// The canonical name of a coded response header, or `None` for a code AJP does not define.
pub fn response_header_name(code: u16) -> Option<&'static [u8]> {
    let index = code.checked_sub(RESP_CONTENT_TYPE)?;
    RESPONSE_HEADERS.get(usize::from(index)).copied()
}

// ---- Request attribute codes (§6.3, §6.6) ----

pub const ATTR_CONTEXT: u8 = 0x01;
pub const ATTR_SERVLET_PATH: u8 = 0x02;
pub const ATTR_REMOTE_USER: u8 = 0x03;
pub const ATTR_AUTH_TYPE: u8 = 0x04;
pub const ATTR_QUERY_STRING: u8 = 0x05;
pub const ATTR_ROUTE: u8 = 0x06;
pub const ATTR_SSL_CERT: u8 = 0x07;
pub const ATTR_SSL_CIPHER: u8 = 0x08;
pub const ATTR_SSL_SESSION: u8 = 0x09;
/// A named request attribute: name string, then value string.
pub const ATTR_REQ_ATTRIBUTE: u8 = 0x0A;
/// Sent as a u16 integer by mod_jk, not a string (§6.6 item 2).
pub const ATTR_SSL_KEY_SIZE: u8 = 0x0B;
pub const ATTR_SECRET: u8 = 0x0C;
pub const ATTR_STORED_METHOD: u8 = 0x0D;
/// Ends the attribute list, and with it the FORWARD_REQUEST.
pub const ATTR_END: u8 = 0xFF;

// Names of the [`ATTR_REQ_ATTRIBUTE`] attributes Tomcat consumes specially (§6.6 item 3).

/// Client's TCP port, always sent by mod_jk.
pub const REQ_ATTR_REMOTE_PORT: &[u8] = b"AJP_REMOTE_PORT";
/// Address of the server socket the request came in on, always sent by mod_jk.
pub const REQ_ATTR_LOCAL_ADDR: &[u8] = b"AJP_LOCAL_ADDR";
/// TLS protocol name, sent when known.
pub const REQ_ATTR_SSL_PROTOCOL: &[u8] = b"AJP_SSL_PROTOCOL";
/// Activation of the lb member (`ACT`, `DIS`, `STP`), always sent by mod_jk.
pub const REQ_ATTR_LB_ACTIVATION: &[u8] = b"JK_LB_ACTIVATION";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_header_lookup_ignores_case() {
        assert_eq!(
            request_header_code(b"Content-Length"),
            Some(REQ_CONTENT_LENGTH)
        );
        assert_eq!(request_header_code(b"USER-AGENT"), Some(REQ_USER_AGENT));
        assert_eq!(request_header_code(b"hOsT"), Some(REQ_HOST));
        assert_eq!(request_header_code(b"X-Forwarded-For"), None);
        assert_eq!(request_header_code(b"cookie3"), None);
        assert_eq!(request_header_code(b""), None);
    }

    #[test]
    fn request_header_code_finds_exactly_the_listed_names_in_any_case() {
        let slow = |name: &[u8]| {
            REQUEST_HEADERS
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
                .map(|&(_, code)| code)
        };
        let mut names: Vec<Vec<u8>> = Vec::new();
        for (known, _) in REQUEST_HEADERS {
            names.push(known.to_vec());
            names.push(known.to_ascii_uppercase());
            let mut mixed = known.to_vec();
            mixed[0] = mixed[0].to_ascii_uppercase();
            names.push(mixed);
            // Near misses: each letter changed, one letter more or less.
            for i in 0..known.len() {
                let mut near = known.to_vec();
                near[i] = b'x';
                names.push(near);
                // The case bit on a non-letter ('-' and '\r'), and a neighbouring byte.
                for flip in [0x20, 0x01, 0x40] {
                    let mut near = known.to_vec();
                    near[i] ^= flip;
                    names.push(near);
                }
            }
            names.push(known[1..].to_vec());
            names.push([known, b"s"].concat());
        }
        names.extend([
            b"".to_vec(),
            b"x".to_vec(),
            b"accept-encodinG".to_vec(),
            b"accept-lxnguage".to_vec(),
            b"Accept-Datetime".to_vec(),
            b"Sec-Fetch-Mode".to_vec(),
            b"\xc3\xa9tag".to_vec(),
        ]);
        for name in &names {
            assert_eq!(
                request_header_code(name),
                slow(name),
                "{}",
                String::from_utf8_lossy(name)
            );
        }
    }

    #[test]
    fn folded_names_match_in_any_case_and_nothing_else() {
        for (folded, lower) in [
            (&CONTENT_LENGTH, &b"content-length"[..]),
            (&CONTENT_TYPE, &b"content-type"[..]),
        ] {
            let mut names = vec![
                lower.to_vec(),
                lower.to_ascii_uppercase(),
                [lower, b"x"].concat(),
                lower[1..].to_vec(),
                Vec::new(),
            ];
            for i in 0..lower.len() {
                for flip in [0x20, 0x01, 0x40, 0x80] {
                    let mut near = lower.to_vec();
                    near[i] ^= flip;
                    names.push(near);
                }
            }
            for name in &names {
                assert_eq!(
                    folded.is(name),
                    name.eq_ignore_ascii_case(lower),
                    "{}",
                    String::from_utf8_lossy(name)
                );
            }
        }
    }

    #[test]
    fn request_header_codes_are_consecutive_from_a001() {
        for (i, &(_, code)) in REQUEST_HEADERS.iter().enumerate() {
            assert_eq!(usize::from(code), 0xA001 + i);
        }
    }

    #[test]
    fn response_header_names_cover_exactly_a001_to_a00b() {
        assert_eq!(response_header_name(0xA000), None);
        assert_eq!(
            response_header_name(RESP_CONTENT_TYPE),
            Some(&b"Content-Type"[..])
        );
        assert_eq!(
            response_header_name(RESP_SET_COOKIE),
            Some(&b"Set-Cookie"[..])
        );
        assert_eq!(
            response_header_name(RESP_WWW_AUTHENTICATE),
            Some(&b"WWW-Authenticate"[..])
        );
        assert_eq!(response_header_name(0xA00C), None);
        assert_eq!(response_header_name(0x0000), None);
        assert_eq!(response_header_name(0xFFFF), None);
    }

    #[test]
    fn method_codes_are_consecutive_from_one() {
        for (i, &(_, code)) in METHODS.iter().enumerate() {
            assert_eq!(usize::from(code), i + 1);
        }
    }
}
