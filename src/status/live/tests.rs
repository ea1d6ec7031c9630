//! The live bridge over a real `Runtime` (anonymous shared memory) built from the tutorial's
//! workers.properties: snapshots, edits through `execute`, reset, recover, and the `txt`
//! render compared in structure with mod_jk's `list.txt`.

use super::*;
use crate::config::{Activation, LbMethod, Origin, Properties, StatusWorker, Workers};
use crate::mount::{parse_mount, MountSource};
use crate::status::{execute, parse_query, render, summarize, StatusError, View};

/// The lab of the mod_jk samples (`dump.txt`), in its order.
const TUTORIAL: &str = "\
worker.list=lbcluster,stat1
worker.TomcatA.type=ajp13
worker.TomcatA.host=127.0.0.1
worker.TomcatA.port=18109
worker.TomcatA.lbfactor=1
worker.TomcatB.type=ajp13
worker.TomcatB.host=127.0.0.1
worker.TomcatB.port=18119
worker.TomcatB.lbfactor=1
worker.lbcluster.type=lb
worker.lbcluster.balance_workers=TomcatA,TomcatB
worker.lbcluster.sticky_session=true
worker.lbcluster.recover_time=10
worker.maintain=5
worker.stat1.type=status
";

/// The tutorial plus a plain ajp13 worker `solo` mapped directly.
const WITH_SOLO: &str = "\
worker.list=lbcluster,solo,stat1
worker.TomcatA.port=18109
worker.TomcatB.port=18119
worker.lbcluster.type=lb
worker.lbcluster.balance_workers=TomcatA,TomcatB
worker.solo.host=10.0.0.9
worker.solo.port=8009
worker.solo.secret=hidden
worker.stat1.type=status
";

fn runtime(text: &str) -> Runtime {
    let mut props = Properties::new();
    props.define("ServerRoot", "/srv/lab/httpd");
    props
        .parse_str(text, "/srv/lab/httpd/conf/workers.properties")
        .expect("parses");
    let workers = Workers::build(&props).expect("builds");
    Runtime::new(workers, 25, None, None).expect("runtime")
}

/// The clock the runtime's shared memory started with (tests may read it).
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `JkUnMount /lab-static/* lbcluster` and `JkMount /* lbcluster`, as in the samples.
fn rules() -> Vec<MountRule> {
    let mount = |pattern: &str, exclusion: bool| {
        let origin = Origin::new("httpd.conf", 1);
        parse_mount(
            pattern,
            "lbcluster",
            MountSource::JkMount,
            origin,
            exclusion,
        )
        .expect("rule")
    };
    let mut rules = mount("/lab-static/*", true);
    rules.extend(mount("/*", false));
    rules
}

fn env(rules: &[MountRule], now_ms: u64) -> SnapshotEnv<'_> {
    SnapshotEnv {
        server_name: "127.0.0.1",
        server_port: 18180,
        web_server: "Apache/2.4.71 (Debian) mod_jk_rs/0.1.0",
        now: Timestamp {
            unix: seconds(now_ms),
            utc_offset_minutes: 0,
        },
        now_ms,
        mount_rules: rules,
    }
}

fn take(rt: &Runtime) -> Snapshot {
    snapshot(rt, &env(&rules(), wall_ms()))
}

/// Runs `query` like the shell does; returns the outcome and the changes made.
fn run(rt: &Runtime, query: &str) -> (Result<(), StatusError>, Vec<String>) {
    let request = parse_query(query).expect("query");
    let status = StatusWorker::with_defaults("stat1");
    let mut target = LiveTarget::new(rt, wall_ms());
    let outcome = execute(&request, &take(rt), &status, &mut target);
    let changes = target.changes().iter().map(ToString::to_string).collect();
    (outcome, changes)
}

/// Runs the update `query`, which must succeed with `count` changes, `one` of them.
fn updated(rt: &Runtime, query: &str, count: usize, one: &str) {
    let (outcome, changes) = run(rt, query);
    assert_eq!(outcome, Ok(()));
    assert_eq!(changes.len(), count, "{changes:?}");
    assert!(changes.iter().any(|c| c == one), "{changes:?}");
}

fn lb(rt: &Runtime) -> &crate::balancer::Balancer {
    &rt.lb("lbcluster").expect("lb").balancer
}

fn member_named<'s>(snapshot: &'s Snapshot, name: &str) -> &'s Member {
    snapshot.balancers[0]
        .members
        .iter()
        .find(|m| m.name == name)
        .expect("member")
}

