//! A server's `JkLogFile`, opened once per path (created mode 0640 by the parent, inherited by
//! the children). A piped log is not supported: its messages stay in httpd's ErrorLog.
use crate::directives::ServerSettings;
use crate::httpd::process;
use crate::jklog::{JkLevel, JkLogFile, RequestLogFormat};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub fn open(
    settings: &ServerSettings,
    opened: &mut HashMap<PathBuf, Arc<JkLogFile>>,
) -> Result<Option<Arc<JkLogFile>>, String> {
    let Some(file) = &settings.log_file else {
        return Ok(None);
    };
    if file.starts_with('|') {
        return Err(format!(
            "JkLogFile \"{file}\": piped logs are not supported; messages go to httpd's ErrorLog"
        ));
    }
    let path = PathBuf::from(process::server_root()).join(file);
    if let Some(log) = opened.get(&path) {
        return Ok(Some(Arc::clone(log)));
    }
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
    let log = JkLogFile::open(&path, level, settings.log_stamp_format.as_deref(), format).map_err(
        |e| {
            format!(
                "cannot open JkLogFile {}: {e}; messages go to httpd's ErrorLog",
                path.display()
            )
        },
    )?;
    let log = Arc::new(log);
    opened.insert(path, Arc::clone(&log));
    Ok(Some(log))
}
