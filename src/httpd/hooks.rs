//! The hooks as httpd calls them: each `extern "C"` entry point turns its raw pointers into
//! the safe wrappers and runs the module's hook under `guard` (a panic is logged and becomes
//! the hook's fallback).
use super::module::{guard, Module, Status, ACTIVE};
use super::{Pool, Request, Server};
use crate::ffi;
use std::os::raw::c_int;
use std::ptr::null_mut;
use std::sync::atomic::Ordering;

/// `M`'s hooks, for the shim to register.
pub(crate) fn table<M: Module>() -> ffi::jk_rs_hooks {
    ffi::jk_rs_hooks {
        pre_config,
        check_config: check_config::<M>,
        post_config: post_config::<M>,
        child_init: child_init::<M>,
        translate_name: translate_name::<M>,
        map_to_storage: map_to_storage::<M>,
        handler: handler::<M>,
    }
}

fn forget_active() {
    ACTIVE.store(null_mut(), Ordering::Release);
}

unsafe extern "C" fn pre_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
) -> c_int {
    guard("pre_config", std::ptr::null(), Status::SERVER_ERROR, || {
        // SAFETY: pconf is the live configuration pool.
        let Some(pool) = (unsafe { Pool::from_raw(pconf) }) else {
            return Status::SERVER_ERROR;
        };
        // The DSO may stay mapped across a reload (glibc keeps objects with TLS destructors),
        // so forget which record was loaded when this configuration ends.
        pool.on_cleanup(forget_active);
        Status::OK
    })
    .code()
}

unsafe extern "C" fn check_config<M: Module>(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    guard("check_config", s, Status::SERVER_ERROR, || {
        // SAFETY: s is the main server httpd passes, live for the configuration.
        match unsafe { Server::from_raw(s) } {
            Some(server) => M::check_config(server),
            None => Status::SERVER_ERROR,
        }
    })
    .code()
}

unsafe extern "C" fn post_config<M: Module>(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    guard("post_config", s, Status::SERVER_ERROR, || {
        // SAFETY: pconf and s are live for the hook call (and the configuration generation).
        match unsafe { (Pool::from_raw(pconf), Server::from_raw(s)) } {
            (Some(pool), Some(server)) => M::post_config(pool, server),
            _ => Status::SERVER_ERROR,
        }
    })
    .code()
}

unsafe extern "C" fn child_init<M: Module>(pchild: *mut ffi::apr_pool_t, s: *mut ffi::server_rec) {
    guard("child_init", s, (), || {
        // SAFETY: pchild lives until the child exits; s is the live main server.
        if let (Some(pool), Some(server)) = unsafe { (Pool::from_raw(pchild), Server::from_raw(s)) }
        {
            M::child_init(pool, server);
        }
    })
}

/// Runs a request hook: the request as a safe `Request`, the body under `guard`.
///
/// # Safety
/// `r` is the live request of the current hook call.
unsafe fn request_hook<F: FnOnce(Request<'_>) -> Status>(
    what: &str,
    r: *mut ffi::request_rec,
    fallback: Status,
    f: F,
) -> c_int {
    // SAFETY: the caller's contract.
    let Some(req) = (unsafe { Request::from_raw(r) }) else {
        return fallback.code();
    };
    let s = req.server().as_ptr();
    guard(what, s, fallback, move || f(req)).code()
}

unsafe extern "C" fn translate_name<M: Module>(r: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request.
    unsafe { request_hook("translate_name", r, Status::DECLINED, M::translate_name) }
}

unsafe extern "C" fn map_to_storage<M: Module>(r: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request.
    unsafe { request_hook("map_to_storage", r, Status::DECLINED, M::map_to_storage) }
}

unsafe extern "C" fn handler<M: Module>(r: *mut ffi::request_rec) -> c_int {
    // SAFETY: httpd passes the live request.
    unsafe { request_hook("handler", r, Status::SERVER_ERROR, M::handler) }
}
