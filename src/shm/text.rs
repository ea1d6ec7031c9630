//! Short strings in shared memory (worker names, routes, domains, redirects) and the seqlock
//! (`Sequence`) that lets one process rewrite them while others read a consistent copy.
//!
//! A record's `Sequence` is even when the record is at rest and odd while an edit is being
//! written. Readers copy the text, then check the sequence did not move; writers exclude each
//! other by swinging it from even to odd. Everything is an atomic, so a torn read is a retry,
//! never undefined behaviour. A process that dies in the middle of an edit leaves the sequence
//! odd; after a bounded wait in which the sequence did not move at all, readers take what they
//! see and writers take the record over. A live editor always moves the sequence, so under
//! contention readers retry rather than accept a torn copy.

use std::fmt;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::ShmError;

/// Bytes a record reserves for one string (NUL-padded).
pub const TEXT_CAPACITY: usize = 64;
/// Longest string a record accepts: mod_jk's 60-byte limit on names, routes and the like.
pub const MAX_TEXT_LEN: usize = crate::config::MAX_NAME_LEN;

const WORDS: usize = TEXT_CAPACITY / 8;
/// Busy-wait rounds before yielding the CPU while another process edits a record.
const SPINS_BEFORE_YIELD: u32 = 64;
/// Yields at least before the other editor is presumed dead (an edit is a handful of stores)...
const YIELDS_BEFORE_GIVING_UP: u32 = 100;
/// ... and the least time the sequence must have stood still: the bound that counts, since a
/// yield takes anything from a microsecond (idle machine) to a time slice (loaded one). A
/// preempted live editor resumes well within it.
const STUCK_FOR_AT_LEAST: Duration = Duration::from_millis(200);

/// The seqlock counter of one record: how many edits it has had, times two.
#[repr(transparent)]
pub struct Sequence(AtomicU64);

impl Sequence {
    /// A sequence at rest, for a record of this process's own memory (a per-process copy of
    /// shared settings uses the same seqlock).
    pub const fn new() -> Sequence {
        Sequence(AtomicU64::new(0))
    }

    /// The current value; changes whenever the record is edited.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// The current value with a relaxed load: the per-request "did anything change?" check
    /// (the copy that follows a change is read with [`Sequence::read`], which orders itself).
    pub fn peek(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Number of finished edits.
    pub fn edits(&self) -> u64 {
        self.get() / 2
    }

    /// Starts an edit: waits for any other editor, then marks the record as being written.
    /// The edit ends (and the sequence becomes even again) when the section is dropped.
    pub(crate) fn write(&self) -> WriteSection<'_> {
        let mut waited = Waiter::default();
        loop {
            let current = self.0.load(Ordering::Relaxed);
            waited.observe(current);
            let claim = if current.is_multiple_of(2) {
                Some(current + 1)
            } else if waited.gave_up() {
                // The editor holding the record died mid-edit: take it over, staying odd.
                Some(current + 2)
            } else {
                None
            };
            if let Some(odd) = claim {
                if self
                    .0
                    .compare_exchange(current, odd, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    // Readers that see any of the stores below must also see the odd value.
                    fence(Ordering::Release);
                    return WriteSection {
                        sequence: &self.0,
                        odd,
                    };
                }
            }
            waited.pause();
        }
    }

    /// Runs `copy` until it ran while no edit was in progress, and returns its result.
    /// `copy` must only do relaxed atomic loads.
    ///
    /// A reader only stops waiting for an editor that made no progress at all (the same odd
    /// value for the whole bounded wait, see [`Waiter`]): a live editor, however busy, moves
    /// the sequence and so restarts the wait, and the reader never settles for a torn copy.
    pub(crate) fn read<T>(&self, copy: impl Fn() -> T) -> T {
        let mut waited = Waiter::default();
        loop {
            let before = self.0.load(Ordering::Acquire);
            waited.observe(before);
            if before % 2 == 1 {
                if !waited.gave_up() {
                    waited.pause();
                    continue;
                }
                // The editor died mid-edit: close its edit so later readers do not wait again.
                let _ = self.0.compare_exchange(
                    before,
                    before.wrapping_add(1),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
                return copy();
            }
            let value = copy();
            fence(Ordering::Acquire);
            let after = self.0.load(Ordering::Relaxed);
            if before == after {
                return value;
            }
            waited.pause();
        }
    }

    /// Sets the value outright; only while nobody else can see the record (initialisation).
    pub(crate) fn reset(&self, value: u64) {
        self.0.store(value & !1, Ordering::Relaxed);
    }
}

impl Default for Sequence {
    fn default() -> Self {
        Sequence::new()
    }
}

/// An edit in progress; dropping it publishes the edit.
pub(crate) struct WriteSection<'a> {
    sequence: &'a AtomicU64,
    odd: u64,
}

