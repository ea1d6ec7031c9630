//! `SharedState`: the mapping of one configuration generation, laid out by a `Layout` and
//! filled with its starting values; the accessors every process uses; the global maintenance
//! election; and the hand-over of run-time state to the next generation on graceful restart.

use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::error::ShmError;
use super::layout::{factors_lcm, lb_multiplier, Layout};
use super::mapping::Mapping;
use super::records::{Header, LbRecord, MemberRecord};

/// State shared by all httpd children: made by the parent before it forks, so every child
/// sees the same records at the same addresses.
pub struct SharedState {
    pub(super) mapping: Mapping,
    pub(super) layout: Layout,
    /// Where the records lie in `mapping`, checked once (see [`Records`]).
    records: Records,
}

/// The header, lb and member records of a mapping, found and checked (inside the mapping,
/// aligned) once when the [`SharedState`] is made, so that the accessors every request calls
/// many times are a load each rather than the checks again.
struct Records {
    header: NonNull<Header>,
    lbs: NonNull<LbRecord>,
    lb_count: usize,
    members: NonNull<MemberRecord>,
    member_count: usize,
}

// SAFETY: the pointers lead into the SharedState's own mapping, whose records are made of
// atomics only (SharedRecord); Mapping itself is Send and Sync for the same reason.
unsafe impl Send for Records {}
// SAFETY: as above.
unsafe impl Sync for Records {}

impl SharedState {
    /// A fresh mapping for `layout`: anonymous, or backed by a new 0600 file at `path`
    /// (`JkShmFile`; an existing file there is replaced only if it is a plain file of ours that
    /// group and others cannot write).
    pub fn create(path: Option<&Path>, layout: &Layout) -> Result<SharedState, ShmError> {
        let size = layout.size()?;
        let mapping = match path {
            Some(path) => Mapping::file(path, size)?,
            None => Mapping::anonymous(size)?,
        };
        let state = SharedState::over(mapping, layout.clone()).ok_or(ShmError::TooLarge)?;
        state.initialise();
        Ok(state)
    }

    /// The state over `mapping` laid out by `layout`; `None` if the mapping cannot hold the
    /// records the layout places in it.
    pub(super) fn over(mapping: Mapping, layout: Layout) -> Option<SharedState> {
        let header = mapping.records::<Header>(0, 1)?.first()?;
        let lbs = mapping.records::<LbRecord>(layout.lb_offset(0)?, layout.lbs().len())?;
        let members =
            mapping.records::<MemberRecord>(layout.member_offset(0)?, layout.members().len())?;
        let records = Records {
            header: NonNull::from(header),
            lbs: NonNull::from(lbs).cast(),
            lb_count: lbs.len(),
            members: NonNull::from(members).cast(),
            member_count: members.len(),
        };
        Some(SharedState {
            mapping,
            layout,
            records,
        })
    }

    /// Graceful restart: a fresh mapping for the new `layout` that keeps, for every lb and
    /// member whose name still exists, the counters, states and run-time edits of `old`
    /// (see [`SharedState::copy_state_from`]). Drop `old` once the previous generation's
    /// children no longer use it.
    pub fn adopt(
        old: &SharedState,
        path: Option<&Path>,
        layout: &Layout,
    ) -> Result<SharedState, ShmError> {
        let new = SharedState::create(path, layout)?;
        new.copy_state_from(old);
        Ok(new)
    }

