//! `GenerationSlot<T>`: a process-wide value that lives as long as one configuration
//! generation (httpd's `pconf`), readable from any thread without a lock or a reference count:
//! installed by `post_config`, emptied by `pconf`'s cleanup before the value is dropped.
use super::Pool;
use crate::ffi;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

pub struct GenerationSlot<T> {
    value: AtomicPtr<T>,
}

/// What the clear cleanup needs: the slot and what to do with the value before it goes.
struct Clear<T: 'static> {
    slot: &'static GenerationSlot<T>,
    before: fn(&T),
}

impl<T: 'static> GenerationSlot<T> {
    pub const fn new() -> GenerationSlot<T> {
        GenerationSlot {
            value: AtomicPtr::new(null_mut()),
        }
    }

    /// The value of the current generation (`None` before `post_config`).
    pub fn get(&self) -> Option<&T> {
        let p = self.value.load(Ordering::Acquire);
        // SAFETY: the pointer is set by `install` to a value owned by pconf and reset to null
        // by pconf's cleanup before that value is dropped (cleanups run in reverse order of
        // registration); child processes never run that cleanup while serving, and the
        // parent clears pconf only between generations, when no hook of the old one runs.
        unsafe { p.as_ref() }
    }

    /// Makes `value` the current generation's, owned by `pconf`; when `pconf` is cleared,
    /// `before_clear` runs with it, the slot is emptied, then the value is dropped.
    pub fn install(&'static self, pconf: Pool<'_>, value: T, before_clear: fn(&T)) {
        let owned: *const T = pconf.own(value);
        let clear = pconf.own(Clear {
            slot: self,
            before: before_clear,
        });
        // SAFETY: pconf is live; `clear` is owned by pconf and registered after it, so its
        // drop runs after this cleanup (APR runs cleanups last-registered first): the cleanup
        // registered now runs before both drops.
        unsafe {
            ffi::apr_pool_cleanup_register(
                pconf.raw(),
                (clear as *const Clear<T>).cast(),
                Some(clear_slot::<T>),
                Some(ffi::apr_pool_cleanup_null),
            );
        }
        self.value.store(owned.cast_mut(), Ordering::Release);
    }
}

unsafe extern "C" fn clear_slot<T: 'static>(data: *mut c_void) -> ffi::apr_status_t {
    // SAFETY: registered only by `install` with a live `Clear<T>` owned by the same pool.
    let clear = unsafe { &*data.cast::<Clear<T>>() };
    let p = clear.slot.value.swap(null_mut(), Ordering::AcqRel);
    // A cleanup is called by C: no panic may unwind out of it.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the value is still alive (its drop is a cleanup registered earlier, which
        // runs later).
        if let Some(value) = unsafe { p.as_ref() } {
            (clear.before)(value);
        }
    }));
    ffi::APR_SUCCESS as ffi::apr_status_t
}