#[test]
fn a_snapshot_shows_the_tutorial_lab_from_shared_memory_and_configuration() {
    let rt = runtime(TUTORIAL);
    let now = wall_ms();
    let s = snapshot(&rt, &env(&rules(), now));
    assert_eq!(
        (s.server.name.as_str(), s.server.port),
        ("127.0.0.1", 18180)
    );
    assert_eq!(s.software.jk_version, jk_version());
    assert_eq!(s.status_workers, ["stat1"]);
    assert!(s.ajp_workers.is_empty());
    let lb = &s.balancers[0];
    assert_eq!(lb.name, "lbcluster");
    let c = &lb.config;
    assert!(c.sticky_session && !c.sticky_session_force);
    assert_eq!((c.recover_time_s, c.error_escalation_time_s), (10, 5));
    assert_eq!((c.retries, c.method), (2, LbMethod::Request));
    assert_eq!(lb.maintenance_in, SecondsRange { min: 5, max: 10 });
    assert!((lb.last_reset - seconds(now)).abs() <= 1);
    let names: Vec<&str> = lb.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["TomcatA", "TomcatB"]);
    let b = member_named(&s, "TomcatB");
    assert_eq!((b.ajp.host.as_str(), b.ajp.port), ("127.0.0.1", 18119));
    assert_eq!(b.ajp.address, "127.0.0.1:18119");
    assert_eq!(
        (b.ajp.ping_timeout_ms, b.ajp.max_packet_size),
        (10_000, 8192)
    );
    assert_eq!(b.ajp.pool_size, 25);
    assert_eq!(
        (b.route.as_str(), b.activation),
        ("TomcatB", Activation::Active)
    );
    assert_eq!((b.state, b.lbfactor, b.lbmult), (State::OkIdle, 1, 1));
    assert_eq!((b.elected, b.errors, b.last_error), (0, 0, None));
    assert_eq!(b.recover_in, SecondsRange::default());
    let maps: Vec<(&str, bool)> = lb
        .maps
        .iter()
        .map(|m| (m.uri.as_str(), m.unmount))
        .collect();
    assert_eq!(maps, [("/lab-static/*", true), ("/*", false)]);
    assert_eq!(lb.maps[0].server.as_deref(), Some("127.0.0.1"));
}

#[test]
fn counters_come_from_the_members_records() {
    let rt = runtime(TUTORIAL);
    let a = &lb(&rt).members()[0];
    a.elected.store(7, Relaxed);
    a.sessions.store(4, Relaxed);
    a.add_traffic(1610, 3418);
    a.enter();
    a.client_errors.store(2, Relaxed);
    a.errors.store(1, Relaxed);
    a.last_error_time.store(1_795_481_721_500, Relaxed);
    lb(&rt).record().expect("lb record").enter();
    let s = take(&rt);
    let m = member_named(&s, "TomcatA");
    assert_eq!((m.elected, m.sessions, m.errors), (7, 4, 1));
    let t = m.traffic;
    assert_eq!(
        (t.transferred, t.read, t.busy, t.max_busy),
        (1610, 3418, 1, 1)
    );
    assert_eq!(t.client_errors, 2);
    assert_eq!(m.last_error, Some(1_795_481_721));
    assert_eq!((s.balancers[0].busy, s.balancers[0].max_busy), (1, 1));
}

#[test]
fn dump_is_the_configuration_as_read_in_file_order_without_secrets() {
    let rt = runtime(TUTORIAL);
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status/dump.txt"),
    )
    .expect("fixture");
    let expected: Vec<&str> = fixture
        .lines()
        .skip_while(|l| *l != "Configuration:")
        .skip(1)
        .take_while(|l| !l.starts_with("Result:"))
        .collect();
    assert_eq!(take(&rt).configuration, expected);

    let solo = take(&runtime(WITH_SOLO));
    assert!(solo
        .configuration
        .iter()
        .any(|l| l == "worker.solo.port=8009"));
    assert!(!solo.configuration.iter().any(|l| l.contains("secret")));
}

