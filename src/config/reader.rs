//! Typed reads of one worker's attributes after `reference` resolution: each read either
//! yields a value or records a `file:line` error naming the exact `worker.<name>.<attr>` line
//! (the template's line when the value was inherited).

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::{ConfigError, Origin};
use super::properties::Entry;
use super::value::{list_items, parse_bool, parse_int, NumberError};

/// One attribute of a worker: the lines that set it and the worker they were written for
/// (another worker when it came through `reference`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting<'p> {
    pub entry: &'p Entry,
    pub from: &'p str,
}

impl<'p> Setting<'p> {
    /// The value of a single-valued attribute.
    pub fn text(&self) -> &'p str {
        self.entry.parts.last().map_or("", |p| p.value.as_str())
    }

    pub fn origin(&self) -> Origin {
        self.entry
            .origin()
            .cloned()
            .unwrap_or_else(|| Origin::new("<unknown>", 0))
    }
}

/// A worker's attributes by name.
pub(crate) type Attrs<'p> = BTreeMap<&'p str, Setting<'p>>;

/// How a duration attribute is written in workers.properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Millis,
}

impl Unit {
    fn duration(self, amount: u64) -> Duration {
        match self {
            Unit::Seconds => Duration::from_secs(amount),
            Unit::Millis => Duration::from_millis(amount),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Unit::Seconds => "a whole number of seconds",
            Unit::Millis => "a whole number of milliseconds",
        }
    }
}

/// Reads one worker's attributes, collecting errors and warnings.
pub(crate) struct Reader<'a, 'p> {
    pub worker: &'a str,
    pub attrs: &'a Attrs<'p>,
    pub errors: &'a mut Vec<ConfigError>,
    pub warnings: &'a mut Vec<ConfigError>,
}

