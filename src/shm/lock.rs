//! The cross-process lock of one lb worker (`lock=Pessimistic`, maintenance, forced recovery
//! and status-page edits): a spin lock on a shared `AtomicU32` holding the owner's pid.
//!
//! Why a spin lock and not a futex or fcntl lock: the critical sections are a scan over a few
//! members (microseconds), the word lives in the mapping every child already has, and no file
//! or kernel object has to survive a graceful restart. Waiters spin briefly, then yield. A
//! holder that died (its pid no longer exists) is robbed of the lock; a holder that stays
//! stuck longer than [`GIVE_UP_AFTER`] is not waited for — the waiter proceeds without the
//! lock, which is what `lock=Optimistic` does all the time, so the worst case is the
//! tolerated races of optimistic mode, never a hung httpd.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Longest wait for the lock before proceeding without it.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(2);
const SPINS_BEFORE_YIELD: u32 = 100;
/// Yields between two checks whether the holder is still alive.
const YIELDS_PER_LIVENESS_CHECK: u32 = 1_000;

/// The lock word: 0 when free, else the pid of the holder.
#[repr(transparent)]
pub struct ShmLock(AtomicU32);

impl ShmLock {
    /// Takes the lock (see the module comment for the bounded wait).
    pub fn acquire(&self) -> ShmLockGuard<'_> {
        let me = own_pid();
        let started = Instant::now();
        let mut rounds: u32 = 0;
        loop {
            let holder = self.0.load(Ordering::Relaxed);
            if holder == 0
                && self
                    .0
                    .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return ShmLockGuard {
                    lock: self,
                    held: true,
                };
            }
            rounds = rounds.saturating_add(1);
            if rounds <= SPINS_BEFORE_YIELD {
                std::hint::spin_loop();
                continue;
            }
            std::thread::yield_now();
            if rounds.is_multiple_of(YIELDS_PER_LIVENESS_CHECK) {
                if holder != 0
                    && holder != me
                    && !process_exists(holder)
                    && self
                        .0
                        .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                {
                    return ShmLockGuard {
                        lock: self,
                        held: true,
                    };
                }
                if started.elapsed() >= GIVE_UP_AFTER {
                    return ShmLockGuard {
                        lock: self,
                        held: false,
                    };
                }
            }
        }
    }

    /// The pid holding the lock, if any (for the status page and tests).
    pub fn holder(&self) -> Option<u32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    pub(crate) fn clear(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Holds the lock until dropped.
pub struct ShmLockGuard<'a> {
    lock: &'a ShmLock,
    held: bool,
}

impl ShmLockGuard<'_> {
    /// False when the wait was abandoned and the caller runs unlocked.
    pub fn held(&self) -> bool {
        self.held
    }
}

impl Drop for ShmLockGuard<'_> {
    fn drop(&mut self) {
        if self.held {
            self.lock.0.store(0, Ordering::Release);
        }
    }
}

fn own_pid() -> u32 {
    std::process::id()
}

/// Whether a process with this pid exists (signal 0 probes without delivering anything).
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that `pid` exists and may be signalled; it
    // touches no memory of ours.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_between_threads() {
        let lock = ShmLock(AtomicU32::new(0));
        let counter = AtomicU32::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..2_000 {
                        let guard = lock.acquire();
                        assert!(guard.held());
                        // A non-atomic read-modify-write: lost updates would show a bad total.
                        let seen = counter.load(Ordering::Relaxed);
                        std::hint::spin_loop();
                        counter.store(seen + 1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 8_000);
        assert_eq!(lock.holder(), None);
    }

    #[test]
    fn lock_held_by_a_dead_process_is_taken_over() {
        // pid_max is at most 2^22 on Linux, so this pid cannot exist.
        let lock = ShmLock(AtomicU32::new(0x7fff_fff0));
        let guard = lock.acquire();
        assert!(guard.held());
        assert_eq!(lock.holder(), Some(std::process::id()));
        drop(guard);
        assert_eq!(lock.holder(), None);
    }
}
