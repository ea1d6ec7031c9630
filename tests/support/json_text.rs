//! `json_string`: a text as a JSON string literal, the way Python's `json.dumps` writes it
//! (non-ASCII as `\uXXXX`), for the status tests' CDP messages and for comparing with what
//! python3 parsed. Included by the test crates that use `cdp.rs` or `status_lab.rs`.
#![allow(dead_code)]

use std::fmt::Write as _;

pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
