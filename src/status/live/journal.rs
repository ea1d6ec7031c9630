//! Run-time edits kept across a full restart (`worker.<status>.persist=<file>`, beyond mod_jk,
//! which loses them; httpd's `BalancerPersist` does the same for mod_proxy_balancer). The
//! journal is the edits in force written as status-page updates (`w=lb&sw=m1&vwa=Disabled`),
//! one per line, under a header and above a SHA-256 of everything before it; at start-up it
//! is checked whole and replayed through the same `execute` as the page, or refused whole.
//! Only what the page edited is written (the records' edited bits), so a value changed later
//! in workers.properties is not overridden by an old journal unless the page edited it.
//! This file holds the format and the replay; the shell reads and writes the file.
use super::super::sha256::sha256;
use super::super::{execute, parse_query, Command, Snapshot};
use super::{snapshot, Change, LiveTarget, SnapshotEnv};
use crate::config::{Activation, StatusWorker};
use crate::proxy::Runtime;
use crate::proxy::Target;
use crate::shm::{edited, MemberSettings};
use std::fmt::Write as _;

/// The first line of every journal (format 1).
pub const HEADER: &str =
    "# mod_jk_rs run-time edits, format 1 (status page updates replayed at start-up)";
const CHECKSUM: &str = "# sha256 ";

/// Why a journal is not used (nothing of it is applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalError(pub String);

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Active => "Active",
        Activation::Disabled => "Disabled",
        Activation::Stopped => "Stopped",
    }
}

/// The edits in force, one update query per lb, per member and per plain ajp13 worker
/// that the page edited.
pub fn current(rt: &Runtime) -> Vec<String> {
    let mut lines = Vec::new();
    for name in &rt.workers.list {
        if let Ok(Target::Ajp(worker)) = rt.target(name) {
            if let Some(record) = worker.record() {
                let q = ajp_query(record.edited(), &record.settings());
                if !q.is_empty() {
                    lines.push(format!("w={}{q}", encode(name)));
                }
            }
            continue;
        }
        let (Some(service), Some(def)) = (rt.lb(name), rt.workers.lb(name)) else {
            continue;
        };
        let balancer = &service.balancer;
        if let (Some(record), Some(s)) = (balancer.record(), balancer.settings()) {
            let bits = record.edited();
            let mut q = String::new();
            let mut add = |bit: u64, param: &str, value: String| {
                if bits & bit != 0 {
                    let _ = write!(q, "&{param}={}", encode(&value));
                }
            };
            add(edited::RETRIES, "vlr", s.retries.to_string());
            add(
                edited::RETRY_INTERVAL,
                "vlri",
                s.retry_interval_ms.to_string(),
            );
            add(
                edited::RECOVER_TIME,
                "vlt",
                (s.recover_time_ms / 1000).to_string(),
            );
            add(
                edited::ERROR_ESCALATION_TIME,
                "vlee",
                (s.error_escalation_time_ms / 1000).to_string(),
            );
            add(
                edited::MAX_REPLY_TIMEOUTS,
                "vlx",
                s.max_reply_timeouts.to_string(),
            );
            add(
                edited::STICKY_SESSION,
                "vls",
                u8::from(s.sticky_session).to_string(),
            );
            add(
                edited::STICKY_SESSION_FORCE,
                "vlf",
                u8::from(s.sticky_session_force).to_string(),
            );
            add(edited::METHOD, "vlm", s.method.name().to_string());
            add(edited::LOCK, "vll", s.lock.name().to_string());
            if !q.is_empty() {
                lines.push(format!("w={}{q}", encode(name)));
            }
        }
        for (member, record) in def.members.iter().zip(balancer.members()) {
            let bits = record.edited();
            let s = record.settings();
            let mut q = String::new();
            let mut add = |bit: u64, param: &str, value: &str| {
                if bits & bit != 0 {
                    let _ = write!(q, "&{param}={}", encode(value));
                }
            };
            add(edited::ACTIVATION, "vwa", activation_name(s.activation));
            add(edited::LB_FACTOR, "vwf", &s.lb_factor.to_string());
            add(edited::ROUTE, "vwn", s.route.as_str());
            add(edited::REDIRECT, "vwr", s.redirect.as_str());
            add(edited::DOMAIN, "vwc", s.domain.as_str());
            add(edited::DISTANCE, "vwd", &s.distance.to_string());
            q.push_str(&ajp_query(bits, &s));
            if !q.is_empty() {
                lines.push(format!("w={}&sw={}{q}", encode(name), encode(member)));
            }
        }
    }
    lines
}

