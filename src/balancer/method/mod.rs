//! How each lb method turns requests into load values (mod_jk reference §4.5), one file per
//! method: what a request adds when it starts, what it adds or removes when it ends, and how
//! load values age at global maintenance. The member with the lowest load value (per unit of
//! `lb_mult`, so weights hold) gets the next request without a session.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::LbMethod;
use crate::shm::MemberRecord;

mod busyness;
mod next;
mod request;
mod session;
mod traffic;

/// Bytes one request moved between httpd and the member.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Sent to the backend (request headers and body).
    pub written: u64,
    /// Read from the backend (response).
    pub read: u64,
}

/// One lb method's accounting.
pub trait LoadMethod: Sync {
    /// Load added as a request starts on `member` (`new_session`: the request has no session
    /// id and is not stateless). Returns what was added, so a request that never reached the
    /// member can take it back.
    fn on_start(&self, member: &MemberRecord, new_session: bool) -> u64;

    /// Load added or removed after the request ran.
    fn on_end(&self, member: &MemberRecord, traffic: Traffic);

    /// Ages the load values at global maintenance, `exponent` = whole maintenance intervals
    /// since the last run. Returns the largest load value, where a member leaving error
    /// restarts so it is not flooded with requests.
    fn decay(&self, members: &[MemberRecord], exponent: u32) -> u64;

    /// Whether a member leaving error restarts at the largest load value.
    fn restarts_recovered_members(&self) -> bool {
        true
    }
}

/// The accounting of `method`.
pub fn load_method(method: LbMethod) -> &'static dyn LoadMethod {
    match method {
        LbMethod::Request => &request::Request,
        LbMethod::Traffic => &traffic::Traffic,
        LbMethod::Busyness => &busyness::Busyness,
        LbMethod::Sessions => &session::Sessions,
        LbMethod::Next => &next::Next,
    }
}

fn multiplier(member: &MemberRecord) -> u64 {
    member.lb_mult.load(Ordering::Relaxed).max(1)
}

/// Adds `amount` to the load value, saturating; returns `amount`.
fn add_load(member: &MemberRecord, amount: u64) -> u64 {
    update(&member.lb_value, |v| v.saturating_add(amount));
    amount
}

/// Takes `amount` off the load value, never below zero.
pub(crate) fn remove_load(member: &MemberRecord, amount: u64) {
    update(&member.lb_value, |v| v.saturating_sub(amount));
}

/// Halves every load value `exponent` times; returns the largest afterwards.
fn halve_all(members: &[MemberRecord], exponent: u32) -> u64 {
    for member in members {
        update(&member.lb_value, |v| v.checked_shr(exponent).unwrap_or(0));
    }
    largest(members)
}

fn largest(members: &[MemberRecord]) -> u64 {
    members
        .iter()
        .map(|m| m.lb_value.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0)
}

fn update(value: &AtomicU64, change: impl Fn(u64) -> u64) {
    let _ = value.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(change(v)));
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Members in a throw-away mapping, for the method tests.
    use crate::config::{AjpWorker, LbWorker};
    use crate::shm::{Layout, SharedState};

    /// A mapping with one lb whose members have `factors`.
    pub(crate) fn members_with_factors(factors: &[u32]) -> SharedState {
        let workers: Vec<AjpWorker> = factors
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut w = AjpWorker::with_defaults(&format!("m{i}"));
                w.lbfactor = *f;
                w
            })
            .collect();
        let names = workers.iter().map(|w| w.name.clone()).collect();
        let refs: Vec<&AjpWorker> = workers.iter().collect();
        let mut layout = Layout::new();
        layout
            .add_lb(&LbWorker::with_defaults("lb", names), &refs)
            .expect("lb fits");
        SharedState::create(None, &layout).expect("mapping")
    }

    pub(crate) fn values(shared: &SharedState) -> Vec<u64> {
        shared
            .lb_members(0)
            .iter()
            .map(|m| m.lb_value.load(std::sync::atomic::Ordering::Relaxed))
            .collect()
    }

    pub(crate) fn set_values(shared: &SharedState, values: &[u64]) {
        for (m, v) in shared.lb_members(0).iter().zip(values) {
            m.lb_value.store(*v, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
