//! The FFI layer: bindgen's view of httpd/APR (generated from `apache-headers/wrapper.h` by
//! `build.rs`) plus the declarations of the C shim's functions. No logic lives here.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
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

/// The hook functions `shim.c` registers with httpd (`struct jk_rs_hooks` there).
#[repr(C)]
pub struct jk_rs_hooks {
    pub pre_config:
        unsafe extern "C" fn(*mut apr_pool_t, *mut apr_pool_t, *mut apr_pool_t) -> c_int,
    pub check_config: unsafe extern "C" fn(
        *mut apr_pool_t,
        *mut apr_pool_t,
        *mut apr_pool_t,
        *mut server_rec,
    ) -> c_int,
    pub post_config: unsafe extern "C" fn(
        *mut apr_pool_t,
        *mut apr_pool_t,
        *mut apr_pool_t,
        *mut server_rec,
    ) -> c_int,
    pub child_init: unsafe extern "C" fn(*mut apr_pool_t, *mut server_rec),
    pub translate_name: unsafe extern "C" fn(*mut request_rec) -> c_int,
    pub map_to_storage: unsafe extern "C" fn(*mut request_rec) -> c_int,
    pub handler: unsafe extern "C" fn(*mut request_rec) -> c_int,
}

unsafe extern "C" {
    pub fn jk_rs_register_hooks(hooks: *const jk_rs_hooks);
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
