//! `mime=prometheus` (ours): the Prometheus text exposition format (0.0.4, which
//! OpenMetrics scrapers also accept) — per member and per plain worker requests, errors,
//! client errors, bytes in/out, busy and connections, state and activation as labelled
//! 0/1 series, lb values and sizes; HELP and TYPE before each family, label values escaped.

use super::lines::result_text;
use super::{Body, View};
use crate::balancer::State;
use crate::config::Activation;
use crate::status::error::StatusError;
use crate::status::escape::prometheus_label as label;
use crate::status::model::{AjpWorker, Balancer, Member, Traffic};
use crate::status::rating::{rate, summarize};
use crate::status::target::Target;

/// One metric family: name, help, type and its samples (label text, value).
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(String, u64)>,
}

/// Families in a fixed order, filled worker by worker.
#[derive(Default)]
struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    fn add(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: String,
        value: u64,
    ) {
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(family) => family.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                help,
                kind,
                samples: vec![(labels, value)],
            }),
        }
    }

    /// One 0/1 series per value of `key`, 1 for `current`.
    fn one_hot<'v>(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &str,
        key: &str,
        values: impl IntoIterator<Item = &'v str>,
        current: &str,
    ) {
        for value in values {
            let labels = format!("{labels},{key}=\"{value}\"");
            self.add(name, "gauge", help, labels, u64::from(value == current));
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for family in &self.families {
            out.push_str(&format!(
                "# HELP {} {}\n# TYPE {} {}\n",
                family.name, family.help, family.name, family.kind
            ));
            for (labels, value) in &family.samples {
                out.push_str(&format!("{}{{{labels}}} {value}\n", family.name));
            }
        }
        out
    }
}

pub fn exposition(view: &View<'_>, body: &Body<'_>, outcome: &Result<(), StatusError>) -> String {
    let mut metrics = Exposition::default();
    let snapshot = view.snapshot;
    let info = format!(
        "jk_version=\"{}\",web_server=\"{}\"",
        label(&snapshot.software.jk_version),
        label(&snapshot.software.web_server)
    );
    if *body != Body::ResultOnly {
        metrics.add(
            "jk_info",
            "gauge",
            "Versions of the connector and the web server.",
            info,
            1,
        );
    }
    match body {
        Body::List => {
            for lb in &snapshot.balancers {
                balancer(
                    view,
                    &mut metrics,
                    lb,
                    &lb.members.iter().collect::<Vec<_>>(),
                );
            }
            for worker in &snapshot.ajp_workers {
                ajp_worker(&mut metrics, worker);
            }
        }
        Body::Show(Target::Balancer { lb, members, .. }) => {
            balancer(view, &mut metrics, lb, members)
        }
        Body::Show(Target::Ajp(worker)) => ajp_worker(&mut metrics, worker),
        _ => {}
    }
    let mut out = metrics.text();
    let (kind, message) = result_text(outcome);
    out.push_str(&format!(
        "# Result: type={kind} message=\"{}\"\n",
        message.replace('\n', " ")
    ));
    out
}

fn balancer(view: &View<'_>, m: &mut Exposition, lb: &Balancer, members: &[&Member]) {
    let lb_label = format!("balancer=\"{}\"", label(&lb.name));
    m.add(
        "jk_balancer_busy",
        "gauge",
        "Requests in flight through the load balancer.",
        lb_label.clone(),
        lb.busy.into(),
    );
    m.add(
        "jk_balancer_max_busy",
        "gauge",
        "Most requests in flight since the last reset.",
        lb_label.clone(),
        lb.max_busy.into(),
    );
    let summary = summarize(lb, view.status.good_mask, view.status.bad_mask);
    for (rating, count) in [
        ("good", summary.good),
        ("degraded", summary.degraded),
        ("bad", summary.bad),
    ] {
        let labels = format!("{lb_label},rating=\"{rating}\"");
        m.add(
            "jk_balancer_members",
            "gauge",
            "Members by rating (status worker good/bad rules).",
            labels,
            count as u64,
        );
    }
    for member in members {
        member_series(view, m, &lb_label, member);
    }
}

