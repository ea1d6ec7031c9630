//! Configuration core: the workers.properties parser (`Properties`) and the typed worker
//! definitions built from it (`Workers`, `WorkerDef`). Pure Rust, no httpd types: httpd feeds
//! text in (the file named by JkWorkersFile, JkWorkerProperty lines) and gets typed data or
//! `file:line: message` errors out (mod_jk reference §2).
#![forbid(unsafe_code)]

mod ajp;
mod error;
mod lb;
mod properties;
mod reader;
#[cfg(test)]
mod reference;
mod schema;
mod status;
mod value;
mod workers;

pub use ajp::{Activation, AjpWorker, PingMode, UNIX_PREFIX};
pub use error::{ConfigError, Origin};
pub use lb::{LbLock, LbMethod, LbWorker};
pub use properties::Properties;
pub use status::{Rating, StatusWorker};
pub use value::{did_you_mean, parse_bool, suggest};
pub(crate) use value::{list_items, parse_int};
pub use workers::{WorkerDef, WorkerMount, Workers};

/// Longest worker name, route, domain, redirect, host or session name mod_jk accepts: they
/// live in 64-byte shared-memory strings (mod_jk reference §2.1).
pub const MAX_NAME_LEN: usize = 60;

/// True when `name` is a valid worker name: 1..=60 of `[A-Za-z0-9_-]` (mod_jk reference §2.1).
pub fn is_valid_worker_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
