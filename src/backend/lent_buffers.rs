//! Large receive buffers, lent to connections while they stream a large response body.
//!
//! A connection's own buffer holds one packet (`max_packet`, 8 KiB by default), so an idle
//! pool costs what mod_jk's does. While a body spans several packets, the connection borrows
//! one of these (`LARGE_BUFFER` bytes): one read then takes in up to eight packets, which go to
//! the client in one pass. At most `LARGE_BUFFERS` exist per process, so the memory they add is
//! bounded whatever the concurrency; a connection that finds none keeps reading packet by
//! packet, as before. Lock-free: a bounded queue of free buffers and a counter of made ones.
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Bytes per large buffer: eight 8 KiB packets.
pub const LARGE_BUFFER: usize = 64 * 1024;

/// Most large buffers per process (1 MiB in all).
pub const LARGE_BUFFERS: usize = 16;

static FREE: OnceLock<ArrayQueue<Box<[u8]>>> = OnceLock::new();
static MADE: AtomicUsize = AtomicUsize::new(0);

fn free() -> &'static ArrayQueue<Box<[u8]>> {
    FREE.get_or_init(|| ArrayQueue::new(LARGE_BUFFERS))
}

/// A free large buffer, a new one while fewer than `LARGE_BUFFERS` exist, or `None`.
pub fn borrow() -> Option<Box<[u8]>> {
    #[cfg(test)]
    if NONE_FOR_THIS_THREAD.with(std::cell::Cell::get) {
        return None;
    }
    #[cfg(test)]
    BORROWED_ON_THIS_THREAD.with(|n| n.set(n.get() + 1));
    if let Some(buf) = free().pop() {
        return Some(buf);
    }
    if MADE.fetch_add(1, Ordering::Relaxed) < LARGE_BUFFERS {
        Some(vec![0u8; LARGE_BUFFER].into_boxed_slice())
    } else {
        MADE.fetch_sub(1, Ordering::Relaxed);
        None
    }
}

/// Gives a buffer from `borrow` back.
pub fn give_back(buf: Box<[u8]>) {
    if free().push(buf).is_err() {
        // Cannot happen (the queue holds every buffer ever made), but if it did the buffer
        // is freed and may be made again.
        MADE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Large buffers that exist now (lent or free), for tests.
#[cfg(test)]
pub fn made() -> usize {
    MADE.load(Ordering::Relaxed).min(LARGE_BUFFERS)
}

#[cfg(test)]
thread_local! {
    /// Set by a test to see `borrow` fail on its own thread, whatever other tests hold.
    pub static NONE_FOR_THIS_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How often this thread asked for a large buffer (granted or not), for tests.
    pub static BORROWED_ON_THIS_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Held by tests that take every large buffer, so they do not starve each other.
#[cfg(test)]
pub static EXCLUSIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_cap_and_given_back_ones_are_reused() {
        let _only = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
        let mut held = Vec::new();
        while let Some(buf) = borrow() {
            assert_eq!(buf.len(), LARGE_BUFFER);
            held.push(buf);
            assert!(held.len() <= LARGE_BUFFERS, "more buffers than the cap");
        }
        // Other tests may hold some meanwhile; none is made past the cap.
        assert!(made() <= LARGE_BUFFERS);
        // (Another test may give one back meanwhile: only check that none was made.)
        if let Some(buf) = borrow() {
            held.push(buf);
        }
        assert!(made() <= LARGE_BUFFERS, "none is made past the cap");
        for buf in held.drain(..) {
            give_back(buf);
        }
        let again = borrow().expect("a given-back buffer is lent again");
        give_back(again);
    }
}
