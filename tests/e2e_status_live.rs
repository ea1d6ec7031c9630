//! The connection settings the status worker changes at run time (issue #15), through a real
//! prefork httpd: a new port for an lb member sends the next requests — in children other
//! than the one that took the edit — to another backend and none to the old one; a shorter
//! reply timeout makes a slow backend time out; a larger max packet size lets a backend with
//! larger packets through; every format shows the new values and `read_only` refuses them.
//!
//! The lab: lb `lb` over m1 (backend A, later B) and m2 (C); plain workers `slow` (S) and
//! `big` (D, whose packets are 16 KiB); status workers `/jkstatus` and `/jkstatus-ro`
//! (read_only). A second access log, `pids.log`, has the pid of the child behind each request.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{pattern_byte, AjpBackend, BackendOptions};
use e2e_common::{backend, backend_with, must_get, Checks};
use http_client::Response;
use httpd::{Httpd, HttpdConfig, Mpm};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const OK: &str = "Result: type=OK message=\"Action finished\"";
const CHILDREN: usize = 4;

struct Lab {
    httpd: Httpd,
    a: AjpBackend,
    b: AjpBackend,
    _c: AjpBackend,
    s: AjpBackend,
    d: AjpBackend,
}

impl Lab {
    fn start() -> Lab {
        let (a, b, c, s) = (backend("A"), backend("B"), backend("C"), backend("S"));
        let big = BackendOptions {
            max_packet: 16384,
            ..BackendOptions::default()
        };
        let d = backend_with("D", big);
        let mut props = String::from("worker.list=lb,slow,big,stat1,stat_ro\n");
        for (name, port) in [
            ("m1", a.port()),
            ("m2", c.port()),
            ("slow", s.port()),
            ("big", d.port()),
        ] {
            props.push_str(&format!(
                "worker.{name}.host=127.0.0.1\nworker.{name}.port={port}\n\
                 worker.{name}.reply_timeout=5000\nworker.{name}.socket_connect_timeout=1000\n"
            ));
        }
        props.push_str(
            "worker.lb.type=lb\nworker.lb.balance_workers=m1,m2\n\
             worker.stat1.type=status\n\
             worker.stat_ro.type=status\nworker.stat_ro.read_only=true\n",
        );
        let mut cfg = HttpdConfig::with_module(Mpm::Prefork);
        cfg.prefork_children = CHILDREN;
        cfg.global = "JkWorkersFile {dir}/workers.properties\n\
             LogFormat \"%P %>s \\\"%r\\\"\" pids\n\
             CustomLog \"{dir}/pids.log\" pids\n\
             JkMount /app/* lb\nJkMount /slow/* slow\nJkMount /big/* big\n\
             JkMount /jkstatus stat1\nJkMount /jkstatus-ro stat_ro\n"
            .to_string();
        cfg.files = vec![("workers.properties".to_string(), props)];
        let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
        Lab {
            httpd,
            a,
            b,
            _c: c,
            s,
            d,
        }
    }

    fn get(&self, path: &str) -> Response {
        must_get(&self.httpd, path)
    }

    /// Runs the status update `query` (txt); its answer's last line and the child's pid.
    fn update(&self, query: &str) -> (String, Option<u32>) {
        let marker = format!("edit-{}", query.len());
        let text = self
            .get(&format!("/jkstatus?{query}&mime=txt&marker={marker}"))
            .text();
        let last = text.lines().last().unwrap_or_default().to_string();
        (last, self.pid_of(&format!("marker={marker}")))
    }

