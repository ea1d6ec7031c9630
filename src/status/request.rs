//! A status request from its query string (mod_jk reference §5.1): command, format, worker,
//! member, refresh, display options, aspect edit and the typed edits of an update.

use super::edits::{parse_edits, AspectEdit, Edits};
use super::error::StatusError;

/// What the status worker is asked to do (`cmd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Command {
    #[default]
    List,
    Show,
    Edit,
    Update,
    Reset,
    Recover,
    Version,
    Dump,
}

impl Command {
    pub const ALL: [Command; 8] = [
        Command::List,
        Command::Show,
        Command::Edit,
        Command::Update,
        Command::Reset,
        Command::Recover,
        Command::Version,
        Command::Dump,
    ];

    /// The `cmd` value (exact, lower case, as mod_jk compares it).
    pub fn name(self) -> &'static str {
        match self {
            Command::List => "list",
            Command::Show => "show",
            Command::Edit => "edit",
            Command::Update => "update",
            Command::Reset => "reset",
            Command::Recover => "recover",
            Command::Version => "version",
            Command::Dump => "dump",
        }
    }

    pub fn parse(text: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == text)
    }

    /// Changes shared state, so it is subject to `read_only` and the cross-site checks.
    pub fn changes_state(self) -> bool {
        matches!(self, Command::Update | Command::Reset | Command::Recover)
    }

    /// Refused in read-only mode (mod_jk also refuses the edit form).
    pub fn needs_write_access(self) -> bool {
        self.changes_state() || self == Command::Edit
    }

    /// Needs `w` (everything but list, version and dump).
    pub fn needs_worker(self) -> bool {
        !matches!(self, Command::List | Command::Version | Command::Dump)
    }
}

/// The answer's format (`mime`); `json` and `prometheus` are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mime {
    #[default]
    Html,
    Xml,
    Txt,
    Prop,
    Json,
    Prometheus,
}

impl Mime {
    pub const ALL: [Mime; 6] = [
        Mime::Html,
        Mime::Xml,
        Mime::Txt,
        Mime::Prop,
        Mime::Json,
        Mime::Prometheus,
    ];

    /// The `mime` value.
    pub fn name(self) -> &'static str {
        match self {
            Mime::Html => "html",
            Mime::Xml => "xml",
            Mime::Txt => "txt",
            Mime::Prop => "prop",
            Mime::Json => "json",
            Mime::Prometheus => "prometheus",
        }
    }

    pub fn parse(text: &str) -> Option<Mime> {
        Mime::ALL.into_iter().find(|m| m.name() == text)
    }

    /// The `Content-Type` header (mod_jk's for its four formats).
    pub fn content_type(self) -> &'static str {
        match self {
            Mime::Html => "text/html",
            Mime::Xml => "text/xml",
            Mime::Txt | Mime::Prop => "text/plain",
            Mime::Json => "application/json",
            Mime::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// One bit of `opt` (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayOption {
    HideMembers = 0x1,
    HideMaps = 0x2,
    HideLegend = 0x4,
    HideBalancers = 0x8,
    HideAjpWorkers = 0x10,
    ReadOnly = 0x20,
    HideBalancerConfig = 0x40,
    HideBalancerSummary = 0x80,
    HideAjpConfig = 0x100,
}

/// The `opt` bitmask as a set of [`DisplayOption`]s; unknown bits are kept (and echoed in
/// links) but mean nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisplayOptions(pub u32);

impl DisplayOptions {
    pub fn has(self, option: DisplayOption) -> bool {
        self.0 & option as u32 != 0
    }

    pub fn with(self, option: DisplayOption) -> DisplayOptions {
        DisplayOptions(self.0 | option as u32)
    }

    pub fn without(self, option: DisplayOption) -> DisplayOptions {
        DisplayOptions(self.0 & !(option as u32))
    }
}

/// A parsed status request. Absent and empty parameters are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusRequest {
    pub command: Command,
    pub mime: Mime,
    /// `w`: a worker in `worker.list` (an lb or a plain ajp13 worker).
    pub worker: Option<String>,
    /// `sw`: an lb member; may hold `*`/`?` for update.
    pub member: Option<String>,
    /// `re`: HTML auto-refresh in seconds (0 or absent = off).
    pub refresh: Option<u32>,
    pub options: DisplayOptions,
    /// `from`: the command to go back to after edit/update/reset/recover.
    pub from: Option<Command>,
    /// `psw`: the member shown before (navigation only).
    pub previous_member: Option<String>,
    /// `att` + `val0..valN`: one attribute for every member.
    pub aspect: Option<AspectEdit>,
    /// The `v*` fields of an update.
    pub edits: Edits,
    /// `token`: our HTML forms' anti-forgery token.
    pub token: Option<String>,
}

/// A request that could not be parsed, with the format to report it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub mime: Mime,
    pub error: StatusError,
}

/// The query string's `name=value` pairs, `%XX` and `+` decoded, in order (repeats kept).
pub fn decode_query(query: &str) -> Result<Vec<(String, String)>, StatusError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, StatusError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(StatusError::UriParse)?;
                let hex = std::str::from_utf8(hex).map_err(|_| StatusError::UriParse)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| StatusError::UriParse)?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Invalid UTF-8 is replaced, never passed on: every value is echoed into some format.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The parameters of one request; the first occurrence of a name wins (as mod_jk's map).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The value of `name`, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `<prefix><n>=value` pairs (`val0`, `val1`, …) with a non-empty value; first wins.
    pub fn numbered<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (usize, &'a str)> {
        self.0.iter().filter_map(move |(name, value)| {
            let digits = name.strip_prefix(prefix)?;
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            let index = digits.parse().ok().filter(|_| all_digits)?;
            (!value.is_empty()).then_some((index, value.as_str()))
        })
    }
}

/// Parses a status query string (for a POST from our form: the form body, which has the
/// same syntax). Unknown parameters are ignored, as mod_jk does.
pub fn parse_query(query: &str) -> Result<StatusRequest, RequestError> {
    let fail = |mime, error| RequestError { mime, error };
    let params = Params(decode_query(query).map_err(|e| fail(Mime::Html, e))?);
    // mod_jk reports an unknown format in its property syntax.
    let mime = match params.get("mime") {
        None => Mime::Html,
        Some(text) => Mime::parse(text).ok_or(fail(Mime::Prop, StatusError::InvalidMime))?,
    };
    let command = match params.get("cmd") {
        None => Command::List,
        Some(text) => Command::parse(text).ok_or(fail(mime, StatusError::InvalidCommand))?,
    };
    let number = |name| params.get(name).and_then(parse_number);
    let (edits, aspect) = parse_edits(&params).map_err(|e| fail(mime, e))?;
    Ok(StatusRequest {
        command,
        mime,
        worker: params.get("w").map(str::to_owned),
        member: params.get("sw").map(str::to_owned),
        refresh: number("re").filter(|&n| n > 0),
        options: DisplayOptions(number("opt").unwrap_or(0)),
        from: params.get("from").and_then(Command::parse),
        previous_member: params.get("psw").map(str::to_owned),
        aspect,
        edits,
        token: params.get("token").map(str::to_owned),
    })
}

/// A decimal (or `0x` hexadecimal) unsigned number, surrounding blanks allowed.
pub fn parse_number(text: &str) -> Option<u32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
