//! The tutorial's system against real Tomcat 10: `scripts/tutorial.sh` (the README's main
//! command) starts TomcatA and TomcatB (jvmRoute, AJP secret, DeltaManager cluster) and httpd with
//! mod_jk_rs configured by `httpd-conf/tutorial/`, on ports free at run time; the tests speak HTTP
//! to httpd only. One pair of Tomcats serves every scenario of `tutorial_system_with_real_tomcat`
//! (a Tomcat needs seconds to start), in an order that leaves the kill -9 for last.
//!
//! Without Tomcat installed these tests fail (CI installs it); `MOD_JK_RS_SKIP_TOMCAT=1` skips
//! them. The configuration checks at the end need no Tomcat and always run.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

#[path = "support/tutorial.rs"]
mod tutorial;

use e2e_common::{noise, Checks};
use http_client::{Body, Request, Response};
use httpd::{config_test, free_port, module_path, tail, Httpd, HttpdConfig, Mpm};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tutorial::{repo, tomcat_wanted, Tutorial, TOMCATS};

/// The tutorial's own workers.properties, verbatim (shared with the configuration tests).
const TUTORIAL_WORKERS: &str = include_str!("fixtures/tutorial-workers.properties");
/// The tutorial's httpd-jk.conf, verbatim (with its `#…` notes after the directives).
const TUTORIAL_JK_CONF: &str = include_str!("fixtures/tomcat/tutorial/httpd-jk.conf");
/// The tutorial's index.jsp, verbatim.
const TUTORIAL_INDEX_JSP: &str = include_str!("fixtures/tomcat/tutorial/index.jsp");
/// The tutorial's `<Cluster>` block for server.xml, verbatim.
const TUTORIAL_CLUSTER: &str = include_str!("fixtures/tomcat/tutorial/cluster.xml");
const SESSION_JSP: &str = include_str!("fixtures/tomcat/app/session.jsp");
const BODY_JSP: &str = include_str!("fixtures/tomcat/app/body.jsp");
/// Debian's mod_jk, to show the tutorial's text fails the same way there.
const MOD_JK: &str = "/usr/lib/apache2/modules/mod_jk.so";

/// What `session.jsp` says.
#[derive(Clone, Debug, Default, PartialEq)]
struct Page {
    status: u16,
    node: String,
    session: String,
    created: String,
    abc: String,
    count: u32,
    set_cookie: Option<String>,
}

impl Page {
    fn from(resp: &Response) -> Page {
        let text = resp.text();
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        Page {
            status: resp.status,
            node: value("node"),
            session: value("session"),
            created: value("created"),
            abc: value("abc"),
            count: value("count").parse().unwrap_or(0),
            set_cookie: resp
                .header("Set-Cookie")
                .and_then(|c| c.strip_prefix("JSESSIONID="))
                .and_then(|c| c.split(';').next())
                .map(str::to_string),
        }
    }
}

/// The jvmRoute a session id ends with (`8F3A….TomcatA` → `TomcatA`).
fn route(session: &str) -> &str {
    session.rsplit_once('.').map_or("", |(_, r)| r)
}

fn send(addr: std::net::SocketAddr, req: &Request) -> Response {
    http_client::request(addr, req)
        .unwrap_or_else(|e| panic!("{} {} failed at the HTTP level: {e}", req.method, req.path))
}

fn page(addr: std::net::SocketAddr, path: &str, session: Option<&str>) -> Page {
    let mut req = Request::get(path);
    if let Some(id) = session {
        req = req.header("Cookie", &format!("JSESSIONID={id}"));
    }
    Page::from(&send(addr, &req))
}

