//! The typed lb (load balancer) worker (mod_jk reference §2.5): members, stickiness, method,
//! lock, retries and recovery timing with mod_jk's defaults.

use std::time::Duration;

use super::reader::{Reader, Unit};
use super::value::keyword;

/// How the balancer picks a member for a request without a usable session (`method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbMethod {
    Request,
    Traffic,
    Busyness,
    Sessions,
    Next,
}

impl LbMethod {
    /// `Request`, `Traffic`, `Busyness`, `Sessions`, `Next` (any case, any prefix such as `B`)
    /// or `0`..`4`, as mod_jk reads them.
    pub fn parse(text: &str) -> Option<LbMethod> {
        keyword(
            text,
            &[
                ("Request", LbMethod::Request),
                ("Traffic", LbMethod::Traffic),
                ("Busyness", LbMethod::Busyness),
                ("Sessions", LbMethod::Sessions),
                ("Next", LbMethod::Next),
            ],
        )
    }

    /// The name the status page shows.
    pub fn name(self) -> &'static str {
        match self {
            LbMethod::Request => "Request",
            LbMethod::Traffic => "Traffic",
            LbMethod::Busyness => "Busyness",
            LbMethod::Sessions => "Sessions",
            LbMethod::Next => "Next",
        }
    }
}

/// How shared member state is locked (`lock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbLock {
    /// Process-local lock.
    Optimistic,
    /// Lock across all httpd processes.
    Pessimistic,
}

impl LbLock {
    /// `Optimistic`/`Pessimistic` (any case, any prefix) or `0`/`1`, as mod_jk reads them.
    pub fn parse(text: &str) -> Option<LbLock> {
        keyword(
            text,
            &[
                ("Optimistic", LbLock::Optimistic),
                ("Pessimistic", LbLock::Pessimistic),
            ],
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            LbLock::Optimistic => "Optimistic",
            LbLock::Pessimistic => "Pessimistic",
        }
    }
}

/// A load balancer over ajp13 members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbWorker {
    pub name: String,
    /// Member worker names, in `balance_workers` order (each is an [`super::AjpWorker`]).
    pub members: Vec<String>,
    /// Route requests with a session to the member that made it; default true.
    pub sticky_session: bool,
    /// Never fail over sticky requests; default false.
    pub sticky_session_force: bool,
    pub method: LbMethod,
    pub lock: LbLock,
    /// Rounds over the members; default 2, min 1.
    pub retries: u32,
    /// Members tried per round; default 2, min 1.
    pub lb_retries: u32,
    /// Pause between rounds; default 100 ms.
    pub retry_interval: Duration,
    /// Time in error before a member is tried again; default 60 s, min 1 s.
    pub recover_time: Duration,
    /// Time a member may stay in local error before it is put in error; default recover_time/2.
    pub error_escalation_time: Duration,
    /// Reply timeouts tolerated before the member is put in error; default 0.
    pub max_reply_timeouts: u32,
    /// mod_jk_rs only: bytes of a request body read before a member is contacted (0: none).
    pub request_body_buffer: u64,
    /// default `JSESSIONID`
    pub session_cookie: String,
    /// default `;jsessionid`
    pub session_path: String,
    /// Emit a routing cookie; default false.
    pub set_session_cookie: bool,
    /// Path of that cookie; default `/` (mod_jk code; its docs say empty).
    pub session_cookie_path: String,
    /// Given to members that have no `secret` of their own.
    pub secret: Option<String>,
    /// URI patterns from `worker.<name>.mount`.
    pub mount: Vec<String>,
}

