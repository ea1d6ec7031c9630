//! A request to a status worker (`worker.X.type=status`, mod_jk's jkstatus): who asks, what
//! they ask (the query, or the form a POST carries), whether a change may be made (user list,
//! read-only, cross-site refusal, the forms' token), then the status core does it and renders
//! the page, which goes back whole with `Cache-Control: no-cache` as mod_jk's does.
use super::request_log;
use crate::config::StatusWorker;
use crate::directives::VhostConfig;
use crate::httpd::{process, time, Request, Response, Status};
use crate::jklog::Level;
use crate::mount::normalize_uri;
use crate::proxy::Runtime;
use crate::status::{
    check_change, check_user, csrf_token, decode_query, execute, header_snapshot, parse_query,
    render, render_request_error, snapshot, token_matches, LiveTarget, Mime, Page, RequestOrigin,
    SnapshotEnv, StatusError, Timestamp, View,
};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The largest form a POST may carry (the edit forms are a few hundred bytes).
const MAX_FORM: usize = 64 * 1024;

/// The secret the forms' tokens are made with: one per server start, made in the parent
/// before the children fork so every child checks the same tokens.
static SECRET: OnceLock<[u8; 32]> = OnceLock::new();

/// Makes the secret (post_config, in the parent).
pub fn prepare_secret() -> Result<(), String> {
    if SECRET.get().is_some() {
        return Ok(());
    }
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut secret))
        .map_err(|e| format!("cannot read /dev/urandom for the status page's form tokens: {e}"))?;
    let _ = SECRET.set(secret);
    Ok(())
}

fn text(b: Option<&[u8]>) -> Option<&str> {
    b.and_then(|v| std::str::from_utf8(v).ok())
}

/// The authenticated user: httpd's (`r->user`), else `JK_REMOTE_USER` as mod_jk reads it.
fn user<'r>(req: &Request<'r>) -> Option<&'r str> {
    text(req.user()).or_else(|| text(req.env(c"JK_REMOTE_USER")))
}

/// The page's own address (links and forms point back to it).
fn base_uri<'r>(req: &Request<'r>) -> &'r str {
    text(req.uri()).unwrap_or("/jkstatus")
}

/// The query string, and for a POST the form after it.
fn parameters(req: &mut Request<'_>) -> Result<String, Status> {
    let mut all = String::from_utf8_lossy(req.args().unwrap_or(b"")).into_owned();
    if req.method() == b"POST" {
        match req.read_body_up_to(MAX_FORM) {
            Ok(Some(form)) => {
                all.push('&');
                all.push_str(&String::from_utf8_lossy(&form));
            }
            Ok(None) => return Err(Status::http(413)),
            Err(code) => return Err(Status::http(code)),
        }
    }
    Ok(all)
}

fn offered_token(parameters: &str) -> Option<String> {
    decode_query(parameters)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value)
}

fn send(mut req: Request<'_>, page: &Page) -> Status {
    let response = Response {
        status: page.status,
        content_type: page.content_type,
        headers: &[("Cache-Control", "no-cache"), ("Pragma", "no-cache")],
        body: page.body.as_bytes(),
    };
    // A client gone before the page went out: httpd logs it; nothing else to do.
    let _ = req.respond(&response);
    Status::OK
}

/// A refused request: mod_jk's error body in the format asked for, under the page's header
/// (server, time, versions; no worker data).
fn refuse(
    req: Request<'_>,
    vhost: Option<&VhostConfig>,
    status: &StatusWorker,
    mime: Mime,
    error: &StatusError,
    env: &SnapshotEnv<'_>,
) -> Status {
    request_log::log(
        &req,
        vhost,
        Level::Warn,
        &format!("mod_jk_rs: status worker {}: {error}", status.name),
    );
    let page = render_request_error(status, base_uri(&req), mime, error, &header_snapshot(env));
    send(req, &page)
}

/// CVE-2018-11759: httpd's `<Location>` access control judged `r->uri` as it is, while the
/// mount matched its normalised form. A status page asked for under another spelling
/// (`/jkstatus;`, `/jkstatus;x`, `/jkstatus%3b`) may have slipped past a `<Location /jkstatus>`
/// rule, so it is not served.
fn spelled_as_mapped(req: &Request<'_>) -> bool {
    let Some(uri) = text(req.uri()) else {
        return false;
    };
    normalize_uri(uri).is_ok_and(|normal| normal == uri)
}

