//! `JkWatchdogInterval` > 0: one thread per child runs maintenance every interval (lb decay and
//! recovery, elected once across processes; this child's idle connections). It only touches
//! the runtime, which lives until the child exits, and never an httpd structure.
use super::lifecycle::runtime;
use crate::httpd::{log, LogLevel, Pool};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// True in a child whose watchdog thread runs maintenance (requests then need not).
static RUNNING: AtomicBool = AtomicBool::new(false);
/// Set by the child's pool cleanup: the thread ends at its next wake-up.
static STOP: AtomicBool = AtomicBool::new(false);

pub fn running() -> bool {
    RUNNING.load(Ordering::Relaxed)
}

fn stop() {
    STOP.store(true, Ordering::Release);
}

pub fn start(pchild: Pool<'_>, interval: Duration) {
    STOP.store(false, Ordering::Release);
    let spawned = std::thread::Builder::new()
        .name("jk_rs-watchdog".into())
        .spawn(move || {
            let step = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while !STOP.load(Ordering::Acquire) {
                std::thread::sleep(step);
                waited += step;
                if waited >= interval {
                    waited = Duration::ZERO;
                    if let Some(rt) = runtime() {
                        let _ = catch_unwind(AssertUnwindSafe(|| {
                            rt.maintain(&mut |into_error, line| {
                                let level = if into_error {
                                    LogLevel::Warning
                                } else {
                                    LogLevel::Info
                                };
                                log::to_main_log(level, &format!("mod_jk_rs: {line}"));
                            })
                        }));
                    }
                }
            }
        });
    if spawned.is_ok() {
        RUNNING.store(true, Ordering::Relaxed);
        pchild.on_cleanup(stop);
    }
}
