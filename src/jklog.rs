//! mod_jk's own log (reference §1.2, §1.5): `JkLogFile` with `JkLogLevel` and
//! `JkLogStampFormat`, and the request log lines of `JkRequestLogFormat`. Without `JkLogFile`
//! messages go to httpd's ErrorLog; with it they go to that file, as with mod_jk. Each line is
//! one `write` on a file opened for appending, so lines of concurrent children never interleave.
//! [`Level`] is the set of levels the whole core logs at.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// Log levels the core uses; the shell maps them to httpd's (`httpd::log`) or, with
/// `JkLogFile`, to [`JkLevel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

/// `JkLogLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JkLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Emerg,
}

impl JkLevel {
    pub fn parse(text: &str) -> Option<JkLevel> {
        Some(match text.to_ascii_lowercase().as_str() {
            "trace" => JkLevel::Trace,
            "debug" => JkLevel::Debug,
            "info" => JkLevel::Info,
            "warn" => JkLevel::Warn,
            "error" => JkLevel::Error,
            "emerg" => JkLevel::Emerg,
            _ => return None,
        })
    }

    fn of(level: Level) -> JkLevel {
        match level {
            Level::Error => JkLevel::Error,
            Level::Warn => JkLevel::Warn,
            Level::Info => JkLevel::Info,
            Level::Debug => JkLevel::Debug,
        }
    }

    fn name(self) -> &'static str {
        match self {
            JkLevel::Trace => "trace",
            JkLevel::Debug => "debug",
            JkLevel::Info => "info",
            JkLevel::Warn => "warn",
            JkLevel::Error => "error",
            JkLevel::Emerg => "emerg",
        }
    }
}

/// A moment in local time, broken down (the shell fills it from the C library).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1..=12
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
    /// 0..=365
    pub yearday: u32,
    pub micros: u32,
    /// Seconds east of UTC.
    pub utc_offset: i64,
}

/// mod_jk's default stamp: `[Tue Nov 24 05:08:20.123 2026] `.
pub const DEFAULT_STAMP: &str = "[%a %b %d %H:%M:%S.%Q %Y] ";

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const DAYS_LONG: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// strftime's common conversions plus mod_jk's `%Q` (milliseconds) and `%q` (microseconds).
pub fn format_stamp(format: &str, t: &LocalTime, out: &mut String) {
    let wd = t.weekday as usize % 7;
    let mo = (t.month.clamp(1, 12) - 1) as usize;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let _ = match chars.next() {
            Some('a') => write!(out, "{}", DAYS[wd]),
            Some('A') => write!(out, "{}", DAYS_LONG[wd]),
            Some('b' | 'h') => write!(out, "{}", MONTHS[mo]),
            Some('B') => write!(out, "{}", MONTHS_LONG[mo]),
            Some('d') => write!(out, "{:02}", t.day),
            Some('e') => write!(out, "{:2}", t.day),
            Some('H') => write!(out, "{:02}", t.hour),
            Some('I') => write!(out, "{:02}", (t.hour + 11) % 12 + 1),
            Some('j') => write!(out, "{:03}", t.yearday + 1),
            Some('m') => write!(out, "{:02}", t.month),
            Some('M') => write!(out, "{:02}", t.minute),
            Some('p') => write!(out, "{}", if t.hour < 12 { "AM" } else { "PM" }),
            Some('S') => write!(out, "{:02}", t.second),
            Some('y') => write!(out, "{:02}", t.year.rem_euclid(100)),
            Some('Y') => write!(out, "{}", t.year),
            Some('z') => {
                let sign = if t.utc_offset < 0 { '-' } else { '+' };
                let off = t.utc_offset.abs();
                write!(out, "{sign}{:02}{:02}", off / 3600, off % 3600 / 60)
            }
            Some('Q') => write!(out, "{:03}", t.micros / 1000),
            Some('q') => write!(out, "{:06}", t.micros),
            Some('T') => write!(out, "{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
            Some('F') => write!(out, "{}-{:02}-{:02}", t.year, t.month, t.day),
            Some('%') => write!(out, "%"),
            Some(other) => write!(out, "%{other}"),
            None => write!(out, "%"),
        };
    }
}

