//! How the request body is framed, from its headers.
use crate::proxy::BodyKind;

/// A request whose body framing cannot be read (a Content-Length that is no number): 400.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidContentLength;

/// The body's framing: chunked wins over Content-Length; `ignore_cl` (`JK_IGNORE_CL`, e.g.
/// mod_deflate inflates the body so the client's length is wrong) treats a length as unknown.
/// `Err` for a Content-Length that is not a number.
pub fn body_kind(
    transfer_encoding: Option<&[u8]>,
    content_length: Option<&[u8]>,
    ignore_cl: bool,
) -> Result<BodyKind, InvalidContentLength> {
    if transfer_encoding.is_some() {
        return Ok(BodyKind::Chunked);
    }
    match content_length {
        None => Ok(BodyKind::None),
        Some(_) if ignore_cl => Ok(BodyKind::Chunked),
        Some(v) => match crate::decimal::parse_u64(v) {
            Some(0) => Ok(BodyKind::None),
            Some(n) => Ok(BodyKind::Length(n)),
            None => Err(InvalidContentLength),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_wins_over_a_length() {
        assert_eq!(
            body_kind(Some(b"chunked"), Some(b"5"), false),
            Ok(BodyKind::Chunked)
        );
    }

    #[test]
    fn lengths() {
        assert_eq!(body_kind(None, None, false), Ok(BodyKind::None));
        assert_eq!(body_kind(None, Some(b"0"), false), Ok(BodyKind::None));
        assert_eq!(
            body_kind(None, Some(b" 12 "), false),
            Ok(BodyKind::Length(12))
        );
        assert_eq!(body_kind(None, Some(b"12"), true), Ok(BodyKind::Chunked));
    }

    #[test]
    fn a_length_that_is_no_number_is_refused() {
        assert_eq!(
            body_kind(None, Some(b"-1"), false),
            Err(InvalidContentLength)
        );
        assert_eq!(
            body_kind(None, Some(b"1e3"), false),
            Err(InvalidContentLength)
        );
        assert_eq!(body_kind(None, Some(b""), false), Err(InvalidContentLength));
    }
}
