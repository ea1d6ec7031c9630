//! The editable fields of an update (mod_jk reference §5.2) — `vlr`…`vll` for an lb,
//! `vwa`…`vwd` for a member, `vahst`…`vacpi` for an ajp13 worker or member — parsed from
//! their mod_jk spellings into typed settings, and the aspect edit (`att` + `val0..valN`).

use std::time::Duration;

use super::error::StatusError;
use super::request::{parse_number, Params};
use crate::config::{parse_bool, Activation, LbLock, LbMethod};

/// A change to a load balancer's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbSetting {
    Retries(u32),
    RetryInterval(Duration),
    RecoverTime(Duration),
    ErrorEscalationTime(Duration),
    MaxReplyTimeouts(u32),
    StickySession(bool),
    StickySessionForce(bool),
    Method(LbMethod),
    Lock(LbLock),
}

/// A change to an lb member's balancing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberSetting {
    Activation(Activation),
    LbFactor(u32),
    Route(String),
    Redirect(String),
    Domain(String),
    Distance(u32),
}

/// A change to an ajp13 worker's (or member's) connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AjpSetting {
    Host(String),
    /// Applies to new connections only.
    Port(u16),
    ConnectionPoolTimeout(Duration),
    PingTimeout(Duration),
    ConnectTimeout(Duration),
    PrepostTimeout(Duration),
    ReplyTimeout(Duration),
    Retries(u32),
    RetryInterval(Duration),
    RecoveryOptions(u32),
    BusyLimit(u32),
    MaxPacketSize(u32),
    ConnectionPingInterval(Duration),
}

/// One parsed `v*` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Lb(LbSetting),
    Member(MemberSetting),
    Ajp(AjpSetting),
}

/// Every editable field, by its parameter name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    LbRetries,
    LbRetryInterval,
    LbRecoverTime,
    LbErrorEscalationTime,
    LbMaxReplyTimeouts,
    LbStickySession,
    LbStickySessionForce,
    LbMethod,
    LbLock,
    MemberActivation,
    MemberLbFactor,
    MemberRoute,
    MemberRedirect,
    MemberDomain,
    MemberDistance,
    AjpHost,
    AjpPort,
    AjpConnectionPoolTimeout,
    AjpPingTimeout,
    AjpConnectTimeout,
    AjpPrepostTimeout,
    AjpReplyTimeout,
    AjpRetries,
    AjpRetryInterval,
    AjpConnectionPingInterval,
    AjpRecoveryOptions,
    AjpBusyLimit,
    AjpMaxPacketSize,
}

use EditField as F;

/// Parameter name and form label of each field, in mod_jk's form order.
const FIELDS: [(EditField, &str, &str); 28] = [
    (F::LbRetries, "vlr", "Retries"),
    (F::LbRetryInterval, "vlri", "Retry Interval"),
    (F::LbRecoverTime, "vlt", "Recover Wait Time"),
    (F::LbErrorEscalationTime, "vlee", "Error Escalation Time"),
    (F::LbMaxReplyTimeouts, "vlx", "Max Reply Timeouts"),
    (F::LbStickySession, "vls", "Sticky Sessions"),
    (F::LbStickySessionForce, "vlf", "Force Sticky Sessions"),
    (F::LbMethod, "vlm", "LB Method"),
    (F::LbLock, "vll", "Locking"),
    (F::MemberActivation, "vwa", "Activation"),
    (F::MemberLbFactor, "vwf", "LB Factor"),
    (F::MemberRoute, "vwn", "Route"),
    (F::MemberRedirect, "vwr", "Redirect Route"),
    (F::MemberDomain, "vwc", "Cluster Domain"),
    (F::MemberDistance, "vwd", "Distance"),
    (F::AjpHost, "vahst", "Hostname"),
    (F::AjpPort, "vaprt", "Port"),
    (
        F::AjpConnectionPoolTimeout,
        "vacpt",
        "Connection Pool Timeout",
    ),
    (F::AjpPingTimeout, "vapng", "Ping Timeout"),
    (F::AjpConnectTimeout, "vact", "Connect Timeout"),
    (F::AjpPrepostTimeout, "vapt", "Prepost Timeout"),
    (F::AjpReplyTimeout, "vart", "Reply Timeout"),
    (F::AjpRetries, "var", "Retries"),
    (F::AjpRetryInterval, "vari", "Retry Interval"),
    (
        F::AjpConnectionPingInterval,
        "vacpi",
        "Connection Ping Interval",
    ),
    (F::AjpRecoveryOptions, "varo", "Recovery Options"),
    (F::AjpBusyLimit, "vabl", "Busy Limit"),
    (F::AjpMaxPacketSize, "vamps", "Max Packet Size"),
];

