//! Method Busyness (`B`): load is the number of requests in flight — one unit added as a
//! request starts, taken off as it ends — so the least busy member wins. It is a live count,
//! so it is never decayed and not reset when a member recovers. Under optimistic locking
//! concurrent updates may race; the floor at zero keeps a lost update from wrapping around.

use super::{add_load, largest, multiplier, remove_load, LoadMethod, Traffic};
use crate::shm::MemberRecord;

pub(super) struct Busyness;

impl LoadMethod for Busyness {
    fn on_start(&self, member: &MemberRecord, _new_session: bool) -> u64 {
        add_load(member, multiplier(member))
    }

    fn on_end(&self, member: &MemberRecord, _traffic: Traffic) {
        remove_load(member, multiplier(member));
    }

    fn decay(&self, members: &[MemberRecord], _exponent: u32) -> u64 {
        largest(members)
    }

    fn restarts_recovered_members(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{members_with_factors, set_values, values};
    use super::*;

    #[test]
    fn load_counts_requests_in_flight() {
        let shared = members_with_factors(&[1, 3]); // multipliers 3, 1
        let [a, b] = shared.lb_members(0) else {
            panic!("two members")
        };
        Busyness.on_start(a, false);
        Busyness.on_start(a, false);
        Busyness.on_start(b, false);
        assert_eq!(values(&shared), [6, 1]);
        Busyness.on_end(a, Traffic::default());
        Busyness.on_end(b, Traffic::default());
        assert_eq!(values(&shared), [3, 0]);
    }

    #[test]
    fn end_never_goes_below_zero() {
        let shared = members_with_factors(&[1, 3]);
        set_values(&shared, &[1, 0]);
        let [a, b] = shared.lb_members(0) else {
            panic!("two members")
        };
        Busyness.on_end(a, Traffic::default());
        Busyness.on_end(b, Traffic::default());
        assert_eq!(values(&shared), [0, 0]);
    }

    #[test]
    fn maintenance_leaves_live_counts_alone() {
        let shared = members_with_factors(&[1, 1]);
        set_values(&shared, &[5, 9]);
        assert_eq!(Busyness.decay(shared.lb_members(0), 3), 9);
        assert_eq!(values(&shared), [5, 9]);
        assert!(!Busyness.restarts_recovered_members());
    }
}
