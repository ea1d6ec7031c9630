//! What a generation of the configuration becomes once httpd has read it all: the workers (from
//! workers.properties and `JkWorkerProperty`), each server's URI map, and per process the AJP
//! backends with their connection pools, the plain workers and the lbs over them (found by name
//! with [`Runtime::target`]). Built and validated at `check_config` (so `apachectl -t`
//! reports every mistake with `file:line`), rebuilt at `post_config`, then read-only.
#![forbid(unsafe_code)]

use super::lb::LbService;
use super::now_ms;
use super::plain_worker::PlainWorker;
use super::target::{Target, TargetError};
use crate::backend::{Backend, OpenConnections};
use crate::balancer::{maintain_all, Balancer};
use crate::config::{ConfigError, Properties, WorkerDef, Workers};
use crate::directives::ServerSettings;
use crate::shm::{Layout, SharedState};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::Arc;

/// Worker names to what serves them. Every request looks its worker up here: FNV-1a hashes a
/// short name in a few instructions per byte where the default SipHash costs ~400 per lookup,
/// and the names come from the administrator's own configuration, not from clients.
type NameMap<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What each worker name goes to, looked up by every request. A configuration has a handful
/// of workers as a rule: up to [`Services::SCAN`] of them, the names are compared in place (the
/// string compare's length test rejects most, no hashing); more go through the map.
struct Services {
    entries: Vec<(String, Service)>,
    index: NameMap<usize>,
}

impl Services {
    const SCAN: usize = 8;

    fn new() -> Services {
        Services {
            entries: Vec::new(),
            index: NameMap::default(),
        }
    }

    /// Adds `name` (a later entry of the same name replaces the earlier one).
    fn insert(&mut self, name: String, service: Service) {
        match self.index.get(&name) {
            Some(&at) => self.entries[at].1 = service,
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push((name, service));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&Service> {
        if self.entries.len() <= Self::SCAN {
            return self.entries.iter().find(|(n, _)| n == name).map(|(_, s)| s);
        }
        self.entries.get(*self.index.get(name)?).map(|(_, s)| s)
    }

    fn values(&self) -> impl Iterator<Item = &Service> {
        self.entries.iter().map(|(_, s)| s)
    }
}

/// The result notes a request leaves for mod_log_config and friends (`%{JK_WORKER_TYPE}n`, …):
/// each costs a table insert (and the duration two clock reads), so each is set only when the
/// configuration mentions it (a LogFormat, a Header, a RewriteCond). `JK_WORKER_NAME` is always
/// set (translate hands the worker over in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultNotes {
    pub worker_type: bool,
    pub route: bool,
    pub duration: bool,
    /// The twenty `JK_LB_FIRST_*`/`JK_LB_LAST_*` notes of an lb request (~1.5k instructions).
    pub lb_members: bool,
}

impl ResultNotes {
    pub const ALL: ResultNotes = ResultNotes {
        worker_type: true,
        route: true,
        duration: true,
        lb_members: true,
    };

