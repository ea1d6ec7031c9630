//! `json` and `prometheus` output checked for well-formedness (hostile names included),
//! plain ajp13 workers and display options in the line formats, `dump` without secrets,
//! and the XML namespace settings.

use super::tests::{hostile, page};
use crate::config::StatusWorker;
use crate::status::testdata;
use crate::status::{parse_query, render, View};

/// A strict little JSON checker: one value, nothing after it.
fn valid_json(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let ok = value(bytes, &mut i);
    skip(bytes, &mut i);
    ok && i == bytes.len()
}

fn value(s: &[u8], i: &mut usize) -> bool {
    skip(s, i);
    match s.get(*i) {
        Some(b'{') => seq(s, i, b'}', |s, i| {
            string(s, i) && colon(s, i) && value(s, i)
        }),
        Some(b'[') => seq(s, i, b']', value),
        Some(b'"') => string(s, i),
        Some(b't') => word(s, i, "true"),
        Some(b'f') => word(s, i, "false"),
        Some(b'n') => word(s, i, "null"),
        Some(c) if c.is_ascii_digit() || *c == b'-' => {
            *i += 1;
            while s.get(*i).is_some_and(|c| c.is_ascii_digit()) {
                *i += 1;
            }
            true
        }
        _ => false,
    }
}
fn skip(s: &[u8], i: &mut usize) {
    while s.get(*i).is_some_and(|c| c.is_ascii_whitespace()) {
        *i += 1;
    }
}
fn word(s: &[u8], i: &mut usize, w: &str) -> bool {
    let ok = s[*i..].starts_with(w.as_bytes());
    *i += w.len();
    ok
}
fn colon(s: &[u8], i: &mut usize) -> bool {
    skip(s, i);
    *i += 1;
    s.get(*i - 1) == Some(&b':')
}
fn string(s: &[u8], i: &mut usize) -> bool {
    skip(s, i);
    if s.get(*i) != Some(&b'"') {
        return false;
    }
    *i += 1;
    while let Some(&c) = s.get(*i) {
        *i += 1;
        match c {
            b'"' => return true,
            b'\\' => *i += 1,
            c if c < 0x20 => return false,
            _ => {}
        }
    }
    false
}
fn seq(s: &[u8], i: &mut usize, close: u8, item: fn(&[u8], &mut usize) -> bool) -> bool {
    *i += 1;
    skip(s, i);
    if s.get(*i) == Some(&close) {
        *i += 1;
        return true;
    }
    loop {
        if !item(s, i) {
            return false;
        }
        skip(s, i);
        match s.get(*i) {
            Some(b',') => *i += 1,
            Some(c) if *c == close => {
                *i += 1;
                return true;
            }
            _ => return false,
        }
    }
}

#[test]
fn json_is_well_formed_for_every_command_even_hostile() {
    assert!(valid_json("{\"a\":[1,-2,true,null,\"x\\\"\"]}") && !valid_json("{\"a\":1,}"));
    for query in [
        "mime=json",
        "mime=json&cmd=show&w=solo",
        "mime=json&cmd=dump",
        "mime=json&cmd=version",
        "mime=json&cmd=show&w=nosuch",
    ] {
        let body = page(&hostile(), query, Ok(())).body;
        assert!(valid_json(&body), "{query}: {body}");
        assert_eq!(body.matches("\"result\":").count(), 1);
    }
    let body = page(&testdata::snapshot(), "mime=json", Ok(())).body;
    assert!(body.starts_with(
        "{\"schema\":\"mod_jk_rs.status/1\",\"server\":{\"name\":\"127.0.0.1\",\"port\":18180}"
    ));
    assert!(body.contains("\"sticky_session\":true,") && body.contains("\"route\":\"TomcatA\""));
    assert!(body.contains("\"rating\":\"good\"") && body.contains("\"last_error_at\":null"));
}

#[test]
fn prometheus_families_are_declared_once_before_their_samples() {
    let body = page(&hostile(), "mime=prometheus", Ok(())).body;
    let mut declared: Vec<String> = Vec::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap().to_owned();
            assert!(!declared.contains(&name), "{name} declared twice");
            declared.push(name);
            continue;
        }
        if line.starts_with("# HELP ") || line.starts_with("# Result: ") {
            continue;
        }
        let (name, rest) = line.split_once('{').expect(line);
        assert_eq!(declared.last().map(String::as_str), Some(name), "{line}");
        let (labels, value) = rest.rsplit_once("} ").expect(line);
        assert!(value.parse::<u64>().is_ok(), "{line}");
        assert!(labels_parse(labels), "{line}");
    }
    assert!(body.contains("jk_member_state{balancer=\"lb<script>alert(\\\"x\\\")</script>'\\\\\\nResult: type=OK a=b #!\""));
}

