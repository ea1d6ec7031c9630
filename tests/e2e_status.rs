//! The status worker (issue #15) through a real httpd: every command and format with mod_jk's
//! headers and line/element shapes (compared with mod_jk 1.2.48's captured pages), an update
//! seen by every prefork child and by the balancer, an edit kept across a graceful restart,
//! `read_only` and `user`, the cross-site and token refusals, escaping of hostile values in
//! every format, live counters of a plain ajp13 worker, the two status-page CVEs, and the
//! Prometheus output read by the real `prometheus_client` parser.
//!
//! The lab (`tests/support/status_lab.rs`): lb `lb` over b1 b2 b3, plain worker `solo`
//! (busy_limit 1), status workers on `/jkstatus`, `/jkstatus-ro`, `/jkstatus-user`, ….

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;
#[path = "support/json_text.rs"]
mod json_text;
#[path = "support/status_lab.rs"]
mod status_lab;

use e2e_common::{backend, Checks, Site};
use http_client::{Request, Response};
use httpd::Mpm;
use json_text::json_string as json_quote;
use status_lab::{
    form_token, keys, line_with, pairs, parse_with_python, sample, sample_line, value_of, Lab,
    HOSTILE_DOMAIN, OK, PASSWORD,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const FORMATS: [&str; 6] = ["html", "xml", "txt", "prop", "json", "prometheus"];

/// What the page shows for any format: a marker only the status worker writes.
fn is_status_content(body: &str) -> bool {
    [
        "JK Status Manager",
        "Result: type=",
        "jk:status",
        "worker.result.type",
        "jk_info",
        "\"schema\"",
    ]
    .iter()
    .any(|m| body.contains(m))
}

fn content_type_for(mime: &str) -> &'static str {
    match mime {
        "html" => "text/html",
        "xml" => "text/xml",
        "json" => "application/json",
        "prometheus" => "text/plain; version=0.0.4",
        _ => "text/plain",
    }
}

/// Headers every answer carries, as mod_jk's do.
fn check_headers(c: &mut Checks, what: &str, resp: &Response, mime: &str) {
    let ct = resp.header("Content-Type").unwrap_or("");
    c.check(ct.starts_with(content_type_for(mime)), || {
        format!(
            "{what}: Content-Type {ct:?}, expected {}",
            content_type_for(mime)
        )
    });
    c.equal(
        resp.header("Cache-Control"),
        Some("no-cache"),
        &format!("{what}: Cache-Control"),
    );
    c.equal(
        resp.header("Pragma"),
        Some("no-cache"),
        &format!("{what}: Pragma"),
    );
}

/// `member`'s `key` in the txt list is `want`.
fn expect_member(c: &mut Checks, lab: &Lab, (member, key): (&str, &str), want: &str, what: &str) {
    c.equal(lab.member_value(member, key).as_str(), want, what);
}

/// `Member` of `Member: name=…`: the record kind of a txt line.
fn label(line: &str) -> Option<&str> {
    let (label, rest) = line.split_once(':')?;
    let words = label.chars().all(|c| c.is_ascii_alphabetic() || c == ' ');
    (words && (rest.is_empty() || rest.starts_with(' '))).then_some(label)
}

/// The record kinds of the txt lines in mod_jk's samples.
fn txt_labels() -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    for file in [
        "list.txt",
        "dump.txt",
        "version.txt",
        "list-TomcatA-killed.txt",
    ] {
        for line in sample(file).lines() {
            if let Some(l) = label(line) {
                labels.insert(l.to_string());
            }
        }
    }
    labels
}

