//! The status worker's request side: `status::parse_query` (query string or POSTed form, with
//! the typed edits of `status/edits.rs`), then what the shell does with it — a snapshot of a
//! real runtime, `execute` through `LiveTarget` (edits go into shared memory), the snapshot
//! again and `render` in the format asked for; `render_request_error` when it does not parse.
//!
//! Invariants: `decode_query` gives the same pairs for a query written back from its own
//! result, and `parse_query` the same request; a `json` page is valid JSON; an update that
//! succeeded is read back by the next snapshot without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_jk_rs::config::{Properties, StatusWorker, Workers};
use mod_jk_rs::proxy::Runtime;
use mod_jk_rs::status::{
    decode_query, execute, header_snapshot, parse_query, render, render_request_error, snapshot,
    LiveTarget, Mime, SnapshotEnv, Timestamp, View,
};
use std::sync::OnceLock;

struct Fixture {
    runtime: Runtime,
    status: StatusWorker,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut props = Properties::new();
        props
            .parse_str(
                "worker.list=lb,plain,jkstatus\n\
                 worker.lb.type=lb\n\
                 worker.lb.balance_workers=node1,node2\n\
                 worker.node1.host=127.0.0.1\n\
                 worker.node1.port=1\n\
                 worker.node2.reference=worker.node1\n\
                 worker.node2.route=n2.x\n\
                 worker.plain.port=2\n\
                 worker.plain.host=127.0.0.1\n\
                 worker.jkstatus.type=status\n",
                "workers.properties",
            )
            .expect("fixed workers");
        let workers = Workers::build(&props).expect("fixed workers");
        let status = workers.status("jkstatus").expect("status worker").clone();
        let runtime = Runtime::new(workers, 1, None, None).expect("runtime");
        Fixture { runtime, status }
    })
}

/// Every byte but the unreserved ones as %XX.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const NOW_MS: u64 = 1_795_481_718_000;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let fx = fixture();

    if let Ok(pairs) = decode_query(&query) {
        let written: Vec<String> = pairs
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        let again_query = written.join("&");
        let again = decode_query(&again_query).expect("a written-back query decodes");
        // Empty names written back as `=v` keep their pair; pairs that were empty are dropped
        // by both readings alike.
        assert_eq!(pairs, again, "decode_query round trip");
        assert_eq!(
            parse_query(&query),
            parse_query(&again_query),
            "parse_query differs on the same pairs"
        );
    }

    let env = SnapshotEnv {
        server_name: "fuzz.test",
        server_port: 80,
        web_server: "Apache/2.4 (fuzz)",
        now: Timestamp {
            unix: (NOW_MS / 1000) as i64,
            utc_offset_minutes: 60,
        },
        now_ms: NOW_MS,
        mount_rules: &[],
    };
    let request = match parse_query(&query) {
        Ok(request) => request,
        Err(e) => {
            let page = render_request_error(
                &fx.status,
                "/jkstatus",
                e.mime,
                &e.error,
                &header_snapshot(&env),
            );
            check_page(e.mime, &page.body);
            return;
        }
    };
    // A page costs a hundred parses; only queries that name a command or a format go on to
    // execute and render (the dictionary offers both), so parsing gets most of the runs.
    if !(query.contains("cmd=") || query.contains("mime=")) {
        return;
    }
    let before = snapshot(&fx.runtime, &env);
    let mut target = LiveTarget::new(&fx.runtime, NOW_MS);
    let outcome = execute(&request, &before, &fx.status, &mut target);
    let _ = target.changes().iter().map(|c| format!("{c:?}")).count();
    let after = if request.command.changes_state() {
        snapshot(&fx.runtime, &env)
    } else {
        before
    };
    let view = View {
        snapshot: &after,
        request: &request,
        status: &fx.status,
        base_uri: "/jkstatus",
        token: "0123456789abcdef",
    };
    let page = render(&view, &outcome);
    check_page(request.mime, &page.body);
});

fn check_page(mime: Mime, body: &str) {
    match mime {
        Mime::Json => {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                panic!("json page is not JSON ({e}):\n{body}");
            }
        }
        Mime::Xml => {
            if let Err(e) = check_xml(body) {
                panic!("xml page is not well-formed ({e}):\n{body}");
            }
        }
        Mime::Prop => {
            for line in body.lines() {
                assert!(
                    line.is_empty()
                        || (line.contains('=') && !line.starts_with(char::is_whitespace)),
                    "prop line {line:?} is not key=value:\n{body}"
                );
            }
        }
        Mime::Html => {
            assert!(
                !body.to_ascii_lowercase().contains("<script"),
                "html page holds a script:\n{body}"
            );
        }
        Mime::Txt | Mime::Prometheus => {}
    }
}

/// A small well-formedness check of the status page's XML: the prolog, then elements whose
/// attributes are double-quoted, balanced tags under one root, and text and attribute values
/// with no raw `<`, no stray `&`, no character XML forbids.
fn check_xml(body: &str) -> Result<(), String> {
    let mut rest = body
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>")
        .ok_or("no prolog")?;
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    loop {
        let (text, after) = match rest.find('<') {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        check_chars(text)?;
        if open.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        let Some(tag) = after else { break };
        if let Some(closing) = tag.strip_prefix('/') {
            let end = closing.find('>').ok_or("unterminated closing tag")?;
            let name = closing[..end].trim_end();
            if open.pop() != Some(name) {
                return Err(format!("</{name}> does not close the open element"));
            }
            rest = &closing[end + 1..];
            continue;
        }
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .ok_or("unterminated tag")?;
        let name = &tag[..name_end];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || ":_-.".contains(c))
        {
            return Err(format!("bad element name {name:?}"));
        }
        let mut at = &tag[name_end..];
        loop {
            at = at.trim_start();
            if let Some(after) = at.strip_prefix("/>") {
                at = after;
                if open.is_empty() {
                    roots += 1;
                }
                break;
            }
            if let Some(after) = at.strip_prefix('>') {
                at = after;
                if open.is_empty() {
                    roots += 1;
                }
                open.push(name);
                break;
            }
            let eq = at.find('=').ok_or("attribute without a value")?;
            let attr = &at[..eq];
            if attr.is_empty()
                || !attr
                    .chars()
                    .all(|c| c.is_alphanumeric() || ":_-.".contains(c))
            {
                return Err(format!("bad attribute name {attr:?}"));
            }
            let value = at[eq + 1..]
                .strip_prefix('"')
                .ok_or("attribute not double-quoted")?;
            let close = value.find('"').ok_or("unterminated attribute value")?;
            let text = &value[..close];
            if text.contains('<') {
                return Err(format!("raw '<' in attribute {attr}"));
            }
            check_chars(text)?;
            at = &value[close + 1..];
            if !at.starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>') {
                return Err(format!("nothing between attributes after {attr}"));
            }
        }
        rest = at;
    }
    if !open.is_empty() {
        return Err(format!("unclosed {open:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

/// Characters XML 1.0 allows, and `&` only as a known entity or a character reference.
fn check_chars(text: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|&c| {
        c.is_control() && !matches!(c, '\t' | '\n' | '\r') || c == '\u{FFFE}' || c == '\u{FFFF}'
    }) {
        return Err(format!("character {c:?} XML forbids"));
    }
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let entity = &rest[at + 1..];
        let end = entity.find(';').ok_or("'&' without ';'")?;
        let name = &entity[..end];
        let known = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
            || name
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || name
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !known {
            return Err(format!("unknown entity &{name};"));
        }
        rest = &entity[end + 1..];
    }
    Ok(())
}
