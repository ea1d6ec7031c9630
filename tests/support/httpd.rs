//! End-to-end test harness: runs a real Debian `apache2` with a generated `httpd.conf`, in a fresh
//! temporary directory, optionally loading our freshly built `libmod_jk_rs.so`, and stops it again.
//!
//! Included from `tests/*.rs` as `#[path = "support/httpd.rs"] mod httpd;` — self-contained, std + libc.
//!
//! Only the `apache2` parent this file spawned is ever signalled (and, if it will not die, the
//! children listed in /proc with that parent). Nothing is looked up or killed by name.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Debian's httpd binary.
pub const APACHE2: &str = "/usr/sbin/apache2";
/// Where Debian keeps the loadable modules.
pub const MODULES_DIR: &str = "/usr/lib/apache2/modules";
/// Size of `htdocs/static.txt`; its exact bytes are [`static_txt`].
pub const STATIC_TXT_LEN: usize = 1024;
/// The `LogFormat` of `access.log`. Fields after the request line: status, bytes,
/// `worker=` the `JK_WORKER_NAME` note, `route=` the `JK_WORKER_ROUTE` note (`-` when unset),
/// `us=` the request duration in microseconds.
pub const ACCESS_LOG_FORMAT: &str =
    r#"%h %l %u %t \"%r\" %>s %b worker=%{JK_WORKER_NAME}n route=%{JK_WORKER_ROUTE}n us=%D"#;
/// Set this environment variable to keep every server directory after the test (they are always
/// kept when the test panics).
pub const KEEP_DIR_ENV: &str = "MOD_JK_RS_KEEP_HTTPD_DIRS";

/// How long start-up, a restart and a stop may take before the harness gives up. Generous because
/// tests run in parallel on a 2-core machine; a healthy apache2 needs well under a second.
/// Multiplied by [`timeout_scale`] (under valgrind start-up takes many seconds).
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Set this to a command line (words separated by blanks, no quoting) to start apache2 under it,
/// in single-process mode (`-X`): `MOD_JK_RS_HTTPD_WRAPPER="valgrind --tool=memcheck
/// --log-file=/tmp/vg.%p.log"`. Without children, [`Httpd::child_pids`] is empty and readiness
/// does not wait for one; tests that need several children cannot work so (scripts/memcheck.sh
/// leaves them out).
pub const WRAPPER_ENV: &str = "MOD_JK_RS_HTTPD_WRAPPER";
/// Multiplies the harness's start, restart and stop timeouts (a decimal number; 1 by default,
/// 20 when [`WRAPPER_ENV`] is set).
pub const TIMEOUT_SCALE_ENV: &str = "MOD_JK_RS_TIMEOUT_SCALE";
const POLL: Duration = Duration::from_millis(20);
/// httpd logs this (NOTICE, so whatever the LogLevel) once the configuration is loaded and the
/// children are being started; it is logged again after every restart.
const READY_MARK: &str = "resuming normal operations";

/// Which multi-processing module the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mpm {
    Event,
    Worker,
    Prefork,
}

impl Mpm {
    pub const ALL: [Mpm; 3] = [Mpm::Event, Mpm::Worker, Mpm::Prefork];

    /// The name httpd uses (`mod_mpm_<name>.so`, `ServerMPM: <name>` in mod_status).
    pub fn name(self) -> &'static str {
        match self {
            Mpm::Event => "event",
            Mpm::Worker => "worker",
            Mpm::Prefork => "prefork",
        }
    }

    pub fn is_threaded(self) -> bool {
        self != Mpm::Prefork
    }
}

