//! The httpd shell: the module record httpd loads, the directive callbacks, and the hooks. Each
//! `extern "C"` entry point runs its body under `catch_unwind` (a panic becomes a logged 500,
//! DECLINED or a directive error — never an unwind into C) and hands safe values to the core.
use crate::config::{ConfigError, Origin};
use crate::ffi;
use crate::httpd::{self, log, pool, Request};
use crate::jklog::{JkLevel, JkLogFile, RequestLogFormat};
use crate::proxy::runtime::{self, Runtime};
use crate::settings::{Directive, DirectiveContext, ServerSettings};
use crate::shm::{RetainedShm, SharedState};
use crate::vhost::VhostConfig;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr::{self, null_mut};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

/// A module record for httpd. httpd writes `module_index`, `next`, `name` and
/// `dynamic_load_handle` into it, so each record must be a writable static (a read-only one
/// segfaults at LoadModule).
const fn record(
    name: &'static CStr,
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
        create_server_config: Some(create_server_config),
        merge_server_config: Some(merge_server_config),
        // Only the address of the shim's static table is taken (no read: no unsafe needed).
        cmds: &raw const ffi::jk_rs_cmds,
        register_hooks: Some(register_hooks),
        flags: ffi::AP_MODULE_FLAG_ALWAYS_MERGE as c_int,
    }
}

/// `LoadModule jk_rs_module …/mod_jk_rs.so`: our own name (`LogLevel jk_rs:debug`).
#[no_mangle]
pub static mut jk_rs_module: ffi::module = record(c"mod_jk_rs.c", register_as_jk_rs);

/// `LoadModule jk_module …/mod_jk_rs.so`: the drop-in name, so existing `<IfModule jk_module>` and
/// `<IfModule mod_jk.c>` blocks are entered and `LogLevel jk:debug` works.
#[no_mangle]
pub static mut jk_module: ffi::module = record(c"mod_jk.c", register_as_jk);

/// The record httpd loaded (the first one whose hooks were registered).
static ACTIVE: AtomicPtr<ffi::module> = AtomicPtr::new(null_mut());

unsafe fn register(which: *mut ffi::module, p: *mut ffi::apr_pool_t) {
    if ACTIVE
        .compare_exchange(null_mut(), which, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        // SAFETY: called from httpd's register_hooks with its pool.
        unsafe { ffi::jk_rs_register_hooks(p) }
    }
    // Loading both names from this file would register every hook twice: the second is inert.
}

unsafe extern "C" fn register_as_jk_rs(p: *mut ffi::apr_pool_t) {
    // SAFETY: forwarded from httpd.
    unsafe { register(&raw mut jk_rs_module, p) }
}

unsafe extern "C" fn register_as_jk(p: *mut ffi::apr_pool_t) {
    // SAFETY: forwarded from httpd.
    unsafe { register(&raw mut jk_module, p) }
}

fn module_ptr() -> *mut ffi::module {
    let p = ACTIVE.load(Ordering::Acquire);
    if p.is_null() {
        &raw mut jk_rs_module
    } else {
        p
    }
}

/// This module's log index (−1 before httpd registered it).
pub fn module_index() -> c_int {
    // SAFETY: a plain read of an int that httpd writes once at load time, before any thread runs.
    unsafe { (*module_ptr()).module_index }
}

/// Runs `f`, turning a panic into `fallback` and a log line.
fn guard<T>(what: &str, s: *const ffi::server_rec, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            // SAFETY: s is NULL or the server_rec of the current hook.
            unsafe {
                log::server(
                    s,
                    ffi::APLOG_ERR as c_int,
                    &format!("internal error in {what}: {msg}"),
                )
            };
            fallback
        }
    }
}

// ---------------------------------------------------------------- server config

unsafe extern "C" fn create_server_config(
    p: *mut ffi::apr_pool_t,
    _s: *mut ffi::server_rec,
) -> *mut c_void {
    // SAFETY: p is the configuration pool httpd passes; the settings die with it.
    guard("create_server_config", ptr::null(), null_mut(), || unsafe {
        pool::leak_into(p, ServerSettings::default()).cast()
    })
}

unsafe extern "C" fn merge_server_config(
    p: *mut ffi::apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    guard("merge_server_config", ptr::null(), add, || {
        // SAFETY: both pointers come from create_server_config / merge_server_config of this module.
        unsafe {
            let merged = ServerSettings::merge(
                &*base.cast::<ServerSettings>(),
                &*add.cast::<ServerSettings>(),
            );
            pool::leak_into(p, merged).cast()
        }
    })
}

