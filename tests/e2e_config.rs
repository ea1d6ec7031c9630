//! End-to-end tests of the configuration surface, through a real Debian apache2 with our module
//! and the fake AJP backend: JkMountFile reload, JkUnMount exclusions, JkMountCopy, JkEnvVar,
//! JkStripSession, the ForwardURI modes, the mod_log_config notes, JkOptions, JK_REPLY_TIMEOUT,
//! the indicators, and the drop-in surface: the module loaded as `jk_module`, Debian's own
//! `jk.conf` and `workers.properties` and a tutorial's workers.properties, unchanged.
//!
//! Where a test pins what mod_jk does, the expectation was taken from Debian's mod_jk 1.2.48
//! (`libapache2-mod-jk`) running on the same apache2 against the same fake backend.
//!
//! The tests talk HTTP only. Each starts its own httpd and backend on free ports, so they run in
//! parallel.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{pattern_sha256, sha256_hex, AjpBackend, RecordedRequest};
use e2e_common::{
    app_site, backend, crashed_children, module_log_lines, must_get, send, uris_seen, Checks, Site,
    PATIENCE,
};
use http_client::{Connection, Request, Response};
use httpd::{config_test, render_config, static_txt, Httpd, HttpdConfig, Mpm};
use std::path::Path;
use std::time::{Duration, Instant};

/// Debian's `/etc/apache2/mods-available/jk.conf`, verbatim (see fixtures/debian/README.md).
const DEBIAN_JK_CONF: &str = include_str!("fixtures/debian/jk.conf");
/// Debian's `/etc/libapache2-mod-jk/workers.properties`, verbatim.
const DEBIAN_WORKERS: &str = include_str!("fixtures/debian/workers.properties");
/// A workers.properties from a tutorial: indented lines, inline `#` comments in Chinese.
const TUTORIAL_WORKERS: &str = include_str!("fixtures/tutorial-workers.properties");

// ------------------------------------------------------------------ helpers

/// Whether the fake backend produced this answer (it adds `X-Backend` to every answer).
fn from_backend(resp: &Response) -> bool {
    resp.header("X-Backend").is_some()
}

/// Sends `req`; a transport failure becomes a failed check (and `None`).
fn try_send(c: &mut Checks, httpd: &Httpd, req: &Request) -> Option<Response> {
    match send(httpd, req) {
        Ok(resp) => Some(resp),
        Err(e) => {
            c.fail(format!(
                "{} {} failed at the HTTP level: {e}",
                req.method, req.path
            ));
            None
        }
    }
}

/// `req` must be answered by the backend (200 with `X-Backend: b1`).
fn check_forwarded(c: &mut Checks, httpd: &Httpd, req: &Request, what: &str) {
    if let Some(resp) = try_send(c, httpd, req) {
        c.equal(resp.status, 200, &format!("{what}: status"));
        c.equal(
            resp.header("X-Backend"),
            Some("b1"),
            &format!("{what}: X-Backend"),
        );
    }
}

/// `req` must be answered by httpd itself with `status` (the backend is not involved).
fn check_not_forwarded(c: &mut Checks, httpd: &Httpd, req: &Request, status: u16, what: &str) {
    if let Some(resp) = try_send(c, httpd, req) {
        c.equal(resp.status, status, &format!("{what}: status"));
        c.equal(
            resp.header("X-Backend"),
            None,
            &format!("{what}: X-Backend"),
        );
    }
}

/// The one request the backend recorded since the last `clear`, or a failed check.
fn only_request(c: &mut Checks, b: &AjpBackend, what: &str) -> Option<RecordedRequest> {
    let seen = b.requests();
    if seen.len() == 1 {
        seen.into_iter().next()
    } else {
        c.fail(format!(
            "{what}: backend recorded {} requests, expected 1: {:?}",
            seen.len(),
            seen.iter().map(|r| &r.uri).collect::<Vec<_>>()
        ));
        None
    }
}

