//! Method Request (`R`, the default): every request counts one unit of load as it starts,
//! so members get requests in proportion to their `lbfactor`. Load halves per maintenance
//! interval so old traffic weighs less than new.

use super::{add_load, halve_all, multiplier, LoadMethod, Traffic as Bytes};
use crate::shm::MemberRecord;

pub(super) struct Request;

impl LoadMethod for Request {
    fn on_start(&self, member: &MemberRecord, _new_session: bool) -> u64 {
        add_load(member, multiplier(member))
    }

    fn on_end(&self, _member: &MemberRecord, _traffic: Bytes) {}

    fn decay(&self, members: &[MemberRecord], exponent: u32) -> u64 {
        halve_all(members, exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{members_with_factors, set_values, values};
    use super::*;

    #[test]
    fn each_request_adds_the_member_multiplier_at_start() {
        let shared = members_with_factors(&[1, 2, 3]); // multipliers 6, 3, 2
        for (i, member) in shared.lb_members(0).iter().enumerate() {
            assert_eq!(Request.on_start(member, i == 0), [6, 3, 2][i]);
            Request.on_end(
                member,
                Bytes {
                    written: 1000,
                    read: 1000,
                },
            );
        }
        assert_eq!(values(&shared), [6, 3, 2]);
    }

    #[test]
    fn decay_halves_once_per_interval_and_reports_the_largest() {
        let shared = members_with_factors(&[1, 1]);
        set_values(&shared, &[100, 40]);
        assert_eq!(Request.decay(shared.lb_members(0), 2), 25);
        assert_eq!(values(&shared), [25, 10]);
        assert_eq!(
            Request.decay(shared.lb_members(0), 64),
            0,
            "no overflow on huge gaps"
        );
        assert!(Request.restarts_recovered_members());
    }
}
