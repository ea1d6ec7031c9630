//! The workers.properties reader and builder: `Properties::parse_str`, `Workers::build`, the
//! `worker.<name>.mount` rules, the rule check and the runtime a configuration generation
//! builds from it (shared-memory layout and records included), as httpd's start-up runs them.
//!
//! Invariant beyond "no panic": the properties as read (`lines_as_read`, the status worker's
//! `cmd=dump`) read back to the same properties and build the same workers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_jk_rs::config::{Properties, Workers};
use mod_jk_rs::mount::{check_rules, worker_definition_rules};
use mod_jk_rs::proxy::Runtime;

fn read(text: &str) -> Option<Properties> {
    let mut props = Properties::new();
    props.define("ServerRoot", "/srv/httpd");
    props.parse_str(text, "workers.properties").ok()?;
    Some(props)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some(props) = read(&text) else {
        return;
    };
    let _ = props.warnings().iter().map(ToString::to_string).count();
    let built = Workers::build(&props);
    if let Ok(workers) = &built {
        if let Ok(rules) = worker_definition_rules(workers) {
            let _ = check_rules(&rules, workers);
        }
        // Shared memory records and backends for every worker (an anonymous mapping).
        if let Ok(runtime) = Runtime::new(workers.clone(), 2, None, None) {
            for name in &workers.list {
                let _ = runtime.target(name).map(|t| t.type_name());
            }
        }
    }

    // Round trip through the dump. `$(…)` is left out: a value substituted once may hold a
    // new `$(…)` that a second reading would substitute again (as in mod_jk).
    if text.contains("$(") {
        return;
    }
    let dump = props.lines_as_read();
    if dump.iter().any(|line| line.chars().count() > 8192) {
        return; // list parts joined with ',' may exceed the line limit; not a property of a file
    }
    // A first line that is a comment, so a U+FEFF starting a key is not taken as a BOM.
    let again_text = format!("# dump\n{}\n", dump.join("\n"));
    let again = read(&again_text).expect("the dump of valid properties must read back");
    let keys: Vec<&str> = props.keys().collect();
    let again_keys: Vec<&str> = again.keys().collect();
    assert_eq!(keys, again_keys, "dump round trip changed the keys");
    for key in keys {
        assert_eq!(
            props.get(key),
            again.get(key),
            "dump round trip changed {key}"
        );
    }
    match (&built, Workers::build(&again)) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first.list, second.list);
            assert_eq!(first.maintain, second.maintain);
            assert_eq!(
                first.defs, second.defs,
                "dump round trip changed the workers"
            );
            assert_eq!(first.configured, second.configured);
        }
        (Err(_), Err(_)) => {}
        (first, second) => panic!(
            "dump round trip changed the verdict: {:?} then {:?}",
            first.as_ref().map(|_| ()),
            second.map(|_| ())
        ),
    }
});