    /// Copies run-time state from the previous generation: lbs are matched by name, members
    /// by (lb name, member name), plain workers by name. Taken over: state, load value, error
    /// times, counters, maxima, the rotation offset, the maintenance clock, and every
    /// setting that was edited at run time (settings not edited keep the new configuration's
    /// value). Not taken over: busy and connection counts, and Busyness load values (old
    /// children still count their requests in the old mapping). Members new to an lb start
    /// at its largest load value. Multipliers are recomputed from the resulting factors.
    pub fn copy_state_from(&self, old: &SharedState) {
        let old_header = old.header();
        let header = self.header();
        header.generation.store(
            old_header
                .generation
                .load(Ordering::Relaxed)
                .wrapping_add(1),
            Ordering::Relaxed,
        );
        header.last_maintain.store(
            old_header.last_maintain.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        for (index, spec) in self.layout.lbs().iter().enumerate() {
            let Some(old_index) = old.layout.lb_index(spec.name.as_str()) else {
                continue;
            };
            if let (Some(lb), Some(old_lb)) = (self.lb(index), old.lb(old_index)) {
                lb.adopt(old_lb);
            }
            let mut fresh = Vec::new();
            for member_index in spec.first_member..spec.first_member + spec.member_count {
                let Some(member_spec) = self.layout.members().get(member_index) else {
                    continue;
                };
                let old_member = old
                    .layout
                    .member_index(old_index, member_spec.name.as_str())
                    .and_then(|i| old.member(i));
                match (self.member(member_index), old_member) {
                    (Some(member), Some(old_member)) => member.adopt(old_member),
                    (Some(member), None) => fresh.push(member),
                    _ => {}
                }
            }
            self.settle_load_values(index, &fresh);
        }
        for (index, spec) in self.layout.members().iter().enumerate() {
            if spec.lb.is_some() {
                continue;
            }
            let old_member = old
                .layout
                .plain_index(spec.name.as_str())
                .and_then(|i| old.member(i));
            if let (Some(member), Some(old_member)) = (self.member(index), old_member) {
                member.adopt(old_member);
            }
        }
        for lb in 0..self.layout.lbs().len() {
            self.recompute_multipliers(lb);
        }
    }

    /// Load values after a hand-over. Busyness counts requests in flight, and those belong
    /// to the old generation (its children finish them in the old mapping): start from zero.
    /// Other methods keep the adopted values; members new to the lb start at the largest of
    /// them, so they are not flooded until they catch up (as mod_jk does for a recovered
    /// member).
    fn settle_load_values(&self, lb: usize, fresh: &[&MemberRecord]) {
        let members = self.lb_members(lb);
        let method = self.lb(lb).map(|r| r.settings().method);
        if method == Some(crate::config::LbMethod::Busyness) {
            for member in members {
                member.lb_value.store(0, Ordering::Relaxed);
            }
            return;
        }
        let curmax = members
            .iter()
            .map(|m| m.lb_value.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        for member in fresh {
            member.lb_value.store(curmax, Ordering::Relaxed);
        }
    }

    fn initialise(&self) {
        self.header().init(
            self.mapping.len(),
            self.layout.lbs().len(),
            self.layout.members().len(),
            1,
        );
        for (index, spec) in self.layout.lbs().iter().enumerate() {
            if let Some(lb) = self.lb(index) {
                lb.init(
                    &spec.name,
                    &spec.settings,
                    spec.first_member,
                    spec.member_count,
                );
            }
            let members = self
                .layout
                .members()
                .get(spec.first_member..spec.first_member + spec.member_count)
                .unwrap_or(&[]);
            let lcm = factors_lcm(members.iter().map(|m| m.settings.lb_factor));
            for (offset, member_spec) in members.iter().enumerate() {
                if let Some(member) = self.member(spec.first_member + offset) {
                    member.init(
                        &member_spec.name,
                        Some(index),
                        &member_spec.settings,
                        lb_multiplier(lcm, member_spec.settings.lb_factor),
                    );
                }
            }
        }
        for (index, spec) in self.layout.members().iter().enumerate() {
            if spec.lb.is_none() {
                if let Some(member) = self.member(index) {
                    member.init(&spec.name, None, &spec.settings, 1);
                }
            }
        }
    }

    /// Starts the clocks of a new mapping (global maintenance, per-lb decay, statistics
    /// reset times) at `now_ms` where they have not started yet. Call once after
    /// [`SharedState::create`] / [`SharedState::adopt`], before forking.
    pub fn start_clock(&self, now_ms: u64) {
        let start = |clock: &std::sync::atomic::AtomicU64| {
            let _ = clock.compare_exchange(0, now_ms, Ordering::AcqRel, Ordering::Relaxed);
        };
        start(&self.header().last_maintain);
        for lb in self.lbs() {
            start(&lb.last_maintain);
            start(&lb.last_reset);
        }
        for member in self.members() {
            start(&member.last_reset);
        }
    }

    /// Global maintenance election: true for exactly one caller, across all processes, per
    /// `interval_ms` (`worker.maintain`; 0 disables maintenance). The winner moves the shared
    /// timestamp to `now_ms` with compare-exchange and then runs the maintenance.
    pub fn elect_maintenance(&self, now_ms: u64, interval_ms: u64) -> bool {
        if interval_ms == 0 {
            return false;
        }
        let clock = &self.header().last_maintain;
        let last = clock.load(Ordering::Acquire);
        if last == 0 {
            // Clock never started: start it now, maintain one interval later.
            let _ = clock.compare_exchange(0, now_ms, Ordering::AcqRel, Ordering::Relaxed);
            return false;
        }
        if now_ms.saturating_sub(last) < interval_ms {
            return false;
        }
        clock
            .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Recomputes `lb_mult` of every member of lb `lb` from the current factors (after a
    /// run-time `lbfactor` edit or a restart).
    pub fn recompute_multipliers(&self, lb: usize) {
        let members = self.lb_members(lb);
        let lcm = factors_lcm(members.iter().map(MemberRecord::lb_factor));
        for member in members {
            member
                .lb_mult
                .store(lb_multiplier(lcm, member.lb_factor()), Ordering::Relaxed);
        }
    }

    pub fn header(&self) -> &Header {
        // SAFETY: `records` was taken from `self.mapping` by `over`, checked to lie inside it
        // and aligned; the mapping stays mapped while `self` lives and is never replaced.
        unsafe { self.records.header.as_ref() }
    }

    /// All lb records, in [`Layout::lbs`] order.
    pub fn lbs(&self) -> &[LbRecord] {
        // SAFETY: as in `header`: `lb_count` records at `lbs`, checked by `over`.
        unsafe { std::slice::from_raw_parts(self.records.lbs.as_ptr(), self.records.lb_count) }
    }

    /// All member records, in [`Layout::members`] order.
    pub fn members(&self) -> &[MemberRecord] {
        let r = &self.records;
        // SAFETY: as in `header`: `member_count` records at `members`, checked by `over`.
        unsafe { std::slice::from_raw_parts(r.members.as_ptr(), r.member_count) }
    }

    pub fn lb(&self, index: usize) -> Option<&LbRecord> {
        self.lbs().get(index)
    }

    pub fn member(&self, index: usize) -> Option<&MemberRecord> {
        self.members().get(index)
    }

    /// The member records of lb `lb`, side by side (empty for an unknown lb).
    pub fn lb_members(&self, lb: usize) -> &[MemberRecord] {
        self.layout
            .lbs()
            .get(lb)
            .and_then(|spec| {
                self.members()
                    .get(spec.first_member..spec.first_member + spec.member_count)
            })
            .unwrap_or(&[])
    }

    /// What this mapping holds (names, indices, starting values).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The backing file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.mapping.path()
    }

    /// Size of the mapping in bytes.
    pub fn size(&self) -> usize {
        self.mapping.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, AjpWorker, LbWorker};
    use crate::shm::process::in_child;
    use crate::shm::records::edited;
    use crate::shm::records::MAGIC;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::PathBuf;
    use std::sync::atomic::AtomicUsize;

    fn member(name: &str) -> AjpWorker {
        AjpWorker::with_defaults(name)
    }

    /// lb "lb" over `members`, plus plain workers `plain`.
    fn layout(members: &[AjpWorker], plain: &[&str]) -> Layout {
        let mut layout = Layout::new();
        let names = members.iter().map(|m| m.name.clone()).collect();
        let refs: Vec<&AjpWorker> = members.iter().collect();
        layout
            .add_lb(&LbWorker::with_defaults("lb", names), &refs)
            .expect("lb fits");
        for name in plain {
            layout.add_plain(&member(name)).expect("worker fits");
        }
        layout
    }

    /// A fresh private directory for file tests.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "h_lb_shm_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn address<T>(record: &T) -> usize {
        record as *const T as usize
    }

    #[test]
    fn records_sit_where_the_layout_says() {
        let layout = layout(&[member("a"), member("b"), member("c")], &["p"]);
        let shared = SharedState::create(None, &layout).expect("mapping");
        let base = address(shared.header());
        assert_eq!(address(shared.lb(0).expect("lb")) - base, 64);
        assert_eq!(layout.member_offset(0), Some(64 + 192));
        for i in 0..4 {
            let record = shared.member(i).expect("member");
            assert_eq!(address(record) - base, 64 + 192 + i * 576);
        }
        assert_eq!(shared.size(), 64 + 192 + 4 * 576);
        let header = shared.header();
        assert_eq!(header.magic(), MAGIC);
        assert_eq!(header.layout_version(), crate::shm::LAYOUT_VERSION);
        assert_eq!(header.total_size(), shared.size() as u64);
        assert_eq!((header.lb_count(), header.member_count()), (1, 4));
        assert_eq!(header.generation.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn records_start_with_the_configured_values() {
        let mut a = member("a");
        a.lbfactor = 2;
        a.route = "ra.dom".into();
        a.domain = "dom".into();
        a.redirect = "rb".into();
        a.distance = 3;
        let mut b = member("b");
        b.lbfactor = 3;
        b.route = "rb".into();
        b.activation = Activation::Disabled;
        let shared = SharedState::create(None, &layout(&[a, b], &["p"])).expect("mapping");
        let lb = shared.lb(0).expect("lb");
        assert_eq!(lb.name().as_str(), "lb");
        assert_eq!(lb.members(), (0, 2));
        assert_eq!(lb.settings().retries, 2);
        let ra = shared.member(0).expect("a");
        assert_eq!(ra.name().as_str(), "a");
        assert_eq!(ra.lb(), Some(0));
        assert_eq!(ra.read_route().as_str(), "ra.dom");
        assert_eq!(ra.read_domain().as_str(), "dom");
        assert_eq!(ra.read_redirect().as_str(), "rb");
        assert_eq!((ra.lb_factor(), ra.distance()), (2, 3));
        assert_eq!(ra.lb_mult.load(Ordering::Relaxed), 3, "lcm 6 / factor 2");
        let rb = shared.member(1).expect("b");
        assert_eq!(rb.activation(), Activation::Disabled);
        assert_eq!(rb.lb_mult.load(Ordering::Relaxed), 2, "lcm 6 / factor 3");
        assert_eq!(shared.member(2).expect("p").lb(), None);
        assert_eq!(rb.state.load(Ordering::Relaxed), 0, "starts OK/IDLE");
    }

    #[test]
    fn counters_written_by_a_forked_child_are_seen_by_the_parent() {
        let shared = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        let record = shared.member(0).expect("a");
        record.sessions.store(7, Ordering::Relaxed);
        let child = in_child(|| {
            let Some(record) = shared.member(0) else {
                return 2;
            };
            if record.sessions.load(Ordering::Relaxed) != 7 {
                return 3; // the parent's write before the fork must be visible
            }
            for _ in 0..1000 {
                record.elected.fetch_add(1, Ordering::Relaxed);
            }
            let _ = record.set_route("from-child");
            0
        });
        assert_eq!(child.wait(), Some(0));
        assert_eq!(record.elected.load(Ordering::Relaxed), 1000);
        assert_eq!(record.read_route().as_str(), "from-child");
        assert_eq!(record.sequence.edits(), 1);
    }

    #[test]
    fn file_backed_mapping_is_created_0600_and_shared_with_children() {
        let dir = TempDir::new();
        let path = dir.0.join("jk-runtime-status");
        let shared =
            SharedState::create(Some(&path), &layout(&[member("a")], &[])).expect("mapping");
        let meta = std::fs::symlink_metadata(&path).expect("file exists");
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!(meta.len(), shared.size() as u64);
        assert_eq!(shared.path(), Some(path.as_path()));
        let child = in_child(|| match shared.member(0) {
            Some(record) => {
                record.errors.fetch_add(5, Ordering::Relaxed);
                0
            }
            None => 1,
        });
        assert_eq!(child.wait(), Some(0));
        assert_eq!(
            shared.member(0).map(|r| r.errors.load(Ordering::Relaxed)),
            Some(5)
        );
        drop(shared);
        assert!(!path.exists(), "the creating process removes its file");
    }

    #[test]
    fn existing_world_writable_file_is_refused_and_left_alone() {
        let dir = TempDir::new();
        let path = dir.0.join("shm");
        std::fs::write(&path, b"planted").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let result = SharedState::create(Some(&path), &layout(&[member("a")], &[]));
        match result {
            Err(ShmError::InsecureFile { mode, .. }) => assert_eq!(mode, 0o666),
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("a 0666 file was accepted"),
        }
        assert_eq!(std::fs::read(&path).expect("still there"), b"planted");
    }

    #[test]
    fn existing_group_writable_file_is_refused_too() {
        let dir = TempDir::new();
        let path = dir.0.join("shm");
        std::fs::write(&path, b"x").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).expect("chmod");
        let result = SharedState::create(Some(&path), &layout(&[member("a")], &[]));
        assert!(matches!(
            result,
            Err(ShmError::InsecureFile { mode: 0o620, .. })
        ));
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("CVE-2024-46544"), "{message}");
    }

    #[test]
    fn symlink_is_refused_and_its_target_untouched() {
        let dir = TempDir::new();
        let target = dir.0.join("target");
        std::fs::write(&target, b"precious").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let link = dir.0.join("shm");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let result = SharedState::create(Some(&link), &layout(&[member("a")], &[]));
        assert!(matches!(result, Err(ShmError::Symlink { .. })));
        assert_eq!(std::fs::read(&target).expect("target"), b"precious");
    }

    #[test]
    fn existing_private_file_is_replaced_by_a_fresh_one() {
        let dir = TempDir::new();
        let path = dir.0.join("shm");
        std::fs::write(&path, b"old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let previous = std::fs::File::open(&path).expect("open the previous file");
        let shared =
            SharedState::create(Some(&path), &layout(&[member("a")], &[])).expect("mapping");
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.len(), shared.size() as u64);
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        // The previous file was unlinked (not rewritten in place): it has no name any more.
        assert_eq!(previous.metadata().expect("meta").nlink(), 0);
    }

    #[test]
    fn restart_with_the_same_file_keeps_the_old_mapping_readable() {
        let dir = TempDir::new();
        let path = dir.0.join("shm");
        let layout = layout(&[member("a")], &[]);
        let old = SharedState::create(Some(&path), &layout).expect("old");
        if let Some(r) = old.member(0) {
            r.elected.store(42, Ordering::Relaxed);
        }
        let new = SharedState::adopt(&old, Some(&path), &layout).expect("new");
        // The old file was unlinked, not truncated: its pages are still there.
        assert_eq!(
            old.member(0).map(|r| r.elected.load(Ordering::Relaxed)),
            Some(42)
        );
        drop(old);
        assert!(path.exists(), "dropping the old mapping keeps the new file");
        assert_eq!(
            new.member(0).map(|r| r.elected.load(Ordering::Relaxed)),
            Some(42)
        );
    }

    #[test]
    fn a_graceful_restart_keeps_edited_connection_settings_and_takes_the_rest_from_the_file() {
        let old = SharedState::create(None, &layout(&[member("a")], &[])).expect("old");
        let a = old.member(0).expect("a");
        let before = a.sequence.peek();
        assert!(a.update_settings(|s| {
            s.ajp.port = 8010;
            s.ajp.host = crate::shm::ShortText::new("10.1.1.1").expect("fits");
            s.ajp.reply_timeout_ms = 700;
        }));
        assert_ne!(a.sequence.peek(), before, "an edit moves the sequence");
        let bits = a.edited();
        assert_eq!(bits, edited::PORT | edited::HOST | edited::REPLY_TIMEOUT);
        let mut changed_in_file = member("a");
        changed_in_file.retries = 4;
        changed_in_file.port = 9000;
        let new_layout = layout(&[changed_in_file], &[]);
        let new = SharedState::adopt(&old, None, &new_layout).expect("new");
        let s = new.member(0).expect("a").ajp_settings();
        assert_eq!(
            (s.host.as_str(), s.port, s.reply_timeout_ms),
            ("10.1.1.1", 8010, 700)
        );
        assert_eq!(s.retries, 4, "not edited: the file's new value");
        assert_eq!(new.member(0).expect("a").edited(), bits);
    }

    #[test]
    fn adopt_keeps_matching_members_and_initialises_new_ones() {
        let old_layout = layout(&[member("a"), member("b"), member("c")], &["p"]);
        let old = SharedState::create(None, &old_layout).expect("old");
        old.start_clock(1_000);
        let lb = old.lb(0).expect("lb");
        lb.update_settings(|s| s.max_reply_timeouts = 9);
        lb.next_offset.store(2, Ordering::Relaxed);
        lb.busy.store(4, Ordering::Relaxed);
        for (i, record) in old.members().iter().enumerate() {
            record.elected.store(100 + i as u64, Ordering::Relaxed);
            record.lb_value.store(1_000 + i as u64, Ordering::Relaxed);
            record.state.store(5, Ordering::Relaxed);
            record.errors.store(3, Ordering::Relaxed);
            record.busy.store(2, Ordering::Relaxed);
            record.last_error_time.store(777, Ordering::Relaxed);
        }
        let b = old.member(1).expect("b");
        assert_eq!(b.set_route("b-edited").ok(), Some(true));
        b.update_settings(|s| s.lb_factor = 4);

        // New generation: a is gone, c's lbfactor changed in the file, d is new, q is new.
        let mut c = member("c");
        c.lbfactor = 2;
        let new_layout = layout(&[member("b"), c, member("d")], &["p", "q"]);
        let new = SharedState::adopt(&old, None, &new_layout).expect("new");
        drop(old);

        assert_eq!(new.header().generation.load(Ordering::Relaxed), 2);
        assert_eq!(new.header().last_maintain.load(Ordering::Relaxed), 1_000);
        let lb = new.lb(0).expect("lb");
        assert_eq!(lb.settings().max_reply_timeouts, 9, "run-time edit kept");
        assert_eq!(lb.next_offset.load(Ordering::Relaxed), 2);
        assert_eq!(
            lb.busy.load(Ordering::Relaxed),
            0,
            "in-flight count not copied"
        );

        let nb = new.member(0).expect("b");
        assert_eq!(nb.name().as_str(), "b");
        assert_eq!(nb.elected.load(Ordering::Relaxed), 101);
        assert_eq!(nb.lb_value.load(Ordering::Relaxed), 1_001);
        assert_eq!(nb.state.load(Ordering::Relaxed), 5);
        assert_eq!(nb.last_error_time.load(Ordering::Relaxed), 777);
        assert_eq!(
            nb.busy.load(Ordering::Relaxed),
            0,
            "in-flight count not copied"
        );
        assert_eq!(nb.read_route().as_str(), "b-edited", "run-time edit kept");
        assert_eq!(nb.lb_factor(), 4, "run-time edit kept");

        let nc = new.member(1).expect("c");
        assert_eq!(nc.elected.load(Ordering::Relaxed), 102);
        assert_eq!(
            nc.lb_factor(),
            2,
            "not edited at run time: the new file wins"
        );

        let nd = new.member(2).expect("d");
        assert_eq!(nd.name().as_str(), "d");
        assert_eq!(nd.elected.load(Ordering::Relaxed), 0);
        assert_eq!(
            nd.lb_value.load(Ordering::Relaxed),
            1_002,
            "a new member starts at the largest load, not at 0"
        );
        assert_eq!(nd.state.load(Ordering::Relaxed), 0);
        assert_eq!(nd.read_route().as_str(), "d");

        // Factors 4, 2, 1 => lcm 4 => multipliers 1, 2, 4.
        let mults: Vec<u64> = new
            .lb_members(0)
            .iter()
            .map(|m| m.lb_mult.load(Ordering::Relaxed))
            .collect();
        assert_eq!(mults, [1, 2, 4]);

        let p = new.member(3).expect("p");
        assert_eq!(
            (p.name().as_str(), p.elected.load(Ordering::Relaxed)),
            ("p", 103)
        );
        let q = new.member(4).expect("q");
        assert_eq!(
            (q.name().as_str(), q.elected.load(Ordering::Relaxed)),
            ("q", 0)
        );
    }

    #[test]
    fn adopt_drops_busyness_load_that_belongs_to_old_children() {
        let members = [member("a"), member("b")];
        let mut lb = LbWorker::with_defaults("lb", vec!["a".into(), "b".into()]);
        lb.method = crate::config::LbMethod::Busyness;
        let mut layout = Layout::new();
        layout
            .add_lb(&lb, &[&members[0], &members[1]])
            .expect("lb fits");
        let old = SharedState::create(None, &layout).expect("old");
        for record in old.members() {
            record.lb_value.store(5, Ordering::Relaxed);
            record.elected.store(3, Ordering::Relaxed);
        }
        let new = SharedState::adopt(&old, None, &layout).expect("new");
        for record in new.members() {
            assert_eq!(record.lb_value.load(Ordering::Relaxed), 0);
            assert_eq!(record.elected.load(Ordering::Relaxed), 3);
        }
    }

    #[test]
    fn maintenance_is_elected_once_per_interval() {
        let shared = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        assert!(
            !shared.elect_maintenance(10_000, 60_000),
            "first call starts the clock"
        );
        assert!(!shared.elect_maintenance(69_999, 60_000));
        assert!(shared.elect_maintenance(70_000, 60_000));
        assert!(!shared.elect_maintenance(70_000, 60_000), "only one winner");
        assert!(!shared.elect_maintenance(129_999, 60_000));
        assert!(shared.elect_maintenance(130_000, 60_000));
        assert!(
            !shared.elect_maintenance(999_999, 0),
            "worker.maintain=0 disables it"
        );
    }

    #[test]
    fn maintenance_election_has_one_winner_across_processes() {
        let shared = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        shared.start_clock(1);
        let children: Vec<_> = (0..6)
            .map(|_| {
                in_child(|| {
                    let won = shared.elect_maintenance(60_001, 60_000);
                    if won {
                        if let Some(r) = shared.member(0) {
                            r.elected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    0
                })
            })
            .collect();
        for child in children {
            assert_eq!(child.wait(), Some(0));
        }
        assert_eq!(
            shared.member(0).map(|r| r.elected.load(Ordering::Relaxed)),
            Some(1),
            "exactly one child won the election"
        );
    }

    #[test]
    fn multipliers_follow_a_run_time_factor_edit() {
        let shared =
            SharedState::create(None, &layout(&[member("a"), member("b")], &[])).expect("map");
        let a = shared.member(0).expect("a");
        assert!(a.update_settings(|s| s.lb_factor = 3));
        shared.recompute_multipliers(0);
        let mults: Vec<u64> = shared
            .lb_members(0)
            .iter()
            .map(|m| m.lb_mult.load(Ordering::Relaxed))
            .collect();
        assert_eq!(mults, [1, 3]);
        assert!(
            !a.update_settings(|s| s.lb_factor = 3),
            "no change, no edit"
        );
        assert!(a.update_settings(|s| s.lb_factor = 0));
        assert_eq!(a.lb_factor(), 1, "factor 0 is clamped to 1");
    }
}