impl EditField {
    pub fn all() -> impl Iterator<Item = EditField> {
        FIELDS.iter().map(|(field, _, _)| *field)
    }

    fn entry(self) -> &'static (EditField, &'static str, &'static str) {
        FIELDS
            .iter()
            .find(|(field, _, _)| *field == self)
            .expect("every field is in FIELDS")
    }

    /// The query parameter (`vlr`, `vwa`, …).
    pub fn param(self) -> &'static str {
        self.entry().1
    }

    /// The label mod_jk's forms show.
    pub fn label(self) -> &'static str {
        self.entry().2
    }

    pub fn from_param(param: &str) -> Option<EditField> {
        FIELDS.iter().find(|(_, p, _)| *p == param).map(|e| e.0)
    }

    /// May be set for all members at once (`att`): every member and ajp field.
    pub fn is_aspect(self) -> bool {
        !self.param().starts_with("vl")
    }

    /// Parses a value in mod_jk's spellings: numbers, `vlm` 0..4 or r/t/b/s/n, `vll` 0/o or
    /// 1/p, `vwa` 0/a, 1/d, 2/s, booleans as in workers.properties. Connection values out of
    /// mod_jk's range are refused (mod_jk ignores them silently): `var` 0, a `vamps` outside
    /// 8192..65536 once rounded up to a multiple of 1024 (as mod_jk rounds it), a `vahst`
    /// that is empty or has blanks.
    pub fn parse(self, value: &str) -> Result<Setting, StatusError> {
        let invalid = || StatusError::InvalidValue {
            param: self.param().to_owned(),
            value: value.to_owned(),
        };
        let n = || parse_number(value).ok_or_else(invalid);
        let ms = || n().map(|v| Duration::from_millis(v.into()));
        let secs = || n().map(|v| Duration::from_secs(v.into()));
        let text = || value.trim().to_owned();
        use AjpSetting as A;
        use LbSetting as L;
        use MemberSetting as M;
        Ok(match self {
            F::LbRetries => Setting::Lb(L::Retries(n()?)),
            F::LbRetryInterval => Setting::Lb(L::RetryInterval(ms()?)),
            F::LbRecoverTime => Setting::Lb(L::RecoverTime(secs()?)),
            F::LbErrorEscalationTime => Setting::Lb(L::ErrorEscalationTime(secs()?)),
            F::LbMaxReplyTimeouts => Setting::Lb(L::MaxReplyTimeouts(n()?)),
            F::LbStickySession => Setting::Lb(L::StickySession(bool_value(value, invalid)?)),
            F::LbStickySessionForce => {
                Setting::Lb(L::StickySessionForce(bool_value(value, invalid)?))
            }
            F::LbMethod => Setting::Lb(L::Method(LbMethod::parse(value).ok_or_else(invalid)?)),
            F::LbLock => Setting::Lb(L::Lock(LbLock::parse(value).ok_or_else(invalid)?)),
            F::MemberActivation => {
                Setting::Member(M::Activation(Activation::parse(value).ok_or_else(invalid)?))
            }
            F::MemberLbFactor => Setting::Member(M::LbFactor(n()?)),
            F::MemberRoute => Setting::Member(M::Route(text())),
            F::MemberRedirect => Setting::Member(M::Redirect(text())),
            F::MemberDomain => Setting::Member(M::Domain(text())),
            F::MemberDistance => Setting::Member(M::Distance(n()?)),
            F::AjpHost => Setting::Ajp(A::Host(host(value).ok_or_else(invalid)?)),
            F::AjpPort => {
                let port = u16::try_from(n()?).map_err(|_| invalid())?;
                Setting::Ajp(A::Port(port))
            }
            F::AjpConnectionPoolTimeout => Setting::Ajp(A::ConnectionPoolTimeout(secs()?)),
            F::AjpPingTimeout => Setting::Ajp(A::PingTimeout(ms()?)),
            F::AjpConnectTimeout => Setting::Ajp(A::ConnectTimeout(ms()?)),
            F::AjpPrepostTimeout => Setting::Ajp(A::PrepostTimeout(ms()?)),
            F::AjpReplyTimeout => Setting::Ajp(A::ReplyTimeout(ms()?)),
            F::AjpRetries => Setting::Ajp(A::Retries(n().and_then(at_least_one(invalid))?)),
            F::AjpRetryInterval => Setting::Ajp(A::RetryInterval(ms()?)),
            F::AjpConnectionPingInterval => Setting::Ajp(A::ConnectionPingInterval(secs()?)),
            F::AjpRecoveryOptions => Setting::Ajp(A::RecoveryOptions(n()?)),
            F::AjpBusyLimit => Setting::Ajp(A::BusyLimit(n()?)),
            F::AjpMaxPacketSize => {
                Setting::Ajp(A::MaxPacketSize(packet_size(n()?).ok_or_else(invalid)?))
            }
        })
    }
}