impl LbWorker {
    /// An lb with mod_jk's defaults and the given members.
    pub fn with_defaults(name: &str, members: Vec<String>) -> LbWorker {
        LbWorker {
            name: name.to_owned(),
            members,
            sticky_session: true,
            sticky_session_force: false,
            method: LbMethod::Request,
            lock: LbLock::Optimistic,
            retries: 2,
            lb_retries: 2,
            retry_interval: Duration::from_millis(100),
            recover_time: Duration::from_secs(60),
            error_escalation_time: Duration::from_secs(30),
            max_reply_timeouts: 0,
            request_body_buffer: 0,
            session_cookie: "JSESSIONID".to_owned(),
            session_path: ";jsessionid".to_owned(),
            set_session_cookie: false,
            session_cookie_path: "/".to_owned(),
            secret: None,
            mount: Vec::new(),
        }
    }
}

/// Builds an lb worker; members are only named here, `Workers::build` checks them.
pub(crate) fn build(reader: &mut Reader<'_, '_>, members: Vec<String>) -> LbWorker {
    let mut lb = LbWorker::with_defaults(reader.worker, members);
    lb.sticky_session = reader.bool("sticky_session", true);
    lb.sticky_session_force = reader.bool("sticky_session_force", false);
    if let Some(text) = reader.text("method") {
        match LbMethod::parse(text) {
            Some(method) => lb.method = method,
            None => {
                let message = format!(
                    "unknown method '{text}' for {}: use Request, Traffic, Busyness, Sessions or Next",
                    reader.key("method")
                );
                reader.error("method", message);
            }
        }
    }
    if let Some(text) = reader.text("lock") {
        match LbLock::parse(text) {
            Some(lock) => lb.lock = lock,
            None => {
                let message = format!(
                    "unknown lock '{text}' for {}: use Optimistic or Pessimistic",
                    reader.key("lock")
                );
                reader.error("lock", message);
            }
        }
    }
    lb.retries = reader.count_at_least("retries", 2, 1);
    lb.lb_retries = reader.count_at_least("lb_retries", 2, 1);
    lb.retry_interval = reader.duration("retry_interval", Unit::Millis, lb.retry_interval);
    let recover_secs = reader.count_at_least("recover_time", 60, 1);
    lb.recover_time = Duration::from_secs(u64::from(recover_secs));
    lb.error_escalation_time = reader.duration(
        "error_escalation_time",
        Unit::Seconds,
        Duration::from_secs(u64::from(recover_secs / 2)),
    );
    lb.max_reply_timeouts = reader.count("max_reply_timeouts", 0);
    lb.request_body_buffer = u64::from(reader.count("request_body_buffer", 0));
    if let Some(cookie) = reader.short_text("session_cookie") {
        lb.session_cookie = cookie;
    }
    if let Some(path) = reader.short_text("session_path") {
        lb.session_path = path;
    }
    lb.set_session_cookie = reader.bool("set_session_cookie", false);
    if let Some(path) = reader.short_text("session_cookie_path") {
        lb.session_cookie_path = path;
    }
    lb.secret = reader.text("secret").map(str::to_owned);
    lb.mount = reader
        .list("mount")
        .into_iter()
        .map(|(pattern, _)| pattern.to_owned())
        .collect();
    lb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_reads_word_prefix_or_digit() {
        let cases = [
            ("Request", Some(LbMethod::Request)),
            ("0", Some(LbMethod::Request)),
            ("traffic", Some(LbMethod::Traffic)),
            ("B", Some(LbMethod::Busyness)),
            ("Session", Some(LbMethod::Sessions)),
            ("3", Some(LbMethod::Sessions)),
            ("next", Some(LbMethod::Next)),
            ("4", Some(LbMethod::Next)),
            ("x", None),
            ("random", None),
            ("5", None),
        ];
        for (text, expected) in cases {
            assert_eq!(LbMethod::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn lock_reads_word_prefix_or_digit() {
        assert_eq!(LbLock::parse("Optimistic"), Some(LbLock::Optimistic));
        assert_eq!(LbLock::parse("p"), Some(LbLock::Pessimistic));
        assert_eq!(LbLock::parse("1"), Some(LbLock::Pessimistic));
        assert_eq!(LbLock::parse("global"), None);
        assert_eq!(LbLock::parse("optimist"), Some(LbLock::Optimistic));
    }
}
