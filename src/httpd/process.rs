//! Facts about the httpd process and its configuration that are not tied to one server or
//! request: the run mode, the MPM's thread count, ServerRoot, the configuration tree, and the
//! shared-memory hand-over between generations through httpd's retained data.
use super::bytes;
use crate::ffi;
use crate::shm::{RetainedShm, SharedState, ShmError};
use std::ffi::CStr;
use std::os::raw::c_int;

/// `apachectl -t` (or `-t -D DUMP_…`): the configuration is only checked.
pub fn is_config_test() -> bool {
    // SAFETY: ap_state_query only reads httpd's state.
    unsafe {
        ffi::ap_state_query(ffi::AP_SQ_RUN_MODE as c_int) == ffi::AP_SQ_RM_CONFIG_TEST as c_int
    }
}

/// The MPM's threads per child (1 for prefork).
pub fn max_threads() -> usize {
    let mut threads: c_int = 1;
    // SAFETY: ap_mpm_query writes one int.
    let rv = unsafe { ffi::ap_mpm_query(ffi::AP_MPMQ_MAX_THREADS as c_int, &mut threads) };
    if rv != ffi::APR_SUCCESS as c_int || threads < 1 {
        1
    } else {
        threads as usize
    }
}

/// `ServerRoot`.
pub fn server_root() -> String {
    // SAFETY: ap_server_root is a global string set before any configuration is read.
    let root = unsafe { bytes(ffi::ap_server_root) };
    root.map_or_else(|| "/".into(), |b| String::from_utf8_lossy(b).into_owned())
}

/// Whether any directive's arguments in the whole configuration contain `needle`.
pub fn config_mentions(needle: &[u8]) -> bool {
    fn walk(node: *const ffi::ap_directive_t, needle: &[u8], depth: usize) -> bool {
        if depth >= 64 {
            return false;
        }
        let mut cur = node;
        loop {
            // SAFETY: the configuration tree lives in pconf for this whole generation and is
            // only read here, in the single-threaded parent.
            let Some(d) = (unsafe { cur.as_ref() }) else {
                return false;
            };
            // SAFETY: args is NULL or a NUL-terminated string of the tree.
            if let Some(args) = unsafe { bytes(d.args) } {
                if !needle.is_empty() && args.windows(needle.len()).any(|w| w == needle) {
                    return true;
                }
            }
            if walk(d.first_child, needle, depth + 1) {
                return true;
            }
            cur = d.next;
        }
    }
    // SAFETY: ap_conftree is set while the configuration is read and stays valid with pconf.
    walk(unsafe { ffi::ap_conftree }, needle, 0)
}

/// The key of our block in httpd's retained data. Only [`hand_over`] writes it.
const RETAINED_KEY: &CStr = c"jk_rs_shm";

/// httpd's retained data for our shared memory: plain data that survives restarts (and the
/// reload of this DSO).
fn retained_block() -> Option<&'static mut RetainedShm> {
    // SAFETY: ap_retained_data_* return a zeroed block of the requested size from the process
    // pool (or the existing one); RetainedShm is plain repr(C) data for which all-zero is
    // NONE. Only the single-threaded parent touches it (post_config and pconf cleanup).
    unsafe {
        let mut p = ffi::ap_retained_data_get(RETAINED_KEY.as_ptr());
        if p.is_null() {
            p = ffi::ap_retained_data_create(
                RETAINED_KEY.as_ptr(),
                std::mem::size_of::<RetainedShm>() as ffi::apr_size_t,
            );
        }
        p.cast::<RetainedShm>().as_mut()
    }
}

/// Leaves `state` to the next configuration generation (at the end of this one).
pub fn hand_over(state: &SharedState) {
    if let Some(block) = retained_block() {
        *block = state.retain();
    }
}

/// The previous generation's shared state, if one was handed over (once: the block is emptied).
pub fn take_over() -> Option<Result<SharedState, ShmError>> {
    let handed = std::mem::take(retained_block()?);
    if !handed.is_present() {
        return None;
    }
    // SAFETY: the block under RETAINED_KEY is written only by `hand_over`, from a live
    // SharedState of this process (or of the parent it was forked from); from_retained
    // validates it before use.
    Some(unsafe { SharedState::from_retained(handed) })
}

/// httpd's full description (`Apache/2.4.71 (Debian) mod_jk_rs/0.1.0`), whatever
/// `ServerTokens` says: what the status page shows as the web server.
pub fn server_description() -> String {
    // SAFETY: ap_get_server_description returns a static or pconf string, NUL-terminated.
    let d = unsafe { bytes(ffi::ap_get_server_description()) };
    d.map_or_else(String::new, |b| String::from_utf8_lossy(b).into_owned())
}

/// Adds `component` (`mod_jk_rs/0.1.0`) to the server's version string (the `Server:` header
/// with `ServerTokens Full`, the start-up line, the status page).
pub fn add_version_component(pconf: super::Pool<'_>, component: &str) {
    let c = pconf.strdup(component.as_bytes());
    // SAFETY: pconf is live; the string lives in it as long as the configuration.
    unsafe { ffi::ap_add_version_component(pconf.raw(), c) }
}

/// Starts `command` (`JkLogFile "|rotatelogs …"`, without the `|`) as a piped logger the way
/// httpd starts its own (`ap_open_piped_log`: without a shell unless the command starts with
/// `$`, restarted if it dies), and returns a file to write lines into (a duplicate of the pipe's
/// write end, so closing it never closes httpd's).
pub fn open_piped_log(pconf: super::Pool<'_>, command: &str) -> Result<std::fs::File, String> {
    let program = pconf.strdup(command.as_bytes());
    // SAFETY: pconf is live; httpd copies what it needs; NULL means the program did not start.
    let piped = unsafe { ffi::ap_open_piped_log(pconf.raw(), program) };
    if piped.is_null() {
        return Err(format!("cannot start the piped log program '{command}'"));
    }
    // SAFETY: piped is the live piped log just opened; its write end is an apr_file_t.
    let file = unsafe { ffi::ap_piped_log_write_fd(piped) };
    let mut fd: ffi::apr_os_file_t = -1;
    // SAFETY: file is live (or NULL, which apr_os_file_get refuses); fd is written once.
    let rv = unsafe { ffi::apr_os_file_get(&mut fd, file) };
    if file.is_null() || rv != ffi::APR_SUCCESS as ffi::apr_status_t || fd < 0 {
        return Err(format!(
            "the piped log program '{command}' has no pipe to write to"
        ));
    }
    // SAFETY: fd is open (httpd keeps it open as long as pconf); it is only borrowed to be
    // duplicated, and the duplicate is ours to close.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let owned = borrowed
        .try_clone_to_owned()
        .map_err(|e| format!("cannot use the piped log program '{command}': {e}"))?;
    Ok(std::fs::File::from(owned))
}
