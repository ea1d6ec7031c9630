//! The settings one request uses of its worker: the configured ones with the status page's
//! run-time edits, which live in the worker's shared record (`shm::AjpSettings`, mod_jk's
//! `jk_shm_ajp_worker_t`). Each process keeps its own copy and checks per request, with one
//! relaxed load, whether the record's sequence moved; only then is the copy refreshed — by
//! one thread, the others go on with the copy they have (no lock, no allocation per request).
//!
//! A new host, port or packet size starts a new *epoch* (mod_jk's `addr_sequence`): the next
//! connection resolves the new address once, and pooled connections of an older epoch are
//! closed instead of reused (their receive buffers are sized for the old packet size, too).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::time::Duration;

use crate::ajp::{MAX_MAX_PACKET, MIN_MAX_PACKET};
use crate::config::{AjpWorker, PingMode};
use crate::shm::{AjpSettings, MemberRecord, Sequence, SharedState, ShortText, AJP_WORDS};

/// What a request uses of its worker's connection settings, as they are now. The times in
/// milliseconds stay as the record has them and become `Duration`s where they are used (most
/// requests use one or two of them: converting all five per request cost ~40 instructions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveSettings {
    /// Fixed per configuration: which CPings `ping_timeout` applies to without a value of
    /// their own.
    pub ping_mode: PingMode,
    pub connection_pool_timeout: Option<Duration>,
    ping_timeout_ms: u32,
    connect_timeout_ms: u32,
    prepost_timeout_ms: u32,
    reply_timeout_ms: u32,
    pub retries: u32,
    retry_interval_ms: u32,
    pub recovery_options: u32,
    pub max_packet_size: usize,
    pub connection_ping_interval: Option<Duration>,
}

/// Milliseconds as a time; 0 is "not set".
fn ms(v: u32) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(v.into()))
}

/// Seconds as a time; 0 is "not set".
fn secs(v: u32) -> Option<Duration> {
    (v > 0).then(|| Duration::from_secs(v.into()))
}

impl LiveSettings {
    /// `s` in the proxy's types; 0 is "not set" for the optional times.
    pub fn from_shared(s: &AjpSettings, ping_mode: PingMode) -> LiveSettings {
        LiveSettings {
            ping_mode,
            connection_pool_timeout: secs(s.connection_pool_timeout_s),
            ping_timeout_ms: s.ping_timeout_ms,
            connect_timeout_ms: s.connect_timeout_ms,
            prepost_timeout_ms: s.prepost_timeout_ms,
            reply_timeout_ms: s.reply_timeout_ms,
            retries: s.retries.max(1),
            retry_interval_ms: s.retry_interval_ms,
            recovery_options: s.recovery_options,
            max_packet_size: packet_size(s.max_packet_size),
            connection_ping_interval: secs(s.connection_ping_interval_s),
        }
    }

    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms.into())
    }

    pub fn connect_timeout(&self) -> Option<Duration> {
        ms(self.connect_timeout_ms)
    }

    pub fn prepost_timeout(&self) -> Option<Duration> {
        ms(self.prepost_timeout_ms)
    }

    pub fn reply_timeout(&self) -> Option<Duration> {
        ms(self.reply_timeout_ms)
    }

    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(self.retry_interval_ms.into())
    }
}

/// A record's packet size kept within what buffers are made for, whatever the record says.
fn packet_size(bytes: u32) -> usize {
    usize::try_from(bytes)
        .unwrap_or(MAX_MAX_PACKET)
        .clamp(MIN_MAX_PACKET, MAX_MAX_PACKET)
}

/// Where new connections of one epoch go, resolved on first use.
pub(crate) struct Destination {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) max_packet_size: usize,
    /// 0 for the configured destination, one more with every change.
    pub(crate) epoch: u64,
    pub(crate) addrs: OnceLock<Vec<SocketAddr>>,
}

impl Destination {
    fn new(host: String, port: u16, max_packet_size: usize, epoch: u64) -> Destination {
        Destination {
            host,
            port,
            max_packet_size,
            epoch,
            addrs: OnceLock::new(),
        }
    }
}

/// What a refresh changed, for the backend to apply to its pool.
pub(crate) struct Refreshed {
    pub(crate) idle_timeout: Option<Duration>,
    /// A new epoch began: idle connections of the old one are to be closed.
    pub(crate) new_epoch: bool,
}

/// One worker's settings in one process.
pub(crate) struct Live {
    /// The worker's shared record (its first one: every edit writes all of them).
    source: OnceLock<(Arc<SharedState>, usize)>,
    /// The record's sequence the copy was taken at; odd (never a value at rest) until then.
    seen: AtomicU64,
    /// The copy: [`AjpSettings::words`] under a seqlock of this process.
    copy: Sequence,
    words: [AtomicU32; AJP_WORDS],
    refreshing: Mutex<()>,
    ping_mode: PingMode,
    /// A Unix-socket worker's address never changes.
    fixed_address: bool,
    configured: Arc<Destination>,
    /// The destination once it differs from the configured one (`epoch` > 0).
    moved: Mutex<Option<Arc<Destination>>>,
    epoch: AtomicU64,
}

const NEVER_SEEN: u64 = u64::MAX;

