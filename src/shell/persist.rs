//! The file behind `worker.<status>.persist`: the status page's edits journaled after every
//! change (written whole to a temporary file, synced, renamed over the old one, under a lock
//! so two children never interleave) and replayed at a cold start. A journal that is damaged,
//! of another format or names workers that no longer exist is refused whole, with a log line.
use crate::config::StatusWorker;
use crate::httpd::process;
use crate::proxy::Runtime;
use crate::status::{edits_journal, Change, SnapshotEnv};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The journal file of `status`, made absolute against ServerRoot.
pub fn path_of(status: &StatusWorker) -> Option<PathBuf> {
    let file = status.persist.as_deref()?;
    Some(PathBuf::from(process::server_root()).join(file))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes the edits in force to `path`.
pub fn save(rt: &Runtime, path: &Path) -> Result<(), String> {
    let what =
        |e: std::io::Error| format!("cannot write the edits journal {}: {e}", path.display());
    let lock = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(with_suffix(path, ".lock"))
        .map_err(what)?;
    lock.lock().map_err(what)?;
    // Read under the lock: a child that edited later writes later, with its edit in.
    let text = edits_journal::render(&edits_journal::current(rt));
    let temporary = with_suffix(path, &format!(".tmp{}", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.map_err(what)
}

/// Replays the journal at `path`, if there is one: the changes made, or why none was.
pub fn restore(rt: &Runtime, path: &Path, env: &SnapshotEnv<'_>) -> Result<Vec<Change>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read the edits journal {}: {e}",
                path.display()
            ))
        }
    };
    let refuse = |why: String| format!("edits journal {} not applied: {why}", path.display());
    let lines = edits_journal::parse(&text).map_err(|e| refuse(e.to_string()))?;
    edits_journal::replay(rt, &lines, env).map_err(|e| refuse(e.to_string()))
}
