//! The FFI layer: bindgen's view of httpd/APR (generated from `apache-headers/wrapper.h` by
//! `build.rs`) plus the declarations of the C shim's functions. No logic lives here.
#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    clippy::all,
    clippy::pedantic,
    unsafe_op_in_unsafe_fn,
    improper_ctypes,
    unnecessary_transmutes
)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use std::os::raw::{c_char, c_int};

unsafe extern "C" {
    /// The directive table built with the `AP_INIT_*` macros in `shim.c`.
    pub static jk_rs_cmds: command_rec;
    pub fn jk_rs_register_hooks(p: *mut apr_pool_t);
    pub fn jk_rs_log_error(
        file: *const c_char,
        line: c_int,
        module_index: c_int,
        level: c_int,
        status: apr_status_t,
        s: *const server_rec,
        msg: *const c_char,
    );
    pub fn jk_rs_log_rerror(
        file: *const c_char,
        line: c_int,
        module_index: c_int,
        level: c_int,
        status: apr_status_t,
        r: *const request_rec,
        msg: *const c_char,
    );
    pub fn jk_rs_brigade_insert_tail(bb: *mut apr_bucket_brigade, e: *mut apr_bucket);
    pub fn jk_rs_brigade_is_empty(bb: *mut apr_bucket_brigade) -> c_int;
    pub fn jk_rs_brigade_last_is_eos(bb: *mut apr_bucket_brigade) -> c_int;
}
