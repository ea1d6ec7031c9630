//! `HttpdClient`: the core's `Client` port over a live request — reads the request body
//! through httpd's input filters, sets status and headers, and passes body chunks down the
//! output filters as transient buckets that borrow the AJP receive buffer (no copy unless a
//! filter sets them aside; bytes kept back for the end of the response are first copied into
//! the thread's reused buffer, as the connection goes back to its pool before they go out).
use super::brigade::{Brigade, ReadFailure, Tail};
use super::log::LogLevel;
use super::{time, Request};
use crate::ajp::{EncodeError, SendHeaders, CONTENT_LENGTH, CONTENT_TYPE};
use crate::ffi;
use crate::jklog::JkLogFile;
use crate::jklog::Level;
use crate::proxy::{Client, ClientError, HeaderSink};
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

pub struct HttpdClient<'r> {
    req: Request<'r>,
    input: Option<Brigade<'r>>,
    output: Option<Brigade<'r>>,
    /// Body bytes kept back for the next pass down the output filters (`keep_body_parts`):
    /// the thread's buffer (see [`KEPT`]) while any are kept, else empty.
    kept: Kept,
    body_ended: bool,
    /// `abort` ran: the response is cut short on purpose and must not be ended normally.
    cut_short: bool,
    /// The backend's Content-Length, set on the response at the first pass down the output
    /// filters unless that pass is the whole answer (see [`Self::first_pass`]).
    length: Option<u64>,
    /// Something went down the output filters already.
    passed: bool,
    jklog: Option<Arc<JkLogFile>>,
    /// The request's log level, read once (the exchange asks several times per request).
    log_level: std::ffi::c_int,
}

impl<'r> HttpdClient<'r> {
    /// `jklog`: the server's `JkLogFile`, which takes the messages instead of the ErrorLog.
    pub fn new(req: Request<'r>, jklog: Option<Arc<JkLogFile>>) -> HttpdClient<'r> {
        // With a JkLogFile its own level decides; httpd's is not needed.
        let log_level = if jklog.is_some() { 0 } else { req.log_level() };
        HttpdClient {
            log_level,
            req,
            input: None,
            output: None,
            kept: Kept::default(),
            body_ended: false,
            cut_short: false,
            length: None,
            passed: false,
            jklog,
        }
    }

    /// The request back, once the exchange is over (to set notes, …).
    pub fn into_request(self) -> Request<'r> {
        self.req
    }

    /// Whether the response was cut short (`abort`) or the client connection is gone.
    pub fn aborted(&self) -> bool {
        self.cut_short || self.req.client_gone()
    }

    /// Passes the kept bytes (first), `parts` and `tail` down the output filters.
    #[inline]
    fn send(&mut self, parts: &[&[u8]], tail: Tail) -> Result<(), ClientError> {
        if !self.passed {
            self.first_pass(tail);
        }
        let req = &self.req;
        let sent = self
            .output
            .get_or_insert_with(|| Brigade::new(req))
            .send(req, &self.kept.0, parts, tail)
            .map_err(|()| ClientError::Gone);
        self.kept.0.clear();
        sent
    }

    /// Before the first pass down the output filters: the backend's Content-Length goes on
    /// the response, except when that pass is the whole answer with its end (a body that is
    /// not a HEAD's, 204's or 304's): httpd's CONTENT_LENGTH filter then sets it from the
    /// bytes it counts, which the exchange has checked equal the declared length, and setting
    /// it here too would format and store the same header twice. Once per response: kept out
    /// of line, away from the loop of a streamed answer's passes.
    #[inline(never)]
    fn first_pass(&mut self, tail: Tail) {
        self.passed = true;
        if let Some(length) = self.length.take() {
            let whole = tail == Tail::EndAndFlush
                && !self.req.header_only()
                && !matches!(self.req.status(), 204 | 304);
            if !whole {
                self.req.set_content_length(length);
            }
        }
    }

