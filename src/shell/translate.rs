//! The mapping hooks: `translate_name` (normalise, map, JkAutoAlias) and `map_to_storage`
//! (skip the directory walk for mapped requests; JkStripSession). The mapping found in
//! translate is kept for the handler of the same request.
use super::lifecycle::runtime;
use super::{request_log, vhost_of};
use crate::directives::{auto_alias, unix_now, AliasDecision, Flag, ForwardUri, VhostConfig};
use crate::gather::{decodes_into_dot_or_separator, strip_param};
use crate::httpd::{Request, Status};
use crate::jklog::Level;
use crate::mount::{normalize_uri, MountMap, MountRule, NormalizeError};
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::CStr;
use std::sync::Arc;

/// The handler name mod_jk registers; `SetHandler jakarta-servlet` selects it too.
pub const HANDLER: &CStr = c"jakarta-servlet";
pub const NOTE_WORKER: &CStr = c"JK_WORKER_NAME";
/// The URI as decoded before normalisation, when translate replaced `r->uri` by its normal form.
pub const NOTE_ORIGINAL_URI: &CStr = c"JK_RS_ORIGINAL_URI";

/// A mapping result: the map in force and the index of the matching rule in it (no copy of
/// the rule per request).
pub struct Mapped {
    map: Arc<MountMap>,
    index: usize,
    /// The URI's normal form when it differs from `r->uri` (path parameters, `//`, dot
    /// segments): translate makes it `r->uri`, keeping the original for the backend.
    normal: Option<String>,
    /// `r->uri` was replaced by its normal form; the original is in [`NOTE_ORIGINAL_URI`].
    pub renormalized: bool,
}

impl Mapped {
    pub fn rule(&self) -> Option<&MountRule> {
        self.map.rules().get(self.index)
    }
}

thread_local! {
    /// translate_name's mapping of the request this thread is processing, for its handler (a
    /// request runs from translate to handler on one thread): keyed by the request and its
    /// `r->uri`, so a changed URI or another request never sees it.
    static LAST_MAPPED: RefCell<Option<((usize, usize), Mapped)>> = const { RefCell::new(None) };
}

fn key(req: &Request<'_>) -> (usize, usize) {
    (req.identity(), req.uri_address())
}

/// The mapping translate_name found for this request, or a fresh lookup.
pub fn mapping_for_handler(req: &Request<'_>, cfg: &VhostConfig) -> Option<Mapped> {
    match LAST_MAPPED.with(|c| c.borrow_mut().take()) {
        Some((k, mapped)) if k == key(req) => Some(mapped),
        _ => lookup(req, cfg).ok().flatten(),
    }
}

fn lookup(req: &Request<'_>, cfg: &VhostConfig) -> Result<Option<Mapped>, Status> {
    let Some(rt) = runtime() else { return Ok(None) };
    let Some(raw) = req.uri() else {
        return Ok(None);
    };
    // A decoded path need not be UTF-8 (`/caf%E9` in Latin-1): map it with invalid bytes
    // replaced (patterns are ASCII), forward the bytes themselves.
    let uri = super::handler::text_of(raw);
    let uri: &str = &uri;
    if cfg.options.has(Flag::RejectUnsafeUri) && (uri.contains('%') || uri.contains('\\')) {
        request_log::log(
            req,
            Some(cfg),
            Level::Info,
            &format!("mod_jk_rs: not mapping unsafe URI '{uri}' (JkOptions +RejectUnsafeURI)"),
        );
        return Ok(None);
    }
    if cfg.options.forward_uri() == ForwardUri::Compat && decodes_into_dot_or_separator(raw) {
        request_log::log(
            req,
            Some(cfg),
            Level::Info,
            &format!("mod_jk_rs: not mapping '{uri}': decoded again it changes its path (+ForwardURICompat)"),
        );
        return Ok(None);
    }
    let normalized = match normalize_uri(uri) {
        Ok(n) => n,
        Err(NormalizeError::AboveRoot) => {
            request_log::log(
                req,
                Some(cfg),
                Level::Info,
                &format!("mod_jk_rs: URI '{uri}' climbs above the root: 400"),
            );
            return Err(Status::http(400));
        }
        Err(_) => return Ok(None),
    };
    let map = cfg.map(&rt.workers, &unix_now, &mut |msg| {
        request_log::log(req, Some(cfg), Level::Warn, &format!("mod_jk_rs: {msg}"))
    });
    let Some(index) = map.find(&normalized) else {
        return Ok(None);
    };
    // A borrowed result means the URI was normal already.
    let normal = match normalized {
        Cow::Owned(n) => Some(n),
        Cow::Borrowed(_) => None,
    };
    Ok(Some(Mapped {
        map,
        index,
        normal,
        renormalized: false,
    }))
}

