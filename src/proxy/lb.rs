//! Serves a request through an `lb` worker: asks the balancer for a member, serves the request
//! there with [`Exchange`], reports how it went, and fails over to another member only while the
//! request can still be replayed (nothing streamed from the client, nothing sent to it, and no
//! non-idempotent request that a member may have acted on — safer than mod_jk, see README).
#![forbid(unsafe_code)]

use super::exchange::{with_buffers, AttemptKind, Client, Exchange, Outcome, RequestInfo};
use crate::backend::Backend;
use crate::balancer::{AttemptResult, Balancer, RequestHints, Step, Traffic, Verdict};
use crate::jklog::Level;
use crate::shm::{SharedState, ShortText};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One lb worker in this process: its balancer (over shared memory) and its members' backends,
/// in `balance_workers` order.
pub struct LbService {
    pub balancer: Balancer,
    pub members: Vec<Arc<Backend>>,
    pub shared: Arc<SharedState>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn attempt_result(kind: AttemptKind) -> AttemptResult {
    match kind {
        AttemptKind::Success => AttemptResult::Success,
        AttemptKind::ClientError => AttemptResult::ClientError,
        // No connection at all: the member is down (error at once). NoConnection would mean
        // "no free pooled endpoint", which only makes it busy.
        AttemptKind::Connect => AttemptResult::Unreachable,
        AttemptKind::Timeout => AttemptResult::ReplyTimeout,
        AttemptKind::Backend => AttemptResult::BackendFailure,
        AttemptKind::FailOnStatus(code) => AttemptResult::FailOnStatus { positive: code > 0 },
        AttemptKind::Request => AttemptResult::LocalError,
    }
}

/// What the lb did, for the request's notes.
pub struct Served {
    pub outcome: Outcome,
    /// The member that answered last (its route).
    pub route: Option<ShortText>,
    /// Shared-memory record indices of the first and the last member tried (`JK_LB_FIRST_*`,
    /// `JK_LB_LAST_*` notes).
    pub first: Option<usize>,
    pub last: Option<usize>,
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
    ) -> Served {
        // Maintenance (decay, recovery) runs from the handler or the watchdog thread
        // (Runtime::maintain_if_due / Runtime::maintain), once across all processes.
        let Some(first) = self.members.first() else {
            return Served {
                outcome: Outcome::Status(503),
                route: None,
                first: None,
                last: None,
            };
        };
        let routes = self
            .balancer
            .session_routes(uri, cookies.iter().copied(), hints);
        let mut plan = self.balancer.plan(routes, hints, |m| {
            self.members.get(m).is_some_and(|b| b.pool().capacity() > 0)
        });
        with_buffers(|bufs| {
            let mut x = Exchange::new(first, req, client, bufs);
            if let Err(outcome) = x.prepare() {
                return Served {
                    outcome,
                    route: None,
                    first: None,
                    last: None,
                };
            }
            let mut last = Outcome::Status(503);
            let mut route = None;
            let (mut first_record, mut last_record) = (None, None);
            loop {
                match self.balancer.next(&mut plan) {
                    Step::Try(sel) => {
                        let Some(backend) = self.members.get(sel.member) else {
                            continue;
                        };
                        let result = if sel.over_busy_limit {
                            (Outcome::Status(503), AttemptResult::BusyLimit)
                        } else {
                            if let Some(cookie) =
                                self.balancer.routing_cookie(&sel, hints, req.is_ssl)
                            {
                                x.client().set_routing_cookie(&cookie);
                            }
                            x.set_backend(backend);
                            let (outcome, kind) = x.serve(
                                Some(sel.route.as_bytes()),
                                sel.activation.code().as_bytes(),
                            );
                            (outcome, attempt_result(kind))
                        };
                        last = result.0;
                        route = Some(sel.route);
                        first_record.get_or_insert(sel.record);
                        last_record = Some(sel.record);
                        let (written, read) = x.take_traffic();
                        let traffic = Traffic { written, read };
                        let verdict =
                            self.balancer
                                .finish(&mut plan, &sel, result.1, traffic, now_ms());
                        match verdict {
                            Verdict::Done | Verdict::Stop => {
                                return Served {
                                    outcome: last,
                                    route,
                                    first: first_record,
                                    last: last_record,
                                }
                            }
                            Verdict::FailOver if !x.replayable() => {
                                return Served {
                                    outcome: last,
                                    route,
                                    first: first_record,
                                    last: last_record,
                                }
                            }
                            Verdict::FailOver => {
                                x.client().log(
                                    Level::Warn,
                                    format_args!(
                                        "lb {}: member {} failed; trying another member",
                                        self.balancer.name(),
                                        backend.name()
                                    ),
                                );
                            }
                        }
                    }
                    Step::Wait(d) => std::thread::sleep(d),
                    Step::GiveUp { last: why } => {
                        if why.is_none() {
                            x.client().log(
                                Level::Error,
                                format_args!(
                                    "lb {}: no member can take the request: 503",
                                    self.balancer.name()
                                ),
                            );
                            last = Outcome::Status(503);
                        }
                        return Served {
                            outcome: last,
                            route,
                            first: first_record,
                            last: last_record,
                        };
                    }
                }
            }
        })
    }
}
