//! The bridge between the live runtime and the status page: [`snapshot`] copies a
//! [`Snapshot`] out of shared memory and the configuration of a [`Runtime`], and
//! [`LiveTarget`] carries the page's edits, resets and recoveries into shared memory.
//! No clock is read here: the shell passes the time in ([`SnapshotEnv`], [`LiveTarget::new`]).
//!
//! Times in shared memory are milliseconds since the Unix epoch; the model's are seconds.

mod ajp_edit;
mod journal;
mod target;

pub use journal::JournalError;
pub use target::{Change, LiveTarget};

/// The run-time edits journal (`worker.<status>.persist`).
pub mod edits_journal {
    pub use super::journal::{current, parse, render, replay, HEADER};
}

use super::model::{
    AjpConfig, AjpWorker, Balancer, BalancerConfig, Member, SecondsRange, Server, Snapshot,
    Software, Timestamp, Traffic, UriMap,
};
use crate::backend::Backend;
use crate::balancer::State;
use crate::config::WorkerDef;
use crate::mount::MountRule;
use crate::proxy::{LbService, PlainWorker, Runtime, Target};
use crate::shm::{LbSettings, MemberRecord, MemberSettings};
use std::sync::atomic::Ordering::Relaxed;

/// What only the shell knows when it fills a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotEnv<'a> {
    /// The virtual host answering (`Server: name=… port=…`).
    pub server_name: &'a str,
    pub server_port: u16,
    /// httpd's banner, e.g. `Apache/2.4.71 (Debian) mod_jk_rs/0.1.0`.
    pub web_server: &'a str,
    /// Now, for the page's `Time:` line.
    pub now: Timestamp,
    /// Now in milliseconds since the Unix epoch, for the "… ago" and "… in" figures.
    pub now_ms: u64,
    /// The URI rules of the request's server: each worker's `maps` are the rules naming it.
    pub mount_rules: &'a [MountRule],
}

/// `mod_jk_rs/<version>`, the page's `jk_version`.
pub fn jk_version() -> String {
    format!("mod_jk_rs/{}", env!("CARGO_PKG_VERSION"))
}

/// Only the page's header (server, time, versions): what a refused request is shown with.
pub fn header_snapshot(env: &SnapshotEnv<'_>) -> Snapshot {
    Snapshot {
        server: Server {
            name: env.server_name.to_owned(),
            port: env.server_port,
        },
        now: env.now,
        software: Software {
            web_server: env.web_server.to_owned(),
            jk_version: jk_version(),
        },
        ..Snapshot::default()
    }
}

/// Everything the status page shows, as it is now: workers of `worker.list` in its order
/// (lbs with their members, plain ajp13 workers, status workers by name), current settings
/// and counters from shared memory, and the configuration as read (without secrets).
pub fn snapshot(rt: &Runtime, env: &SnapshotEnv<'_>) -> Snapshot {
    let mut snapshot = Snapshot {
        configuration: rt.workers.dump.clone(),
        ..header_snapshot(env)
    };
    let shown: Vec<String> = snapshot.dump_lines().map(str::to_owned).collect();
    snapshot.configuration = shown;
    let maintain_s = i64::try_from(rt.workers.maintain.as_secs()).unwrap_or(i64::MAX);
    for name in &rt.workers.list {
        match (rt.workers.get(name), rt.target(name)) {
            (Some(WorkerDef::Lb(_)), Ok(Target::Lb(lb))) => {
                snapshot.balancers.push(balancer(name, lb, maintain_s, env))
            }
            (Some(WorkerDef::Ajp13(_)), Ok(Target::Ajp(worker))) => {
                snapshot.ajp_workers.push(ajp_worker(name, worker, env));
            }
            (Some(WorkerDef::Status(_)), _) => snapshot.status_workers.push(name.clone()),
            _ => {}
        }
    }
    snapshot
}

/// Milliseconds since the epoch as seconds.
fn seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1000).unwrap_or(i64::MAX)
}

