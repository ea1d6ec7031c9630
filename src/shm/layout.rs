//! What the shared mapping holds and where (`Layout`): the header, then one `LbRecord` per lb
//! worker, then one `MemberRecord` per lb member (each lb's members side by side, in
//! `balance_workers` order) and per plain ajp13 worker — with the configured starting values
//! of each record and mod_jk's `lb_mult` arithmetic (reference §4.1).

use std::mem::size_of;

use super::error::ShmError;
use super::records::{Header, LbRecord, LbSettings, MemberRecord, MemberSettings};
use super::text::ShortText;
use crate::config::{AjpWorker, LbWorker, WorkerDef, Workers};

/// One lb worker's place and starting settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbSpec {
    pub name: ShortText,
    pub settings: LbSettings,
    /// Index of its first member record; its members follow each other.
    pub first_member: usize,
    pub member_count: usize,
}

/// One member record's owner and starting settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpec {
    /// The ajp13 worker's name.
    pub name: ShortText,
    /// The lb it belongs to, `None` for a plain ajp13 worker.
    pub lb: Option<usize>,
    pub settings: MemberSettings,
}

/// The records of one configuration generation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    lbs: Vec<LbSpec>,
    members: Vec<MemberSpec>,
}

impl Layout {
    pub fn new() -> Layout {
        Layout::default()
    }

    /// Every lb worker of the configuration with its members, and every ajp13 worker in
    /// `worker.list` (the ones requests can reach directly). Status workers need no record.
    pub fn from_workers(workers: &Workers) -> Result<Layout, ShmError> {
        let mut layout = Layout::new();
        for def in workers.defs.values() {
            match def {
                WorkerDef::Lb(lb) => {
                    let mut members = Vec::with_capacity(lb.members.len());
                    for name in &lb.members {
                        match workers.ajp(name) {
                            Some(worker) => members.push(worker),
                            None => {
                                return Err(ShmError::UnknownMember {
                                    lb: lb.name.clone(),
                                    member: name.clone(),
                                })
                            }
                        }
                    }
                    layout.add_lb(lb, &members)?;
                }
                WorkerDef::Ajp13(worker) if workers.is_listed(&worker.name) => {
                    layout.add_plain(worker)?;
                }
                WorkerDef::Ajp13(_) | WorkerDef::Status(_) => {}
            }
        }
        Ok(layout)
    }

    /// Adds an lb worker and its members; returns the lb's index.
    pub fn add_lb(&mut self, lb: &LbWorker, members: &[&AjpWorker]) -> Result<usize, ShmError> {
        let name = ShortText::new(&lb.name)?;
        if self.lb_index(&lb.name).is_some() {
            return Err(ShmError::Duplicate {
                kind: "lb worker",
                name: lb.name.clone(),
            });
        }
        let index = self.lbs.len();
        let first_member = self.members.len();
        let mut specs = Vec::with_capacity(members.len());
        for worker in members {
            specs.push(MemberSpec {
                name: ShortText::new(&worker.name)?,
                lb: Some(index),
                settings: MemberSettings::from_config(worker)?,
            });
        }
        self.members.extend(specs);
        self.lbs.push(LbSpec {
            name,
            settings: LbSettings::from_config(lb),
            first_member,
            member_count: members.len(),
        });
        Ok(index)
    }

    /// Adds a plain ajp13 worker; returns its member record index.
    pub fn add_plain(&mut self, worker: &AjpWorker) -> Result<usize, ShmError> {
        if self.plain_index(&worker.name).is_some() {
            return Err(ShmError::Duplicate {
                kind: "ajp13 worker",
                name: worker.name.clone(),
            });
        }
        self.members.push(MemberSpec {
            name: ShortText::new(&worker.name)?,
            lb: None,
            settings: MemberSettings::from_config(worker)?,
        });
        Ok(self.members.len() - 1)
    }

