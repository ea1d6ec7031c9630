//! `HttpdClient`: the core's `Client` trait over a live request — reads the request body through
//! httpd's input filters, sets status and headers, and passes body chunks down the output filters
//! as transient buckets that borrow the AJP receive buffer (no copy unless a filter sets them aside).
use super::{log, pool, time, Request};
use crate::ajp::{EncodeError, SendHeaders};
use crate::ffi;
use crate::jklog::JkLogFile;
use crate::jklog::Level;
use crate::proxy::{Client, ClientError, HeaderVisitor};
use std::fmt;
use std::os::raw::c_int;
use std::sync::Arc;

pub struct HttpdClient<'r> {
    req: Request<'r>,
    bb_in: *mut ffi::apr_bucket_brigade,
    bb_out: *mut ffi::apr_bucket_brigade,
    body_ended: bool,
    /// `abort` ran: the response is cut short on purpose and must not be ended normally.
    cut_short: bool,
    jklog: Option<Arc<JkLogFile>>,
}

impl<'r> HttpdClient<'r> {
    /// `jklog`: the server's `JkLogFile`, which takes the messages instead of the ErrorLog.
    pub fn new(req: Request<'r>, jklog: Option<Arc<JkLogFile>>) -> HttpdClient<'r> {
        HttpdClient {
            req,
            bb_in: std::ptr::null_mut(),
            bb_out: std::ptr::null_mut(),
            body_ended: false,
            cut_short: false,
            jklog,
        }
    }

    /// The request back, once the exchange is over (to set notes, …).
    pub fn into_request(self) -> Request<'r> {
        self.req
    }

    fn r(&self) -> *mut ffi::request_rec {
        self.req.raw()
    }

    fn brigade(&self) -> *mut ffi::apr_bucket_brigade {
        // SAFETY: r is live; the brigade is allocated from r->pool and dies with the request.
        unsafe { ffi::apr_brigade_create((*self.r()).pool, (*(*self.r()).connection).bucket_alloc) }
    }

    fn bucket_alloc(&self) -> *mut ffi::apr_bucket_alloc_t {
        // SAFETY: r and its connection are live.
        unsafe { (*(*self.r()).connection).bucket_alloc }
    }

    /// Whether the response was cut short (`abort`) or the client connection is gone.
    pub fn aborted(&self) -> bool {
        // SAFETY: r and its connection are live.
        self.cut_short || unsafe { (*(*self.r()).connection).aborted } != 0
    }

    /// Ends a response the backend completed: EOS and FLUSH in one brigade, so the last bytes
    /// (with a chunked answer's last chunk) go out in the write that would have happened anyway,
    /// but now, before httpd's end-of-request work and its check for a pipelined request. Without
    /// the FLUSH the core output filter holds a small answer until after that check, which then
    /// cannot see the client's next request (it has no answer yet), so every keep-alive request
    /// made the round trip through the MPM's listener thread. httpd skips its own EOS once
    /// `r->eos_sent` is set.
    pub fn end_response(&mut self) {
        if self.bb_out.is_null() {
            self.bb_out = self.brigade();
        }
        // SAFETY: r, bb_out and the connection's allocator are live; the brigade is emptied
        // after the pass.
        unsafe {
            let eos = ffi::apr_bucket_eos_create(self.bucket_alloc());
            ffi::jk_rs_brigade_insert_tail(self.bb_out, eos);
            let flush = ffi::apr_bucket_flush_create(self.bucket_alloc());
            ffi::jk_rs_brigade_insert_tail(self.bb_out, flush);
            // A failure means the client went away: httpd notes c->aborted and logs the
            // request as usual; there is nothing left to send.
            let _ = ffi::ap_pass_brigade((*self.r()).output_filters, self.bb_out);
            ffi::apr_brigade_cleanup(self.bb_out.cast());
        }
    }

    /// Appends `bucket` to the output brigade and passes it down the filter chain.
    fn pass(&mut self, bucket: *mut ffi::apr_bucket) -> Result<(), ClientError> {
        self.append(bucket);
        self.pass_appended()
    }

    /// Appends `bucket` to the output brigade (to go out with the next `pass_appended`).
    fn append(&mut self, bucket: *mut ffi::apr_bucket) {
        if self.bb_out.is_null() {
            self.bb_out = self.brigade();
        }
        // SAFETY: bb_out and bucket are live and from this request's allocator.
        unsafe { ffi::jk_rs_brigade_insert_tail(self.bb_out, bucket) };
    }

