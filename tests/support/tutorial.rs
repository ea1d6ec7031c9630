//! The tutorial's system for the tests: `scripts/tutorial.sh` (the README's main command) run on
//! free loopback ports in a scratch directory, with the module this test run built. Stopped (by
//! the script, by pid) when dropped.
//!
//! Included after `httpd` as `#[path = "support/tutorial.rs"] mod tutorial;`.
#![allow(dead_code)]

use crate::httpd::{free_port, module_path, read_lossy, tail};
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Set to skip the tests that need Tomcat (when it is not installed they fail, so that CI, which
/// installs it, cannot pass without running them).
pub const SKIP_ENV: &str = "MOD_JK_RS_SKIP_TOMCAT";
/// Where Debian's tomcat10-common puts Tomcat.
pub const CATALINA_HOME: &str = "/usr/share/tomcat10";
/// The Tomcats' names (their jvmRoute and worker names).
pub const TOMCATS: [&str; 2] = ["TomcatA", "TomcatB"];

/// Whether the Tomcat tests should run: false (with a note) when [`SKIP_ENV`] is set; panics with
/// what to do when Tomcat is missing.
pub fn tomcat_wanted() -> bool {
    if std::env::var_os(SKIP_ENV).is_some() {
        eprintln!("{SKIP_ENV} is set: skipping the test against real Tomcat");
        return false;
    }
    let catalina = Path::new(CATALINA_HOME).join("bin/catalina.sh");
    assert!(
        catalina.exists(),
        "Tomcat 10 is not installed ({} is missing). Install it with scripts/setup.sh \
         (apt-get install tomcat10-user), or set {SKIP_ENV}=1 to skip the tests against real Tomcat.",
        catalina.display()
    );
    true
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// httpd + TomcatA + TomcatB as `scripts/tutorial.sh start` runs them.
pub struct Tutorial {
    dir: PathBuf,
    pub http_port: u16,
    pub ajp_ports: [u16; 2],
    pub cluster_ports: [u16; 2],
}

impl Tutorial {
    /// Starts the system; panics with the script's output when it does not come up. A port
    /// taken between choosing and binding is retried with new ports.
    pub fn start() -> Tutorial {
        let mut last = String::new();
        for _ in 0..3 {
            let t = Tutorial {
                dir: scratch_dir("tutorial"),
                http_port: free_port(),
                ajp_ports: [free_port(), free_port()],
                cluster_ports: [free_port(), free_port()],
            };
            let out = t.script(&["start"]);
            if out.status.success() {
                return t;
            }
            last = describe(&out);
            let port_taken = last.contains("is taken");
            // Stops whatever part of it came up (the script already did) and keeps the logs.
            std::mem::forget(t);
            if !port_taken {
                break;
            }
        }
        panic!("scripts/tutorial.sh start failed:\n{last}");
    }

    /// Runs `scripts/tutorial.sh <args>` with this system's settings.
    pub fn script(&self, args: &[&str]) -> Output {
        Command::new(repo().join("scripts/tutorial.sh"))
            .args(args)
            .env("TUTORIAL_DIR", &self.dir)
            .env("PORT", self.http_port.to_string())
            .env(
                "AJP_PORTS",
                format!("{} {}", self.ajp_ports[0], self.ajp_ports[1]),
            )
            .env(
                "CLUSTER_PORTS",
                format!("{} {}", self.cluster_ports[0], self.cluster_ports[1]),
            )
            .env("MODULE", module_path())
            .env("NO_INSTALL", "1")
            .env("WAIT", "120")
            .stdin(Stdio::null())
            .output()
            .expect("cannot run scripts/tutorial.sh")
    }

    /// Like [`Tutorial::script`], panicking with its output on failure.
    pub fn must(&self, args: &[&str]) -> String {
        let out = self.script(args);
        assert!(
            out.status.success(),
            "scripts/tutorial.sh {}: {}",
            args.join(" "),
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.http_port))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The AJP port of `tomcat` (TomcatA or TomcatB).
    pub fn ajp_port(&self, tomcat: &str) -> u16 {
        self.ajp_ports[tomcat_index(tomcat)]
    }

    /// The AJP secret of this run (both sides).
    pub fn secret(&self) -> String {
        fs::read_to_string(self.dir.join("run/secret"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The webapp directory of `tomcat` (files put there are served at once).
    pub fn webapp(&self, tomcat: &str) -> PathBuf {
        self.dir.join(tomcat).join("webapps/ROOT")
    }

    /// Copies `file` into both Tomcats' webapp as `name`.
    pub fn deploy(&self, name: &str, bytes: &[u8]) {
        for tomcat in TOMCATS {
            let path = self.webapp(tomcat).join(name);
            fs::write(&path, bytes)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    }

    pub fn error_log(&self) -> String {
        read_lossy(&self.dir.join("httpd/logs/error.log"))
    }

    pub fn catalina_out(&self, tomcat: &str) -> String {
        read_lossy(&self.dir.join(tomcat).join("logs/catalina.out"))
    }

    /// `kill -9` of a Tomcat, through the script (by its recorded pid).
    pub fn kill_tomcat(&self, tomcat: &str) {
        self.must(&["tomcat", "kill", tomcat]);
    }

    /// Starts a Tomcat again; returns once its AJP connector answers a CPing.
    pub fn start_tomcat(&self, tomcat: &str) {
        self.must(&["tomcat", "start", tomcat]);
    }
}

impl Drop for Tutorial {
    fn drop(&mut self) {
        let out = self.script(&["stop"]);
        if std::thread::panicking() {
            eprintln!(
                "tutorial: logs kept in {}\n--- httpd error.log (tail) ---\n{}",
                self.dir.display(),
                tail(&self.error_log(), 40)
            );
        } else if out.status.success() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn tomcat_index(tomcat: &str) -> usize {
    TOMCATS
        .iter()
        .position(|t| *t == tomcat)
        .unwrap_or_else(|| panic!("no Tomcat named {tomcat}"))
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A new directory under cargo's scratch space for tests (`target/tmp`).
pub fn scratch_dir(kind: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_TMPDIR").map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("{kind}-{}-{nanos:x}", std::process::id()));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}
