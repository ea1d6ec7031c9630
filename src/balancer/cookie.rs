//! The routing cookie of `set_session_cookie` (mod_jk reference §2.5, §4.7): a request that
//! was not sticky gets `Set-Cookie: <session_cookie>=.<route>;Path=<path>;HttpOnly[;Secure]`
//! so its next requests come back to the same member. Name and path are the lb's own (mod_jk
//! ignores the rule overrides here).

use std::fmt::Write;

use super::lb::{Balancer, RequestHints, Selection};

/// The Set-Cookie value routing a browser to `route`; no `Path` when `path` is empty,
/// `Secure` on HTTPS.
pub fn routing_cookie(cookie: &str, route: &str, path: &str, secure: bool) -> String {
    let mut value = String::with_capacity(cookie.len() + route.len() + path.len() + 24);
    let _ = write!(value, "{cookie}=.{route}");
    if !path.is_empty() {
        let _ = write!(value, ";Path={path}");
    }
    value.push_str(";HttpOnly");
    if secure {
        value.push_str(";Secure");
    }
    value
}

impl Balancer {
    /// The Set-Cookie value for this try, if the lb (or the mount rule) asks for routing
    /// cookies and the request was not sticky. The route is the member's own route.
    pub fn routing_cookie(
        &self,
        selection: &Selection,
        hints: &RequestHints<'_>,
        secure: bool,
    ) -> Option<String> {
        let wanted = self.set_session_cookie || hints.set_session_cookie == Some(true);
        if !wanted || selection.sticky {
            return None;
        }
        let route = self.members().get(selection.member)?.read_route();
        Some(routing_cookie(
            &self.session_cookie,
            route.as_str(),
            &self.session_cookie_path,
            secure,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_carries_route_path_httponly_and_secure_on_https() {
        assert_eq!(
            routing_cookie("JSESSIONID", "node1", "/", true),
            "JSESSIONID=.node1;Path=/;HttpOnly;Secure"
        );
        assert_eq!(
            routing_cookie("SID", "n2", "", false),
            "SID=.n2;HttpOnly",
            "empty path: no Path attribute"
        );
    }
}