#[test]
fn draining_a_member_with_a_plain_get_shows_in_the_next_snapshot() {
    let rt = runtime(TUTORIAL);
    let (outcome, changes) = run(&rt, "cmd=update&w=lbcluster&sw=TomcatB&vwa=1");
    assert_eq!(outcome, Ok(()));
    assert_eq!(
        changes,
        ["worker lbcluster member TomcatB: activation ACT -> DIS"]
    );
    assert_eq!(lb(&rt).members()[1].activation(), Activation::Disabled);
    let s = take(&rt);
    assert_eq!(member_named(&s, "TomcatB").activation, Activation::Disabled);
    let status = StatusWorker::with_defaults("stat1");
    let summary = summarize(&s.balancers[0], status.good_mask, status.bad_mask);
    assert_eq!((summary.good, summary.degraded, summary.bad), (1, 1, 0));

    let (outcome, changes) = run(&rt, "cmd=update&w=lbcluster&sw=TomcatB&vwa=1");
    assert_eq!(outcome, Ok(()), "the same value again is applied");
    assert!(changes.is_empty(), "and is no change: {changes:?}");
}

#[test]
fn member_settings_route_redirect_domain_distance_and_factor() {
    let rt = runtime(TUTORIAL);
    let query = "cmd=update&w=lbcluster&sw=TomcatA&vwn=a1&vwr=TomcatB&vwc=dc1&vwd=2&vwf=3";
    let route = "worker lbcluster member TomcatA: route \"TomcatA\" -> \"a1\"";
    updated(&rt, query, 5, route);
    let s = take(&rt);
    let a = member_named(&s, "TomcatA");
    let texts = (a.route.as_str(), a.redirect.as_str(), a.domain.as_str());
    assert_eq!(texts, ("a1", "TomcatB", "dc1"));
    assert_eq!((a.distance, a.lbfactor, a.lbmult), (2, 3, 1));
    assert_eq!(
        member_named(&s, "TomcatB").lbmult,
        3,
        "multipliers recomputed"
    );
}

#[test]
fn lb_settings_are_edited_in_shared_memory() {
    let rt = runtime(TUTORIAL);
    let query = "cmd=update&w=lbcluster&vlt=20&vlm=b&vls=0&vlr=3&vlri=250&vlee=7&vlx=4&vlf=1&vll=p";
    updated(&rt, query, 9, "worker lbcluster: recover_time 10 -> 20");
    let c = take(&rt).balancers.remove(0).config;
    assert_eq!(
        (c.recover_time_s, c.method, c.sticky_session),
        (20, LbMethod::Busyness, false)
    );
    assert_eq!((c.retries, c.retry_interval_ms), (3, 250));
    assert_eq!((c.error_escalation_time_s, c.max_reply_timeouts), (7, 4));
    assert!(c.sticky_session_force);
    assert_eq!(c.lock, crate::config::LbLock::Pessimistic);
}

#[test]
fn a_wildcard_updates_every_matching_member() {
    let rt = runtime(TUTORIAL);
    let (outcome, changes) = run(&rt, "cmd=update&w=lbcluster&sw=Tomcat*&vwa=2");
    assert_eq!(outcome, Ok(()));
    assert_eq!(changes.len(), 2);
    let s = take(&rt);
    assert!(s.balancers[0]
        .members
        .iter()
        .all(|m| m.activation == Activation::Stopped));
}

#[test]
fn the_member_edit_form_with_unchanged_connection_settings_is_accepted() {
    let rt = runtime(TUTORIAL);
    let query = "cmd=update&w=lbcluster&sw=TomcatA&vwa=0&vwf=1&vwn=TomcatA&vwr=&vwc=&vwd=0\
                 &vahst=127.0.0.1&vaprt=18109&vacpt=0&vapng=10000&vact=0&vapt=0&vart=0&var=2\
                 &vari=100&varo=0&vabl=0&vamps=8192&vacpi=0";
    assert_eq!(run(&rt, query), (Ok(()), Vec::new()));
}

/// One connection field: the query, the change it notes, and how the page and the worker's
/// backend in this process must show it.
type LiveCheck = (
    &'static str,
    &'static str,
    fn(&crate::status::AjpConfig) -> bool,
    fn(&crate::backend::Backend) -> bool,
);

fn ms(n: u64) -> Option<std::time::Duration> {
    Some(std::time::Duration::from_millis(n))
}

fn secs(n: u64) -> Option<std::time::Duration> {
    Some(std::time::Duration::from_secs(n))
}

