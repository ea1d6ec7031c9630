//! Which member a request's session belongs to (mod_jk reference §4.3, §1.4): the session id
//! from the `;jsessionid=` path parameter, else from every `JSESSIONID` cookie of every
//! Cookie header, in order; the route is the text after the id's first '.'. `JK_ROUTE`
//! replaces all of that with a route of its own. Everything is borrowed from the request:
//! no allocation.

use crate::scan::{find_byte, find_either};

/// Most session routes of one request that are tried; more are ignored (they still count as
/// "the request has a session").
pub const MAX_SESSION_IDS: usize = 16;

/// The session routes of one request, in the order they are tried. Small and copied
/// cheaply: the first route, and where the others are (the Cookie headers and the cookie
/// name) when there are others; [`SessionRoutes::iter`] finds those again only if asked.
#[derive(Debug, Clone, Copy)]
pub struct SessionRoutes<'a> {
    /// `JK_ROUTE`, the path parameter's route, or the first cookie's.
    first: Option<&'a str>,
    /// The Cookie header values and the cookie name, when `first` came from them: the
    /// routes after it are found there again, and only when asked for.
    more: Option<(&'a [&'a str], &'a str)>,
    has_session: bool,
}

impl<'a> SessionRoutes<'a> {
    /// No session (stickiness off, ignored, or no id in the request).
    pub const NONE: SessionRoutes<'static> = SessionRoutes {
        first: None,
        more: None,
        has_session: false,
    };

    /// `JK_ROUTE`: as if the request carried the session id `.<route>`.
    pub fn forced(route: &'a str) -> SessionRoutes<'a> {
        SessionRoutes {
            first: Some(route),
            more: None,
            has_session: true,
        }
    }

    /// The routes, first to try first (at most [`MAX_SESSION_IDS`]).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let others = self
            .more
            .into_iter()
            .flat_map(|(headers, cookie)| cookie_routes(headers, cookie).skip(1));
        self.first.into_iter().chain(others).take(MAX_SESSION_IDS)
    }

    /// How many routes [`Self::iter`] gives.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The request carries a session id (with or without a route). Such a request is not a
    /// new session for the Sessions/Next methods, and with `sticky_session_force` it fails
    /// rather than being balanced when none of its routes is usable.
    pub fn has_session(&self) -> bool {
        self.has_session
    }
}

/// The routes of every `cookie` of these Cookie header values, in order.
fn cookie_routes<'a>(headers: &'a [&'a str], cookie: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .flat_map(move |header| cookie_values(header, cookie))
        .filter_map(route_of)
}

/// The route of session id `id`: the text after its first '.'; ids without one have none.
fn route_of(id: &str) -> Option<&str> {
    let dot = find_either(id.as_bytes(), b'.', b'.')?;
    id.get(dot + 1..)
}

/// Cookie and path-parameter names that carry the session id.
#[derive(Debug, Clone, Copy)]
pub struct SessionNames<'n> {
    /// Cookie name (`session_cookie`, default `JSESSIONID`).
    pub cookie: &'n str,
    /// Path parameter with its leading ';' (`session_path`, default `;jsessionid`).
    pub path: &'n str,
}

/// The session routes of a request: the path parameter of `uri` first; only if there is none,
/// the cookies of `cookie_headers` (the values of every Cookie header, in order).
pub fn session_routes<'a>(
    uri: &'a str,
    cookie_headers: &'a [&'a str],
    names: SessionNames<'a>,
) -> SessionRoutes<'a> {
    if let Some(id) = path_parameter(uri, names.path) {
        // An empty value still hides the cookies (mod_jk logs it and sees no session).
        return SessionRoutes {
            first: route_of(id),
            more: None,
            has_session: !id.is_empty(),
        };
    }
    let mut ids = 0usize;
    let mut found = SessionRoutes::NONE;
    for header in cookie_headers {
        for value in cookie_values(header, names.cookie) {
            ids += 1;
            found.has_session |= !value.is_empty();
            if let Some(route) = route_of(value) {
                // The first route is all most requests need: the rest of the cookies are
                // read only if its member cannot take the request (`iter`). A value with a
                // route is not empty, so the request has a session.
                found.first = Some(route);
                found.more = Some((cookie_headers, names.cookie));
                found.has_session = true;
                return found;
            }
        }
    }
    // mod_jk joins several values with ';': two empty values still make a non-empty id.
    found.has_session |= ids > 1;
    found
}

