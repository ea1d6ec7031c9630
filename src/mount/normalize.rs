//! URI normalisation before mapping (mod_jk reference §1.6, the CVE-2018-11759 fix): drop
//! `;parameters` from every segment, collapse `//`, remove `.` segments and resolve `..`,
//! refusing to climb above the root. Input is the already %-decoded path.

use crate::scan::find_byte;
use std::borrow::Cow;
use std::fmt;

/// Why a URI cannot be normalised (httpd answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NormalizeError {
    /// Does not start with '/' (the `*` of `OPTIONS *` lands here too: never mapped).
    NotAbsolute,
    /// A `..` segment would climb above '/'.
    AboveRoot,
}

impl fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NormalizeError::NotAbsolute => write!(f, "URI does not start with '/'"),
            NormalizeError::AboveRoot => write!(f, "URI climbs above the root with '..'"),
        }
    }
}

impl std::error::Error for NormalizeError {}

/// §1.6: strip `;params` from every segment, collapse `//`, resolve `.` and `..`; not starting with '/' or `..` above root => error.
///
/// A trailing `/`, `/.` or `/..` leaves a trailing '/' (`/a/b/..` → `/a/`), as in mod_jk.
/// Borrows when the URI is already normal, which is the common case.
pub fn normalize_uri(uri: &str) -> Result<Cow<'_, str>, NormalizeError> {
    let Some(path) = uri.strip_prefix('/') else {
        return Err(NormalizeError::NotAbsolute);
    };
    if is_normal(uri) {
        return Ok(Cow::Borrowed(uri));
    }
    // Pass 1: a ';' hides everything up to the next '/' (path parameters such as
    // ;jsessionid=…, but also the `..;` trick of CVE-2018-11759).
    let mut without_params = String::with_capacity(path.len());
    let mut in_parameter = false;
    for c in path.chars() {
        match c {
            '/' => {
                in_parameter = false;
                without_params.push('/');
            }
            ';' => in_parameter = true,
            _ if in_parameter => {}
            _ => without_params.push(c),
        }
    }
    // Passes 2–4 on segments: empty ones are collapsed slashes, '.' stays put, '..' goes up.
    let segments: Vec<&str> = without_params.split('/').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for segment in &segments {
        match *segment {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    return Err(NormalizeError::AboveRoot);
                }
            }
            name => kept.push(name),
        }
    }
    let ends_in_directory = matches!(segments.last(), Some(&"") | Some(&".") | Some(&".."));
    let mut normal = String::with_capacity(uri.len());
    normal.push('/');
    normal.push_str(&kept.join("/"));
    if ends_in_directory && !kept.is_empty() {
        normal.push('/');
    }
    Ok(Cow::Owned(normal))
}