    /// A layout read back from records (`SharedState::from_retained`), checked to be one that
    /// [`Layout::add_lb`] / [`Layout::add_plain`] could have built: every lb's member range lies
    /// among the members, the members in it (and only those) name that lb, and no name is
    /// taken twice where lookups by name would make it ambiguous.
    pub(super) fn from_parts(
        lbs: Vec<LbSpec>,
        members: Vec<MemberSpec>,
    ) -> Result<Layout, ShmError> {
        let broken = |reason| Err(ShmError::Retained { reason });
        for (index, lb) in lbs.iter().enumerate() {
            if lbs.iter().take(index).any(|other| other.name == lb.name) {
                return broken("two lb records have the same name");
            }
            let Some(range) = lb
                .first_member
                .checked_add(lb.member_count)
                .and_then(|end| members.get(lb.first_member..end))
            else {
                return broken("an lb's member range lies outside the member records");
            };
            if range.iter().any(|m| m.lb != Some(index)) {
                return broken("an lb's member range holds a record of another worker");
            }
            for (offset, member) in range.iter().enumerate() {
                if range.iter().take(offset).any(|m| m.name == member.name) {
                    return broken("two members of one lb have the same name");
                }
            }
        }
        for (index, member) in members.iter().enumerate() {
            match member.lb {
                Some(lb) => {
                    let inside = lbs.get(lb).is_some_and(|spec| {
                        index >= spec.first_member && index - spec.first_member < spec.member_count
                    });
                    if !inside {
                        return broken("a member record names an lb that does not hold it");
                    }
                }
                None => {
                    let twice = members
                        .iter()
                        .take(index)
                        .any(|m| m.lb.is_none() && m.name == member.name);
                    if twice {
                        return broken("two plain worker records have the same name");
                    }
                }
            }
        }
        Ok(Layout { lbs, members })
    }

    pub fn lbs(&self) -> &[LbSpec] {
        &self.lbs
    }

    pub fn members(&self) -> &[MemberSpec] {
        &self.members
    }

    pub fn lb_index(&self, name: &str) -> Option<usize> {
        self.lbs.iter().position(|lb| lb.name.is(name))
    }

    /// Record index of member `name` of lb number `lb`.
    pub fn member_index(&self, lb: usize, name: &str) -> Option<usize> {
        let spec = self.lbs.get(lb)?;
        let range = spec.first_member..spec.first_member + spec.member_count;
        self.members
            .get(range.clone())?
            .iter()
            .position(|m| m.name.is(name))
            .map(|i| range.start + i)
    }

    /// Record index of the plain ajp13 worker `name`.
    pub fn plain_index(&self, name: &str) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.lb.is_none() && m.name.is(name))
    }

    /// Byte offset of lb record `index`.
    pub fn lb_offset(&self, index: usize) -> Option<usize> {
        size_of::<Header>().checked_add(index.checked_mul(size_of::<LbRecord>())?)
    }

    /// Byte offset of member record `index`.
    pub fn member_offset(&self, index: usize) -> Option<usize> {
        self.lb_offset(self.lbs.len())?
            .checked_add(index.checked_mul(size_of::<MemberRecord>())?)
    }

    /// Bytes the mapping needs.
    pub fn size(&self) -> Result<usize, ShmError> {
        self.member_offset(self.members.len())
            .ok_or(ShmError::TooLarge)
    }
}

/// Least common multiple of the factors (1 for none); saturates instead of overflowing,
/// which only skews weights for absurd factor sets.
pub fn factors_lcm(factors: impl IntoIterator<Item = u32>) -> u64 {
    factors.into_iter().fold(1u64, |lcm, factor| {
        let factor = u64::from(factor.max(1));
        let g = gcd(lcm, factor);
        (lcm / g).saturating_mul(factor)
    })
}