/// What a `JkRequestLogFormat` line can show (reference §1.5).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    pub bytes_sent: u64,
    pub protocol: &'a str,
    pub method: &'a str,
    pub canonical_port: u16,
    pub query: Option<&'a str>,
    pub request_line: &'a str,
    pub status: u16,
    pub duration: Duration,
    pub uri: &'a str,
    pub canonical_name: &'a str,
    pub server_name: &'a str,
    pub worker: &'a str,
    pub route: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Code(char),
}

/// A parsed `JkRequestLogFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLogFormat(Vec<Part>);

impl RequestLogFormat {
    pub fn parse(format: &str) -> Result<RequestLogFormat, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some(code @ ('b' | 'B' | 'H' | 'm' | 'p' | 'q' | 'r' | 's' | 'T' | 'U' | 'v' | 'V' | 'w' | 'R')) => {
                        if !text.is_empty() {
                            parts.push(Part::Text(std::mem::take(&mut text)));
                        }
                        parts.push(Part::Code(code));
                    }
                    Some('%') => text.push('%'),
                    Some(other) => {
                        return Err(format!(
                            "JkRequestLogFormat: unknown code '%{other}' (known: %b %B %H %m %p %q %r %s %T %U %v %V %w %R)"
                        ))
                    }
                    None => return Err("JkRequestLogFormat: '%' at the end of the format".into()),
                },
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('\\') => text.push('\\'),
                    Some(other) => {
                        text.push('\\');
                        text.push(other);
                    }
                    None => text.push('\\'),
                },
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(RequestLogFormat(parts))
    }

    pub fn render(&self, f: &RequestFacts<'_>, out: &mut String) {
        for part in &self.0 {
            let _ = match part {
                Part::Text(t) => write!(out, "{t}"),
                // CLF: '-' for no bytes.
                Part::Code('b') if f.bytes_sent == 0 => write!(out, "-"),
                Part::Code('b' | 'B') => write!(out, "{}", f.bytes_sent),
                Part::Code('H') => write!(out, "{}", f.protocol),
                Part::Code('m') => write!(out, "{}", f.method),
                Part::Code('p') => write!(out, "{}", f.canonical_port),
                Part::Code('q') => match f.query {
                    Some(q) if !q.is_empty() => write!(out, "?{q}"),
                    _ => Ok(()),
                },
                Part::Code('r') => write!(out, "{}", f.request_line),
                Part::Code('s') => write!(out, "{}", f.status),
                Part::Code('T') => write!(
                    out,
                    "{}.{:06}",
                    f.duration.as_secs(),
                    f.duration.subsec_micros()
                ),
                Part::Code('U') => write!(out, "{}", f.uri),
                Part::Code('v') => write!(out, "{}", f.canonical_name),
                Part::Code('V') => write!(out, "{}", f.server_name),
                Part::Code('w') => write!(out, "{}", f.worker),
                Part::Code('R') => write!(out, "{}", f.route),
                Part::Code(_) => Ok(()),
            };
        }
    }
}

/// An open `JkLogFile` with its level, stamp and request format.
#[derive(Debug)]
pub struct JkLogFile {
    file: File,
    level: JkLevel,
    stamp: String,
    request_format: Option<RequestLogFormat>,
}

