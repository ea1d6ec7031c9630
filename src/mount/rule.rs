//! One mount rule and the three ways to write it (mod_jk reference §3.1): JkMount/JkUnMount
//! arguments, uriworkermap.properties lines and `worker.<name>.mount` patterns; plus the
//! cross-check of rules against the configured workers.

use std::fmt;

use super::extensions::RuleExtensions;
use crate::config::{did_you_mean, is_valid_worker_name, ConfigError, Origin, WorkerDef, Workers};

/// Where a rule came from. The order is mod_jk's precedence for otherwise equal rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MountSource {
    UriWorkerMap,
    JkMount,
    WorkerDefinition,
}

impl fmt::Display for MountSource {
    /// The names the status page shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MountSource::UriWorkerMap => "uriworkermap",
            MountSource::JkMount => "JkMount",
            MountSource::WorkerDefinition => "worker definition",
        })
    }
}

/// One URI pattern → worker rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRule {
    /// Starts with '/'; `*` matches any run of characters (also '/'), `?` exactly one byte.
    /// Without either it must equal the whole URI. The `-`/`!` prefixes are not part of it.
    pub pattern: String,
    /// Worker name; `*` (exclusions only) means every worker.
    pub worker: String,
    /// JkUnMount or a `!` prefix: cancels matches of the same worker (or of every worker).
    pub exclusion: bool,
    /// A `-` prefix: the rule is kept (the status page shows it) but never used.
    pub disabled: bool,
    pub source: MountSource,
    pub origin: crate::config::Origin,
    pub extensions: RuleExtensions,
    /// Unknown or repeated extensions and replaced duplicates; only on the first rule of an
    /// `X|Y` pair, so each is reported once.
    pub warnings: Vec<ConfigError>,
}

impl MountRule {
    /// Has `*` or `?` (status page: "Wildchar" instead of "Exact").
    pub fn is_wildcard(&self) -> bool {
        self.pattern.contains(['*', '?'])
    }

    /// Does this rule's pattern match `uri` (ignoring `disabled` and `exclusion`)?
    pub fn matches(&self, uri: &str) -> bool {
        if self.is_wildcard() {
            super::map::wildcard_match(&self.pattern, uri)
        } else {
            self.pattern == uri
        }
    }

    /// The pattern as written, with its `-` and `!` prefixes.
    pub fn display_pattern(&self) -> String {
        let mut text = String::with_capacity(self.pattern.len() + 2);
        if self.disabled {
            text.push('-');
        }
        if self.exclusion {
            text.push('!');
        }
        text.push_str(&self.pattern);
        text
    }
}

/// Parse `<pattern> <worker>[;ext=v...]` as given to JkMount (exclusion=true for JkUnMount, which may name worker `*`).
/// Handles `-` and `!` prefixes, the `X|Y` shortcut (returns 2 rules), rejects a pattern not starting with '/'.
pub fn parse_mount(
    pattern: &str,
    worker_and_ext: &str,
    source: MountSource,
    origin: Origin,
    exclusion: bool,
) -> Result<Vec<MountRule>, ConfigError> {
    let written = pattern.trim();
    let (disabled, rest) = match written.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, written),
    };
    let (excluded, rest) = match rest.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let exclusion = exclusion || excluded;
    let patterns: Vec<String> = match rest.split_once('|') {
        Some((first, second)) => vec![first.to_owned(), format!("{first}{second}")],
        None => vec![rest.to_owned()],
    };
    if !patterns.iter().all(|p| p.starts_with('/')) {
        let hint = if rest.starts_with(['*', '?']) {
            format!(" (write '/{rest}')")
        } else {
            String::new()
        };
        return Err(ConfigError::new(
            &origin,
            format!("mount pattern '{written}' must start with '/'{hint}"),
        ));
    }

    let mut parts = worker_and_ext.split(';');
    let worker = parts.next().unwrap_or("").trim();
    if worker.is_empty() {
        return Err(ConfigError::new(
            &origin,
            format!("mount pattern '{written}' has no worker"),
        ));
    }
    if worker == "*" {
        if !exclusion {
            return Err(ConfigError::new(
                &origin,
                format!("worker '*' in mount of '{written}' is only allowed for exclusions (JkUnMount or a '!' pattern)"),
            ));
        }
    } else if !is_valid_worker_name(worker) {
        return Err(ConfigError::new(
            &origin,
            format!("invalid worker name '{worker}' in mount of '{written}'"),
        ));
    }
    let mut warnings = Vec::new();
    let extensions = RuleExtensions::parse(parts, &origin, &mut warnings)?;

    let mut rules = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        rules.push(MountRule {
            pattern,
            worker: worker.to_owned(),
            exclusion,
            disabled,
            source,
            origin: origin.clone(),
            extensions: extensions.clone(),
            warnings: std::mem::take(&mut warnings),
        });
    }
    Ok(rules)
}

