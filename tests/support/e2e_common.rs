//! Shared set-up for the end-to-end tests of the foundation issue (`e2e_foundation.rs`,
//! `e2e_failures.rs`): a [`Site`] describes one httpd with our module, its workers.properties and
//! its `Jk*` lines; small helpers send requests over HTTP only, read what the fake AJP backend
//! recorded, and gather several checks into one failure report.
//!
//! Included after `httpd`, `http_client` and `ajp_backend` as
//! `#[path = "support/e2e_common.rs"] mod e2e_common;` — it refers to them as `crate::…`.
#![allow(dead_code)]

#[path = "dead_port.rs"]
mod dead_port;

use crate::ajp_backend::{AjpBackend, BackendOptions, RecordedRequest};
use crate::http_client::{self, Request, Response};
use crate::httpd::{Httpd, HttpdConfig, Mpm};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

// Not every end-to-end binary needs it.
#[allow(unused_imports)]
pub use dead_port::dead_port;

/// How long a test waits for something that should happen at once (a log line, a recorded request).
pub const PATIENCE: Duration = Duration::from_secs(5);

/// One httpd with our module: workers (all `ajp13`, on 127.0.0.1 or a Unix socket) and extra
/// httpd.conf lines.
#[derive(Clone, Debug)]
pub struct Site {
    pub mpm: Mpm,
    /// (name, port on 127.0.0.1 or `None` when `host` is among the lines, extra
    /// `attribute=value` lines), in worker.list order.
    workers: Vec<(String, Option<u16>, Vec<String>)>,
    /// httpd.conf lines after `JkWorkersFile` (JkMount, Location blocks, …).
    conf: Vec<String>,
    files: Vec<(String, String)>,
    log_level: Option<String>,
}

impl Site {
    pub fn new(mpm: Mpm) -> Site {
        Site {
            mpm,
            workers: Vec::new(),
            conf: Vec::new(),
            files: Vec::new(),
            log_level: None,
        }
    }

    /// Adds an ajp13 worker on 127.0.0.1:`port` with `props` (`"retries=2"`, …). Unless `props`
    /// set them, `socket_connect_timeout=1000` and `reply_timeout=5000` keep failures quick.
    pub fn worker(mut self, name: &str, port: u16, props: &[&str]) -> Site {
        self.workers.push((
            name.to_string(),
            Some(port),
            props.iter().map(|p| p.to_string()).collect(),
        ));
        self
    }

    /// Adds an ajp13 worker on the Unix domain socket `path` (`host=unix:<path>`), like
    /// [`Site::worker`] otherwise.
    pub fn unix_worker(mut self, name: &str, path: &std::path::Path, props: &[&str]) -> Site {
        let mut lines = vec![format!("host=unix:{}", path.display())];
        lines.extend(props.iter().map(|p| p.to_string()));
        self.workers.push((name.to_string(), None, lines));
        self
    }

    /// One more httpd.conf line (or block), e.g. `JkMount /app/* w1`.
    pub fn conf(mut self, line: &str) -> Site {
        self.conf.push(line.to_string());
        self
    }

    /// A file in the server directory (`htdocs/x` is served as `/x`).
    pub fn file(mut self, path: &str, text: &str) -> Site {
        self.files.push((path.to_string(), text.to_string()));
        self
    }

    pub fn log_level(mut self, level: &str) -> Site {
        self.log_level = Some(level.to_string());
        self
    }

    /// The workers.properties text.
    pub fn workers_properties(&self) -> String {
        let names: Vec<&str> = self.workers.iter().map(|(n, _, _)| n.as_str()).collect();
        let mut text = format!(
            "# written by tests/support/e2e_common.rs\nworker.list={}\n",
            names.join(",")
        );
        for (name, port, props) in &self.workers {
            let _ = writeln!(text, "worker.{name}.type=ajp13");
            if let Some(port) = port {
                let _ = writeln!(text, "worker.{name}.host=127.0.0.1");
                let _ = writeln!(text, "worker.{name}.port={port}");
            }
            // Defaults a test did not set itself (a property given twice draws a warning).
            for default in ["socket_connect_timeout=1000", "reply_timeout=5000"] {
                let key = default.split('=').next().unwrap_or(default);
                let overridden = props
                    .iter()
                    .any(|p| p.split('=').next().map(str::trim) == Some(key));
                if !overridden {
                    let _ = writeln!(text, "worker.{name}.{default}");
                }
            }
            for prop in props {
                let _ = writeln!(text, "worker.{name}.{prop}");
            }
        }
        text
    }

    pub fn config(&self) -> HttpdConfig {
        let mut cfg = HttpdConfig::with_module(self.mpm);
        // Fewer prefork children than the harness default: quicker start and stop.
        cfg.prefork_children = 3;
        let mut global = String::from("JkWorkersFile {dir}/workers.properties\n");
        for line in &self.conf {
            global.push_str(line);
            global.push('\n');
        }
        cfg.global = global;
        cfg.files = vec![("workers.properties".to_string(), self.workers_properties())];
        cfg.files.extend(self.files.iter().cloned());
        if let Some(level) = &self.log_level {
            cfg.log_level = level.clone();
        }
        cfg
    }

    /// Starts httpd; panics with its logs when it does not come up.
    pub fn start(&self) -> Httpd {
        match Httpd::start(self.config()) {
            Ok(httpd) => httpd,
            Err(e) => panic!("httpd did not start:\n{e}"),
        }
    }
}