    /// Passes the output brigade down the filter chain.
    fn pass_appended(&mut self) -> Result<(), ClientError> {
        if self.bb_out.is_null() {
            self.bb_out = self.brigade();
        }
        // SAFETY: bb_out is live and its buckets are from this request's allocator; after the
        // pass the brigade is emptied so no bucket refers to the caller's buffers any more.
        let rv = unsafe {
            let rv = ffi::ap_pass_brigade((*self.r()).output_filters, self.bb_out);
            ffi::apr_brigade_cleanup(self.bb_out.cast());
            rv
        };
        // SAFETY: the connection is live.
        let aborted = unsafe { (*(*self.r()).connection).aborted } != 0;
        if rv != ffi::APR_SUCCESS as ffi::apr_status_t || aborted {
            return Err(ClientError::Gone);
        }
        Ok(())
    }
}

/// httpd's own mapping of body-read failures to statuses (`ap_map_http_request_error`).
fn read_error_status(rv: ffi::apr_status_t) -> u16 {
    const APR_ENOSPC: ffi::apr_status_t = libc::ENOSPC;
    if rv == ffi::APR_TIMEUP as ffi::apr_status_t || rv == libc::ETIMEDOUT {
        408
    } else if rv == APR_ENOSPC {
        413
    } else {
        400
    }
}

fn is_valid_reason(reason: &[u8]) -> bool {
    !reason.is_empty()
        && reason
            .iter()
            .all(|&c| c == b'\t' || (b' '..0x7f).contains(&c) || c >= 0x80)
}