/// The structure of one answer in `mime`; `ok` whether it must report success.
fn check_structure(c: &mut Checks, what: &str, body: &str, mime: &str, ok: bool) {
    let lines: Vec<&str> = body.lines().filter(|l| !l.is_empty()).collect();
    match mime {
        "txt" => {
            // Every line is a record kind mod_jk writes (its samples), one of ours for plain
            // ajp13 workers (the samples have none), or a `key=value` line of `dump`.
            let mut labels = txt_labels();
            labels.extend(["AJP Workers".to_string(), "AJP Worker".to_string()]);
            for line in &lines {
                let known = match label(line) {
                    Some(l) => labels.contains(l),
                    None => line.split_once('=').is_some_and(|(k, _)| !k.contains(' ')),
                };
                c.check(known, || format!("{what}: unexpected txt line {line:?}"));
            }
            let last = lines.last().copied().unwrap_or("");
            c.check(last.starts_with("Result: type="), || {
                format!("{what}: last line {last:?}")
            });
            if ok {
                c.equal(last, OK, what);
            }
        }
        "prop" => {
            for line in &lines {
                c.check(line.contains('='), || {
                    format!("{what}: prop line without '=': {line:?}")
                });
            }
            let n = lines.len();
            c.check(
                n >= 2 && lines[n - 2].starts_with("worker.result.type="),
                || {
                    format!(
                        "{what}: prop does not end with worker.result.type: {:?}",
                        lines.last()
                    )
                },
            );
            c.check(
                n >= 1 && lines[n - 1].starts_with("worker.result.message="),
                || format!("{what}: prop does not end with worker.result.message"),
            );
            if ok {
                c.equal(
                    lines.get(n.wrapping_sub(2)).copied(),
                    Some("worker.result.type=OK"),
                    what,
                );
            }
        }
        "xml" => {
            c.check(
                body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>"),
                || format!("{what}: xml prolog {:?}", body.lines().next()),
            );
            let parsed = parse_with_python("xml", body);
            let tags: Vec<&str> = parsed
                .lines()
                .map(|l| l.split('\t').next().unwrap_or(""))
                .collect();
            c.equal(
                tags.first().copied(),
                Some("status"),
                &format!("{what}: root element"),
            );
            c.equal(
                tags.last().copied(),
                Some("result"),
                &format!("{what}: last element"),
            );
            if ok {
                c.check(parsed.contains("\"type\": \"OK\""), || {
                    format!("{what}: result not OK")
                });
            }
        }
        "json" => {
            let parsed = parse_with_python("json", body);
            c.check(
                parsed.contains("\"schema\": \"mod_jk_rs.status/1\""),
                || format!("{what}: no schema in {parsed}"),
            );
            let want = if ok {
                "\"result\": {\"type\": \"OK\""
            } else {
                "\"result\": {\"type\": "
            };
            c.check(parsed.contains(want), || {
                format!("{what}: no {want} in {parsed}")
            });
        }
        "prometheus" => {
            let parsed = parse_with_python("prometheus", body);
            // Commands that show data start with jk_info; update, reset and recover answer
            // with their result alone.
            let shows_data = !["update", "reset", "recover"]
                .iter()
                .any(|cmd| what.contains(&format!("cmd={cmd}")));
            c.check(
                !shows_data || parsed.lines().any(|l| l.starts_with("jk_info\tgauge")),
                || format!("{what}: no jk_info family in {parsed}"),
            );
            let want = if ok {
                "# Result: type=OK"
            } else {
                "# Result: type="
            };
            c.check(lines.last().is_some_and(|l| l.starts_with(want)), || {
                format!("{what}: last line {:?}", lines.last())
            });
        }
        _ => {
            c.check(
                body.starts_with("<!DOCTYPE html>") && body.trim_end().ends_with("</html>"),
                || format!("{what}: not a whole HTML page"),
            );
            c.check(body.contains("<title>JK Status Manager</title>"), || {
                format!("{what}: title")
            });
            if !ok {
                c.check(
                    body.contains("Result: ERROR") || body.contains("class=\"result error\""),
                    || format!("{what}: no error shown"),
                );
            }
        }
    }
}

