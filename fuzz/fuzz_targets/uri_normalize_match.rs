//! The URI normaliser (`normalize_uri`), the wildcard matcher and the mount map's choice, and
//! the re-encoding of the URI forwarded to the backend (`uri::encode_path`, `escape_path`).
//!
//! Invariants: a normal form starts with '/', has no `;`, no `//`, no `.` or `..` segment, and
//! is its own normal form; `wildcard_match` agrees with a plain dynamic-programming matcher;
//! `MountMap::find` agrees with a rule-by-rule reading of mod_jk's precedence; encoding keeps
//! only allowed bytes and decodes back to the path.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mod_jk_rs::config::Origin;
use mod_jk_rs::mount::{normalize_uri, parse_mount, wildcard_match, MountMap, MountSource};
use mod_jk_rs::uri::{encode_path, escape_path};
use std::borrow::Cow;

#[derive(Arbitrary, Debug)]
struct Input {
    uri: String,
    /// (pattern as written with its `-`/`!` prefixes, worker index)
    rules: Vec<(String, u8)>,
}

/// `*` any run of bytes, `?` one byte, anything else itself: the textbook table.
fn reference_match(pattern: &[u8], text: &[u8]) -> bool {
    // row[j]: pattern[..i] matches text[..j]
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        if p == b'*' {
            let mut any = false;
            for j in 0..=text.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=text.len() {
                next[j] = row[j - 1] && (p == b'?' || p == text[j - 1]);
            }
        }
        row = next;
    }
    row[text.len()]
}

fn check_normal(uri: &str) {
    let Ok(normal) = normalize_uri(uri) else {
        return;
    };
    assert!(normal.starts_with('/'), "{uri:?} -> {normal:?}");
    assert!(!normal.contains(';'), "{uri:?} -> {normal:?}");
    assert!(!normal.contains("//"), "{uri:?} -> {normal:?}");
    assert!(
        !normal.split('/').any(|s| s == "." || s == ".."),
        "{uri:?} -> {normal:?} has a dot segment"
    );
    let again = normalize_uri(&normal).expect("a normal form normalises");
    assert_eq!(again, normal, "normalising twice changed {uri:?}");
    assert!(
        matches!(again, Cow::Borrowed(_)),
        "a normal form is borrowed"
    );
    if matches!(normal, Cow::Borrowed(_)) {
        assert_eq!(&*normal, uri);
    }
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn check_encoding(path: &[u8]) {
    for (encoded, allowed) in [
        (encode_path(path), &b"-._~!$&'()*+,;=:@/%"[..]),
        (escape_path(path), &b"$-_.+!*'(),:@&=/~;%"[..]),
    ] {
        assert!(
            encoded
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || allowed.contains(b)),
            "{encoded:?}"
        );
        assert_eq!(
            percent_decode(&encoded),
            path,
            "encoding does not decode back"
        );
        if matches!(encoded, Cow::Borrowed(_)) {
            assert!(!path.contains(&b'%'));
        }
    }
}

const WORKERS: [&str; 3] = ["app", "other", "*"];

fuzz_target!(|input: Input| {
    let uri = input.uri.as_str();
    check_normal(uri);
    check_encoding(uri.as_bytes());

    let mut rules = Vec::new();
    for (index, (pattern, worker)) in input.rules.iter().take(12).enumerate() {
        let worker = WORKERS[usize::from(*worker) % WORKERS.len()];
        if pattern.len() < 64 && uri.len() < 256 {
            assert_eq!(
                wildcard_match(pattern, uri),
                reference_match(pattern.as_bytes(), uri.as_bytes()),
                "wildcard_match({pattern:?}, {uri:?})"
            );
        }
        let origin = Origin::new("fuzz", index + 1);
        if let Ok(parsed) = parse_mount(pattern, worker, MountSource::JkMount, origin, false) {
            rules.extend(parsed);
        }
    }
    let map = MountMap::new(rules);
    let Ok(normal) = normalize_uri(uri) else {
        return;
    };
    // mod_jk §3.2, rule by rule: the first enabled mount that matches, unless an enabled
    // exclusion of the same worker (or `*`) matches too.
    let sorted = map.rules();
    let matches = |i: usize| {
        let r = &sorted[i];
        reference_match(r.pattern.as_bytes(), normal.as_bytes())
    };
    let mut expected = None;
    if normal.len() < mod_jk_rs::mount::MAX_URI_LEN && normal.len() < 512 {
        if let Some(found) =
            (0..sorted.len()).find(|&i| !sorted[i].disabled && !sorted[i].exclusion && matches(i))
        {
            let worker = &sorted[found].worker;
            let cancelled = (0..sorted.len()).any(|i| {
                let r = &sorted[i];
                !r.disabled && r.exclusion && (&r.worker == worker || r.worker == "*") && matches(i)
            });
            if !cancelled {
                expected = Some(found);
            }
        }
        assert_eq!(
            map.find(&normal),
            expected,
            "mount map choice for {normal:?}"
        );
    }
    // The precedence order: more '/' first, then longer patterns.
    for pair in sorted.windows(2) {
        let slashes = |p: &str| p.bytes().filter(|&b| b == b'/').count();
        let (a, b) = (&pair[0].pattern, &pair[1].pattern);
        assert!(
            (slashes(a), a.len()) >= (slashes(b), b.len()),
            "{a:?} sorted before {b:?}"
        );
    }
});
