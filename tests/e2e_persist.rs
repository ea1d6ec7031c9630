//! Run-time edits that survive a full restart (`worker.<status>.persist`, beyond mod_jk):
//! a drain made through the status page is journaled, a new httpd started from nothing
//! replays it, and a damaged journal is refused whole with a log line; a member's new port
//! and reply timeout come back the same way.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use e2e_common::{backend, must_get};
use httpd::{Httpd, HttpdConfig, Mpm};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A directory that outlives one httpd (children run as www-data: writable by all).
fn state_dir(test: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("persist-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn start(ports: (u16, u16), journal: &Path) -> Httpd {
    let properties = format!(
        "worker.list=lb,stat1\n\
         worker.b1.host=127.0.0.1\nworker.b1.port={}\n\
         worker.b2.host=127.0.0.1\nworker.b2.port={}\n\
         worker.lb.type=lb\nworker.lb.balance_workers=b1,b2\n\
         worker.stat1.type=status\nworker.stat1.persist={}\n",
        ports.0,
        ports.1,
        journal.display()
    );
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.global =
        "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\nJkMount /jkstatus stat1\n"
            .to_string();
    cfg.files = vec![("workers.properties".to_string(), properties)];
    Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"))
}

fn member_line(httpd: &Httpd, member: &str) -> String {
    let list = must_get(httpd, "/jkstatus?mime=txt").text();
    list.lines()
        .find(|l| l.starts_with(&format!("Member: name={member} ")))
        .unwrap_or_else(|| panic!("no member {member} in:\n{list}"))
        .to_string()
}

#[test]
fn a_drain_survives_a_full_restart_and_a_damaged_journal_is_refused() {
    let (b1, b2) = (backend("b1"), backend("b2"));
    let ports = (b1.port(), b2.port());
    let dir = state_dir("drain");
    let journal = dir.join("edits.journal");

    let first = start(ports, &journal);
    let answer = must_get(&first, "/jkstatus?cmd=update&mime=txt&w=lb&sw=b2&vwa=1").text();
    assert!(answer.contains("Result: type=OK"), "{answer}");
    let text = fs::read_to_string(&journal).expect("the journal was written");
    assert!(text.contains("w=lb&sw=b2&vwa=Disabled"), "{text}");
    first.stop();

    // A new httpd, nothing carried over in memory: the journal brings the drain back.
    let second = start(ports, &journal);
    assert!(member_line(&second, "b2").contains("activation=DIS"));
    assert!(member_line(&second, "b1").contains("activation=ACT"));
    assert!(
        second.wait_for_error_log("member b2: activation ACT -> DIS", e2e_common::PATIENCE),
        "no log line for the replayed edit:\n{}",
        second.error_log()
    );
    second.stop();

    // Damaged: refused whole, said so, nothing applied.
    fs::write(&journal, text.replace("Disabled", "Stopped")).unwrap();
    let third = start(ports, &journal);
    assert!(member_line(&third, "b2").contains("activation=ACT"));
    assert!(
        third.wait_for_error_log("not applied: its checksum", e2e_common::PATIENCE),
        "no log line refusing the damaged journal:\n{}",
        third.error_log()
    );
    third.stop();
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_members_new_port_and_reply_timeout_survive_a_full_restart() {
    let (b1, b2, b3) = (backend("b1"), backend("b2"), backend("b3"));
    let ports = (b1.port(), b2.port());
    let dir = state_dir("port");
    let journal = dir.join("edits.journal");

    let first = start(ports, &journal);
    let query = format!(
        "/jkstatus?cmd=update&mime=txt&w=lb&sw=b1&vaprt={}&vart=3000",
        b3.port()
    );
    let answer = must_get(&first, &query).text();
    assert!(answer.contains("Result: type=OK"), "{answer}");
    let text = fs::read_to_string(&journal).expect("the journal was written");
    let line = format!("w=lb&sw=b1&vaprt={}&vart=3000", b3.port());
    assert!(text.contains(&line), "{text}");
    first.stop();

    let second = start(ports, &journal);
    let b1_line = member_line(&second, "b1");
    assert!(
        b1_line.contains(&format!(" port={} ", b3.port())),
        "{b1_line}"
    );
    assert!(b1_line.contains(" reply_timeout=3000 "), "{b1_line}");
    let resp = must_get(&second, "/app/x;jsessionid=s.b1");
    assert_eq!(
        (resp.status, resp.header("X-Backend")),
        (200, Some("b3")),
        "b1's route goes to its new port"
    );
    assert!(
        b1.requests().is_empty(),
        "the old port got {:?}",
        b1.requests()
    );
    second.stop();
    drop(b2);
    let _ = fs::remove_dir_all(&dir);
}