/// [`session_routes`] read the plain way, for the tests and the fuzz target to check it
/// against: every route in order (at most [`MAX_SESSION_IDS`]), and whether the request has
/// a session, from every id (the path parameter's if there is one, else any non-empty cookie
/// id, or more than one: mod_jk joins them with ';').
#[doc(hidden)]
pub fn session_routes_eagerly<'a>(
    uri: &'a str,
    cookie_headers: &[&'a str],
    names: SessionNames<'_>,
) -> (Vec<&'a str>, bool) {
    if let Some(id) = path_parameter(uri, names.path) {
        return (route_of(id).into_iter().collect(), !id.is_empty());
    }
    let ids: Vec<&'a str> = cookie_headers
        .iter()
        .flat_map(|header| cookie_values(header, names.cookie))
        .collect();
    let routes = ids
        .iter()
        .filter_map(|id| route_of(id))
        .take(MAX_SESSION_IDS)
        .collect();
    (routes, ids.len() > 1 || ids.iter().any(|id| !id.is_empty()))
}

/// The value of `name=` in the URI (mod_jk `get_path_param`): the first occurrence followed
/// by '=' and something, cut at '?', ';' or '/'.
fn path_parameter<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    if name.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(found) = uri.get(from..).and_then(|rest| find_str(rest, name)) {
        let start = from + found;
        let after = start + name.len();
        if let Some(value) = uri.get(after..).and_then(|rest| rest.strip_prefix('=')) {
            if !value.is_empty() {
                let end = value.find(['?', ';', '/']).unwrap_or(value.len());
                return value.get(..end);
            }
        }
        from = start + first_char_len(name);
    }
    None
}

/// Values of cookie `name` in one Cookie header value (mod_jk `get_cookie`): the name must
/// start the header or follow ';', ',' or white space; spaces may precede '='; the value
/// runs to ';' or ','; surrounding double quotes are stripped.
fn cookie_values<'a, 'n>(header: &'a str, name: &'n str) -> CookieValues<'a, 'n> {
    CookieValues {
        header,
        name,
        from: 0,
    }
}

struct CookieValues<'a, 'n> {
    header: &'a str,
    name: &'n str,
    /// Where the search for the next occurrence of the name starts.
    from: usize,
}

impl<'a> Iterator for CookieValues<'a, '_> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let (header, name) = (self.header, self.name);
        if name.is_empty() {
            return None;
        }
        while let Some(found) = header
            .get(self.from..)
            .and_then(|rest| find_str(rest, name))
        {
            let start = self.from + found;
            // Past the match's first character, which is the name's.
            self.from = start + first_char_len(name);
            let boundary = header
                .get(..start)
                .unwrap_or("")
                .bytes()
                .last()
                .is_none_or(|b| b == b';' || b == b',' || is_space(b));
            if !boundary {
                continue;
            }
            let rest = header.get(start + name.len()..).unwrap_or("");
            let spaces = rest.bytes().take_while(|&b| is_space(b)).count();
            let Some(value) = rest.get(spaces..).and_then(|r| r.strip_prefix('=')) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let end = find_either(value.as_bytes(), b';', b',').unwrap_or(value.len());
            self.from = header.len() - value.len() + end;
            let raw = value.get(..end).unwrap_or("");
            let unquoted = match raw.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(inner) if raw.len() > 1 => inner,
                _ => raw,
            };
            return Some(unquoted);
        }
        None
    }
}

