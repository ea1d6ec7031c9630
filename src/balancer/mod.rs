//! The load balancer (mod_jk reference §4): which lb member serves a request, how load is
//! counted per method, what failures do to a member, and the once-across-all-processes
//! maintenance — pure logic over the records in [`crate::shm`], with time passed in.
//!
//! The service layer drives one request like this:
//! `routes = lb.session_routes(uri, cookies, &hints)`, `plan = lb.plan(routes, &hints, free)`,
//! then loop on `lb.next(&mut plan)`: `Step::Try(selection)` → send the request to
//! `selection.member`, report with `lb.finish(&mut plan, &selection, result, traffic, clock)`
//! (`clock()`: milliseconds since the epoch, asked only when a failure is recorded) and stop
//! unless it says `Verdict::FailOver`; `Step::Wait(d)` → sleep `d`;
//! `Step::GiveUp { last }` → answer with an error (503 when `last` is `None`).
//! Some process calls [`maintain_all`] now and then (each request, or a timer).
#![forbid(unsafe_code)]

mod cookie;
mod edit;
mod health;
mod lb;
mod maintain;
mod member_state;
mod method;
mod plan;
mod select;
mod sticky;

pub use cookie::routing_cookie;
pub use health::AttemptResult;
pub use lb::{Balancer, BalancerError, RequestHints, Selection};
pub use maintain::{maintain_all, MaintenanceReport};
pub use member_state::{usable, usable_sticky, ActivationOverrides, State};
pub use method::{load_method, LoadMethod, Traffic};
pub use plan::{RequestPlan, Step, Verdict};
pub use select::Choice;
pub use sticky::{
    env_flag, session_routes, session_routes_eagerly, SessionNames, SessionRoutes, MAX_SESSION_IDS,
};

#[cfg(test)]
mod tests;
