//! The outgoing packet buffers of one thread: FORWARD_REQUEST and the request body packets,
//! reused by every request the thread serves (no allocation per request in steady state).
#![forbid(unsafe_code)]

use crate::ajp;
use std::cell::RefCell;

/// Outgoing packet buffers: FORWARD_REQUEST, and body packets (the first one is kept for a
/// replay on another connection or lb member until the backend asks for more).
#[derive(Default)]
pub struct Buffers {
    pub(super) request: Vec<u8>,
    pub(super) body: Vec<u8>,
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

/// Makes `buf` at least `len` bytes long. It never shrinks, so the zero-filling happens once per
/// thread, not once per body packet (the bytes are overwritten by the read that follows).
pub(super) fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}