#[test]
fn every_command_and_format_answers_with_mod_jk_headers_and_structure() {
    let lab = Lab::start(Mpm::Event, 2, "");
    lab.warm_up(6);
    let mut c = Checks::new();
    // (query, ok): a command and its parameters; whether it must succeed.
    let commands: [(&str, bool); 10] = [
        ("", true),
        ("cmd=list", true),
        ("cmd=show&w=lb", true),
        ("cmd=show&w=lb&sw=b1", true),
        ("cmd=show&w=solo", true),
        ("cmd=edit&w=lb&sw=b1", true),
        ("cmd=update&w=lb&sw=b3&vwf=1", true),
        ("cmd=reset&w=solo", true),
        ("cmd=version", true),
        ("cmd=dump", true),
    ];
    for (query, ok) in commands {
        for mime in FORMATS {
            let path = format!("/jkstatus?{query}&mime={mime}");
            let resp = lab.get(&path);
            c.equal(resp.status, 200, &format!("{path}: status"));
            check_headers(&mut c, &path, &resp, mime);
            check_structure(&mut c, &path, &resp.text(), mime, ok);
        }
    }
    // recover of a member that is not in error: an answer in every format, with a Result.
    for mime in FORMATS {
        let path = format!("/jkstatus?cmd=recover&w=lb&sw=b1&mime={mime}");
        let resp = lab.get(&path);
        check_headers(&mut c, &path, &resp, mime);
        check_structure(&mut c, &path, &resp.text(), mime, false);
    }
    // The default format is html.
    check_headers(&mut c, "/jkstatus", &lab.get("/jkstatus"), "html");

    // Line shapes: the same keys in the same order as mod_jk 1.2.48's.
    let txt = lab.get("/jkstatus?mime=txt").text();
    for prefix in [
        "Server:",
        "Time:",
        "Software:",
        "Balancer Worker:",
        "Member:",
        "Map:",
    ] {
        let ours = txt
            .lines()
            .find(|l| l.starts_with(prefix))
            .map(pairs)
            .unwrap_or_default();
        c.equal(
            keys(&ours),
            keys(&sample_line("list.txt", prefix)),
            &format!("txt {prefix} keys"),
        );
    }
    let show = lab.get("/jkstatus?cmd=show&w=lb&sw=b1&mime=txt").text();
    let member = show
        .lines()
        .find(|l| l.starts_with("Member:"))
        .map(pairs)
        .unwrap_or_default();
    c.equal(
        keys(&member),
        keys(&sample_line("show-lbcluster-TomcatA.txt", "Member:")),
        "txt show member keys",
    );
    // prop: the keys of the lb and of a member, in order of first appearance.
    let prop_keys = |text: &str, lb: &str, member: &str| -> (Vec<String>, Vec<String>) {
        let mut lb_keys = Vec::new();
        let mut member_keys = Vec::new();
        for line in text.lines() {
            let Some((key, _)) = line.split_once('=') else {
                continue;
            };
            if let Some(k) = key.strip_prefix(&format!("worker.{lb}.")) {
                let k = match k.strip_prefix("map.") {
                    Some(rest) => {
                        format!("map.N.{}", rest.split_once('.').map_or(rest, |(_, r)| r))
                    }
                    None => k.to_string(),
                };
                if !lb_keys.contains(&k) {
                    lb_keys.push(k);
                }
            } else if let Some(k) = key.strip_prefix(&format!("worker.{member}.")) {
                member_keys.push(k.to_string());
            }
        }
        (lb_keys, member_keys)
    };
    let ours = prop_keys(&lab.get("/jkstatus?mime=prop").text(), "lb", "b1");
    let theirs = prop_keys(&sample("list.prop"), "lbcluster", "TomcatA");
    c.equal(&ours.0, &theirs.0, "prop lb keys");
    c.equal(&ours.1, &theirs.1, "prop member keys");
    let top = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
            .filter(|k| {
                !k.starts_with("worker.lb")
                    && !k.starts_with("worker.b")
                    && !k.starts_with("worker.Tomcat")
            })
            // Ours has a plain ajp13 worker, the sample none.
            .filter(|k| {
                k != "worker.list" && k != "worker.ajp_count" && !k.starts_with("worker.solo")
            })
            .collect()
    };
    c.equal(
        top(&lab.get("/jkstatus?mime=prop").text()),
        top(&sample("list.prop")),
        "prop global keys",
    );
    // xml: element names and attribute names (in order) of each element kind.
    let xml_shapes = |text: &str| -> Vec<(String, String)> {
        let mut seen = Vec::new();
        for line in parse_with_python("xml", text).lines() {
            let mut parts = line.split('\t');
            let (tag, attrs) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if tag != "ajp_workers"
                && tag != "ajp_worker"
                && !seen.iter().any(|(t, _): &(String, String)| t == tag)
            {
                seen.push((tag.to_string(), attrs.to_string()));
            }
        }
        seen
    };
    let ours = xml_shapes(&lab.get("/jkstatus?mime=xml").text());
    let theirs = xml_shapes(&sample("list.xml"));
    for (tag, attrs) in &theirs {
        let mine = ours.iter().find(|(t, _)| t == tag).map(|(_, a)| a.as_str());
        c.equal(
            mine,
            Some(attrs.as_str()),
            &format!("xml <jk:{tag}> attributes"),
        );
    }
    // Errors: mod_jk's exact bodies, with 200.
    for (query, file) in [
        ("cmd=show&w=nope&mime=txt", "error-unknown-worker.txt"),
        ("cmd=show&w=b1&mime=txt", "error-member-as-worker.txt"),
        ("cmd=bogus&mime=txt", "error-unknown-cmd.txt"),
        ("cmd=show&mime=xml", "error-show-without-w.xml"),
    ] {
        let resp = lab.get(&format!("/jkstatus?{query}"));
        c.equal(
            resp.status,
            200,
            &format!("{query}: status (mod_jk answers errors with 200)"),
        );
        c.equal(
            resp.text().trim_end(),
            sample(file).trim_end(),
            &format!("{query}: body like {file}"),
        );
    }
    c.finish(&lab.httpd);
}

