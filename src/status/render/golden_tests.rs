//! Golden files for the line formats, under `tests/fixtures/status/`: each is the render of
//! a snapshot holding the values of the mod_jk 1.2.48 sample of the same name, and each
//! was checked byte for byte against that sample when written. `STATUS_BLESS=1` rewrites
//! them after an intended change.

use crate::balancer::State;
use crate::config::{Activation, StatusWorker};
use crate::status::model::{SecondsRange, Snapshot};
use crate::status::testdata::{self, NOW};
use crate::status::{parse_query, render, render_request_error, View};

fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/status")
        .join(name)
}

fn check(name: &str, actual: &str) {
    let path = fixture_path(name);
    if std::env::var_os("STATUS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (STATUS_BLESS=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{name} differs:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// The body for `query` over `snapshot` with a default status worker (`execute` is not
/// needed: these commands change nothing).
fn body(
    snapshot: &Snapshot,
    query: &str,
    outcome: Result<(), crate::status::StatusError>,
) -> String {
    let status = StatusWorker::with_defaults("stat1");
    match parse_query(query) {
        Ok(request) => {
            let view = View {
                snapshot,
                request: &request,
                status: &status,
                base_uri: "/jkstatus",
                token: "t",
            };
            render(&view, &outcome).body
        }
        Err(e) => {
            render_request_error(&status, "/jkstatus", e.mime, &e.error, &Snapshot::default()).body
        }
    }
}

#[test]
fn list_show_version_and_dump_match_mod_jk() {
    let snapshot = testdata::snapshot();
    for mime in ["txt", "prop", "xml"] {
        let cases = [
            ("list", format!("mime={mime}")),
            (
                "show-lbcluster",
                format!("cmd=show&w=lbcluster&mime={mime}"),
            ),
            (
                "show-lbcluster-TomcatA",
                format!("cmd=show&w=lbcluster&sw=TomcatA&mime={mime}"),
            ),
            ("version", format!("cmd=version&mime={mime}")),
            ("dump", format!("cmd=dump&mime={mime}")),
        ];
        for (name, query) in cases {
            check(&format!("{name}.{mime}"), &body(&snapshot, &query, Ok(())));
        }
    }
}

#[test]
fn errors_and_results_match_mod_jk() {
    let snapshot = testdata::snapshot();
    let cases = [
        ("error-member-as-worker.txt", "cmd=show&w=TomcatA&mime=txt"),
        ("error-unknown-worker.txt", "cmd=show&w=nosuch&mime=txt"),
        ("error-unknown-cmd.txt", "cmd=frobnicate&mime=txt"),
        ("error-show-without-w.xml", "cmd=show&mime=xml"),
        (
            "update-disable-TomcatB.txt",
            "cmd=update&w=lbcluster&sw=TomcatB&vwa=1&mime=txt",
        ),
        ("reset-lbcluster.txt", "cmd=reset&w=lbcluster&mime=txt"),
    ];
    for (name, query) in cases {
        check(name, &body(&snapshot, query, Ok(())));
    }
}

/// One second later, TomcatB disabled, as in `list-TomcatB-disabled.*`.
fn tomcat_b_disabled() -> Snapshot {
    let mut snapshot = testdata::snapshot();
    snapshot.now.unix = NOW + 1;
    let lb = &mut snapshot.balancers[0];
    lb.maintenance_in = SecondsRange { min: 4, max: 9 };
    let a = &mut lb.members[0];
    (a.lbvalue, a.elected, a.sessions) = (11, 18, 12);
    (a.traffic.transferred, a.traffic.read) = (4044, 9563);
    let b = &mut lb.members[1];
    b.activation = Activation::Disabled;
    b.lbvalue = 0;
    snapshot
}

/// TomcatA killed, as in `list-TomcatA-killed.*`; `recovering` as after `cmd=recover`.
fn tomcat_a_killed(recovering: bool) -> Snapshot {
    let mut snapshot = testdata::snapshot();
    snapshot.now.unix = NOW + 3;
    let lb = &mut snapshot.balancers[0];
    lb.maintenance_in = SecondsRange { min: 2, max: 7 };
    lb.last_reset = NOW + 1;
    for m in &mut lb.members {
        m.last_reset = NOW + 1;
        m.traffic.max_connected = 0;
    }
    let a = &mut lb.members[0];
    (a.state, a.lbvalue, a.elected, a.sessions, a.errors) = (State::Error, 1, 1, 1, 1);
    (a.traffic.transferred, a.traffic.read, a.traffic.connected) = (0, 0, 1);
    a.recover_in = SecondsRange { min: 10, max: 15 };
    a.last_error = Some(NOW + 3);
    if recovering {
        (a.state, a.lbvalue, a.recover_in) = (State::Recovering, 11, SecondsRange::default());
    }
    let b = &mut lb.members[1];
    (b.lbvalue, b.elected, b.sessions) = (11, 11, 8);
    (b.traffic.transferred, b.traffic.read) = (2434, 6145);
    snapshot
}

/// Right after `cmd=reset`, as in `list-after-reset.txt`.
fn after_reset() -> Snapshot {
    let mut snapshot = testdata::snapshot();
    snapshot.now.unix = NOW + 1;
    let lb = &mut snapshot.balancers[0];
    (lb.maintenance_in, lb.last_reset, lb.max_busy) = (SecondsRange { min: 4, max: 9 }, NOW + 1, 0);
    for m in &mut lb.members {
        (m.state, m.lbvalue, m.elected, m.sessions, m.last_reset) =
            (State::OkIdle, 0, 0, 0, NOW + 1);
        m.traffic.transferred = 0;
        m.traffic.read = 0;
        m.traffic.max_busy = 0;
        m.traffic.max_connected = 0;
    }
    snapshot
}

#[test]
fn member_states_render_like_mod_jk() {
    let cases = [
        ("list-TomcatB-disabled.txt", tomcat_b_disabled(), "mime=txt"),
        ("list-TomcatB-disabled.xml", tomcat_b_disabled(), "mime=xml"),
        (
            "list-TomcatA-killed.txt",
            tomcat_a_killed(false),
            "mime=txt",
        ),
        (
            "list-TomcatA-killed.xml",
            tomcat_a_killed(false),
            "mime=xml",
        ),
        (
            "list-after-recover-while-down.txt",
            tomcat_a_killed(true),
            "mime=txt",
        ),
        ("list-after-reset.txt", after_reset(), "mime=txt"),
    ];
    for (name, snapshot, query) in cases {
        check(name, &body(&snapshot, query, Ok(())));
    }
}

#[test]
fn killed_member_in_prop_keeps_mod_jk_error_keys() {
    let text = body(&tomcat_a_killed(false), "mime=prop", Ok(()));
    assert!(text.contains("worker.lbcluster.error_time_unix seconds=1795481721\n"));
    assert!(text.contains("worker.lbcluster.error_time_ago seconds=0\n"));
    assert!(text.contains("worker.TomcatA.state=ERR\n"));
}

#[test]
fn our_own_formats_keep_their_documented_shape() {
    let snapshot = testdata::with_plain_worker();
    check(
        "list-with-plain-worker.json",
        &body(&snapshot, "mime=json", Ok(())),
    );
    check(
        "list-with-plain-worker.prometheus",
        &body(&snapshot, "mime=prometheus", Ok(())),
    );
    check(
        "list-with-plain-worker.txt",
        &body(&snapshot, "mime=txt", Ok(())),
    );
    check(
        "list-with-plain-worker.xml",
        &body(&snapshot, "mime=xml", Ok(())),
    );
    check(
        "list-with-plain-worker.html",
        &body(&snapshot, "re=10", Ok(())),
    );
}
