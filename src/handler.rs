//! The request hooks of the httpd shell: `translate_name` (normalise, map, JkAutoAlias),
//! `map_to_storage` (skip the directory walk; JkStripSession) and the `jakarta-servlet` handler,
//! which gathers what FORWARD_REQUEST needs from the request (JkOptions, indicators, JkEnvVar)
//! and hands it to `proxy::Target::forward`.
use crate::balancer::{env_flag, ActivationOverrides, RequestHints};
use crate::ffi;
use crate::httpd::{log, HttpdClient, Request};
use crate::jklog::{JkLogFile, RequestFacts};
use crate::module::{runtime, vhost_of};
use crate::mount::RuleExtensions;
use crate::mount::{normalize_uri, MountMap, MountRule, NormalizeError};
use crate::options;
use crate::proxy::member_notes;
use crate::proxy::{BodyKind, Outcome, RequestInfo, SslInfo};
use crate::vhost::{auto_alias, unix_now, AliasDecision, EnvNames, VhostConfig};
use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The handler name mod_jk registers; `SetHandler jakarta-servlet` selects it too.
const HANDLER: &CStr = c"jakarta-servlet";
/// httpd's handler for directories (mod_dir), forwarded with `JkOptions +ForwardDirectories`.
const DIR_HANDLER: &[u8] = b"httpd/unix-directory";
const NOTE_WORKER: &CStr = c"JK_WORKER_NAME";
const NOTE_TYPE: &CStr = c"JK_WORKER_TYPE";
const NOTE_ROUTE: &CStr = c"JK_WORKER_ROUTE";
const NOTE_DURATION: &CStr = c"JK_REQUEST_DURATION";
/// `JK_LB_FIRST_*` / `JK_LB_LAST_*`, in the order of `proxy::member_notes`.
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

fn log_req(req: &Request<'_>, level: u32, msg: &str) {
    // SAFETY: the request is live for the hook call.
    unsafe { log::request(req.raw(), level as c_int, msg) }
}

/// The rule mapping this request's URI in its server's map, if any.
/// A mapping result: the map in force and the index of the matching rule in it (no copy of
/// the rule per request).
struct Mapped {
    map: Arc<MountMap>,
    index: usize,
}

impl Mapped {
    fn rule(&self) -> Option<&MountRule> {
        self.map.rules().get(self.index)
    }
}

thread_local! {
    /// translate_name's mapping of the request this thread is processing, for its handler (a
    /// request runs from translate to handler on one thread): keyed by the request_rec and its
    /// `r->uri`, so a changed URI or another request never sees it.
    static LAST_MAPPED: std::cell::RefCell<Option<(usize, usize, Mapped)>> = const { std::cell::RefCell::new(None) };
}

fn uri_key(req: &Request<'_>) -> usize {
    req.uri().map_or(0, |u| u.as_ptr() as usize)
}

/// The mapping translate_name found for this request, or a fresh lookup.
fn mapping_for_handler(req: &Request<'_>, cfg: &VhostConfig) -> Option<Mapped> {
    let key = (req.raw() as usize, uri_key(req));
    let cached = LAST_MAPPED.with(|c| c.borrow_mut().take());
    match cached {
        Some((r, u, mapped)) if (r, u) == key => Some(mapped),
        _ => lookup(req, cfg).ok().flatten(),
    }
}