/// A plain GET drains b1 (as curl deploy scripts do); every prefork child then shows it
/// disabled, and no new traffic goes to b1.
#[test]
fn a_drain_by_plain_get_is_seen_by_every_prefork_child_and_the_balancer() {
    let lab = Arc::new(Lab::start(Mpm::Prefork, 4, ""));
    let mut c = Checks::new();
    let resp = lab.get("/jkstatus?cmd=update&w=lb&sw=b1&vwa=1&mime=txt&marker=drain");
    c.equal(resp.status, 200, "update status");
    c.equal(resp.text().trim_end(), OK, "update answer");
    let updater = lab.pid_of("marker=drain");
    c.check(updater.is_some(), || {
        "pids.log has no line for the update".into()
    });
    // Ask `list` from several client threads at once (so several children answer) until
    // three children other than the updater have answered, each showing b1 disabled.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut others = BTreeSet::new();
    let mut round = 0;
    while others.len() < 3 && Instant::now() < deadline {
        round += 1;
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let lab = Arc::clone(&lab);
                thread::spawn(move || {
                    let marker = format!("probe-{round}-{t}");
                    let text = lab.get(&format!("/jkstatus?mime=txt&m={marker}")).text();
                    let activation = line_with(&text, "Member:", "name", "b1")
                        .and_then(|p| value_of(&p, "activation"));
                    (marker, activation)
                })
            })
            .collect();
        for h in handles {
            let Ok((marker, activation)) = h.join() else {
                continue;
            };
            let pid = lab.pid_of(&marker);
            c.equal(
                activation.as_deref(),
                Some("DIS"),
                &format!("b1 activation seen by child {pid:?}"),
            );
            if let Some(pid) = pid.filter(|p| Some(*p) != updater) {
                others.insert(pid);
            }
        }
    }
    c.check(others.len() >= 3, || {
        format!(
            "only {} other children answered within 20 s: {others:?}",
            others.len()
        )
    });
    let before = lab.b1.requests().len();
    for i in 0..30 {
        let resp = lab.get(&format!("/app/after-drain-{i}"));
        c.equal(resp.status, 200, "request after drain");
        c.check(resp.header("X-Backend") != Some("b1"), || {
            format!("request {i} went to the drained b1")
        });
    }
    c.equal(
        lab.b1.requests().len(),
        before,
        "requests b1 received after the drain",
    );
    c.finish(&lab.httpd);
}

#[test]
fn an_edit_survives_a_graceful_restart() {
    let lab = Lab::start(Mpm::Prefork, 2, "");
    let mut c = Checks::new();
    for query in [
        "cmd=update&w=lb&vlt=20",
        "cmd=update&w=lb&sw=b2&vwf=3&vwa=2&vart=1234",
    ] {
        let text = lab.get(&format!("/jkstatus?{query}&mime=txt")).text();
        c.equal(text.trim_end(), OK, query);
    }
    if let Err(e) = lab.httpd.graceful() {
        panic!("graceful restart failed: {e}");
    }
    let text = lab.get("/jkstatus?mime=txt").text();
    let lb = line_with(&text, "Balancer Worker:", "name", "lb").unwrap_or_default();
    c.equal(
        value_of(&lb, "recover_time").as_deref(),
        Some("20"),
        "recover_time after graceful",
    );
    expect_member(
        &mut c,
        &lab,
        ("b2", "lbfactor"),
        "3",
        "b2 lbfactor after graceful",
    );
    expect_member(
        &mut c,
        &lab,
        ("b2", "activation"),
        "STP",
        "b2 activation after graceful",
    );
    expect_member(
        &mut c,
        &lab,
        ("b2", "reply_timeout"),
        "1234",
        "b2 reply_timeout after graceful",
    );
    c.finish(&lab.httpd);
}

#[test]
fn read_only_and_opt_32_refuse_changes() {
    let lab = Lab::start(Mpm::Event, 2, "");
    let mut c = Checks::new();
    let refused = "Result: type=ERROR message=\"This command is not allowed in read only mode.\"";
    for path in [
        "/jkstatus-ro?cmd=update&w=lb&sw=b1&vwa=1&mime=txt",
        "/jkstatus-ro?cmd=reset&w=lb&mime=txt",
        "/jkstatus-ro?cmd=recover&w=lb&sw=b1&mime=txt",
        "/jkstatus-ro?cmd=edit&w=lb&sw=b1&mime=txt",
        "/jkstatus?cmd=update&w=lb&sw=b1&vwa=1&opt=32&mime=txt",
    ] {
        let resp = lab.get(path);
        c.equal(resp.text().trim_end(), refused, path);
    }
    expect_member(
        &mut c,
        &lab,
        ("b1", "activation"),
        "ACT",
        "b1 after refused updates",
    );
    let list = lab.get("/jkstatus-ro?mime=txt").text();
    c.check(list.trim_end().ends_with(OK), || {
        format!("read-only list: {list}")
    });
    // The read-only page offers no state-changing form.
    let html = lab.get("/jkstatus-ro").text();
    c.check(!html.contains("name=\"token\""), || {
        "read-only page has a change form".into()
    });
    c.finish(&lab.httpd);
}

