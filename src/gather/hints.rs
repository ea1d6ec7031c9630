//! What the request says about stickiness: the `Cookie` header values and the `JK_ROUTE`,
//! `JK_STICKY_IGNORE`, `JK_STATELESS` variables (reference §1.4) with the mount rule's
//! extensions (§3.3).
use super::{Env, Source};
use crate::balancer::{ActivationOverrides, RequestHints};
use crate::mount::RuleExtensions;

pub fn lb_hints<'a, 'r: 'a, S: Source<'r>>(
    env: &Env<'_, 'r, S>,
    ext: Option<&'a RuleExtensions>,
) -> RequestHints<'a> {
    RequestHints {
        jk_route: env.text(c"JK_ROUTE"),
        sticky_ignore: env.flag(c"JK_STICKY_IGNORE") || ext.is_some_and(|e| e.sticky_ignore),
        stateless: env.flag(c"JK_STATELESS") || ext.is_some_and(|e| e.stateless),
        session_cookie: ext.and_then(|e| e.session_cookie.as_deref()),
        session_path: ext.and_then(|e| e.session_path.as_deref()),
        set_session_cookie: ext.and_then(|e| e.set_session_cookie),
        activation: ext.map_or_else(ActivationOverrides::default, |e| ActivationOverrides {
            active: &e.active,
            disabled: &e.disabled,
            stopped: &e.stopped,
        }),
    }
}

/// The Cookie header values (for the session route): the usual one or two fit on the stack.
pub struct Cookies<'r> {
    inline: [&'r str; 4],
    count: usize,
    spill: Vec<&'r str>,
}

impl<'r> Cookies<'r> {
    pub fn none() -> Cookies<'r> {
        Cookies {
            inline: [""; 4],
            count: 0,
            spill: Vec::new(),
        }
    }

    pub fn of<S: Source<'r>>(src: &S) -> Cookies<'r> {
        let mut c = Cookies::none();
        src.header_values(c"Cookie", &mut |v| c.push(v));
        c
    }

    fn push(&mut self, v: &'r str) {
        if self.count < self.inline.len() && self.spill.is_empty() {
            self.inline[self.count] = v;
            self.count += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..self.count]);
            }
            self.spill.push(v);
        }
    }

    pub fn all(&self) -> &[&'r str] {
        if self.spill.is_empty() {
            &self.inline[..self.count]
        } else {
            &self.spill
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeRequest;
    use super::*;

    #[test]
    fn cookies_keep_their_order_past_the_inline_room() {
        let mut r = FakeRequest::get("/");
        let values = ["a=1", "b=2", "c=3", "d=4", "e=5", "f=6"];
        for v in values {
            r.headers.push(("Cookie", v));
        }
        r.headers.push(("Accept", "x"));
        assert_eq!(Cookies::of(&r).all(), values);
        r.headers.truncate(2);
        assert_eq!(Cookies::of(&r).all(), ["a=1", "b=2"]);
        assert!(Cookies::none().all().is_empty());
    }

    #[test]
    fn variables_and_rule_extensions_combine() {
        let mut r = FakeRequest::get("/");
        r.env.push(("JK_ROUTE", "n2"));
        r.env.push(("JK_STATELESS", "1"));
        let env = Env::new(&r, None);
        let ext = RuleExtensions {
            sticky_ignore: true,
            session_cookie: Some("SID".into()),
            active: vec!["m1".into()],
            ..RuleExtensions::default()
        };
        let h = lb_hints(&env, Some(&ext));
        assert_eq!(h.jk_route, Some("n2"));
        assert!(h.stateless && h.sticky_ignore);
        assert_eq!(h.session_cookie, Some("SID"));
        assert_eq!(h.activation.active, ["m1".to_string()]);
        let plain = lb_hints(&Env::new(&FakeRequest::get("/"), None), None);
        assert!(!plain.stateless && !plain.sticky_ignore && plain.jk_route.is_none());
    }
}