fn lookup(req: &Request<'_>, cfg: &VhostConfig) -> Result<Option<Mapped>, c_int> {
    let Some(rt) = runtime() else { return Ok(None) };
    let Some(raw) = req.uri() else {
        return Ok(None);
    };
    // A decoded path need not be UTF-8 (`/caf%E9` in Latin-1): map it with invalid bytes
    // replaced (patterns are ASCII), forward the bytes themselves.
    let uri = String::from_utf8_lossy(raw);
    let uri: &str = &uri;
    if cfg.options & options::REJECT_UNSAFE_URI != 0 && (uri.contains('%') || uri.contains('\\')) {
        log_req(
            req,
            ffi::APLOG_INFO,
            &format!("mod_jk_rs: not mapping unsafe URI '{uri}' (JkOptions +RejectUnsafeURI)"),
        );
        return Ok(None);
    }
    let normalized = match normalize_uri(uri) {
        Ok(n) => n,
        Err(NormalizeError::AboveRoot) => {
            log_req(
                req,
                ffi::APLOG_INFO,
                &format!("mod_jk_rs: URI '{uri}' climbs above the root: 400"),
            );
            return Err(ffi::HTTP_BAD_REQUEST as c_int);
        }
        Err(_) => return Ok(None),
    };
    let map = cfg.map(&rt.workers, unix_now(), &mut |msg| {
        log_req(req, ffi::APLOG_WARNING, &format!("mod_jk_rs: {msg}"))
    });
    Ok(map.find(&normalized).map(|index| Mapped { map, index }))
}

pub fn translate(mut req: Request<'_>) -> c_int {
    LAST_MAPPED.with(|c| c.borrow_mut().take());
    let declined = ffi::DECLINED;
    if req.is_proxy_request()
        || req.env(c"no-jk").is_some()
        || req.handler() == Some(HANDLER.to_bytes())
    {
        return declined;
    }
    let Some(cfg) = vhost_of(req.server()) else {
        return declined;
    };
    match lookup(&req, &cfg) {
        Err(status) => status,
        Ok(Some(mapped)) => {
            let Some(rule) = mapped.rule() else {
                return declined;
            };
            req.set_handler(HANDLER);
            req.set_note(NOTE_WORKER, rule.worker.as_bytes());
            // mod_dir's sub-requests: the parent request must know it too.
            if let Some(mut main) = req.main_request() {
                main.set_note(NOTE_WORKER, rule.worker.as_bytes());
            }
            let key = (req.raw() as usize, uri_key(&req));
            LAST_MAPPED.with(|c| *c.borrow_mut() = Some((key.0, key.1, mapped)));
            declined
        }
        Ok(None) => match (
            &cfg.auto_alias,
            req.uri().and_then(|u| std::str::from_utf8(u).ok()),
        ) {
            (Some(dir), Some(uri)) => match auto_alias(dir, uri) {
                AliasDecision::NotAlias => declined,
                AliasDecision::Hidden => ffi::HTTP_NOT_FOUND as c_int,
                AliasDecision::Forbidden => ffi::HTTP_FORBIDDEN as c_int,
                AliasDecision::File(path) => {
                    req.set_filename(path.to_string_lossy().as_bytes());
                    ffi::OK as c_int
                }
            },
            _ => declined,
        },
    }
}

/// Removes `;name=value` path parameters called `param` (e.g. `;jsessionid`) from `s`.
fn strip_param<'a>(s: &'a [u8], param: &[u8]) -> Cow<'a, [u8]> {
    let find = |hay: &[u8]| {
        hay.windows(param.len())
            .position(|w| w.eq_ignore_ascii_case(param))
    };
    let Some(_) = find(s) else {
        return Cow::Borrowed(s);
    };
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = find(rest) {
        out.extend_from_slice(&rest[..at]);
        let tail = &rest[at + param.len()..];
        // The value runs to the next '/', ';' or '?'.
        let end = tail
            .iter()
            .position(|&b| b == b'/' || b == b';' || b == b'?')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

pub fn map_to_storage(mut req: Request<'_>) -> c_int {
    if req.note(NOTE_WORKER).is_some() {
        // A mapped request has no file behind it: skip the <Directory> walk and its stat() calls.
        return ffi::OK as c_int;
    }
    if let Some(param) = vhost_of(req.server()).and_then(|c| c.strip_session.clone()) {
        let param = format!("{param}=");
        if let Some(uri) = req.uri() {
            if let Cow::Owned(stripped) = strip_param(uri, param.as_bytes()) {
                req.set_uri(&stripped);
            }
        }
        if let Some(name) = req.filename() {
            if let Cow::Owned(stripped) = strip_param(name, param.as_bytes()) {
                req.set_filename(&stripped);
            }
        }
    }
    ffi::DECLINED
}

/// The worker: translate's note, else the JkWorkerIndicator variable (`SetHandler
/// jakarta-servlet` + SetEnvIf), never a default (CVE-2023-41081). `;ext` parts are dropped.
fn worker_name<'r>(req: &Request<'r>, cfg: Option<&VhostConfig>) -> Option<&'r str> {
    let raw = req.note(NOTE_WORKER).or_else(|| {
        let env = cfg.map_or(NOTE_WORKER, |c| c.env.worker.as_c_str());
        req.env(env)
    })?;
    let name = std::str::from_utf8(raw).ok()?.split(';').next()?.trim();
    (!name.is_empty()).then_some(name)
}

