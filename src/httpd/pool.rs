//! `Pool<'p>`: an APR pool as Rust sees it — copying bytes into it, tying a Rust value's life to
//! it (dropped by the pool's cleanup), and running a function when it is cleared.
use crate::ffi;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

/// A live APR pool, borrowed for `'p` (a hook call, or the life of a configuration generation).
#[derive(Clone, Copy)]
pub struct Pool<'p> {
    raw: NonNull<ffi::apr_pool_t>,
    _life: PhantomData<&'p ffi::apr_pool_t>,
}

impl<'p> Pool<'p> {
    /// # Safety
    /// `raw` is NULL or a live APR pool that lives for `'p` and that only the calling thread
    /// allocates from while this value is used.
    pub(crate) unsafe fn from_raw(raw: *mut ffi::apr_pool_t) -> Option<Pool<'p>> {
        NonNull::new(raw).map(|raw| Pool {
            raw,
            _life: PhantomData,
        })
    }

    pub(crate) fn raw(&self) -> *mut ffi::apr_pool_t {
        self.raw.as_ptr()
    }

    /// Copies `s` into the pool as a NUL-terminated string that lives as long as the pool.
    pub(crate) fn strdup(&self, s: &[u8]) -> *mut c_char {
        // SAFETY: the pool is live (from_raw's contract); apr_pstrmemdup copies len bytes and
        // appends NUL (it aborts the process on OOM, never returns NULL).
        unsafe { ffi::apr_pstrmemdup(self.raw(), s.as_ptr().cast(), s.len() as ffi::apr_size_t) }
    }

    /// Concatenates `parts` into one NUL-terminated string allocated from the pool.
    pub(crate) fn concat(&self, parts: &[&[u8]]) -> *mut c_char {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        // SAFETY: apr_palloc returns len + 1 writable bytes of the live pool (it aborts on
        // OOM, never NULL); every copy stays inside them.
        unsafe {
            let dst = ffi::apr_palloc(self.raw(), (len + 1) as ffi::apr_size_t).cast::<u8>();
            let mut at = 0;
            for p in parts {
                std::ptr::copy_nonoverlapping(p.as_ptr(), dst.add(at), p.len());
                at += p.len();
            }
            *dst.add(len) = 0;
            dst.cast()
        }
    }

    /// Moves `value` into the pool: it is dropped by the pool's cleanup, and the reference is
    /// valid until then (the pool's life, `'p`).
    pub fn own<T: 'p>(&self, value: T) -> &'p T {
        let raw = Box::into_raw(Box::new(value));
        // SAFETY: the pool is live; the cleanup matches the pointer's type and APR runs a
        // cleanup once; the child cleanup is APR's no-op.
        unsafe {
            ffi::apr_pool_cleanup_register(
                self.raw(),
                raw.cast(),
                Some(drop_boxed::<T>),
                Some(ffi::apr_pool_cleanup_null),
            );
            &*raw
        }
    }

    /// Runs `f` when the pool is cleared or destroyed (after cleanups registered later: APR
    /// runs them in reverse order). A panic in `f` is caught there.
    pub fn on_cleanup(&self, f: fn()) {
        // SAFETY: the pool is live; `run_fn` turns the data pointer back into the same fn
        // pointer (function pointers and data pointers have the same size on every target
        // httpd runs on).
        unsafe {
            ffi::apr_pool_cleanup_register(
                self.raw(),
                f as *const () as *mut c_void,
                Some(run_fn),
                Some(ffi::apr_pool_cleanup_null),
            );
        }
    }
}

unsafe extern "C" fn drop_boxed<T>(data: *mut c_void) -> ffi::apr_status_t {
    let boxed = data.cast::<T>();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: registered only by `own` with a pointer from Box::into_raw::<T>; APR runs
        // a cleanup once.
        drop(unsafe { Box::from_raw(boxed) })
    }));
    ffi::APR_SUCCESS as ffi::apr_status_t
}

unsafe extern "C" fn run_fn(data: *mut c_void) -> ffi::apr_status_t {
    // SAFETY: registered only by `on_cleanup` with a `fn()` cast to a data pointer.
    let f: fn() = unsafe { std::mem::transmute::<*mut c_void, fn()>(data) };
    let _ = catch_unwind(f);
    ffi::APR_SUCCESS as ffi::apr_status_t
}
