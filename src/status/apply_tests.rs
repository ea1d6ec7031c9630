//! `execute` against an in-memory [`StatusTarget`] over the sample lab.

use super::*;
use crate::config::{Activation, LbMethod};
use crate::status::edits::LbSetting;
use crate::status::{parse_query, testdata};
use std::time::Duration;

/// Records every call; refuses members named in `refuse`.
#[derive(Default)]
struct Recorder {
    calls: Vec<String>,
    refuse: Vec<String>,
    in_error: Vec<String>,
}

impl StatusTarget for Recorder {
    fn set_balancer(&mut self, lb: &str, setting: &LbSetting) -> bool {
        self.calls.push(format!("lb {lb} {setting:?}"));
        true
    }
    fn set_member(&mut self, lb: &str, member: &str, setting: &MemberSetting) -> bool {
        self.calls.push(format!("member {lb}/{member} {setting:?}"));
        !self.refuse.iter().any(|r| r == member)
    }
    fn set_ajp(&mut self, worker: &str, settings: &[AjpSetting]) -> Result<(), StatusError> {
        for setting in settings {
            self.calls.push(format!("ajp {worker} {setting:?}"));
        }
        Ok(())
    }
    fn reset(&mut self, worker: &str, member: Option<&str>) -> bool {
        self.calls.push(format!("reset {worker} {member:?}"));
        true
    }
    fn recover(&mut self, lb: &str, member: &str) -> bool {
        self.calls.push(format!("recover {lb}/{member}"));
        self.in_error.iter().any(|m| m == member)
    }
}

fn run(query: &str, target: &mut Recorder) -> Result<(), StatusError> {
    let snapshot = testdata::with_plain_worker();
    let status = StatusWorker::with_defaults("stat1");
    execute(&parse_query(query).unwrap(), &snapshot, &status, target)
}

#[test]
fn drain_one_member_with_a_plain_get() {
    let mut target = Recorder::default();
    let query = "cmd=update&w=lbcluster&sw=TomcatB&vwa=1";
    assert_eq!(run(query, &mut target), Ok(()));
    assert_eq!(
        target.calls,
        [format!(
            "member lbcluster/TomcatB {:?}",
            MemberSetting::Activation(Activation::Disabled)
        )]
    );
}

#[test]
fn lb_update_sets_lb_fields_only() {
    let mut target = Recorder::default();
    let query = "cmd=update&w=lbcluster&vlt=20&vlm=b&vwa=1";
    assert_eq!(run(query, &mut target), Ok(()));
    assert_eq!(
        target.calls,
        [
            format!(
                "lb lbcluster {:?}",
                LbSetting::RecoverTime(Duration::from_secs(20))
            ),
            format!("lb lbcluster {:?}", LbSetting::Method(LbMethod::Busyness)),
        ]
    );
}

#[test]
fn wildcard_updates_every_matching_member_member_and_ajp_fields() {
    let mut target = Recorder::default();
    let query = "cmd=update&w=lbcluster&sw=Tomcat*&vwf=3&vabl=50";
    assert_eq!(run(query, &mut target), Ok(()));
    let calls: Vec<&str> = target
        .calls
        .iter()
        .map(|c| c.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(
        calls,
        [
            "TomcatA",
            "lbcluster/TomcatA",
            "TomcatB",
            "lbcluster/TomcatB"
        ],
        "each member's connection settings (all or none) go first"
    );
}

#[test]
fn a_refused_connection_setting_leaves_the_members_own_settings_alone() {
    struct RefusesHosts(Vec<String>);
    impl StatusTarget for RefusesHosts {
        fn set_balancer(&mut self, _: &str, _: &LbSetting) -> bool {
            true
        }
        fn set_member(&mut self, lb: &str, member: &str, s: &MemberSetting) -> bool {
            self.0.push(format!("member {lb}/{member} {s:?}"));
            true
        }
        fn set_ajp(&mut self, worker: &str, _: &[AjpSetting]) -> Result<(), StatusError> {
            Err(StatusError::Unresolvable {
                address: "nowhere.invalid:8009".into(),
                worker: worker.into(),
            })
        }
        fn reset(&mut self, _: &str, _: Option<&str>) -> bool {
            true
        }
        fn recover(&mut self, _: &str, _: &str) -> bool {
            true
        }
    }
    let mut target = RefusesHosts(Vec::new());
    let snapshot = testdata::with_plain_worker();
    let status = StatusWorker::with_defaults("stat1");
    let query = "cmd=update&w=lbcluster&sw=TomcatA&vwa=1&vahst=nowhere.invalid";
    let error = execute(
        &parse_query(query).unwrap(),
        &snapshot,
        &status,
        &mut target,
    );
    assert_eq!(
        error.unwrap_err().to_string(),
        "Update failed (at least partially): could not resolve address 'nowhere.invalid:8009' for sub worker 'TomcatA'."
    );
    assert!(target.0.is_empty(), "{:?}", target.0);
}

#[test]
fn the_host_in_force_passes_even_when_longer_than_a_record_holds() {
    let mut target = Recorder::default();
    let mut snapshot = testdata::with_plain_worker();
    let path = format!("unix:/{}/ajp.sock", "d".repeat(70));
    snapshot.ajp_workers[0].ajp.host = path.clone();
    let status = StatusWorker::with_defaults("stat1");
    let query = format!("cmd=update&w=solo&vahst={path}&vart=5");
    let request = parse_query(&query).unwrap();
    assert_eq!(execute(&request, &snapshot, &status, &mut target), Ok(()));
    let longer = parse_query(&format!("cmd=update&w=solo&vahst={path}x")).unwrap();
    assert!(matches!(
        execute(&longer, &snapshot, &status, &mut target),
        Err(StatusError::TooLong { .. })
    ));
}

#[test]
fn a_refused_wildcard_member_stops_the_update_with_mod_jk_message() {
    let mut target = Recorder {
        refuse: vec!["TomcatA".to_owned()],
        ..Recorder::default()
    };
    let error = run("cmd=update&w=lbcluster&sw=*&vwd=1", &mut target).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Update failed (at least partially) for sub worker 'TomcatA' Aborting further wildcard updates."
    );
    assert_eq!(target.calls.len(), 1);
}

