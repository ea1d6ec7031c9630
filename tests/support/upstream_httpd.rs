//! httpd built from the pristine upstream source as the official `httpd:2.4` image builds it
//! (`scripts/upstream-httpd.sh`, cached in `target/upstream-httpd/prefix`), run with its stock
//! `conf/httpd.conf` plus our lines, and the module built against its apxs. Only the process
//! spawned here is ever signalled, by its pid.
//!
//! Included after `httpd` as `#[path = "support/upstream_httpd.rs"] mod upstream_httpd;`.
#![allow(dead_code)]

use crate::httpd::{free_port, Mpm};
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `scripts/upstream-httpd.sh` leaves its build.
pub fn prefix() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/upstream-httpd/prefix")
}

/// Whether the cached build exists (the script marks a finished build with `.built`).
pub fn built() -> bool {
    prefix().join(".built").exists() && prefix().join("bin/httpd").exists()
}

/// Builds our module against the upstream httpd's apxs, in its own target directory (so the
/// usual build, made with Debian's apxs, is left alone), and returns the .so.
pub fn build_module() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/upstream-httpd/cargo");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--lib"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("APXS", prefix().join("bin/apxs"))
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run cargo");
    assert!(
        out.status.success(),
        "building the module with the upstream apxs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/libmod_jk_rs.so")
}

/// The stock httpd.conf of the upstream build made to run here: its `Listen 80` on a free
/// loopback port, `mpm` loaded instead of the default MPM; then our `extra` lines.
pub fn stock_config(mpm: Mpm, port: u16, dir: &Path, extra: &str) -> String {
    let stock = fs::read_to_string(prefix().join("conf/httpd.conf")).expect("stock httpd.conf");
    let mut out = String::new();
    for line in stock.lines() {
        let trimmed = line.trim_start_matches('#');
        if line.starts_with("Listen ") {
            out.push_str(&format!("Listen 127.0.0.1:{port}\n"));
        } else if trimmed.starts_with("LoadModule mpm_") {
            // Exactly one MPM: the wanted one uncommented, every other commented out.
            if !trimmed.starts_with(&format!("LoadModule mpm_{}_module", mpm.name())) {
                out.push('#');
            }
            out.push_str(trimmed);
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    let d = dir.display();
    out.push_str(&format!(
        "\n# tests: this run's files\nServerName 127.0.0.1\nPidFile \"{d}/httpd.pid\"\n\
         ErrorLog \"{d}/error.log\"\nDefaultRuntimeDir \"{d}\"\nMutex file:{d} default\n{extra}\n"
    ));
    out
}

/// A running upstream httpd.
pub struct UpstreamHttpd {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl UpstreamHttpd {
    /// Writes `httpd.conf` (from [`stock_config`]) and `files` into `dir` and starts
    /// `httpd -DFOREGROUND`; waits (bounded) until it serves.
    pub fn start(mpm: Mpm, dir: &Path, extra: &str, files: &[(&str, String)]) -> UpstreamHttpd {
        let port = free_port();
        for (name, text) in files {
            fs::write(dir.join(name), text).expect("write a server file");
        }
        let conf = dir.join("httpd.conf");
        fs::write(&conf, stock_config(mpm, port, dir, extra)).expect("write httpd.conf");
        let log = fs::File::create(dir.join("stderr.log")).expect("stderr.log");
        let child = Command::new(prefix().join("bin/httpd"))
            .arg("-f")
            .arg(&conf)
            .arg("-DFOREGROUND")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            // Its own process group: prefork signals its whole group on stop.
            .process_group(0)
            .spawn()
            .expect("cannot run the upstream httpd");
        let mut httpd = UpstreamHttpd {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = httpd.child.try_wait() {
                panic!("upstream httpd exited ({status}):\n{}", httpd.logs());
            }
            if httpd.error_log().contains("resuming normal operations")
                && TcpStream::connect_timeout(&httpd.addr(), Duration::from_millis(300)).is_ok()
            {
                return httpd;
            }
            assert!(
                Instant::now() < deadline,
                "upstream httpd not ready in 20 s:\n{}",
                httpd.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        format!(
            "--- error.log ---\n{}\n--- stderr ---\n{}",
            self.error_log(),
            fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
        )
    }
}

impl Drop for UpstreamHttpd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on our own, not yet reaped child: its pid still names it.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
