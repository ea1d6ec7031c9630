//! AJP over a Unix domain socket (beyond mod_jk, issue #16) through a real httpd: a worker
//! with `host=unix:/path` in front of the fault-injecting backend listening on that socket.
//! A GET and a POST pass byte for byte, pooled connections are reused, and a missing socket
//! is a 503 with one error line naming its path; and the same against a real Tomcat 10.1 whose
//! only AJP connector is a Unix socket (`MOD_JK_RS_SKIP_TOMCAT=1` skips that one). (`apachectl
//! -t` on a missing directory or a relative path: `tests/bad-configs/unix-socket-*`.)

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

use ajp_backend::{pattern_sha256, sha256_hex, AjpBackend, BackendOptions};
use e2e_common::{
    crashed_children, echo_value, module_log_lines, must_get, noise, requests_for, send, Checks,
    Site, PATIENCE,
};
use http_client::{Connection, Request};
use httpd::Mpm;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A directory for one test's socket that httpd's children (www-data when the tests run as
/// root) can reach; removed on drop. Short, so the socket path fits `sun_path`.
struct SocketDir(PathBuf);

impl SocketDir {
    fn new() -> SocketDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("jk-unix-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("socket directory");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        SocketDir(dir)
    }

    fn socket(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unix_backend(path: &Path, name: &str) -> AjpBackend {
    AjpBackend::start_unix(path, name, BackendOptions::default()).expect("unix backend")
}

#[test]
fn get_and_post_pass_byte_for_byte_over_a_unix_socket_and_connections_are_pooled() {
    let dir = SocketDir::new();
    let sock = dir.socket("ajp.sock");
    let b1 = unix_backend(&sock, "b1");
    let httpd = Site::new(Mpm::Event)
        .unix_worker("w1", &sock, &[])
        .conf("JkMount /app/* w1")
        .start();
    let mut c = Checks::new();

    // GET: the echo, then a large body byte for byte.
    let resp = must_get(&httpd, "/app/hello?x=1");
    c.equal(resp.status, 200, "GET status");
    c.equal(echo_value(&resp.text(), "uri"), Some("/app/hello"), "uri");
    c.equal(resp.header("X-Backend"), Some("b1"), "X-Backend");
    let size: u64 = 300_000;
    let resp = must_get(&httpd, &format!("/app/big?size={size}"));
    c.equal(resp.status, 200, "large GET status");
    c.equal(resp.body.len() as u64, size, "large GET length");
    c.equal(
        sha256_hex(&resp.body),
        pattern_sha256(size),
        "large GET sha256",
    );

    // POST: every byte arrives, in order.
    let body = noise(200_000, 7);
    let sha = sha256_hex(&body);
    match send(&httpd, &Request::post("/app/upload", body)) {
        Err(e) => c.fail(format!("POST failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "POST status");
            c.equal(
                echo_value(&resp.text(), "body_sha256"),
                Some(sha.as_str()),
                "echoed body_sha256",
            );
        }
    }
    let seen = requests_for(&b1, "/app/upload");
    c.equal(seen.len(), 1, "POSTs the backend saw");
    if let Some(r) = seen.first() {
        c.equal(r.method.as_str(), "POST", "method");
        c.equal(r.body_len, 200_000, "body_len");
        c.equal(r.body_sha256.as_str(), sha.as_str(), "body_sha256");
    }

    // Twenty requests on one client connection: one pooled backend connection serves them.
    let before = b1.connections_accepted();
    let mut conn = Connection::open(httpd.addr()).expect("connect to httpd");
    for i in 0..20 {
        match conn.send(&Request::get(&format!("/app/keepalive/{i}"))) {
            Ok(resp) => c.equal(resp.status, 200, &format!("status of request {i}")),
            Err(e) => {
                c.fail(format!("request {i} failed: {e}"));
                break;
            }
        }
    }
    let opened = b1.connections_accepted() - before;
    c.check(opened <= 1, || {
        format!("20 kept-alive requests opened {opened} backend connections")
    });
    c.equal(
        b1.protocol_errors(),
        Vec::<String>::new(),
        "protocol errors",
    );
    c.equal(crashed_children(&httpd), Vec::<String>::new(), "crashes");
    c.finish(&httpd);
}

#[test]
fn a_missing_socket_gives_503_and_one_error_line_naming_its_path() {
    let dir = SocketDir::new();
    let sock = dir.socket("absent.sock");
    let httpd = Site::new(Mpm::Event)
        .unix_worker("wgone", &sock, &["retries=2", "retry_interval=50"])
        .conf("JkMount /app/* wgone")
        .start();
    let mut c = Checks::new();
    let resp = must_get(&httpd, "/app/page");
    c.equal(resp.status, 503, "status");
    let path = sock.display().to_string();
    c.check(httpd.wait_for_error_log(&path, PATIENCE), || {
        format!("no error log line names {path}")
    });
    let errors = module_log_lines(&httpd, "error", "wgone");
    c.equal(errors.len(), 1, "error lines naming wgone for one request");
    c.check(
        errors.iter().all(|l| l.contains(&format!("unix:{path}"))),
        || format!("the error line does not name unix:{path}: {errors:?}"),
    );

    // The socket appears: the next request gets through.
    let b1 = unix_backend(&sock, "b1");
    let resp = must_get(&httpd, "/app/again");
    c.equal(resp.status, 200, "status once the socket exists");
    c.equal(requests_for(&b1, "/app/again").len(), 1, "requests seen");
    c.equal(crashed_children(&httpd), Vec::<String>::new(), "crashes");
    c.finish(&httpd);
}

/// A Tomcat of this test's own (`catalina.sh run`, so the child is the JVM) whose only
/// connector is AJP on a Unix socket; killed on drop.
struct UnixTomcat {
    child: Child,
    log: PathBuf,
}

const TOMCAT_BODY_JSP: &str = include_str!("fixtures/tomcat/app/body.jsp");

impl UnixTomcat {
    fn start(base: &Path, sock: &Path, secret: &str) -> UnixTomcat {
        let home = Path::new(tutorial::CATALINA_HOME);
        for sub in ["conf", "logs", "temp", "work", "webapps/ROOT"] {
            std::fs::create_dir_all(base.join(sub)).expect("CATALINA_BASE");
        }
        let skel = ["skel/conf", "etc"]
            .iter()
            .map(|d| home.join(d))
            .find(|d| d.join("web.xml").exists())
            .expect("Tomcat's web.xml template (tomcat10-user)");
        std::fs::copy(skel.join("web.xml"), base.join("conf/web.xml")).expect("web.xml");
        let server_xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector protocol="AJP/1.3" unixDomainSocketPath="{}"
               unixDomainSocketPathPermissions="rw-rw-rw-" secret="{secret}" />
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="UnixTomcat">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
"#,
            sock.display()
        );
        std::fs::write(base.join("conf/server.xml"), server_xml).expect("server.xml");
        std::fs::write(
            base.join("webapps/ROOT/hello.txt"),
            "hello over a Unix socket\n",
        )
        .expect("hello.txt");
        std::fs::write(base.join("webapps/ROOT/body.jsp"), TOMCAT_BODY_JSP).expect("body.jsp");
        let log = base.join("logs/out.log");
        let out = std::fs::File::create(&log).expect("log");
        let err = out.try_clone().expect("log");
        let child = Command::new(home.join("bin/catalina.sh"))
            .arg("run")
            .env("CATALINA_HOME", home)
            .env("CATALINA_BASE", base)
            .env("CATALINA_TMPDIR", base.join("temp"))
            .env("CATALINA_OPTS", "-DjvmRoute=UnixTomcat -Xmx256m")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("catalina.sh run");
        let mut tomcat = UnixTomcat { child, log };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let text = std::fs::read_to_string(&tomcat.log).unwrap_or_default();
            if text.contains("Server startup in") && sock.exists() {
                return tomcat;
            }
            let exited = matches!(tomcat.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                panic!(
                    "Tomcat did not start on {} (exited: {exited}):\n{}",
                    sock.display(),
                    httpd::tail(&text, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for UnixTomcat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn real_tomcat_serves_get_and_post_over_a_unix_socket() {
    if !tutorial::tomcat_wanted() {
        return;
    }
    let dir = SocketDir::new();
    let sock = dir.socket("ajp.sock");
    let secret = "unix-socket-secret";
    let tomcat = UnixTomcat::start(&dir.socket("tomcat"), &sock, secret);
    let secret_line = format!("secret={secret}");
    let httpd = Site::new(Mpm::Event)
        .unix_worker("tc", &sock, &[&secret_line, "ping_mode=A"])
        .conf("JkMount /hello.txt tc")
        .conf("JkMount /body.jsp tc")
        .start();
    let mut c = Checks::new();
    for i in 0..3 {
        let resp = must_get(&httpd, "/hello.txt");
        c.equal(resp.status, 200, &format!("GET {i} status"));
        c.equal(
            resp.text(),
            "hello over a Unix socket\n".to_owned(),
            &format!("GET {i} body"),
        );
    }
    let body = noise(300_000, 3);
    let sha = sha256_hex(&body);
    match send(&httpd, &Request::post("/body.jsp", body)) {
        Err(e) => c.fail(format!("POST failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, "POST status");
            let text = resp.text();
            c.equal(echo_value(&text, "node"), Some("UnixTomcat"), "node");
            c.equal(echo_value(&text, "bytes"), Some("300000"), "bytes");
            c.equal(echo_value(&text, "sha256"), Some(sha.as_str()), "sha256");
        }
    }
    c.equal(crashed_children(&httpd), Vec::<String>::new(), "crashes");
    drop(tomcat);
    c.finish(&httpd);
}