#[test]
fn aspect_edit_sets_each_member_its_own_value() {
    let mut target = Recorder::default();
    let query = "cmd=update&w=lbcluster&att=vwa&val0=a&val1=s&val7=d";
    assert_eq!(run(query, &mut target), Ok(()));
    assert_eq!(
        target.calls,
        [
            format!(
                "member lbcluster/TomcatA {:?}",
                MemberSetting::Activation(Activation::Active)
            ),
            format!(
                "member lbcluster/TomcatB {:?}",
                MemberSetting::Activation(Activation::Stopped)
            ),
        ]
    );
}

#[test]
fn plain_worker_update_reset_and_recover() {
    let mut target = Recorder::default();
    assert_eq!(
        run("cmd=update&w=solo&vaprt=8010&vwa=1", &mut target),
        Ok(())
    );
    assert_eq!(
        target.calls,
        [format!("ajp solo {:?}", AjpSetting::Port(8010))]
    );
    assert_eq!(run("cmd=reset&w=solo", &mut target), Ok(()));
    assert_eq!(
        run("cmd=recover&w=solo", &mut target),
        Err(StatusError::NoMembers)
    );
}

#[test]
fn reset_and_recover_of_lb_and_members() {
    let mut target = Recorder {
        in_error: vec!["TomcatA".to_owned()],
        ..Recorder::default()
    };
    assert_eq!(run("cmd=reset&w=lbcluster", &mut target), Ok(()));
    assert_eq!(run("cmd=reset&w=lbcluster&sw=TomcatB", &mut target), Ok(()));
    assert_eq!(
        run("cmd=recover&w=lbcluster&sw=TomcatA", &mut target),
        Ok(())
    );
    assert_eq!(
        run("cmd=recover&w=lbcluster&sw=TomcatB", &mut target)
            .unwrap_err()
            .to_string(),
        "Marking worker for recovery failed"
    );
    assert_eq!(
        run("cmd=recover&w=lbcluster", &mut target),
        Err(StatusError::NoMemberParam)
    );
    assert_eq!(
        run("cmd=reset&w=lbcluster&sw=T*", &mut target),
        Err(StatusError::WildcardNotAllowed)
    );
    assert_eq!(
        target.calls[..2],
        ["reset lbcluster None", "reset lbcluster Some(\"TomcatB\")"]
    );
}

#[test]
fn read_only_refuses_every_change_and_the_edit_form() {
    let snapshot = testdata::snapshot();
    let mut status = StatusWorker::with_defaults("stat1");
    let mut target = Recorder::default();
    for query in [
        "cmd=update&w=lbcluster&vlt=1",
        "cmd=update&w=lbcluster&sw=TomcatA&vart=100",
        "cmd=update&w=solo&vaprt=8010",
        "cmd=reset&w=lbcluster",
        "cmd=edit&w=lbcluster",
    ] {
        let soft = parse_query(&format!("{query}&opt=32")).unwrap();
        assert_eq!(
            execute(&soft, &snapshot, &status, &mut target),
            Err(StatusError::ReadOnly)
        );
    }
    status.read_only = true;
    let request = parse_query("cmd=recover&w=lbcluster&sw=TomcatA").unwrap();
    assert_eq!(
        execute(&request, &snapshot, &status, &mut target),
        Err(StatusError::ReadOnly)
    );
    let list = parse_query("").unwrap();
    assert_eq!(execute(&list, &snapshot, &status, &mut target), Ok(()));
    assert!(target.calls.is_empty());
}

#[test]
fn too_long_route_is_refused_before_anything_is_set() {
    let mut target = Recorder::default();
    let route = "r".repeat(61);
    let error = run(
        &format!("cmd=update&w=lbcluster&sw=TomcatA&vwn={route}"),
        &mut target,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("Update failed (at least partially): new route '{route}' too long for sub worker 'TomcatA', see log file for details.")
    );
    assert!(target.calls.is_empty());
}
