//! One request's exchange with AJP13 backends: sends FORWARD_REQUEST (with the first body
//! packet), feeds the rest of the request body when the backend asks for it (GET_BODY_CHUNK),
//! relays headers and body chunks to the client, and retries on another connection while that
//! is safe. The lb serves one `Exchange` on member after member; a plain worker on its own
//! backend. What a failure becomes is decided in `failure.rs`.
#![forbid(unsafe_code)]

use super::buffers::{grow, Buffers};
use super::client::{Client, ClientError, Outcome};
use super::failure::{status_for, AttemptKind, Failure, Retries};
use super::request::{encode_request, BodyKind, RequestInfo, Routing};
use super::spool::Spool;
use crate::ajp::{
    self, body_packet_header, max_body_chunk, EncodeError, Response, SendHeaders,
    END_OF_BODY_PACKET,
};
use crate::backend::{
    prepost_ping_timeout, Backend, BackendError, Connection, LiveSettings, RunParts, MAX_RUN,
};
use crate::jklog::Level;
use std::fmt;
use std::time::Instant;

/// What the response reading has seen so far.
#[derive(Default)]
pub(super) struct Progress {
    /// Any message at all came back on this connection.
    pub(super) answered: bool,
    pub(super) headers: bool,
    status: u16,
    /// Something reached the network on the client side: the status cannot change any more.
    pub(super) committed: bool,
    /// The backend asked for body beyond the first packet: the request cannot be replayed.
    pub(super) body_streamed: bool,
    declared_len: Option<u64>,
    written: u64,
    /// `use_server_errors`: the backend's body is dropped and httpd renders the error page.
    swallow_body: bool,
    /// Body was kept back to go out with the end of the response (see `pass_body`).
    kept: bool,
}

/// A response whose Content-Length is at most this goes out whole, with its end, in one pass
/// (what httpd's `ap_rwrite` buffers for mod_jk: APR_BUCKET_BUFF_SIZE), so output filters that
/// need the whole answer (byte ranges) apply; larger ones stream.
const KEEP_LIMIT: u64 = 8000;

/// One request's exchange with one or more backends (several when an lb fails over).
pub struct Exchange<'x, 'r> {
    pub(super) backend: &'x Backend,
    /// The current backend's settings as they are for this request (status page edits
    /// included), taken when the backend is chosen.
    pub(super) live: LiveSettings,
    /// `backend` and `live` are the chosen backend's (not yet for an lb's first choice).
    chosen: bool,
    /// The client logs at debug level.
    debug: bool,
    pub(super) req: &'x RequestInfo<'r>,
    pub(super) client: &'x mut dyn Client,
    buf: &'x mut Vec<u8>,
    /// The encoded FORWARD_REQUEST is `buf[..request_len]`.
    request_len: usize,
    body: &'x mut Vec<u8>,
    /// Length of the first body packet kept in `body` (0: none, or no longer available).
    first_body: usize,
    /// Body bytes still to come from the client (Content-Length bodies).
    remaining: u64,
    /// The backend asked for more body: the request can no longer be replayed anywhere.
    streamed: bool,
    /// Part of a response went to the client: nothing can be retried.
    pub(super) committed: bool,
    /// A non-idempotent request reached a backend that then failed: it may have acted on it.
    pub(super) maybe_acted: bool,
    /// Bytes (written to, read from) backends since the last `take_traffic`.
    traffic: (u64, u64),
    /// `request_body_buffer`: how much body `prepare` reads ahead (0: none), and what it read.
    body_buffer: u64,
    spool: Option<Spool>,
}

impl<'x, 'r> Exchange<'x, 'r> {
    pub fn new(
        backend: &'x Backend,
        req: &'x RequestInfo<'r>,
        client: &'x mut dyn Client,
        bufs: &'x mut Buffers,
    ) -> Self {
        let mut x = Exchange::unchosen(backend, req, client, bufs);
        x.live = backend.live();
        x.chosen = true;
        x
    }