/// Serves a request mapped to status worker `status`.
pub fn serve(
    mut req: Request<'_>,
    rt: &Runtime,
    status: &StatusWorker,
    vhost: Option<&VhostConfig>,
) -> Status {
    let method = req.method();
    if !matches!(method, b"GET" | b"HEAD" | b"POST") {
        return Status::http(405);
    }
    if !spelled_as_mapped(&req) {
        request_log::log(
            &req,
            vhost,
            Level::Warn,
            &format!(
                "mod_jk_rs: status worker {}: not served under the URI '{}', which is not in \
                 normal form (path parameters, dot segments): access control may not have \
                 applied to it",
                status.name,
                String::from_utf8_lossy(req.uri().unwrap_or(b""))
            ),
        );
        return Status::http(404);
    }
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let web_server = process::server_description();
    let env = SnapshotEnv {
        server_name: text(Some(req.server_name())).unwrap_or("localhost"),
        server_port: req.server_port(),
        web_server: &web_server,
        now: Timestamp {
            unix: since_epoch.as_secs() as i64,
            utc_offset_minutes: (time::now_local().utc_offset / 60) as i32,
        },
        now_ms: since_epoch.as_millis() as u64,
        mount_rules: &[],
    };
    let who = user(&req);
    let all = match parameters(&mut req) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let parsed = parse_query(&all);
    // Refusals answer in the format asked for, as mod_jk's do.
    let mime = match &parsed {
        Ok(r) => r.mime,
        Err(e) => e.mime,
    };
    if let Err(e) = check_user(status, who) {
        return refuse(req, vhost, status, mime, &e, &env);
    }
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return refuse(req, vhost, status, e.mime, &e.error, &env),
    };
    let secret = SECRET.get().map_or(&[][..], |s| &s[..]);
    if request.command.changes_state() {
        let header = |name| text(req.header_in(name));
        let origin = RequestOrigin {
            method: text(Some(method)).unwrap_or("GET"),
            sec_fetch_site: header(c"Sec-Fetch-Site"),
            origin: header(c"Origin"),
            referer: header(c"Referer"),
            host: header(c"Host"),
        };
        let offered = offered_token(&all).unwrap_or_default();
        let token_ok = !secret.is_empty() && token_matches(secret, &status.name, who, &offered);
        if let Err(e) = check_change(&origin, token_ok) {
            return refuse(req, vhost, status, request.mime, &e, &env);
        }
    }
    let map = vhost.map(|v| v.map(&rt.workers, &|| since_epoch.as_secs(), &mut |_| {}));
    let env = SnapshotEnv {
        mount_rules: map.as_deref().map_or(&[][..], |m| m.rules()),
        ..env
    };
    let mut snap = snapshot(rt, &env);
    let mut target = LiveTarget::new(rt, env.now_ms);
    let outcome = execute(&request, &snap, status, &mut target);
    for change in target.changes() {
        request_log::log(
            &req,
            vhost,
            Level::Info,
            &format!("mod_jk_rs: status worker {}: {change}", status.name),
        );
    }
    if request.command.changes_state() && outcome.is_ok() {
        let journal = super::persist::path_of(status).filter(|_| !target.changes().is_empty());
        if let Some(path) = journal {
            if let Err(e) = super::persist::save(rt, &path) {
                request_log::log(
                    &req,
                    vhost,
                    Level::Error,
                    &format!("mod_jk_rs: status worker {}: {e}", status.name),
                );
            }
        }
        snap = snapshot(rt, &env);
    }
    let token = if secret.is_empty() {
        String::new()
    } else {
        csrf_token(secret, &status.name, who)
    };
    let view = View {
        snapshot: &snap,
        request: &request,
        status,
        base_uri: base_uri(&req),
        token: &token,
    };
    let page = render(&view, &outcome);
    if let Err(e) = &outcome {
        request_log::log(
            &req,
            vhost,
            Level::Info,
            &format!("mod_jk_rs: status worker {}: {e}", status.name),
        );
    }
    send(req, &page)
}
