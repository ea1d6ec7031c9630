//! Integration tests of the `jkcheck` binary: it is run on the fixture files under
//! `tests/fixtures/jkcheck/` (and on the tutorial's workers.properties) and its exact output
//! lines and exit codes are checked: 0 valid, 1 configuration errors, 2 usage errors.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of jkcheck produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs jkcheck `--verbose` with `args` in `fixtures()/dir` (file names in the output stay
/// short).
fn jkcheck(dir: &str, args: &[&str]) -> Run {
    let mut verbose = vec!["--verbose"];
    verbose.extend_from_slice(args);
    jkcheck_exactly(dir, &verbose)
}

/// Runs jkcheck with exactly `args`.
fn jkcheck_exactly(dir: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_jkcheck"))
        .args(args)
        .current_dir(fixtures().join(dir))
        .output()
        .expect("cannot run jkcheck");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const HEADERS: [&str; 5] = [
    "Errors:",
    "Warnings:",
    "Workers:",
    "Mount rules (in precedence order):",
    "URIs:",
];

/// The lines under `title` up to the next section header or the final OK/FAILED line.
fn section<'a>(output: &'a str, title: &str) -> Vec<&'a str> {
    output
        .lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| {
            !HEADERS.contains(l) && !l.starts_with("OK: ") && !l.starts_with("FAILED: ")
        })
        .collect()
}

/// The property lines of one worker (`  [name] ...` and what is indented under it).
fn worker_block<'a>(output: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("  [{name}] ");
    let mut lines = output.lines().skip_while(|l| !l.starts_with(&header));
    let Some(first) = lines.next() else {
        panic!("no worker {name} in:\n{output}");
    };
    std::iter::once(first)
        .chain(lines.take_while(|l| l.starts_with("    ")))
        .collect()
}

fn last_line(output: &str) -> &str {
    output.lines().last().unwrap_or("")
}

/// The report on `jkcheck/valid/` (workers.properties and uriworkermap.properties, no URIs).
fn valid_configuration() -> Run {
    jkcheck(
        "jkcheck/valid",
        &["workers.properties", "uriworkermap.properties"],
    )
}

/// jkcheck's whole report on the tutorial file: nothing wrong, every property resolved.
const TUTORIAL_REPORT: &str = "\
OK: 0 errors, 0 warnings
Workers:
  worker.list = lbcluster, stat1
  worker.maintain = 60 s
  [lbcluster] type lb, in worker.list
    balance_workers = TomcatA, TomcatB
    sticky_session = false
    sticky_session_force = false
    method = Request
    lock = Optimistic
    retries = 2
    lb_retries = 2
    retry_interval = 100 ms
    recover_time = 60 s
    error_escalation_time = 30 s
    max_reply_timeouts = 0
    request_body_buffer = 0
    session_cookie = JSESSIONID
    session_path = ;jsessionid
    set_session_cookie = false
    session_cookie_path = /
    secret = none
    mount = none
    member TomcatA: route=TomcatA domain=none lbfactor=1 activation=Active
    member TomcatB: route=TomcatB domain=none lbfactor=1 activation=Active
  [stat1] type status, in worker.list
    css = none
    prefix = worker
    ns = jk:
    xmlns = xmlns:jk=\"http://tomcat.apache.org\"
    doctype = none
    read_only = false
    user = anyone
    user_case_insensitive = false
    good = a.o, a.i, a.b, a.r
    bad = e, s
    mount = none
  [TomcatA] type ajp13, member of lbcluster
    host = 192.168.18.201
    port = 8009
    source = none
    prefer_ipv6 = false
    socket_timeout = none
    socket_connect_timeout = none
    socket_keepalive = false
    socket_buffer = OS default
    ping_mode = none
    ping_timeout = 10000 ms
    connect_timeout = none
    prepost_timeout = none
    connection_ping_interval = none
    connection_pool_size = ThreadsPerChild
    connection_pool_minsize = (pool size + 1) / 2
    connection_pool_timeout = none
    connection_acquire_timeout = 200 ms
    reply_timeout = none
    reply_deadline = none
    request_body_buffer = 0
    retries = 2
    retry_interval = 100 ms
    recovery_options = 0
    fail_on_status = none
    busy_limit = 0
    max_packet_size = 8192
    secret = none
    lbfactor = 1
    route = TomcatA
    domain = none
    redirect = none
    distance = 0
    activation = Active
    mount = none
  [TomcatB] type ajp13, member of lbcluster
    host = 192.168.18.202
    port = 8009
    source = none
    prefer_ipv6 = false
    socket_timeout = none
    socket_connect_timeout = none
    socket_keepalive = false
    socket_buffer = OS default
    ping_mode = none
    ping_timeout = 10000 ms
    connect_timeout = none
    prepost_timeout = none
    connection_ping_interval = none
    connection_pool_size = ThreadsPerChild
    connection_pool_minsize = (pool size + 1) / 2
    connection_pool_timeout = none
    connection_acquire_timeout = 200 ms
    reply_timeout = none
    reply_deadline = none
    request_body_buffer = 0
    retries = 2
    retry_interval = 100 ms
    recovery_options = 0
    fail_on_status = none
    busy_limit = 0
    max_packet_size = 8192
    secret = none
    lbfactor = 1
    route = TomcatB
    domain = none
    redirect = none
    distance = 0
    activation = Active
    mount = none