fn basic(user: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{PASSWORD}");
    let mut out = String::new();
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

#[test]
fn user_alice_is_admitted_only_when_httpd_authenticated_her() {
    let lab = Lab::start(Mpm::Event, 2, "");
    let mut c = Checks::new();
    let denied = "Result: type=ERROR message=\"Access denied.\"";
    let anonymous = lab.get("/jkstatus-open?mime=txt");
    c.equal(anonymous.text().trim_end(), denied, "anonymous request");
    let anonymous = lab.get("/jkstatus-open?cmd=update&w=lb&sw=b1&vwa=1&mime=txt");
    c.equal(anonymous.text().trim_end(), denied, "anonymous update");
    c.equal(
        lab.get("/jkstatus-user?mime=txt").status,
        401,
        "no credentials behind AuthType Basic",
    );
    let as_user = |user: &str, query: &str| {
        lab.send(
            &Request::get(&format!("/jkstatus-user?{query}")).header("Authorization", &basic(user)),
        )
    };
    let alice = as_user("alice", "mime=txt");
    c.equal(alice.status, 200, "alice status");
    c.check(alice.text().trim_end().ends_with(OK), || {
        format!("alice: {}", alice.text())
    });
    c.equal(
        as_user("bob", "mime=txt").text().trim_end(),
        denied,
        "bob (authenticated, not listed)",
    );
    let update = as_user("alice", "cmd=update&w=lb&sw=b1&vwa=1&mime=txt");
    c.equal(update.text().trim_end(), OK, "alice's update");
    expect_member(
        &mut c,
        &lab,
        ("b1", "activation"),
        "DIS",
        "b1 after alice's update",
    );
    let env = lab.get("/jkstatus-env?mime=txt");
    c.check(env.text().trim_end().ends_with(OK), || {
        format!("JK_REMOTE_USER=alice: {}", env.text())
    });
    // A refused user gets the refusal in the format asked for.
    let xml = lab.get("/jkstatus-open?mime=xml").text();
    c.check(xml.contains("message=\"Access denied.\""), || {
        format!("xml refusal: {xml}")
    });
    c.finish(&lab.httpd);
}

#[test]
fn cross_site_and_tokenless_changes_are_refused_and_change_nothing() {
    let lab = Lab::start(Mpm::Event, 2, "");
    let mut c = Checks::new();
    let host = lab.host();
    let own = format!("http://{host}");
    let drain = "/jkstatus?cmd=update&w=lb&sw=b1&vwa=1&mime=txt";
    let refused: [(&str, Request); 6] = [
        (
            "Sec-Fetch-Site: cross-site",
            Request::get(drain).header("Sec-Fetch-Site", "cross-site"),
        ),
        (
            "Sec-Fetch-Site: same-site",
            Request::get(drain).header("Sec-Fetch-Site", "same-site"),
        ),
        (
            "Origin of another host",
            Request::get(drain).header("Origin", "http://evil.example"),
        ),
        (
            "Referer of another host",
            Request::get(drain).header("Referer", "http://evil.example/x"),
        ),
        (
            "POST without token",
            Request::post(
                "/jkstatus",
                b"cmd=update&w=lb&sw=b1&vwa=1&mime=txt".to_vec(),
            )
            .header("Content-Type", "application/x-www-form-urlencoded"),
        ),
        (
            "POST with a wrong token",
            Request::post(
                "/jkstatus",
                format!(
                    "cmd=update&w=lb&sw=b1&vwa=1&mime=txt&token={}",
                    "0".repeat(64)
                )
                .into_bytes(),
            )
            .header("Content-Type", "application/x-www-form-urlencoded"),
        ),
    ];
    for (what, req) in refused {
        let req = req.header("Host", &host);
        let resp = lab.send(&req);
        c.equal(resp.status, 403, &format!("{what}: status"));
        c.check(
            resp.text()
                .starts_with("Result: type=ERROR message=\"Refused:"),
            || format!("{what}: body {:?}", resp.text()),
        );
        expect_member(
            &mut c,
            &lab,
            ("b1", "activation"),
            "ACT",
            &format!("b1 after {what}"),
        );
    }
    // A cross-site read is not a change: served.
    let read = lab.send(&Request::get("/jkstatus?mime=txt").header("Sec-Fetch-Site", "cross-site"));
    c.equal(read.status, 200, "cross-site list");
    // The token of the HTML page's forms makes a same-origin POST work.
    let page = lab.get("/jkstatus").text();
    let token = form_token(&page);
    c.check(token.is_some(), || "the HTML page has no form token".into());
    let form = format!(
        "cmd=update&w=lb&sw=b1&vwa=1&mime=txt&token={}",
        token.unwrap_or_default()
    );
    let post = Request::post("/jkstatus", form.into_bytes())
        .header("Host", &host)
        .header("Origin", &own)
        .header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/x-www-form-urlencoded");
    let resp = lab.send(&post);
    c.equal(resp.status, 200, "POST with the page's token");
    c.equal(resp.text().trim_end(), OK, "POST answer");
    expect_member(
        &mut c,
        &lab,
        ("b1", "activation"),
        "DIS",
        "b1 after the token POST",
    );
    // A plain GET without browser headers (curl) works; so does a same-origin one.
    let resp = lab.get("/jkstatus?cmd=update&w=lb&sw=b1&vwa=0&mime=txt");
    c.equal(resp.text().trim_end(), OK, "plain GET");
    expect_member(
        &mut c,
        &lab,
        ("b1", "activation"),
        "ACT",
        "b1 after the plain GET",
    );
    let same = Request::get("/jkstatus?cmd=update&w=lb&sw=b2&vwa=1&mime=txt")
        .header("Host", &host)
        .header("Referer", &format!("{own}/jkstatus"));
    c.equal(lab.send(&same).status, 200, "same-origin Referer");
    expect_member(
        &mut c,
        &lab,
        ("b2", "activation"),
        "DIS",
        "b2 after same-origin GET",
    );
    c.finish(&lab.httpd);
}

/// What a hostile value must never look like in an answer of `mime`.
fn unescaped(body: &str, mime: &str) -> Option<&'static str> {
    let raw = ["<script>", "\"x'\ny=z", "<dom&"];
    match mime {
        "html" | "xml" => raw.into_iter().find(|r| body.contains(r)),
        // Line formats: a value's newline would start a line of its own.
        "txt" | "prop" => body
            .lines()
            .any(|l| l.starts_with("y=z") || l.starts_with("alert"))
            .then_some("a value's newline split a line"),
        _ => body.contains("\ny=z").then_some("raw newline"),
    }
}

