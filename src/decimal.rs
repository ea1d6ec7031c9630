//! Decimal numbers written into a stack buffer (request notes, AJP attributes): no heap on the
//! hot path.
#![forbid(unsafe_code)]

/// Room for any u64.
pub type Digits = [u8; 20];

/// `n` in decimal, in the tail of `buf`.
pub fn decimal(n: u64, buf: &mut Digits) -> &[u8] {
    let mut v = n;
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[at..]
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
        for n in [0u64, 7, 10, 65535, 1_000_000, u64::MAX] {
            let mut buf = Digits::default();
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