impl JkLogFile {
    /// Opens (creates, mode 0640) `path` for appending.
    pub fn open(
        path: &Path,
        level: JkLevel,
        stamp: Option<&str>,
        request_format: Option<RequestLogFormat>,
    ) -> std::io::Result<JkLogFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(path)?;
        Ok(JkLogFile::writing_to(file, level, stamp, request_format))
    }

    /// A log writing to `file` as it is (a piped logger's pipe).
    pub fn writing_to(
        file: File,
        level: JkLevel,
        stamp: Option<&str>,
        request_format: Option<RequestLogFormat>,
    ) -> JkLogFile {
        JkLogFile {
            file,
            level,
            stamp: stamp.unwrap_or(DEFAULT_STAMP).to_string(),
            request_format,
        }
    }

    /// A message about a request from `client` (its address), as mod_jk writes them.
    pub fn client_message(
        &self,
        now: &LocalTime,
        level: Level,
        tid: u64,
        client: &[u8],
        msg: &str,
    ) {
        let text = format!("[client {}] {msg}", String::from_utf8_lossy(client));
        self.message(now, level, std::process::id(), tid, &text);
    }

    pub fn enabled(&self, level: Level) -> bool {
        JkLevel::of(level) >= self.level
    }

    fn write_line(&self, line: &str) {
        // One write per line: O_APPEND makes each land whole at the end of the file.
        let _ = (&self.file).write_all(line.as_bytes());
    }

    /// `[stamp] [level] [pid:tid] message`, as mod_jk's log lines.
    pub fn message(&self, now: &LocalTime, level: Level, pid: u32, tid: u64, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let mut line = String::with_capacity(64 + msg.len());
        format_stamp(&self.stamp, now, &mut line);
        let _ = writeln!(
            line,
            "[{}] [{pid}:{tid}] {}",
            JkLevel::of(level).name(),
            msg.replace('\n', "\\n")
        );
        self.write_line(&line);
    }

    /// The `JkRequestLogFormat` line of one request, if a format is set.
    pub fn request(&self, now: &LocalTime, facts: &RequestFacts<'_>) {
        let Some(format) = &self.request_format else {
            return;
        };
        let mut line = String::with_capacity(128);
        format_stamp(&self.stamp, now, &mut line);
        format.render(facts, &mut line);
        line.push('\n');
        self.write_line(&line);
    }

    pub fn logs_requests(&self) -> bool {
        self.request_format.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> LocalTime {
        LocalTime {
            year: 2026,
            month: 11,
            day: 24,
            hour: 5,
            minute: 8,
            second: 20,
            weekday: 2,
            yearday: 327,
            micros: 123_456,
            utc_offset: 3600,
        }
    }

    #[test]
    fn default_stamp_looks_like_mod_jk() {
        let mut s = String::new();
        format_stamp(DEFAULT_STAMP, &t(), &mut s);
        assert_eq!(s, "[Tue Nov 24 05:08:20.123 2026] ");
    }

    #[test]
    fn microseconds_and_zone() {
        let mut s = String::new();
        format_stamp("%Y-%m-%d %T.%q %z %j %%", &t(), &mut s);
        assert_eq!(s, "2026-11-24 05:08:20.123456 +0100 328 %");
    }

    #[test]
    fn request_format_renders_every_code() {
        let f =
            RequestLogFormat::parse("%w %R %V %v %p %m %U%q %H %s %b %B %T \"%r\"\\t!").unwrap();
        let facts = RequestFacts {
            bytes_sent: 0,
            protocol: "HTTP/1.1",
            method: "GET",
            canonical_port: 8080,
            query: Some("a=1"),
            request_line: "GET /app/x?a=1 HTTP/1.1",
            status: 200,
            duration: Duration::from_micros(1_500_002),
            uri: "/app/x",
            canonical_name: "www.example",
            server_name: "host.example",
            worker: "lb",
            route: "node1",
        };
        let mut out = String::new();
        f.render(&facts, &mut out);
        assert_eq!(out, "lb node1 host.example www.example 8080 GET /app/x?a=1 HTTP/1.1 200 - 0 1.500002 \"GET /app/x?a=1 HTTP/1.1\"\t!");
    }

    #[test]
    fn unknown_code_is_an_error() {
        assert!(RequestLogFormat::parse("%w %Z").unwrap_err().contains("%Z"));
    }

    #[test]
    fn lines_are_appended_with_level_filtering() {
        let path = std::env::temp_dir().join(format!("jkrs-jklog-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let log = JkLogFile::open(&path, JkLevel::Warn, Some("[%H:%M] "), None).unwrap();
        log.message(&t(), Level::Info, 1, 2, "hidden");
        log.message(&t(), Level::Error, 1, 2, "shown\nnext");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "[05:08] [error] [1:2] shown\\nnext\n");
        std::fs::remove_file(&path).unwrap();
    }
}