/// The connection settings among `bits` as `&vabl=…&vahst=…` (empty when none).
fn ajp_query(bits: u64, s: &MemberSettings) -> String {
    let a = &s.ajp;
    let fields: [(u64, &str, String); 13] = [
        (edited::BUSY_LIMIT, "vabl", s.busy_limit.to_string()),
        (edited::HOST, "vahst", a.host.to_string()),
        (edited::PORT, "vaprt", a.port.to_string()),
        (
            edited::CONNECTION_POOL_TIMEOUT,
            "vacpt",
            a.connection_pool_timeout_s.to_string(),
        ),
        (edited::PING_TIMEOUT, "vapng", a.ping_timeout_ms.to_string()),
        (
            edited::CONNECT_TIMEOUT,
            "vact",
            a.connect_timeout_ms.to_string(),
        ),
        (
            edited::PREPOST_TIMEOUT,
            "vapt",
            a.prepost_timeout_ms.to_string(),
        ),
        (
            edited::REPLY_TIMEOUT,
            "vart",
            a.reply_timeout_ms.to_string(),
        ),
        (edited::AJP_RETRIES, "var", a.retries.to_string()),
        (
            edited::AJP_RETRY_INTERVAL,
            "vari",
            a.retry_interval_ms.to_string(),
        ),
        (
            edited::RECOVERY_OPTIONS,
            "varo",
            a.recovery_options.to_string(),
        ),
        (
            edited::MAX_PACKET_SIZE,
            "vamps",
            a.max_packet_size.to_string(),
        ),
        (
            edited::CONNECTION_PING_INTERVAL,
            "vacpi",
            a.connection_ping_interval_s.to_string(),
        ),
    ];
    let mut q = String::new();
    for (bit, param, value) in fields {
        if bits & bit != 0 {
            let _ = write!(q, "&{param}={}", encode(&value));
        }
    }
    q
}

/// `%`-encodes what a query value cannot hold as is.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The journal's text: header, lines, checksum.
pub fn render(lines: &[String]) -> String {
    let mut text = format!("{HEADER}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let sum = hex(&sha256(&[text.as_bytes()]));
    text.push_str(CHECKSUM);
    text.push_str(&sum);
    text.push('\n');
    text
}

/// The lines of a journal's text, once its header and checksum are right.
pub fn parse(text: &str) -> Result<Vec<String>, JournalError> {
    let fail = |why: &str| Err(JournalError(why.to_string()));
    let Some(body) = text.strip_suffix('\n') else {
        return fail("it is cut short (no final newline)");
    };
    let Some((content, last)) = body.rsplit_once('\n') else {
        return fail("it has no checksum line");
    };
    let Some(sum) = last.strip_prefix(CHECKSUM) else {
        return fail("it has no checksum line");
    };
    let mut covered = content.to_string();
    covered.push('\n');
    if hex(&sha256(&[covered.as_bytes()])) != sum {
        return fail("its checksum does not match its content (changed or damaged)");
    }
    let mut lines = content.lines();
    if lines.next() != Some(HEADER) {
        return fail("it is not a mod_jk_rs journal of this format");
    }
    Ok(lines.map(str::to_string).collect())
}

/// Checks every line against `rt` (an update of an lb or member that exists), then replays
/// them all; on any error nothing is applied.
pub fn replay(
    rt: &Runtime,
    lines: &[String],
    env: &SnapshotEnv<'_>,
) -> Result<Vec<Change>, JournalError> {
    let snap: Snapshot = snapshot(rt, env);
    let mut requests = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let at = |why: String| JournalError(format!("line {}: {why}", i + 2));
        let request = parse_query(&format!("cmd=update&mime=txt&{line}"))
            .map_err(|e| at(e.error.to_string()))?;
        let worker = request.worker.as_deref().unwrap_or("");
        let plain = matches!(rt.target(worker), Ok(Target::Ajp(w)) if w.record().is_some());
        match rt.lb(worker) {
            Some(service) => {
                if let Some(member) = request.member.as_deref() {
                    if service.balancer.member_index(member).is_none() {
                        return Err(at(format!("'{member}' is not a member of '{worker}'")));
                    }
                }
            }
            None if plain && request.member.is_none() => {}
            None => {
                return Err(at(format!(
                    "no lb or ajp13 worker '{worker}' in this configuration"
                )))
            }
        }
        if request.command != Command::Update {
            return Err(at("not an update".into()));
        }
        requests.push(request);
    }
    let replayer = StatusWorker::with_defaults("journal");
    let mut target = LiveTarget::replaying(rt, env.now_ms);
    for request in &requests {
        execute(request, &snap, &replayer, &mut target)
            .map_err(|e| JournalError(format!("replay stopped: {e}")))?;
    }
    Ok(target.into_changes())
}