    /// An exchange whose backend is chosen later, by [`Self::set_backend`] (an lb member);
    /// `placeholder` stands until then.
    pub fn unchosen(
        placeholder: &'x Backend,
        req: &'x RequestInfo<'r>,
        client: &'x mut dyn Client,
        bufs: &'x mut Buffers,
    ) -> Self {
        let debug = client.log_enabled(Level::Debug);
        Exchange {
            debug,
            live: LiveSettings::default(),
            chosen: false,
            backend: placeholder,
            req,
            client,
            buf: &mut bufs.request,
            request_len: 0,
            body: &mut bufs.body,
            first_body: 0,
            remaining: 0,
            streamed: false,
            committed: false,
            maybe_acted: false,
            traffic: (0, 0),
            body_buffer: 0,
            spool: None,
        }
    }

    /// `request_body_buffer`: `prepare` reads up to `limit` body bytes before any backend is
    /// contacted.
    pub fn buffer_body(&mut self, limit: u64) {
        self.body_buffer = limit;
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
        if !self.chosen || !std::ptr::eq(self.backend, backend) {
            self.backend = backend;
            self.live = backend.live();
            self.chosen = true;
        }
    }

    pub fn client(&mut self) -> &mut dyn Client {
        &mut *self.client
    }

    /// Whether the client logs at debug level (asked once: the hot path has debug lines).
    pub fn debug(&self) -> bool {
        self.debug
    }