const LIVE_FIELDS: [LiveCheck; 12] = [
    (
        "vahst=localhost",
        "host \"127.0.0.1\" -> \"localhost\"",
        |a| a.host == "localhost",
        |b| b.address_text() == "localhost:18109",
    ),
    (
        "vaprt=18110",
        "port 18109 -> 18110",
        |a| a.port == 18110,
        |b| b.address_text().ends_with(":18110"),
    ),
    (
        "vacpt=60",
        "connection_pool_timeout 0 -> 60",
        |a| a.connection_pool_timeout_s == 60,
        |b| b.live().connection_pool_timeout == secs(60),
    ),
    (
        "vapng=2500",
        "ping_timeout 10000 -> 2500",
        |a| a.ping_timeout_ms == 2500,
        |b| b.live().ping_timeout() == std::time::Duration::from_millis(2500),
    ),
    (
        "vact=700",
        "connect_timeout 0 -> 700",
        |a| a.connect_timeout_ms == 700,
        |b| b.live().connect_timeout() == ms(700),
    ),
    (
        "vapt=800",
        "prepost_timeout 0 -> 800",
        |a| a.prepost_timeout_ms == 800,
        |b| b.live().prepost_timeout() == ms(800),
    ),
    (
        "vart=1500",
        "reply_timeout 0 -> 1500",
        |a| a.reply_timeout_ms == 1500,
        |b| b.live().reply_timeout() == ms(1500),
    ),
    (
        "var=5",
        "retries 2 -> 5",
        |a| a.retries == 5,
        |b| b.live().retries == 5,
    ),
    (
        "vari=250",
        "retry_interval 100 -> 250",
        |a| a.retry_interval_ms == 250,
        |b| b.live().retry_interval() == std::time::Duration::from_millis(250),
    ),
    (
        "varo=3",
        "recovery_options 0 -> 3",
        |a| a.recovery_options == 3,
        |b| b.live().recovery_options == 3,
    ),
    (
        "vamps=16384",
        "max_packet_size 8192 -> 16384",
        |a| a.max_packet_size == 16384,
        |b| b.live().max_packet_size == 16384,
    ),
    (
        "vacpi=30",
        "connection_ping_interval 0 -> 30",
        |a| a.connection_ping_interval_s == 30,
        |b| b.live().connection_ping_interval == secs(30),
    ),
];

#[test]
fn every_connection_setting_of_a_member_is_live() {
    for (field, change, shown, used) in LIVE_FIELDS {
        let rt = runtime(TUTORIAL);
        let backend = rt.backend("TomcatA").expect("backend");
        assert!(!used(backend), "{field}: already so before the edit");
        let query = format!("cmd=update&w=lbcluster&sw=TomcatA&{field}");
        updated(
            &rt,
            &query,
            1,
            &format!("worker lbcluster member TomcatA: {change}"),
        );
        assert!(
            shown(&member_named(&take(&rt), "TomcatA").ajp),
            "{field}: page"
        );
        assert!(used(backend), "{field}: {:?}", backend.live());
        assert!(
            !used(rt.backend("TomcatB").expect("backend")),
            "{field} reached TomcatB"
        );
        assert_eq!(
            lb(&rt).members()[0].edited().count_ones(),
            1,
            "{field}: one edited bit"
        );
    }
}

#[test]
fn a_plain_worker_takes_its_connection_settings_live() {
    let rt = runtime(WITH_SOLO);
    let solo = rt.backend("solo").expect("backend");
    assert_eq!(solo.live().reply_timeout(), None);
    let (outcome, changes) = run(&rt, "cmd=update&w=solo&vart=2000&var=3&vamps=9000");
    assert_eq!(outcome, Ok(()));
    assert_eq!(
        changes,
        [
            "worker solo: reply_timeout 0 -> 2000",
            "worker solo: retries 2 -> 3",
            "worker solo: max_packet_size 8192 -> 9216",
        ],
        "vamps is rounded up to a multiple of 1024, as mod_jk does"
    );
    let live = solo.live();
    assert_eq!(
        (live.reply_timeout(), live.retries, live.max_packet_size),
        (ms(2000), 3, 9216)
    );
    let shown = &take(&rt).ajp_workers[0].ajp;
    assert_eq!(
        (shown.reply_timeout_ms, shown.retries, shown.max_packet_size),
        (2000, 3, 9216)
    );
}

#[test]
fn values_out_of_mod_jks_range_are_refused_and_change_nothing() {
    let rt = runtime(WITH_SOLO);
    for field in [
        "vamps=4096",
        "vamps=70000",
        "var=0",
        "vahst=a%20b",
        "vaprt=70000",
    ] {
        let refused = parse_query(&format!("cmd=update&w=solo&vart=10&{field}"));
        assert!(
            refused.is_err_and(|e| matches!(e.error, StatusError::InvalidValue { .. })),
            "{field}"
        );
    }
    assert_eq!(
        rt.backend("solo").expect("backend").live().reply_timeout(),
        None
    );
}