/// Calls `probe` every 200 ms until it returns true or `timeout` passes.
fn poll_until(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Replaces `relative` in the server directory in one step (write a sibling, rename it over):
/// a child reading the file mid-write must never see it half written, because the reload
/// compares whole-second mtimes and would not look at it again within that second.
fn replace_file(httpd: &Httpd, relative: &str, text: &str) {
    let staging = format!("{relative}.new");
    httpd
        .write_file(&staging, text)
        .unwrap_or_else(|e| panic!("cannot write {staging}: {e}"));
    std::fs::rename(httpd.dir().join(&staging), httpd.dir().join(relative))
        .unwrap_or_else(|e| panic!("cannot move {staging} over {relative}: {e}"));
}

/// How many configuration generations httpd has started (1 = never restarted).
fn generations(httpd: &Httpd) -> usize {
    httpd
        .error_log()
        .matches("resuming normal operations")
        .count()
}

/// `site` loaded through the drop-in record: `LoadModule jk_module …`.
fn as_jk_module(site: &Site) -> HttpdConfig {
    let mut cfg = site.config();
    cfg.module_symbol = "jk_module".to_string();
    cfg
}

fn start(cfg: HttpdConfig) -> Httpd {
    Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"))
}

/// 1-based line of `needle` in the httpd.conf generated for `cfg` (independent of the directory).
fn conf_line_of(cfg: &HttpdConfig, needle: &str) -> usize {
    let text = render_config(cfg, Path::new("/srv/line-count"), 8080);
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the generated httpd.conf:\n{text}"))
}

/// httpd's "Syntax error on line N of …/httpd.conf" or our `httpd.conf:N`.
fn names_httpd_conf_line(output: &str, line: usize) -> bool {
    output.contains(&format!("httpd.conf:{line}"))
        || output
            .lines()
            .any(|l| l.contains(&format!("line {line} of ")) && l.contains("httpd.conf"))
}

/// Upper-cases the two hex digits after every `%`: `%3f` and `%3F` mean the same to a container.
fn canonical_escapes(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut hex_left = 0;
    for ch in uri.chars() {
        if hex_left > 0 {
            out.push(ch.to_ascii_uppercase());
            hex_left -= 1;
        } else {
            if ch == '%' {
                hex_left = 2;
            }
            out.push(ch);
        }
    }
    out
}

// ------------------------------------------------------------------ JkMountFile reload

#[test]
fn mount_file_changes_apply_without_restart_and_a_broken_file_keeps_the_previous_rules() {
    let b1 = backend("b1");
    // One server process: each process reloads the file on its own, and one that served no
    // request while the good file was in place keeps an older map when it meets the broken one
    // (as with mod_jk); which process the kernel hands a request to is not the test's to choose.
    let httpd = Site::new(Mpm::Event)
        .worker("w1", b1.port(), &[])
        .conf("JkMountFile {dir}/uriworkermap.properties")
        .conf("JkMountFileReload 1")
        .conf("StartServers 1\nServerLimit 1\nMaxRequestWorkers 25")
        .file("uriworkermap.properties", "/one/*=w1\n")
        .start();
    let mut c = Checks::new();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/one/x"),
        "/one/x, first file",
    );
    check_not_forwarded(
        &mut c,
        &httpd,
        &Request::get("/two/x"),
        404,
        "/two/x, first file",
    );

    // The reload compares mtimes in whole seconds: the new file must carry a later second.
    std::thread::sleep(Duration::from_millis(1100));
    replace_file(&httpd, "uriworkermap.properties", "/two/*=w1\n");
    let rewritten = Instant::now();
    let switched = poll_until(Duration::from_secs(6), || {
        send(&httpd, &Request::get("/two/x")).is_ok_and(|r| from_backend(&r))
    });
    c.check(switched, || {
        format!(
            "/two/x was still not forwarded {:?} after the file mapped it",
            rewritten.elapsed()
        )
    });
    // Several requests, so that every child (each checks the file on its own) is asked.
    for i in 0..6 {
        let what = format!("/one/x after the rewrite, request {i}");
        check_not_forwarded(&mut c, &httpd, &Request::get("/one/x"), 404, &what);
        check_forwarded(
            &mut c,
            &httpd,
            &Request::get("/two/x"),
            "/two/x after the rewrite",
        );
    }

    // A broken file (a line that is no rule): the previous rules stay, with a warning.
    std::thread::sleep(Duration::from_millis(1100));
    replace_file(
        &httpd,
        "uriworkermap.properties",
        "/three/*=w1\nno-equals-sign-here\n",
    );
    let warned = poll_until(Duration::from_secs(6), || {
        let _ = send(&httpd, &Request::get("/two/x"));
        !module_log_lines(&httpd, "warn", "no-equals-sign-here").is_empty()
    });
    c.check(warned, || {
        "no warning quoting the broken line after the broken rewrite".to_string()
    });
    let kept = module_log_lines(&httpd, "warn", "no-equals-sign-here");
    c.check(
        kept.iter()
            .any(|l| l.contains("uriworkermap.properties") || l.contains("JkMountFile")),
        || format!("the warning does not name the mount file: {kept:?}"),
    );
    for i in 0..6 {
        let what = format!("/two/x after the broken rewrite, request {i}");
        check_forwarded(&mut c, &httpd, &Request::get("/two/x"), &what);
        check_not_forwarded(&mut c, &httpd, &Request::get("/three/x"), 404, "/three/x");
    }

    let seen = uris_seen(&b1);
    c.equal(
        seen.iter().filter(|u| *u == "/one/x").count(),
        1,
        "requests for /one/x the backend saw (only the one before the rewrite)",
    );
    c.check(!seen.iter().any(|u| u.starts_with("/three")), || {
        format!("the backend saw /three: {seen:?}")
    });
    c.equal(
        generations(&httpd),
        1,
        "configuration generations (no restart)",
    );
    c.finish(&httpd);
}

// ------------------------------------------------------------------ JkUnMount

