//! The configuration life cycle: every load (also `apachectl -t` and before a graceful
//! restart) builds the whole generation — workers, every server's finished configuration —
//! so mistakes fail fast with file:line; post_config then opens the `JkLogFile`s, takes over
//! the previous generation's shared state and installs the runtime; child_init starts the
//! watchdog.
use super::{config_of, jk_log, persist, watchdog};
use crate::config::{ConfigError, Workers};
use crate::directives::VhostConfig;
use crate::httpd::{process, GenerationSlot, LogLevel, Pool, Server, Status};
use crate::proxy::{load_workers, ResultNotes, Runtime};
use crate::status::{SnapshotEnv, Timestamp};
use std::collections::HashMap;

/// The runtime of the current configuration generation.
static RUNTIME: GenerationSlot<Runtime> = GenerationSlot::new();

pub fn runtime() -> Option<&'static Runtime> {
    RUNTIME.get()
}

/// A configuration generation: the workers and each server's finished configuration.
struct Generation<'s> {
    workers: Workers,
    vhosts: Vec<(Server<'s>, VhostConfig)>,
    warnings: Vec<String>,
}

/// Loads workers and finishes every server's configuration; all errors, with file:line.
fn build_generation<'s>(s: Server<'s>) -> Result<Generation<'s>, Vec<ConfigError>> {
    let main = &config_of(&s).ok_or_else(Vec::new)?.settings;
    let mut workers = load_workers(main, &process::server_root())?;
    let mut warnings: Vec<String> = workers.warnings.drain(..).map(|w| w.to_string()).collect();
    let mut vhosts = Vec::new();
    let mut errors = Vec::new();
    for srv in s.and_following() {
        let Some(own) = config_of(&srv).map(|c| &c.settings) else {
            continue;
        };
        warnings.extend(own.warnings.iter().cloned());
        match VhostConfig::build(&workers, main, own, srv.is_main()) {
            Ok((cfg, w)) => {
                warnings.extend(w.iter().map(|w| w.to_string()));
                vhosts.push((srv, cfg));
            }
            Err(e) => errors.extend(e),
        }
    }
    let mounts_something = s.and_following().any(|srv| {
        config_of(&srv)
            .is_some_and(|c| !c.settings.mounts.is_empty() || c.settings.mount_file.is_some())
    });
    if main.workers_file.is_none() && main.worker_properties.is_empty() && mounts_something {
        warnings.push(
            "no JkWorkersFile and no JkWorkerProperty: no worker is defined, so the mounts have \
             nowhere to go (mod_jk would make one ajp13 worker 'ajp13' on localhost:8009; \
             mod_jk_rs makes none: define your workers in a JkWorkersFile)"
                .to_string(),
        );
    }
    if main.indicators.request_id.is_some() {
        warnings.push(
            "JkRequestIdIndicator is accepted; correlate with ErrorLogFormat %L (mod_unique_id's \
             request id) and the notes JK_WORKER_NAME, JK_WORKER_ROUTE, JK_REQUEST_DURATION"
                .to_string(),
        );
    }
    warnings.sort();
    warnings.dedup();
    if errors.is_empty() {
        Ok(Generation {
            workers,
            vhosts,
            warnings,
        })
    } else {
        Err(errors)
    }
}

fn log_config_errors(s: &Server<'_>, errors: &[ConfigError]) {
    for e in errors {
        s.log_startup(LogLevel::Emerg, &format!("mod_jk_rs: {e}"));
    }
}

pub fn check_config(s: Server<'_>) -> Status {
    match build_generation(s) {
        Ok(generation) => {
            // Under `apachectl -t` post_config never runs: show the warnings here.
            if process::is_config_test() {
                for w in &generation.warnings {
                    s.log_startup(LogLevel::Warning, &format!("mod_jk_rs: {w}"));
                }
            }
            Status::OK
        }
        Err(errors) => {
            log_config_errors(&s, &errors);
            Status::SERVER_ERROR
        }
    }
}