    /// The pid of the child that served the request whose line contains `marker`.
    fn pid_of(&self, marker: &str) -> Option<u32> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let log =
                std::fs::read_to_string(self.httpd.dir().join("pids.log")).unwrap_or_default();
            let pid = log
                .lines()
                .find(|l| l.contains(marker))
                .and_then(|l| l.split(' ').next()?.parse().ok());
            if pid.is_some() {
                return pid;
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Sends `path` (with `&m=<marker>` added) from four threads at once, round after round,
/// until `want` children other than `updater` served it (prefork: each thread's new
/// connection may land in another child). `check` judges every answer.
fn from_other_children(
    lab: &Arc<Lab>,
    c: &mut Checks,
    path: &str,
    (updater, want): (Option<u32>, usize),
    check: impl Fn(&Response) -> Result<(), String>,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut others = BTreeSet::new();
    let mut round = 0;
    while others.len() < want && Instant::now() < deadline {
        round += 1;
        let answers: Vec<(String, Response)> = (0..CHILDREN)
            .map(|t| {
                let lab = Arc::clone(lab);
                let marker = format!("r{round}t{t}x{}", path.len());
                let path = format!("{path}&m={marker}");
                thread::spawn(move || (marker, lab.get(&path)))
            })
            .filter_map(|h| h.join().ok())
            .collect();
        for (marker, resp) in answers {
            let pid = lab.pid_of(&format!("m={marker}"));
            if let Err(why) = check(&resp) {
                c.fail(format!("{path} in child {pid:?}: {why}"));
            }
            if let Some(pid) = pid.filter(|p| Some(*p) != updater) {
                others.insert(pid);
            }
        }
    }
    c.check(others.len() >= want, || {
        format!("only {others:?} besides the updater {updater:?} answered {path}")
    });
}

/// Every format of the page (`mime`) for worker `w` shows `needle`s.
fn every_format_shows(lab: &Lab, c: &mut Checks, w: &str, needles: [(&str, &str); 5]) {
    for (mime, needle) in needles {
        let body = lab
            .get(&format!("/jkstatus?cmd=show&w={w}&mime={mime}"))
            .text();
        c.check(body.contains(needle), || {
            format!("{mime} page of {w} lacks {needle:?}:\n{body}")
        });
    }
}

#[test]
fn a_new_port_sends_a_members_next_requests_to_another_backend_in_every_child() {
    let lab = Arc::new(Lab::start());
    let mut c = Checks::new();
    let to_m1 = "/app/x;jsessionid=abc.m1?k=1";
    // Every child gets (and pools) connections to A first.
    from_other_children(&lab, &mut c, to_m1, (None, CHILDREN), |r| {
        match (r.status, r.header("X-Backend")) {
            (200, Some("A")) => Ok(()),
            other => Err(format!("before the edit: {other:?}")),
        }
    });
    let on_a = lab.a.requests().len();
    let (answer, updater) = lab.update(&format!("cmd=update&w=lb&sw=m1&vaprt={}", lab.b.port()));
    c.equal(answer.as_str(), OK, "vaprt update");
    c.check(updater.is_some(), || "no pid for the update".into());
    from_other_children(&lab, &mut c, to_m1, (updater, 2), |r| {
        match (r.status, r.header("X-Backend")) {
            (200, Some("B")) => Ok(()),
            other => Err(format!("after the edit: {other:?}")),
        }
    });
    c.equal(
        lab.a.requests().len(),
        on_a,
        "requests A got after the edit",
    );
    let port = lab.b.port();
    every_format_shows(
        &lab,
        &mut c,
        "lb",
        [
            ("txt", &format!("port={port}")),
            ("prop", &format!(".port={port}")),
            ("xml", &format!("port=\"{port}\"")),
            ("json", &format!("\"port\":{port}")),
            ("html", &format!(":{port}")),
        ],
    );
    c.finish(&lab.httpd);
}

#[test]
fn a_shorter_reply_timeout_makes_a_slow_backend_time_out_in_every_child() {
    let lab = Arc::new(Lab::start());
    let mut c = Checks::new();
    let slow = "/slow/x?sleep=1500";
    c.equal(
        lab.get(slow).status,
        200,
        "1.5 s answer within reply_timeout 5000",
    );
    let (answer, updater) = lab.update("cmd=update&w=slow&vart=400");
    c.equal(answer.as_str(), OK, "vart update");
    from_other_children(&lab, &mut c, slow, (updater, 2), |r| match r.status {
        504 => Ok(()),
        other => Err(format!(
            "answered {other}, expected 504 (reply_timeout 400)"
        )),
    });
    c.check(lab.s.requests().len() > 2, || {
        "the slow backend saw the requests".into()
    });
    every_format_shows(
        &lab,
        &mut c,
        "slow",
        [
            ("txt", "reply_timeout=400"),
            ("prop", ".reply_timeout=400"),
            ("xml", "reply_timeout=\"400\""),
            ("json", "\"reply_timeout\":400"),
            ("html", "<td>400</td>"),
        ],
    );
    let ro = lab
        .get("/jkstatus-ro?cmd=update&w=slow&vart=5000&mime=txt")
        .text();
    c.check(ro.contains("read only mode"), || {
        format!("read_only answered:\n{ro}")
    });
    c.equal(
        lab.get(slow).status,
        504,
        "still 504 after the refused edit",
    );
    c.finish(&lab.httpd);
}

#[test]
fn a_larger_max_packet_size_lets_larger_packets_through_in_every_child() {
    let lab = Arc::new(Lab::start());
    let mut c = Checks::new();
    let big = "/big/x?size=40000";
    // D sends 16 KiB body packets: more than 8192 is a protocol error here.
    c.equal(
        lab.get(big).status,
        502,
        "16 KiB packets with max_packet_size 8192",
    );
    let (answer, updater) = lab.update("cmd=update&w=big&vamps=16000");
    c.equal(answer.as_str(), OK, "vamps update");
    from_other_children(&lab, &mut c, big, (updater, 2), |r| {
        let pattern_ok = r.body.len() == 40000
            && r.body
                .iter()
                .enumerate()
                .all(|(i, b)| *b == pattern_byte(i as u64));
        match (r.status, pattern_ok) {
            (200, true) => Ok(()),
            (status, _) => Err(format!("{status} with {} body bytes", r.body.len())),
        }
    });
    c.check(lab.d.protocol_errors().is_empty(), || {
        format!("D saw {:?}", lab.d.protocol_errors())
    });
    every_format_shows(
        &lab,
        &mut c,
        "big",
        [
            ("txt", "max_packet_size=16384"),
            ("prop", ".max_packet_size=16384"),
            ("xml", "max_packet_size=\"16384\""),
            ("json", "\"max_packet_size\":16384"),
            ("html", "<td>16384</td>"),
        ],
    );
    let too_big = lab
        .get("/jkstatus?cmd=update&w=big&vamps=70000&mime=txt")
        .text();
    c.check(
        too_big.contains("invalid value '70000' for 'vamps'"),
        || format!("vamps=70000 answered:\n{too_big}"),
    );
    c.finish(&lab.httpd);
}
