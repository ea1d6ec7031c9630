//! Mount rule extensions (mod_jk reference §3.3): the `;name=value` settings after the worker
//! name in JkMount and uriworkermap.properties, typed. Unknown extensions are warnings,
//! malformed values of known ones are errors.

use crate::config::{did_you_mean, list_items, parse_bool, parse_int, ConfigError, Origin};

/// Every §3.3 extension, typed. The default is "no override".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleExtensions {
    /// Overrides the worker's reply_timeout (ms); `Some(0)` = no reply timeout for this rule.
    pub reply_timeout: Option<i64>,
    /// Ignore session stickiness for this rule.
    pub sticky_ignore: bool,
    /// Requests of this rule create no session: balance them freely.
    pub stateless: bool,
    /// lb members forced active / disabled / stopped for this rule.
    pub active: Vec<String>,
    pub disabled: Vec<String>,
    pub stopped: Vec<String>,
    /// Replaces the worker's fail_on_status for this rule (empty = not set).
    pub fail_on_status: Vec<i32>,
    /// Responses with a status at or above this are replaced by httpd's own error page.
    pub use_server_errors: Option<u16>,
    pub session_cookie: Option<String>,
    /// Kept with its leading ';' when written `session_path=;jsessionid`, like the lb attribute.
    pub session_path: Option<String>,
    pub set_session_cookie: Option<bool>,
    pub session_cookie_path: Option<String>,
}

const NAMES: [&str; 12] = [
    "reply_timeout",
    "sticky_ignore",
    "stateless",
    "active",
    "disabled",
    "stopped",
    "fail_on_status",
    "use_server_errors",
    "session_cookie",
    "session_path",
    "set_session_cookie",
    "session_cookie_path",
];

/// mod_jk reads these flags with atoi (non-zero = on); words like `true` are accepted too.
fn flag(value: &str) -> Option<bool> {
    match parse_int(value) {
        Ok(number) => Some(number != 0),
        Err(_) => parse_bool(value),
    }
}

