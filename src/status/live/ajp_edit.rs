//! The connection settings of an ajp13 worker edited at run time (`vahst` … `vacpi` and
//! `vabl`, mod_jk reference §5.2): checked whole first — a new host and port are resolved
//! together, a Unix-socket worker keeps its address — then written into every shared record
//! of the worker (its own, and its record in each lb that names it), one edit per record, so
//! every process picks them up together for its next request (`backend/live.rs`).

use std::net::ToSocketAddrs;
use std::time::Duration;

use super::super::edits::AjpSetting;
use super::super::error::StatusError;
use super::LiveTarget;
use crate::balancer::Balancer;
use crate::config::WorkerDef;
use crate::proxy::Target;
use crate::shm::{MemberRecord, MemberSettings, ShortText};

/// One shared record of a worker.
enum Place<'a> {
    Member {
        lb: &'a str,
        balancer: &'a Balancer,
        index: usize,
    },
    Plain(&'a MemberRecord),
}

impl Place<'_> {
    fn settings(&self) -> Option<MemberSettings> {
        match self {
            Place::Member {
                balancer, index, ..
            } => balancer.members().get(*index).map(MemberRecord::settings),
            Place::Plain(record) => Some(record.settings()),
        }
    }

    /// Applies `edit` (under the lb's lock for a member); the settings before and after.
    fn edit(
        &self,
        edit: impl FnOnce(&mut MemberSettings),
    ) -> Option<(MemberSettings, MemberSettings)> {
        let old = self.settings()?;
        match self {
            Place::Member {
                balancer, index, ..
            } => {
                balancer.update_member(*index, edit);
            }
            Place::Plain(record) => {
                record.update_settings(edit);
            }
        }
        Some((old, self.settings()?))
    }
}

impl<'a> LiveTarget<'a> {
    /// Every shared record of worker `name`: as a member of each lb that names it, and as a
    /// plain worker when it has a record of its own.
    fn places(&self, name: &str) -> Vec<Place<'a>> {
        let rt = self.rt;
        let mut places = Vec::new();
        for def in rt.workers.defs.values() {
            let WorkerDef::Lb(lb) = def else {
                continue;
            };
            let Some(service) = rt.lb(&lb.name) else {
                continue;
            };
            if let Some(index) = service.balancer.member_index(name) {
                places.push(Place::Member {
                    lb: lb.name.as_str(),
                    balancer: &service.balancer,
                    index,
                });
            }
        }
        if let Ok(Target::Ajp(worker)) = rt.target(name) {
            places.extend(worker.record().map(Place::Plain));
        }
        places
    }

    /// Sets `settings` on every record of `worker`, or on none.
    pub(super) fn edit_ajp(
        &mut self,
        worker: &str,
        settings: &[AjpSetting],
    ) -> Result<(), StatusError> {
        let places = self.places(worker);
        let before = places
            .first()
            .and_then(Place::settings)
            .ok_or(StatusError::UpdateFailed)?;
        let host = self.new_host(worker, &before, settings)?;
        let apply = |s: &mut MemberSettings| {
            for setting in settings {
                apply_ajp(s, setting, host);
            }
        };
        let mut after = before;
        apply(&mut after);
        self.check_address(worker, &before, &after)?;
        for place in &places {
            let Some((old, new)) = place.edit(apply) else {
                return Err(StatusError::UpdateFailed);
            };
            let (lb, member) = match place {
                Place::Member { lb, .. } => (*lb, Some(worker)),
                Place::Plain(_) => (worker, None),
            };
            for setting in settings {
                let (field, was) = ajp_field(setting, &old);
                let (_, is) = ajp_field(setting, &new);
                self.note(lb, member, field, was, is);
            }
        }
        Ok(())
    }

    /// A new host or port must resolve (together) before anything is written; a worker on a
    /// Unix socket keeps its address. A journal replayed at start-up is not resolved: a name
    /// that does not resolve yet is tried again at the first connection, as a configured one.
    fn check_address(
        &self,
        worker: &str,
        before: &MemberSettings,
        after: &MemberSettings,
    ) -> Result<(), StatusError> {
        let (b, a) = (&before.ajp, &after.ajp);
        if a.host == b.host && a.port == b.port {
            return Ok(());
        }
        let backend = self.rt.backend(worker).ok_or(StatusError::UpdateFailed)?;
        if backend.settings.unix_socket.is_some() {
            return Err(StatusError::AddressFixed {
                worker: worker.to_owned(),
            });
        }
        if !self.resolve {
            return Ok(());
        }
        let host = match a.host.is_empty() {
            true => backend.settings.host.as_str(),
            false => a.host.as_str(),
        };
        let unresolvable = || StatusError::Unresolvable {
            address: format!("{host}:{}", a.port),
            worker: worker.to_owned(),
        };
        let mut found = (host, a.port)
            .to_socket_addrs()
            .map_err(|_| unresolvable())?;
        found.next().map(drop).ok_or_else(unresolvable)
    }
}

