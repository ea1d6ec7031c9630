//! `jkcheck`: checks a workers.properties (and optionally a uriworkermap.properties) without
//! httpd, with the very parser, builder and mount rules the module runs at start-up. Prints every
//! error and warning as `file:line: message`, the resolved workers, the mount rules in precedence
//! order and, for each `--uri`, the worker it maps to or why none. Exit code: 0 valid, 1 errors,
//! 2 usage error.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use mod_jk_rs::config::{
    Activation, AjpWorker, ConfigError, LbWorker, Origin, PingMode, Properties, StatusWorker,
    WorkerDef, Workers,
};
use mod_jk_rs::mount::{
    check_rules, normalize_uri, parse_uri_worker_map, worker_definition_rules, MountMap, MountRule,
    NormalizeError, RuleExtensions, MAX_URI_LEN,
};

const USAGE: &str = "\
jkcheck - check mod_jk_rs configuration files without starting httpd

Usage: jkcheck [OPTIONS] WORKERS_FILE [URIWORKERMAP_FILE]

Reads WORKERS_FILE (workers.properties) and, if given, URIWORKERMAP_FILE
(uriworkermap.properties) with the same code mod_jk_rs runs when httpd starts, and prints:
  - the answer first: OK or FAILED, with the number of errors and warnings
  - every error and warning, as file:line: message
  - the workers (name, type, role); with --verbose every effective property after
    `reference` and defaults; lb members with route, domain, lbfactor and activation
  - the mount rules (uriworkermap and worker.<name>.mount) in precedence order
  - for each --uri: the normalised URI and the rule and worker it maps to, or why none

Options:
  --uri PATH           map PATH as httpd would (%XX decoded, ?query dropped); repeatable
  -v, --verbose        show every resolved property of every worker
  --define NAME=VALUE  predefine the variable $(NAME); repeatable. ServerRoot is the
                       current directory unless defined here
  -h, --help           show this text

Exit status: 0 valid (warnings allowed), 1 errors found, 2 usage error.
httpd.conf directives (JkMount, JkWorkerProperty, ...) are not read: use apachectl -t.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Options {
    workers_file: String,
    map_file: Option<String>,
    uris: Vec<String>,
    defines: Vec<(String, String)>,
    verbose: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Check(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut files: Vec<String> = Vec::new();
    let mut args = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = args.next() {
        if only_files || !arg.starts_with('-') || arg == "-" {
            files.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs {what}"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--" => only_files = true,
            "--uri" => options.uris.push(value("a URI path")?),
            "-v" | "--verbose" => options.verbose = true,
            "--define" => {
                let definition = value("NAME=VALUE")?;
                match definition.split_once('=') {
                    Some((name, text)) if !name.trim().is_empty() => options
                        .defines
                        .push((name.trim().to_owned(), text.trim().to_owned())),
                    _ => return Err(format!("--define expects NAME=VALUE, got '{definition}'")),
                }
            }
            _ => return Err(format!("unknown option '{arg}'")),
        }
    }
    let mut files = files.into_iter();
    options.workers_file = files
        .next()
        .ok_or_else(|| "missing WORKERS_FILE".to_owned())?;
    options.map_file = files.next();
    if let Some(extra) = files.next() {
        return Err(format!(
            "unexpected argument '{extra}': give at most a workers file and a uriworkermap file"
        ));
    }
    Ok(Command::Check(options))
}

fn main() -> ExitCode {
    // Lossy, not `env::args()`, which panics on an argument that is not UTF-8.
    let args = std::env::args_os().skip(1);
    match parse_args(args.map(|a| a.to_string_lossy().into_owned())) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Check(options)) => {
            let server_root = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".to_owned());
            let (report, valid) = check(&options, &server_root);
            print!("{report}");
            if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("jkcheck: {message}\nUsage: jkcheck [--uri PATH]... [--define NAME=VALUE]... WORKERS_FILE [URIWORKERMAP_FILE]\nTry 'jkcheck --help' for more information.");
            ExitCode::from(2)
        }
    }
}

/// Everything found while loading, in the order found.
#[derive(Default)]
struct Findings {
    errors: Vec<ConfigError>,
    warnings: Vec<ConfigError>,
}

