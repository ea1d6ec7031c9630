//! Handing one generation's mapping to the next across a graceful restart using plain data
//! only. httpd unloads this module between two configuration generations, so no Rust object
//! and no pointer into the old code may survive; what survives is httpd's retained memory
//! (`ap_retained_data_create`). `SharedState::retain` writes a `RetainedShm` (a few integers)
//! describing the live mapping and leaves it mapped; the next generation re-attaches with
//! `SharedState::from_retained`, which checks the header and rebuilds the `Layout` from the
//! records, then hands it to `SharedState::adopt` as the old state.
//!
//! Graceful restart, in the parent:
//! 1. old generation, pconf cleanup: `retained_block = state.retain()`, then drop `state`
//!    (its memory stays mapped; a `JkShmFile` file is removed, the memory outlives its name);
//! 2. new generation, post_config: if `retained_block.is_present()`,
//!    `old = unsafe { SharedState::from_retained(retained_block) }`, then
//!    `new = SharedState::adopt(&old, path, &layout)`, drop `old` (this unmaps it in the
//!    parent; the old children keep their own copy of the mapping until they exit) and
//!    store `RetainedShm::NONE` until the next `retain`. On any error: start fresh with
//!    `SharedState::create` (the old memory then stays mapped in the parent until it exits).

use std::mem::size_of;

use super::error::ShmError;
use super::layout::{Layout, LbSpec, MemberSpec};
use super::mapping::Mapping;
use super::records::{Header, LbRecord, MemberRecord, LAYOUT_VERSION, MAGIC};
use super::shared_state::SharedState;

/// `RetainedShm::magic` of a filled-in description ("JKRSRET" + the version of this struct).
pub const RETAINED_MAGIC: u64 = u64::from_le_bytes(*b"JKRSRET1");

/// Plain data describing a live mapping, made by [`SharedState::retain`] and meant to be
/// copied byte for byte into httpd's retained memory (40 bytes on 64-bit targets). A zeroed
/// block ([`RetainedShm::NONE`], what `ap_retained_data_create` hands out) means "nothing
/// retained".
///
/// The backing file of a `JkShmFile` mapping is not described: the next generation makes
/// its own file with [`SharedState::create`] / [`SharedState::adopt`], and the view
/// [`SharedState::from_retained`] returns never removes any file.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetainedShm {
    /// [`RETAINED_MAGIC`], or 0 when nothing is retained.
    pub magic: u64,
    /// Address of the mapping (the same in this process and every child forked since).
    pub base: usize,
    /// Its length in bytes (equals the header's total size).
    pub len: usize,
    /// The header's generation when it was retained (checked on re-attach).
    pub generation: u64,
    /// Process that retained it. For diagnostics only, deliberately not checked: httpd
    /// daemonizes (`apr_proc_detach` forks) between the start-up dry run and the real run,
    /// so the next generation legitimately runs in another pid that inherited the mapping.
    pub creator_pid: u32,
    /// [`LAYOUT_VERSION`] of the module that retained it: a module upgraded between two
    /// generations refuses records it does not know before reading any of them.
    pub layout_version: u32,
}

impl RetainedShm {
    /// Nothing retained (all zero).
    pub const NONE: RetainedShm = RetainedShm {
        magic: 0,
        base: 0,
        len: 0,
        generation: 0,
        creator_pid: 0,
        layout_version: 0,
    };

    /// Whether this describes a mapping at all (a zeroed block does not).
    pub fn is_present(&self) -> bool {
        self.magic != 0
    }
}

impl Default for RetainedShm {
    fn default() -> RetainedShm {
        RetainedShm::NONE
    }
}

