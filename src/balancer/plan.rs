//! One request's way through an lb, as data (mod_jk reference §2.5, §4.7): up to `retries`
//! rounds, each trying up to min(members, `lb_retries`) members, `retry_interval` apart; a
//! member that failed this request is not tried again in the same round (a per-request copy
//! of the member states, reloaded from shared memory at each new round); when no member is
//! selectable, recovery is forced once. The service layer drives it with
//! [`super::Balancer::next`] and [`super::Balancer::finish`].

use std::time::Duration;

use super::health::AttemptResult;
use super::lb::Selection;
use super::member_state::State;
use super::sticky::SessionRoutes;
use crate::config::Activation;
use crate::shm::LbSettings;

/// Members of an lb whose per-request data is kept inline (larger lbs use the heap).
const INLINE_MEMBERS: usize = 32;

/// One value per member for one request, without a heap allocation for lbs of up to 32
/// members.
#[derive(Debug, Clone)]
pub(crate) struct PerMember<T> {
    inline: [T; INLINE_MEMBERS],
    heap: Vec<T>,
    len: usize,
}

impl<T: Copy + Default> PerMember<T> {
    pub(crate) fn new(len: usize) -> PerMember<T> {
        PerMember {
            inline: [T::default(); INLINE_MEMBERS],
            heap: if len > INLINE_MEMBERS {
                vec![T::default(); len]
            } else {
                Vec::new()
            },
            len,
        }
    }

    fn slots(&self) -> &[T] {
        if self.len > INLINE_MEMBERS {
            &self.heap
        } else {
            self.inline.get(..self.len).unwrap_or(&[])
        }
    }

    fn slots_mut(&mut self) -> &mut [T] {
        if self.len > INLINE_MEMBERS {
            &mut self.heap
        } else {
            self.inline.get_mut(..self.len).unwrap_or(&mut [])
        }
    }

    /// The value of member `index` (the default for an unknown member).
    pub(crate) fn get(&self, index: usize) -> T {
        self.slots().get(index).copied().unwrap_or_default()
    }

    pub(crate) fn set(&mut self, index: usize, value: T) {
        if let Some(slot) = self.slots_mut().get_mut(index) {
            *slot = value;
        }
    }
}

/// What the service layer should do next for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send the request to this member, then report with [`super::Balancer::finish`].
    Try(Selection),
    /// A round is over: sleep this long (`retry_interval`), then ask again.
    Wait(Duration),
    /// Nothing more to try. `last` is the result of the last attempt that reached a member,
    /// or `None` when the last try found no selectable member (mod_jk answers 503).
    GiveUp { last: Option<AttemptResult> },
}

/// Whether a request is finished after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The member answered: done.
    Done,
    /// The client failed (or left): stop, do not fail over.
    Stop,
    /// The member failed: ask [`super::Balancer::next`] for another (unless the service
    /// layer knows the request cannot be repeated, e.g. `recovery_options`).
    FailOver,
}

/// The state of one request's tries over an lb.
#[derive(Debug, Clone)]
pub struct RequestPlan<'a> {
    pub(crate) routes: SessionRoutes<'a>,
    pub(crate) stateless: bool,
    /// This request's view of member states: shared states, plus members that failed it.
    pub(crate) states: PerMember<State>,
    /// Activations forced by the mount rule.
    pub(crate) overrides: PerMember<Option<Activation>>,
    pub(crate) rounds: u32,
    pub(crate) per_round: u32,
    pub(crate) retry_interval: Duration,
    pub(crate) round: u32,
    pub(crate) attempt: u32,
    pub(crate) forced: bool,
    pub(crate) reload: bool,
    pub(crate) finished: bool,
    pub(crate) last: Option<AttemptResult>,
    pub(crate) tries: u32,
    /// The shared state change the last attempt made (member index, from, to), to be logged
    /// once by the process that made it.
    pub(crate) transition: Option<(usize, State, State)>,
    /// The lb's settings as this request reads them: once at the start, again at each new
    /// round (`None`: the lb has no shared record).
    pub(crate) settings: Option<LbSettings>,
}

impl<'a> RequestPlan<'a> {
    /// The change of a member's shared state that the last attempt made, once.
    pub fn take_transition(&mut self) -> Option<(usize, State, State)> {
        self.transition.take()
    }

    /// The session routes this request is routed by.
    pub fn routes(&self) -> &SessionRoutes<'a> {
        &self.routes
    }

    /// Members tried so far.
    pub fn tries(&self) -> u32 {
        self.tries
    }

    /// Rounds (lb `retries`) and members per round (min(members, `lb_retries`)).
    pub fn limits(&self) -> (u32, u32) {
        (self.rounds, self.per_round)
    }

    /// This request's view of member `index`'s state.
    pub fn state(&self, index: usize) -> State {
        self.states.get(index)
    }

    /// True once the request is done, stopped, or out of tries.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_member_values_work_inline_and_on_the_heap() {
        for len in [0, 3, INLINE_MEMBERS, INLINE_MEMBERS + 5] {
            let mut values = PerMember::<u8>::new(len);
            assert_eq!(values.slots().len(), len);
            for i in 0..len {
                values.set(i, i as u8 + 1);
            }
            for i in 0..len {
                assert_eq!(values.get(i), i as u8 + 1);
            }
            values.set(len, 9); // out of range: ignored
            assert_eq!(values.get(len), 0);
        }
    }
}
