//! Choosing the member for one try (mod_jk reference §4.4, `get_most_suitable_worker`):
//! the single-member shortcut; for each session route an exact route match, else the best
//! member of the route's domain, with redirect and domain failover when the matched member
//! cannot take it; `sticky_session_force`; then the least loaded usable member of the lowest
//! distance, scanned from a rotating offset; last, a member's redirect as hot standby. Pure
//! logic over the shared records and the request's view of member states; the caller holds
//! the lock.

use std::sync::atomic::{AtomicU32, Ordering};

use super::member_state::{usable, usable_sticky, State};
use super::plan::PerMember;
use super::sticky::SessionRoutes;
use crate::config::Activation;
use crate::shm::MemberRecord;

/// How a member was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The lb has one member.
    OnlyMember,
    /// The member the session's route names.
    Session,
    /// The session's member could not take it: its `redirect` or a member of its domain did.
    SessionFailover,
    /// The session's route named no member but a domain: the best member of that domain.
    Domain,
    /// Least loaded usable member (no usable session route).
    Balanced,
    /// No usable member: the target of the first member's `redirect` (hot standby).
    RedirectFailover,
}

/// The outcome of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    pub(crate) member: usize,
    /// mod_jk's "sticky" flag: the request's session named a member of this lb exactly (or
    /// the lb has a single member). Suppresses the routing cookie.
    pub(crate) sticky: bool,
    pub(crate) choice: Choice,
    /// The route to send is the member's domain rather than its route.
    pub(crate) route_is_domain: bool,
}

/// What the single-member shortcut decided.
pub(crate) enum Single {
    Take(Pick),
    /// The only member is disabled: decide like a normal lb (it may keep its sessions).
    Decide,
    Fail,
}

/// The facts one selection reads.
pub(crate) struct Selector<'p> {
    pub(crate) members: &'p [MemberRecord],
    pub(crate) states: &'p PerMember<State>,
    pub(crate) overrides: &'p PerMember<Option<Activation>>,
    pub(crate) stateless: bool,
    pub(crate) sticky_session_force: bool,
    pub(crate) next_offset: &'p AtomicU32,
}

/// Result of trying one session route.
struct RouteMatch {
    member: Option<usize>,
    /// The route named a member exactly.
    exact: bool,
    route_is_domain: bool,
    choice: Choice,
}

