//! Logging into httpd's error log through the shim's non-variadic wrappers, tagged with this
//! module so `LogLevel jk_rs:debug` applies. Messages are never used as format strings.
use crate::ffi;
use crate::jklog::Level;
use std::ffi::CString;
use std::os::raw::c_int;

pub const FILE: &std::ffi::CStr = c"mod_jk_rs";

pub fn aplog_level(level: Level) -> c_int {
    (match level {
        Level::Error => ffi::APLOG_ERR,
        Level::Warn => ffi::APLOG_WARNING,
        Level::Info => ffi::APLOG_INFO,
        Level::Debug => ffi::APLOG_DEBUG,
    }) as c_int
}

fn c_message(msg: &str) -> CString {
    // A NUL inside would truncate the line; show it instead.
    CString::new(msg.replace('\0', "\\0")).unwrap_or_default()
}

/// Logs against a server (start-up, configuration, child life cycle).
///
/// # Safety
/// `s` is NULL or a live `server_rec`.
pub unsafe fn server(s: *const ffi::server_rec, level: c_int, msg: &str) {
    let m = c_message(msg);
    // SAFETY: all pointers are valid C strings / a live server_rec (or NULL, which httpd accepts).
    unsafe {
        ffi::jk_rs_log_error(
            FILE.as_ptr(),
            0,
            crate::module::module_index(),
            level,
            0,
            s,
            m.as_ptr(),
        )
    }
}

/// Logs against a request (adds the client address; obeys per-directory LogLevel).
///
/// # Safety
/// `r` is a live `request_rec`.
pub unsafe fn request(r: *const ffi::request_rec, level: c_int, msg: &str) {
    let m = c_message(msg);
    // SAFETY: r is live; strings are valid.
    unsafe {
        ffi::jk_rs_log_rerror(
            FILE.as_ptr(),
            0,
            crate::module::module_index(),
            level,
            0,
            r,
            m.as_ptr(),
        )
    }
}

/// Whether a request-level message at `level` would be written.
///
/// # Safety
/// `r` is a live `request_rec`.
pub unsafe fn request_enabled(r: *const ffi::request_rec, level: c_int) -> bool {
    // SAFETY: r is live; the function only reads its log config.
    unsafe { ffi::ap_get_request_module_loglevel(r, crate::module::module_index()) >= level }
}
