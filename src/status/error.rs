//! Why a status request failed, with the texts mod_jk 1.2.48 prints after
//! `Result: type=ERROR message=` (clients match on them, so they stay word for word).

use std::fmt;

/// One failed status request. `Display` is the message mod_jk shows (§5, samples `error-*`);
/// the variants marked "ours" have no mod_jk counterpart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusError {
    /// The query string has a broken `%` escape.
    UriParse,
    /// `user` list set and the authenticated user is not in it.
    AccessDenied,
    /// `read_only=true` or `opt=0x20` with edit/update/reset/recover.
    ReadOnly,
    /// `cmd` names no command.
    InvalidCommand,
    /// `mime` names no format.
    InvalidMime,
    /// `w` missing or empty for a command that needs it.
    NoWorkerParam,
    /// `w` names no worker this status worker shows (members are addressed via `sw`).
    UnknownWorker,
    /// `sw` missing for a command on a member.
    NoMemberParam,
    /// `sw` given for a worker that is not a load balancer.
    NoMembers,
    /// `sw` names no member of `w` (or the wildcard matches none).
    UnknownMember,
    /// `*` or `?` in `sw` for a command other than update.
    WildcardNotAllowed,
    /// An update changed nothing it was asked to (a target refused a value).
    UpdateFailed,
    /// An update failed for one member of a wildcard; later members were not tried.
    UpdateFailedFor {
        member: String,
        wildcard: bool,
    },
    /// A route, redirect, domain or host longer than shared memory holds.
    TooLong {
        what: &'static str,
        value: String,
        worker: String,
    },
    /// A new host or port of an ajp13 worker that does not resolve (nothing is changed).
    Unresolvable {
        address: String,
        worker: String,
    },
    /// Ours: a new host or port for a worker on a Unix domain socket, whose address is fixed.
    AddressFixed {
        worker: String,
    },
    /// Ours: a value that is not a number, a keyword or a port where one is expected.
    InvalidValue {
        param: String,
        value: String,
    },
    /// `att` names no aspect-editable attribute (ours; mod_jk ignores it).
    InvalidAttribute,
    ResetFailed,
    RecoverFailed,
    /// Ours: a state change a browser marked as coming from another site.
    CrossSite,
    /// Ours: a state change from our HTML form without the right token.
    BadToken,
}

impl StatusError {
    /// The HTTP status to send. mod_jk answers 200 to every failure and the tools that
    /// read it (Nagios plugins, deploy scripts) look at the body, so its errors keep 200;
    /// only the refusals mod_jk never makes get a real status.
    pub fn http_status(&self) -> u16 {
        match self {
            StatusError::CrossSite | StatusError::BadToken => 403,
            _ => 200,
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            StatusError::UriParse => "Error during parsing of URI",
            StatusError::AccessDenied => "Access denied.",
            StatusError::ReadOnly => "This command is not allowed in read only mode.",
            StatusError::InvalidCommand => "Invalid command.",
            StatusError::InvalidMime => "Invalid mime type.",
            StatusError::NoWorkerParam => "NULL or EMPTY worker param",
            StatusError::UnknownWorker => "Could not find given worker",
            StatusError::NoMemberParam => "NULL or EMPTY sub_worker param",
            StatusError::NoMembers => "worker type has no sub workers",
            StatusError::UnknownMember => "could not find sub worker",
            StatusError::WildcardNotAllowed => {
                "wildcard not allowed in sub worker for this command"
            }
            StatusError::UpdateFailed => "Update failed",
            StatusError::UpdateFailedFor { member, wildcard } => {
                write!(f, "Update failed (at least partially) for sub worker '{member}'")?;
                if *wildcard {
                    f.write_str(" Aborting further wildcard updates.")?;
                }
                return Ok(());
            }
            StatusError::TooLong {
                what,
                value,
                worker,
            } => {
                return write!(
                    f,
                    "Update failed (at least partially): new {what} '{value}' too long for sub worker '{worker}', see log file for details."
                )
            }
            StatusError::Unresolvable { address, worker } => {
                return write!(
                    f,
                    "Update failed (at least partially): could not resolve address '{address}' for sub worker '{worker}'."
                )
            }
            StatusError::AddressFixed { worker } => {
                return write!(
                    f,
                    "Update failed (at least partially): sub worker '{worker}' uses a Unix domain socket; its host and port cannot change at run time."
                )
            }
            StatusError::InvalidValue { param, value } => {
                return write!(
                    f,
                    "Update failed (at least partially): invalid value '{value}' for '{param}'"
                )
            }
            StatusError::InvalidAttribute => "Invalid attribute for aspect edit.",
            StatusError::ResetFailed => "Reset failed",
            StatusError::RecoverFailed => "Marking worker for recovery failed",
            StatusError::CrossSite => "Refused: a cross-site request may not change state.",
            StatusError::BadToken => "Refused: missing or wrong form token.",
        };
        f.write_str(text)
    }
}
