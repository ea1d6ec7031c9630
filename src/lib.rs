//! mod_jk_rs: an Apache httpd 2.4 module that speaks AJP13 to Tomcat, configured with mod_jk's own
//! directives and files. See `../shared/ARCHITECTURE.md` for the layers: `ffi` (bindings + C shim),
//! `httpd` and `module` (the shell), and the core (`ajp`, `config`, `mount`, `backend`, `balancer`,
//! `shm`, `proxy`, `settings`, `uri`, `jklog`, `decimal`), which never sees an httpd pointer.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod ajp;
pub mod backend;
pub mod balancer;
pub mod config;
pub mod decimal;
pub mod jklog;
pub mod mount;
pub mod options;
pub mod proxy;
pub mod settings;
pub mod shm;
pub mod uri;
pub mod vhost;

mod ffi;
mod handler;
mod httpd;
mod module;