    pub(super) fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        if level == Level::Debug && !self.debug {
            return;
        }
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
        self.read_ahead()?;
        if self.remaining > 0 {
            let want = (self
                .remaining
                .min(max_body_chunk(ajp::DEFAULT_MAX_PACKET) as u64))
                as usize;
            grow(self.body, 6 + want);
            let got = match read_full(
                self.client,
                self.spool.as_mut(),
                &mut self.body[6..6 + want],
            ) {
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

    /// `request_body_buffer`: the body (up to the limit) from the client now, before a backend
    /// is contacted, so a slow uploader holds no backend connection while it sends.
    fn read_ahead(&mut self) -> Result<(), Outcome> {
        let limit = match self.req.body {
            _ if self.body_buffer == 0 => return Ok(()),
            BodyKind::None => return Ok(()),
            BodyKind::Length(n) => n.min(self.body_buffer),
            BodyKind::Chunked => self.body_buffer,
        };
        match Spool::fill(self.client, limit, self.body) {
            Ok(spool) => {
                self.log(
                    Level::Debug,
                    format_args!(
                        "read {} request body bytes ahead (request_body_buffer {})",
                        spool.held(),
                        self.body_buffer
                    ),
                );
                self.spool = Some(spool);
                Ok(())
            }
            Err(e) => Err(self.client_read_failed(e)),
        }
    }

    /// Serves the request on the current backend, with that worker's own retries; `route` and
    /// `activation` go out as attributes. Returns the outcome and how the last try ended.
    pub fn serve(&mut self, route: Option<&[u8]>, activation: &[u8]) -> (Outcome, AttemptKind) {
        if let Err(answer) = self.encode(route, activation) {
            return answer;
        }
        self.send()
    }

    /// FORWARD_REQUEST for the current backend, into the request buffer. A request that cannot
    /// be encoded is answered at once: 413 when its headers do not fit `max_packet_size`.
    pub fn encode(
        &mut self,
        route: Option<&[u8]>,
        activation: &[u8],
    ) -> Result<(), (Outcome, AttemptKind)> {
        let routing = Routing {
            route,
            activation,
            secret: self.backend.settings.secret.as_deref(),
        };
        match encode_request(
            self.buf,
            self.live.max_packet_size,
            self.req,
            &routing,
            &*self.client,
        ) {
            Ok(len) => {
                self.request_len = len;
                Ok(())
            }
            Err(EncodeError::TooLarge { needed, max }) => {
                self.log(
                    Level::Error,
                    format_args!(
                        "request headers need {needed} bytes, more than max_packet_size {max}: 413"
                    ),
                );
                Err((Outcome::Status(413), AttemptKind::Request))
            }
            Err(other) => {
                self.log(
                    Level::Error,
                    format_args!("cannot encode the request: {other}"),
                );
                Err((Outcome::Status(500), AttemptKind::Request))
            }
        }
    }

    /// Sends the encoded request on a pooled or new connection and relays the answer, trying
    /// again per the worker's `retries` while that is safe (see [`Failure`]).
    pub fn send(&mut self) -> (Outcome, AttemptKind) {
        let backend = self.backend;
        let live = self.live;
        let mut tries = Retries::new(live.retries);
        loop {
            let (conn, reused) = match backend.acquire(tries.fresh, &live) {
                Ok(acquired) => (acquired.conn, acquired.reused),
                Err(e) => match self.give_up_or_wait(&mut tries, &e, 503) {
                    Some(answer) => return answer,
                    None => continue,
                },
            };
            let Some(mut conn) = self.checked(conn, reused) else {
                tries.fresh = true;
                continue;
            };
            if self.debug {
                self.log(
                    Level::Debug,
                    format_args!(
                        "{} connection to {}",
                        if reused {
                            "reusing a pooled"
                        } else {
                            "opened a new"
                        },
                        backend.address_text()
                    ),
                );
            }
            let result = self.attempt(&mut conn, reused);
            let (w, r) = conn.take_traffic();
            self.traffic.0 += w;
            self.traffic.1 += r;
            if let Some(answer) = self.settle(result, conn, &mut tries) {
                return answer;
            }
        }
    }

    /// A pooled connection answers CPing first when `ping_mode` P / `prepost_timeout` asks for
    /// it; one that does not is closed (`None`).
    fn checked(&self, mut conn: Connection, reused: bool) -> Option<Connection> {
        if !reused {
            return Some(conn);
        }
        if let Some(t) = prepost_ping_timeout(&self.live) {
            if let Err(e) = conn.cping(t) {
                self.log(
                    Level::Info,
                    format_args!("pooled connection failed CPing ({e}); using a new one"),
                );
                conn.close();
                return None;
            }
        }
        Some(conn)
    }

    /// Ends one attempt: the connection goes back to the pool or is closed, and the result is
    /// the answer (`Some`) or calls for another try (`None`).
    fn settle(
        &mut self,
        result: Result<(Outcome, bool), Failure>,
        conn: Connection,
        tries: &mut Retries,
    ) -> Option<(Outcome, AttemptKind)> {
        match result {
            Ok((outcome, reuse)) => {
                if reuse && !self.req.disable_reuse && !conn.has_unread() {
                    self.backend.release(conn);
                } else {
                    conn.close();
                }
                Some((outcome, AttemptKind::Success))
            }
            Err(Failure::Stale(e)) => {
                conn.close();
                tries.stale();
                self.log(
                    Level::Debug,
                    format_args!("pooled connection was stale ({e}); retrying on a new connection"),
                );
                None
            }
            Err(Failure::Retry(e)) => {
                conn.close();
                tries.fresh = true;
                self.give_up_or_wait(tries, &e, status_for(&e))
            }
            Err(Failure::Final(outcome, kind)) => {
                conn.close();
                Some((outcome, kind))
            }
        }
    }

    /// One attempt on one connection. Ok carries the outcome and whether the connection may be
    /// reused. A failed attempt leaves nothing kept back for the client.
    fn attempt(&mut self, conn: &mut Connection, reused: bool) -> Result<(Outcome, bool), Failure> {
        let mut p = Progress::default();
        let result = self.exchange_on(conn, reused, &mut p);
        if result.is_err() && p.kept {
            self.client.forget_kept();
        }
        result
    }

    fn exchange_on(
        &mut self,
        conn: &mut Connection,
        reused: bool,
        p: &mut Progress,
    ) -> Result<(Outcome, bool), Failure> {
        if let Err(e) =
            conn.send_parts(&[&self.buf[..self.request_len], &self.body[..self.first_body]])
        {
            // The write itself failed: the backend cannot have read a whole request.
            return Err(if reused {
                Failure::Stale(e)
            } else {
                Failure::Retry(e)
            });
        }
        if let Err(e) = self.start_reply_clock(conn) {
            return Err(self.failed(e, p, reused));
        }
        let max = self.live.max_packet_size;
        loop {
            // Body packets already buffered together go to the client together, once the
            // headers are out and the body is really sent (FlushPackets: each one by itself).
            let gather = p.headers && !p.swallow_body && !self.req.flush_packets;
            let body_left = p.declared_len.map(|len| len.saturating_sub(p.written));
            let mut parts: RunParts<'_> = [&[]; MAX_RUN];
            let run = match conn.read_run(gather, body_left, &mut parts) {
                Ok(r) => r,
                Err(e) => return Err(self.failed(e, p, reused)),
            };
            let msg = run.first;
            p.answered = true;
            match msg {
                Response::SendHeaders(h) => self.relay_headers(&h, p, reused)?,
                Response::BodyChunk(data) => {
                    let end = run.end;
                    self.relay_body(data, &parts[..run.parts], p, reused)?;
                    if let Some(reuse) = end {
                        return self.ended(p, reuse);
                    }
                }
                Response::GetBodyChunk { requested } => {
                    p.body_streamed = true;
                    self.streamed = true;
                    self.send_body_chunk(conn, requested as usize, max)?;
                }
                Response::EndResponse { reuse } => return self.ended(p, reuse),
                Response::CPong => {
                    return Err(self.failed(
                        BackendError::Unexpected("CPONG during a request"),
                        p,
                        reused,
                    ));
                }
            }
        }
    }

    /// The backend has the whole request (or the body so far): the reply's limits start now,
    /// `reply_timeout` for each wait (the mount's, else the worker's) and `reply_deadline` for
    /// the whole.
    fn start_reply_clock(&self, conn: &mut Connection) -> Result<(), BackendError> {
        let wait = self
            .req
            .reply_timeout
            .unwrap_or_else(|| self.live.reply_timeout());
        let deadline = self
            .backend
            .settings
            .reply_deadline
            .map(|d| Instant::now() + d);
        conn.set_reply_limits(wait, deadline)
    }

    /// SEND_HEADERS: status and headers to the client, unless `fail_on_status` turns them into
    /// a 503 or `use_server_errors` leaves the page to httpd.
    fn relay_headers(
        &mut self,
        h: &SendHeaders<'_>,
        p: &mut Progress,
        reused: bool,
    ) -> Result<(), Failure> {
        if p.headers {
            return Err(self.failed(BackendError::Unexpected("a second SEND_HEADERS"), p, reused));
        }
        p.headers = true;
        p.status = h.status;
        self.log(
            Level::Debug,
            format_args!("SEND_HEADERS: status {}", h.status),
        );
        p.declared_len = match content_length(h) {
            Ok(len) => len,
            Err(()) => {
                return Err(self.failed(
                    BackendError::Unexpected("a Content-Length that is not one number"),
                    p,
                    reused,
                ))
            }
        };
        if let Some(code) = self.fail_on_status_code(h.status) {
            self.log(
                Level::Error,
                format_args!(
                    "backend answered {}, listed in fail_on_status: 503",
                    h.status
                ),
            );
            return Err(Failure::Final(
                Outcome::Status(503),
                AttemptKind::FailOnStatus(code),
            ));
        }
        p.swallow_body = self.req.use_server_errors.is_some_and(|t| h.status >= t);
        if self
            .client
            .send_headers(h.status, h.reason, h, p.declared_len)
            .is_err()
        {
            return Err(Failure::Final(Outcome::Sent, AttemptKind::ClientError));
        }
        if self.req.flush_header && !p.swallow_body {
            p.committed = true;
            self.committed = true;
            self.flush_client()?;
        }
        Ok(())
    }

    /// SEND_BODY_CHUNK `data` and the body packets buffered behind it (`parts`, `data` first):
    /// to the client as far as the declared Content-Length goes; an empty chunk is a flush.
    fn relay_body(
        &mut self,
        data: &[u8],
        parts: &[&[u8]],
        p: &mut Progress,
        reused: bool,
    ) -> Result<(), Failure> {
        if !p.headers {
            // mod_jk ignores a leftover flush before the headers (§6.6 item 5).
            if data.is_empty() {
                return Ok(());
            }
            return Err(self.failed(BackendError::Unexpected("body before headers"), p, reused));
        }
        if p.swallow_body {
            // Not gathered (see `attempt`): this packet only.
            p.written += data.len() as u64;
            return Ok(());
        }
        if data.is_empty() {
            p.committed = true;
            self.committed = true;
            return self.flush_client();
        }
        // What fits the declared Content-Length goes out; more would be handed to the
        // client's next request.
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
            if self.pass_body(&parts[..fit], total, p).is_err() {
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
                p,
                reused,
            ));
        }
        if self.req.flush_packets {
            self.flush_client()?;
        }
        Ok(())
    }