/// `name="value",…` with only `\\`, `\"` and `\n` escapes inside values.
fn labels_parse(labels: &str) -> bool {
    let mut rest = labels;
    while !rest.is_empty() {
        let Some((name, value)) = rest.split_once("=\"") else {
            return false;
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        let mut chars = value.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\' | '"' | 'n')) => {}
                    _ => return false,
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) | None => return false,
                _ => {}
            }
        };
        rest = value[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&value[end + 1..]);
    }
    true
}

#[test]
fn prometheus_shows_counters_states_and_lb_values() {
    let body = page(&testdata::with_plain_worker(), "mime=prometheus", Ok(())).body;
    for line in [
        "# TYPE jk_member_requests_total counter",
        "jk_member_requests_total{balancer=\"lbcluster\",member=\"TomcatA\"} 7",
        "jk_member_sent_bytes_total{balancer=\"lbcluster\",member=\"TomcatA\"} 1610",
        "jk_member_received_bytes_total{balancer=\"lbcluster\",member=\"TomcatB\"} 2727",
        "jk_member_state{balancer=\"lbcluster\",member=\"TomcatA\",state=\"OK\"} 1",
        "jk_member_state{balancer=\"lbcluster\",member=\"TomcatA\",state=\"ERR\"} 0",
        "jk_member_activation{balancer=\"lbcluster\",member=\"TomcatB\",activation=\"ACT\"} 1",
        "jk_member_lb_value{balancer=\"lbcluster\",member=\"TomcatB\"} 4",
        "jk_balancer_members{balancer=\"lbcluster\",rating=\"good\"} 2",
        "jk_worker_requests_total{worker=\"solo\"} 12",
        "jk_worker_connection_pool_size{worker=\"solo\"} 25",
        "# Result: type=OK message=\"Action finished\"",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line}\n{body}");
    }
}

#[test]
fn plain_ajp_workers_use_mod_jk_names_in_the_line_formats() {
    let snapshot = testdata::with_plain_worker();
    let txt = page(&snapshot, "mime=txt", Ok(())).body;
    assert!(txt.contains(
        "\nAJP Workers: count=1\nAJP Worker: name=solo type=ajp13 host=10.0.0.9 port=8009"
    ));
    assert!(txt.contains(" used=12 errors=1 client_errors=0"));
    assert!(txt.contains(" map_count=1 last_reset_at=1795481658 last_reset_ago=60 error_time_datetime=20261124005448"));
    let prop = page(&snapshot, "mime=prop", Ok(())).body;
    assert!(prop.contains("worker.ajp_count=1\nworker.list=solo\nworker.solo.type=ajp13\n"));
    assert!(prop.contains("worker.solo.map.1.uri=/solo/*\n"));
    let xml = page(&snapshot, "mime=xml", Ok(())).body;
    assert!(xml.contains("<jk:ajp_workers\n  count=\"1\"\n>\n  <jk:ajp\n    name=\"solo\"\n"));
    assert!(xml.contains("  />\n      <jk:map\n        id=\"1\"\n"));
    assert!(xml.ends_with("</jk:ajp_workers>\n  <jk:result\n    type=\"OK\"\n    message=\"Action finished\"\n  />\n</jk:status>\n"));
}

#[test]
fn display_options_hide_parts_in_the_line_formats() {
    let snapshot = testdata::with_plain_worker();
    let txt = page(&snapshot, "mime=txt&opt=0x13", Ok(())).body;
    assert!(!txt.contains("Member:") && !txt.contains("Map:") && !txt.contains("AJP Worker"));
    assert!(txt.contains("Balancer Worker: name=lbcluster"));
    let no_lb = page(&snapshot, "mime=txt&opt=8", Ok(())).body;
    assert!(!no_lb.contains("Balancer"));
}

#[test]
fn dump_never_shows_a_secret() {
    for mime in ["txt", "prop", "xml", "html", "json"] {
        let body = page(
            &testdata::snapshot(),
            &format!("cmd=dump&mime={mime}"),
            Ok(()),
        )
        .body;
        assert!(!body.contains("hidden-from-dump"), "{mime}");
    }
}

#[test]
fn xml_namespace_and_doctype_follow_the_status_worker() {
    let mut status = StatusWorker::with_defaults("stat1");
    status.ns = String::new();
    status.xmlns = String::new();
    status.doctype = Some("<!DOCTYPE status>".to_owned());
    status.prefix = "jk".to_owned();
    let snapshot = testdata::snapshot();
    let request = parse_query("cmd=version&mime=xml").unwrap();
    let view = View {
        snapshot: &snapshot,
        request: &request,
        status: &status,
        base_uri: "/s",
        token: "",
    };
    let body = render(&view, &Ok(())).body;
    assert!(body.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE status>\n<status\n>\n<server\n"
    ));
    let request = parse_query("cmd=version&mime=prop").unwrap();
    let view = View {
        request: &request,
        ..view
    };
    assert!(render(&view, &Ok(()))
        .body
        .starts_with("jk.server_name=127.0.0.1\n"));
}