/// A whole uriworkermap.properties text (`pattern=worker[;ext...]` lines, `#` comments).
///
/// As in mod_jk a repeated pattern (same text, prefixes included) replaces the earlier line,
/// with a warning on the new rule. Unlike mod_jk, `$(var)` is not substituted.
pub fn parse_uri_worker_map(text: &str, file: &str) -> Result<Vec<MountRule>, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // (pattern as written, its rules), in first-seen order.
    let mut lines: Vec<(String, Vec<MountRule>)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let origin = Origin::new(file, index + 1);
        let content = match line.split_once('#') {
            Some((before, _comment)) => before,
            None => line,
        }
        .trim();
        if content.is_empty() {
            continue;
        }
        let Some((pattern, worker)) = content.split_once('=') else {
            return Err(ConfigError::new(
                &origin,
                format!("expected 'pattern=worker', found '{content}'"),
            ));
        };
        let pattern = pattern.trim();
        let mut rules = parse_mount(
            pattern,
            worker,
            MountSource::UriWorkerMap,
            origin.clone(),
            false,
        )?;
        match lines.iter_mut().find(|(written, _)| written == pattern) {
            Some((_, previous)) => {
                let first = previous
                    .first()
                    .map(|r| r.origin.to_string())
                    .unwrap_or_default();
                if let Some(rule) = rules.first_mut() {
                    rule.warnings.push(ConfigError::new(
                        &origin,
                        format!("pattern '{pattern}' was already mapped at {first}; this line replaces it"),
                    ));
                }
                *previous = rules;
            }
            None => lines.push((pattern.to_owned(), rules)),
        }
    }
    Ok(lines.into_iter().flat_map(|(_, rules)| rules).collect())
}