/// What the generated server looks like. `{dir}` (the server directory, also `ServerRoot`) and
/// `{port}` expand in `global` and in the contents of `files`.
#[derive(Clone, Debug)]
pub struct HttpdConfig {
    pub mpm: Mpm,
    /// Our module; `None` runs a plain httpd (to test the harness itself).
    pub module: Option<PathBuf>,
    /// Symbol of the module record in `module` (`LoadModule <symbol> <path>`).
    pub module_symbol: String,
    /// Extra lines at the end of the main server config (`JkWorkersFile`, `JkMount`, vhosts…).
    /// They come last, so they also override the defaults (e.g. `Timeout 5`, `KeepAlive Off`).
    /// Do not override `ErrorLog`: readiness is read from it.
    pub global: String,
    /// Files written into the server directory before start, after `htdocs/` is populated:
    /// (relative path, text). Sub-directories are created; `htdocs/x` is served as `/x`.
    pub files: Vec<(String, String)>,
    /// More Debian modules, by short name (`headers`, `rewrite`, `proxy_ajp`, …). `mod_` / `.so` /
    /// `_module` decorations are accepted; `proxy_*` pulls in `proxy`, `proxy_balancer` pulls in
    /// `slotmem_shm` and `lbmethod_byrequests`.
    pub extra_modules: Vec<String>,
    /// Prefork: StartServers = MinSpareServers = this.
    pub prefork_children: usize,
    /// Event/worker: ThreadsPerChild.
    pub threads_per_child: usize,
    /// The `LogLevel` line's arguments, e.g. `info` or `warn jk_rs:debug`.
    pub log_level: String,
    /// Unix modes set on files of `files` after they are written (e.g. a world-writable file
    /// planted where the module must refuse one).
    pub modes: Vec<(String, u32)>,
}

impl Default for HttpdConfig {
    fn default() -> Self {
        HttpdConfig {
            mpm: Mpm::Event,
            module: None,
            module_symbol: "jk_rs_module".to_string(),
            global: String::new(),
            files: Vec::new(),
            extra_modules: Vec::new(),
            prefork_children: 8,
            threads_per_child: 25,
            log_level: "info".to_string(),
            modes: Vec::new(),
        }
    }
}

impl HttpdConfig {
    /// The default config running `mpm` with our module loaded (see [`module_path`]).
    pub fn with_module(mpm: Mpm) -> Self {
        HttpdConfig::with_module_at(mpm, module_path())
    }

    /// The default config running `mpm` with the module at `module` (a program outside cargo's
    /// test layout, e.g. the soak, passes the release build's path).
    pub fn with_module_at(mpm: Mpm, module: PathBuf) -> Self {
        HttpdConfig {
            mpm,
            module: Some(module),
            ..HttpdConfig::default()
        }
    }
}

/// A running apache2, started by [`Httpd::start`]; stopped by [`Httpd::stop`] or on drop.
pub struct Httpd {
    pid: u32,
    port: u16,
    dir: PathBuf,
    config: Mutex<HttpdConfig>,
    child: Mutex<Child>,
    /// Set once the parent has been reaped: its pid must never be signalled again.
    exit_status: Mutex<Option<ExitStatus>>,
}

