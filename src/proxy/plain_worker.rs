//! Plain ajp13 workers (mapped directly, not behind an lb): the request is served on the
//! worker's backend with its own retries, and the worker keeps its figures in shared memory as
//! lb members do — requests, busy count and `busy_limit`, traffic, errors, OK/ERR — so the
//! status page shows them. No balancing and no recovery rules.
#![forbid(unsafe_code)]

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::buffers::with_buffers;
use super::client::{Client, Outcome};
use super::exchange::Exchange;
use super::now_ms;
use super::request::RequestInfo;
use crate::backend::Backend;
use crate::balancer::{AttemptResult, State, Traffic};
use crate::jklog::Level;
use crate::shm::{MemberRecord, SharedState};

/// One plain ajp13 worker in this process: its backend and, for the workers of `worker.list`,
/// its shared record.
pub struct PlainWorker {
    backend: Arc<Backend>,
    record: Option<(Arc<SharedState>, usize)>,
}

impl PlainWorker {
    /// The worker of `backend`, counted in the record `shared` has for it (if any).
    pub fn new(backend: Arc<Backend>, shared: &Arc<SharedState>) -> PlainWorker {
        let record = shared
            .layout()
            .plain_index(backend.name())
            .map(|index| (Arc::clone(shared), index));
        PlainWorker { backend, record }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The worker's shared record: `None` for a worker outside `worker.list`.
    pub fn record(&self) -> Option<&MemberRecord> {
        let (shared, index) = self.record.as_ref()?;
        shared.member(*index)
    }

    /// Serves `req` on this worker.
    pub fn forward(&self, req: &RequestInfo<'_>, client: &mut dyn Client) -> Outcome {
        serve(&self.backend, self.record(), req, client)
    }
}

/// Serves `req` on `backend`, keeping the figures in `record` when there is one. A worker over
/// its `busy_limit` refuses the request with 503 before any connection is made, as mod_jk's
/// `ajp_service` does (after encoding the request, so a 413 stays a 413).
pub(super) fn serve(
    backend: &Backend,
    record: Option<&MemberRecord>,
    req: &RequestInfo<'_>,
    client: &mut dyn Client,
) -> Outcome {
    with_buffers(|bufs| {
        let mut x = Exchange::new(backend, req, client, bufs);
        x.buffer_body(backend.settings.request_body_buffer);
        if let Err(outcome) = x.prepare() {
            return outcome;
        }
        // A plain worker has no lb route, and is active (`JK_LB_ACTIVATION` ACT, as mod_jk).
        if let Err((outcome, _)) = x.encode(None, b"ACT") {
            return outcome;
        }
        let Some(record) = record else {
            return x.send().0;
        };
        if !admit(record) {
            refused(record, now_ms());
            let limit = record.busy_limit();
            x.log(
                Level::Error,
                format_args!("busy limit {limit} reached: 503"),
            );
            return Outcome::Status(503);
        }
        let (outcome, kind) = x.send();
        let (written, read) = x.take_traffic();
        finish(record, kind.into(), Traffic { written, read }, now_ms);
        outcome
    })
}

/// Counts the request and, unless that puts the worker over its `busy_limit`, one more in
/// flight: `false` when the request must be refused (its busy count already taken back).
fn admit(record: &MemberRecord) -> bool {
    record.elected.fetch_add(1, Relaxed);
    record.try_enter()
}

/// A request refused at the busy limit: an error of the worker, as with mod_jk (errors and
/// error time), but not a change of its state.
fn refused(record: &MemberRecord, now_ms: u64) {
    note_error(record, now_ms);
}

fn note_error(record: &MemberRecord, now_ms: u64) {
    record.errors.fetch_add(1, Relaxed);
    if record.first_error_time.load(Relaxed) == 0 {
        record.first_error_time.store(now_ms, Relaxed);
    }
    record.last_error_time.store(now_ms, Relaxed);
}

/// The request [`admit`]ted ended with `result`; `now_ms` is read only if it failed.
fn finish(
    record: &MemberRecord,
    result: AttemptResult,
    traffic: Traffic,
    now_ms: impl FnOnce() -> u64,
) {
    record.leave();
    record.add_traffic(traffic.written, traffic.read);
    let set = |state: State| record.state.store(state.code(), Relaxed);
    let failed = |now_ms: u64| {
        note_error(record, now_ms);
        set(State::Error);
    };
    match result {
        AttemptResult::Success | AttemptResult::FailOnStatus { positive: false } => {
            set(State::Ok);
            record.first_error_time.store(0, Relaxed);
            record.last_error_time.store(0, Relaxed);
        }
        AttemptResult::ClientError => {
            record.client_errors.fetch_add(1, Relaxed);
        }
        AttemptResult::ReplyTimeout => {
            record.reply_timeouts.fetch_add(1, Relaxed);
            failed(now_ms());
        }
        AttemptResult::FailOnStatus { positive: true }
        | AttemptResult::BackendFailure
        | AttemptResult::Unreachable => failed(now_ms()),
        AttemptResult::LocalError
        | AttemptResult::BusyLimit
        | AttemptResult::NoConnection
        | AttemptResult::Unsendable => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ajp::{EncodeError, SendHeaders};
    use crate::config::AjpWorker;
    use crate::proxy::{ClientError, HeaderSink};
    use crate::shm::Layout;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn worker_on(port: u16, busy_limit: u32) -> PlainWorker {
        let mut ajp = AjpWorker::with_defaults("solo");
        ajp.port = port;
        ajp.busy_limit = busy_limit;
        let mut layout = Layout::new();
        layout.add_plain(&ajp).expect("fits");
        let shared = Arc::new(SharedState::create(None, &layout).expect("mapping"));
        PlainWorker::new(Arc::new(Backend::new(ajp, 2)), &shared)
    }

    fn worker(busy_limit: u32) -> PlainWorker {
        worker_on(8009, busy_limit)
    }

    fn state(record: &MemberRecord) -> State {
        State::from_code(record.state.load(Relaxed))
    }

    #[test]
    fn counts_requests_traffic_and_busy() {
        let w = worker(0);
        let record = w.record().expect("record");
        assert!(admit(record));
        assert_eq!(record.busy.load(Relaxed), 1);
        let traffic = Traffic {
            written: 10,
            read: 90,
        };
        finish(record, AttemptResult::Success, traffic, || 5);
        assert_eq!(record.busy.load(Relaxed), 0);
        assert_eq!(record.max_busy.load(Relaxed), 1);
        assert_eq!(record.elected.load(Relaxed), 1);
        let bytes = (record.transferred.load(Relaxed), record.read.load(Relaxed));
        assert_eq!(bytes, (10, 90));
        assert_eq!(state(record), State::Ok);
    }

    #[test]
    fn a_request_over_the_busy_limit_is_counted_but_not_admitted() {
        let w = worker(1);
        let record = w.record().expect("record");
        assert!(admit(record));
        assert!(
            !admit(record),
            "second concurrent request is over the limit"
        );
        assert_eq!(
            record.busy.load(Relaxed),
            1,
            "the refused one is not in flight"
        );
        assert_eq!(record.max_busy.load(Relaxed), 1, "nor in the peak");
        assert_eq!(record.elected.load(Relaxed), 2);
    }

    #[test]
    fn backend_failure_is_an_error_and_a_client_error_is_not() {
        let w = worker(0);
        let record = w.record().expect("record");
        admit(record);
        finish(record, AttemptResult::ClientError, Traffic::default(), || 7);
        assert_eq!(state(record), State::OkIdle);
        assert_eq!(record.client_errors.load(Relaxed), 1);
        admit(record);
        finish(
            record,
            AttemptResult::BackendFailure,
            Traffic::default(),
            || 9,
        );
        assert_eq!(state(record), State::Error);
        assert_eq!(record.errors.load(Relaxed), 1);
        assert_eq!(record.last_error_time.load(Relaxed), 9);
        admit(record);
        finish(record, AttemptResult::Success, Traffic::default(), || 11);
        assert_eq!(state(record), State::Ok);
        assert_eq!(record.first_error_time.load(Relaxed), 0);
    }

    #[test]
    fn a_worker_outside_worker_list_has_no_record_and_still_serves() {
        let layout = Layout::new();
        let shared = Arc::new(SharedState::create(None, &layout).expect("mapping"));
        let backend = Arc::new(Backend::new(AjpWorker::with_defaults("hidden"), 1));
        assert!(PlainWorker::new(backend, &shared).record().is_none());
    }

    /// A GET with no body; whatever comes back goes nowhere.
    struct Quiet;

    impl Client for Quiet {
        fn for_each_header(&self, _: &mut HeaderSink<'_, '_>) -> Result<(), EncodeError> {
            Ok(())
        }
        fn read_body(&mut self, _: &mut [u8]) -> Result<usize, ClientError> {
            Ok(0)
        }
        fn send_headers(
            &mut self,
            _: u16,
            _: &[u8],
            _: &SendHeaders<'_>,
            _: Option<u64>,
        ) -> Result<(), ClientError> {
            Ok(())
        }
        fn write_body(&mut self, _: &[u8]) -> Result<(), ClientError> {
            Ok(())
        }
        fn flush(&mut self) -> Result<(), ClientError> {
            Ok(())
        }
        fn abort(&mut self) {}
        fn set_routing_cookie(&mut self, _: &str) {}
        fn log_enabled(&self, _: Level) -> bool {
            true
        }
        fn log(&self, _: Level, _: std::fmt::Arguments<'_>) {}
    }

    fn get() -> RequestInfo<'static> {
        RequestInfo {
            method: b"GET",
            protocol: b"HTTP/1.1",
            uri: b"/app",
            ..RequestInfo::default()
        }
    }

    #[test]
    fn at_the_busy_limit_the_answer_is_503_and_the_backend_is_not_contacted() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let w = worker_on(listener.local_addr().expect("addr").port(), 1);
        let record = w.record().expect("record");
        assert!(admit(record), "one request in flight");
        let mut client = Quiet;
        assert_eq!(w.forward(&get(), &mut client), Outcome::Status(503));
        assert!(listener.accept().is_err(), "no connection was made");
        assert_eq!(record.busy.load(Relaxed), 1);
        assert_eq!(record.errors.load(Relaxed), 1);
        assert!(record.last_error_time.load(Relaxed) > 0);
        assert_eq!(state(record), State::OkIdle, "the state stays as it was");
    }

    /// Reads one FORWARD_REQUEST and answers 200 with an empty body.
    fn answer_once(listener: TcpListener) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut head = [0u8; 4];
            s.read_exact(&mut head).expect("header");
            let mut payload = vec![0u8; usize::from(u16::from_be_bytes([head[2], head[3]]))];
            s.read_exact(&mut payload).expect("payload");
            // SEND_HEADERS 200 "OK", no headers; END_RESPONSE, reuse.
            s.write_all(b"AB\x00\x0a\x04\x00\xc8\x00\x02OK\x00\x00\x00")
                .expect("headers");
            s.write_all(b"AB\x00\x02\x05\x01").expect("end");
        })
    }

    #[test]
    fn a_served_request_is_counted_with_its_traffic() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let w = worker_on(listener.local_addr().expect("addr").port(), 1);
        let peer = answer_once(listener);
        let mut client = Quiet;
        assert_eq!(w.forward(&get(), &mut client), Outcome::Sent);
        peer.join().expect("peer");
        let record = w.record().expect("record");
        assert_eq!(record.elected.load(Relaxed), 1);
        assert_eq!(record.busy.load(Relaxed), 0);
        assert_eq!(record.read.load(Relaxed), 14 + 6, "both packets");
        assert!(record.transferred.load(Relaxed) > 0);
        assert_eq!(state(record), State::Ok);
    }
}