pub fn post_config(pconf: Pool<'_>, s: Server<'_>) -> Status {
    let generation = match build_generation(s) {
        Ok(v) => v,
        Err(errors) => {
            log_config_errors(&s, &errors);
            return Status::SERVER_ERROR;
        }
    };
    process::add_version_component(pconf, concat!("mod_jk_rs/", env!("CARGO_PKG_VERSION")));
    if let Err(e) = super::status::prepare_secret() {
        s.log(
            LogLevel::Warning,
            &format!("mod_jk_rs: {e}; the status page refuses every change from its forms"),
        );
    }
    // Warnings once, now that the error log is open (check_config runs before it is).
    for w in &generation.warnings {
        s.log(LogLevel::Warning, &format!("mod_jk_rs: {w}"));
    }
    let mut logs = HashMap::new();
    for (srv, cfg) in generation.vhosts {
        let Some(config) = config_of(&srv) else {
            continue;
        };
        match jk_log::open(pconf, &config.settings, &mut logs) {
            Ok(Some(log)) => {
                let _ = cfg.log.set(log);
            }
            Ok(None) => {}
            Err(msg) => s.log(LogLevel::Warning, &format!("mod_jk_rs: {msg}")),
        }
        let _ = config.finished.set(cfg);
    }
    let shm_file = config_of(&s).and_then(|m| m.settings.shm_file.clone());
    let previous = match process::take_over() {
        None => None,
        Some(Ok(old)) => Some(old),
        Some(Err(e)) => {
            s.log(
                LogLevel::Warning,
                &format!("mod_jk_rs: worker state not carried over the restart: {e}"),
            );
            None
        }
    };
    let carried_over = previous.is_some();
    let workers_from = config_of(&s)
        .and_then(|c| c.settings.workers_file.as_ref())
        .map_or_else(
            || "no JkWorkersFile".to_string(),
            |(p, _)| p.display().to_string(),
        );
    let summary = format!(
        "mod_jk_rs/{} configured: workers from {workers_from} ({} in worker.list)",
        env!("CARGO_PKG_VERSION"),
        generation.workers.list.len()
    );
    match Runtime::new(
        generation.workers,
        process::max_threads(),
        shm_file.as_deref(),
        previous,
    ) {
        Ok(mut rt) => {
            rt.result_notes = ResultNotes::mentioned(process::config_mentions);
            if !carried_over {
                restore_edits(&s, &rt);
            }
            RUNTIME.install(pconf, rt, |rt| process::hand_over(&rt.shared));
            if !process::is_config_test() {
                s.log(LogLevel::Notice, &summary);
            }
            Status::OK
        }
        Err(e) => {
            s.log_startup(LogLevel::Emerg, &format!("mod_jk_rs: {e}"));
            Status::SERVER_ERROR
        }
    }
}

/// A cold start replays the status page's journaled edits (`worker.<status>.persist`); a
/// graceful restart carries them over in shared memory already.
fn restore_edits(s: &Server<'_>, rt: &Runtime) {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let env = SnapshotEnv {
        server_name: "",
        server_port: 0,
        web_server: "",
        now: Timestamp {
            unix: since_epoch.as_secs() as i64,
            utc_offset_minutes: 0,
        },
        now_ms: since_epoch.as_millis() as u64,
        mount_rules: &[],
    };
    for name in &rt.workers.list {
        let Some(path) = rt.workers.status(name).and_then(persist::path_of) else {
            continue;
        };
        match persist::restore(rt, &path, &env) {
            Ok(changes) => {
                for change in &changes {
                    s.log(
                        LogLevel::Info,
                        &format!(
                            "mod_jk_rs: status worker {name}: from {}: {change}",
                            path.display()
                        ),
                    );
                }
            }
            Err(e) => s.log_startup(
                LogLevel::Error,
                &format!("mod_jk_rs: status worker {name}: {e}"),
            ),
        }
    }
}

/// A child leaving closes its pooled connections, so the shared `connected` figures (the
/// status page) do not keep counting them.
fn close_pooled_connections() {
    if let Some(rt) = runtime() {
        rt.close_idle_connections();
    }
}

pub fn child_init(pchild: Pool<'_>, s: Server<'_>) {
    // Connection pools start empty in every child: nothing was connected in the parent.
    pchild.on_cleanup(close_pooled_connections);
    let interval = config_of(&s)
        .and_then(|m| m.settings.watchdog_interval)
        .unwrap_or(0);
    if interval > 0 && runtime().is_some() {
        watchdog::start(pchild, std::time::Duration::from_secs(interval));
    }
}