/// No parameters, no empty, `.` or `..` segment (except a final empty one: a trailing '/').
/// Looks for ';' and '/' a word at a time and judges only the segments between them (a
/// typical URI has three or four), where a byte loop would test every byte.
fn is_normal(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    if find_byte(bytes, b';').is_some() {
        return false;
    }
    let odd = |segment: &[u8]| matches!(segment, [b'.'] | [b'.', b'.']);
    // The leading '/' ends no segment; every later '/' ends one that must be neither
    // empty ("//") nor a dot segment.
    let mut start = match bytes.first() {
        Some(b'/') => 1,
        _ => 0,
    };
    while let Some(slash) = bytes.get(start..).and_then(|rest| find_byte(rest, b'/')) {
        let segment = &bytes[start..start + slash];
        if segment.is_empty() || odd(segment) {
            return false;
        }
        start += slash + 1;
    }
    // The last segment: "." or ".." (a trailing empty one is fine).
    !odd(bytes.get(start..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(uri: &str) -> Result<String, NormalizeError> {
        normalize_uri(uri).map(Cow::into_owned)
    }

    #[test]
    fn each_normalisation_step() {
        let cases: &[(&str, Result<&str, NormalizeError>)] = &[
            // already normal
            ("/", Ok("/")),
            ("/app/index.jsp", Ok("/app/index.jsp")),
            ("/app/", Ok("/app/")),
            ("/a..b/c.", Ok("/a..b/c.")),
            ("/.../x", Ok("/.../x")),
            // 1: path parameters are removed from every segment
            ("/app;jsessionid=ABC/x.jsp", Ok("/app/x.jsp")),
            ("/app/x.jsp;jsessionid=ABC", Ok("/app/x.jsp")),
            ("/a;x/b;y/c;z", Ok("/a/b/c")),
            ("/;x", Ok("/")),
            ("/a;b;c/d", Ok("/a/d")),
            // 2: runs of '/' collapse
            ("//app", Ok("/app")),
            ("/app///x//", Ok("/app/x/")),
            // 3: '.' segments go, also trailing
            ("/./app", Ok("/app")),
            ("/app/./x", Ok("/app/x")),
            ("/app/.", Ok("/app/")),
            ("/.", Ok("/")),
            ("/./.", Ok("/")),
            // 4: '..' removes the previous segment, also trailing
            ("/a/../b", Ok("/b")),
            ("/a/b/../c", Ok("/a/c")),
            ("/a/b/..", Ok("/a/")),
            ("/a/..", Ok("/")),
            ("/a/b/../..", Ok("/")),
            ("/a/./../b", Ok("/b")),
            // errors
            ("/..", Err(NormalizeError::AboveRoot)),
            ("/../x", Err(NormalizeError::AboveRoot)),
            ("/a/../..", Err(NormalizeError::AboveRoot)),
            ("/./../x", Err(NormalizeError::AboveRoot)),
            ("/..;x/y", Err(NormalizeError::AboveRoot)),
            ("app/x", Err(NormalizeError::NotAbsolute)),
            ("", Err(NormalizeError::NotAbsolute)),
            ("*", Err(NormalizeError::NotAbsolute)),
        ];
        for (uri, expected) in cases {
            let expected = expected.clone().map(str::to_owned);
            assert_eq!(normal(uri), expected, "{uri:?}");
        }
    }

    #[test]
    fn cve_2018_11759_tricks_normalise_to_what_httpd_checks() {
        let cases: &[(&str, Result<&str, NormalizeError>)] = &[
            ("/jkstatus;", Ok("/jkstatus")),
            ("/jkstatus;x=y", Ok("/jkstatus")),
            ("/app/..;/manager/html", Ok("/manager/html")),
            ("/app/;/../manager", Ok("/manager")),
            ("/x/../jkstatus", Ok("/jkstatus")),
            ("//jkstatus", Ok("/jkstatus")),
            ("/./jkstatus", Ok("/jkstatus")),
            ("/../jkstatus", Err(NormalizeError::AboveRoot)),
            // httpd decodes %2e before we see the path; still-encoded text is just a name
            ("/%2e%2e/jkstatus", Ok("/%2e%2e/jkstatus")),
        ];
        for (uri, expected) in cases {
            let expected = expected.clone().map(str::to_owned);
            assert_eq!(normal(uri), expected, "{uri:?}");
        }
    }

    /// The word-at-a-time test agrees with its definition on every URI of up to 9 bytes made
    /// of '/', '.', ';' and a letter, and on longer ones built of such pieces.
    #[test]
    fn is_normal_matches_its_definition() {
        fn by_definition(uri: &str) -> bool {
            !uri.contains(';')
                && !uri.contains("//")
                && !uri.split('/').any(|s| s == "." || s == "..")
        }
        let mut uris = vec![String::from("/")];
        let mut all = Vec::new();
        for _ in 0..8 {
            let mut next = Vec::new();
            for u in &uris {
                for c in ['/', '.', ';', 'a'] {
                    next.push(format!("{u}{c}"));
                }
            }
            all.extend(next.iter().cloned());
            uris = next;
        }
        let pieces = [
            "/",
            ".",
            "..",
            ";",
            "a",
            "abcdefghij",
            "/x/",
            "//",
            "/./",
            "/../",
        ];
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1du64);
        for _ in 0..20_000 {
            let mut uri = String::from("/");
            for _ in 0..next() % 9 {
                uri.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            all.push(uri);
        }
        assert!(all.iter().any(|u| u.len() > 40), "long URIs were generated");
        for uri in &all {
            assert_eq!(is_normal(uri), by_definition(uri), "{uri}");
        }
    }

    #[test]
    fn normal_uri_is_borrowed() {
        assert!(matches!(normalize_uri("/app/x.jsp"), Ok(Cow::Borrowed(_))));
        assert!(matches!(normalize_uri("/app//x.jsp"), Ok(Cow::Owned(_))));
    }

    #[test]
    fn non_ascii_segments_survive() {
        assert_eq!(normal("/应用/./页面;x").as_deref(), Ok("/应用/页面"));
    }
}