/// Every series of one member.
fn member_series(view: &View<'_>, m: &mut Exposition, lb_label: &str, member: &Member) {
    let labels = format!("{lb_label},member=\"{}\"", label(&member.name));
    let help = "Requests sent to the member since the last reset.";
    m.add(
        "jk_member_requests_total",
        "counter",
        help,
        labels.clone(),
        member.elected,
    );
    m.add(
        "jk_member_errors_total",
        "counter",
        "Failed requests.",
        labels.clone(),
        member.errors,
    );
    m.add(
        "jk_member_sessions_total",
        "counter",
        "Sessions created.",
        labels.clone(),
        member.sessions,
    );
    m.add(
        "jk_member_lb_value",
        "gauge",
        "Current load balancer value.",
        labels.clone(),
        member.lbvalue,
    );
    m.add(
        "jk_member_lb_factor",
        "gauge",
        "Configured load balancer factor.",
        labels.clone(),
        member.lbfactor.into(),
    );
    traffic(
        m,
        &MEMBER_TRAFFIC,
        &labels,
        &member.traffic,
        member.ajp.pool_size,
    );
    let states = (0..7).map(|code| State::from_code(code).name());
    let help = "1 for the member's current state.";
    m.one_hot(
        "jk_member_state",
        help,
        &labels,
        "state",
        states,
        member.state.name(),
    );
    let activations = [
        Activation::Active,
        Activation::Disabled,
        Activation::Stopped,
    ]
    .map(Activation::code);
    let help = "1 for the member's current activation.";
    m.one_hot(
        "jk_member_activation",
        help,
        &labels,
        "activation",
        activations,
        member.activation.code(),
    );
    let health = rate(member, view.status.good_mask, view.status.bad_mask);
    let ratings = ["good", "degraded", "bad"];
    m.one_hot(
        "jk_member_rating",
        "1 for the member's rating.",
        &labels,
        "rating",
        ratings,
        health.name(),
    );
}

fn ajp_worker(m: &mut Exposition, worker: &AjpWorker) {
    let labels = format!("worker=\"{}\"", label(&worker.name));
    m.add(
        "jk_worker_requests_total",
        "counter",
        "Requests served by the ajp13 worker since the last reset.",
        labels.clone(),
        worker.used,
    );
    m.add(
        "jk_worker_errors_total",
        "counter",
        "Failed requests.",
        labels.clone(),
        worker.errors,
    );
    traffic(
        m,
        &WORKER_TRAFFIC,
        &labels,
        &worker.traffic,
        worker.ajp.pool_size,
    );
    let states = [State::OkIdle, State::Ok, State::Error, State::Probing].map(State::name);
    let help = "1 for the worker's current state.";
    m.one_hot(
        "jk_worker_state",
        help,
        &labels,
        "state",
        states,
        worker.state.name(),
    );
}

/// Family names of the counters members and plain workers share, in [`traffic`]'s order.
const MEMBER_TRAFFIC: [&str; 9] = [
    "jk_member_client_errors_total",
    "jk_member_reply_timeouts",
    "jk_member_sent_bytes_total",
    "jk_member_received_bytes_total",
    "jk_member_busy",
    "jk_member_max_busy",
    "jk_member_connections",
    "jk_member_max_connections",
    "jk_member_connection_pool_size",
];
const WORKER_TRAFFIC: [&str; 9] = [
    "jk_worker_client_errors_total",
    "jk_worker_reply_timeouts",
    "jk_worker_sent_bytes_total",
    "jk_worker_received_bytes_total",
    "jk_worker_busy",
    "jk_worker_max_busy",
    "jk_worker_connections",
    "jk_worker_max_connections",
    "jk_worker_connection_pool_size",
];

fn traffic(
    m: &mut Exposition,
    names: &[&'static str; 9],
    labels: &str,
    t: &Traffic,
    pool_size: u32,
) {
    let series: [(&str, &str, u64); 9] = [
        (
            "counter",
            "Requests that failed on the client side.",
            t.client_errors,
        ),
        (
            "gauge",
            "Reply timeouts (decayed at each maintenance).",
            t.reply_timeouts,
        ),
        ("counter", "Bytes sent to the backend.", t.transferred),
        ("counter", "Bytes read from the backend.", t.read),
        ("gauge", "Requests in flight.", t.busy.into()),
        (
            "gauge",
            "Most requests in flight since the last reset.",
            t.max_busy.into(),
        ),
        ("gauge", "Open backend connections.", t.connected.into()),
        (
            "gauge",
            "Most open backend connections since the last reset.",
            t.max_connected.into(),
        ),
        (
            "gauge",
            "Connections each process may keep (connection_pool_size).",
            pool_size.into(),
        ),
    ];
    for (name, (kind, help, value)) in names.iter().zip(series) {
        m.add(name, kind, help, labels.to_owned(), value);
    }
}