/// Whole seconds from `then_ms` to `now_ms` (0 if `then_ms` is later).
fn seconds_since(now_ms: u64, then_ms: u64) -> i64 {
    seconds(now_ms.saturating_sub(then_ms))
}

/// Time to the lb's next maintenance as mod_jk computes it: at the earliest one interval
/// after the last one, at the latest one interval later still (maintenance runs when a
/// request or the watchdog comes by); 0/0 when maintenance is off.
fn maintenance_in(last_maintain_ms: u64, maintain_s: i64, now_ms: u64) -> SecondsRange {
    if maintain_s == 0 {
        return SecondsRange::default();
    }
    let min = maintain_s.saturating_sub(seconds_since(now_ms, last_maintain_ms));
    let max = min.saturating_add(maintain_s);
    SecondsRange {
        min: min.max(0),
        max: max.max(0),
    }
}

/// Time until a member in error is tried again (mod_jk): `recover_time` after its last
/// error, at a maintenance run, so not before the next one; 0/0 when it is not in error.
fn recover_in(
    state: State,
    last_error_ms: u64,
    recover_s: i64,
    maintenance: SecondsRange,
    maintain_s: i64,
    now_ms: u64,
) -> SecondsRange {
    if state != State::Error {
        return SecondsRange::default();
    }
    let min = recover_s
        .saturating_sub(seconds_since(now_ms, last_error_ms))
        .max(0);
    SecondsRange {
        min: min.max(maintenance.min),
        max: min.saturating_add(maintain_s),
    }
}

fn balancer_config(s: &LbSettings) -> BalancerConfig {
    BalancerConfig {
        sticky_session: s.sticky_session,
        sticky_session_force: s.sticky_session_force,
        retries: s.retries,
        retry_interval_ms: s.retry_interval_ms,
        recover_time_s: s.recover_time_ms / 1000,
        error_escalation_time_s: s.error_escalation_time_ms / 1000,
        max_reply_timeouts: s.max_reply_timeouts,
        method: s.method,
        lock: s.lock,
    }
}

fn balancer(name: &str, lb: &LbService, maintain_s: i64, env: &SnapshotEnv<'_>) -> Balancer {
    let record = lb.balancer.record();
    let settings = lb.balancer.settings();
    let config = settings.as_ref().map(balancer_config).unwrap_or_default();
    let load = |f: fn(&crate::shm::LbRecord) -> u64| record.map_or(0, f);
    let maintenance = maintenance_in(
        load(|r| r.last_maintain.load(Relaxed)),
        maintain_s,
        env.now_ms,
    );
    let recover_s = i64::try_from(config.recover_time_s).unwrap_or(i64::MAX);
    let members = lb
        .balancer
        .members()
        .iter()
        .zip(&lb.members)
        .enumerate()
        .map(|(index, (record, backend))| {
            let name = lb.balancer.member_name(index).unwrap_or_default();
            let mut m = member(name, record, backend);
            m.recover_in = recover_in(
                m.state,
                record.last_error_time.load(Relaxed),
                recover_s,
                maintenance,
                maintain_s,
                env.now_ms,
            );
            m
        })
        .collect();
    Balancer {
        name: name.to_owned(),
        config,
        busy: record.map_or(0, |r| r.busy.load(Relaxed)),
        max_busy: record.map_or(0, |r| r.max_busy.load(Relaxed)),
        maintenance_in: maintenance,
        last_reset: seconds(load(|r| r.last_reset.load(Relaxed))),
        members,
        maps: maps(env, name),
    }
}

fn member(name: &str, record: &MemberRecord, backend: &Backend) -> Member {
    let settings = record.settings();
    Member {
        name: name.to_owned(),
        worker_type: "ajp13".to_owned(),
        ajp: ajp_config(backend, Some(&settings)),
        activation: settings.activation,
        lbfactor: settings.lb_factor,
        route: settings.route.to_string(),
        redirect: settings.redirect.to_string(),
        domain: settings.domain.to_string(),
        distance: settings.distance,
        state: State::from_code(record.state.load(Relaxed)),
        lbmult: record.lb_mult.load(Relaxed),
        lbvalue: record.lb_value.load(Relaxed),
        elected: record.elected.load(Relaxed),
        sessions: record.sessions.load(Relaxed),
        errors: record.errors.load(Relaxed),
        traffic: traffic(record),
        recover_in: SecondsRange::default(),
        last_reset: seconds(record.last_reset.load(Relaxed)),
        last_error: last_error(record),
    }
}

