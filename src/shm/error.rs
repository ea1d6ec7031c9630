//! What can go wrong while making or laying out the shared memory (`ShmError`), worded for the
//! httpd error log: which file, what is wrong with it, and what would be right.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the shared memory could not be made, or why a value does not fit in it.
#[derive(Debug)]
pub enum ShmError {
    /// `JkShmFile` names a symbolic link; following it would let whoever made the link choose
    /// which file httpd (often root) writes.
    Symlink { path: PathBuf },
    /// `JkShmFile` names something that is not a regular file (a directory, a fifo, ...).
    NotRegularFile { path: PathBuf },
    /// An existing `JkShmFile` is writable by group or others (mode shown in octal):
    /// anyone could rewrite the balancer state (CVE-2024-46544).
    InsecureFile { path: PathBuf, mode: u32 },
    /// An existing `JkShmFile` belongs to another user, who could make it writable later.
    ForeignOwner { path: PathBuf, owner: u32 },
    /// A system call on the shared memory file failed.
    File {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// `mmap` refused the mapping.
    Map { size: usize, source: io::Error },
    /// The configuration needs more shared memory than the address space allows.
    TooLarge,
    /// A name, route, domain or redirect longer than the 60 bytes a record holds.
    TextTooLong { text: String, max: usize },
    /// A name, route, domain or redirect with a NUL byte (records are NUL-padded).
    TextHasNul { text: String },
    /// The same lb worker or plain worker added twice to a [`super::Layout`].
    Duplicate { kind: &'static str, name: String },
    /// An lb member that is not an ajp13 worker of the configuration.
    UnknownMember { lb: String, member: String },
    /// The mapping kept over a graceful restart (`RetainedShm`) cannot be taken over; the
    /// new generation has to start from fresh state.
    Retained { reason: &'static str },
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::Symlink { path } => write!(
                f,
                "shared memory file {} is a symbolic link: refusing to follow it; point JkShmFile at a plain file in a directory only httpd can write",
                path.display()
            ),
            ShmError::NotRegularFile { path } => write!(
                f,
                "shared memory file {} is not a regular file; point JkShmFile at a plain file",
                path.display()
            ),
            ShmError::InsecureFile { path, mode } => write!(
                f,
                "shared memory file {} exists with mode {:04o}, writable by group or others (CVE-2024-46544): remove it or chmod 0600 it",
                path.display(),
                mode
            ),
            ShmError::ForeignOwner { path, owner } => write!(
                f,
                "shared memory file {} exists and belongs to uid {}, not to the user httpd runs as: remove it",
                path.display(),
                owner
            ),
            ShmError::File {
                path,
                action,
                source,
            } => write!(
                f,
                "shared memory file {}: {} failed: {}",
                path.display(),
                action,
                source
            ),
            ShmError::Map { size, source } => {
                write!(f, "cannot map {size} bytes of shared memory: {source}")
            }
            ShmError::TooLarge => write!(
                f,
                "the configuration needs more shared memory than this machine can address"
            ),
            ShmError::TextTooLong { text, max } => write!(
                f,
                "'{text}' is longer than {max} bytes, the most a shared memory record holds"
            ),
            ShmError::TextHasNul { text } => {
                write!(f, "'{}' contains a NUL byte", text.escape_debug())
            }
            ShmError::Duplicate { kind, name } => {
                write!(f, "{kind} '{name}' is laid out twice in shared memory")
            }
            ShmError::UnknownMember { lb, member } => write!(
                f,
                "lb worker '{lb}' names member '{member}', which is not an ajp13 worker"
            ),
            ShmError::Retained { reason } => write!(
                f,
                "the shared memory of the previous configuration cannot be taken over: {reason}"
            ),
        }
    }
}

impl std::error::Error for ShmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ShmError::File { source, .. } | ShmError::Map { source, .. } => Some(source),
            _ => None,
        }
    }
}
