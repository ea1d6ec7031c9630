//! The known `worker.<name>.<attr>` attributes: which worker types read them, which ones are
//! lists (repeats are concatenated) and which are deprecated (mod_jk reference §2.1, §2.4–§2.7).

/// Worker types an attribute means something for, as a bit set.
pub(crate) const AJP: u8 = 1;
pub(crate) const LB: u8 = 2;
pub(crate) const STATUS: u8 = 4;
pub(crate) const ANY: u8 = AJP | LB | STATUS;

/// What happened to a deprecated attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deprecated {
    /// Still honoured, under a new name.
    RenamedTo(&'static str),
    /// Accepted for old configurations but has no effect; the text says why.
    Ignored(&'static str),
}

/// One known worker attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub name: &'static str,
    /// Repeated lines are joined with ',' instead of overwriting.
    pub list: bool,
    pub applies_to: u8,
    pub deprecated: Option<Deprecated>,
}

const fn attr(name: &'static str, applies_to: u8) -> Attribute {
    Attribute {
        name,
        list: false,
        applies_to,
        deprecated: None,
    }
}

const fn list(name: &'static str, applies_to: u8) -> Attribute {
    Attribute {
        name,
        list: true,
        applies_to,
        deprecated: None,
    }
}

const fn renamed(name: &'static str, to: &'static str, applies_to: u8) -> Attribute {
    Attribute {
        name,
        list: false,
        applies_to,
        deprecated: Some(Deprecated::RenamedTo(to)),
    }
}

const fn ignored(name: &'static str, why: &'static str) -> Attribute {
    Attribute {
        name,
        list: false,
        applies_to: ANY,
        deprecated: Some(Deprecated::Ignored(why)),
    }
}

const JNI: &str = "it belonged to the removed jni worker type";
const LOCAL_WORKER: &str = "local_worker was removed from mod_jk; use activation or distance";

/// Every attribute mod_jk 1.2.50 accepts after `worker.<name>.`.
pub(crate) const ATTRIBUTES: &[Attribute] = &[
    attr("type", ANY),
    attr("reference", ANY),
    list("mount", ANY),
    // ajp13 workers and lb members (§2.4)
    attr("host", AJP),
    attr("port", AJP),
    attr("source", AJP),
    attr("prefer_ipv6", AJP),
    attr("socket_timeout", AJP),
    attr("socket_connect_timeout", AJP),
    attr("socket_keepalive", AJP),
    attr("socket_buffer", AJP),
    attr("ping_mode", AJP),
    attr("ping_timeout", AJP),
    attr("connect_timeout", AJP),
    attr("prepost_timeout", AJP),
    attr("connection_ping_interval", AJP),
    attr("connection_pool_size", AJP),
    attr("connection_pool_minsize", AJP),
    attr("connection_pool_timeout", AJP),
    attr("connection_acquire_timeout", AJP),
    attr("reply_timeout", AJP),
    attr("reply_deadline", AJP),
    attr("request_body_buffer", AJP | LB),
    attr("retries", AJP | LB),
    attr("retry_interval", AJP | LB),
    attr("lb_retries", AJP | LB),
    attr("recovery_options", AJP),
    list("fail_on_status", AJP),
    attr("busy_limit", AJP),
    attr("max_packet_size", AJP),
    attr("secret", AJP | LB),
    // lb member side (§2.6)
    attr("lbfactor", AJP),
    attr("route", AJP),
    attr("domain", AJP),
    attr("redirect", AJP),
    attr("distance", AJP),
    attr("activation", AJP),
    // lb (§2.5)
    list("balance_workers", LB),
    attr("sticky_session", LB),
    attr("sticky_session_force", LB),
    attr("method", LB),
    attr("lock", LB),
    attr("recover_time", LB),
    attr("error_escalation_time", LB),
    attr("max_reply_timeouts", LB),
    attr("session_cookie", LB),
    attr("session_path", LB),
    attr("set_session_cookie", LB),
    attr("session_cookie_path", LB),
    // status (§2.7)
    attr("css", STATUS),
    attr("prefix", STATUS),
    attr("ns", STATUS),
    attr("xmlns", STATUS),
    attr("doctype", STATUS),
    attr("read_only", STATUS),
    list("user", STATUS),
    attr("user_case_insensitive", STATUS),
    list("good", STATUS),
    list("bad", STATUS),
    attr("persist", STATUS),
    // deprecated names still honoured
    renamed("cachesize", "connection_pool_size", AJP),
    renamed("cache_timeout", "connection_pool_timeout", AJP),
    renamed("recycle_timeout", "connection_pool_timeout", AJP),
    Attribute {
        name: "balanced_workers",
        list: true,
        applies_to: LB,
        deprecated: Some(Deprecated::RenamedTo("balance_workers")),
    },
    renamed("jvm_route", "route", AJP),
    renamed("disabled", "activation", AJP),
    renamed("stopped", "activation", AJP),
    // deprecated names without effect
    ignored(
        "secretkey",
        "it is only used by the unsupported ajp14 worker type",
    ),
    ignored("local_worker", LOCAL_WORKER),
    ignored("local_worker_only", LOCAL_WORKER),
    ignored("sysprops", JNI),
    ignored("stderr", JNI),
    ignored("stdout", JNI),
    ignored("mx", JNI),
    ignored("ms", JNI),
    ignored("class_path", JNI),
    ignored("bridge", JNI),
    ignored("jvm_lib", JNI),
    ignored("ld_path", JNI),
    ignored("cmd_line", JNI),
    ignored("native_lib", JNI),
];

/// The known attribute called `name`, if any (exact, case-sensitive like mod_jk).
pub(crate) fn attribute(name: &str) -> Option<&'static Attribute> {
    ATTRIBUTES.iter().find(|a| a.name == name)
}

/// Names worth suggesting for a typo: current names only, never deprecated ones.
pub(crate) fn current_names() -> impl Iterator<Item = &'static str> {
    ATTRIBUTES
        .iter()
        .filter(|a| a.deprecated.is_none())
        .map(|a| a.name)
}

/// Human name of a worker type bit, for "has no effect on lb worker" warnings.
pub(crate) fn type_bit(type_name: &str) -> u8 {
    match type_name {
        "lb" => LB,
        "status" => STATUS,
        _ => AJP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_unique() {
        for (i, a) in ATTRIBUTES.iter().enumerate() {
            let later = ATTRIBUTES.iter().skip(i + 1).any(|b| b.name == a.name);
            assert!(!later, "{} listed twice", a.name);
        }
    }

    #[test]
    fn list_attributes_match_mod_jk() {
        let lists: Vec<&str> = ATTRIBUTES
            .iter()
            .filter(|a| a.list)
            .map(|a| a.name)
            .collect();
        assert_eq!(
            lists,
            [
                "mount",
                "fail_on_status",
                "balance_workers",
                "user",
                "good",
                "bad",
                "balanced_workers"
            ]
        );
    }

    #[test]
    fn renamed_attributes_point_at_known_current_names() {
        for a in ATTRIBUTES {
            if let Some(Deprecated::RenamedTo(to)) = a.deprecated {
                let target = attribute(to).expect("rename target exists");
                assert!(target.deprecated.is_none(), "{} -> {}", a.name, to);
            }
        }
    }

    #[test]
    fn lookup_is_case_sensitive() {
        assert!(attribute("port").is_some());
        assert!(attribute("Port").is_none());
    }
}