/// Reads the files, builds what the module would build, and renders the report; the flag says
/// whether the configuration is valid.
fn check(options: &Options, server_root: &str) -> (String, bool) {
    let mut found = Findings::default();
    // An unreadable file is not an empty one: no default ajp13 worker is made up for it.
    let workers = match read_properties(options, server_root, &mut found) {
        None => None,
        Some(props) => match Workers::build(&props) {
            Ok(mut workers) => {
                found.warnings.append(&mut workers.warnings);
                Some(workers)
            }
            Err(mut errors) => {
                found.errors.append(&mut errors);
                None
            }
        },
    };
    let map = build_map(options, workers.as_ref(), &mut found);

    // By file (in the order they were read) and line, so each file reads top to bottom.
    let files = [Some(&options.workers_file), options.map_file.as_ref()];
    let place = |e: &ConfigError| {
        let rank = files
            .iter()
            .position(|f| *f == Some(&e.origin.file))
            .unwrap_or(files.len());
        (rank, e.origin.line)
    };
    found.errors.sort_by_key(place);
    found.warnings.sort_by_key(place);
    let valid = found.errors.is_empty();
    let verdict = format!(
        "{}: {}, {}",
        if valid { "OK" } else { "FAILED" },
        count(found.errors.len(), "error"),
        count(found.warnings.len(), "warning")
    );
    let mut out = format!("{verdict}\n");
    section(&mut out, "Errors", &found.errors);
    section(&mut out, "Warnings", &found.warnings);
    out.push_str("Workers:\n");
    match &workers {
        Some(workers) => render_workers(&mut out, workers, options.verbose),
        None => out.push_str("  (not built: fix the errors above)\n"),
    }
    out.push_str("Mount rules (in precedence order):\n");
    if map.rules().is_empty() {
        out.push_str("  (none)\n");
    }
    for (index, rule) in map.rules().iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", index + 1, describe_rule(rule));
    }
    if !options.uris.is_empty() {
        out.push_str("URIs:\n");
        for uri in &options.uris {
            render_uri(&mut out, &map, uri);
        }
    }
    // Repeated last, for whoever reads the end of a long report.
    let _ = writeln!(out, "{verdict}");
    (out, valid)
}

/// workers.properties as the module reads it (`Properties::add_line`, line by line), except
/// that a malformed line does not stop the reading: every bad line is reported. `None` when
/// the file cannot be read.
fn read_properties(
    options: &Options,
    server_root: &str,
    found: &mut Findings,
) -> Option<Properties> {
    let mut props = Properties::new();
    props.define("ServerRoot", server_root);
    for (name, value) in &options.defines {
        props.define(name, value);
    }
    let file = options.workers_file.as_str();
    match read_text(file) {
        Ok(text) => {
            for (index, line) in text.lines().enumerate() {
                if let Err(error) = props.add_line(line, Origin::new(file, index + 1)) {
                    found.errors.push(error);
                }
            }
        }
        Err(e) => {
            found.errors.push(ConfigError::new(
                &Origin::new(file, 0),
                format!("cannot read workers file: {e}"),
            ));
            return None;
        }
    }
    found.warnings.extend(props.warnings().iter().cloned());
    Some(props)
}

/// A file's text as the module reads it: lossy UTF-8 (comments may be in any encoding), no BOM.
fn read_text(file: &str) -> std::io::Result<String> {
    let bytes = std::fs::read(Path::new(file))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}

/// The main server's map as the module builds it (uriworkermap rules standing in for JkMount,
/// plus `worker.<name>.mount`), checked against the workers.
fn build_map(options: &Options, workers: Option<&Workers>, found: &mut Findings) -> MountMap {
    let mut rules = Vec::new();
    if let Some(file) = &options.map_file {
        match read_text(file) {
            Ok(text) => rules = read_uri_worker_map(&text, file, found),
            Err(e) => found.errors.push(ConfigError::new(
                &Origin::new(file, 0),
                format!("cannot read uriworkermap file: {e}"),
            )),
        }
    }
    if let Some(workers) = workers {
        match worker_definition_rules(workers) {
            Ok(mut more) => rules.append(&mut more),
            Err(mut errors) => found.errors.append(&mut errors),
        }
        let mut problems = check_rules(&rules, workers);
        found.errors.append(&mut problems.errors);
        found.warnings.append(&mut problems.warnings);
    }
    found
        .warnings
        .extend(rules.iter().flat_map(|r| r.warnings.iter().cloned()));
    MountMap::new(rules)
}

