//! The workers.properties reader (mod_jk reference §2.1): `name=value` lines, `#` comments
//! anywhere, `$(var)` substitution, list properties concatenated on repeat, every key
//! checked against the known attributes with a "did you mean" hint.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{ConfigError, Origin};
use super::schema::{self, Attribute, Deprecated};
use super::value::suggest;

/// Longest accepted line, as in mod_jk.
const MAX_LINE_LEN: usize = 8192;
/// At most this many `$(name)` are replaced in one value (mod_jk's recursion guard).
const MAX_SUBSTITUTIONS: usize = 20;
/// Origin recorded for values given through [`Properties::define`].
const PREDEFINED: &str = "<predefined>";

/// One assignment of a property: its (substituted) value and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub value: String,
    pub origin: Origin,
}

/// All assignments of one key that are in effect: exactly one for ordinary properties,
/// one per line for list properties (so each list item keeps its own line number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub parts: Vec<Part>,
}

impl Entry {
    fn single(value: String, origin: Origin) -> Entry {
        Entry {
            parts: vec![Part { value, origin }],
        }
    }

    /// The value as mod_jk sees it: list parts joined with ','.
    pub fn value(&self) -> String {
        let values: Vec<&str> = self.parts.iter().map(|p| p.value.as_str()).collect();
        values.join(",")
    }

    /// The line of the assignment in effect (the last one for a list).
    pub fn origin(&self) -> Option<&Origin> {
        self.parts.last().map(|p| &p.origin)
    }
}

/// What a property key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// Anything not starting with `worker.`: a variable for `$(name)`.
    Variable,
    /// `worker.list`
    List,
    /// `worker.maintain`
    Maintain,
    /// `worker.<name>.<attr>`
    Worker {
        name: &'a str,
        attribute: &'static Attribute,
    },
}

impl Key<'_> {
    fn is_list(&self) -> bool {
        match self {
            Key::List => true,
            Key::Worker { attribute, .. } => attribute.list,
            Key::Variable | Key::Maintain => false,
        }
    }
}

/// Works out what `key` is, or says why it is not a valid workers.properties key.
pub(crate) fn classify(key: &str) -> Result<Key<'_>, String> {
    let Some(rest) = key.strip_prefix("worker.") else {
        return Ok(Key::Variable);
    };
    match rest {
        "list" => return Ok(Key::List),
        "maintain" => return Ok(Key::Maintain),
        _ => {}
    }
    let Some((name, attr)) = rest.rsplit_once('.') else {
        return Err(match suggest(rest, ["list", "maintain"]) {
            Some(known) => format!("unknown property '{key}'; did you mean 'worker.{known}'?"),
            None => format!("unknown property '{key}' (expected worker.list, worker.maintain or worker.<name>.<attribute>)"),
        });
    };
    let Some(attribute) = schema::attribute(attr) else {
        return Err(match suggest(attr, schema::current_names()) {
            Some(known) => format!("unknown property '{key}'; did you mean '{known}'?"),
            None => format!("unknown property '{key}': '{attr}' is not a worker attribute"),
        });
    };
    if !super::is_valid_worker_name(name) {
        return Err(format!(
            "invalid worker name '{name}' in '{key}': use 1 to {} letters, digits, '_' or '-'",
            super::MAX_NAME_LEN
        ));
    }
    Ok(Key::Worker { name, attribute })
}

/// workers.properties contents (also fed by JkWorkerProperty lines), with origins.
#[derive(Debug, Clone, Default)]
pub struct Properties {
    entries: BTreeMap<String, Entry>,
    warnings: Vec<ConfigError>,
}

impl Properties {
    pub fn new() -> Self {
        Properties::default()
    }

    /// Predefine a variable usable as $(name) (httpd passes ServerRoot).
    pub fn define(&mut self, name: &str, value: &str) {
        self.entries.insert(
            name.to_owned(),
            Entry::single(value.to_owned(), Origin::new(PREDEFINED, 0)),
        );
    }