impl Drop for WriteSection<'_> {
    fn drop(&mut self) {
        self.sequence
            .store(self.odd.wrapping_add(1), Ordering::Release);
    }
}

/// Bounded waiting for an editor that does not finish: spin a little, then yield, then give
/// up — but only once the sequence has stayed at the same value for all of it, both in rounds
/// and in time. Any change of the sequence proves the editor alive and starts the wait anew.
#[derive(Default)]
struct Waiter {
    rounds: u32,
    seen: Option<u64>,
    yielding_since: Option<Instant>,
}

impl Waiter {
    /// Notes the sequence value just loaded; a new value restarts the wait.
    fn observe(&mut self, value: u64) {
        if self.seen != Some(value) {
            self.seen = Some(value);
            self.rounds = 0;
            self.yielding_since = None;
        }
    }

    fn pause(&mut self) {
        self.rounds = self.rounds.saturating_add(1);
        if self.rounds <= SPINS_BEFORE_YIELD {
            std::hint::spin_loop();
        } else {
            self.yielding_since.get_or_insert_with(Instant::now);
            std::thread::yield_now();
        }
    }

    fn gave_up(&self) -> bool {
        self.rounds > SPINS_BEFORE_YIELD + YIELDS_BEFORE_GIVING_UP
            && self
                .yielding_since
                .is_some_and(|since| since.elapsed() >= STUCK_FOR_AT_LEAST)
    }
}

/// A 64-byte string slot in a record. Read and written only through its record's
/// [`Sequence`]; on its own it is just bytes.
#[repr(C)]
pub struct SharedText {
    words: [AtomicU64; WORDS],
}

impl SharedText {
    /// Copies the slot (relaxed loads; call inside [`Sequence::read`]): a word at a time, up
    /// to the word with the terminating NUL (names are short: one or two words); what follows
    /// the text stays zero.
    pub(crate) fn load(&self) -> ShortText {
        let mut bytes = [0u8; TEXT_CAPACITY];
        let mut len = TEXT_CAPACITY;
        for (at, (chunk, word)) in bytes.chunks_exact_mut(8).zip(&self.words).enumerate() {
            let eight = word.load(Ordering::Relaxed).to_ne_bytes();
            if let Some(nul) = crate::scan::find_byte(&eight, 0) {
                // The bytes before the NUL, the rest zero: one fixed-size store, not a copy of
                // `nul` bytes.
                let keep = u64::MAX.checked_shr(64 - 8 * nul as u32).unwrap_or(0);
                chunk.copy_from_slice(&(u64::from_le_bytes(eight) & keep).to_le_bytes());
                len = at * 8 + nul;
                break;
            }
            chunk.copy_from_slice(&eight);
        }
        if len > MAX_TEXT_LEN {
            // A slot longer than any text we write (a foreign or torn record): cut it.
            bytes[MAX_TEXT_LEN..].fill(0);
            len = MAX_TEXT_LEN;
        }
        ShortText {
            bytes,
            len: len as u8,
        }
    }

