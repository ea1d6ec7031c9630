//! The one `MAP_SHARED` mapping behind `SharedState`: anonymous by default, or a file when
//! `JkShmFile` names one — created fresh with mode 0600, never through a symlink, and never
//! reusing an existing file that group or others could write (CVE-2024-46544). A mapping can
//! also be left mapped on drop and re-attached later from its address and length (graceful
//! restart hand-over, see `retained.rs`). All of this module's `unsafe` is here: `mmap`,
//! `munmap`, `mincore`, and viewing the bytes as records.

use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::ShmError;
use super::records::{Header, LbRecord, MemberRecord};

/// Mode of a shared memory file we create.
pub const FILE_MODE: u32 = 0o600;

/// Types that may be viewed in the mapping.
///
/// # Safety
/// Implementors are `#[repr(C)]`, made only of atomics (so any bit pattern, zero included,
/// is a valid value, and shared references may be used from many processes at once) and
/// hold no pointers.
pub(super) unsafe trait SharedRecord: Sync {}

// SAFETY: Header is #[repr(C)] and made of AtomicU64/AtomicU32 only.
unsafe impl SharedRecord for Header {}
// SAFETY: LbRecord is #[repr(C)] and made of atomics (Sequence, ShmLock and SharedText wrap
// AtomicU64/AtomicU32) only.
unsafe impl SharedRecord for LbRecord {}
// SAFETY: MemberRecord is #[repr(C)] and made of atomics (Sequence and SharedText wrap
// AtomicU64) only.
unsafe impl SharedRecord for MemberRecord {}

/// The file behind a file-backed mapping, remembered so the process that made it (and only
/// that one) removes it — and only while the path still names this very file.
struct BackingFile {
    path: PathBuf,
    device: u64,
    inode: u64,
    creator: u32,
}

/// A read-write `MAP_SHARED` mapping, unmapped on drop unless [`Mapping::keep_mapped`] was
/// called. Children forked after it was made see the same memory at the same address.
pub(super) struct Mapping {
    base: NonNull<u8>,
    len: usize,
    file: Option<BackingFile>,
    /// Set once the mapping has been handed over: dropping this view must then leave the
    /// memory mapped for the view that takes it over.
    keep_mapped: AtomicBool,
}

