//! Forwards one HTTP request to an AJP13 backend and streams the answer back: encodes
//! FORWARD_REQUEST, feeds the request body when the backend asks for it, relays headers and body
//! chunks to the client, and decides — in this one place — which HTTP status a failure becomes
//! (mod_jk's choices, reference §4.9) and whether a failed attempt may be replayed.
//!
//! The httpd side is reached only through the [`Client`] trait, so this runs (and is tested)
//! without httpd.
#![forbid(unsafe_code)]

use crate::ajp::{
    self, body_packet_header, max_body_chunk, method_code, Attribute, EncodeError,
    ForwardRequestEncoder, RequestLine, Response, SendHeaders, END_OF_BODY_PACKET, METHOD_STORED,
};
use crate::backend::{prepost_ping_timeout, Backend, BackendError, Connection};
use crate::jklog::Level;
use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

/// How the request body is framed, as httpd saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no Content-Length, or 0, and not chunked).
    None,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding: chunked`: length unknown until the end.
    Chunked,
}

/// SSL facts forwarded as AJP attributes (from mod_ssl's environment).
#[derive(Debug, Default, Clone, Copy)]
pub struct SslInfo<'a> {
    pub cert: Option<&'a [u8]>,
    pub cipher: Option<&'a [u8]>,
    pub session: Option<&'a [u8]>,
    pub key_size: Option<u16>,
    pub protocol: Option<&'a [u8]>,
}

/// Everything about the request that goes into FORWARD_REQUEST, borrowed from httpd.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub method: &'a [u8],
    pub protocol: &'a [u8],
    /// The URI to forward (already encoded per the ForwardURI option), without the query.
    pub uri: &'a [u8],
    pub query: Option<&'a [u8]>,
    pub remote_addr: &'a [u8],
    pub remote_port: &'a [u8],
    pub remote_host: Option<&'a [u8]>,
    pub local_addr: &'a [u8],
    pub server_name: &'a [u8],
    pub server_port: u16,
    pub is_ssl: bool,
    pub remote_user: Option<&'a [u8]>,
    pub auth_type: Option<&'a [u8]>,
    pub ssl: SslInfo<'a>,
    /// The lb route of the member that serves this request, if any.
    pub route: Option<&'a [u8]>,
    /// `JK_LB_ACTIVATION`: ACT, DIS or STP.
    pub activation: &'a [u8],
    pub body: BodyKind,
    /// Per-request reply timeout (`JK_REPLY_TIMEOUT`, mount extension); `None` = the worker's.
    pub reply_timeout: Option<Option<Duration>>,
    /// `JkEnvVar` attributes (name, value).
    pub env_attributes: &'a [(&'a [u8], &'a [u8])],
    /// `JkOptions +FlushPackets`: flush after every body chunk.
    pub flush_packets: bool,
    /// `JkOptions +FlushHeader`: flush right after the headers.
    pub flush_header: bool,
    /// `JkOptions +DisableReuse`: close the backend connection after the request.
    pub disable_reuse: bool,
    /// The mount rule's `fail_on_status`, replacing the worker's.
    pub fail_on_status: Option<&'a [i32]>,
    /// The mount rule's `use_server_errors`: statuses from this one up get httpd's error page.
    pub use_server_errors: Option<u16>,
}

impl RequestInfo<'_> {
    fn is_head(&self) -> bool {
        self.method == b"HEAD"
    }

    /// RFC 9110 §9.2.2: replaying these on another connection cannot duplicate an effect.
    fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE"
        )
    }
}

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

/// Receives one request header (name, value) while FORWARD_REQUEST is encoded.
pub type HeaderVisitor<'f> = dyn FnMut(&[u8], &[u8]) -> Result<(), EncodeError> + 'f;

/// The httpd request as the core needs it.
pub trait Client {
    /// Calls `f` for every request header, in order.
    fn for_each_header(&self, f: &mut HeaderVisitor<'_>) -> Result<(), EncodeError>;
    /// Reads request body bytes (de-chunked by httpd); `Ok(0)` = end of body.
    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, ClientError>;
    /// Sets status and headers; nothing is sent to the network before the first body write or flush.
    fn send_headers(
        &mut self,
        status: u16,
        reason: &[u8],
        headers: &SendHeaders<'_>,
    ) -> Result<(), ClientError>;
    fn write_body(&mut self, data: &[u8]) -> Result<(), ClientError>;
    /// Writes several pieces of body in order, as one pass to the network where the client can.
    fn write_body_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        parts.iter().try_for_each(|part| self.write_body(part))
    }
    fn flush(&mut self) -> Result<(), ClientError>;
    /// The backend failed after part of the response went out: make the client see a broken
    /// response (no chunk terminator, connection closed) rather than a complete-looking one.
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

/// Outgoing packet buffers: FORWARD_REQUEST, and body packets (the first one is kept for a
/// replay on another connection or lb member until the backend asks for more).
#[derive(Default)]
pub struct Buffers {
    request: Vec<u8>,
    body: Vec<u8>,
}

thread_local! {
    /// Reused by every request on this thread (no allocation per request in steady state).
    static SCRATCH: RefCell<Buffers> = RefCell::new(Buffers {
        request: Vec::with_capacity(ajp::DEFAULT_MAX_PACKET),
        body: Vec::with_capacity(ajp::DEFAULT_MAX_PACKET),
    });
}

/// Runs `f` with this thread's packet buffers.
pub fn with_buffers<T>(f: impl FnOnce(&mut Buffers) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut b) => f(&mut b),
        // Only reachable if a Client re-entered the service; stay correct, just slower.
        Err(_) => f(&mut Buffers::default()),
    })
}

/// How one try on one backend ended, for the load balancer's bookkeeping (reference §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// The backend answered (whatever the status).
    Success,
    /// The client failed us (read or write): never the backend's fault.
    ClientError,
    /// No connection could be made (or CPing failed).
    Connect,
    /// No reply within the reply timeout.
    Timeout,
    /// Invalid AJP13 or a broken exchange after the request was sent.
    Backend,
    /// The status matched `fail_on_status` (the code as configured, sign included).
    FailOnStatus(i32),
    /// The request cannot be encoded (headers too large): no backend can take it.
    Request,
}

/// Serves one request on `backend`.
pub fn forward(backend: &Backend, req: &RequestInfo<'_>, client: &mut dyn Client) -> Outcome {
    with_buffers(|bufs| {
        let mut x = Exchange::new(backend, req, client, bufs);
        match x.prepare() {
            Err(outcome) => outcome,
            Ok(()) => x.serve(req.route, req.activation).0,
        }
    })
}

/// Why one attempt on one connection ended without a complete response.
enum Failure {
    /// A pooled connection was dead before the backend saw anything: retry on a new one.
    Stale(BackendError),
    /// Failed before the backend could have acted on the request (or it is safe to repeat).
    Retry(BackendError),
    /// No retry: this is the answer.
    Final(Outcome, AttemptKind),
}

/// What the response reading has seen so far.
#[derive(Default)]
struct Progress {
    /// Any message at all came back on this connection.
    answered: bool,
    headers: bool,
    status: u16,
    /// Something reached the network on the client side: the status cannot change any more.
    committed: bool,
    /// The backend asked for body beyond the first packet: the request cannot be replayed.
    body_streamed: bool,
    declared_len: Option<u64>,
    written: u64,
    /// `use_server_errors`: the backend's body is dropped and httpd renders the error page.
    swallow_body: bool,
}

/// One request's exchange with one or more backends (several when an lb fails over).
pub struct Exchange<'x, 'r> {
    backend: &'x Backend,
    req: &'x RequestInfo<'r>,
    client: &'x mut dyn Client,
    buf: &'x mut Vec<u8>,
    body: &'x mut Vec<u8>,
    /// Length of the first body packet kept in `body` (0: none, or no longer available).
    first_body: usize,
    /// Body bytes still to come from the client (Content-Length bodies).
    remaining: u64,
    /// The backend asked for more body: the request can no longer be replayed anywhere.
    streamed: bool,
    /// Part of a response went to the client: nothing can be retried.
    committed: bool,
    /// A non-idempotent request reached a backend that then failed: it may have acted on it.
    maybe_acted: bool,
    /// Bytes (written to, read from) backends since the last `take_traffic`.
    traffic: (u64, u64),
}

impl<'x, 'r> Exchange<'x, 'r> {
    pub fn new(
        backend: &'x Backend,
        req: &'x RequestInfo<'r>,
        client: &'x mut dyn Client,
        bufs: &'x mut Buffers,
    ) -> Self {
        Exchange {
            backend,
            req,
            client,
            buf: &mut bufs.request,
            body: &mut bufs.body,
            first_body: 0,
            remaining: 0,
            streamed: false,
            committed: false,
            maybe_acted: false,
            traffic: (0, 0),
        }
    }

    /// Whether another backend may still take this request (nothing streamed, nothing sent).
    pub fn replayable(&self) -> bool {
        !self.streamed && !self.committed && !self.maybe_acted
    }

    /// (written, read) bytes exchanged with backends since the last call.
    pub fn take_traffic(&mut self) -> (u64, u64) {
        std::mem::take(&mut self.traffic)
    }

    /// Switches to another backend (an lb member) for the next `serve`.
    pub fn set_backend(&mut self, backend: &'x Backend) {
        self.backend = backend;
    }

    pub fn client(&mut self) -> &mut dyn Client {
        &mut *self.client
    }

    fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        if self.client.log_enabled(level) {
            self.client.log(
                level,
                format_args!("worker {}: {}", self.backend.name(), args),
            );
        }
    }

    /// Reads the first body packet from the client, before any backend is contacted (it goes out
    /// with FORWARD_REQUEST, unasked: reference §6.5), so a client that announces a body and
    /// sends none costs no backend anything (CVE-2008-5519). At most the smallest packet's worth,
    /// so it fits every member of an lb.
    pub fn prepare(&mut self) -> Result<(), Outcome> {
        self.remaining = match self.req.body {
            BodyKind::Length(n) => n,
            _ => 0,
        };
        self.first_body = 0;
        if self.remaining > 0 {
            let want = (self
                .remaining
                .min(max_body_chunk(ajp::DEFAULT_MAX_PACKET) as u64))
                as usize;
            grow(self.body, 6 + want);
            let got = match read_full(self.client, &mut self.body[6..6 + want]) {
                Ok(n) => n,
                Err(e) => return Err(self.client_read_failed(e)),
            };
            if got == 0 {
                self.log(
                    Level::Info,
                    format_args!(
                        "client sent no body although Content-Length announced {} bytes",
                        self.remaining
                    ),
                );
                return Err(Outcome::Status(400));
            }
            let head = body_packet_header(got as u16);
            self.body[..6].copy_from_slice(&head);
            self.remaining -= got as u64;
            self.first_body = 6 + got;
        }
        Ok(())
    }

    /// Serves the request on the current backend, with that worker's own retries; `route` and
    /// `activation` go out as attributes. Returns the outcome and how the last try ended.
    pub fn serve(&mut self, route: Option<&[u8]>, activation: &[u8]) -> (Outcome, AttemptKind) {
        let backend = self.backend;
        let settings = &backend.settings;
        let max = settings.max_packet_size;
        let mut route_req = *self.req;
        route_req.route = route;
        route_req.activation = activation;
        if let Err(e) = encode_request(
            self.buf,
            max,
            &route_req,
            &*self.client,
            settings.secret.as_deref(),
        ) {
            return match e {
                EncodeError::TooLarge { needed, max } => {
                    self.log(Level::Error, format_args!("request headers need {needed} bytes, more than max_packet_size {max}: 413"));
                    (Outcome::Status(413), AttemptKind::Request)
                }
                other => {
                    self.log(
                        Level::Error,
                        format_args!("cannot encode the request: {other}"),
                    );
                    (Outcome::Status(500), AttemptKind::Request)
                }
            };
        }
        let retries = settings.retries.max(1);
        let mut attempts = 0;
        let mut fresh = false;
        let mut stale_retries = 0;
        loop {
            let acquired = match self.backend.acquire(fresh) {
                Ok(a) => a,
                Err(e) => {
                    attempts += 1;
                    if attempts >= retries {
                        self.log(
                            Level::Error,
                            format_args!("{e} (attempt {attempts} of {retries}): 503"),
                        );
                        return (Outcome::Status(503), AttemptKind::Connect);
                    }
                    // The final outcome is logged once, at error; the attempts before it are
                    // details.
                    self.log(
                        Level::Info,
                        format_args!("{e} (attempt {attempts} of {retries}), retrying"),
                    );
                    std::thread::sleep(settings.retry_interval);
                    continue;
                }
            };
            let (mut conn, reused) = (acquired.conn, acquired.reused);
            if reused {
                if let Some(t) = prepost_ping_timeout(settings) {
                    if let Err(e) = conn.cping(t) {
                        self.log(
                            Level::Info,
                            format_args!("pooled connection failed CPing ({e}); using a new one"),
                        );
                        conn.close();
                        fresh = true;
                        continue;
                    }
                }
            }
            let result = self.attempt(&mut conn, reused);
            let (w, r) = conn.take_traffic();
            self.traffic.0 += w;
            self.traffic.1 += r;
            match result {
                Ok((outcome, reuse)) => {
                    if reuse && !self.req.disable_reuse && !conn.has_unread() {
                        backend.release(conn);
                    } else {
                        conn.close();
                    }
                    return (outcome, AttemptKind::Success);
                }
                Err(Failure::Stale(e)) => {
                    conn.close();
                    stale_retries += 1;
                    // Every pooled connection may be stale after a backend restart; the next
                    // try is on a fresh one, so this cannot loop.
                    self.log(
                        Level::Debug,
                        format_args!(
                            "pooled connection was stale ({e}); retrying on a new connection"
                        ),
                    );
                    fresh = true;
                    if stale_retries > 1 {
                        attempts += 1;
                    }
                }
                Err(Failure::Retry(e)) => {
                    conn.close();
                    attempts += 1;
                    if attempts >= retries {
                        let status = status_for(&e);
                        self.log(
                            Level::Error,
                            format_args!("{e} (attempt {attempts} of {retries}): {status}"),
                        );
                        let kind = if status == 503 {
                            AttemptKind::Connect
                        } else {
                            AttemptKind::Backend
                        };
                        return (Outcome::Status(status), kind);
                    }
                    // The final outcome is logged once, at error; the attempts before it are
                    // details.
                    self.log(
                        Level::Info,
                        format_args!("{e} (attempt {attempts} of {retries}), retrying"),
                    );
                    std::thread::sleep(settings.retry_interval);
                    fresh = true;
                }
                Err(Failure::Final(outcome, kind)) => {
                    conn.close();
                    return (outcome, kind);
                }
            }
        }
    }

    fn client_read_failed(&self, e: ClientError) -> Outcome {
        match e {
            ClientError::Read { status, detail } => {
                self.log(
                    Level::Info,
                    format_args!("reading the request body failed: {detail}"),
                );
                Outcome::Status(status)
            }
            ClientError::AlreadyAnswered => Outcome::FilterError,
            ClientError::Gone => Outcome::Sent,
        }
    }

    /// One attempt on one connection. Ok carries the outcome and whether the connection may be
    /// reused.
    fn attempt(&mut self, conn: &mut Connection, reused: bool) -> Result<(Outcome, bool), Failure> {
        let mut p = Progress::default();
        if let Err(e) = conn.send_parts(&[&self.buf[..], &self.body[..self.first_body]]) {
            // The write itself failed: the backend cannot have read a whole request.
            return Err(if reused {
                Failure::Stale(e)
            } else {
                Failure::Retry(e)
            });
        }
        let reply_timeout = self
            .req
            .reply_timeout
            .unwrap_or(self.backend.settings.reply_timeout);
        if let Err(e) = conn.set_reply_timeout(reply_timeout) {
            return Err(self.failed(e, &p, reused));
        }
        let max = self.backend.settings.max_packet_size;
        let head = self.req.is_head();
        loop {
            // Body packets already buffered together go to the client together, once the
            // headers are out and the body is really sent (FlushPackets: each one by itself).
            let gather = p.headers && !p.swallow_body && !self.req.flush_packets;
            let run = match conn.read_run(gather) {
                Ok(r) => r,
                Err(e) => return Err(self.failed(e, &p, reused)),
            };
            let msg = run.first;
            p.answered = true;
            match msg {
                Response::SendHeaders(h) => {
                    if p.headers {
                        return Err(self.failed(
                            BackendError::Unexpected("a second SEND_HEADERS"),
                            &p,
                            reused,
                        ));
                    }
                    p.headers = true;
                    p.status = h.status;
                    p.declared_len = match content_length(&h) {
                        Ok(len) => len,
                        Err(()) => {
                            return Err(self.failed(
                                BackendError::Unexpected("a Content-Length that is not a number"),
                                &p,
                                reused,
                            ))
                        }
                    };
                    if self.fails_on_status(h.status) {
                        self.log(
                            Level::Error,
                            format_args!(
                                "backend answered {}, listed in fail_on_status: 503",
                                h.status
                            ),
                        );
                        let code = self
                            .fail_on_status_code(h.status)
                            .unwrap_or(i32::from(h.status));
                        return Err(Failure::Final(
                            Outcome::Status(503),
                            AttemptKind::FailOnStatus(code),
                        ));
                    }
                    p.swallow_body = self.req.use_server_errors.is_some_and(|t| h.status >= t);
                    if self.client.send_headers(h.status, h.reason, &h).is_err() {
                        return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
                    }
                    if self.req.flush_header && !p.swallow_body {
                        p.committed = true;
                        self.committed = true;
                        if self.client.flush().is_err() {
                            return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
                        }
                    }
                }
                Response::BodyChunk(data) => {
                    if !p.headers {
                        // mod_jk ignores a leftover flush before the headers (§6.6 item 5).
                        if data.is_empty() {
                            continue;
                        }
                        return Err(self.failed(
                            BackendError::Unexpected("body before headers"),
                            &p,
                            reused,
                        ));
                    }
                    if p.swallow_body {
                        // Not gathered (see `gather`): this packet only.
                        p.written += data.len() as u64;
                        continue;
                    }
                    if data.is_empty() {
                        p.committed = true;
                        self.committed = true;
                        if self.client.flush().is_err() {
                            return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
                        }
                        continue;
                    }
                    let parts = run.body();
                    // What fits the declared Content-Length goes out; more would be handed to
                    // the client's next request.
                    let mut total = p.written;
                    let mut fit = 0;
                    for part in parts {
                        let next = total + part.len() as u64;
                        if p.declared_len.is_some_and(|limit| next > limit) {
                            break;
                        }
                        total = next;
                        fit += 1;
                    }
                    if fit > 0 {
                        p.committed = true;
                        self.committed = true;
                        if self.client.write_body_parts(&parts[..fit]).is_err() {
                            self.log(
                                Level::Info,
                                format_args!("client went away during the response"),
                            );
                            return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
                        }
                        p.written = total;
                    }
                    if fit < parts.len() {
                        return Err(self.failed(
                            BackendError::Unexpected("more body than its Content-Length"),
                            &p,
                            reused,
                        ));
                    }
                    if self.req.flush_packets && self.client.flush().is_err() {
                        return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
                    }
                }
                Response::GetBodyChunk { requested } => {
                    p.body_streamed = true;
                    self.streamed = true;
                    self.send_body_chunk(conn, requested as usize, max)?;
                }
                Response::EndResponse { reuse } => return self.finish(&p, reuse, head),
                Response::CPong => {
                    return Err(self.failed(
                        BackendError::Unexpected("CPONG during a request"),
                        &p,
                        reused,
                    ));
                }
            }
        }
    }

    /// Answers GET_BODY_CHUNK with the next piece of the request body (an empty packet at the end).
    fn send_body_chunk(
        &mut self,
        conn: &mut Connection,
        requested: usize,
        max: usize,
    ) -> Result<(), Failure> {
        let mut want = requested.min(max_body_chunk(max));
        if let BodyKind::Length(_) = self.req.body {
            want = want.min(self.remaining as usize);
        }
        // The first packet is gone for good: no replay after the backend asked for more.
        self.first_body = 0;
        let mut got = 0;
        if want > 0 {
            grow(self.body, 6 + want);
            got = match read_full(self.client, &mut self.body[6..6 + want]) {
                Ok(n) => n,
                Err(e) => {
                    // Tell the backend the body ended, and never reuse this connection: its
                    // request is incomplete (CVE-2008-5519).
                    let _ = conn.send(&END_OF_BODY_PACKET);
                    return Err(Failure::Final(
                        self.client_read_failed(e),
                        AttemptKind::ClientError,
                    ));
                }
            };
        }
        if got == 0 {
            return conn.send(&END_OF_BODY_PACKET).map_err(|e| {
                Failure::Final(self.backend_gone_mid_request(e), AttemptKind::Backend)
            });
        }
        self.remaining = self.remaining.saturating_sub(got as u64);
        let head = body_packet_header(got as u16);
        self.body[..6].copy_from_slice(&head);
        conn.send(&self.body[..6 + got])
            .map_err(|e| Failure::Final(self.backend_gone_mid_request(e), AttemptKind::Backend))
    }

    /// Whether a request the backend received whole may be sent again after the backend failed
    /// without answering: idempotent methods only (safer than mod_jk); `recovery_options` bit 1
    /// forbids even that, bits 8 and 16 re-allow HEAD and GET (reference §2.4).
    fn may_resend(&self) -> bool {
        let options = self.backend.settings.recovery_options;
        match self.req.method {
            b"HEAD" if options & 8 != 0 => true,
            b"GET" if options & 16 != 0 => true,
            _ => options & 1 == 0 && self.req.is_idempotent(),
        }
    }

    /// `fail_on_status` (the mount rule's, else the worker's): negative codes count too; for a
    /// plain worker both signs mean the same, a 503 to the client (reference §2.4).
    fn fails_on_status(&self, status: u16) -> bool {
        self.fail_on_status_code(status).is_some()
    }

    /// The configured `fail_on_status` entry (with its sign) that `status` matches.
    fn fail_on_status_code(&self, status: u16) -> Option<i32> {
        let list = self
            .req
            .fail_on_status
            .unwrap_or(&self.backend.settings.fail_on_status);
        list.iter()
            .copied()
            .find(|&code| code.unsigned_abs() == u32::from(status))
    }

    fn backend_gone_mid_request(&self, e: BackendError) -> Outcome {
        self.log(
            Level::Error,
            format_args!("{e} while sending the request body: 502"),
        );
        Outcome::Status(502)
    }

    /// END_RESPONSE: check the body length the backend promised, and pick the outcome.
    fn finish(
        &mut self,
        p: &Progress,
        reuse: bool,
        head: bool,
    ) -> Result<(Outcome, bool), Failure> {
        if !p.headers {
            return Err(self.failed(
                BackendError::Unexpected("END_RESPONSE without headers"),
                p,
                false,
            ));
        }
        let bodyless = head || p.status == 204 || p.status == 304 || (100..200).contains(&p.status);
        if let Some(limit) = p.declared_len {
            if !bodyless && p.written != limit {
                self.log(
                    Level::Error,
                    format_args!(
                        "response body has {} bytes, Content-Length said {limit}",
                        p.written
                    ),
                );
                if p.committed {
                    self.client.abort();
                    return Ok((Outcome::Sent, false));
                }
                return Ok((Outcome::Status(502), false));
            }
        }
        if p.swallow_body {
            return Ok((Outcome::Status(p.status), reuse));
        }
        if !p.committed && p.written == 0 && p.status >= 400 && !head {
            // mod_jk lets httpd render the error page when the backend sent none (§1.1).
            return Ok((Outcome::Status(p.status), reuse));
        }
        Ok((Outcome::Sent, reuse))
    }

    /// Classifies a failed attempt (reference §4.7 / §4.9): retry, replay on a fresh connection,
    /// or the final answer.
    fn failed(&mut self, e: BackendError, p: &Progress, reused: bool) -> Failure {
        let replayable = !p.body_streamed && !p.headers;
        if p.committed {
            self.log(
                Level::Error,
                format_args!("{e} after the response started; aborting the client connection"),
            );
            self.client.abort();
            return Failure::Final(Outcome::Sent, AttemptKind::Backend);
        }
        match e {
            BackendError::Timeout => {
                self.log(
                    Level::Error,
                    format_args!("no reply within the reply timeout: 504"),
                );
                Failure::Final(Outcome::Status(504), AttemptKind::Timeout)
            }
            BackendError::Protocol(_) | BackendError::Unexpected(_) => {
                self.log(Level::Error, format_args!("{e}: 502"));
                Failure::Final(Outcome::Status(502), AttemptKind::Backend)
            }
            BackendError::Closed { .. } | BackendError::Recv(_) | BackendError::Send(_)
                if replayable && !p.answered =>
            {
                // The request went out whole; the backend may have acted on it before closing,
                // pooled connection or not (one closed while idle was already weeded out by the
                // pool's liveness check). Only idempotent requests are sent again.
                if self.may_resend() {
                    if reused {
                        Failure::Stale(e)
                    } else {
                        Failure::Retry(e)
                    }
                } else {
                    // The backend may have acted on it: do not run a POST twice.
                    self.log(
                        Level::Error,
                        format_args!(
                            "{e} after the request was sent; not replaying a {} request: 502",
                            String::from_utf8_lossy(self.req.method)
                        ),
                    );
                    self.maybe_acted = true;
                    Failure::Final(Outcome::Status(502), AttemptKind::Backend)
                }
            }
            other => {
                self.log(Level::Error, format_args!("{other}: 502"));
                Failure::Final(Outcome::Status(502), AttemptKind::Backend)
            }
        }
    }
}

/// The status a request gets when every attempt failed with `e` (reference §4.9).
fn status_for(e: &BackendError) -> u16 {
    match e {
        BackendError::Resolve(_)
        | BackendError::Connect(_)
        | BackendError::Ping(_)
        | BackendError::Send(_) => 503,
        BackendError::Timeout => 504,
        _ => 502,
    }
}

/// Makes `buf` at least `len` bytes long. It never shrinks, so the zero-filling happens once per
/// thread, not once per body packet (the bytes are overwritten by the read that follows).
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

/// Reads until `buf` is full or the body ends.
fn read_full(client: &mut dyn Client, buf: &mut [u8]) -> Result<usize, ClientError> {
    let mut got = 0;
    while got < buf.len() {
        match client.read_body(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The backend's Content-Length: `Ok(None)` when absent, `Err` when present but not a number
/// (relaying it would leave the client unable to find the end of the body).
fn content_length(h: &SendHeaders<'_>) -> Result<Option<u64>, ()> {
    match h
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case(b"content-length"))
    {
        None => Ok(None),
        Some((_, v)) => std::str::from_utf8(v)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .map(Some)
            .ok_or(()),
    }
}

/// FORWARD_REQUEST with headers and attributes in mod_jk's order (reference §6.3).
fn encode_request(
    buf: &mut Vec<u8>,
    max: usize,
    req: &RequestInfo<'_>,
    client: &dyn Client,
    secret: Option<&str>,
) -> Result<usize, EncodeError> {
    let method = method_code(req.method);
    let line = RequestLine {
        method,
        protocol: req.protocol,
        req_uri: req.uri,
        remote_addr: req.remote_addr,
        remote_host: req.remote_host,
        server_name: req.server_name,
        server_port: req.server_port,
        is_ssl: req.is_ssl,
    };
    let mut enc = ForwardRequestEncoder::begin(buf, max, &line)?;
    let chunked = req.body == BodyKind::Chunked;
    let mut has_length = false;
    client.for_each_header(&mut |name, value| {
        if name.eq_ignore_ascii_case(b"content-length") {
            // A chunked body has no length; AJP would read a stale one as the body size.
            if chunked {
                return Ok(());
            }
            has_length = true;
        }
        enc.header(name, value)
    })?;
    if req.body == BodyKind::None && !has_length {
        // AJP13 reads a missing Content-Length as "unknown, non-zero" (reference §6.5).
        enc.header(b"Content-Length", b"0")?;
    }
    if let Some(s) = secret {
        enc.attribute(Attribute::Secret(s.as_bytes()))?;
    }
    if let Some(u) = req.remote_user {
        enc.attribute(Attribute::RemoteUser(u))?;
    }
    if let Some(a) = req.auth_type {
        enc.attribute(Attribute::AuthType(a))?;
    }
    if let Some(q) = req.query {
        enc.attribute(Attribute::QueryString(q))?;
    }
    if let Some(r) = req.route {
        enc.attribute(Attribute::Route(r))?;
    }
    if let Some(c) = req.ssl.cert {
        enc.attribute(Attribute::SslCert(c))?;
    }
    if let Some(c) = req.ssl.cipher {
        enc.attribute(Attribute::SslCipher(c))?;
    }
    if let Some(s) = req.ssl.session {
        enc.attribute(Attribute::SslSession(s))?;
    }
    if let Some(k) = req.ssl.key_size {
        enc.attribute(Attribute::SslKeySize(k))?;
    }
    if method == METHOD_STORED {
        enc.attribute(Attribute::StoredMethod(req.method))?;
    }
    if let Some(p) = req.ssl.protocol {
        enc.attribute(Attribute::ReqAttribute {
            name: b"AJP_SSL_PROTOCOL",
            value: p,
        })?;
    }
    enc.attribute(Attribute::ReqAttribute {
        name: b"AJP_REMOTE_PORT",
        value: req.remote_port,
    })?;
    enc.attribute(Attribute::ReqAttribute {
        name: b"AJP_LOCAL_ADDR",
        value: req.local_addr,
    })?;
    enc.attribute(Attribute::ReqAttribute {
        name: b"JK_LB_ACTIVATION",
        value: req.activation,
    })?;
    for &(name, value) in req.env_attributes {
        enc.attribute(Attribute::ReqAttribute { name, value })?;
    }
    enc.finish()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
