//! The snapshot a status page is rendered from: plain owned values the shell copies out of
//! shared memory and the configuration at request time (mod_jk reference §5.5 lists them).
//! Times are Unix seconds; "now" is part of the snapshot, nothing here reads a clock.

use crate::balancer::State;
use crate::config::{Activation, LbLock, LbMethod};
use crate::mount::{MountRule, MountSource};

/// Everything one status answer shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub server: Server,
    pub now: Timestamp,
    pub software: Software,
    /// lb workers of `worker.list`, in its order.
    pub balancers: Vec<Balancer>,
    /// Plain ajp13/ajp14 workers of `worker.list`, in its order.
    pub ajp_workers: Vec<AjpWorker>,
    /// Names of the status workers (they have nothing to show but their name).
    pub status_workers: Vec<String>,
    /// `cmd=dump`: the configuration as read at start-up, one `key=value` per line.
    /// Lines whose key ends in `.secret` or `.secretkey` are never shown.
    pub configuration: Vec<String>,
}

/// The virtual host answering (`Server: name=… port=…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Server {
    pub name: String,
    pub port: u16,
}

/// A moment: Unix seconds and the local zone's offset from UTC, for mod_jk's local
/// `datetime`/`tz` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp {
    pub unix: i64,
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Software {
    /// The httpd banner, e.g. `Apache/2.4.71 (Debian) mod_jk_rs/0.1.0`.
    pub web_server: String,
    /// Our name and version, e.g. `mod_jk_rs/0.1.0`.
    pub jk_version: String,
}

/// A load balancer worker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Balancer {
    pub name: String,
    pub config: BalancerConfig,
    /// Requests in flight through this lb, and the most since the last reset.
    pub busy: u32,
    pub max_busy: u32,
    /// Seconds until the next global maintenance, at the earliest and at the latest.
    pub maintenance_in: SecondsRange,
    /// When the statistics were last reset (Unix seconds).
    pub last_reset: i64,
    pub members: Vec<Member>,
    pub maps: Vec<UriMap>,
}

/// An lb's run-time settings (the editable ones, as currently in shared memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancerConfig {
    pub sticky_session: bool,
    pub sticky_session_force: bool,
    pub retries: u32,
    pub retry_interval_ms: u64,
    pub recover_time_s: u64,
    pub error_escalation_time_s: u64,
    pub max_reply_timeouts: u32,
    pub method: LbMethod,
    pub lock: LbLock,
}

impl Default for BalancerConfig {
    fn default() -> BalancerConfig {
        BalancerConfig {
            sticky_session: true,
            sticky_session_force: false,
            retries: 2,
            retry_interval_ms: 100,
            recover_time_s: 60,
            error_escalation_time_s: 30,
            max_reply_timeouts: 0,
            method: LbMethod::Request,
            lock: LbLock::Optimistic,
        }
    }
}

/// A min/max pair of seconds (time to maintenance, time to recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecondsRange {
    pub min: i64,
    pub max: i64,
}

/// An lb member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// `ajp13` or `ajp14`.
    pub worker_type: String,
    pub ajp: AjpConfig,
    pub activation: Activation,
    pub lbfactor: u32,
    pub route: String,
    pub redirect: String,
    pub domain: String,
    pub distance: u32,
    pub state: State,
    pub lbmult: u64,
    pub lbvalue: u64,
    /// Requests sent to this member since the last reset.
    pub elected: u64,
    pub sessions: u64,
    pub errors: u64,
    pub traffic: Traffic,
    /// Seconds until a member in error is tried again (0/0 when not in error).
    pub recover_in: SecondsRange,
    pub last_reset: i64,
    /// When it last failed (Unix seconds), if ever since the last reset.
    pub last_error: Option<i64>,
}

/// Counters every ajp13 worker and member keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Traffic {
    pub client_errors: u64,
    /// Decayed at each maintenance.
    pub reply_timeouts: u64,
    /// Bytes sent to the backend.
    pub transferred: u64,
    /// Bytes read from the backend.
    pub read: u64,
    pub busy: u32,
    pub max_busy: u32,
    /// Open backend connections, and the most since the last reset.
    pub connected: u32,
    pub max_connected: u32,
}

/// The connection settings of an ajp13 worker or member (as mod_jk shows them: the
/// timeouts in their property units, 0 = unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AjpConfig {
    pub host: String,
    pub port: u16,
    /// The resolved `address:port` connections go to.
    pub address: String,
    pub source: Option<String>,
    pub connection_pool_timeout_s: u64,
    pub ping_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub prepost_timeout_ms: u64,
    pub reply_timeout_ms: u64,
    pub retries: u32,
    pub retry_interval_ms: u64,
    pub connection_ping_interval_s: u64,
    pub recovery_options: u32,
    pub busy_limit: u32,
    pub max_packet_size: u32,
    /// Connections each process may keep (`connection_pool_size`).
    pub pool_size: u32,
}

