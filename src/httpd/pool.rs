//! APR pools as Rust sees them: copying bytes into a pool, and tying a Rust value's life to a
//! pool (dropped by the pool's cleanup).
use crate::ffi;
use std::os::raw::{c_char, c_void};

/// Copies `s` into `pool` as a NUL-terminated string that lives as long as the pool.
///
/// # Safety
/// `pool` is a live APR pool that the calling thread may allocate from.
pub unsafe fn strdup(pool: *mut ffi::apr_pool_t, s: &[u8]) -> *mut c_char {
    // SAFETY: apr_pstrmemdup copies len bytes and appends NUL; s is a valid slice.
    unsafe { ffi::apr_pstrmemdup(pool, s.as_ptr().cast(), s.len() as ffi::apr_size_t) }
}

unsafe extern "C" fn drop_boxed<T>(data: *mut c_void) -> ffi::apr_status_t {
    // SAFETY: registered only by `leak_into` with a pointer from Box::into_raw::<T>, and APR
    // runs a cleanup once.
    let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(data.cast::<T>()) }));
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// Moves `value` to the heap and registers its drop as a cleanup of `pool`; the pointer is
/// valid until the pool is cleared or destroyed.
///
/// # Safety
/// `pool` is a live APR pool used by the calling thread only.
pub unsafe fn leak_into<T>(pool: *mut ffi::apr_pool_t, value: T) -> *mut T {
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: pool is live; the cleanup matches the pointer type; the child cleanup is APR's no-op.
    unsafe {
        ffi::apr_pool_cleanup_register(
            pool,
            raw.cast(),
            Some(drop_boxed::<T>),
            Some(ffi::apr_pool_cleanup_null),
        );
    }
    raw
}

/// Concatenates `parts` into one NUL-terminated string allocated from `pool`.
///
/// # Safety
/// `pool` is a live APR pool that the calling thread may allocate from.
pub unsafe fn concat(pool: *mut ffi::apr_pool_t, parts: &[&[u8]]) -> *mut c_char {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // SAFETY: apr_palloc returns len + 1 writable bytes (it aborts the process on OOM, never NULL).
    unsafe {
        let dst = ffi::apr_palloc(pool, (len + 1) as ffi::apr_size_t).cast::<u8>();
        let mut at = 0;
        for p in parts {
            std::ptr::copy_nonoverlapping(p.as_ptr(), dst.add(at), p.len());
            at += p.len();
        }
        *dst.add(len) = 0;
        dst.cast()
    }
}
