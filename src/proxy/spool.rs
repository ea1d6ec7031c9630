//! Request body buffering (`worker.X.request_body_buffer`, beyond mod_jk): up to that many bytes
//! of a request body are read from the client before any backend is contacted — the first
//! [`IN_MEMORY`] bytes in memory, the rest in a temporary file that is unlinked as soon as it is
//! open — so a slow uploader holds an httpd thread, as it does anyway, but no Tomcat thread.
//! What the buffer holds is then served to the backend as if the client were sending it fast;
//! a body longer than the buffer goes on from the client where the buffer ends.
#![forbid(unsafe_code)]

use super::client::{Client, ClientError};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes kept in memory; beyond them the body goes to a temporary file.
pub(super) const IN_MEMORY: usize = 64 * 1024;

/// The part of a request body read ahead of the exchange.
#[derive(Default)]
pub(super) struct Spool {
    memory: Vec<u8>,
    file: Option<File>,
    /// Bytes held (memory and file).
    held: u64,
    /// Bytes handed on so far.
    read: u64,
    /// The client's body ended within what is held.
    complete: bool,
}

impl Spool {
    /// Reads up to `limit` body bytes from `client`; `chunk` is a scratch buffer for the part
    /// that goes to the file.
    pub(super) fn fill(
        client: &mut dyn Client,
        limit: u64,
        chunk: &mut Vec<u8>,
    ) -> Result<Spool, ClientError> {
        let mut spool = Spool::default();
        let in_memory = limit.min(IN_MEMORY as u64) as usize;
        spool.memory.resize(in_memory, 0);
        let mut got = 0;
        while got < in_memory {
            match client.read_body(&mut spool.memory[got..])? {
                0 => {
                    spool.complete = true;
                    break;
                }
                n => got += n,
            }
        }
        spool.memory.truncate(got);
        spool.held = got as u64;
        if !spool.complete && spool.held < limit {
            spool.fill_file(client, limit, chunk)?;
        }
        Ok(spool)
    }

    fn fill_file(
        &mut self,
        client: &mut dyn Client,
        limit: u64,
        chunk: &mut Vec<u8>,
    ) -> Result<(), ClientError> {
        if chunk.len() < IN_MEMORY {
            chunk.resize(IN_MEMORY, 0);
        }
        let mut file = None;
        while self.held < limit {
            let want = (limit - self.held).min(chunk.len() as u64) as usize;
            let n = client.read_body(&mut chunk[..want])?;
            if n == 0 {
                self.complete = true;
                break;
            }
            if file.is_none() {
                file = Some(temporary_file().map_err(|e| file_error("create", &e))?);
            }
            if let Some(f) = file.as_mut() {
                f.write_all(&chunk[..n])
                    .map_err(|e| file_error("write to", &e))?;
            }
            self.held += n as u64;
        }
        if let Some(f) = file.as_mut() {
            f.seek(SeekFrom::Start(0))
                .map_err(|e| file_error("rewind", &e))?;
        }
        self.file = file;
        Ok(())
    }

    /// Bytes read ahead in all.
    pub(super) fn held(&self) -> u64 {
        self.held
    }

    /// The next body bytes: what is held first, then (the body being longer) from `client`.
    pub(super) fn read(
        &mut self,
        client: &mut dyn Client,
        buf: &mut [u8],
    ) -> Result<usize, ClientError> {
        if self.read < self.held {
            let at = self.read as usize;
            let n = if at < self.memory.len() {
                let n = buf.len().min(self.memory.len() - at);
                buf[..n].copy_from_slice(&self.memory[at..at + n]);
                n
            } else {
                let left = (self.held - self.read).min(buf.len() as u64) as usize;
                let file = self.file.as_mut().ok_or_else(|| ClientError::Read {
                    status: 500,
                    detail: "the buffered request body lost its file".into(),
                })?;
                let n = file
                    .read(&mut buf[..left])
                    .map_err(|e| file_error("read from", &e))?;
                if n == 0 {
                    return Err(ClientError::Read {
                        status: 500,
                        detail: "the buffered request body's file ended early".into(),
                    });
                }
                n
            };
            self.read += n as u64;
            return Ok(n);
        }
        if self.complete {
            return Ok(0);
        }
        client.read_body(buf)
    }
}

fn file_error(what: &str, e: &io::Error) -> ClientError {
    ClientError::Read {
        status: 500,
        detail: format!("cannot {what} the temporary file buffering the request body: {e}"),
    }
}

/// A new file in the system's temporary directory (`TMPDIR`, else /tmp), readable only by
/// httpd's user, removed from the directory at once: it lives as long as the handle.
fn temporary_file() -> io::Result<File> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let mut last = io::Error::other("no attempt");
    for _ in 0..8 {
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let path: PathBuf = dir.join(format!("mod_jk_rs-body-{}-{serial}", std::process::id()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
