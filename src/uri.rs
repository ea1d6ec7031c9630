//! The URI sent to the backend. `ForwardURIProxy` (mod_jk's default, reference §1.3): httpd's
//! decoded path re-encoded so that the backend's single decoding gives back exactly the path the
//! mount rules saw — a decoded `%` or `?` can never turn into a second round of decoding on the
//! backend (CVE-2007-1860).
#![forbid(unsafe_code)]

use std::borrow::Cow;

/// A set of bytes as a 256-entry table, built at compile time: one load per byte tested.
struct ByteSet([bool; 256]);

impl ByteSet {
    /// ASCII letters and digits, and `extra`.
    const fn alphanumeric_and(extra: &[u8]) -> ByteSet {
        let mut set = [false; 256];
        let mut b = 0;
        while b < 256 {
            set[b] = (b as u8).is_ascii_alphanumeric();
            b += 1;
        }
        let mut i = 0;
        while i < extra.len() {
            set[extra[i] as usize] = true;
            i += 1;
        }
        ByteSet(set)
    }

    fn has(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }

    /// Whether every byte of `bytes` is in the set.
    fn has_all(&self, bytes: &[u8]) -> bool {
        let mut words = bytes.chunks_exact(8);
        let mut all = true;
        for word in words.by_ref() {
            all &= word.iter().fold(true, |all, &b| all & self.has(b));
        }
        all && words.remainder().iter().all(|&b| self.has(b))
    }
}

/// Bytes that pass through unencoded in a path: RFC 3986 unreserved, sub-delims, ':', '@', '/'.
static KEEP: ByteSet = ByteSet::alphanumeric_and(b"-._~!$&'()*+,;=:@/");

/// `ForwardURIEscaped`: httpd's `ap_escape_uri` set (checked against mod_jk 1.2.48: ';' stays).
static KEEP_ESCAPED: ByteSet = ByteSet::alphanumeric_and(b"$-_.+!*'(),:@&=/~;");

/// Percent-encodes every byte of `path` that may not stand literally in a URI path.
/// Borrows when nothing needs encoding (the common case: no allocation).
pub fn encode_path(path: &[u8]) -> Cow<'_, [u8]> {
    encode_with(path, &KEEP, b"0123456789ABCDEF")
}

/// `ForwardURIEscaped`: like [`encode_path`] with httpd's stricter set.
pub fn escape_path(path: &[u8]) -> Cow<'_, [u8]> {
    // httpd writes lower-case hex digits.
    encode_with(path, &KEEP_ESCAPED, b"0123456789abcdef")
}

fn encode_with<'p>(path: &'p [u8], keep: &ByteSet, hex: &'static [u8; 16]) -> Cow<'p, [u8]> {
    // Nearly every path needs no encoding: eight bytes at a time, without a branch per byte,
    // tell so; only a path that does is searched byte by byte.
    if keep.has_all(path) {
        return Cow::Borrowed(path);
    }
    let Some(first) = path.iter().position(|&b| !keep.has(b)) else {
        return Cow::Borrowed(path);
    };
    let mut out = Vec::with_capacity(path.len() + 16);
    out.extend_from_slice(&path[..first]);
    for &b in &path[first..] {
        if keep.has(b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[(b >> 4) as usize], hex[(b & 15) as usize]]);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_borrowed_unchanged() {
        assert!(matches!(
            encode_path(b"/app/x;jsessionid=A.b/y.jsp"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn decoded_percent_and_question_mark_are_reencoded() {
        assert_eq!(
            &*encode_path(b"/app/%2e%2e/x?y z"),
            b"/app/%252e%252e/x%3Fy%20z"
        );
    }

    #[test]
    fn escaped_mode_keeps_path_parameters_with_httpds_lower_case_hex() {
        assert_eq!(&*escape_path(b"/a;jsessionid=x"), b"/a;jsessionid=x");
        assert_eq!(&*escape_path(b"/a b/%"), b"/a%20b/%25");
    }

    /// The eight-at-a-time test agrees with a byte loop for one byte to leave out at every
    /// position of paths of every length up to 40, and for every byte value.
    #[test]
    fn has_all_agrees_with_a_byte_loop() {
        for set in [&KEEP, &KEEP_ESCAPED] {
            for len in 0..=40usize {
                let plain: Vec<u8> = (0..len).map(|i| b"/abc-._~9"[i % 9]).collect();
                assert!(set.has_all(&plain), "{len}");
                for at in 0..len {
                    for bad in [b' ', b'%', b'?', b'#', 0x80, 0xff, 0] {
                        let mut path = plain.clone();
                        path[at] = bad;
                        assert!(!set.has_all(&path), "{len} {at} {bad}");
                    }
                }
            }
            for b in 0..=255u8 {
                assert_eq!(set.has_all(&[b; 9]), set.has(b), "{b}");
            }
        }
    }

    #[test]
    fn non_ascii_and_controls_are_encoded() {
        assert_eq!(&*encode_path("/é\n#".as_bytes()), b"/%C3%A9%0A%23");
    }
}
