//! The module records httpd loads — the one place the httpd layer names the shell: its
//! [`Module`](super::Module) implementation and its list of directives become two records
//! (and their command table). Only these two symbols are exported from the `.so`.
use super::cmd::CommandTable;
use super::module::{record, register};
use crate::directives::LIST;
use crate::ffi;
use crate::shell::JkModule;

/// httpd's command table: every directive of the list, then the empty terminator.
static COMMANDS: CommandTable<{ LIST.len() + 1 }> = CommandTable::new::<JkModule>(&LIST);

/// `LoadModule jk_rs_module …/mod_jk_rs.so`: our own name (`LogLevel jk_rs:debug`).
#[no_mangle]
pub static mut jk_rs_module: ffi::module =
    record::<JkModule>(c"mod_jk_rs.c", COMMANDS.as_ptr(), register_as_jk_rs);

/// `LoadModule jk_module …/mod_jk_rs.so`: the drop-in name, so existing `<IfModule jk_module>`
/// and `<IfModule mod_jk.c>` blocks are entered and `LogLevel jk:debug` works.
#[no_mangle]
pub static mut jk_module: ffi::module =
    record::<JkModule>(c"mod_jk.c", COMMANDS.as_ptr(), register_as_jk);

unsafe extern "C" fn register_as_jk_rs(_p: *mut ffi::apr_pool_t) {
    // SAFETY: httpd calls this as jk_rs_module's register_hooks.
    unsafe { register::<JkModule>(&raw mut jk_rs_module) }
}

unsafe extern "C" fn register_as_jk(_p: *mut ffi::apr_pool_t) {
    // SAFETY: httpd calls this as jk_module's register_hooks.
    unsafe { register::<JkModule>(&raw mut jk_module) }
}
