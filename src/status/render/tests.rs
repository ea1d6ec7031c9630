//! Renders of hostile snapshots in every format (nothing forges a line, an attribute or a
//! tag), the HTML page's promises, and well-formed JSON and Prometheus output.

use crate::balancer::State;
use crate::config::{Activation, StatusWorker};
use crate::status::model::Snapshot;
use crate::status::testdata;
use crate::status::{parse_query, render, Page, StatusError, View};

const EVIL: &str = "<script>alert(\"x\")</script>'\\\nResult: type=OK a=b #!";

/// The sample lab with hostile text wherever a name, host, route or URI goes.
pub(super) fn hostile() -> Snapshot {
    let mut snapshot = testdata::with_plain_worker();
    snapshot.server.name = EVIL.to_owned();
    snapshot.software.web_server = EVIL.to_owned();
    let lb = &mut snapshot.balancers[0];
    lb.name = format!("lb{EVIL}");
    let member = &mut lb.members[0];
    member.name = format!("m{EVIL}");
    member.route = EVIL.to_owned();
    member.ajp.host = EVIL.to_owned();
    member.ajp.source = Some(EVIL.to_owned());
    lb.maps[0].uri = format!("/{EVIL}");
    snapshot.ajp_workers[0].name = format!("w{EVIL}");
    snapshot.configuration.push(format!("worker.x.host={EVIL}"));
    snapshot
}

pub(super) fn page(snapshot: &Snapshot, query: &str, outcome: Result<(), StatusError>) -> Page {
    let status = StatusWorker::with_defaults("stat1");
    let request = parse_query(query).unwrap();
    let view = View {
        snapshot,
        request: &request,
        status: &status,
        base_uri: "/jk\"status",
        token: "tok<en>",
    };
    render(&view, &outcome)
}

#[test]
fn txt_lines_are_never_forged() {
    for query in ["mime=txt", "mime=txt&cmd=dump"] {
        let body = page(&hostile(), query, Ok(())).body;
        let kinds = [
            "Server:",
            "Time:",
            "Software:",
            "Balancer Workers:",
            "Balancer Worker:",
            "Member:",
            "Map:",
            "AJP Workers:",
            "AJP Worker:",
            "Result:",
            "Configuration:",
            "ServerRoot=",
            "worker.",
        ];
        for line in body.lines() {
            assert!(
                kinds.iter().any(|k| line.starts_with(k)),
                "forged line {line:?}"
            );
        }
        assert_eq!(body.matches("\nResult:").count(), 1, "{body}");
    }
}

#[test]
fn prop_lines_are_never_forged() {
    let body = page(&hostile(), "mime=prop", Ok(())).body;
    for line in body.lines() {
        assert!(line.starts_with("worker."), "forged line {line:?}");
        let key = line.split('=').next().unwrap();
        assert!(
            !key.contains(' ') || key.ends_with(" seconds") || key.contains("\\ "),
            "{line:?}"
        );
    }
    assert_eq!(body.matches("worker.result.type=").count(), 1);
}

#[test]
fn xml_attributes_hold_their_values() {
    let body = page(&hostile(), "mime=xml", Ok(())).body;
    assert!(!body.contains("<script"));
    for line in body.lines().skip(3) {
        let line = line.trim();
        let attribute = line.contains("=\"") && !line.starts_with('<');
        if attribute {
            let value = line.split_once("=\"").unwrap().1;
            assert!(
                value.ends_with('"') && !value[..value.len() - 1].contains('"'),
                "{line:?}"
            );
        }
    }
    assert_eq!(body.matches("<jk:result").count(), 1);
}

#[test]
fn html_escapes_every_echoed_value_and_the_token() {
    for query in ["", "cmd=show&w=solo", "cmd=dump", "cmd=version"] {
        let body = page(&hostile(), query, Ok(())).body;
        assert!(!body.contains("<script"), "{query}");
        assert!(!body.contains("alert(\"x"), "{query}");
    }
    let snapshot = hostile();
    let lb = snapshot.balancers[0].name.clone();
    let body = page(&snapshot, &format!("cmd=edit&w={}", urlencode(&lb)), Ok(())).body;
    assert!(body.contains("&lt;script&gt;"));
    assert!(body.contains("value=\"tok&lt;en&gt;\""));
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn html_states_say_their_word_and_changes_are_token_carrying_posts() {
    let mut snapshot = testdata::snapshot();
    snapshot.balancers[0].members[0].state = State::Error;
    snapshot.balancers[0].members[1].activation = Activation::Disabled;
    let body = page(&snapshot, "re=7", Ok(())).body;
    assert!(body.contains("<span class=\"badge bad\">ERR</span>"));
    assert!(body.contains("<span class=\"badge degraded\">DIS</span>"));
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"7\"/>"));
    assert!(body.contains(">Drain</button>") && body.contains(">Activate</button>"));
    assert!(body.contains(">Recover</button>"));
    for form in body.split("<form").skip(1) {
        let method_post = form.contains("method=\"post\"");
        assert_eq!(method_post, form.contains("name=\"token\""), "{form}");
    }
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no external resource"
    );
    let read_only = page(&snapshot, "opt=32", Ok(())).body;
    assert!(!read_only.contains("method=\"post\""));
}

#[test]
fn html_update_result_redirects_back_and_errors_show_the_message() {
    let snapshot = testdata::snapshot();
    let body = page(
        &snapshot,
        "cmd=update&w=lbcluster&sw=TomcatB&vwa=1&from=show",
        Ok(()),
    )
    .body;
    assert!(
        body.contains("content=\"3;url=/jk&quot;status?cmd=show&amp;w=lbcluster\""),
        "{body}"
    );
    let failed = page(&snapshot, "cmd=show&w=nosuch", Ok(()));
    assert!(failed
        .body
        .contains("Result: ERROR - Could not find given worker"));
    assert_eq!(failed.status, 200);
    let refused = page(
        &snapshot,
        "cmd=update&w=lbcluster",
        Err(StatusError::CrossSite),
    );
    assert_eq!(refused.status, 403);
}

#[test]
fn edit_forms_cover_lb_member_plain_worker_and_aspect() {
    let snapshot = testdata::with_plain_worker();
    let lb = page(&snapshot, "cmd=edit&w=lbcluster", Ok(())).body;
    for param in [
        "vlr", "vlri", "vlt", "vlee", "vlx", "vls", "vlf", "vlm", "vll",
    ] {
        assert!(lb.contains(&format!("name=\"{param}\"")), "{param}");
    }
    let member = page(&snapshot, "cmd=edit&w=lbcluster&sw=TomcatB", Ok(())).body;
    assert!(member.contains("name=\"sw\" value=\"TomcatB\""));
    assert!(member.contains("name=\"vwa\"") && member.contains("name=\"vamps\""));
    let plain = page(&snapshot, "cmd=edit&w=solo", Ok(())).body;
    assert!(plain.contains("name=\"vahst\"") && !plain.contains("name=\"vwa\""));
    let aspect = page(&snapshot, "cmd=edit&w=lbcluster&att=vwf", Ok(())).body;
    assert!(aspect.contains("name=\"val0\"") && aspect.contains("name=\"val1\""));
}
