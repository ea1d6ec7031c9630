//! Who may use the status page and which state changes are genuine: the `user` list
//! (mod_jk reference §5.6), the anti-forgery token our HTML forms carry (an HMAC of the
//! status worker's name and the user under a per-server secret the shell supplies), and
//! the refusal of requests a browser marks as cross-site.

use super::error::StatusError;
use super::sha256::hmac_sha256;
use crate::config::StatusWorker;

/// May `user` (the authenticated user, if any) use this status worker at all?
/// An empty `user` list admits everyone; a non-empty one nobody unauthenticated.
pub fn check_user(status: &StatusWorker, user: Option<&str>) -> Result<(), StatusError> {
    if status.user.is_empty() {
        return Ok(());
    }
    let Some(user) = user else {
        return Err(StatusError::AccessDenied);
    };
    let listed = status.user.iter().any(|allowed| {
        if status.user_case_insensitive {
            allowed.eq_ignore_ascii_case(user)
        } else {
            allowed == user
        }
    });
    listed.then_some(()).ok_or(StatusError::AccessDenied)
}

/// The token our forms carry for `status_worker` and `user`: hex HMAC-SHA256 under
/// `secret` (random per server start, from the shell). Not time-limited: it guards
/// against forgery, and a new secret at restart retires old tokens.
pub fn csrf_token(secret: &[u8], status_worker: &str, user: Option<&str>) -> String {
    let message = format!("jkstatus-form\0{status_worker}\0{}", user.unwrap_or(""));
    hmac_sha256(secret, message.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Does `offered` equal the token? Compared in constant time.
pub fn token_matches(
    secret: &[u8],
    status_worker: &str,
    user: Option<&str>,
    offered: &str,
) -> bool {
    let expected = csrf_token(secret, status_worker, user);
    let (a, b) = (expected.as_bytes(), offered.as_bytes());
    let mut difference = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        difference |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    difference == 0
}

/// The request headers that tell where a state change comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub sec_fetch_site: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// The request's own `Host`.
    pub host: Option<&'a str>,
}

/// `host[:port]` of an absolute URL, lower case, default port dropped.
fn authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest[..end].rsplit('@').next()?.to_ascii_lowercase();
    Some(without_default_port(
        &authority,
        &scheme.to_ascii_lowercase(),
    ))
}

fn without_default_port(authority: &str, scheme: &str) -> String {
    let default = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

fn same_host(url: &str, host: Option<&str>) -> bool {
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return false;
    };
    let Some(from) = authority(url) else {
        return false;
    };
    let scheme = url.split("://").next().unwrap_or("").to_ascii_lowercase();
    from == without_default_port(&host, &scheme) || from == host
}

/// May a state-changing request (update, reset, recover) with these headers go ahead?
/// Refused: anything a browser marks cross-site or same-site (another origin), an
/// `Origin` or `Referer` naming another host, and a POST without the right token (only
/// our forms POST). Allowed: a plain GET without those headers (curl deploy scripts) and
/// a same-origin one.
pub fn check_change(request: &RequestOrigin<'_>, token_ok: bool) -> Result<(), StatusError> {
    let site = request.sec_fetch_site.map(str::to_ascii_lowercase);
    if matches!(site.as_deref(), Some("cross-site" | "same-site")) {
        return Err(StatusError::CrossSite);
    }
    if let Some(origin) = request.origin {
        if !same_host(origin, request.host) {
            return Err(StatusError::CrossSite);
        }
    } else if let Some(referer) = request.referer {
        if !same_host(referer, request.host) {
            return Err(StatusError::CrossSite);
        }
    }
    if request.method.eq_ignore_ascii_case("POST") && !token_ok {
        return Err(StatusError::BadToken);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(host: &str) -> RequestOrigin<'_> {
        RequestOrigin {
            method: "GET",
            host: Some(host),
            ..RequestOrigin::default()
        }
    }

    #[test]
    fn plain_get_without_browser_headers_is_allowed() {
        assert_eq!(check_change(&get("localhost"), false), Ok(()));
    }

    #[test]
    fn cross_site_markers_are_refused() {
        let mut request = get("status.example");
        request.sec_fetch_site = Some("cross-site");
        assert_eq!(check_change(&request, true), Err(StatusError::CrossSite));
        request.sec_fetch_site = Some("same-site");
        assert_eq!(check_change(&request, true), Err(StatusError::CrossSite));
        let mut request = get("status.example");
        request.origin = Some("https://evil.example");
        assert_eq!(check_change(&request, true), Err(StatusError::CrossSite));
        request.origin = Some("null");
        assert_eq!(check_change(&request, true), Err(StatusError::CrossSite));
        let mut request = get("status.example");
        request.referer = Some("http://evil.example/status.example/page");
        assert_eq!(check_change(&request, true), Err(StatusError::CrossSite));
    }

    #[test]
    fn same_origin_headers_pass_with_or_without_default_port() {
        let mut request = get("Status.Example:80");
        request.sec_fetch_site = Some("same-origin");
        request.origin = Some("http://status.example");
        assert_eq!(check_change(&request, false), Ok(()));
        let mut request = get("status.example:8443");
        request.referer = Some("https://status.example:8443/jkstatus?cmd=list");
        assert_eq!(check_change(&request, false), Ok(()));
    }

    #[test]
    fn post_needs_the_token() {
        let mut request = get("h");
        request.method = "POST";
        request.origin = Some("http://h");
        assert_eq!(check_change(&request, false), Err(StatusError::BadToken));
        assert_eq!(check_change(&request, true), Ok(()));
    }

    #[test]
    fn tokens_depend_on_secret_worker_and_user_and_compare_exactly() {
        let token = csrf_token(b"secret", "stat1", Some("alice"));
        assert_eq!(token.len(), 64);
        assert!(token_matches(b"secret", "stat1", Some("alice"), &token));
        assert!(!token_matches(b"other", "stat1", Some("alice"), &token));
        assert!(!token_matches(b"secret", "stat2", Some("alice"), &token));
        assert!(!token_matches(b"secret", "stat1", None, &token));
        assert!(!token_matches(
            b"secret",
            "stat1",
            Some("alice"),
            &token[..63]
        ));
        assert!(!token_matches(b"secret", "stat1", Some("alice"), ""));
    }

    #[test]
    fn user_list_with_and_without_case() {
        let mut status = StatusWorker::with_defaults("stat1");
        assert_eq!(check_user(&status, None), Ok(()));
        status.user = vec!["Admin".to_owned()];
        assert_eq!(check_user(&status, None), Err(StatusError::AccessDenied));
        assert_eq!(
            check_user(&status, Some("admin")),
            Err(StatusError::AccessDenied)
        );
        assert_eq!(check_user(&status, Some("Admin")), Ok(()));
        status.user_case_insensitive = true;
        assert_eq!(check_user(&status, Some("admin")), Ok(()));
    }
}