impl Live {
    pub(crate) fn new(worker: &AjpWorker) -> Live {
        let settings = AjpSettings::from_config(worker);
        Live {
            source: OnceLock::new(),
            seen: AtomicU64::new(NEVER_SEEN),
            copy: Sequence::new(),
            words: settings.words().map(AtomicU32::new),
            refreshing: Mutex::new(()),
            ping_mode: worker.ping_mode,
            fixed_address: worker.unix_socket.is_some(),
            configured: Arc::new(Destination::new(
                worker.host.clone(),
                worker.port,
                worker.max_packet_size,
                0,
            )),
            moved: Mutex::new(None),
            epoch: AtomicU64::new(0),
        }
    }

    /// Follows record `index` of `shared` from now on.
    pub(crate) fn follow(&self, shared: Arc<SharedState>, index: usize) {
        let _ = self.source.set((shared, index));
    }

    /// The settings as this process has them now.
    pub(crate) fn current(&self) -> LiveSettings {
        let words = self
            .copy
            .read(|| std::array::from_fn(|i| self.words[i].load(Ordering::Relaxed)));
        LiveSettings::from_shared(
            &AjpSettings::from_words(ShortText::EMPTY, words),
            self.ping_mode,
        )
    }

    /// The per-request check: refreshes the copy when the record changed since it was taken
    /// and no other thread is at it. `Some` when this call refreshed it.
    pub(crate) fn check(&self) -> Option<Refreshed> {
        let (shared, index) = self.source.get()?;
        let record = shared.member(*index)?;
        if record.sequence.peek() == self.seen.load(Ordering::Relaxed) {
            return None;
        }
        let _one = match self.refreshing.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(self.refresh(record))
    }

    fn refresh(&self, record: &MemberRecord) -> Refreshed {
        // Taken before the copy: an edit in between only costs one more refresh.
        let sequence = record.sequence.peek();
        let s = record.ajp_settings();
        {
            let _edit = self.copy.write();
            for (slot, word) in self.words.iter().zip(s.words()) {
                slot.store(word, Ordering::Relaxed);
            }
        }
        let current = self.destination();
        let host = if s.host.is_empty() || self.fixed_address {
            current.host.as_str()
        } else {
            s.host.as_str()
        };
        let port = if self.fixed_address {
            current.port
        } else {
            s.port
        };
        let max_packet_size = packet_size(s.max_packet_size);
        let new_epoch = host != current.host
            || port != current.port
            || max_packet_size != current.max_packet_size;
        if new_epoch {
            let epoch = current.epoch + 1;
            let next = Destination::new(host.to_owned(), port, max_packet_size, epoch);
            *self.moved.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(next));
            self.epoch.store(epoch, Ordering::Release);
        }
        self.seen.store(sequence, Ordering::Relaxed);
        Refreshed {
            idle_timeout: LiveSettings::from_shared(&s, self.ping_mode).connection_pool_timeout,
            new_epoch,
        }
    }

    /// The epoch new connections belong to.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Where new connections go now. Until the first change, without a lock.
    pub(crate) fn destination(&self) -> Arc<Destination> {
        if self.epoch() == 0 {
            return Arc::clone(&self.configured);
        }
        let moved = self.moved.lock().unwrap_or_else(|p| p.into_inner());
        moved
            .as_ref()
            .map_or_else(|| Arc::clone(&self.configured), Arc::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::Layout;

    fn followed(worker: &AjpWorker) -> (Live, Arc<SharedState>) {
        let mut layout = Layout::new();
        layout.add_plain(worker).expect("fits");
        let shared = Arc::new(SharedState::create(None, &layout).expect("mapping"));
        let live = Live::new(worker);
        live.follow(Arc::clone(&shared), 0);
        (live, shared)
    }

    #[test]
    fn the_copy_is_refreshed_only_when_the_record_moved() {
        let worker = AjpWorker::with_defaults("w");
        let (live, shared) = followed(&worker);
        let first = live.check().expect("the first use takes the copy");
        assert!(!first.new_epoch, "the record holds the configuration");
        assert!(live.check().is_none(), "nothing changed: no refresh");
        let record = shared.member(0).expect("record");
        record.update_settings(|s| s.ajp.reply_timeout_ms = 1200);
        assert_eq!(live.current().reply_timeout(), None, "not before the check");
        let refreshed = live.check().expect("moved");
        assert!(!refreshed.new_epoch, "same address and packet size");
        assert_eq!(
            live.current().reply_timeout(),
            Some(Duration::from_millis(1200))
        );
        assert!(live.check().is_none());
        assert_eq!(live.epoch(), 0);
    }

    #[test]
    fn a_new_address_or_packet_size_starts_an_epoch() {
        let worker = AjpWorker::with_defaults("w");
        let (live, shared) = followed(&worker);
        let record = shared.member(0).expect("record");
        record.update_settings(|s| s.ajp.port = 8010);
        assert!(live.check().expect("moved").new_epoch);
        let d = live.destination();
        assert_eq!((d.host.as_str(), d.port, d.epoch), ("localhost", 8010, 1));
        record.update_settings(|s| s.ajp.max_packet_size = 16384);
        assert!(live.check().expect("moved").new_epoch);
        assert_eq!(live.destination().max_packet_size, 16384);
        assert_eq!(live.epoch(), 2);
    }

    #[test]
    fn a_record_packet_size_out_of_range_is_kept_within_buffers() {
        let mut s = AjpSettings::from_config(&AjpWorker::with_defaults("w"));
        s.max_packet_size = 1 << 30;
        let live = LiveSettings::from_shared(&s, PingMode::default());
        assert_eq!(live.max_packet_size, MAX_MAX_PACKET);
    }
}
