//! Escaping of every echoed value for the format it lands in: HTML text and attributes,
//! XML attributes, `txt` values, property keys and values, JSON strings and Prometheus
//! label values. mod_jk prints them raw; a worker name, host or parameter must never
//! forge a line, an attribute or a tag here.

use std::fmt::Write;

/// HTML text or a double- or single-quoted attribute value.
pub fn html(text: &str) -> String {
    markup(text, false)
}

/// An XML attribute value (double-quoted). Characters XML 1.0 forbids become U+FFFD.
pub fn xml(text: &str) -> String {
    markup(text, true)
}

/// Entity escapes for HTML and XML; an XML attribute also keeps its tabs and line breaks
/// as character references (a parser would fold them into blanks otherwise).
fn markup(text: &str, xml: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if xml => out.push_str("&apos;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' if xml => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\t' | '\n' => out.push(c),
            // Controls, and the two noncharacters XML 1.0's `Char` leaves out.
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The C-style escape of `\`, `"`, newline, return and tab (txt and JSON share them).
fn c_escape(c: char) -> Option<&'static str> {
    Some(match c {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => return None,
    })
}

/// Backslash escapes for controls, `\` and `"`; `extra` are escaped as `\xHH` too.
fn backslashed(text: &str, extra: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(escaped) = c_escape(c) {
            out.push_str(escaped);
            continue;
        }
        match c {
            c if c.is_control() || extra.contains(&c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A `txt` value inside `key="…"`.
pub fn txt_quoted(text: &str) -> String {
    backslashed(text, &[])
}

/// A bare `txt` value (`key=value`): also no blank, so it cannot start another `key=`.
pub fn txt_bare(text: &str) -> String {
    backslashed(text, &[' '])
}

/// A property key part (a worker name in `worker.<name>.type`): no `=`, `:`, blank, `#`
/// or `!`, which would end or comment out the key.
pub fn prop_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '=' | ':' | ' ' | '#' | '!' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push_str(&prop_char(c)),
        }
    }
    out
}

/// A property value (java.util.Properties syntax): a value never spans lines.
pub fn prop_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' if i == 0 => out.push_str("\\ "),
            c => out.push_str(&prop_char(c)),
        }
    }
    out
}

fn prop_char(c: char) -> String {
    match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        '\u{c}' => "\\f".to_owned(),
        c if c.is_control() => format!("\\u{:04x}", c as u32),
        c => c.to_string(),
    }
}

/// A JSON string, quotes included.
pub fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if let Some(escaped) = c_escape(c) {
            out.push_str(escaped);
            continue;
        }
        match c {
            // `<` too, so the JSON can be embedded in a page without ending a script.
            c if (c as u32) < 0x20 || c == '<' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Prometheus label value (text exposition format): `\`, `"` and newline escaped.
pub fn prometheus_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script>\"a=b\\c\nResult: type=OK #!:";

    #[test]
    fn html_and_xml_leave_no_markup() {
        for escaped in [html(HOSTILE), xml(HOSTILE)] {
            assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped}");
        }
        assert_eq!(html("a&b"), "a&amp;b");
        assert!(xml(HOSTILE).contains("&#10;"));
        assert_eq!(xml("a\u{1}b"), "a\u{FFFD}b");
        // Found by the fuzz campaign (status_request): XML 1.0 has no U+FFFE or U+FFFF.
        assert_eq!(xml("a\u{FFFF}b\u{FFFE}"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(html("\u{FFFF}"), "\u{FFFD}");
    }

    #[test]
    fn txt_values_stay_on_one_line_and_inside_their_quotes() {
        let quoted = txt_quoted(HOSTILE);
        assert!(!quoted.contains('\n'));
        assert_eq!(quoted.matches('"').count(), quoted.matches("\\\"").count());
        assert_eq!(txt_bare("a b=c"), "a\\x20b=c");
    }

    #[test]
    fn property_keys_and_values_cannot_start_a_new_entry() {
        assert_eq!(prop_key("a=b c:d#e!f"), "a\\=b\\ c\\:d\\#e\\!f");
        assert_eq!(
            prop_value("x\nworker.result.type=OK"),
            "x\\nworker.result.type=OK"
        );
        assert_eq!(prop_value(" lead\\"), "\\ lead\\\\");
    }

    #[test]
    fn json_and_prometheus_escape_quotes_backslashes_and_newlines() {
        assert_eq!(
            json("a\"b\\c\nd\u{1}<"),
            "\"a\\\"b\\\\c\\nd\\u0001\\u003c\""
        );
        assert_eq!(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