fn ajp_worker(name: &str, worker: &PlainWorker, env: &SnapshotEnv<'_>) -> AjpWorker {
    let backend = worker.backend();
    let record = worker.record();
    let settings = record.map(MemberRecord::settings);
    AjpWorker {
        name: name.to_owned(),
        worker_type: "ajp13".to_owned(),
        ajp: ajp_config(backend, settings.as_ref()),
        state: record.map_or(State::OkIdle, |r| State::from_code(r.state.load(Relaxed))),
        used: record.map_or(0, |r| r.elected.load(Relaxed)),
        errors: record.map_or(0, |r| r.errors.load(Relaxed)),
        traffic: record.map(traffic).unwrap_or_default(),
        last_reset: record.map_or(0, |r| seconds(r.last_reset.load(Relaxed))),
        last_error: record.and_then(last_error),
        maps: maps(env, name),
    }
}

/// The connection settings in force: the run-time ones of the worker's shared record
/// (`settings`; the configuration for a worker without one), the pool's real size, and the
/// address once this process resolved it.
fn ajp_config(backend: &Backend, settings: Option<&MemberSettings>) -> AjpConfig {
    let pool_size = u32::try_from(backend.pool().capacity()).unwrap_or(u32::MAX);
    let mut ajp = AjpConfig::from_worker(&backend.settings, pool_size);
    ajp.pool_size = pool_size;
    if let Some(s) = settings {
        let a = &s.ajp;
        if !a.host.is_empty() {
            ajp.host = a.host.to_string();
        }
        if backend.settings.unix_socket.is_none() {
            ajp.port = a.port;
            ajp.address = format!("{}:{}", ajp.host, a.port);
        }
        ajp.connection_pool_timeout_s = a.connection_pool_timeout_s.into();
        ajp.ping_timeout_ms = a.ping_timeout_ms.into();
        ajp.connect_timeout_ms = a.connect_timeout_ms.into();
        ajp.prepost_timeout_ms = a.prepost_timeout_ms.into();
        ajp.reply_timeout_ms = a.reply_timeout_ms.into();
        ajp.retries = a.retries;
        ajp.retry_interval_ms = a.retry_interval_ms.into();
        ajp.connection_ping_interval_s = a.connection_ping_interval_s.into();
        ajp.recovery_options = a.recovery_options;
        ajp.busy_limit = s.busy_limit;
        ajp.max_packet_size = a.max_packet_size;
    }
    // This process's copy follows the record; the address it resolved is the current one's.
    backend.live();
    if let Some(address) = backend.resolved_address() {
        ajp.address = address.to_string();
    }
    ajp
}

fn traffic(r: &MemberRecord) -> Traffic {
    Traffic {
        client_errors: r.client_errors.load(Relaxed),
        reply_timeouts: r.reply_timeouts.load(Relaxed),
        transferred: r.transferred.load(Relaxed),
        read: r.read.load(Relaxed),
        busy: r.busy.load(Relaxed),
        max_busy: r.max_busy.load(Relaxed),
        connected: r.connected.load(Relaxed),
        max_connected: r.max_connected.load(Relaxed),
    }
}

fn last_error(r: &MemberRecord) -> Option<i64> {
    match r.last_error_time.load(Relaxed) {
        0 => None,
        ms => Some(seconds(ms)),
    }
}

/// The rules of the request's server that name `worker`, in their order.
fn maps(env: &SnapshotEnv<'_>, worker: &str) -> Vec<UriMap> {
    env.mount_rules
        .iter()
        .filter(|rule| rule.worker == worker)
        .map(|rule| UriMap::from_rule(rule, Some(env.server_name)))
        .collect()
}

#[cfg(test)]
mod tests;