/// The shipped `httpd-conf/tutorial/workers.properties` with this run's ports and `secret`, the
/// same replacements `scripts/tutorial.sh` makes.
fn shipped_workers(t: &Tutorial, secret: &str) -> String {
    let text = std::fs::read_to_string(repo().join("httpd-conf/tutorial/workers.properties"))
        .expect("httpd-conf/tutorial/workers.properties");
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.split_once('=') {
            Some(("worker.TomcatA.port", _)) => format!("worker.TomcatA.port={}", t.ajp_ports[0]),
            Some(("worker.TomcatB.port", _)) => format!("worker.TomcatB.port={}", t.ajp_ports[1]),
            Some((key, _)) if key.ends_with(".secret") => format!("{key}={secret}"),
            _ => line.to_string(),
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The tutorial's workers.properties with only the addresses changed: each worker's host to
/// 127.0.0.1 and its port to this run's.
fn tutorial_workers(t: &Tutorial) -> String {
    let mut out = String::new();
    for line in TUTORIAL_WORKERS.lines() {
        let mut line = line
            .replace("192.168.18.201", "127.0.0.1")
            .replace("192.168.18.202", "127.0.0.1");
        for (i, tomcat) in TOMCATS.iter().enumerate() {
            if line
                .trim_start()
                .starts_with(&format!("worker.{tomcat}.port"))
            {
                line = line.replace("8009", &t.ajp_ports[i].to_string());
            }
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The tutorial's httpd-jk.conf lines without their `#…` notes (which httpd rejects) and
/// without LoadModule (the harness loads the module under test as `jk_module`), its
/// JkWorkersFile pointed at the server directory.
fn tutorial_jk_lines() -> String {
    TUTORIAL_JK_CONF
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with("LoadModule"))
        .map(|l| {
            l.replace(
                "/etc/httpd/extra/workers.properties",
                "{dir}/workers.properties",
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An httpd (test harness) with our module as `jk_module` and this global configuration.
fn harness_httpd(global: String, workers: String) -> Httpd {
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.module_symbol = "jk_module".to_string();
    cfg.global = global;
    cfg.log_level = "info jk:debug".to_string();
    cfg.files = vec![
        ("workers.properties".to_string(), workers),
        ("logs/.keep".to_string(), String::new()),
    ];
    Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"))
}

/// Requests `path` until `want` serves it (or `timeout`); returns how long that took.
fn until_served_by(addr: std::net::SocketAddr, want: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if page(addr, "/session.jsp", None).node == want {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    None
}

#[test]
fn tutorial_system_with_real_tomcat() {
    if !tomcat_wanted() {
        return;
    }
    let clock = Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1?}] {what}", clock.elapsed());
    let t = Tutorial::start();
    step("started: TomcatA, TomcatB, httpd");
    let addr = t.addr();
    t.deploy("session.jsp", SESSION_JSP.as_bytes());
    t.deploy("body.jsp", BODY_JSP.as_bytes());
    t.deploy("tutorial.jsp", TUTORIAL_INDEX_JSP.as_bytes());
    let big: Vec<u8> = noise(10 << 20, 7);
    t.deploy("big.bin", &big);
    let mut c = Checks::new();

    // The tutorial's page through the main command's httpd.
    let index = send(addr, &Request::get("/index.jsp"));
    c.equal(index.status, 200, "GET /index.jsp");
    c.check(
        TOMCATS
            .iter()
            .any(|n| index.text().contains(&format!("<title>{n}</title>"))),
        || format!("/index.jsp does not name a Tomcat: {}", index.text()),
    );

    step("alternation");
    // 1. Requests without a session alternate between the Tomcats.
    let nodes: Vec<String> = (0..8)
        .map(|_| page(addr, "/session.jsp", None).node)
        .collect();
    c.check(
        nodes.iter().all(|n| TOMCATS.contains(&n.as_str()))
            && nodes.windows(2).all(|w| w[0] != w[1]),
        || format!("requests without a session do not alternate: {nodes:?}"),
    );

    step("sticky sessions");
    // 2. A session stays on its Tomcat for 20 requests, by cookie…
    let first = page(addr, "/session.jsp", None);
    let home = first.node.clone();
    c.equal(
        route(&first.session),
        home.as_str(),
        "route of a new session",
    );
    let mut last = first.clone();
    for i in 2..=21 {
        let p = page(addr, "/session.jsp", Some(&first.session));
        c.check(
            p.node == home && p.count == i && p.session == first.session,
            || format!("request {i} with JSESSIONID={}: {p:?}", first.session),
        );
        last = p;
    }
    // … and by ;jsessionid= in the URL.
    let other = page(addr, "/session.jsp", None);
    for i in 2..=21 {
        let p = page(
            addr,
            &format!("/session.jsp;jsessionid={}", other.session),
            None,
        );
        c.check(p.node == other.node && p.count == i, || {
            format!("request {i} with ;jsessionid={}: {p:?}", other.session)
        });
    }

    step("bodies");
    // 3. Bodies, byte for byte: a 3 MB POST, the same chunked, a 10 MiB download.
    let upload = noise(3_000_000, 3);
    let digest = sha256_hex(&upload);
    for (what, body) in [
        ("3 MB POST", Body::Fixed(upload.clone())),
        (
            "3 MB chunked POST",
            Body::Chunked(upload.chunks(100_003).map(<[u8]>::to_vec).collect()),
        ),
    ] {
        let resp = send(addr, &Request::new("POST", "/body.jsp").body(body));
        let text = resp.text();
        c.check(
            resp.status == 200
                && text.contains("bytes=3000000")
                && text.contains(&format!("sha256={digest}")),
            || format!("{what}: Tomcat read {} {text:?}", resp.status),
        );
    }
    let download = send(addr, &Request::get("/big.bin"));
    c.check(download.status == 200 && download.body == big, || {
        format!(
            "10 MiB download: status {}, {} bytes, identical: {}",
            download.status,
            download.body.len(),
            download.body == big
        )
    });

    step("wrong secret");
    // 4. A wrong secret is refused by Tomcat, and our log says why.
    {
        let httpd = harness_httpd(
            "JkWorkersFile {dir}/workers.properties\nJkMount /* lbcluster".into(),
            shipped_workers(&t, "not-the-secret"),
        );
        let resp = send(httpd.addr(), &Request::get("/session.jsp"));
        c.equal(resp.status, 403, "status with a wrong secret");
        c.check(
            httpd.wait_for_error_log("secret differs", Duration::from_secs(5)),
            || {
                format!(
                    "no log line about the secret:\n{}",
                    tail(&httpd.error_log(), 10)
                )
            },
        );
    }

    step("the tutorial's files");
    // 5. The tutorial's own files: its workers.properties (sticky_session = 0, no secret) and
    //    httpd-jk.conf lines, only the addresses changed.
    tutorial_files(&mut c, &t);

    step("kill -9");
    // 6. kill -9 of the session's Tomcat: the next request goes to the other one, with the same
    //    session (DeltaManager replicated it) renamed to its new route.
    std::thread::sleep(Duration::from_millis(500)); // replication is asynchronous
    t.kill_tomcat(&home);
    let moved = page(addr, "/session.jsp", Some(&first.session));
    let survivor = TOMCATS.iter().find(|n| **n != home).unwrap().to_string();
    c.equal(moved.status, 200, "status after kill -9");
    c.equal(moved.node.as_str(), survivor.as_str(), "node after kill -9");
    c.equal(moved.count, last.count + 1, "session count after failover");
    c.equal(
        moved.abc.as_str(),
        "abc",
        "session attribute after failover",
    );
    c.equal(
        moved.created.as_str(),
        first.created.as_str(),
        "session creation time",
    );
    c.equal(
        route(&moved.session),
        survivor.as_str(),
        "route suffix after failover",
    );
    c.check(
        moved.set_cookie.as_deref() == Some(moved.session.as_str()),
        || format!("no new JSESSIONID cookie after failover: {moved:?}"),
    );
    for _ in 0..5 {
        let p = page(addr, "/session.jsp", Some(&moved.session));
        c.check(p.node == survivor, || {
            format!("renamed session left {survivor}: {p:?}")
        });
    }

    step("restart");
    // 7. The killed Tomcat is taken back once it runs again.
    t.start_tomcat(&home);
    let back = until_served_by(addr, &home, Duration::from_secs(60));
    c.check(back.is_some(), || {
        format!("{home} restarted but got no request within 60 s")
    });
    let after = page(addr, "/session.jsp", Some(&moved.session));
    c.check(after.node == survivor && after.abc == "abc", || {
        format!("the moved session after {home} came back: {after:?}")
    });

    c.check(
        !t.error_log().contains("exit signal") && !t.error_log().contains("panicked"),
        || "an httpd child crashed".into(),
    );
    if let Some(took) = back {
        eprintln!("{home} was taken back {took:?} after it answered CPing again");
    }
    assert!(
        c.failures().is_empty(),
        "{} check(s) failed:\n  - {}\n--- httpd error.log (tail) ---\n{}",
        c.failures().len(),
        c.failures().join("\n  - "),
        tail(&t.error_log(), 30)
    );
}

/// The tutorial's own files against the running Tomcats.
fn tutorial_files(c: &mut Checks, t: &Tutorial) {
    let mount = tutorial_jk_lines();
    let conf = format!("{mount}\nJkLogFile logs/mod_jk.log");
    // As printed: no secret, which Tomcat 10 requires: refused, and the log says why.
    let httpd = harness_httpd(conf.clone(), tutorial_workers(t));
    let resp = send(httpd.addr(), &Request::get("/tutorial.jsp"));
    c.equal(resp.status, 403, "tutorial's files as printed (no secret)");
    let log = httpd.dir().join("logs/mod_jk.log");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut said = String::new();
    while Instant::now() < deadline {
        said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("secret is not set") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    c.check(said.contains("secret is not set"), || {
        format!(
            "mod_jk.log does not say the secret is missing:\n{}",
            tail(&said, 10)
        )
    });

    // With the one line Tomcat 10 needs added: balanced (sticky_session = 0, so every request
    // alternates), and the session is the same on both Tomcats (DeltaManager).
    let workers = format!(
        "{}worker.lbcluster.secret = {}\n",
        tutorial_workers(t),
        t.secret()
    );
    httpd
        .reconfigure({
            let mut cfg = httpd.config();
            cfg.files[0].1 = workers;
            cfg
        })
        .expect("graceful restart with the secret");
    let mut routes = Vec::new();
    let mut created = Vec::new();
    let mut cookie: Option<String> = None;
    for _ in 0..6 {
        let mut req = Request::get("/tutorial.jsp");
        if let Some(id) = &cookie {
            req = req.header("Cookie", &format!("JSESSIONID={id}"));
        }
        let resp = send(httpd.addr(), &req);
        let text = resp.text();
        // The page: <td>Session ID</td> … <td>ID</td> … <td>Created on</td> <td>millis</td>.
        let cells: Vec<&str> = text
            .split("<td>")
            .skip(1)
            .filter_map(|s| s.split("</td>").next())
            .collect();
        let id = cells.get(1).unwrap_or(&"").to_string();
        routes.push(route(&id).to_string());
        created.push(cells.get(3).unwrap_or(&"").to_string());
        if let Some(new) = Page::from(&resp).set_cookie {
            cookie = Some(new);
        } else if cookie.is_none() {
            cookie = Some(id);
        }
    }
    eprintln!("the tutorial's files: routes {routes:?}, created {created:?}");
    // Balanced over both (not strictly in turn: sticky_session = 0 lets a graceful restart's
    // lb counters and the 403s before it weigh in).
    c.check(
        TOMCATS.iter().all(|n| routes.iter().any(|r| r == n)),
        || format!("tutorial's config does not use both Tomcats: {routes:?}"),
    );
    c.check(
        created.iter().all(|x| !x.is_empty() && *x == created[0]),
        || {
            format!(
                "tutorial's page shows different sessions: created {created:?}, routes {routes:?}"
            )
        },
    );
}

/// The tutorial's `<Cluster>` block (written for Tomcat 7) as printed, only its address changed,
/// in place of ours in `httpd-conf/tutorial/tomcat/server.xml`: Tomcat 10 does not start, for a
/// class that no longer exists. (Ours runs in `tutorial_system_with_real_tomcat`.)
#[test]
fn tutorials_cluster_block_stops_tomcat_10() {
    if !tomcat_wanted() {
        return;
    }
    let ours = std::fs::read_to_string(repo().join("httpd-conf/tutorial/tomcat/server.xml"))
        .expect("server.xml");
    let (start, end) = (
        ours.find("<Cluster className").expect("our <Cluster>"),
        ours.find("</Cluster>").expect("our </Cluster>") + "</Cluster>".len(),
    );
    let printed = TUTORIAL_CLUSTER
        .replace("192.168.18.201", "127.0.0.1")
        .replace("port=\"4000\"", &format!("port=\"{}\"", free_port()));
    let base = tutorial::scratch_dir("tutorial-cluster");
    std::fs::create_dir_all(base.join("conf")).unwrap();
    std::fs::create_dir_all(base.join("logs")).unwrap();
    let server_xml = format!("{}{printed}{}", &ours[..start], &ours[end..]);
    std::fs::write(base.join("conf/server.xml"), server_xml).unwrap();
    let mut tomcat = Command::new(Path::new(tutorial::CATALINA_HOME).join("bin/catalina.sh"))
        .arg("run")
        .env("CATALINA_HOME", tutorial::CATALINA_HOME)
        .env("CATALINA_BASE", &base)
        .env("CATALINA_OPTS", format!("-Dajp.port={}", free_port()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run catalina.sh");
    let deadline = Instant::now() + Duration::from_secs(60);
    while tomcat.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_running = tomcat.try_wait().ok().flatten().is_none();
    if still_running {
        let _ = tomcat.kill(); // our own child, by its handle
    }
    let out = tomcat.wait_with_output().expect("catalina.sh output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&base);
    assert!(
        !still_running,
        "Tomcat started with the tutorial's block:\n{text}"
    );
    assert!(
        text.contains("ClassNotFoundException: org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor"),
        "Tomcat did not say which class is missing:\n{text}"
    );
}

/// The tutorial's httpd-jk.conf as printed fails httpd's config test (a note after a directive),
/// with Debian's mod_jk exactly as with ours; without the notes it passes.
#[test]
fn tutorials_httpd_jk_conf_needs_its_notes_removed() {
    let ours = module_path();
    for module in [ours.to_str().unwrap(), MOD_JK] {
        if !Path::new(module).exists() {
            panic!("{module} is missing (apt-get install libapache2-mod-jk)");
        }
        let printed = TUTORIAL_JK_CONF.replace("modules/mod_jk.so", module);
        let (code, out) = config_test(&HttpdConfig {
            global: printed.replace(
                "/etc/httpd/extra/workers.properties",
                "{dir}/workers.properties",
            ),
            files: vec![("workers.properties".into(), TUTORIAL_WORKERS.into())],
            ..HttpdConfig::default()
        });
        assert_ne!(code, 0, "{module}: the printed file passed:\n{out}");
        assert!(
            out.contains("LoadModule takes two arguments"),
            "{module}: unexpected error:\n{out}"
        );
    }
    let mut cfg = HttpdConfig::with_module(Mpm::Event);
    cfg.module_symbol = "jk_module".into();
    cfg.global = tutorial_jk_lines();
    cfg.files = vec![
        ("workers.properties".into(), TUTORIAL_WORKERS.into()),
        ("logs/.keep".into(), String::new()),
    ];
    let (code, out) = config_test(&cfg);
    assert_eq!(code, 0, "the tutorial's lines without their notes:\n{out}");
}

/// `httpd-conf/tutorial/`: httpd-jk.conf (with its own LoadModule, the module path being the only
/// change), workers.properties and uriworkermap.properties pass `apache2 -t` with no warning.
#[test]
fn shipped_tutorial_configuration_passes_the_config_test() {
    let root = repo().join("httpd-conf/tutorial");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).expect("shipped file");
    let module = module_path();
    let cfg = HttpdConfig {
        module: None,
        global: "Include {dir}/conf/httpd-jk.conf".into(),
        files: vec![
            (
                "conf/httpd-jk.conf".into(),
                read("httpd-jk.conf").replace("modules/mod_jk_rs.so", module.to_str().unwrap()),
            ),
            ("conf/workers.properties".into(), read("workers.properties")),
            (
                "conf/uriworkermap.properties".into(),
                read("uriworkermap.properties"),
            ),
            ("logs/.keep".into(), String::new()),
        ],
        ..HttpdConfig::default()
    };
    let (code, out) = config_test(&cfg);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("mod_jk_rs:"), "warnings:\n{out}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
