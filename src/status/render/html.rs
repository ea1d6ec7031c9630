//! Our HTML status page: the same content as mod_jk's (§5.3) laid out to read on a laptop
//! and a phone — states as a coloured badge that also says the word, a drain/activate
//! button per member (a POST form with the anti-forgery token), auto-refresh via `re`,
//! everything inline (no external resource unless the operator sets `css`).

use super::html_forms::{action_button, edit_page, query_link};
use super::{Body, View};
use crate::balancer::State;
use crate::config::Activation;
use crate::status::clock;
use crate::status::error::StatusError;
use crate::status::escape::html as e;
use crate::status::model::{AjpConfig, AjpWorker, Balancer, Member, UriMap};
use crate::status::rating::{rate, summarize, Health};
use crate::status::request::{Command, DisplayOption};
use crate::status::target::Target;

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}\
header,main{padding:0 1rem}header{background:#24292e;color:#fff;padding:.6rem 1rem}\
header a{color:#cde}h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .4rem}\
nav a,nav form{margin-right:.8rem;display:inline-block}.meta{font-size:.85rem;opacity:.85}\
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem;margin:1rem 0}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}\
th,td{padding:.2rem .45rem;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}\
th{background:#f0f3f6}.badge{border-radius:1em;padding:0 .55em;font-weight:600;color:#fff}\
.good{background:#1a7f37}.degraded{background:#9a6700}.bad{background:#cf222e}.idle{background:#57606a}\
.result{padding:.5rem;border-radius:6px}.result.error{background:#ffebe9;border:1px solid #cf222e}\
.result.ok{background:#dafbe1;border:1px solid #1a7f37}form.inline{display:inline}\
button,input[type=submit]{font:inherit;padding:.1rem .6rem;cursor:pointer}\
@media(max-width:640px){body{font-size:14px}th,td{padding:.2rem .3rem}}";

/// The whole page for `body`.
pub fn page(view: &View<'_>, body: &Body<'_>, outcome: &Result<(), StatusError>) -> String {
    if let (Body::ResultOnly, Ok(())) = (body, outcome) {
        return redirect_page(view);
    }
    if let Body::Edit(target) = body {
        return frame(view, false, &edit_page(view, target));
    }
    let mut out = String::new();
    if let Err(error) = outcome {
        out.push_str(&format!(
            "<p class=\"result error\" role=\"alert\">Result: ERROR - {}</p>\n",
            e(&error.to_string())
        ));
    }
    match body {
        Body::List => list(view, &mut out),
        Body::Show(Target::Balancer { lb, members, .. }) => balancer(view, lb, members, &mut out),
        Body::Show(Target::Ajp(worker)) => ajp_worker(view, worker, &mut out),
        Body::Dump => dump(view, &mut out),
        Body::Version | Body::ResultOnly | Body::Edit(_) => {}
    }
    if matches!(body, Body::List | Body::Show(_)) && !view.hides(DisplayOption::HideLegend) {
        out.push_str(LEGEND);
    }
    let refresh = matches!(body, Body::List | Body::Show(_));
    frame(view, refresh, &out)
}

/// Head, style, header with versions and navigation, then `main`.
fn frame(view: &View<'_>, refresh: bool, main: &str) -> String {
    let snapshot = view.snapshot;
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    out.push_str("<title>JK Status Manager</title>\n");
    if let (true, Some(seconds)) = (refresh, view.request.refresh) {
        out.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"{seconds}\"/>\n"
        ));
    }
    out.push_str(&format!("<style>{STYLE}</style>\n"));
    if let Some(css) = view.status.css.as_deref() {
        out.push_str(&format!("<link rel=\"stylesheet\" href=\"{}\"/>\n", e(css)));
    }
    out.push_str("</head><body>\n<header>\n");
    out.push_str(&format!(
        "<h1>JK Status Manager for {}:{}</h1>\n<p class=\"meta\">Server Version: {} &middot; JK Version: {} &middot; Server Time: {} &middot; Unix Seconds: {}</p>\n",
        e(&snapshot.server.name),
        snapshot.server.port,
        e(&snapshot.software.web_server),
        e(&snapshot.software.jk_version),
        clock::readable(snapshot.now),
        snapshot.now.unix
    ));
    navigation(view, &mut out);
    out.push_str("</header>\n<main>\n");
    out.push_str(main);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn navigation(view: &View<'_>, out: &mut String) {
    let command = view.request.command.name();
    out.push_str("<nav>");
    out.push_str(&query_link(view, "Workers", &[]));
    out.push_str(&query_link(view, "Version", &[("cmd", "version")]));
    out.push_str(&query_link(view, "Dump", &[("cmd", "dump")]));
    for (mime, label) in [
        ("xml", "XML"),
        ("prop", "Properties"),
        ("txt", "Text"),
        ("json", "JSON"),
        ("prometheus", "Prometheus"),
    ] {
        out.push_str(&query_link(
            view,
            label,
            &[("cmd", command), ("mime", mime)],
        ));
    }
    let opt = view.request.options;
    let (label, toggled) = if opt.has(DisplayOption::ReadOnly) {
        ("Read/Write", opt.without(DisplayOption::ReadOnly))
    } else {
        ("Read Only", opt.with(DisplayOption::ReadOnly))
    };
    if !view.status.read_only {
        let bits = toggled.0.to_string();
        out.push_str(&query_link(view, label, &[("opt", &bits)]));
    }
    out.push_str(&format!(
        "<form class=\"inline\" method=\"get\" action=\"{}\"><label>Auto refresh <input name=\"re\" type=\"number\" min=\"1\" size=\"3\" value=\"{}\"/> s</label> <input type=\"submit\" value=\"Start\"/></form>",
        e(view.base_uri),
        view.request.refresh.unwrap_or(10)
    ));
    out.push_str("</nav>\n");
}

fn list(view: &View<'_>, out: &mut String) {
    if !view.hides(DisplayOption::HideBalancers) {
        for lb in &view.snapshot.balancers {
            balancer(view, lb, &lb.members.iter().collect::<Vec<_>>(), out);
        }
    }
    if !view.hides(DisplayOption::HideAjpWorkers) {
        for worker in &view.snapshot.ajp_workers {
            ajp_worker(view, worker, out);
        }
    }
}

fn worker_heading(view: &View<'_>, name: &str, kind: &str, out: &mut String) {
    out.push_str(&format!(
        "<section>\n<h2>{} <small>({kind})</small> ",
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
    out.push_str("</h2>\n");
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

fn balancer(view: &View<'_>, lb: &Balancer, members: &[&Member], out: &mut String) {
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
        table(&MEMBER_HEAD, &rows, out);
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
    let health: Health = rate(m, view.status.good_mask, view.status.bad_mask);
    let now = view.snapshot.now;
    let last_error = m
        .last_error
        .filter(|&t| t > 0)
        .map_or(String::new(), |unix| {
            clock::readable(crate::status::model::Timestamp { unix, ..now })
        });
    let mut name = e(&m.name);
    name.push(' ');
    name.push_str(&query_link(
        view,
        "Show",
        &[("cmd", "show"), ("w", &lb.name), ("sw", &m.name)],
    ));
    if !view.read_only() {
        name.push_str(&member_actions(view, lb, m));
    }
    let t = &m.traffic;
    vec![
        name,
        activation_badge(m.activation),
        state_badge(m.state),
        badge(health.name(), health.name()),
        m.distance.to_string(),
        m.lbfactor.to_string(),
        m.lbmult.to_string(),
        m.lbvalue.to_string(),
        m.elected.to_string(),
        m.sessions.to_string(),
        m.errors.to_string(),
        t.client_errors.to_string(),
        t.reply_timeouts.to_string(),
        size(t.transferred),
        size(t.read),
        t.busy.to_string(),
        t.max_busy.to_string(),
        t.connected.to_string(),
        t.max_connected.to_string(),
        e(&m.route),
        e(&m.redirect),
        e(&m.domain),
        format!("{}/{}", m.recover_in.min, m.recover_in.max),
        (now.unix - m.last_reset).to_string(),
        last_error,
    ]
}

/// Edit link, drain/activate, reset and (in error) recover buttons of one member.
fn member_actions(view: &View<'_>, lb: &Balancer, m: &Member) -> String {
    let mut out = query_link(
        view,
        "Edit",
        &[("cmd", "edit"), ("w", &lb.name), ("sw", &m.name)],
    );
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

fn ajp_worker(view: &View<'_>, w: &AjpWorker, out: &mut String) {
    worker_heading(view, &w.name, &e(&w.worker_type), out);
    if !view.hides(DisplayOption::HideAjpConfig) {
        table(&AJP_CONFIG_HEAD, &[ajp_config_row(&w.name, &w.ajp)], out);
    }
    let t = &w.traffic;
    let row = vec![
        state_badge(w.state),
        w.used.to_string(),
        w.errors.to_string(),
        t.client_errors.to_string(),
        t.reply_timeouts.to_string(),
        size(t.transferred),
        size(t.read),
        t.busy.to_string(),
        t.max_busy.to_string(),
        t.connected.to_string(),
        t.max_connected.to_string(),
        (view.snapshot.now.unix - w.last_reset).to_string(),
    ];
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

fn dump(view: &View<'_>, out: &mut String) {
    out.push_str("<section><h2>Configuration Data</h2>\n<p>This dump does not include any changes applied by the status worker to the configuration after the initial startup</p>\n<pre>");
    for line in view.snapshot.dump_lines() {
        out.push_str(&e(line));
        out.push('\n');
    }
    out.push_str("</pre></section>\n");
}

/// After a successful update, reset or recover: back to where the form was, in 3 s.
fn redirect_page(view: &View<'_>) -> String {
    let request = view.request;
    let back = request
        .from
        .filter(|c| !c.changes_state() && *c != Command::Edit)
        .unwrap_or(Command::List);
    let mut params = vec![("cmd", back.name())];
    if let Some(worker) = request.worker.as_deref() {
        params.push(("w", worker));
    }
    let target = super::html_forms::url(view, &params);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>JK Status Manager</title>\n<meta http-equiv=\"refresh\" content=\"3;url={target}\"/>\n<style>{STYLE}</style></head>\n<body><main><p class=\"result ok\" role=\"status\">Result: OK - You will be redirected in 3 seconds. <a href=\"{target}\">Continue</a></p></main></body>\n</html>\n"
    )
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

const LEGEND: &str = "<section><h2>Legend</h2><dl>\
<dt>Act</dt><dd>Activation: ACT=Active, DIS=Disabled (only sticky requests), STP=Stopped</dd>\
<dt>State</dt><dd>OK=OK, ERR=Error; substates IDLE=No requests handled, BUSY=All connections busy, REC=Recovering, PRB=Probing, FRC=Forced Recovery</dd>\
<dt>Rating</dt><dd>good / degraded / bad after the status worker's good and bad rules</dd>\
<dt>D, F, M, V</dt><dd>Distance, load balancer factor, multiplicity and value</dd>\
<dt>Acc, Sess, Err, CE, RE</dt><dd>Requests, sessions created, failed requests, client errors, reply timeouts (decayed)</dd>\
<dt>Wr, Rd</dt><dd>Bytes sent to and read from the backend</dd>\
<dt>Busy, MaxBusy, Con, MaxCon</dt><dd>Busy and open backend connections, now and at most</dd>\
<dt>Route, RR, Cd</dt><dd>Route, route redirect, cluster domain</dd>\
<dt>Rs, LR, LE</dt><dd>Recovery scheduled in min/max seconds, seconds since the last reset, time of the last error</dd>\
</dl></section>\n";