/// The settings of a server (main or virtual host).
///
/// # Safety
/// `s` is a live server_rec; the caller does not hold another reference to the same settings.
unsafe fn settings_of<'a>(s: *const ffi::server_rec) -> Option<&'a mut ServerSettings> {
    // SAFETY: module_config is the server's config vector; our slot holds a ServerSettings.
    unsafe {
        let p =
            ffi::ap_get_module_config((*s).module_config, module_ptr()).cast::<ServerSettings>();
        p.as_mut()
    }
}

// ---------------------------------------------------------------- directives

unsafe fn directive(cmd: *mut ffi::cmd_parms, args: &[*const c_char]) -> *const c_char {
    // SAFETY: cmd is the live cmd_parms of this directive call.
    let s = unsafe { (*cmd).server };
    let fallback = c"mod_jk_rs: internal error while reading this directive".as_ptr();
    guard("a directive", s, fallback, || {
        // SAFETY: as above; every pointer read here belongs to cmd for this call.
        unsafe {
            let cmd_ref = &*cmd;
            let Some(d) = Directive::from_id(cmd_ref.info as usize) else {
                return fallback;
            };
            let name = httpd::text((*cmd_ref.cmd).name).unwrap_or("?");
            if d.global_only() {
                let e = ffi::ap_check_cmd_context(cmd, ffi::GLOBAL_ONLY);
                if !e.is_null() {
                    return e;
                }
            }
            let mut words = Vec::with_capacity(args.len());
            for &a in args {
                match httpd::bytes(a) {
                    None => {}
                    Some(b) => match std::str::from_utf8(b) {
                        Ok(t) => words.push(t),
                        Err(_) => {
                            return error_string(
                                cmd,
                                &format!("{name}: argument is not valid UTF-8"),
                            )
                        }
                    },
                }
            }
            let dir = cmd_ref.directive;
            let origin = if dir.is_null() {
                Origin {
                    file: "httpd.conf".into(),
                    line: 0,
                }
            } else {
                Origin {
                    file: httpd::text((*dir).filename)
                        .unwrap_or("httpd.conf")
                        .to_string(),
                    line: usize::try_from((*dir).line_num).unwrap_or(0),
                }
            };
            let section = section_of(dir);
            let location = match section.as_deref() {
                None => None,
                Some(sec) if sec.eq_ignore_ascii_case("<Location") => httpd::text(cmd_ref.path),
                Some(sec) => {
                    return error_string(cmd, &format!("{name} is not allowed inside {sec}>: use it at server level or inside <Location>"))
                }
            };
            let Some(settings) = settings_of(s) else {
                return fallback;
            };
            let pconf = cmd_ref.pool;
            let resolve = |p: &str| -> PathBuf {
                let Ok(c) = CString::new(p) else {
                    return PathBuf::from(p);
                };
                match httpd::text(ffi::ap_server_root_relative(pconf, c.as_ptr())) {
                    Some(full) => PathBuf::from(full),
                    None => PathBuf::from(p),
                }
            };
            let main_server = (*s).is_virtual == 0;
            let ctx = DirectiveContext {
                origin,
                location,
                main_server,
            };
            match settings.apply(d, &ctx, &words, &resolve) {
                Ok(()) => ptr::null(),
                Err(msg) => error_string(cmd, &msg),
            }
        }
    })
}

/// The enclosing section (`<Location`, `<Directory`, …) of a directive, if any.
///
/// # Safety
/// `dir` is NULL or a live directive of the configuration tree.
unsafe fn section_of(dir: *const ffi::ap_directive_t) -> Option<String> {
    // SAFETY: parent pointers of the config tree are live while it is being processed.
    unsafe {
        if dir.is_null() || (*dir).parent.is_null() {
            return None;
        }
        let name = httpd::text((*(*dir).parent).directive)?;
        // <VirtualHost> is server-level for our directives.
        (!name.eq_ignore_ascii_case("<VirtualHost")).then(|| name.to_string())
    }
}

