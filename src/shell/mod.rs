//! The shell: what the module does at each point httpd calls it, in safe Rust over the
//! `httpd` wrappers — directives, the configuration life cycle (check, post config, child
//! init, the state handed over between generations), the request hooks (translate,
//! map_to_storage, the `jakarta-servlet` handler) and the watchdog thread. It decides nothing
//! a core module can decide: it reads httpd, calls the core, and writes httpd.
#![forbid(unsafe_code)]

mod directives;
mod handler;
mod jk_log;
mod lifecycle;
mod persist;
mod request_log;
mod source;
mod status;
mod translate;
mod watchdog;

use crate::directives::{ServerSettings, VhostConfig};
use crate::httpd::{CmdParms, Module, Pool, Request, Server, Status};
use std::sync::OnceLock;

/// The module as httpd's records present it (`jk_module` / `jk_rs_module`).
pub struct JkModule;

/// One server's configuration: its directives' settings, and what it uses at request time
/// once the whole configuration is read (set by post_config).
#[derive(Default)]
pub struct ServerConfig {
    pub settings: ServerSettings,
    pub finished: OnceLock<VhostConfig>,
}

impl Module for JkModule {
    type ServerConfig = ServerConfig;

    fn merge_server_config(base: &ServerConfig, add: &ServerConfig) -> ServerConfig {
        ServerConfig {
            settings: ServerSettings::merge(&base.settings, &add.settings),
            finished: OnceLock::new(),
        }
    }

    fn directive(cmd: &mut CmdParms<'_>, id: usize, args: &[&str]) -> Result<(), String> {
        directives::apply(cmd, id, args)
    }

    fn check_config(s: Server<'_>) -> Status {
        lifecycle::check_config(s)
    }

    fn post_config(pconf: Pool<'_>, s: Server<'_>) -> Status {
        lifecycle::post_config(pconf, s)
    }

    fn child_init(pchild: Pool<'_>, s: Server<'_>) {
        lifecycle::child_init(pchild, s)
    }

    fn translate_name(r: Request<'_>) -> Status {
        translate::translate(r)
    }

    fn map_to_storage(r: Request<'_>) -> Status {
        translate::map_to_storage(r)
    }

    fn handler(r: Request<'_>) -> Status {
        handler::handle(r)
    }
}

/// This module's configuration of server `s`.
fn config_of<'s>(s: &Server<'s>) -> Option<&'s ServerConfig> {
    s.config::<JkModule>()
}

/// The finished request-time configuration of server `s`.
fn vhost_of<'s>(s: &Server<'s>) -> Option<&'s VhostConfig> {
    config_of(s).and_then(|c| c.finished.get())
}
