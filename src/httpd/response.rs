//! The response side of `Request<'r>`: status, headers out, and the client connection.
use super::Request;
use crate::ffi;
use std::ffi::CStr;

/// httpd's own status line for `code` ("200 OK"). For a code it has no line for, httpd answers
/// 500 unless a status line is set, and this is the line of another code.
pub(crate) fn httpd_status_line(code: u16) -> Option<&'static [u8]> {
    // SAFETY: ap_get_status_line only reads httpd's static table; it returns a static string.
    unsafe { super::bytes(ffi::ap_get_status_line(std::os::raw::c_int::from(code))) }
}

impl Request<'_> {
    /// Whether the client connection is gone (`c->aborted`).
    pub fn client_gone(&self) -> bool {
        self.conn().aborted != 0
    }

    /// Closes the client connection after this response (no keep-alive).
    pub fn close_connection(&mut self) {
        // SAFETY: the connection is live and belongs to this request's thread.
        unsafe { (*self.rec().connection).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_CLOSE };
    }

    /// Sets the response status and, when given, the whole status line (`"477 Odd"`).
    pub fn set_status(&mut self, status: u16, line: Option<&[&[u8]]>) {
        let line = line.map(|parts| self.pool().concat(parts));
        // SAFETY: r is live and owned by this thread; the line lives in r->pool.
        unsafe {
            (*self.raw()).status = std::os::raw::c_int::from(status);
            if let Some(line) = line {
                (*self.raw()).status_line = line;
            }
        }
    }

    pub fn set_content_type(&mut self, value: &[u8]) {
        let v = self.pool().strdup(value);
        // SAFETY: r is live; the value lives in r->pool.
        unsafe { ffi::ap_set_content_type(self.raw(), v) }
    }

    /// `r->header_only`: a HEAD request, whose answer has no body.
    pub fn header_only(&self) -> bool {
        // SAFETY: r is live.
        unsafe { (*self.raw()).header_only != 0 }
    }

    pub fn set_content_length(&mut self, length: u64) {
        // SAFETY: r is live.
        unsafe { ffi::ap_set_content_length(self.raw(), length as ffi::apr_off_t) }
    }

    /// Adds a response header; `keep_on_error`: in `err_headers_out`, which survive httpd's
    /// replacing the body with its own error page.
    pub fn add_header_out(&mut self, name: &[u8], value: &[u8], keep_on_error: bool) {
        let pool = self.pool();
        let table = if keep_on_error {
            self.rec().err_headers_out
        } else {
            self.rec().headers_out
        };
        // SAFETY: the table belongs to r; name and value are copied into r->pool.
        unsafe { ffi::apr_table_addn(table, pool.strdup(name), pool.strdup(value)) }
    }

    /// Sets (replaces) a response header that goes out with every response, error pages
    /// included (`err_headers_out`).
    pub fn set_err_header(&mut self, name: &'static CStr, value: &[u8]) {
        let v = self.pool().strdup(value);
        // SAFETY: the table belongs to r; the key is static, the value in r->pool.
        unsafe { ffi::apr_table_setn(self.rec().err_headers_out, name.as_ptr(), v) }
    }
}

/// A whole response the module makes itself (the status page): status, content type, extra
/// headers, body.
pub struct Response<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl Request<'_> {
    /// Sends `response` whole (status, headers, body, end of response). `Err` when the client
    /// went away.
    pub fn respond(&mut self, response: &Response<'_>) -> Result<(), ()> {
        self.set_status(response.status, None);
        self.set_content_type(response.content_type.as_bytes());
        for (name, value) in response.headers {
            self.add_header_out(name.as_bytes(), value.as_bytes(), true);
        }
        self.set_content_length(response.body.len() as u64);
        let mut out = super::brigade::Brigade::new(self);
        out.send(self, response.body, &[], super::brigade::Tail::EndAndFlush)
    }

    /// Reads the request body, at most `limit` bytes: `Ok(None)` when it is longer.
    pub fn read_body_up_to(&mut self, limit: usize) -> Result<Option<Vec<u8>>, u16> {
        let mut input = super::brigade::Brigade::new(self);
        let mut body = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match input.read(self, &mut chunk) {
                Ok((n, end)) => {
                    if body.len() + n > limit {
                        return Ok(None);
                    }
                    body.extend_from_slice(&chunk[..n]);
                    if end {
                        return Ok(Some(body));
                    }
                }
                Err(_) => return Err(400),
            }
        }
    }
}
