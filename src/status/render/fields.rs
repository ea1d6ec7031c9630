//! The key/value lists the three line formats (`txt`, `prop`, `xml`) print for the header,
//! an lb, a member, a plain ajp13 worker and a mount: mod_jk's keys in mod_jk's order, so
//! each format only adds its own syntax and escaping.

use super::View;
use crate::status::clock;
use crate::status::model::{AjpConfig, AjpWorker, Balancer, Member, Timestamp, Traffic, UriMap};
use crate::status::rating::summarize;

/// A value, and whether `txt` puts it in quotes (mod_jk quotes some string values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bare(String),
    Quoted(String),
}

impl Value {
    pub fn text(&self) -> &str {
        match self {
            Value::Bare(text) | Value::Quoted(text) => text,
        }
    }
}

pub type Fields = Vec<(&'static str, Value)>;

fn bare(value: impl ToString) -> Value {
    Value::Bare(value.to_string())
}

fn quoted(value: impl ToString) -> Value {
    Value::Quoted(value.to_string())
}

fn flag(on: bool) -> Value {
    bare(if on { "True" } else { "False" })
}

/// The XML format lists `connection_ping_interval` before `retries`; the others after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Xml,
    Lines,
}

pub fn server(view: &View<'_>) -> Fields {
    let server = &view.snapshot.server;
    vec![("name", bare(&server.name)), ("port", bare(server.port))]
}

pub fn time(now: Timestamp) -> Fields {
    vec![
        ("datetime", bare(clock::datetime(now))),
        ("tz", bare(clock::tz(now))),
        ("unix", bare(now.unix)),
    ]
}

pub fn software(view: &View<'_>) -> Fields {
    let software = &view.snapshot.software;
    vec![
        ("web_server", quoted(&software.web_server)),
        ("jk_version", bare(&software.jk_version)),
    ]
}

pub fn balancer(view: &View<'_>, lb: &Balancer) -> Fields {
    let config = &lb.config;
    let summary = summarize(lb, view.status.good_mask, view.status.bad_mask);
    vec![
        ("name", bare(&lb.name)),
        ("type", bare("lb")),
        ("sticky_session", flag(config.sticky_session)),
        ("sticky_session_force", flag(config.sticky_session_force)),
        ("retries", bare(config.retries)),
        ("recover_time", bare(config.recover_time_s)),
        (
            "error_escalation_time",
            bare(config.error_escalation_time_s),
        ),
        ("max_reply_timeouts", bare(config.max_reply_timeouts)),
        ("method", bare(config.method.name())),
        ("lock", bare(config.lock.name())),
        ("member_count", bare(lb.members.len())),
        ("good", bare(summary.good)),
        ("degraded", bare(summary.degraded)),
        ("bad", bare(summary.bad)),
        ("busy", bare(lb.busy)),
        ("max_busy", bare(lb.max_busy)),
        ("map_count", bare(lb.maps.len())),
        ("time_to_maintenance_min", bare(lb.maintenance_in.min)),
        ("time_to_maintenance_max", bare(lb.maintenance_in.max)),
        ("last_reset_at", bare(lb.last_reset)),
        (
            "last_reset_ago",
            bare(view.snapshot.now.unix - lb.last_reset),
        ),
    ]
}

fn ajp_config(fields: &mut Fields, ajp: &AjpConfig, order: Order) {
    let source = ajp.source.as_deref().filter(|s| !s.is_empty());
    fields.extend([
        ("host", bare(&ajp.host)),
        ("port", bare(ajp.port)),
        ("address", bare(&ajp.address)),
        ("source", bare(source.unwrap_or("undefined"))),
        (
            "connection_pool_timeout",
            bare(ajp.connection_pool_timeout_s),
        ),
        ("ping_timeout", bare(ajp.ping_timeout_ms)),
        ("connect_timeout", bare(ajp.connect_timeout_ms)),
        ("prepost_timeout", bare(ajp.prepost_timeout_ms)),
        ("reply_timeout", bare(ajp.reply_timeout_ms)),
    ]);
    let retries = ("retries", bare(ajp.retries));
    let ping = (
        "connection_ping_interval",
        bare(ajp.connection_ping_interval_s),
    );
    match order {
        Order::Xml => fields.extend([ping, retries]),
        Order::Lines => fields.extend([retries, ping]),
    }
    fields.extend([
        ("recovery_options", bare(ajp.recovery_options)),
        ("busy_limit", bare(ajp.busy_limit)),
        ("max_packet_size", bare(ajp.max_packet_size)),
    ]);
}