    /// Hands body parts to the client, `total` bytes with them. A small answer is kept back
    /// whole, and the part that completes a declared body is kept back too: it goes out with
    /// the end of the response, after the exchange is over, so a client never sees an answer
    /// complete while its worker still counts it busy (and byte ranges apply to small answers).
    /// The rest is written at once (streamed).
    fn pass_body(
        &mut self,
        parts: &[&[u8]],
        total: u64,
        p: &mut Progress,
    ) -> Result<(), ClientError> {
        // Without a Content-Length the answer is small while what came so far is: kept back
        // whole, httpd can give it a Content-Length (and byte ranges), as for mod_jk.
        let small = !p.committed && p.declared_len.unwrap_or(total) <= KEEP_LIMIT;
        let keep_from = if self.req.flush_packets {
            parts.len()
        } else if small {
            0
        } else if p.declared_len == Some(total) {
            parts.len() - 1
        } else {
            parts.len()
        };
        let (now, later) = parts.split_at(keep_from);
        if !now.is_empty() {
            p.committed = true;
            self.committed = true;
            self.client.write_body_parts(now)?;
        }
        if !later.is_empty() {
            if self.client.keep_body_parts(later)? {
                p.kept = true;
            } else {
                p.committed = true;
                self.committed = true;
            }
        }
        Ok(())
    }

