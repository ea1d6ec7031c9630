//! The `jakarta-servlet` handler: decides whether the request is ours and which worker serves
//! it, gathers what FORWARD_REQUEST needs (`gather`), has the proxy serve it, and leaves the
//! notes and the `JkRequestLogFormat` line behind.
use super::lifecycle::runtime;
use super::translate::{mapping_for_handler, Mapped, HANDLER, NOTE_ORIGINAL_URI, NOTE_WORKER};
use super::{request_log, vhost_of, watchdog};
use crate::decimal::{seconds_micros, DurationText};
use crate::directives::{Flag, OptionSet, VhostConfig};
use crate::gather::{lb_hints, Cookies, Env, Gathered};
use crate::httpd::{time, utf8, HttpdClient, Request, Status};
use crate::jklog::{JkLogFile, Level, RequestFacts};
use crate::proxy::{member_notes, Outcome, Served};
use crate::scan::find_byte;
use crate::shm::SharedState;
use std::borrow::Cow;
use std::ffi::CStr;
use std::time::{Duration, Instant};

/// httpd's handler for directories (mod_dir), forwarded with `JkOptions +ForwardDirectories`.
const DIR_HANDLER: &[u8] = b"httpd/unix-directory";
const NOTE_TYPE: &CStr = c"JK_WORKER_TYPE";
const NOTE_ROUTE: &CStr = c"JK_WORKER_ROUTE";
const NOTE_DURATION: &CStr = c"JK_REQUEST_DURATION";
/// `JK_LB_FIRST_*` / `JK_LB_LAST_*`, in the order of `member_notes`.
const LB_FIRST_NOTES: [&CStr; 10] = [
    c"JK_LB_FIRST_NAME",
    c"JK_LB_FIRST_VALUE",
    c"JK_LB_FIRST_ACCESSED",
    c"JK_LB_FIRST_SESSIONS",
    c"JK_LB_FIRST_READ",
    c"JK_LB_FIRST_TRANSFERRED",
    c"JK_LB_FIRST_ERRORS",
    c"JK_LB_FIRST_BUSY",
    c"JK_LB_FIRST_ACTIVATION",
    c"JK_LB_FIRST_STATE",
];
const LB_LAST_NOTES: [&CStr; 10] = [
    c"JK_LB_LAST_NAME",
    c"JK_LB_LAST_VALUE",
    c"JK_LB_LAST_ACCESSED",
    c"JK_LB_LAST_SESSIONS",
    c"JK_LB_LAST_READ",
    c"JK_LB_LAST_TRANSFERRED",
    c"JK_LB_LAST_ERRORS",
    c"JK_LB_LAST_BUSY",
    c"JK_LB_LAST_ACTIVATION",
    c"JK_LB_LAST_STATE",
];

/// The worker: translate's note, else the JkWorkerIndicator variable (`SetHandler
/// jakarta-servlet` + SetEnvIf), never a default (CVE-2023-41081). `;ext` parts are dropped.
/// With the name: whether it came from translate's note (the request was mapped).
fn worker_name<'r>(req: &Request<'r>, cfg: Option<&VhostConfig>) -> Option<(&'r str, bool)> {
    let note = req.note(NOTE_WORKER);
    let mapped = note.is_some();
    let raw = note.or_else(|| {
        let env = cfg.map_or(NOTE_WORKER, |c| c.env.worker.as_c_str());
        req.env(env)
    })?;
    let end = find_byte(raw, b';').unwrap_or(raw.len());
    let trimmed = raw[..end].trim_ascii();
    let name = utf8(trimmed)?;
    // The note is left as it is when it already says just the name.
    let exact = mapped && trimmed.len() == raw.len();
    (!name.is_empty()).then_some((name, exact))
}