fn body_kind(req: &Request<'_>, ignore_cl: bool) -> Result<BodyKind, ()> {
    if req.header_in(c"Transfer-Encoding").is_some() {
        return Ok(BodyKind::Chunked);
    }
    match req.header_in(c"Content-Length") {
        None => Ok(BodyKind::None),
        // JK_IGNORE_CL: e.g. mod_deflate inflates the body, so the client's length is wrong.
        Some(_) if ignore_cl => Ok(BodyKind::Chunked),
        Some(v) => match std::str::from_utf8(v)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
        {
            Some(0) => Ok(BodyKind::None),
            Some(n) => Ok(BodyKind::Length(n)),
            None => Err(()),
        },
    }
}

/// `JK_REPLY_TIMEOUT` (ms): 0 = none, negative or garbage = the worker's own.
fn reply_timeout_override(
    req: Option<&Request<'_>>,
    rule: Option<&MountRule>,
) -> Option<Option<Duration>> {
    let from_env = req
        .and_then(|r| r.env(c"JK_REPLY_TIMEOUT"))
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<i64>().ok())
        .filter(|ms| *ms >= 0);
    let ms = from_env.or_else(|| {
        rule.and_then(|r| r.extensions.reply_timeout)
            .filter(|ms| *ms >= 0)
    })?;
    Some((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// The request's environment as the handler reads it: the server's indicator names, and `JK_*`
/// lookups skipped when the request carries no `JK_*` variable at all (one scan of the table
/// instead of a lookup per indicator).
struct Env<'a, 'r> {
    req: &'a Request<'r>,
    names: Option<&'a EnvNames>,
    jk: bool,
}

impl<'r> Env<'_, 'r> {
    /// A non-empty value of variable `name`.
    fn get(&self, name: &CStr) -> Option<&'r [u8]> {
        let b = name.to_bytes();
        if !self.jk && b.len() >= 3 && b[..3].eq_ignore_ascii_case(b"JK_") {
            return None;
        }
        self.req.env(name).filter(|v| !v.is_empty())
    }

    /// The variable an indicator directive names (or mod_jk's default name).
    fn indicator(&self, pick: fn(&EnvNames) -> &CString) -> Option<&'r [u8]> {
        self.names.and_then(|n| self.get(pick(n)))
    }

    fn text(&self, name: &CStr) -> Option<&'r str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// A flag variable as mod_jk reads it: set (even empty) and not a zero number.
    fn flag(&self, name: &CStr) -> bool {
        let b = name.to_bytes();
        if !self.jk && b.len() >= 3 && b[..3].eq_ignore_ascii_case(b"JK_") {
            return false;
        }
        self.req
            .env(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .is_some_and(env_flag)
    }
}

/// The URI to forward, per the `ForwardURI*` option (reference §1.3).
fn forwarded_uri<'r>(req: &Request<'r>, options: u32) -> Cow<'r, [u8]> {
    let decoded = req.uri().unwrap_or(b"/");
    match options & options::FORWARD_URI_MASK {
        options::FORWARD_URI_COMPAT => Cow::Borrowed(decoded),
        options::FORWARD_URI_COMPAT_UNPARSED => {
            let raw = req.unparsed_uri().unwrap_or(b"/");
            Cow::Borrowed(raw.split(|&b| b == b'?').next().unwrap_or(raw))
        }
        options::FORWARD_URI_ESCAPED => crate::uri::escape_path(decoded),
        _ => crate::uri::encode_path(decoded),
    }
}

