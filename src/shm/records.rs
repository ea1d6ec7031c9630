//! The `#[repr(C)]` records that live in the shared mapping — `Header`, one `LbRecord` per lb
//! worker, one `MemberRecord` per lb member and per plain ajp13 worker — made of atomics only
//! (no pointers, so they mean the same in every process), with the typed views (`LbSettings`,
//! `MemberSettings`) the status page edits at run time (mod_jk reference §4.1, §4.10, §5.2).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::ajp_settings::{AjpSettings, AJP_WORDS};
use super::error::ShmError;
use super::lock::ShmLock;
use super::text::{Sequence, SharedText, ShortText};
use crate::config::{Activation, AjpWorker, LbLock, LbMethod, LbWorker};

/// First eight bytes of every mapping.
pub const MAGIC: [u8; 8] = *b"JKRSSHM\0";
/// Bumped whenever a record changes shape or meaning (2: `Header::handover`; 3: the
/// connection settings and host of `MemberRecord`).
pub const LAYOUT_VERSION: u32 = 3;
/// `MemberRecord::lb` of a plain ajp13 worker (one that belongs to no lb).
pub const NO_LB: u32 = u32::MAX;

/// Start of the mapping: what it is, how big, and the global maintenance clock.
#[repr(C, align(64))]
pub struct Header {
    magic: AtomicU64,
    /// 1 for a fresh mapping; one more than the previous mapping's after a graceful restart.
    pub generation: AtomicU64,
    /// When global maintenance last ran (ms since the Unix epoch); the process that moves it
    /// forward with compare-exchange is the one that runs maintenance.
    pub last_maintain: AtomicU64,
    total_size: AtomicU64,
    layout_version: AtomicU32,
    lb_count: AtomicU32,
    member_count: AtomicU32,
    /// [`HANDOVER_ARMED`] between `SharedState::retain` and the one
    /// `SharedState::from_retained` that takes the mapping over; 0 otherwise. Lives in the
    /// mapping (not in a process) so that only one view can ever claim it.
    handover: AtomicU32,
}

/// `Header::handover` of a mapping described by a `RetainedShm` nobody has taken over yet.
const HANDOVER_ARMED: u32 = 0x4a4b_4844; // "JKHD"

impl Header {
    pub fn magic(&self) -> [u8; 8] {
        self.magic.load(Ordering::Relaxed).to_ne_bytes()
    }

    pub fn layout_version(&self) -> u32 {
        self.layout_version.load(Ordering::Relaxed)
    }

    pub fn total_size(&self) -> u64 {
        self.total_size.load(Ordering::Relaxed)
    }

    pub fn lb_count(&self) -> u32 {
        self.lb_count.load(Ordering::Relaxed)
    }

    pub fn member_count(&self) -> u32 {
        self.member_count.load(Ordering::Relaxed)
    }

    pub(crate) fn init(&self, total_size: usize, lbs: usize, members: usize, generation: u64) {
        self.magic
            .store(u64::from_ne_bytes(MAGIC), Ordering::Relaxed);
        self.layout_version.store(LAYOUT_VERSION, Ordering::Relaxed);
        self.total_size.store(total_size as u64, Ordering::Relaxed);
        self.lb_count.store(count(lbs), Ordering::Relaxed);
        self.member_count.store(count(members), Ordering::Relaxed);
        self.generation.store(generation, Ordering::Relaxed);
        self.last_maintain.store(0, Ordering::Relaxed);
        self.handover.store(0, Ordering::Relaxed);
    }

    /// Marks the mapping as handed over to the next generation (see `SharedState::retain`).
    pub(crate) fn arm_handover(&self) {
        self.handover.store(HANDOVER_ARMED, Ordering::Release);
    }