    /// Whether the slot holds `text` (what [`Self::load`] would return, compared in place:
    /// call inside [`Sequence::read`]). Reads only the words that hold `text` and the NUL
    /// after it, and copies nothing: a route check per member per sticky request.
    pub(crate) fn equals(&self, text: &[u8]) -> bool {
        // A NUL ends a loaded text, so no loaded text contains one.
        if text.len() > MAX_TEXT_LEN || crate::scan::find_byte(text, 0).is_some() {
            return false;
        }
        for (at, word) in self.words.iter().enumerate() {
            let start = at * 8;
            let eight = word.load(Ordering::Relaxed).to_ne_bytes();
            let rest = text.get(start..).unwrap_or(&[]);
            if rest.len() >= 8 {
                if eight[..] != rest[..8] {
                    return false;
                }
                continue;
            }
            // The last word: the text's tail, then its NUL (none when it is as long as any
            // text load keeps: load cuts there).
            let nul_ok = start + rest.len() == MAX_TEXT_LEN || eight[rest.len()] == 0;
            return eight[..rest.len()] == *rest && nul_ok;
        }
        false
    }

    /// Overwrites the slot (relaxed stores; call inside a [`Sequence::write`] section or
    /// before anyone else can see the record).
    pub(crate) fn store(&self, text: &ShortText) {
        for (chunk, word) in text.bytes.chunks_exact(8).zip(&self.words) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            word.store(u64::from_ne_bytes(eight), Ordering::Relaxed);
        }
    }
}

/// A copy of a shared string: at most [`MAX_TEXT_LEN`] bytes, no NUL, held inline (no heap).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortText {
    bytes: [u8; TEXT_CAPACITY],
    len: u8,
}

impl ShortText {
    /// The empty string.
    pub const EMPTY: ShortText = ShortText {
        bytes: [0; TEXT_CAPACITY],
        len: 0,
    };

