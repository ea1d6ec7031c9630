//! The module as httpd meets it: the [`Module`] trait a safe shell implements, the module
//! record built from it, and every `extern "C"` entry point httpd calls — each one made the
//! same way: raw pointers become the safe wrappers, the body runs under [`guard`] (a panic is
//! logged and becomes the hook's fallback, never an unwind into C), the result goes back as
//! an int.
use super::{log, CmdParms, Pool, Request, Server};
use crate::ffi;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

/// What a hook tells httpd: `OK`, `DECLINED`, an HTTP status, …
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(c_int);

impl Status {
    pub const OK: Status = Status(ffi::OK as c_int);
    pub const DECLINED: Status = Status(ffi::DECLINED);
    /// An input filter already answered the client (`AP_FILTER_ERROR`).
    pub const FILTER_ERROR: Status = Status(ffi::AP_FILTER_ERROR);
    pub const SERVER_ERROR: Status = Status(ffi::HTTP_INTERNAL_SERVER_ERROR as c_int);

    /// An HTTP status code (`HTTP_NOT_FOUND`, …) for httpd to answer with.
    pub const fn http(code: u16) -> Status {
        Status(code as c_int)
    }

    pub fn code(self) -> c_int {
        self.0
    }
}

/// The module's behaviour, in safe Rust: per-server configuration, directives and hooks.
/// `httpd/records.rs` turns an implementation into the records httpd loads.
pub trait Module: 'static {
    /// Per-server (main server and `<VirtualHost>`) configuration.
    type ServerConfig: Default + 'static;

    fn merge_server_config(
        base: &Self::ServerConfig,
        add: &Self::ServerConfig,
    ) -> Self::ServerConfig;
    /// One directive; `id` is the index its command table entry carries, `args` its words.
    fn directive(cmd: &mut CmdParms<'_>, id: usize, args: &[&str]) -> Result<(), String>;
    fn check_config(s: Server<'_>) -> Status;
    fn post_config(pconf: Pool<'_>, s: Server<'_>) -> Status;
    fn child_init(pchild: Pool<'_>, s: Server<'_>);
    fn translate_name(r: Request<'_>) -> Status;
    fn map_to_storage(r: Request<'_>) -> Status;
    fn handler(r: Request<'_>) -> Status;
}

/// The record httpd loaded (the first one whose hooks were registered).
pub(crate) static ACTIVE: AtomicPtr<ffi::module> = AtomicPtr::new(null_mut());
/// The record to use before httpd registered one (set once by `records.rs`).
static FIRST: AtomicPtr<ffi::module> = AtomicPtr::new(null_mut());

pub(crate) fn module_ptr() -> *mut ffi::module {
    let p = ACTIVE.load(Ordering::Acquire);
    if p.is_null() {
        FIRST.load(Ordering::Acquire)
    } else {
        p
    }
}

/// This module's log index (−1 before httpd registered it).
pub(crate) fn module_index() -> c_int {
    let p = module_ptr();
    if p.is_null() {
        return -1;
    }
    // SAFETY: p is one of our writable module records; httpd writes module_index once at
    // load time, before any thread runs.
    unsafe { (*p).module_index }
}

/// A module record for httpd. httpd writes `module_index`, `next`, `name` and
/// `dynamic_load_handle` into it, so each record must be a writable static (a read-only one
/// segfaults at LoadModule).
pub(crate) const fn record<M: Module>(
    name: &'static CStr,
    cmds: *const ffi::command_rec,
    register_hooks: unsafe extern "C" fn(*mut ffi::apr_pool_t),
) -> ffi::module {
    ffi::module {
        version: ffi::MODULE_MAGIC_NUMBER_MAJOR as c_int,
        minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR as c_int,
        module_index: -1,
        name: name.as_ptr(),
        dynamic_load_handle: null_mut(),
        next: null_mut(),
        magic: ffi::MODULE_MAGIC_COOKIE as std::os::raw::c_ulong,
        rewrite_args: None,
        create_dir_config: None,
        merge_dir_config: None,
        create_server_config: Some(create_server_config::<M>),
        merge_server_config: Some(merge_server_config::<M>),
        cmds,
        register_hooks: Some(register_hooks),
        flags: ffi::AP_MODULE_FLAG_ALWAYS_MERGE as c_int,
    }
}

/// Registers `M`'s hooks for record `which`. Loading both of the file's records would register
/// every hook twice: the second is inert.
///
/// # Safety
/// Called from httpd's `register_hooks` of record `which`, a static of this DSO.
pub(crate) unsafe fn register<M: Module>(which: *mut ffi::module) {
    let _ = FIRST.compare_exchange(null_mut(), which, Ordering::AcqRel, Ordering::Acquire);
    if ACTIVE
        .compare_exchange(null_mut(), which, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        let hooks = super::hooks::table::<M>();
        // SAFETY: called while httpd registers hooks; the shim copies the function pointers.
        unsafe { ffi::jk_rs_register_hooks(&hooks) }
    }
}

/// Runs `f`, turning a panic into `fallback` and a log line against `s` (NULL: the main log).
pub(crate) fn guard<T>(
    what: &str,
    s: *const ffi::server_rec,
    fallback: T,
    f: impl FnOnce() -> T,
) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let line = format!("mod_jk_rs: internal error in {what}: {msg}");
            // SAFETY: s is NULL or the live server_rec of the current hook.
            unsafe { log::server_raw(s, ffi::APLOG_ERR as c_int, &line) };
            fallback
        }
    }
}

// ---------------------------------------------------------------- server configuration

unsafe extern "C" fn create_server_config<M: Module>(
    p: *mut ffi::apr_pool_t,
    _s: *mut ffi::server_rec,
) -> *mut c_void {
    guard("create_server_config", std::ptr::null(), null_mut(), || {
        // SAFETY: p is the configuration pool httpd passes; the value dies with it.
        match unsafe { Pool::from_raw(p) } {
            Some(pool) => (pool.own(M::ServerConfig::default()) as *const M::ServerConfig)
                .cast_mut()
                .cast(),
            None => null_mut(),
        }
    })
}

unsafe extern "C" fn merge_server_config<M: Module>(
    p: *mut ffi::apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    guard("merge_server_config", std::ptr::null(), add, || {
        // SAFETY: both pointers come from create_server_config / merge_server_config of this
        // module (so they hold M::ServerConfig); p is the configuration pool.
        unsafe {
            let (Some(base), Some(add), Some(pool)) = (
                base.cast::<M::ServerConfig>().as_ref(),
                add.cast::<M::ServerConfig>().as_ref(),
                Pool::from_raw(p),
            ) else {
                return add;
            };
            (pool.own(M::merge_server_config(base, add)) as *const M::ServerConfig)
                .cast_mut()
                .cast()
        }
    })
}

// ---------------------------------------------------------------- directives

/// The four shapes of directive callback the command table uses; each gathers its words and
/// calls [`directive`].
pub(crate) unsafe extern "C" fn take1<M: Module>(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    a1: *const c_char,
) -> *const c_char {
    // SAFETY: httpd calls this with a live cmd and a NUL-terminated argument.
    unsafe { directive::<M>(cmd, &[a1]) }
}

pub(crate) unsafe extern "C" fn take12<M: Module>(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    a1: *const c_char,
    a2: *const c_char,
) -> *const c_char {
    // SAFETY: as take1; a2 is NULL when the second word is absent.
    unsafe { directive::<M>(cmd, &[a1, a2]) }
}

pub(crate) unsafe extern "C" fn raw_args<M: Module>(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    args: *const c_char,
) -> *const c_char {
    // SAFETY: as take1; args is the rest of the line.
    unsafe { directive::<M>(cmd, &[args]) }
}

pub(crate) unsafe extern "C" fn flag<M: Module>(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    on: c_int,
) -> *const c_char {
    let word: &CStr = if on != 0 { c"On" } else { c"Off" };
    // SAFETY: as take1.
    unsafe { directive::<M>(cmd, &[word.as_ptr()]) }
}

/// # Safety
/// `cmd` is the live cmd_parms of this directive call; `args` are NULL or NUL-terminated
/// strings living for the call.
unsafe fn directive<M: Module>(cmd: *mut ffi::cmd_parms, args: &[*const c_char]) -> *const c_char {
    let fallback = c"mod_jk_rs: internal error while reading this directive".as_ptr();
    // SAFETY: cmd is live for this call (the caller's contract).
    let Some(mut parms) = (unsafe { CmdParms::from_raw(cmd) }) else {
        return fallback;
    };
    let s = parms.server().as_ptr();
    guard("a directive", s, fallback, move || {
        let name = parms.name().to_string();
        let mut words = Vec::with_capacity(args.len());
        for &a in args {
            // SAFETY: the caller's contract.
            match unsafe { super::bytes(a) }.map(std::str::from_utf8) {
                None => {}
                Some(Ok(t)) => words.push(t),
                Some(Err(_)) => {
                    return parms.error(&format!("{name}: argument is not valid UTF-8"));
                }
            }
        }
        let id = parms.id();
        match M::directive(&mut parms, id, &words) {
            Ok(()) => std::ptr::null(),
            Err(msg) => parms.error(&msg),
        }
    })
}
