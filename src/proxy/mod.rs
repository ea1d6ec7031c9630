//! Forwarding a request to Tomcat (being split into files).
#![forbid(unsafe_code)]

mod exchange;
mod lb;
mod plain_worker;
pub mod runtime;

pub use exchange::*;
pub use lb::{member_notes, LbService, Served};
pub use plain_worker::PlainWorker;
pub use runtime::{load_workers, Runtime};
