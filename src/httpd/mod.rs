//! The only safe wrappers over httpd and APR, with every `unsafe` of the shell inside them:
//! `Request`, `Server`, `Pool`, `CmdParms`, bucket brigades (behind `HttpdClient`), logging,
//! time, process facts, the generation slot, and the [`Module`] trait whose implementation
//! `records.rs` turns into the module records httpd loads. Borrowed data never outlives the
//! `request_rec`, `server_rec` or pool it came from.

mod brigade;
mod client;
mod cmd;
mod filename;
mod headers;
mod hooks;
pub mod log;
mod module;
mod pool;
pub mod process;
mod records;
mod request;
mod response;
mod server;
mod slot;
pub mod time;
mod utf8;

pub use client::HttpdClient;
pub use cmd::CmdParms;
pub use log::LogLevel;
pub use module::{Module, Status};
pub use pool::Pool;
pub use request::Request;
pub use response::Response;
pub use server::Server;
pub use slot::GenerationSlot;
pub use utf8::utf8;

use std::ffi::CStr;
use std::os::raw::c_char;

/// Bytes of a C string that httpd owns for at least `'a`; `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the caller guarantees a valid NUL-terminated string living for 'a.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

/// Like [`bytes`], as text; non-UTF-8 strings are `None`.
///
/// # Safety
/// As for [`bytes`].
unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    // SAFETY: forwarded from the caller.
    unsafe { bytes(p) }.and_then(utf8)
}