// SAFETY: the mapping is plain memory valid until drop; it is only ever read through
// `SharedRecord` types, whose fields are atomics, so sharing and sending it across threads
// cannot cause data races.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Zeroed memory shared with children forked later.
    pub(super) fn anonymous(len: usize) -> Result<Mapping, ShmError> {
        let base = map(len, -1)?;
        Ok(Mapping {
            base,
            len,
            file: None,
            keep_mapped: AtomicBool::new(false),
        })
    }

    /// A view of memory this process already has mapped read-write and shared: `base`/`len`
    /// of a mapping that an earlier `Mapping` left mapped ([`Mapping::keep_mapped`]). The view
    /// starts out borrowing it (dropping it leaves the memory mapped) until the caller has
    /// checked it and calls [`Mapping::unmap_on_drop`]; it knows no file, so it never removes
    /// one.
    ///
    /// Refused without touching the memory: a null or unaligned `base`, a zero or
    /// overflowing length, or a range that is not entirely mapped in this process.
    ///
    /// # Safety
    /// `base..base + len` must be exactly one mapping made by [`Mapping::anonymous`] or
    /// [`Mapping::file`] (in this process or in a parent it was forked from), still mapped,
    /// and no other `Mapping` may own it (the caller makes sure of that — `from_retained` does
    /// it through the header's hand-over flag).
    pub(super) unsafe fn attach(base: usize, len: usize) -> Result<Mapping, ShmError> {
        let page = page_size();
        if base == 0 || !base.is_multiple_of(page) {
            return Err(ShmError::Retained {
                reason: "the address is not the start of a mapping",
            });
        }
        if len == 0 || base.checked_add(len).is_none() {
            return Err(ShmError::Retained {
                reason: "the length does not describe a mapping",
            });
        }
        let pages = len.div_ceil(page);
        let mut residency = vec![0u8; pages];
        // SAFETY: mincore only reports page residency of the range into `residency`, which has
        // one byte per page of it; it reads no memory of the range and fails with ENOMEM
        // (instead of faulting) if part of the range is not mapped.
        let rc = unsafe { libc::mincore(base as *mut libc::c_void, len, residency.as_mut_ptr()) };
        if rc != 0 {
            return Err(ShmError::Retained {
                reason: "the memory is not mapped in this process any more",
            });
        }
        let base = NonNull::new(base as *mut u8).ok_or(ShmError::Retained {
            reason: "the address is not the start of a mapping",
        })?;
        Ok(Mapping {
            base,
            len,
            file: None,
            keep_mapped: AtomicBool::new(true),
        })
    }

    /// Zeroed memory backed by a new file at `path` (mode 0600).
    pub(super) fn file(path: &Path, len: usize) -> Result<Mapping, ShmError> {
        remove_previous(path)?;
        let fail = |action: &'static str| {
            move |source: io::Error| ShmError::File {
                path: path.to_owned(),
                action,
                source,
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    ShmError::Symlink {
                        path: path.to_owned(),
                    }
                } else {
                    fail("create")(e)
                }
            })?;
        // The umask may have taken bits away; make it exactly 0600.
        file.set_permissions(Permissions::from_mode(FILE_MODE))
            .map_err(fail("chmod 0600"))?;
        let size = u64::try_from(len).map_err(|_| ShmError::TooLarge)?;
        file.set_len(size).map_err(fail("resize"))?;
        let meta = file.metadata().map_err(fail("stat"))?;
        let base = map(len, file.as_raw_fd())?;
        // The descriptor can go: the mapping keeps the file alive.
        drop(file);
        Ok(Mapping {
            base,
            len,
            file: Some(BackingFile {
                path: path.to_owned(),
                device: meta.dev(),
                inode: meta.ino(),
                creator: std::process::id(),
            }),
            keep_mapped: AtomicBool::new(false),
        })
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Address of the first byte.
    pub(super) fn base(&self) -> usize {
        self.base.as_ptr() as usize
    }

    /// Leaves the memory mapped when this view is dropped (the backing file, if any, is still
    /// removed then: the memory outlives its name, and the next generation makes its own
    /// file). Returns false if it was already so.
    pub(super) fn keep_mapped(&self) -> bool {
        !self.keep_mapped.swap(true, Ordering::AcqRel)
    }

    /// Makes this view the owner that unmaps the memory on drop (after [`Mapping::attach`]).
    pub(super) fn unmap_on_drop(&self) {
        self.keep_mapped.store(false, Ordering::Release);
    }

    pub(super) fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// `count` records of type `T` starting `offset` bytes into the mapping, or `None` if
    /// they would not fit or would be misaligned.
    pub(super) fn records<T: SharedRecord>(&self, offset: usize, count: usize) -> Option<&[T]> {
        let bytes = count.checked_mul(std::mem::size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        if end > self.len {
            return None;
        }
        let address = (self.base.as_ptr() as usize).checked_add(offset)?;
        if address % std::mem::align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: offset..end lies inside the mapping (checked above), which stays mapped for
        // as long as `self` is borrowed; the address is aligned for T (checked above); T is a
        // SharedRecord, so every bit pattern is a valid T and concurrent access from other
        // threads and processes goes through atomics only. We never hand out `&mut`.
        Some(unsafe {
            std::slice::from_raw_parts(self.base.as_ptr().add(offset).cast::<T>(), count)
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if !self.keep_mapped.load(Ordering::Acquire) {
            // SAFETY: base/len are exactly what mmap returned (or what `attach` was promised
            // they are), this view is their only owner, and nothing borrowed from the mapping
            // can outlive `self` (every view borrows it).
            unsafe {
                libc::munmap(self.base.as_ptr().cast(), self.len);
            }
        }
        if let Some(file) = &self.file {
            let still_ours = fs::symlink_metadata(&file.path)
                .map(|m| m.dev() == file.device && m.ino() == file.inode)
                .unwrap_or(false);
            if file.creator == std::process::id() && still_ours {
                let _ = fs::remove_file(&file.path);
            }
        }
    }
}

/// The system page size (mappings start on a page boundary).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// Maps `len` zeroed bytes: anonymous when `fd` is -1, else the file `fd`.
fn map(len: usize, fd: libc::c_int) -> Result<NonNull<u8>, ShmError> {
    let flags = if fd == -1 {
        libc::MAP_SHARED | libc::MAP_ANONYMOUS
    } else {
        libc::MAP_SHARED
    };
    // SAFETY: a fresh mapping at an address the kernel chooses touches no existing memory;
    // `fd` is -1 (anonymous) or an open descriptor of a file at least `len` bytes long.
    let address = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            fd,
            0,
        )
    };
    if address == libc::MAP_FAILED {
        return Err(ShmError::Map {
            size: len,
            source: io::Error::last_os_error(),
        });
    }
    NonNull::new(address.cast::<u8>()).ok_or_else(|| ShmError::Map {
        size: len,
        source: io::Error::from(io::ErrorKind::Other),
    })
}

/// Refuses a symlink, a non-file, a file group/others can write or another user owns at
/// `path`; otherwise removes it, so the new mapping gets a fresh file (an old generation's
/// mapping of the previous file stays valid: truncating that file instead would make its
/// readers fault).
fn remove_previous(path: &Path) -> Result<(), ShmError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ShmError::File {
                path: path.to_owned(),
                action: "stat",
                source,
            })
        }
    };
    let path_buf = || path.to_owned();
    if meta.file_type().is_symlink() {
        return Err(ShmError::Symlink { path: path_buf() });
    }
    if !meta.file_type().is_file() {
        return Err(ShmError::NotRegularFile { path: path_buf() });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(ShmError::InsecureFile {
            path: path_buf(),
            mode,
        });
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(ShmError::ForeignOwner {
            path: path_buf(),
            owner: meta.uid(),
        });
    }
    fs::remove_file(path).map_err(|source| ShmError::File {
        path: path_buf(),
        action: "remove the previous file",
        source,
    })
}
