//! Byte tests and searches a word at a time, for the short strings of the hot path (URIs,
//! names, cookies), where the standard library walks byte by byte.
#![forbid(unsafe_code)]

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = ONES << 7;

/// The high bit of every zero byte of `v` (and possibly of bytes above a zero one; never below
/// the lowest zero byte, so the lowest flag is exact).
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGH
}

/// The first byte of `hay` that `flags` marks: eight bytes at a time, the last few as the
/// (overlapping) last word of `hay`, whose bytes already seen are known not to match, so
/// nothing below the first new byte is flagged.
fn first_flagged(
    hay: &[u8],
    flags: impl Fn(u64) -> u64,
    one: impl Fn(u8) -> bool,
) -> Option<usize> {
    let word_at = |at: usize| {
        hay.get(at..at + 8)
            .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    let n = hay.len();
    if n < 8 {
        return hay.iter().position(|&c| one(c));
    }
    let mut at = 0;
    while at + 8 <= n {
        let found = flags(word_at(at));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if at == n {
        return None;
    }
    let found = flags(word_at(n - 8));
    (found != 0).then(|| n - 8 + (found.trailing_zeros() / 8) as usize)
}

/// The first index of `a` or `b` in `hay` (a word holds one of them when
/// `word ^ repeated(x)` has a zero byte).
pub fn find_either(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    let (ra, rb) = (ONES * u64::from(a), ONES * u64::from(b));
    first_flagged(
        hay,
        |w| zero_bytes(w ^ ra) | zero_bytes(w ^ rb),
        |c| c == a || c == b,
    )
}

/// The first index of `b` in `hay`.
pub fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    let rb = ONES * u64::from(b);
    first_flagged(hay, |w| zero_bytes(w ^ rb), |c| c == b)
}

/// Whether every byte is ASCII: eight bytes per step, OR-ed together, one test at the end
/// (the standard library's `is_ascii` costs about two instructions a byte here, for a 95-byte
/// Cookie header).
pub fn is_ascii(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut all = 0u64;
    for word in words.by_ref() {
        all |= u64::from_ne_bytes(word.try_into().unwrap_or_default());
    }
    let tail = words.remainder().iter().fold(0u8, |all, &b| all | b);
    all & HIGH == 0 && tail < 0x80
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

    #[test]
    fn is_ascii_agrees_with_the_standard_library() {
        // A non-ASCII byte at every position of every length up to three words.
        for len in 0..24 {
            let mut bytes = vec![b'a'; len];
            assert!(is_ascii(&bytes));
            for at in 0..len {
                for high in [0x80, 0xC3, 0xFF] {
                    bytes[at] = high;
                    assert_eq!(is_ascii(&bytes), bytes.is_ascii(), "{len} {at} {high}");
                }
                bytes[at] = b'a';
            }
        }
    }
}