/// # Safety
/// `cmd` is live; the message is copied into its pool.
unsafe fn error_string(cmd: *mut ffi::cmd_parms, msg: &str) -> *const c_char {
    // SAFETY: cmd->pool lives for the configuration generation.
    unsafe { pool::strdup((*cmd).pool, msg.as_bytes()) }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_cmd_take1(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    a1: *const c_char,
) -> *const c_char {
    // SAFETY: httpd calls this with a live cmd and a NUL-terminated argument.
    unsafe { directive(cmd, &[a1]) }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_cmd_take12(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    a1: *const c_char,
    a2: *const c_char,
) -> *const c_char {
    // SAFETY: as above; a2 is NULL when the second word is absent.
    unsafe { directive(cmd, &[a1, a2]) }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_cmd_raw(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    args: *const c_char,
) -> *const c_char {
    // SAFETY: as above; args is the rest of the line.
    unsafe { directive(cmd, &[args]) }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_cmd_flag(
    cmd: *mut ffi::cmd_parms,
    _m: *mut c_void,
    on: c_int,
) -> *const c_char {
    let word: &CStr = if on != 0 { c"On" } else { c"Off" };
    // SAFETY: as above.
    unsafe { directive(cmd, &[word.as_ptr()]) }
}

// ---------------------------------------------------------------- life cycle

/// The runtime of the current configuration generation (null before post_config).
static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(null_mut());

pub fn runtime() -> Option<&'static Runtime> {
    let p = RUNTIME.load(Ordering::Acquire);
    // SAFETY: the pointer is set in post_config to a Runtime owned by pconf and reset to null by
    // pconf's cleanup before that Runtime is dropped; children never run that cleanup.
    unsafe { p.as_ref() }
}

unsafe extern "C" fn clear_runtime(_data: *mut c_void) -> ffi::apr_status_t {
    let rt = RUNTIME.swap(null_mut(), Ordering::AcqRel);
    // A cleanup is called by C: no panic may unwind out of it.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the Runtime is still alive (it is dropped by the next cleanup); the retained
        // block is plain data in httpd's process pool, which outlives every configuration.
        unsafe {
            if let (Some(rt), Some(block)) = (rt.as_ref(), retained_block()) {
                *block = rt.shared.retain();
            }
        }
    }));
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// httpd's retained data for our shared memory: plain data that survives restarts (and the
/// reload of this DSO), describing the mapping the next generation takes over.
fn retained_block() -> Option<&'static mut RetainedShm> {
    const KEY: &CStr = c"jk_rs_shm";
    // SAFETY: ap_retained_data_* return a zeroed block of the requested size from the process
    // pool (or the existing one); RetainedShm is plain repr(C) data for which all-zero is NONE.
    // Only the single-threaded parent touches it (post_config and pconf cleanup).
    unsafe {
        let mut p = ffi::ap_retained_data_get(KEY.as_ptr());
        if p.is_null() {
            p = ffi::ap_retained_data_create(
                KEY.as_ptr(),
                std::mem::size_of::<RetainedShm>() as ffi::apr_size_t,
            );
        }
        p.cast::<RetainedShm>().as_mut()
    }
}

/// The previous generation's shared state, if one was handed over.
fn previous_shared_state(s: *const ffi::server_rec) -> Option<SharedState> {
    let block = retained_block()?;
    let handed = std::mem::take(block);
    if !handed.is_present() {
        return None;
    }
    // SAFETY: the block was written by clear_runtime of this process (or of the parent it was
    // forked from) from a live SharedState; from_retained validates it before use.
    match unsafe { SharedState::from_retained(handed) } {
        Ok(old) => Some(old),
        Err(e) => {
            // SAFETY: s is live.
            unsafe {
                log::server(
                    s,
                    ffi::APLOG_WARNING as c_int,
                    &format!("mod_jk_rs: worker state not carried over the restart: {e}"),
                )
            };
            None
        }
    }
}

