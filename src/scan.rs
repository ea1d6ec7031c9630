//! Byte searches a word at a time, for the short strings of the hot path (URIs, names,
//! cookies), where the standard library's `memchr` walks byte by byte below 16 bytes.
#![forbid(unsafe_code)]

/// The first index of `a` or `b` in `hay`: eight bytes at a time (a word holds one of them
/// when `word ^ repeated(x)` has a zero byte; the lowest such flag is the first match).
pub fn find_either(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let (ra, rb) = (ONES * u64::from(a), ONES * u64::from(b));
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let found = zero_byte(w ^ ra) | zero_byte(w ^ rb);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == a || c == b)
        .map(|p| at + p)
}

/// The first index of `b` in `hay`.
pub fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    find_either(hay, b, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_either_finds_the_first_of_two_bytes_anywhere() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..hay.len() {
            for (a, b) in [
                (b'c', b'x'),
                (b'z', b'b'),
                (b'\x80', b'q'),
                (b'a', b'a'),
                (0, 0xFF),
            ] {
                let slice = &hay[..len];
                let expected = slice.iter().position(|&c| c == a || c == b);
                assert_eq!(find_either(slice, a, b), expected, "{len} {a} {b}");
            }
        }
        // Bytes that differ from the target only in the high bit, and zero bytes.
        let tricky = [0x00, 0xBB, 0x3B, 0x80, 0x01, 0x3B, 0x2C, 0xAC, 0x3B];
        for start in 0..tricky.len() {
            let slice = &tricky[start..];
            let expected = slice.iter().position(|&c| c == b';' || c == b',');
            assert_eq!(find_either(slice, b';', b','), expected);
        }
    }

    #[test]
    fn find_byte_is_find_either_of_one() {
        let hay = [b'/', b'a', 0x80, 0xff, b'=', b'x', b'=', b'/', b'b', b'c'];
        for len in 0..=hay.len() {
            let h = &hay[..len];
            assert_eq!(find_byte(h, b'='), h.iter().position(|&c| c == b'='));
        }
    }
}