/// A host name or address (the port goes in `vaprt`); the edit form sends a Unix-socket
/// worker's `unix:/path` back as it is, which only counts if it is unchanged.
fn host(value: &str) -> Option<String> {
    let host = value.trim();
    let plain = !host.is_empty() && !host.contains(|c: char| c.is_whitespace() || c.is_control());
    plain.then(|| host.to_owned())
}

fn at_least_one(invalid: impl Fn() -> StatusError) -> impl Fn(u32) -> Result<u32, StatusError> {
    move |n| if n >= 1 { Ok(n) } else { Err(invalid()) }
}

/// mod_jk's `max_packet_size` rule: rounded up to a multiple of 1024, then 8192..=65536.
fn packet_size(requested: u32) -> Option<u32> {
    let rounded = requested.checked_next_multiple_of(1024)?;
    (8192..=65536).contains(&rounded).then_some(rounded)
}

fn bool_value(value: &str, invalid: impl Fn() -> StatusError) -> Result<bool, StatusError> {
    parse_bool(value).ok_or_else(invalid)
}

/// The settings one update changes, grouped by what they apply to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edits {
    pub lb: Vec<LbSetting>,
    pub member: Vec<MemberSetting>,
    pub ajp: Vec<AjpSetting>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.lb.is_empty() && self.member.is_empty() && self.ajp.is_empty()
    }

    pub fn push(&mut self, setting: Setting) {
        match setting {
            Setting::Lb(s) => self.lb.push(s),
            Setting::Member(s) => self.member.push(s),
            Setting::Ajp(s) => self.ajp.push(s),
        }
    }
}

/// `att=<field>` with `val<i>` = the new value for member number `i` (in lb order); for
/// `cmd=edit` the values are empty and the form for `att` is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AspectEdit {
    pub field: EditField,
    pub values: Vec<(usize, Setting)>,
}

/// The `v*` settings and the aspect edit of a request.
pub(crate) fn parse_edits(params: &Params) -> Result<(Edits, Option<AspectEdit>), StatusError> {
    let mut edits = Edits::default();
    for field in EditField::all() {
        if let Some(value) = params.get(field.param()) {
            edits.push(field.parse(value)?);
        }
    }
    let Some(att) = params.get("att") else {
        return Ok((edits, None));
    };
    let field = EditField::from_param(att)
        .filter(|f| f.is_aspect())
        .ok_or(StatusError::InvalidAttribute)?;
    let mut values = Vec::new();
    for (index, value) in params.numbered("val") {
        values.push((index, field.parse(value)?));
    }
    values.sort_by_key(|(index, _)| *index);
    values.dedup_by_key(|(index, _)| *index);
    Ok((edits, Some(AspectEdit { field, values })))
}
