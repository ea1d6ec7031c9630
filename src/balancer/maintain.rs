//! Global maintenance (mod_jk reference §4.6): once per `worker.maintain` across all
//! processes — the one that wins the shared timestamp's compare-exchange — age the load
//! values, bring members in error back after `recover_time`, escalate local errors older
//! than `error_escalation_time`, mark unused members idle, and force recovery when every
//! member is in error.

use std::sync::atomic::Ordering;

use super::lb::{force_errors_to_recovery, Balancer};
use super::member_state::State;
use super::method::load_method;
use crate::shm::SharedState;

/// What one lb's maintenance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Load values were halved this many times (whole intervals since the last run).
    pub exponent: u32,
    /// ERR → ERR/REC.
    pub recovered: usize,
    /// Local error → ERR.
    pub escalated: usize,
    /// OK → OK/IDLE.
    pub idled: usize,
    /// ERR → ERR/FRC because no member was left.
    pub forced: usize,
    /// Each member whose state this run changed into or out of error: (member index, from, to).
    pub changes: Vec<(usize, State, State)>,
}

/// Runs global maintenance if this caller wins the election for `now_ms` (see
/// [`SharedState::elect_maintenance`]): every lb's [`Balancer::maintain`], then plain
/// workers not used since the last run go OK → OK/IDLE. Returns whether it ran; `said` hears
/// each member that went into or out of error (`true`: into it), once: only the elected
/// process runs it.
pub fn maintain_all<'b>(
    shared: &SharedState,
    balancers: impl IntoIterator<Item = &'b Balancer>,
    now_ms: u64,
    interval_ms: u64,
    said: &mut dyn FnMut(bool, String),
) -> bool {
    if !shared.elect_maintenance(now_ms, interval_ms) {
        return false;
    }
    for balancer in balancers {
        let report = balancer.maintain(now_ms);
        for (index, from, to) in report.changes {
            let member = balancer.member_name(index).unwrap_or("?");
            let why = match to {
                State::Recovering => "recover_time passed; it will be tried again",
                State::ForcedRecovery => "every member is in error: all are tried again",
                _ => "its errors lasted error_escalation_time",
            };
            said(
                to == State::Error,
                format!(
                    "lb {}: member {member} {} -> {}: {why}",
                    balancer.name(),
                    from.name(),
                    to.name()
                ),
            );
        }
    }
    for member in shared.members().iter().filter(|m| m.lb().is_none()) {
        let elected = member.elected.load(Ordering::Relaxed);
        let state = State::from_code(member.state.load(Ordering::Relaxed));
        if state == State::Ok && elected == member.elected_snapshot.load(Ordering::Relaxed) {
            member.state.store(State::OkIdle.code(), Ordering::Relaxed);
        }
        member.elected_snapshot.store(elected, Ordering::Relaxed);
    }
    true
}

impl Balancer {
    /// This lb's part of global maintenance; call it only from the process that won the
    /// election ([`maintain_all`] does). Does nothing when `worker.maintain` is 0.
    pub fn maintain(&self, now_ms: u64) -> MaintenanceReport {
        let mut report = MaintenanceReport::default();
        let Some(lb) = self.record() else {
            return report;
        };
        if self.maintain_ms == 0 {
            return report;
        }
        let last = lb.last_maintain.swap(now_ms, Ordering::AcqRel);
        if last != 0 {
            let intervals = now_ms.saturating_sub(last) / self.maintain_ms;
            report.exponent = u32::try_from(intervals).unwrap_or(u32::MAX);
        }
        let _lock = lb.lock.acquire();
        let settings = lb.settings();
        let method = load_method(settings.method);
        let members = self.members();

        let curmax = method.decay(members, report.exponent);
        for member in members {
            let _ = member
                .reply_timeouts
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                    Some(t.checked_shr(report.exponent).unwrap_or(0))
                });
        }

        let mut non_error = 0;
        for (index, member) in members.iter().enumerate() {
            let state = State::from_code(member.state.load(Ordering::Relaxed));
            let first_error = member.first_error_time.load(Ordering::Relaxed);
            let set = |state: State| member.state.store(state.code(), Ordering::Relaxed);
            if state == State::Error {
                let in_error =
                    now_ms.saturating_sub(member.last_error_time.load(Ordering::Relaxed));
                if in_error > settings.recover_time_ms {
                    if method.restarts_recovered_members() {
                        member.lb_value.store(curmax, Ordering::Relaxed);
                    }
                    member.reply_timeouts.store(0, Ordering::Relaxed);
                    set(State::Recovering);
                    report.recovered += 1;
                    report
                        .changes
                        .push((index, State::Error, State::Recovering));
                    non_error += 1;
                }
            } else if first_error > 0
                && now_ms.saturating_sub(first_error) >= settings.error_escalation_time_ms
                && state != State::Recovering
            {
                set(State::Error);
                report.escalated += 1;
                report.changes.push((index, state, State::Error));
            } else {
                non_error += 1;
                let elected = member.elected.load(Ordering::Relaxed);
                if state == State::Ok && elected == member.elected_snapshot.load(Ordering::Relaxed)
                {
                    set(State::OkIdle);
                    report.idled += 1;
                }
            }
            member
                .elected_snapshot
                .store(member.elected.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        if non_error == 0 {
            let in_error: Vec<usize> = (0..members.len())
                .filter(|&i| {
                    State::from_code(members[i].state.load(Ordering::Relaxed)) == State::Error
                })
                .collect();
            report.forced = force_errors_to_recovery(members, None);
            report.changes.extend(
                in_error
                    .into_iter()
                    .map(|i| (i, State::Error, State::ForcedRecovery)),
            );
        }
        report
    }
}
