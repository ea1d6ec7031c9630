//! The URI forwarded to the backend (per `ForwardURI*`, reference §1.3) and the removal of
//! session path parameters (`JkStripSession`).
use crate::directives::ForwardUri;
use std::borrow::Cow;

/// The path to forward: `decoded` is httpd's decoded, normalised `r->uri`, `unparsed` the
/// request target as the client sent it.
pub fn forwarded_uri<'r>(
    mode: ForwardUri,
    decoded: Option<&'r [u8]>,
    unparsed: Option<&'r [u8]>,
) -> Cow<'r, [u8]> {
    let decoded = decoded.unwrap_or(b"/");
    match mode {
        ForwardUri::Compat => Cow::Borrowed(decoded),
        ForwardUri::CompatUnparsed => {
            let raw = unparsed.unwrap_or(b"/");
            Cow::Borrowed(raw.split(|&b| b == b'?').next().unwrap_or(raw))
        }
        ForwardUri::Escaped => crate::uri::escape_path(decoded),
        ForwardUri::Proxy => crate::uri::encode_path(decoded),
    }
}

/// Whether one more round of %-decoding (the container's) would turn part of `decoded` into a
/// dot or a path separator: `%2e`, `%2f` or `%5c` in any case. Under `ForwardURICompat` such a
/// path reaches the container decoded once already and would change segments there
/// (CVE-2007-1860: `/app/%252e%252e/other` read as `/other`), so it is not forwarded.
pub fn decodes_into_dot_or_separator(decoded: &[u8]) -> bool {
    decoded.windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2].to_ascii_lowercase()),
                (b'2', b'e') | (b'2', b'f') | (b'5', b'c')
            )
    })
}

/// Removes `;name=value` path parameters whose `name=` is `param` (e.g. `;jsessionid=`)
/// from `s`; the value runs to the next `/`, `;` or `?`.
pub fn strip_param<'a>(s: &'a [u8], param: &[u8]) -> Cow<'a, [u8]> {
    let find = |hay: &[u8]| {
        hay.windows(param.len())
            .position(|w| w.eq_ignore_ascii_case(param))
    };
    if param.is_empty() || find(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = find(rest) {
        out.extend_from_slice(&rest[..at]);
        let tail = &rest[at + param.len()..];
        let end = tail
            .iter()
            .position(|&b| b == b'/' || b == b';' || b == b'?')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_forwards_its_uri() {
        let decoded = Some(&b"/app/a b/%2e"[..]);
        let unparsed = Some(&b"/app/a%20b/%252e?x=1"[..]);
        assert_eq!(
            &*forwarded_uri(ForwardUri::Compat, decoded, unparsed),
            b"/app/a b/%2e"
        );
        assert_eq!(
            &*forwarded_uri(ForwardUri::CompatUnparsed, decoded, unparsed),
            b"/app/a%20b/%252e"
        );
        // Proxy re-encodes: the decoded "%2e" can never become ".." on Tomcat.
        assert_eq!(
            &*forwarded_uri(ForwardUri::Proxy, decoded, unparsed),
            b"/app/a%20b/%252e"
        );
        assert!(forwarded_uri(ForwardUri::Escaped, decoded, unparsed).starts_with(b"/app/a%20b/"));
        assert_eq!(&*forwarded_uri(ForwardUri::Compat, None, None), b"/");
    }

    #[test]
    fn escaped_dots_and_separators_are_seen_in_any_case() {
        for hostile in [
            &b"/app/%2e%2e/x"[..],
            b"/app/%2E%2E/x",
            b"/app/..%2fx",
            b"/app/..%2F..%2Fx",
            b"/app/%5c..",
        ] {
            assert!(decodes_into_dot_or_separator(hostile), "{hostile:?}");
        }
        for harmless in [
            &b"/app/a%25b"[..],
            b"/app/%41",
            b"/app/2e/%2",
            b"/app/%2",
            b"/",
        ] {
            assert!(!decodes_into_dot_or_separator(harmless), "{harmless:?}");
        }
    }

    #[test]
    fn session_parameters_are_stripped_everywhere() {
        let p = b";jsessionid=";
        assert_eq!(
            &*strip_param(b"/a;jsessionid=ABC.n1/b;JSESSIONID=x?q", p),
            b"/a/b?q"
        );
        assert_eq!(&*strip_param(b"/a;jsessionid=ABC;v=1", p), b"/a;v=1");
        assert!(matches!(strip_param(b"/plain", p), Cow::Borrowed(_)));
        assert!(matches!(strip_param(b"/plain", b""), Cow::Borrowed(_)));
    }
}
