//! Tables of the request as lists: every value of one header, every entry in arrival order.
use super::{bytes, Request};
use crate::ffi;
use std::ffi::CStr;

impl<'r> Request<'r> {
    /// Every value of request header `name`, as one text joined with ", " when the header
    /// came more than once (httpd's `apr_table_getm`: one hashed lookup, not a scan of every
    /// header; the joining allocates from the request pool, and only then).
    pub fn header_values(&self, name: &CStr, out: &mut dyn FnMut(&'r str)) {
        let r = self.rec();
        if r.headers_in.is_null() {
            return;
        }
        // SAFETY: the table and the pool are the request's; name is NUL-terminated; the result
        // is NULL or a NUL-terminated string from the table or the request pool.
        let p = unsafe { ffi::apr_table_getm(r.pool, r.headers_in, name.as_ptr()) };
        if let Some(text) = self.field(p).and_then(super::utf8) {
            out(text);
        }
    }

    /// Calls `f` for every request header in arrival order.
    #[inline]
    pub fn for_each_header_in<E>(
        &self,
        f: impl FnMut(&'r [u8], &'r [u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.entries(self.rec().headers_in, f)
    }

    /// Calls `f` for every entry of `table` (the request's) in order; generic, so the loop
    /// and `f` compile into one.
    #[inline]
    pub(super) fn entries<E>(
        &self,
        table: *mut ffi::apr_table_t,
        mut f: impl FnMut(&'r [u8], &'r [u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for e in self.raw_entries(table) {
            // SAFETY: keys and values of a request table are NULL (a deleted entry: skipped)
            // or NUL-terminated pool strings that live as long as the request.
            if let (Some(k), Some(v)) = unsafe { (bytes(e.key), bytes(e.val)) } {
                f(k, v)?;
            }
        }
        Ok(())
    }

    /// The entry array of `table` (the request's; empty for NULL), its strings not read.
    #[inline]
    pub(super) fn raw_entries(&self, table: *mut ffi::apr_table_t) -> &'r [ffi::apr_table_entry_t] {
        if table.is_null() {
            return &[];
        }
        // SAFETY: apr_table_elts returns the table's array of `nelts` apr_table_entry_t, which
        // lives in the request pool, as long as the request.
        unsafe {
            let arr = ffi::apr_table_elts(table);
            if arr.is_null() || (*arr).nelts <= 0 {
                return &[];
            }
            std::slice::from_raw_parts(
                (*arr).elts as *const ffi::apr_table_entry_t,
                (*arr).nelts as usize,
            )
        }
    }
}
