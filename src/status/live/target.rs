//! [`LiveTarget`]: the status page's edits applied to the runtime's shared memory, where
//! every child sees them at once and a graceful restart keeps them.
//!
//! Live, all of them: the lb settings (`vlr vlri vlt vlee vlx vls vlf vlm vll`), the member
//! settings (`vwa vwf vwn vwr vwc vwd`), the connection settings of members and plain workers
//! (`vahst vaprt vacpt vapng vact vapt vart var vari varo vabl vamps vacpi`, in
//! `ajp_edit.rs`), reset and recover.

use super::super::edits::{AjpSetting, LbSetting, MemberSetting};
use super::super::error::StatusError;
use super::super::StatusTarget;
use crate::balancer::Balancer;
use crate::proxy::{Runtime, Target};
use crate::shm::{LbSettings, MemberSettings, ShortText};
use std::fmt;
use std::time::Duration;

/// One change the page made, for the shell to log once (info).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The lb or plain worker.
    pub worker: String,
    /// The lb member, when the change is one member's.
    pub member: Option<String>,
    /// The property changed (`activation`, `recover_time`, …), or `reset` / `recover`.
    pub field: &'static str,
    /// Old and new value in the property's unit (text quoted); empty for reset.
    pub old: String,
    pub new: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker {}", self.worker)?;
        if let Some(member) = &self.member {
            write!(f, " member {member}")?;
        }
        write!(f, ": {}", self.field)?;
        if self.old.is_empty() && self.new.is_empty() {
            return Ok(());
        }
        write!(f, " {} -> {}", self.old, self.new)
    }
}

/// The runtime as the status page changes it. `now_ms` (ms since the Unix epoch) stamps
/// resets. [`LiveTarget::changes`] lists what was actually changed (setting a value a field
/// already has is applied but is no change).
pub struct LiveTarget<'a> {
    pub(super) rt: &'a Runtime,
    now_ms: u64,
    changes: Vec<Change>,
    /// Whether a new host must resolve before it is taken (not while a journal is replayed).
    pub(super) resolve: bool,
}

impl<'a> LiveTarget<'a> {
    pub fn new(rt: &'a Runtime, now_ms: u64) -> LiveTarget<'a> {
        LiveTarget {
            rt,
            now_ms,
            changes: Vec::new(),
            resolve: true,
        }
    }

    /// A target for replaying the journal at start-up: a host edited earlier is taken
    /// without resolving it (as a configured one: the first connection resolves it).
    pub fn replaying(rt: &'a Runtime, now_ms: u64) -> LiveTarget<'a> {
        LiveTarget {
            resolve: false,
            ..LiveTarget::new(rt, now_ms)
        }
    }

    /// What the commands run so far changed, in order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn into_changes(self) -> Vec<Change> {
        self.changes
    }

    pub(super) fn note(
        &mut self,
        worker: &str,
        member: Option<&str>,
        field: &'static str,
        old: String,
        new: String,
    ) {
        if old == new && !(old.is_empty() && new.is_empty()) {
            return;
        }
        self.changes.push(Change {
            worker: worker.to_owned(),
            member: member.map(str::to_owned),
            field,
            old,
            new,
        });
    }

    fn balancer(&self, lb: &str) -> Option<&'a Balancer> {
        self.rt.lb(lb).map(|service| &service.balancer)
    }
}

