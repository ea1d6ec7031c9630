//! `apachectl -t` on a corpus of broken configurations: every directory of `tests/bad-configs/`
//! is one mistake, and httpd must refuse it with output naming the culprit's `file:line`.
//!
//! A case directory holds `httpd.conf.fragment` (the `Jk*` lines for the main server; `{dir}`
//! is the server directory), any `workers.properties` or other files it names, and `expected`:
//! text that must appear in the `apachectl -t` output. In `expected`, `{line:N}` stands for the
//! line of `httpd.conf` that holds line N of the fragment, and `{dir}` for the server directory
//! (which `apachectl -t` creates afresh for each run).

#[path = "support/httpd.rs"]
mod httpd;

use httpd::{config_test, render_config, HttpdConfig, Mpm};
use std::fs;
use std::path::{Path, PathBuf};

/// The line the harness writes just before the test-specific configuration (the fragment).
const FRAGMENT_MARK: &str = "# Test-specific configuration.";

/// One broken configuration of the corpus.
struct Case {
    name: String,
    fragment: String,
    /// Every other file of the directory, written next to httpd.conf.
    files: Vec<(String, String)>,
    /// What the output must contain, as written in the `expected` file.
    expected: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-configs")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load_corpus() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("tests/bad-configs exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|dir| load_case(dir)).collect()
}

fn load_case(dir: &Path) -> Case {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name != "httpd.conf.fragment" && name != "expected" {
            files.push((name, read(&path)));
        }
    }
    let expected = read(&dir.join("expected"));
    Case {
        name: dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned(),
        fragment: read(&dir.join("httpd.conf.fragment")),
        files,
        // The file's final newline is not part of the text to find.
        expected: expected.strip_suffix('\n').unwrap_or(&expected).to_owned(),
    }
}

fn config_for(fragment: &str, files: &[(String, String)]) -> HttpdConfig {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global = fragment.to_owned();
    cfg.files = files.to_vec();
    cfg
}

/// httpd.conf line number of the line before the fragment (fragment line N is at this + N).
fn fragment_offset(cfg: &HttpdConfig) -> usize {
    let text = render_config(cfg, Path::new("/server-dir"), 8009);
    let mark = text
        .lines()
        .position(|l| l == FRAGMENT_MARK)
        .unwrap_or_else(|| panic!("{FRAGMENT_MARK:?} not in the generated httpd.conf:\n{text}"));
    mark + 1
}

/// `expected` with each `{line:N}` replaced by its httpd.conf line number.
fn with_line_numbers(expected: &str, offset: usize) -> String {
    let mut out = String::with_capacity(expected.len());
    let mut rest = expected;
    while let Some(start) = rest.find("{line:") {
        let after = &rest[start + "{line:".len()..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("unclosed {{line: in {expected:?}"));
        let n: usize = after[..end]
            .parse()
            .unwrap_or_else(|_| panic!("bad {{line:N}} in {expected:?}"));
        out.push_str(&rest[..start]);
        out.push_str(&(offset + n).to_string());
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `text` contains `pattern`, where each `{dir}` in it matches any run of
/// non-whitespace characters (a directory path).
fn contains_pattern(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{dir}").collect();
    let first = parts.first().copied().unwrap_or("");
    text.match_indices(first)
        .any(|(start, _)| matches_at(&text[start..], &parts))
}

fn matches_at(text: &str, parts: &[&str]) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return true;
    };
    let Some(after) = text.strip_prefix(first) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let widest = after.find(char::is_whitespace).unwrap_or(after.len());
    (0..=widest)
        .filter(|&gap| after.is_char_boundary(gap))
        .any(|gap| matches_at(&after[gap..], rest))
}

#[test]
fn pattern_matcher_understands_dir_and_line_placeholders() {
    let output = "AH00526: Syntax error on line 57 of /tmp/x y/httpd.conf:\nJkLogLevel 'z' is bad";
    assert!(!contains_pattern(
        output,
        "line 57 of {dir}/httpd.conf:\nJkLogLevel"
    ));
    let output = "AH00526: Syntax error on line 57 of /tmp/c-1/httpd.conf:\nJkLogLevel 'z' is bad";
    assert!(contains_pattern(
        output,
        "line 57 of {dir}/httpd.conf:\nJkLogLevel 'z'"
    ));
    assert!(!contains_pattern(output, "line 58 of {dir}/httpd.conf:"));
    assert!(contains_pattern(output, "JkLogLevel 'z' is bad"));
    assert_eq!(
        with_line_numbers("line {line:2} (first at {line:1})", 40),
        "line 42 (first at 41)"
    );
}

#[test]
fn corpus_has_at_least_thirty_cases_each_naming_a_file_and_line() {
    let corpus = load_corpus();
    assert!(corpus.len() >= 30, "only {} cases", corpus.len());
    for case in &corpus {
        let names_place = case.expected.contains("{line:")
            || case.expected.contains(".properties:")
            || case.expected.contains(".conf:");
        assert!(
            names_place,
            "{}: expected text names no file:line: {:?}",
            case.name, case.expected
        );
        assert!(
            !case.fragment.trim().is_empty(),
            "{}: empty fragment",
            case.name
        );
    }
}

#[test]
fn every_bad_configuration_is_rejected_naming_file_and_line() {
    let corpus = load_corpus();
    let mut failures = Vec::new();
    for case in &corpus {
        let cfg = config_for(&case.fragment, &case.files);
        let expected = with_line_numbers(&case.expected, fragment_offset(&cfg));
        let (code, output) = config_test(&cfg);
        if code == 0 {
            failures.push(format!(
                "--- {}: accepted (exit 0), expected {expected:?}\n{output}",
                case.name
            ));
        } else if !contains_pattern(&output, &expected) {
            failures.push(format!(
                "--- {}: exit {code}, output lacks {expected:?}\n{output}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad configurations misbehave:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

#[test]
fn good_configuration_passes() {
    let workers = "\
worker.list=shop,app,jkstatus
worker.template.port=8010
worker.template.socket_timeout=10
worker.node1.reference=worker.template
worker.node1.host=tc1
worker.node1.route=node1
worker.node2.reference=worker.template
worker.node2.host=tc2
worker.node2.route=node2
worker.node2.activation=disabled
worker.shop.type=lb
worker.shop.balance_workers=node1,node2
worker.shop.mount=/shop /shop/*
worker.app.host=localhost
worker.app.fail_on_status=503
worker.jkstatus.type=status
";
    // Relative paths are relative to ServerRoot, as in mod_jk.
    let fragment = "\
JkWorkersFile workers.properties
JkWorkerProperty worker.app.reply_timeout=30000
JkShmFile logs/jk-runtime-status
JkLogFile {dir}/mod_jk.log
JkLogLevel warn
JkMount /app/* app;reply_timeout=60000
JkUnMount /app/static/* app
JkMount /jkstatus jkstatus
<Location /legacy>
    JkMount app
</Location>
<VirtualHost 127.0.0.1:*>
    ServerName other.example
    JkMount /* shop
    JkUnMount /static/* *
</VirtualHost>
";
    let cfg = config_for(fragment, &[("workers.properties".into(), workers.into())]);
    let (code, output) = config_test(&cfg);
    assert_eq!(
        code, 0,
        "apachectl -t refused a good configuration:\n{output}"
    );
    assert!(output.contains("Syntax OK"), "{output}");
    assert!(
        !output.contains("mod_jk_rs:"),
        "unexpected warnings:\n{output}"
    );
}