/// Substring search tuned for what sessions look like: short needles (`;jsessionid=`,
/// `JSESSIONID`) in short haystacks. Scans for the first byte and compares the rest, where
/// `str::find` would build a Two-Way searcher on every call (the bulk of a sticky request's cost).
#[inline]
fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    let mut at = 0;
    while at + n.len() <= h.len() {
        let skip = find_byte(h.get(at..)?, first)?;
        at += skip;
        if h.get(at..at + n.len()) == Some(n) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// C `isspace` in the "C" locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Length of `name`'s first character: a match of `name` found at `i` is stepped past from
/// `i + first_char_len(name)` (no decoding of the text searched).
fn first_char_len(name: &str) -> usize {
    name.chars().next().map_or(1, char::len_utf8)
}

/// `JK_STICKY_IGNORE` / `JK_STATELESS` as mod_jk reads them: set and empty, or a number
/// other than 0 (C `atoi`: leading digits, so `"1x"` is on and `"yes"` is off).
pub fn env_flag(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let trimmed = value.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let digits = trimmed
        .strip_prefix(['+', '-'])
        .unwrap_or(trimmed)
        .bytes()
        .take_while(u8::is_ascii_digit);
    digits.into_iter().any(|d| d != b'0')
}

#[cfg(test)]
mod find_tests {
    use super::find_str;

    #[test]
    fn find_str_agrees_with_str_find() {
        let hays = [
            "",
            "a",
            "JSESSIONID=x",
            "x;JSESSIONID=1; JSESSIONID=2",
            "JSESSIONIJSESSIONID",
            "éJSESSIONID",
            "JSESSION",
        ];
        for hay in hays {
            for needle in ["JSESSIONID", ";jsessionid=", "J", "x", "é"] {
                assert_eq!(
                    find_str(hay, needle),
                    hay.find(needle),
                    "{hay:?} / {needle:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: SessionNames<'static> = SessionNames {
        cookie: "JSESSIONID",
        path: ";jsessionid",
    };

    fn routes<'a>(uri: &'a str, cookies: &'a [&'a str]) -> (Vec<&'a str>, bool) {
        let found = session_routes(uri, cookies, NAMES);
        (found.iter().collect(), found.has_session())
    }

    #[test]
    fn route_is_the_text_after_the_first_dot() {
        assert_eq!(
            routes("/app", &["JSESSIONID=ABC123.node1"]),
            (vec!["node1"], true)
        );
        assert_eq!(
            routes("/app", &["JSESSIONID=ABC.node1.dom"]),
            (vec!["node1.dom"], true)
        );
    }

    #[test]
    fn session_id_from_the_path_parameter_wins_over_the_cookie() {
        assert_eq!(
            routes(
                "/app/x;jsessionid=AAA.fromPath",
                &["JSESSIONID=BBB.fromCookie"]
            ),
            (vec!["fromPath"], true)
        );
    }

    #[test]
    fn path_parameter_stops_at_query_semicolon_or_slash() {
        assert_eq!(routes("/a;jsessionid=X.n1?q=1", &[]).0, ["n1"]);
        assert_eq!(routes("/a;jsessionid=X.n2;other=1", &[]).0, ["n2"]);
        assert_eq!(routes("/a;jsessionid=X.n3/more", &[]).0, ["n3"]);
    }

    #[test]
    fn path_parameter_without_equals_is_skipped_for_a_later_one() {
        assert_eq!(routes("/a;jsessionidx;jsessionid=Y.n9", &[]).0, ["n9"]);
    }

    #[test]
    fn empty_path_parameter_means_no_session_and_hides_the_cookie() {
        assert_eq!(
            routes("/a;jsessionid=;x", &["JSESSIONID=B.n1"]),
            (vec![], false)
        );
    }

    #[test]
    fn multiple_session_cookies_are_tried_in_order_across_headers() {
        assert_eq!(
            routes(
                "/",
                &[
                    "a=1; JSESSIONID=S1.r1; b=2, JSESSIONID=S2.r2",
                    "JSESSIONID=S3.r3"
                ]
            )
            .0,
            ["r1", "r2", "r3"]
        );
    }

    #[test]
    fn cookie_name_must_stand_alone() {
        assert_eq!(
            routes("/", &["XJSESSIONID=A.x; JSESSIONIDX=B.y"]),
            (vec![], false)
        );
        assert_eq!(routes("/", &["foo=1;JSESSIONID=C.z"]).0, ["z"]);
        assert_eq!(routes("/", &["foo=1;\tJSESSIONID =D.w"]).0, ["w"]);
    }

    #[test]
    fn quoted_cookie_values_are_unquoted() {
        assert_eq!(routes("/", &["JSESSIONID=\"Q.quoted\""]).0, ["quoted"]);
        assert_eq!(routes("/", &["JSESSIONID=\""]).0, Vec::<&str>::new());
    }

    #[test]
    fn ids_without_a_dot_have_no_route_but_are_a_session() {
        assert_eq!(routes("/", &["JSESSIONID=NODOT"]), (vec![], true));
        assert_eq!(
            routes("/", &["JSESSIONID=NODOT; JSESSIONID=X.later"]),
            (vec!["later"], true)
        );
    }

    #[test]
    fn empty_cookie_value_is_no_session() {
        assert_eq!(routes("/", &["JSESSIONID=;a=b"]), (vec![], false));
        assert_eq!(routes("/", &["JSESSIONID="]), (vec![], false));
        assert_eq!(routes("/", &[]), (vec![], false));
    }

    #[test]
    fn configured_names_are_used() {
        let names = SessionNames {
            cookie: "SID",
            path: ";sid",
        };
        let found = session_routes("/x;sid=1.p", &["JSESSIONID=2.c"], names);
        assert_eq!(found.iter().collect::<Vec<_>>(), ["p"]);
        let found = session_routes("/x", &["JSESSIONID=2.c; SID=3.s"], names);
        assert_eq!(found.iter().collect::<Vec<_>>(), ["s"]);
    }

    #[test]
    fn jk_route_is_a_session_with_that_route() {
        let forced = SessionRoutes::forced("node7");
        assert_eq!(forced.iter().collect::<Vec<_>>(), ["node7"]);
        assert!(forced.has_session());
        assert!(!SessionRoutes::NONE.has_session());
    }

    #[test]
    fn more_ids_than_capacity_are_ignored_without_panicking() {
        let header: String = (0..40).map(|i| format!("JSESSIONID=x.r{i}; ")).collect();
        let headers = [header.as_str()];
        let found = session_routes("/", &headers, NAMES);
        assert_eq!(found.len(), MAX_SESSION_IDS);
        assert_eq!(found.iter().next(), Some("r0"));
    }

    #[test]
    fn ids_without_a_route_are_skipped_across_headers() {
        let cookies = ["JSESSIONID=NODOT; JSESSIONID=a.r1", "JSESSIONID=b.r2"];
        assert_eq!(routes("/", &cookies), (vec!["r1", "r2"], true));
    }

    #[test]
    fn the_routes_found_again_are_those_a_list_would_hold() {
        // Pseudo-random cookie headers from a few pieces: ids with and without a route, empty
        // and quoted values, other cookies, several headers, more than 16 routes.
        let pieces = [
            "JSESSIONID=a.r1",
            "JSESSIONID=nodot",
            "JSESSIONID=",
            "JSESSIONID=\"q.rq\"",
            "other=x.y",
            "JSESSIONID = s.rs",
            "xJSESSIONID=n.no",
            "JSESSIONID=d.r.d2",
            "JSESSIONID=\"\"",
            "JSESSIONID=\".rq2\"",
            "JSESSIONID=.r0",
            "JSESSIONID=tail.",
        ];
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1du64);
        for _ in 0..2000 {
            let headers: Vec<String> = (0..1 + next() % 3)
                .map(|_| {
                    (0..next() % 24)
                        .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                        .collect::<Vec<_>>()
                        .join(if next().is_multiple_of(2) { "; " } else { ", " })
                })
                .collect();
            let cookies: Vec<&str> = headers.iter().map(String::as_str).collect();
            let uri = if next().is_multiple_of(5) {
                "/a;jsessionid=p.rp"
            } else {
                "/a"
            };
            let found = session_routes(uri, &cookies, NAMES);
            let (list, has_session) = session_routes_eagerly(uri, &cookies, NAMES);
            assert_eq!(
                found.iter().collect::<Vec<_>>(),
                list,
                "uri {uri:?}, cookies {cookies:?}"
            );
            assert_eq!(found.len(), list.len());
            assert_eq!(found.is_empty(), list.is_empty());
            assert_eq!(
                found.has_session(),
                has_session,
                "uri {uri:?}, cookies {cookies:?}"
            );
        }
    }

    #[test]
    fn non_ascii_text_around_names_does_not_break_parsing() {
        assert_eq!(routes("/é;jsessionid=ü.ñode", &[]).0, ["ñode"]);
        assert_eq!(routes("/", &["ä=1; JSESSIONID=é.r"]).0, ["r"]);
    }

    #[test]
    fn env_flags_read_like_atoi() {
        for (value, on) in [
            ("", true),
            ("1", true),
            ("2", true),
            ("  7", true),
            ("1x", true),
            ("0", false),
            ("00", false),
            ("yes", false),
            ("-1", true),
        ] {
            assert_eq!(env_flag(value), on, "{value:?}");
        }
    }
}
