//! Run-time changes the status page makes (mod_jk reference §5.2): lb and member settings,
//! "recover" and "reset" — each under the lb's cross-process lock, each bumping the record's
//! sequence so every process sees a consistent copy, and each kept across a graceful restart.

use std::sync::atomic::Ordering;

use super::lb::Balancer;
use super::member_state::State;
use super::method::load_method;
use crate::shm::{LbSettings, MemberSettings};

impl Balancer {
    /// Edits the lb settings (`vlr`, `vlri`, `vlt`, `vlee`, `vlx`, `vls`, `vlf`, `vlm`,
    /// `vll`); returns whether anything changed.
    pub fn update_settings(&self, edit: impl FnOnce(&mut LbSettings)) -> bool {
        let Some(lb) = self.record() else {
            return false;
        };
        let _lock = lb.lock.acquire();
        lb.update_settings(edit)
    }

    /// Edits member `member`'s settings (`vwa`, `vwf`, `vwn`, `vwr`, `vwc`, `vwd`, `vabl`);
    /// a new `lbfactor` recomputes every member's multiplier. Returns whether anything
    /// changed.
    pub fn update_member(&self, member: usize, edit: impl FnOnce(&mut MemberSettings)) -> bool {
        let (Some(lb), Some(record)) = (self.record(), self.members().get(member)) else {
            return false;
        };
        let _lock = lb.lock.acquire();
        let factor = record.lb_factor();
        let changed = record.update_settings(edit);
        if record.lb_factor() != factor {
            self.shared.recompute_multipliers(self.index);
        }
        changed
    }

    /// "Try recover": a member in ERR goes to ERR/REC now instead of after `recover_time`,
    /// restarting at the largest load value (except for Busyness). Returns whether it was
    /// in error.
    pub fn recover(&self, member: usize) -> bool {
        let (Some(lb), Some(record)) = (self.record(), self.members().get(member)) else {
            return false;
        };
        let _lock = lb.lock.acquire();
        if State::from_code(record.state.load(Ordering::Relaxed)) != State::Error {
            return false;
        }
        if load_method(lb.settings().method).restarts_recovered_members() {
            let curmax = self
                .members()
                .iter()
                .map(|m| m.lb_value.load(Ordering::Relaxed))
                .max()
                .unwrap_or(0);
            record.lb_value.store(curmax, Ordering::Relaxed);
        }
        record.reply_timeouts.store(0, Ordering::Relaxed);
        record
            .state
            .store(State::Recovering.code(), Ordering::Relaxed);
        true
    }

    /// "Reset" of one member: zeroes its statistics (state and settings stay). Returns
    /// whether the member exists.
    pub fn reset_member(&self, member: usize, now_ms: u64) -> bool {
        let (Some(lb), Some(record)) = (self.record(), self.members().get(member)) else {
            return false;
        };
        let _lock = lb.lock.acquire();
        record.reset_statistics(now_ms);
        true
    }

    /// "Reset": zeroes the statistics of the lb and its members (states and settings stay).
    pub fn reset_statistics(&self, now_ms: u64) {
        let Some(lb) = self.record() else {
            return;
        };
        let _lock = lb.lock.acquire();
        lb.max_busy
            .store(lb.busy.load(Ordering::Relaxed), Ordering::Relaxed);
        lb.last_reset.store(now_ms, Ordering::Relaxed);
        for member in self.members() {
            member.reset_statistics(now_ms);
        }
    }
}