/// The `worker.<name>.mount` patterns of listed workers as rules (source "worker
/// definition"); every bad pattern is reported.
pub fn worker_definition_rules(workers: &Workers) -> Result<Vec<MountRule>, Vec<ConfigError>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for mount in &workers.mounts {
        match parse_mount(
            &mount.pattern,
            &mount.worker,
            MountSource::WorkerDefinition,
            mount.origin.clone(),
            false,
        ) {
            Ok(parsed) => rules.extend(parsed),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// What [`check_rules`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleProblems {
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<ConfigError>,
}

/// Checks rules against the workers. A mount naming a worker that is defined but not in
/// worker.list, or a near-miss of a listed name (a typo), is an error: mod_jk would leave such
/// URIs to httpd or answer 500. A mount naming a worker defined nowhere and close to no listed
/// name is a warning, because stock configurations ship such mounts (Debian's `jk.conf` mounts
/// `jk-status` and `jk-manager` for workers the user is expected to add) and mod_jk starts with
/// them; those URIs answer 500 until the worker exists. Disabled rules and exclusions only warn.
/// lb-only extensions on other workers and activation lists naming non-members are warnings
/// (mod_jk ignores them).
pub fn check_rules(rules: &[MountRule], workers: &Workers) -> RuleProblems {
    let mut found = RuleProblems::default();
    for rule in rules {
        if rule.worker == "*" {
            continue;
        }
        if !workers.is_listed(&rule.worker) {
            let defined =
                workers.get(&rule.worker).is_some() || workers.configured.contains(&rule.worker);
            let hint = did_you_mean(&rule.worker, workers.list.iter().map(String::as_str), "");
            let why = if defined {
                " (only workers in worker.list can be mapped)".to_owned()
            } else if hint.is_empty() && !(rule.disabled || rule.exclusion) {
                " and is not defined; its requests will get 500 until it is".to_owned()
            } else {
                hint.clone()
            };
            let message = format!(
                "{} '{}' names worker '{}', which is not in worker.list{why}",
                rule.source,
                rule.display_pattern(),
                rule.worker
            );
            if rule.disabled || rule.exclusion || (!defined && hint.is_empty()) {
                found.warnings.push(ConfigError::new(&rule.origin, message));
            } else {
                found.errors.push(ConfigError::new(&rule.origin, message));
            }
            continue;
        }
        let ext = &rule.extensions;
        match workers.get(&rule.worker) {
            Some(WorkerDef::Lb(lb)) => {
                for (list, name) in [
                    (&ext.active, "active"),
                    (&ext.disabled, "disabled"),
                    (&ext.stopped, "stopped"),
                ] {
                    for member in list {
                        if !lb.members.contains(member) {
                            found.warnings.push(ConfigError::new(
                                &rule.origin,
                                format!("rule extension {name}={member} is ignored: '{member}' is not a member of lb worker '{}'", lb.name),
                            ));
                        }
                    }
                }
            }
            Some(def) if ext.has_lb_settings() => {
                found.warnings.push(ConfigError::new(
                    &rule.origin,
                    format!(
                        "activation and session rule extensions are ignored: worker '{}' has type {}, not lb",
                        rule.worker,
                        def.type_name()
                    ),
                ));
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Properties;

    fn origin() -> Origin {
        Origin::new("httpd.conf", 9)
    }

    fn mount(pattern: &str, worker: &str) -> Result<Vec<MountRule>, String> {
        parse_mount(pattern, worker, MountSource::JkMount, origin(), false)
            .map_err(|e| e.to_string())
    }

    /// (pattern, worker, exclusion, disabled)
    type Summary = (String, String, bool, bool);

    fn summary(rules: &[MountRule]) -> Vec<Summary> {
        rules
            .iter()
            .map(|r| (r.pattern.clone(), r.worker.clone(), r.exclusion, r.disabled))
            .collect()
    }

    fn s(pattern: &str, worker: &str, exclusion: bool, disabled: bool) -> Summary {
        (pattern.to_owned(), worker.to_owned(), exclusion, disabled)
    }

    #[test]
    fn prefixes_and_shortcut() {
        let cases: &[(&str, &str, Vec<Summary>)] = &[
            ("/app/*", "w", vec![s("/app/*", "w", false, false)]),
            ("-/app/*", "w", vec![s("/app/*", "w", false, true)]),
            ("!/app/*.gif", "w", vec![s("/app/*.gif", "w", true, false)]),
            ("-!/app/*.gif", "w", vec![s("/app/*.gif", "w", true, true)]),
            ("!/static/*", "*", vec![s("/static/*", "*", true, false)]),
            (
                "/app|/*",
                "w",
                vec![s("/app", "w", false, false), s("/app/*", "w", false, false)],
            ),
            (
                "-!/app|/*",
                "w",
                vec![s("/app", "w", true, true), s("/app/*", "w", true, true)],
            ),
        ];
        for (pattern, worker, expected) in cases {
            let rules = mount(pattern, worker).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(summary(&rules), *expected, "{pattern}");
        }
    }

    #[test]
    fn jk_unmount_is_an_exclusion_and_may_name_every_worker() {
        let rules =
            parse_mount("/app/img/*", "*", MountSource::JkMount, origin(), true).expect("valid");
        assert_eq!(summary(&rules), [s("/app/img/*", "*", true, false)]);
    }

    #[test]
    fn bad_mounts_are_errors_with_origin() {
        let cases = [
            ("*.jsp", "w", "httpd.conf:9: mount pattern '*.jsp' must start with '/' (write '/*.jsp')"),
            ("app/*", "w", "httpd.conf:9: mount pattern 'app/*' must start with '/'"),
            ("!*.gif", "w", "httpd.conf:9: mount pattern '!*.gif' must start with '/' (write '/*.gif')"),
            ("|/*", "w", "httpd.conf:9: mount pattern '|/*' must start with '/'"),
            ("/app/*", "", "httpd.conf:9: mount pattern '/app/*' has no worker"),
            ("/app/*", ";reply_timeout=1", "httpd.conf:9: mount pattern '/app/*' has no worker"),
            ("/app/*", "*", "httpd.conf:9: worker '*' in mount of '/app/*' is only allowed for exclusions (JkUnMount or a '!' pattern)"),
            ("/app/*", "a.b", "httpd.conf:9: invalid worker name 'a.b' in mount of '/app/*'"),
            ("/app/*", "w;reply_timeout=x", "httpd.conf:9: bad value 'x' for rule extension 'reply_timeout': expected a whole number of milliseconds"),
        ];
        for (pattern, worker, expected) in cases {
            assert_eq!(
                mount(pattern, worker),
                Err(expected.to_owned()),
                "{pattern} {worker}"
            );
        }
    }

    #[test]
    fn extensions_follow_the_worker_and_apply_to_both_shortcut_rules() {
        let rules = mount("/app|/*", "lb;reply_timeout=5000;bogus=1").expect("valid");
        assert_eq!(rules.len(), 2);
        assert!(rules
            .iter()
            .all(|r| r.extensions.reply_timeout == Some(5000)));
        assert_eq!(rules[0].warnings.len(), 1);
        assert!(rules[1].warnings.is_empty());
    }

    #[test]
    fn display_pattern_restores_prefixes() {
        let rules = mount("-!/x/*", "w").expect("valid");
        assert_eq!(rules[0].display_pattern(), "-!/x/*");
        assert!(rules[0].is_wildcard());
        assert!(!mount("/x", "w").expect("valid")[0].is_wildcard());
    }

    #[test]
    fn uri_worker_map_file_parses_with_lines() {
        let text = "# mounts\n\
                    /app|/*=lb # the app\n\
                    \n\
                    !/app/*.gif=lb\n\
                    -/old/*=lb;reply_timeout=100\n\
                    /status=jkstatus\n";
        let rules = parse_uri_worker_map(text, "uriworkermap.properties").expect("valid");
        let lines: Vec<(String, usize, MountSource)> = rules
            .iter()
            .map(|r| (r.display_pattern(), r.origin.line, r.source))
            .collect();
        let u = MountSource::UriWorkerMap;
        assert_eq!(
            lines,
            [
                ("/app".to_owned(), 2, u),
                ("/app/*".to_owned(), 2, u),
                ("!/app/*.gif".to_owned(), 4, u),
                ("-/old/*".to_owned(), 5, u),
                ("/status".to_owned(), 6, u),
            ]
        );
        assert_eq!(rules[3].extensions.reply_timeout, Some(100));
    }

    #[test]
    fn uri_worker_map_errors_name_the_line() {
        let cases = [
            ("/a=w\n/b w", "u:2: expected 'pattern=worker', found '/b w'"),
            (
                "/a=w\n\n*.jsp=w",
                "u:3: mount pattern '*.jsp' must start with '/' (write '/*.jsp')",
            ),
            ("/a=", "u:1: mount pattern '/a' has no worker"),
        ];
        for (text, expected) in cases {
            let found = parse_uri_worker_map(text, "u").map_err(|e| e.to_string());
            assert_eq!(found.map(|r| r.len()), Err(expected.to_owned()), "{text:?}");
        }
    }

    #[test]
    fn repeated_uri_worker_map_pattern_replaces_the_earlier_line() {
        let rules = parse_uri_worker_map("/a/*=w1\n/b=w\n/a/*=w2", "u").expect("valid");
        let found: Vec<(&str, &str)> = rules
            .iter()
            .map(|r| (r.pattern.as_str(), r.worker.as_str()))
            .collect();
        assert_eq!(found, [("/a/*", "w2"), ("/b", "w")]);
        assert_eq!(
            rules[0]
                .warnings
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>(),
            ["u:3: pattern '/a/*' was already mapped at u:1; this line replaces it"]
        );
    }

    fn workers(text: &str) -> Workers {
        let mut props = Properties::new();
        props.parse_str(text, "w").expect("parses");
        Workers::build(&props).expect("builds")
    }

    #[test]
    fn worker_definition_mounts_become_rules() {
        let workers = workers("worker.list=a\nworker.a.mount=/a|/* !/a/x bad");
        let found = worker_definition_rules(&workers)
            .map_err(|e| e.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            found,
            Err(vec![
                "w:2: mount pattern 'bad' must start with '/'".to_owned()
            ])
        );

        let workers = workers_ok();
        let rules = worker_definition_rules(&workers).expect("valid");
        assert_eq!(
            summary(&rules),
            [
                s("/a", "a", false, false),
                s("/a/*", "a", false, false),
                s("/a/x", "a", true, false)
            ]
        );
        assert!(rules
            .iter()
            .all(|r| r.source == MountSource::WorkerDefinition));
    }

    fn workers_ok() -> Workers {
        workers("worker.list=a\nworker.a.mount=/a|/* !/a/x")
    }

    #[test]
    fn rules_are_checked_against_the_workers() {
        let workers = workers(
            "worker.list=lb,app\nworker.lb.type=lb\nworker.lb.balance_workers=m1,m2\n\
             worker.m1.port=1\nworker.m2.port=2\nworker.app.port=3",
        );
        let mut rules = Vec::new();
        for (pattern, worker) in [
            ("/ok/*", "lb;active=m1;stopped=m3"),
            ("/x/*", "ap"),
            ("/y/*", "m1"),
            ("-/z/*", "nobody"),
            ("!/q/*", "nobody"),
            ("!/all/*", "*"),
            ("/s/*", "app;session_cookie=SID"),
            ("/jk-status", "jk-status"),
        ] {
            rules.extend(mount(pattern, worker).expect("valid"));
        }
        let found = check_rules(&rules, &workers);
        let text = |v: &[ConfigError]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
        assert_eq!(
            text(&found.errors),
            [
                "httpd.conf:9: JkMount '/x/*' names worker 'ap', which is not in worker.list; did you mean 'app'?",
                "httpd.conf:9: JkMount '/y/*' names worker 'm1', which is not in worker.list (only workers in worker.list can be mapped)",
            ]
        );
        assert_eq!(
            text(&found.warnings),
            [
                "httpd.conf:9: rule extension stopped=m3 is ignored: 'm3' is not a member of lb worker 'lb'",
                "httpd.conf:9: JkMount '-/z/*' names worker 'nobody', which is not in worker.list",
                "httpd.conf:9: JkMount '!/q/*' names worker 'nobody', which is not in worker.list",
                "httpd.conf:9: activation and session rule extensions are ignored: worker 'app' has type ajp13, not lb",
                "httpd.conf:9: JkMount '/jk-status' names worker 'jk-status', which is not in worker.list and is not defined; its requests will get 500 until it is",
            ]
        );
    }
}
