//! Test snapshots with the values of the mod_jk 1.2.48 samples (lb `lbcluster` over
//! `TomcatA`/`TomcatB`, status worker `stat1`), so renders compare byte for byte.

use super::model::*;
use crate::balancer::State;
use crate::config::Activation;
use crate::mount::MountSource;

pub const NOW: i64 = 1_795_481_718;

pub fn ajp(host: &str, port: u16) -> AjpConfig {
    AjpConfig {
        host: host.to_owned(),
        port,
        address: format!("{host}:{port}"),
        source: None,
        connection_pool_timeout_s: 0,
        ping_timeout_ms: 10_000,
        connect_timeout_ms: 0,
        prepost_timeout_ms: 0,
        reply_timeout_ms: 0,
        retries: 2,
        retry_interval_ms: 100,
        connection_ping_interval_s: 0,
        recovery_options: 0,
        busy_limit: 0,
        max_packet_size: 8192,
        pool_size: 25,
    }
}

/// A healthy member named `name` with `requests` requests.
pub fn member(name: &str, requests: u64) -> Member {
    Member {
        name: name.to_owned(),
        worker_type: "ajp13".to_owned(),
        ajp: ajp("127.0.0.1", 18109),
        activation: Activation::Active,
        lbfactor: 1,
        route: name.to_owned(),
        redirect: String::new(),
        domain: String::new(),
        distance: 0,
        state: State::Ok,
        lbmult: 1,
        lbvalue: requests,
        elected: requests,
        sessions: 4,
        errors: 0,
        traffic: Traffic {
            busy: 0,
            max_busy: 1,
            connected: 2,
            max_connected: 2,
            ..Traffic::default()
        },
        recover_in: SecondsRange::default(),
        last_reset: NOW,
        last_error: None,
    }
}

pub fn map(uri: &str, unmount: bool) -> UriMap {
    UriMap {
        server: Some("127.0.0.1".to_owned()),
        uri: uri.to_owned(),
        disabled: false,
        unmount,
        source: MountSource::JkMount,
        reply_timeout: -1,
        sticky_ignore: false,
        stateless: false,
        fail_on_status: String::new(),
        active: String::new(),
        disabled_members: String::new(),
        stopped: String::new(),
        use_server_errors: 0,
    }
}

/// `lbcluster` as in `list.txt`.
pub fn balancer() -> Balancer {
    let mut a = member("TomcatA", 7);
    a.traffic.transferred = 1610;
    a.traffic.read = 3418;
    let mut b = member("TomcatB", 4);
    b.ajp = ajp("127.0.0.1", 18119);
    b.traffic.transferred = 824;
    b.traffic.read = 2727;
    Balancer {
        name: "lbcluster".to_owned(),
        config: BalancerConfig {
            recover_time_s: 10,
            error_escalation_time_s: 5,
            ..BalancerConfig::default()
        },
        busy: 0,
        max_busy: 1,
        maintenance_in: SecondsRange { min: 5, max: 10 },
        last_reset: NOW,
        members: vec![a, b],
        maps: vec![map("/lab-static/*", true), map("/*", false)],
    }
}

/// The lab of the samples at the moment of `list.*`.
pub fn snapshot() -> Snapshot {
    Snapshot {
        server: Server {
            name: "127.0.0.1".to_owned(),
            port: 18180,
        },
        now: Timestamp {
            unix: NOW,
            utc_offset_minutes: 0,
        },
        software: Software {
            web_server: "Apache/2.4.71 (Debian) mod_jk/1.2.48".to_owned(),
            jk_version: "mod_jk/1.2.48".to_owned(),
        },
        balancers: vec![balancer()],
        ajp_workers: Vec::new(),
        status_workers: vec!["stat1".to_owned()],
        configuration: [
            "ServerRoot=/srv/lab/httpd",
            "worker.list=lbcluster,stat1",
            "worker.TomcatA.type=ajp13",
            "worker.TomcatA.host=127.0.0.1",
            "worker.TomcatA.port=18109",
            "worker.TomcatA.lbfactor=1",
            "worker.TomcatA.secret=hidden-from-dump",
            "worker.TomcatB.type=ajp13",
            "worker.TomcatB.host=127.0.0.1",
            "worker.TomcatB.port=18119",
            "worker.TomcatB.lbfactor=1",
            "worker.lbcluster.type=lb",
            "worker.lbcluster.balance_workers=TomcatA,TomcatB",
            "worker.lbcluster.sticky_session=true",
            "worker.lbcluster.recover_time=10",
            "worker.maintain=5",
            "worker.stat1.type=status",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

/// The sample lab plus a plain ajp13 worker `solo` with one mount.
pub fn with_plain_worker() -> Snapshot {
    let mut snapshot = snapshot();
    snapshot.ajp_workers.push(AjpWorker {
        name: "solo".to_owned(),
        worker_type: "ajp13".to_owned(),
        ajp: ajp("10.0.0.9", 8009),
        state: State::Ok,
        used: 12,
        errors: 1,
        traffic: Traffic {
            transferred: 100,
            read: 2000,
            connected: 1,
            max_connected: 1,
            ..Traffic::default()
        },
        last_reset: NOW - 60,
        last_error: Some(NOW - 30),
        maps: vec![map("/solo/*", false)],
    });
    snapshot
}
