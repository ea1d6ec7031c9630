//! Every CVE of mod_jk's history that applies to httpd, as a test named after it (reference §7).
//! Search this workspace for `cve_` to find them all. Tests that already proved a CVE fully
//! where they were written keep their place and carry the id in their name:
//!
//! | CVE | test |
//! |---|---|
//! | CVE-2007-0774 (URIs ≥ 4095 bytes overflowed the mapper) | `e2e_failures.rs::cve_2007_0774_very_long_uris_are_not_mapped_and_crash_nothing` |
//! | CVE-2007-1860 (double decoding past a prefix mount) | here: `cve_2007_1860_double_encoded_dot_segments_stay_in_their_context_in_every_forward_uri_mode` |
//! | CVE-2008-5519 (Content-Length without a body: another user's answer) | `e2e_failures.rs::cve_2008_5519_client_vanishing_before_its_body_leaves_the_backend_in_step`; here: `cve_2008_5519_a_client_stalling_mid_body_leaves_no_cross_talk` |
//! | CVE-2014-8111 (`JkUnMount` bypassed with `//`) | `e2e_config.rs::cve_2014_8111_jk_unmount_excludes_every_spelling_of_the_excluded_path` |
//! | CVE-2018-11759 (`/jkstatus;` past `<Location>`) | `e2e_config.rs::cve_2018_11759_location_rules_hold_for_every_spelling_of_a_mapped_uri`, `e2e_status.rs::cve_2018_11759_no_spelling_of_the_url_gets_past_location_access_control` |
//! | CVE-2023-41081 (implicit mapping to the first worker) | `e2e_status.rs::cve_2023_41081_an_unmounted_status_worker_is_never_reachable` |
//! | CVE-2024-46544 (shm file 0666) | `e2e_lb.rs::cve_2024_46544_jk_shm_file_is_private_and_a_world_writable_one_is_refused` (the module makes no lock file: its lock lives in the mapping) |
//! | CVE-2020-1938 "Ghostcat" (Tomcat AJP attribute injection) | here: `cve_2020_1938_ghostcat_secret_always_sent_and_no_client_controlled_attributes` |
//!
//! Covered without the id in a test's name: CVE-2006-7197 (a backend's lengths read past the
//! packet), by `e2e_failures.rs::malformed_backend_answers_give_502_and_the_next_request_works`.
//! Not applicable to httpd: CVE-2016-6808 and CVE-2018-1323 were IIS only, CVE-2009-0033 is
//! Tomcat's side.
//!
//! The tests talk HTTP only. Each test starts its own httpd and backends on free ports.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::BackendOptions;
use e2e_common::{
    app_site, backend, backend_with, container_view, crashed_children, must_get, requests_for,
    send, Checks, Site,
};
use http_client::{Connection, Request};
use httpd::Mpm;
use std::collections::BTreeSet;
use std::time::Duration;

/// CVE-2007-1860: with `JkMount /app/* w1`, a container decoding the forwarded URI once must
/// still see a path under /app, never /other/secret — whichever `ForwardURI*` mode is chosen.
/// Under `ForwardURICompat` (the decoded path, as mod_jk before 1.2.23 sent it by default) a
/// request whose decoded path still holds a `%` escape of `.` or `/` is not forwarded at all.
#[test]
fn cve_2007_1860_double_encoded_dot_segments_stay_in_their_context_in_every_forward_uri_mode() {
    for option in [
        None,
        Some("JkOptions +ForwardURIProxy"),
        Some("JkOptions +ForwardURICompat"),
        Some("JkOptions +ForwardURICompatUnparsed"),
        Some("JkOptions +ForwardURIEscaped"),
    ] {
        let mode = option.unwrap_or("default");
        let b1 = backend("b1");
        let mut site = app_site(Mpm::Event, b1.port(), &[]);
        if let Some(line) = option {
            site = site.conf(line);
        }
        let httpd = site.start();
        let mut c = Checks::new();
        for target in [
            "/app/%252e%252e/other/secret",
            "/app/%252E%252E/other/secret",
            "/app/%25%32%65%25%32%65/other/secret",
            "/app/..%252f..%252fother/secret",
            "/app/%252e%252e%252fother/secret",
        ] {
            b1.clear();
            let status = match send(&httpd, &Request::get(target)) {
                Ok(resp) => resp.status,
                Err(e) => {
                    c.fail(format!("{mode}: {target}: no answer: {e}"));
                    continue;
                }
            };
            for r in b1.requests() {
                let seen = container_view(&r.uri);
                c.check(seen.starts_with("/app/"), || {
                    format!(
                        "{mode}: {target}: the backend received {:?}, which a container reads \
                         as {seen:?} (status {status})",
                        r.uri
                    )
                });
            }
        }
        c.check(crashed_children(&httpd).is_empty(), || {
            format!("{mode}: crashed children")
        });
        c.finish(&httpd);
    }
}

