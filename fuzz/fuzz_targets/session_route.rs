//! The session route extractor: `balancer::session_routes` (the `;jsessionid` path parameter,
//! else every session cookie of every Cookie header), `gather::strip_param` (JkStripSession)
//! and the routing cookie written for `set_session_cookie`.
//!
//! Invariants: routes are borrowed from the request, at most `MAX_SESSION_IDS`, and a route
//! ends where its id would end (no ';', ','; from the path no '?' or '/'); a request with a
//! route has a session; the routes and the session are those an eager read of every id
//! gives; stripping a parameter leaves no trace of it.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mod_jk_rs::balancer::{
    routing_cookie, session_routes, session_routes_eagerly, SessionNames, MAX_SESSION_IDS,
};
use mod_jk_rs::gather::strip_param;

#[derive(Arbitrary, Debug)]
struct Input {
    uri: String,
    cookies: Vec<String>,
    /// Custom cookie and path parameter names (session_cookie, session_path), else the defaults.
    names: Option<(String, String)>,
    route: String,
    secure: bool,
}

fn within(outer: &str, inner: &str) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fuzz_target!(|input: Input| {
    let (cookie, path) = match &input.names {
        Some((c, p)) => (c.as_str(), p.as_str()),
        None => ("JSESSIONID", ";jsessionid"),
    };
    let names = SessionNames { cookie, path };
    let cookies: Vec<&str> = input.cookies.iter().map(String::as_str).collect();
    let routes = session_routes(&input.uri, &cookies, names);
    assert!(routes.len() <= MAX_SESSION_IDS);
    assert_eq!(routes.iter().count(), routes.len());
    assert_eq!(routes.is_empty(), routes.len() == 0);
    if !routes.is_empty() {
        assert!(routes.has_session(), "a route without a session");
    }
    // The routes found lazily (the first, the others only when asked) are those every id
    // gives, read in one go; so is the session.
    let (eager, has_session) = session_routes_eagerly(&input.uri, &cookies, names);
    assert_eq!(routes.iter().collect::<Vec<_>>(), eager);
    assert_eq!(routes.has_session(), has_session);
    for route in routes.iter() {
        let from_uri = within(&input.uri, route);
        let from_cookie = input.cookies.iter().any(|c| within(c, route));
        assert!(
            from_uri || from_cookie,
            "route {route:?} not borrowed from the request"
        );
        if from_uri && !path.is_empty() {
            assert!(!route.contains(['?', ';', '/']), "path route {route:?}");
        } else {
            assert!(!route.contains([';', ',']), "cookie route {route:?}");
        }
    }

    // JkStripSession: the parameter is gone, and what is left came from the URI in order.
    let param = format!("{path}=");
    let stripped = strip_param(input.uri.as_bytes(), param.as_bytes());
    let lower = |b: &[u8]| b.to_ascii_lowercase();
    if param.starts_with(';') && !param[1..].contains(['/', ';', '?']) {
        let needle = lower(param.as_bytes());
        assert!(
            !lower(&stripped).windows(needle.len()).any(|w| w == needle),
            "{:?} still holds {param:?} after stripping",
            String::from_utf8_lossy(&stripped)
        );
    }
    assert!(stripped.len() <= input.uri.len());

    let set_cookie = routing_cookie(cookie, &input.route, path, input.secure);
    assert!(set_cookie.starts_with(&format!("{cookie}=.{}", input.route)));
    assert!(set_cookie.ends_with(if input.secure {
        ";HttpOnly;Secure"
    } else {
        ";HttpOnly"
    }));
});
