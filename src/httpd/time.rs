//! Local time for `JkLogStampFormat`: the C library's `localtime_r` (it knows the zone rules
//! and TZ), broken down into the core's `LocalTime`.
use crate::jklog::LocalTime;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_local() -> LocalTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: tm is plain data that localtime_r fills; both pointers are valid for the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return LocalTime {
                year: 1970,
                month: 1,
                day: 1,
                micros: now.subsec_micros(),
                ..LocalTime::default()
            };
        }
        tm
    };
    LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        weekday: tm.tm_wday as u32,
        yearday: tm.tm_yday as u32,
        micros: now.subsec_micros(),
        utc_offset: tm.tm_gmtoff,
    }
}

/// This thread's id as the kernel knows it (for mod_jk-style `[pid:tid]` log lines).
pub fn thread_id() -> u64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u64 }
}
