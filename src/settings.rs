//! Per-server settings (the main server and each `<VirtualHost>`) collected from the `Jk*`
//! directives, and how a virtual host inherits them (mod_jk's rules, reference §1.2).
#![forbid(unsafe_code)]

use crate::config::Origin;
use crate::mount::{parse_mount, MountMap, MountRule, MountSource};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Default, Clone)]
pub struct ServerSettings {
    /// `JkWorkersFile` (global only), resolved against ServerRoot.
    pub workers_file: Option<(PathBuf, Origin)>,
    /// `JkWorkerProperty` lines (global only).
    pub worker_properties: Vec<(String, Origin)>,
    /// `JkMount` / `JkUnMount` rules of this server (not inherited by virtual hosts, as in mod_jk
    /// without `JkMountCopy`).
    pub mounts: Vec<MountRule>,
    pub log_file: Option<String>,
    pub log_level: Option<String>,
    pub shm_file: Option<PathBuf>,
    /// The finished URI map, built after the whole configuration was read.
    pub map: Option<Arc<MountMap>>,
}

/// The directives this module implements; the numbers match `shim.c`'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    WorkersFile = 1,
    WorkerProperty,
    Mount,
    UnMount,
    LogFile,
    LogLevel,
    ShmFile,
}

impl Directive {
    pub fn from_id(id: usize) -> Option<Directive> {
        Some(match id {
            1 => Directive::WorkersFile,
            2 => Directive::WorkerProperty,
            3 => Directive::Mount,
            4 => Directive::UnMount,
            5 => Directive::LogFile,
            6 => Directive::LogLevel,
            7 => Directive::ShmFile,
            _ => return None,
        })
    }
}

/// Where a directive stands.
pub struct DirectiveContext<'a> {
    pub origin: Origin,
    /// The `<Location>` path when the directive is inside one.
    pub location: Option<&'a str>,
}

const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "emerg"];

impl ServerSettings {
    /// A virtual host's settings over the main server's: global settings come from the main
    /// server, mounts stay the virtual host's own, log settings are inherited unless set.
    pub fn merge(base: &ServerSettings, vhost: &ServerSettings) -> ServerSettings {
        ServerSettings {
            workers_file: base.workers_file.clone(),
            worker_properties: base.worker_properties.clone(),
            mounts: vhost.mounts.clone(),
            log_file: vhost.log_file.clone().or_else(|| base.log_file.clone()),
            log_level: vhost.log_level.clone().or_else(|| base.log_level.clone()),
            shm_file: base.shm_file.clone(),
            map: None,
        }
    }

    /// Applies one directive. `args` are httpd's words (TAKE1/TAKE12) or the raw line (RAW_ARGS);
    /// `resolve` turns a path into one relative to ServerRoot. Errors are the message httpd shows
    /// after "Syntax error on line N of FILE:".
    pub fn apply(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        args: &[&str],
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        let first = args.first().copied().unwrap_or("");
        match d {
            Directive::WorkersFile => {
                if let Some((_, prev)) = &self.workers_file {
                    return Err(format!(
                        "JkWorkersFile given twice (first at {}:{})",
                        prev.file, prev.line
                    ));
                }
                let path = resolve(first);
                if !path.is_file() {
                    return Err(format!(
                        "JkWorkersFile '{}' does not exist or is not a file",
                        path.display()
                    ));
                }
                self.workers_file = Some((path, ctx.origin.clone()));
            }
            Directive::WorkerProperty => {
                let line = first.trim();
                if !line.contains('=') {
                    return Err(format!("JkWorkerProperty expects name=value, got '{line}'"));
                }
                self.worker_properties
                    .push((line.to_string(), ctx.origin.clone()));
            }
            Directive::Mount | Directive::UnMount => {
                let name = if d == Directive::Mount {
                    "JkMount"
                } else {
                    "JkUnMount"
                };
                let (pattern, worker) = match (ctx.location, args.get(1)) {
                    (Some(loc), None) => (loc, first),
                    (None, Some(w)) => (first, *w),
                    (Some(_), Some(_)) => {
                        return Err(format!("{name} inside <Location> takes only the worker name (the location is the pattern)"))
                    }
                    (None, None) => return Err(format!("{name} needs a URI pattern and a worker name")),
                };
                let rules = parse_mount(
                    pattern,
                    worker,
                    MountSource::JkMount,
                    ctx.origin.clone(),
                    d == Directive::UnMount,
                )
                .map_err(|e| e.message)?;
                self.mounts.extend(rules);
            }
            Directive::LogFile => self.log_file = Some(first.to_string()),
            Directive::LogLevel => {
                let level = first.to_ascii_lowercase();
                if !LOG_LEVELS.contains(&level.as_str()) {
                    return Err(format!(
                        "JkLogLevel '{first}' is not one of {}",
                        LOG_LEVELS.join(", ")
                    ));
                }
                self.log_level = Some(level);
            }
            Directive::ShmFile => self.shm_file = Some(resolve(first)),
        }
        Ok(())
    }
}
