//! Serves a request through an `lb` worker: asks the balancer for a member, serves the request
//! there with [`Exchange`], reports how it went, and fails over to another member only while the
//! request can still be replayed (nothing streamed from the client, nothing sent to it, and no
//! non-idempotent request that a member may have acted on — safer than mod_jk, see README).
//! Also the `JK_LB_FIRST_*` / `JK_LB_LAST_*` figures of the members tried.
#![forbid(unsafe_code)]

use super::target::{Served, ServedRoute};
use super::{now_ms, with_buffers, Client, Exchange, Outcome, RequestInfo};
use crate::backend::Backend;
use crate::balancer::{
    AttemptResult, Balancer, Choice, RequestHints, RequestPlan, Selection, State, Step, Traffic,
    Verdict,
};
use crate::jklog::Level;
use crate::shm::SharedState;
use std::sync::Arc;

/// One lb worker in this process: its balancer (over shared memory) and its members' backends,
/// in `balance_workers` order.
pub struct LbService {
    pub balancer: Balancer,
    pub members: Vec<Arc<Backend>>,
    pub shared: Arc<SharedState>,
    /// `request_body_buffer` of the lb: bytes of a body read before a member is contacted.
    pub body_buffer: u64,
}

/// One member's figures as mod_jk's `JK_LB_FIRST_*` / `JK_LB_LAST_*` notes show them
/// (reference §1.5), in the order NAME, VALUE, ACCESSED, SESSIONS, READ, TRANSFERRED, ERRORS,
/// BUSY, ACTIVATION, STATE: `note(index, text)` for each, formatted on the stack (no heap).
pub fn member_notes(shared: &SharedState, record: usize, note: &mut dyn FnMut(usize, &[u8])) {
    use std::sync::atomic::Ordering::Relaxed;
    let Some(m) = shared.member(record) else {
        return;
    };
    let mut digits = crate::decimal::Digits::default();
    let mut number = |i: usize, n: u64, note: &mut dyn FnMut(usize, &[u8])| {
        note(i, crate::decimal::decimal(n, &mut digits));
    };
    note(0, m.name().as_bytes());
    number(1, m.lb_value.load(Relaxed), note);
    number(2, m.elected.load(Relaxed), note);
    number(3, m.sessions.load(Relaxed), note);
    number(4, m.read.load(Relaxed), note);
    number(5, m.transferred.load(Relaxed), note);
    number(6, m.errors.load(Relaxed), note);
    number(7, u64::from(m.busy.load(Relaxed)), note);
    note(8, m.activation().code().as_bytes());
    note(
        9,
        crate::balancer::State::from_code(m.state.load(Relaxed))
            .name()
            .as_bytes(),
    );
}

