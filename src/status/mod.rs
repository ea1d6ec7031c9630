//! The status worker's core (mod_jk reference §5, issue #15): parse a request, check who
//! may change what, carry out the command over a [`StatusTarget`], and render a
//! [`Snapshot`] in mod_jk's `html`/`xml`/`txt`/`prop` formats or our `json` and
//! `prometheus`. No httpd, no I/O, no clock: the shell supplies the time, the server, the
//! user, the headers and the token secret; `live` fills the snapshot from the runtime and
//! carries edits into its shared memory ([`LiveTarget`]).
//!
//! A request, in the shell: `check_user` → `parse_query` (query, or the POST body) →
//! for `command.changes_state()`: `check_change(origin, token_matches(..))` →
//! `snapshot(&runtime, &SnapshotEnv { .. })` → `execute(&request, &snapshot, &status,
//! &mut LiveTarget::new(&runtime, now_ms))` → log each of the target's `changes()` →
//! (after a change, take the snapshot again) → `render(&View { .. }, &outcome)`.
#![forbid(unsafe_code)]

mod apply;
mod clock;
mod edits;
mod error;
mod escape;
mod live;
mod model;
mod rating;
mod render;
mod request;
mod security;
mod sha256;
mod target;
#[cfg(test)]
mod testdata;

pub use apply::{execute, StatusTarget};
pub use edits::{AjpSetting, AspectEdit, EditField, Edits, LbSetting, MemberSetting, Setting};
pub use error::StatusError;
pub use live::{
    edits_journal, header_snapshot, jk_version, snapshot, Change, JournalError, LiveTarget,
    SnapshotEnv,
};
pub use model::{
    AjpConfig, AjpWorker, Balancer, BalancerConfig, Member, SecondsRange, Server, Snapshot,
    Software, Timestamp, Traffic, UriMap, WorkerRef,
};
pub use rating::{rate, summarize, Health, Summary};
pub use render::{render, render_request_error, Page, View};
pub use request::{
    decode_query, parse_query, Command, DisplayOption, DisplayOptions, Mime, RequestError,
    StatusRequest,
};
pub use security::{check_change, check_user, csrf_token, token_matches, RequestOrigin};
pub use target::{resolve, Target};
