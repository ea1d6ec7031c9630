//! Where the module's messages about a request go: the server's `JkLogFile` when one is set
//! (as mod_jk writes everything about a request there), else httpd's error log.
use crate::directives::VhostConfig;
use crate::httpd::{time, LogLevel, Request};
use crate::jklog::Level;

/// Whether a message at `level` about `req` would be written.
pub fn enabled(req: &Request<'_>, cfg: Option<&VhostConfig>, level: Level) -> bool {
    match cfg.and_then(|c| c.log.get()) {
        Some(jk) => jk.enabled(level),
        None => req.log_enabled(LogLevel::from(level)),
    }
}

/// Logs `msg` about `req` at `level`.
pub fn log(req: &Request<'_>, cfg: Option<&VhostConfig>, level: Level, msg: &str) {
    match cfg.and_then(|c| c.log.get()) {
        Some(jk) if jk.enabled(level) => jk.client_message(
            &time::now_local(),
            level,
            time::thread_id(),
            req.useragent_ip(),
            msg,
        ),
        Some(_) => {}
        None => req.log(LogLevel::from(level), msg),
    }
}