impl SharedState {
    /// Describes this mapping for the next generation and marks it handed over: dropping
    /// this `SharedState` (in this process) then leaves the memory mapped, and exactly one
    /// [`SharedState::from_retained`] may take it over. A backing file is still removed on
    /// drop. Calling it again returns the same description without handing the mapping over
    /// a second time.
    pub fn retain(&self) -> RetainedShm {
        let header = self.header();
        if self.mapping.keep_mapped() {
            header.arm_handover();
        }
        RetainedShm {
            magic: RETAINED_MAGIC,
            base: self.mapping.base(),
            len: self.mapping.len(),
            generation: header.generation.load(std::sync::atomic::Ordering::Relaxed),
            creator_pid: std::process::id(),
            layout_version: LAYOUT_VERSION,
        }
    }

    /// Takes over the mapping `retained` describes: checks it is mapped here, that its header
    /// is ours (magic, layout version, total size == `len`, generation, hand-over pending) and
    /// that the record counts fill exactly `len` bytes, then rebuilds its [`Layout`] from the
    /// records — lb names and member ranges, member names and lbs, plain workers; the starting
    /// settings of the rebuilt layout are the values the records hold now. The result owns
    /// the mapping (drop unmaps it, and removes no file) and serves as `old` for
    /// [`SharedState::adopt`] / [`SharedState::copy_state_from`].
    ///
    /// On error nothing is unmapped and nothing is taken over.
    ///
    /// # Safety
    /// `retained` must be a value returned by [`SharedState::retain`] in this process, or in
    /// a process this one was forked from after that call, whose mapping has not been
    /// unmapped since by anything but a `SharedState` drop. Caught without undefined
    /// behaviour: a zeroed or foreign description (magic, version), a `base`/`len` that is
    /// not page aligned or not entirely mapped any more, a length that disagrees with the
    /// header, and a second take-over of the same hand-over. Not caught: a `base`/`len`
    /// naming memory of this process that is mapped but is not such a mapping (it would be
    /// read as a header).
    pub unsafe fn from_retained(retained: RetainedShm) -> Result<SharedState, ShmError> {
        let refuse = |reason| Err(ShmError::Retained { reason });
        if retained.magic == 0 {
            return refuse("nothing was retained");
        }
        if retained.magic != RETAINED_MAGIC {
            return refuse("the retained block does not describe shared memory of this module");
        }
        if retained.layout_version != LAYOUT_VERSION {
            return refuse("it was laid out by another version of the module");
        }
        if retained.len < size_of::<Header>() {
            return refuse("the length does not describe a mapping");
        }
        // SAFETY: the caller promises `retained` came from `retain` on a mapping of this
        // crate that is still mapped here; `attach` refuses ranges that are not mapped at all,
        // and the view it returns leaves the memory mapped until we call `unmap_on_drop`
        // below, after the hand-over flag made it ours alone.
        let mapping = unsafe { Mapping::attach(retained.base, retained.len)? };
        let header = mapping
            .records::<Header>(0, 1)
            .and_then(|h| h.first())
            .ok_or(ShmError::Retained {
                reason: "the mapping is too small for a header",
            })?;
        if header.magic() != MAGIC {
            return refuse("the mapping does not start with this module's header");
        }
        if header.layout_version() != LAYOUT_VERSION {
            return refuse("the mapping was laid out by another version of the module");
        }
        if header.total_size() != retained.len as u64 {
            return refuse("its length differs from the size its header records");
        }
        if header.generation.load(std::sync::atomic::Ordering::Relaxed) != retained.generation {
            return refuse("its header belongs to another generation");
        }
        if !header.handover_pending() {
            return refuse("it was not handed over, or was already taken over");
        }
        let layout = read_layout(&mapping, header)?;
        // Every check before the hand-over is claimed: a refusal leaves it mapped and
        // pending, as found (the view unmaps nothing until `unmap_on_drop`).
        let state = SharedState::over(mapping, layout).ok_or(ShmError::Retained {
            reason: "the mapping is too small for the records its layout places in it",
        })?;
        if !state.header().claim_handover() {
            return refuse("it was already taken over");
        }
        state.mapping.unmap_on_drop();
        Ok(state)
    }
}