/// The usual site: worker `w1` (with `props`) for the backend on `port`, mounted on `/app/*`.
pub fn app_site(mpm: Mpm, port: u16, props: &[&str]) -> Site {
    Site::new(mpm)
        .worker("w1", port, props)
        .conf("JkMount /app/* w1")
}

/// A backend on a free loopback port (default options).
pub fn backend(name: &str) -> AjpBackend {
    AjpBackend::start(name).unwrap_or_else(|e| panic!("cannot start backend {name}: {e}"))
}

/// A backend with options (e.g. a required secret).
pub fn backend_with(name: &str, options: BackendOptions) -> AjpBackend {
    let any: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    AjpBackend::start_on(any, name, options)
        .unwrap_or_else(|e| panic!("cannot start backend {name}: {e}"))
}

/// Sends `req` on a new connection with `Connection: close`.
pub fn send(httpd: &Httpd, req: &Request) -> std::io::Result<Response> {
    http_client::request(httpd.addr(), req)
}

/// Like [`send`], but a transport error fails the test with what was sent.
pub fn must_send(httpd: &Httpd, req: &Request) -> Response {
    send(httpd, req).unwrap_or_else(|e| {
        panic!(
            "{} {} failed at the HTTP level: {e}\n--- error.log ---\n{}",
            req.method,
            req.path,
            httpd.error_log()
        )
    })
}

pub fn must_get(httpd: &Httpd, path: &str) -> Response {
    must_send(httpd, &Request::get(path))
}

/// The recorded requests whose URI is exactly `uri`.
pub fn requests_for(backend: &AjpBackend, uri: &str) -> Vec<RecordedRequest> {
    backend
        .requests()
        .into_iter()
        .filter(|r| r.uri == uri)
        .collect()
}

/// The URIs a backend saw, in arrival order.
pub fn uris_seen(backend: &AjpBackend) -> Vec<String> {
    backend.requests().into_iter().map(|r| r.uri).collect()
}

/// `path` is answered by httpd itself: 200 with `body`, and no `X-Backend` header (which every
/// answer of the fake backend carries).
pub fn check_served_by_httpd(c: &mut Checks, httpd: &Httpd, path: &str, body: &[u8]) {
    match send(httpd, &Request::get(path)) {
        Err(e) => c.fail(format!("{path} failed at the HTTP level: {e}")),
        Ok(resp) => {
            c.equal(resp.status, 200, &format!("{path} status"));
            c.check(resp.body == body, || {
                format!("{path} body {:?} is not the local file", resp.text())
            });
            c.equal(resp.header("X-Backend"), None, &format!("{path} X-Backend"));
        }
    }
}

/// Error-log lines that report a crashed child ("child pid N exit signal Segmentation fault") or
/// a Rust panic (its message reaches the error log through the children's stderr).
pub fn crashed_children(httpd: &Httpd) -> Vec<String> {
    httpd
        .error_log()
        .lines()
        .filter(|l| l.contains("exit signal") || l.contains("panicked at"))
        .map(str::to_string)
        .collect()
}

/// Error-log lines our module wrote at `level` (`error`, `warn`, …) that contain `needle`.
pub fn module_log_lines(httpd: &Httpd, level: &str, needle: &str) -> Vec<String> {
    let tag = format!("[jk_rs:{level}]");
    httpd
        .error_log()
        .lines()
        .filter(|l| l.contains(&tag) && l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// `n` deterministic bytes that look random (xorshift), different for each `seed`.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        for byte in state.to_le_bytes() {
            if out.len() < n {
                out.push(byte);
            }
        }
    }
    out
}

/// Splits `data` into chunks of the given sizes (the last one takes what is left, if any).
pub fn split_into(data: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut at = 0;
    for &size in sizes {
        let end = (at + size).min(data.len());
        if end > at {
            chunks.push(data[at..end].to_vec());
        }
        at = end;
    }
    if at < data.len() {
        chunks.push(data[at..].to_vec());
    }
    chunks
}

/// A line of a backend echo body: `key=value` → `Some(value)`.
pub fn echo_value<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
}

/// Several checks in one test: every failed check is kept, and [`Checks::finish`] reports them
/// all at once (with httpd's error log), so one broken scenario does not hide the others.
#[derive(Default)]
pub struct Checks {
    failures: Vec<String>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Records a failure unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }

    /// Records a failure unless `left == right`.
    pub fn equal<T: PartialEq + std::fmt::Debug>(&mut self, left: T, right: T, what: &str) {
        if left != right {
            self.failures
                .push(format!("{what}: got {left:?}, expected {right:?}"));
        }
    }

    pub fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    pub fn absorb(&mut self, prefix: &str, other: Checks) {
        self.failures
            .extend(other.failures.into_iter().map(|f| format!("{prefix}: {f}")));
    }

    /// Panics listing every failed check and the tail of httpd's error log.
    pub fn finish(self, httpd: &Httpd) {
        if self.failures.is_empty() {
            return;
        }
        let log = httpd.error_log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        panic!(
            "{} check(s) failed:\n  - {}\n--- error.log (tail) ---\n{tail}",
            self.failures.len(),
            self.failures.join("\n  - ")
        );
    }
}

/// What a servlet container makes of a request URI: one round of %-decoding, then dot segments
/// resolved. Used to show that a forwarded URI cannot land in another context.
pub fn container_view(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                decoded.push(b);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let path = String::from_utf8_lossy(&decoded).into_owned();
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    format!("/{}", kept.join("/"))
}
