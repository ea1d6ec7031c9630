//! Tables of the request as lists: every value of one header, every entry in arrival order.
use super::{bytes, Request};
use crate::ffi;
use std::ffi::CStr;

impl<'r> Request<'r> {
    /// Every value of request header `name` (ASCII, any case), one call per header line in
    /// arrival order; values that are not UTF-8 are skipped. One pass over the entries that
    /// reads only as many bytes of each name as it takes to tell it apart (most differ in
    /// the first): no strlen of the names, no hashing, no joining into the pool as
    /// `apr_table_getm` does.
    pub fn header_values(&self, name: &CStr, out: &mut dyn FnMut(&'r str)) {
        for e in self.raw_entries(self.rec().headers_in) {
            // SAFETY: keys and values of the request's table are NULL (a deleted entry) or
            // NUL-terminated pool strings that live as long as the request.
            if unsafe { c_name_is(e.key, name) } {
                // SAFETY: as above, for the value.
                if let Some(text) = unsafe { bytes(e.val) }.and_then(super::utf8) {
                    out(text);
                }
            }
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

/// C string `key` equals `name` ignoring ASCII case; NULL equals nothing.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
unsafe fn c_name_is(key: *const std::os::raw::c_char, name: &CStr) -> bool {
    let name = name.to_bytes();
    // SAFETY: forwarded (a CStr's bytes hold no NUL); when `key` starts with `name`, its byte
    // name.len() is within it (its NUL at the latest).
    unsafe { c_starts_with(key, name) && *key.add(name.len()) == 0 }
}

/// C string `key` starts with `prefix` ignoring ASCII case; NULL starts with nothing. Reads
/// `key` only up to the first byte that differs (its NUL differs from every byte of a prefix
/// without one): most names are told apart by their first letter, in two compares.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string, and `prefix` holds no NUL.
pub(super) unsafe fn c_starts_with(key: *const std::os::raw::c_char, prefix: &[u8]) -> bool {
    if key.is_null() {
        return false;
    }
    // SAFETY: a string has at least its NUL.
    let first = unsafe { *key } as u8;
    if prefix.first().is_some_and(|&p| first | 0x20 != p | 0x20) {
        return false;
    }
    for (i, &want) in prefix.iter().enumerate() {
        // SAFETY: bytes 0..i matched `prefix`, which holds no NUL, so the string goes on to i.
        let got = unsafe { *key.add(i) } as u8;
        // Equal, or the same letter in the other case.
        if got != want && (got ^ want != 0x20 || !(got | 0x20).is_ascii_lowercase()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::c_name_is;
    use std::ffi::CString;

    /// Equal to `eq_ignore_ascii_case` for every pair of byte values, alone and after a
    /// matching first byte (so the byte loop, not only the first-letter test, decides);
    /// NULL and a shorter key are not the name.
    #[test]
    fn c_name_is_is_eq_ignore_ascii_case() {
        for a in 1..=255u8 {
            for b in 1..=255u8 {
                for (k, n) in [(vec![a], vec![b]), (vec![b'c', a], vec![b'C', b])] {
                    let (key, name) = (CString::new(k.clone()), CString::new(n.clone()));
                    let (Ok(key), Ok(name)) = (key, name) else {
                        unreachable!("no NUL in 1..=255")
                    };
                    // SAFETY: a NUL-terminated string.
                    let got = unsafe { c_name_is(key.as_ptr(), &name) };
                    assert_eq!(got, k.eq_ignore_ascii_case(&n), "{k:?} {n:?}");
                }
            }
        }
        // SAFETY: NULL is allowed; the others are NUL-terminated literals.
        unsafe {
            assert!(!c_name_is(std::ptr::null(), c"Cookie"));
            assert!(c_name_is(c"".as_ptr(), c""));
            assert!(!c_name_is(c"Cook".as_ptr(), c"Cookie"));
            assert!(!c_name_is(c"Cookies".as_ptr(), c"Cookie"));
            assert!(c_name_is(c"cOOKIE".as_ptr(), c"Cookie"));
        }
    }

    /// The prefix test agrees with `starts_with` ignoring ASCII case, for keys shorter and
    /// longer than the prefix; NULL starts with nothing, every key with the empty prefix.
    #[test]
    fn c_starts_with_is_a_case_blind_prefix_test() {
        let keys = [
            "",
            "J",
            "jk",
            "JK_",
            "jk_route",
            "Jk_x",
            "JKX",
            "xJK_",
            "JK_\u{e9}",
        ];
        for key in keys {
            let c = CString::new(key).unwrap_or_default();
            for prefix in ["", "J", "JK_", "jk_route", "JK_ROUTE_LONGER"] {
                let want = key.len() >= prefix.len()
                    && key.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
                // SAFETY: a NUL-terminated string; the prefixes hold no NUL.
                let got = unsafe { super::c_starts_with(c.as_ptr(), prefix.as_bytes()) };
                assert_eq!(got, want, "{key:?} {prefix:?}");
            }
        }
        // SAFETY: NULL is allowed.
        assert!(!unsafe { super::c_starts_with(std::ptr::null(), b"") });
    }
}