    pub fn parse_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError::new(
                &Origin::new(&file, 0),
                format!("cannot read workers file: {e}"),
            )
        })?;
        // Comments are often in a local encoding (the tutorial's are Chinese); a lossy
        // conversion only ever touches text that is not ASCII, which no property needs.
        let text = String::from_utf8_lossy(&bytes);
        self.parse_str(&text, &file)
    }

    /// Parses a whole file's text; stops at the first malformed line.
    pub fn parse_str(&mut self, text: &str, file: &str) -> Result<(), ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            self.add_line(line, Origin::new(file, index + 1))?;
        }
        Ok(())
    }

    /// One `name=value` line as from JkWorkerProperty.
    pub fn add_line(&mut self, line: &str, origin: Origin) -> Result<(), ConfigError> {
        if line.chars().count() > MAX_LINE_LEN {
            return Err(ConfigError::new(
                &origin,
                format!("line is longer than {MAX_LINE_LEN} characters"),
            ));
        }
        let content = match line.split_once('#') {
            Some((before, _comment)) => before,
            None => line,
        }
        .trim();
        if content.is_empty() {
            return Ok(());
        }
        let Some((name, value)) = content.split_once('=') else {
            return Err(ConfigError::new(
                &origin,
                format!("expected 'name=value', found '{content}'"),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(ConfigError::new(
                &origin,
                format!("missing property name before '=' in '{content}'"),
            ));
        }
        let key = classify(name).map_err(|message| ConfigError::new(&origin, message))?;
        if value.is_empty() {
            // mod_jk skips such lines; say so, because it is usually an unfinished edit.
            self.warn(
                &origin,
                format!("'{name}' has an empty value and is ignored"),
            );
            return Ok(());
        }
        self.warn_about_key(name, &key, &origin);
        let value = self.substitute(value, &origin);
        self.store(name, key.is_list(), value, origin);
        Ok(())
    }

    /// Duplicates that overwrite, deprecated names, undefined variables, etc.
    pub fn warnings(&self) -> &[ConfigError] {
        &self.warnings
    }

    /// The value of `key` as mod_jk would read it (list parts joined with ',').
    pub fn get(&self, key: &str) -> Option<String> {
        self.entries.get(key).map(Entry::value)
    }

    /// The line that set `key` (the last one for list properties).
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.entries.get(key).and_then(Entry::origin)
    }

    /// All keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every property as `key=value`, in the order the keys were first set (predefined
    /// variables first, then by file and line): the status worker's `cmd=dump`.
    pub fn lines_as_read(&self) -> Vec<String> {
        let mut lines: Vec<(&Origin, String)> = self
            .entries
            .iter()
            .filter_map(|(key, entry)| {
                let first = &entry.parts.first()?.origin;
                Some((first, format!("{key}={}", entry.value())))
            })
            .collect();
        lines.sort_by_key(|(origin, _)| (origin.file != PREDEFINED, *origin));
        lines.into_iter().map(|(_, line)| line).collect()
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    fn warn(&mut self, origin: &Origin, message: String) {
        self.warnings.push(ConfigError::new(origin, message));
    }

    fn warn_about_key(&mut self, name: &str, key: &Key<'_>, origin: &Origin) {
        match key {
            Key::Worker { attribute, .. } => match attribute.deprecated {
                Some(Deprecated::RenamedTo(new)) => self.warn(
                    origin,
                    format!("'{name}' is deprecated; use '{new}' instead"),
                ),
                Some(Deprecated::Ignored(why)) => {
                    self.warn(origin, format!("'{name}' is ignored: {why}"))
                }
                None => {}
            },
            Key::Variable => {
                if looks_like_worker_property(name) {
                    self.warn(
                        origin,
                        format!(
                            "'{name}' does not start with 'worker.' so it only defines the variable $({name})"
                        ),
                    );
                }
            }
            Key::List | Key::Maintain => {}
        }
    }

    /// Replaces `$(name)` with an earlier property, else an environment variable.
    fn substitute(&mut self, value: &str, origin: &Origin) -> String {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        let mut done = 0;
        while let Some(start) = rest.find("$(") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            if done == MAX_SUBSTITUTIONS {
                self.warn(
                    origin,
                    format!("more than {MAX_SUBSTITUTIONS} $(...) in one value; the rest are left as they are"),
                );
                break;
            }
            done += 1;
            let name = &after[..end];
            out.push_str(&rest[..start]);
            match self.lookup(name) {
                Some(found) => out.push_str(&found),
                None => {
                    self.warn(
                        origin,
                        format!("variable '{name}' is not defined; '$({name})' is left as it is"),
                    );
                    out.push_str(&rest[start..start + 3 + end]);
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, name: &str) -> Option<String> {
        match self.entries.get(name) {
            Some(entry) => Some(entry.value()),
            None => std::env::var(name).ok(),
        }
    }

    fn store(&mut self, name: &str, is_list: bool, value: String, origin: Origin) {
        match self.entries.get_mut(name) {
            Some(entry) if is_list => entry.parts.push(Part { value, origin }),
            Some(entry) => {
                let previous = entry.value();
                let previous_origin = entry.origin().cloned();
                *entry = Entry::single(value.clone(), origin.clone());
                let from = match previous_origin {
                    Some(o) if o.file != PREDEFINED => format!(" (set at {o})"),
                    _ => String::new(),
                };
                self.warn(
                    &origin,
                    format!(
                        "duplicate '{name}': value '{previous}'{from} is replaced by '{value}'"
                    ),
                );
            }
            None => {
                self.entries
                    .insert(name.to_owned(), Entry::single(value, origin));
            }
        }
    }
}

/// `wroker.a.port`, `Worker.list`…: a variable that was meant as a worker property.
fn looks_like_worker_property(name: &str) -> bool {
    match name.split_once('.') {
        Some((first, _)) => suggest(first, ["worker"]).is_some(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Properties, ConfigError> {
        let mut props = Properties::new();
        props.parse_str(text, "w.properties")?;
        Ok(props)
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn warnings(props: &Properties) -> Vec<String> {
        props.warnings().iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn syntax_rules_give_expected_values() {
        // (file text, key, expected value)
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("worker.a.port=8009", "worker.a.port", Some("8009")),
            ("  worker.a.port  =  8009  ", "worker.a.port", Some("8009")),
            (
                "worker.a.port=8009 # the AJP port",
                "worker.a.port",
                Some("8009"),
            ),
            ("worker.a.host=h#comment=x", "worker.a.host", Some("h")),
            ("# worker.a.port=1", "worker.a.port", None),
            ("\t# indented comment", "worker.a.port", None),
            ("worker.a.port=", "worker.a.port", None),
            ("worker.a.secret=a=b", "worker.a.secret", Some("a=b")),
            ("worker.a.port=8009\r", "worker.a.port", Some("8009")),
            ("\u{feff}worker.list=a", "worker.list", Some("a")),
            (
                "root=/srv\nworker.a.host=$(root)/x",
                "worker.a.host",
                Some("/srv/x"),
            ),
            ("x=1\nworker.a.host=$(x)$(x)", "worker.a.host", Some("11")),
            (
                "worker.a.host=$(nope_not_defined_var)",
                "worker.a.host",
                Some("$(nope_not_defined_var)"),
            ),
            (
                "worker.a.host=$(unterminated",
                "worker.a.host",
                Some("$(unterminated"),
            ),
            ("worker.list=a\nworker.list=b", "worker.list", Some("a,b")),
            (
                "worker.a.mount=/x\nworker.a.mount=/y",
                "worker.a.mount",
                Some("/x,/y"),
            ),
            (
                "worker.a.port=1\nworker.a.port=2",
                "worker.a.port",
                Some("2"),
            ),
            (
                "worker.a.fail_on_status=500\nworker.a.fail_on_status=503",
                "worker.a.fail_on_status",
                Some("500,503"),
            ),
        ];
        for (text, key, expected) in cases {
            let props = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(props.get(key).as_deref(), *expected, "{text:?}");
        }
    }

    #[test]
    fn every_error_kind_names_file_and_line() {
        let cases = [
            ("\n\nworker.a.port 8009", "w.properties:3: expected 'name=value', found 'worker.a.port 8009'"),
            ("=8009", "w.properties:1: missing property name before '=' in '=8009'"),
            (
                "worker.list=a\nworker.a.sticky_sesion=1",
                "w.properties:2: unknown property 'worker.a.sticky_sesion'; did you mean 'sticky_session'?",
            ),
            ("worker.a.prot=1", "w.properties:1: unknown property 'worker.a.prot'; did you mean 'port'?"),
            ("worker.a.banana=1", "w.properties:1: unknown property 'worker.a.banana': 'banana' is not a worker attribute"),
            ("worker.lsit=a", "w.properties:1: unknown property 'worker.lsit'; did you mean 'worker.list'?"),
            ("worker.a.b.port=1", "w.properties:1: invalid worker name 'a.b' in 'worker.a.b.port': use 1 to 60 letters, digits, '_' or '-'"),
            ("worker.a@b.port=1", "w.properties:1: invalid worker name 'a@b' in 'worker.a@b.port': use 1 to 60 letters, digits, '_' or '-'"),
            ("worker..port=1", "w.properties:1: invalid worker name '' in 'worker..port': use 1 to 60 letters, digits, '_' or '-'"),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected, "{text:?}");
        }
    }

    #[test]
    fn overlong_line_is_rejected() {
        let text = format!("worker.a.host={}", "h".repeat(MAX_LINE_LEN));
        assert_eq!(
            error(&text),
            "w.properties:1: line is longer than 8192 characters"
        );
    }

    #[test]
    fn repeated_scalar_overwrites_with_warning() {
        let props = parse("worker.a.port=1\nworker.a.port=2").expect("parses");
        assert_eq!(
            warnings(&props),
            ["w.properties:2: duplicate 'worker.a.port': value '1' (set at w.properties:1) is replaced by '2'"]
        );
    }

    #[test]
    fn repeated_list_concatenates_without_warning() {
        let props = parse("worker.list=a\nworker.list=b,c").expect("parses");
        assert_eq!(props.get("worker.list").as_deref(), Some("a,b,c"));
        assert!(props.warnings().is_empty());
    }

    #[test]
    fn deprecated_names_are_accepted_with_warning() {
        let props = parse("worker.a.cachesize=10\nworker.a.cmd_line=x").expect("parses");
        assert_eq!(
            warnings(&props),
            [
                "w.properties:1: 'worker.a.cachesize' is deprecated; use 'connection_pool_size' instead",
                "w.properties:2: 'worker.a.cmd_line' is ignored: it belonged to the removed jni worker type",
            ]
        );
    }

    #[test]
    fn empty_value_is_ignored_with_warning() {
        let props = parse("worker.a.secret=").expect("parses");
        assert_eq!(props.get("worker.a.secret"), None);
        assert_eq!(
            warnings(&props),
            ["w.properties:1: 'worker.a.secret' has an empty value and is ignored"]
        );
    }

    #[test]
    fn predefined_variable_substitutes() {
        let mut props = Properties::new();
        props.define("ServerRoot", "/etc/httpd");
        props
            .parse_str("worker.a.host=$(ServerRoot)/x", "w")
            .expect("parses");
        assert_eq!(props.get("worker.a.host").as_deref(), Some("/etc/httpd/x"));
    }

    #[test]
    fn environment_variable_substitutes_when_no_property_matches() {
        let Ok(path) = std::env::var("PATH") else {
            return; // no PATH in this environment: nothing to compare with
        };
        let props = parse("worker.a.host=$(PATH)").expect("parses");
        assert_eq!(props.get("worker.a.host"), Some(path));
    }

    #[test]
    fn earlier_property_wins_over_environment() {
        let props = parse("PATH=mine\nworker.a.host=$(PATH)").expect("parses");
        assert_eq!(props.get("worker.a.host").as_deref(), Some("mine"));
    }

    #[test]
    fn substituted_text_is_not_substituted_again() {
        let props = parse("b=(a)\na=$$(b)\nworker.x.host=$(a)").expect("parses");
        // `a` becomes `$` + `(a)`; using it must not expand that `$(a)` once more.
        assert_eq!(props.get("a").as_deref(), Some("$(a)"));
        assert_eq!(props.get("worker.x.host").as_deref(), Some("$(a)"));
    }

    #[test]
    fn at_most_twenty_substitutions_per_value() {
        let text = format!("v=x\nworker.a.host={}", "$(v)".repeat(22));
        let props = parse(&text).expect("parses");
        let expected = format!("{}$(v)$(v)", "x".repeat(20));
        assert_eq!(props.get("worker.a.host"), Some(expected));
        assert!(warnings(&props)
            .iter()
            .any(|w| w.contains("more than 20 $(...)")));
    }

    #[test]
    fn undefined_variable_is_a_warning() {
        let props = parse("worker.a.host=$(no_such_variable_here)").expect("parses");
        assert_eq!(
            warnings(&props),
            ["w.properties:1: variable 'no_such_variable_here' is not defined; '$(no_such_variable_here)' is left as it is"]
        );
    }

    #[test]
    fn misspelt_worker_prefix_is_a_warning() {
        let props = parse("wroker.a.port=8009\nServerName=x").expect("parses");
        assert_eq!(
            warnings(&props),
            ["w.properties:1: 'wroker.a.port' does not start with 'worker.' so it only defines the variable $(wroker.a.port)"]
        );
    }

    #[test]
    fn add_line_uses_given_origin_and_strips_comment() {
        let mut props = Properties::new();
        props
            .add_line("worker.a.port = 8010 # note", Origin::new("httpd.conf", 12))
            .expect("parses");
        assert_eq!(props.get("worker.a.port").as_deref(), Some("8010"));
        assert_eq!(
            props.origin("worker.a.port"),
            Some(&Origin::new("httpd.conf", 12))
        );
        let err = props
            .add_line("worker.a.hots=x", Origin::new("httpd.conf", 13))
            .expect_err("typo");
        assert_eq!(
            err.to_string(),
            "httpd.conf:13: unknown property 'worker.a.hots'; did you mean 'host'?"
        );
    }

    #[test]
    fn missing_file_is_an_error_without_line() {
        let mut props = Properties::new();
        let err = props
            .parse_file(Path::new("/nonexistent/mod_jk_rs/workers.properties"))
            .expect_err("missing");
        assert!(err
            .to_string()
            .starts_with("/nonexistent/mod_jk_rs/workers.properties: cannot read workers file:"));
    }
}
