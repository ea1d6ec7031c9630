//! Our HTML status page: the same content as mod_jk's (§5.3) laid out to read on a laptop
//! and a phone — states as a coloured badge that also says the word, a drain/activate
//! button per member (a POST form with the anti-forgery token), auto-refresh via `re`,
//! everything inline (no external resource unless the operator sets `css`).

use super::html_forms::{edit_page, query_link};
use super::html_workers::{ajp_worker, balancer};
use super::{Body, View};
use crate::status::clock;
use crate::status::error::StatusError;
use crate::status::escape::html as e;
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
h2 small{font-weight:normal;color:#57606a}.actions{font-size:.85rem;font-weight:normal;margin-left:.4rem}\
.actions a,td a{margin-right:.3rem}nav input[type=number]{width:4em}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}dt{font-weight:600}dd{margin:0}\
@media(max-width:640px){body{font-size:14px}main{padding:0 .4rem}section{padding:.3rem .5rem}\
th,td{padding:.2rem .3rem}.links{display:block;font-size:.8rem}button{padding:.1rem .4rem}\
dl{display:block}dd{margin:0 0 .4rem 1rem}}";

/// No favicon request (it would be a 404 on every load): an empty inline icon.
const ICON: &str = "<link rel=\"icon\" href=\"data:,\"/>\n";

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
    out.push_str(ICON);
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
    if let Some(seconds) = view.request.refresh {
        let mut params = vec![("cmd", command)];
        if let Some(worker) = view.request.worker.as_deref() {
            params.push(("w", worker));
        }
        out.push_str(&query_link(
            view,
            &format!("Stop auto refresh ({seconds} s)"),
            &params,
        ));
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
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>JK Status Manager</title>\n{ICON}<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<meta http-equiv=\"refresh\" content=\"3;url={target}\"/>\n<style>{STYLE}</style></head>\n<body><main><p class=\"result ok\" role=\"status\">Result: OK - You will be redirected in 3 seconds. <a href=\"{target}\">Continue</a></p></main></body>\n</html>\n"
    )
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