/// `parse_uri_worker_map` stops at the first bad line; to report them all, each bad line is
/// blanked out (keeping the numbering) and the file parsed again.
fn read_uri_worker_map(text: &str, file: &str, found: &mut Findings) -> Vec<MountRule> {
    let mut lines: Vec<&str> = text.lines().collect();
    loop {
        match parse_uri_worker_map(&lines.join("\n"), file) {
            Ok(rules) => return rules,
            Err(error) => {
                let bad = error.origin.line.checked_sub(1);
                found.errors.push(error);
                match bad.and_then(|i| lines.get_mut(i)) {
                    Some(line) if !line.is_empty() => *line = "",
                    // Cannot say which line is bad: blanking nothing would loop for ever.
                    _ => return Vec::new(),
                }
            }
        }
    }
}

fn section(out: &mut String, title: &str, items: &[ConfigError]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for item in items {
        let _ = writeln!(out, "{item}");
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

// ---------------------------------------------------------------- workers

fn render_workers(out: &mut String, workers: &Workers, verbose: bool) {
    let list = if workers.list.is_empty() {
        "none".to_owned()
    } else {
        workers.list.join(", ")
    };
    let _ = writeln!(out, "  worker.list = {list}");
    let _ = writeln!(out, "  worker.maintain = {}", secs(workers.maintain));
    for name in print_order(workers) {
        let Some(def) = workers.get(name) else {
            continue;
        };
        let lbs = lbs_of(workers, name);
        let mut roles = Vec::new();
        if workers.is_listed(name) {
            roles.push("in worker.list".to_owned());
        }
        if !lbs.is_empty() {
            roles.push(format!("member of {}", lbs.join(", ")));
        }
        let _ = writeln!(
            out,
            "  [{name}] type {}, {}",
            def.type_name(),
            roles.join(", ")
        );
        if verbose {
            let properties = match def {
                WorkerDef::Ajp13(w) => ajp_properties(w, !lbs.is_empty()),
                WorkerDef::Lb(lb) => lb_properties(lb),
                WorkerDef::Status(s) => status_properties(s),
            };
            for (property, value) in properties {
                let _ = writeln!(out, "    {property} = {value}");
            }
        }
        if let WorkerDef::Lb(lb) = def {
            for member in workers.members(lb) {
                let _ = writeln!(out, "    member {}", member_summary(member));
            }
        }
    }
    if !verbose {
        out.push_str("  (every resolved property: jkcheck --verbose)\n");
    }
}

/// worker.list order, then lb members that are not listed, in the order their lbs name them.
fn print_order(workers: &Workers) -> Vec<&str> {
    fn add<'a>(name: &'a str, order: &mut Vec<&'a str>) {
        if !order.contains(&name) {
            order.push(name);
        }
    }
    let mut order: Vec<&str> = Vec::new();
    for name in &workers.list {
        add(name, &mut order);
    }
    for name in &workers.list {
        if let Some(lb) = workers.lb(name) {
            for member in &lb.members {
                if let Some((key, _)) = workers.defs.get_key_value(member.as_str()) {
                    add(key, &mut order);
                }
            }
        }
    }
    for name in workers.defs.keys() {
        add(name, &mut order);
    }
    order
}

fn lbs_of<'a>(workers: &'a Workers, member: &str) -> Vec<&'a str> {
    workers
        .defs
        .values()
        .filter_map(|def| match def {
            WorkerDef::Lb(lb) if lb.members.iter().any(|m| m == member) => Some(lb.name.as_str()),
            _ => None,
        })
        .collect()
}

