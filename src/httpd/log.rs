//! Logging into httpd's error log through the shim's non-variadic wrappers, tagged with this
//! module so `LogLevel jk_rs:debug` (or `jk:debug`) applies. Messages are never used as format
//! strings.
use super::module::module_index;
use crate::ffi;
use crate::jklog::Level;
use std::ffi::CString;
use std::os::raw::c_int;

const FILE: &std::ffi::CStr = c"mod_jk_rs";

/// httpd's log levels that the module uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Emerg,
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl LogLevel {
    pub(crate) fn code(self) -> c_int {
        (match self {
            LogLevel::Emerg => ffi::APLOG_EMERG,
            LogLevel::Error => ffi::APLOG_ERR,
            LogLevel::Warning => ffi::APLOG_WARNING,
            LogLevel::Notice => ffi::APLOG_NOTICE,
            LogLevel::Info => ffi::APLOG_INFO,
            LogLevel::Debug => ffi::APLOG_DEBUG,
        }) as c_int
    }
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> LogLevel {
        match level {
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warning,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
        }
    }
}

fn c_message(msg: &str) -> CString {
    // A NUL inside would truncate the line; show it instead.
    CString::new(msg.replace('\0', "\\0")).unwrap_or_default()
}

/// Logs against a server (start-up, configuration, child life cycle).
///
/// # Safety
/// `s` is NULL or a live `server_rec`.
pub(crate) unsafe fn server_raw(s: *const ffi::server_rec, level: c_int, msg: &str) {
    let m = c_message(msg);
    // SAFETY: all pointers are valid C strings / a live server_rec (or NULL, which httpd
    // accepts: the main error log).
    unsafe { ffi::jk_rs_log_error(FILE.as_ptr(), 0, module_index(), level, 0, s, m.as_ptr()) }
}

/// Logs to the main server's error log, from any thread (the watchdog's maintenance).
pub fn to_main_log(level: LogLevel, msg: &str) {
    // SAFETY: a NULL server_rec means the main server's log (ap_server_conf).
    unsafe { server_raw(std::ptr::null(), level.code(), msg) }
}

/// Logs against a request (adds the client address; obeys per-directory LogLevel).
///
/// # Safety
/// `r` is a live `request_rec`.
pub(crate) unsafe fn request_raw(r: *const ffi::request_rec, level: c_int, msg: &str) {
    let m = c_message(msg);
    // SAFETY: r is live; strings are valid.
    unsafe { ffi::jk_rs_log_rerror(FILE.as_ptr(), 0, module_index(), level, 0, r, m.as_ptr()) }
}

/// Whether a request-level message at `level` would be written.
///
/// # Safety
/// `r` is a live `request_rec`.
pub(crate) unsafe fn request_enabled(r: *const ffi::request_rec, level: c_int) -> bool {
    // SAFETY: the caller's promise.
    unsafe { request_level(r) >= level }
}

/// The most detailed level that `r`'s log configuration passes for this module.
///
/// # Safety
/// `r` is a live `request_rec`.
pub(crate) unsafe fn request_level(r: *const ffi::request_rec) -> c_int {
    // What ap_get_request_module_loglevel computes, inline (it runs twice per request): the
    // request's log configuration, else its connection's, else its server's; our module's
    // level there, else that configuration's level.
    // SAFETY: r, its connection and server are live; a log configuration's module_levels is
    // NULL or an array with an entry for every loaded module's index.
    unsafe {
        let r = &*r;
        let conf: *const ffi::ap_logconf = if !r.log.is_null() {
            r.log
        } else if !r.connection.is_null() && !(*r.connection).log.is_null() {
            (*r.connection).log
        } else {
            &(*r.server).log
        };
        let conf = &*conf;
        let index = module_index();
        let module_level = if index < 0 || conf.module_levels.is_null() {
            -1
        } else {
            c_int::from(*conf.module_levels.add(index as usize))
        };
        if module_level < 0 {
            conf.level
        } else {
            module_level
        }
    }
}
