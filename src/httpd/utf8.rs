//! Text of the bytes httpd hands over (the URI, notes, header values). They are short ASCII
//! strings nearly always, which `str::from_utf8` validates a byte at a time (about 90
//! instructions for a 13-byte URI); `is_ascii` looks at a word at a time, and only text with
//! other bytes takes the full check.

/// `bytes` as text, if they are valid UTF-8.
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    if crate::scan::is_ascii(bytes) {
        // SAFETY: ASCII is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::utf8;

    #[test]
    fn agrees_with_from_utf8() {
        let cases: [&[u8]; 9] = [
            b"",
            b"/",
            b"balancer",
            b"/bench/s1024?size=1024",
            "/caf\u{e9}".as_bytes(),
            b"/caf\xe9",
            b"\xff",
            b"0123456789abcdef0123456789abcdef\xc3",
            "0123456789abcdef0123456789abcdef\u{20ac}".as_bytes(),
        ];
        for case in cases {
            assert_eq!(utf8(case), std::str::from_utf8(case).ok(), "{case:?}");
        }
    }
}