#[test]
fn a_host_that_does_not_resolve_is_refused_with_nothing_applied() {
    let rt = runtime(TUTORIAL);
    let query = "cmd=update&w=lbcluster&sw=TomcatA&vwa=1&vart=700&vahst=no-such-host.invalid";
    let (outcome, changes) = run(&rt, query);
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "Update failed (at least partially): could not resolve address 'no-such-host.invalid:18109' for sub worker 'TomcatA'."
    );
    assert!(changes.is_empty(), "{changes:?}");
    let shown = member_named(&take(&rt), "TomcatA").clone();
    assert_eq!(
        (shown.ajp.host.as_str(), shown.ajp.reply_timeout_ms),
        ("127.0.0.1", 0)
    );
    assert_eq!(shown.activation, Activation::Active);
    assert_eq!(lb(&rt).members()[0].edited(), 0);
}

#[test]
fn a_host_too_long_for_shared_memory_is_refused() {
    let rt = runtime(TUTORIAL);
    let host = "h".repeat(61);
    let (outcome, _) = run(
        &rt,
        &format!("cmd=update&w=lbcluster&sw=TomcatA&vahst={host}"),
    );
    assert!(
        matches!(
            outcome,
            Err(StatusError::TooLong {
                what: "host name",
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_unix_socket_worker_keeps_its_address_but_takes_the_rest() {
    let dir = std::env::temp_dir();
    let text = format!(
        "worker.list=sock\nworker.sock.host=unix:{}/jk-live-test.sock\n",
        dir.display()
    );
    let rt = runtime(&text);
    let host = format!("unix:{}/jk-live-test.sock", dir.display());
    let form = format!("cmd=update&w=sock&vahst={host}&vaprt=0&vart=900");
    let (outcome, changes) = run(&rt, &form);
    assert_eq!(outcome, Ok(()), "the edit form sends the socket path back");
    assert_eq!(changes, ["worker sock: reply_timeout 0 -> 900"]);
    for field in ["vahst=127.0.0.1", "vaprt=8009"] {
        let (outcome, _) = run(&rt, &format!("cmd=update&w=sock&{field}"));
        assert!(
            matches!(outcome, Err(StatusError::AddressFixed { .. })),
            "{field}: {outcome:?}"
        );
    }
    let (outcome, _) = run(
        &rt,
        "cmd=update&w=lbcluster&sw=TomcatA&vahst=unix:/tmp/x.sock",
    );
    assert!(outcome.is_err());
}

/// A listener that accepts connections and counts them (and keeps them open).
fn counting_listener() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            open.push(stream);
        }
    });
    (port, count)
}

#[test]
fn a_new_port_closes_pooled_connections_and_connects_to_the_new_address() {
    use std::sync::atomic::Ordering;
    let (old_port, old_count) = counting_listener();
    let (new_port, new_count) = counting_listener();
    let rt = runtime(&format!(
        "worker.list=lbcluster\nworker.lbcluster.type=lb\nworker.lbcluster.balance_workers=a\n\
         worker.a.host=127.0.0.1\nworker.a.port={old_port}\n"
    ));
    let backend = rt.backend("a").expect("backend");
    let live = backend.live();
    let first = backend.acquire(false, &live).expect("connect");
    let second = backend.acquire(false, &live).expect("connect");
    assert!(!first.reused && !second.reused);
    backend.release(first.conn);
    assert_eq!(backend.pool().idle_count(), 1);
    let query = format!("cmd=update&w=lbcluster&sw=a&vaprt={new_port}");
    updated(
        &rt,
        &query,
        1,
        &format!("worker lbcluster member a: port {old_port} -> {new_port}"),
    );
    let live = backend.live();
    assert_eq!(
        backend.pool().idle_count(),
        0,
        "the old address's connection is closed"
    );
    backend.release(second.conn);
    assert_eq!(
        backend.pool().idle_count(),
        0,
        "one handed back late is closed, not pooled"
    );
    let next = backend.acquire(false, &live).expect("connect");
    assert!(!next.reused, "not the pooled connection to the old port");
    assert_eq!(backend.address_text(), format!("127.0.0.1:{new_port}"));
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        (
            old_count.load(Ordering::SeqCst),
            new_count.load(Ordering::SeqCst)
        ),
        (2, 1)
    );
    assert_eq!(backend.resolved_address().map(|a| a.port()), Some(new_port));
    backend.release(next.conn);
    assert_eq!(
        backend.pool().idle_count(),
        1,
        "the new address's connections are pooled"
    );
}