impl Selector<'_> {
    /// The member's activation for this request (mount rule override first).
    pub(crate) fn activation(&self, index: usize) -> Activation {
        self.overrides.get(index).unwrap_or_else(|| {
            self.members
                .get(index)
                .map_or(Activation::Stopped, MemberRecord::activation)
        })
    }

    fn usable(&self, index: usize) -> bool {
        usable(self.states.get(index), self.activation(index))
    }

    fn usable_sticky(&self, index: usize) -> bool {
        usable_sticky(self.states.get(index), self.activation(index))
    }

    /// §4.4 step 0: one member takes everything it can; only a disabled one is left to the
    /// general rules (so it serves its sessions but nothing else).
    pub(crate) fn single(&self) -> Single {
        if !self.usable_sticky(0) {
            return Single::Fail;
        }
        if self.activation(0) == Activation::Disabled {
            return Single::Decide;
        }
        Single::Take(Pick {
            member: 0,
            sticky: true,
            choice: Choice::OnlyMember,
            route_is_domain: false,
        })
    }

    /// §4.4 steps 2–5.
    pub(crate) fn pick(&self, routes: &SessionRoutes<'_>) -> Option<Pick> {
        let mut sticky = false;
        if routes.has_session() {
            for route in routes.iter() {
                let found = self.by_session_route(route);
                // mod_jk keeps the flag once a route matched, even if that member failed.
                sticky |= found.exact;
                if let Some(member) = found.member {
                    return Some(Pick {
                        member,
                        sticky,
                        choice: found.choice,
                        route_is_domain: found.route_is_domain,
                    });
                }
            }
            if self.sticky_session_force {
                return None;
            }
        }
        if let Some(member) = self.best_by_value() {
            return Some(Pick {
                member,
                sticky,
                choice: Choice::Balanced,
                route_is_domain: false,
            });
        }
        self.redirect_failover()
    }

    /// §4.4 step 2 for one route.
    fn by_session_route(&self, route: &str) -> RouteMatch {
        let exact = self.by_route(route);
        let (mut member, uses_domain) = match exact {
            Some(index) => (Some(index), false),
            None => (self.best_in_domain(route), true),
        };
        let mut choice = if uses_domain {
            Choice::Domain
        } else {
            Choice::Session
        };
        let mut route_is_domain = uses_domain && member.is_some();
        if let Some(index) = member {
            if !self.usable_sticky(index) {
                choice = Choice::SessionFailover;
                let record = self.members.get(index);
                let redirect = record.map(MemberRecord::read_redirect).unwrap_or_default();
                let domain = record.map(MemberRecord::read_domain).unwrap_or_default();
                if self.sticky_session_force {
                    member = None;
                } else if !redirect.is_empty() {
                    member = self.by_route(redirect.as_str());
                    route_is_domain = false;
                } else if !domain.is_empty() && !uses_domain {
                    member = self.best_in_domain(domain.as_str());
                    route_is_domain = member.is_some();
                }
                if let Some(other) = member {
                    if !self.usable_sticky(other) {
                        member = None;
                    }
                }
            }
        }
        RouteMatch {
            member,
            exact: exact.is_some(),
            route_is_domain,
            choice,
        }
    }

    /// The member whose route is exactly `route`, whatever its state.
    fn by_route(&self, route: &str) -> Option<usize> {
        self.members.iter().position(|m| m.route_is(route))
    }

    /// The best usable member whose domain is `route`'s text before its first '.': lowest
    /// distance, then lowest load value, first in member order on ties.
    fn best_in_domain(&self, route: &str) -> Option<usize> {
        let domain = route.split('.').next().unwrap_or(route);
        let mut best: Option<(usize, u32, u64)> = None;
        for (index, member) in self.members.iter().enumerate() {
            let own = member.read_domain();
            if own.is_empty() || !own.is(domain) || !self.usable(index) {
                continue;
            }
            let (distance, value) = (member.distance(), member.lb_value.load(Ordering::Relaxed));
            let better = match best {
                None => true,
                Some((_, d, v)) => distance < d || (distance == d && value < v),
            };
            if better {
                best = Some((index, distance, value));
            }
        }
        best.map(|(index, _, _)| index)
    }

    /// §4.4 step 4 (`find_best_byvalue`): scan from the rotating offset; prefer lower
    /// distance, then (unless stateless) lower load value; the first found wins ties, and
    /// the offset moves past the winner so equal members take turns.
    fn best_by_value(&self) -> Option<usize> {
        let count = self.members.len();
        if count == 0 {
            return None;
        }
        let offset = self.next_offset.load(Ordering::Relaxed) as usize % count;
        let mut best: Option<(usize, u32, u64)> = None;
        for step in 0..count {
            let index = (offset + step) % count;
            if !self.usable(index) {
                continue;
            }
            let Some(member) = self.members.get(index) else {
                continue;
            };
            let (distance, value) = (member.distance(), member.lb_value.load(Ordering::Relaxed));
            let better = match best {
                None => true,
                Some((_, d, v)) => distance < d || (!self.stateless && distance == d && value < v),
            };
            if better {
                best = Some((index, distance, value));
            }
        }
        let (index, _, _) = best?;
        let next = u32::try_from(index + 1).unwrap_or(0);
        self.next_offset.store(next, Ordering::Relaxed);
        Some(index)
    }

    /// §4.4 step 5 (`find_failover_worker`): the first member with a redirect lends it as a
    /// session route, so a disabled hot standby takes over when nothing else can.
    fn redirect_failover(&self) -> Option<Pick> {
        let redirect = self
            .members
            .iter()
            .map(MemberRecord::read_redirect)
            .find(|r| !r.is_empty())?;
        let found = self.by_session_route(redirect.as_str());
        found.member.map(|member| Pick {
            member,
            sticky: false,
            choice: Choice::RedirectFailover,
            route_is_domain: found.route_is_domain,
        })
    }
}
