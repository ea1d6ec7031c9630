//! The port to the httpd side: the [`Client`] trait the shell implements for one request
//! (headers, body in, response out, logging), its errors, and the [`Outcome`] the handler
//! returns to httpd. Everything in `proxy` reaches httpd only through it, so it runs (and is
//! tested) without httpd.
#![forbid(unsafe_code)]

use crate::ajp::{EncodeError, SendHeaders};
use crate::jklog::Level;
pub use crate::proxy::request::HeaderSink;
use std::fmt;

/// A failure on the client side of the exchange.
#[derive(Debug)]
pub enum ClientError {
    /// Reading the request body failed; `status` is httpd's mapping of the error (400, 408, 413).
    Read { status: u16, detail: String },
    /// An input filter already answered the client (httpd's AP_FILTER_ERROR).
    AlreadyAnswered,
    /// Writing the response failed: the client went away.
    Gone,
}

/// The httpd request as the core needs it.
pub trait Client {
    /// Hands every request header to `sink` (`sink.header(name, value)`), in order. The sink is
    /// a concrete type, not a closure behind `dyn`: a client's loop over its headers compiles
    /// into one pass with the encoder inlined.
    fn for_each_header(&self, sink: &mut HeaderSink<'_, '_>) -> Result<(), EncodeError>;
    /// Reads request body bytes (de-chunked by httpd); `Ok(0)` = end of body.
    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError>;
    /// Sets status and headers; nothing is sent to the network before the first body write or flush.
    /// `content_length`: the number the backend's Content-Length header(s) say, already parsed
    /// and checked to agree by the exchange (clients take it from here, not from `headers`).
    fn send_headers(
        &mut self,
        status: u16,
        reason: &[u8],
        headers: &SendHeaders<'_>,
        content_length: Option<u64>,
    ) -> Result<(), ClientError>;
    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError>;
    /// Writes several pieces of body in order, as one pass to the network where the client can.
    fn write_body_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        parts.iter().try_for_each(|part| self.write_body(part))
    }
    /// Keeps a small response's body (copied) to go out with the end of the response, in one
    /// pass through the output filters: httpd's byte-range filter then sees the whole answer
    /// and can serve a `Range` request, as it does for mod_jk's buffered small answers. Nothing
    /// reaches the network before `flush` or the end. `Ok(false)`: written at once instead
    /// (the default).
    fn keep_body_parts(&mut self, parts: &[&[u8]]) -> Result<bool, ClientError> {
        self.write_body_parts(parts).map(|()| false)
    }
    /// Forgets what `keep_body_parts` kept (the attempt failed before anything went out).
    fn forget_kept(&mut self) {}
    fn flush(&mut self) -> Result<(), ClientError>;
    /// The backend failed after part of the response went out: make the client see a broken
    /// response (no chunk terminator, connection closed) rather than a complete-looking one.
    /// What `keep_body_parts` kept back is dropped, never sent: it could complete the answer.
    fn abort(&mut self);
    /// Sets the lb's routing cookie (`set_session_cookie`) on the response, replacing one set
    /// by an earlier failed-over try.
    fn set_routing_cookie(&mut self, value: &str);
    fn log_enabled(&self, level: Level) -> bool;
    fn log(&self, level: Level, msg: fmt::Arguments<'_>);
}

/// What the handler tells httpd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The response went (or is going) out, or the client is gone: return OK.
    Sent,
    /// Nothing went out: return this status and let httpd render its error page.
    Status(u16),
    /// An input filter already answered the client.
    FilterError,
}
