//! Decimal numbers written into a stack buffer (request notes, AJP attributes): no heap on the
//! hot path.
#![forbid(unsafe_code)]

/// Room for any u64.
pub type Digits = [u8; 20];

/// "00", "01", … "99": two digits per division.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `n` in decimal, in the tail of `buf`.
pub fn decimal(n: u64, buf: &mut Digits) -> &[u8] {
    let mut v = n;
    let mut at = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + v as u8;
    }
    &buf[at..]
}

/// A header's decimal number (Content-Length): ASCII white space around it ignored, an
/// optional '+', then digits only; `None` for anything else or a value past u64. What
/// `str::trim` and `u64::from_str` accept, on bytes, without a UTF-8 check (ASCII only).
#[inline]
pub fn parse_u64(text: &[u8]) -> Option<u64> {
    // A backend's Content-Length: digits and nothing else, nearly always.
    if let Some(n) = plain_digits(text) {
        return Some(n);
    }
    let text = text.trim_ascii();
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.len() <= 19 {
        return plain_digits(digits);
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// `text` as a number when it is 1 to 19 digits and nothing else (no overflow possible).
fn plain_digits(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    text.iter().try_fold(0u64, |n, &b| {
        let d = b.wrapping_sub(b'0');
        (d <= 9).then(|| n * 10 + u64::from(d))
    })
}

/// Room for a duration as `seconds.microseconds`.
pub type DurationText = [u8; 28];

/// `d` as mod_jk's `JK_REQUEST_DURATION` writes it: seconds, a dot, six digits of
/// microseconds (`0.000123`), in the tail of `buf`.
pub fn seconds_micros(d: std::time::Duration, buf: &mut DurationText) -> &[u8] {
    let mut at = buf.len();
    let mut micros = d.subsec_micros();
    for _ in 0..6 {
        at -= 1;
        buf[at] = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    at -= 1;
    buf[at] = b'.';
    let mut secs = Digits::default();
    let whole = decimal(d.as_secs(), &mut secs);
    let start = at - whole.len();
    buf[start..at].copy_from_slice(whole);
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_mod_jk() {
        use std::time::Duration;
        for (d, text) in [
            (Duration::ZERO, "0.000000"),
            (Duration::from_micros(123), "0.000123"),
            (Duration::from_nanos(1_500_000_999), "1.500000"),
            (Duration::from_secs(86_400 * 365), "31536000.000000"),
            (Duration::MAX, "18446744073709551615.999999"),
        ] {
            let mut buf = DurationText::default();
            assert_eq!(seconds_micros(d, &mut buf), text.as_bytes());
            assert_eq!(format!("{}.{:06}", d.as_secs(), d.subsec_micros()), text);
        }
    }

    #[test]
    fn formats_like_display() {
        let mut cases = vec![0u64, 7, 10, 65535, 1_000_000, u64::MAX, u64::MAX - 1];
        cases.extend(0..=1_000);
        cases.extend((0..64).map(|shift| 1u64 << shift));
        cases.extend((0..20).flat_map(|e| {
            let p = 10u64.saturating_pow(e);
            [p - 1, p, p + 1, p.saturating_mul(9)]
        }));
        for n in cases {
            let mut buf = Digits::default();
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn parse_u64_reads_what_trim_and_from_str_read() {
        for text in [
            "0",
            "5",
            " 42 ",
            "\t7\r\n",
            "+9",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "99999999999999999999",
            "00000000000000000000001",
            "1844674407370955161x",
            "1024",
            "",
            " ",
            "+",
            "-1",
            "1 2",
            "0x10",
            "1e3",
            "٣",
            "++1",
            "007",
        ] {
            let expected = text.trim().parse::<u64>().ok();
            assert_eq!(parse_u64(text.as_bytes()), expected, "{text:?}");
        }
        assert_eq!(parse_u64(b"\xff"), None);
    }
}