pub fn translate(mut req: Request<'_>) -> Status {
    LAST_MAPPED.with(|c| c.borrow_mut().take());
    if req.is_proxy_request()
        || req.env(c"no-jk").is_some()
        || req.handler() == Some(HANDLER.to_bytes())
    {
        return Status::DECLINED;
    }
    let Some(cfg) = vhost_of(&req.server()) else {
        return Status::DECLINED;
    };
    match lookup(&req, cfg) {
        Err(status) => status,
        Ok(Some(mut mapped)) => {
            // CVE-2018-11759: httpd's <Location> access control runs after this hook and
            // judges r->uri; the mapping judged the normal form. Make them one: the normal
            // form becomes r->uri (as mod_jk 1.2.46 does), the original goes to the backend.
            if let Some(normal) = mapped.normal.take() {
                let original = req.uri().unwrap_or(b"").to_vec();
                req.set_note(NOTE_ORIGINAL_URI, &original);
                req.set_uri(normal.as_bytes());
                mapped.renormalized = true;
            }
            let Some(rule) = mapped.rule() else {
                return Status::DECLINED;
            };
            if request_log::enabled(&req, Some(cfg), Level::Debug) {
                request_log::log(
                    &req,
                    Some(cfg),
                    Level::Debug,
                    &format!(
                        "mod_jk_rs: {} mapped to worker {} by '{}' ({:?} at {}:{})",
                        String::from_utf8_lossy(req.uri().unwrap_or(b"")),
                        rule.worker,
                        rule.pattern,
                        rule.source,
                        rule.origin.file,
                        rule.origin.line
                    ),
                );
            }
            req.set_handler(HANDLER);
            req.set_note(NOTE_WORKER, rule.worker.as_bytes());
            // mod_dir's sub-requests: the parent request must know it too.
            if let Some(mut main) = req.main_request() {
                main.set_note(NOTE_WORKER, rule.worker.as_bytes());
            }
            let k = key(&req);
            LAST_MAPPED.with(|c| *c.borrow_mut() = Some((k, mapped)));
            // Translated, as mod_jk says: the URI has no file behind it, so neither the later
            // translate hooks nor core's DocumentRoot join run (map_to_storage names the file).
            Status::OK
        }
        Ok(None) => unmapped(req, cfg),
    }
}

/// JkAutoAlias for a URI no rule maps.
fn unmapped(mut req: Request<'_>, cfg: &VhostConfig) -> Status {
    let (Some(dir), Some(uri)) = (
        &cfg.auto_alias,
        req.uri().and_then(|u| std::str::from_utf8(u).ok()),
    ) else {
        return Status::DECLINED;
    };
    match auto_alias(dir, uri) {
        AliasDecision::NotAlias => Status::DECLINED,
        AliasDecision::Hidden => Status::http(404),
        AliasDecision::Forbidden => Status::http(403),
        AliasDecision::File(path) => {
            req.set_filename(path.to_string_lossy().as_bytes());
            Status::OK
        }
    }
}

pub fn map_to_storage(mut req: Request<'_>) -> Status {
    // A mapped request has no file behind it: skip the <Directory> walk and its stat() calls.
    // translate_name set both our handler string and the note; the string is the cheap test.
    if req.handler_is(HANDLER) || req.note(NOTE_WORKER).is_some() {
        req.name_file_after_uri();
        return Status::OK;
    }
    let Some(param) = vhost_of(&req.server()).and_then(|c| c.strip_session.as_deref()) else {
        return Status::DECLINED;
    };
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
    Status::DECLINED
}
