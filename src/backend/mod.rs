//! The backend side of one AJP worker in this process: where it lives, its pool of reusable
//! connections, the connection type that reads AJP messages off a socket, and the settings a
//! request uses (`live.rs`: the configured ones with the status page's run-time edits).
#![forbid(unsafe_code)]

mod connection;
mod counted;
mod error;
pub(crate) mod lent_buffers;
mod live;
mod pool;

pub use connection::{Connection, RunParts, MAX_RUN};
pub use counted::OpenConnections;
pub use error::BackendError;
pub use live::LiveSettings;
pub use pool::ConnectionPool;

use crate::config::AjpWorker;
use crate::shm::SharedState;
use live::{Destination, Live};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One AJP13 worker as a process sees it: its settings and its connection pool.
pub struct Backend {
    /// The configuration as read; what the status page can change at run time is taken from
    /// [`Backend::live`] instead.
    pub settings: AjpWorker,
    pool: ConnectionPool,
    live: Live,
    /// Where this worker's open connections are counted (set once the shared state exists).
    open: OnceLock<Arc<OpenConnections>>,
}

/// A connection taken for one request, and whether it came from the pool (and so may be stale).
pub struct Acquired {
    pub conn: Connection,
    pub reused: bool,
}

impl Backend {
    /// `pool_size` is the worker's `connection_pool_size`, or the MPM's threads per child when unset.
    pub fn new(settings: AjpWorker, default_pool_size: usize) -> Backend {
        let size = settings
            .connection_pool_size
            .unwrap_or(default_pool_size)
            .max(1);
        Backend {
            pool: ConnectionPool::new(size, settings.connection_pool_timeout),
            live: Live::new(&settings),
            settings,
            open: OnceLock::new(),
        }
    }

    /// Counts this worker's connections in `open` from now on.
    pub fn count_connections_in(&self, open: Arc<OpenConnections>) {
        let _ = self.open.set(open);
    }

    /// Takes the run-time settings from record `index` of `shared` from now on (the worker's
    /// first record: the status page writes every record of a worker alike).
    pub fn follow_settings_in(&self, shared: Arc<SharedState>, index: usize) {
        self.live.follow(shared, index);
    }

    /// The settings for the next request: this process's copy, refreshed first if the
    /// worker's shared record changed (a new address or packet size also closes the idle
    /// connections of the old one).
    pub fn live(&self) -> LiveSettings {
        if let Some(refreshed) = self.live.check() {
            self.pool.set_idle_timeout(refreshed.idle_timeout);
            if refreshed.new_epoch {
                self.close_idle();
            }
        }
        self.live.current()
    }

    /// Closes every idle pooled connection (a child process leaving).
    pub fn close_idle(&self) {
        while self.pool.take().is_some() {}
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn pool(&self) -> &ConnectionPool {
        &self.pool
    }

    /// The first address connections go to, once this process has resolved the host (the
    /// status page's `address`); `None` before the first connection to it.
    pub fn resolved_address(&self) -> Option<SocketAddr> {
        let destination = self.live.destination();
        destination.addrs.get().and_then(|a| a.first().copied())
    }

    /// `host:port` new connections go to now (`unix:/path` for a Unix socket).
    pub fn address_text(&self) -> String {
        if self.settings.unix_socket.is_some() {
            return self.settings.host.clone();
        }
        let destination = self.live.destination();
        format!("{}:{}", destination.host, destination.port)
    }

    fn addrs<'d>(&self, d: &'d Destination) -> Result<&'d [SocketAddr], BackendError> {
        if let Some(a) = d.addrs.get() {
            return Ok(a);
        }
        let host = d.host.as_str();
        let mut found: Vec<SocketAddr> = (host, d.port)
            .to_socket_addrs()
            .map_err(|e| BackendError::Resolve(format!("{host}: {e}")))?
            .collect();
        if self.settings.prefer_ipv6 {
            found.sort_by_key(|a| !a.is_ipv6());
        } else {
            found.sort_by_key(|a| a.is_ipv6());
        }
        if found.is_empty() {
            return Err(BackendError::Resolve(format!("{host}: no address")));
        }
        Ok(d.addrs.get_or_init(|| found))
    }

    /// A pooled connection of the current epoch if one is idle (older ones are closed), else
    /// a new one (with the connect-time CPing when `live` asks for it).
    pub fn acquire(&self, fresh: bool, live: &LiveSettings) -> Result<Acquired, BackendError> {
        if !fresh {
            let epoch = self.live.epoch();
            while let Some(conn) = self.pool.take() {
                if conn.epoch() == epoch {
                    return Ok(Acquired { conn, reused: true });
                }
            }
        }
        let conn = self.connect(live)?;
        Ok(Acquired {
            conn,
            reused: false,
        })
    }

    /// A new connection (TCP or Unix socket), CPinged when `live` asks for it.
    pub fn connect(&self, live: &LiveSettings) -> Result<Connection, BackendError> {
        let s = &self.settings;
        let d = self.live.destination();
        let mut conn = match &s.unix_socket {
            None => self.connect_tcp(&d)?,
            Some(path) => Connection::connect_unix(
                path,
                s.socket_connect_timeout,
                s.socket_timeout,
                d.max_packet_size,
            )
            .map_err(|e| BackendError::Connect(format!("{}: {e}", s.host)))?,
        };
        conn.set_epoch(d.epoch);
        if let Some(open) = self.open.get() {
            conn.count_in(Arc::clone(open));
        }
        if let Some(t) = connect_ping_timeout(live) {
            conn.cping(t)?;
        }
        Ok(conn)
    }

    /// The first of the destination's addresses that accepts a connection.
    fn connect_tcp(&self, d: &Destination) -> Result<Connection, BackendError> {
        let s = &self.settings;
        let mut last = None;
        for addr in self.addrs(d)? {
            match Connection::connect(
                *addr,
                s.socket_connect_timeout,
                s.socket_timeout,
                d.max_packet_size,
                s.socket_keepalive,
            ) {
                Ok(conn) => return Ok(conn),
                Err(e) => last = Some(BackendError::Connect(format!("{addr}: {e}"))),
            }
        }
        Err(last.unwrap_or_else(|| BackendError::Connect("no address".into())))
    }

    /// Idle-connection care for this worker (see [`ConnectionPool::maintain`]).
    pub fn maintain(&self, now: std::time::Instant) -> (usize, usize) {
        let live = self.live();
        let keep = self.settings.pool_minsize(self.pool.capacity());
        let ping = live.ping_mode.interval.then(|| {
            let interval = live
                .connection_ping_interval
                .unwrap_or(live.ping_timeout() * 10);
            (interval, live.ping_timeout())
        });
        self.pool.maintain(now, keep, ping)
    }

    /// Gives a connection back after a clean END_RESPONSE with reuse; one of an older epoch
    /// (the address or packet size changed meanwhile) is closed instead.
    pub fn release(&self, conn: Connection) {
        if conn.epoch() == self.live.epoch() {
            self.pool.put(conn);
        }
    }
}