    /// Takes a handed-over mapping; true for exactly one caller per [`Header::arm_handover`],
    /// in whichever process (the mapping is shared, so two views cannot both win).
    pub(crate) fn claim_handover(&self) -> bool {
        self.handover
            .compare_exchange(HANDOVER_ARMED, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Whether the mapping waits to be taken over.
    pub fn handover_pending(&self) -> bool {
        self.handover.load(Ordering::Acquire) == HANDOVER_ARMED
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The lb settings the status page can change at run time (`vlr`, `vlri`, `vlt`, `vlee`,
/// `vlx`, `vls`, `vlf`, `vlm`, `vll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LbSettings {
    pub sticky_session: bool,
    pub sticky_session_force: bool,
    pub method: LbMethod,
    pub lock: LbLock,
    /// Rounds over the members (min 1).
    pub retries: u32,
    pub retry_interval_ms: u64,
    /// Time in ERR before a member is tried again (min 1000 ms).
    pub recover_time_ms: u64,
    pub error_escalation_time_ms: u64,
    pub max_reply_timeouts: u32,
}

impl LbSettings {
    pub fn from_config(lb: &LbWorker) -> LbSettings {
        LbSettings {
            sticky_session: lb.sticky_session,
            sticky_session_force: lb.sticky_session_force,
            method: lb.method,
            lock: lb.lock,
            retries: lb.retries,
            retry_interval_ms: millis(lb.retry_interval),
            recover_time_ms: millis(lb.recover_time),
            error_escalation_time_ms: millis(lb.error_escalation_time),
            max_reply_timeouts: lb.max_reply_timeouts,
        }
        .clamped()
    }

    /// mod_jk's lower bounds: retries ≥ 1, recover_time ≥ 1 s.
    fn clamped(mut self) -> LbSettings {
        self.retries = self.retries.max(1);
        self.recover_time_ms = self.recover_time_ms.max(1000);
        self
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Which settings of a record were changed at run time (so a graceful restart keeps them).
/// Which settings were edited at run time: one bit per setting ([`LbRecord::edited`],
/// [`MemberRecord::edited`]).
pub mod edited {
    pub const STICKY_SESSION: u64 = 1 << 0;
    pub const STICKY_SESSION_FORCE: u64 = 1 << 1;
    pub const METHOD: u64 = 1 << 2;
    pub const LOCK: u64 = 1 << 3;
    pub const RETRIES: u64 = 1 << 4;
    pub const RETRY_INTERVAL: u64 = 1 << 5;
    pub const RECOVER_TIME: u64 = 1 << 6;
    pub const ERROR_ESCALATION_TIME: u64 = 1 << 7;
    pub const MAX_REPLY_TIMEOUTS: u64 = 1 << 8;

    pub const ACTIVATION: u64 = 1 << 0;
    pub const LB_FACTOR: u64 = 1 << 1;
    pub const DISTANCE: u64 = 1 << 2;
    pub const BUSY_LIMIT: u64 = 1 << 3;
    pub const ROUTE: u64 = 1 << 4;
    pub const DOMAIN: u64 = 1 << 5;
    pub const REDIRECT: u64 = 1 << 6;
    /// The connection settings of an ajp13 worker (`vahst` … `vacpi`).
    pub const HOST: u64 = 1 << 7;
    pub const PORT: u64 = 1 << 8;
    pub const CONNECTION_POOL_TIMEOUT: u64 = 1 << 9;
    pub const PING_TIMEOUT: u64 = 1 << 10;
    pub const CONNECT_TIMEOUT: u64 = 1 << 11;
    pub const PREPOST_TIMEOUT: u64 = 1 << 12;
    pub const REPLY_TIMEOUT: u64 = 1 << 13;
    pub const AJP_RETRIES: u64 = 1 << 14;
    pub const AJP_RETRY_INTERVAL: u64 = 1 << 15;
    pub const RECOVERY_OPTIONS: u64 = 1 << 16;
    pub const MAX_PACKET_SIZE: u64 = 1 << 17;
    pub const CONNECTION_PING_INTERVAL: u64 = 1 << 18;
}

/// Bit `bit` if `old` and `new` differ.
fn changed<T: PartialEq>(old: T, new: T, bit: u64) -> u64 {
    if old == new {
        0
    } else {
        bit
    }
}

/// Shared state of one lb worker.
#[repr(C, align(64))]
pub struct LbRecord {
    /// Bumped by every run-time edit of the settings (odd while one is written).
    pub sequence: Sequence,
    /// When this lb's load values were last decayed (ms since the Unix epoch).
    pub last_maintain: AtomicU64,
    /// When the statistics were last reset (ms since the Unix epoch).
    pub last_reset: AtomicU64,
    recover_time_ms: AtomicU64,
    error_escalation_time_ms: AtomicU64,
    retry_interval_ms: AtomicU64,
    /// [`edited`] bits of settings changed at run time.
    edited: AtomicU64,
    /// Cross-process lock (pessimistic locking, maintenance, edits).
    pub lock: ShmLock,
    /// Requests in flight through this lb, all processes together.
    pub busy: AtomicU32,
    pub max_busy: AtomicU32,
    /// Where the next round-robin scan over the members starts.
    pub next_offset: AtomicU32,
    first_member: AtomicU32,
    member_count: AtomicU32,
    retries: AtomicU32,
    max_reply_timeouts: AtomicU32,
    sticky_session: AtomicU32,
    sticky_session_force: AtomicU32,
    method: AtomicU32,
    lock_mode: AtomicU32,
    name: SharedText,
}

impl LbRecord {
    pub fn name(&self) -> ShortText {
        self.sequence.read(|| self.name.load())
    }

    /// Index of the first [`MemberRecord`] of this lb, and how many it has.
    pub fn members(&self) -> (usize, usize) {
        (
            self.first_member.load(Ordering::Relaxed) as usize,
            self.member_count.load(Ordering::Relaxed) as usize,
        )
    }

    /// A consistent copy of the editable settings.
    /// The [`edited`] bits: settings changed at run time (the status page).
    pub fn edited(&self) -> u64 {
        self.edited.load(Ordering::Relaxed)
    }

    pub fn settings(&self) -> LbSettings {
        self.sequence.read(|| LbSettings {
            sticky_session: self.sticky_session.load(Ordering::Relaxed) != 0,
            sticky_session_force: self.sticky_session_force.load(Ordering::Relaxed) != 0,
            method: method_from_code(self.method.load(Ordering::Relaxed)),
            lock: lock_from_code(self.lock_mode.load(Ordering::Relaxed)),
            retries: self.retries.load(Ordering::Relaxed),
            retry_interval_ms: self.retry_interval_ms.load(Ordering::Relaxed),
            recover_time_ms: self.recover_time_ms.load(Ordering::Relaxed),
            error_escalation_time_ms: self.error_escalation_time_ms.load(Ordering::Relaxed),
            max_reply_timeouts: self.max_reply_timeouts.load(Ordering::Relaxed),
        })
    }

    /// Applies a run-time edit (status page): `edit` changes a copy, which is written back
    /// under the seqlock if anything changed. Returns whether it did.
    pub fn update_settings(&self, edit: impl FnOnce(&mut LbSettings)) -> bool {
        let old = self.settings();
        let mut new = old;
        edit(&mut new);
        let new = new.clamped();
        let bits = changed(
            old.sticky_session,
            new.sticky_session,
            edited::STICKY_SESSION,
        ) | changed(
            old.sticky_session_force,
            new.sticky_session_force,
            edited::STICKY_SESSION_FORCE,
        ) | changed(old.method, new.method, edited::METHOD)
            | changed(old.lock, new.lock, edited::LOCK)
            | changed(old.retries, new.retries, edited::RETRIES)
            | changed(
                old.retry_interval_ms,
                new.retry_interval_ms,
                edited::RETRY_INTERVAL,
            )
            | changed(
                old.recover_time_ms,
                new.recover_time_ms,
                edited::RECOVER_TIME,
            )
            | changed(
                old.error_escalation_time_ms,
                new.error_escalation_time_ms,
                edited::ERROR_ESCALATION_TIME,
            )
            | changed(
                old.max_reply_timeouts,
                new.max_reply_timeouts,
                edited::MAX_REPLY_TIMEOUTS,
            );
        if bits == 0 {
            return false;
        }
        let _edit = self.sequence.write();
        self.store_settings(&new);
        self.edited.fetch_or(bits, Ordering::Relaxed);
        true
    }

    fn store_settings(&self, s: &LbSettings) {
        self.sticky_session
            .store(u32::from(s.sticky_session), Ordering::Relaxed);
        self.sticky_session_force
            .store(u32::from(s.sticky_session_force), Ordering::Relaxed);
        self.method.store(method_code(s.method), Ordering::Relaxed);
        self.lock_mode.store(lock_code(s.lock), Ordering::Relaxed);
        self.retries.store(s.retries, Ordering::Relaxed);
        self.retry_interval_ms
            .store(s.retry_interval_ms, Ordering::Relaxed);
        self.recover_time_ms
            .store(s.recover_time_ms, Ordering::Relaxed);
        self.error_escalation_time_ms
            .store(s.error_escalation_time_ms, Ordering::Relaxed);
        self.max_reply_timeouts
            .store(s.max_reply_timeouts, Ordering::Relaxed);
    }

    /// Notes one more request in flight through this lb.
    pub fn enter(&self) {
        let busy = self.busy.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        self.max_busy.fetch_max(busy, Ordering::Relaxed);
    }

    /// Notes a request of this lb finished (never below zero).
    pub fn leave(&self) {
        decrement(&self.busy);
    }

    pub(crate) fn init(
        &self,
        name: &ShortText,
        settings: &LbSettings,
        first_member: usize,
        member_count: usize,
    ) {
        self.sequence.reset(0);
        self.name.store(name);
        self.store_settings(settings);
        self.first_member
            .store(count(first_member), Ordering::Relaxed);
        self.member_count
            .store(count(member_count), Ordering::Relaxed);
        self.edited.store(0, Ordering::Relaxed);
        self.lock.clear();
    }

    /// Graceful restart: takes the run-time state and the run-time edits of `old` (the same
    /// lb in the previous mapping); settings not edited at run time keep the new configuration.
    pub(crate) fn adopt(&self, old: &LbRecord) {
        let bits = old.edited.load(Ordering::Relaxed);
        let o = old.settings();
        let mut s = self.settings();
        take(
            &mut s.sticky_session,
            o.sticky_session,
            bits,
            edited::STICKY_SESSION,
        );
        take(
            &mut s.sticky_session_force,
            o.sticky_session_force,
            bits,
            edited::STICKY_SESSION_FORCE,
        );
        take(&mut s.method, o.method, bits, edited::METHOD);
        take(&mut s.lock, o.lock, bits, edited::LOCK);
        take(&mut s.retries, o.retries, bits, edited::RETRIES);
        take(
            &mut s.retry_interval_ms,
            o.retry_interval_ms,
            bits,
            edited::RETRY_INTERVAL,
        );
        take(
            &mut s.recover_time_ms,
            o.recover_time_ms,
            bits,
            edited::RECOVER_TIME,
        );
        take(
            &mut s.error_escalation_time_ms,
            o.error_escalation_time_ms,
            bits,
            edited::ERROR_ESCALATION_TIME,
        );
        take(
            &mut s.max_reply_timeouts,
            o.max_reply_timeouts,
            bits,
            edited::MAX_REPLY_TIMEOUTS,
        );
        self.store_settings(&s);
        self.edited.store(bits, Ordering::Relaxed);
        copy(&self.last_maintain, &old.last_maintain);
        copy(&self.last_reset, &old.last_reset);
        copy32(&self.max_busy, &old.max_busy);
        copy32(&self.next_offset, &old.next_offset);
        // `busy` stays 0: requests still in flight in old children count in the old mapping.
    }
}

/// Takes `old` into `field` when `bit` is set in `bits`.
fn take<T>(field: &mut T, old: T, bits: u64, bit: u64) {
    if bits & bit != 0 {
        *field = old;
    }
}

fn copy(to: &AtomicU64, from: &AtomicU64) {
    to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
}

fn copy32(to: &AtomicU32, from: &AtomicU32) {
    to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
}

fn decrement(counter: &AtomicU32) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

/// The settings the status page can change at run time: the member's (`vwa`, `vwf`, `vwd`,
/// `vwn`, `vwc`, `vwr`) and the ajp13 worker's (`vabl`, and `vahst` … `vacpi` in `ajp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberSettings {
    pub activation: Activation,
    /// Weight (min 1).
    pub lb_factor: u32,
    pub distance: u32,
    /// Most concurrent requests, 0 = no limit.
    pub busy_limit: u32,
    pub route: ShortText,
    pub domain: ShortText,
    pub redirect: ShortText,
    pub ajp: AjpSettings,
}

impl MemberSettings {
    /// The settings of `worker` as an lb member.
    pub fn from_config(worker: &AjpWorker) -> Result<MemberSettings, ShmError> {
        Ok(MemberSettings {
            activation: worker.activation,
            lb_factor: worker.lbfactor.max(1),
            distance: worker.distance,
            busy_limit: worker.busy_limit,
            route: ShortText::new(&worker.route)?,
            domain: ShortText::new(&worker.domain)?,
            redirect: ShortText::new(&worker.redirect)?,
            ajp: AjpSettings::from_config(worker),
        })
    }
}

/// Shared state of one lb member, or of one plain ajp13 worker.
#[repr(C, align(64))]
pub struct MemberRecord {
    /// Bumped by every run-time edit of the settings (odd while one is written).
    pub sequence: Sequence,
    /// Load value the balancer compares (meaning depends on the lb method).
    pub lb_value: AtomicU64,
    /// LCM of the lb's factors / this member's factor: what one unit of load adds.
    pub lb_mult: AtomicU64,
    /// Requests sent to this member ("used" / "Acc").
    pub elected: AtomicU64,
    /// `elected` at the previous global maintenance (OK → OK/IDLE when unchanged).
    pub elected_snapshot: AtomicU64,
    /// New sessions sent here.
    pub sessions: AtomicU64,
    pub errors: AtomicU64,
    pub client_errors: AtomicU64,
    /// Reply timeouts, halved with every maintenance interval.
    pub reply_timeouts: AtomicU64,
    /// Bytes sent to the backend.
    pub transferred: AtomicU64,
    /// Bytes read from the backend.
    pub read: AtomicU64,
    /// Start of the current run of errors (ms since the Unix epoch, 0 = none).
    pub first_error_time: AtomicU64,
    /// Latest error (ms since the Unix epoch, 0 = none).
    pub last_error_time: AtomicU64,
    /// When the statistics were last reset (ms since the Unix epoch).
    pub last_reset: AtomicU64,
    edited: AtomicU64,
    lb: AtomicU32,
    /// Member state code (0 OK/IDLE, 1 OK, 2 ERR/REC, 3 ERR/FRC, 4 OK/BUSY, 5 ERR, 6 ERR/PRB).
    pub state: AtomicU32,
    activation: AtomicU32,
    lb_factor: AtomicU32,
    distance: AtomicU32,
    /// Requests in flight on this member, all processes together.
    pub busy: AtomicU32,
    pub max_busy: AtomicU32,
    /// Open backend connections, all processes together.
    pub connected: AtomicU32,
    pub max_connected: AtomicU32,
    busy_limit: AtomicU32,
    /// [`AjpSettings`] but the host, as [`AjpSettings::words`] orders them.
    ajp: [AtomicU32; AJP_WORDS],
    _reserved: [AtomicU32; 1],
    name: SharedText,
    route: SharedText,
    domain: SharedText,
    redirect: SharedText,
    host: SharedText,
}

impl MemberRecord {
    /// The worker name (fixed for the life of the mapping).
    pub fn name(&self) -> ShortText {
        self.sequence.read(|| self.name.load())
    }

    /// Index of the owning [`LbRecord`], or `None` for a plain ajp13 worker.
    pub fn lb(&self) -> Option<usize> {
        match self.lb.load(Ordering::Relaxed) {
            NO_LB => None,
            index => Some(index as usize),
        }
    }

    /// The route, consistent even while the status page rewrites it.
    pub fn read_route(&self) -> ShortText {
        self.sequence.read(|| self.route.load())
    }

    /// Whether the route is `route` (compared in place, nothing copied).
    pub fn route_is(&self, route: &str) -> bool {
        self.sequence.read(|| self.route.equals(route.as_bytes()))
    }

    pub fn read_domain(&self) -> ShortText {
        self.sequence.read(|| self.domain.load())
    }

    pub fn read_redirect(&self) -> ShortText {
        self.sequence.read(|| self.redirect.load())
    }

    /// Activation as stored (no per-request override).
    pub fn activation(&self) -> Activation {
        activation_from_code(self.activation.load(Ordering::Relaxed))
    }

    pub fn lb_factor(&self) -> u32 {
        self.lb_factor.load(Ordering::Relaxed)
    }

    pub fn distance(&self) -> u32 {
        self.distance.load(Ordering::Relaxed)
    }

    pub fn busy_limit(&self) -> u32 {
        self.busy_limit.load(Ordering::Relaxed)
    }

    /// A consistent copy of the editable settings.
    /// The [`edited`] bits: settings changed at run time (the status page).
    pub fn edited(&self) -> u64 {
        self.edited.load(Ordering::Relaxed)
    }

    pub fn settings(&self) -> MemberSettings {
        self.sequence.read(|| MemberSettings {
            activation: activation_from_code(self.activation.load(Ordering::Relaxed)),
            lb_factor: self.lb_factor.load(Ordering::Relaxed),
            distance: self.distance.load(Ordering::Relaxed),
            busy_limit: self.busy_limit.load(Ordering::Relaxed),
            route: self.route.load(),
            domain: self.domain.load(),
            redirect: self.redirect.load(),
            ajp: self.load_ajp(),
        })
    }

    /// A consistent copy of the connection settings (what a process refreshes its own copy
    /// from when [`MemberRecord::sequence`] moved).
    pub fn ajp_settings(&self) -> AjpSettings {
        self.sequence.read(|| self.load_ajp())
    }

    /// Call inside [`Sequence::read`].
    fn load_ajp(&self) -> AjpSettings {
        let words = std::array::from_fn(|i| self.ajp[i].load(Ordering::Relaxed));
        AjpSettings::from_words(self.host.load(), words)
    }

    /// Applies a run-time edit: `edit` changes a copy, written back under the seqlock if
    /// anything changed. Returns whether it did. After a change of `lb_factor` the lb's
    /// multipliers must be recomputed ([`super::SharedState::recompute_multipliers`]).
    pub fn update_settings(&self, edit: impl FnOnce(&mut MemberSettings)) -> bool {
        let old = self.settings();
        let mut new = old;
        edit(&mut new);
        new.lb_factor = new.lb_factor.max(1);
        let bits = changed(old.activation, new.activation, edited::ACTIVATION)
            | changed(old.lb_factor, new.lb_factor, edited::LB_FACTOR)
            | changed(old.distance, new.distance, edited::DISTANCE)
            | changed(old.busy_limit, new.busy_limit, edited::BUSY_LIMIT)
            | changed(old.route, new.route, edited::ROUTE)
            | changed(old.domain, new.domain, edited::DOMAIN)
            | changed(old.redirect, new.redirect, edited::REDIRECT)
            | new.ajp.differences(&old.ajp);
        if bits == 0 {
            return false;
        }
        let _edit = self.sequence.write();
        self.store_settings(&new);
        self.edited.fetch_or(bits, Ordering::Relaxed);
        true
    }

    /// Sets the route (status page `vwn`).
    pub fn set_route(&self, route: &str) -> Result<bool, ShmError> {
        let route = ShortText::new(route)?;
        Ok(self.update_settings(|s| s.route = route))
    }

    /// Sets the domain (status page `vwc`).
    pub fn set_domain(&self, domain: &str) -> Result<bool, ShmError> {
        let domain = ShortText::new(domain)?;
        Ok(self.update_settings(|s| s.domain = domain))
    }

    /// Sets the redirect (status page `vwr`).
    pub fn set_redirect(&self, redirect: &str) -> Result<bool, ShmError> {
        let redirect = ShortText::new(redirect)?;
        Ok(self.update_settings(|s| s.redirect = redirect))
    }

    fn store_settings(&self, s: &MemberSettings) {
        self.activation
            .store(activation_code(s.activation), Ordering::Relaxed);
        self.lb_factor.store(s.lb_factor, Ordering::Relaxed);
        self.distance.store(s.distance, Ordering::Relaxed);
        self.busy_limit.store(s.busy_limit, Ordering::Relaxed);
        self.route.store(&s.route);
        self.domain.store(&s.domain);
        self.redirect.store(&s.redirect);
        self.host.store(&s.ajp.host);
        for (slot, word) in self.ajp.iter().zip(s.ajp.words()) {
            slot.store(word, Ordering::Relaxed);
        }
    }

    /// Notes one more request in flight; returns the new count.
    pub fn enter(&self) -> u32 {
        let busy = self.busy.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        self.max_busy.fetch_max(busy, Ordering::Relaxed);
        busy
    }

    /// Notes one more request in flight unless that makes more than `busy_limit` (mod_jk's
    /// check for plain workers): `false`, with nothing counted, when it would.
    pub fn try_enter(&self) -> bool {
        let busy = self.busy.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let limit = self.busy_limit();
        if limit > 0 && busy > limit {
            self.leave();
            return false;
        }
        self.max_busy.fetch_max(busy, Ordering::Relaxed);
        true
    }

    /// Notes a request finished (never below zero).
    pub fn leave(&self) {
        decrement(&self.busy);
    }

    /// Notes a backend connection opened.
    pub fn connection_opened(&self) {
        let connected = self
            .connected
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        self.max_connected.fetch_max(connected, Ordering::Relaxed);
    }

    /// Notes a backend connection closed (never below zero).
    pub fn connection_closed(&self) {
        decrement(&self.connected);
    }

    /// Adds one request's bytes: `written` to the backend, `read` from it.
    pub fn add_traffic(&self, written: u64, read: u64) {
        self.transferred.fetch_add(written, Ordering::Relaxed);
        self.read.fetch_add(read, Ordering::Relaxed);
    }

    /// Zeroes the statistics (status page `reset`); settings and state stay.
    pub fn reset_statistics(&self, now_ms: u64) {
        for counter in [
            &self.elected,
            &self.elected_snapshot,
            &self.sessions,
            &self.errors,
            &self.client_errors,
            &self.reply_timeouts,
            &self.transferred,
            &self.read,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.max_busy
            .store(self.busy.load(Ordering::Relaxed), Ordering::Relaxed);
        self.max_connected
            .store(self.connected.load(Ordering::Relaxed), Ordering::Relaxed);
        self.last_reset.store(now_ms, Ordering::Relaxed);
    }

    pub(crate) fn init(
        &self,
        name: &ShortText,
        lb: Option<usize>,
        settings: &MemberSettings,
        lb_mult: u64,
    ) {
        self.sequence.reset(0);
        self.name.store(name);
        self.lb.store(
            lb.map_or(NO_LB, |i| u32::try_from(i).unwrap_or(NO_LB)),
            Ordering::Relaxed,
        );
        self.store_settings(settings);
        self.lb_mult.store(lb_mult, Ordering::Relaxed);
        self.edited.store(0, Ordering::Relaxed);
        // Everything else starts at zero (OK/IDLE, no errors), as the mapping came zeroed.
    }

    /// Graceful restart: takes the run-time state, counters and run-time edits of `old` (the
    /// same member in the previous mapping); settings not edited at run time keep the new
    /// configuration. `lb_mult` is left for the caller to recompute.
    pub(crate) fn adopt(&self, old: &MemberRecord) {
        let bits = old.edited.load(Ordering::Relaxed);
        let o = old.settings();
        let mut s = self.settings();
        take(&mut s.activation, o.activation, bits, edited::ACTIVATION);
        take(&mut s.lb_factor, o.lb_factor, bits, edited::LB_FACTOR);
        take(&mut s.distance, o.distance, bits, edited::DISTANCE);
        take(&mut s.busy_limit, o.busy_limit, bits, edited::BUSY_LIMIT);
        take(&mut s.route, o.route, bits, edited::ROUTE);
        take(&mut s.domain, o.domain, bits, edited::DOMAIN);
        take(&mut s.redirect, o.redirect, bits, edited::REDIRECT);
        s.ajp = s.ajp.taking(&o.ajp, bits);
        self.store_settings(&s);
        self.edited.store(bits, Ordering::Relaxed);
        for (to, from) in [
            (&self.lb_value, &old.lb_value),
            (&self.elected, &old.elected),
            (&self.elected_snapshot, &old.elected_snapshot),
            (&self.sessions, &old.sessions),
            (&self.errors, &old.errors),
            (&self.client_errors, &old.client_errors),
            (&self.reply_timeouts, &old.reply_timeouts),
            (&self.transferred, &old.transferred),
            (&self.read, &old.read),
            (&self.first_error_time, &old.first_error_time),
            (&self.last_error_time, &old.last_error_time),
            (&self.last_reset, &old.last_reset),
        ] {
            copy(to, from);
        }
        copy32(&self.state, &old.state);
        copy32(&self.max_busy, &old.max_busy);
        copy32(&self.max_connected, &old.max_connected);
        // `busy` and `connected` stay 0: old children keep counting theirs in the old mapping.
    }
}

/// mod_jk's activation codes: 0 active, 1 disabled, 2 stopped.
pub fn activation_code(activation: Activation) -> u32 {
    match activation {
        Activation::Active => 0,
        Activation::Disabled => 1,
        Activation::Stopped => 2,
    }
}

/// Unknown codes read as mod_jk's default, active.
pub fn activation_from_code(code: u32) -> Activation {
    match code {
        1 => Activation::Disabled,
        2 => Activation::Stopped,
        _ => Activation::Active,
    }
}

/// mod_jk's method codes: 0 Request, 1 Traffic, 2 Busyness, 3 Sessions, 4 Next.
pub fn method_code(method: LbMethod) -> u32 {
    match method {
        LbMethod::Request => 0,
        LbMethod::Traffic => 1,
        LbMethod::Busyness => 2,
        LbMethod::Sessions => 3,
        LbMethod::Next => 4,
    }
}

/// Unknown codes read as mod_jk's default, Request.
pub fn method_from_code(code: u32) -> LbMethod {
    match code {
        1 => LbMethod::Traffic,
        2 => LbMethod::Busyness,
        3 => LbMethod::Sessions,
        4 => LbMethod::Next,
        _ => LbMethod::Request,
    }
}

/// mod_jk's lock codes: 0 Optimistic, 1 Pessimistic.
pub fn lock_code(lock: LbLock) -> u32 {
    match lock {
        LbLock::Optimistic => 0,
        LbLock::Pessimistic => 1,
    }
}

pub fn lock_from_code(code: u32) -> LbLock {
    match code {
        1 => LbLock::Pessimistic,
        _ => LbLock::Optimistic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn records_have_the_documented_sizes_and_cache_line_alignment() {
        assert_eq!(size_of::<Header>(), 64);
        assert_eq!(size_of::<LbRecord>(), 192);
        assert_eq!(size_of::<MemberRecord>(), 576);
        assert_eq!(align_of::<Header>(), 64);
        assert_eq!(align_of::<LbRecord>(), 64);
        assert_eq!(align_of::<MemberRecord>(), 64);
    }

    #[test]
    fn header_fields_sit_at_their_offsets() {
        assert_eq!(offset_of!(Header, magic), 0);
        assert_eq!(offset_of!(Header, generation), 8);
        assert_eq!(offset_of!(Header, last_maintain), 16);
        assert_eq!(offset_of!(Header, total_size), 24);
        assert_eq!(offset_of!(Header, layout_version), 32);
        assert_eq!(offset_of!(Header, lb_count), 36);
        assert_eq!(offset_of!(Header, member_count), 40);
        assert_eq!(offset_of!(Header, handover), 44);
    }

    #[test]
    fn lb_record_fields_sit_at_their_offsets() {
        assert_eq!(offset_of!(LbRecord, sequence), 0);
        assert_eq!(offset_of!(LbRecord, last_maintain), 8);
        assert_eq!(offset_of!(LbRecord, last_reset), 16);
        assert_eq!(offset_of!(LbRecord, recover_time_ms), 24);
        assert_eq!(offset_of!(LbRecord, error_escalation_time_ms), 32);
        assert_eq!(offset_of!(LbRecord, retry_interval_ms), 40);
        assert_eq!(offset_of!(LbRecord, edited), 48);
        assert_eq!(offset_of!(LbRecord, lock), 56);
        assert_eq!(offset_of!(LbRecord, busy), 60);
        assert_eq!(offset_of!(LbRecord, max_busy), 64);
        assert_eq!(offset_of!(LbRecord, next_offset), 68);
        assert_eq!(offset_of!(LbRecord, first_member), 72);
        assert_eq!(offset_of!(LbRecord, member_count), 76);
        assert_eq!(offset_of!(LbRecord, retries), 80);
        assert_eq!(offset_of!(LbRecord, max_reply_timeouts), 84);
        assert_eq!(offset_of!(LbRecord, sticky_session), 88);
        assert_eq!(offset_of!(LbRecord, sticky_session_force), 92);
        assert_eq!(offset_of!(LbRecord, method), 96);
        assert_eq!(offset_of!(LbRecord, lock_mode), 100);
        assert_eq!(offset_of!(LbRecord, name), 104);
    }

    #[test]
    fn member_record_fields_sit_at_their_offsets() {
        let u64_fields = [
            offset_of!(MemberRecord, sequence),
            offset_of!(MemberRecord, lb_value),
            offset_of!(MemberRecord, lb_mult),
            offset_of!(MemberRecord, elected),
            offset_of!(MemberRecord, elected_snapshot),
            offset_of!(MemberRecord, sessions),
            offset_of!(MemberRecord, errors),
            offset_of!(MemberRecord, client_errors),
            offset_of!(MemberRecord, reply_timeouts),
            offset_of!(MemberRecord, transferred),
            offset_of!(MemberRecord, read),
            offset_of!(MemberRecord, first_error_time),
            offset_of!(MemberRecord, last_error_time),
            offset_of!(MemberRecord, last_reset),
            offset_of!(MemberRecord, edited),
        ];
        assert_eq!(u64_fields, std::array::from_fn(|i| i * 8));
        let u32_fields = [
            offset_of!(MemberRecord, lb),
            offset_of!(MemberRecord, state),
            offset_of!(MemberRecord, activation),
            offset_of!(MemberRecord, lb_factor),
            offset_of!(MemberRecord, distance),
            offset_of!(MemberRecord, busy),
            offset_of!(MemberRecord, max_busy),
            offset_of!(MemberRecord, connected),
            offset_of!(MemberRecord, max_connected),
            offset_of!(MemberRecord, busy_limit),
            offset_of!(MemberRecord, ajp),
        ];
        assert_eq!(u32_fields, std::array::from_fn(|i| 120 + i * 4));
        assert_eq!(offset_of!(MemberRecord, _reserved), 160 + AJP_WORDS * 4);
        assert_eq!(offset_of!(MemberRecord, name), 208);
        assert_eq!(offset_of!(MemberRecord, route), 272);
        assert_eq!(offset_of!(MemberRecord, domain), 336);
        assert_eq!(offset_of!(MemberRecord, redirect), 400);
        assert_eq!(offset_of!(MemberRecord, host), 464);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_read_as_mod_jk_defaults() {
        for a in [
            Activation::Active,
            Activation::Disabled,
            Activation::Stopped,
        ] {
            assert_eq!(activation_from_code(activation_code(a)), a);
        }
        for m in [
            LbMethod::Request,
            LbMethod::Traffic,
            LbMethod::Busyness,
            LbMethod::Sessions,
            LbMethod::Next,
        ] {
            assert_eq!(method_from_code(method_code(m)), m);
        }
        for l in [LbLock::Optimistic, LbLock::Pessimistic] {
            assert_eq!(lock_from_code(lock_code(l)), l);
        }
        assert_eq!(activation_from_code(9), Activation::Active);
        assert_eq!(method_from_code(77), LbMethod::Request);
        assert_eq!(lock_from_code(5), LbLock::Optimistic);
        assert_eq!(
            (
                method_code(LbMethod::Next),
                activation_code(Activation::Stopped)
            ),
            (4, 2)
        );
    }
}