impl LbService {
    /// Serves `req`. `uri` is the forwarded path (for `;jsessionid`), `cookies` the request's
    /// Cookie header values.
    pub fn forward<'a>(
        &self,
        req: &RequestInfo<'_>,
        uri: &'a str,
        cookies: &[&'a str],
        hints: &RequestHints<'a>,
        client: &mut dyn Client,
    ) -> Served<'static> {
        // Maintenance (decay, recovery) runs from the handler or the watchdog thread
        // (Runtime::maintain_if_due / Runtime::maintain), once across all processes.
        let Some(first) = self.members.first() else {
            return Served::answer(Outcome::Status(503));
        };
        // One read of the run-time settings serves the whole request.
        let settings = self.balancer.settings();
        let routes = self
            .balancer
            .session_routes_under(settings.as_ref(), uri, cookies, hints);
        let mut plan = self.balancer.plan_under(settings, routes, hints, |m| {
            self.members.get(m).is_some_and(|b| b.pool().capacity() > 0)
        });
        with_buffers(|bufs| {
            let mut x = Exchange::unchosen(first, req, client, bufs);
            x.buffer_body(self.body_buffer);
            match x.prepare() {
                Err(outcome) => Served::answer(outcome),
                Ok(()) => self.fail_over(&mut x, &mut plan, hints),
            }
        })
    }

    /// Tries members in the order the plan gives them until one answers, the plan gives up, or
    /// another try is no longer safe.
    fn fail_over<'x>(
        &'x self,
        x: &mut Exchange<'x, '_>,
        plan: &mut RequestPlan<'_>,
        hints: &RequestHints<'_>,
    ) -> Served<'static> {
        let mut served = Served::answer(Outcome::Status(503));
        loop {
            match self.balancer.next(plan) {
                Step::Try(sel) => {
                    let Some(backend) = self.members.get(sel.member) else {
                        continue;
                    };
                    if x.debug() {
                        self.log_choice(x.client(), &sel, backend);
                    }
                    let (outcome, verdict) = self.try_member(x, plan, &sel, backend, hints);
                    served.outcome = outcome;
                    served.route = Some(ServedRoute::Member(sel.route));
                    served.first.get_or_insert(sel.record);
                    served.last = Some(sel.record);
                    if verdict != Verdict::FailOver || !x.replayable() {
                        return served;
                    }
                    x.client().log(
                        Level::Warn,
                        format_args!(
                            "lb {}: member {} failed; trying another member",
                            self.balancer.name(),
                            backend.name()
                        ),
                    );
                }
                Step::Wait(d) => std::thread::sleep(d),
                Step::GiveUp { last } => {
                    if last.is_none() {
                        x.client().log(
                            Level::Error,
                            format_args!(
                                "lb {}: no member can take the request: 503",
                                self.balancer.name()
                            ),
                        );
                        served.outcome = Outcome::Status(503);
                    }
                    return served;
                }
            }
        }
    }

    /// mod_jk's "found best worker" line, at debug.
    fn log_choice(&self, client: &mut dyn Client, sel: &Selection, backend: &Backend) {
        let how = match sel.choice {
            Choice::OnlyMember => "the only member".to_string(),
            Choice::Session => "the session's route".to_string(),
            Choice::SessionFailover => "the session member's redirect or domain".to_string(),
            Choice::Domain => "the session's domain".to_string(),
            Choice::RedirectFailover => {
                "the first member's redirect (no member usable)".to_string()
            }
            Choice::Balanced => format!(
                "method {}",
                self.balancer.settings().map_or("?", |s| s.method.name())
            ),
        };
        client.log(
            Level::Debug,
            format_args!(
                "lb {}: member {} (route {}) chosen by {how}",
                self.balancer.name(),
                backend.name(),
                sel.route.as_str()
            ),
        );
    }

    /// One try on the member `sel` chose (unless it is over its `busy_limit`), reported to the
    /// balancer: the answer, and what the balancer says to do next.
    fn try_member<'x>(
        &self,
        x: &mut Exchange<'x, '_>,
        plan: &mut RequestPlan<'_>,
        sel: &Selection,
        backend: &'x Backend,
        hints: &RequestHints<'_>,
    ) -> (Outcome, Verdict) {
        let (outcome, result) = if sel.over_busy_limit {
            (Outcome::Status(503), AttemptResult::BusyLimit)
        } else {
            if let Some(cookie) = self.balancer.routing_cookie(sel, hints, x.req.is_ssl) {
                x.client().set_routing_cookie(&cookie);
            }
            x.set_backend(backend);
            let route = Some(sel.route.as_bytes());
            let (outcome, kind) = x.serve(route, sel.activation.code().as_bytes());
            (outcome, kind.into())
        };
        let (written, read) = x.take_traffic();
        let traffic = Traffic { written, read };
        let verdict = self.balancer.finish(plan, sel, result, traffic, now_ms);
        if let Some((_, from, to)) = plan.take_transition() {
            self.log_transition(x.client(), backend.name(), from, to, result);
        }
        (outcome, verdict)
    }

    /// A member going into or out of error is said once, by the process that changed it.
    fn log_transition(
        &self,
        client: &mut dyn Client,
        member: &str,
        from: State,
        to: State,
        result: AttemptResult,
    ) {
        let failing = |s: State| {
            matches!(
                s,
                State::Error | State::Recovering | State::ForcedRecovery | State::Probing
            )
        };
        if failing(from) == failing(to) && to != State::Error {
            return;
        }
        let lb = self.balancer.name();
        let into_error = failing(to);
        let (from, to) = (from.name(), to.name());
        if into_error {
            client.log(
                Level::Warn,
                format_args!(
                    "lb {lb}: member {member} {from} -> {to}: {}",
                    failure_text(result)
                ),
            );
        } else {
            client.log(
                Level::Info,
                format_args!("lb {lb}: member {member} {from} -> {to}: it answers again"),
            );
        }
    }
}

/// Why an attempt put a member in error, in an operator's words.
fn failure_text(result: AttemptResult) -> &'static str {
    match result {
        AttemptResult::Unreachable => {
            "no connection could be made (refused, unreachable or connect timeout)"
        }
        AttemptResult::BackendFailure => "the connection failed while sending or receiving",
        AttemptResult::ReplyTimeout => "too many reply timeouts (max_reply_timeouts)",
        AttemptResult::FailOnStatus { .. } => "its status matched fail_on_status",
        AttemptResult::BusyLimit | AttemptResult::NoConnection => "it is busy",
        AttemptResult::LocalError => "a bad AJP message",
        AttemptResult::ClientError | AttemptResult::Success | AttemptResult::Unsendable => {
            "its state changed"
        }
    }
}
