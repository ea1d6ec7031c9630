//! `Balancer`: one lb worker over its records in shared memory — finding a request's session
//! routes, planning its tries, choosing a member under the lb's lock and counting the load
//! (`next`), and applying each attempt's outcome (`finish`). Time is passed in (`now_ms`,
//! milliseconds since the Unix epoch, or a function giving them); nothing here reads a clock.
//!
//! Locking (`lock=`, mod_jk reference §4.8): Optimistic selects under a process-local
//! mutex and updates shared counters with plain atomics (processes may race on a choice,
//! as in mod_jk). Pessimistic selects and applies outcomes under the lb's cross-process spin
//! lock in shared memory ([`crate::shm::ShmLock`]). Maintenance, forced recovery and edits
//! always take the cross-process lock.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::health::{self, AttemptResult};
use super::member_state::{ActivationOverrides, State};
use super::method::{load_method, remove_load, Traffic};
use super::plan::{PerMember, RequestPlan, Step, Verdict};
use super::select::{Choice, Pick, Selector, Single};
use super::sticky::{session_routes, SessionNames, SessionRoutes};
use crate::config::{Activation, LbLock, LbMethod, LbWorker};
use crate::shm::{LbRecord, LbSettings, MemberRecord, SharedState, ShmLockGuard, ShortText};

/// What a request says about stickiness and activation, from its environment (`JK_ROUTE`,
/// `JK_STICKY_IGNORE`, `JK_STATELESS`, §1.4) and its mount rule's extensions (§3.3).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHints<'a> {
    /// `JK_ROUTE`: route to this member (or domain) whatever the session says.
    pub jk_route: Option<&'a str>,
    /// Ignore the session: balance freely.
    pub sticky_ignore: bool,
    /// Not a new session (Sessions/Next do not count it) and balance by rotation only.
    pub stateless: bool,
    /// Rule `session_cookie=` / `session_path=` (used to find the session only).
    pub session_cookie: Option<&'a str>,
    pub session_path: Option<&'a str>,
    /// Rule `set_session_cookie=`; mod_jk ORs it with the lb's setting.
    pub set_session_cookie: Option<bool>,
    /// Rule `active=` / `disabled=` / `stopped=`.
    pub activation: ActivationOverrides<'a>,
}

/// The member chosen for one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Index of the member in the lb (`balance_workers` order).
    pub member: usize,
    /// Index of its record in shared memory ([`SharedState::member`]).
    pub record: usize,
    /// mod_jk's sticky flag: the session named a member of this lb (or the lb has one
    /// member); no routing cookie is set for such requests.
    pub sticky: bool,
    pub choice: Choice,
    /// Route to tell the backend about (the member's route, or its domain when the session
    /// was routed by domain).
    pub route: ShortText,
    /// The member's activation for this request (`JK_LB_ACTIVATION`).
    pub activation: Activation,
    /// The member now has more requests in flight than its `busy_limit`: report
    /// [`AttemptResult::BusyLimit`] without contacting it.
    pub over_busy_limit: bool,
    method: LbMethod,
    added_load: u64,
    new_session: bool,
}

/// Why a `Balancer` could not be attached to shared memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalancerError {
    /// The shared memory was laid out for another configuration.
    NotInSharedMemory { lb: String },
    /// The shared memory holds other members for this lb.
    MembersDiffer { lb: String },
}

impl fmt::Display for BalancerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BalancerError::NotInSharedMemory { lb } => {
                write!(f, "lb worker '{lb}' has no record in the shared memory")
            }
            BalancerError::MembersDiffer { lb } => write!(
                f,
                "the shared memory holds other members for lb worker '{lb}' than its balance_workers"
            ),
        }
    }
}

impl std::error::Error for BalancerError {}

/// One lb worker.
pub struct Balancer {
    pub(super) shared: Arc<SharedState>,
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) member_names: Vec<String>,
    pub(super) first_record: usize,
    pub(super) lb_retries: u32,
    pub(super) session_cookie: String,
    pub(super) session_path: String,
    pub(super) set_session_cookie: bool,
    pub(super) session_cookie_path: String,
    /// `worker.maintain` in ms (0 = no maintenance).
    pub(super) maintain_ms: u64,
    local_lock: Mutex<()>,
}