impl LiveTarget<'_> {
    /// The host `settings` set, if it differs from the one in force (the edit form sends the
    /// current one back, which may be a Unix socket path or a name a record cannot hold).
    fn new_host(
        &self,
        worker: &str,
        before: &MemberSettings,
        settings: &[AjpSetting],
    ) -> Result<Option<ShortText>, StatusError> {
        let Some(host) = settings.iter().rev().find_map(|s| match s {
            AjpSetting::Host(h) => Some(h.as_str()),
            _ => None,
        }) else {
            return Ok(None);
        };
        let backend = self.rt.backend(worker).ok_or(StatusError::UpdateFailed)?;
        let current = match before.ajp.host.is_empty() {
            true => backend.settings.host.as_str(),
            false => before.ajp.host.as_str(),
        };
        if host == current {
            return Ok(None);
        }
        if backend.settings.unix_socket.is_some() {
            return Err(StatusError::AddressFixed {
                worker: worker.to_owned(),
            });
        }
        if host.starts_with(crate::config::UNIX_PREFIX) {
            return Err(StatusError::InvalidValue {
                param: "vahst".to_owned(),
                value: host.to_owned(),
            });
        }
        ShortText::new(host)
            .map(Some)
            .map_err(|_| StatusError::TooLong {
                what: "host name",
                value: host.to_owned(),
                worker: worker.to_owned(),
            })
    }
}

fn ms(d: &Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn secs(d: &Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// `host` is the new host, already checked to fit (`None`: the host stays).
fn apply_ajp(s: &mut MemberSettings, setting: &AjpSetting, host: Option<ShortText>) {
    let a = &mut s.ajp;
    match setting {
        AjpSetting::Host(_) => a.host = host.unwrap_or(a.host),
        AjpSetting::Port(p) => a.port = *p,
        AjpSetting::ConnectionPoolTimeout(d) => a.connection_pool_timeout_s = secs(d),
        AjpSetting::PingTimeout(d) => a.ping_timeout_ms = ms(d),
        AjpSetting::ConnectTimeout(d) => a.connect_timeout_ms = ms(d),
        AjpSetting::PrepostTimeout(d) => a.prepost_timeout_ms = ms(d),
        AjpSetting::ReplyTimeout(d) => a.reply_timeout_ms = ms(d),
        AjpSetting::Retries(n) => a.retries = *n,
        AjpSetting::RetryInterval(d) => a.retry_interval_ms = ms(d),
        AjpSetting::RecoveryOptions(n) => a.recovery_options = *n,
        AjpSetting::MaxPacketSize(n) => a.max_packet_size = *n,
        AjpSetting::ConnectionPingInterval(d) => a.connection_ping_interval_s = secs(d),
        AjpSetting::BusyLimit(n) => s.busy_limit = *n,
    }
}

/// The property `setting` changes and its value in `s`, in the property's unit.
fn ajp_field(setting: &AjpSetting, s: &MemberSettings) -> (&'static str, String) {
    let a = &s.ajp;
    match setting {
        AjpSetting::Host(_) => ("host", format!("\"{}\"", a.host)),
        AjpSetting::Port(_) => ("port", a.port.to_string()),
        AjpSetting::ConnectionPoolTimeout(_) => (
            "connection_pool_timeout",
            a.connection_pool_timeout_s.to_string(),
        ),
        AjpSetting::PingTimeout(_) => ("ping_timeout", a.ping_timeout_ms.to_string()),
        AjpSetting::ConnectTimeout(_) => ("connect_timeout", a.connect_timeout_ms.to_string()),
        AjpSetting::PrepostTimeout(_) => ("prepost_timeout", a.prepost_timeout_ms.to_string()),
        AjpSetting::ReplyTimeout(_) => ("reply_timeout", a.reply_timeout_ms.to_string()),
        AjpSetting::Retries(_) => ("retries", a.retries.to_string()),
        AjpSetting::RetryInterval(_) => ("retry_interval", a.retry_interval_ms.to_string()),
        AjpSetting::RecoveryOptions(_) => ("recovery_options", a.recovery_options.to_string()),
        AjpSetting::MaxPacketSize(_) => ("max_packet_size", a.max_packet_size.to_string()),
        AjpSetting::ConnectionPingInterval(_) => (
            "connection_ping_interval",
            a.connection_ping_interval_s.to_string(),
        ),
        AjpSetting::BusyLimit(_) => ("busy_limit", s.busy_limit.to_string()),
    }
}
