//! Turns a snapshot and a request's outcome into the answer's body, in the requested
//! format: mod_jk's `txt`, `prop`, `xml` (byte for byte where mod_jk is deterministic),
//! our own `html`, and the `json` and `prometheus` formats mod_jk lacks.

mod fields;
mod html;
mod html_forms;
mod html_workers;
mod json;
mod lines;
mod prometheus;
mod prop;
mod txt;
mod xml;

use super::error::StatusError;
use super::model::Snapshot;
use super::request::{Command, DisplayOption, Mime, StatusRequest};
use super::target::{resolve, Target};
use crate::config::StatusWorker;

/// What a render needs besides the snapshot: the request, the status worker's settings,
/// the page's own URI (links and forms point there) and the token our forms carry.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub snapshot: &'a Snapshot,
    pub request: &'a StatusRequest,
    pub status: &'a StatusWorker,
    /// e.g. `/jkstatus`.
    pub base_uri: &'a str,
    /// From [`crate::status::csrf_token`]; only the HTML forms use it.
    pub token: &'a str,
}

impl View<'_> {
    /// Read-only by configuration or by `opt=0x20`.
    pub fn read_only(&self) -> bool {
        self.status.read_only || self.request.options.has(DisplayOption::ReadOnly)
    }

    pub fn hides(&self, option: DisplayOption) -> bool {
        self.request.options.has(option)
    }
}

/// A rendered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// 200 except for our own refusals ([`StatusError::http_status`]).
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// What the body shows besides the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// Only the result (a failed command, update, reset, recover).
    ResultOnly,
    Version,
    Dump,
    List,
    Show(Target<'a>),
    Edit(Target<'a>),
}

/// What to show for `view` given the command's `outcome`; an error found now (a `show` of
/// an unknown worker) replaces the outcome.
pub fn plan<'a>(
    view: &View<'a>,
    outcome: &Result<(), StatusError>,
) -> Result<Body<'a>, StatusError> {
    outcome.clone()?;
    Ok(match view.request.command {
        Command::List => Body::List,
        Command::Version => Body::Version,
        Command::Dump => Body::Dump,
        Command::Show => Body::Show(resolve(view.snapshot, view.request, false)?),
        Command::Edit => Body::Edit(resolve(view.snapshot, view.request, false)?),
        Command::Update | Command::Reset | Command::Recover => Body::ResultOnly,
    })
}

/// Renders the answer to a request whose command ended with `outcome`
/// (from [`crate::status::execute`]).
pub fn render(view: &View<'_>, outcome: &Result<(), StatusError>) -> Page {
    let planned = plan(view, outcome);
    let (body, result) = match planned {
        Ok(body) => (body, Ok(())),
        Err(error) => (Body::ResultOnly, Err(error)),
    };
    let mime = view.request.mime;
    let text = match mime {
        Mime::Txt => lines::write(view, &body, &result, &mut txt::Txt::default()),
        Mime::Prop => lines::write(view, &body, &result, &mut prop::Prop::new(view)),
        Mime::Xml => lines::write(view, &body, &result, &mut xml::Xml::new(view)),
        Mime::Html => html::page(view, &body, &result),
        Mime::Json => json::document(view, &body, &result),
        Mime::Prometheus => prometheus::exposition(view, &body, &result),
    };
    Page {
        status: result.as_ref().err().map_or(200, StatusError::http_status),
        content_type: mime.content_type(),
        body: text,
    }
}

/// The answer to a request that did not parse, in mod_jk's syntax for `mime`.
pub fn render_request_error(
    status: &StatusWorker,
    base_uri: &str,
    mime: Mime,
    error: &StatusError,
    header: &Snapshot,
) -> Page {
    let snapshot = Snapshot {
        server: header.server.clone(),
        now: header.now,
        software: header.software.clone(),
        ..Snapshot::default()
    };
    let request = StatusRequest {
        mime,
        ..StatusRequest::default()
    };
    let view = View {
        snapshot: &snapshot,
        request: &request,
        status,
        base_uri,
        token: "",
    };
    render(&view, &Err(error.clone()))
}

#[cfg(test)]
mod format_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod tests;
