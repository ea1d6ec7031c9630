//! Per-process pool of idle AJP connections for one worker. Last in, first out: a request takes
//! the connection returned most recently, so the few connections a steady load needs stay warm
//! (their backend threads too) and the rest age until `connection_pool_timeout` closes them, as
//! mod_jk's lowest-slot-first endpoint cache does. A first-in-first-out queue would rotate every
//! request through every idle connection: each backend thread woken cold, none ever idle long
//! enough to be closed.
use super::Connection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct ConnectionPool {
    /// Idle connections, most recently returned last. The lock is held only to push or pop (no
    /// system call, no drop, no allocation: the capacity is reserved up front).
    idle: Mutex<Vec<Connection>>,
    capacity: usize,
    /// `connection_pool_timeout` in ms (`NO_TIMEOUT`: none): idle connections older than
    /// this are closed, not reused. The status page may change it at run time.
    idle_timeout_ms: AtomicU64,
}

const NO_TIMEOUT: u64 = u64::MAX;

impl ConnectionPool {
    pub fn new(size: usize, idle_timeout: Option<Duration>) -> ConnectionPool {
        let capacity = size.max(1);
        ConnectionPool {
            idle: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
            idle_timeout_ms: AtomicU64::new(timeout_ms(idle_timeout)),
        }
    }

    /// A new `connection_pool_timeout` (status page).
    pub fn set_idle_timeout(&self, idle_timeout: Option<Duration>) {
        self.idle_timeout_ms
            .store(timeout_ms(idle_timeout), Ordering::Relaxed);
    }

