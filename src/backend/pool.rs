//! Per-process pool of idle AJP connections for one worker: a lock-free bounded queue, so
//! threads of an event/worker MPM take and return connections without a mutex.
use super::Connection;
use crossbeam_queue::ArrayQueue;
use std::time::{Duration, Instant};

pub struct ConnectionPool {
    idle: ArrayQueue<Connection>,
    /// `connection_pool_timeout`: idle connections older than this are closed, not reused.
    idle_timeout: Option<Duration>,
}

impl ConnectionPool {
    pub fn new(size: usize, idle_timeout: Option<Duration>) -> ConnectionPool {
        ConnectionPool {
            idle: ArrayQueue::new(size.max(1)),
            idle_timeout,
        }
    }

    pub fn capacity(&self) -> usize {
        self.idle.capacity()
    }

    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// An idle connection that has not outlived `connection_pool_timeout` and that the backend
    /// has not closed meanwhile (closed ones are dropped here, before any request is written).
    pub fn take(&self) -> Option<Connection> {
        while let Some(conn) = self.idle.pop() {
            let expired = self
                .idle_timeout
                .is_some_and(|limit| conn.idle_for(Instant::now()) > limit);
            if !expired && conn.is_alive() {
                return Some(conn);
            }
        }
        None
    }

    /// Returns a connection; when the pool is full the connection is closed.
    pub fn put(&self, mut conn: Connection) {
        conn.release_large();
        conn.mark_idle(Instant::now());
        let _ = self.idle.push(conn);
    }

    /// Periodic care of idle connections: closes those idle longer than `connection_pool_timeout`
    /// (keeping at least `keep` of them) and, with `ping` = (interval, timeout), CPings those
    /// idle longer than the interval, dropping the ones that do not answer (ping_mode I).
    pub fn maintain(
        &self,
        now: Instant,
        keep: usize,
        ping: Option<(Duration, Duration)>,
    ) -> (usize, usize) {
        let (mut closed, mut failed) = (0, 0);
        for _ in 0..self.idle.len() {
            let Some(mut conn) = self.idle.pop() else {
                break;
            };
            let idle = conn.idle_for(now);
            if self.idle_timeout.is_some_and(|limit| idle > limit) && self.idle.len() >= keep {
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
            let _ = self.idle.push(conn);
        }
        (closed, failed)
    }
}
