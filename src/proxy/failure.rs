//! What a failed attempt means (reference §4.7, §4.9): the HTTP status it becomes — chosen
//! here and nowhere else —, whether the request may be replayed on another connection, how the
//! try is reported to the load balancer ([`AttemptKind`]), and the worker's own retries.
#![forbid(unsafe_code)]

use super::client::{ClientError, Outcome};
use super::exchange::{Exchange, Progress};
use crate::backend::BackendError;
use crate::balancer::AttemptResult;
use crate::jklog::Level;

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

impl From<AttemptKind> for AttemptResult {
    fn from(kind: AttemptKind) -> AttemptResult {
        match kind {
            AttemptKind::Success => AttemptResult::Success,
            AttemptKind::ClientError => AttemptResult::ClientError,
            // No connection at all: the member is down (error at once). NoConnection would mean
            // "no free pooled endpoint", which only makes it busy.
            AttemptKind::Connect => AttemptResult::Unreachable,
            AttemptKind::Timeout => AttemptResult::ReplyTimeout,
            AttemptKind::Backend => AttemptResult::BackendFailure,
            AttemptKind::FailOnStatus(code) => AttemptResult::FailOnStatus { positive: code > 0 },
            AttemptKind::Request => AttemptResult::Unsendable,
        }
    }
}

/// Why one attempt on one connection ended without a complete response.
pub(super) enum Failure {
    /// A pooled connection was dead before the backend saw anything: retry on a new one.
    Stale(BackendError),
    /// Failed before the backend could have acted on the request (or it is safe to repeat).
    Retry(BackendError),
    /// No retry: this is the answer.
    Final(Outcome, AttemptKind),
}

/// The worker's own retries for one request (`retries`, `retry_interval`: reference §2.4).
pub(super) struct Retries {
    attempts: u32,
    max: u32,
    /// The next try takes a new connection, not a pooled one.
    pub(super) fresh: bool,
    /// Pooled connections found dead so far: the first one costs no attempt.
    stale: u32,
}

impl Retries {
    pub(super) fn new(retries: u32) -> Retries {
        Retries {
            attempts: 0,
            max: retries.max(1),
            fresh: false,
            stale: 0,
        }
    }

    /// A pooled connection was dead before the backend saw the request: the next try is on a
    /// new one (so this cannot loop), and only the second such find counts as an attempt.
    pub(super) fn stale(&mut self) {
        self.stale += 1;
        self.fresh = true;
        if self.stale > 1 {
            self.attempts += 1;
        }
    }
}

/// The status a request gets when every attempt failed with `e` (reference §4.9).
pub(super) fn status_for(e: &BackendError) -> u16 {
    match e {
        BackendError::Resolve(_)
        | BackendError::Connect(_)
        | BackendError::Ping(_)
        | BackendError::Send(_) => 503,
        BackendError::Timeout | BackendError::Deadline => 504,
        _ => 502,
    }
}

impl Exchange<'_, '_> {
    /// One more attempt failed with `e`: the answer, `status`, once the worker's retries are
    /// used up; else `None`, after `retry_interval`.
    pub(super) fn give_up_or_wait(
        &self,
        tries: &mut Retries,
        e: &BackendError,
        status: u16,
    ) -> Option<(Outcome, AttemptKind)> {
        tries.attempts += 1;
        let (attempts, retries) = (tries.attempts, tries.max);
        if attempts >= retries {
            self.log(
                Level::Error,
                format_args!("{e} (attempt {attempts} of {retries}): {status}"),
            );
            let kind = if status == 503 {
                AttemptKind::Connect
            } else {
                AttemptKind::Backend
            };
            return Some((Outcome::Status(status), kind));
        }
        // The final outcome is logged once, at error; the attempts before it are details.
        self.log(
            Level::Info,
            format_args!("{e} (attempt {attempts} of {retries}), retrying"),
        );
        std::thread::sleep(self.live.retry_interval());
        None
    }

    pub(super) fn client_read_failed(&mut self, e: ClientError) -> Outcome {
        let outcome = match e {
            ClientError::Read { status, detail } => {
                self.log(
                    Level::Info,
                    format_args!("reading the request body failed: {detail}"),
                );
                Outcome::Status(status)
            }
            ClientError::AlreadyAnswered => Outcome::FilterError,
            ClientError::Gone => Outcome::Sent,
        };
        self.unless_committed(outcome)
    }

    /// `outcome` while nothing reached the client. A backend may ask for more request body
    /// after its response started (GET_BODY_CHUNK after SEND_HEADERS): failing then, a status
    /// or a filter's error would be written after part of the response, so the client
    /// connection is aborted instead (the response looks broken, not complete) and the
    /// answer is `Sent`.
    /// A client gone while reading (`Sent` already) is aborted too: httpd would otherwise
    /// end the response as if it were whole.
    fn unless_committed(&mut self, outcome: Outcome) -> Outcome {
        if !self.committed {
            return outcome;
        }
        if outcome != Outcome::Sent {
            self.log(
                Level::Error,
                format_args!("the request body failed after the response started; aborting the client connection"),
            );
        }
        self.client.abort();
        Outcome::Sent
    }

    /// Whether a request the backend received whole may be sent again after the backend failed
    /// without answering: idempotent methods only (safer than mod_jk); `recovery_options` bit 1
    /// forbids even that, bits 8 and 16 re-allow HEAD and GET (reference §2.4).
    pub(super) fn may_resend(&self) -> bool {
        let options = self.live.recovery_options;
        match self.req.method {
            b"HEAD" if options & 8 != 0 => true,
            b"GET" if options & 16 != 0 => true,
            _ => options & 1 == 0 && self.req.is_idempotent(),
        }
    }

    /// The `fail_on_status` entry (the mount rule's, else the worker's; with its sign) that
    /// `status` matches. For a plain worker both signs mean the same, a 503 to the client
    /// (reference §2.4).
    pub(super) fn fail_on_status_code(&self, status: u16) -> Option<i32> {
        let list = self
            .req
            .fail_on_status
            .unwrap_or(&self.backend.settings.fail_on_status);
        list.iter()
            .copied()
            .find(|&code| code.unsigned_abs() == u32::from(status))
    }

    pub(super) fn backend_gone_mid_request(&mut self, e: BackendError) -> Outcome {
        self.log(
            Level::Error,
            format_args!("{e} while sending the request body: 502"),
        );
        self.unless_committed(Outcome::Status(502))
    }

    /// Classifies a failed attempt (reference §4.7 / §4.9): retry, replay on a fresh connection,
    /// or the final answer.
    pub(super) fn failed(&mut self, e: BackendError, p: &Progress, reused: bool) -> Failure {
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
            BackendError::Deadline => {
                let limit = self.backend.settings.reply_deadline.unwrap_or_default();
                self.log(
                    Level::Error,
                    format_args!(
                        "the reply took longer than reply_deadline ({} ms): 504",
                        limit.as_millis()
                    ),
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
