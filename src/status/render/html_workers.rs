//! The worker sections of our HTML page: an lb's settings, rating summary, members (state
//! and activation badges, drain/activate/reset/recover buttons), connection settings and
//! mounts; a plain ajp13 worker's figures.

use super::html_forms::{action_button, query_link};
use super::View;
use crate::balancer::State;
use crate::config::Activation;
use crate::status::clock;
use crate::status::escape::html as e;
use crate::status::model::{AjpConfig, AjpWorker, Balancer, Member, Timestamp, Traffic, UriMap};
use crate::status::rating::{rate, summarize};
use crate::status::request::DisplayOption;

fn worker_heading(view: &View<'_>, name: &str, kind: &str, out: &mut String) {
    out.push_str(&format!(
        "<section>\n<h2>{} <small>({kind})</small> <span class=\"actions\">",
        e(name)
    ));
    out.push_str(&query_link(view, "Show", &[("cmd", "show"), ("w", name)]));
    if !view.read_only() {
        out.push_str(&query_link(view, "Edit", &[("cmd", "edit"), ("w", name)]));
        out.push_str(&action_button(
            view,
            name,
            None,
            &[("cmd", "reset")],
            "Reset",
        ));
    }
    out.push_str("</span></h2>\n");
}

fn table(head: &[&str], rows: &[Vec<String>], out: &mut String) {
    out.push_str("<div class=\"scroll\"><table><tr>");
    for cell in head {
        out.push_str(&format!("<th>{cell}</th>"));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{cell}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
}

fn badge(class: &str, word: &str) -> String {
    format!("<span class=\"badge {class}\">{word}</span>")
}

fn state_badge(state: State) -> String {
    let class = match state {
        State::Ok => "good",
        State::OkIdle => "idle",
        State::Busy | State::Recovering | State::ForcedRecovery | State::Probing => "degraded",
        State::Error => "bad",
    };
    badge(class, state.name())
}

fn activation_badge(activation: Activation) -> String {
    let class = match activation {
        Activation::Active => "good",
        Activation::Disabled => "degraded",
        Activation::Stopped => "bad",
    };
    badge(class, activation.code())
}

pub fn balancer(view: &View<'_>, lb: &Balancer, members: &[&Member], out: &mut String) {
    worker_heading(view, &lb.name, "load balancer", out);
    let c = &lb.config;
    if !view.hides(DisplayOption::HideBalancerConfig) {
        let head = [
            "Sticky Sessions",
            "Force Sticky Sessions",
            "Retries",
            "LB Method",
            "Locking",
            "Recover Wait Time",
            "Error Escalation Time",
            "Max Reply Timeouts",
        ];
        let yes = |b: bool| if b { "True" } else { "False" }.to_owned();
        let row = vec![
            yes(c.sticky_session),
            yes(c.sticky_session_force),
            c.retries.to_string(),
            c.method.name().to_owned(),
            c.lock.name().to_owned(),
            c.recover_time_s.to_string(),
            c.error_escalation_time_s.to_string(),
            c.max_reply_timeouts.to_string(),
        ];
        table(&head, &[row], out);
    }
    if !view.hides(DisplayOption::HideBalancerSummary) {
        let s = summarize(lb, view.status.good_mask, view.status.bad_mask);
        let ago = view.snapshot.now.unix - lb.last_reset;
        let row = vec![
            badge("good", &format!("{} good", s.good)),
            badge("degraded", &format!("{} degraded", s.degraded)),
            badge("bad", &format!("{} bad", s.bad)),
            lb.busy.to_string(),
            lb.max_busy.to_string(),
            format!("{}/{}", lb.maintenance_in.min, lb.maintenance_in.max),
            ago.to_string(),
        ];
        table(
            &[
                "Good",
                "Degraded",
                "Bad/Stopped",
                "Busy",
                "Max Busy",
                "Next Maintenance",
                "Last Reset",
            ],
            &[row],
            out,
        );
    }
    if !view.hides(DisplayOption::HideMembers) {
        out.push_str("<h3>Members</h3>\n");
        let rows: Vec<Vec<String>> = members.iter().map(|m| member_row(view, lb, m)).collect();
        // The actions right after the states, so a phone shows both without scrolling.
        let mut head = MEMBER_HEAD.to_vec();
        if !view.read_only() {
            head.insert(4, "Actions");
        }
        table(&head, &rows, out);
        if !view.hides(DisplayOption::HideAjpConfig) {
            let rows: Vec<Vec<String>> = members
                .iter()
                .map(|m| ajp_config_row(&m.name, &m.ajp))
                .collect();
            table(&AJP_CONFIG_HEAD, &rows, out);
        }
    }
    maps(view, &lb.maps, out);
    out.push_str("</section>\n");
}

const MEMBER_HEAD: [&str; 25] = [
    "Name", "Act", "State", "Rating", "D", "F", "M", "V", "Acc", "Sess", "Err", "CE", "RE", "Wr",
    "Rd", "Busy", "MaxBusy", "Con", "MaxCon", "Route", "RR", "Cd", "Rs", "LR", "LE",
];
const AJP_CONFIG_HEAD: [&str; 13] = [
    "Name",
    "Hostname",
    "Address:Port",
    "Source",
    "Connection Pool Timeout",
    "Ping Timeout",
    "Connect Timeout",
    "Prepost Timeout",
    "Reply Timeout",
    "Retries",
    "Recovery Options",
    "Busy Limit",
    "Max Packet Size",
];

fn member_row(view: &View<'_>, lb: &Balancer, m: &Member) -> Vec<String> {
    let health = rate(m, view.status.good_mask, view.status.bad_mask);
    let now = view.snapshot.now;
    let last_error = m
        .last_error
        .filter(|&t| t > 0)
        .map_or(String::new(), |unix| {
            clock::readable(Timestamp { unix, ..now })
        });
    let mut name = e(&m.name);
    name.push_str(" <span class=\"links\">");
    name.push_str(&query_link(
        view,
        "Show",
        &[("cmd", "show"), ("w", &lb.name), ("sw", &m.name)],
    ));
    if !view.read_only() {
        name.push_str(&query_link(
            view,
            "Edit",
            &[("cmd", "edit"), ("w", &lb.name), ("sw", &m.name)],
        ));
    }
    name.push_str("</span>");
    let mut row = vec![
        name,
        activation_badge(m.activation),
        state_badge(m.state),
        badge(health.name(), health.name()),
    ];
    if !view.read_only() {
        row.push(member_actions(view, lb, m));
    }
    row.extend([
        m.distance.to_string(),
        m.lbfactor.to_string(),
        m.lbmult.to_string(),
        m.lbvalue.to_string(),
        m.elected.to_string(),
        m.sessions.to_string(),
        m.errors.to_string(),
    ]);
    row.extend(traffic_cells(&m.traffic));
    row.extend([
        e(&m.route),
        e(&m.redirect),
        e(&m.domain),
        format!("{}/{}", m.recover_in.min, m.recover_in.max),
        (now.unix - m.last_reset).to_string(),
        last_error,
    ]);
    row
}

/// CE, RE, Wr, Rd, Busy, MaxBusy, Con, MaxCon.
fn traffic_cells(t: &Traffic) -> [String; 8] {
    [
        t.client_errors.to_string(),
        t.reply_timeouts.to_string(),
        size(t.transferred),
        size(t.read),
        t.busy.to_string(),
        t.max_busy.to_string(),
        t.connected.to_string(),
        t.max_connected.to_string(),
    ]
}

/// Drain/activate, reset and (in error) recover buttons of one member.
fn member_actions(view: &View<'_>, lb: &Balancer, m: &Member) -> String {
    let mut out = String::new();
    let (label, value) = match m.activation {
        Activation::Active => ("Drain", "1"),
        _ => ("Activate", "0"),
    };
    let update = [("cmd", "update"), ("vwa", value)];
    out.push_str(&action_button(
        view,
        &lb.name,
        Some(&m.name),
        &update,
        label,
    ));
    out.push_str(&action_button(
        view,
        &lb.name,
        Some(&m.name),
        &[("cmd", "reset")],
        "Reset",
    ));
    if m.state == State::Error {
        out.push_str(&action_button(
            view,
            &lb.name,
            Some(&m.name),
            &[("cmd", "recover")],
            "Recover",
        ));
    }
    out
}

fn ajp_config_row(name: &str, a: &AjpConfig) -> Vec<String> {
    let source = a.source.as_deref().unwrap_or("undefined");
    vec![
        e(name),
        e(&a.host),
        e(&a.address),
        e(source),
        a.connection_pool_timeout_s.to_string(),
        a.ping_timeout_ms.to_string(),
        a.connect_timeout_ms.to_string(),
        a.prepost_timeout_ms.to_string(),
        a.reply_timeout_ms.to_string(),
        a.retries.to_string(),
        a.recovery_options.to_string(),
        a.busy_limit.to_string(),
        a.max_packet_size.to_string(),
    ]
}

pub fn ajp_worker(view: &View<'_>, w: &AjpWorker, out: &mut String) {
    worker_heading(view, &w.name, &e(&w.worker_type), out);
    if !view.hides(DisplayOption::HideAjpConfig) {
        table(&AJP_CONFIG_HEAD, &[ajp_config_row(&w.name, &w.ajp)], out);
    }
    let mut row = vec![
        state_badge(w.state),
        w.used.to_string(),
        w.errors.to_string(),
    ];
    row.extend(traffic_cells(&w.traffic));
    row.push((view.snapshot.now.unix - w.last_reset).to_string());
    table(
        &[
            "State", "Acc", "Err", "CE", "RE", "Wr", "Rd", "Busy", "MaxBusy", "Con", "MaxCon", "LR",
        ],
        &[row],
        out,
    );
    maps(view, &w.maps, out);
    out.push_str("</section>\n");
}

fn maps(view: &View<'_>, maps: &[UriMap], out: &mut String) {
    if view.hides(DisplayOption::HideMaps) || maps.is_empty() {
        return;
    }
    out.push_str(&format!("<h3>URI Mappings ({} maps)</h3>\n", maps.len()));
    let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { e(s) };
    let rows: Vec<Vec<String>> = maps
        .iter()
        .map(|m| {
            vec![
                dash(m.server.as_deref().unwrap_or("")),
                e(&m.uri),
                m.match_type(),
                m.source.to_string(),
                m.reply_timeout.to_string(),
                u8::from(m.sticky_ignore).to_string(),
                u8::from(m.stateless).to_string(),
                dash(&m.fail_on_status),
                dash(&m.active),
                dash(&m.disabled_members),
                dash(&m.stopped),
                m.use_server_errors.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "Server",
            "URI",
            "Match Type",
            "Source",
            "Reply Timeout",
            "Sticky Ignore",
            "Stateless",
            "Fail on Status",
            "Active",
            "Disabled",
            "Stopped",
            "Use Server Errors",
        ],
        &rows,
        out,
    );
}

/// `1.6K`, `3.3M`: bytes the way mod_jk's page abbreviates them.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if bytes < 973 {
        return bytes.to_string();
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 973.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
}
