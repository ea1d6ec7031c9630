//! The httpd shell's safe wrappers: small types over httpd's C structures (`Request`, pools,
//! logging) with every `unsafe` inside them, so that `module.rs` and the core see only safe Rust.
//! Borrowed data never outlives the `request_rec` or pool it came from.

pub mod client;
pub mod log;
pub mod pool;
pub mod request;
pub mod time;

pub use client::HttpdClient;
pub use request::Request;

use std::ffi::CStr;
use std::os::raw::c_char;

/// Bytes of a C string that httpd owns for at least `'a`; `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
pub unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
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
pub unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    // SAFETY: forwarded from the caller.
    unsafe { bytes(p) }.and_then(|b| std::str::from_utf8(b).ok())
}