/// Bytes as text, invalid UTF-8 replaced: `String::from_utf8_lossy`, with valid text (the
/// common case) checked by `httpd::utf8`, a fraction of lossy's chunk walk.
pub(super) fn text_of(raw: &[u8]) -> Cow<'_, str> {
    match utf8(raw) {
        Some(text) => Cow::Borrowed(text),
        None => String::from_utf8_lossy(raw),
    }
}

/// Whether this handler call is ours: the worker it names (and whether translate's note
/// names it as it is), or the status to return.
fn claim<'r>(req: &Request<'r>, cfg: Option<&VhostConfig>) -> Result<(&'r str, bool), Status> {
    let handler = req.handler();
    let options = cfg.map_or_else(OptionSet::default, |c| c.options);
    let ours = handler == Some(HANDLER.to_bytes())
        || (handler == Some(DIR_HANDLER) && options.has(Flag::ForwardDirectories));
    if !ours || req.env(c"no-jk").is_some() {
        return Err(Status::DECLINED);
    }
    let (worker, noted) = worker_name(req, cfg).ok_or(Status::DECLINED)?;
    if req.is_proxy_request() {
        request_log::log(
            req,
            cfg,
            Level::Error,
            &format!("mod_jk_rs: worker {worker}: refusing a proxy request"),
        );
        return Err(Status::SERVER_ERROR);
    }
    Ok((worker, noted))
}

pub fn handle(mut req: Request<'_>) -> Status {
    let cfg = vhost_of(&req.server());
    let (worker, noted) = match claim(&req, cfg) {
        Ok(w) => w,
        Err(status) => return status,
    };
    let Some(rt) = runtime() else {
        request_log::log(
            &req,
            cfg,
            Level::Error,
            "mod_jk_rs: no runtime (post_config did not run)",
        );
        return Status::SERVER_ERROR;
    };
    // A worker is one thing: the proxy's targets are looked up first (the common case), the
    // status worker only when the name is not one of them.
    let target = match rt.target(worker) {
        Ok(t) => t,
        Err(why) => {
            if let Some(status) = rt.workers.status(worker) {
                return super::status::serve(req, rt, status, cfg);
            }
            request_log::log(&req, cfg, Level::Error, &format!("mod_jk_rs: {why}"));
            return Status::SERVER_ERROR;
        }
    };
    if !watchdog::running() {
        rt.maintain_if_due(req.request_time_ms(), &mut |into_error, line| {
            let level = if into_error { Level::Warn } else { Level::Info };
            request_log::log(&req, cfg, level, &format!("mod_jk_rs: {line}"));
        });
    }
    let notes = rt.result_notes;
    let jklog = cfg.and_then(|c| c.log.get().cloned());
    let logs_requests = jklog.as_deref().is_some_and(JkLogFile::logs_requests);
    let started = (notes.duration || logs_requests).then(Instant::now);
    if !noted {
        req.set_note(NOTE_WORKER, worker.as_bytes());
    }
    if notes.worker_type {
        req.add_static_note(NOTE_TYPE, target.type_name_c());
    }
    // The matching rule's extensions (reply_timeout, …) apply to mapped requests (the note
    // is there now in every case: only its spelling may have changed).
    let mapped = match cfg {
        Some(c) => mapping_for_handler(&req, c),
        None => None,
    };
    let rule = mapped
        .as_ref()
        .and_then(Mapped::rule)
        .filter(|r| r.worker == worker);
    // A URI translate replaced by its normal form goes to the backend as the client sent it.
    let original = mapped
        .as_ref()
        .filter(|m| m.renormalized)
        .and_then(|_| req.note(NOTE_ORIGINAL_URI));
    let env = Env::new(&req, cfg.map(|c| &c.env));
    let Ok(gathered) = Gathered::collect(&req, &env, cfg, original) else {
        request_log::log(
            &req,
            cfg,
            Level::Error,
            &format!("mod_jk_rs: worker {worker}: invalid Content-Length"),
        );
        return Status::http(400);
    };
    let info = gathered.info(&req, &env, rule);
    // The balancer reads only a path parameter (`;jsessionid=…`) off the URI: without an
    // '=' there is none, and the URI need not be made text.
    let session_uri = match original.or(req.uri()).unwrap_or(b"/") {
        raw if find_byte(raw, b'=').is_some() => text_of(raw),
        _ => Cow::Borrowed(""),
    };
    let cookies = if target.is_lb() {
        Cookies::of(&req)
    } else {
        Cookies::none()
    };
    let hints = lb_hints(&env, rule.map(|r| &r.extensions));
    let mut client = HttpdClient::new(req, jklog.clone());
    let served = target.forward(&info, &session_uri, cookies.all(), &hints, &mut client);
    let outcome = served.outcome;
    if outcome == Outcome::Sent && !client.aborted() {
        client.end_response();
    }
    let mut req = client.into_request();
    // The route is text only where it is written: a note or the request log.
    let route = (notes.route || logs_requests)
        .then(|| served.route())
        .flatten();
    let elapsed = started.map(|s| s.elapsed());
    let lb_notes = (notes.lb_members && target.is_lb()).then_some((&*rt.shared, &served));
    let noted_route = route.filter(|_| notes.route);
    let noted_elapsed = elapsed.filter(|_| notes.duration);
    set_result_notes(&mut req, noted_route, lb_notes, noted_elapsed);
    if let Some(log) = jklog.as_deref().filter(|l| l.logs_requests()) {
        let elapsed = elapsed.unwrap_or_default();
        write_request_log(log, &req, &outcome, worker, route.unwrap_or(""), elapsed);
    }
    match outcome {
        Outcome::Sent => Status::OK,
        Outcome::Status(code) => Status::http(code),
        Outcome::FilterError => Status::FILTER_ERROR,
    }
}