/// The layout the records of `mapping` describe, checked for consistency.
fn read_layout(mapping: &Mapping, header: &Header) -> Result<Layout, ShmError> {
    let lb_count = header.lb_count() as usize;
    let member_count = header.member_count() as usize;
    let lb_offset = size_of::<Header>();
    let member_offset = lb_count
        .checked_mul(size_of::<LbRecord>())
        .and_then(|bytes| bytes.checked_add(lb_offset));
    let end = member_offset.and_then(|offset| {
        member_count
            .checked_mul(size_of::<MemberRecord>())
            .and_then(|bytes| bytes.checked_add(offset))
    });
    let (Some(member_offset), Some(end)) = (member_offset, end) else {
        return Err(ShmError::Retained {
            reason: "its record counts do not fit in memory",
        });
    };
    if end != mapping.len() {
        return Err(ShmError::Retained {
            reason: "its record counts do not fill the mapping",
        });
    }
    let lbs = mapping
        .records::<LbRecord>(lb_offset, lb_count)
        .ok_or(ShmError::Retained {
            reason: "its lb records do not fit the mapping",
        })?;
    let members = mapping
        .records::<MemberRecord>(member_offset, member_count)
        .ok_or(ShmError::Retained {
            reason: "its member records do not fit the mapping",
        })?;
    let lb_specs = lbs
        .iter()
        .map(|lb| {
            let (first_member, member_count) = lb.members();
            LbSpec {
                name: lb.name(),
                settings: lb.settings(),
                first_member,
                member_count,
            }
        })
        .collect();
    let member_specs = members
        .iter()
        .map(|member| MemberSpec {
            name: member.name(),
            lb: member.lb(),
            settings: member.settings(),
        })
        .collect();
    Layout::from_parts(lb_specs, member_specs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, AjpWorker, LbMethod, LbWorker};
    use crate::shm::process::in_child;
    use std::sync::atomic::Ordering;

    fn member(name: &str) -> AjpWorker {
        AjpWorker::with_defaults(name)
    }

    /// Plain worker "p", then lb "lb" over `members` (so the lb's range does not start at 0),
    /// then plain workers `plain`.
    fn layout(members: &[AjpWorker], plain: &[&str]) -> Layout {
        let mut layout = Layout::new();
        layout.add_plain(&member("p")).expect("fits");
        let names = members.iter().map(|m| m.name.clone()).collect();
        let refs: Vec<&AjpWorker> = members.iter().collect();
        let mut lb = LbWorker::with_defaults("lb", names);
        lb.method = LbMethod::Sessions;
        layout.add_lb(&lb, &refs).expect("lb fits");
        for name in plain {
            layout.add_plain(&member(name)).expect("fits");
        }
        layout
    }

    /// Bytes of `base..base + len` that /proc/self/maps lists as mapped.
    fn mapped_bytes(base: usize, len: usize) -> usize {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let end = base + len;
        maps.lines()
            .filter_map(|line| {
                let range = line.split_whitespace().next()?;
                let (start, stop) = range.split_once('-')?;
                let start = usize::from_str_radix(start, 16).ok()?;
                let stop = usize::from_str_radix(stop, 16).ok()?;
                Some(stop.min(end).saturating_sub(start.max(base)))
            })
            .sum()
    }

    fn is_refused(result: Result<SharedState, ShmError>) -> bool {
        matches!(result, Err(ShmError::Retained { .. }))
    }

    #[test]
    fn retained_mapping_survives_the_drop_and_comes_back_with_its_data_and_layout() {
        let mut b = member("b");
        b.lbfactor = 3;
        b.route = "rb.dom".into();
        let layout = layout(&[member("a"), b], &["q"]);
        let state = SharedState::create(None, &layout).expect("mapping");
        if let Some(a) = state.member(1) {
            a.elected.store(11, Ordering::Relaxed);
        }
        let retained = state.retain();
        assert!(retained.is_present());
        assert_eq!(
            (retained.base, retained.len),
            (address(&state), state.size())
        );
        assert_eq!(retained.creator_pid, std::process::id());
        drop(state);
        assert_eq!(
            mapped_bytes(retained.base, retained.len),
            retained.len,
            "dropping a retained state leaves its memory mapped"
        );

        // SAFETY: `retained` comes from `retain` above and its mapping is still mapped.
        let back = unsafe { SharedState::from_retained(retained) }.expect("taken over");
        assert_eq!(back.layout(), &layout, "no run-time edits: the same layout");
        assert_eq!(back.size(), retained.len);
        assert_eq!(
            back.member(1).map(|a| a.elected.load(Ordering::Relaxed)),
            Some(11)
        );
        assert_eq!(back.layout().member_index(0, "b"), Some(2));
        assert_eq!(back.layout().plain_index("q"), Some(3));
        assert!(!back.header().handover_pending());
    }

    fn address(state: &SharedState) -> usize {
        state.header() as *const Header as usize
    }

    #[test]
    fn taken_over_state_hands_counters_and_edits_to_the_next_generation() {
        let old_layout = layout(&[member("a"), member("b"), member("c")], &[]);
        let old = SharedState::create(None, &old_layout).expect("old");
        for (i, record) in old.members().iter().enumerate() {
            record.elected.store(100 + i as u64, Ordering::Relaxed);
            record.errors.store(i as u64, Ordering::Relaxed);
        }
        let (a, b, c) = (1, 2, 3);
        let record = |i| old.member(i).expect("member");
        assert!(record(a).update_settings(|s| s.activation = Activation::Disabled));
        assert!(record(b).update_settings(|s| s.activation = Activation::Stopped));
        assert!(record(b).update_settings(|s| s.lb_factor = 4));
        assert_eq!(record(c).set_route("c-edited").ok(), Some(true));
        record(c).state.store(5, Ordering::Relaxed);
        assert!(old
            .lb(0)
            .expect("lb")
            .update_settings(|s| s.max_reply_timeouts = 7));
        let retained = old.retain();
        drop(old);

        // SAFETY: `retained` comes from `retain` above and its mapping is still mapped.
        let old = unsafe { SharedState::from_retained(retained) }.expect("taken over");
        let rebuilt = old.layout();
        assert_eq!(rebuilt.lbs().len(), 1);
        assert_eq!(
            rebuilt.members()[b].settings.lb_factor,
            4,
            "rebuilt settings are the current values"
        );
        assert_eq!(rebuilt.members()[c].settings.route.as_str(), "c-edited");

        // New generation: a removed, d added.
        let new_layout = layout(&[member("b"), member("c"), member("d")], &[]);
        let new = SharedState::adopt(&old, None, &new_layout).expect("new");
        drop(old);
        assert_eq!(new.header().generation.load(Ordering::Relaxed), 2);
        assert_eq!(new.lb(0).expect("lb").settings().max_reply_timeouts, 7);
        let p = new.member(0).expect("p");
        assert_eq!(
            (p.name().as_str(), p.elected.load(Ordering::Relaxed)),
            ("p", 100)
        );
        let nb = new.member(1).expect("b");
        assert_eq!(nb.name().as_str(), "b");
        assert_eq!(nb.elected.load(Ordering::Relaxed), 102);
        assert_eq!(nb.activation(), Activation::Stopped, "run-time edit kept");
        assert_eq!(nb.lb_factor(), 4, "run-time edit kept");
        let nc = new.member(2).expect("c");
        assert_eq!(nc.read_route().as_str(), "c-edited", "run-time edit kept");
        assert_eq!(nc.state.load(Ordering::Relaxed), 5);
        assert_eq!(nc.errors.load(Ordering::Relaxed), 3);
        let nd = new.member(3).expect("d");
        assert_eq!(nd.name().as_str(), "d");
        assert_eq!(
            nd.elected.load(Ordering::Relaxed),
            0,
            "new member starts fresh"
        );
        assert_eq!(nd.activation(), Activation::Active);
        assert_eq!(nd.read_route().as_str(), "d");
        // Factors 4, 1, 1 => lcm 4 => multipliers 1, 4, 4.
        let mults: Vec<u64> = new
            .lb_members(0)
            .iter()
            .map(|m| m.lb_mult.load(Ordering::Relaxed))
            .collect();
        assert_eq!(mults, [1, 4, 4]);
        assert!(
            new.layout().member_index(0, "a").is_none(),
            "a is gone from the new generation"
        );
    }

    #[test]
    fn unmapping_follows_ownership_and_a_mapping_is_taken_over_once() {
        // In a child: it is single-threaded, so no other test maps memory into the range
        // between the unmapping and the look at /proc/self/maps.
        let child = in_child(|| {
            let Ok(state) = SharedState::create(None, &layout(&[member("a")], &[])) else {
                return 2;
            };
            if let Some(a) = state.member(1) {
                a.sessions.store(9, Ordering::Relaxed);
            }
            let retained = state.retain();
            drop(state);
            if mapped_bytes(retained.base, retained.len) != retained.len {
                return 3; // a retained mapping must survive the drop
            }
            // SAFETY: `retained` comes from `retain` above and its mapping is still mapped.
            let Ok(back) = (unsafe { SharedState::from_retained(retained) }) else {
                return 4;
            };
            if back.member(1).map(|a| a.sessions.load(Ordering::Relaxed)) != Some(9) {
                return 5;
            }
            // SAFETY: as above; the mapping is mapped (owned by `back`).
            if !is_refused(unsafe { SharedState::from_retained(retained) }) {
                return 6; // a second take-over would unmap the memory twice
            }
            drop(back);
            if mapped_bytes(retained.base, retained.len) != 0 {
                return 7; // the view that took it over unmaps it
            }
            // SAFETY: deliberately breaks the contract in one checked way: the range is no
            // longer mapped, which `from_retained` must notice without touching it.
            if !is_refused(unsafe { SharedState::from_retained(retained) }) {
                return 8;
            }
            0
        });
        assert_eq!(child.wait(), Some(0));
    }

    #[test]
    fn a_process_forked_after_retain_can_take_over_but_only_one_process_does() {
        // As after httpd's apr_proc_detach: the next generation runs in a child of the
        // process that retained the mapping.
        let state = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        if let Some(a) = state.member(1) {
            a.errors.store(4, Ordering::Relaxed);
        }
        let retained = state.retain();
        drop(state);
        let child = in_child(|| {
            // SAFETY: the child inherited the mapping `retained` describes.
            match unsafe { SharedState::from_retained(retained) } {
                Ok(back) if back.member(1).map(|a| a.errors.load(Ordering::Relaxed)) == Some(4) => {
                    0
                }
                Ok(_) => 2,
                Err(_) => 3,
            }
        });
        assert_eq!(child.wait(), Some(0));
        // The hand-over flag lives in the shared mapping: the child's claim counts here too.
        // (The parent's copy of the mapping stays mapped for the rest of the test run.)
        // SAFETY: the mapping is still mapped in this process (retained, never unmapped).
        let again = unsafe { SharedState::from_retained(retained) };
        assert!(is_refused(again));
    }

    #[test]
    fn descriptions_that_are_not_ours_are_refused_before_touching_memory() {
        let state = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        let retained = state.retain();
        assert_eq!(RetainedShm::default(), RetainedShm::NONE);
        assert!(!RetainedShm::NONE.is_present());
        let broken = [
            RetainedShm::NONE,
            RetainedShm {
                magic: 42,
                ..retained
            },
            RetainedShm {
                layout_version: LAYOUT_VERSION + 1,
                ..retained
            },
            RetainedShm { len: 0, ..retained },
            RetainedShm {
                base: retained.base + 8,
                ..retained
            },
            RetainedShm {
                len: retained.len - 64,
                ..retained
            },
            RetainedShm {
                len: retained.len + 4096,
                ..retained
            },
            RetainedShm {
                generation: retained.generation + 1,
                ..retained
            },
        ];
        for (index, description) in broken.into_iter().enumerate() {
            // SAFETY: each description either fails the checks made before any memory is read
            // or names (part of) `state`'s mapping, which is mapped; none is taken over.
            let result = unsafe { SharedState::from_retained(description) };
            assert!(is_refused(result), "case {index} was taken over");
        }
        drop(state);
        // None of the refusals unmapped or claimed the mapping: it can still be taken over.
        // SAFETY: `retained` comes from `retain` above and its mapping is still mapped.
        let back = unsafe { SharedState::from_retained(retained) }.expect("taken over");
        assert_eq!(back.layout().members().len(), 2);
    }

    #[test]
    fn memory_that_is_not_a_retained_mapping_is_refused() {
        // Zeroed memory: no header.
        let zeroed = Mapping::anonymous(8192).expect("mapping");
        let forged = RetainedShm {
            magic: RETAINED_MAGIC,
            base: zeroed.base(),
            len: zeroed.len(),
            generation: 0,
            creator_pid: std::process::id(),
            layout_version: LAYOUT_VERSION,
        };
        // SAFETY: names a live mapping of this crate (zeroed, so every read sees 0).
        assert!(is_refused(unsafe { SharedState::from_retained(forged) }));
        assert_eq!(
            mapped_bytes(zeroed.base(), zeroed.len()),
            zeroed.len(),
            "a refused take-over leaves the memory mapped"
        );

        // A live mapping that was never handed over: taking it would make two owners.
        let live = SharedState::create(None, &layout(&[member("a")], &[])).expect("mapping");
        let forged = RetainedShm {
            base: address(&live),
            len: live.size(),
            generation: 1,
            ..forged
        };
        // SAFETY: names `live`'s mapping, which is mapped; the missing hand-over flag refuses it.
        assert!(is_refused(unsafe { SharedState::from_retained(forged) }));
        assert!(live.member(1).is_some(), "still usable by its owner");
    }

    #[test]
    fn retained_file_mapping_outlives_its_file_and_never_removes_the_next_one() {
        let dir = std::env::temp_dir().join(format!("h_lb_retained_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("jk-runtime-status");
        let layout = layout(&[member("a")], &[]);
        let state = SharedState::create(Some(&path), &layout).expect("mapping");
        if let Some(a) = state.member(1) {
            a.elected.store(21, Ordering::Relaxed);
        }
        let retained = state.retain();
        drop(state);
        assert!(
            !path.exists(),
            "the generation that made the file removes it"
        );
        // SAFETY: `retained` comes from `retain` above and its mapping is still mapped.
        let old = unsafe { SharedState::from_retained(retained) }.expect("taken over");
        assert_eq!(old.path(), None, "the taken-over view knows no file");
        let new = SharedState::adopt(&old, Some(&path), &layout).expect("new");
        drop(old);
        assert!(path.exists(), "dropping the old view keeps the new file");
        assert_eq!(
            new.member(1).map(|a| a.elected.load(Ordering::Relaxed)),
            Some(21)
        );
        drop(new);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn retaining_twice_hands_the_mapping_over_once() {
        let state = SharedState::create(None, &layout(&[], &[])).expect("mapping");
        let first = state.retain();
        let second = state.retain();
        assert_eq!(first, second);
        drop(state);
        // SAFETY: `first` comes from `retain` above and its mapping is still mapped.
        let back = unsafe { SharedState::from_retained(first) }.expect("taken over");
        // SAFETY: the same mapping, still mapped (owned by `back`).
        assert!(is_refused(unsafe { SharedState::from_retained(second) }));
        // The taken-over state can be retained again for the generation after.
        let next = back.retain();
        drop(back);
        // SAFETY: `next` comes from `retain` above and its mapping is still mapped.
        let again = unsafe { SharedState::from_retained(next) }.expect("taken over again");
        assert_eq!(again.layout().plain_index("p"), Some(0));
    }
}