Mount rules (in precedence order):
  (none)
OK: 0 errors, 0 warnings
";

#[test]
fn tutorial_configuration_is_valid_and_fully_resolved() {
    let run = jkcheck(".", &["tutorial-workers.properties"]);
    assert_eq!(run.stdout, TUTORIAL_REPORT);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn template_values_and_defaults_are_resolved_per_worker() {
    let run = valid_configuration();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(last_line(&run.stdout), "OK: 0 errors, 0 warnings");
    assert_eq!(
        section(&run.stdout, "Workers:")[..2],
        [
            "  worker.list = shop, app, jkstatus",
            "  worker.maintain = 30 s"
        ]
    );
    // node1: port, socket_timeout, ping_mode and pool size come from worker.template; the
    // lb's secret is inherited; ping_mode A derives the three CPing timeouts.
    assert_eq!(
        worker_block(&run.stdout, "node1"),
        [
            "  [node1] type ajp13, member of shop",
            "    host = tc1.example.com",
            "    port = 8010",
            "    source = none",
            "    prefer_ipv6 = false",
            "    socket_timeout = 10 s",
            "    socket_connect_timeout = 10000 ms",
            "    socket_keepalive = false",
            "    socket_buffer = OS default",
            "    ping_mode = CPI",
            "    ping_timeout = 10000 ms",
            "    connect_timeout = 10000 ms",
            "    prepost_timeout = 10000 ms",
            "    connection_ping_interval = 100 s",
            "    connection_pool_size = 16",
            "    connection_pool_minsize = (pool size + 1) / 2",
            "    connection_pool_timeout = none",
            "    connection_acquire_timeout = 200 ms",
            "    reply_timeout = none",
            "    reply_deadline = none",
            "    request_body_buffer = 0",
            "    retries = 2",
            "    retry_interval = 100 ms",
            "    recovery_options = 0",
            "    fail_on_status = none",
            "    busy_limit = 0",
            "    max_packet_size = 8192",
            "    secret = (set, not shown)",
            "    lbfactor = 1",
            "    route = dc1.node1",
            "    domain = dc1",
            "    redirect = none",
            "    distance = 0",
            "    activation = Active",
            "    mount = none",
        ]
    );
    let node2 = worker_block(&run.stdout, "node2");
    for line in [
        "    port = 8011",
        "    lbfactor = 3",
        "    activation = Disabled",
        "    redirect = dc1.node1",
    ] {
        assert!(node2.contains(&line), "{line:?} not in {node2:#?}");
    }
    let app = worker_block(&run.stdout, "app");
    assert_eq!(app[0], "  [app] type ajp13, in worker.list");
    for line in [
        "    reply_timeout = 30000 ms",
        "    fail_on_status = 503, -404",
        "    mount = none",
    ] {
        assert!(app.contains(&line), "{line:?} not in {app:#?}");
    }
    // A standalone worker has no lb member settings.
    assert!(
        !app.iter().any(|l| l.starts_with("    lbfactor")),
        "{app:#?}"
    );
}

#[test]
fn lb_lists_its_members_with_route_domain_lbfactor_and_activation() {
    let run = valid_configuration();
    let shop = worker_block(&run.stdout, "shop");
    assert_eq!(
        shop,
        [
            "  [shop] type lb, in worker.list",
            "    balance_workers = node1, node2",
            "    sticky_session = true",
            "    sticky_session_force = true",
            "    method = Busyness",
            "    lock = Optimistic",
            "    retries = 2",
            "    lb_retries = 2",
            "    retry_interval = 100 ms",
            "    recover_time = 60 s",
            "    error_escalation_time = 30 s",
            "    max_reply_timeouts = 0",
            "    request_body_buffer = 0",
            "    session_cookie = JSESSIONID",
            "    session_path = ;jsessionid",
            "    set_session_cookie = false",
            "    session_cookie_path = /",
            "    secret = (set, not shown)",
            "    mount = /shop /shop/*",
            "    member node1: route=dc1.node1 domain=dc1 lbfactor=1 activation=Active",
            "    member node2: route=node2 domain=none lbfactor=3 activation=Disabled redirect=dc1.node1",
        ]
    );
    assert_eq!(
        worker_block(&run.stdout, "jkstatus"),
        [
            "  [jkstatus] type status, in worker.list",
            "    css = none",
            "    prefix = worker",
            "    ns = jk:",
            "    xmlns = xmlns:jk=\"http://tomcat.apache.org\"",
            "    doctype = none",
            "    read_only = true",
            "    user = admin",
            "    user_case_insensitive = false",
            "    good = a.o, a.i, a.b, a.r",
            "    bad = e, s",
            "    mount = none",
        ]
    );
}

#[test]
fn secrets_are_never_printed() {
    let run = valid_configuration();
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
}

#[test]
fn mount_rules_are_listed_in_precedence_order() {
    let run = valid_configuration();
    assert_eq!(
        section(&run.stdout, "Mount rules (in precedence order):"),
        [
            "  1. !/app/static/* => app (uriworkermap, uriworkermap.properties:3)",
            "  2. -/app/legacy/* => app (uriworkermap, uriworkermap.properties:4)",
            "  3. /shop/api/* => shop;stateless=1;active=node1 (uriworkermap, uriworkermap.properties:7)",
            "  4. /shop/* => shop (worker definition, workers.properties:27)",
            "  5. /app/* => app (uriworkermap, uriworkermap.properties:2)",
            "  6. /jkstatus => jkstatus (uriworkermap, uriworkermap.properties:6)",
            "  7. /*.jsp => app;reply_timeout=60000 (uriworkermap, uriworkermap.properties:5)",
            "  8. /shop => shop (worker definition, workers.properties:27)",
        ]
    );
}

#[test]
fn uris_map_to_a_rule_and_worker_or_say_why_not() {
    // 4094 bytes is the longest URI mod_jk maps; 4095 is too long.
    let longest = format!("/app/{}", "a".repeat(4089));
    let too_long = format!("/app/{}", "a".repeat(4090));
    let run = jkcheck(
        "jkcheck/valid",
        &[
            "workers.properties",
            "uriworkermap.properties",
            "--uri",
            "/shop/api/cart;jsessionid=ABC.node1",
            "--uri=/app//static/./logo.png",
            "--uri",
            "/app/legacy/x",
            "--uri",
            "/index.html",
            "--uri",
            "/shop/../../etc/passwd",
            "--uri",
            "/a/b.jsp?x=1",
            "--uri",
            "/app/%2e%2e/shop",
            "--uri",
            "*",
            "--uri",
            "/app/100%",
            "--uri",
            &longest,
            "--uri",
            &too_long,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let longest_line = format!("  {longest}");
    let longest_normalised = format!("    normalised: {longest}");
    let too_long_line = format!("  {too_long}");
    let too_long_normalised = format!("    normalised: {too_long}");
    assert_eq!(
        section(&run.stdout, "URIs:"),
        [
            "  /shop/api/cart;jsessionid=ABC.node1",
            "    normalised: /shop/api/cart",
            "    worker shop by rule 3: /shop/api/* => shop;stateless=1;active=node1 (uriworkermap, uriworkermap.properties:7)",
            "  /app//static/./logo.png",
            "    normalised: /app/static/logo.png",
            "    not mapped: excluded by rule 1: !/app/static/* => app (uriworkermap, uriworkermap.properties:3) (rule 5 would map it to worker app)",
            "  /app/legacy/x",
            "    normalised: /app/legacy/x",
            "    worker app by rule 5: /app/* => app (uriworkermap, uriworkermap.properties:2)",
            "  /index.html",
            "    normalised: /index.html",
            "    not mapped: no rule matches",
            "  /shop/../../etc/passwd",
            "    not mapped: URI climbs above the root with '..' (httpd answers 400)",
            "  /a/b.jsp?x=1",
            "    normalised: /a/b.jsp",
            "    worker app by rule 7: /*.jsp => app;reply_timeout=60000 (uriworkermap, uriworkermap.properties:5)",
            "  /app/%2e%2e/shop",
            "    normalised: /shop",
            "    worker shop by rule 8: /shop => shop (worker definition, workers.properties:27)",
            "  *",
            "    not mapped: URI does not start with '/'",
            "  /app/100%",
            "    not mapped: bad %-escape (httpd answers 400)",
            longest_line.as_str(),
            longest_normalised.as_str(),
            "    worker app by rule 5: /app/* => app (uriworkermap, uriworkermap.properties:2)",
            too_long_line.as_str(),
            too_long_normalised.as_str(),
            "    not mapped: URI too long (4095 bytes; URIs of 4095 bytes or more are never mapped)",
        ]
    );
}

#[test]
fn every_workers_properties_error_is_reported_with_file_and_line() {
    let run = jkcheck(
        "jkcheck/errors",
        &["workers.properties", "uriworkermap.properties"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        section(&run.stdout, "Errors:"),
        [
            "workers.properties:4: unknown property 'worker.web.prot'; did you mean 'port'?",
            "workers.properties:5: expected 'name=value', found 'this line has no equals sign'",
            "workers.properties:6: bad number 'ten' for 'worker.web.socket_timeout': expected a whole number of seconds",
            "workers.properties:7: unknown letter 'X' in 'worker.web.ping_mode' = 'CX': use C (connect), P (prepost), I (interval) or A (all)",
            "workers.properties:9: member 'ghost' of lb worker 'lb' is not defined: there are no worker.ghost.* properties",
            "workers.properties:10: unknown property 'worker.lb.sticky_sesion'; did you mean 'sticky_session'?",
            "uriworkermap.properties:2: mount pattern 'app/*' must start with '/'",
            "uriworkermap.properties:3: expected 'pattern=worker', found '/nothing-here'",
        ]
    );
    assert_eq!(
        section(&run.stdout, "Workers:"),
        ["  (not built: fix the errors above)"]
    );
    // The good lines of the URI map are still shown.
    assert_eq!(
        section(&run.stdout, "Mount rules (in precedence order):"),
        [
            "  1. /web/* => web (uriworkermap, uriworkermap.properties:1)",
            "  2. /lb/* => lb (uriworkermap, uriworkermap.properties:4)",
        ]
    );
    assert_eq!(last_line(&run.stdout), "FAILED: 8 errors, 0 warnings");
}

#[test]
fn uri_map_errors_and_unlisted_workers_are_reported() {
    let run = jkcheck(
        "jkcheck/map-errors",
        &[
            "workers.properties",
            "uriworkermap.properties",
            "--uri",
            "/web/private/x",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        section(&run.stdout, "Errors:"),
        [
            "uriworkermap.properties:3: mount pattern '*.jsp' must start with '/' (write '/*.jsp')",
            "uriworkermap.properties:4: expected 'pattern=worker', found '/orphan'",
            "uriworkermap.properties:5: uriworkermap '/helper/*' names worker 'helper', which is not in worker.list (only workers in worker.list can be mapped)",
            "uriworkermap.properties:6: uriworkermap '/typo/*' names worker 'wbe', which is not in worker.list; did you mean 'web'?",
        ]
    );
    assert_eq!(
        section(&run.stdout, "Warnings:"),
        [
            "workers.properties:3: worker 'helper' is defined but not used: it is not in worker.list, not an lb member and not a reference template",
            "uriworkermap.properties:7: unknown rule extension 'reply_timout' is ignored; did you mean 'reply_timeout'?",
            "uriworkermap.properties:7: pattern '/web/*' was already mapped at uriworkermap.properties:2; this line replaces it",
            "uriworkermap.properties:8: uriworkermap '!/web/private/*' names worker 'nosuch', which is not in worker.list",
        ]
    );
    // An exclusion only cancels its own worker's mappings.
    assert_eq!(
        section(&run.stdout, "URIs:"),
        [
            "  /web/private/x",
            "    normalised: /web/private/x",
            "    worker web by rule 4: /web/* => web (uriworkermap, uriworkermap.properties:7)",
        ]
    );
    assert_eq!(last_line(&run.stdout), "FAILED: 4 errors, 4 warnings");
}

#[test]
fn warnings_alone_keep_the_configuration_valid() {
    let run = jkcheck("jkcheck/warnings", &["workers.properties"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(section(&run.stdout, "Errors:"), Vec::<&str>::new());
    assert_eq!(
        section(&run.stdout, "Warnings:"),
        [
            "workers.properties:4: 'worker.legacy.cachesize' is deprecated; use 'connection_pool_size' instead",
            "workers.properties:6: duplicate 'worker.legacy.port': value '8009' (set at workers.properties:5) is replaced by '8010'",
            "workers.properties:7: 'worker.legacy.secret' has an empty value and is ignored",
            "workers.properties:8: worker 'spare' is defined but not used: it is not in worker.list, not an lb member and not a reference template",
            "workers.properties:9: 'wroker.legacy.timeout' does not start with 'worker.' so it only defines the variable $(wroker.legacy.timeout)",
        ]
    );
    let legacy = worker_block(&run.stdout, "legacy");
    for line in [
        "    port = 8010",
        "    connection_pool_size = 10",
        "    secret = none",
    ] {
        assert!(legacy.contains(&line), "{line:?} not in {legacy:#?}");
    }
    assert_eq!(last_line(&run.stdout), "OK: 0 errors, 5 warnings");
}

#[test]
fn server_root_is_the_current_directory() {
    let run = jkcheck("jkcheck/variables", &["workers.properties"]);
    let cwd = std::fs::canonicalize(fixtures().join("jkcheck/variables"))
        .expect("fixture directory exists");
    let css = format!("    css = {}/jk.css", cwd.display());
    assert!(
        worker_block(&run.stdout, "jkstatus").contains(&css.as_str()),
        "{css:?} not in:\n{}",
        run.stdout
    );
    // An undefined variable is left as written, with a warning.
    assert_eq!(
        section(&run.stdout, "Warnings:"),
        ["workers.properties:3: variable 'tomcat_host' is not defined; '$(tomcat_host)' is left as it is"]
    );
    assert!(worker_block(&run.stdout, "app").contains(&"    host = $(tomcat_host)"));
    assert_eq!(run.code, 0);
}

#[test]
fn define_sets_variables_and_overrides_server_root() {
    let run = jkcheck(
        "jkcheck/variables",
        &[
            "--define",
            "tomcat_host=tc9.example.com",
            "--define=ServerRoot=/srv/httpd",
            "workers.properties",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(worker_block(&run.stdout, "app").contains(&"    host = tc9.example.com"));
    assert!(worker_block(&run.stdout, "jkstatus").contains(&"    css = /srv/httpd/jk.css"));
    assert_eq!(last_line(&run.stdout), "OK: 0 errors, 0 warnings");
}

#[test]
fn empty_file_gets_the_default_ajp13_worker() {
    let run = jkcheck("jkcheck/empty", &["workers.properties"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let workers = section(&run.stdout, "Workers:");
    assert_eq!(
        workers[..5],
        [
            "  worker.list = ajp13",
            "  worker.maintain = 60 s",
            "  [ajp13] type ajp13, in worker.list",
            "    host = localhost",
            "    port = 8009",
        ]
    );
    assert_eq!(
        section(&run.stdout, "Mount rules (in precedence order):"),
        ["  (none)"]
    );
}

#[test]
fn unreadable_files_are_errors_without_a_line() {
    let run = jkcheck(
        "jkcheck/empty",
        &["missing-workers.properties", "missing-map.properties"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        section(&run.stdout, "Errors:"),
        [
            "missing-workers.properties: cannot read workers file: No such file or directory (os error 2)",
            "missing-map.properties: cannot read uriworkermap file: No such file or directory (os error 2)",
        ]
    );
    assert_eq!(
        section(&run.stdout, "Workers:"),
        ["  (not built: fix the errors above)"]
    );
    assert_eq!(last_line(&run.stdout), "FAILED: 2 errors, 0 warnings");
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let cases: [(&[&str], &str); 5] = [
        (&[], "jkcheck: missing WORKERS_FILE"),
        (
            &["workers.properties", "--uri"],
            "jkcheck: --uri needs a URI path",
        ),
        (
            &["--define", "ServerRoot", "workers.properties"],
            "jkcheck: --define expects NAME=VALUE, got 'ServerRoot'",
        ),
        (
            &["--verbos", "workers.properties"],
            "jkcheck: unknown option '--verbos'",
        ),
        (
            &["a", "b", "c"],
            "jkcheck: unexpected argument 'c': give at most a workers file and a uriworkermap file",
        ),
    ];
    for (args, first_line) in cases {
        let run = jkcheck_exactly("jkcheck/empty", args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert_eq!(run.stderr.lines().next(), Some(first_line), "{args:?}");
        assert!(
            run.stderr.contains("Try 'jkcheck --help'"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    for flag in ["--help", "-h"] {
        let run = jkcheck("jkcheck/empty", &[flag]);
        assert_eq!(run.code, 0);
        assert_eq!(
            run.stdout.lines().next(),
            Some("jkcheck - check mod_jk_rs configuration files without starting httpd")
        );
        assert!(run
            .stdout
            .lines()
            .any(|l| l == "Usage: jkcheck [OPTIONS] WORKERS_FILE [URIWORKERMAP_FILE]"));
        assert!(run.stdout.lines().any(
            |l| l == "Exit status: 0 valid (warnings allowed), 1 errors found, 2 usage error."
        ));
    }
}

/// Without --verbose the answer comes first and the report stays short: workers by name,
/// type and role, no property dump.
#[test]
fn the_answer_comes_first_and_properties_only_with_verbose() {
    let short = jkcheck_exactly(
        "jkcheck/valid",
        &["workers.properties", "uriworkermap.properties"],
    );
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert_eq!(
        short.stdout.lines().next(),
        Some("OK: 0 errors, 0 warnings")
    );
    assert_eq!(last_line(&short.stdout), "OK: 0 errors, 0 warnings");
    assert!(!short.stdout.contains("    host = "), "{}", short.stdout);
    assert!(
        short.stdout.contains("  worker.list = "),
        "{}",
        short.stdout
    );
    assert!(short.stdout.contains("jkcheck --verbose"));
    let long = valid_configuration();
    assert!(long.stdout.contains("    host = "));
    assert!(short.stdout.lines().count() * 3 < long.stdout.lines().count());
}

#[test]
fn a_unix_socket_worker_is_checked_and_shown_as_unix_path_with_port_0() {
    let run = jkcheck("jkcheck/unix-socket", &["workers.properties"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        section(&run.stdout, "Errors:"),
        ["workers.properties:6: 'worker.gone.host': the directory '/nonexistent-mod-jk-rs-dir' of the socket '/nonexistent-mod-jk-rs-dir/ajp.sock' does not exist; create it or correct the path"]
    );
    let run = jkcheck("jkcheck/unix-socket", &["good.properties"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        section(&run.stdout, "Warnings:"),
        ["good.properties:4: 'worker.tc.port' is ignored: 'worker.tc.host' names a Unix domain socket"]
    );
    let block = worker_block(&run.stdout, "tc");
    assert!(
        block.contains(&"    host = unix:/tmp/ajp.sock"),
        "{block:?}"
    );
    assert!(block.contains(&"    port = 0"), "{block:?}");
}