#[test]
fn busy_limit_is_live_for_members_and_plain_workers() {
    let rt = runtime(WITH_SOLO);
    let (outcome, changes) = run(&rt, "cmd=update&w=solo&vabl=5");
    assert_eq!(outcome, Ok(()));
    assert_eq!(changes, ["worker solo: busy_limit 0 -> 5"]);
    let Ok(Target::Ajp(solo)) = rt.target("solo") else {
        panic!("solo is a plain worker");
    };
    let record = solo.record().expect("record");
    assert_eq!(record.busy_limit(), 5);
    for _ in 0..5 {
        assert!(record.try_enter());
    }
    assert!(!record.try_enter(), "the sixth is over the new limit");
    let s = take(&rt);
    let shown = &s.ajp_workers[0];
    assert_eq!((shown.name.as_str(), shown.ajp.busy_limit), ("solo", 5));
    assert_eq!(shown.ajp.host, "10.0.0.9");

    let (outcome, _) = run(&rt, "cmd=update&w=lbcluster&sw=TomcatB&vabl=9");
    assert_eq!(outcome, Ok(()));
    assert_eq!(lb(&rt).members()[1].busy_limit(), 9);
    assert_eq!(member_named(&take(&rt), "TomcatB").ajp.busy_limit, 9);
}

#[test]
fn reset_zeroes_the_counters_of_an_lb_a_member_or_a_plain_worker() {
    let rt = runtime(WITH_SOLO);
    for m in lb(&rt).members() {
        m.elected.store(11, Relaxed);
        m.errors.store(1, Relaxed);
        m.add_traffic(100, 200);
    }
    let (outcome, changes) = run(&rt, "cmd=reset&w=lbcluster&sw=TomcatB");
    assert_eq!(outcome, Ok(()));
    assert_eq!(changes, ["worker lbcluster member TomcatB: reset"]);
    let s = take(&rt);
    assert_eq!(member_named(&s, "TomcatA").elected, 11, "only TomcatB");
    assert_eq!(member_named(&s, "TomcatB").elected, 0);

    assert_eq!(run(&rt, "cmd=reset&w=lbcluster").0, Ok(()));
    let s = take(&rt);
    for m in &s.balancers[0].members {
        assert_eq!(
            (m.elected, m.errors, m.traffic.read, m.traffic.transferred),
            (0, 0, 0, 0)
        );
    }

    let Ok(Target::Ajp(solo)) = rt.target("solo") else {
        panic!("solo is a plain worker");
    };
    let record = solo.record().expect("record");
    record.elected.store(3, Relaxed);
    record.last_reset.store(1000, Relaxed);
    assert_eq!(run(&rt, "cmd=reset&w=solo").0, Ok(()));
    let s = take(&rt);
    assert_eq!(s.ajp_workers[0].used, 0);
    assert!(s.ajp_workers[0].last_reset > 1);
}

#[test]
fn recover_moves_a_member_in_error_to_recovering() {
    let rt = runtime(TUTORIAL);
    let a = &lb(&rt).members()[0];
    let now = wall_ms();
    a.state.store(State::Error.code(), Relaxed);
    a.last_error_time.store(now, Relaxed);
    let s = snapshot(&rt, &env(&[], now));
    let shown = member_named(&s, "TomcatA");
    assert_eq!(shown.state, State::Error);
    assert_eq!(shown.recover_in, SecondsRange { min: 10, max: 15 });

    let (outcome, changes) = run(&rt, "cmd=recover&w=lbcluster&sw=TomcatA");
    assert_eq!(outcome, Ok(()));
    assert_eq!(
        changes,
        ["worker lbcluster member TomcatA: state ERR -> ERR/REC"]
    );
    let s = take(&rt);
    assert_eq!(member_named(&s, "TomcatA").state, State::Recovering);
    assert_eq!(
        member_named(&s, "TomcatA").recover_in,
        SecondsRange::default()
    );

    let (outcome, changes) = run(&rt, "cmd=recover&w=lbcluster&sw=TomcatB");
    assert_eq!(
        outcome,
        Err(StatusError::RecoverFailed),
        "TomcatB is not in error"
    );
    assert!(changes.is_empty());
}

