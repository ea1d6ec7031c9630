//! What one attempt's outcome does to a member (mod_jk reference §4.7): its shared state
//! (OK, BUSY, ERR, or a "local error" that escalates later), its error counters, and this
//! request's view of it (a member that failed a request is not tried again in that round).
//! A client's fault never puts a member in error.

use std::sync::atomic::{AtomicU64, Ordering};

use super::member_state::State;
use super::plan::Verdict;
use crate::shm::{LbSettings, MemberRecord};

/// How one attempt on a member ended, as the AJP layer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptResult {
    /// The member answered (whatever the HTTP status, unless `fail_on_status` matched).
    Success,
    /// Reading from or writing to the browser failed: the client's fault; no failover.
    ClientError,
    /// An internal error or a bad AJP message: the member's shared state is left as is, the
    /// request fails over (mod_jk `JK_SERVER_ERROR`, `JK_AJP_PROTOCOL_ERROR`).
    LocalError,
    /// The status matched `fail_on_status`: a positive code puts the member in error, a
    /// negative one only fails this request over.
    FailOnStatus { positive: bool },
    /// The member is over its `busy_limit`: BUSY, fail over.
    BusyLimit,
    /// No free connection to the member within `connection_acquire_timeout`: BUSY (unless
    /// in error), fail over. The request never reached the member, so its load is taken back.
    NoConnection,
    /// No reply within `reply_timeout`: ERR once more than `max_reply_timeouts` (a counter
    /// halved every maintenance interval) happened.
    ReplyTimeout,
    /// Connect, send or receive failed: ERR right away if the member has no other request
    /// in flight or `error_escalation_time` is 0 or the errors started that long ago;
    /// otherwise a "local error" that maintenance escalates later.
    BackendFailure,
    /// The request cannot be sent to any member (its headers do not fit `max_packet_size`):
    /// the request's fault, not the member's. No state change, no failover, its load is taken
    /// back (mod_jk answers such a request at once, touching no member).
    Unsendable,
    /// No connection could be made at all (refused, unreachable, connect timeout, failed
    /// connect-time CPing): the member is not there, whoever else is busy with it. ERR at once,
    /// where mod_jk would keep trying it first for every request for up to
    /// `error_escalation_time` while other requests are in flight.
    Unreachable,
}

/// Applies `result` to `member` (whose busy count already excludes this request) and to
/// this request's view of it; returns what the request should do next.
pub(crate) fn apply(
    member: &MemberRecord,
    settings: &LbSettings,
    result: AttemptResult,
    now_ms: impl Fn() -> u64,
    view: &mut State,
) -> Verdict {
    // Shared records are read by every thread of every child: a store that changes nothing
    // would still take the cache line from all of them, so unchanged values are not written
    // (most requests find the member OK and error-free).
    let store_if_new = |slot: &AtomicU64, value: u64| {
        if slot.load(Ordering::Relaxed) != value {
            slot.store(value, Ordering::Relaxed);
        }
    };
    let set = |state: State| {
        if member.state.load(Ordering::Relaxed) != state.code() {
            member.state.store(state.code(), Ordering::Relaxed);
        }
    };
    let clear_errors = || {
        store_if_new(&member.first_error_time, 0);
        store_if_new(&member.last_error_time, 0);
    };
    let put_in_error = |view: &mut State| {
        member.errors.fetch_add(1, Ordering::Relaxed);
        set(State::Error);
        *view = State::Error;
        let now = now_ms();
        member.first_error_time.store(now, Ordering::Relaxed);
        member.last_error_time.store(now, Ordering::Relaxed);
    };

    if result == AttemptResult::Unsendable {
        return Verdict::Stop;
    }
    if result == AttemptResult::NoConnection {
        if State::from_code(member.state.load(Ordering::Relaxed)) != State::Error {
            set(State::Busy);
            *view = State::Busy;
        }
        return Verdict::FailOver;
    }

    // A request ran on the member: it is OK unless it was in error (refined below).
    if State::from_code(member.state.load(Ordering::Relaxed)) != State::Error {
        set(State::Ok);
        *view = State::Ok;
    }
    match result {
        AttemptResult::Success => {
            set(State::Ok);
            *view = State::Ok;
            clear_errors();
            Verdict::Done
        }
        AttemptResult::ClientError => {
            member.client_errors.fetch_add(1, Ordering::Relaxed);
            set(State::Ok);
            // Not this member's fault, but this request is over anyway.
            *view = State::Error;
            clear_errors();
            Verdict::Stop
        }
        AttemptResult::LocalError => {
            *view = State::Error;
            Verdict::FailOver
        }
        AttemptResult::FailOnStatus { positive: false } => {
            set(State::Ok);
            *view = State::Error;
            clear_errors();
            Verdict::FailOver
        }
        AttemptResult::FailOnStatus { positive: true } => {
            put_in_error(view);
            Verdict::FailOver
        }
        AttemptResult::BusyLimit => {
            set(State::Busy);
            *view = State::Busy;
            Verdict::FailOver
        }
        AttemptResult::ReplyTimeout => {
            let timeouts = member
                .reply_timeouts
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            if timeouts > u64::from(settings.max_reply_timeouts) {
                put_in_error(view);
            } else {
                *view = State::Error;
            }
            Verdict::FailOver
        }
        AttemptResult::BackendFailure => {
            member.errors.fetch_add(1, Ordering::Relaxed);
            let now_ms = now_ms();
            let first = member.first_error_time.load(Ordering::Relaxed);
            let escalation = settings.error_escalation_time_ms;
            let nobody_else_busy = member.busy.load(Ordering::Relaxed) == 0;
            let erring_too_long = first > 0 && now_ms.saturating_sub(first) >= escalation;
            if nobody_else_busy || escalation == 0 || erring_too_long {
                set(State::Error);
            }
            *view = State::Error;
            if first == 0 {
                member.first_error_time.store(now_ms, Ordering::Relaxed);
            }
            member.last_error_time.store(now_ms, Ordering::Relaxed);
            Verdict::FailOver
        }
        AttemptResult::Unreachable => {
            put_in_error(view);
            Verdict::FailOver
        }
        AttemptResult::NoConnection => Verdict::FailOver,
        AttemptResult::Unsendable => Verdict::Stop,
    }
}