/// CVE-2008-5519: a client that sends its headers and part of its announced body, then stalls
/// and goes away while the backend waits for the rest, must not leave the backend connection
/// out of step: every following request on the module gets its own answer.
#[test]
fn cve_2008_5519_a_client_stalling_mid_body_leaves_no_cross_talk() {
    let b1 = backend("b1");
    let httpd = app_site(Mpm::Event, b1.port(), &[]).start();
    let mut c = Checks::new();
    for i in 0..3 {
        let mut conn = Connection::open(httpd.addr()).expect("connect");
        let head = format!(
            "POST /app/stall{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{}",
            "x".repeat(20_000)
        );
        conn.send_raw(head.as_bytes()).expect("send");
        // Long enough for the module to forward the request and the backend to ask for more.
        std::thread::sleep(Duration::from_millis(300));
        drop(conn);
        for j in 0..4 {
            let uri = format!("/app/next{i}-{j}");
            let resp = must_get(&httpd, &uri);
            c.equal(resp.status, 200, &format!("{uri} status"));
            c.check(resp.text().contains(&format!("uri={uri}\n")), || {
                format!("{uri} got another request's answer: {:?}", resp.text())
            });
        }
    }
    c.check(b1.protocol_errors().is_empty(), || {
        format!("{:?}", b1.protocol_errors())
    });
    c.check(crashed_children(&httpd).is_empty(), || {
        "crashed children".into()
    });
    c.finish(&httpd);
}

/// CVE-2020-1938 "Ghostcat": the worker's secret goes with every request (on a new connection, a
/// reused one, with a body), and nothing a client sends becomes a request attribute — against a
/// backend that, like Tomcat 9.0.31+, refuses a wrong secret and unknown attribute names.
#[test]
fn cve_2020_1938_ghostcat_secret_always_sent_and_no_client_controlled_attributes() {
    let guarded = backend_with(
        "guarded",
        BackendOptions {
            required_secret: Some("s3cr3t".to_string()),
            reject_unknown_attributes: true,
            ..BackendOptions::default()
        },
    );
    let httpd = Site::new(Mpm::Event)
        .worker("w1", guarded.port(), &["secret=s3cr3t"])
        .conf("JkMount /app/* w1")
        .start();
    let mut c = Checks::new();
    let plain = must_get(&httpd, "/app/plain");
    c.equal(plain.status, 200, "plain GET status");
    let baseline: BTreeSet<String> = requests_for(&guarded, "/app/plain")
        .first()
        .map(|r| r.attributes.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    c.check(baseline.contains("secret"), || {
        format!("no secret on the plain GET: {baseline:?}")
    });
    let hostile_names = [
        "javax.servlet.include.request_uri",
        "javax.servlet.include.path_info",
        "javax.servlet.include.servlet_path",
        "jakarta.servlet.include.request_uri",
        "AJP_SSL_PROTOCOL",
        "JK_LB_ACTIVATION",
        "req_attribute",
        "secret",
    ];
    let mut conn = Connection::open(httpd.addr()).expect("connect");
    for i in 0..4 {
        let uri = format!("/app/hostile{i}");
        let mut req = if i % 2 == 0 {
            Request::get(&format!(
                "{uri}?javax.servlet.include.request_uri=/WEB-INF/web.xml&secret=guess"
            ))
        } else {
            Request::post(
                &uri,
                b"javax.servlet.include.path_info=/WEB-INF/web.xml".to_vec(),
            )
        };
        for name in hostile_names {
            req = req.header(name, "/WEB-INF/web.xml");
        }
        req = req
            .header(
                "Cookie",
                "javax.servlet.include.request_uri=/WEB-INF/web.xml",
            )
            .header("X-AJP-Attribute", "javax.servlet.include.request_uri=/x");
        match conn.send(&req) {
            Ok(resp) => c.equal(resp.status, 200, &format!("{uri} status")),
            Err(e) => c.fail(format!("{uri}: {e}")),
        }
        let seen = requests_for(&guarded, &uri);
        c.equal(seen.len(), 1, &format!("{uri}: requests the backend saw"));
        let Some(r) = seen.first() else { continue };
        c.equal(
            r.attribute("secret"),
            Some("s3cr3t"),
            &format!("{uri} secret"),
        );
        let secrets = r.attributes.iter().filter(|(n, _)| n == "secret").count();
        c.equal(secrets, 1, &format!("{uri}: secret attributes"));
        // query_string comes with a query; every other name is the plain GET's.
        let names: BTreeSet<String> = r
            .attributes
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| n != "query_string")
            .collect();
        c.equal(&names, &baseline, &format!("{uri}: attribute names"));
        for (name, value) in &r.attributes {
            c.check(name == "query_string" || !value.contains("WEB-INF"), || {
                format!("{uri}: attribute {name}={value:?} carries what the client sent")
            });
        }
    }
    let connections: BTreeSet<usize> = guarded.requests().iter().map(|r| r.connection).collect();
    c.check(connections.len() < guarded.requests().len(), || {
        format!("no backend connection was reused: {connections:?}")
    });
    c.finish(&httpd);
}
