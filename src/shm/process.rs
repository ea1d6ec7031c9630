//! Test support: run work in a forked child process (sharing the mappings made before the
//! fork, like an httpd child) and collect its exit code. Only built for tests.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Exit code of a child whose work panicked.
pub(crate) const PANICKED: i32 = 101;

/// A forked child process.
pub(crate) struct Child {
    pid: libc::pid_t,
}

/// Forks; the child runs `work` and exits with its result (or [`PANICKED`]) without running
/// the parent's destructors or exit handlers.
pub(crate) fn in_child(work: impl FnOnce() -> i32) -> Child {
    // SAFETY: fork has no memory-safety preconditions. The child only runs `work` (which
    // touches memory it inherited, including the shared mapping) and then `_exit`s without
    // unwinding into the test harness; glibc keeps malloc usable in the child.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = catch_unwind(AssertUnwindSafe(work)).unwrap_or(PANICKED);
        // SAFETY: _exit ends this process at once; nothing of the child is used afterwards.
        unsafe { libc::_exit(code) };
    }
    Child { pid }
}

impl Child {
    /// Waits for the child; its exit code, or `None` if fork failed or it died of a signal.
    pub(crate) fn wait(self) -> Option<i32> {
        if self.pid < 0 {
            return None;
        }
        let mut status: libc::c_int = 0;
        loop {
            // SAFETY: `status` is a valid place for waitpid to write to; `pid` is our child.
            let rc = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if rc == self.pid {
                break;
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return None;
            }
        }
        if libc::WIFEXITED(status) {
            Some(libc::WEXITSTATUS(status))
        } else {
            None
        }
    }
}