fn traffic(fields: &mut Fields, traffic: &Traffic) {
    fields.extend([
        ("client_errors", bare(traffic.client_errors)),
        ("reply_timeouts", bare(traffic.reply_timeouts)),
        ("transferred", bare(traffic.transferred)),
        ("read", bare(traffic.read)),
        ("busy", bare(traffic.busy)),
        ("max_busy", bare(traffic.max_busy)),
        ("connected", bare(traffic.connected)),
        ("max_connected", bare(traffic.max_connected)),
    ]);
}

fn reset_and_error(fields: &mut Fields, view: &View<'_>, last_reset: i64, error: Option<i64>) {
    let now = view.snapshot.now;
    fields.extend([
        ("last_reset_at", bare(last_reset)),
        ("last_reset_ago", bare(now.unix - last_reset)),
    ]);
    if let Some(unix) = error.filter(|&t| t > 0) {
        let at = Timestamp { unix, ..now };
        fields.extend([
            ("error_time_datetime", bare(clock::datetime(at))),
            ("error_time_tz", bare(clock::tz(at))),
            ("error_time_unix_seconds", bare(unix)),
            ("error_time_ago", bare(now.unix - unix)),
        ]);
    }
}

pub fn member(view: &View<'_>, member: &Member, order: Order) -> Fields {
    let mut fields = vec![
        ("name", bare(&member.name)),
        ("type", bare(&member.worker_type)),
    ];
    ajp_config(&mut fields, &member.ajp, order);
    fields.extend([
        ("activation", bare(member.activation.code())),
        ("lbfactor", bare(member.lbfactor)),
        ("route", quoted(&member.route)),
        ("redirect", quoted(&member.redirect)),
        ("domain", quoted(&member.domain)),
        ("distance", bare(member.distance)),
        ("state", bare(member.state.name())),
        ("lbmult", bare(member.lbmult)),
        ("lbvalue", bare(member.lbvalue)),
        ("elected", bare(member.elected)),
        ("sessions", bare(member.sessions)),
        ("errors", bare(member.errors)),
    ]);
    traffic(&mut fields, &member.traffic);
    fields.extend([
        ("time_to_recover_min", bare(member.recover_in.min)),
        ("time_to_recover_max", bare(member.recover_in.max)),
    ]);
    reset_and_error(&mut fields, view, member.last_reset, member.last_error);
    fields
}

pub fn ajp_worker(view: &View<'_>, worker: &AjpWorker, order: Order) -> Fields {
    let mut fields = vec![
        ("name", bare(&worker.name)),
        ("type", bare(&worker.worker_type)),
    ];
    ajp_config(&mut fields, &worker.ajp, order);
    fields.extend([("used", bare(worker.used)), ("errors", bare(worker.errors))]);
    traffic(&mut fields, &worker.traffic);
    fields.push(("map_count", bare(worker.maps.len())));
    reset_and_error(&mut fields, view, worker.last_reset, worker.last_error);
    fields
}

/// A mount; `id` counts from 1 per worker.
pub fn map(id: usize, map: &UriMap) -> Fields {
    let mut fields = vec![("id", bare(id))];
    if let Some(server) = &map.server {
        fields.push(("server", quoted(server)));
    }
    fields.extend([
        ("uri", quoted(&map.uri)),
        ("type", quoted(map.match_type())),
        ("source", quoted(map.source)),
        ("reply_timeout", quoted(map.reply_timeout)),
        ("sticky_ignore", quoted(u8::from(map.sticky_ignore))),
        ("stateless", quoted(u8::from(map.stateless))),
        ("fail_on_status", quoted(&map.fail_on_status)),
        ("active", quoted(&map.active)),
        ("disabled", quoted(&map.disabled_members)),
        ("stopped", quoted(&map.stopped)),
        ("use_server_errors", quoted(map.use_server_errors)),
    ]);
    fields
}