/// `lb_mult` of a member: LCM of all factors / its own, so a higher factor adds less load
/// per request and gets proportionally more requests (mod_jk §4.1).
pub fn lb_multiplier(lcm: u64, factor: u32) -> u64 {
    (lcm / u64::from(factor.max(1))).max(1)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Properties;

    #[test]
    fn multipliers_are_lcm_over_factor() {
        let lcm = factors_lcm([1, 2, 3]);
        assert_eq!(lcm, 6);
        assert_eq!(
            [1, 2, 3].map(|f| lb_multiplier(lcm, f)),
            [6, 3, 2],
            "higher factor => smaller step"
        );
        assert_eq!(factors_lcm([4, 6]), 12);
        assert_eq!(factors_lcm([]), 1);
        assert_eq!(factors_lcm([0]), 1, "factor 0 is treated as 1");
    }

    #[test]
    fn huge_factor_sets_saturate_instead_of_overflowing() {
        let primes = [4_294_967_291u32, 4_294_967_279, 4_294_967_231];
        assert_eq!(factors_lcm(primes), u64::MAX);
        assert!(lb_multiplier(u64::MAX, primes[0]) > 0);
    }

    #[test]
    fn layout_from_workers_groups_members_per_lb_and_adds_listed_ajp_workers() {
        let mut props = Properties::new();
        props
            .parse_str(
                "worker.list=lb,solo,stat\n\
                 worker.lb.type=lb\n\
                 worker.lb.balance_workers=a,b\n\
                 worker.a.lbfactor=2\n\
                 worker.b.route=rb.dom\n\
                 worker.solo.port=8010\n\
                 worker.stat.type=status\n",
                "workers.properties",
            )
            .expect("valid properties");
        let workers = Workers::build(&props).expect("valid config");
        let layout = Layout::from_workers(&workers).expect("fits");
        assert_eq!(layout.lbs().len(), 1);
        assert_eq!(layout.members().len(), 3, "a, b and solo");
        let lb = layout.lb_index("lb").expect("lb laid out");
        let a = layout.member_index(lb, "a").expect("a laid out");
        let b = layout.member_index(lb, "b").expect("b laid out");
        assert_eq!(b, a + 1, "members of one lb are side by side");
        assert_eq!(layout.members()[a].settings.lb_factor, 2);
        assert_eq!(layout.members()[b].settings.domain.as_str(), "rb");
        assert!(layout.plain_index("solo").is_some());
        assert!(layout.plain_index("a").is_none(), "a is not in worker.list");
    }

    fn spec(name: &str, lb: Option<usize>) -> MemberSpec {
        MemberSpec {
            name: ShortText::new(name).expect("fits"),
            lb,
            settings: MemberSettings::from_config(&AjpWorker::with_defaults(name)).expect("fits"),
        }
    }

    fn lb_spec(name: &str, first_member: usize, member_count: usize) -> LbSpec {
        LbSpec {
            name: ShortText::new(name).expect("fits"),
            settings: LbSettings::from_config(&LbWorker::with_defaults(name, vec![])),
            first_member,
            member_count,
        }
    }

    #[test]
    fn layout_from_consistent_parts_answers_lookups_like_a_built_one() {
        let built = {
            let mut layout = Layout::new();
            let p = AjpWorker::with_defaults("p");
            let (a, b) = (AjpWorker::with_defaults("a"), AjpWorker::with_defaults("b"));
            layout.add_plain(&p).expect("fits");
            layout
                .add_lb(
                    &LbWorker::with_defaults("lb", vec!["a".into(), "b".into()]),
                    &[&a, &b],
                )
                .expect("fits");
            layout
        };
        let parts = Layout::from_parts(
            vec![lb_spec("lb", 1, 2)],
            vec![spec("p", None), spec("a", Some(0)), spec("b", Some(0))],
        )
        .expect("consistent");
        assert_eq!(parts, built);
        assert_eq!(parts.member_index(0, "b"), Some(2));
        assert_eq!(parts.plain_index("p"), Some(0));
    }

    #[test]
    fn layout_from_inconsistent_parts_is_refused() {
        let cases = [
            (vec![lb_spec("lb", 1, 2)], vec![spec("a", Some(0))]),
            (vec![lb_spec("lb", usize::MAX, 2)], vec![spec("a", Some(0))]),
            (
                vec![lb_spec("lb", 0, 2)],
                vec![spec("a", Some(0)), spec("p", None)],
            ),
            (
                vec![lb_spec("lb", 0, 1)],
                vec![spec("a", Some(0)), spec("b", Some(0))],
            ),
            (vec![], vec![spec("a", Some(3))]),
            (
                vec![lb_spec("lb", 0, 2)],
                vec![spec("a", Some(0)), spec("a", Some(0))],
            ),
            (vec![lb_spec("lb", 0, 0), lb_spec("lb", 0, 0)], vec![]),
            (vec![], vec![spec("p", None), spec("p", None)]),
        ];
        for (index, (lbs, members)) in cases.into_iter().enumerate() {
            assert!(
                matches!(
                    Layout::from_parts(lbs, members),
                    Err(ShmError::Retained { .. })
                ),
                "case {index} was accepted"
            );
        }
    }

    #[test]
    fn duplicate_lb_is_refused() {
        let mut layout = Layout::new();
        let lb = LbWorker::with_defaults("lb", vec![]);
        assert!(layout.add_lb(&lb, &[]).is_ok());
        assert!(matches!(
            layout.add_lb(&lb, &[]),
            Err(ShmError::Duplicate { .. })
        ));
    }
}