impl AjpConfig {
    /// The configured values of `worker`; `address` is `host:port` (`unix:/path` for a Unix
    /// socket) until the shell puts the resolved one in, `pool_size` is the given default when the worker sets none.
    pub fn from_worker(worker: &crate::config::AjpWorker, default_pool_size: u32) -> AjpConfig {
        let ms = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_millis() as u64);
        let secs = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_secs());
        AjpConfig {
            host: worker.host.clone(),
            port: worker.port,
            address: match worker.unix_socket {
                Some(_) => worker.host.clone(),
                None => format!("{}:{}", worker.host, worker.port),
            },
            source: worker.source.clone(),
            connection_pool_timeout_s: secs(worker.connection_pool_timeout),
            ping_timeout_ms: worker.ping_timeout.as_millis() as u64,
            connect_timeout_ms: ms(worker.connect_timeout),
            prepost_timeout_ms: ms(worker.prepost_timeout),
            reply_timeout_ms: ms(worker.reply_timeout),
            retries: worker.retries,
            retry_interval_ms: worker.retry_interval.as_millis() as u64,
            connection_ping_interval_s: secs(worker.connection_ping_interval),
            recovery_options: worker.recovery_options,
            busy_limit: worker.busy_limit,
            max_packet_size: worker.max_packet_size as u32,
            pool_size: worker
                .connection_pool_size
                .map_or(default_pool_size, |n| n as u32),
        }
    }
}

/// A plain (not balanced) ajp13 worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AjpWorker {
    pub name: String,
    pub worker_type: String,
    pub ajp: AjpConfig,
    /// One of OK/IDLE, OK, ERR, ERR/PRB.
    pub state: State,
    /// Requests served since the last reset.
    pub used: u64,
    pub errors: u64,
    pub traffic: Traffic,
    pub last_reset: i64,
    pub last_error: Option<i64>,
    pub maps: Vec<UriMap>,
}

/// One mount rule of a worker, as the status page lists it (§3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriMap {
    /// The virtual host the rule belongs to, when the page names one.
    pub server: Option<String>,
    /// The pattern without its `-`/`!` prefixes.
    pub uri: String,
    pub disabled: bool,
    /// JkUnMount or `!`.
    pub unmount: bool,
    pub source: MountSource,
    /// Milliseconds; -1 = not set by the rule.
    pub reply_timeout: i64,
    pub sticky_ignore: bool,
    pub stateless: bool,
    pub fail_on_status: String,
    pub active: String,
    pub disabled_members: String,
    pub stopped: String,
    pub use_server_errors: u16,
}

impl UriMap {
    /// mod_jk's match type: `[Disabled ][Unmount ]Exact|Wildchar`.
    pub fn match_type(&self) -> String {
        let mut text = String::new();
        if self.disabled {
            text.push_str("Disabled ");
        }
        if self.unmount {
            text.push_str("Unmount ");
        }
        text.push_str(if self.uri.contains(['*', '?']) {
            "Wildchar"
        } else {
            "Exact"
        });
        text
    }

    pub fn from_rule(rule: &MountRule, server: Option<&str>) -> UriMap {
        let ext = &rule.extensions;
        let join = |items: &[String]| items.join(",");
        UriMap {
            server: server.map(str::to_owned),
            uri: rule.pattern.clone(),
            disabled: rule.disabled,
            unmount: rule.exclusion,
            source: rule.source,
            reply_timeout: ext.reply_timeout.unwrap_or(-1),
            sticky_ignore: ext.sticky_ignore,
            stateless: ext.stateless,
            fail_on_status: ext
                .fail_on_status
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            active: join(&ext.active),
            disabled_members: join(&ext.disabled),
            stopped: join(&ext.stopped),
            use_server_errors: ext.use_server_errors.unwrap_or(0),
        }
    }
}

/// A worker `w` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerRef<'a> {
    Balancer(&'a Balancer),
    Ajp(&'a AjpWorker),
    Status(&'a str),
}

impl Snapshot {
    pub fn find_worker(&self, name: &str) -> Option<WorkerRef<'_>> {
        if let Some(lb) = self.balancers.iter().find(|b| b.name == name) {
            return Some(WorkerRef::Balancer(lb));
        }
        if let Some(ajp) = self.ajp_workers.iter().find(|a| a.name == name) {
            return Some(WorkerRef::Ajp(ajp));
        }
        self.status_workers
            .iter()
            .find(|s| *s == name)
            .map(|s| WorkerRef::Status(s))
    }

    /// The configuration lines `dump` may show: never a secret.
    pub fn dump_lines(&self) -> impl Iterator<Item = &str> {
        self.configuration
            .iter()
            .map(String::as_str)
            .filter(|line| {
                let key = line.split('=').next().unwrap_or("").trim();
                !(key.ends_with(".secret") || key.ends_with(".secretkey"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unix_socket_worker_shows_its_path_as_host_and_address_with_port_0() {
        let mut worker = crate::config::AjpWorker::with_defaults("sock");
        worker.host = "unix:/run/tomcat/ajp.sock".to_owned();
        worker.port = 0;
        worker.unix_socket = Some("/run/tomcat/ajp.sock".into());
        let shown = AjpConfig::from_worker(&worker, 4);
        assert_eq!(
            (shown.host.as_str(), shown.port, shown.address.as_str()),
            ("unix:/run/tomcat/ajp.sock", 0, "unix:/run/tomcat/ajp.sock")
        );
        let tcp = AjpConfig::from_worker(&crate::config::AjpWorker::with_defaults("tcp"), 4);
        assert_eq!(tcp.address, "localhost:8009");
    }
}