type PropertyList = Vec<(&'static str, String)>;

fn ajp_properties(w: &AjpWorker, is_member: bool) -> PropertyList {
    let mut p: PropertyList = vec![
        ("host", w.host.clone()),
        ("port", w.port.to_string()),
        ("source", text_or_none(w.source.as_deref())),
        ("prefer_ipv6", w.prefer_ipv6.to_string()),
        ("socket_timeout", opt(w.socket_timeout, secs)),
        (
            "socket_connect_timeout",
            opt(w.socket_connect_timeout, millis),
        ),
        ("socket_keepalive", w.socket_keepalive.to_string()),
        (
            "socket_buffer",
            w.socket_buffer
                .map_or("OS default".to_owned(), |b| b.to_string()),
        ),
        ("ping_mode", ping_mode(w.ping_mode)),
        ("ping_timeout", millis(w.ping_timeout)),
        ("connect_timeout", opt(w.connect_timeout, millis)),
        ("prepost_timeout", opt(w.prepost_timeout, millis)),
        (
            "connection_ping_interval",
            opt(w.connection_ping_interval, secs),
        ),
        (
            "connection_pool_size",
            w.connection_pool_size
                .map_or("ThreadsPerChild".to_owned(), |n| n.to_string()),
        ),
        (
            "connection_pool_minsize",
            w.connection_pool_minsize
                .map_or("(pool size + 1) / 2".to_owned(), |n| n.to_string()),
        ),
        (
            "connection_pool_timeout",
            opt(w.connection_pool_timeout, secs),
        ),
        (
            "connection_acquire_timeout",
            opt(w.connection_acquire_timeout, millis),
        ),
        ("reply_timeout", opt(w.reply_timeout, millis)),
        ("reply_deadline", opt(w.reply_deadline, millis)),
        ("request_body_buffer", w.request_body_buffer.to_string()),
        ("retries", w.retries.to_string()),
        ("retry_interval", millis(w.retry_interval)),
        ("recovery_options", w.recovery_options.to_string()),
        ("fail_on_status", join_or_none(&w.fail_on_status)),
        ("busy_limit", w.busy_limit.to_string()),
        ("max_packet_size", w.max_packet_size.to_string()),
        ("secret", secret(w.secret.as_deref())),
    ];
    if is_member {
        p.extend([
            ("lbfactor", w.lbfactor.to_string()),
            ("route", w.route.clone()),
            ("domain", text_or_none(Some(&w.domain))),
            ("redirect", text_or_none(Some(&w.redirect))),
            ("distance", w.distance.to_string()),
            ("activation", activation(w.activation).to_owned()),
        ]);
    }
    p.push(("mount", mounts(&w.mount)));
    p
}

fn lb_properties(lb: &LbWorker) -> PropertyList {
    vec![
        ("balance_workers", lb.members.join(", ")),
        ("sticky_session", lb.sticky_session.to_string()),
        ("sticky_session_force", lb.sticky_session_force.to_string()),
        ("method", lb.method.name().to_owned()),
        ("lock", lb.lock.name().to_owned()),
        ("retries", lb.retries.to_string()),
        ("lb_retries", lb.lb_retries.to_string()),
        ("retry_interval", millis(lb.retry_interval)),
        ("recover_time", secs(lb.recover_time)),
        ("error_escalation_time", secs(lb.error_escalation_time)),
        ("max_reply_timeouts", lb.max_reply_timeouts.to_string()),
        ("request_body_buffer", lb.request_body_buffer.to_string()),
        ("session_cookie", lb.session_cookie.clone()),
        ("session_path", lb.session_path.clone()),
        ("set_session_cookie", lb.set_session_cookie.to_string()),
        ("session_cookie_path", lb.session_cookie_path.clone()),
        ("secret", secret(lb.secret.as_deref())),
        ("mount", mounts(&lb.mount)),
    ]
}

fn status_properties(s: &StatusWorker) -> PropertyList {
    vec![
        ("css", text_or_none(s.css.as_deref())),
        ("prefix", s.prefix.clone()),
        ("ns", text_or_none(Some(&s.ns))),
        ("xmlns", text_or_none(Some(&s.xmlns))),
        ("doctype", text_or_none(s.doctype.as_deref())),
        ("read_only", s.read_only.to_string()),
        (
            "user",
            if s.user.is_empty() {
                "anyone".to_owned()
            } else {
                s.user.join(", ")
            },
        ),
        ("user_case_insensitive", s.user_case_insensitive.to_string()),
        ("good", s.good.join(", ")),
        ("bad", s.bad.join(", ")),
        ("mount", mounts(&s.mount)),
    ]
}

fn member_summary(w: &AjpWorker) -> String {
    let mut text = format!(
        "{}: route={} domain={} lbfactor={} activation={}",
        w.name,
        w.route,
        text_or_none(Some(&w.domain)),
        w.lbfactor,
        activation(w.activation)
    );
    // Shown only when set: most configurations use neither.
    if !w.redirect.is_empty() {
        let _ = write!(text, " redirect={}", w.redirect);
    }
    if w.distance != 0 {
        let _ = write!(text, " distance={}", w.distance);
    }
    text
}

fn activation(a: Activation) -> &'static str {
    match a {
        Activation::Active => "Active",
        Activation::Disabled => "Disabled",
        Activation::Stopped => "Stopped",
    }
}

