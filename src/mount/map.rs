//! The mount map (mod_jk reference §3.2): rules sorted by precedence — more '/' first, then
//! longer patterns, then uriworkermap before JkMount before worker definitions, then source
//! order — and the lookup: the first enabled mount that matches wins unless an enabled
//! exclusion for the same worker (or `*`) matches too.

use std::cmp::Ordering;

use super::rule::MountRule;

/// URIs this long or longer are never mapped (mod_jk `JK_MAX_URI_LEN`, CVE-2007-0774).
pub const MAX_URI_LEN: usize = 4095;

/// Rules sorted by mod_jk's precedence (§3.2); matching as §3.2 (first enabled non-exclusion match, then any exclusion for the same worker or `*` cancels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountMap {
    rules: Vec<MountRule>,
    /// How `rules[i]` matches (computed once, not per request).
    shapes: Vec<Shape>,
}

/// A pattern's shape: most are a plain path or have one `*` (`/app/*`, `/*.jsp`), which
/// need no wildcard walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No `*` or `?`: the URI is the pattern.
    Exact,
    /// One `*`, at this index, and no `?`: the URI starts with what is before it and ends
    /// with what is after it, without the two overlapping.
    OneStar(usize),
    /// Anything else: [`wildcard_match`].
    General,
}

impl Shape {
    fn of(pattern: &str) -> Shape {
        if pattern.contains('?') {
            return Shape::General;
        }
        let mut stars = pattern.match_indices('*');
        match (stars.next(), stars.next()) {
            (None, _) => Shape::Exact,
            (Some((at, _)), None) => Shape::OneStar(at),
            _ => Shape::General,
        }
    }

    fn matches(self, pattern: &str, uri: &str) -> bool {
        match self {
            Shape::Exact => pattern == uri,
            Shape::OneStar(at) => {
                let (head, tail) = (&pattern.as_bytes()[..at], &pattern.as_bytes()[at + 1..]);
                let uri = uri.as_bytes();
                uri.len() >= head.len() + tail.len() && uri.starts_with(head) && uri.ends_with(tail)
            }
            Shape::General => wildcard_match(pattern, uri),
        }
    }
}

fn slashes(pattern: &str) -> usize {
    pattern.bytes().filter(|&b| b == b'/').count()
}

/// §3.2 step 1. Ties keep their given order (the sort is stable).
fn precedence(a: &MountRule, b: &MountRule) -> Ordering {
    slashes(&b.pattern)
        .cmp(&slashes(&a.pattern))
        .then_with(|| b.pattern.len().cmp(&a.pattern.len()))
        .then_with(|| a.source.cmp(&b.source))
}

impl MountMap {
    pub fn new(mut rules: Vec<MountRule>) -> MountMap {
        rules.sort_by(precedence);
        let shapes = rules.iter().map(|r| Shape::of(&r.pattern)).collect();
        MountMap { rules, shapes }
    }