impl Client for HttpdClient<'_> {
    fn for_each_header(&self, f: &mut HeaderVisitor<'_>) -> Result<(), EncodeError> {
        self.req.for_each_header_in(f)
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        if self.body_ended || buf.is_empty() {
            return Ok(0);
        }
        if self.bb_in.is_null() {
            self.bb_in = self.brigade();
        }
        loop {
            // SAFETY: r, its input filters and bb_in are live; READBYTES with BLOCK_READ.
            let rv = unsafe {
                ffi::ap_get_brigade(
                    (*self.r()).input_filters,
                    self.bb_in,
                    ffi::ap_input_mode_t::AP_MODE_READBYTES,
                    ffi::apr_read_type_e::APR_BLOCK_READ,
                    buf.len() as ffi::apr_off_t,
                )
            };
            if rv == ffi::AP_FILTER_ERROR {
                return Err(ClientError::AlreadyAnswered);
            }
            if rv != ffi::APR_SUCCESS as ffi::apr_status_t {
                // SAFETY: bb_in is live.
                unsafe { ffi::apr_brigade_cleanup(self.bb_in.cast()) };
                return Err(ClientError::Read {
                    status: read_error_status(rv),
                    detail: format!("input filter error {rv}"),
                });
            }
            let mut len = buf.len() as ffi::apr_size_t;
            // SAFETY: flatten copies at most len bytes into buf; then the brigade is emptied.
            let (frv, eos) = unsafe {
                let frv = ffi::apr_brigade_flatten(self.bb_in, buf.as_mut_ptr().cast(), &mut len);
                let eos = ffi::jk_rs_brigade_last_is_eos(self.bb_in) != 0;
                ffi::apr_brigade_cleanup(self.bb_in.cast());
                (frv, eos)
            };
            if frv != ffi::APR_SUCCESS as ffi::apr_status_t {
                return Err(ClientError::Read {
                    status: 400,
                    detail: format!("reading the body failed ({frv})"),
                });
            }
            if eos {
                self.body_ended = true;
            }
            if len > 0 || self.body_ended {
                return Ok(len as usize);
            }
        }
    }

    fn send_headers(
        &mut self,
        status: u16,
        reason: &[u8],
        headers: &SendHeaders<'_>,
    ) -> Result<(), ClientError> {
        let r = self.r();
        // SAFETY: r is live and owned by this thread; strings are copied into r->pool.
        unsafe {
            let p = (*r).pool;
            (*r).status = c_int::from(status);
            let mut code = [0u8; 3];
            code[0] = b'0' + (status / 100 % 10) as u8;
            code[1] = b'0' + (status / 10 % 10) as u8;
            code[2] = b'0' + (status % 10) as u8;
            // Tomcat 8.5+ sends the code itself as the reason (sendReasonPhrase=false): then
            // httpd's own phrase ("200 OK") is better than "200 200".
            if is_valid_reason(reason) && (100..1000).contains(&status) && reason != code {
                (*r).status_line = pool::concat(p, &[&code, b" ", reason]);
            }
            // Error responses may be replaced by httpd's own page: their headers must survive that.
            let table = if status >= 400 {
                (*r).err_headers_out
            } else {
                (*r).headers_out
            };
            for (name, value) in headers.headers() {
                if name.eq_ignore_ascii_case(b"content-type") {
                    ffi::ap_set_content_type(r, pool::strdup(p, value));
                } else if name.eq_ignore_ascii_case(b"content-length") {
                    match std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    {
                        Some(n) => ffi::ap_set_content_length(r, n as ffi::apr_off_t),
                        None => return Err(ClientError::Gone),
                    }
                } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                    // httpd frames the body itself; a copied Transfer-Encoding would corrupt it.
                    continue;
                } else {
                    ffi::apr_table_addn(table, pool::strdup(p, name), pool::strdup(p, value));
                }
            }
        }
        Ok(())
    }

    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.write_body_parts(&[data])
    }

    fn write_body_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        for data in parts {
            // SAFETY: a transient bucket borrows `data` only until ap_pass_brigade returns
            // (filters that keep it copy it: apr_bucket_setaside), and `pass_appended` empties
            // the brigade before returning, so no bucket outlives the borrow of `parts`.
            let b = unsafe {
                ffi::apr_bucket_transient_create(
                    data.as_ptr().cast(),
                    data.len() as ffi::apr_size_t,
                    self.bucket_alloc(),
                )
            };
            self.append(b);
        }
        if parts.len() > 1 {
            // A run: the backend is ahead of the client. The FLUSH makes the core output filter
            // wait for the socket when it is full instead of copying up to 64 KiB of these
            // transient buckets aside (memory that then stays in the thread's allocator).
            // SAFETY: the allocator is the connection's.
            let flush = unsafe { ffi::apr_bucket_flush_create(self.bucket_alloc()) };
            self.append(flush);
        }
        self.pass_appended()
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        // SAFETY: the allocator is the connection's.
        let b = unsafe { ffi::apr_bucket_flush_create(self.bucket_alloc()) };
        self.pass(b)
    }

    fn abort(&mut self) {
        self.cut_short = true;
        let r = self.r();
        // SAFETY: r is live; an error bucket of 502 makes the chunk filter omit the last chunk and
        // the connection close, so the client sees a truncated response (as mod_proxy does).
        unsafe {
            (*(*r).connection).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_CLOSE;
            let b = ffi::ap_bucket_error_create(
                ffi::HTTP_BAD_GATEWAY as c_int,
                std::ptr::null(),
                (*r).pool,
                self.bucket_alloc(),
            );
            let _ = self.pass(b);
        }
    }

    fn set_routing_cookie(&mut self, value: &str) {
        let r = self.r();
        // SAFETY: r is live; err_headers_out go out with every response, error pages included.
        unsafe {
            let v = pool::strdup((*r).pool, value.as_bytes());
            ffi::apr_table_setn((*r).err_headers_out, c"Set-Cookie".as_ptr(), v);
        }
    }

    fn log_enabled(&self, level: Level) -> bool {
        match &self.jklog {
            Some(jk) => jk.enabled(level),
            // SAFETY: r is live.
            None => unsafe { log::request_enabled(self.r(), log::aplog_level(level)) },
        }
    }

    fn log(&self, level: Level, msg: fmt::Arguments<'_>) {
        match &self.jklog {
            Some(jk) => {
                let text = format!(
                    "[client {}] {msg}",
                    String::from_utf8_lossy(self.req.useragent_ip())
                );
                jk.message(
                    &time::now_local(),
                    level,
                    std::process::id(),
                    time::thread_id(),
                    &text,
                );
            }
            // SAFETY: r is live.
            None => unsafe { log::request(self.r(), log::aplog_level(level), &msg.to_string()) },
        }
    }
}