    /// Ends a response the backend completed: EOS and FLUSH in one brigade, so the last bytes
    /// (with a chunked answer's last chunk) go out in the write that would have happened anyway,
    /// but now, before httpd's end-of-request work and its check for a pipelined request. Without
    /// the FLUSH the core output filter holds a small answer until after that check, which then
    /// cannot see the client's next request (it has no answer yet), so every keep-alive request
    /// made the round trip through the MPM's listener thread. httpd skips its own EOS once
    /// `r->eos_sent` is set.
    pub fn end_response(&mut self) {
        // A failure means the client went away: httpd notes c->aborted and logs the request
        // as usual; there is nothing left to send.
        let _ = self.send(&[], Tail::EndAndFlush);
    }
}

thread_local! {
    /// The kept-back body bytes of the request this thread serves: one buffer per thread,
    /// lent to the request's client and given back when it is dropped, so keeping a small
    /// answer whole costs a copy into reused memory (then a transient bucket), not a heap
    /// bucket from the connection's allocator per request. It grows to the most ever kept at
    /// once (a small answer's 8000 bytes, or the packet that completes a longer one) and stays
    /// that size.
    static KEPT: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The kept-back bytes of one request: the thread's [`KEPT`] buffer once anything is kept,
/// handed back to it on drop.
#[derive(Default)]
struct Kept(Vec<u8>);

impl Kept {
    fn extend(&mut self, parts: &[&[u8]]) {
        if self.0.capacity() == 0 {
            self.0 = KEPT.take();
            // Once per thread: room for an answer small enough to keep whole (8000 bytes) or
            // a default-size packet, so the buffer does not grow by doubling.
            self.0.reserve(8192);
        }
        for part in parts {
            self.0.extend_from_slice(part);
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        if self.0.capacity() > 0 {
            self.0.clear();
            KEPT.set(std::mem::take(&mut self.0));
        }
    }
}

/// The status line to set for `status` and the backend's `reason` (`code`: the status in
/// three digits), or `None` for httpd's own line. Tomcat 8.5+ sends the code itself as the
/// reason (sendReasonPhrase=false): then httpd's own phrase ("200 OK") is better than
/// "200 200" — for a code httpd knows. For one it does not (477, 599), httpd would answer 500
/// without a status line of ours.
fn status_line<'a>(status: u16, reason: &'a [u8], code: &'a [u8; 3]) -> Option<[&'a [u8]; 3]> {
    let in_range = (100..1000).contains(&status);
    let own_reason = is_valid_reason(reason) && reason != code;
    let httpd_line = super::response::httpd_status_line(status);
    let httpd_knows = httpd_line.is_some_and(|l| l.starts_with(code));
    if in_range && own_reason {
        // A line the same as httpd's own ("200 OK") is not set: httpd writes those very
        // bytes itself, and a set line costs its header filter a validation (~300
        // instructions).
        let as_httpd =
            httpd_knows && httpd_line.and_then(|l| l.get(3..)?.strip_prefix(b" ")) == Some(reason);
        (!as_httpd).then_some([&code[..], b" ", reason])
    } else if in_range && !httpd_knows {
        // With no phrase at all mod_jk says "Unknown Reason"; with the code as the phrase,
        // the code.
        let phrase: &[u8] = if reason.is_empty() {
            b"Unknown Reason"
        } else {
            code
        };
        Some([&code[..], b" ", phrase])
    } else {
        None
    }
}

/// httpd's own mapping of body-read failures to statuses (`ap_map_http_request_error`).
fn read_error_status(rv: ffi::apr_status_t) -> u16 {
    if rv == ffi::APR_TIMEUP as ffi::apr_status_t || rv == libc::ETIMEDOUT {
        408
    } else if rv == libc::ENOSPC {
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
    fn for_each_header(&self, sink: &mut HeaderSink<'_, '_>) -> Result<(), EncodeError> {
        self.req
            .for_each_header_in(|name, value| sink.header(name, value))
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        if self.body_ended || buf.is_empty() {
            return Ok(0);
        }
        let req = &self.req;
        let input = self.input.get_or_insert_with(|| Brigade::new(req));
        loop {
            match input.read(req, buf) {
                Err(ReadFailure::FilterError) => return Err(ClientError::AlreadyAnswered),
                Err(ReadFailure::Input(rv)) => {
                    return Err(ClientError::Read {
                        status: read_error_status(rv),
                        detail: format!("input filter error {rv}"),
                    })
                }
                Err(ReadFailure::Flatten(rv)) => {
                    return Err(ClientError::Read {
                        status: 400,
                        detail: format!("reading the body failed ({rv})"),
                    })
                }
                Ok((len, eos)) => {
                    if eos {
                        self.body_ended = true;
                    }
                    if len > 0 || self.body_ended {
                        return Ok(len);
                    }
                }
            }
        }
    }

    fn send_headers(
        &mut self,
        status: u16,
        reason: &[u8],
        headers: &SendHeaders<'_>,
        content_length: Option<u64>,
    ) -> Result<(), ClientError> {
        let code = [
            b'0' + (status / 100 % 10) as u8,
            b'0' + (status / 10 % 10) as u8,
            b'0' + (status % 10) as u8,
        ];
        // The common answer needs no look at httpd's table: "200 OK" is httpd's own line, and
        // "200 200" becomes it.
        let common = status == 200 && (reason == b"OK" || reason == b"200");
        let line = if common {
            None
        } else {
            status_line(status, reason, &code)
        };
        self.req.set_status(status, line.as_ref().map(|l| &l[..]));
        // Error responses may be replaced by httpd's own page: their headers must survive that.
        let keep_on_error = status >= 400;
        for (name, value) in headers.headers() {
            if CONTENT_TYPE.is(name) {
                self.req.set_content_type(value);
            } else if CONTENT_LENGTH.is(name) {
                // The exchange parsed it (and checked repeats agree); set with the first
                // pass (see `first_pass`).
                self.length = content_length;
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                // httpd frames the body itself; a copied Transfer-Encoding would corrupt it.
                continue;
            } else {
                self.req.add_header_out(name, value, keep_on_error);
            }
        }
        Ok(())
    }

    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.send(&[data], Tail::Nothing)
    }

    fn write_body_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        // A run: the backend is ahead of the client. The FLUSH makes the core output filter
        // wait for the socket when it is full instead of copying up to 64 KiB of these
        // transient buckets aside (memory that then stays in the thread's allocator).
        let tail = if parts.len() > 1 {
            Tail::Flush
        } else {
            Tail::Nothing
        };
        self.send(parts, tail)
    }

    fn keep_body_parts(&mut self, parts: &[&[u8]]) -> Result<bool, ClientError> {
        self.kept.extend(parts);
        Ok(true)
    }

    fn forget_kept(&mut self) {
        self.kept.0.clear();
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        self.send(&[], Tail::Flush)
    }

    fn abort(&mut self) {
        self.forget_kept();
        self.cut_short = true;
        self.req.close_connection();
        let _ = self.send(&[], Tail::Error(502));
    }

    fn set_routing_cookie(&mut self, value: &str) {
        self.req.set_err_header(c"Set-Cookie", value.as_bytes());
    }

    fn log_enabled(&self, level: Level) -> bool {
        match &self.jklog {
            Some(jk) => jk.enabled(level),
            None => LogLevel::from(level).code() <= self.log_level,
        }
    }

    fn log(&self, level: Level, msg: fmt::Arguments<'_>) {
        match &self.jklog {
            Some(jk) => jk.client_message(
                &time::now_local(),
                level,
                time::thread_id(),
                self.req.useragent_ip(),
                &msg.to_string(),
            ),
            None => self.req.log(LogLevel::from(level), &msg.to_string()),
        }
    }
}
