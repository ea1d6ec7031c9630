//! Method Traffic (`T`): load is the bytes a member moved (sent plus received), counted when
//! the request ends, so members share network volume by `lbfactor`. Halves per interval.

use super::{add_load, halve_all, multiplier, LoadMethod, Traffic as Bytes};
use crate::shm::MemberRecord;

pub(super) struct Traffic;

impl LoadMethod for Traffic {
    fn on_start(&self, _member: &MemberRecord, _new_session: bool) -> u64 {
        0
    }

    fn on_end(&self, member: &MemberRecord, traffic: Bytes) {
        let bytes = traffic.written.saturating_add(traffic.read);
        add_load(member, bytes.saturating_mul(multiplier(member)));
    }

    fn decay(&self, members: &[MemberRecord], exponent: u32) -> u64 {
        halve_all(members, exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{members_with_factors, set_values, values};
    use super::*;

    #[test]
    fn bytes_both_ways_times_multiplier_are_added_at_the_end() {
        let shared = members_with_factors(&[1, 2]); // multipliers 2, 1
        let [a, b] = shared.lb_members(0) else {
            panic!("two members")
        };
        assert_eq!(Traffic.on_start(a, true), 0, "nothing counted at start");
        Traffic.on_end(
            a,
            Bytes {
                written: 100,
                read: 900,
            },
        );
        Traffic.on_end(
            b,
            Bytes {
                written: 100,
                read: 900,
            },
        );
        assert_eq!(values(&shared), [2000, 1000]);
    }

    #[test]
    fn huge_transfers_saturate() {
        let shared = members_with_factors(&[1, 2]);
        let a = &shared.lb_members(0)[0];
        Traffic.on_end(
            a,
            Bytes {
                written: u64::MAX,
                read: 1,
            },
        );
        assert_eq!(values(&shared)[0], u64::MAX);
    }

    #[test]
    fn decay_halves() {
        let shared = members_with_factors(&[1, 1]);
        set_values(&shared, &[1024, 512]);
        assert_eq!(Traffic.decay(shared.lb_members(0), 1), 512);
        assert_eq!(values(&shared), [512, 256]);
    }
}