/// CVE-2014-8111: adjacent slashes (and every other spelling) cannot get past a `JkUnMount`.
#[test]
fn cve_2014_8111_jk_unmount_excludes_every_spelling_of_the_excluded_path() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkUnMount /app/secret/* w1")
        .conf("JkUnMount /app/*.gif *")
        .start();
    let mut c = Checks::new();
    for path in [
        "/app/secret/x",
        "/app//secret/x",
        "/app///secret/x",
        "/app/./secret/x",
        "/app/secret;x=y/x",
        "/app/secret;/x",
        "/app/%2e/secret/x",
        "/app/%73ecret/x",
        "/app/public/../secret/x",
        "/app/img/logo.gif",
        "/app/deep/er/logo.gif",
        "/app/img;v=2/logo.gif",
    ] {
        check_not_forwarded(&mut c, &httpd, &Request::get(path), 404, path);
    }
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/public/x"),
        "/app/public/x",
    );
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/img/logo.png"),
        "/app/img/logo.png",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/app/public/x".to_string(), "/app/img/logo.png".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

// ------------------------------------------------------------------ JkMountCopy

/// A name-based `<VirtualHost>` on the test port (the first one is the address's default).
fn vhost(name: &str, lines: &[&str]) -> String {
    let mut block = format!("<VirtualHost 127.0.0.1:{{port}}>\n    ServerName {name}\n");
    for line in lines {
        block.push_str("    ");
        block.push_str(line);
        block.push('\n');
    }
    block.push_str("</VirtualHost>");
    block
}

fn get_on(host: &str, path: &str) -> Request {
    Request::get(path).header("Host", host)
}

#[test]
fn main_server_mounts_reach_a_virtual_host_only_with_jk_mount_copy_on() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf(&vhost("plain.test", &[]))
        .conf(&vhost(
            "copy.test",
            &["JkMountCopy On", "JkMount /own/* w1"],
        ))
        .start();
    let mut c = Checks::new();
    let plain = get_on("plain.test", "/app/x");
    check_not_forwarded(
        &mut c,
        &httpd,
        &plain,
        404,
        "plain.test /app/x (no JkMountCopy)",
    );
    let copied = get_on("copy.test", "/app/x");
    check_forwarded(&mut c, &httpd, &copied, "copy.test /app/x (JkMountCopy On)");
    let own = get_on("copy.test", "/own/x");
    check_forwarded(&mut c, &httpd, &own, "copy.test /own/x (its own JkMount)");
    // The Host header really selects the virtual host: copy.test's own mount is not plain.test's.
    let elsewhere = get_on("plain.test", "/own/x");
    check_not_forwarded(&mut c, &httpd, &elsewhere, 404, "plain.test /own/x");
    c.equal(
        uris_seen(&b1),
        vec!["/app/x".to_string(), "/own/x".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

#[test]
fn jk_mount_copy_all_in_the_main_server_copies_into_every_virtual_host_that_does_not_refuse() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkMountCopy All")
        .conf(&vhost("all.test", &[]))
        .conf(&vhost("off.test", &["JkMountCopy Off"]))
        .start();
    let mut c = Checks::new();
    let all = get_on("all.test", "/app/x");
    check_forwarded(&mut c, &httpd, &all, "all.test /app/x (JkMountCopy All)");
    let off = get_on("off.test", "/app/y");
    check_not_forwarded(
        &mut c,
        &httpd,
        &off,
        404,
        "off.test /app/y (JkMountCopy Off)",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/app/x".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

// ------------------------------------------------------------------ JkEnvVar

#[test]
fn jk_env_var_arrives_as_a_request_attribute_with_its_default_when_unset() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("SetEnv MYVAR hello")
        .conf("SetEnvIf Request_URI \"^/app/override\" OTHER=from-request")
        .conf("JkEnvVar MYVAR")
        .conf("JkEnvVar OTHER dflt")
        .conf("JkEnvVar UNSET")
        .start();
    let mut c = Checks::new();
    check_forwarded(&mut c, &httpd, &Request::get("/app/env"), "/app/env");
    if let Some(r) = only_request(&mut c, &b1, "/app/env") {
        c.equal(r.attribute("MYVAR"), Some("hello"), "MYVAR (SetEnv)");
        c.equal(
            r.attribute("OTHER"),
            Some("dflt"),
            "OTHER (unset: its default)",
        );
        c.equal(r.attribute("UNSET"), None, "UNSET (unset, no default)");
    }
    b1.clear();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/override"),
        "/app/override",
    );
    if let Some(r) = only_request(&mut c, &b1, "/app/override") {
        c.equal(
            r.attribute("OTHER"),
            Some("from-request"),
            "OTHER set for the request",
        );
        c.equal(
            r.attribute("MYVAR"),
            Some("hello"),
            "MYVAR on the second request",
        );
    }
    c.finish(&httpd);
}

// ------------------------------------------------------------------ JkStripSession

#[test]
fn strip_session_serves_a_static_file_named_with_a_jsessionid_parameter() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkStripSession On")
        .start();
    let mut c = Checks::new();
    if let Some(resp) = try_send(
        &mut c,
        &httpd,
        &Request::get("/static.txt;jsessionid=ABC.w1"),
    ) {
        c.equal(resp.status, 200, "/static.txt;jsessionid=ABC.w1 status");
        c.check(resp.body == static_txt(), || {
            format!("body is not static.txt ({} bytes)", resp.body.len())
        });
        c.equal(
            resp.header("X-Backend"),
            None,
            "X-Backend of the static file",
        );
    }
    // Forwarded URIs keep their session id: the container needs it.
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/x;jsessionid=ABC.w1"),
        "mapped",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/app/x;jsessionid=ABC.w1".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

#[test]
fn without_strip_session_a_jsessionid_parameter_hides_the_static_file() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let mut c = Checks::new();
    let req = Request::get("/static.txt;jsessionid=ABC.w1");
    check_not_forwarded(&mut c, &httpd, &req, 404, "/static.txt;jsessionid=ABC.w1");
    c.finish(&httpd);
}

// ------------------------------------------------------------------ ForwardURI modes

#[derive(Clone, Copy)]
enum ForwardUri {
    Proxy,
    Compat,
    CompatUnparsed,
    Escaped,
}

/// Request target, expected query_string attribute, and the URI the backend receives under
/// ForwardURIProxy, Compat, CompatUnparsed and Escaped — as Debian's mod_jk 1.2.48 sends them.
/// (mod_jk writes Escaped's hex digits in lower case; they are compared case-insensitively.)
type UriCase = (&'static str, Option<&'static str>, [&'static str; 4]);

const URI_CASES: [UriCase; 8] = [
    (
        "/app/a%20b/c;jsessionid=X.w1?q=1%202",
        Some("q=1%202"),
        [
            "/app/a%20b/c;jsessionid=X.w1",
            "/app/a b/c;jsessionid=X.w1",
            "/app/a%20b/c;jsessionid=X.w1",
            "/app/a%20b/c;jsessionid=X.w1",
        ],
    ),
    (
        "/app/a%20b/%2e%2e/c;jsessionid=X.w1?q=1%202",
        Some("q=1%202"),
        [
            "/app/c;jsessionid=X.w1",
            "/app/c;jsessionid=X.w1",
            "/app/a%20b/%2e%2e/c;jsessionid=X.w1",
            "/app/c;jsessionid=X.w1",
        ],
    ),
    // CVE-2007-1860: Compat forwards the decoded `%2e%2e`, which the container decodes again.
    (
        "/app/%252e%252e/other/secret",
        None,
        [
            "/app/%252e%252e/other/secret",
            "/app/%2e%2e/other/secret",
            "/app/%252e%252e/other/secret",
            "/app/%252e%252e/other/secret",
        ],
    ),
    (
        "/app/x%3Fy",
        None,
        ["/app/x%3Fy", "/app/x?y", "/app/x%3Fy", "/app/x%3Fy"],
    ),
    (
        "/app/caf%C3%A9",
        None,
        [
            "/app/caf%C3%A9",
            "/app/caf\u{e9}",
            "/app/caf%C3%A9",
            "/app/caf%C3%A9",
        ],
    ),
    (
        "/app//x/./y",
        None,
        ["/app/x/y", "/app/x/y", "/app//x/./y", "/app/x/y"],
    ),
    (
        "/app/a%25b",
        None,
        ["/app/a%25b", "/app/a%b", "/app/a%25b", "/app/a%25b"],
    ),
    (
        "/app/a%5Cb",
        None,
        ["/app/a%5Cb", "/app/a\\b", "/app/a%5Cb", "/app/a%5Cb"],
    ),
];

fn check_forward_uri_mode(mode: ForwardUri) {
    let (option, column) = match mode {
        ForwardUri::Proxy => (None, 0),
        ForwardUri::Compat => (Some("JkOptions +ForwardURICompat"), 1),
        ForwardUri::CompatUnparsed => (Some("JkOptions +ForwardURICompatUnparsed"), 2),
        ForwardUri::Escaped => (Some("JkOptions +ForwardURIEscaped"), 3),
    };
    let b1 = backend("b1");
    let mut site = app_site(Mpm::Event, b1.port(), &[]);
    if let Some(line) = option {
        site = site.conf(line);
    }
    let httpd = site.start();
    let mut c = Checks::new();
    for (target, query, expected) in URI_CASES {
        // Under Compat, a path that a container's decoding would turn into dot segments is not
        // forwarded at all (a deliberate difference: e2e_cve.rs, CVE-2007-1860).
        if matches!(mode, ForwardUri::Compat) && expected[1].to_ascii_lowercase().contains("%2e") {
            continue;
        }
        b1.clear();
        check_forwarded(&mut c, &httpd, &Request::get(target), target);
        let Some(r) = only_request(&mut c, &b1, target) else {
            continue;
        };
        let want = expected[column];
        if matches!(mode, ForwardUri::Escaped) {
            c.equal(
                canonical_escapes(&r.uri),
                canonical_escapes(want),
                &format!("{target}: uri received (hex digits compared case-insensitively)"),
            );
        } else {
            c.equal(r.uri.as_str(), want, &format!("{target}: uri received"));
        }
        c.equal(
            r.query(),
            query,
            &format!("{target}: query_string attribute"),
        );
    }
    c.finish(&httpd);
}

#[test]
fn forward_uri_proxy_is_the_default_and_reencodes_the_decoded_path() {
    check_forward_uri_mode(ForwardUri::Proxy);
}

#[test]
fn forward_uri_compat_sends_the_decoded_path() {
    check_forward_uri_mode(ForwardUri::Compat);
}

#[test]
fn forward_uri_compat_unparsed_sends_the_raw_path_without_the_query() {
    check_forward_uri_mode(ForwardUri::CompatUnparsed);
}

#[test]
fn forward_uri_escaped_sends_the_escaped_path_keeping_path_parameters() {
    check_forward_uri_mode(ForwardUri::Escaped);
}

// ------------------------------------------------------------------ mod_log_config notes

#[test]
fn log_notes_carry_worker_name_type_route_and_duration() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf(
            "LogFormat \"%{JK_WORKER_NAME}n %{JK_WORKER_TYPE}n %{JK_WORKER_ROUTE}n \
             %{JK_REQUEST_DURATION}n %U\" jknotes",
        )
        .conf("CustomLog {dir}/jk-notes.log jknotes")
        .start();
    let mut c = Checks::new();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/logged?sleep=20"),
        "/app/logged",
    );
    let local = must_get(&httpd, "/static.txt");
    c.equal(local.status, 200, "/static.txt status");
    let path = httpd.dir().join("jk-notes.log");
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    poll_until(PATIENCE, || read().lines().count() >= 2);
    let text = read();
    let find = |uri: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|l| l.split(' ').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f.get(4).map(String::as_str) == Some(uri))
    };
    match find("/app/logged") {
        None => c.fail(format!("no jk-notes.log line for /app/logged in:\n{text}")),
        Some(f) => {
            c.equal(f[0].as_str(), "w1", "JK_WORKER_NAME");
            c.equal(f[1].as_str(), "ajp13", "JK_WORKER_TYPE");
            // The worker's route (its name unless `route` is set). mod_jk 1.2.48 leaves this
            // note unset ("-") for a worker that is not an lb member.
            c.equal(f[2].as_str(), "w1", "JK_WORKER_ROUTE");
            let duration = f[3].as_str();
            let well_formed = duration.split_once('.').is_some_and(|(s, us)| {
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && us.len() == 6
                    && us.bytes().all(|b| b.is_ascii_digit())
            });
            c.check(well_formed, || {
                format!("JK_REQUEST_DURATION {duration:?} is not seconds.microseconds")
            });
            let secs: f64 = duration.parse().unwrap_or(-1.0);
            c.check((0.015..5.0).contains(&secs), || {
                format!("JK_REQUEST_DURATION {duration} for a request the backend held 20 ms")
            });
        }
    }
    match find("/static.txt") {
        None => c.fail(format!("no jk-notes.log line for /static.txt in:\n{text}")),
        Some(f) => c.equal(
            f[..4].join(" "),
            "- - - -".to_string(),
            "notes of a request httpd served itself",
        ),
    }
    let access = httpd.wait_for_access_log_lines(2, PATIENCE);
    let line = access.iter().find(|l| l.contains("GET /app/logged"));
    c.check(
        line.is_some_and(|l| l.contains("worker=w1") && l.contains("route=w1")),
        || format!("access.log line for /app/logged: {line:?}"),
    );
    c.finish(&httpd);
}

// ------------------------------------------------------------------ drop-in: jk_module

#[test]
fn loaded_as_jk_module_it_enters_if_module_blocks_and_honours_log_level_jk() {
    let b1 = backend("b1");
    let site = Site::new(Mpm::Event)
        .worker("w1", b1.port(), &[])
        .conf("<IfModule jk_module>\n    JkMount /a/* w1\n    JkOptions +RejectUnsafeURI\n</IfModule>")
        .conf("<IfModule mod_jk.c>\n    JkMount /b/* w1\n</IfModule>")
        .conf("<IfModule !jk_module>\n    JkMount /never/* w1\n</IfModule>")
        .log_level("warn jk:debug");
    let cfg = as_jk_module(&site);
    let (code, output) = config_test(&cfg);
    assert_eq!(
        code, 0,
        "apachectl -t with LogLevel jk:debug failed:\n{output}"
    );
    assert!(output.contains("Syntax OK"), "{output}");

    let httpd = start(cfg);
    let mut c = Checks::new();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/a/x"),
        "/a/x (<IfModule jk_module>)",
    );
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/b/x"),
        "/b/x (<IfModule mod_jk.c>)",
    );
    check_not_forwarded(&mut c, &httpd, &Request::get("/never/x"), 404, "/never/x");
    // RejectUnsafeURI logs at info: shown only because `jk:debug` lowers our module's level
    // below the server's `warn`.
    check_not_forwarded(&mut c, &httpd, &Request::get("/a/100%25"), 404, "/a/100%25");
    let tagged = poll_until(PATIENCE, || {
        httpd
            .error_log()
            .lines()
            .any(|l| l.contains("[jk:info]") && l.contains("unsafe"))
    });
    c.check(tagged, || {
        "no [jk:info] line about the unsafe URI although LogLevel says jk:debug".to_string()
    });
    c.equal(
        uris_seen(&b1),
        vec!["/a/x".to_string(), "/b/x".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

/// Debian's jk.conf with only its absolute paths moved into the server directory.
fn debian_jk_conf() -> String {
    // Substitutions (the only changes): the workers file Debian installs under /etc, and the
    // JkLogFile / JkShmFile under /var/log/apache2/, which the test must not touch.
    let substitutions = [
        (
            "/etc/libapache2-mod-jk/workers.properties",
            "{dir}/workers.properties",
        ),
        ("/var/log/apache2/", "{dir}/"),
    ];
    let mut text = DEBIAN_JK_CONF.to_string();
    for (from, to) in substitutions {
        assert!(
            text.contains(from),
            "fixtures/debian/jk.conf no longer names {from}"
        );
        text = text.replace(from, to);
    }
    text
}

/// Debian's two files, loaded the Debian way: `LoadModule jk_module …` then `Include jk.conf`.
fn debian_config() -> HttpdConfig {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.module_symbol = "jk_module".to_string();
    cfg.prefork_children = 3;
    cfg.global = "Include {dir}/jk.conf\n".to_string();
    cfg.files = vec![
        ("jk.conf".to_string(), debian_jk_conf()),
        ("workers.properties".to_string(), DEBIAN_WORKERS.to_string()),
    ];
    cfg
}

#[test]
fn debians_jk_conf_and_workers_properties_pass_the_config_test_unchanged() {
    let (code, output) = config_test(&debian_config());
    assert_eq!(code, 0, "apachectl -t failed on Debian's files:\n{output}");
    assert!(output.contains("Syntax OK"), "{output}");
}

#[test]
fn debians_jk_conf_mounts_answer_as_under_mod_jk() {
    // Under mod_jk 1.2.48 these files start, and /jk-status and /jk-manager (mounted on workers
    // that Debian's workers.properties does not define) answer 500 "Could not find a worker".
    let httpd = start(debian_config());
    let mut c = Checks::new();
    for path in ["/jk-status", "/jk-manager"] {
        check_not_forwarded(&mut c, &httpd, &Request::get(path), 500, path);
    }
    let named = httpd.error_log().contains("jk-status");
    c.check(named, || {
        "the error log does not name worker jk-status".to_string()
    });
    check_not_forwarded(
        &mut c,
        &httpd,
        &Request::get("/index.html"),
        200,
        "/index.html",
    );
    let crashed = crashed_children(&httpd);
    c.check(crashed.is_empty(), || {
        format!("crashed children: {crashed:?}")
    });
    c.finish(&httpd);
}

/// The tutorial's workers.properties as it is, with mounts on its lb and status workers.
fn tutorial_config() -> HttpdConfig {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.module_symbol = "jk_module".to_string();
    cfg.prefork_children = 3;
    cfg.global = "JkWorkersFile {dir}/workers.properties\n\
                  JkMount /jkstatus stat1\n\
                  JkMount /cluster/* lbcluster\n"
        .to_string();
    cfg.files = vec![(
        "workers.properties".to_string(),
        TUTORIAL_WORKERS.to_string(),
    )];
    cfg
}

#[test]
fn tutorial_workers_properties_with_inline_comments_passes_the_config_test() {
    let (code, output) = config_test(&tutorial_config());
    assert_eq!(
        code, 0,
        "apachectl -t failed on the tutorial's file:\n{output}"
    );
    assert!(output.contains("Syntax OK"), "{output}");
}

#[test]
fn tutorial_status_worker_mount_is_recognised() {
    // Only the status worker is asked: the lb members live on 192.168.18.x, never contacted.
    // mod_jk answers with its status page; a build that does not serve status workers yet must
    // say so with a 500 that names the type.
    let httpd = start(tutorial_config());
    let mut c = Checks::new();
    if let Some(resp) = try_send(&mut c, &httpd, &Request::get("/jkstatus")) {
        let not_served = resp.status == 500
            && httpd
                .error_log()
                .lines()
                .any(|l| l.contains("stat1") && l.contains("status"));
        c.check(resp.status == 200 || not_served, || {
            format!(
                "/jkstatus answered {} (expected the status page, or 500 naming the status type)",
                resp.status
            )
        });
    }
    c.finish(&httpd);
}

// ------------------------------------------------------------------ JkOptions

#[test]
fn flush_packets_option_delivers_multi_packet_answers_intact() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkOptions +FlushPackets")
        .start();
    let mut c = Checks::new();
    for (path, size) in [
        ("/app/flush?size=200000&chunk=1000", 200_000u64),
        ("/app/flush-nocl?size=100000&chunk=777&nocl=1", 100_000),
    ] {
        if let Some(resp) = try_send(&mut c, &httpd, &Request::get(path)) {
            c.equal(resp.status, 200, &format!("{path} status"));
            c.equal(resp.body.len() as u64, size, &format!("{path} body length"));
            c.equal(
                sha256_hex(&resp.body),
                pattern_sha256(size),
                &format!("{path} body sha256"),
            );
        }
    }
    c.finish(&httpd);
}

/// Backend connections opened by `n` requests sent on one kept-alive client connection.
fn connections_for_requests(httpd: &Httpd, b1: &AjpBackend, n: usize, c: &mut Checks) -> usize {
    let before = b1.connections_accepted();
    let mut conn = match Connection::open(httpd.addr()) {
        Ok(conn) => conn,
        Err(e) => {
            c.fail(format!("cannot connect: {e}"));
            return 0;
        }
    };
    for i in 0..n {
        match conn.send(&Request::get(&format!("/app/reuse/{i}"))) {
            Ok(resp) => c.equal(resp.status, 200, &format!("request {i} status")),
            Err(e) => c.fail(format!("request {i} failed at the HTTP level: {e}")),
        }
    }
    drop(conn);
    b1.connections_accepted() - before
}

#[test]
fn disable_reuse_opens_one_backend_connection_per_request() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkOptions +DisableReuse")
        .start();
    let mut c = Checks::new();
    let opened = connections_for_requests(&httpd, &b1, 4, &mut c);
    c.equal(
        opened,
        4,
        "backend connections opened by 4 requests with +DisableReuse",
    );
    c.finish(&httpd);

    // The same without the option: the connection is pooled.
    let b2 = backend("b1");
    let control = app_site(Mpm::Event, b2.port(), &[]).start();
    let mut c = Checks::new();
    let opened = connections_for_requests(&control, &b2, 4, &mut c);
    c.equal(
        opened,
        1,
        "backend connections opened by 4 requests without the option",
    );
    c.finish(&control);
}

#[test]
fn reject_unsafe_uri_keeps_encoded_percent_and_backslash_away_from_the_backend() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkOptions +RejectUnsafeURI")
        .start();
    let mut c = Checks::new();
    for path in ["/app/a%25b", "/app/a%5Cb", "/app/%252e%252e/other"] {
        check_not_forwarded(&mut c, &httpd, &Request::get(path), 404, path);
    }
    check_forwarded(&mut c, &httpd, &Request::get("/app/a%20b"), "/app/a%20b");
    c.equal(
        uris_seen(&b1),
        vec!["/app/a%20b".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

#[test]
fn negated_forward_uri_option_fails_the_config_test_at_its_line() {
    let site = app_site(Mpm::Event, 8009, &[]).conf("JkOptions -ForwardURIProxy");
    let cfg = site.config();
    let line = conf_line_of(&cfg, "JkOptions -ForwardURIProxy");
    let (code, output) = config_test(&cfg);
    assert_ne!(code, 0, "apachectl -t accepted -ForwardURIProxy:\n{output}");
    assert!(
        names_httpd_conf_line(&output, line),
        "no httpd.conf line {line} in:\n{output}"
    );
    assert!(
        output.contains("ForwardURIProxy"),
        "the option is not named:\n{output}"
    );
}

#[test]
fn unknown_jk_option_fails_the_config_test_with_a_suggestion() {
    let site = app_site(Mpm::Event, 8009, &[]).conf("JkOptions +FlushPacket");
    let cfg = site.config();
    let line = conf_line_of(&cfg, "JkOptions +FlushPacket");
    let (code, output) = config_test(&cfg);
    assert_ne!(code, 0, "apachectl -t accepted +FlushPacket:\n{output}");
    assert!(
        names_httpd_conf_line(&output, line),
        "no httpd.conf line {line} in:\n{output}"
    );
    assert!(
        output.contains("FlushPacket"),
        "the option is not named:\n{output}"
    );
    assert!(
        output.contains("FlushPackets"),
        "no suggestion of FlushPackets:\n{output}"
    );
}

// ------------------------------------------------------------------ JK_REPLY_TIMEOUT

#[test]
fn jk_reply_timeout_environment_variable_shortens_the_workers_reply_timeout() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &["reply_timeout=5000"])
        .conf("SetEnvIf Request_URI \"^/app/slow\" JK_REPLY_TIMEOUT=500")
        .start();
    let mut c = Checks::new();
    let started = Instant::now();
    let resp = try_send(&mut c, &httpd, &Request::get("/app/slow?sleep=4000"));
    let waited = started.elapsed();
    if let Some(resp) = resp {
        c.equal(resp.status, 504, "/app/slow?sleep=4000 status");
    }
    // Well below the backend's 4 s and the worker's 5 s: the 500 ms override fired (the slack
    // is for a loaded machine).
    c.check(
        waited >= Duration::from_millis(450) && waited < Duration::from_millis(3500),
        || format!("the 504 came after {waited:?}, expected about 500 ms"),
    );
    // Without the variable the worker's 5 s apply and the same delay is fine.
    let patient = Request::get("/app/patient?sleep=1500");
    check_forwarded(&mut c, &httpd, &patient, "/app/patient?sleep=1500");
    c.finish(&httpd);
}

// ------------------------------------------------------------------ indicators

#[test]
fn remote_address_and_port_indicators_override_what_the_backend_is_told() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkRemoteAddrIndicator X_REMOTE")
        .conf("JkRemotePortIndicator X_REMOTE_PORT")
        .conf("SetEnvIf Request_URI . X_REMOTE=10.9.8.7")
        .conf("SetEnvIf Request_URI . X_REMOTE_PORT=4242")
        // The default name is no longer read once an indicator renames it.
        .conf("SetEnvIf Request_URI . JK_REMOTE_ADDR=10.1.1.1")
        .start();
    let mut c = Checks::new();
    check_forwarded(&mut c, &httpd, &Request::get("/app/who"), "/app/who");
    if let Some(r) = only_request(&mut c, &b1, "/app/who") {
        c.equal(r.remote_addr.as_str(), "10.9.8.7", "remote_addr");
        c.equal(
            r.attribute("AJP_REMOTE_PORT"),
            Some("4242"),
            "AJP_REMOTE_PORT",
        );
    }
    c.finish(&httpd);
}

/// `JkOptions +ForwardPhysicalAddress` behind mod_remoteip: the backend is told the
/// connection's own peer, address and port (mod_remoteip leaves the client's port unknown: 0).
#[test]
fn forward_physical_address_sends_the_connections_port_behind_mod_remoteip() {
    let b1 = backend("b1");
    let mut cfg = app_site(Mpm::Event, b1.port(), &[])
        .conf("RemoteIPHeader X-Forwarded-For")
        .conf("RemoteIPInternalProxy 127.0.0.1")
        .conf("JkOptions +ForwardPhysicalAddress")
        .config();
    cfg.extra_modules.push("remoteip".to_string());
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let mut c = Checks::new();
    let mut conn = Connection::open(httpd.addr()).unwrap();
    let local_port = conn.local_addr().unwrap().port();
    let resp = conn
        .send(&Request::get("/app/phys").header("X-Forwarded-For", "203.0.113.5"))
        .unwrap();
    c.equal(resp.status, 200, "status");
    if let Some(r) = only_request(&mut c, &b1, "/app/phys") {
        c.equal(r.remote_addr.as_str(), "127.0.0.1", "remote_addr");
        c.equal(
            r.attribute("AJP_REMOTE_PORT"),
            Some(local_port.to_string().as_str()),
            "AJP_REMOTE_PORT (the connection's port)",
        );
        // Without HostnameLookups there is no host name: a null string, as mod_jk sends,
        // not the address a second time.
        c.equal(r.remote_host.as_deref(), None, "remote_host");
    }
    c.finish(&httpd);
}

#[test]
fn default_remote_address_indicator_is_jk_remote_addr() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("SetEnvIf Request_URI \"^/app/proxied\" JK_REMOTE_ADDR=10.1.2.3")
        .start();
    let mut c = Checks::new();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/proxied"),
        "/app/proxied",
    );
    check_forwarded(&mut c, &httpd, &Request::get("/app/direct"), "/app/direct");
    let seen = b1.requests();
    let addr = |uri: &str| {
        seen.iter()
            .find(|r| r.uri == uri)
            .map(|r| r.remote_addr.clone())
    };
    c.equal(
        addr("/app/proxied"),
        Some("10.1.2.3".to_string()),
        "remote_addr with JK_REMOTE_ADDR",
    );
    c.equal(
        addr("/app/direct"),
        Some("127.0.0.1".to_string()),
        "remote_addr without it",
    );
    c.finish(&httpd);
}

/// JkAutoAlias serves the static files of a context from the Tomcat webapps directory, hides
/// WEB-INF and META-INF (404) and refuses `.war` contexts (403); mapped URIs still go to Tomcat.
#[test]
fn auto_alias_serves_context_files_and_hides_web_inf() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkAutoAlias {dir}/webapps")
        .file("webapps/shop/index.html", "shop front page\n")
        .file("webapps/shop/WEB-INF/web.xml", "<web-app/>\n")
        .file("webapps/old.war/readme.txt", "packed\n")
        .start();
    let mut c = Checks::new();
    for (path, status, body) in [
        ("/shop/index.html", 200, Some("shop front page\n")),
        ("/shop/WEB-INF/web.xml", 404, None),
        ("/shop/meta-inf/x", 404, None),
        ("/old.war/readme.txt", 403, None),
        ("/nowhere/x", 404, None),
    ] {
        if let Some(resp) = try_send(&mut c, &httpd, &Request::get(path)) {
            c.equal(resp.status, status, &format!("{path} status"));
            if let Some(text) = body {
                c.equal(resp.text(), text.to_string(), &format!("{path} body"));
            }
            c.equal(
                resp.header("X-Backend"),
                None,
                &format!("{path} is not from the backend"),
            );
        }
    }
    check_forwarded(&mut c, &httpd, &Request::get("/app/x"), "mapped URI");
    c.finish(&httpd);
}

/// SSL facts from mod_ssl's environment reach the backend as AJP attributes (here set with
/// SetEnv, so no TLS is needed): cert (with `+ForwardSSLCertChain` followed by the chain), cipher,
/// session, key size as a number, protocol; `is_ssl` from HTTPS=on.
#[test]
fn ssl_environment_is_forwarded_with_the_certificate_chain() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("SetEnv HTTPS on")
        .conf("SetEnv SSL_CLIENT_CERT CERT-A")
        .conf("SetEnv SSL_CLIENT_CERT_CHAIN_0 CHAIN-0")
        .conf("SetEnv SSL_CLIENT_CERT_CHAIN_1 CHAIN-1")
        .conf("SetEnv SSL_CIPHER TLS_AES_128_GCM_SHA256")
        .conf("SetEnv SSL_CIPHER_USEKEYSIZE 128")
        .conf("SetEnv SSL_SESSION_ID abcdef")
        .conf("SetEnv SSL_PROTOCOL TLSv1.3")
        .conf("JkOptions +ForwardSSLCertChain")
        .start();
    let mut c = Checks::new();
    check_forwarded(&mut c, &httpd, &Request::get("/app/tls"), "/app/tls");
    if let Some(r) = only_request(&mut c, &b1, "/app/tls") {
        c.equal(r.is_ssl, true, "is_ssl");
        c.equal(
            r.attribute("ssl_cert"),
            Some("CERT-ACHAIN-0CHAIN-1"),
            "certificate and chain",
        );
        c.equal(
            r.attribute("ssl_cipher"),
            Some("TLS_AES_128_GCM_SHA256"),
            "cipher",
        );
        c.equal(r.attribute("ssl_session"), Some("abcdef"), "session");
        c.equal(r.attribute("ssl_key_size"), Some("128"), "key size");
        c.equal(r.attribute("AJP_SSL_PROTOCOL"), Some("TLSv1.3"), "protocol");
    }
    c.finish(&httpd);
}

/// JkLogFile takes the connector's messages (with JkLogLevel and JkLogStampFormat) and the
/// JkRequestLogFormat lines, as with mod_jk.
#[test]
fn jk_log_file_gets_messages_and_request_lines() {
    let b1 = backend("b1");
    let dead = e2e_common::dead_port();
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .worker("down", dead, &["retries=1"])
        .conf("JkMount /down/* down")
        .conf("JkLogFile {dir}/mod_jk.log")
        .conf("JkLogLevel info")
        .conf("JkLogStampFormat \"[%Y-%m-%d %H:%M:%S.%q] \"")
        .conf("JkRequestLogFormat \"%w %s %U%q %T\"")
        .start();
    let mut c = Checks::new();
    check_forwarded(&mut c, &httpd, &Request::get("/app/x?y=1"), "/app/x");
    if let Some(resp) = try_send(&mut c, &httpd, &Request::get("/down/z")) {
        c.equal(resp.status, 503, "/down/z status");
    }
    let path = httpd.dir().join("mod_jk.log");
    let text = {
        let mut text = String::new();
        let _ = poll_until(Duration::from_secs(5), || {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            text.lines().count() >= 3
        });
        text
    };
    let lines: Vec<&str> = text.lines().collect();
    // %T: seconds with a fraction (not necessarily below one on a loaded machine).
    c.check(
        lines.iter().any(|l| {
            l.split_once("] w1 200 /app/x?y=1 ")
                .is_some_and(|(_, t)| t.contains('.') && t.trim().parse::<f64>().is_ok())
        }),
        || format!("no request line for /app/x: {lines:?}"),
    );
    c.check(
        lines.iter().any(|l| l.contains("] down 503 /down/z ")),
        || format!("no request line for /down/z: {lines:?}"),
    );
    c.check(
        lines
            .iter()
            .any(|l| l.contains("[error]") && l.contains("worker down") && l.contains("503")),
        || format!("no error line naming worker down: {lines:?}"),
    );
    c.check(lines.iter().all(|l| l.starts_with("[20")), || {
        format!("a line without the stamp: {lines:?}")
    });
    c.finish(&httpd);
}

/// `JkLogFile "|program args"` starts a piped logger through httpd, without a shell as mod_jk
/// does (Debian's jk.conf suggests rotatelogs): every child's request lines reach the program,
/// under prefork too.
#[test]
fn piped_jk_log_file_reaches_the_program() {
    let b1 = backend("b1");
    for mpm in [Mpm::Event, Mpm::Prefork] {
        let httpd = app_site(mpm, b1.port(), &[])
            .conf("JkLogFile \"|/usr/bin/rotatelogs -n 2 {dir}/piped.log 10M\"")
            .conf("JkLogLevel info")
            .conf("JkRequestLogFormat \"%w %s %U\"")
            .start();
        let mut c = Checks::new();
        for i in 0..6 {
            check_forwarded(
                &mut c,
                &httpd,
                &Request::get(&format!("/app/p{i}")),
                &format!("/app/p{i}"),
            );
        }
        let path = httpd.dir().join("piped.log");
        let mut text = String::new();
        let _ = poll_until(Duration::from_secs(5), || {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            text.lines()
                .filter(|l| l.contains("] w1 200 /app/p"))
                .count()
                >= 6
        });
        for i in 0..6 {
            c.check(text.contains(&format!("] w1 200 /app/p{i}\n")), || {
                format!("{mpm:?}: no request line for /app/p{i} in the piped log: {text:?}")
            });
        }
        c.check(
            !httpd.error_log().contains("piped logs are not supported"),
            || "the piped JkLogFile was refused".to_string(),
        );
        c.finish(&httpd);
    }
}

/// With a JkLogFile, what the module says about a request goes there too (mod_jk's
/// behaviour), e.g. a request for a worker that does not exist.
#[test]
fn request_errors_go_to_the_jk_log_file() {
    let b1 = backend("b1");
    let mut cfg = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkLogFile {dir}/mod_jk.log")
        .conf("<Location /ghost>\n  SetHandler jakarta-servlet\n  SetEnv JK_WORKER_NAME ghost\n</Location>")
        .config();
    cfg.extra_modules.push("env".to_string());
    let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let resp = e2e_common::must_get(&httpd, "/ghost/x");
    assert_eq!(resp.status, 500);
    let path = httpd.dir().join("mod_jk.log");
    let mut text = String::new();
    let _ = poll_until(Duration::from_secs(5), || {
        text = std::fs::read_to_string(&path).unwrap_or_default();
        text.contains("unknown worker ghost")
    });
    assert!(
        text.lines()
            .any(|l| l.contains("[error]") && l.contains("unknown worker ghost")),
        "JkLogFile lacks the unknown worker line: {text:?}"
    );
}

/// `JkLogLevel debug` with a JkLogFile: the request's story is in that file, as with mod_jk
/// (mapping decision, connection, AJP exchange).
#[test]
fn jk_log_level_debug_traces_a_request_in_the_jk_log_file() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkLogFile {dir}/mod_jk.log")
        .conf("JkLogLevel debug")
        .start();
    let mut c = Checks::new();
    check_forwarded(&mut c, &httpd, &Request::get("/app/story"), "/app/story");
    let path = httpd.dir().join("mod_jk.log");
    let mut text = String::new();
    let _ = poll_until(Duration::from_secs(5), || {
        text = std::fs::read_to_string(&path).unwrap_or_default();
        text.contains("END_RESPONSE")
    });
    for line in [
        "/app/story mapped to worker w1 by '/app/*'",
        "worker w1: opened a new connection to 127.0.0.1:",
        "worker w1: SEND_HEADERS: status 200",
        "worker w1: END_RESPONSE: ",
    ] {
        c.check(
            text.lines()
                .any(|l| l.contains("[debug]") && l.contains(line)),
            || format!("no debug line '{line}' in the JkLogFile: {text:?}"),
        );
    }
    c.finish(&httpd);
}

/// `apachectl -t` shows warnings too (a deprecated property), with file:line, and still passes.
#[test]
fn config_test_shows_warnings_with_file_and_line() {
    let b1 = backend("b1");
    let cfg = app_site(Mpm::Event, b1.port(), &["cachesize=5"]).config();
    let (code, output) = config_test(&cfg);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.lines().any(|l| l.contains("workers.properties:")
            && l.contains("'worker.w1.cachesize' is deprecated")),
        "no warning naming the deprecated property:\n{output}"
    );
}

/// The example configuration shipped in httpd-conf/examples passes `apachectl -t` (paths
/// pointed at a scratch directory; the harness does the LoadModule).
#[test]
fn shipped_example_configuration_passes_the_config_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("httpd-conf/examples");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).expect("example file");
    let conf: String = read("httpd-jk.conf")
        .lines()
        .filter(|l| !l.trim_start().starts_with("LoadModule"))
        .map(|l| l.replace("conf/", "{dir}/").replace("logs/", "{dir}/"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.module_symbol = "jk_module".to_string();
    cfg.global = conf;
    cfg.files = vec![
        ("workers.properties".to_string(), read("workers.properties")),
        (
            "uriworkermap.properties".to_string(),
            read("uriworkermap.properties"),
        ),
    ];
    let (code, output) = config_test(&cfg);
    assert_eq!(code, 0, "{output}");
    assert!(
        !output.contains("mod_jk_rs:"),
        "warnings for the example:\n{output}"
    );
}

/// `JkWorkerIndicator`: with `SetHandler jakarta-servlet`, the worker comes from the variable
/// the directive names (here set by SetEnvIf); an unmapped request without it is declined.
#[test]
fn worker_indicator_names_the_variable_that_selects_the_worker() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("JkWorkerIndicator MY_WORKER")
        .conf("SetEnvIf Request_URI \"^/svc/\" MY_WORKER=w1")
        .conf("<Location /svc>\n    SetHandler jakarta-servlet\n</Location>")
        .conf("<Location /nosvc>\n    SetHandler jakarta-servlet\n</Location>")
        .start();
    let mut c = Checks::new();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/svc/x"),
        "/svc/x via MY_WORKER",
    );
    check_not_forwarded(
        &mut c,
        &httpd,
        &Request::get("/nosvc/x"),
        404,
        "/nosvc/x without a worker",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/svc/x".to_string()],
        "URIs the backend saw",
    );
    c.finish(&httpd);
}

/// One notice line says which module runs and where its workers come from (`apachectl -M`
/// cannot tell mod_jk_rs from mod_jk when both load as jk_module), and the version is in
/// httpd's own start-up line.
#[test]
fn the_start_up_notice_names_the_module_version_and_workers_file() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let version = concat!("mod_jk_rs/", env!("CARGO_PKG_VERSION"));
    let wanted = format!("{version} configured: workers from ");
    assert!(
        httpd.wait_for_error_log(&wanted, Duration::from_secs(5)),
        "no start-up notice '{wanted}…':\n{}",
        httpd.error_log()
    );
    let log = httpd.error_log();
    let line = log.lines().find(|l| l.contains(&wanted)).unwrap_or("");
    assert!(
        line.contains("[jk_rs:notice]") || line.contains(":notice]"),
        "{line}"
    );
    assert!(
        line.contains("workers.properties (1 in worker.list)"),
        "{line}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("AH00489") && l.contains(version)),
        "httpd's own start-up line lacks {version}:\n{log}"
    );
}

/// Mounts without any JkWorkersFile: said once, by name, under `apachectl -t`.
#[test]
fn mounts_without_a_workers_file_are_explained_once() {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global = "JkMount /app/* ajp13\n".to_string();
    let (code, output) = config_test(&cfg);
    let said: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("no JkWorkersFile and no JkWorkerProperty"))
        .collect();
    assert_eq!(said.len(), 1, "exit {code}:\n{output}");
}

/// CVE-2018-11759 for every worker, not only the status page: httpd's `<Location>` access
/// control must see the URI the mount matched. A protected path stays protected under every
/// spelling that maps to it (path parameters, `//`, dot segments), while an unprotected URI
/// with `;jsessionid=` still reaches Tomcat as the client sent it.
#[test]
fn cve_2018_11759_location_rules_hold_for_every_spelling_of_a_mapped_uri() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[])
        .conf("<Location /app/admin>\n  Require ip 192.0.2.1\n</Location>")
        .start();
    let mut c = Checks::new();
    for spelling in [
        "/app/admin",
        "/app/admin;",
        "/app/admin;x=1",
        "/app/admin%3b",
        "/app/admin/",
        "//app/admin",
        "/app//admin",
        "/app/./admin",
        "/app/x/../admin",
        "/app/x/..;/admin",
        "/app;/admin",
        "/app/admin;jsessionid=ABC.b1",
        "/app/%61dmin",
    ] {
        if let Some(resp) = try_send(&mut c, &httpd, &Request::get(spelling)) {
            c.check(resp.status == 403 || resp.status == 404, || {
                format!(
                    "{spelling}: {} from {:?}, expected 403/404",
                    resp.status,
                    resp.header("X-Backend")
                )
            });
        }
    }
    c.check(b1.requests().is_empty(), || {
        format!("the backend saw protected requests: {:?}", uris_seen(&b1))
    });
    b1.clear();
    check_forwarded(
        &mut c,
        &httpd,
        &Request::get("/app/public;jsessionid=ABC.b1"),
        "session URI",
    );
    c.equal(
        uris_seen(&b1),
        vec!["/app/public;jsessionid=ABC.b1".to_string()],
        "the backend gets the URI with its session parameter",
    );
    c.finish(&httpd);
}