#[test]
fn maintenance_and_recovery_times_as_mod_jk_shows_them() {
    // list-TomcatA-killed.txt: maintain=5, 3 s after the last maintenance, recover_time=10.
    let last = 1_795_481_718_000;
    let maintenance = maintenance_in(last, 5, last + 3_400);
    assert_eq!(maintenance, SecondsRange { min: 2, max: 7 });
    let recover = recover_in(State::Error, last + 3_000, 10, maintenance, 5, last + 3_400);
    assert_eq!(recover, SecondsRange { min: 10, max: 15 });
    assert_eq!(
        recover_in(State::Error, last, 10, maintenance, 5, last + 60_000),
        SecondsRange { min: 2, max: 5 },
        "overdue: at the next maintenance"
    );
    assert_eq!(
        maintenance_in(last, 5, last + 60_000),
        SecondsRange::default()
    );
    assert_eq!(maintenance_in(last, 0, last), SecondsRange::default());
    assert_eq!(
        recover_in(State::Ok, last, 10, maintenance, 5, last),
        SecondsRange::default()
    );
}

/// Splits a `txt` line into its label and `key=value` pairs (values may be quoted).
fn fields(line: &str) -> (String, Vec<(String, String)>) {
    let (label, rest) = line.split_once(": ").unwrap_or((line, ""));
    let mut pairs = Vec::new();
    let mut rest = rest.trim_start();
    while let Some((key, after)) = rest.split_once('=') {
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').unwrap_or(quoted.len());
                (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
            }
            None => after.split_once(' ').unwrap_or((after, "")),
        };
        pairs.push((key.to_owned(), value.to_owned()));
        rest = tail.trim_start();
    }
    (label.to_owned(), pairs)
}

/// Values that depend on the moment and the traffic, not on the configuration.
const VOLATILE: [&str; 21] = [
    "datetime",
    "tz",
    "unix",
    "web_server",
    "jk_version",
    "busy",
    "max_busy",
    "time_to_maintenance_min",
    "time_to_maintenance_max",
    "last_reset_at",
    "last_reset_ago",
    "state",
    "lbvalue",
    "elected",
    "sessions",
    "transferred",
    "read",
    "connected",
    "max_connected",
    "time_to_recover_min",
    "time_to_recover_max",
];

#[test]
fn the_txt_list_of_the_tutorial_has_the_structure_of_mod_jks() {
    let rt = runtime(TUTORIAL);
    let snapshot = take(&rt);
    let request = parse_query("mime=txt").expect("query");
    let status = StatusWorker::with_defaults("stat1");
    let view = View {
        snapshot: &snapshot,
        request: &request,
        status: &status,
        base_uri: "/jkstatus",
        token: "t",
    };
    let ours = render(&view, &Ok(())).body;
    let sample = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status/list.txt"),
    )
    .expect("fixture");
    let (ours, sample): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), sample.lines().collect());
    assert_eq!(ours.len(), sample.len(), "{ours:#?}");
    for (o, s) in ours.iter().zip(&sample) {
        let (label_o, pairs_o) = fields(o);
        let (label_s, pairs_s) = fields(s);
        assert_eq!(label_o, label_s);
        let keys = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&pairs_o), keys(&pairs_s), "keys of {label_s}");
        for ((key, ours), (_, theirs)) in pairs_o.iter().zip(&pairs_s) {
            if !VOLATILE.contains(&key.as_str()) {
                assert_eq!(ours, theirs, "{label_s} {key}");
            }
        }
    }
}

mod journal {
    use super::super::edits_journal::{current, parse, render, replay, HEADER};
    use super::*;

