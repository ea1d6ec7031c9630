//! The backend side of one AJP worker in this process: where it lives, its pool of reusable
//! connections, and the connection type that reads AJP messages off a socket.
#![forbid(unsafe_code)]

mod connection;
mod error;
pub(crate) mod lent_buffers;
mod pool;

pub use connection::Connection;
pub use error::BackendError;
pub use pool::ConnectionPool;

use crate::config::AjpWorker;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// One AJP13 worker as a process sees it: its settings and its connection pool.
pub struct Backend {
    pub settings: AjpWorker,
    pool: ConnectionPool,
    /// Resolved once, on first use (a name that does not resolve yet at start-up may later).
    addrs: OnceLock<Vec<SocketAddr>>,
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
            settings,
            addrs: OnceLock::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn pool(&self) -> &ConnectionPool {
        &self.pool
    }

    /// The first address connections go to, once this process has resolved the host (the
    /// status page's `address`); `None` before the first connection.
    pub fn resolved_address(&self) -> Option<SocketAddr> {
        self.addrs.get().and_then(|a| a.first().copied())
    }

    fn addrs(&self) -> Result<&[SocketAddr], BackendError> {
        if let Some(a) = self.addrs.get() {
            return Ok(a);
        }
        let host = self.settings.host.as_str();
        let mut found: Vec<SocketAddr> = (host, self.settings.port)
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
        Ok(self.addrs.get_or_init(|| found))
    }

    /// A pooled connection if one is idle, else a new one (with the connect-time CPing when
    /// `ping_mode` asks for it).
    pub fn acquire(&self, fresh: bool) -> Result<Acquired, BackendError> {
        if !fresh {
            if let Some(conn) = self.pool.take() {
                return Ok(Acquired { conn, reused: true });
            }
        }
        let conn = self.connect()?;
        Ok(Acquired {
            conn,
            reused: false,
        })
    }

    pub fn connect(&self) -> Result<Connection, BackendError> {
        let s = &self.settings;
        let addrs = self.addrs()?;
        let mut last = None;
        for addr in addrs {
            match Connection::connect(
                *addr,
                s.socket_connect_timeout,
                s.socket_timeout,
                s.max_packet_size,
                s.socket_keepalive,
            ) {
                Ok(mut conn) => {
                    if let Some(t) = connect_ping_timeout(s) {
                        conn.cping(t)?;
                    }
                    return Ok(conn);
                }
                Err(e) => last = Some(BackendError::Connect(format!("{addr}: {e}"))),
            }
        }
        Err(last.unwrap_or_else(|| BackendError::Connect("no address".into())))
    }

    /// Idle-connection care for this worker (see [`ConnectionPool::maintain`]).
    pub fn maintain(&self, now: std::time::Instant) -> (usize, usize) {
        let s = &self.settings;
        let keep = s.pool_minsize(self.pool.capacity());
        let ping = s.ping_mode.interval.then(|| {
            let interval = s.connection_ping_interval.unwrap_or(s.ping_timeout * 10);
            (interval, s.ping_timeout)
        });
        self.pool.maintain(now, keep, ping)
    }

    /// Gives a connection back after a clean END_RESPONSE with reuse.
    pub fn release(&self, conn: Connection) {
        self.pool.put(conn);
    }
}

/// CPing after connect: `connect_timeout` > 0 enables it, `ping_mode` C enables it with
/// `ping_timeout` (reference §2.4).
fn connect_ping_timeout(s: &AjpWorker) -> Option<Duration> {
    match s.connect_timeout {
        Some(t) => Some(t),
        None if s.ping_mode.connect => Some(s.ping_timeout),
        None => None,
    }
}

/// CPing before each request on a reused connection (`prepost_timeout` or `ping_mode` P).
pub fn prepost_ping_timeout(s: &AjpWorker) -> Option<Duration> {
    match s.prepost_timeout {
        Some(t) => Some(t),
        None if s.ping_mode.prepost => Some(s.ping_timeout),
        None => None,
    }
}