    /// Checks `text` fits a record: at most 60 bytes, no NUL.
    pub fn new(text: &str) -> Result<ShortText, ShmError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(ShmError::TextTooLong {
                text: text.to_owned(),
                max: MAX_TEXT_LEN,
            });
        }
        if text.bytes().any(|b| b == 0) {
            return Err(ShmError::TextHasNul {
                text: text.to_owned(),
            });
        }
        let mut bytes = [0u8; TEXT_CAPACITY];
        for (slot, byte) in bytes.iter_mut().zip(text.bytes()) {
            *slot = byte;
        }
        Ok(ShortText {
            bytes,
            len: text.len() as u8,
        })
    }

    /// The bytes (no padding).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The text; if the slot was torn by a process that died mid-edit, its longest valid
    /// UTF-8 prefix.
    pub fn as_str(&self) -> &str {
        let bytes = self.as_bytes();
        if crate::scan::is_ascii(bytes) {
            // SAFETY: ASCII is valid UTF-8. (Routes and names nearly always are ASCII, which
            // `is_ascii` checks a word at a time and `from_utf8` a byte at a time.)
            return unsafe { std::str::from_utf8_unchecked(bytes) };
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => self
                .as_bytes()
                .get(..error.valid_up_to())
                .and_then(|valid| std::str::from_utf8(valid).ok())
                .unwrap_or(""),
        }
    }

    /// The padded 64 bytes and the length, as a record holds them.
    pub fn raw(&self) -> ([u8; TEXT_CAPACITY], usize) {
        (self.bytes, usize::from(self.len))
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when the text equals `other` byte for byte.
    pub fn is(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Default for ShortText {
    fn default() -> Self {
        ShortText::EMPTY
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(s: &str) -> ShortText {
        ShortText::new(s).expect("fits a record")
    }

    fn slot() -> (Sequence, SharedText) {
        (
            Sequence(AtomicU64::new(0)),
            SharedText {
                words: Default::default(),
            },
        )
    }

    /// `equals` answers what `load().is()` answers, for stored texts of every length, raw
    /// slots with junk after the NUL or no NUL at all, and candidates around each.
    #[test]
    fn equals_agrees_with_load() {
        let (_, text) = slot();
        let mut raws: Vec<[u8; TEXT_CAPACITY]> = Vec::new();
        for len in 0..=MAX_TEXT_LEN {
            let mut raw = [0u8; TEXT_CAPACITY];
            raw[..len].fill(b'a' + (len % 26) as u8);
            raws.push(raw);
            // Junk after the NUL, as a foreign record might hold.
            let mut junk = raw;
            junk[len + 1..].fill(b'z');
            raws.push(junk);
        }
        raws.push([b'q'; TEXT_CAPACITY]);
        let mut long = [b'q'; TEXT_CAPACITY];
        long[MAX_TEXT_LEN] = 0;
        raws.push(long);
        for raw in raws {
            for (chunk, word) in raw.chunks_exact(8).zip(&text.words) {
                word.store(
                    u64::from_ne_bytes(chunk.try_into().expect("8 bytes")),
                    Ordering::Relaxed,
                );
            }
            let loaded = text.load();
            let stored = loaded.as_bytes().to_vec();
            let mut candidates = vec![stored.clone(), Vec::new(), vec![b'x'; 61]];
            for cut in [1, 2, 8, 9] {
                if stored.len() >= cut {
                    candidates.push(stored[..stored.len() - cut].to_vec());
                }
            }
            let mut longer = stored.clone();
            longer.push(b'a');
            candidates.push(longer);
            let mut with_nul = stored.clone();
            with_nul.push(0);
            candidates.push(with_nul);
            if let Some(last) = stored.len().checked_sub(1) {
                let mut other = stored.clone();
                other[last] ^= 1;
                candidates.push(other);
                let mut nul_inside = stored.clone();
                nul_inside[last / 2] = 0;
                candidates.push(nul_inside);
            }
            for c in candidates {
                assert_eq!(
                    text.equals(&c),
                    loaded.as_bytes() == c.as_slice(),
                    "stored {raw:?}, candidate {c:?}"
                );
            }
        }
    }

    #[test]
    fn short_text_keeps_sixty_bytes_and_refuses_more() {
        let sixty = "r".repeat(60);
        assert_eq!(ShortText::new(&sixty).map(|t| t.len()).ok(), Some(60));
        assert!(matches!(
            ShortText::new(&"r".repeat(61)),
            Err(ShmError::TextTooLong { max: 60, .. })
        ));
        assert!(matches!(
            ShortText::new("a\0b"),
            Err(ShmError::TextHasNul { .. })
        ));
    }

    #[test]
    fn stored_text_reads_back_and_shorter_text_clears_the_tail() {
        let (sequence, text) = slot();
        let long = short("node1.domain-with-a-long-name");
        {
            let _edit = sequence.write();
            text.store(&long);
        }
        assert_eq!(
            sequence.read(|| text.load()).as_str(),
            "node1.domain-with-a-long-name"
        );
        {
            let _edit = sequence.write();
            text.store(&short("n2"));
        }
        let back = sequence.read(|| text.load());
        assert_eq!(back.as_str(), "n2");
        assert_eq!(back.raw().0[2..], [0u8; 62]);
    }

    #[test]
    fn load_stops_at_the_first_nul_and_cuts_a_slot_without_one() {
        let (_, text) = slot();
        let fill = |bytes: &[u8]| {
            let mut padded = [0u8; TEXT_CAPACITY];
            padded[..bytes.len()].copy_from_slice(bytes);
            for (word, chunk) in text.words.iter().zip(padded.chunks_exact(8)) {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(chunk);
                word.store(u64::from_ne_bytes(eight), Ordering::Relaxed);
            }
        };
        // Lengths around the word boundaries, and bytes after a NUL (a torn slot).
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 59, 60] {
            let want: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut raw = want.clone();
            raw.push(0);
            raw.extend_from_slice(b"junk");
            fill(&raw[..raw.len().min(TEXT_CAPACITY)]);
            let back = text.load();
            assert_eq!(back.as_bytes(), &want[..], "length {len}");
            assert!(back.raw().0[len..].iter().all(|&b| b == 0), "length {len}");
        }
        // No NUL at all, even high bytes: cut at the longest text a record holds.
        fill(&[0xC3; TEXT_CAPACITY]);
        let back = text.load();
        assert_eq!(back.len(), MAX_TEXT_LEN);
        assert!(back.raw().0[MAX_TEXT_LEN..].iter().all(|&b| b == 0));
        assert_eq!(
            back.as_str(),
            "",
            "invalid UTF-8 reads as its (empty) valid prefix"
        );
    }

    #[test]
    fn each_edit_moves_the_sequence_by_two_and_leaves_it_even() {
        let (sequence, _) = slot();
        assert_eq!(sequence.get(), 0);
        {
            let _edit = sequence.write();
            assert_eq!(sequence.get(), 1, "odd while writing");
        }
        assert_eq!(sequence.get(), 2);
        assert_eq!(sequence.edits(), 1);
    }

    #[test]
    fn an_editor_that_died_mid_edit_does_not_block_the_next_one() {
        let (sequence, text) = slot();
        std::mem::forget(sequence.write()); // the "dead" editor never finishes
        {
            let _edit = sequence.write();
            text.store(&short("after"));
        }
        assert_eq!(sequence.get() % 2, 0);
        assert_eq!(sequence.read(|| text.load()).as_str(), "after");
    }

    #[test]
    fn an_editor_that_died_mid_edit_does_not_block_readers_for_ever() {
        let (sequence, text) = slot();
        {
            let _edit = sequence.write();
            text.store(&short("kept"));
        }
        std::mem::forget(sequence.write());
        assert_eq!(sequence.read(|| text.load()).as_str(), "kept");
        assert_eq!(
            sequence.get() % 2,
            0,
            "the first reader closed the dead edit"
        );
    }

    #[test]
    fn readers_never_see_a_half_written_route() {
        // The writer keeps editing for longer than a reader's whole bounded wait, so a reader
        // that counted a busy editor's progress as "stuck" would settle for a torn copy.
        use std::sync::atomic::AtomicBool;
        let (sequence, text) = slot();
        let a = short(&"a".repeat(60));
        let b = short("bb");
        let stop = AtomicBool::new(false);
        let reading_for = STUCK_FOR_AT_LEAST * 2;
        // Stops the writer however the reader leaves (a failed assertion must fail the test,
        // not leave the scope waiting for the writer for ever).
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let check = |seen: ShortText| {
            assert!(seen == a || seen == b || seen.is_empty(), "torn: {seen:?}");
        };
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut edits = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _edit = sequence.write();
                    text.store(if edits.is_multiple_of(2) { &a } else { &b });
                    edits += 1;
                }
                edits
            });
            let stopping = StopOnDrop(&stop);
            let started = Instant::now();
            let mut reads = 0u64;
            while started.elapsed() < reading_for {
                check(sequence.read(|| text.load()));
                reads += 1;
            }
            drop(stopping);
            let edits = writer.join().expect("writer ran");
            assert!(reads > 0 && edits > 0, "{reads} reads, {edits} edits");
        });
        assert_eq!(sequence.get() % 2, 0);
    }

    #[test]
    fn a_moving_sequence_is_never_given_up_on() {
        // Longer than both bounds, in rounds and in time, with a new odd value every round.
        let mut waited = Waiter::default();
        let started = Instant::now();
        let mut value = 0u64;
        while started.elapsed() < STUCK_FOR_AT_LEAST * 2
            || value < u64::from(SPINS_BEFORE_YIELD + YIELDS_BEFORE_GIVING_UP) * 2
        {
            waited.observe(value * 2 + 1);
            waited.pause();
            assert!(!waited.gave_up(), "gave up after {value} changes");
            value += 1;
        }
    }

    #[test]
    fn a_sequence_that_stands_still_is_given_up_on_only_after_the_time_bound() {
        let mut waited = Waiter::default();
        let started = Instant::now();
        waited.observe(7);
        while !waited.gave_up() {
            waited.observe(7);
            waited.pause();
            // Generous: on a loaded machine each yield may take a whole time slice.
            assert!(
                started.elapsed() < STUCK_FOR_AT_LEAST * 300,
                "never gave up"
            );
        }
        assert!(started.elapsed() >= STUCK_FOR_AT_LEAST);
        assert!(waited.rounds > SPINS_BEFORE_YIELD + YIELDS_BEFORE_GIVING_UP);
    }
}
