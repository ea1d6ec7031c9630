//! Carrying out a request's command (mod_jk reference §5.2): the read-only check, then
//! update (lb settings, member settings for one member, a `sw` wildcard or every member
//! via the aspect edit), reset and recover — through [`StatusTarget`], which the shell
//! implements over shared memory.

use super::edits::{AjpSetting, MemberSetting, Setting};
use super::error::StatusError;
use super::model::{Member, Snapshot};
use super::request::{Command, DisplayOption, StatusRequest};
use super::target::{resolve, Target};
use crate::config::{StatusWorker, MAX_NAME_LEN};

/// Where edits land. Each method returns whether it was applied (`false`: the record is
/// gone or refused the value); setting a value a field already has counts as applied.
pub trait StatusTarget {
    fn set_balancer(&mut self, lb: &str, setting: &super::edits::LbSetting) -> bool;
    fn set_member(&mut self, lb: &str, member: &str, setting: &MemberSetting) -> bool;
    /// Sets the connection settings of `worker`, a plain ajp13 worker or an lb member
    /// (members are ajp13 workers), all or none: a new host and port are resolved together
    /// first. `Err(UpdateFailed)` when the worker has no record; the other errors name why.
    fn set_ajp(&mut self, worker: &str, settings: &[AjpSetting]) -> Result<(), StatusError>;
    /// Zero the statistics of an lb and its members, one member, or a plain worker.
    fn reset(&mut self, worker: &str, member: Option<&str>) -> bool;
    /// A member in error goes to recovering now; `false` when it is not in error.
    fn recover(&mut self, lb: &str, member: &str) -> bool;
}

/// Runs `request`'s command against `target`; `Ok` is mod_jk's "Action finished".
/// The caller has already checked the user ([`super::check_user`]) and, for state
/// changes, the origin ([`super::check_change`]).
pub fn execute(
    request: &StatusRequest,
    snapshot: &Snapshot,
    status: &StatusWorker,
    target: &mut impl StatusTarget,
) -> Result<(), StatusError> {
    let read_only = status.read_only || request.options.has(DisplayOption::ReadOnly);
    if read_only && request.command.needs_write_access() {
        return Err(StatusError::ReadOnly);
    }
    match request.command {
        Command::List | Command::Version | Command::Dump => Ok(()),
        Command::Show | Command::Edit => resolve(snapshot, request, false).map(drop),
        Command::Update => update(request, resolve(snapshot, request, true)?, target),
        Command::Reset => {
            let done = match resolve(snapshot, request, false)? {
                Target::Balancer {
                    lb,
                    members,
                    narrowed,
                } => {
                    let member = narrowed.then(|| members[0].name.as_str());
                    target.reset(&lb.name, member)
                }
                Target::Ajp(worker) => target.reset(&worker.name, None),
            };
            done.then_some(()).ok_or(StatusError::ResetFailed)
        }
        Command::Recover => match resolve(snapshot, request, false)? {
            Target::Balancer {
                narrowed: false, ..
            } => Err(StatusError::NoMemberParam),
            Target::Balancer { lb, members, .. } => target
                .recover(&lb.name, &members[0].name)
                .then_some(())
                .ok_or(StatusError::RecoverFailed),
            Target::Ajp(_) => Err(StatusError::NoMembers),
        },
    }
}

fn update(
    request: &StatusRequest,
    resolved: Target<'_>,
    target: &mut impl StatusTarget,
) -> Result<(), StatusError> {
    let edits = &request.edits;
    match resolved {
        Target::Ajp(worker) => {
            for setting in &edits.ajp {
                check_length(
                    &Setting::Ajp(setting.clone()),
                    &worker.name,
                    &worker.ajp.host,
                )?;
            }
            if edits.ajp.is_empty() {
                return Ok(());
            }
            target.set_ajp(&worker.name, &edits.ajp)
        }
        Target::Balancer {
            lb,
            narrowed: false,
            ..
        } => {
            for setting in &edits.lb {
                if !target.set_balancer(&lb.name, setting) {
                    return Err(StatusError::UpdateFailed);
                }
            }
            let Some(aspect) = &request.aspect else {
                return Ok(());
            };
            for (index, setting) in &aspect.values {
                if let Some(member) = lb.members.get(*index) {
                    apply_member(
                        target,
                        &lb.name,
                        member,
                        std::slice::from_ref(setting),
                        false,
                    )?;
                }
            }
            Ok(())
        }
        Target::Balancer { lb, members, .. } => {
            let wildcard = request
                .member
                .as_deref()
                .is_some_and(|m| m.contains(['*', '?']));
            let settings: Vec<Setting> = edits
                .member
                .iter()
                .cloned()
                .map(Setting::Member)
                .chain(edits.ajp.iter().cloned().map(Setting::Ajp))
                .collect();
            for member in members {
                apply_member(target, &lb.name, member, &settings, wildcard)?;
            }
            Ok(())
        }
    }
}

/// Applies member and ajp settings to one member; lb settings have no place here. Lengths
/// are checked first and the connection settings (all or none) go before the member's own,
/// so a refused host leaves the member as it was.
fn apply_member(
    target: &mut impl StatusTarget,
    lb: &str,
    member: &Member,
    settings: &[Setting],
    wildcard: bool,
) -> Result<(), StatusError> {
    for setting in settings {
        check_length(setting, &member.name, &member.ajp.host)?;
    }
    let failed = || StatusError::UpdateFailedFor {
        member: member.name.clone(),
        wildcard,
    };
    let ajp: Vec<AjpSetting> = settings
        .iter()
        .filter_map(|s| match s {
            Setting::Ajp(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    if !ajp.is_empty() {
        target.set_ajp(&member.name, &ajp).map_err(|e| match e {
            StatusError::UpdateFailed => failed(),
            other => other,
        })?;
    }
    for setting in settings {
        if let Setting::Member(s) = setting {
            if !target.set_member(lb, &member.name, s) {
                return Err(failed());
            }
        }
    }
    Ok(())
}

/// Routes, redirects, domains and host names live in 64-byte shared-memory strings; the
/// host in force (`host`), which the edit form sends back, may be longer (a Unix socket
/// path) and stays as it is.
fn check_length(setting: &Setting, worker: &str, host: &str) -> Result<(), StatusError> {
    let (what, value) = match setting {
        Setting::Member(MemberSetting::Route(v)) => ("route", v),
        Setting::Member(MemberSetting::Redirect(v)) => ("redirect", v),
        Setting::Member(MemberSetting::Domain(v)) => ("domain", v),
        Setting::Ajp(AjpSetting::Host(v)) if v != host => ("host name", v),
        _ => return Ok(()),
    };
    if value.len() <= MAX_NAME_LEN {
        return Ok(());
    }
    Err(StatusError::TooLong {
        what,
        value: value.clone(),
        worker: worker.to_owned(),
    })
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
