//! Shared memory: the state every httpd child must agree on — member states, load values,
//! busy counts, counters and run-time edits — in one `MAP_SHARED` mapping the parent makes
//! before forking (mod_jk reference §4.1, §4.10). Records are `#[repr(C)]` atomics only;
//! strings are edited under a per-record seqlock; a graceful restart hands state over to the
//! next generation's mapping, the old mapping itself surviving the module's unload as plain
//! data (`RetainedShm`). The only `unsafe` of the module is in `mapping.rs` (mmap, mincore and
//! viewing bytes as records), `retained.rs` (re-attaching a retained mapping), `lock.rs`
//! (probing a pid) and the test-only `process.rs`.
#![deny(unsafe_op_in_unsafe_fn)]

mod ajp_settings;
mod error;
mod layout;
mod lock;
mod mapping;
#[cfg(test)]
pub(crate) mod process;
mod records;
mod retained;
mod shared_state;
mod text;

pub use ajp_settings::{AjpSettings, AJP_WORDS};
pub use error::ShmError;
pub use layout::{factors_lcm, lb_multiplier, Layout, LbSpec, MemberSpec};
pub use lock::{ShmLock, ShmLockGuard, GIVE_UP_AFTER};
pub use mapping::FILE_MODE;
pub use records::edited;
pub use records::{
    activation_code, activation_from_code, lock_code, lock_from_code, method_code,
    method_from_code, Header, LbRecord, LbSettings, MemberRecord, MemberSettings, LAYOUT_VERSION,
    MAGIC, NO_LB,
};
pub use retained::{RetainedShm, RETAINED_MAGIC};
pub use shared_state::SharedState;
pub use text::{Sequence, ShortText, MAX_TEXT_LEN, TEXT_CAPACITY};