impl RuleExtensions {
    /// Parses the `;`-separated parts after the worker name. Warnings (unknown or repeated
    /// extensions) are appended to `warnings`; a malformed value is an error.
    pub(crate) fn parse<'a>(
        parts: impl IntoIterator<Item = &'a str>,
        origin: &Origin,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<RuleExtensions, ConfigError> {
        let mut ext = RuleExtensions::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut parts = parts.into_iter();
        while let Some(part) = parts.next() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, value)) = part.split_once('=') else {
                warnings.push(ConfigError::new(
                    origin,
                    format!("rule extension '{part}' is ignored: expected name=value"),
                ));
                continue;
            };
            let (name, mut value) = (name.trim(), value.trim().to_owned());
            if name == "session_path" && value.is_empty() {
                // `session_path=;jsessionid`: the ';' split the value off.
                if let Some(next) = parts.next() {
                    value = format!(";{}", next.trim());
                }
            }
            let Some(known) = NAMES.iter().copied().find(|n| *n == name) else {
                let hint = did_you_mean(name, NAMES, "");
                warnings.push(ConfigError::new(
                    origin,
                    format!("unknown rule extension '{name}' is ignored{hint}"),
                ));
                continue;
            };
            if seen.contains(&known) {
                warnings.push(ConfigError::new(
                    origin,
                    format!("rule extension '{known}' is given twice; the first value is used"),
                ));
                continue;
            }
            seen.push(known);
            ext.set(known, &value, origin)?;
        }
        Ok(ext)
    }

    fn set(&mut self, name: &str, value: &str, origin: &Origin) -> Result<(), ConfigError> {
        let bad = |expected: &str| {
            ConfigError::new(
                origin,
                format!("bad value '{value}' for rule extension '{name}': expected {expected}"),
            )
        };
        if value.is_empty() {
            return Err(bad("a value"));
        }
        match name {
            "reply_timeout" => {
                let ms = parse_int(value).map_err(|_| bad("a whole number of milliseconds"))?;
                // mod_jk: a negative value means "not set".
                self.reply_timeout = (ms >= 0).then_some(ms);
            }
            "sticky_ignore" => self.sticky_ignore = flag(value).ok_or_else(|| bad("0 or 1"))?,
            "stateless" => self.stateless = flag(value).ok_or_else(|| bad("0 or 1"))?,
            "set_session_cookie" => {
                self.set_session_cookie = Some(flag(value).ok_or_else(|| bad("0 or 1"))?)
            }
            "active" | "disabled" | "stopped" => {
                let members = list_items(value).map(str::to_owned).collect();
                match name {
                    "active" => self.active = members,
                    "disabled" => self.disabled = members,
                    _ => self.stopped = members,
                }
            }
            "fail_on_status" => {
                for item in list_items(value) {
                    let code = parse_int(item)
                        .ok()
                        .and_then(|c| i32::try_from(c).ok())
                        .filter(|c| (100..=599).contains(&c.unsigned_abs()))
                        .ok_or_else(|| bad("HTTP status codes (100..599, negative allowed)"))?;
                    self.fail_on_status.push(code);
                }
            }
            "use_server_errors" => {
                let status = parse_int(value)
                    .ok()
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| *s == 0 || (100..=999).contains(s))
                    .ok_or_else(|| bad("an HTTP status such as 400"))?;
                self.use_server_errors = (status > 0).then_some(status);
            }
            "session_cookie" => self.session_cookie = Some(value.to_owned()),
            "session_path" => self.session_path = Some(value.to_owned()),
            _ => self.session_cookie_path = Some(value.to_owned()),
        }
        Ok(())
    }

    /// True when any lb-only extension (activation or session overrides) is set.
    pub fn has_lb_settings(&self) -> bool {
        !self.active.is_empty()
            || !self.disabled.is_empty()
            || !self.stopped.is_empty()
            || self.session_cookie.is_some()
            || self.session_path.is_some()
            || self.set_session_cookie.is_some()
            || self.session_cookie_path.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<RuleExtensions, String>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = RuleExtensions::parse(text.split(';'), &Origin::new("m", 4), &mut warnings)
            .map_err(|e| e.to_string());
        (result, warnings.iter().map(|w| w.to_string()).collect())
    }

    fn parsed(text: &str) -> RuleExtensions {
        match parse(text) {
            (Ok(ext), _) => ext,
            (Err(e), _) => panic!("{text:?}: {e}"),
        }
    }

    #[test]
    fn every_extension_is_typed() {
        let ext = parsed(
            "reply_timeout=60000;sticky_ignore=1;stateless=1;active=a,b;disabled=c d;stopped=e;\
             fail_on_status=500,-503;use_server_errors=400;session_cookie=SID;session_path=;sid;\
             set_session_cookie=1;session_cookie_path=/app",
        );
        let expected = RuleExtensions {
            reply_timeout: Some(60000),
            sticky_ignore: true,
            stateless: true,
            active: vec!["a".into(), "b".into()],
            disabled: vec!["c".into(), "d".into()],
            stopped: vec!["e".into()],
            fail_on_status: vec![500, -503],
            use_server_errors: Some(400),
            session_cookie: Some("SID".into()),
            session_path: Some(";sid".into()),
            set_session_cookie: Some(true),
            session_cookie_path: Some("/app".into()),
        };
        assert_eq!(ext, expected);
        assert!(ext.has_lb_settings());
    }

    #[test]
    fn flags_follow_atoi_and_accept_words() {
        assert!(!parsed("sticky_ignore=0").sticky_ignore);
        assert!(parsed("sticky_ignore=2").sticky_ignore);
        assert!(parsed("stateless=true").stateless);
    }

    #[test]
    fn session_path_without_semicolon_is_kept_as_written() {
        assert_eq!(
            parsed("session_path=sid").session_path.as_deref(),
            Some("sid")
        );
    }

    #[test]
    fn negative_reply_timeout_means_not_set_and_zero_means_none() {
        assert_eq!(parsed("reply_timeout=-1").reply_timeout, None);
        assert_eq!(parsed("reply_timeout=0").reply_timeout, Some(0));
        assert_eq!(parsed("use_server_errors=0").use_server_errors, None);
    }

    #[test]
    fn unknown_and_repeated_extensions_are_warnings() {
        let (result, warnings) = parse("reply_timout=5;active=a;active=b;sticky");
        assert_eq!(result.map(|e| e.active), Ok(vec!["a".to_owned()]));
        assert_eq!(
            warnings,
            [
                "m:4: unknown rule extension 'reply_timout' is ignored; did you mean 'reply_timeout'?",
                "m:4: rule extension 'active' is given twice; the first value is used",
                "m:4: rule extension 'sticky' is ignored: expected name=value",
            ]
        );
    }

    #[test]
    fn malformed_values_are_errors() {
        let cases = [
            ("reply_timeout=5s", "m:4: bad value '5s' for rule extension 'reply_timeout': expected a whole number of milliseconds"),
            ("sticky_ignore=maybe", "m:4: bad value 'maybe' for rule extension 'sticky_ignore': expected 0 or 1"),
            ("fail_on_status=500,x", "m:4: bad value '500,x' for rule extension 'fail_on_status': expected HTTP status codes (100..599, negative allowed)"),
            ("use_server_errors=40", "m:4: bad value '40' for rule extension 'use_server_errors': expected an HTTP status such as 400"),
            ("session_cookie=", "m:4: bad value '' for rule extension 'session_cookie': expected a value"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).0, Err(expected.to_owned()), "{text:?}");
        }
    }
}