fn ping_mode(mode: PingMode) -> String {
    let letters: String = [
        (mode.connect, 'C'),
        (mode.prepost, 'P'),
        (mode.interval, 'I'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, letter)| *letter)
    .collect();
    if letters.is_empty() {
        "none".to_owned()
    } else {
        letters
    }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

fn opt(d: Option<Duration>, show: fn(Duration) -> String) -> String {
    d.map_or("none".to_owned(), show)
}

fn text_or_none(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => "none".to_owned(),
    }
}

/// Never printed: reports get pasted into tickets and chats.
fn secret(value: Option<&str>) -> String {
    match value {
        Some(_) => "(set, not shown)".to_owned(),
        None => "none".to_owned(),
    }
}

fn join_or_none<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(T::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn mounts(patterns: &[String]) -> String {
    if patterns.is_empty() {
        "none".to_owned()
    } else {
        patterns.join(" ")
    }
}

// ---------------------------------------------------------------- mount rules

/// `pattern => worker;extensions (source, file:line)`, the pattern with its `-`/`!` prefixes.
fn describe_rule(rule: &MountRule) -> String {
    format!(
        "{} => {}{} ({}, {})",
        rule.display_pattern(),
        rule.worker,
        extensions(&rule.extensions),
        rule.source,
        rule.origin
    )
}

/// The extensions that are set, written as in JkMount (`;name=value`).
fn extensions(ext: &RuleExtensions) -> String {
    let mut text = String::new();
    let mut add = |name: &str, value: String| {
        let _ = write!(text, ";{name}={value}");
    };
    if let Some(ms) = ext.reply_timeout {
        add("reply_timeout", ms.to_string());
    }
    if ext.sticky_ignore {
        add("sticky_ignore", "1".to_owned());
    }
    if ext.stateless {
        add("stateless", "1".to_owned());
    }
    for (name, members) in [
        ("active", &ext.active),
        ("disabled", &ext.disabled),
        ("stopped", &ext.stopped),
    ] {
        if !members.is_empty() {
            add(name, members.join(","));
        }
    }
    if !ext.fail_on_status.is_empty() {
        let codes: Vec<String> = ext.fail_on_status.iter().map(i32::to_string).collect();
        add("fail_on_status", codes.join(","));
    }
    if let Some(status) = ext.use_server_errors {
        add("use_server_errors", status.to_string());
    }
    if let Some(cookie) = &ext.session_cookie {
        add("session_cookie", cookie.clone());
    }
    if let Some(path) = &ext.session_path {
        add("session_path", path.clone());
    }
    if let Some(on) = ext.set_session_cookie {
        add("set_session_cookie", u8::from(on).to_string());
    }
    if let Some(path) = &ext.session_cookie_path {
        add("session_cookie_path", path.clone());
    }
    text
}

// ---------------------------------------------------------------- URIs

/// Why httpd would never hand a request URI to the mapper.
#[derive(Debug, PartialEq, Eq)]
enum DecodeError {
    BadEscape,
    EncodedSlashOrNul,
    NotUtf8,
}

/// The path httpd gives the module: query dropped, %XX decoded (httpd's ap_unescape_url:
/// a bad escape is 400; %2F and %00 are 404 with the default AllowEncodedSlashes Off).
fn decode_request_path(raw: &str) -> Result<String, DecodeError> {
    let path = raw.split_once('?').map_or(raw, |(path, _query)| path);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or(DecodeError::BadEscape)?;
        if hex == b'/' || hex == 0 {
            return Err(DecodeError::EncodedSlashOrNul);
        }
        out.push(hex);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

fn render_uri(out: &mut String, map: &MountMap, raw: &str) {
    let _ = writeln!(out, "  {raw}");
    let (normalised, outcome) = map_uri(map, raw);
    if let Some(normalised) = normalised {
        let _ = writeln!(out, "    normalised: {normalised}");
    }
    let _ = writeln!(out, "    {outcome}");
}

/// The normalised URI (when there is one) and a sentence saying where it goes.
fn map_uri(map: &MountMap, raw: &str) -> (Option<String>, String) {
    let decoded = match decode_request_path(raw) {
        Ok(decoded) => decoded,
        Err(DecodeError::BadEscape) => {
            return (None, "not mapped: bad %-escape (httpd answers 400)".to_owned())
        }
        Err(DecodeError::EncodedSlashOrNul) => {
            return (
                None,
                "not mapped: %2F or %00 in the path (httpd answers 404 unless AllowEncodedSlashes is on)"
                    .to_owned(),
            )
        }
        Err(DecodeError::NotUtf8) => {
            return (
                None,
                "not mapped: the decoded path is not UTF-8 (mod_jk_rs leaves it to httpd)"
                    .to_owned(),
            )
        }
    };
    let normalised = match normalize_uri(&decoded) {
        Ok(n) => n.into_owned(),
        Err(e @ NormalizeError::AboveRoot) => {
            return (None, format!("not mapped: {e} (httpd answers 400)"))
        }
        Err(e) => return (None, format!("not mapped: {e}")),
    };
    let outcome = if normalised.len() >= MAX_URI_LEN {
        format!(
            "not mapped: URI too long ({} bytes; URIs of {MAX_URI_LEN} bytes or more are never mapped)",
            normalised.len()
        )
    } else {
        explain(map, &normalised)
    };
    (Some(normalised), outcome)
}

/// The map's own answer, explained: which rule won, or what cancelled it.
fn explain(map: &MountMap, uri: &str) -> String {
    let rules = map.rules();
    let number = |rule: &MountRule| {
        rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .map_or(0, |i| i + 1)
    };
    if let Some(rule) = map.map(uri) {
        return format!(
            "worker {} by rule {}: {}",
            rule.worker,
            number(rule),
            describe_rule(rule)
        );
    }
    let enabled = || rules.iter().filter(|r| !r.disabled && r.matches(uri));
    let Some(winner) = enabled().find(|r| !r.exclusion) else {
        return "not mapped: no rule matches".to_owned();
    };
    match enabled().find(|r| r.exclusion && (r.worker == winner.worker || r.worker == "*")) {
        Some(excluder) => format!(
            "not mapped: excluded by rule {}: {} (rule {} would map it to worker {})",
            number(excluder),
            describe_rule(excluder),
            number(winner),
            winner.worker
        ),
        None => "not mapped".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<Command, String> {
        parse_args(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn arguments_take_files_uris_and_defines_in_any_order() {
        let parsed = args(&[
            "--uri",
            "/a",
            "w.properties",
            "--define=X=1",
            "u.properties",
            "--uri=/b",
            "--define",
            "ServerRoot=/srv",
            "-v",
        ]);
        assert_eq!(
            parsed,
            Ok(Command::Check(Options {
                workers_file: "w.properties".into(),
                map_file: Some("u.properties".into()),
                uris: vec!["/a".into(), "/b".into()],
                defines: vec![
                    ("X".into(), "1".into()),
                    ("ServerRoot".into(), "/srv".into())
                ],
                verbose: true,
            }))
        );
    }

    #[test]
    fn usage_mistakes_are_reported() {
        assert_eq!(args(&[]), Err("missing WORKERS_FILE".into()));
        assert_eq!(args(&["w", "--uri"]), Err("--uri needs a URI path".into()));
        assert_eq!(
            args(&["w", "--define", "novalue"]),
            Err("--define expects NAME=VALUE, got 'novalue'".into())
        );
        assert_eq!(
            args(&["w", "--bogus"]),
            Err("unknown option '--bogus'".into())
        );
        assert!(args(&["a", "b", "c"])
            .unwrap_err()
            .starts_with("unexpected argument 'c'"));
        assert_eq!(args(&["w", "-h"]), Ok(Command::Help));
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(
            args(&["--", "--odd-name"]),
            Ok(Command::Check(Options {
                workers_file: "--odd-name".into(),
                ..Options::default()
            }))
        );
    }

    #[test]
    fn request_path_is_decoded_like_httpd() {
        let cases = [
            ("/a%20b?x=%zz", Ok("/a b".to_owned())),
            ("/a/%2e%2e/b", Ok("/a/../b".to_owned())),
            ("/a%2", Err(DecodeError::BadEscape)),
            ("/a%zz", Err(DecodeError::BadEscape)),
            ("/a%2Fb", Err(DecodeError::EncodedSlashOrNul)),
            ("/a%00", Err(DecodeError::EncodedSlashOrNul)),
            ("/a%ff", Err(DecodeError::NotUtf8)),
        ];
        for (raw, expected) in cases {
            assert_eq!(decode_request_path(raw), expected, "{raw}");
        }
    }

    #[test]
    fn ping_mode_lists_letters_or_none() {
        assert_eq!(ping_mode(PingMode::default()), "none");
        let all = PingMode {
            connect: true,
            prepost: true,
            interval: true,
        };
        assert_eq!(ping_mode(all), "CPI");
    }
}
