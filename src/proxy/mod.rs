//! Forwarding one request to Tomcat over AJP13 — the core's side of mod_jk's `service()`.
//! The handler finds the worker with [`Runtime::target`] and calls [`Target::forward`] with a
//! [`RequestInfo`] and its [`Client`] (the httpd request); it gets back a [`Served`].
//!
//! - Plain ajp13 worker ([`PlainWorker`]): read the first body packet, encode FORWARD_REQUEST,
//!   refuse with 503 over `busy_limit`, else one [`Exchange`] on the worker's backend with its
//!   own retries; the figures go to the worker's shared record.
//! - lb worker ([`LbService`]): read the first body packet, then the balancer picks a member,
//!   the same [`Exchange`] serves the request there, the balancer hears how it went, and the
//!   request fails over to another member while it can still be replayed.
//!
//! Files: `client` (the httpd port), `request` (FORWARD_REQUEST), `exchange` (send, body and
//! response relay), `failure` (statuses, replay and retry rules), `buffers`, `plain_worker`,
//! `lb`, `target` (the entry point), `runtime` (what a configuration generation builds).
#![forbid(unsafe_code)]

mod buffers;
mod client;
mod exchange;
mod failure;
mod lb;
mod plain_worker;
mod request;
pub mod runtime;
mod spool;
mod target;

pub use client::{Client, ClientError, HeaderSink, Outcome};
pub use failure::AttemptKind;
pub use lb::{member_notes, LbService};
pub use plain_worker::PlainWorker;
pub use request::{BodyKind, RequestInfo, SslInfo};
pub use runtime::{load_workers, ResultNotes, Runtime};
pub use target::{Served, ServedRoute, Target, TargetError};

use buffers::with_buffers;
use exchange::Exchange;

/// Wall-clock time in ms since the Unix epoch, as the shared records keep it.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Serves one request on `backend`, without a shared record (the tests' way in).
#[cfg(test)]
fn forward(backend: &Backend, req: &RequestInfo<'_>, client: &mut dyn Client) -> Outcome {
    plain_worker::serve(backend, None, req, client)
}

// What the unit tests (`use super::*`) take from here besides the public face.
#[cfg(test)]
use {
    crate::ajp::{EncodeError, SendHeaders},
    crate::backend::Backend,
    crate::jklog::Level,
    std::fmt,
};

#[cfg(test)]
mod tests;
