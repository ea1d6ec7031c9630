//! The seven member states, and which requests a member may take given its state and its
//! activation — including the per-rule `active`/`disabled`/`stopped` overrides of a mount
//! (mod_jk reference §4.2, §3.3).

use crate::config::Activation;

/// A member's health as the balancer sees it. The order matters (mod_jk compares codes):
/// everything up to `ForcedRecovery` may take new requests, everything up to `Busy` may take
/// requests of its own sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum State {
    /// OK/IDLE: healthy, no request since the last maintenance.
    #[default]
    OkIdle,
    /// OK: healthy and used.
    Ok,
    /// ERR/REC: was in error, `recover_time` passed; the next request probes it.
    Recovering,
    /// ERR/FRC: in error, but every member was, so it is tried anyway.
    ForcedRecovery,
    /// OK/BUSY: no free connection or over `busy_limit`; keeps its sessions.
    Busy,
    /// ERR: failed; waits `recover_time`.
    Error,
    /// ERR/PRB: a recovering member being probed by a request right now.
    Probing,
}

impl State {
    /// mod_jk's state code (0..=6), as stored in shared memory.
    pub fn code(self) -> u32 {
        match self {
            State::OkIdle => 0,
            State::Ok => 1,
            State::Recovering => 2,
            State::ForcedRecovery => 3,
            State::Busy => 4,
            State::Error => 5,
            State::Probing => 6,
        }
    }

    /// The state of a code; an unknown code (a corrupted record) reads as `Error`, the
    /// state that keeps the member out of the way until maintenance recovers it.
    pub fn from_code(code: u32) -> State {
        match code {
            0 => State::OkIdle,
            1 => State::Ok,
            2 => State::Recovering,
            3 => State::ForcedRecovery,
            4 => State::Busy,
            6 => State::Probing,
            _ => State::Error,
        }
    }

    /// The text the status page shows.
    pub fn name(self) -> &'static str {
        match self {
            State::OkIdle => "OK/IDLE",
            State::Ok => "OK",
            State::Recovering => "ERR/REC",
            State::ForcedRecovery => "ERR/FRC",
            State::Busy => "OK/BUSY",
            State::Error => "ERR",
            State::Probing => "ERR/PRB",
        }
    }

    /// May take requests without a session of its own (state part of the rule).
    pub fn takes_new_requests(self) -> bool {
        self <= State::ForcedRecovery
    }

    /// May take requests of its own sessions (state part of the rule): busy members keep
    /// their sessions, members in error or being probed do not.
    pub fn takes_sticky_requests(self) -> bool {
        self <= State::Busy
    }
}

/// Usable for a request without a session: healthy enough and active (mod_jk
/// `JK_WORKER_USABLE`).
pub fn usable(state: State, activation: Activation) -> bool {
    state.takes_new_requests() && activation == Activation::Active
}

/// Usable for a request of its own session: healthy enough and not stopped — a disabled
/// member still serves its sessions (mod_jk `JK_WORKER_USABLE_STICKY`).
pub fn usable_sticky(state: State, activation: Activation) -> bool {
    state.takes_sticky_requests() && activation != Activation::Stopped
}

/// A mount rule's `active=`, `disabled=` and `stopped=` member lists (§3.3).
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivationOverrides<'a> {
    pub active: &'a [String],
    pub disabled: &'a [String],
    pub stopped: &'a [String],
}

impl ActivationOverrides<'_> {
    /// The activation this rule forces on member `name`, if any. A member named in several
    /// lists gets the last of active, disabled, stopped (mod_jk applies them in that order).
    pub fn for_member(&self, name: &str) -> Option<Activation> {
        let named = |list: &[String]| list.iter().any(|n| n == name);
        if named(self.stopped) {
            Some(Activation::Stopped)
        } else if named(self.disabled) {
            Some(Activation::Disabled)
        } else if named(self.active) {
            Some(Activation::Active)
        } else {
            None
        }
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty() && self.disabled.is_empty() && self.stopped.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [State; 7] = [
        State::OkIdle,
        State::Ok,
        State::Recovering,
        State::ForcedRecovery,
        State::Busy,
        State::Error,
        State::Probing,
    ];

    #[test]
    fn state_codes_are_mod_jks_and_round_trip() {
        for (code, state) in ALL.iter().enumerate() {
            assert_eq!(state.code(), code as u32);
            assert_eq!(State::from_code(code as u32), *state);
        }
        assert_eq!(State::from_code(42), State::Error);
        assert_eq!(
            ALL.map(State::name),
            ["OK/IDLE", "OK", "ERR/REC", "ERR/FRC", "OK/BUSY", "ERR", "ERR/PRB"]
        );
    }

    #[test]
    fn new_requests_need_a_healthy_or_recovering_active_member() {
        let takes: Vec<State> = ALL
            .into_iter()
            .filter(|s| usable(*s, Activation::Active))
            .collect();
        assert_eq!(
            takes,
            [
                State::OkIdle,
                State::Ok,
                State::Recovering,
                State::ForcedRecovery
            ]
        );
        assert!(ALL.iter().all(|s| !usable(*s, Activation::Disabled)));
        assert!(ALL.iter().all(|s| !usable(*s, Activation::Stopped)));
    }

    #[test]
    fn disabled_and_busy_members_keep_their_sessions_stopped_ones_do_not() {
        let takes: Vec<State> = ALL
            .into_iter()
            .filter(|s| usable_sticky(*s, Activation::Disabled))
            .collect();
        assert_eq!(
            takes,
            [
                State::OkIdle,
                State::Ok,
                State::Recovering,
                State::ForcedRecovery,
                State::Busy
            ]
        );
        assert!(ALL.iter().all(|s| !usable_sticky(*s, Activation::Stopped)));
        assert!(!usable_sticky(State::Error, Activation::Active));
        assert!(!usable_sticky(State::Probing, Activation::Active));
    }

    #[test]
    fn rule_overrides_apply_stopped_over_disabled_over_active() {
        let active = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let disabled = vec!["b".to_owned(), "c".to_owned()];
        let stopped = vec!["c".to_owned()];
        let overrides = ActivationOverrides {
            active: &active,
            disabled: &disabled,
            stopped: &stopped,
        };
        assert_eq!(overrides.for_member("a"), Some(Activation::Active));
        assert_eq!(overrides.for_member("b"), Some(Activation::Disabled));
        assert_eq!(overrides.for_member("c"), Some(Activation::Stopped));
        assert_eq!(overrides.for_member("d"), None);
        assert!(ActivationOverrides::default().is_empty());
    }
}