impl<'p> Reader<'_, 'p> {
    pub fn setting(&self, attr: &str) -> Option<Setting<'p>> {
        self.attrs.get(attr).copied()
    }

    pub fn is_set(&self, attr: &str) -> bool {
        self.attrs.contains_key(attr)
    }

    /// The first of `attrs` that is set: the current name first, then deprecated aliases.
    pub fn first_set(&self, attrs: &[&'static str]) -> Option<&'static str> {
        attrs.iter().copied().find(|a| self.is_set(a))
    }

    pub fn text(&self, attr: &str) -> Option<&'p str> {
        self.setting(attr).map(|s| s.text())
    }

    /// `worker.<from>.<attr>`, plus who inherited it when it came through `reference`.
    pub fn key(&self, attr: &str) -> String {
        match self.setting(attr) {
            Some(s) if s.from != self.worker => format!(
                "'worker.{}.{attr}' (inherited by worker '{}')",
                s.from, self.worker
            ),
            Some(s) => format!("'worker.{}.{attr}'", s.from),
            None => format!("'worker.{}.{attr}'", self.worker),
        }
    }

    pub fn origin(&self, attr: &str) -> Origin {
        self.setting(attr)
            .map(|s| s.origin())
            .unwrap_or_else(|| Origin::new("<unknown>", 0))
    }

    pub fn error(&mut self, attr: &str, message: String) {
        let origin = self.origin(attr);
        self.errors.push(ConfigError::new(&origin, message));
    }

    pub fn warn(&mut self, attr: &str, message: String) {
        let origin = self.origin(attr);
        self.warnings.push(ConfigError::new(&origin, message));
    }

    pub fn bool(&mut self, attr: &str, default: bool) -> bool {
        let Some(text) = self.text(attr) else {
            return default;
        };
        match parse_bool(text) {
            Some(value) => value,
            None => {
                let message = format!(
                    "bad boolean '{text}' for {}: use true/false, yes/no, on/off or 1/0",
                    self.key(attr)
                );
                self.error(attr, message);
                default
            }
        }
    }

    /// An integer, `None` when unset or malformed (malformed is recorded as an error).
    pub fn int(&mut self, attr: &str, expected: &str) -> Option<i64> {
        let text = self.text(attr)?;
        match parse_int(text) {
            Ok(value) => Some(value),
            Err(NumberError::NotANumber) => {
                let message = format!(
                    "bad number '{text}' for {}: expected {expected}",
                    self.key(attr)
                );
                self.error(attr, message);
                None
            }
            Err(NumberError::TooLarge) => {
                let message = format!("number '{text}' for {} is too large", self.key(attr));
                self.error(attr, message);
                None
            }
        }
    }

    /// A count that must not be negative; `default` when unset or wrong.
    pub fn count(&mut self, attr: &str, default: u32) -> u32 {
        match self.int(attr, "a whole number") {
            None => default,
            Some(value) => match u32::try_from(value) {
                Ok(value) => value,
                Err(_) => {
                    let message =
                        format!("{} must not be negative (found {value})", self.key(attr));
                    self.error(attr, message);
                    default
                }
            },
        }
    }

    /// A count with a lower bound that mod_jk silently enforces; we enforce it with a warning.
    pub fn count_at_least(&mut self, attr: &str, default: u32, min: u32) -> u32 {
        match self.int(attr, "a whole number") {
            None => default,
            Some(value) if value < i64::from(min) => {
                let message = format!(
                    "{} is {value} but the minimum is {min}; using {min}",
                    self.key(attr)
                );
                self.warn(attr, message);
                min
            }
            Some(value) => u32::try_from(value).unwrap_or(u32::MAX),
        }
    }

    /// A duration that must not be negative; `default` when unset or wrong.
    pub fn duration(&mut self, attr: &str, unit: Unit, default: Duration) -> Duration {
        match self.int(attr, unit.expected()) {
            None => default,
            Some(value) => match u64::try_from(value) {
                Ok(amount) => unit.duration(amount),
                Err(_) => {
                    let message =
                        format!("{} must not be negative (found {value})", self.key(attr));
                    self.error(attr, message);
                    default
                }
            },
        }
    }

    /// A timeout where 0 means "none": outer `None` = unset, `Some(None)` = explicitly off.
    /// Negative values also mean "none" in mod_jk; they get a warning.
    pub fn timeout(&mut self, attr: &str, unit: Unit) -> Option<Option<Duration>> {
        let value = self.int(attr, unit.expected())?;
        if value < 0 {
            let message = format!(
                "{} is negative ({value}); that means no timeout, write 0 to say so",
                self.key(attr)
            );
            self.warn(attr, message);
        }
        Some(
            u64::try_from(value)
                .ok()
                .filter(|&v| v > 0)
                .map(|v| unit.duration(v)),
        )
    }

    /// A name-like string (route, domain, cookie name…) limited to mod_jk's 60 characters.
    pub fn short_text(&mut self, attr: &str) -> Option<String> {
        let text = self.text(attr)?;
        if text.chars().count() > super::MAX_NAME_LEN {
            let message = format!(
                "{} is longer than {} characters",
                self.key(attr),
                super::MAX_NAME_LEN
            );
            self.error(attr, message);
        }
        Some(text.to_owned())
    }

    /// Items of a list attribute, each with the line it came from.
    pub fn list(&self, attr: &str) -> Vec<(&'p str, Origin)> {
        let Some(setting) = self.setting(attr) else {
            return Vec::new();
        };
        setting
            .entry
            .parts
            .iter()
            .flat_map(|part| list_items(&part.value).map(move |item| (item, part.origin.clone())))
            .collect()
    }

    /// HTTP status codes of `fail_on_status`-style lists; negative codes are allowed.
    pub fn status_codes(&mut self, attr: &str) -> Vec<i32> {
        let mut codes = Vec::new();
        for (item, _) in self.list(attr) {
            match parse_int(item).ok().and_then(|v| i32::try_from(v).ok()) {
                Some(code) if (100..=599).contains(&code.unsigned_abs()) => codes.push(code),
                Some(code) => {
                    let message = format!(
                        "{} contains {code}, which is not an HTTP status (100..599, negative to keep the member usable)",
                        self.key(attr)
                    );
                    self.error(attr, message);
                }
                None => {
                    let message = format!("bad status code '{item}' in {}", self.key(attr));
                    self.error(attr, message);
                }
            }
        }
        codes
    }
}