/// The client's address and port as the backend should see them: mod_remoteip's view,
/// `ForwardLocalAddress` / `ForwardPhysicalAddress`, then the `JK_REMOTE_*` overrides.
fn client_address<'r, 'b>(
    req: &Request<'r>,
    env: &Env<'_, 'r>,
    options: u32,
    port_buf: &'b mut crate::decimal::Digits,
) -> (&'r [u8], &'b [u8])
where
    'r: 'b,
{
    let (mut addr, mut port): (&[u8], &[u8]) = (
        req.useragent_ip(),
        crate::decimal::decimal(u64::from(req.useragent_port()), port_buf),
    );
    if options & options::FORWARD_LOCAL_ADDRESS != 0 {
        (addr, port) = (req.local_ip(), b"0");
    } else if options & options::FORWARD_PHYSICAL_ADDRESS != 0 {
        addr = req.client_ip();
    }
    let addr = env.indicator(|n| &n.remote_addr).unwrap_or(addr);
    let port = env.indicator(|n| &n.remote_port).unwrap_or(port);
    (addr, port)
}

/// `+ForwardSSLCertChain`: the client certificate followed by SSL_CLIENT_CERT_CHAIN_0, _1, …
fn certificate_chain(env: &Env<'_, '_>, options: u32) -> Option<Vec<u8>> {
    if options & options::FORWARD_SSL_CERT_CHAIN == 0 {
        return None;
    }
    let names = env.names?;
    let mut all = env.get(&names.certs)?.to_vec();
    for i in 0..64 {
        let Ok(name) = CString::new(format!("{}{i}", names.cert_chain_prefix)) else {
            break;
        };
        let Some(link) = env.get(&name) else { break };
        all.extend_from_slice(link);
    }
    Some(all)
}

/// SSL facts from mod_ssl's environment (when `JkExtractSSL` allows).
fn ssl_info<'a>(env: &Env<'_, 'a>, options: u32, chain: Option<&'a [u8]>) -> SslInfo<'a> {
    SslInfo {
        cert: chain.or_else(|| env.indicator(|n| &n.certs)),
        cipher: env.indicator(|n| &n.cipher),
        session: env.indicator(|n| &n.session),
        key_size: (options & options::FORWARD_KEY_SIZE != 0)
            .then(|| {
                env.indicator(|n| &n.key_size)
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            })
            .flatten(),
        protocol: env.indicator(|n| &n.ssl_protocol),
    }
}

/// What the request says about stickiness: `JK_ROUTE`, `JK_STICKY_IGNORE`, `JK_STATELESS`
/// (reference §1.4) and its mount rule's extensions (§3.3).
fn lb_hints<'a>(env: &Env<'_, 'a>, ext: Option<&'a RuleExtensions>) -> RequestHints<'a> {
    RequestHints {
        jk_route: env.text(c"JK_ROUTE"),
        sticky_ignore: env.flag(c"JK_STICKY_IGNORE") || ext.is_some_and(|e| e.sticky_ignore),
        stateless: env.flag(c"JK_STATELESS") || ext.is_some_and(|e| e.stateless),
        session_cookie: ext.and_then(|e| e.session_cookie.as_deref()),
        session_path: ext.and_then(|e| e.session_path.as_deref()),
        set_session_cookie: ext.and_then(|e| e.set_session_cookie),
        activation: ext.map_or_else(ActivationOverrides::default, |e| ActivationOverrides {
            active: &e.active,
            disabled: &e.disabled,
            stopped: &e.stopped,
        }),
    }
}

/// The Cookie header values (for the session route): the usual one or two fit on the stack.
struct Cookies<'r> {
    inline: [&'r str; 4],
    count: usize,
    spill: Vec<&'r str>,
}