impl StatusTarget for LiveTarget<'_> {
    fn set_balancer(&mut self, lb: &str, setting: &LbSetting) -> bool {
        let Some(balancer) = self.balancer(lb) else {
            return false;
        };
        let mut old = None;
        balancer.update_settings(|s| {
            old = Some(*s);
            apply_lb(s, setting);
        });
        let (Some(old), Some(new)) = (old, balancer.settings()) else {
            return false;
        };
        let (field, before) = lb_field(setting, &old);
        let (_, after) = lb_field(setting, &new);
        self.note(lb, None, field, before, after);
        true
    }

    fn set_member(&mut self, lb: &str, member: &str, setting: &MemberSetting) -> bool {
        let Some(balancer) = self.balancer(lb) else {
            return false;
        };
        let Some(index) = balancer.member_index(member) else {
            return false;
        };
        let text = match setting {
            MemberSetting::Route(v) | MemberSetting::Redirect(v) | MemberSetting::Domain(v) => {
                match ShortText::new(v) {
                    Ok(text) => text,
                    Err(_) => return false,
                }
            }
            _ => ShortText::EMPTY,
        };
        let mut old = None;
        balancer.update_member(index, |s| {
            old = Some(*s);
            apply_member(s, setting, text);
        });
        let (Some(old), Some(record)) = (old, balancer.members().get(index)) else {
            return false;
        };
        let (field, before) = member_field(setting, &old);
        let (_, after) = member_field(setting, &record.settings());
        self.note(lb, Some(member), field, before, after);
        true
    }

    fn set_ajp(&mut self, worker: &str, settings: &[AjpSetting]) -> Result<(), StatusError> {
        self.edit_ajp(worker, settings)
    }

    fn reset(&mut self, worker: &str, member: Option<&str>) -> bool {
        if let Some(balancer) = self.balancer(worker) {
            let done = match member {
                None => {
                    balancer.reset_statistics(self.now_ms);
                    balancer.record().is_some()
                }
                Some(name) => balancer
                    .member_index(name)
                    .is_some_and(|index| balancer.reset_member(index, self.now_ms)),
            };
            if done {
                self.note(worker, member, "reset", String::new(), String::new());
            }
            return done;
        }
        if member.is_some() {
            return false;
        }
        let Ok(Target::Ajp(plain)) = self.rt.target(worker) else {
            return false;
        };
        let Some(record) = plain.record() else {
            return false;
        };
        record.reset_statistics(self.now_ms);
        self.note(worker, None, "reset", String::new(), String::new());
        true
    }

    fn recover(&mut self, lb: &str, member: &str) -> bool {
        let Some(balancer) = self.balancer(lb) else {
            return false;
        };
        let recovered = balancer
            .member_index(member)
            .is_some_and(|index| balancer.recover(index));
        if recovered {
            let (old, new) = ("ERR".to_owned(), "ERR/REC".to_owned());
            self.note(lb, Some(member), "state", old, new);
        }
        recovered
    }
}

fn millis(d: &Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn apply_lb(s: &mut LbSettings, setting: &LbSetting) {
    match setting {
        LbSetting::Retries(n) => s.retries = *n,
        LbSetting::RetryInterval(d) => s.retry_interval_ms = millis(d),
        LbSetting::RecoverTime(d) => s.recover_time_ms = millis(d),
        LbSetting::ErrorEscalationTime(d) => s.error_escalation_time_ms = millis(d),
        LbSetting::MaxReplyTimeouts(n) => s.max_reply_timeouts = *n,
        LbSetting::StickySession(b) => s.sticky_session = *b,
        LbSetting::StickySessionForce(b) => s.sticky_session_force = *b,
        LbSetting::Method(m) => s.method = *m,
        LbSetting::Lock(l) => s.lock = *l,
    }
}

/// The property `setting` changes and its value in `s`, in the property's unit.
fn lb_field(setting: &LbSetting, s: &LbSettings) -> (&'static str, String) {
    match setting {
        LbSetting::Retries(_) => ("retries", s.retries.to_string()),
        LbSetting::RetryInterval(_) => ("retry_interval", s.retry_interval_ms.to_string()),
        LbSetting::RecoverTime(_) => ("recover_time", (s.recover_time_ms / 1000).to_string()),
        LbSetting::ErrorEscalationTime(_) => (
            "error_escalation_time",
            (s.error_escalation_time_ms / 1000).to_string(),
        ),
        LbSetting::MaxReplyTimeouts(_) => ("max_reply_timeouts", s.max_reply_timeouts.to_string()),
        LbSetting::StickySession(_) => ("sticky_session", s.sticky_session.to_string()),
        LbSetting::StickySessionForce(_) => {
            ("sticky_session_force", s.sticky_session_force.to_string())
        }
        LbSetting::Method(_) => ("method", s.method.name().to_owned()),
        LbSetting::Lock(_) => ("lock", s.lock.name().to_owned()),
    }
}

/// `text` is the setting's route, redirect or domain, already checked to fit.
fn apply_member(s: &mut MemberSettings, setting: &MemberSetting, text: ShortText) {
    match setting {
        MemberSetting::Activation(a) => s.activation = *a,
        MemberSetting::LbFactor(n) => s.lb_factor = *n,
        MemberSetting::Route(_) => s.route = text,
        MemberSetting::Redirect(_) => s.redirect = text,
        MemberSetting::Domain(_) => s.domain = text,
        MemberSetting::Distance(n) => s.distance = *n,
    }
}

fn member_field(setting: &MemberSetting, s: &MemberSettings) -> (&'static str, String) {
    let quoted = |t: &ShortText| format!("\"{t}\"");
    match setting {
        MemberSetting::Activation(_) => ("activation", s.activation.code().to_owned()),
        MemberSetting::LbFactor(_) => ("lbfactor", s.lb_factor.to_string()),
        MemberSetting::Route(_) => ("route", quoted(&s.route)),
        MemberSetting::Redirect(_) => ("redirect", quoted(&s.redirect)),
        MemberSetting::Domain(_) => ("domain", quoted(&s.domain)),
        MemberSetting::Distance(_) => ("distance", s.distance.to_string()),
    }
}
