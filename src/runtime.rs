//! What a generation of the configuration becomes once httpd has read it all: the workers (from
//! workers.properties and `JkWorkerProperty`), each server's URI map, and per process the AJP
//! backends with their connection pools. Built and validated at `check_config` (so `apachectl -t`
//! reports every mistake with `file:line`), rebuilt at `post_config`, then read-only.
#![forbid(unsafe_code)]

use crate::backend::Backend;
use crate::config::{ConfigError, Origin, Properties, WorkerDef, Workers};
use crate::mount::{parse_mount, MountMap, MountRule, MountSource};
use crate::settings::ServerSettings;
use std::collections::HashMap;

pub struct Runtime {
    pub workers: Workers,
    backends: HashMap<String, Backend>,
}

/// Reads workers.properties and the `JkWorkerProperty` lines of the main server.
pub fn load_workers(main: &ServerSettings, server_root: &str) -> Result<Workers, Vec<ConfigError>> {
    let mut props = Properties::new();
    props.define("ServerRoot", server_root);
    if let Some((path, _)) = &main.workers_file {
        props.parse_file(path).map_err(|e| vec![e])?;
    }
    for (line, origin) in &main.worker_properties {
        props.add_line(line, origin.clone()).map_err(|e| vec![e])?;
    }
    Workers::build(&props)
}

/// Mount rules from `worker.<name>.mount` (they belong to the main server).
fn worker_mounts(workers: &Workers) -> Result<Vec<MountRule>, Vec<ConfigError>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for def in workers.defs.values() {
        if let WorkerDef::Ajp13(w) = def {
            for pattern in &w.mount {
                let origin = Origin {
                    file: "workers.properties".into(),
                    line: 0,
                };
                match parse_mount(
                    pattern,
                    &w.name,
                    MountSource::WorkerDefinition,
                    origin,
                    false,
                ) {
                    Ok(r) => rules.extend(r),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The URI map of one server; every rule must name a worker in `worker.list` (or `*` for an
/// exclusion).
pub fn build_map(
    workers: &Workers,
    server: &ServerSettings,
    is_main: bool,
) -> Result<MountMap, Vec<ConfigError>> {
    let mut rules = server.mounts.clone();
    if is_main {
        rules.extend(worker_mounts(workers)?);
    }
    let mut errors = Vec::new();
    for rule in &rules {
        if rule.exclusion && rule.worker == "*" {
            continue;
        }
        if workers.get(&rule.worker).is_none() {
            errors.push(ConfigError {
                origin: rule.origin.clone(),
                message: format!(
                    "'{}' is mounted to worker '{}', which is not defined",
                    rule.pattern, rule.worker
                ),
            });
        } else if !workers.is_listed(&rule.worker) && !rule.exclusion {
            errors.push(ConfigError {
                origin: rule.origin.clone(),
                message: format!(
                    "'{}' is mounted to worker '{}', which is not in worker.list (only listed workers can be mounted)",
                    rule.pattern, rule.worker
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(MountMap::new(rules))
    } else {
        Err(errors)
    }
}

impl Runtime {
    /// Per-process state for `workers`; pools default to `default_pool_size` connections (the
    /// MPM's threads per child, as mod_jk).
    pub fn new(workers: Workers, default_pool_size: usize) -> Runtime {
        let mut backends = HashMap::new();
        for (name, def) in &workers.defs {
            if let WorkerDef::Ajp13(w) = def {
                backends.insert(name.clone(), Backend::new(w.clone(), default_pool_size));
            }
        }
        Runtime { workers, backends }
    }

    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.get(name)
    }
}