impl<'r> Cookies<'r> {
    fn of(req: &Request<'r>) -> Cookies<'r> {
        let mut c = Cookies {
            inline: [""; 4],
            count: 0,
            spill: Vec::new(),
        };
        req.header_values(b"cookie", &mut |v| {
            if c.count < c.inline.len() && c.spill.is_empty() {
                c.inline[c.count] = v;
                c.count += 1;
            } else {
                if c.spill.is_empty() {
                    c.spill.extend_from_slice(&c.inline[..c.count]);
                }
                c.spill.push(v);
            }
        });
        c
    }

    fn all(&self) -> &[&'r str] {
        if self.spill.is_empty() {
            &self.inline[..self.count]
        } else {
            &self.spill
        }
    }
}

pub fn handle(mut req: Request<'_>) -> c_int {
    let handler = req.handler();
    let cfg = vhost_of(req.server());
    let options = cfg.as_ref().map_or(options::DEFAULT, |c| c.options);
    let ours = handler == Some(HANDLER.to_bytes())
        || (handler == Some(DIR_HANDLER) && options & options::FORWARD_DIRECTORIES != 0);
    if !ours || req.env(c"no-jk").is_some() {
        return ffi::DECLINED;
    }
    let Some(worker) = worker_name(&req, cfg.as_deref()) else {
        return ffi::DECLINED;
    };
    if req.is_proxy_request() {
        log_req(
            &req,
            ffi::APLOG_ERR,
            &format!("mod_jk_rs: worker {worker}: refusing a proxy request"),
        );
        return ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
    }
    let Some(rt) = runtime() else {
        log_req(
            &req,
            ffi::APLOG_ERR,
            "mod_jk_rs: no runtime (post_config did not run)",
        );
        return ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
    };
    let target = match rt.target(worker) {
        Ok(t) => t,
        Err(e) => {
            log_req(&req, ffi::APLOG_ERR, &format!("mod_jk_rs: {e}"));
            return ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
        }
    };
    if !crate::module::watchdog_running() {
        rt.maintain_if_due();
    }
    let started = Instant::now();
    req.set_note(NOTE_WORKER, worker.as_bytes());
    req.set_note(NOTE_TYPE, target.type_name().as_bytes());
    // The matching rule's extensions (reply_timeout, …) apply to mapped requests.
    let mapped = match &cfg {
        Some(c) if req.note(NOTE_WORKER).is_some() => mapping_for_handler(&req, c),
        _ => None,
    };
    let rule = mapped
        .as_ref()
        .and_then(Mapped::rule)
        .filter(|r| r.worker == worker);
    let env = Env {
        req: &req,
        names: cfg.as_ref().map(|c| &c.env),
        jk: req.env_has_prefix(b"JK_"),
    };
    let Ok(body) = body_kind(&req, env.indicator(|n| &n.ignore_cl).is_some()) else {
        log_req(
            &req,
            ffi::APLOG_ERR,
            &format!("mod_jk_rs: worker {worker}: invalid Content-Length"),
        );
        return ffi::HTTP_BAD_REQUEST as c_int;
    };
    let uri = forwarded_uri(&req, options);
    let mut port_buf = crate::decimal::Digits::default();
    let (remote_addr, remote_port) = client_address(&req, &env, options, &mut port_buf);
    let https = env.names.map_or(c"HTTPS", |n| n.https.as_c_str());
    let is_ssl = req
        .env(https)
        .is_some_and(|v| v.eq_ignore_ascii_case(b"on"));
    let extract_ssl = is_ssl && cfg.as_ref().is_none_or(|c| c.extract_ssl);
    let chain = if extract_ssl {
        certificate_chain(&env, options)
    } else {
        None
    };
    let ssl = if extract_ssl {
        ssl_info(&env, options, chain.as_deref())
    } else {
        SslInfo::default()
    };
    let env_attrs: Vec<(&[u8], &[u8])> = cfg
        .as_ref()
        .map(|c| {
            c.env_vars
                .iter()
                .filter_map(|v| {
                    Some((
                        v.name.to_bytes(),
                        req.env(&v.name)
                            .or(v.default.as_deref().map(str::as_bytes))?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let info = RequestInfo {
        method: req.method(),
        protocol: req.protocol(),
        uri: &uri,
        query: req.args(),
        remote_addr,
        remote_port,
        remote_host: env
            .indicator(|n| &n.remote_host)
            .or_else(|| req.remote_host()),
        local_addr: env
            .indicator(|n| &n.local_addr)
            .unwrap_or_else(|| req.local_ip()),
        server_name: env
            .indicator(|n| &n.local_name)
            .unwrap_or_else(|| req.server_name()),
        server_port: env
            .indicator(|n| &n.local_port)
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or_else(|| req.server_port()),
        is_ssl,
        remote_user: env.indicator(|n| &n.remote_user).or_else(|| req.user()),
        auth_type: env.indicator(|n| &n.auth_type).or_else(|| req.auth_type()),
        ssl,
        route: None,
        activation: b"ACT",
        body,
        reply_timeout: reply_timeout_override(env.jk.then_some(&req), rule),
        env_attributes: &env_attrs,
        flush_packets: options & options::FLUSH_PACKETS != 0,
        flush_header: options & options::FLUSH_HEADER != 0,
        disable_reuse: options & options::DISABLE_REUSE != 0,
        fail_on_status: rule
            .map(|r| r.extensions.fail_on_status.as_slice())
            .filter(|f| !f.is_empty()),
        use_server_errors: rule.and_then(|r| r.extensions.use_server_errors),
    };
    let session_uri = String::from_utf8_lossy(req.uri().unwrap_or(b"/"));
    let cookies = if target.is_lb() {
        Cookies::of(&req)
    } else {
        Cookies {
            inline: [""; 4],
            count: 0,
            spill: Vec::new(),
        }
    };
    let hints = lb_hints(&env, rule.map(|r| &r.extensions));
    let jklog = cfg.as_ref().and_then(|c| c.log.get().cloned());
    let mut client = HttpdClient::new(req, jklog.clone());
    let served = target.forward(&info, &session_uri, cookies.all(), &hints, &mut client);
    let outcome = served.outcome;
    if outcome == Outcome::Sent && !client.aborted() {
        client.end_response();
    }
    let mut done = client.into_request();
    let route = served.route();
    let elapsed = started.elapsed();
    set_result_notes(
        &mut done,
        route,
        Some((&*rt.shared, &served)).filter(|_| rt.lb_notes),
        elapsed,
    );
    if let Some(log) = jklog.as_deref().filter(|l| l.logs_requests()) {
        write_request_log(log, &done, &outcome, worker, route.unwrap_or(""), elapsed);
    }
    match outcome {
        Outcome::Sent => ffi::OK as c_int,
        Outcome::Status(code) => c_int::from(code),
        Outcome::FilterError => ffi::AP_FILTER_ERROR,
    }
}

/// Notes for mod_log_config: the route, the duration ("sec.usec", formatted on the stack), and
/// for lb requests the first and last member tried.
fn set_result_notes(
    req: &mut Request<'_>,
    route: Option<&str>,
    lb: Option<(&crate::shm::SharedState, &crate::proxy::Served<'_>)>,
    elapsed: Duration,
) {
    if let Some(route) = route {
        req.set_note(NOTE_ROUTE, route.as_bytes());
    }
    if let Some((lb, served)) = lb {
        for (names, record) in [
            (&LB_FIRST_NOTES, served.first),
            (&LB_LAST_NOTES, served.last),
        ] {
            if let Some(record) = record {
                // addn: twenty notes that all start with "JK_L" would each scan the others.
                member_notes(lb, record, &mut |i, text| {
                    if let Some(name) = names.get(i) {
                        req.add_note(name, text);
                    }
                });
            }
        }
    }
    let mut duration = [0u8; 32];
    let mut cursor = std::io::Cursor::new(&mut duration[..]);
    let _ = std::io::Write::write_fmt(
        &mut cursor,
        format_args!("{}.{:06}", elapsed.as_secs(), elapsed.subsec_micros()),
    );
    let len = cursor.position() as usize;
    req.set_note(NOTE_DURATION, &duration[..len]);
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
    log.request(&crate::httpd::time::now_local(), &facts);
}
