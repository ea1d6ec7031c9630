//! The soak's AJP backends: separate `ajp-backend` processes (tests/support/ajp_backend_cli.rs),
//! each on its own fixed port with a request log, killed with SIGKILL and started again on the
//! same port. Only processes this file spawned are ever signalled (`Child::kill`, by their pid).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a (re)started backend may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One backend: name (also its lb member's name and route), port, request log and, while it
/// runs, its process.
pub struct Backend {
    pub name: String,
    pub port: u16,
    /// Every life of this backend appends here (`--request-log`).
    pub request_log: PathBuf,
    stderr_log: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
    /// Lives started so far (1 after the first start).
    pub starts: usize,
}

impl Backend {
    pub fn new(bin: &Path, dir: &Path, name: &str, port: u16) -> Backend {
        Backend {
            name: name.to_string(),
            port,
            request_log: dir.join(format!("{name}.requests.log")),
            stderr_log: dir.join(format!("{name}.stderr.log")),
            bin: bin.to_path_buf(),
            child: None,
            starts: 0,
        }
    }

    /// Starts the process and waits until its port accepts. A port still held by the killed
    /// life (rare: std binds with SO_REUSEADDR) is retried until [`START_TIMEOUT`].
    pub fn start(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let mut child = self.spawn()?;
            match wait_accepting(&mut child, self.port, deadline) {
                Ok(()) => {
                    self.child = Some(child);
                    self.starts += 1;
                    return Ok(());
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "backend {} on port {} did not start: {why}; stderr:\n{}",
                            self.name,
                            self.port,
                            fs::read_to_string(&self.stderr_log).unwrap_or_default()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// SIGKILL to the process this backend started (by its pid, through `Child::kill`), then
    /// reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn spawn(&self) -> Result<Child, String> {
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_log)
            .map_err(|e| format!("cannot open {}: {e}", self.stderr_log.display()))?;
        let mut command = Command::new(&self.bin);
        command
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--name", &self.name, "--request-log"])
            .arg(&self.request_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        // SAFETY: runs in the forked child before exec and only calls prctl(2), which is
        // async-signal-safe: the backend dies with the thread that started it (this program's
        // main thread), so no backend outlives a crashed or interrupted soak.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
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
        command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until 127.0.0.1:`port` accepts, or the child exits, or `deadline` passes.
fn wait_accepting(child: &mut Child, port: u16, deadline: Instant) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status})"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err("port not accepting".to_string());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One line of a request log: (method, request id).
pub fn read_request_log(path: &Path) -> io::Result<Vec<(String, String)>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            Some((fields.next()?.to_string(), fields.next()?.to_string()))
        })
        .collect())
}

/// Creates (or empties) a log file so a new run does not read the last one's lines.
pub fn truncate(path: &Path) -> io::Result<()> {
    File::create(path).map(drop)
}
