//! Method Next (`N`): counts new sessions like Sessions, but instead of halving, maintenance
//! subtracts the smallest load value among members usable for new requests (active, not in
//! error or busy), so the counts stay small while their differences — who is next — stay.

use std::sync::atomic::Ordering;

use super::{add_load, largest, multiplier, remove_load, LoadMethod, Traffic};
use crate::balancer::member_state::{usable, State};
use crate::shm::MemberRecord;

pub(super) struct Next;

impl LoadMethod for Next {
    fn on_start(&self, member: &MemberRecord, new_session: bool) -> u64 {
        if new_session {
            add_load(member, multiplier(member))
        } else {
            0
        }
    }

    fn on_end(&self, _member: &MemberRecord, _traffic: Traffic) {}

    fn decay(&self, members: &[MemberRecord], _exponent: u32) -> u64 {
        let curmax = largest(members);
        // Rule activations of mount rules cannot be known here, only the member's own.
        let floor = members
            .iter()
            .filter(|m| {
                usable(
                    State::from_code(m.state.load(Ordering::Relaxed)),
                    m.activation(),
                )
            })
            .map(|m| m.lb_value.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        for member in members {
            remove_load(member, floor);
        }
        curmax
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{members_with_factors, set_values, values};
    use super::*;

    #[test]
    fn counts_new_sessions_only() {
        let shared = members_with_factors(&[1, 2]); // multipliers 2, 1
        let [a, b] = shared.lb_members(0) else {
            panic!("two members")
        };
        Next.on_start(a, true);
        Next.on_start(b, true);
        Next.on_start(b, false);
        assert_eq!(values(&shared), [2, 1]);
    }

    #[test]
    fn maintenance_subtracts_the_smallest_usable_value_instead_of_halving() {
        let shared = members_with_factors(&[1, 1, 1]);
        set_values(&shared, &[10, 7, 2]);
        // The member with 2 is in error: it does not set the floor.
        shared.lb_members(0)[2]
            .state
            .store(State::Error.code(), Ordering::Relaxed);
        assert_eq!(
            Next.decay(shared.lb_members(0), 5),
            10,
            "largest before subtracting"
        );
        assert_eq!(values(&shared), [3, 0, 0], "floor 7, never below zero");
    }

    #[test]
    fn no_usable_member_means_nothing_is_subtracted() {
        let shared = members_with_factors(&[1, 1]);
        set_values(&shared, &[4, 6]);
        for m in shared.lb_members(0) {
            m.state.store(State::Busy.code(), Ordering::Relaxed);
        }
        Next.decay(shared.lb_members(0), 1);
        assert_eq!(values(&shared), [4, 6]);
    }
}
