//! The uriworkermap.properties parser (`parse_uri_worker_map`), the mount map built from its
//! rules and the check of the rules against a fixed set of workers, as httpd's start-up runs
//! them; then a few URIs mapped.
//!
//! Invariants beyond "no panic": every rule's pattern starts with '/'; a rule written back as
//! `pattern=worker` reads back as the same rule; the rule `map` picks is enabled, not an
//! exclusion, and matches the URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_jk_rs::config::{Properties, Workers};
use mod_jk_rs::mount::{check_rules, normalize_uri, parse_uri_worker_map, MountMap};
use std::sync::OnceLock;

fn workers() -> &'static Workers {
    static WORKERS: OnceLock<Workers> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let mut props = Properties::new();
        props
            .parse_str(
                "worker.list=app,lb,jkstatus\n\
                 worker.app.port=8009\n\
                 worker.lb.type=lb\n\
                 worker.lb.balance_workers=node1,node2\n\
                 worker.node1.port=8010\n\
                 worker.node2.port=8011\n\
                 worker.hidden.port=8012\n\
                 worker.jkstatus.type=status\n",
                "workers.properties",
            )
            .expect("fixed workers");
        Workers::build(&props).expect("fixed workers")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The file's text, then (after a NUL, if any) URIs to map, one per line.
    let (map_text, uris) = text.split_once('\0').unwrap_or((&text, "/app/x.jsp\n/"));
    let Ok(rules) = parse_uri_worker_map(map_text, "uriworkermap.properties") else {
        return;
    };
    for rule in &rules {
        assert!(rule.pattern.starts_with('/'), "pattern {:?}", rule.pattern);
        let _ = rule.warnings.iter().map(ToString::to_string).count();
        // Written back without extensions, the rule reads back the same. A pattern still
        // holding '|' would be split again (only the first '|' is the X|Y shortcut), and one
        // ending in white space can only come from the shortcut (`/a |x`, as in mod_jk): a
        // line cannot say it.
        if !rule.pattern.contains('|') && rule.pattern.trim() == rule.pattern {
            let line = format!("{}={}", rule.display_pattern(), rule.worker);
            let again = parse_uri_worker_map(&line, "again")
                .unwrap_or_else(|e| panic!("rule {line:?} does not read back: {e}"));
            assert_eq!(again.len(), 1, "{line:?}");
            let back = &again[0];
            assert_eq!(
                (&back.pattern, &back.worker, back.exclusion, back.disabled),
                (&rule.pattern, &rule.worker, rule.exclusion, rule.disabled),
                "{line:?}"
            );
        }
    }
    let problems = check_rules(&rules, workers());
    let _ = problems.errors.len() + problems.warnings.len();
    let map = MountMap::new(rules);
    for uri in uris.lines().take(8) {
        let Ok(uri) = normalize_uri(uri) else {
            continue;
        };
        if let Some(rule) = map.map(&uri) {
            assert!(!rule.disabled && !rule.exclusion, "{rule:?}");
            assert!(rule.matches(&uri), "{rule:?} picked for {uri:?}");
        }
    }
});
