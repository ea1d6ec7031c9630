//! What a generation of the configuration becomes once httpd has read it all: the workers (from
//! workers.properties and `JkWorkerProperty`), each server's URI map, and per process the AJP
//! backends with their connection pools. Built and validated at `check_config` (so `apachectl -t`
//! reports every mistake with `file:line`), rebuilt at `post_config`, then read-only.
#![forbid(unsafe_code)]

use crate::backend::Backend;
use crate::config::{ConfigError, Properties, WorkerDef, Workers};
use crate::settings::ServerSettings;
use std::collections::HashMap;

pub struct Runtime {
    pub workers: Workers,
    backends: HashMap<String, Backend>,
}

/// Reads workers.properties and the `JkWorkerProperty` lines of the main server; parse-time
/// warnings (duplicates, deprecated names) join the workers' own.
pub fn load_workers(main: &ServerSettings, server_root: &str) -> Result<Workers, Vec<ConfigError>> {
    let mut props = Properties::new();
    props.define("ServerRoot", server_root);
    if let Some((path, _)) = &main.workers_file {
        props.parse_file(path).map_err(|e| vec![e])?;
    }
    for (line, origin) in &main.worker_properties {
        props.add_line(line, origin.clone()).map_err(|e| vec![e])?;
    }
    let mut workers = Workers::build(&props)?;
    let mut warnings = props.warnings().to_vec();
    warnings.append(&mut workers.warnings);
    workers.warnings = warnings;
    Ok(workers)
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
