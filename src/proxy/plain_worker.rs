//! Plain ajp13 workers (mapped directly, not behind an lb): their busy count, `busy_limit`
//! check, traffic and error counters and OK/ERR state in shared memory, so the status page
//! shows them like lb members. No balancing and no recovery rules: the backend layer
//! retries on its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::balancer::{AttemptResult, State, Traffic};
use crate::shm::{MemberRecord, SharedState};

/// One plain ajp13 worker's shared record.
pub struct PlainWorker {
    shared: Arc<SharedState>,
    record: usize,
}

impl PlainWorker {
    /// The worker called `name`, if the shared memory has a record for it.
    pub fn new(shared: Arc<SharedState>, name: &str) -> Option<PlainWorker> {
        let record = shared.layout().plain_index(name)?;
        Some(PlainWorker { shared, record })
    }

    pub fn record(&self) -> Option<&MemberRecord> {
        self.shared.member(self.record)
    }

    /// A request is about to be sent; true when that puts the worker over its `busy_limit`
    /// (the request should then be answered 503 and finished as [`AttemptResult::BusyLimit`]).
    pub fn start(&self) -> bool {
        let Some(record) = self.record() else {
            return false;
        };
        record.elected.fetch_add(1, Ordering::Relaxed);
        let busy = record.enter();
        let limit = record.busy_limit();
        limit > 0 && busy > limit
    }

    /// The request started with [`PlainWorker::start`] ended.
    pub fn finish(&self, result: AttemptResult, traffic: Traffic, now_ms: u64) {
        let Some(record) = self.record() else {
            return;
        };
        record.leave();
        record.add_traffic(traffic.written, traffic.read);
        let set = |state: State| record.state.store(state.code(), Ordering::Relaxed);
        let failed = |record: &MemberRecord| {
            record.errors.fetch_add(1, Ordering::Relaxed);
            if record.first_error_time.load(Ordering::Relaxed) == 0 {
                record.first_error_time.store(now_ms, Ordering::Relaxed);
            }
            record.last_error_time.store(now_ms, Ordering::Relaxed);
            set(State::Error);
        };
        match result {
            AttemptResult::Success | AttemptResult::FailOnStatus { positive: false } => {
                set(State::Ok);
                record.first_error_time.store(0, Ordering::Relaxed);
                record.last_error_time.store(0, Ordering::Relaxed);
            }
            AttemptResult::ClientError => {
                record.client_errors.fetch_add(1, Ordering::Relaxed);
            }
            AttemptResult::ReplyTimeout => {
                record.reply_timeouts.fetch_add(1, Ordering::Relaxed);
                failed(record);
            }
            AttemptResult::FailOnStatus { positive: true }
            | AttemptResult::BackendFailure
            | AttemptResult::Unreachable => {
                failed(record);
            }
            AttemptResult::LocalError | AttemptResult::BusyLimit | AttemptResult::NoConnection => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AjpWorker;
    use crate::shm::Layout;

    fn worker(busy_limit: u32) -> PlainWorker {
        let mut ajp = AjpWorker::with_defaults("solo");
        ajp.busy_limit = busy_limit;
        let mut layout = Layout::new();
        layout.add_plain(&ajp).expect("fits");
        let shared = Arc::new(SharedState::create(None, &layout).expect("mapping"));
        PlainWorker::new(shared, "solo").expect("laid out")
    }

    fn state(w: &PlainWorker) -> State {
        State::from_code(w.record().map_or(99, |r| r.state.load(Ordering::Relaxed)))
    }

    #[test]
    fn counts_requests_traffic_and_busy() {
        let w = worker(0);
        assert!(!w.start());
        let record = w.record().expect("record");
        assert_eq!(record.busy.load(Ordering::Relaxed), 1);
        w.finish(
            AttemptResult::Success,
            Traffic {
                written: 10,
                read: 90,
            },
            5,
        );
        assert_eq!(record.busy.load(Ordering::Relaxed), 0);
        assert_eq!(record.max_busy.load(Ordering::Relaxed), 1);
        assert_eq!(record.elected.load(Ordering::Relaxed), 1);
        assert_eq!(
            (
                record.transferred.load(Ordering::Relaxed),
                record.read.load(Ordering::Relaxed)
            ),
            (10, 90)
        );
        assert_eq!(state(&w), State::Ok);
    }

    #[test]
    fn busy_limit_is_reported_when_exceeded() {
        let w = worker(1);
        assert!(!w.start());
        assert!(w.start(), "second concurrent request is over the limit");
    }

    #[test]
    fn backend_failure_is_an_error_and_a_client_error_is_not() {
        let w = worker(0);
        w.start();
        w.finish(AttemptResult::ClientError, Traffic::default(), 7);
        assert_eq!(state(&w), State::OkIdle);
        let record = w.record().expect("record");
        assert_eq!(record.client_errors.load(Ordering::Relaxed), 1);
        w.start();
        w.finish(AttemptResult::BackendFailure, Traffic::default(), 9);
        assert_eq!(state(&w), State::Error);
        assert_eq!(record.errors.load(Ordering::Relaxed), 1);
        assert_eq!(record.last_error_time.load(Ordering::Relaxed), 9);
        w.start();
        w.finish(AttemptResult::Success, Traffic::default(), 11);
        assert_eq!(state(&w), State::Ok);
        assert_eq!(record.first_error_time.load(Ordering::Relaxed), 0);
    }
}