#[test]
fn hostile_parameters_and_values_are_escaped_in_every_format() {
    let lab = Lab::start(Mpm::Event, 2, "");
    let mut c = Checks::new();
    let hostile = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22x%27%0Ay%3Dz";
    // Hostile parameters, echoed or not.
    for query in [
        format!("cmd=show&w={hostile}"),
        format!("cmd=show&w=lb&sw={hostile}"),
        format!("cmd=edit&w=lb&sw=b1&att={hostile}"),
        format!("cmd=list&re={hostile}&opt={hostile}&from={hostile}"),
        format!("cmd={hostile}"),
        format!("cmd=update&w=lb&sw={hostile}&vwa=1"),
    ] {
        for mime in ["html", "xml", "txt", "prop", "json"] {
            let path = format!("/jkstatus?{query}&mime={mime}");
            let body = lab.get(&path).text();
            if let Some(bad) = unescaped(&body, mime) {
                c.fail(format!("{path}: {bad:?} in the answer"));
            }
        }
    }
    // A hostile route stored through the page, and b3's hostile domain from workers.properties.
    let route = "<script>alert(1)</script>\"x'\ny=z";
    let set = lab.get(&format!(
        "/jkstatus?cmd=update&w=lb&sw=b2&vwn={hostile}&mime=txt"
    ));
    c.equal(set.text().trim_end(), OK, "setting the route");
    for cmd in ["list", "show&w=lb&sw=b2", "edit&w=lb&sw=b2", "dump"] {
        for mime in ["html", "xml", "txt", "prop", "json"] {
            let path = format!("/jkstatus?cmd={cmd}&mime={mime}");
            let body = lab.get(&path).text();
            if let Some(bad) = unescaped(&body, mime) {
                c.fail(format!("{path}: {bad:?} in the answer"));
            }
        }
    }
    // The real parsers read back exactly what was stored.
    let xml = parse_with_python("xml", &lab.get("/jkstatus?mime=xml").text());
    for (what, value) in [("route", route), ("domain", HOSTILE_DOMAIN)] {
        let want = format!("\"{what}\": {}", json_quote(value));
        c.check(xml.contains(&want), || {
            format!("xml does not read back {want}")
        });
    }
    let json = parse_with_python("json", &lab.get("/jkstatus?mime=json").text());
    for (what, value) in [("route", route), ("domain", HOSTILE_DOMAIN)] {
        let want = format!("\"{what}\": {}", json_quote(value));
        c.check(json.contains(&want), || {
            format!("json does not read back {want}")
        });
    }
    let txt = lab.get("/jkstatus?mime=txt").text();
    let b2 = line_with(&txt, "Member:", "name", "b2").unwrap_or_default();
    c.equal(
        value_of(&b2, "route"),
        Some(r#"<script>alert(1)</script>\"x'\ny=z"#.to_string()),
        "txt route",
    );
    let html = lab.get("/jkstatus").text();
    c.check(
        html.contains("&lt;dom&amp;&quot;&#39;&gt;")
            || html.contains("&lt;dom&amp;&quot;&apos;&gt;"),
        || "html does not show b3's domain escaped".into(),
    );
    c.finish(&lab.httpd);
}

#[test]
fn plain_worker_counters_and_busy_limit_refusals_show() {
    let lab = Arc::new(Lab::start(Mpm::Event, 2, ""));
    let mut c = Checks::new();
    for _ in 0..5 {
        c.equal(lab.get("/solo/x?size=1000").status, 200, "solo request");
    }
    // A failure: the backend closes without an answer.
    let failed = lab.get("/solo/x?fault=reset");
    c.check(failed.status >= 500, || {
        format!("fault=reset answered {}", failed.status)
    });
    // busy_limit=1: a second request while one is in flight is refused.
    let slow = {
        let lab = Arc::clone(&lab);
        thread::spawn(move || lab.get("/solo/slow?sleep=1500").status)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut arrived = false;
    while !arrived && Instant::now() < deadline {
        arrived = lab.solo.requests().iter().any(|r| r.uri == "/solo/slow");
        thread::sleep(Duration::from_millis(10));
    }
    c.check(arrived, || "the slow request never reached solo".into());
    let refused = lab.get("/solo/refused");
    c.equal(refused.status, 503, "request over busy_limit");
    c.equal(slow.join().ok(), Some(200), "slow request");
    let text = lab.get("/jkstatus?mime=txt").text();
    let solo = line_with(&text, "AJP Worker:", "name", "solo").unwrap_or_default();
    let number = |key: &str| {
        value_of(&solo, key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    c.equal(number("used"), 8, "used (5 + failed + slow + refused)");
    c.equal(
        number("errors"),
        2,
        "errors (the failure and the busy_limit refusal)",
    );
    c.check(number("transferred") > 0, || {
        format!("transferred: {solo:?}")
    });
    c.check(number("read") > 5000, || {
        format!("read should count 5 bodies of 1000 bytes: {solo:?}")
    });
    c.equal(number("max_busy"), 1, "max_busy");
    c.equal(number("busy"), 0, "busy");
    // The same figures in json and prometheus.
    let json = parse_with_python(
        "json",
        &lab.get("/jkstatus?cmd=show&w=solo&mime=json").text(),
    );
    c.check(
        json.contains("\"used\": 8") && json.contains("\"errors\": 2"),
        || format!("json: {json}"),
    );
    let prom = parse_with_python("prometheus", &lab.get("/jkstatus?mime=prometheus").text());
    let sample = |name: &str| {
        prom.lines()
            .find(|l| l.split('\t').nth(2) == Some(name) && l.contains("\"worker\": \"solo\""))
            .and_then(|l| l.rsplit('\t').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    c.equal(
        sample("jk_worker_requests_total"),
        Some(8.0),
        "jk_worker_requests_total{worker=solo}",
    );
    c.equal(
        sample("jk_worker_errors_total"),
        Some(2.0),
        "jk_worker_errors_total{worker=solo}",
    );
    // reset zeroes them.
    lab.get("/jkstatus?cmd=reset&w=solo&mime=txt");
    let text = lab.get("/jkstatus?mime=txt").text();
    let solo = line_with(&text, "AJP Worker:", "name", "solo").unwrap_or_default();
    c.equal(
        value_of(&solo, "used").as_deref(),
        Some("0"),
        "used after reset",
    );
    c.finish(&lab.httpd);
}

#[test]
fn prometheus_output_parses_with_prometheus_client() {
    let lab = Lab::start(Mpm::Event, 2, "");
    for i in 0..12 {
        lab.get(&format!("/app/p{i}"));
    }
    lab.get("/jkstatus?cmd=update&w=lb&sw=b3&vwa=1&mime=txt");
    let mut c = Checks::new();
    let resp = lab.get("/jkstatus?mime=prometheus");
    check_headers(&mut c, "prometheus", &resp, "prometheus");
    let parsed = parse_with_python("prometheus", &resp.text());
    let families: BTreeSet<&str> = parsed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    for family in [
        "jk_info",
        "jk_balancer_busy",
        "jk_balancer_members",
        "jk_member_requests",
        "jk_member_errors",
        "jk_member_sent_bytes",
        "jk_member_received_bytes",
        "jk_member_busy",
        "jk_member_state",
        "jk_member_activation",
        "jk_worker_requests",
        "jk_worker_state",
    ] {
        c.check(families.contains(family), || {
            format!("no family {family} in {families:?}")
        });
    }
    let value = |name: &str, labels: &str| {
        parsed
            .lines()
            .find(|l| l.split('\t').nth(2) == Some(name) && l.split('\t').nth(3) == Some(labels))
            .and_then(|l| l.rsplit('\t').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let total: f64 = ["b1", "b2", "b3"]
        .iter()
        .filter_map(|m| {
            value(
                "jk_member_requests_total",
                &format!("{{\"balancer\": \"lb\", \"member\": \"{m}\"}}"),
            )
        })
        .sum();
    c.equal(total, 12.0, "jk_member_requests_total summed over members");
    c.equal(
        value(
            "jk_member_activation",
            "{\"activation\": \"DIS\", \"balancer\": \"lb\", \"member\": \"b3\"}",
        ),
        Some(1.0),
        "b3 activation DIS",
    );
    c.equal(
        value(
            "jk_member_activation",
            "{\"activation\": \"ACT\", \"balancer\": \"lb\", \"member\": \"b3\"}",
        ),
        Some(0.0),
        "b3 activation ACT",
    );
    c.finish(&lab.httpd);
}

/// CVE-2018-11759: `<Location /jkstatus>` access control must hold for every spelling of the
/// URL; mod_jk ≤ 1.2.44 served the page for `/jkstatus;` (it matched after stripping `;`,
/// httpd's `<Location>` did not).
#[test]
fn cve_2018_11759_no_spelling_of_the_url_gets_past_location_access_control() {
    let lab = Lab::start(
        Mpm::Event,
        2,
        "<Location /jkstatus>\n    Require ip 192.0.2.1\n</Location>",
    );
    let mut c = Checks::new();
    for path in [
        "/jkstatus",
        "/jkstatus;",
        "/jkstatus;x",
        "/jkstatus;x=y",
        "/jkstatus;jsessionid=1.b1",
        "/jkstatus%3b",
        "/jkstatus%3Bx",
        "//jkstatus",
        "///jkstatus",
        "/jkstatus/",
        "/%6akstatus",
        "/jk%73tatus",
        "/%6Akstatus;",
        "/./jkstatus",
        "/x/../jkstatus",
        "/x/..;/jkstatus",
        "/jkstatus/.",
        "/jkstatus?mime=txt",
        "/jkstatus;?mime=txt",
        "/jkstatus;/?cmd=update&w=lb&sw=b1&vwa=1&mime=txt",
    ] {
        let resp = lab.get(path);
        c.check(
            resp.status == 403 || resp.status == 404 || resp.status == 400,
            || format!("{path}: status {} (expected 403, 404 or 400)", resp.status),
        );
        c.check(!is_status_content(&resp.text()), || {
            format!("{path}: status page served")
        });
    }
    // The drain attempt above changed nothing: b1 still takes its share of traffic.
    let before = lab.b1.requests().len();
    for i in 0..9 {
        lab.get(&format!("/app/probe{i}"));
    }
    c.check(lab.b1.requests().len() > before, || {
        "b1 gets no traffic: drained".into()
    });
    c.finish(&lab.httpd);
}

/// CVE-2023-41081: a status worker that is not mounted is never reached, even when it is the
/// first worker of worker.list and the handler is ours without a mapping
/// (`+ForwardDirectories`, `SetHandler jakarta-servlet`).
#[test]
fn cve_2023_41081_an_unmounted_status_worker_is_never_reachable() {
    let app = backend("app");
    let site = Site::new(Mpm::Event)
        .worker("app", app.port(), &[])
        .conf("JkOptions +ForwardDirectories")
        .conf("JkMount /app/* app")
        .conf("<Location /handler>\n    SetHandler jakarta-servlet\n</Location>")
        .file("htdocs/dir/file.txt", "local\n");
    let mut cfg = site.config();
    // The status worker first in worker.list, as in the CVE's description.
    let properties = format!(
        "{}worker.stat1.type=status\n",
        site.workers_properties()
            .replace("worker.list=app", "worker.list=stat1,app")
    );
    cfg.files[0].1 = properties;
    cfg.extra_modules = vec!["dir".into(), "autoindex".into()];
    let httpd = httpd::Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
    let mut c = Checks::new();
    c.equal(
        e2e_common::must_get(&httpd, "/app/x").status,
        200,
        "the mounted app",
    );
    for path in [
        "/",
        "/dir/",
        "/dir",
        "/handler",
        "/handler/x",
        "/handler?cmd=list&mime=txt",
        "/jkstatus",
        "/stat1",
        "/?cmd=update&w=app&mime=txt",
        "/nothing-here",
    ] {
        let resp = e2e_common::must_get(&httpd, path);
        c.check(!is_status_content(&resp.text()), || {
            format!(
                "{path}: the unmounted status worker answered ({})",
                resp.status
            )
        });
        c.check(
            resp.header("X-Backend").is_none() || path.starts_with("/app"),
            || format!("{path}: forwarded to a backend without a mount"),
        );
    }
    c.finish(&httpd);
}