/// The lock held while choosing a member.
enum SelectionLock<'a> {
    Local { _guard: MutexGuard<'a, ()> },
    Shared { _guard: ShmLockGuard<'a> },
}

impl Balancer {
    /// Attaches lb worker `lb` to its records in `shared` (laid out from the same
    /// configuration); `maintain` is `worker.maintain`.
    pub fn new(
        shared: Arc<SharedState>,
        lb: &LbWorker,
        maintain: Duration,
    ) -> Result<Balancer, BalancerError> {
        let layout = shared.layout();
        let not_found = || BalancerError::NotInSharedMemory {
            lb: lb.name.clone(),
        };
        let index = layout.lb_index(&lb.name).ok_or_else(not_found)?;
        let spec = layout.lbs().get(index).ok_or_else(not_found)?;
        let members = layout
            .members()
            .get(spec.first_member..spec.first_member + spec.member_count)
            .unwrap_or(&[]);
        let same = members.len() == lb.members.len()
            && members.iter().zip(&lb.members).all(|(m, n)| m.name.is(n));
        if !same {
            return Err(BalancerError::MembersDiffer {
                lb: lb.name.clone(),
            });
        }
        let first_record = spec.first_member;
        Ok(Balancer {
            index,
            name: lb.name.clone(),
            member_names: lb.members.clone(),
            first_record,
            lb_retries: lb.lb_retries.max(1),
            session_cookie: lb.session_cookie.clone(),
            session_path: lb.session_path.clone(),
            set_session_cookie: lb.set_session_cookie,
            session_cookie_path: lb.session_cookie_path.clone(),
            maintain_ms: u64::try_from(maintain.as_millis()).unwrap_or(u64::MAX),
            local_lock: Mutex::new(()),
            shared,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Index of this lb's record in shared memory.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn shared(&self) -> &SharedState {
        &self.shared
    }

    /// This lb's record (`None` only if the mapping does not match the layout).
    pub fn record(&self) -> Option<&LbRecord> {
        self.shared.lb(self.index)
    }

    /// The member records, in `balance_workers` order.
    pub fn members(&self) -> &[MemberRecord] {
        // `new` checked that the layout places this lb's members here, one per name.
        let first = self.first_record;
        self.shared
            .members()
            .get(first..first + self.member_names.len())
            .unwrap_or(&[])
    }

    /// Name of member `index`.
    pub fn member_name(&self, index: usize) -> Option<&str> {
        self.member_names.get(index).map(String::as_str)
    }

    /// Index of the member called `name`.
    pub fn member_index(&self, name: &str) -> Option<usize> {
        self.member_names.iter().position(|n| n == name)
    }

    /// The current (run-time editable) settings.
    pub fn settings(&self) -> Option<LbSettings> {
        self.record().map(LbRecord::settings)
    }

    /// The session routes of a request (§4.3): none when stickiness is off or ignored;
    /// `JK_ROUTE` if set; else the path parameter, else the cookies (rule overrides of the
    /// names first). `cookie_headers` are the values of every Cookie header, in order.
    pub fn session_routes<'a>(
        &'a self,
        uri: &'a str,
        cookie_headers: &'a [&'a str],
        hints: &RequestHints<'a>,
    ) -> SessionRoutes<'a> {
        self.session_routes_under(self.settings().as_ref(), uri, cookie_headers, hints)
    }

    /// [`Self::session_routes`] under settings the caller has already read (one seqlock read
    /// per request: see [`Self::plan_under`]).
    pub fn session_routes_under<'a>(
        &'a self,
        settings: Option<&LbSettings>,
        uri: &'a str,
        cookie_headers: &'a [&'a str],
        hints: &RequestHints<'a>,
    ) -> SessionRoutes<'a> {
        let sticky = settings.is_some_and(|s| s.sticky_session);
        if !sticky || hints.sticky_ignore {
            return SessionRoutes::NONE;
        }
        if let Some(route) = hints.jk_route.filter(|r| !r.is_empty()) {
            return SessionRoutes::forced(route);
        }
        let names = SessionNames {
            cookie: hints.session_cookie.unwrap_or(&self.session_cookie),
            path: hints.session_path.unwrap_or(&self.session_path),
        };
        session_routes(uri, cookie_headers, names)
    }

    /// Starts a request's tries. `has_free_connection(member)` tells whether the member's
    /// connection pool could serve now: BUSY members with a free connection and under their
    /// `busy_limit` go back to OK first (§4.7).
    pub fn plan<'a>(
        &self,
        routes: SessionRoutes<'a>,
        hints: &RequestHints<'_>,
        has_free_connection: impl Fn(usize) -> bool,
    ) -> RequestPlan<'a> {
        self.plan_under(self.settings(), routes, hints, has_free_connection)
    }

    /// [`Self::plan`] under settings the caller has already read. The plan keeps them for
    /// the request's selections and reports (a run-time edit applies from the next request,
    /// or from this one's next round).
    pub fn plan_under<'a>(
        &self,
        settings: Option<LbSettings>,
        routes: SessionRoutes<'a>,
        hints: &RequestHints<'_>,
        has_free_connection: impl Fn(usize) -> bool,
    ) -> RequestPlan<'a> {
        let members = self.members();
        let mut states = PerMember::new(members.len());
        let mut overrides = PerMember::new(members.len());
        for (index, member) in members.iter().enumerate() {
            let mut state = State::from_code(member.state.load(Ordering::Relaxed));
            if state == State::Busy {
                let limit = member.busy_limit();
                let under_limit = limit == 0 || member.busy.load(Ordering::Relaxed) < limit;
                if under_limit && has_free_connection(index) {
                    member.state.store(State::Ok.code(), Ordering::Relaxed);
                    state = State::Ok;
                }
            }
            states.set(index, state);
            if !hints.activation.is_empty() {
                let name = self.member_name(index).unwrap_or("");
                overrides.set(index, hints.activation.for_member(name));
            }
        }
        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        RequestPlan {
            routes,
            stateless: hints.stateless,
            states,
            overrides,
            rounds: settings.map_or(1, |s| s.retries.max(1)),
            per_round: count.min(self.lb_retries),
            retry_interval: Duration::from_millis(settings.map_or(0, |s| s.retry_interval_ms)),
            round: 0,
            attempt: 0,
            forced: false,
            reload: false,
            finished: false,
            last: None,
            tries: 0,
            transition: None,
            settings,
        }
    }

    /// The next step of a request: a member to try, a pause between rounds, or the end.
    /// A chosen member is counted at once (busy, elected, sessions, load value); a recovering
    /// member becomes "probing".
    pub fn next(&self, plan: &mut RequestPlan<'_>) -> Step {
        loop {
            if plan.finished {
                return Step::GiveUp { last: plan.last };
            }
            if plan.attempt >= plan.per_round {
                plan.round += 1;
                if plan.round >= plan.rounds {
                    plan.finished = true;
                    return Step::GiveUp { last: plan.last };
                }
                plan.attempt = 0;
                plan.reload = true;
                return Step::Wait(plan.retry_interval);
            }
            if plan.reload {
                self.reload(plan);
            }
            if let Some(selection) = self.select(plan) {
                plan.attempt += 1;
                plan.tries += 1;
                return Step::Try(selection);
            }
            // No selectable member: force recovery once and retry at once, else burn
            // the attempt (mod_jk keeps looping, so later rounds may still find one).
            if !plan.forced {
                plan.forced = true;
                if self.force_recovery_for(Some(&mut plan.states)) > 0 {
                    continue;
                }
            }
            plan.last = None;
            plan.attempt += 1;
        }
    }

    /// A new round sees the current shared states and settings again.
    fn reload(&self, plan: &mut RequestPlan<'_>) {
        for (index, member) in self.members().iter().enumerate() {
            plan.states.set(
                index,
                State::from_code(member.state.load(Ordering::Relaxed)),
            );
        }
        plan.settings = self.settings();
        if let Some(settings) = plan.settings {
            plan.rounds = settings.retries.max(1);
            plan.retry_interval = Duration::from_millis(settings.retry_interval_ms);
        }
        plan.reload = false;
    }

    fn lock<'a>(&'a self, lb: &'a LbRecord, mode: LbLock) -> SelectionLock<'a> {
        match mode {
            LbLock::Optimistic => SelectionLock::Local {
                _guard: self
                    .local_lock
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            },
            LbLock::Pessimistic => SelectionLock::Shared {
                _guard: lb.lock.acquire(),
            },
        }
    }

    /// Chooses a member and counts it, under the lb's lock.
    fn select(&self, plan: &mut RequestPlan<'_>) -> Option<Selection> {
        let lb = self.record()?;
        let settings = plan.settings.unwrap_or_else(|| lb.settings());
        let members = self.members();
        let _lock = self.lock(lb, settings.lock);
        let selector = Selector {
            members,
            states: &plan.states,
            overrides: &plan.overrides,
            stateless: plan.stateless,
            sticky_session_force: settings.sticky_session_force,
            next_offset: &lb.next_offset,
        };
        let pick = if members.len() == 1 {
            match selector.single() {
                Single::Take(pick) => Some(pick),
                Single::Fail => None,
                Single::Decide => selector.pick(&plan.routes),
            }
        } else {
            selector.pick(&plan.routes)
        }?;
        let activation = selector.activation(pick.member);
        Some(self.start(lb, &settings, plan, pick, activation))
    }

    /// Counts a chosen member (§4.5, §4.7): probing if it was recovering; busy and elected
    /// counts; new sessions; the method's load.
    fn start(
        &self,
        lb: &LbRecord,
        settings: &LbSettings,
        plan: &mut RequestPlan<'_>,
        pick: Pick,
        activation: Activation,
    ) -> Selection {
        let members = self.members();
        let member = members.get(pick.member);
        let new_session = !plan.routes.has_session() && !plan.stateless;
        let mut added_load = 0;
        let mut over_busy_limit = false;
        let mut route = ShortText::EMPTY;
        if let Some(member) = member {
            if State::from_code(member.state.load(Ordering::Relaxed)) == State::Recovering {
                member.state.store(State::Probing.code(), Ordering::Relaxed);
                plan.states.set(pick.member, State::Probing);
            }
            added_load = load_method(settings.method).on_start(member, new_session);
            if new_session {
                member.sessions.fetch_add(1, Ordering::Relaxed);
            }
            member.elected.fetch_add(1, Ordering::Relaxed);
            lb.enter();
            let busy = member.enter();
            let limit = member.busy_limit();
            over_busy_limit = limit > 0 && busy > limit;
            route = if pick.route_is_domain {
                member.read_domain()
            } else {
                member.read_route()
            };
        }
        Selection {
            member: pick.member,
            record: self.first_record + pick.member,
            sticky: pick.sticky,
            choice: pick.choice,
            route,
            activation,
            over_busy_limit,
            method: settings.method,
            added_load,
            new_session,
        }
    }

    /// Reports how the attempt on `selection` ended: undoes or completes its accounting
    /// (`traffic`: bytes moved), updates the member's state and counters (§4.7), and says
    /// whether the request is done, must stop, or should fail over.
    pub fn finish(
        &self,
        plan: &mut RequestPlan<'_>,
        selection: &Selection,
        result: AttemptResult,
        traffic: Traffic,
        now_ms: impl Fn() -> u64,
    ) -> Verdict {
        let (Some(lb), Some(member)) = (self.record(), self.members().get(selection.member)) else {
            plan.finished = true;
            return Verdict::Stop;
        };
        let settings = plan.settings.unwrap_or_else(|| lb.settings());
        let _lock = (settings.lock == LbLock::Pessimistic).then(|| lb.lock.acquire());
        lb.leave();
        member.leave();
        if matches!(
            result,
            AttemptResult::NoConnection | AttemptResult::Unsendable
        ) {
            // The request never reached the member: take back what `start` counted.
            remove_load(member, selection.added_load);
            decrement(&member.elected);
            if selection.new_session {
                decrement(&member.sessions);
            }
        } else {
            load_method(selection.method).on_end(member, traffic);
            member.add_traffic(traffic.written, traffic.read);
        }
        let mut view = plan.states.get(selection.member);
        let before = State::from_code(member.state.load(Ordering::Relaxed));
        let verdict = health::apply(member, &settings, result, now_ms, &mut view);
        let after = State::from_code(member.state.load(Ordering::Relaxed));
        plan.transition = (before != after).then_some((selection.member, before, after));
        plan.states.set(selection.member, view);
        if result != AttemptResult::Success {
            plan.last = Some(result);
        }
        if verdict != Verdict::FailOver {
            plan.finished = true;
        }
        verdict
    }

    /// Forces recovery (ERR → ERR/FRC) of every member in error, under the cross-process
    /// lock; returns how many. mod_jk does this when no member is left for a request, and
    /// at maintenance when all members are in error.
    pub fn force_recovery(&self) -> usize {
        self.force_recovery_for(None)
    }

    fn force_recovery_for(&self, view: Option<&mut PerMember<State>>) -> usize {
        let Some(lb) = self.record() else {
            return 0;
        };
        let _lock = lb.lock.acquire();
        force_errors_to_recovery(self.members(), view)
    }
}

/// ERR → ERR/FRC for every member in error (reply timeouts forgotten); the caller holds the
/// lb's cross-process lock.
pub(super) fn force_errors_to_recovery(
    members: &[MemberRecord],
    mut view: Option<&mut PerMember<State>>,
) -> usize {
    let mut forced = 0;
    for (index, member) in members.iter().enumerate() {
        if State::from_code(member.state.load(Ordering::Relaxed)) == State::Error {
            member.reply_timeouts.store(0, Ordering::Relaxed);
            member
                .state
                .store(State::ForcedRecovery.code(), Ordering::Relaxed);
            if let Some(view) = view.as_deref_mut() {
                view.set(index, State::ForcedRecovery);
            }
            forced += 1;
        }
    }
    forced
}

fn decrement(counter: &std::sync::atomic::AtomicU64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}
