//! Method Sessions (`S`): load is the number of new sessions — a request counts only if it
//! carries no session id and is not stateless — so members share sessions, not requests,
//! by `lbfactor`. Halves per interval.

use super::{add_load, halve_all, multiplier, LoadMethod, Traffic};
use crate::shm::MemberRecord;

pub(super) struct Sessions;

impl LoadMethod for Sessions {
    fn on_start(&self, member: &MemberRecord, new_session: bool) -> u64 {
        if new_session {
            add_load(member, multiplier(member))
        } else {
            0
        }
    }

    fn on_end(&self, _member: &MemberRecord, _traffic: Traffic) {}

    fn decay(&self, members: &[MemberRecord], exponent: u32) -> u64 {
        halve_all(members, exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{members_with_factors, set_values, values};
    use super::*;

    #[test]
    fn only_requests_that_start_a_session_count() {
        let shared = members_with_factors(&[1, 1]);
        let [a, b] = shared.lb_members(0) else {
            panic!("two members")
        };
        assert_eq!(Sessions.on_start(a, true), 1);
        assert_eq!(Sessions.on_start(b, false), 0);
        assert_eq!(values(&shared), [1, 0]);
    }

    #[test]
    fn decay_halves() {
        let shared = members_with_factors(&[1, 1]);
        set_values(&shared, &[8, 3]);
        assert_eq!(Sessions.decay(shared.lb_members(0), 1), 4);
        assert_eq!(values(&shared), [4, 1]);
    }
}