unsafe extern "C" fn clear_active(_data: *mut c_void) -> ffi::apr_status_t {
    ACTIVE.store(null_mut(), Ordering::Release);
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// Every server_rec of the configuration (main server first).
///
/// # Safety
/// `s` is the main server of a live configuration.
unsafe fn servers(s: *mut ffi::server_rec) -> Vec<*mut ffi::server_rec> {
    let mut all = Vec::new();
    let mut cur = s;
    while !cur.is_null() {
        all.push(cur);
        // SAFETY: the server list is live for the configuration's life.
        cur = unsafe { (*cur).next };
    }
    all
}

fn server_root() -> String {
    // SAFETY: ap_server_root is a global string set before any configuration is read.
    unsafe { httpd::text(ffi::ap_server_root).unwrap_or("/").to_string() }
}

/// A configuration generation: the workers and each server's finished configuration.
struct Generation {
    workers: crate::config::Workers,
    vhosts: Vec<(*mut ffi::server_rec, Arc<VhostConfig>)>,
    warnings: Vec<String>,
}

/// Loads workers and finishes every server's configuration; all errors, with file:line.
///
/// # Safety
/// `s` is the main server of a live configuration.
unsafe fn build_generation(s: *mut ffi::server_rec) -> Result<Generation, Vec<ConfigError>> {
    // SAFETY: s is live; settings are only read here.
    let main = unsafe { settings_of(s) }.ok_or_else(Vec::new)?.clone();
    let mut workers = runtime::load_workers(&main, &server_root())?;
    let mut warnings: Vec<String> = workers.warnings.drain(..).map(|w| w.to_string()).collect();
    let mut vhosts = Vec::new();
    let mut errors = Vec::new();
    // SAFETY: s is the main server.
    for (i, srv) in unsafe { servers(s) }.into_iter().enumerate() {
        // SAFETY: srv is live.
        let Some(own) = (unsafe { settings_of(srv) }) else {
            continue;
        };
        warnings.extend(own.warnings.iter().cloned());
        match VhostConfig::build(&workers, &main, own, i == 0) {
            Ok((cfg, w)) => {
                warnings.extend(w.iter().map(|w| w.to_string()));
                vhosts.push((srv, Arc::new(cfg)));
            }
            Err(e) => errors.extend(e),
        }
    }
    if main.indicators.request_id.is_some() {
        warnings.push(
            "JkRequestIdIndicator is accepted; correlate with ErrorLogFormat %L (mod_unique_id's \
             request id) and the notes JK_WORKER_NAME, JK_WORKER_ROUTE, JK_REQUEST_DURATION"
                .to_string(),
        );
    }
    warnings.sort();
    warnings.dedup();
    if errors.is_empty() {
        Ok(Generation {
            workers,
            vhosts,
            warnings,
        })
    } else {
        Err(errors)
    }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_pre_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
) -> c_int {
    // The DSO may stay mapped across a reload (glibc keeps objects with TLS destructors), so
    // forget which record was loaded when this configuration ends.
    // SAFETY: pconf is the live configuration pool.
    unsafe {
        ffi::apr_pool_cleanup_register(
            pconf,
            ptr::null(),
            Some(clear_active),
            Some(ffi::apr_pool_cleanup_null),
        )
    };
    ffi::OK as c_int
}

fn log_config_errors(s: *const ffi::server_rec, errors: &[ConfigError]) {
    for e in errors {
        // SAFETY: s is the live main server.
        unsafe {
            log::server(
                s,
                (ffi::APLOG_EMERG | ffi::APLOG_STARTUP) as c_int,
                &format!("mod_jk_rs: {e}"),
            )
        };
    }
}

/// Validates the whole configuration, workers.properties included, on every load — also under
/// `apachectl -t` and before a graceful restart — so mistakes fail fast with file:line.
#[no_mangle]
pub unsafe extern "C" fn jk_rs_check_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    let fail = ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
    guard("check_config", s, fail, || {
        // SAFETY: s is the main server httpd passes.
        match unsafe { build_generation(s) } {
            Ok(generation) => {
                // Under `apachectl -t` post_config never runs: show the warnings here.
                // SAFETY: ap_state_query only reads httpd's state.
                let testing = unsafe { ffi::ap_state_query(ffi::AP_SQ_RUN_MODE as c_int) }
                    == ffi::AP_SQ_RM_CONFIG_TEST as c_int;
                if testing {
                    for w in &generation.warnings {
                        // SAFETY: s is live.
                        unsafe {
                            log::server(
                                s,
                                (ffi::APLOG_WARNING | ffi::APLOG_STARTUP) as c_int,
                                &format!("mod_jk_rs: {w}"),
                            )
                        };
                    }
                }
                ffi::OK as c_int
            }
            Err(errors) => {
                log_config_errors(s, &errors);
                fail
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_post_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    let fail = ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
    guard("post_config", s, fail, || {
        // SAFETY: s is the main server; the parent is single-threaded here.
        let generation = match unsafe { build_generation(s) } {
            Ok(v) => v,
            Err(errors) => {
                log_config_errors(s, &errors);
                return fail;
            }
        };
        // Warnings once, now that the error log is open (check_config runs before it is).
        for w in &generation.warnings {
            // SAFETY: s is live.
            unsafe { log::server(s, ffi::APLOG_WARNING as c_int, &format!("mod_jk_rs: {w}")) };
        }
        let mut logs: std::collections::HashMap<PathBuf, Arc<JkLogFile>> =
            std::collections::HashMap::new();
        for (srv, cfg) in generation.vhosts {
            // SAFETY: srv is live; nothing else references its settings now.
            if let Some(settings) = unsafe { settings_of(srv) } {
                match open_jk_log(settings, &mut logs) {
                    Ok(Some(log)) => {
                        let _ = cfg.log.set(log);
                    }
                    Ok(None) => {}
                    // SAFETY: s is live.
                    Err(msg) => unsafe {
                        log::server(s, ffi::APLOG_WARNING as c_int, &format!("mod_jk_rs: {msg}"))
                    },
                }
                settings.vhost = Some(cfg);
            }
        }
        let mut threads: c_int = 1;
        // SAFETY: ap_mpm_query writes one int.
        let rv = unsafe { ffi::ap_mpm_query(ffi::AP_MPMQ_MAX_THREADS as c_int, &mut threads) };
        if rv != ffi::APR_SUCCESS as c_int || threads < 1 {
            threads = 1;
        }
        // SAFETY: s is live.
        let shm_file = unsafe { settings_of(s) }.and_then(|m| m.shm_file.clone());
        let previous = previous_shared_state(s);
        let rt = match Runtime::new(
            generation.workers,
            threads as usize,
            shm_file.as_deref(),
            previous,
        ) {
            Ok(mut rt) => {
                rt.lb_notes = config_mentions(b"JK_LB_");
                rt
            }
            Err(e) => {
                // SAFETY: s is live.
                unsafe {
                    log::server(
                        s,
                        (ffi::APLOG_EMERG | ffi::APLOG_STARTUP) as c_int,
                        &format!("mod_jk_rs: {e}"),
                    )
                };
                return fail;
            }
        };
        // SAFETY: pconf is live. Cleanups run in reverse order: the pointer is cleared before
        // the Runtime is dropped.
        unsafe {
            let raw = pool::leak_into(pconf, rt);
            ffi::apr_pool_cleanup_register(
                pconf,
                ptr::null(),
                Some(clear_runtime),
                Some(ffi::apr_pool_cleanup_null),
            );
            RUNTIME.store(raw, Ordering::Release);
        }
        ffi::OK as c_int
    })
}

/// True in a child whose JkWatchdogInterval thread runs maintenance (requests then need not).
static WATCHDOG_RUNNING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn watchdog_running() -> bool {
    WATCHDOG_RUNNING.load(Ordering::Relaxed)
}

/// Set by the child's pool cleanup: the watchdog thread ends at its next wake-up.
static WATCHDOG_STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

unsafe extern "C" fn stop_watchdog(_data: *mut c_void) -> ffi::apr_status_t {
    WATCHDOG_STOP.store(true, Ordering::Release);
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// `JkWatchdogInterval` > 0: one thread per child runs maintenance every interval (lb decay and
/// recovery, elected once across processes; this child's idle connections). It only touches the
/// Runtime, which lives until the child exits, and never an httpd structure.
fn start_watchdog(pchild: *mut ffi::apr_pool_t, interval: std::time::Duration) {
    WATCHDOG_STOP.store(false, Ordering::Release);
    let spawned = std::thread::Builder::new()
        .name("jk_rs-watchdog".into())
        .spawn(move || {
            let step = std::time::Duration::from_millis(100);
            let mut waited = std::time::Duration::ZERO;
            while !WATCHDOG_STOP.load(Ordering::Acquire) {
                std::thread::sleep(step);
                waited += step;
                if waited >= interval {
                    waited = std::time::Duration::ZERO;
                    if let Some(rt) = runtime() {
                        let _ = catch_unwind(AssertUnwindSafe(|| rt.maintain()));
                    }
                }
            }
        });
    if spawned.is_ok() {
        WATCHDOG_RUNNING.store(true, Ordering::Relaxed);
        // SAFETY: pchild is the child's pool; the cleanup only flips a flag.
        unsafe {
            ffi::apr_pool_cleanup_register(
                pchild,
                ptr::null(),
                Some(stop_watchdog),
                Some(ffi::apr_pool_cleanup_null),
            )
        };
    }
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_child_init(pchild: *mut ffi::apr_pool_t, s: *mut ffi::server_rec) {
    // Connection pools start empty in every child: nothing was connected in the parent.
    guard("child_init", s, (), || {
        // SAFETY: s is the main server.
        let interval = unsafe { settings_of(s) }
            .and_then(|m| m.watchdog_interval)
            .unwrap_or(0);
        if interval > 0 && runtime().is_some() {
            start_watchdog(pchild, std::time::Duration::from_secs(interval));
        }
    })
}

/// The server's `JkLogFile`, opened once per path (created mode 0640 by the parent, inherited
/// by the children). A piped log is not supported: its messages stay in httpd's ErrorLog.
fn open_jk_log(
    settings: &ServerSettings,
    opened: &mut std::collections::HashMap<PathBuf, Arc<JkLogFile>>,
) -> Result<Option<Arc<JkLogFile>>, String> {
    let Some(file) = &settings.log_file else {
        return Ok(None);
    };
    if file.starts_with('|') {
        return Err(format!(
            "JkLogFile \"{file}\": piped logs are not supported; messages go to httpd's ErrorLog"
        ));
    }
    let path = PathBuf::from(server_root()).join(file);
    if let Some(log) = opened.get(&path) {
        return Ok(Some(Arc::clone(log)));
    }
    let level = settings
        .log_level
        .as_deref()
        .and_then(JkLevel::parse)
        .unwrap_or(JkLevel::Info);
    let format = settings
        .request_log_format
        .as_deref()
        .map(RequestLogFormat::parse)
        .transpose()?;
    let log = JkLogFile::open(&path, level, settings.log_stamp_format.as_deref(), format).map_err(
        |e| {
            format!(
                "cannot open JkLogFile {}: {e}; messages go to httpd's ErrorLog",
                path.display()
            )
        },
    )?;
    let log = Arc::new(log);
    opened.insert(path, Arc::clone(&log));
    Ok(Some(log))
}

/// Whether any directive's arguments in the whole configuration contain `needle`.
fn config_mentions(needle: &[u8]) -> bool {
    fn walk(node: *const ffi::ap_directive_t, needle: &[u8], depth: usize) -> bool {
        let mut cur = node;
        while !cur.is_null() && depth < 64 {
            // SAFETY: the configuration tree lives in pconf for this whole generation and is
            // only read here, in the single-threaded parent.
            let d = unsafe { &*cur };
            // SAFETY: args is NULL or a NUL-terminated string of the tree.
            if let Some(args) = unsafe { httpd::bytes(d.args) } {
                if args.windows(needle.len()).any(|w| w == needle) {
                    return true;
                }
            }
            if walk(d.first_child, needle, depth + 1) {
                return true;
            }
            cur = d.next;
        }
        false
    }
    // SAFETY: ap_conftree is set while the configuration is read and stays valid with pconf.
    walk(unsafe { ffi::ap_conftree }, needle, 0)
}

/// The finished configuration of a server (main or virtual host).
pub fn vhost_of(s: *const ffi::server_rec) -> Option<Arc<VhostConfig>> {
    // SAFETY: s is a live server_rec; settings are read-only after post_config.
    unsafe { settings_of(s) }.and_then(|settings| settings.vhost.clone())
}

/// Runs a request hook under `guard`.
pub fn request_hook(
    what: &str,
    r: *mut ffi::request_rec,
    fallback: c_int,
    f: impl FnOnce(Request<'_>) -> c_int,
) -> c_int {
    // SAFETY: r is the live request of the current hook call.
    let Some(req) = (unsafe { Request::from_raw(r) }) else {
        return fallback;
    };
    let s = req.server();
    guard(what, s, fallback, move || f(req))
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_translate_name(r: *mut ffi::request_rec) -> c_int {
    request_hook(
        "translate_name",
        r,
        ffi::DECLINED,
        crate::handler::translate,
    )
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_map_to_storage(r: *mut ffi::request_rec) -> c_int {
    request_hook(
        "map_to_storage",
        r,
        ffi::DECLINED,
        crate::handler::map_to_storage,
    )
}

#[no_mangle]
pub unsafe extern "C" fn jk_rs_handler(r: *mut ffi::request_rec) -> c_int {
    request_hook(
        "handler",
        r,
        ffi::HTTP_INTERNAL_SERVER_ERROR as c_int,
        crate::handler::handle,
    )
}