    #[test]
    fn only_the_edited_settings_are_journaled_and_a_fresh_runtime_replays_them() {
        let rt = runtime(TUTORIAL);
        assert!(current(&rt).is_empty(), "nothing edited yet");
        for query in [
            "cmd=update&w=lbcluster&sw=TomcatB&vwa=1",
            "cmd=update&w=lbcluster&vlt=20",
            "cmd=update&w=lbcluster&sw=TomcatA&vwn=r%20a",
        ] {
            let (outcome, changes) = run(&rt, query);
            assert_eq!(
                (outcome, changes.len()),
                (Ok(()), 1),
                "{query}: {changes:?}"
            );
        }
        let lines = current(&rt);
        assert_eq!(
            lines,
            [
                "w=lbcluster&vlt=20",
                "w=lbcluster&sw=TomcatA&vwn=r%20a",
                "w=lbcluster&sw=TomcatB&vwa=Disabled",
            ]
        );
        let text = render(&lines);
        assert!(text.starts_with(HEADER));
        let fresh = runtime(TUTORIAL);
        let changes = replay(&fresh, &parse(&text).unwrap(), &env(&[], wall_ms())).unwrap();
        assert_eq!(changes.len(), 3, "{changes:?}");
        let snap = take(&fresh);
        assert_eq!(
            member_named(&snap, "TomcatB").activation,
            Activation::Disabled
        );
        assert_eq!(member_named(&snap, "TomcatA").route, "r a");
        assert_eq!(snap.balancers[0].config.recover_time_s, 20);
        // Replayed edits are edits again: the next journal says the same.
        assert_eq!(current(&fresh), lines);
    }

    #[test]
    fn connection_settings_of_members_and_plain_workers_are_journaled_and_replayed() {
        let rt = runtime(WITH_SOLO);
        for query in [
            "cmd=update&w=lbcluster&sw=TomcatA&vart=1500&vahst=127.0.0.1",
            "cmd=update&w=solo&vamps=16384&vabl=4&vaprt=8010",
        ] {
            assert_eq!(run(&rt, query).0, Ok(()), "{query}");
        }
        let lines = current(&rt);
        assert_eq!(
            lines,
            [
                "w=lbcluster&sw=TomcatA&vahst=127.0.0.1&vart=1500",
                "w=solo&vabl=4&vaprt=8010&vamps=16384",
            ]
        );
        let fresh = runtime(WITH_SOLO);
        let text = render(&lines);
        let changes = replay(&fresh, &parse(&text).unwrap(), &env(&[], wall_ms())).unwrap();
        assert_eq!(changes.len(), 5, "{changes:?}");
        assert_eq!(current(&fresh), lines);
        let solo = fresh.backend("solo").expect("backend");
        assert_eq!(solo.live().max_packet_size, 16384);
        assert_eq!(solo.address_text(), "10.0.0.9:8010");
        let a = fresh.backend("TomcatA").expect("backend");
        assert_eq!(a.live().reply_timeout(), ms(1500));
        assert_eq!(a.address_text(), "127.0.0.1:18109");
    }

    #[test]
    fn a_journaled_host_is_replayed_without_resolving_it() {
        let rt = runtime(TUTORIAL);
        let lines = ["w=lbcluster&sw=TomcatB&vahst=tomcat-b.invalid".to_string()];
        let changes = replay(&rt, &lines, &env(&[], wall_ms())).unwrap();
        assert_eq!(changes.len(), 1);
        let b = rt.backend("TomcatB").expect("backend");
        let live = b.live();
        assert_eq!(b.address_text(), "tomcat-b.invalid:18119");
        assert!(
            b.connect(&live).is_err(),
            "resolved at connect, and it fails there"
        );
    }

    #[test]
    fn a_damaged_or_foreign_journal_is_refused_whole() {
        let text = render(&["w=lbcluster&sw=TomcatB&vwa=Disabled".to_string()]);
        assert!(
            parse(&text.replace("Disabled", "Stopped__")).is_err(),
            "checksum"
        );
        assert!(parse(&text[..text.len() - 5]).is_err(), "cut short");
        assert!(
            parse("w=lbcluster&vlt=1\n").is_err(),
            "no header, no checksum"
        );
        let foreign = render(&[]).replace(HEADER, "# some other file");
        assert!(parse(&foreign).is_err());
    }

    #[test]
    fn a_journal_naming_a_missing_member_changes_nothing() {
        let rt = runtime(TUTORIAL);
        let lines = vec![
            "w=lbcluster&sw=TomcatA&vwa=Disabled".to_string(),
            "w=lbcluster&sw=TomcatC&vwa=Disabled".to_string(),
        ];
        let e = replay(&rt, &lines, &env(&[], wall_ms())).unwrap_err();
        assert!(
            e.to_string().contains("line 3") && e.to_string().contains("TomcatC"),
            "{e}"
        );
        assert_eq!(
            member_named(&take(&rt), "TomcatA").activation,
            Activation::Active
        );
        let e = replay(&rt, &["w=nolb&vlt=3".to_string()], &env(&[], wall_ms())).unwrap_err();
        assert!(e.to_string().contains("nolb"), "{e}");
    }
}