    fn idle_timeout(&self) -> Option<Duration> {
        match self.idle_timeout_ms.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // Nothing panics while the lock is held (push/pop within the reserved capacity), so a
        // poisoned lock still guards a consistent vector.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }

    /// The most recently returned idle connection that has not outlived
    /// `connection_pool_timeout` and that the backend has not closed meanwhile (closed ones are
    /// dropped here, outside the lock, before any request is written).
    pub fn take(&self) -> Option<Connection> {
        loop {
            let conn = self.idle().pop()?;
            let expired = self
                .idle_timeout()
                .is_some_and(|limit| conn.idle_for(Instant::now()) > limit);
            if !expired && conn.is_alive() {
                return Some(conn);
            }
        }
    }

    /// Returns a connection; when the pool is full the connection is closed.
    pub fn put(&self, mut conn: Connection) {
        conn.release_large();
        conn.mark_idle(Instant::now());
        let refused = {
            let mut idle = self.idle();
            if idle.len() < self.capacity {
                idle.push(conn);
                None
            } else {
                Some(conn)
            }
        };
        drop(refused);
    }

    /// Periodic care of idle connections: closes those idle longer than `connection_pool_timeout`
    /// (keeping at least `keep` of them, the most recently used) and, with `ping` =
    /// (interval, timeout), CPings those idle longer than the interval, dropping the ones that do
    /// not answer (ping_mode I). Returns (closed, failed CPing).
    pub fn maintain(
        &self,
        now: Instant,
        keep: usize,
        ping: Option<(Duration, Duration)>,
    ) -> (usize, usize) {
        // Oldest first; requests meanwhile see only what is returned after this point.
        let checked: Vec<Connection> = self.idle().drain(..).collect();
        let (mut closed, mut failed) = (0, 0);
        let idle_timeout = self.idle_timeout();
        let total = checked.len();
        let mut survivors = Vec::with_capacity(total);
        for (index, mut conn) in checked.into_iter().enumerate() {
            let idle = conn.idle_for(now);
            let younger = total - index - 1;
            if idle_timeout.is_some_and(|limit| idle > limit) && younger >= keep {
                closed += 1;
                continue;
            }
            if let Some((interval, timeout)) = ping {
                if idle >= interval {
                    if conn.cping(timeout).is_err() {
                        failed += 1;
                        continue;
                    }
                    conn.mark_idle(now);
                }
            }
            if !conn.is_alive() {
                closed += 1;
                continue;
            }
            survivors.push(conn);
        }
        // Put the survivors back below what was returned meanwhile (those are more recent);
        // beyond the capacity the oldest are closed.
        let excess = {
            let mut idle = self.idle();
            let room = self.capacity.saturating_sub(idle.len());
            let excess: Vec<Connection> = survivors
                .drain(..survivors.len().saturating_sub(room))
                .collect();
            idle.splice(0..0, survivors);
            excess
        };
        closed += excess.len();
        drop(excess);
        (closed, failed)
    }
}

fn timeout_ms(timeout: Option<Duration>) -> u64 {
    timeout.map_or(NO_TIMEOUT, |t| {
        u64::try_from(t.as_millis())
            .unwrap_or(NO_TIMEOUT - 1)
            .min(NO_TIMEOUT - 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, TcpListener, TcpStream};

    /// `n` connections to a local listener, and the accepted ends (kept open: the backend side).
    fn connections(n: usize) -> (Vec<Connection>, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut conns = Vec::new();
        let mut peers = Vec::new();
        for _ in 0..n {
            conns.push(Connection::connect(addr, None, None, 8192, false).expect("connect"));
            peers.push(listener.accept().expect("accept").0);
        }
        (conns, peers)
    }

    fn ids(conns: &[Connection]) -> Vec<SocketAddr> {
        conns.iter().map(|c| c.local_addr()).collect()
    }

    /// A pool of `capacity` given `n` fresh connections in order; their addresses in that order.
    fn pooled(
        n: usize,
        capacity: usize,
        idle_timeout: Option<Duration>,
    ) -> (ConnectionPool, Vec<SocketAddr>, Vec<TcpStream>) {
        let (conns, peers) = connections(n);
        let order = ids(&conns);
        let pool = ConnectionPool::new(capacity, idle_timeout);
        for conn in conns {
            pool.put(conn);
        }
        (pool, order, peers)
    }

    #[test]
    fn the_most_recently_returned_connection_is_taken_first() {
        let (pool, order, _peers) = pooled(3, 4, None);
        assert_eq!(pool.idle_count(), 3);
        let taken: Vec<SocketAddr> = std::iter::from_fn(|| pool.take())
            .map(|c| c.local_addr())
            .collect();
        let mut newest_first = order.clone();
        newest_first.reverse();
        assert_eq!(taken, newest_first);
        assert_eq!(pool.idle_count(), 0);
    }

    #[test]
    fn a_steady_single_request_load_reuses_one_connection() {
        let (pool, _order, _peers) = pooled(3, 4, None);
        let first = pool.take().expect("idle connection");
        let id = first.local_addr();
        pool.put(first);
        for _ in 0..5 {
            let conn = pool.take().expect("idle connection");
            assert_eq!(conn.local_addr(), id);
            pool.put(conn);
        }
    }

    #[test]
    fn a_full_pool_closes_what_is_returned() {
        let (pool, _order, mut peers) = pooled(3, 2, None);
        assert_eq!(pool.idle_count(), 2);
        // The third was closed: its backend end reads end of stream.
        let mut byte = [0u8; 1];
        let last = peers.pop().expect("peer");
        last.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        assert_eq!(std::io::Read::read(&mut &last, &mut byte).expect("read"), 0);
    }

    #[test]
    fn a_connection_the_backend_closed_is_skipped() {
        let (pool, order, mut peers) = pooled(2, 4, None);
        // The backend closes the newest one; take() must hand out the older, live one.
        drop(peers.pop());
        std::thread::sleep(Duration::from_millis(50));
        let conn = pool.take().expect("live connection");
        assert_eq!(conn.local_addr(), order[0]);
        assert!(pool.take().is_none());
    }

    #[test]
    fn maintenance_closes_the_oldest_expired_and_keeps_the_newest() {
        let (pool, order, _peers) = pooled(4, 8, Some(Duration::from_secs(10)));
        // An hour later all four have expired; at least two are kept: the two most recent.
        let later = Instant::now() + Duration::from_secs(3600);
        assert_eq!(pool.maintain(later, 2, None), (2, 0));
        assert_eq!(pool.idle_count(), 2);
        let mut kept: Vec<SocketAddr> = std::iter::from_fn(|| {
            let mut idle = pool.idle();
            idle.pop()
        })
        .map(|c| c.local_addr())
        .collect();
        kept.reverse();
        assert_eq!(kept, order[2..].to_vec());
    }

    #[test]
    fn maintenance_keeps_the_most_recent_on_top() {
        let (pool, order, _peers) = pooled(3, 3, None);
        assert_eq!(pool.maintain(Instant::now(), 0, None), (0, 0));
        let taken: Vec<SocketAddr> = std::iter::from_fn(|| pool.take())
            .map(|c| c.local_addr())
            .collect();
        let mut newest_first = order;
        newest_first.reverse();
        assert_eq!(taken, newest_first);
    }
}
