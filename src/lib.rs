//! mod_jk_rs: an Apache httpd 2.4 module that speaks AJP13 to Tomcat, configured with mod_jk's own
//! directives and files. See `../shared/ARCHITECTURE.md` for the layers: `ffi` (bindings + C shim),
//! `httpd` and `module` (the shell), and the core (`ajp`, `config`, `mount`, `backend`, `service`,
//! `settings`, `runtime`, `uri`), which never sees an httpd pointer.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod ajp;
pub mod backend;
pub mod balancer;
pub mod config;
pub mod digits;
pub mod jklog;
pub mod lb_service;
pub mod mount;
pub mod options;
pub mod runtime;
pub mod service;
pub mod settings;
pub mod shm;
pub mod status;
pub mod uri;
pub mod vhost;

mod ffi;
mod handler;
mod httpd;
mod module;
