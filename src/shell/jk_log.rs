//! A server's `JkLogFile`, opened once per path or piped program: a file (created mode 0640 by
//! the parent, inherited by the children), or `"|program …"` started through httpd's piped-log
//! support, without a shell, as mod_jk does (e.g. Debian's `|/usr/bin/rotatelogs …`).
use crate::directives::ServerSettings;
use crate::httpd::{process, Pool};
use crate::jklog::{JkLevel, JkLogFile, RequestLogFormat};
use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

pub fn open(
    pconf: Pool<'_>,
    settings: &ServerSettings,
    opened: &mut HashMap<String, Arc<JkLogFile>>,
) -> Result<Option<Arc<JkLogFile>>, String> {
    let Some(name) = &settings.log_file else {
        return Ok(None);
    };
    let (key, file) = match name.strip_prefix('|') {
        Some(command) => {
            let command = command.trim();
            match opened.get(command) {
                Some(log) => return Ok(Some(Arc::clone(log))),
                None => (command.to_string(), Destination::Pipe(command)),
            }
        }
        None => {
            let path = PathBuf::from(process::server_root()).join(name);
            let key = path.display().to_string();
            match opened.get(&key) {
                Some(log) => return Ok(Some(Arc::clone(log))),
                None => (key, Destination::File(path)),
            }
        }
    };
    let level = settings
        .log_level
        .as_deref()
        .and_then(JkLevel::parse)
        .unwrap_or(JkLevel::Info);
    let format = settings
        .request_log_format
        .as_deref()
        .map(RequestLogFormat::parse)
        .transpose()?;
    let stamp = settings.log_stamp_format.as_deref();
    let log = match file {
        Destination::File(path) => JkLogFile::open(&path, level, stamp, format).map_err(|e| {
            format!(
                "cannot open JkLogFile {}: {e}; messages go to httpd's ErrorLog",
                path.display()
            )
        })?,
        Destination::Pipe(command) => {
            let pipe: File = process::open_piped_log(pconf, command)
                .map_err(|e| format!("JkLogFile: {e}; messages go to httpd's ErrorLog"))?;
            JkLogFile::writing_to(pipe, level, stamp, format)
        }
    };
    let log = Arc::new(log);
    opened.insert(key, Arc::clone(&log));
    Ok(Some(log))
}

enum Destination<'a> {
    File(PathBuf),
    Pipe(&'a str),
}
