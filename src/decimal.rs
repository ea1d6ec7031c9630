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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_display() {
        for n in [0u64, 7, 10, 65535, 1_000_000, u64::MAX] {
            let mut buf = Digits::default();
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
