//! The request's environment as gathering reads it: the server's indicator names (or mod_jk's
//! defaults), and `JK_*` lookups skipped when the request carries no `JK_*` variable at all
//! (one scan of the table instead of a lookup per variable).
use super::Source;
use crate::balancer::env_flag;
use crate::directives::{is_jk_name, EnvNames};
use std::ffi::{CStr, CString};

pub struct Env<'a, 'r, S: Source<'r>> {
    src: &'a S,
    names: Option<&'a EnvNames>,
    /// The request has at least one `JK_*` variable.
    jk: bool,
    _life: std::marker::PhantomData<&'r [u8]>,
}

impl<'a, 'r, S: Source<'r>> Env<'a, 'r, S> {
    pub fn new(src: &'a S, names: Option<&'a EnvNames>) -> Env<'a, 'r, S> {
        Env {
            src,
            names,
            jk: src.env_has_prefix(b"JK_"),
            _life: std::marker::PhantomData,
        }
    }

    /// Whether the request has any `JK_*` variable.
    pub fn has_jk(&self) -> bool {
        self.jk
    }

    pub fn names(&self) -> Option<&'a EnvNames> {
        self.names
    }

    /// A non-empty value of variable `name`.
    pub fn get(&self, name: &CStr) -> Option<&'r [u8]> {
        self.value(name, name.to_bytes())
    }

    /// [`Self::indicator`] for one of the nine indicators of
    /// [`EnvNames::plain_indicators_jk`]: when they all have `JK_` names and the request has
    /// no `JK_*` variable, that one test answers for all nine.
    pub fn plain_indicator(&self, pick: fn(&EnvNames) -> &CString) -> Option<&'r [u8]> {
        let names = self.names?;
        if !self.jk && names.plain_indicators_jk {
            return None;
        }
        let name = pick(names);
        self.value(name, name.as_bytes())
    }

    /// The variable an indicator directive names (or mod_jk's default name).
    pub fn indicator(&self, pick: fn(&EnvNames) -> &CString) -> Option<&'r [u8]> {
        // A CString knows its length: no strlen for the JK_ test.
        let name = pick(self.names?);
        self.value(name, name.as_bytes())
    }

    /// A non-empty value of `name` (`bytes` is its text), skipped when it is a `JK_` name and
    /// the request has none.
    fn value(&self, name: &CStr, bytes: &[u8]) -> Option<&'r [u8]> {
        if !self.jk && is_jk_name(bytes) {
            return None;
        }
        self.src.env(name).filter(|v| !v.is_empty())
    }

    pub fn text(&self, name: &CStr) -> Option<&'r str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// A flag variable as mod_jk reads it: set (even empty) and not a zero number.
    pub fn flag(&self, name: &CStr) -> bool {
        if !self.jk && is_jk_name(name.to_bytes()) {
            return false;
        }
        self.src
            .env(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .is_some_and(env_flag)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeRequest;
    use super::*;

    #[test]
    fn jk_variables_are_read_only_when_the_request_has_one() {
        let mut r = FakeRequest::get("/x");
        r.env.push(("JK_ROUTE", "a"));
        r.env.push(("OTHER", "v"));
        let env = Env::new(&r, None);
        assert!(env.has_jk());
        assert_eq!(env.text(c"JK_ROUTE"), Some("a"));
        assert_eq!(env.text(c"OTHER"), Some("v"));

        let mut plain = FakeRequest::get("/x");
        plain.env.push(("OTHER", "v"));
        let env = Env::new(&plain, None);
        assert!(!env.has_jk());
        assert_eq!(env.get(c"JK_ROUTE"), None);
        assert_eq!(env.text(c"OTHER"), Some("v"));
    }

    #[test]
    fn empty_values_are_absent_but_empty_flags_are_set() {
        let mut r = FakeRequest::get("/x");
        r.env.push(("JK_STATELESS", ""));
        r.env.push(("JK_STICKY_IGNORE", "0"));
        r.env.push(("JK_ROUTE", ""));
        let env = Env::new(&r, None);
        assert_eq!(env.get(c"JK_ROUTE"), None);
        assert!(env.flag(c"JK_STATELESS"));
        assert!(!env.flag(c"JK_STICKY_IGNORE"));
        assert!(!env.flag(c"JK_MISSING"));
    }

    #[test]
    fn indicators_use_the_configured_names() {
        let mut r = FakeRequest::get("/x");
        r.env.push(("X_REAL_IP", "203.0.113.9"));
        let names = FakeRequest::names(&[("JkRemoteAddrIndicator", "X_REAL_IP")]);
        let env = Env::new(&r, Some(&names));
        assert_eq!(env.indicator(|n| &n.remote_addr), Some(&b"203.0.113.9"[..]));
        assert_eq!(Env::new(&r, None).indicator(|n| &n.remote_addr), None);
        // A name without JK_ turns the shortcut off: it is read as any other.
        assert!(!names.plain_indicators_jk);
        assert_eq!(
            env.plain_indicator(|n| &n.remote_addr),
            Some(&b"203.0.113.9"[..])
        );
    }

    /// With every name JK_ (the defaults), the plain indicators are read when the request has a
    /// JK_ variable, and skipped in one test when it has none (a lower-case jk_ prefix counts).
    #[test]
    fn plain_indicators_with_jk_names_are_read_only_when_a_jk_variable_exists() {
        let defaults = FakeRequest::names(&[]);
        assert!(defaults.plain_indicators_jk);
        let lower = FakeRequest::names(&[("JkLocalPortIndicator", "jk_port")]);
        assert!(lower.plain_indicators_jk);
        let mut r = FakeRequest::get("/x");
        r.env.push(("JK_REMOTE_PORT", "4711"));
        let env = Env::new(&r, Some(&defaults));
        assert_eq!(env.plain_indicator(|n| &n.remote_port), Some(&b"4711"[..]));
        assert_eq!(env.plain_indicator(|n| &n.remote_addr), None);
        let bare = FakeRequest::get("/x");
        let env = Env::new(&bare, Some(&defaults));
        assert_eq!(env.plain_indicator(|n| &n.remote_port), None);
        let mut other = FakeRequest::get("/x");
        other.env.push(("jk_port", "8443"));
        let env = Env::new(&other, Some(&lower));
        assert_eq!(env.plain_indicator(|n| &n.local_port), Some(&b"8443"[..]));
    }
}