/// Notes for mod_log_config: the route, the duration ("sec.usec", written on the stack), and
/// for lb requests the first and last member tried (each only when given: see
/// `ResultNotes`).
fn set_result_notes(
    req: &mut Request<'_>,
    route: Option<&str>,
    lb: Option<(&SharedState, &Served<'_>)>,
    elapsed: Option<Duration>,
) {
    // Set once per request, by the handler only: added without a scan of the table.
    if let Some(route) = route {
        req.add_note(NOTE_ROUTE, route.as_bytes());
    }
    if let Some((shared, served)) = lb {
        for (names, record) in [
            (&LB_FIRST_NOTES, served.first),
            (&LB_LAST_NOTES, served.last),
        ] {
            if let Some(record) = record {
                // addn: twenty notes that all start with "JK_L" would each scan the others.
                member_notes(shared, record, &mut |i, text| {
                    if let Some(name) = names.get(i) {
                        req.add_note(name, text);
                    }
                });
            }
        }
    }
    if let Some(elapsed) = elapsed {
        let mut duration = DurationText::default();
        req.add_note(NOTE_DURATION, seconds_micros(elapsed, &mut duration));
    }
}

/// The `JkRequestLogFormat` line of a finished request.
fn write_request_log(
    log: &JkLogFile,
    req: &Request<'_>,
    outcome: &Outcome,
    worker: &str,
    route: &str,
    elapsed: Duration,
) {
    fn text(b: Option<&[u8]>) -> &str {
        b.and_then(|v| std::str::from_utf8(v).ok()).unwrap_or("")
    }
    let facts = RequestFacts {
        bytes_sent: req.bytes_sent(),
        protocol: text(Some(req.protocol())),
        method: text(Some(req.method())),
        canonical_port: req.server_port(),
        query: req.args().and_then(|q| std::str::from_utf8(q).ok()),
        request_line: text(req.request_line()),
        status: match outcome {
            Outcome::Status(code) => *code,
            _ => req.status(),
        },
        duration: elapsed,
        uri: text(req.uri()),
        canonical_name: text(req.canonical_server_name()),
        server_name: text(Some(req.server_name())),
        worker,
        route,
    };
    log.request(&time::now_local(), &facts);
}