    /// The notes whose names `mentioned` finds in the configuration.
    pub fn mentioned(mentioned: impl Fn(&[u8]) -> bool) -> ResultNotes {
        ResultNotes {
            worker_type: mentioned(b"JK_WORKER_TYPE"),
            route: mentioned(b"JK_WORKER_ROUTE"),
            duration: mentioned(b"JK_REQUEST_DURATION"),
            lb_members: mentioned(b"JK_LB_"),
        }
    }
}

/// A worker requests are forwarded to.
enum Service {
    Ajp(PlainWorker),
    Lb(LbService),
}

impl Service {
    fn lb(&self) -> Option<&LbService> {
        match self {
            Service::Lb(lb) => Some(lb),
            Service::Ajp(_) => None,
        }
    }
}

pub struct Runtime {
    pub workers: Workers,
    /// Every ajp13 worker's backend (lb members and plain workers alike).
    backends: NameMap<Arc<Backend>>,
    /// What a request naming a worker goes to: every ajp13 worker directly, and every lb
    /// worker (one map, so one lookup per request).
    services: Services,
    /// Worker state shared by all children (lb members' states, load values, counters).
    pub shared: Arc<SharedState>,
    /// Which result notes requests set (see [`ResultNotes`]).
    pub result_notes: ResultNotes,
    /// Without a watchdog thread: when this process next runs maintenance inline (unix ms).
    next_inline_maintenance: std::sync::atomic::AtomicU64,
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

/// The shared records worker `name` counts in: its plain record and its record in each lb.
fn records_of(workers: &Workers, layout: &Layout, name: &str) -> Vec<usize> {
    let mut records: Vec<usize> = layout.plain_index(name).into_iter().collect();
    for (lb_name, def) in &workers.defs {
        if let WorkerDef::Lb(lb) = def {
            if lb.members.iter().any(|m| m == name) {
                let index = layout
                    .lb_index(lb_name)
                    .and_then(|i| layout.member_index(i, name));
                records.extend(index);
            }
        }
    }
    records
}

impl Runtime {
    /// Per-process state for `workers`, built in the parent before the children are forked:
    /// pools default to `default_pool_size` connections (the MPM's threads per child, as mod_jk);
    /// the shared segment is anonymous unless `shm_file` (JkShmFile) names a file.
    ///
    /// `previous` is the last generation's shared state (graceful or hard restart): counters,
    /// states and run-time edits of workers that still exist carry over.
    pub fn new(
        workers: Workers,
        default_pool_size: usize,
        shm_file: Option<&Path>,
        previous: Option<SharedState>,
    ) -> Result<Runtime, String> {
        let layout =
            Layout::from_workers(&workers).map_err(|e| format!("shared memory layout: {e}"))?;
        let state = match &previous {
            Some(old) => SharedState::adopt(old, shm_file, &layout),
            None => SharedState::create(shm_file, &layout),
        };
        // The previous mapping is unmapped here, in the parent; old children keep theirs.
        drop(previous);
        let shared = Arc::new(state.map_err(|e| format!("shared memory: {e}"))?);
        shared.start_clock(now_ms());
        let mut backends = NameMap::default();
        for (name, def) in &workers.defs {
            if let WorkerDef::Ajp13(w) = def {
                backends.insert(
                    name.clone(),
                    Arc::new(Backend::new(w.clone(), default_pool_size)),
                );
            }
        }
        for (name, backend) in &backends {
            let records = records_of(&workers, shared.layout(), name);
            if let Some(&first) = records.first() {
                backend.follow_settings_in(Arc::clone(&shared), first);
            }
            backend
                .count_connections_in(Arc::new(OpenConnections::new(Arc::clone(&shared), records)));
        }
        let mut services = Services::new();
        for (name, b) in &backends {
            let worker = PlainWorker::new(Arc::clone(b), &shared);
            services.insert(name.clone(), Service::Ajp(worker));
        }
        for (name, def) in &workers.defs {
            if let WorkerDef::Lb(lb) = def {
                let balancer = Balancer::new(Arc::clone(&shared), lb, workers.maintain)
                    .map_err(|e| format!("lb worker {name}: {e}"))?;
                let members = lb
                    .members
                    .iter()
                    .map(|m| {
                        backends.get(m).cloned().ok_or_else(|| {
                            format!("lb worker {name}: member {m} is not an ajp13 worker")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                services.insert(
                    name.clone(),
                    Service::Lb(LbService {
                        balancer,
                        members,
                        shared: Arc::clone(&shared),
                        body_buffer: lb.request_body_buffer,
                    }),
                );
            }
        }
        Ok(Runtime {
            workers,
            backends,
            services,
            shared,
            result_notes: ResultNotes::ALL,
            next_inline_maintenance: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Closes this process's idle pooled connections (a child leaving), so the shared
    /// `connected` figures stay true.
    pub fn close_idle_connections(&self) {
        for backend in self.backends.values() {
            backend.close_idle();
        }
    }

    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.get(name).map(|b| &**b)
    }

    pub fn lb(&self, name: &str) -> Option<&LbService> {
        self.services.get(name)?.lb()
    }

    /// Every lb worker.
    fn lbs(&self) -> impl Iterator<Item = &LbService> {
        self.services.values().filter_map(Service::lb)
    }

    /// The worker a request naming `name` goes to.
    pub fn target(&self, name: &str) -> Result<Target<'_>, TargetError> {
        match self.services.get(name) {
            Some(Service::Ajp(worker)) => return Ok(Target::Ajp(worker)),
            Some(Service::Lb(lb)) => return Ok(Target::Lb(lb)),
            None => {}
        }
        Err(match self.workers.get(name) {
            Some(def) => TargetError::NotServed {
                worker: name.to_owned(),
                type_name: def.type_name(),
            },
            None => TargetError::Unknown {
                worker: name.to_owned(),
            },
        })
    }

    /// `JkWatchdogInterval 0` (the default): maintenance runs on requests, at most once per
    /// `worker.maintain` in this process (one thread wins the slot; the others go on at once).
    /// `said` hears each member maintenance moved into or out of error.
    /// `now`: milliseconds since the epoch (the request's start will do: a request a little
    /// older than now only makes maintenance a moment later).
    pub fn maintain_if_due(&self, now: u64, said: &mut dyn FnMut(bool, String)) {
        use std::sync::atomic::Ordering;
        let interval = self.workers.maintain.as_millis() as u64;
        if interval == 0 {
            return;
        }
        let due = self.next_inline_maintenance.load(Ordering::Relaxed);
        if now >= due
            && self
                .next_inline_maintenance
                .compare_exchange(due, now + interval, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.maintain(said);
        }
    }

    /// Periodic maintenance (the JkWatchdogInterval thread): lb decay and recovery — once across
    /// all processes per worker.maintain, the shared timestamp decides — and this process's idle
    /// connections (pool timeout, interval CPing).
    pub fn maintain(&self, said: &mut dyn FnMut(bool, String)) {
        let now = now_ms();
        maintain_all(
            &self.shared,
            self.lbs().map(|l| &l.balancer),
            now,
            self.workers.maintain.as_millis() as u64,
            said,
        );
        let instant = std::time::Instant::now();
        for backend in self.backends.values() {
            backend.maintain(instant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ResultNotes, Runtime, TargetError};
    use crate::config::{Properties, Workers};

    /// Every worker is found by its name, whether the names are compared in place (up to
    /// Services::SCAN) or through the map; names that are no worker, or that only share a
    /// length or a prefix with one, are not.
    #[test]
    fn targets_are_found_by_name_with_few_or_many_workers() {
        for count in [1usize, 3, 7, 8, 9, 20] {
            let names: Vec<String> = (0..count).map(|i| format!("worker{i:02}")).collect();
            let mut text = format!("worker.list=lb,{}\n", names.join(","));
            for (i, name) in names.iter().enumerate() {
                text.push_str(&format!("worker.{name}.port={}\n", 18000 + i));
            }
            text.push_str(&format!(
                "worker.lb.type=lb\nworker.lb.balance_workers={}\n",
                names[0]
            ));
            let mut props = Properties::new();
            props
                .parse_str(&text, "workers.properties")
                .expect("parses");
            let workers = Workers::build(&props).expect("builds");
            let rt = Runtime::new(workers, 2, None, None).expect("runtime");
            for name in &names {
                let target = rt
                    .target(name)
                    .unwrap_or_else(|_| panic!("{count}: {name}"));
                assert!(!target.is_lb(), "{count}: {name} is an ajp13 worker");
            }
            assert!(rt.target("lb").expect("lb").is_lb(), "{count}: lb");
            for other in [
                "worker99",
                "worker0",
                "worker000",
                "Worker00",
                "",
                "l",
                "lb0",
            ] {
                assert!(
                    matches!(rt.target(other), Err(TargetError::Unknown { .. })),
                    "{count}: {other:?} is no worker"
                );
            }
        }
    }

    #[test]
    fn result_notes_are_set_only_when_mentioned() {
        let config = br#"LogFormat "%h %{JK_WORKER_ROUTE}n %{JK_WORKER_NAME}n" jk"#;
        let mentions = |needle: &[u8]| config.windows(needle.len()).any(|w| w == needle);
        let notes = ResultNotes::mentioned(mentions);
        assert_eq!(
            notes,
            ResultNotes {
                worker_type: false,
                route: true,
                duration: false,
                lb_members: false,
            }
        );
        assert_eq!(ResultNotes::mentioned(|_| true), ResultNotes::ALL);
    }
}