    /// In precedence order.
    pub fn rules(&self) -> &[MountRule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `uri` must already be normalised; URIs of 4095 bytes or more are never mapped.
    pub fn map(&self, uri: &str) -> Option<&MountRule> {
        self.find(uri).and_then(|i| self.rules.get(i))
    }

    /// Like [`MountMap::map`], as the index of the rule in [`MountMap::rules`].
    pub fn find(&self, uri: &str) -> Option<usize> {
        if uri.len() >= MAX_URI_LEN || !uri.starts_with('/') {
            return None;
        }
        let mut enabled = self
            .rules
            .iter()
            .zip(&self.shapes)
            .enumerate()
            .filter(|(_, (rule, _))| !rule.disabled);
        let (index, found) = enabled
            .clone()
            .find(|(_, (rule, shape))| !rule.exclusion && shape.matches(&rule.pattern, uri))
            .map(|(i, (rule, _))| (i, rule))?;
        let cancelled = enabled.any(|(_, (rule, shape))| {
            rule.exclusion
                && (rule.worker == found.worker || rule.worker == "*")
                && shape.matches(&rule.pattern, uri)
        });
        if cancelled {
            None
        } else {
            Some(index)
        }
    }
}

/// `*` matches any run of bytes (including '/' and none), `?` exactly one byte, anything
/// else itself (case-sensitive). Iterative with one backtrack point, so a pattern with many
/// `*` cannot make a request slow (mod_jk's recursive matcher can).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.as_bytes();
    let text = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    // After the last '*' seen: where the pattern resumes and where the text resumes.
    let mut retry: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(b'*'), _) => {
                p += 1;
                retry = Some((p, t));
            }
            (Some(&want), Some(&got)) if want == b'?' || want == got => {
                p += 1;
                t += 1;
            }
            _ => match retry {
                // Let the last '*' swallow one more byte and try again from there.
                Some((after_star, star_text)) => {
                    p = after_star;
                    t = star_text + 1;
                    retry = Some((after_star, t));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;
    use crate::mount::{parse_mount, MountSource};

    fn rules(specs: &[(&str, &str, MountSource)]) -> Vec<MountRule> {
        let mut rules = Vec::new();
        for (line, (pattern, worker, source)) in specs.iter().enumerate() {
            let origin = Origin::new("t", line + 1);
            rules.extend(parse_mount(pattern, worker, *source, origin, false).expect("valid rule"));
        }
        rules
    }

    fn jk(specs: &[(&str, &str)]) -> MountMap {
        let specs: Vec<(&str, &str, MountSource)> = specs
            .iter()
            .map(|(p, w)| (*p, *w, MountSource::JkMount))
            .collect();
        MountMap::new(rules(&specs))
    }

    /// (uri, expected worker or None) against one map.
    fn check(map: &MountMap, cases: &[(&str, Option<&str>)]) {
        for (uri, expected) in cases {
            let found = map.map(uri).map(|r| r.worker.as_str());
            assert_eq!(found, *expected, "{uri}");
        }
    }

    #[test]
    fn wildcard_edge_cases() {
        let cases = [
            ("/*", "/", true),
            ("/*", "/a/b/c", true),
            ("/*", "", false),
            ("/app/*", "/app/", true),
            ("/app/*", "/app", false),
            ("/app*", "/app", true),
            ("/app*", "/application/x", true),
            ("/*.jsp", "/a/b/x.jsp", true),
            ("/*.jsp", "/a/b/x.jspx", false),
            ("/*.jsp", "/x.jsp/y", false),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("/a?c", "/abbc", false),
            ("/a?", "/a", false),
            ("/a?", "/a/", true),
            ("/**", "/x", true),
            ("/*/*/x", "/a/b/x", true),
            ("/*/*/x", "/a/x", false),
            (
                "/*a*a*a*a*a*a*b",
                "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("/*ab*", "/aab", true),
            ("/App/*", "/app/x", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                wildcard_match(pattern, text),
                expected,
                "{pattern} ~ {text}"
            );
            assert_eq!(
                Shape::of(pattern).matches(pattern, text),
                expected,
                "shape of {pattern} ~ {text}"
            );
        }
    }

    /// The shapes' shortcuts agree with the wildcard walk on every pattern and URI of up to
    /// 5 bytes made of '/', 'a', '*' and '?'.
    #[test]
    fn shapes_match_as_the_wildcard_walk_does() {
        let mut all = vec![String::new()];
        let mut level = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &level {
                for c in ['/', 'a', '*', '?'] {
                    next.push(format!("{s}{c}"));
                }
            }
            all.extend(next.iter().cloned());
            level = next;
        }
        let uris: Vec<&String> = all.iter().filter(|u| !u.contains(['*', '?'])).collect();
        for pattern in &all {
            let shape = Shape::of(pattern);
            for uri in &uris {
                assert_eq!(
                    shape.matches(pattern, uri),
                    wildcard_match(pattern, uri),
                    "{pattern} ~ {uri} ({shape:?})"
                );
            }
        }
    }

    #[test]
    fn exact_pattern_matches_only_the_whole_uri() {
        let map = jk(&[("/app", "w")]);
        check(
            &map,
            &[
                ("/app", Some("w")),
                ("/app/", None),
                ("/app/x", None),
                ("/ap", None),
            ],
        );
    }

    #[test]
    fn more_slashes_win_over_longer_pattern() {
        // "/a/b/*" has 3 slashes, "/averyverylongname*" has 1 but is longer.
        let map = jk(&[
            ("/averyverylongname*", "long"),
            ("/a/b/*", "deep"),
            ("/*", "root"),
        ]);
        check(
            &map,
            &[
                ("/a/b/c", Some("deep")),
                ("/averyverylongname/a/b/c", Some("long")),
                ("/x", Some("root")),
            ],
        );
        // The rule with 3 slashes wins even though both match.
        let map = jk(&[("/a*", "one_slash"), ("/a/b/*", "three")]);
        check(&map, &[("/a/b/x", Some("three"))]);
    }

    #[test]
    fn same_slashes_longer_pattern_wins() {
        let map = jk(&[("/app/*", "short"), ("/app/*.jsp", "long")]);
        check(
            &map,
            &[("/app/x.jsp", Some("long")), ("/app/x.html", Some("short"))],
        );
    }

    #[test]
    fn exact_rule_wins_over_shorter_wildcard_with_same_slashes() {
        let map = jk(&[("/app/*", "wild"), ("/app/login", "exact")]);
        check(
            &map,
            &[("/app/login", Some("exact")), ("/app/other", Some("wild"))],
        );
    }

    #[test]
    fn equal_patterns_prefer_uriworkermap_then_jkmount_then_worker_definition() {
        let map = MountMap::new(rules(&[
            ("/app/*", "from_def", MountSource::WorkerDefinition),
            ("/app/*", "from_jkmount", MountSource::JkMount),
            ("/app/*", "from_map", MountSource::UriWorkerMap),
        ]));
        check(&map, &[("/app/x", Some("from_map"))]);
        let map = MountMap::new(rules(&[
            ("/app/*", "from_def", MountSource::WorkerDefinition),
            ("/app/*", "from_jkmount", MountSource::JkMount),
        ]));
        check(&map, &[("/app/x", Some("from_jkmount"))]);
    }

    #[test]
    fn equal_patterns_from_one_source_keep_their_order() {
        let map = jk(&[("/app/*", "first"), ("/app/*", "second")]);
        check(&map, &[("/app/x", Some("first"))]);
        let order: Vec<usize> = map.rules().iter().map(|r| r.origin.line).collect();
        assert_eq!(order, [1, 2]);
    }

    #[test]
    fn exclusion_for_same_worker_cancels() {
        let map = jk(&[("/app/*", "w"), ("!/app/*.gif", "w")]);
        check(&map, &[("/app/a.gif", None), ("/app/a.jsp", Some("w"))]);
    }

    #[test]
    fn exclusion_for_other_worker_does_not_cancel() {
        let map = jk(&[("/app/*", "w"), ("!/app/*.gif", "other")]);
        check(&map, &[("/app/a.gif", Some("w"))]);
    }

    #[test]
    fn exclusion_for_every_worker_cancels() {
        let map = jk(&[("/app/*", "w"), ("/*.gif", "img"), ("!/*.gif", "*")]);
        check(
            &map,
            &[
                ("/app/a.gif", None),
                ("/a.gif", None),
                ("/app/a.jsp", Some("w")),
            ],
        );
    }

    #[test]
    fn exclusion_cancels_even_when_less_specific_than_the_mount() {
        // mod_jk checks every exclusion, not only those sorted before the match.
        let map = jk(&[("/app/deep/path/*", "w"), ("!/*", "w")]);
        check(&map, &[("/app/deep/path/x", None)]);
    }

    #[test]
    fn exclusion_cancels_the_match_and_does_not_fall_through() {
        // The first match is cancelled; a later rule for another worker is not tried.
        let map = jk(&[("/app/*", "w"), ("/*", "fallback"), ("!/app/x", "w")]);
        check(&map, &[("/app/x", None), ("/other", Some("fallback"))]);
    }

    #[test]
    fn disabled_rules_are_ignored() {
        let map = jk(&[("-/app/*", "w"), ("/*", "root"), ("-!/*", "root")]);
        check(&map, &[("/app/x", Some("root"))]);
        assert_eq!(map.rules().len(), 3, "disabled rules stay visible");
    }

    #[test]
    fn shortcut_maps_the_directory_and_its_contents() {
        let map = jk(&[("/app|/*", "w")]);
        check(
            &map,
            &[("/app", Some("w")), ("/app/x", Some("w")), ("/apple", None)],
        );
    }

    #[test]
    fn uri_of_4095_bytes_or_more_is_never_mapped() {
        let map = jk(&[("/*", "w")]);
        let just_below = format!("/{}", "a".repeat(MAX_URI_LEN - 2));
        assert_eq!(just_below.len(), 4094);
        check(&map, &[(just_below.as_str(), Some("w"))]);
        let at_limit = format!("/{}", "a".repeat(MAX_URI_LEN - 1));
        let far_above = format!("/{}", "a".repeat(65_535));
        check(
            &map,
            &[(at_limit.as_str(), None), (far_above.as_str(), None)],
        );
    }

    #[test]
    fn uri_without_leading_slash_is_never_mapped() {
        let map = jk(&[("/*", "w")]);
        check(&map, &[("*", None), ("", None)]);
    }

    #[test]
    fn cve_2014_8111_double_slash_does_not_bypass_unmount() {
        let map = jk(&[("/app/*", "w"), ("!/app/secret/*", "w")]);
        for uri in [
            "/app//secret/x",
            "/app///secret/x",
            "/app/./secret/x",
            "/app/secret;x/y",
        ] {
            let normal = crate::mount::normalize_uri(uri).expect("normalises");
            assert_eq!(map.map(&normal).map(|r| r.worker.as_str()), None, "{uri}");
        }
    }

    #[test]
    fn cve_2018_11759_status_worker_tricks_map_like_the_plain_uri() {
        let map = jk(&[("/jkstatus", "status"), ("/app/*", "app")]);
        for (uri, expected) in [
            ("/jkstatus;", Some("status")),
            ("/x/../jkstatus", Some("status")),
            ("//jkstatus", Some("status")),
            ("/./jkstatus", Some("status")),
            ("/app/..;/manager/html", None),
        ] {
            let normal = crate::mount::normalize_uri(uri).expect("normalises");
            assert_eq!(
                map.map(&normal).map(|r| r.worker.as_str()),
                expected,
                "{uri}"
            );
        }
    }

    #[test]
    fn extensions_come_with_the_matched_rule() {
        let map = jk(&[("/app/*", "w;reply_timeout=5000")]);
        let rule = map.map("/app/x").expect("mapped");
        assert_eq!(rule.extensions.reply_timeout, Some(5000));
    }
}