/// CPing after connect: `connect_timeout` > 0 enables it, `ping_mode` C enables it with
/// `ping_timeout` (reference §2.4).
fn connect_ping_timeout(s: &LiveSettings) -> Option<Duration> {
    match s.connect_timeout() {
        Some(t) => Some(t),
        None if s.ping_mode.connect => Some(s.ping_timeout()),
        None => None,
    }
}

/// CPing before each request on a reused connection (`prepost_timeout` or `ping_mode` P).
pub fn prepost_ping_timeout(s: &LiveSettings) -> Option<Duration> {
    match s.prepost_timeout() {
        Some(t) => Some(t),
        None if s.ping_mode.prepost => Some(s.ping_timeout()),
        None => None,
    }
}

#[cfg(test)]
mod unix_tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    use std::path::PathBuf;

    /// A fresh directory for one test's socket, removed on drop.
    struct SocketDir(PathBuf);

    impl SocketDir {
        fn new(test: &str) -> SocketDir {
            let dir = std::env::temp_dir().join(format!("jk-unix-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("socket dir");
            SocketDir(dir)
        }
    }

    impl Drop for SocketDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn worker_at(path: &std::path::Path) -> AjpWorker {
        let mut w = AjpWorker::with_defaults("sock");
        w.host = format!("unix:{}", path.display());
        w.port = 0;
        w.unix_socket = Some(path.to_owned());
        w.socket_timeout = Some(Duration::from_secs(5));
        w.socket_connect_timeout = Some(Duration::from_secs(2));
        w.connection_pool_size = Some(2);
        w
    }

    #[test]
    fn a_unix_socket_connection_cpings_pools_and_notices_a_close() {
        let dir = SocketDir::new("cping");
        let path = dir.0.join("ajp.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let peer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut cping = [0u8; 5];
            stream.read_exact(&mut cping).expect("cping");
            assert_eq!(cping, crate::ajp::CPING_PACKET);
            stream.write_all(&[b'A', b'B', 0, 1, 9]).expect("cpong");
            // Wait for the test to say "close now" (one byte), then close.
            let mut go = [0u8; 1];
            let _ = stream.read(&mut go);
        });
        let mut w = worker_at(&path);
        w.ping_mode.connect = true;
        let backend = Backend::new(w, 4);
        let live = backend.live();
        let first = backend.acquire(false, &live).expect("connect and cping");
        assert!(!first.reused);
        assert!(backend.resolved_address().is_none());
        backend.release(first.conn);
        let mut again = backend.acquire(false, &live).expect("pooled");
        assert!(again.reused, "the pooled Unix connection is reused");
        assert!(again.conn.is_alive());
        again.conn.send(b"x").expect("send");
        peer.join().expect("peer");
        std::thread::sleep(Duration::from_millis(20));
        assert!(!again.conn.is_alive(), "a closed peer is noticed");
    }

    #[test]
    fn a_missing_socket_is_a_connect_error_naming_the_path() {
        let dir = SocketDir::new("missing");
        let path = dir.0.join("absent.sock");
        for connect_timeout in [None, Some(Duration::from_secs(1))] {
            let mut w = worker_at(&path);
            w.socket_connect_timeout = connect_timeout;
            let backend = Backend::new(w, 1);
            match backend.connect(&backend.live()) {
                Err(BackendError::Connect(m)) => {
                    assert!(m.starts_with(&format!("unix:{}: ", path.display())), "{m}");
                }
                Err(e) => panic!("expected a connect error, got {e}"),
                Ok(_) => panic!("connected to a missing socket"),
            }
        }
    }
}