    /// Flushes what the client has so far; failing means the client is gone.
    fn flush_client(&mut self) -> Result<(), Failure> {
        self.client
            .flush()
            .map_err(|_| Failure::Final(Outcome::Sent, AttemptKind::ClientError))
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
            got = match read_full(
                self.client,
                self.spool.as_mut(),
                &mut self.body[6..6 + want],
            ) {
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
            .map_err(|e| Failure::Final(self.backend_gone_mid_request(e), AttemptKind::Backend))?;
        // The time the client took to send this piece is not the backend's.
        self.start_reply_clock(conn)
            .map_err(|e| Failure::Final(self.backend_gone_mid_request(e), AttemptKind::Backend))
    }

    /// END_RESPONSE arrived (alone, or behind the body).
    fn ended(&mut self, p: &Progress, reuse: bool) -> Result<(Outcome, bool), Failure> {
        self.log(
            Level::Debug,
            format_args!(
                "END_RESPONSE: {} body bytes, connection {}",
                p.written,
                if reuse { "reusable" } else { "to close" }
            ),
        );
        self.finish(p, reuse)
    }

    /// END_RESPONSE: check the body length the backend promised, and pick the outcome.
    fn finish(&mut self, p: &Progress, reuse: bool) -> Result<(Outcome, bool), Failure> {
        let head = self.req.is_head();
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
        if p.status == 403 && !reuse {
            self.log_refused();
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

    /// Tomcat answers a request whose AJP secret does not match its connector's with 403 and
    /// closes the connection, and logs nothing (Tomcat 9.0.31+, `AjpProcessor`): say so here,
    /// or the 403 is a mystery.
    fn log_refused(&self) {
        let name = &self.backend.settings.name;
        let why = if self.backend.settings.secret.is_some() {
            format!("worker.{name}.secret differs from the secret of the backend's AJP connector")
        } else {
            format!("worker.{name}.secret is not set and the backend's AJP connector requires one")
        };
        self.log(
            Level::Warn,
            format_args!("backend answered 403 and closed the connection, as Tomcat does when the AJP secret is wrong: {why}?"),
        );
    }
}

/// Reads until `buf` is full or the body ends: from what `spool` read ahead first, if any.
fn read_full(
    client: &mut dyn Client,
    mut spool: Option<&mut Spool>,
    buf: &mut [u8],
) -> Result<usize, ClientError> {
    let mut got = 0;
    while got < buf.len() {
        let n = match spool.as_deref_mut() {
            Some(spool) => spool.read(client, &mut buf[got..])?,
            None => client.read_body(&mut buf[got..])?,
        };
        match n {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The backend's Content-Length: `Ok(None)` when absent, `Err` when present but not a number,
/// or given twice with different values (relaying it would leave the client unable to find the
/// end of the body; RFC 9110 §8.6 allows repeats of one value only).
fn content_length(h: &SendHeaders<'_>) -> Result<Option<u64>, ()> {
    let mut found = None;
    for (_, v) in h
        .headers()
        .filter(|(name, _)| crate::ajp::CONTENT_LENGTH.is(name))
    {
        let n = crate::decimal::parse_u64(v).ok_or(())?;
        if found.is_some_and(|m| m != n) {
            return Err(());
        }
        found = Some(n);
    }
    Ok(found)
}
