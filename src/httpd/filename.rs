//! What a request names on disk: `r->filename` (and, for mod_dir, `r->finfo`).
use super::Request;
use crate::ffi;

impl<'r> Request<'r> {
    pub fn filename(&self) -> Option<&'r [u8]> {
        self.field(self.rec().filename)
    }

    /// Replaces `r->filename` (copied into r->pool).
    pub fn set_filename(&mut self, name: &[u8]) {
        // SAFETY: the copy lives in r->pool as long as the request.
        unsafe { (*self.raw).filename = self.pool().strdup(name) }
    }

    /// Names `r->filename` as mod_jk does for a mapped request, which has no file behind it:
    /// the last segment of `r->uri` (pointing into it: no copy, no stat). For a sub-request of
    /// a directory request (mod_dir's DirectoryIndex: the main request's filename ends in
    /// '/'), the file of that name in that directory instead, with its type stat'ed into
    /// `r->finfo`, so that mod_dir serves the index only when it is there, as with mod_jk.
    pub fn name_file_after_uri(&mut self) {
        let uri = self.rec().uri;
        let Some(path) = self.field(uri) else {
            return;
        };
        let start = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let directory = self
            .main_request()
            .and_then(|m| m.filename())
            .filter(|d| d.is_empty() || d.ends_with(b"/"));
        match directory {
            None => {
                // SAFETY: `start` is within r->uri's bytes (or at its NUL), a pool string that
                // lives as long as the request.
                unsafe { (*self.raw).filename = uri.add(start) }
            }
            Some(dir) => {
                let pool = self.pool();
                // SAFETY: the joined name is a copy in r->pool; apr_stat fills r->finfo (the
                // request's own) and allocates in r->pool. A missing file leaves the type
                // APR_NOFILE, which is what mod_dir tests.
                unsafe {
                    let name = pool.concat(&[dir, &path[start..]]);
                    (*self.raw).filename = name;
                    ffi::apr_stat(
                        &mut (*self.raw).finfo,
                        name,
                        ffi::APR_FINFO_TYPE as i32,
                        pool.raw(),
                    );
                }
            }
        }
    }
}
