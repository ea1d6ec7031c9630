//! mod_jk_rs: an Apache httpd 2.4 module that speaks AJP13 to Tomcat, configured with mod_jk's
//! own directives and files. `ARCHITECTURE.md` (at the top of the repository) describes the
//! layers: `ffi` (bindings + C shim) and `httpd` (the only safe wrappers over httpd and APR,
//! where all of the shell's `unsafe` lives), `shell` (the hooks and directives, safe Rust), and
//! the core (`ajp`, `backend`, `balancer`, `config`, `directives`, `gather`, `mount`, `proxy`,
//! `shm`, …), which never sees an httpd pointer and builds without httpd's headers.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod ajp;
pub mod backend;
pub mod balancer;
pub mod config;
pub mod decimal;
pub mod directives;
pub mod gather;
pub mod jklog;
pub mod mount;
pub mod proxy;
pub mod scan;
pub mod shm;
pub mod status;
pub mod uri;

/// Pseudo-random numbers for tests: xorshift64, deterministic, so a failure reproduces.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(feature = "httpd")]
mod ffi;
#[cfg(feature = "httpd")]
mod httpd;
#[cfg(feature = "httpd")]
mod shell;