impl Httpd {
    /// Picks a free loopback port, writes the server directory, starts
    /// `apache2 -f <dir>/httpd.conf -DFOREGROUND` and waits until httpd reports it is serving, its
    /// children exist and the port accepts. On failure the error carries the error log and stderr
    /// (and the directory is removed, unless [`KEEP_DIR_ENV`] is set).
    pub fn start(cfg: HttpdConfig) -> Result<Httpd, String> {
        // The port is free when picked but may be taken before apache2 binds it (other tests
        // run in parallel), so a bind failure is retried with a new port in a new directory.
        let mut last_error = String::new();
        for _attempt in 0..4 {
            let dir =
                make_server_dir("httpd").map_err(|e| format!("cannot create server dir: {e}"))?;
            let port = free_port();
            if let Err(e) = write_server_dir(&cfg, &dir, port) {
                let _ = fs::remove_dir_all(&dir);
                return Err(format!("cannot write {}: {e}", dir.display()));
            }
            let child = match spawn_apache(&dir) {
                Ok(child) => child,
                Err(e) => {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            let httpd = Httpd {
                pid: child.id(),
                port,
                dir,
                config: Mutex::new(cfg.clone()),
                child: Mutex::new(child),
                exit_status: Mutex::new(None),
            };
            match httpd.wait_ready(0, &HashSet::new()) {
                Ok(()) => return Ok(httpd),
                Err(e) => {
                    let port_taken = httpd.logs().contains("Address already in use");
                    // Stops it and removes the directory (the error already carries the logs).
                    drop(httpd);
                    if !port_taken {
                        return Err(e);
                    }
                    last_error = e;
                }
            }
        }
        Err(last_error)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// The server directory (ServerRoot; holds httpd.conf, logs, htdocs/ and the `files`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("httpd.conf")
    }

    /// Pid of the apache2 parent (the process this harness spawned).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A copy of the configuration the server was (last) generated from.
    pub fn config(&self) -> HttpdConfig {
        lock(&self.config).clone()
    }

    pub fn error_log(&self) -> String {
        read_lossy(&self.dir.join("error.log"))
    }

    /// What apache2 wrote to stdout/stderr (start-up errors before ErrorLog is open).
    pub fn stderr_log(&self) -> String {
        read_lossy(&self.dir.join("stderr.log"))
    }

    pub fn access_log(&self) -> String {
        read_lossy(&self.dir.join("access.log"))
    }

    /// Lines of access.log. httpd writes a line after the response is sent, so a test that just got
    /// its response should use [`Httpd::wait_for_access_log_lines`].
    pub fn access_log_lines(&self) -> Vec<String> {
        self.access_log().lines().map(str::to_string).collect()
    }

    /// Waits until access.log has at least `n` lines; returns all lines (fewer on timeout).
    pub fn wait_for_access_log_lines(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.access_log_lines();
            if lines.len() >= n || Instant::now() >= deadline {
                return lines;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the error log contains `needle`.
    pub fn wait_for_error_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.error_log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Pids of the processes whose parent is the apache2 parent (from /proc).
    pub fn child_pids(&self) -> Vec<u32> {
        if !self.is_running() {
            return Vec::new();
        }
        children_of(self.pid)
    }

    /// Whether the apache2 parent is still alive (not exited).
    pub fn is_running(&self) -> bool {
        let mut status = lock(&self.exit_status);
        if status.is_some() {
            return false;
        }
        match lock(&self.child).try_wait() {
            Ok(Some(s)) => {
                *status = Some(s);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// The parent's exit status, once it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.is_running();
        *lock(&self.exit_status)
    }

    /// Graceful restart (SIGUSR1): httpd re-reads httpd.conf. Returns once the new generation is
    /// serving (its children exist and the port accepts), or Err if httpd exits or times out.
    pub fn graceful(&self) -> Result<(), String> {
        self.restart_with(libc::SIGUSR1, "graceful restart")
    }

    /// Hard restart (SIGHUP): children are killed, the config re-read, new children started.
    pub fn restart(&self) -> Result<(), String> {
        self.restart_with(libc::SIGHUP, "restart")
    }

    /// Rewrites httpd.conf and the `files` from `cfg` (same directory and port) and does a graceful
    /// restart. Changing `mpm` this way is not supported by httpd.
    pub fn reconfigure(&self, cfg: HttpdConfig) -> Result<(), String> {
        write_server_dir(&cfg, &self.dir, self.port)
            .map_err(|e| format!("cannot write {}: {e}", self.dir.display()))?;
        *lock(&self.config) = cfg;
        self.graceful()
    }

    /// Writes one more file into the server directory (`{dir}`/`{port}` expanded), e.g. a new
    /// workers.properties before [`Httpd::graceful`].
    pub fn write_file(&self, relative: &str, text: &str) -> io::Result<()> {
        write_text(&self.dir, relative, &expand(text, &self.dir, self.port))
    }

    /// SIGTERM to the parent, bounded wait, SIGKILL if needed. Removes the directory unless the
    /// test is panicking or [`KEEP_DIR_ENV`] is set. Close client connections first: httpd waits
    /// for children stuck in an idle keep-alive read (event ~2 s, worker ~6 s).
    pub fn stop(self) {
        // Drop does the work, so stop and drop behave the same.
        drop(self);
    }

    fn restart_with(&self, signal: libc::c_int, what: &str) -> Result<(), String> {
        if wrapper().is_some() {
            return Err(format!(
                "{what}: not possible with {WRAPPER_ENV} (httpd -X exits on a restart signal)"
            ));
        }
        if !self.is_running() {
            return Err(self.failure(&format!("{what}: apache2 is not running")));
        }
        let generations = self.error_log().matches(READY_MARK).count();
        let old_children: HashSet<u32> = self.child_pids().into_iter().collect();
        self.signal(signal);
        self.wait_ready(generations, &old_children)
            .map_err(|e| format!("{what}: {e}"))
    }

    /// Waits until the error log shows more than `generations` "resuming normal operations"
    /// lines, a child not in `old_children` exists and the port accepts a connection.
    fn wait_ready(&self, generations: usize, old_children: &HashSet<u32>) -> Result<(), String> {
        let deadline = Instant::now() + scaled(READY_TIMEOUT);
        loop {
            if !self.is_running() {
                let status = self
                    .exit_status()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                return Err(self.failure(&format!("apache2 exited ({status})")));
            }
            // In single-process mode (-X) the parent serves: there is no child to wait for, and
            // httpd does not log READY_MARK; its port accepts before the configuration is
            // checked, so it is ready once it takes a connection out of the accept queue.
            let ready = if wrapper().is_some() {
                connection_is_accepted(self.addr())
            } else {
                self.error_log().matches(READY_MARK).count() > generations
                    && self
                        .child_pids()
                        .iter()
                        .any(|pid| !old_children.contains(pid))
                    && port_accepts(self.addr())
            };
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!(
                    "apache2 (pid {}) not ready within {:?}",
                    self.pid,
                    scaled(READY_TIMEOUT)
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    fn logs(&self) -> String {
        format!("{}\n{}", self.error_log(), self.stderr_log())
    }

    fn failure(&self, what: &str) -> String {
        format!(
            "{what}; server dir {} (removed unless {KEEP_DIR_ENV} is set)\n--- error.log ---\n{}\n--- stderr ---\n{}",
            self.dir.display(),
            self.error_log(),
            self.stderr_log()
        )
    }

    /// Signals the parent, only while it has not been reaped (its pid cannot have been reused).
    fn signal(&self, signal: libc::c_int) {
        let status = lock(&self.exit_status);
        if status.is_none() {
            // SAFETY: kill(2) with our own child's pid; the child is not yet reaped (checked under
            // the same lock that records reaping), so the pid still names it.
            unsafe {
                libc::kill(self.pid as libc::pid_t, signal);
            }
        }
    }

    /// Stops the parent: SIGTERM and a bounded wait; then SIGKILL to its listed children and to it.
    fn shutdown(&self) {
        if !self.is_running() {
            return;
        }
        let mut seen_children: HashSet<u32> = self.child_pids().into_iter().collect();
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + scaled(STOP_TIMEOUT);
        while self.is_running() && Instant::now() < deadline {
            seen_children.extend(self.child_pids());
            std::thread::sleep(POLL);
        }
        if self.is_running() {
            eprintln!(
                "httpd harness: apache2 pid {} ignored SIGTERM; killing it",
                self.pid
            );
            // Children first, while their parent is alive: their pids are certainly still theirs.
            for pid in self.child_pids() {
                kill_pid(pid, libc::SIGKILL);
            }
            // Same lock order as is_running: status, then child.
            let mut status = lock(&self.exit_status);
            let mut child = lock(&self.child);
            let _ = child.kill();
            if let Ok(s) = child.wait() {
                *status = Some(s);
            }
        }
        // httpd reaps its children before exiting; anything still alive was orphaned. Only kill
        // a pid that still is an apache2 process whose parent is no longer ours.
        for pid in seen_children {
            if let Some((comm, ppid)) = proc_stat(pid) {
                if comm == "apache2" && ppid != self.pid {
                    kill_pid(pid, libc::SIGKILL);
                }
            }
        }
    }
}

impl Drop for Httpd {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking {
            // The test failed: show what httpd said, the test harness prints it with the failure.
            eprintln!(
                "httpd harness: server dir kept at {}\n--- error.log (tail) ---\n{}",
                self.dir.display(),
                tail(&self.error_log(), 60)
            );
        }
        self.shutdown();
        if !panicking && std::env::var_os(KEEP_DIR_ENV).is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs `apache2 -t -f <conf>` on a config generated exactly as [`Httpd::start`] would, and
/// returns (exit code, stdout + stderr). The directory is removed afterwards.
pub fn config_test(cfg: &HttpdConfig) -> (i32, String) {
    let dir = match make_server_dir("configtest") {
        Ok(dir) => dir,
        Err(e) => return (-1, format!("cannot create server dir: {e}")),
    };
    let result = (|| {
        write_server_dir(cfg, &dir, free_port())?;
        Command::new(APACHE2)
            .arg("-t")
            .arg("-f")
            .arg(dir.join("httpd.conf"))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
    })();
    let answer = match result {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (exit_code(out.status), text)
        }
        Err(e) => (-1, format!("cannot run {APACHE2} -t: {e}")),
    };
    if std::env::var_os(KEEP_DIR_ENV).is_none() {
        let _ = fs::remove_dir_all(&dir);
    }
    answer
}

/// The httpd.conf text [`Httpd::start`] would write for `cfg` in `dir` listening on `port`.
pub fn render_config(cfg: &HttpdConfig, dir: &Path, port: u16) -> String {
    let d = dir.display();
    let mut c = String::new();
    let mut line = |s: String| {
        c.push_str(&s);
        c.push('\n');
    };
    line("# Generated by tests/support/httpd.rs for one end-to-end test.".into());
    line(format!("ServerRoot \"{d}\""));
    line(format!("Listen 127.0.0.1:{port}"));
    line("ServerName 127.0.0.1".into());
    line(format!("PidFile \"{d}/httpd.pid\""));
    line(format!("DefaultRuntimeDir \"{d}\""));
    line(format!("Mutex file:{d} default"));
    line(format!("ErrorLog \"{d}/error.log\""));
    line(format!("LogLevel {}", cfg.log_level));
    line(String::new());
    for name in modules_to_load(cfg) {
        line(format!(
            "LoadModule {name}_module \"{MODULES_DIR}/mod_{name}.so\""
        ));
    }
    line(String::new());
    // httpd started as root must drop its children to an unprivileged user; otherwise it
    // cannot switch users and must not be told to.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        line("User www-data".into());
        line("Group www-data".into());
    }
    match cfg.mpm {
        Mpm::Prefork => {
            let n = cfg.prefork_children.max(1);
            let limit = (4 * n).max(16);
            line(format!("StartServers {n}"));
            line(format!("MinSpareServers {n}"));
            line(format!("MaxSpareServers {}", 2 * n));
            line(format!("ServerLimit {limit}"));
            line(format!("MaxRequestWorkers {limit}"));
        }
        Mpm::Event | Mpm::Worker => {
            let t = cfg.threads_per_child.max(1);
            line("StartServers 2".into());
            line("ServerLimit 4".into());
            line(format!("ThreadLimit {t}"));
            line(format!("ThreadsPerChild {t}"));
            line(format!("MaxRequestWorkers {}", 4 * t));
            line(format!("MinSpareThreads {t}"));
            line(format!("MaxSpareThreads {}", 3 * t));
        }
    }
    line("MaxConnectionsPerChild 0".into());
    line("Timeout 30".into());
    line("KeepAlive On".into());
    line("KeepAliveTimeout 5".into());
    line("MaxKeepAliveRequests 1000".into());
    line("HostnameLookups Off".into());
    line("TypesConfig /etc/mime.types".into());
    line(format!("DocumentRoot \"{d}/htdocs\""));
    line("<Directory />".into());
    line("    AllowOverride None".into());
    line("</Directory>".into());
    line(format!("LogFormat \"{ACCESS_LOG_FORMAT}\" harness"));
    line(format!("CustomLog \"{d}/access.log\" harness"));
    if wrapper().is_some() {
        // The readiness check of single-process mode watches a connection that sends nothing
        // leave the accept queue: without TCP_DEFER_ACCEPT it gets there at once.
        line("AcceptFilter http none".into());
    }
    line(String::new());
    if let Some(module) = &cfg.module {
        let module = std::path::absolute(module).unwrap_or_else(|_| module.clone());
        line("# The module under test.".into());
        line(format!(
            "LoadModule {} \"{}\"",
            cfg.module_symbol,
            module.display()
        ));
        line(String::new());
    }
    line("# Test-specific configuration.".into());
    line(expand(&cfg.global, dir, port));
    c
}

/// Path of `libmod_jk_rs.so` as built by cargo for this test run. Panics with a clear message if
/// it is missing.
pub fn module_path() -> PathBuf {
    let name = "libmod_jk_rs.so";
    built_artifact(name).unwrap_or_else(|| {
        let dir = target_profile_dir();
        panic!(
            "{name} not found in {} or {}/deps; the end-to-end tests need the cdylib: run them with \
             `cargo test` (or `cargo build`) from the crate root",
            dir.display(),
            dir.display()
        )
    })
}

/// A file cargo built for this profile: `target/<profile>/deps/<name>` (what `cargo test` writes)
/// or `target/<profile>/<name>` (what `cargo build` copies there), whichever is newer — the other
/// may be left over from an older build.
pub fn built_artifact(name: &str) -> Option<PathBuf> {
    let dir = target_profile_dir();
    [dir.join("deps").join(name), dir.join(name)]
        .into_iter()
        .filter_map(|p| {
            let modified = fs::metadata(&p)
                .ok()
                .filter(|m| m.is_file())?
                .modified()
                .ok()?;
            Some((modified, p))
        })
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, p)| p)
}

/// `target/<profile>/` of the running test binary (`…/target/debug/deps/<test>` → `…/target/debug`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("cannot find the test executable's path");
    let deps = exe
        .parent()
        .expect("test executable has no parent directory");
    if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps).to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

/// A loopback port that was free a moment ago (bind 127.0.0.1:0, read it, close).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind an ephemeral loopback port")
}

/// The exact content of `htdocs/static.txt`: 16 lines of 64 bytes.
pub fn static_txt() -> Vec<u8> {
    let mut out = Vec::with_capacity(STATIC_TXT_LEN);
    for line in 0..STATIC_TXT_LEN / 64 {
        let mut text = format!("static line {line:02} ");
        while text.len() < 63 {
            text.push((b'a' + (text.len() % 26) as u8) as char);
        }
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// The modules to `LoadModule` from Debian's directory, in order, each once, skipping built-ins.
pub fn modules_to_load(cfg: &HttpdConfig) -> Vec<String> {
    let mut wanted: Vec<String> = vec![format!("mpm_{}", cfg.mpm.name())];
    for base in [
        "authz_core",
        "authz_host",
        "mime",
        "log_config",
        "env",
        "setenvif",
    ] {
        wanted.push(base.to_string());
    }
    for extra in &cfg.extra_modules {
        let name = short_module_name(extra);
        // Modules that fail to load (or to work) without another one.
        if name.starts_with("proxy_") {
            wanted.push("proxy".into());
        }
        if name == "proxy_balancer" {
            wanted.push("slotmem_shm".into());
            wanted.push(name.clone());
            wanted.push("lbmethod_byrequests".into());
            continue;
        }
        wanted.push(name);
    }
    let builtin = builtin_modules();
    let mut seen = HashSet::new();
    wanted
        .into_iter()
        .filter(|m| !builtin.contains(m) && seen.insert(m.clone()))
        .collect()
}

/// `mod_headers.so`, `headers_module`, `headers` → `headers`.
fn short_module_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix(".so").unwrap_or(name);
    let name = name.strip_suffix(".c").unwrap_or(name);
    let name = name.strip_prefix("mod_").unwrap_or(name);
    let name = name.strip_suffix("_module").unwrap_or(name);
    name.to_string()
}

/// Modules compiled into Debian's apache2 (`apache2 -l`): loading them again is an error.
fn builtin_modules() -> &'static HashSet<String> {
    static BUILTIN: OnceLock<HashSet<String>> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let listed = Command::new(APACHE2)
            .arg("-l")
            .stdin(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mut set: HashSet<String> = listed
            .lines()
            .map(str::trim)
            .filter(|l| l.ends_with(".c"))
            .map(short_module_name)
            .collect();
        if set.is_empty() {
            // Debian 12's list, should `apache2 -l` ever print nothing useful.
            for m in [
                "core",
                "so",
                "watchdog",
                "http_core",
                "log_config",
                "logio",
                "version",
                "unixd",
            ] {
                set.insert(m.to_string());
            }
        }
        set
    })
}

/// Creates a fresh, world-traversable directory for one server. Tries the runtime
/// `CARGO_TARGET_TMPDIR`, then the one cargo compiled in, then the system temp dir; a candidate is
/// skipped if it cannot be written or (when root) www-data could not reach it.
fn make_server_dir(kind: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut bases: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_TMPDIR") {
        bases.push(PathBuf::from(dir));
    }
    if let Some(dir) = option_env!("CARGO_TARGET_TMPDIR") {
        bases.push(PathBuf::from(dir));
    }
    bases.push(std::env::temp_dir());
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no usable temp directory");
    for base in bases {
        if root && !traversable_by_others(&base) {
            continue;
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "{kind}-{}-{}-{nanos:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = base.join(name);
        match fs::create_dir_all(&base).and_then(|_| fs::create_dir(&dir)) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
                return Ok(dir);
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Whether every existing ancestor of `path` lets "others" (www-data) search it.
fn traversable_by_others(path: &Path) -> bool {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    path.ancestors().all(|p| match fs::metadata(p) {
        Ok(meta) => meta.permissions().mode() & 0o001 != 0,
        Err(_) => true, // created later by us, 0755
    })
}

/// Writes httpd.conf, htdocs/ (index.html, static.txt) and the config's `files`.
fn write_server_dir(cfg: &HttpdConfig, dir: &Path, port: u16) -> io::Result<()> {
    let htdocs = dir.join("htdocs");
    fs::create_dir_all(&htdocs)?;
    fs::set_permissions(&htdocs, fs::Permissions::from_mode(0o755))?;
    write_text(
        dir,
        "htdocs/index.html",
        "<!DOCTYPE html>\n<html><head><title>mod_jk_rs test</title></head><body>index</body></html>\n",
    )?;
    write_bytes(dir, "htdocs/static.txt", &static_txt())?;
    for (name, text) in &cfg.files {
        write_text(dir, name, &expand(text, dir, port))?;
    }
    for (name, mode) in &cfg.modes {
        fs::set_permissions(dir.join(name), fs::Permissions::from_mode(*mode))?;
    }
    write_text(dir, "httpd.conf", &render_config(cfg, dir, port))
}

fn write_text(dir: &Path, relative: &str, text: &str) -> io::Result<()> {
    write_bytes(dir, relative, text.as_bytes())
}

/// Writes `dir/relative` mode 0644, creating parent directories 0755 (children run as www-data).
fn write_bytes(dir: &Path, relative: &str, bytes: &[u8]) -> io::Result<()> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        if !parent.exists() {
            fs::create_dir_all(parent)?;
            let mut p = parent;
            while p.starts_with(dir) && p != dir {
                fs::set_permissions(p, fs::Permissions::from_mode(0o755))?;
                p = match p.parent() {
                    Some(up) => up,
                    None => break,
                };
            }
        }
    }
    fs::write(&path, bytes)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
}

fn expand(text: &str, dir: &Path, port: u16) -> String {
    text.replace("{dir}", &dir.display().to_string())
        .replace("{port}", &port.to_string())
}

/// Spawns apache2 from one long-lived thread so that PR_SET_PDEATHSIG (which fires when the
/// *thread* that forked exits) only fires when the whole test process dies: then apache2 gets
/// SIGTERM instead of lingering after a crashed or killed test run.
fn spawn_apache(dir: &Path) -> Result<Child, String> {
    type Job = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();

    // One open file for both streams, so they share the offset and do not overwrite each other.
    let out = fs::File::create(dir.join("stderr.log"))
        .map_err(|e| format!("cannot create stderr.log: {e}"))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot dup stderr.log: {e}"))?;
    let mut cmd = match wrapper() {
        Some(words) => {
            let mut cmd = Command::new(&words[0]);
            cmd.args(&words[1..]).arg(APACHE2).arg("-X");
            cmd
        }
        None => Command::new(APACHE2),
    };
    cmd.arg("-f")
        .arg(dir.join("httpd.conf"))
        .arg("-DFOREGROUND")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Its own process group: prefork signals its whole group (killpg) on stop and restart,
        // which would otherwise hit the test process, cargo and the shell.
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2), which is
    // async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("httpd-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("cannot start the httpd spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    lock(spawner)
        .send((cmd, reply_tx))
        .map_err(|_| "httpd spawner thread is gone".to_string())?;
    reply_rx
        .recv()
        .map_err(|_| "httpd spawner thread is gone".to_string())?
        .map_err(|e| format!("cannot run {APACHE2}: {e}"))
}

/// The words of [`WRAPPER_ENV`], when it is set and not blank.
pub fn wrapper() -> Option<Vec<String>> {
    let text = std::env::var(WRAPPER_ENV).ok()?;
    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    (!words.is_empty()).then_some(words)
}

/// [`TIMEOUT_SCALE_ENV`], or 20 under a wrapper, or 1.
pub fn timeout_scale() -> f64 {
    std::env::var(TIMEOUT_SCALE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(if wrapper().is_some() { 20.0 } else { 1.0 })
}

/// `d` times [`timeout_scale`].
pub fn scaled(d: Duration) -> Duration {
    d.mul_f64(timeout_scale())
}

/// Connects (sending nothing: httpd logs nothing for such a connection; `AcceptFilter http none`
/// queues it at once) and waits up to 2 s for httpd to accept it: the accept queue of its listening socket, `rx_queue` of the LISTEN entry
/// in /proc/net/tcp, is empty again while the connection is still open.
fn connection_is_accepted(addr: SocketAddr) -> bool {
    let Ok(_probe) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if listen_queue(addr.port()) == Some(0) {
            return true;
        }
        std::thread::sleep(POLL);
    }
    false
}

/// Connections waiting in the accept queue of the loopback listener on `port`.
fn listen_queue(port: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local_port = fields.get(1)?.rsplit(':').next()?;
        let listening = *fields.get(3)? == "0A";
        if !listening || u16::from_str_radix(local_port, 16).ok()? != port {
            return None;
        }
        u64::from_str_radix(fields.get(4)?.split(':').nth(1)?, 16).ok()
    })
}

fn port_accepts(addr: SocketAddr) -> bool {
    // Connect and close without sending: httpd logs nothing for such a connection.
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Pids whose parent is `parent`, from /proc/<pid>/stat.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| proc_stat(pid).is_some_and(|(_, ppid)| ppid == parent))
        .collect();
    pids.sort_unstable();
    pids
}

/// (command name, parent pid) of a process, or None if it does not exist.
fn proc_stat(pid: u32) -> Option<(String, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split at the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

fn kill_pid(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; callers only pass pids of apache2
    // processes spawned (directly or by the parent) for this server.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| -status.signal().unwrap_or(0))
}

/// A file's text (lossy UTF-8), or empty when it cannot be read.
pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Locks ignoring poisoning: a panicking test must still be able to stop its server.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
